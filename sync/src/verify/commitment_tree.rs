//! The height-64 binary Merkle-Patricia tree that block commitments are roots of.
//!
//! Leaf `i` holds the hash of the block's `i`-th transaction, event or receipt. Nodes hash
//! as in Starknet's state trie: a binary node is `H(left, right)`, and an edge node that
//! skips `length` levels along the bits `path` is `H(child, path) + length`. A leaf with
//! value zero is absent, and the root of an empty tree is zero. The tree is built in
//! memory for one block and dropped; the persistent 251-bit state trie lives elsewhere.

use starknet_types_core::hash::StarkHash;
use starling_storage::Felt;

/// Number of key bits: leaf keys are 64-bit indices.
const HEIGHT: u32 = 64;

/// Returns the root of the tree whose leaf `i` is `leaves[i]`, hashed with `H` (Pedersen
/// before Starknet 0.13.2, Poseidon after).
pub fn commitment_root<H: StarkHash>(leaves: &[Felt]) -> Felt {
    let present: Vec<(u64, Felt)> = leaves
        .iter()
        .enumerate()
        .filter(|(_, value)| **value != Felt::ZERO)
        .map(|(index, value)| (index as u64, *value))
        .collect();
    if present.is_empty() {
        return Felt::ZERO;
    }
    subtree_hash::<H>(&present, 0)
}

/// Hashes the subtree below `depth` levels from the root. `leaves` is non-empty, sorted by
/// key, and every key in it has the same top `depth` bits.
fn subtree_hash<H: StarkHash>(leaves: &[(u64, Felt)], depth: u32) -> Felt {
    if depth == HEIGHT {
        return leaves[0].1;
    }

    // The keys share every bit above the first one where the smallest and the largest
    // key differ, so the node is an edge over those shared bits.
    let first = leaves[0].0;
    let last = leaves[leaves.len() - 1].0;
    let differing = first ^ last;
    let shared = if differing == 0 {
        HEIGHT - depth
    } else {
        differing.leading_zeros() - depth
    };
    if shared > 0 {
        let child = subtree_hash::<H>(leaves, depth + shared);
        let path = key_bits(first, depth, shared);
        return H::hash(&child, &Felt::from(path)) + Felt::from(shared);
    }

    // The keys differ at this level: a binary node with both children non-empty.
    let split = leaves.partition_point(|(key, _)| key_bits(*key, depth, 1) == 0);
    let left = subtree_hash::<H>(&leaves[..split], depth + 1);
    let right = subtree_hash::<H>(&leaves[split..], depth + 1);
    H::hash(&left, &right)
}

/// Returns `length` bits of `key` starting `depth` bits below the most significant one.
fn key_bits(key: u64, depth: u32, length: u32) -> u64 {
    let shifted = u128::from(key) >> (HEIGHT - depth - length);
    let mask = (1u128 << length) - 1;
    (shifted & mask) as u64
}

#[cfg(test)]
mod tests {
    use starknet_types_core::hash::{Pedersen, Poseidon};

    use super::*;

    fn felt(value: u64) -> Felt {
        Felt::from(value)
    }

    #[test]
    fn empty_tree_has_zero_root() {
        assert_eq!(commitment_root::<Pedersen>(&[]), Felt::ZERO);
        assert_eq!(commitment_root::<Poseidon>(&[]), Felt::ZERO);
    }

    #[test]
    fn zero_leaves_are_absent() {
        assert_eq!(
            commitment_root::<Pedersen>(&[Felt::ZERO, Felt::ZERO]),
            Felt::ZERO
        );
        assert_eq!(
            commitment_root::<Pedersen>(&[Felt::ZERO, felt(7)]),
            commitment_root::<Pedersen>(&[Felt::ZERO, felt(7), Felt::ZERO])
        );
    }

    #[test]
    fn single_leaf_is_one_edge_of_full_height() {
        let expected = Pedersen::hash(&felt(7), &Felt::ZERO) + felt(64);
        assert_eq!(commitment_root::<Pedersen>(&[felt(7)]), expected);

        let at_index_two = Poseidon::hash(&felt(7), &felt(2)) + felt(64);
        assert_eq!(
            commitment_root::<Poseidon>(&[Felt::ZERO, Felt::ZERO, felt(7)]),
            at_index_two
        );
    }

    #[test]
    fn two_leaves_under_one_edge() {
        let binary = Pedersen::hash(&felt(10), &felt(11));
        let expected = Pedersen::hash(&binary, &Felt::ZERO) + felt(63);
        assert_eq!(commitment_root::<Pedersen>(&[felt(10), felt(11)]), expected);
    }

    #[test]
    fn three_leaves_have_an_edge_below_the_split() {
        // Keys 0, 1 and 2 differ at bit 62 (counted from the top, starting at 0): keys 0
        // and 1 go left and branch at bit 63, key 2 goes right as a one-level edge.
        let left = Pedersen::hash(&felt(10), &felt(11));
        let right = Pedersen::hash(&felt(12), &Felt::ZERO) + felt(1);
        let split = Pedersen::hash(&left, &right);
        let expected = Pedersen::hash(&split, &Felt::ZERO) + felt(62);
        assert_eq!(
            commitment_root::<Pedersen>(&[felt(10), felt(11), felt(12)]),
            expected
        );
    }

    #[test]
    fn key_bits_reads_from_the_top() {
        assert_eq!(key_bits(1 << 63, 0, 1), 1);
        assert_eq!(key_bits(0b101, 61, 3), 0b101);
        assert_eq!(key_bits(u64::MAX, 0, 64), u64::MAX);
    }
}
