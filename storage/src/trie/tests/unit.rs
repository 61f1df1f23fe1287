//! Small tries whose roots are computed by hand from the node hash definitions.

use starknet_types_core::felt::Felt;
use starknet_types_core::hash::{Pedersen, Poseidon, StarkHash};

use super::{commit, fresh_root, two_pow};
use crate::trie::{
    apply_updates, get, proof, verify_proof, MemoryNodeStore, Node, TrieError, TrieHash,
};

const PEDERSEN: TrieHash = TrieHash::Pedersen;

fn h(a: Felt, b: Felt) -> Felt {
    Pedersen::hash(&a, &b)
}

/// Hash of an edge node under Pedersen.
fn edge(child: Felt, path: Felt, length: u8) -> Felt {
    h(child, path) + Felt::from(length)
}

fn f(value: u64) -> Felt {
    Felt::from(value)
}

/// Asserts that `get` returns `expected` and that the proof verifies to the same value.
fn assert_reads(store: &MemoryNodeStore, root: Felt, key: Felt, expected: Option<Felt>) {
    assert_eq!(get(store, root, key).unwrap(), expected, "get {key:#x}");
    let nodes = proof(store, root, key).unwrap();
    assert_eq!(
        verify_proof(root, key, &nodes, PEDERSEN).unwrap(),
        expected,
        "proof of {key:#x}"
    );
}

#[test]
fn empty_trie_has_root_zero() {
    let store = MemoryNodeStore::new();

    let update = apply_updates(&store, Felt::ZERO, &[], PEDERSEN).unwrap();
    assert_eq!(update.root, Felt::ZERO);
    assert!(update.new_nodes.is_empty());

    let update = apply_updates(&store, Felt::ZERO, &[(f(7), Felt::ZERO)], PEDERSEN).unwrap();
    assert_eq!(update.root, Felt::ZERO, "deleting an absent key");
    assert!(update.new_nodes.is_empty());

    assert_eq!(get(&store, Felt::ZERO, f(7)).unwrap(), None);
    assert!(proof(&store, Felt::ZERO, f(7)).unwrap().is_empty());
    assert_eq!(verify_proof(Felt::ZERO, f(7), &[], PEDERSEN).unwrap(), None);
}

#[test]
fn single_leaf_is_one_full_edge() {
    let mut store = MemoryNodeStore::new();
    let key = f(0x1234);
    let value = f(0x99);

    let update = apply_updates(&store, Felt::ZERO, &[(key, value)], PEDERSEN).unwrap();
    let expected_root = edge(value, key, 251);
    assert_eq!(update.root, expected_root);
    let expected_node = Node::Edge {
        child: value,
        path: key,
        length: 251,
    };
    assert_eq!(update.new_nodes, vec![(expected_root, expected_node)]);
    store.extend(update.new_nodes);

    assert_reads(&store, expected_root, key, Some(value));
    assert_eq!(
        proof(&store, expected_root, key).unwrap(),
        vec![(expected_root, expected_node)]
    );

    // An absent key's proof is the same edge, whose path differs from the key.
    let absent = f(0x1235);
    assert_reads(&store, expected_root, absent, None);
    assert_eq!(
        proof(&store, expected_root, absent).unwrap(),
        vec![(expected_root, expected_node)]
    );
}

#[test]
fn single_leaf_at_extreme_keys() {
    let value = f(5);
    assert_eq!(
        fresh_root(&[(Felt::ZERO, value)], PEDERSEN),
        edge(value, Felt::ZERO, 251)
    );
    let max_key = two_pow(251) - Felt::ONE;
    assert_eq!(
        fresh_root(&[(max_key, value)], PEDERSEN),
        edge(value, max_key, 251)
    );
}

#[test]
fn two_leaves_split_at_root() {
    let mut store = MemoryNodeStore::new();
    let (left_key, left_value) = (f(5), f(0x11));
    let (right_key, right_value) = (two_pow(250) + f(7), f(0x22));

    let root = commit(
        &mut store,
        Felt::ZERO,
        &[(left_key, left_value), (right_key, right_value)],
        PEDERSEN,
    );

    let left = edge(left_value, f(5), 250);
    let right = edge(right_value, f(7), 250);
    assert_eq!(root, h(left, right));
    assert_eq!(store.len(), 3);
    assert_reads(&store, root, left_key, Some(left_value));
    assert_reads(&store, root, right_key, Some(right_value));
    assert_reads(&store, root, f(6), None);
    assert_eq!(proof(&store, root, left_key).unwrap().len(), 2);
}

