//! Committed blocks in order, for subscriptions: a replay from storage that turns into
//! live blocks without a gap or a duplicate at the seam.

use starling_storage::{BlockHeader, BlockNumber, ChainEvent, Storage, StorageError};
use tokio::sync::broadcast::{self, error::RecvError};

/// Yields the header of every committed block from a start block on, in order.
///
/// [`BlockFeed::subscribe`] takes a commit-event receiver before it reads the head. A
/// block committed in between is then both below the head it read and in the channel,
/// and the feed, which only counts forward from `next`, yields it once. When the
/// receiver lags behind the channel, the feed reads the new head from storage and
/// catches up from there, so a slow consumer delays blocks but never loses one.
#[derive(Debug)]
pub struct BlockFeed {
    storage: Storage,
    events: broadcast::Receiver<ChainEvent>,
    /// The next block to yield.
    next: BlockNumber,
    /// The newest block known to be committed; `None` before the first block.
    newest: Option<BlockNumber>,
    /// The head read at subscription time.
    head: Option<BlockNumber>,
}

impl BlockFeed {
    /// Subscribes to commits and reads the head. The feed starts after the head until
    /// [`BlockFeed::start_at`] moves it back.
    pub fn subscribe(storage: &Storage) -> Result<Self, StorageError> {
        let events = storage.subscribe();
        let head = storage.head()?.map(|(number, _)| number);
        Ok(Self {
            storage: storage.clone(),
            events,
            next: head.map_or(BlockNumber::GENESIS, BlockNumber::next),
            newest: head,
            head,
        })
    }

    /// Head block when the feed subscribed.
    pub fn head(&self) -> Option<BlockNumber> {
        self.head
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Makes `number` the first block the feed yields.
    pub fn start_at(mut self, number: BlockNumber) -> Self {
        self.next = number;
        self
    }

    /// Waits until the next block is committed and returns its header. `None` means
    /// that the commit channel closed, because the node is shutting down.
    pub async fn next_header(&mut self) -> Result<Option<BlockHeader>, StorageError> {
        loop {
            if self.newest.is_some_and(|newest| newest >= self.next) {
                if let Some(header) = self.storage.header(self.next)? {
                    self.next = self.next.next();
                    return Ok(Some(header));
                }
                // The head moved back below `next`: wait for the block to be committed.
                self.newest = self.next.parent();
            }

            match self.events.recv().await {
                Ok(ChainEvent::Committed(header)) => {
                    self.newest = self.newest.max(Some(header.number));
                }
                // TODO: tell the consumer about the reorg; for now the feed only stops
                // counting reverted blocks as committed.
                Ok(ChainEvent::Reverted { .. }) => {
                    self.newest = self.storage.head()?.map(|(number, _)| number);
                }
                Err(RecvError::Lagged(skipped)) => {
                    tracing::debug!(target: "rpc::ws", skipped, next_block = %self.next, "subscription lagged behind commits, reading from storage");
                    let head = self.storage.head()?.map(|(number, _)| number);
                    self.newest = self.newest.max(head);
                }
                Err(RecvError::Closed) => return Ok(None),
            }
        }
    }
}
