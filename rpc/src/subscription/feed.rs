//! Committed blocks in order, for subscriptions: a replay from storage that turns into
//! live blocks without a gap or a duplicate at the seam, and that reports reorgs.

use serde_json::{json, Value};
use starling_storage::{
    BlockHash, BlockHeader, BlockNumber, ChainEvent, ChainView, Storage, StorageError,
};
use tokio::sync::broadcast::{self, error::RecvError};

/// The next item of a [`BlockFeed`].
#[derive(Clone, Debug)]
pub enum FeedItem {
    /// The next block of the chain.
    Block(Box<BlockHeader>),
    /// Blocks the feed yielded (or started after) were reverted. The feed continues
    /// with the block that replaced `reorg.first`.
    Reorg(Reorg),
}

/// The range of a feed's blocks that a reorg removed: the first and the last of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reorg {
    pub first: (BlockNumber, BlockHash),
    pub last: (BlockNumber, BlockHash),
}

impl Reorg {
    /// Builds the specs' `REORG_DATA`.
    pub fn to_json(&self) -> Value {
        json!({
            "starting_block_hash": self.first.1,
            "starting_block_number": self.first.0.get(),
            "ending_block_hash": self.last.1,
            "ending_block_number": self.last.0.get(),
        })
    }
}

/// Yields the header of every committed block from a start block on, in order, and a
/// [`FeedItem::Reorg`] when blocks it already passed are reverted.
///
/// [`BlockFeed::subscribe`] takes a commit-event receiver before it reads the head. A
/// block committed in between is then both below the head it read and in the channel,
/// and the feed, which only counts forward from `next`, yields it once. When the
/// receiver lags behind the channel, the feed reads the new head from storage and
/// catches up from there, so a slow consumer delays blocks but never loses one.
///
/// The feed remembers the last block it passed. A revert event, a lag (which may have
/// hidden a revert event) or a stored block whose parent is not that block makes it ask
/// [`Storage::divergence`] whether that block is still stored. If it is not, the feed
/// yields one [`FeedItem::Reorg`] for the whole reverted range and continues from the
/// first reverted number. A reorg reported this way is never reported again, because
/// afterwards the remembered block is the stored common ancestor.
#[derive(Debug)]
pub struct BlockFeed {
    storage: Storage,
    events: broadcast::Receiver<ChainEvent>,
    /// The next block to yield.
    next: BlockNumber,
    /// The block before `next` as the feed recorded it: the last block yielded, or the
    /// block before the start. `None` before genesis.
    last: Option<(BlockNumber, BlockHash)>,
    /// The newest block known to be committed; `None` before the first block.
    newest: Option<BlockNumber>,
    /// The head read at subscription time.
    head: Option<(BlockNumber, BlockHash)>,
}

impl BlockFeed {
    /// Subscribes to commits and reads the head. The feed starts after the head until
    /// [`BlockFeed::start_at`] moves it back.
    pub fn subscribe(storage: &Storage) -> Result<Self, StorageError> {
        let events = storage.subscribe();
        let head = storage.head()?;
        Ok(Self {
            storage: storage.clone(),
            events,
            next: head.map_or(BlockNumber::GENESIS, |(number, _)| number.next()),
            last: head,
            newest: head.map(|(number, _)| number),
            head,
        })
    }