#[test]
fn two_leaves_split_at_bottom() {
    let mut store = MemoryNodeStore::new();
    let first = commit(&mut store, Felt::ZERO, &[(f(0x10), f(1))], PEDERSEN);
    // The second leaf cuts the full-length edge one step above the leaves.
    let root = commit(&mut store, first, &[(f(0x11), f(2))], PEDERSEN);

    let expected = edge(h(f(1), f(2)), f(0x8), 250);
    assert_eq!(root, expected);
    assert_eq!(
        root,
        fresh_root(&[(f(0x10), f(1)), (f(0x11), f(2))], PEDERSEN)
    );
    assert_reads(&store, root, f(0x10), Some(f(1)));
    assert_reads(&store, root, f(0x11), Some(f(2)));
    assert_reads(&store, root, f(0x12), None);
}

#[test]
fn edge_splits_inside_and_at_start() {
    let mut store = MemoryNodeStore::new();
    let (a, b, c) = (f(0x100), f(0x180), two_pow(250));
    let (va, vb, vc) = (f(0xa), f(0xb), f(0xc));

    let root_a = commit(&mut store, Felt::ZERO, &[(a, va)], PEDERSEN);
    // 0x100 and 0x180 part at bit 7, which is depth 243; both continue with seven zero bits.
    let root_ab = commit(&mut store, root_a, &[(b, vb)], PEDERSEN);
    let binary = h(edge(va, Felt::ZERO, 7), edge(vb, Felt::ZERO, 7));
    assert_eq!(root_ab, edge(binary, f(1), 243));

    // 2^250 goes right at the root, cutting the top edge at its first step.
    let root_abc = commit(&mut store, root_ab, &[(c, vc)], PEDERSEN);
    let expected = h(edge(binary, f(1), 242), edge(vc, Felt::ZERO, 250));
    assert_eq!(root_abc, expected);
    assert_eq!(root_abc, fresh_root(&[(a, va), (b, vb), (c, vc)], PEDERSEN));

    for (key, value) in [(a, va), (b, vb), (c, vc)] {
        assert_reads(&store, root_abc, key, Some(value));
    }
    assert_reads(&store, root_abc, f(0x140), None);
    assert_reads(&store, root_abc, f(0x1), None);
}

#[test]
fn deletions_collapse_back_to_empty() {
    let mut store = MemoryNodeStore::new();
    let (a, b, c) = (f(0x100), f(0x180), two_pow(250));
    let all = [(a, f(1)), (b, f(2)), (c, f(3))];
    let root_abc = commit(&mut store, Felt::ZERO, &all, PEDERSEN);

    // Deleting c leaves the root's left edge alone; it must merge with the new root edge.
    let root_ab = commit(&mut store, root_abc, &[(c, Felt::ZERO)], PEDERSEN);
    assert_eq!(root_ab, fresh_root(&all[..2], PEDERSEN));
    assert_reads(&store, root_ab, c, None);

    let root_a = commit(&mut store, root_ab, &[(b, Felt::ZERO)], PEDERSEN);
    assert_eq!(root_a, edge(f(1), a, 251));

    let empty = commit(&mut store, root_a, &[(a, Felt::ZERO)], PEDERSEN);
    assert_eq!(empty, Felt::ZERO);
    assert_reads(&store, empty, a, None);

    let deletions: Vec<_> = all.iter().map(|(key, _)| (*key, Felt::ZERO)).collect();
    let update = apply_updates(&store, root_abc, &deletions, PEDERSEN).unwrap();
    assert_eq!(update.root, Felt::ZERO, "deleting every leaf in one batch");
    assert!(update.new_nodes.is_empty());
}

#[test]
fn update_in_place_rewrites_only_its_path() {
    let mut store = MemoryNodeStore::new();
    let (a, b) = (f(0x100), f(0x180));
    let root = commit(&mut store, Felt::ZERO, &[(a, f(1)), (b, f(2))], PEDERSEN);

    let update = apply_updates(&store, root, &[(a, f(9))], PEDERSEN).unwrap();
    assert_eq!(update.root, fresh_root(&[(a, f(9)), (b, f(2))], PEDERSEN));
    // The leaf's edge, the binary node and the top edge.
    assert_eq!(update.new_nodes.len(), 3);
    store.extend(update.new_nodes);
    let root = update.root;
    assert_reads(&store, root, a, Some(f(9)));
    assert_reads(&store, root, b, Some(f(2)));

    let no_ops = [
        (a, f(9)),
        // Absent keys that leave the path in the top edge and in a bottom edge.
        (f(0x200), Felt::ZERO),
        (f(0x101), Felt::ZERO),
    ];
    for (key, value) in no_ops {
        let update = apply_updates(&store, root, &[(key, value)], PEDERSEN).unwrap();
        assert_eq!(update.root, root, "no-op update of {key:#x}");
        assert!(update.new_nodes.is_empty(), "no-op update of {key:#x}");
    }
}

