//! The pre-confirmed poller: at the tip, fetches the block the sequencer is building on
//! top of the stored head and keeps it in the shared [`PreConfirmedHandle`].
//!
//! Each poll requests `get_preconfirmed_block` of head + 1 from the gateway once, converts
//! the reply, checks every transaction hash, and stores the block with the head it builds on.
//! The poller makes at most one request per interval: a failed request is not retried
//! but waits for the next interval. Below the tip, or when the gateway builds no block
//! after the head, the handle is cleared, and every commit or revert clears a block that
//! no longer builds on the head. Readers never see a stale block in between, because
//! [`PreConfirmedHandle::block_on`] checks the head they read.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use starling_storage::{
    BlockHash, BlockNumber, ChainId, PreConfirmedBlock, PreConfirmedHandle, Storage, SyncStatus,
    Transaction, TransactionHash,
};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::MissedTickBehavior;

use crate::convert::convert_preconfirmed_block;
use crate::gateway::client::{FetchError, GatewayClient};
use crate::gateway::wire;
use crate::network::Network;
use crate::verify::{verify_transaction_hash, HashContext, StarknetVersion};

/// Log target of the poller.
const TARGET: &str = "pre_confirmed";

/// Minimum time between two warnings of one kind of repeated failure. Repeats in between
/// are logged at debug level and counted in the next warning.
const WARN_INTERVAL: Duration = Duration::from_secs(60);

/// Settings of [`run`].
#[derive(Clone, Debug)]
pub struct PreConfirmedConfig {
    pub network: Network,
    /// Time between two polls; must be greater than zero.
    pub poll_interval: Duration,
    /// The sync loop's progress. Its newest gateway block decides whether the node is at
    /// the tip.
    pub sync_status: SyncStatus,
    /// The shared handle that stores the pre-confirmed block for RPC and subscriptions.
    pub handle: PreConfirmedHandle,
}

