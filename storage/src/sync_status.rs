//! The sync loop's progress, shared with the RPC server for `starknet_syncing`.
//!
//! It lives in storage so that `rpc` can read what `sync` writes without depending on it.
//! The current block is not kept here: it is the stored head.

use std::sync::{Arc, PoisonError, RwLock};

use crate::types::{BlockHash, BlockNumber};

/// A handle to the shared progress; clones share one value. The sync loop updates it and
/// RPC handlers read it.
#[derive(Clone, Debug, Default)]
pub struct SyncStatus {
    progress: Arc<RwLock<SyncProgress>>,
    /// Blocks committed per second over the last status interval, kept apart from
    /// [`SyncProgress`] so that the latter stays `Eq`.
    blocks_per_second: Arc<RwLock<Option<f64>>>,
}

/// Progress reported by the sync loop so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncProgress {
    /// The stored head when this sync run started, or the first block it committed when
    /// the database was empty; `None` until one of them exists.
    pub starting_block: Option<(BlockNumber, BlockHash)>,
    /// The newest block the feeder gateway reported; `None` until the first successful
    /// request.
    pub highest_block: Option<HighestBlock>,
}

/// The newest block of the feeder gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HighestBlock {
    pub number: BlockNumber,
    /// `None` when the gateway request that reported the number did not return the hash.
    pub hash: Option<BlockHash>,
}

impl SyncStatus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the block this sync run starts from. Only the first call has an effect, so
    /// the sync loop can call it with every committed block until one sticks.
    pub fn set_starting_block(&self, number: BlockNumber, hash: BlockHash) {
        let mut progress = self.write();
        if progress.starting_block.is_none() {
            progress.starting_block = Some((number, hash));
        }
    }

    /// Records the newest block of the feeder gateway.
    pub fn set_highest_block(&self, number: BlockNumber, hash: Option<BlockHash>) {
        self.write().highest_block = Some(HighestBlock { number, hash });
    }

    /// Records the sync rate that the periodic status line reports.
    pub fn set_blocks_per_second(&self, rate: f64) {
        *self
            .blocks_per_second
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(rate);
    }

    /// Returns the last recorded sync rate; `None` before the first status line.
    pub fn blocks_per_second(&self) -> Option<f64> {
        *self
            .blocks_per_second
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns a copy of the current progress.
    pub fn progress(&self) -> SyncProgress {
        // The value is plain data that a writer replaces whole, so a panic while the lock
        // was held cannot leave it half-written.
        *self.progress.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, SyncProgress> {
        self.progress
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use starknet_types_core::felt::Felt;

    #[test]
    fn starting_block_is_set_once() {
        let status = SyncStatus::new();
        assert_eq!(status.progress(), SyncProgress::default());

        status.set_starting_block(BlockNumber(5), BlockHash(Felt::from(0x55u8)));
        status.set_starting_block(BlockNumber(6), BlockHash(Felt::from(0x66u8)));
        assert_eq!(
            status.progress().starting_block,
            Some((BlockNumber(5), BlockHash(Felt::from(0x55u8))))
        );
    }

    #[test]
    fn clones_share_blocks_per_second() {
        let status = SyncStatus::new();
        let reader = status.clone();
        assert_eq!(reader.blocks_per_second(), None);
        status.set_blocks_per_second(12.5);
        assert_eq!(reader.blocks_per_second(), Some(12.5));
    }

    #[test]
    fn clones_share_highest_block() {
        let status = SyncStatus::new();
        let reader = status.clone();
        status.set_highest_block(BlockNumber(9), None);
        status.set_highest_block(BlockNumber(10), Some(BlockHash(Felt::from(0xaau8))));
        assert_eq!(
            reader.progress().highest_block,
            Some(HighestBlock {
                number: BlockNumber(10),
                hash: Some(BlockHash(Felt::from(0xaau8))),
            })
        );
    }
}
