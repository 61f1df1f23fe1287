//! Merkle proofs from the stored state tries, the data of `starknet_getStorageProof`.
//!
//! Trie nodes are never deleted, so a proof can be made against the roots of any stored
//! block: take the roots from [`Storage::state_roots`] and a contract's storage root from
//! [`Storage::storage_root_at`]. Each proof lists the nodes on one key's path from the root
//! down, in the shape [`trie::proof`] documents, and [`trie::verify_proof`] checks it.

use starknet_types_core::felt::Felt;

use crate::db::Storage;
use crate::trie::{self, Node, TrieError};
use crate::types::{ClassHash, ContractAddress, StorageKey};

impl Storage {
    /// Proves the leaf of `class_hash` in the classes trie with root `classes_root`, or that
    /// it has none. Fails with [`TrieError::KeyOutOfRange`] for a class hash of 2^251 or
    /// more, which has no position in the trie.
    pub fn classes_trie_proof(
        &self,
        classes_root: Felt,
        class_hash: ClassHash,
    ) -> Result<Vec<(Felt, Node)>, TrieError> {
        trie::proof(&self.poseidon_nodes(), classes_root, class_hash.0)
    }

    /// Proves the leaf of `address` in the contracts trie with root `contracts_root`, or that
    /// it has none. Fails with [`TrieError::KeyOutOfRange`] for an address of 2^251 or more.
    pub fn contracts_trie_proof(
        &self,
        contracts_root: Felt,
        address: ContractAddress,
    ) -> Result<Vec<(Felt, Node)>, TrieError> {
        trie::proof(&self.pedersen_nodes(), contracts_root, address.0)
    }

    /// Proves the value of `key` in the contract storage trie with root `storage_root`, or
    /// that the slot is empty. Fails with [`TrieError::KeyOutOfRange`] for a key of 2^251 or
    /// more.
    pub fn storage_trie_proof(
        &self,
        storage_root: Felt,
        key: StorageKey,
    ) -> Result<Vec<(Felt, Node)>, TrieError> {
        trie::proof(&self.pedersen_nodes(), storage_root, key.0)
    }
}