#[test]
fn same_key_twice_in_one_batch_last_wins() {
    let mut store = MemoryNodeStore::new();
    let key = f(0x42);

    let root = commit(
        &mut store,
        Felt::ZERO,
        &[(key, f(1)), (key, f(2))],
        PEDERSEN,
    );
    assert_eq!(root, edge(f(2), key, 251));

    let update = apply_updates(
        &store,
        Felt::ZERO,
        &[(key, f(1)), (key, Felt::ZERO)],
        PEDERSEN,
    );
    assert_eq!(update.unwrap().root, Felt::ZERO);

    let root = commit(
        &mut store,
        root,
        &[(key, Felt::ZERO), (key, f(5))],
        PEDERSEN,
    );
    assert_eq!(root, edge(f(5), key, 251));
    assert_reads(&store, root, key, Some(f(5)));
}

#[test]
fn old_roots_stay_readable() {
    let mut store = MemoryNodeStore::new();
    let (a, b) = (f(0x100), f(0x180));
    let root1 = commit(&mut store, Felt::ZERO, &[(a, f(1))], PEDERSEN);
    let root2 = commit(&mut store, root1, &[(a, f(2)), (b, f(3))], PEDERSEN);
    let root3 = commit(&mut store, root2, &[(a, Felt::ZERO)], PEDERSEN);

    assert_reads(&store, root1, a, Some(f(1)));
    assert_reads(&store, root1, b, None);
    assert_reads(&store, root2, a, Some(f(2)));
    assert_reads(&store, root2, b, Some(f(3)));
    assert_reads(&store, root3, a, None);
    assert_reads(&store, root3, b, Some(f(3)));
}

#[test]
fn oversized_keys_are_rejected() {
    let store = MemoryNodeStore::new();
    let too_large = two_pow(251);

    let result = apply_updates(&store, Felt::ZERO, &[(too_large, f(1))], PEDERSEN);
    assert!(matches!(result, Err(TrieError::KeyOutOfRange { key }) if key == too_large));
    let result = get(&store, Felt::ZERO, Felt::MAX);
    assert!(matches!(result, Err(TrieError::KeyOutOfRange { .. })));
}

#[test]
fn missing_node_is_reported_with_its_hash() {
    let store = MemoryNodeStore::new();
    let unknown_root = f(0x123);

    let result = apply_updates(&store, unknown_root, &[(f(1), f(1))], PEDERSEN);
    assert!(matches!(result, Err(TrieError::MissingNode { hash }) if hash == unknown_root));
    let result = get(&store, unknown_root, f(1));
    assert!(matches!(result, Err(TrieError::MissingNode { hash }) if hash == unknown_root));
}

#[test]
fn poseidon_trie_hashes_with_poseidon() {
    let mut store = MemoryNodeStore::new();
    let (key, value) = (f(0x1234), f(0x99));
    let root = commit(&mut store, Felt::ZERO, &[(key, value)], TrieHash::Poseidon);
    assert_eq!(root, Poseidon::hash(&value, &key) + Felt::from(251));

    let nodes = proof(&store, root, key).unwrap();
    assert_eq!(
        verify_proof(root, key, &nodes, TrieHash::Poseidon).unwrap(),
        Some(value)
    );
    let result = verify_proof(root, key, &nodes, PEDERSEN);
    assert!(matches!(result, Err(TrieError::InvalidProof { .. })));
}

#[test]
fn verify_proof_rejects_altered_proofs() {
    let mut store = MemoryNodeStore::new();
    let (a, b) = (f(0x100), f(0x180));
    let root = commit(&mut store, Felt::ZERO, &[(a, f(1)), (b, f(2))], PEDERSEN);
    let nodes = proof(&store, root, a).unwrap();
    assert_eq!(nodes.len(), 3);

    let mut wrong_child = nodes.clone();
    if let Node::Edge { child, .. } = &mut wrong_child[2].1 {
        *child = f(7);
    }
    let truncated = &nodes[..2];
    let mut extra = nodes.clone();
    extra.push(nodes[0]);

    for (case, proof_nodes, proof_root) in [
        ("altered leaf value", &wrong_child[..], root),
        ("truncated", truncated, root),
        ("node after the leaf", &extra[..], root),
        ("other root", &nodes[..], root + Felt::ONE),
        ("nodes for an empty trie", &nodes[..], Felt::ZERO),
    ] {
        let result = verify_proof(proof_root, a, proof_nodes, PEDERSEN);
        assert!(
            matches!(result, Err(TrieError::InvalidProof { .. })),
            "{case}: {result:?}"
        );
    }
}
