//! Tests of the trie module: hand-computed trie shapes, a comparison with a naive reference
//! implementation, real Mainnet and Sepolia state roots, node encoding, the state-root
//! helpers, and a throughput measurement that runs only on request.

mod encoding;
mod real_data;
mod reference;
mod state_root;
mod throughput;
mod unit;

use starknet_types_core::felt::Felt;

use super::{apply_updates, MemoryNodeStore, TrieHash, TRIE_HEIGHT};

/// Applies `updates` to `root`, stores the new nodes and returns the new root.
fn commit(
    store: &mut MemoryNodeStore,
    root: Felt,
    updates: &[(Felt, Felt)],
    hash: TrieHash,
) -> Felt {
    let update = apply_updates(store, root, updates, hash).unwrap();
    store.extend(update.new_nodes);
    update.root
}

/// Returns the root of a trie holding exactly `leaves`, built from scratch in its own store.
fn fresh_root(leaves: &[(Felt, Felt)], hash: TrieHash) -> Felt {
    commit(&mut MemoryNodeStore::new(), Felt::ZERO, leaves, hash)
}

fn two_pow(exponent: u32) -> Felt {
    Felt::TWO.pow(exponent)
}

/// SplitMix64: a small seeded generator, so that a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// Returns a uniformly random key below 2^251.
    fn key(&mut self) -> Felt {
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_be_bytes());
        }
        bytes[0] &= 0x07;
        Felt::from_bytes_be(&bytes)
    }

    /// Returns a key chosen to produce shared prefixes and splits at every depth: uniform keys, keys
    /// one bit away from an existing key, small keys, and the four largest keys.
    fn interesting_key(&mut self, existing: &[Felt]) -> Felt {
        match self.below(10) {
            0..=3 => self.key(),
            4..=6 if !existing.is_empty() => {
                let base = existing[self.below(existing.len() as u64) as usize];
                let bit = self.below(TRIE_HEIGHT as u64) as u32;
                let mut bits = base.to_bits_le();
                bits[bit as usize] = !bits[bit as usize];
                let flip = two_pow(bit);
                if bits[bit as usize] {
                    base + flip
                } else {
                    base - flip
                }
            }
            7 | 8 => Felt::from(self.below(64)),
            _ => two_pow(251) - Felt::ONE - Felt::from(self.below(4)),
        }
    }

    /// Returns a random value, zero (a deletion) about a third of the time.
    fn value(&mut self) -> Felt {
        match self.below(6) {
            0 | 1 => Felt::ZERO,
            2 => self.key(),
            _ => Felt::from(1 + self.below(1000)),
        }
    }
}
