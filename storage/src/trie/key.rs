//! Trie keys as 251-bit integers, with the bit operations a walk down the trie needs.
//!
//! Depth 0 is the root and depth [`TRIE_HEIGHT`] is the leaf level. The step taken at depth
//! `d` is bit `250 - d` of the key (counting from the least significant bit), so the most
//! significant bit picks the root's child and numeric key order is left-to-right leaf order.

use starknet_types_core::felt::Felt;

/// Height of every Starknet trie: keys have this many bits and leaves sit at this depth.
pub const TRIE_HEIGHT: usize = 251;

/// A key below 2^251 as a 256-bit unsigned integer in two halves. The derived order compares
/// `high` first, so it is numeric order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) struct Key {
    high: u128,
    low: u128,
}

impl Key {
    pub(crate) const ZERO: Key = Key { high: 0, low: 0 };

    /// Converts a felt to a key, or returns `None` when the felt is 2^251 or more and so has no
    /// leaf position in a trie of height 251.
    pub(crate) fn from_felt(felt: &Felt) -> Option<Key> {
        let key = Key::from_bytes(&felt.to_bytes_be());
        let unused_high_bits = 256 - TRIE_HEIGHT as u32;
        (key.high.leading_zeros() >= unused_high_bits).then_some(key)
    }

    pub(crate) fn to_felt(self) -> Felt {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(&self.high.to_be_bytes());
        bytes[16..].copy_from_slice(&self.low.to_be_bytes());
        Felt::from_bytes_be(&bytes)
    }

    fn from_bytes(bytes: &[u8; 32]) -> Key {
        let mut high = [0u8; 16];
        let mut low = [0u8; 16];
        high.copy_from_slice(&bytes[..16]);
        low.copy_from_slice(&bytes[16..]);
        Key {
            high: u128::from_be_bytes(high),
            low: u128::from_be_bytes(low),
        }
    }

    /// Returns the step taken at `depth` (`true` is the right child). `depth` must be below 251.
    pub(crate) fn bit(self, depth: usize) -> bool {
        debug_assert!(depth < TRIE_HEIGHT);
        let position = (TRIE_HEIGHT - 1 - depth) as u32;
        let bit = if position >= 128 {
            self.high >> (position - 128)
        } else {
            self.low >> position
        };
        bit & 1 == 1
    }

    /// Returns the depth of the first step where the two keys part, or [`TRIE_HEIGHT`] for equal
    /// keys.
    pub(crate) fn first_difference(self, other: Key) -> usize {
        let high = self.high ^ other.high;
        let low = self.low ^ other.low;
        let leading_zeros = if high != 0 {
            high.leading_zeros()
        } else if low != 0 {
            128 + low.leading_zeros()
        } else {
            return TRIE_HEIGHT;
        };
        leading_zeros as usize - (256 - TRIE_HEIGHT)
    }

    /// Returns the `length` steps starting at `depth` as an integer, first step most
    /// significant: the `path` of an edge node that starts at `depth` and follows this key.
    pub(crate) fn path(self, depth: usize, length: usize) -> Felt {
        debug_assert!(depth + length <= TRIE_HEIGHT);
        let shifted = self.shift_right((TRIE_HEIGHT - depth - length) as u32);
        shifted.and(Key::low_bits(length as u32)).to_felt()
    }

    /// Returns a key that keeps this key's steps above `depth`, takes the next `length` steps
    /// from `path` and has zeros below. `path` must be below 2^`length`.
    pub(crate) fn with_path(self, depth: usize, length: usize, path: &Felt) -> Key {
        debug_assert!(depth + length <= TRIE_HEIGHT);
        let prefix = self.and(Key::low_bits((TRIE_HEIGHT - depth) as u32).not());
        let path = Key::from_bytes(&path.to_bytes_be()).and(Key::low_bits(length as u32));
        prefix.or(path.shift_left((TRIE_HEIGHT - depth - length) as u32))
    }

    /// Returns a key that keeps this key's steps above `depth`, takes `bit` at `depth` and has
    /// zeros below.
    pub(crate) fn with_bit(self, depth: usize, bit: bool) -> Key {
        self.with_path(depth, 1, &Felt::from(u8::from(bit)))
    }

    /// Returns a mask of the `count` least significant bits, `count` at most 256.
    fn low_bits(count: u32) -> Key {
        match count {
            0 => Key::ZERO,
            1..=127 => Key {
                high: 0,
                low: u128::MAX >> (128 - count),
            },
            128 => Key {
                high: 0,
                low: u128::MAX,
            },
            _ => Key {
                high: u128::MAX >> (256 - count),
                low: u128::MAX,
            },
        }
    }

    fn shift_right(self, shift: u32) -> Key {
        match shift {
            0 => self,
            1..=127 => Key {
                high: self.high >> shift,
                low: (self.low >> shift) | (self.high << (128 - shift)),
            },
            128..=255 => Key {
                high: 0,
                low: self.high >> (shift - 128),
            },
            _ => Key::ZERO,
        }
    }

    fn shift_left(self, shift: u32) -> Key {
        match shift {
            0 => self,
            1..=127 => Key {
                high: (self.high << shift) | (self.low >> (128 - shift)),
                low: self.low << shift,
            },
            128..=255 => Key {
                high: self.low << (shift - 128),
                low: 0,
            },
            _ => Key::ZERO,
        }
    }

    fn and(self, other: Key) -> Key {
        Key {
            high: self.high & other.high,
            low: self.low & other.low,
        }
    }

    fn or(self, other: Key) -> Key {
        Key {
            high: self.high | other.high,
            low: self.low | other.low,
        }
    }

    fn not(self) -> Key {
        Key {
            high: !self.high,
            low: !self.low,
        }
    }
}