    /// Head block when the feed subscribed.
    pub fn head(&self) -> Option<BlockNumber> {
        self.head.map(|(number, _)| number)
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Returns the block before the next one the feed yields, as the feed recorded it;
    /// `None` before genesis.
    pub fn last(&self) -> Option<(BlockNumber, BlockHash)> {
        self.last
    }

    /// Makes `number`, at most the head plus one, the first block the feed yields.
    pub fn start_at(mut self, number: BlockNumber) -> Result<Self, StorageError> {
        self.last = match number.parent() {
            None => None,
            Some(parent) if Some(parent) == self.head() => self.head,
            Some(parent) => self
                .storage
                .header(parent)?
                .map(|header| (parent, header.hash)),
        };
        self.next = number;
        Ok(self)
    }

    /// Waits for the next item. `None` means that the commit channel closed, because
    /// the node is shutting down.
    pub async fn next_item(&mut self) -> Result<Option<FeedItem>, StorageError> {
        loop {
            if self.newest.is_some_and(|newest| newest >= self.next) {
                match self.storage.header(self.next)? {
                    Some(header) if self.links(&header) => {
                        self.next = self.next.next();
                        self.last = Some((header.number, header.hash));
                        return Ok(Some(FeedItem::Block(Box::new(header))));
                    }
                    // The stored block does not build on the feed's last block: the
                    // chain was reorganised and the revert event is still queued.
                    Some(header) => {
                        if let Some(reorg) = self.reconcile()? {
                            return Ok(Some(FeedItem::Reorg(reorg)));
                        }
                        // The last block is still stored, so block `next` must link to
                        // it now; if it still does not, the database is damaged.
                        if let Some(again) = self.storage.header(self.next)? {
                            if again.hash == header.hash && !self.links(&again) {
                                return Err(StorageError::Corrupt(format!(
                                    "block {} has parent hash {} but block {} is {}",
                                    header.number,
                                    header.parent_hash,
                                    self.next.parent().map_or(0, |parent| parent.get()),
                                    self.last.map_or(BlockHash::ZERO, |(_, hash)| hash),
                                )));
                            }
                        }
                    }
                    // The head moved back below `next`: wait for the block to be
                    // committed.
                    None => self.newest = self.next.parent(),
                }
                continue;
            }

            match self.events.recv().await {
                Ok(ChainEvent::Committed(header)) => {
                    self.newest = self.newest.max(Some(header.number));
                }
                Ok(ChainEvent::Reverted { .. }) => {
                    if let Some(reorg) = self.reconcile()? {
                        return Ok(Some(FeedItem::Reorg(reorg)));
                    }
                }
                Err(RecvError::Lagged(skipped)) => {
                    tracing::debug!(target: "rpc::ws", skipped, next_block = %self.next, "subscription lagged behind commits, reading from storage");
                    let head = self.storage.head()?.map(|(number, _)| number);
                    self.newest = self.newest.max(head);
                    if let Some(reorg) = self.reconcile()? {
                        return Ok(Some(FeedItem::Reorg(reorg)));
                    }
                }
                Err(RecvError::Closed) => return Ok(None),
            }
        }
    }

    /// Waits until the next block is committed and returns its header, skipping reorg
    /// reports, for consumers that only follow the current chain. `None` means that the
    /// node is shutting down.
    pub async fn next_header(&mut self) -> Result<Option<BlockHeader>, StorageError> {
        loop {
            match self.next_item().await? {
                Some(FeedItem::Block(header)) => return Ok(Some(*header)),
                Some(FeedItem::Reorg(_)) => {}
                None => return Ok(None),
            }
        }
    }

    fn links(&self, header: &BlockHeader) -> bool {
        match self.last {
            Some((_, hash)) => header.parent_hash == hash,
            None => true,
        }
    }

    /// Checks whether the feed's last block is still stored. If not, moves the feed
    /// back to the first reverted block and returns the reverted range.
    fn reconcile(&mut self) -> Result<Option<Reorg>, StorageError> {
        self.newest = self.storage.head()?.map(|(number, _)| number);
        let Some((number, hash)) = self.last else {
            return Ok(None);
        };
        let (first, last) = match self.storage.divergence(number, hash)? {
            ChainView::OnChain => return Ok(None),
            ChainView::Reverted { first, last } => (first, last),
            ChainView::RevertedBeyondLog { first, last } => {
                // The feed cannot tell which stored blocks below `first` replaced blocks
                // it passed; it reports the part it can name and resumes at `first`.
                tracing::warn!(target: "rpc::ws", first_block = %first.0, last_block = %last.0, "reorg reaches below the remembered reverted blocks; reporting the known part");
                (first, last)
            }
        };
        self.next = first.0;
        self.last = match first.0.parent() {
            Some(parent) => self
                .storage
                .header(parent)?
                .map(|header| (parent, header.hash)),
            None => None,
        };
        Ok(Some(Reorg { first, last }))
    }
}

#[cfg(test)]
mod tests {
    use starling_storage::{BlockWriter, Felt};

    use super::*;
    use crate::test_support::{empty_block, empty_context};

    /// Commits an empty block on the head whose hash is `salt + number`.
    fn commit(storage: &Storage, writer: &mut BlockWriter, salt: u64) -> BlockHash {
        let number = writer.next_block_number();
        let parent = writer.head();
        let mut block = empty_block(
            number.get(),
            parent.map_or(BlockHash::ZERO, |(_, hash)| hash),
        );
        block.header.hash = BlockHash(Felt::from(salt + number.get()));
        block.state_commitment = storage
            .compute_state_commitment(parent.map(|(number, _)| number), &block.state_diff)
            .unwrap();
        writer.commit(block).unwrap().hash
    }

    async fn expect_block(feed: &mut BlockFeed, number: u64, hash: u64) {
        match feed.next_item().await.unwrap() {
            Some(FeedItem::Block(header)) => {
                assert_eq!(header.number, BlockNumber(number));
                assert_eq!(header.hash, BlockHash(Felt::from(hash)));
            }
            other => panic!("expected block {number}, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn reorg_hidden_by_a_lag_is_reported_once() {
        let (context, _dir) = empty_context();
        let storage = context.storage.clone();
        let mut writer = storage.writer().unwrap();
        for _ in 0..5 {
            commit(&storage, &mut writer, 0x100);
        }
        let mut feed = BlockFeed::subscribe(&storage)
            .unwrap()
            .start_at(BlockNumber(0))
            .unwrap();
        for number in 0..5 {
            expect_block(&mut feed, number, 0x100 + number).await;
        }

        // Blocks 3 and 4 are replaced, and more blocks follow than the commit channel
        // holds, so the feed never receives the revert event.
        writer.revert_to(BlockNumber(2), 64).unwrap();
        for _ in 0..1100 {
            commit(&storage, &mut writer, 0x10_0000);
        }

        match feed.next_item().await.unwrap() {
            Some(FeedItem::Reorg(reorg)) => assert_eq!(
                reorg,
                Reorg {
                    first: (BlockNumber(3), BlockHash(Felt::from(0x103u64))),
                    last: (BlockNumber(4), BlockHash(Felt::from(0x104u64))),
                }
            ),
            other => panic!("expected a reorg, got {other:?}"),
        }
        for number in 3..1103 {
            expect_block(&mut feed, number, 0x10_0000 + number).await;
        }
        commit(&storage, &mut writer, 0x10_0000);
        expect_block(&mut feed, 1103, 0x10_0000 + 1103).await;
    }

    #[tokio::test]
    async fn reorg_above_the_feed_is_not_reported() {
        let (context, _dir) = empty_context();
        let storage = context.storage.clone();
        let mut writer = storage.writer().unwrap();
        for _ in 0..5 {
            commit(&storage, &mut writer, 0x100);
        }
        // The feed has passed block 2 only.
        let mut feed = BlockFeed::subscribe(&storage)
            .unwrap()
            .start_at(BlockNumber(0))
            .unwrap();
        for number in 0..3 {
            expect_block(&mut feed, number, 0x100 + number).await;
        }
        writer.revert_to(BlockNumber(2), 64).unwrap();
        commit(&storage, &mut writer, 0x200);
        expect_block(&mut feed, 3, 0x203).await;
    }
}
