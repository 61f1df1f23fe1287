//! Reads of committed data. A read returns data of whole blocks only, because a block's
//! data and the head pointer are written in one batch.

use rocksdb::{Direction, IteratorMode, ReadOptions};
use starknet_types_core::felt::Felt;

use crate::block::BlockHeader;
use crate::codec::{decode, decompress, felt_from_bytes};
use crate::db::Storage;
use crate::error::{StorageError, StorageResult};
use crate::receipt::Receipt;
use crate::schema::{self, MetaKey, StoredClassInfo};
use crate::state::StateDiff;
use crate::transaction::Transaction;
use crate::types::{
    BlockHash, BlockNumber, ClassHash, ContractAddress, StorageKey, TransactionHash,
};

/// Position of a transaction in the chain: block number and index in the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransactionLocation {
    pub block_number: BlockNumber,
    pub index: u32,
}

impl Storage {
    /// Number and hash of the newest committed block, or `None` for an empty database.
    pub fn head(&self) -> StorageResult<Option<(BlockNumber, BlockHash)>> {
        let Some(bytes) = self
            .inner
            .db
            .get_pinned_cf(self.cf(schema::META), MetaKey::Head.as_bytes())?
        else {
            return Ok(None);
        };
        if bytes.len() != 40 {
            return Err(StorageError::Corrupt(format!(
                "head pointer is {} bytes, not 40",
                bytes.len()
            )));
        }
        let number = schema::decode_block_number(&bytes[..8])
            .ok_or_else(|| StorageError::Corrupt("head block number".into()))?;
        let hash = felt_from_bytes(&bytes[8..], "head hash")?;
        Ok(Some((number, BlockHash(hash))))
    }

    pub fn header(&self, number: BlockNumber) -> StorageResult<Option<BlockHeader>> {
        self.inner
            .db
            .get_pinned_cf(self.cf(schema::HEADERS), schema::block_key(number))?
            .map(|bytes| decode(&bytes, "block header"))
            .transpose()
    }

    pub fn block_number_by_hash(&self, hash: BlockHash) -> StorageResult<Option<BlockNumber>> {
        let Some(bytes) = self
            .inner
            .db
            .get_pinned_cf(self.cf(schema::BLOCK_HASHES), hash.to_bytes_be())?
        else {
            return Ok(None);
        };
        schema::decode_block_number(&bytes)
            .map(Some)
            .ok_or_else(|| StorageError::Corrupt("block hash index value".into()))
    }

    pub fn header_by_hash(&self, hash: BlockHash) -> StorageResult<Option<BlockHeader>> {
        match self.block_number_by_hash(hash)? {
            Some(number) => self.header(number),
            None => Ok(None),
        }
    }

    /// Reads all transactions of a block, in block order.
    pub fn transactions(&self, number: BlockNumber) -> StorageResult<Vec<Transaction>> {
        self.block_values(schema::TRANSACTIONS, number, "transaction")
    }

    /// Reads all receipts of a block, in block order.
    pub fn receipts(&self, number: BlockNumber) -> StorageResult<Vec<Receipt>> {
        self.block_values(schema::RECEIPTS, number, "receipt")
    }

    pub fn transaction_location(
        &self,
        hash: TransactionHash,
    ) -> StorageResult<Option<TransactionLocation>> {
        let Some(bytes) = self
            .inner
            .db
            .get_pinned_cf(self.cf(schema::TRANSACTION_HASHES), hash.to_bytes_be())?
        else {
            return Ok(None);
        };
        let (block_number, index) = schema::decode_transaction_key(&bytes)
            .ok_or_else(|| StorageError::Corrupt("transaction hash index value".into()))?;
        Ok(Some(TransactionLocation {
            block_number,
            index,
        }))
    }

    pub fn transaction(
        &self,
        location: TransactionLocation,
    ) -> StorageResult<Option<(Transaction, Receipt)>> {
        let key = schema::transaction_key(location.block_number, location.index);
        let db = &self.inner.db;
        let Some(transaction) = db.get_pinned_cf(self.cf(schema::TRANSACTIONS), key)? else {
            return Ok(None);
        };
        let receipt = db
            .get_pinned_cf(self.cf(schema::RECEIPTS), key)?
            .ok_or_else(|| StorageError::Corrupt(format!("missing receipt at {location:?}")))?;
        Ok(Some((
            decode(&transaction, "transaction")?,
            decode(&receipt, "receipt")?,
        )))
    }

    pub fn state_diff(&self, number: BlockNumber) -> StorageResult<Option<StateDiff>> {
        self.inner
            .db
            .get_pinned_cf(self.cf(schema::STATE_DIFFS), schema::block_key(number))?
            .map(|bytes| decode(&bytes, "state diff"))
            .transpose()
    }

