//! A small seeded pseudo-random generator (SplitMix64), so that a seed alone fixes the
//! chain. Not for cryptographic use.

use starling_storage::Felt;

/// SplitMix64 by Sebastiano Vigna: a 64-bit state advanced by a fixed odd constant and
/// finalised by a mixing function. Fast, and the same on every platform.
#[derive(Clone, Debug)]
pub(super) struct Rng {
    state: u64,
}

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Creates the generator of one block from the chain seed and the block number, so a
    /// block's content does not depend on how many values earlier blocks drew.
    pub(super) fn for_block(seed: u64, number: u64) -> Self {
        let mut mixer = Self::new(seed ^ number.wrapping_mul(0xd1b5_4a32_d192_ed03));
        Self::new(mixer.next_u64())
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Returns a value in `0..bound`; `bound` must be positive. The modulo bias is below
    /// 2^-40 for the small bounds the generator uses.
    pub(super) fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// Returns a value in `low..=high`.
    pub(super) fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    /// Returns true with probability `percent`/100.
    pub(super) fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// Returns a felt below 2^251, which is a valid storage key, address or value.
    pub(super) fn felt(&mut self) -> Felt {
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_be_bytes());
        }
        bytes[0] &= 0x07;
        Felt::from_bytes_be(&bytes)
    }

    /// Returns an element of a non-empty slice.
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut first = Rng::new(7);
        let mut second = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(first.next_u64(), second.next_u64());
        }
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
    }

    #[test]
    fn block_generators_differ_by_number() {
        let mut block_1 = Rng::for_block(7, 1);
        let mut block_2 = Rng::for_block(7, 2);
        assert_ne!(block_1.next_u64(), block_2.next_u64());
    }

    #[test]
    fn felts_stay_below_2_251() {
        let bound = Felt::from_hex_unwrap(
            "0x800000000000000000000000000000000000000000000000000000000000000",
        );
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            assert!(rng.felt() < bound);
        }
    }

    #[test]
    fn range_is_inclusive() {
        let mut rng = Rng::new(3);
        let values: Vec<u64> = (0..1000).map(|_| rng.range(2, 4)).collect();
        assert!(values.iter().all(|value| (2..=4).contains(value)));
        assert!(values.contains(&2));
        assert!(values.contains(&4));
    }
}
