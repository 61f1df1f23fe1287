//! The state commitment of a block: applying its state diff to the tries stored in
//! RocksDB and computing the new global state root.

use std::collections::BTreeMap;

use starknet_types_core::felt::Felt;

use crate::codec::felt_from_bytes;
use crate::db::Storage;
use crate::error::{StorageError, StorageResult};
use crate::schema;
use crate::state::StateDiff;
use crate::trie::{self, Node, NodeStore, TrieError, TrieHash};
use crate::types::{BlockNumber, ClassHash, ContractAddress};

/// Roots of the two top-level tries after a block, and the global root they give.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateRoots {
    pub contracts_root: Felt,
    pub classes_root: Felt,
}

impl StateRoots {
    /// Returns the global state root of the spec (`new_root` in state updates).
    pub fn global_root(&self) -> Felt {
        trie::global_root(self.contracts_root, self.classes_root)
    }

    pub(crate) fn encode(&self) -> [u8; 64] {
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(&self.contracts_root.to_bytes_be());
        bytes[32..].copy_from_slice(&self.classes_root.to_bytes_be());
        bytes
    }

    pub(crate) fn decode(bytes: &[u8]) -> StorageResult<Self> {
        if bytes.len() != 64 {
            return Err(StorageError::Corrupt(format!(
                "state roots are {} bytes, not 64",
                bytes.len()
            )));
        }
        Ok(Self {
            contracts_root: felt_from_bytes(&bytes[..32], "contracts root")?,
            classes_root: felt_from_bytes(&bytes[32..], "classes root")?,
        })
    }
}

/// Everything a block adds to the tries, computed before the block is written and then
/// written in the block's batch.
#[derive(Clone, Debug, Default)]
pub struct StateCommitmentUpdate {
    /// The block whose state the diff was applied to; `None` for genesis.
    pub parent: Option<BlockNumber>,
    pub roots: StateRoots,
    /// New storage-trie root of every contract whose storage changed.
    pub storage_roots: Vec<(ContractAddress, Felt)>,
    /// New nodes of the storage tries and the contracts trie.
    pub pedersen_nodes: Vec<(Felt, Node)>,
    /// New nodes of the classes trie.
    pub poseidon_nodes: Vec<(Felt, Node)>,
}

/// Reads trie nodes from one column family.
pub(crate) struct RocksNodeStore<'a> {
    storage: &'a Storage,
    cf: &'static str,
}

impl NodeStore for RocksNodeStore<'_> {
    fn node(&self, hash: Felt) -> Result<Option<Node>, TrieError> {
        let bytes = self
            .storage
            .inner
            .db
            .get_pinned_cf(self.storage.cf(self.cf), hash.to_bytes_be())
            .map_err(|error| TrieError::Store(Box::new(error)))?;
        bytes.map(|bytes| Node::decode(&bytes)).transpose()
    }
}

impl From<TrieError> for StorageError {
    fn from(error: TrieError) -> Self {
        StorageError::Corrupt(format!("state trie: {error}"))
    }
}

