//! Reorg handling: find the newest stored block that the gateway's chain still contains,
//! revert the stored blocks above it, and let the pipeline continue from there.
//!
//! The pipeline calls [`check_tip`] when the gateway has no next block, and [`follow`] when
//! the next block's parent hash is not the stored head's hash.

use starling_storage::{BlockHash, BlockNumber, BlockWriter, Storage, StorageError};

use crate::gateway::client::{FetchError, GatewayClient};

/// Failure to follow a reorg. Only [`ReorgError::Fetch`] is retried by the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum ReorgError {
    #[error(transparent)]
    Fetch(#[from] FetchError),

    #[error("storage failed: {0}")]
    Storage(#[from] StorageError),

    #[error("reorg deeper than --max-reorg-depth {max_depth}: the gateway's chain differs from the stored chain at every height from {head} down to {lowest_checked}; restart with a larger --max-reorg-depth or sync into an empty database")]
    TooDeep {
        head: BlockNumber,
        lowest_checked: BlockNumber,
        max_depth: u64,
    },

    #[error("the gateway's block 0 differs from the stored block 0 (gateway hash {gateway_hash}, stored hash {stored_hash}); the database belongs to another chain")]
    GenesisMismatch {
        gateway_hash: String,
        stored_hash: BlockHash,
    },

    #[error("stored block {0} has no header; the database is damaged")]
    MissingHeader(BlockNumber),
}

/// Reverted range and the hashes of its first block, for the log line.
#[derive(Debug)]
pub struct Reorg {
    pub first_reverted: BlockNumber,
    pub last_reverted: BlockNumber,
    pub stored_hash: BlockHash,
    /// `None` when the gateway does not have the block at that height any more.
    pub gateway_hash: Option<BlockHash>,
}

/// Checks at the tip whether the gateway still has the stored head. A reorg shows as a
/// gateway whose newest block is below the stored head, or whose hash at the stored head's
/// height differs. Follows the reorg when there is one.
pub async fn check_tip(
    client: &GatewayClient,
    storage: &Storage,
    writer: &mut BlockWriter,
    max_depth: u64,
) -> Result<Option<Reorg>, ReorgError> {
    let Some((head, head_hash)) = writer.head() else {
        return Ok(None);
    };
    // A gateway without any block is more likely reset or misconfigured than reorged down
    // to nothing, so it reverts nothing.
    let Some((latest, latest_hash)) = client.latest_block().await? else {
        return Ok(None);
    };
    let same_head = if latest == head {
        latest_hash == head_hash
    } else if latest > head {
        client.block_hash(head).await? == Some(head_hash)
    } else {
        false
    };
    if same_head {
        return Ok(None);
    }
    follow(client, storage, writer, max_depth).await
}

/// Walks back from the stored head, comparing the gateway's hash with the stored hash at
/// each height, to the newest block both chains contain, then reverts every stored block
/// above it. Each block is reverted in its own batch, and storage publishes
/// `ChainEvent::Reverted` for the range. Returns `None` when the gateway has the stored head,
/// so there is nothing to revert.
pub async fn follow(
    client: &GatewayClient,
    storage: &Storage,
    writer: &mut BlockWriter,
    max_depth: u64,
) -> Result<Option<Reorg>, ReorgError> {
    let Some((head, _)) = writer.head() else {
        return Ok(None);
    };

    let mut fork_point: Option<(BlockNumber, BlockHash, Option<BlockHash>)> = None;
    let mut number = head;
    let ancestor = loop {
        let stored_hash = storage
            .header(number)?
            .ok_or(ReorgError::MissingHeader(number))?
            .hash;
        let gateway_hash = client.block_hash(number).await?;
        if gateway_hash == Some(stored_hash) {
            break number;
        }
        fork_point = Some((number, stored_hash, gateway_hash));

        let Some(parent) = number.get().checked_sub(1) else {
            return Err(ReorgError::GenesisMismatch {
                gateway_hash: gateway_hash.map_or_else(|| "none".into(), |hash| hash.to_string()),
                stored_hash,
            });
        };
        // Reverting down to `parent` would remove `head - parent` blocks.
        if head.get() - parent > max_depth {
            return Err(ReorgError::TooDeep {
                head,
                lowest_checked: number,
                max_depth,
            });
        }
        number = BlockNumber(parent);
    };

    let Some((first_reverted, stored_hash, gateway_hash)) = fork_point else {
        return Ok(None);
    };
    writer.revert_to(ancestor, max_depth)?;
    Ok(Some(Reorg {
        first_reverted,
        last_reverted: head,
        stored_hash,
        gateway_hash,
    }))
}

impl ReorgError {
    /// Returns whether the walk failed on the network, so a later attempt can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ReorgError::Fetch(_))
    }
}
