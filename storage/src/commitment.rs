//! The state commitment of a block: applying its state diff to the tries stored in
//! RocksDB and computing the new global state root.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

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

        let contracts: Vec<(ContractAddress, ContractChange)> =
            touched_contracts(diff).into_iter().collect();
        let mut storage_roots = Vec::new();
        let mut contract_leaves = Vec::with_capacity(contracts.len());
        for ((address, _), leaf) in contracts
            .iter()
            .zip(self.contract_leaves(parent, &contracts)?)
        {
            pedersen_nodes.extend(leaf.new_nodes);
            if let Some(root) = leaf.new_storage_root {
                storage_roots.push((*address, root));
            }
            contract_leaves.push((address.0, leaf.leaf));
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

/// Number of storage writes in a block below which the contracts are hashed on the
/// calling thread. Sixteen writes create about 96 trie nodes, about 2.5 ms of Pedersen
/// hashing, against an estimated tens of microseconds to start a thread.
const PARALLEL_STORAGE_WRITES: usize = 16;

/// Maximum number of threads that hash storage tries for one block.
const MAX_TRIE_THREADS: usize = 4;

/// A contract's new leaf in the contracts trie, with what its storage trie gained.
struct ContractLeaf {
    leaf: Felt,
    /// The new storage root, when the block wrote the contract's storage.
    new_storage_root: Option<Felt>,
    new_nodes: Vec<(Felt, Node)>,
}

impl Storage {
    /// Computes the contracts-trie leaf of every touched contract, in the order given.
    /// Storage tries of different contracts are independent, so with enough writes they
    /// are hashed on several threads. Each thread takes the next contract from a shared
    /// counter, so one large contract does not hold back the others.
    fn contract_leaves(
        &self,
        parent: Option<BlockNumber>,
        contracts: &[(ContractAddress, ContractChange)],
    ) -> StorageResult<Vec<ContractLeaf>> {
        let writes: usize = contracts
            .iter()
            .map(|(_, change)| change.storage.len())
            .sum();
        let with_storage = contracts
            .iter()
            .filter(|(_, change)| !change.storage.is_empty())
            .count();
        let threads = std::thread::available_parallelism()
            .map_or(1, |cores| cores.get())
            .min(MAX_TRIE_THREADS)
            .min(with_storage);
        if threads <= 1 || writes < PARALLEL_STORAGE_WRITES {
            return contracts
                .iter()
                .map(|(address, change)| self.contract_leaf(parent, *address, change))
                .collect();
        }

        let next = AtomicUsize::new(0);
        let mut leaves: Vec<Option<StorageResult<ContractLeaf>>> =
            contracts.iter().map(|_| None).collect();
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let index = next.fetch_add(1, Ordering::Relaxed);
                            let Some((address, change)) = contracts.get(index) else {
                                return done;
                            };
                            done.push((index, self.contract_leaf(parent, *address, change)));
                        }
                    })
                })
                .collect();
            for worker in workers {
                match worker.join() {
                    Ok(done) => {
                        for (index, leaf) in done {
                            leaves[index] = Some(leaf);
                        }
                    }
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
        leaves
            .into_iter()
            .map(|leaf| {
                leaf.unwrap_or_else(|| {
                    Err(StorageError::Corrupt(
                        "a contract's storage trie was not computed".into(),
                    ))
                })
            })
            .collect()
    }

    /// Applies one contract's storage writes to its storage trie after block `parent` and
    /// returns its new leaf.
    fn contract_leaf(
        &self,
        parent: Option<BlockNumber>,
        address: ContractAddress,
        change: &ContractChange,
    ) -> StorageResult<ContractLeaf> {
        let old_storage_root = match parent {
            Some(number) => self.storage_root_at(address, number)?,
            None => Felt::ZERO,
        };
        let (storage_root, new_storage_root, new_nodes) = if change.storage.is_empty() {
            (old_storage_root, None, Vec::new())
        } else {
            let update = trie::apply_updates(
                &self.pedersen_nodes(),
                old_storage_root,
                &change.storage,
                TrieHash::Pedersen,
            )?;
            (update.root, Some(update.root), update.new_nodes)
        };

        let class_hash = match (change.class_hash, parent) {
            (Some(class_hash), _) => class_hash.0,
            (None, Some(number)) => self.class_hash_at(address, number)?.unwrap_or_default().0,
            (None, None) => Felt::ZERO,
        };
        let nonce = match (change.nonce, parent) {
            (Some(nonce), _) => nonce,
            (None, Some(number)) => self.nonce_at(address, number)?.unwrap_or_default(),
            (None, None) => Felt::ZERO,
        };
        Ok(ContractLeaf {
            leaf: trie::contract_state_hash(class_hash, storage_root, nonce),
            new_storage_root,
            new_nodes,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ChainInfo;
    use crate::state::{ContractStorageDiff, NonceUpdate, StorageEntry};
    use crate::types::{ChainId, StorageKey};

    /// Builds a diff that writes `per_contract` slots of each of `contracts` contracts,
    /// plus a nonce of one more contract without storage writes.
    fn diff(contracts: u64, per_contract: u64, salt: u64) -> StateDiff {
        let storage_diffs = (1..=contracts)
            .map(|contract| ContractStorageDiff {
                address: ContractAddress(Felt::from(0x1000 + contract)),
                entries: (0..per_contract)
                    .map(|slot| StorageEntry {
                        key: StorageKey(Felt::from(contract * 1000 + slot)),
                        value: Felt::from(salt + slot),
                    })
                    .collect(),
            })
            .collect();
        StateDiff {
            storage_diffs,
            nonces: vec![NonceUpdate {
                contract_address: ContractAddress(Felt::from(0x9999u64)),
                nonce: Felt::from(salt),
            }],
            ..StateDiff::default()
        }
    }

    /// Checks that the threaded leaves equal the leaves computed one by one.
    fn assert_threads_match(storage: &Storage, parent: Option<BlockNumber>, diff: &StateDiff) {
        let contracts: Vec<(ContractAddress, ContractChange)> =
            touched_contracts(diff).into_iter().collect();
        let writes: usize = contracts
            .iter()
            .map(|(_, change)| change.storage.len())
            .sum();
        assert!(
            writes >= PARALLEL_STORAGE_WRITES,
            "the diff is too small to use threads"
        );

        let threaded = storage.contract_leaves(parent, &contracts).unwrap();
        assert_eq!(threaded.len(), contracts.len());
        for ((address, change), leaf) in contracts.iter().zip(threaded) {
            let expected = storage.contract_leaf(parent, *address, change).unwrap();
            assert_eq!(leaf.leaf, expected.leaf, "leaf of {address:?}");
            assert_eq!(leaf.new_storage_root, expected.new_storage_root);
            let mut nodes: Vec<Felt> = leaf.new_nodes.iter().map(|(hash, _)| *hash).collect();
            let mut expected_nodes: Vec<Felt> =
                expected.new_nodes.iter().map(|(hash, _)| *hash).collect();
            nodes.sort();
            expected_nodes.sort();
            assert_eq!(nodes, expected_nodes, "new nodes of {address:?}");
        }
    }

    #[test]
    fn threaded_storage_tries_match_sequential() {
        let dir = tempfile::tempdir().unwrap();
        let chain = ChainInfo {
            network: "sepolia".into(),
            chain_id: ChainId::SEPOLIA,
        };
        let storage = Storage::open(dir.path(), chain).unwrap();

        let first = diff(12, 16, 1);
        assert_threads_match(&storage, None, &first);

        // Write block 0's tries and roots, then change half of the slots on top of them.
        let update = storage.compute_state_commitment(None, &first).unwrap();
        let mut batch = rocksdb::WriteBatch::default();
        for (hash, node) in &update.pedersen_nodes {
            batch.put_cf(
                storage.cf(schema::PEDERSEN_TRIE_NODES),
                hash.to_bytes_be(),
                node.encode(),
            );
        }
        for (address, root) in &update.storage_roots {
            batch.put_cf(
                storage.cf(schema::CONTRACT_STORAGE_ROOTS),
                schema::contract_history_key(*address, BlockNumber::GENESIS),
                root.to_bytes_be(),
            );
        }
        batch.put_cf(
            storage.cf(schema::STATE_ROOTS),
            schema::block_key(BlockNumber::GENESIS),
            update.roots.encode(),
        );
        storage.inner.db.write(batch).unwrap();

        assert_threads_match(&storage, Some(BlockNumber::GENESIS), &diff(12, 8, 500));
    }
}
