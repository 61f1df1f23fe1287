//! Fetching ahead of the writer. Up to `fetch_ahead` consecutive blocks are downloaded,
//! converted and put through every check that does not need the parent state
//! (transaction hashes, commitments, block hash, class hashes, signature) at the same
//! time, and handed to the writer in block order. The writer then checks the links,
//! recomputes the state root and commits, one block at a time.
//!
//! A class that several in-flight blocks introduce is downloaded once: the first block
//! that needs it starts the download and the others wait for it. A class that storage
//! already has is never downloaded.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::de::IgnoredAny;
use serde::Deserialize;
use starling_storage::{BlockNumber, ChainId, ClassDefinition, ClassHash, Felt, Storage};
use tokio::sync::{OnceCell, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use crate::checks;
use crate::classes;
use crate::convert::{self, ConvertedBlock};
use crate::gateway::client::GatewayClient;
use crate::pipeline::BlockError;
use crate::signature::BlockSignature;

/// Result of fetching one block: `Ok(None)` when the gateway does not have it yet.
pub(crate) type FetchResult = Result<Option<PreparedBlock>, BlockError>;

/// A fetched block with the outcome of the checks that do not depend on its parent's
/// state.
#[derive(Debug)]
pub(crate) struct PreparedBlock {
    pub block: ConvertedBlock,
    /// Outcome of the class and signature downloads and of the checks. It is kept beside
    /// the block, not raised, because the writer checks the links first: a block that
    /// does not link to the stored head signals a reorg, whatever else is wrong with it.
    pub checked: Result<CheckedClasses, BlockError>,
}

/// The classes of a block that passed its checks.
#[derive(Debug)]
pub(crate) struct CheckedClasses {
    /// Classes the block introduces that storage lacked when the block was fetched, with
    /// their hashes verified, in the order of
    /// [`starling_storage::StateDiff::introduced_class_hashes`].
    pub classes: Vec<ClassDefinition>,
    /// Classes the block introduces that cannot be stored with it, and why. The error is
    /// kept, not raised, because an earlier block fetched at the same time may declare
    /// the class. For example, a Sierra class deployed in block N+1 but declared in block
    /// N cannot be classified from block N+1's state diff. Once block N is committed, the
    /// class needs no storing with block N+1.
    pub unclassified: Vec<(ClassHash, String)>,
}

/// Bytes of a class as the gateway served them.
#[derive(Debug)]
struct FetchedClass {
    definition: Vec<u8>,
    compiled: Option<Vec<u8>>,
}

/// One class download, shared by every block in flight that needs the class.
type SharedDownload = Arc<OnceCell<Arc<FetchedClass>>>;

/// Classes downloaded for blocks in flight, keyed by hash. An entry is removed when the
/// block that introduced the class is committed (storage has it from then on) or when
/// the prefetched blocks are discarded, so the cache holds only classes of in-flight
/// blocks.
#[derive(Clone, Debug, Default)]
struct ClassCache {
    entries: Arc<Mutex<HashMap<ClassHash, SharedDownload>>>,
}

impl ClassCache {
    fn cached(&self, hash: ClassHash) -> Option<SharedDownload> {
        self.lock().get(&hash).cloned()
    }

    fn cell(&self, hash: ClassHash) -> SharedDownload {
        Arc::clone(self.lock().entry(hash).or_default())
    }

    fn remove(&self, hashes: impl IntoIterator<Item = ClassHash>) {
        let mut entries = self.lock();
        for hash in hashes {
            entries.remove(&hash);
        }
    }

    fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ClassHash, SharedDownload>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// State shared by every fetch task.
#[derive(Debug)]
struct FetchContext {
    client: GatewayClient,
    storage: Storage,
    chain_id: ChainId,
    public_key: Felt,
    classes: ClassCache,
    /// Permits for the checks on the blocking pool. The writer's state-root computation
    /// needs a core too, so the checks of prefetched blocks get one fewer than the
    /// machine has (at least one).
    verification_permits: Semaphore,
}

/// The blocks in flight ahead of the writer, in block order.
#[derive(Debug)]
pub(crate) struct Prefetcher {
    context: Arc<FetchContext>,
    fetch_ahead: usize,
    in_flight: VecDeque<(BlockNumber, JoinHandle<FetchResult>)>,
}

impl Prefetcher {
    pub fn new(
        client: GatewayClient,
        storage: Storage,
        chain_id: ChainId,
        public_key: Felt,
        fetch_ahead: usize,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let context = FetchContext {
            client,
            storage,
            chain_id,
            public_key,
            classes: ClassCache::default(),
            verification_permits: Semaphore::new(cores.saturating_sub(1).max(1)),
        };
        Self {
            context: Arc::new(context),
            fetch_ahead: fetch_ahead.max(1),
            in_flight: VecDeque::new(),
        }
    }

    /// Starts fetches so that blocks `next`, `next + 1`, … are in flight, at most
    /// `fetch_ahead` of them. Blocks above `known_latest + 1` are not requested, so that
    /// at the tip (where `known_latest` is the head) only the next block is polled, as a
    /// sequential sync would.
    pub fn fill(&mut self, next: BlockNumber, known_latest: Option<BlockNumber>) {
        if self
            .in_flight
            .front()
            .is_some_and(|(number, _)| *number != next)
        {
            // The writer's head moved without taking the front block. Every revert
            // follows a discard, so this does not happen; if it does, start over from the
            // writer's position.
            self.discard();
        }

        let first = self
            .in_flight
            .back()
            .map_or(next, |(number, _)| number.next());
        let count = blocks_to_request(
            next,
            first,
            self.fetch_ahead - self.in_flight.len(),
            known_latest,
        );
        for number in (first.get()..first.get() + count).map(BlockNumber) {
            let context = Arc::clone(&self.context);
            let task = tokio::spawn(prepare_block(context, number));
            self.in_flight.push_back((number, task));
        }
    }

    /// Waits for the oldest block in flight, which must be `number`.
    pub async fn take(&mut self, number: BlockNumber) -> FetchResult {
        let Some((front, task)) = self.in_flight.pop_front() else {
            return Err(BlockError::Invalid(format!(
                "block {number} was not requested from the gateway"
            )));
        };
        debug_assert_eq!(front, number, "prefetched blocks are taken in order");
        match task.await {
            Ok(result) => result,
            Err(error) => Err(BlockError::Invalid(format!(
                "fetch task of block {front} failed: {error}"
            ))),
        }
    }

    /// Drops every block in flight, fetched or not, and the classes downloaded for them.
    /// Returns how many blocks were dropped.
    pub fn discard(&mut self) -> usize {
        let dropped = self.in_flight.len();
        for (_, task) in self.in_flight.drain(..) {
            task.abort();
        }
        self.context.classes.clear();
        dropped
    }

    /// Forgets the downloads of the classes a committed block introduced: storage has
    /// them now, so blocks fetched later skip them.
    pub fn committed(&mut self, class_hashes: impl IntoIterator<Item = ClassHash>) {
        self.context.classes.remove(class_hashes);
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        self.discard();
    }
}

/// Returns how many blocks from `first` on to request, with `free` places left: the next
/// block `next` always, others only up to `known_latest + 1`.
fn blocks_to_request(
    next: BlockNumber,
    first: BlockNumber,
    free: usize,
    known_latest: Option<BlockNumber>,
) -> u64 {
    let last_allowed = known_latest.map_or(next.get(), |latest| {
        latest.get().saturating_add(1).max(next.get())
    });
    let allowed = (last_allowed + 1).saturating_sub(first.get());
    allowed.min(free as u64)
}

/// Fetches block `number`, its new classes and its signature, and runs the checks that do
/// not need the parent state.
async fn prepare_block(context: Arc<FetchContext>, number: BlockNumber) -> FetchResult {
    let client = &context.client;
    let Some(fetched) = client.state_update_with_block(number).await? else {
        return Ok(None);
    };
    let block = convert::convert_block(fetched).map_err(BlockError::Invalid)?;
    if block.header.number != number {
        return Err(BlockError::Invalid(format!(
            "requested block {number}, the gateway returned block {}",
            block.header.number
        )));
    }

    let downloads = match download_for_block(&context, &block, number).await {
        Ok(downloads) => downloads,
        Err(error) => {
            return Ok(Some(PreparedBlock {
                block,
                checked: Err(error),
            }))
        }
    };

    let _permit = context
        .verification_permits
        .acquire()
        .await
        .map_err(|error| BlockError::Invalid(format!("verification permits closed: {error}")))?;
    // Hashing takes milliseconds to seconds per block, so it runs on the blocking pool
    // instead of stalling the runtime that serves RPC.
    let chain_id = context.chain_id;
    let public_key = context.public_key;
    tokio::task::spawn_blocking(move || {
        let Downloads {
            classes,
            unclassified,
            signature,
        } = downloads;
        let verified =
            checks::verify_hashes(&block, &classes, chain_id).and_then(|()| match &signature {
                Some(signature) => checks::verify_signature(signature, &block, public_key),
                None => Ok(()),
            });
        let checked = verified.map(|()| CheckedClasses {
            classes,
            unclassified,
        });
        Some(PreparedBlock { block, checked })
    })
    .await
    .map_err(|error| BlockError::Invalid(format!("verification task failed: {error}")))
}

/// The downloads a block needs from the gateway besides the block itself.
struct Downloads {
    classes: Vec<ClassDefinition>,
    unclassified: Vec<(ClassHash, String)>,
    signature: Option<BlockSignature>,
}

/// Downloads the classes the block introduces and its signature, at the same time.
async fn download_for_block(
    context: &Arc<FetchContext>,
    block: &ConvertedBlock,
    number: BlockNumber,
) -> Result<Downloads, BlockError> {
    let client = &context.client;
    let signature = async {
        match block.signature.clone() {
            Some(signature) => Ok(Some(BlockSignature {
                signature,
                signed_block_hash: None,
                signed_state_diff_commitment: None,
            })),
            None => client
                .signature(number)
                .await
                .map(|reply| reply.map(BlockSignature::from)),
        }
    };
    let (classes, signature) = tokio::join!(fetch_new_classes(context, block, number), signature);
    let (classes, unclassified) = classes?;
    let signature = signature?;
    if signature.is_none() {
        tracing::debug!(target: "sync", block_number = %number, "gateway has no signature for the block");
    }
    Ok(Downloads {
        classes,
        unclassified,
        signature,
    })
}

/// Downloads, concurrently, every class the block introduces that storage does not have,
/// sharing downloads with the other blocks in flight. Returns the classified classes and
/// those that cannot be classified from this block's state diff.
async fn fetch_new_classes(
    context: &Arc<FetchContext>,
    block: &ConvertedBlock,
    number: BlockNumber,
) -> Result<(Vec<ClassDefinition>, Vec<(ClassHash, String)>), BlockError> {
    let introduced = block.state_diff.introduced_class_hashes();
    let mut downloads = JoinSet::new();
    for (index, class_hash) in introduced.into_iter().enumerate() {
        // The cache is read before storage: an entry is removed only after its class
        // was committed, so a class missing from both is really not stored yet.
        let cell = match context.classes.cached(class_hash) {
            Some(cell) => cell,
            None => {
                let stored = context.storage.has_class(class_hash).map_err(|error| {
                    BlockError::Invalid(format!(
                        "failed to read class {class_hash} from storage: {error}"
                    ))
                })?;
                if stored {
                    continue;
                }
                context.classes.cell(class_hash)
            }
        };
        let context = Arc::clone(context);
        downloads.spawn(async move {
            let fetched = cell
                .get_or_try_init(|| download_class(&context.client, class_hash, number))
                .await
                .map(Arc::clone);
            (index, class_hash, fetched)
        });
    }

    let mut fetched = Vec::with_capacity(downloads.len());
    while let Some(joined) = downloads.join_next().await {
        let (index, class_hash, result) = joined
            .map_err(|error| BlockError::Invalid(format!("class download task failed: {error}")))?;
        fetched.push((index, class_hash, result?));
    }
    fetched.sort_by_key(|(index, _, _)| *index);

    let mut classified = Vec::with_capacity(fetched.len());
    let mut unclassified = Vec::new();
    for (_, hash, class) in fetched {
        match classes::class_kind(&class.definition, hash, &block.state_diff) {
            Ok(kind) => classified.push(ClassDefinition {
                hash,
                kind,
                declared_at: number,
                definition: class.definition.clone(),
                compiled: class.compiled.clone(),
            }),
            Err(reason) => unclassified.push((hash, reason)),
        }
    }
    Ok((classified, unclassified))
}

/// Downloads a class definition and, for a Sierra class, its CASM. `number` is the block
/// that needs it, for errors and logs.
async fn download_class(
    client: &GatewayClient,
    class_hash: ClassHash,
    number: BlockNumber,
) -> Result<Arc<FetchedClass>, BlockError> {
    let definition = client
        .class_definition(class_hash, number)
        .await?
        .ok_or(BlockError::MissingClass { number, class_hash })?;
    let compiled = if is_sierra(&definition) {
        Some(
            client
                .compiled_class(class_hash, number)
                .await?
                .ok_or(BlockError::MissingCompiledClass { number, class_hash })?,
        )
    } else {
        None
    };
    Ok(Arc::new(FetchedClass {
        definition,
        compiled,
    }))
}

/// Returns whether a definition is a Sierra class. A definition that is not valid JSON
/// counts as Cairo 0 here; [`classes::class_kind`] rejects it afterwards.
fn is_sierra(definition: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        sierra_program: Option<IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(definition).is_ok_and(|probe| probe.sierra_program.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catching_up_fills_every_free_place() {
        let count = blocks_to_request(BlockNumber(10), BlockNumber(10), 16, Some(BlockNumber(500)));
        assert_eq!(count, 16);
        let count = blocks_to_request(BlockNumber(10), BlockNumber(20), 6, Some(BlockNumber(500)));
        assert_eq!(count, 6);
    }

    #[test]
    fn requests_stop_one_above_the_known_newest_block() {
        let count = blocks_to_request(BlockNumber(10), BlockNumber(10), 16, Some(BlockNumber(12)));
        assert_eq!(count, 4, "blocks 10 to 13");
        let count = blocks_to_request(BlockNumber(10), BlockNumber(14), 12, Some(BlockNumber(12)));
        assert_eq!(count, 0);
    }

    #[test]
    fn tip_requests_only_the_next_block() {
        let count = blocks_to_request(BlockNumber(10), BlockNumber(10), 16, Some(BlockNumber(9)));
        assert_eq!(count, 1);
        let count = blocks_to_request(BlockNumber(10), BlockNumber(10), 16, None);
        assert_eq!(count, 1);
        let count = blocks_to_request(BlockNumber(0), BlockNumber(0), 16, None);
        assert_eq!(count, 1, "an empty database asks for block 0");
    }

    #[test]
    fn sierra_definitions_are_recognised() {
        assert!(is_sierra(br#"{"sierra_program": [], "abi": "[]"}"#));
        assert!(!is_sierra(br#"{"program": {}, "abi": []}"#));
        assert!(!is_sierra(br#"{"sierra_program": ["#));
    }
}
