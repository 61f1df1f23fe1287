//! Every RocksDB column family, with its key and value encoding.
//!
//! Integers in keys are big-endian so that RocksDB's byte order is numeric order.
//! History keys end in the *inverted* block number (`u64::MAX - n`), so a forward seek
//! to `prefix ‖ inverted(N)` lands on the newest entry at or before block N: reading
//! any historical value is one seek.
//!
//! | column family | key | value |
//! | --- | --- | --- |
//! | `meta` | name (ASCII) | see [`MetaKey`] |
//! | `headers` | block number (8) | bincode [`BlockHeader`](crate::BlockHeader) |
//! | `block_hashes` | block hash (32) | block number (8) |
//! | `transactions` | block number (8) ‖ index (4) | bincode [`Transaction`](crate::Transaction) |
//! | `receipts` | block number (8) ‖ index (4) | bincode [`Receipt`](crate::Receipt) |
//! | `transaction_hashes` | transaction hash (32) | block number (8) ‖ index (4) |
//! | `state_diffs` | block number (8) | bincode [`StateDiff`](crate::StateDiff) |
//! | `classes` | class hash (32) | bincode [`StoredClassInfo`] |
//! | `class_definitions` | class hash (32) | zstd of the gateway's JSON |
//! | `compiled_classes` | class hash (32) | zstd of the CASM JSON |
//! | `contract_class_history` | address (32) ‖ inverted block (8) | class hash (32) |
//! | `nonce_history` | address (32) ‖ inverted block (8) | nonce (32) |
//! | `storage_history` | address (32) ‖ key (32) ‖ inverted block (8) | value (32) |
//! | `contract_storage_roots` | address (32) ‖ inverted block (8) | storage-trie root (32) |
//! | `state_roots` | block number (8) | contracts-trie root (32) ‖ classes-trie root (32) |
//! | `pedersen_trie_nodes` | node hash (32) | [`Node::encode`](crate::trie::Node::encode) of a storage-trie or contracts-trie node |
//! | `poseidon_trie_nodes` | node hash (32) | [`Node::encode`](crate::trie::Node::encode) of a classes-trie node |
//! | `event_filters` | block number (8) | [`BlockEventFilter::encode`](crate::BlockEventFilter::encode) of the block's events |
//!
//! Trie nodes are content-addressed and never overwritten, so the tries of every stored
//! block stay readable (for storage proofs) and reverting a block only needs its parent's
//! roots.

use serde::{Deserialize, Serialize};

use crate::class::ClassKind;
use crate::types::{BlockNumber, ContractAddress, StorageKey};

pub const META: &str = "meta";
pub const HEADERS: &str = "headers";
pub const BLOCK_HASHES: &str = "block_hashes";
pub const TRANSACTIONS: &str = "transactions";
pub const RECEIPTS: &str = "receipts";
pub const TRANSACTION_HASHES: &str = "transaction_hashes";
pub const STATE_DIFFS: &str = "state_diffs";
pub const CLASSES: &str = "classes";
pub const CLASS_DEFINITIONS: &str = "class_definitions";
pub const COMPILED_CLASSES: &str = "compiled_classes";
pub const CONTRACT_CLASS_HISTORY: &str = "contract_class_history";
pub const NONCE_HISTORY: &str = "nonce_history";
pub const STORAGE_HISTORY: &str = "storage_history";
pub const CONTRACT_STORAGE_ROOTS: &str = "contract_storage_roots";
pub const STATE_ROOTS: &str = "state_roots";
pub const PEDERSEN_TRIE_NODES: &str = "pedersen_trie_nodes";
pub const POSEIDON_TRIE_NODES: &str = "poseidon_trie_nodes";
pub const EVENT_FILTERS: &str = "event_filters";

/// All column families, in the order they are opened.
pub const COLUMN_FAMILIES: &[&str] = &[
    META,
    HEADERS,
    BLOCK_HASHES,
    TRANSACTIONS,
    RECEIPTS,
    TRANSACTION_HASHES,
    STATE_DIFFS,
    CLASSES,
    CLASS_DEFINITIONS,
    COMPILED_CLASSES,
    CONTRACT_CLASS_HISTORY,
    NONCE_HISTORY,
    STORAGE_HISTORY,
    CONTRACT_STORAGE_ROOTS,
    STATE_ROOTS,
    PEDERSEN_TRIE_NODES,
    POSEIDON_TRIE_NODES,
    EVENT_FILTERS,
];