impl Storage {
    pub(crate) fn pedersen_nodes(&self) -> RocksNodeStore<'_> {
        RocksNodeStore {
            storage: self,
            cf: schema::PEDERSEN_TRIE_NODES,
        }
    }

    pub(crate) fn poseidon_nodes(&self) -> RocksNodeStore<'_> {
        RocksNodeStore {
            storage: self,
            cf: schema::POSEIDON_TRIE_NODES,
        }
    }

    /// Roots of the tries after block `number`; zero roots if the block is not stored.
    pub fn state_roots(&self, number: BlockNumber) -> StorageResult<Option<StateRoots>> {
        self.inner
            .db
            .get_pinned_cf(self.cf(schema::STATE_ROOTS), schema::block_key(number))?
            .map(|bytes| StateRoots::decode(&bytes))
            .transpose()
    }

    /// Root of a contract's storage trie after block `at`; zero if it has no storage. One
    /// seek.
    pub fn storage_root_at(
        &self,
        address: ContractAddress,
        at: BlockNumber,
    ) -> StorageResult<Felt> {
        let seek = schema::contract_history_key(address, at);
        Ok(self
            .newest_at_or_before(schema::CONTRACT_STORAGE_ROOTS, &seek, 32)?
            .map(|bytes| felt_from_bytes(&bytes, "storage root"))
            .transpose()?
            .unwrap_or(Felt::ZERO))
    }

    /// Applies `diff` to the state after block `parent` (the empty state for `None`) and
    /// returns the new roots and the nodes to write. Reads only; the caller passes the
    /// result to [`BlockWriter::commit`](crate::BlockWriter::commit).
    pub fn compute_state_commitment(
        &self,
        parent: Option<BlockNumber>,
        diff: &StateDiff,
    ) -> StorageResult<StateCommitmentUpdate> {
        let parent_roots = match parent {
            Some(number) => self.state_roots(number)?.ok_or_else(|| {
                StorageError::Corrupt(format!("no state roots stored for block {number}"))
            })?,
            None => StateRoots::default(),
        };
        let pedersen_store = self.pedersen_nodes();
        let mut pedersen_nodes = Vec::new();

        let contracts = touched_contracts(diff);
        let mut storage_roots = Vec::new();
        let mut contract_leaves = Vec::with_capacity(contracts.len());
        for (address, change) in &contracts {
            let old_storage_root = match parent {
                Some(number) => self.storage_root_at(*address, number)?,
                None => Felt::ZERO,
            };
            let storage_root = if change.storage.is_empty() {
                old_storage_root
            } else {
                let update = trie::apply_updates(
                    &pedersen_store,
                    old_storage_root,
                    &change.storage,
                    TrieHash::Pedersen,
                )?;
                pedersen_nodes.extend(update.new_nodes);
                storage_roots.push((*address, update.root));
                update.root
            };

            let class_hash = match (change.class_hash, parent) {
                (Some(class_hash), _) => class_hash.0,
                (None, Some(number)) => self.class_hash_at(*address, number)?.unwrap_or_default().0,
                (None, None) => Felt::ZERO,
            };
            let nonce = match (change.nonce, parent) {
                (Some(nonce), _) => nonce,
                (None, Some(number)) => self.nonce_at(*address, number)?.unwrap_or_default(),
                (None, None) => Felt::ZERO,
            };
            let leaf = trie::contract_state_hash(class_hash, storage_root, nonce);
            contract_leaves.push((address.0, leaf));
        }

        let contracts_update = trie::apply_updates(
            &pedersen_store,
            parent_roots.contracts_root,
            &contract_leaves,
            TrieHash::Pedersen,
        )?;
        pedersen_nodes.extend(contracts_update.new_nodes);

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
        let classes_update = trie::apply_updates(
            &self.poseidon_nodes(),
            parent_roots.classes_root,
            &class_leaves,
            TrieHash::Poseidon,
        )?;

        Ok(StateCommitmentUpdate {
            parent,
            roots: StateRoots {
                contracts_root: contracts_update.root,
                classes_root: classes_update.root,
            },
            storage_roots,
            pedersen_nodes,
            poseidon_nodes: classes_update.new_nodes,
        })
    }
}

/// Changes a state diff makes to one contract.
#[derive(Default)]
struct ContractChange {
    storage: Vec<(Felt, Felt)>,
    nonce: Option<Felt>,
    class_hash: Option<ClassHash>,
}

/// Groups the diff by contract, in address order. A replacement in the same block as a
/// deployment wins, as in the class history the writer stores.
fn touched_contracts(diff: &StateDiff) -> BTreeMap<ContractAddress, ContractChange> {
    let mut contracts: BTreeMap<ContractAddress, ContractChange> = BTreeMap::new();
    for storage in &diff.storage_diffs {
        let change = contracts.entry(storage.address).or_default();
        change.storage.extend(
            storage
                .entries
                .iter()
                .map(|entry| (entry.key.0, entry.value)),
        );
    }
    for update in &diff.nonces {
        contracts.entry(update.contract_address).or_default().nonce = Some(update.nonce);
    }
    for deployed in diff.deployed_contracts.iter().chain(&diff.replaced_classes) {
        contracts.entry(deployed.address).or_default().class_hash = Some(deployed.class_hash);
    }
    contracts
}
