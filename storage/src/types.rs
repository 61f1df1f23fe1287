//! Identifier newtypes of the chain model: one type per Starknet noun, so that a class
//! hash cannot be passed where a contract address is expected.

use std::fmt;

use serde::{Deserialize, Serialize};
use starknet_types_core::felt::Felt;

/// Declares a newtype over [`Felt`] with the conversions every identifier needs.
macro_rules! felt_newtype {
    ($(#[$attr:meta])* $name:ident) => {
        $(#[$attr])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Felt);

        impl $name {
            pub const ZERO: Self = Self(Felt::ZERO);

            pub fn to_bytes_be(&self) -> [u8; 32] {
                self.0.to_bytes_be()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:#x})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:#x}", self.0)
            }
        }

        impl From<Felt> for $name {
            fn from(value: Felt) -> Self {
                Self(value)
            }
        }

        impl From<$name> for Felt {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

felt_newtype!(
    /// Hash of a block header.
    BlockHash
);
felt_newtype!(
    /// Hash of a transaction, unique across the chain.
    TransactionHash
);
felt_newtype!(
    /// Hash of a Cairo 0 or Sierra class definition.
    ClassHash
);
felt_newtype!(
    /// Hash of the CASM compiled from a Sierra class.
    CompiledClassHash
);
felt_newtype!(
    /// Address of a deployed contract.
    ContractAddress
);
felt_newtype!(
    /// Key of a slot in a contract's storage.
    StorageKey
);
felt_newtype!(
    /// Chain identifier used in transaction hashes, such as `SN_MAIN` or `SN_SEPOLIA`.
    ChainId
);

impl ChainId {
    /// `SN_MAIN` as a short string.
    pub const MAINNET: Self = Self(Felt::from_hex_unwrap("0x534e5f4d41494e"));
    /// `SN_SEPOLIA` as a short string.
    pub const SEPOLIA: Self = Self(Felt::from_hex_unwrap("0x534e5f5345504f4c4941"));

    /// Decodes the short string, such as `SN_SEPOLIA`, or returns the hex form when
    /// the value is not printable ASCII.
    pub fn as_short_string(&self) -> String {
        let bytes = self.0.to_bytes_be();
        let text: Vec<u8> = bytes
            .iter()
            .copied()
            .skip_while(|byte| *byte == 0)
            .collect();
        if !text.is_empty() && text.iter().all(|byte| byte.is_ascii_graphic()) {
            String::from_utf8(text).unwrap_or_else(|_| self.to_string())
        } else {
            self.to_string()
        }
    }
}

/// Height of a block; the genesis block is 0.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct BlockNumber(pub u64);

impl BlockNumber {
    pub const GENESIS: Self = Self(0);

    pub fn get(self) -> u64 {
        self.0
    }

    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }

    pub fn parent(self) -> Option<Self> {
        self.0.checked_sub(1).map(Self)
    }
}

impl fmt::Display for BlockNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_id_short_strings() {
        assert_eq!(ChainId::MAINNET.as_short_string(), "SN_MAIN");
        assert_eq!(ChainId::SEPOLIA.as_short_string(), "SN_SEPOLIA");
        assert_eq!(ChainId(Felt::from(1u8)).as_short_string(), "0x1");
    }

    #[test]
    fn newtypes_display_as_lowercase_hex() {
        let hash = BlockHash(Felt::from_hex_unwrap("0x0ABC"));
        assert_eq!(hash.to_string(), "0xabc");
        assert_eq!(format!("{hash:?}"), "BlockHash(0xabc)");
    }
}
