//! Errors of the storage layer.

use std::path::PathBuf;

use crate::types::{BlockHash, BlockNumber, ChainId};

/// Why a storage operation failed. Every variant except [`StorageError::Rocks`] and
/// [`StorageError::Corrupt`] is a caller mistake that leaves the database untouched.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),

    #[error("database at {path} is in use by another process (a running node holds its lock)")]
    Locked { path: PathBuf },

    #[error("database at {path} has schema version {found}, this build reads version {expected}")]
    SchemaMismatch {
        path: PathBuf,
        found: u32,
        expected: u32,
    },

    #[error(
        "database at {path} belongs to chain {stored}, not {requested}; \
         use another --db-path or the matching --network"
    )]
    ChainMismatch {
        path: PathBuf,
        stored: String,
        requested: String,
    },

    #[error("no database at {path}")]
    NotFound { path: PathBuf },

    #[error("block {got} cannot be committed: the next block is {expected}")]
    NotNextBlock {
        expected: BlockNumber,
        got: BlockNumber,
    },

    #[error("block {number} has parent hash {parent_hash}, but the stored head is {head_hash}")]
    ParentMismatch {
        number: BlockNumber,
        parent_hash: BlockHash,
        head_hash: BlockHash,
    },

    #[error("block {number} has {transactions} transactions but {receipts} receipts")]
    ReceiptCountMismatch {
        number: BlockNumber,
        transactions: usize,
        receipts: usize,
    },

    #[error(
        "state commitment of block {number} was computed on block {computed_on:?}, not on the head"
    )]
    StaleCommitment {
        number: BlockNumber,
        computed_on: Option<BlockNumber>,
    },

    #[error("cannot revert: the database has no blocks")]
    EmptyChain,

    #[error("cannot revert to block {target}: the head is {head:?}")]
    RevertTargetAboveHead {
        target: BlockNumber,
        head: Option<BlockNumber>,
    },

    #[error(
        "reverting from head {head} to block {target} exceeds the limit of {max_depth} blocks"
    )]
    RevertTooDeep {
        head: BlockNumber,
        target: BlockNumber,
        max_depth: u64,
    },

    #[error("the block writer was already taken; the node has a single writer")]
    WriterTaken,

    #[error("the database was opened read-only")]
    ReadOnly,

    #[error("stored data is corrupt: {0}")]
    Corrupt(String),

    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl StorageError {
    pub(crate) fn chain_mismatch(path: PathBuf, stored: ChainId, requested: ChainId) -> Self {
        Self::ChainMismatch {
            path,
            stored: stored.as_short_string(),
            requested: requested.as_short_string(),
        }
    }
}

pub type StorageResult<T> = Result<T, StorageError>;
