//! Blocks removed by recent reverts, kept in memory so that a reader that saw some of
//! them can find where its view of the chain left the stored chain.
//!
//! A WebSocket subscription remembers only the last block it sent. After a revert it
//! calls [`Storage::divergence`] to find which of the blocks it sent are gone. The walk
//! goes down from that block through the parent hashes of reverted blocks recorded here
//! until it meets a block that is still stored.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::db::Storage;
use crate::error::StorageResult;
use crate::types::{BlockHash, BlockNumber};

/// Reverted blocks remembered. An entry costs about 100 bytes, so the log stays under
/// 2 MiB, and it covers 256 reorgs at the default sync limit of 64 blocks each.
const ORPHAN_LOG_CAPACITY: usize = 16_384;

/// The recent reverted blocks and the lock that keeps a multi-block revert whole for
/// readers of the log.
#[derive(Debug, Default)]
pub(crate) struct Orphans {
    log: Mutex<OrphanLog>,
    /// Held for writing while a range of blocks is reverted, and for reading by
    /// [`Storage::divergence`], so that a reader never sees half of a reorg.
    revert_lock: RwLock<()>,
}

#[derive(Debug, Default)]
struct OrphanLog {
    /// Parent hash of each reverted block, by number and hash.
    parents: HashMap<(BlockNumber, BlockHash), BlockHash>,
    /// Insertion order, oldest first, for eviction.
    order: VecDeque<(BlockNumber, BlockHash)>,
}

impl Orphans {
    pub(crate) fn record(&self, number: BlockNumber, hash: BlockHash, parent: BlockHash) {
        // The log is plain data updated in place by one statement at a time, so a panic
        // elsewhere cannot leave it inconsistent.
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.parents.insert((number, hash), parent).is_none() {
            log.order.push_back((number, hash));
        }
        while log.order.len() > ORPHAN_LOG_CAPACITY {
            if let Some(oldest) = log.order.pop_front() {
                log.parents.remove(&oldest);
            }
        }
    }

    fn parent(&self, number: BlockNumber, hash: BlockHash) -> Option<BlockHash> {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.parents.get(&(number, hash)).copied()
    }

    pub(crate) fn lock_for_revert(&self) -> RwLockWriteGuard<'_, ()> {
        self.revert_lock
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_for_read(&self) -> RwLockReadGuard<'_, ()> {
        self.revert_lock
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The position of a reader's view of the chain, ending at one block, relative to the
/// stored chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainView {
    /// The block is stored, so every block below it in the view is too.
    OnChain,
    /// Blocks `first` to `last` of the view were reverted; `first`'s parent is stored.
    Reverted {
        first: (BlockNumber, BlockHash),
        last: (BlockNumber, BlockHash),
    },
    /// Blocks `first` to `last` of the view were reverted, and so was at least the
    /// parent of `first`, which the log no longer remembers.
    RevertedBeyondLog {
        first: (BlockNumber, BlockHash),
        last: (BlockNumber, BlockHash),
    },
}

impl Storage {
    /// Compares a view of the chain that ends at block `number` with hash `hash` with
    /// the stored chain. It waits while a revert is in progress, so that the result
    /// covers the whole reorg.
    pub fn divergence(&self, number: BlockNumber, hash: BlockHash) -> StorageResult<ChainView> {
        let orphans = &self.inner.orphans;
        let _whole_reorgs = orphans.lock_for_read();
        let last = (number, hash);
        let mut first = None;
        let mut current = last;
        loop {
            let stored = self.header(current.0)?.map(|header| header.hash);
            if stored == Some(current.1) {
                break;
            }
            first = Some(current);
            let Some(parent_number) = current.0.parent() else {
                break;
            };
            match orphans.parent(current.0, current.1) {
                Some(parent_hash) => current = (parent_number, parent_hash),
                None => {
                    return Ok(ChainView::RevertedBeyondLog {
                        first: current,
                        last,
                    })
                }
            }
        }
        Ok(match first {
            None => ChainView::OnChain,
            Some(first) => ChainView::Reverted { first, last },
        })
    }
}
