//! Events the writer publishes after each durable change of the chain.

use std::sync::Arc;

use crate::block::BlockHeader;
use crate::types::BlockNumber;

/// A change of the stored chain, sent only after the change is durably written.
#[derive(Clone, Debug)]
pub enum ChainEvent {
    /// A block was committed and is now the head.
    Committed(Arc<BlockHeader>),
    /// Blocks `first` to `last` (inclusive) were removed; `first - 1` is the head now,
    /// or the database is empty if `first` is block 0.
    Reverted {
        first: BlockNumber,
        last: BlockNumber,
    },
}
