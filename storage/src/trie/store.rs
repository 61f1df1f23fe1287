//! Node stores: the [`NodeStore`] trait and an in-memory implementation.

use std::collections::HashMap;

use starknet_types_core::felt::Felt;

use super::node::Node;
use super::TrieError;

/// Read access to trie nodes by hash. The storage crate implements it over a RocksDB column
/// family that maps a node's hash to [`Node::encode`] bytes.
///
/// Nodes are content-addressed and never change, so one store can hold every version of every
/// trie, Pedersen and Poseidon tries alike.
pub trait NodeStore {
    /// Returns the node with this hash, or `None` when the store has no such node.
    fn node(&self, hash: Felt) -> Result<Option<Node>, TrieError>;
}

/// A [`NodeStore`] in a `HashMap`, for tests and for callers that keep small tries in memory.
#[derive(Clone, Default, Debug)]
pub struct MemoryNodeStore {
    nodes: HashMap<Felt, Node>,
}

impl MemoryNodeStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, hash: Felt, node: Node) {
        self.nodes.insert(hash, node);
    }

    /// Number of distinct nodes stored.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

impl Extend<(Felt, Node)> for MemoryNodeStore {
    fn extend<I: IntoIterator<Item = (Felt, Node)>>(&mut self, nodes: I) {
        self.nodes.extend(nodes);
    }
}

impl NodeStore for MemoryNodeStore {
    fn node(&self, hash: Felt) -> Result<Option<Node>, TrieError> {
        Ok(self.nodes.get(&hash).copied())
    }
}

/// Reads the node with this hash, failing with [`TrieError::MissingNode`] when the store does
/// not have it.
pub(crate) fn load_node(store: &impl NodeStore, hash: Felt) -> Result<Node, TrieError> {
    store.node(hash)?.ok_or(TrieError::MissingNode { hash })
}
