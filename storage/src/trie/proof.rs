//! Reads along one key's path: value lookup, Merkle proof, and proof verification.

use starknet_types_core::felt::Felt;

use super::key::{Key, TRIE_HEIGHT};
use super::node::{checked_edge_length, Node, TrieHash};
use super::store::{load_node, NodeStore};
use super::TrieError;

/// Returns the value at `key` in the trie with root `root`, or `None` when the key has no
/// leaf (its value is 0). Fails with [`TrieError::KeyOutOfRange`] for a key of 2^251 or more.
pub fn get(store: &impl NodeStore, root: Felt, key: Felt) -> Result<Option<Felt>, TrieError> {
    walk(store, root, key, |_, _| {})
}

/// Returns the nodes on `key`'s path, from the root down, each with its hash.
///
/// When the key has a leaf, the last node's child is the leaf's value. When it has none, the
/// list ends at the edge whose path leaves the key's path, which proves non-membership, or
/// is empty for an empty trie (root 0). Leaves are not nodes and are not listed. This is the
/// shape of `starknet_getStorageProof` (JSON-RPC 0.8 and later), whose node mapping holds
/// only binary and edge nodes.
pub fn proof(
    store: &impl NodeStore,
    root: Felt,
    key: Felt,
) -> Result<Vec<(Felt, Node)>, TrieError> {
    let mut nodes = Vec::new();
    walk(store, root, key, |hash, node| nodes.push((hash, *node)))?;
    Ok(nodes)
}

/// Checks a proof made by [`proof`] against `root` and returns the value it proves for `key`:
/// `Some(value)`, or `None` when it proves that the key has no leaf. Fails with
/// [`TrieError::InvalidProof`] when a node's hash under `hash` is not the hash it is listed
/// with, when the nodes do not form the path from `root` to `key`, or when nodes are missing
/// or left over.
pub fn verify_proof(
    root: Felt,
    key: Felt,
    nodes: &[(Felt, Node)],
    hash: TrieHash,
) -> Result<Option<Felt>, TrieError> {
    let path_key = Key::from_felt(&key).ok_or(TrieError::KeyOutOfRange { key })?;
    if root == Felt::ZERO {
        return match nodes {
            [] => Ok(None),
            _ => Err(invalid_proof("the trie is empty, but the proof has nodes")),
        };
    }

    let mut expected = root;
    let mut depth = 0;
    let mut remaining = nodes.iter();
    while depth < TRIE_HEIGHT {
        let Some((listed_hash, node)) = remaining.next() else {
            return Err(invalid_proof("the proof ends above the leaf level"));
        };
        if *listed_hash != expected {
            return Err(invalid_proof(
                "a node is not the child of the node before it",
            ));
        }
        if node.hash(hash) != expected {
            return Err(invalid_proof("a node does not hash to its listed hash"));
        }

        match node {
            Node::Binary { left, right } => {
                expected = if path_key.bit(depth) { *right } else { *left };
                depth += 1;
            }
            Node::Edge {
                child,
                path,
                length,
            } => {
                let length = checked_edge_length(depth, *length, *listed_hash)?;
                if path_key.path(depth, length) != *path {
                    return match remaining.next() {
                        None => Ok(None),
                        Some(_) => Err(invalid_proof(
                            "nodes follow the edge that leaves the key's path",
                        )),
                    };
                }
                expected = *child;
                depth += length;
            }
        }
    }

    match remaining.next() {
        None => Ok(Some(expected)),
        Some(_) => Err(invalid_proof("nodes follow the leaf")),
    }
}

/// Walks from `root` towards `key`, calls `visit` with each node read, and returns the leaf
/// value if the walk reaches one.
fn walk(
    store: &impl NodeStore,
    root: Felt,
    key: Felt,
    mut visit: impl FnMut(Felt, &Node),
) -> Result<Option<Felt>, TrieError> {
    let path_key = Key::from_felt(&key).ok_or(TrieError::KeyOutOfRange { key })?;
    if root == Felt::ZERO {
        return Ok(None);
    }

    let mut hash = root;
    let mut depth = 0;
    while depth < TRIE_HEIGHT {
        let node = load_node(store, hash)?;
        visit(hash, &node);
        match node {
            Node::Binary { left, right } => {
                hash = if path_key.bit(depth) { right } else { left };
                depth += 1;
            }
            Node::Edge {
                child,
                path,
                length,
            } => {
                let length = checked_edge_length(depth, length, hash)?;
                if path_key.path(depth, length) != path {
                    return Ok(None);
                }
                hash = child;
                depth += length;
            }
        }
    }
    Ok(Some(hash))
}

fn invalid_proof(reason: &str) -> TrieError {
    TrieError::InvalidProof {
        reason: reason.to_owned(),
    }
}
