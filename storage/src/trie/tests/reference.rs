//! Random batches applied incrementally, checked against a deliberately naive reference that
//! rebuilds the whole trie from its leaves one step at a time.

use std::collections::BTreeMap;

use starknet_types_core::felt::Felt;

use super::{commit, fresh_root, two_pow, Rng};
use crate::trie::{get, proof, verify_proof, MemoryNodeStore, TrieHash, TRIE_HEIGHT};

/// A subtree of the reference trie.
enum ReferenceNode {
    Leaf(Felt),
    Binary {
        hash: Felt,
    },
    Edge {
        child: Felt,
        path: Felt,
        length: u32,
    },
}

impl ReferenceNode {
    fn hash(&self, hash: TrieHash) -> Felt {
        match self {
            ReferenceNode::Leaf(value) => *value,
            ReferenceNode::Binary { hash } => *hash,
            ReferenceNode::Edge {
                child,
                path,
                length,
            } => hash.hash(child, path) + Felt::from(*length),
        }
    }
}

/// Returns the root of the trie holding `leaves`, computed straight from the definition.
fn reference_root(leaves: &BTreeMap<Felt, Felt>, hash: TrieHash) -> Felt {
    let leaves: Vec<(Felt, Felt)> = leaves.iter().map(|(k, v)| (*k, *v)).collect();
    match reference_subtree(&leaves, 0, hash) {
        Some(node) => node.hash(hash),
        None => Felt::ZERO,
    }
}

/// Builds the subtree at `depth` that contains `leaves`. Every level is visited: a level with
/// leaves on one side only adds one step to an edge.
fn reference_subtree(
    leaves: &[(Felt, Felt)],
    depth: usize,
    hash: TrieHash,
) -> Option<ReferenceNode> {
    if leaves.is_empty() {
        return None;
    }
    if depth == TRIE_HEIGHT {
        return Some(ReferenceNode::Leaf(leaves[0].1));
    }

    let goes_right = |key: &Felt| key.to_bits_le()[TRIE_HEIGHT - 1 - depth];
    let (right, left): (Vec<_>, Vec<_>) = leaves.iter().partition(|(key, _)| goes_right(key));
    let left = reference_subtree(&left, depth + 1, hash);
    let right = reference_subtree(&right, depth + 1, hash);

    match (left, right) {
        (Some(left), Some(right)) => Some(ReferenceNode::Binary {
            hash: hash.hash(&left.hash(hash), &right.hash(hash)),
        }),
        (Some(only), None) => Some(prepend_step(only, false, hash)),
        (None, Some(only)) => Some(prepend_step(only, true, hash)),
        (None, None) => unreachable!("a non-empty set of leaves has a side"),
    }
}

fn prepend_step(node: ReferenceNode, right: bool, hash: TrieHash) -> ReferenceNode {
    let step = if right { Felt::ONE } else { Felt::ZERO };
    match node {
        ReferenceNode::Edge {
            child,
            path,
            length,
        } => ReferenceNode::Edge {
            child,
            path: step * two_pow(length) + path,
            length: length + 1,
        },
        other => ReferenceNode::Edge {
            child: other.hash(hash),
            path: step,
            length: 1,
        },
    }
}

fn check_reads(
    store: &MemoryNodeStore,
    root: Felt,
    model: &BTreeMap<Felt, Felt>,
    absent: &[Felt],
    hash: TrieHash,
) {
    for (key, value) in model {
        assert_eq!(
            get(store, root, *key).unwrap(),
            Some(*value),
            "get {key:#x}"
        );
        let nodes = proof(store, root, *key).unwrap();
        let proven = verify_proof(root, *key, &nodes, hash).unwrap();
        assert_eq!(proven, Some(*value), "proof of {key:#x}");
    }
    for key in absent.iter().filter(|key| !model.contains_key(*key)) {
        assert_eq!(get(store, root, *key).unwrap(), None, "get absent {key:#x}");
        let nodes = proof(store, root, *key).unwrap();
        let proven = verify_proof(root, *key, &nodes, hash).unwrap();
        assert_eq!(proven, None, "proof of absent {key:#x}");
    }
}

fn run_random_rounds(seed: u64, hash: TrieHash) {
    const ROUNDS: usize = 8;
    const MAX_BATCH: u64 = 40;

    let mut rng = Rng(seed);
    let mut store = MemoryNodeStore::new();
    let mut model = BTreeMap::new();
    let mut root = Felt::ZERO;
    let mut history = Vec::new();

    for round in 0..ROUNDS {
        let mut batch = Vec::new();
        for _ in 0..1 + rng.below(MAX_BATCH) {
            let existing: Vec<Felt> = model
                .keys()
                .chain(batch.iter().map(|(k, _)| k))
                .copied()
                .collect();
            // Now and then rewrite a key already in the batch, to exercise "last wins".
            let key = if !batch.is_empty() && rng.below(8) == 0 {
                batch[rng.below(batch.len() as u64) as usize].0
            } else {
                rng.interesting_key(&existing)
            };
            batch.push((key, rng.value()));
        }
        for (key, value) in &batch {
            if *value == Felt::ZERO {
                model.remove(key);
            } else {
                model.insert(*key, *value);
            }
        }

        root = commit(&mut store, root, &batch, hash);
        let context = format!("seed {seed}, round {round}, {} leaves", model.len());
        assert_eq!(
            root,
            reference_root(&model, hash),
            "{context}: incremental root"
        );
        let all_leaves: Vec<_> = model.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(
            root,
            fresh_root(&all_leaves, hash),
            "{context}: one-batch root"
        );

        let absent: Vec<Felt> = (0..8)
            .map(|_| rng.interesting_key(&all_leaves.iter().map(|l| l.0).collect::<Vec<_>>()))
            .collect();
        check_reads(&store, root, &model, &absent, hash);
        history.push((root, model.clone(), absent));
    }

    for (old_root, old_model, absent) in &history {
        check_reads(&store, *old_root, old_model, absent, hash);
    }
}

#[test]
fn random_batches_match_reference_pedersen() {
    for seed in 1..=6 {
        run_random_rounds(seed, TrieHash::Pedersen);
    }
}

#[test]
fn random_batches_match_reference_poseidon() {
    for seed in 101..=103 {
        run_random_rounds(seed, TrieHash::Poseidon);
    }
}
