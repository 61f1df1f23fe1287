//! The sync loop. It takes the next block from the blocks fetched ahead, checks that it
//! links to the stored head, recomputes its state root and commits it. At the tip it
//! polls.

use std::time::{Duration, Instant};

use starling_storage::{
    BlockCommit, BlockHash, BlockNumber, BlockWriter, ClassHash, Felt, Storage, StorageError,
    SyncStatus,
};

use crate::checks;
use crate::convert::ConvertedBlock;
use crate::gateway::client::{FetchError, GatewayClient};
use crate::network::Network;
use crate::prefetch::{CheckedClasses, Prefetcher, PreparedBlock};
use crate::progress::Progress;
use crate::reorg::{self, Reorg, ReorgError};
use crate::signature::sequencer_public_key;

/// Maximum wait between two attempts at a failing block.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// Attempts at a block whose data fails verification before sync stops. A second and
/// third download rule out a response corrupted in transit; a block that still fails
/// is wrong at the source, and retrying forever would hide that.
const MAX_VERIFICATION_ATTEMPTS: u32 = 3;

/// How often the gateway's newest block number is refreshed for the status line.
const TARGET_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct SyncConfig {
    pub network: Network,
    /// Wait between polls once the node has every block the gateway has.
    pub poll_interval: Duration,
    /// Shared progress handle, to which sync publishes its starting block and the
    /// gateway's newest block for `starknet_syncing`.
    pub sync_status: SyncStatus,
    /// Maximum number of stored blocks reverted to follow a reorg; a deeper reorg stops
    /// sync with [`SyncError::Reorg`].
    pub max_reorg_depth: u64,
    /// Maximum number of blocks fetched and checked ahead of the writer, counting the
    /// next block; 1 syncs one block at a time. Memory grows with it by one block and
    /// its new classes per unit.
    pub fetch_ahead: usize,
}

/// Default of [`SyncConfig::fetch_ahead`]. Sixteen requests in flight hide a gateway
/// round trip of a few hundred milliseconds behind the writer's tens of milliseconds
/// per block, and keep at most sixteen blocks with their classes in memory.
pub const DEFAULT_FETCH_AHEAD: usize = 16;

/// Reason sync stopped. Fetch problems are retried forever and never end up here.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("storage failed: {0}")]
    Storage(#[from] StorageError),

    #[error("block {number} failed verification {attempts} times, last: {error}; sync stopped at block {head}")]
    VerificationFailed {
        number: BlockNumber,
        head: String,
        attempts: u32,
        error: Box<BlockError>,
    },

    #[error("cannot follow the gateway's reorg: {0}; sync stopped")]
    Reorg(ReorgError),
}

/// Reason one attempt at a block failed. Every kind is retried.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error(transparent)]
    Fetch(#[from] FetchError),

    #[error("invalid gateway data: {0}")]
    Invalid(String),

    #[error("block {number} does not link to the stored head: parent_block_hash is {parent_hash}, stored head {head_number} has hash {head_hash}")]
    ParentMismatch {
        number: BlockNumber,
        parent_hash: BlockHash,
        head_number: BlockNumber,
        head_hash: BlockHash,
    },

    #[error(
        "block {number}: {what} is {computed:#x} when recomputed, the gateway claims {expected:#x}"
    )]
    Mismatch {
        number: BlockNumber,
        what: String,
        expected: Felt,
        computed: Felt,
    },

    #[error("block {number} cannot be verified: {reason}")]
    Unverifiable { number: BlockNumber, reason: String },

    #[error("storage read failed: {0}")]
    Storage(StorageError),

    #[error("class {class_hash} introduced by block {number} is not available from the gateway")]
    MissingClass {
        number: BlockNumber,
        class_hash: ClassHash,
    },

    #[error("compiled class of {class_hash} introduced by block {number} is not available from the gateway")]
    MissingCompiledClass {
        number: BlockNumber,
        class_hash: ClassHash,
    },
}