/// Version of the layout above. A database written with another version is rejected
/// at open instead of being misread.
pub const SCHEMA_VERSION: u32 = 1;

/// Keys of the `meta` column family.
#[derive(Debug, Clone, Copy)]
pub enum MetaKey {
    /// `u32` big-endian.
    SchemaVersion,
    /// Chain id felt (32 bytes).
    ChainId,
    /// Network name as UTF-8, such as `mainnet`.
    Network,
    /// Head block number (8) ‖ head block hash (32); absent while the database is empty.
    Head,
}

impl MetaKey {
    pub fn as_bytes(&self) -> &'static [u8] {
        match self {
            Self::SchemaVersion => b"schema_version",
            Self::ChainId => b"chain_id",
            Self::Network => b"network",
            Self::Head => b"head",
        }
    }
}

/// Value of the `classes` column family: what is known about a class without
/// decompressing its definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredClassInfo {
    pub kind: ClassKind,
    pub declared_at: BlockNumber,
}

pub fn block_key(number: BlockNumber) -> [u8; 8] {
    number.0.to_be_bytes()
}

pub fn decode_block_number(bytes: &[u8]) -> Option<BlockNumber> {
    let array: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    Some(BlockNumber(u64::from_be_bytes(array)))
}

pub fn transaction_key(number: BlockNumber, index: u32) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&number.0.to_be_bytes());
    key[8..].copy_from_slice(&index.to_be_bytes());
    key
}

pub fn decode_transaction_key(bytes: &[u8]) -> Option<(BlockNumber, u32)> {
    let number = decode_block_number(bytes)?;
    let index: [u8; 4] = bytes.get(8..12)?.try_into().ok()?;
    Some((number, u32::from_be_bytes(index)))
}

fn inverted(number: BlockNumber) -> [u8; 8] {
    (u64::MAX - number.0).to_be_bytes()
}

pub fn contract_history_key(address: ContractAddress, number: BlockNumber) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..32].copy_from_slice(&address.to_bytes_be());
    key[32..].copy_from_slice(&inverted(number));
    key
}

pub fn storage_history_key(
    address: ContractAddress,
    storage_key: StorageKey,
    number: BlockNumber,
) -> [u8; 72] {
    let mut key = [0u8; 72];
    key[..32].copy_from_slice(&address.to_bytes_be());
    key[32..64].copy_from_slice(&storage_key.to_bytes_be());
    key[64..].copy_from_slice(&inverted(number));
    key
}

/// Block number stored in the last 8 bytes of a history key.
pub fn history_key_block(key: &[u8]) -> Option<BlockNumber> {
    let start = key.len().checked_sub(8)?;
    let bytes: [u8; 8] = key[start..].try_into().ok()?;
    Some(BlockNumber(u64::MAX - u64::from_be_bytes(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use starknet_types_core::felt::Felt;

    #[test]
    fn history_keys_sort_newest_block_first() {
        let address = ContractAddress(Felt::from(7u8));
        let older = contract_history_key(address, BlockNumber(5));
        let newer = contract_history_key(address, BlockNumber(6));
        assert!(newer < older);
        assert_eq!(history_key_block(&older), Some(BlockNumber(5)));
    }

    #[test]
    fn storage_history_keys_group_by_address_then_key() {
        let address = ContractAddress(Felt::from(1u8));
        let low_key = storage_history_key(address, StorageKey(Felt::from(1u8)), BlockNumber(99));
        let high_key = storage_history_key(address, StorageKey(Felt::from(2u8)), BlockNumber(0));
        assert!(low_key < high_key);
        assert_eq!(history_key_block(&high_key), Some(BlockNumber(0)));
    }

    #[test]
    fn transaction_keys_round_trip() {
        let key = transaction_key(BlockNumber(258), 3);
        assert_eq!(decode_transaction_key(&key), Some((BlockNumber(258), 3)));
        assert!(transaction_key(BlockNumber(1), 500) < transaction_key(BlockNumber(2), 0));
    }
}
