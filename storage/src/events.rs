//! Events the writer publishes after each durable change of the chain.

use std::sync::Arc;

use crate::block::BlockHeader;

/// A change of the stored chain, sent only after the change is durably written.
#[derive(Clone, Debug)]
pub enum ChainEvent {
    /// A block was committed and is now the head.
    Committed(Arc<BlockHeader>),
}
