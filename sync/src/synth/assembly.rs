//! Block assembly: applies a block's state diff to in-memory tries for the state root,
//! computes the commitments and the block hash, and links the block to its parent.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context as _;
use starling_storage::trie::{self, MemoryNodeStore, TrieHash};
use starling_storage::{
    BlockHash, BlockHeader, BlockNumber, BlockStatus, ChainId, ContractAddress, Felt, GasPrices,
    L1DataAvailabilityMode, Receipt, StateDiff, Transaction,
};

use super::classes::SynthClass;
use crate::verify::{
    block_hash, event_commitment, receipt_commitment, state_diff_commitment, state_diff_length,
    transaction_commitment, BlockCommitments, StarknetVersion,
};

/// Header fields that the generator chooses before it builds the block's transactions.
#[derive(Clone, Debug)]
pub(super) struct BlockEnv {
    pub number: BlockNumber,
    pub timestamp: u64,
    pub sequencer_address: ContractAddress,
    pub l1_gas_price: GasPrices,
    pub l1_data_gas_price: GasPrices,
    pub l2_gas_price: GasPrices,
    pub starknet_version: &'static str,
}

/// Contents of a block, before hashing.
#[derive(Clone, Debug, Default)]
pub(super) struct BlockContent {
    pub transactions: Vec<Transaction>,
    pub receipts: Vec<Receipt>,
    pub state_diff: StateDiff,
    /// Classes the block introduces, to be written next to it.
    pub new_classes: Vec<SynthClass>,
}

/// A finished block: the header with its hash, the contents, and the parent's state root.
#[derive(Clone, Debug)]
pub(super) struct AssembledBlock {
    pub header: BlockHeader,
    pub content: BlockContent,
    pub old_root: Felt,
}

/// The state of one contract as the contracts trie commits to it.
#[derive(Clone, Copy, Debug, Default)]
struct ContractLeaf {
    class_hash: Felt,
    storage_root: Felt,
    nonce: Felt,
}

/// The chain so far: the tries of its state and the hash and root of its head.
#[derive(Debug)]
pub(super) struct ChainAssembler {
    chain_id: ChainId,
    /// Pedersen and Poseidon nodes together. Nodes are keyed by hash, so the two kinds
    /// cannot collide except by a hash collision.
    // NOTE: old nodes are never removed, so memory grows with the chain: 340 MB
    // peak resident set for `synth-chain --blocks 5000 --seed 1`, measured once.
    nodes: MemoryNodeStore,
    contracts: HashMap<ContractAddress, ContractLeaf>,
    contracts_root: Felt,
    classes_root: Felt,
    parent_hash: BlockHash,
    state_root: Felt,
}

impl ChainAssembler {
    pub(super) fn new(chain_id: ChainId) -> Self {
        Self {
            chain_id,
            nodes: MemoryNodeStore::new(),
            contracts: HashMap::new(),
            contracts_root: Felt::ZERO,
            classes_root: Felt::ZERO,
            parent_hash: BlockHash::ZERO,
            state_root: Felt::ZERO,
        }
    }

    /// Applies the block's state diff, then computes its commitments and hash. Blocks
    /// must be assembled in order, starting at 0.
    pub(super) fn assemble(
        &mut self,
        env: &BlockEnv,
        content: BlockContent,
    ) -> anyhow::Result<AssembledBlock> {
        let old_root = self.state_root;
        let state_root = self
            .apply_state_diff(&content.state_diff)
            .with_context(|| format!("failed to apply the state diff of block {}", env.number))?;

        let version = StarknetVersion::parse(env.starknet_version)?;
        let event_count: usize = content
            .receipts
            .iter()
            .map(|receipt| receipt.events.len())
            .sum();
        let commitments = BlockCommitments {
            transaction_commitment: transaction_commitment(&content.transactions, version),
            event_commitment: event_commitment(&content.receipts, version),
            receipt_commitment: receipt_commitment(&content.receipts),
            state_diff_commitment: state_diff_commitment(&content.state_diff),
            state_diff_length: state_diff_length(&content.state_diff),
        };
        let mut header = BlockHeader {
            number: env.number,
            hash: BlockHash::ZERO,
            parent_hash: self.parent_hash,
            state_root,
            timestamp: env.timestamp,
            sequencer_address: env.sequencer_address,
            l1_gas_price: env.l1_gas_price,
            l1_data_gas_price: env.l1_data_gas_price,
            l2_gas_price: env.l2_gas_price,
            l1_da_mode: L1DataAvailabilityMode::Blob,
            starknet_version: env.starknet_version.to_owned(),
            status: BlockStatus::AcceptedOnL2,
            transaction_count: content.transactions.len() as u64,
            event_count: event_count as u64,
            transaction_commitment: Some(commitments.transaction_commitment),
            event_commitment: Some(commitments.event_commitment),
            receipt_commitment: Some(commitments.receipt_commitment),
            state_diff_commitment: Some(commitments.state_diff_commitment),
            state_diff_length: Some(commitments.state_diff_length),
        };
        header.hash = BlockHash(block_hash(&header, &commitments, self.chain_id)?);

        self.parent_hash = header.hash;
        self.state_root = state_root;
        Ok(AssembledBlock {
            header,
            content,
            old_root,
        })
    }

