//! The chain for subscriptions that also request pre-confirmed data: the items of a
//! [`BlockFeed`] and, in between, the pre-confirmed block that builds on the last block
//! the feed yielded.

use std::sync::Arc;

use starling_storage::{BlockHeader, PreConfirmedBlock, PreConfirmedHandle, StorageError};
use tokio::sync::watch;

use super::feed::{BlockFeed, FeedItem, Reorg};

/// The next item of a [`ChainWatcher`].
#[derive(Clone, Debug)]
pub enum ChainItem {
    Block(Box<BlockHeader>),
    Reorg(Reorg),
    /// The pre-confirmed block changed, and it builds on the last block yielded. It is
    /// yielded again, whole, each time the gateway serves a different version of it.
    PreConfirmed(Arc<PreConfirmedBlock>),
}

/// Follows a [`BlockFeed`] and the node's pre-confirmed block.
///
/// A pre-confirmed block is yielded only when it builds on the feed's last block, so a
/// subscription that is still replaying old blocks never receives pre-confirmed data out
/// of order. Once the feed reaches the head, the current pre-confirmed block is yielded
/// without waiting for it to change.
#[derive(Debug)]
pub struct ChainWatcher {
    feed: BlockFeed,
    /// `None` for subscriptions that want committed blocks only.
    pre_confirmed: Option<watch::Receiver<Option<Arc<PreConfirmedBlock>>>>,
    /// Whether the pre-confirmed block should be looked at before waiting again.
    check_pre_confirmed: bool,
    /// The last pre-confirmed block yielded, to skip yielding it twice.
    last_yielded: Option<Arc<PreConfirmedBlock>>,
}

impl ChainWatcher {
    /// Follows `feed`, and the pre-confirmed block when `pre_confirmed` is given.
    pub fn new(feed: BlockFeed, pre_confirmed: Option<&PreConfirmedHandle>) -> Self {
        Self {
            feed,
            pre_confirmed: pre_confirmed.map(PreConfirmedHandle::subscribe),
            check_pre_confirmed: true,
            last_yielded: None,
        }
    }

    pub fn feed(&self) -> &BlockFeed {
        &self.feed
    }

    /// Waits for the next item; `None` when the node is shutting down.
    pub async fn next(&mut self) -> Result<Option<ChainItem>, StorageError> {
        loop {
            if std::mem::take(&mut self.check_pre_confirmed) {
                if let Some(block) = self.new_pre_confirmed() {
                    return Ok(Some(ChainItem::PreConfirmed(block)));
                }
            }
            let Some(pre_confirmed) = self.pre_confirmed.as_mut() else {
                return Ok(self.feed.next_item().await?.map(ChainItem::from));
            };
            tokio::select! {
                item = self.feed.next_item() => {
                    self.check_pre_confirmed = true;
                    return Ok(item?.map(ChainItem::from));
                }
                changed = pre_confirmed.changed() => {
                    if changed.is_err() {
                        // The handle was dropped: no more pre-confirmed blocks will come.
                        self.pre_confirmed = None;
                    }
                    self.check_pre_confirmed = true;
                }
            }
        }
    }

    /// Returns the current pre-confirmed block if it builds on the feed's last block and
    /// was not yielded yet.
    fn new_pre_confirmed(&mut self) -> Option<Arc<PreConfirmedBlock>> {
        let block = self.pre_confirmed.as_mut()?.borrow_and_update().clone()?;
        let (number, hash) = self.feed.last()?;
        if !block.builds_on(number, hash) {
            return None;
        }
        if self
            .last_yielded
            .as_ref()
            .is_some_and(|last| Arc::ptr_eq(last, &block))
        {
            return None;
        }
        self.last_yielded = Some(block.clone());
        Some(block)
    }
}

impl From<FeedItem> for ChainItem {
    fn from(item: FeedItem) -> Self {
        match item {
            FeedItem::Block(header) => ChainItem::Block(header),
            FeedItem::Reorg(reorg) => ChainItem::Reorg(reorg),
        }
    }
}