/// Syncs from the writer's head + 1 forever. Returns only when storage fails, a block
/// fails verification [`MAX_VERIFICATION_ATTEMPTS`] times, or a reorg cannot be followed.
///
/// Up to [`SyncConfig::fetch_ahead`] blocks are fetched and checked ahead of the writer
/// (see [`crate::prefetch`]). This loop takes them in order, checks that each links to
/// the stored head, recomputes its state root and commits it. Any error or reorg signal
/// first drops the blocks fetched ahead, so it is handled as in a sync of one block at a
/// time.
pub async fn run(
    config: SyncConfig,
    client: GatewayClient,
    mut writer: BlockWriter,
    storage: Storage,
) -> Result<(), SyncError> {
    let chain_id = config.network.chain_id();
    let public_key = sequencer_public_key(config.network);
    let mut prefetcher = Prefetcher::new(
        client.clone(),
        storage.clone(),
        chain_id,
        public_key,
        config.fetch_ahead,
    );
    let mut progress = Progress::new(
        writer.head().map(|(number, _)| number),
        config.sync_status.clone(),
    );
    let mut last_target_refresh: Option<Instant> = None;
    // Newest block the gateway is known to have: its reported newest block, raised by
    // every block fetched and lowered when a block is not found. Blocks above it + 1 are
    // not fetched ahead.
    let mut known_latest: Option<BlockNumber> = None;
    let mut failures: u32 = 0;
    let mut verification_failures: u32 = 0;
    if let Some((number, hash)) = writer.head() {
        config.sync_status.set_starting_block(number, hash);
    }
    tracing::info!(target: "sync", fetch_ahead = config.fetch_ahead, "sync loop started");

    loop {
        if last_target_refresh.is_none_or(|at| at.elapsed() >= TARGET_REFRESH_INTERVAL) {
            match client.latest_block().await {
                Ok(latest) => {
                    progress.set_target(latest.map(|(number, _)| number));
                    known_latest = latest.map(|(number, _)| number);
                    if let Some((number, hash)) = latest {
                        config.sync_status.set_highest_block(number, Some(hash));
                    }
                }
                Err(error) => {
                    tracing::warn!(target: "sync", %error, "cannot read the gateway's newest block")
                }
            }
            last_target_refresh = Some(Instant::now());
        }
        progress.maybe_report();

        let number = writer.next_block_number();
        prefetcher.fill(number, known_latest);
        let fetched = prefetcher.take(number).await;
        let block = match fetched {
            Ok(Some(prepared)) => {
                known_latest = known_latest.max(Some(number));
                finish_block(&storage, &writer, prepared, number).await
            }
            Ok(None) => Ok(None),
            Err(error) => Err(error),
        };
        let block = match block {
            Ok(Some(block)) => block,
            Ok(None) => {
                failures = 0;
                discard_prefetched(&mut prefetcher, number, "tip");
                known_latest = number.get().checked_sub(1).map(BlockNumber);
                match reorg::check_tip(&client, &storage, &mut writer, config.max_reorg_depth).await
                {
                    Ok(Some(reorg)) => {
                        after_reorg(&config, &mut progress, &writer, &reorg);
                        continue;
                    }
                    Ok(None) => {}
                    Err(error) if error.is_retryable() => {
                        tracing::warn!(target: "sync", %error, "cannot check the gateway's chain for a reorg; retrying at the next poll")
                    }
                    Err(error) => return Err(SyncError::Reorg(error)),
                }
                tokio::time::sleep(config.poll_interval).await;
                continue;
            }
            Err(error @ BlockError::ParentMismatch { .. }) if writer.head().is_some() => {
                discard_prefetched(&mut prefetcher, number, "parent_mismatch");
                match reorg::follow(&client, &storage, &mut writer, config.max_reorg_depth).await {
                    Ok(Some(reorg)) => {
                        failures = 0;
                        verification_failures = 0;
                        after_reorg(&config, &mut progress, &writer, &reorg);
                        continue;
                    }
                    // The gateway still has the stored head, so the block that did not
                    // link came from a gateway node in the middle of a reorg, or is
                    // wrong; log it with both hashes and retry it.
                    Ok(None) => {
                        failures += 1;
                        let delay = retry_delay(config.poll_interval, failures);
                        log_block_error(config.network, number, failures, Some(delay), &error);
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    Err(walk_error) if walk_error.is_retryable() => {
                        tracing::warn!(target: "sync", block_number = %number, error = %walk_error, "cannot walk the gateway's chain back to the common ancestor; retrying")
                    }
                    Err(walk_error) => return Err(SyncError::Reorg(walk_error)),
                }
                failures += 1;
                let delay = retry_delay(config.poll_interval, failures);
                tokio::time::sleep(delay).await;
                continue;
            }
            Err(error) => {
                discard_prefetched(&mut prefetcher, number, "block_failed");
                failures += 1;
                if error.is_verification_failure() {
                    verification_failures += 1;
                    if verification_failures >= MAX_VERIFICATION_ATTEMPTS {
                        log_block_error(config.network, number, failures, None, &error);
                        return Err(SyncError::VerificationFailed {
                            number,
                            head: writer
                                .head()
                                .map(|(head, _)| head.to_string())
                                .unwrap_or_else(|| "none".into()),
                            attempts: verification_failures,
                            error: Box::new(error),
                        });
                    }
                }
                let delay = retry_delay(config.poll_interval, failures);
                log_block_error(config.network, number, failures, Some(delay), &error);
                tokio::time::sleep(delay).await;
                continue;
            }
        };

        let hash = block.header.hash;
        let transactions = block.transactions.len();
        let class_hashes: Vec<ClassHash> =
            block.new_classes.iter().map(|class| class.hash).collect();
        writer.commit(block)?;
        prefetcher.committed(class_hashes);
        // Only takes effect for the first block of a sync that started on an empty
        // database.
        config.sync_status.set_starting_block(number, hash);
        failures = 0;
        verification_failures = 0;
        progress.committed(number);
        // At the tip a block arrives every few seconds and each is worth a line; while
        // catching up the status line summarises them instead.
        if progress.is_near_tip() {
            tracing::info!(target: "sync", block_number = %number, block_hash = %hash, transactions, "block committed");
        } else {
            tracing::debug!(target: "sync", block_number = %number, block_hash = %hash, transactions, "block committed");
        }
    }
}

/// Drops the blocks fetched ahead of `number` and logs how many, when there were any.
fn discard_prefetched(prefetcher: &mut Prefetcher, number: BlockNumber, reason: &'static str) {
    let discarded = prefetcher.discard();
    if discarded > 0 {
        tracing::debug!(target: "sync", block_number = %number, discarded, reason, "discarded blocks fetched ahead");
    }
}

/// Logs a followed reorg and points progress reporting at the new head.
fn after_reorg(config: &SyncConfig, progress: &mut Progress, writer: &BlockWriter, reorg: &Reorg) {
    tracing::warn!(
        target: "sync",
        network = %config.network.name(),
        first_reverted = %reorg.first_reverted,
        last_reverted = %reorg.last_reverted,
        stored_hash = %reorg.stored_hash,
        gateway_hash = %reorg
            .gateway_hash
            .map_or_else(|| "none".to_string(), |hash| hash.to_string()),
        new_head = %writer
            .head()
            .map_or_else(|| "none".to_string(), |(number, _)| number.to_string()),
        "reorg: reverted stored blocks that the gateway's chain no longer contains; hashes are those of the first reverted block"
    );
    progress.reverted(writer.head().map(|(number, _)| number));
}

/// Runs the checks of a prefetched block that need the stored head: the links, which of
/// its classes storage still lacks, and, on the blocking pool, the state root. A failure
/// of the checks run ahead is raised only after the links, so that a block that does not
/// link is handled as a reorg signal first. Returns the block ready to commit.
async fn finish_block(
    storage: &Storage,
    writer: &BlockWriter,
    prepared: PreparedBlock,
    number: BlockNumber,
) -> Result<Option<BlockCommit>, BlockError> {
    let PreparedBlock { block, checked } = prepared;
    let parent = writer.head();
    checks::check_links(&block, number, parent, storage)?;
    let CheckedClasses {
        classes,
        unclassified,
    } = checked?;

    // A block fetched ahead may carry a class that a block committed after it was
    // fetched has stored since; the first block keeps it.
    let is_stored = |hash: ClassHash| {
        storage.has_class(hash).map_err(|error| {
            BlockError::Invalid(format!("failed to read class {hash} from storage: {error}"))
        })
    };
    for (hash, reason) in unclassified {
        if !is_stored(hash)? {
            return Err(BlockError::Invalid(reason));
        }
    }
    let mut new_classes = Vec::with_capacity(classes.len());
    for class in classes {
        if !is_stored(class.hash)? {
            new_classes.push(class);
        }
    }

    let storage = storage.clone();
    let verified = tokio::task::spawn_blocking(move || {
        let state_commitment =
            checks::verify_state_root(&storage, &block, parent.map(|(number, _)| number))?;
        let ConvertedBlock {
            header,
            transactions,
            receipts,
            state_diff,
            ..
        } = block;
        Ok(BlockCommit {
            header,
            transactions,
            receipts,
            state_diff,
            new_classes,
            state_commitment,
        })
    })
    .await
    .map_err(|error| BlockError::Invalid(format!("state root task failed: {error}")))?;
    verified.map(Some)
}

/// Doubles from the poll interval up to [`MAX_RETRY_DELAY`].
fn retry_delay(poll_interval: Duration, failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    poll_interval
        .max(Duration::from_millis(100))
        .saturating_mul(factor)
        .min(MAX_RETRY_DELAY)
}

impl BlockError {
    /// Returns whether the block's data contradicts itself or the stored chain, as
    /// opposed to being unavailable.
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            BlockError::Mismatch { .. } | BlockError::Unverifiable { .. }
        )
    }
}

