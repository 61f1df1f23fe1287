//! Batch updates: a new root from an old root and a set of leaf changes.
//!
//! The update walks down the old trie only where the batch has leaves and rebuilds those
//! paths bottom-up. A rebuilt subtree stays in "path form" (a run of steps plus the hash at
//! its end) until its parent is known, so runs merge into one edge without hashing the
//! pieces. Only `add_node` hashes, once for each node it adds to the result.

use starknet_types_core::felt::Felt;

use super::key::{Key, TRIE_HEIGHT};
use super::node::{checked_edge_length, Node, TrieHash};
use super::store::{load_node, NodeStore};
use super::TrieError;

/// The outcome of [`apply_updates`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TrieUpdate {
    /// Root of the updated trie; 0 when the trie is now empty.
    pub root: Felt,
    /// Nodes of the new trie that the update created, each with its hash. Nodes of the old
    /// trie are never changed or removed, so the old root stays readable. A node can appear
    /// twice when identical subtrees were built in two places; storing it twice is harmless.
    pub new_nodes: Vec<(Felt, Node)>,
}

/// Applies leaf updates `(key, value)` to the trie with root `root` (0 for an empty trie) and
/// returns the new root with the nodes to store.
///
/// A zero value deletes the key. When a key appears more than once, its last update wins.
/// Reads only the nodes on the paths of updated keys, plus the sibling of a subtree that a
/// deletion emptied. Writes nothing: the caller stores `new_nodes`, for the storage crate in
/// the same write batch as the block. Fails with [`TrieError::KeyOutOfRange`] for a key of
/// 2^251 or more and [`TrieError::MissingNode`] when the store lacks a node of the old trie.
pub fn apply_updates(
    store: &impl NodeStore,
    root: Felt,
    updates: &[(Felt, Felt)],
    hash: TrieHash,
) -> Result<TrieUpdate, TrieError> {
    let leaves = sorted_last_wins(updates)?;
    let mut updater = Updater {
        store,
        hash,
        new_nodes: Vec::new(),
    };

    let old = if root == Felt::ZERO {
        Subtree::Empty
    } else {
        Subtree::Stored(root)
    };
    let new = updater.update(old, 0, &leaves)?;
    let root = updater.commit(new, 0);

    Ok(TrieUpdate {
        root,
        new_nodes: updater.new_nodes,
    })
}

/// A leaf's key and its new value, 0 for a deletion.
type LeafUpdate = (Key, Felt);

/// Converts the keys and sorts by key. The sort is stable, so the last update of a key is the
/// last of its run and wins.
fn sorted_last_wins(updates: &[(Felt, Felt)]) -> Result<Vec<LeafUpdate>, TrieError> {
    let mut leaves = Vec::with_capacity(updates.len());
    for (key, value) in updates {
        let key = Key::from_felt(key).ok_or(TrieError::KeyOutOfRange { key: *key })?;
        leaves.push((key, *value));
    }
    leaves.sort_by_key(|(key, _)| *key);

    let mut unique: Vec<LeafUpdate> = Vec::with_capacity(leaves.len());
    for (key, value) in leaves {
        match unique.last_mut() {
            Some(last) if last.0 == key => last.1 = value,
            _ => unique.push((key, value)),
        }
    }
    Ok(unique)
}

/// A subtree at some depth during an update. The caller tracks the depth.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Subtree {
    Empty,
    /// A subtree of the old trie, by hash: a binary node, an edge node, or at depth 251 a leaf.
    Stored(Felt),
    /// `length` steps (possibly none) to `child`, which is a leaf value or the hash of a
    /// binary node, never an edge. `key` is a key whose steps from the root down to the end
    /// of the run are this subtree's position and run. A run with `length > 0` is an edge
    /// node that has not been hashed yet.
    Path {
        key: Key,
        length: usize,
        child: Felt,
    },
}

struct Updater<'a, S> {
    store: &'a S,
    hash: TrieHash,
    new_nodes: Vec<(Felt, Node)>,
}

