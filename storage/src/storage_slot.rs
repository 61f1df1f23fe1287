//! Storage-slot reads that also return the block of the slot's last write.

use rocksdb::{Direction, IteratorMode, ReadOptions};
use starknet_types_core::felt::Felt;

use crate::codec::felt_from_bytes;
use crate::db::Storage;
use crate::error::{StorageError, StorageResult};
use crate::schema;
use crate::types::{BlockNumber, ContractAddress, StorageKey};

impl Storage {
    /// Reads the value of a storage slot after block `at` with the number of the block
    /// that last wrote it. Returns `None` when no block up to `at` wrote the slot. One seek, like
    /// [`Storage::storage_at`].
    pub fn storage_at_with_block(
        &self,
        address: ContractAddress,
        key: StorageKey,
        at: BlockNumber,
    ) -> StorageResult<Option<(Felt, BlockNumber)>> {
        let seek = schema::storage_history_key(address, key, at);
        let prefix = &seek[..64];
        // The slot's oldest possible entry is block 0, whose inverted number is all ones.
        // One more byte makes a bound above every key of the slot and below the next slot.
        let mut upper_bound = schema::storage_history_key(address, key, BlockNumber(0)).to_vec();
        upper_bound.push(0);

        let mut options = ReadOptions::default();
        options.set_iterate_upper_bound(upper_bound);
        let mut iterator = self.inner.db.iterator_cf_opt(
            self.cf(schema::STORAGE_HISTORY),
            options,
            IteratorMode::From(&seek, Direction::Forward),
        );
        let Some(item) = iterator.next() else {
            return Ok(None);
        };
        let (found_key, value) = item?;
        if !found_key.starts_with(prefix) {
            return Ok(None);
        }

        let block = schema::history_key_block(&found_key)
            .ok_or_else(|| StorageError::Corrupt("storage history key is too short".into()))?;
        Ok(Some((felt_from_bytes(&value, "storage value")?, block)))
    }
}