    /// Updates the storage tries, the contracts trie and the classes trie as the node
    /// does when it commits the diff, and returns the new global root.
    fn apply_state_diff(&mut self, diff: &StateDiff) -> anyhow::Result<Felt> {
        let mut storage: BTreeMap<ContractAddress, Vec<(Felt, Felt)>> = BTreeMap::new();
        for contract in &diff.storage_diffs {
            storage.entry(contract.address).or_default().extend(
                contract
                    .entries
                    .iter()
                    .map(|entry| (entry.key.0, entry.value)),
            );
        }
        let mut touched: BTreeMap<ContractAddress, ContractLeaf> = BTreeMap::new();
        let mut leaf_of = |contracts: &HashMap<ContractAddress, ContractLeaf>,
                           address: ContractAddress| {
            *touched
                .entry(address)
                .or_insert_with(|| contracts.get(&address).copied().unwrap_or_default())
        };
        // Collect every touched contract first, then update the leaves in place.
        for address in storage.keys() {
            leaf_of(&self.contracts, *address);
        }
        for update in &diff.nonces {
            leaf_of(&self.contracts, update.contract_address);
        }
        for deployed in diff.deployed_contracts.iter().chain(&diff.replaced_classes) {
            leaf_of(&self.contracts, deployed.address);
        }

        for (address, writes) in &storage {
            let leaf = touched.get_mut(address).expect("collected above");
            let update =
                trie::apply_updates(&self.nodes, leaf.storage_root, writes, TrieHash::Pedersen)?;
            self.nodes.extend(update.new_nodes);
            leaf.storage_root = update.root;
        }
        for update in &diff.nonces {
            touched
                .get_mut(&update.contract_address)
                .expect("collected above")
                .nonce = update.nonce;
        }
        for deployed in diff.deployed_contracts.iter().chain(&diff.replaced_classes) {
            touched
                .get_mut(&deployed.address)
                .expect("collected above")
                .class_hash = deployed.class_hash.0;
        }

        let contract_leaves: Vec<(Felt, Felt)> = touched
            .iter()
            .map(|(address, leaf)| {
                (
                    address.0,
                    trie::contract_state_hash(leaf.class_hash, leaf.storage_root, leaf.nonce),
                )
            })
            .collect();
        let update = trie::apply_updates(
            &self.nodes,
            self.contracts_root,
            &contract_leaves,
            TrieHash::Pedersen,
        )?;
        self.nodes.extend(update.new_nodes);
        self.contracts_root = update.root;
        self.contracts.extend(touched);

        let class_leaves: Vec<(Felt, Felt)> = diff
            .declared_classes
            .iter()
            .chain(&diff.migrated_compiled_classes)
            .map(|declared| {
                (
                    declared.class_hash.0,
                    trie::class_leaf(declared.compiled_class_hash.0),
                )
            })
            .collect();
        if !class_leaves.is_empty() {
            let update = trie::apply_updates(
                &self.nodes,
                self.classes_root,
                &class_leaves,
                TrieHash::Poseidon,
            )?;
            self.nodes.extend(update.new_nodes);
            self.classes_root = update.root;
        }

        Ok(trie::global_root(self.contracts_root, self.classes_root))
    }
}