impl<S: NodeStore> Updater<'_, S> {
    /// Applies `leaves` to `subtree` at `depth`. The leaves are sorted, unique, and all lie
    /// below the subtree's position. Returns `subtree` itself when nothing changed.
    fn update(
        &mut self,
        subtree: Subtree,
        depth: usize,
        leaves: &[LeafUpdate],
    ) -> Result<Subtree, TrieError> {
        if leaves.is_empty() {
            return Ok(subtree);
        }
        match subtree {
            Subtree::Empty => self.build(depth, leaves),
            Subtree::Stored(old_value) if depth == TRIE_HEIGHT => {
                debug_assert_eq!(leaves.len(), 1);
                let (key, value) = leaves[0];
                Ok(if value == old_value {
                    subtree
                } else {
                    leaf(key, value)
                })
            }
            Subtree::Stored(hash) => match load_node(self.store, hash)? {
                Node::Binary { left, right } => {
                    let (left_leaves, right_leaves) = split_at_bit(leaves, depth);
                    let new_left = self.update(Subtree::Stored(left), depth + 1, left_leaves)?;
                    let new_right = self.update(Subtree::Stored(right), depth + 1, right_leaves)?;
                    if new_left == Subtree::Stored(left) && new_right == Subtree::Stored(right) {
                        return Ok(subtree);
                    }
                    self.join(depth, new_left, new_right, leaves[0].0)
                }
                Node::Edge {
                    child,
                    path,
                    length,
                } => {
                    let length = checked_edge_length(depth, length, hash)?;
                    let key = leaves[0].0.with_path(depth, length, &path);
                    self.update_edge(subtree, depth, key, length, child, leaves)
                }
            },
            Subtree::Path { key, length, child } => {
                self.update_edge(subtree, depth, key, length, child, leaves)
            }
        }
    }

    /// Applies `leaves` to `original`, a run of `length` steps along `key` from `depth` to
    /// `child`. Either every leaf lies below the run's end, or the leaves leave the run at
    /// some depth, where the run is cut and a binary node joins it with the new leaves.
    fn update_edge(
        &mut self,
        original: Subtree,
        depth: usize,
        key: Key,
        length: usize,
        child: Felt,
        leaves: &[LeafUpdate],
    ) -> Result<Subtree, TrieError> {
        let end = depth + length;
        // The leaves are sorted, so those that follow `key` furthest are bounded by the
        // first and the last leaf.
        let first = leaves[0].0;
        let last = leaves[leaves.len() - 1].0;
        let fork = key
            .first_difference(first)
            .min(key.first_difference(last))
            .min(end);

        if fork == end {
            let below = self.update(Subtree::Stored(child), end, leaves)?;
            if below == Subtree::Stored(child) {
                return Ok(original);
            }
            return self.extend(below, depth, end, key);
        }

        // The run continues on `run_bit` at `fork`, and leaves on the other side start a new
        // subtree there.
        let run_bit = key.bit(fork);
        let rest = if fork + 1 == end {
            Subtree::Stored(child)
        } else {
            Subtree::Path {
                key,
                length: end - fork - 1,
                child,
            }
        };
        let (zeros, ones) = split_at_bit(leaves, fork);
        let (along, away) = if run_bit {
            (ones, zeros)
        } else {
            (zeros, ones)
        };

        let new_rest = self.update(rest, fork + 1, along)?;
        let branch = self.build(fork + 1, away)?;
        if branch == Subtree::Empty && new_rest == rest {
            return Ok(original);
        }

        let (left, right) = if run_bit {
            (branch, new_rest)
        } else {
            (new_rest, branch)
        };
        let joined = self.join(fork, left, right, key)?;
        self.extend(joined, depth, fork, key)
    }

    /// Builds the subtree at `depth` that contains the non-zero `leaves`, where there was none.
    fn build(&mut self, depth: usize, leaves: &[LeafUpdate]) -> Result<Subtree, TrieError> {
        match leaves {
            [] => Ok(Subtree::Empty),
            [(_, value)] if *value == Felt::ZERO => Ok(Subtree::Empty),
            [(key, value)] => Ok(Subtree::Path {
                key: *key,
                length: TRIE_HEIGHT - depth,
                child: *value,
            }),
            _ => {
                let first = leaves[0].0;
                let fork = first.first_difference(leaves[leaves.len() - 1].0);
                let (zeros, ones) = split_at_bit(leaves, fork);
                let left = self.build(fork + 1, zeros)?;
                let right = self.build(fork + 1, ones)?;
                let joined = self.join(fork, left, right, first)?;
                self.extend(joined, depth, fork, first)
            }
        }
    }

    /// Combines two subtrees at `depth + 1` under the position at `depth`: nothing, a longer
    /// run, or a new binary node. `key` gives the steps from the root to `depth`.
    fn join(
        &mut self,
        depth: usize,
        left: Subtree,
        right: Subtree,
        key: Key,
    ) -> Result<Subtree, TrieError> {
        match (left, right) {
            (Subtree::Empty, Subtree::Empty) => Ok(Subtree::Empty),
            (Subtree::Empty, only) => {
                self.extend(only, depth, depth + 1, key.with_bit(depth, true))
            }
            (only, Subtree::Empty) => {
                self.extend(only, depth, depth + 1, key.with_bit(depth, false))
            }
            (left, right) => {
                let node = Node::Binary {
                    left: self.commit(left, depth + 1),
                    right: self.commit(right, depth + 1),
                };
                Ok(Subtree::Path {
                    key,
                    length: 0,
                    child: self.add_node(node),
                })
            }
        }
    }

    /// Returns the subtree at `from` that runs along `key` down to `subtree` at `to`. The
    /// steps of `key` from the root to `to` must be the subtree's position.
    fn extend(
        &mut self,
        subtree: Subtree,
        from: usize,
        to: usize,
        key: Key,
    ) -> Result<Subtree, TrieError> {
        if from == to {
            return Ok(subtree);
        }
        let subtree = match subtree {
            Subtree::Stored(hash) => self.path_form(hash, to, key)?,
            other => other,
        };
        Ok(match subtree {
            Subtree::Path { key, length, child } => Subtree::Path {
                key,
                length: length + (to - from),
                child,
            },
            other => other,
        })
    }

    /// Reads a subtree of the old trie at `depth` as a run, so that a parent run can absorb
    /// it. This is the one read outside the updated paths: after a deletion, the surviving
    /// sibling's edge merges into its parent.
    fn path_form(&mut self, hash: Felt, depth: usize, key: Key) -> Result<Subtree, TrieError> {
        if depth == TRIE_HEIGHT {
            return Ok(leaf(key, hash));
        }
        Ok(match load_node(self.store, hash)? {
            Node::Binary { .. } => Subtree::Path {
                key,
                length: 0,
                child: hash,
            },
            Node::Edge {
                child,
                path,
                length,
            } => {
                let length = checked_edge_length(depth, length, hash)?;
                Subtree::Path {
                    key: key.with_path(depth, length, &path),
                    length,
                    child,
                }
            }
        })
    }

    /// Returns the hash of the subtree at `depth`, creating its top edge node if it has one.
    fn commit(&mut self, subtree: Subtree, depth: usize) -> Felt {
        match subtree {
            Subtree::Empty => Felt::ZERO,
            Subtree::Stored(hash) => hash,
            Subtree::Path {
                length: 0, child, ..
            } => child,
            Subtree::Path { key, length, child } => {
                let node = Node::Edge {
                    child,
                    path: key.path(depth, length),
                    // A run ends at or above the leaves, so `length` is at most 251.
                    length: length as u8,
                };
                self.add_node(node)
            }
        }
    }

    fn add_node(&mut self, node: Node) -> Felt {
        let hash = node.hash(self.hash);
        self.new_nodes.push((hash, node));
        hash
    }
}

fn leaf(key: Key, value: Felt) -> Subtree {
    if value == Felt::ZERO {
        Subtree::Empty
    } else {
        Subtree::Path {
            key,
            length: 0,
            child: value,
        }
    }
}

/// Splits sorted leaves that share their steps above `depth` into those that go left at
/// `depth` and those that go right.
fn split_at_bit(leaves: &[LeafUpdate], depth: usize) -> (&[LeafUpdate], &[LeafUpdate]) {
    let split = leaves.partition_point(|(key, _)| !key.bit(depth));
    leaves.split_at(split)
}