/// Logs one failed attempt; `retry_in` is `None` when sync gives up on the block.
fn log_block_error(
    network: Network,
    number: BlockNumber,
    attempt: u32,
    retry_in: Option<Duration>,
    error: &BlockError,
) {
    let retry_in_ms = retry_in.map(|delay| delay.as_millis() as u64);
    match error {
        BlockError::ParentMismatch {
            parent_hash,
            head_hash,
            ..
        } => tracing::error!(
            target: "sync",
            network = %network.name(),
            block_number = %number,
            %parent_hash,
            %head_hash,
            attempt,
            retry_in_ms,
            "block does not link to the stored head; not committed"
        ),
        BlockError::MissingClass { class_hash, .. }
        | BlockError::MissingCompiledClass { class_hash, .. } => {
            tracing::warn!(
                target: "sync",
                network = %network.name(),
                block_number = %number,
                %class_hash,
                attempt,
                retry_in_ms,
                %error,
                "class not available; block not committed"
            )
        }
        BlockError::Mismatch {
            what,
            expected,
            computed,
            ..
        } => tracing::error!(
            target: "sync",
            network = %network.name(),
            block_number = %number,
            what = %what,
            expected = %format!("{expected:#x}"),
            computed = %format!("{computed:#x}"),
            attempt,
            retry_in_ms,
            "block failed verification; not committed"
        ),
        BlockError::Unverifiable { reason, .. } => tracing::error!(
            target: "sync",
            network = %network.name(),
            block_number = %number,
            %reason,
            attempt,
            retry_in_ms,
            "block failed verification; not committed"
        ),
        BlockError::Fetch(_) | BlockError::Invalid(_) | BlockError::Storage(_) => tracing::warn!(
            target: "sync",
            network = %network.name(),
            block_number = %number,
            attempt,
            retry_in_ms,
            %error,
            "block failed; retrying"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_up_to_the_cap() {
        let poll = Duration::from_millis(500);
        assert_eq!(retry_delay(poll, 1), Duration::from_millis(500));
        assert_eq!(retry_delay(poll, 2), Duration::from_secs(1));
        assert_eq!(retry_delay(poll, 4), Duration::from_secs(4));
        assert_eq!(retry_delay(poll, 40), MAX_RETRY_DELAY);
    }
}
