//! Update throughput, measured only on request:
//! `cargo test --release -- --ignored --nocapture apply_updates_throughput`.
//! Hashing dominates, so the test also prints the cost of one hash and the number of new
//! nodes (one hash each) per updated leaf.

use std::time::{Duration, Instant};

use starknet_types_core::felt::Felt;

use super::Rng;
use crate::trie::{apply_updates, MemoryNodeStore, TrieHash};

const TRIE_LEAVES: usize = 100_000;
const LARGE_BATCH: usize = 10_000;
const SMALL_BATCH: usize = 100;

#[test]
#[ignore = "measurement, not a check; run with --release --ignored --nocapture"]
fn apply_updates_throughput() {
    for hash in [TrieHash::Pedersen, TrieHash::Poseidon] {
        measure(hash);
    }
}

fn measure(hash: TrieHash) {
    let mut rng = Rng(7);
    let hash_cost = time_one_hash(hash, &mut rng);
    println!("{hash:?}: {:.1} µs per hash", micros(hash_cost));

    let mut store = MemoryNodeStore::new();
    let mut root = Felt::ZERO;
    let mut keys = Vec::with_capacity(TRIE_LEAVES);

    // Insert new random keys into a growing trie.
    let mut stats = Stats::default();
    while keys.len() < TRIE_LEAVES {
        let batch: Vec<(Felt, Felt)> = (0..LARGE_BATCH)
            .map(|_| (rng.key(), random_value(&mut rng)))
            .collect();
        keys.extend(batch.iter().map(|(key, _)| *key));
        root = stats.run(&mut store, root, &batch, hash);
    }
    stats.print(&format!(
        "insert {TRIE_LEAVES} keys in batches of {LARGE_BATCH}"
    ));

    // Change values of existing keys, as blocks mostly do.
    for batch_size in [LARGE_BATCH, SMALL_BATCH] {
        let mut stats = Stats::default();
        let batches = 100_000 / batch_size;
        for _ in 0..batches.min(10) {
            let batch: Vec<(Felt, Felt)> = (0..batch_size)
                .map(|_| {
                    (
                        keys[rng.below(keys.len() as u64) as usize],
                        random_value(&mut rng),
                    )
                })
                .collect();
            root = stats.run(&mut store, root, &batch, hash);
        }
        stats.print(&format!(
            "update existing keys of a {TRIE_LEAVES}-leaf trie in batches of {batch_size}"
        ));
    }
}

fn random_value(rng: &mut Rng) -> Felt {
    Felt::from(1 + rng.below(u64::MAX - 1))
}

fn time_one_hash(hash: TrieHash, rng: &mut Rng) -> Duration {
    const HASHES: u32 = 20_000;
    let mut value = rng.key();
    let other = rng.key();
    let start = Instant::now();
    for _ in 0..HASHES {
        value = hash.hash(&value, &other);
    }
    std::hint::black_box(value);
    start.elapsed() / HASHES
}

#[derive(Default)]
struct Stats {
    leaves: usize,
    new_nodes: usize,
    elapsed: Duration,
}

impl Stats {
    /// Times one `apply_updates` call (not the store insertion) and returns the new root.
    fn run(
        &mut self,
        store: &mut MemoryNodeStore,
        root: Felt,
        batch: &[(Felt, Felt)],
        hash: TrieHash,
    ) -> Felt {
        let start = Instant::now();
        let update = apply_updates(store, root, batch, hash).unwrap();
        self.elapsed += start.elapsed();
        self.leaves += batch.len();
        self.new_nodes += update.new_nodes.len();
        let new_root = update.root;
        store.extend(update.new_nodes);
        new_root
    }

    fn print(&self, scenario: &str) {
        let seconds = self.elapsed.as_secs_f64();
        println!(
            "  {scenario}: {:.0} leaves/s, {:.2} new nodes per leaf, {:.1} µs per new node",
            self.leaves as f64 / seconds,
            self.new_nodes as f64 / self.leaves as f64,
            micros(self.elapsed) / self.new_nodes as f64,
        );
    }
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