/// Polls the pre-confirmed block forever. Storage errors are logged and the poll is
/// retried at the next interval.
pub async fn run(config: PreConfirmedConfig, client: GatewayClient, storage: Storage) {
    let mut poller = Poller {
        chain_id: config.network.chain_id(),
        sync_status: config.sync_status,
        handle: config.handle,
        client,
        storage,
        fetch_failures: RepeatedWarning::default(),
        rejections: RepeatedWarning::default(),
    };
    tracing::info!(
        target: TARGET,
        poll_interval_ms = config.poll_interval.as_millis() as u64,
        "pre-confirmed polling started"
    );

    // `Skip` keeps polls on the interval's grid: after a slow request the next poll
    // waits for the next tick instead of catching up with a burst.
    let mut ticker = tokio::time::interval(config.poll_interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut chain_events = Some(poller.storage.subscribe());

    loop {
        let event = async {
            match chain_events.as_mut() {
                Some(receiver) => Some(receiver.recv().await),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = ticker.tick() => poller.poll_once().await,
            received = event => match received {
                Some(Err(RecvError::Closed)) | None => chain_events = None,
                // A commit, a revert, or missed events: the head may have moved either way.
                Some(Ok(_) | Err(RecvError::Lagged(_))) => poller.clear_if_stale(),
            },
        }
    }
}

struct Poller {
    chain_id: ChainId,
    sync_status: SyncStatus,
    handle: PreConfirmedHandle,
    client: GatewayClient,
    storage: Storage,
    fetch_failures: RepeatedWarning,
    rejections: RepeatedWarning,
}

impl Poller {
    /// Makes at most one gateway request and updates the handle with its result. A failed
    /// request leaves the handle as it is, so a short outage does not hide the block.
    async fn poll_once(&mut self) {
        let Some((head_number, head_hash)) = self.read_head() else {
            self.handle.clear();
            return;
        };
        if !self.is_at_tip(head_number) {
            self.handle.clear();
            return;
        }

        let number = head_number.next();
        let fetched = match self.client.preconfirmed_block(number).await {
            Ok(fetched) => fetched,
            Err(error) => {
                self.fetch_failures.failed(number, &error);
                return;
            }
        };
        self.fetch_failures
            .recovered("pre-confirmed polling recovered");

        let Some(fetched) = fetched else {
            tracing::debug!(target: TARGET, block_number = %number, "gateway builds no block after the head");
            self.handle.clear();
            return;
        };
        // The sync loop may have committed the block while the request ran.
        if self.read_head() != Some((head_number, head_hash)) {
            self.clear_if_stale();
            return;
        }

        let previous = self.handle.block_on(head_number, head_hash);
        let chain_id = self.chain_id;
        let checked = tokio::task::spawn_blocking(move || {
            check_block(&fetched, number, head_hash, chain_id, previous.as_deref())
        })
        .await;
        match checked {
            Ok(Ok(block)) => {
                self.rejections
                    .recovered("pre-confirmed block accepted again");
                tracing::debug!(
                    target: TARGET,
                    block_number = %number,
                    transactions = block.transactions.len(),
                    candidates = block.candidate_transactions.len(),
                    "pre-confirmed block updated"
                );
                self.handle.set(block);
            }
            Ok(Err(reason)) => {
                self.rejections.rejected(number, &reason);
                self.handle.clear();
            }
            Err(error) => {
                tracing::error!(target: TARGET, block_number = %number, %error, "pre-confirmed block check panicked");
                self.handle.clear();
            }
        }
    }

    /// Clears the handle unless its block builds on the stored head.
    fn clear_if_stale(&self) {
        let Some(block) = self.handle.current() else {
            return;
        };
        let builds_on_head = self
            .read_head()
            .is_some_and(|(number, hash)| block.builds_on(number, hash));
        if !builds_on_head {
            tracing::debug!(target: TARGET, block_number = %block.number, "head moved; pre-confirmed block cleared");
            self.handle.clear();
        }
    }

    fn read_head(&self) -> Option<(BlockNumber, BlockHash)> {
        match self.storage.head() {
            Ok(head) => head,
            Err(error) => {
                tracing::warn!(target: TARGET, %error, "cannot read the stored head");
                None
            }
        }
    }

    /// Returns whether the node is at the tip: the stored head is at least the gateway's
    /// newest block as the sync loop last read it. Before the first read it is not.
    fn is_at_tip(&self, head: BlockNumber) -> bool {
        self.sync_status
            .progress()
            .highest_block
            .is_some_and(|highest| head >= highest.number)
    }
}

/// Converts a gateway reply for block `number` and checks it: the block number it names,
/// its status and the hash of every transaction. Transactions equal to one of `previous`,
/// the block accepted at the last poll, were checked then and are not hashed again.
/// Returns why the block is rejected.
fn check_block(
    fetched: &wire::PreconfirmedBlock,
    number: BlockNumber,
    parent_hash: BlockHash,
    chain_id: ChainId,
    previous: Option<&PreConfirmedBlock>,
) -> Result<PreConfirmedBlock, String> {
    if let Some(claimed) = fetched.block_number {
        if claimed != number.get() {
            return Err(format!(
                "the gateway sent block {claimed} for block {number}"
            ));
        }
    }
    if fetched.status != wire::BlockStatus::PreConfirmed {
        return Err(format!("status is {}, not PRE_CONFIRMED", fetched.status));
    }
    let block = convert_preconfirmed_block(fetched, number, parent_hash)?;

    let starknet_version = StarknetVersion::parse(&block.starknet_version)
        .map_err(|error| format!("invalid Starknet version: {error}"))?;
    let context = HashContext {
        block_number: number,
        starknet_version,
    };
    let checked_before: HashMap<TransactionHash, &Transaction> = previous
        .into_iter()
        .flat_map(|previous| {
            previous
                .transactions
                .iter()
                .chain(&previous.candidate_transactions)
        })
        .map(|transaction| (transaction.hash, transaction))
        .collect();
    for transaction in block
        .transactions
        .iter()
        .chain(&block.candidate_transactions)
    {
        if checked_before.get(&transaction.hash) == Some(&transaction) {
            continue;
        }
        verify_transaction_hash(transaction, chain_id, context).map_err(|mismatch| {
            format!(
                "{} has hash {:#x} but its fields hash to {:#x}",
                mismatch.what, mismatch.expected, mismatch.computed
            )
        })?;
    }
    Ok(block)
}

/// Rate-limited logging of a failure that repeats at every poll: the first failure of a
/// streak and then one per [`WARN_INTERVAL`] are warnings, the others debug lines.
#[derive(Debug, Default)]
struct RepeatedWarning {
    /// Failures since the last success.
    streak: u64,
    last_warning: Option<Instant>,
}

impl RepeatedWarning {
    fn failed(&mut self, number: BlockNumber, error: &FetchError) {
        self.streak += 1;
        if self.should_warn() {
            tracing::warn!(
                target: TARGET,
                block_number = %number,
                error_kind = error.kind(),
                failures = self.streak,
                %error,
                "cannot fetch the pre-confirmed block; retrying at the next interval"
            );
        } else {
            tracing::debug!(target: TARGET, block_number = %number, error_kind = error.kind(), %error, "cannot fetch the pre-confirmed block");
        }
    }

    fn rejected(&mut self, number: BlockNumber, reason: &str) {
        self.streak += 1;
        if self.should_warn() {
            tracing::warn!(
                target: TARGET,
                block_number = %number,
                rejections = self.streak,
                reason,
                "pre-confirmed block rejected"
            );
        } else {
            tracing::debug!(target: TARGET, block_number = %number, reason, "pre-confirmed block rejected");
        }
    }

    fn recovered(&mut self, message: &'static str) {
        if self.streak > 0 {
            tracing::info!(target: TARGET, failures = self.streak, "{message}");
        }
        self.streak = 0;
        self.last_warning = None;
    }

    fn should_warn(&mut self) -> bool {
        let due = self
            .last_warning
            .is_none_or(|last| last.elapsed() >= WARN_INTERVAL);
        if due {
            self.last_warning = Some(Instant::now());
        }
        due
    }
}

/// Starts [`run`] on the current runtime and returns its task. Kept separate so that
/// the node and tests start the poller the same way.
pub fn spawn(
    config: PreConfirmedConfig,
    client: GatewayClient,
    storage: Storage,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(config, client, storage))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use starling_storage::{
        BlockCommit, BlockHeader, BlockStatus, ContractAddress, Felt, GasPrices,
        L1DataAvailabilityMode, StateDiff, StorageKey,
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::gateway::client::GatewayOptions;
    use crate::testdata::recordings_dir;

    const SEPOLIA_FILE: &str = "sepolia/preconfirmed/latest/full.json";
    const INTEGRATION_FILE: &str =
        "versions/0.14.0/preconfirmed_block/sepolia_integration_955821.json";

    fn read_recording(relative: &str) -> Option<wire::PreconfirmedBlock> {
        let dir = recordings_dir()?;
        let text = std::fs::read_to_string(dir.join(relative)).unwrap();
        Some(serde_json::from_str(&text).unwrap())
    }

    fn parent() -> BlockHash {
        BlockHash(Felt::from(0xabcu64))
    }

    #[test]
    fn recorded_blocks_convert_and_verify() {
        let Some(fetched) = read_recording(SEPOLIA_FILE) else {
            return;
        };
        let number = BlockNumber(10_936_237);
        let block = check_block(&fetched, number, parent(), ChainId::SEPOLIA, None).unwrap();
        assert_eq!(block.number, number);
        assert_eq!(block.parent_hash, parent());
        assert_eq!(block.starknet_version, "0.14.2");
        assert_eq!(block.timestamp, 1_781_802_368);
        assert_eq!(block.l1_da_mode, L1DataAvailabilityMode::Blob);
        assert_eq!(block.transactions.len(), 3);
        assert_eq!(block.receipts.len(), 3);
        assert!(block.candidate_transactions.is_empty());
        assert_eq!(
            block.transactions[0].hash,
            TransactionHash(
                Felt::from_hex("0x6b7292ceff441a6a9044fa9f96da51a53d7f2cfe0373b932d4562e7cd45e9cf")
                    .unwrap()
            )
        );
        // The first transaction's diff writes this slot of the STRK fee token.
        let strk = ContractAddress(
            Felt::from_hex("0x4718f5a0fc34cc1af16a1cdee98ffb20c31f5cd61d6ab07201858f4287c938d")
                .unwrap(),
        );
        let key = StorageKey(
            Felt::from_hex("0x47146b3357200298e01a27f2994f8b4ab20c6df9b07a31923bf8769cb3e6449")
                .unwrap(),
        );
        assert!(block.storage_value(strk, key).is_some());

        let Some(fetched) = read_recording(INTEGRATION_FILE) else {
            return;
        };
        // The 0.14.0 reply names no block number, so any number is accepted. The block is
        // from Sepolia-integration, whose chain id enters the hashes.
        let integration = ChainId(Felt::from_bytes_be_slice(b"SN_INTEGRATION_SEPOLIA"));
        let block = check_block(&fetched, BlockNumber(955_821), parent(), integration, None);
        assert_eq!(block.map(|block| block.transactions.len()), Ok(9));
    }

    #[test]
    fn null_receipts_become_candidates() {
        let Some(mut fetched) = read_recording(SEPOLIA_FILE) else {
            return;
        };
        fetched.transaction_receipts[2] = None;
        fetched.transaction_state_diffs[2] = None;
        let block = check_block(
            &fetched,
            BlockNumber(10_936_237),
            parent(),
            ChainId::SEPOLIA,
            None,
        )
        .unwrap();
        assert_eq!(block.transactions.len(), 2);
        assert_eq!(block.receipts.len(), 2);
        assert_eq!(block.candidate_transactions.len(), 1);
        assert_eq!(
            block.candidate_transactions[0].hash.0,
            fetched.transactions[2].hash()
        );
    }

    #[test]
    fn wrong_hash_rejects_block() {
        let Some(mut fetched) = read_recording(SEPOLIA_FILE) else {
            return;
        };
        let number = BlockNumber(10_936_237);
        let previous = check_block(&fetched, number, parent(), ChainId::SEPOLIA, None).unwrap();

        let mut value = serde_json::to_value(&fetched.transactions[1]).unwrap();
        value["nonce"] = serde_json::json!("0x1");
        fetched.transactions[1] = serde_json::from_value(value).unwrap();
        let error = check_block(&fetched, number, parent(), ChainId::SEPOLIA, None).unwrap_err();
        assert!(error.contains("INVOKE transaction"), "{error}");

        // A transaction changed since the last poll is hashed again.
        let error = check_block(
            &fetched,
            number,
            parent(),
            ChainId::SEPOLIA,
            Some(&previous),
        )
        .unwrap_err();
        assert!(error.contains("hash"), "{error}");
        // On another chain every hash differs.
        let fetched = read_recording(SEPOLIA_FILE).unwrap();
        assert!(check_block(&fetched, number, parent(), ChainId::MAINNET, None).is_err());
    }

    #[test]
    fn other_block_number_rejected() {
        let Some(fetched) = read_recording(SEPOLIA_FILE) else {
            return;
        };
        let error =
            check_block(&fetched, BlockNumber(5), parent(), ChainId::SEPOLIA, None).unwrap_err();
        assert!(error.contains("block 10936237 for block 5"), "{error}");
    }

    #[tokio::test]
    async fn replay_gateway_serves_next_block() {
        let Some(dir) = recordings_dir() else {
            return;
        };
        let mut config = crate::replay::ReplayConfig::new(dir.join("sepolia"));
        config.initial_blocks = Some(3);
        let gateway = crate::replay::ReplayGateway::start(config).await.unwrap();
        let client = GatewayClient::new(&gateway.base_url(), GatewayOptions::default()).unwrap();

        let fetched = client
            .preconfirmed_block(BlockNumber(3))
            .await
            .unwrap()
            .expect("block 3 is the pre-confirmed block");
        let block =
            check_block(&fetched, BlockNumber(3), parent(), ChainId::SEPOLIA, None).unwrap();
        let recorded: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("sepolia/block/3.json")).unwrap(),
        )
        .unwrap();
        let recorded_transactions = recorded["transactions"].as_array().unwrap();
        assert_eq!(block.transactions.len(), recorded_transactions.len());
        assert_eq!(
            format!("{:#x}", block.transactions[0].hash.0),
            recorded_transactions[0]["transaction_hash"]
                .as_str()
                .unwrap()
        );
        assert_eq!(block.timestamp, recorded["timestamp"].as_u64().unwrap());
        assert!(block.candidate_transactions.is_empty());

        for other in [2, 4] {
            let reply = client.preconfirmed_block(BlockNumber(other)).await.unwrap();
            assert!(reply.is_none(), "block {other} served as pre-confirmed");
        }
        gateway.shutdown().await;
    }

    /// Serves HTTP 503 to every request on 127.0.0.1 and counts the requests.
    async fn failing_gateway() -> (String, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicU64::new(0));
        let counter = requests.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 4096];
                    let mut received = Vec::new();
                    while !received.windows(4).any(|window| window == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(count) => received.extend_from_slice(&buffer[..count]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let response = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        (url, requests)
    }

    /// Creates a database whose head is block 0, with hash 0x100.
    fn storage_with_genesis() -> (Storage, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), Network::Sepolia.chain_info()).unwrap();
        let mut writer = storage.writer().unwrap();
        let state_commitment = storage
            .compute_state_commitment(None, &StateDiff::default())
            .unwrap();
        writer
            .commit(BlockCommit {
                header: BlockHeader {
                    number: BlockNumber(0),
                    hash: BlockHash(Felt::from(0x100u64)),
                    parent_hash: BlockHash::ZERO,
                    state_root: state_commitment.roots.global_root(),
                    timestamp: 1_700_000_000,
                    sequencer_address: ContractAddress(Felt::ONE),
                    l1_gas_price: GasPrices::default(),
                    l1_data_gas_price: GasPrices::default(),
                    l2_gas_price: GasPrices::default(),
                    l1_da_mode: L1DataAvailabilityMode::Calldata,
                    starknet_version: "0.14.0".into(),
                    status: BlockStatus::AcceptedOnL2,
                    transaction_count: 0,
                    event_count: 0,
                    transaction_commitment: None,
                    event_commitment: None,
                    receipt_commitment: None,
                    state_diff_commitment: None,
                    state_diff_length: None,
                },
                transactions: vec![],
                receipts: vec![],
                state_diff: StateDiff::default(),
                new_classes: vec![],
                state_commitment,
            })
            .unwrap();
        (storage, dir)
    }

    #[tokio::test]
    async fn failing_gateway_gets_one_request_per_interval() {
        let (url, requests) = failing_gateway().await;
        let (storage, _dir) = storage_with_genesis();
        let sync_status = SyncStatus::new();
        sync_status.set_highest_block(BlockNumber(0), None);
        let handle = PreConfirmedHandle::new();
        let options = GatewayOptions {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(1),
            ..GatewayOptions::default()
        };
        let client = GatewayClient::new(&url, options).unwrap();
        let config = PreConfirmedConfig {
            network: Network::Sepolia,
            poll_interval: Duration::from_millis(100),
            sync_status,
            handle: handle.clone(),
        };

        let task = spawn(config, client, storage);
        tokio::time::sleep(Duration::from_millis(1_050)).await;
        task.abort();

        // Polls at 0, 100, …, 1000 ms: at most 11 requests, whatever the client's retry
        // settings (5 attempts would make 55). A slow machine may skip a tick or two.
        let count = requests.load(Ordering::SeqCst);
        assert!(count <= 11, "{count} requests in 1.05 s");
        assert!(count >= 8, "only {count} requests in 1.05 s");
        assert!(handle.current().is_none());
    }

    #[tokio::test]
    async fn below_tip_sends_no_request() {
        let (url, requests) = failing_gateway().await;
        let (storage, _dir) = storage_with_genesis();
        let sync_status = SyncStatus::new();
        sync_status.set_highest_block(BlockNumber(5), None);
        let client = GatewayClient::new(&url, GatewayOptions::default()).unwrap();
        let config = PreConfirmedConfig {
            network: Network::Sepolia,
            poll_interval: Duration::from_millis(50),
            sync_status,
            handle: PreConfirmedHandle::new(),
        };

        let task = spawn(config, client, storage);
        tokio::time::sleep(Duration::from_millis(300)).await;
        task.abort();

        assert_eq!(requests.load(Ordering::SeqCst), 0);
    }
}
