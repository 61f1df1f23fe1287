//! Starling's storage: the chain model, the RocksDB schema, the single block writer and
//! the commit-event channel.
//!
//! Start with [`Storage::open`], take the one [`BlockWriter`] with [`Storage::writer`],
//! and read through [`Storage`] from any thread. [`schema`] lists every column family.

mod block;
mod class;
mod codec;
mod commitment;
mod consistency;
mod db;
mod error;
mod event_filter;
mod events;
mod orphans;
mod pre_confirmed;
mod proofs;
mod reader;
mod receipt;
mod revert;
pub mod schema;
mod state;
mod storage_slot;
mod sync_status;
mod transaction;
pub mod trie;
mod types;
mod writer;

pub use block::{BlockHeader, BlockStatus, GasPrices, L1DataAvailabilityMode};
pub use class::{ClassDefinition, ClassKind};
pub use commitment::{StateCommitmentUpdate, StateRoots};
pub use db::{ChainInfo, Storage};
pub use error::{StorageError, StorageResult};
pub use event_filter::{BlockEventFilter, EventQuery};
pub use events::ChainEvent;
pub use orphans::ChainView;
pub use pre_confirmed::{
    merge_state_diffs, PreConfirmedBlock, PreConfirmedHandle, PreConfirmedTransaction,
};
pub use reader::TransactionLocation;
pub use receipt::{
    BuiltinCounters, Event, ExecutionResources, ExecutionStatus, GasVector, L1ToL2Message,
    L2ToL1Message, Receipt,
};
pub use revert::RevertedBlock;
pub use state::{
    ContractStorageDiff, DeclaredClass, DeployedContract, NonceUpdate, StateDiff, StorageEntry,
};
pub use sync_status::{HighestBlock, SyncProgress, SyncStatus};
pub use transaction::*;
pub use types::{
    BlockHash, BlockNumber, ChainId, ClassHash, CompiledClassHash, ContractAddress, StorageKey,
    TransactionHash,
};
pub use writer::{BlockCommit, BlockWriter};

pub use starknet_types_core::felt::Felt;
