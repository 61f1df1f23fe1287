//! Starknet's Merkle-Patricia tries and the global state root.
//!
//! Starknet commits to its state with binary tries of height 251: one storage trie per
//! contract (storage key to value), the contracts trie (address to
//! [`contract_state_hash`]) and the classes trie (Sierra class hash to [`class_leaf`]).
//! [`global_root`] combines the roots of the last two. The first three use Pedersen and the
//! classes trie uses Poseidon, chosen by [`TrieHash`].
//!
//! # Structure and hashes
//!
//! A key (below 2^251) is a path from the root, most significant bit first, 0 going left. A
//! leaf's hash is its value and a zero value means no leaf, so the empty trie's root is 0.
//! Inner nodes are [`Node::Binary`], hashed `H(left, right)`, and [`Node::Edge`], a run of
//! steps to a single non-empty subtree, hashed `H(child, path) + length`.
//!
//! # Storage
//!
//! Nodes are content-addressed: the [`NodeStore`] maps a node's hash to the node, and a node
//! never changes. [`apply_updates`] returns the new root and the nodes it created and writes
//! nothing, so the caller stores them atomically with the rest of its block. Because old
//! nodes stay, every earlier root remains readable with [`get`] and [`proof`], and reverting
//! a block only means going back to its parent's roots.
//!
//! NOTE: nothing is ever deleted, so the store grows with every block. Pruning old roots would
//! need reference counts, because one node can be shared by many roots, tries and positions.

mod key;
mod node;
mod proof;
mod state_root;
mod store;
mod update;

#[cfg(test)]
mod tests;

use starknet_types_core::felt::Felt;

pub use key::TRIE_HEIGHT;
pub use node::{Node, TrieHash};
pub use proof::{get, proof, verify_proof};
pub use state_root::{
    class_leaf, contract_state_hash, global_root, CONTRACT_CLASS_LEAF_VERSION,
    CONTRACT_STATE_HASH_VERSION, GLOBAL_STATE_VERSION,
};
pub use store::{MemoryNodeStore, NodeStore};
pub use update::{apply_updates, TrieUpdate};

/// Error of a trie operation.
#[derive(Debug, thiserror::Error)]
pub enum TrieError {
    /// A node of the trie is not in the store: the root does not belong to this store, or
    /// nodes of an update were not written.
    #[error("trie node {hash:#x} is not in the node store")]
    MissingNode { hash: Felt },

    /// Stored bytes are not a valid node, or a stored edge runs past the leaf level.
    #[error("invalid trie node: {reason}")]
    InvalidNode { reason: String },

    /// Keys address leaves at depth 251, so they must be below 2^251. Storage keys and
    /// contract addresses always are; a class hash at or above 2^251 cannot be declared.
    #[error("key {key:#x} is not below 2^251, so it has no position in a trie")]
    KeyOutOfRange { key: Felt },

    /// A proof given to [`verify_proof`] does not prove a value for its key under its root.
    #[error("invalid trie proof: {reason}")]
    InvalidProof { reason: String },

    /// The [`NodeStore`] backend failed to read.
    #[error("reading a trie node failed: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}
