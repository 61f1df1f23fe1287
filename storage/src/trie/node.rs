//! Trie nodes: their hashes and their byte encoding in the node store.

use starknet_types_core::felt::Felt;
use starknet_types_core::hash::{Pedersen, Poseidon, StarkHash};

use super::key::TRIE_HEIGHT;
use super::TrieError;

/// The hash function of a trie: Pedersen for the contracts trie and every contract's storage
/// trie, Poseidon for the classes trie.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TrieHash {
    Pedersen,
    Poseidon,
}

impl TrieHash {
    /// Hashes two felts with this function (two-input Pedersen, or two-input Poseidon, which
    /// is not the same as Poseidon over the array `[a, b]`).
    pub fn hash(self, a: &Felt, b: &Felt) -> Felt {
        match self {
            TrieHash::Pedersen => Pedersen::hash(a, b),
            TrieHash::Poseidon => Poseidon::hash(a, b),
        }
    }
}

/// An inner node of a trie. Leaves are not nodes: a leaf's hash is its value, and the store
/// keeps no entry for it.
///
/// A trie built by [`super::apply_updates`] is canonical: both children of a binary node are
/// non-empty, an edge has length 1 to 251, and an edge's child is a binary node or a leaf,
/// never another edge. So every set of leaves has exactly one trie and one root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Node {
    /// A node with two non-empty subtrees, given by their hashes.
    Binary { left: Felt, right: Felt },
    /// A run of `length` steps with a single non-empty subtree at its end, whose hash is
    /// `child`. `path` is the run as an integer below 2^`length`, first step (the step taken
    /// at this node) most significant, 1 meaning right.
    Edge { child: Felt, path: Felt, length: u8 },
}

const BINARY_TAG: u8 = 0;
const EDGE_TAG: u8 = 1;
const FELT_BYTES: usize = 32;
const BINARY_ENCODED_LEN: usize = 1 + 2 * FELT_BYTES;
const EDGE_HEADER_LEN: usize = 1 + FELT_BYTES + 1;

impl Node {
    /// Computes the node's hash: `H(left, right)` for a binary node and
    /// `H(child, path) + length` (field addition) for an edge.
    pub fn hash(&self, hash: TrieHash) -> Felt {
        match self {
            Node::Binary { left, right } => hash.hash(left, right),
            Node::Edge {
                child,
                path,
                length,
            } => hash.hash(child, path) + Felt::from(*length),
        }
    }

    /// Encodes the node for the node store. The format is stable, because stored tries must
    /// stay readable:
    ///
    /// - binary: `0x00 ‖ left ‖ right`, 65 bytes;
    /// - edge: `0x01 ‖ child ‖ length ‖ path`, where `length` is one byte (1 to 251) and `path`
    ///   is big-endian in the fewest whole bytes that hold `length` bits (`ceil(length / 8)`),
    ///   so 35 to 66 bytes.
    ///
    /// Felts are 32 bytes big-endian. The node's hash is the store key and is not repeated here.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Node::Binary { left, right } => {
                let mut bytes = Vec::with_capacity(BINARY_ENCODED_LEN);
                bytes.push(BINARY_TAG);
                bytes.extend_from_slice(&left.to_bytes_be());
                bytes.extend_from_slice(&right.to_bytes_be());
                bytes
            }
            Node::Edge {
                child,
                path,
                length,
            } => {
                let path_len = path_byte_len(*length);
                let mut bytes = Vec::with_capacity(EDGE_HEADER_LEN + path_len);
                bytes.push(EDGE_TAG);
                bytes.extend_from_slice(&child.to_bytes_be());
                bytes.push(*length);
                bytes.extend_from_slice(&path.to_bytes_be()[FELT_BYTES - path_len..]);
                bytes
            }
        }
    }

    /// Decodes bytes written by [`Node::encode`]. Rejects an unknown tag, a wrong size, a felt
    /// that is not below the field prime, an edge length outside 1..=251 and a path with bits
    /// above its length, so that each node has exactly one encoding.
    pub fn decode(bytes: &[u8]) -> Result<Node, TrieError> {
        match bytes.first() {
            Some(&BINARY_TAG) => {
                if bytes.len() != BINARY_ENCODED_LEN {
                    return Err(invalid(format!(
                        "binary node has {} bytes, expected {BINARY_ENCODED_LEN}",
                        bytes.len()
                    )));
                }
                Ok(Node::Binary {
                    left: decode_felt(&bytes[1..1 + FELT_BYTES])?,
                    right: decode_felt(&bytes[1 + FELT_BYTES..])?,
                })
            }
            Some(&EDGE_TAG) => decode_edge(bytes),
            Some(tag) => Err(invalid(format!("unknown node tag {tag:#04x}"))),
            None => Err(invalid("empty node encoding".to_owned())),
        }
    }
}

fn decode_edge(bytes: &[u8]) -> Result<Node, TrieError> {
    if bytes.len() < EDGE_HEADER_LEN {
        return Err(invalid(format!(
            "edge node has {} bytes, expected at least {EDGE_HEADER_LEN}",
            bytes.len()
        )));
    }
    let child = decode_felt(&bytes[1..1 + FELT_BYTES])?;
    let length = bytes[1 + FELT_BYTES];
    if length == 0 || usize::from(length) > TRIE_HEIGHT {
        return Err(invalid(format!(
            "edge length {length} is outside 1..={TRIE_HEIGHT}"
        )));
    }

    let path_bytes = &bytes[EDGE_HEADER_LEN..];
    let path_len = path_byte_len(length);
    if path_bytes.len() != path_len {
        return Err(invalid(format!(
            "edge of length {length} has {} path bytes, expected {path_len}",
            path_bytes.len()
        )));
    }
    let unused_bits = 8 * path_len - usize::from(length);
    if u32::from(path_bytes[0]).leading_zeros() < 24 + unused_bits as u32 {
        return Err(invalid(format!(
            "edge path has bits set above its length {length}"
        )));
    }
    let mut padded = [0u8; FELT_BYTES];
    padded[FELT_BYTES - path_len..].copy_from_slice(path_bytes);

    Ok(Node::Edge {
        child,
        path: Felt::from_bytes_be(&padded),
        length,
    })
}

/// Checks that a stored edge starting at `depth` ends at or above the leaves.
pub(crate) fn checked_edge_length(
    depth: usize,
    length: u8,
    hash: Felt,
) -> Result<usize, TrieError> {
    let length = usize::from(length);
    if length == 0 || depth + length > TRIE_HEIGHT {
        return Err(TrieError::InvalidNode {
            reason: format!(
                "edge node {hash:#x} has length {length} at depth {depth}, \
                 which does not end within the trie's {TRIE_HEIGHT} levels"
            ),
        });
    }
    Ok(length)
}

fn path_byte_len(length: u8) -> usize {
    usize::from(length).div_ceil(8)
}

fn decode_felt(bytes: &[u8]) -> Result<Felt, TrieError> {
    let mut array = [0u8; FELT_BYTES];
    array.copy_from_slice(bytes);
    let felt = Felt::from_bytes_be(&array);
    // `from_bytes_be` reduces modulo the prime, so a value at or above it comes back changed.
    if felt.to_bytes_be() != array {
        return Err(invalid(
            "node contains a felt that is not below the field prime".to_owned(),
        ));
    }
    Ok(felt)
}

fn invalid(reason: String) -> TrieError {
    TrieError::InvalidNode { reason }
}