    /// Value of a storage slot after block `at`; zero if never written. One seek.
    pub fn storage_at(
        &self,
        address: ContractAddress,
        key: StorageKey,
        at: BlockNumber,
    ) -> StorageResult<Felt> {
        let seek = schema::storage_history_key(address, key, at);
        let value = self.newest_at_or_before(schema::STORAGE_HISTORY, &seek, 64)?;
        value
            .map(|bytes| felt_from_bytes(&bytes, "storage value"))
            .transpose()
            .map(|value| value.unwrap_or(Felt::ZERO))
    }

    /// Nonce of a contract after block `at`; `None` if the contract never had one. One seek.
    pub fn nonce_at(
        &self,
        address: ContractAddress,
        at: BlockNumber,
    ) -> StorageResult<Option<Felt>> {
        let seek = schema::contract_history_key(address, at);
        self.newest_at_or_before(schema::NONCE_HISTORY, &seek, 32)?
            .map(|bytes| felt_from_bytes(&bytes, "nonce"))
            .transpose()
    }

    /// Class of the contract at `address` after block `at`; `None` if it was not
    /// deployed by then. One seek.
    pub fn class_hash_at(
        &self,
        address: ContractAddress,
        at: BlockNumber,
    ) -> StorageResult<Option<ClassHash>> {
        let seek = schema::contract_history_key(address, at);
        self.newest_at_or_before(schema::CONTRACT_CLASS_HISTORY, &seek, 32)?
            .map(|bytes| felt_from_bytes(&bytes, "class hash").map(ClassHash))
            .transpose()
    }

    pub fn class_info(&self, hash: ClassHash) -> StorageResult<Option<StoredClassInfo>> {
        self.inner
            .db
            .get_pinned_cf(self.cf(schema::CLASSES), hash.to_bytes_be())?
            .map(|bytes| decode(&bytes, "class info"))
            .transpose()
    }

    pub fn has_class(&self, hash: ClassHash) -> StorageResult<bool> {
        Ok(self.class_info(hash)?.is_some())
    }

    /// Reads the class definition JSON as the gateway served it.
    pub fn class_definition(&self, hash: ClassHash) -> StorageResult<Option<Vec<u8>>> {
        self.inner
            .db
            .get_pinned_cf(self.cf(schema::CLASS_DEFINITIONS), hash.to_bytes_be())?
            .map(|bytes| decompress(&bytes, "class definition"))
            .transpose()
    }

    /// Reads the CASM JSON of a Sierra class.
    pub fn compiled_class(&self, hash: ClassHash) -> StorageResult<Option<Vec<u8>>> {
        self.inner
            .db
            .get_pinned_cf(self.cf(schema::COMPILED_CLASSES), hash.to_bytes_be())?
            .map(|bytes| decompress(&bytes, "compiled class"))
            .transpose()
    }

    /// Reads every value of `cf` whose key starts with the block number.
    fn block_values<T: serde::de::DeserializeOwned>(
        &self,
        cf: &str,
        number: BlockNumber,
        what: &str,
    ) -> StorageResult<Vec<T>> {
        let prefix = schema::block_key(number);
        let mut options = ReadOptions::default();
        options.set_iterate_lower_bound(schema::transaction_key(number, 0).to_vec());
        options.set_iterate_upper_bound(schema::block_key(number.next()).to_vec());
        let iterator = self.inner.db.iterator_cf_opt(
            self.cf(cf),
            options,
            IteratorMode::From(&prefix, Direction::Forward),
        );

        let mut values = Vec::new();
        for item in iterator {
            let (_, value) = item?;
            values.push(decode(&value, what)?);
        }
        Ok(values)
    }

    /// Seeks to `seek` and returns the value of the first key that shares its first
    /// `prefix_len` bytes: with inverted block numbers, the newest entry at or before
    /// the block encoded in `seek`.
    pub(crate) fn newest_at_or_before(
        &self,
        cf: &str,
        seek: &[u8],
        prefix_len: usize,
    ) -> StorageResult<Option<Box<[u8]>>> {
        let mut options = ReadOptions::default();
        options.set_iterate_upper_bound(prefix_upper_bound(&seek[..prefix_len]));
        let mut iterator = self.inner.db.iterator_cf_opt(
            self.cf(cf),
            options,
            IteratorMode::From(seek, Direction::Forward),
        );
        match iterator.next() {
            Some(item) => {
                let (key, value) = item?;
                Ok(key.starts_with(&seek[..prefix_len]).then_some(value))
            }
            None => Ok(None),
        }
    }
}

/// The smallest key greater than every key that starts with `prefix`. All prefixes used
/// here are addresses below the field prime, so the increment never overflows.
fn prefix_upper_bound(prefix: &[u8]) -> Vec<u8> {
    let mut bound = prefix.to_vec();
    for byte in bound.iter_mut().rev() {
        if *byte == u8::MAX {
            *byte = 0;
        } else {
            *byte += 1;
            return bound;
        }
    }
    // Only reachable for an all-0xff prefix: no bound is needed then.
    vec![u8::MAX; prefix.len() + 1]
}
