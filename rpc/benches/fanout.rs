//! Fan-out of `starknet_subscribeNewHeads` to many WebSocket subscribers: the time from
//! a block's commit to its notification at each client, CPU time during the run and
//! memory per idle subscriber. Prints a Markdown table.
//!
//! Run with `make bench` (or `cargo bench -p starling-rpc --bench fanout`). Each
//! configuration (API path and subscriber count) runs in a child process of its own, so
//! that memory freed by one run does not hide the allocations of the next. A child opens
//! a RocksDB in a temporary directory, serves it with `starling_rpc::ws::serve` on
//! 127.0.0.1, connects one client per subscriber to that server only, and commits
//! `BLOCKS` empty blocks through a `BlockWriter`, one every `COMMIT_INTERVAL`. Every
//! wait has a deadline.
//!
//! Both ends of every connection count against the open-file limit. A subscriber count
//! that does not fit under the soft limit is skipped, with the reason printed.
//! `FANOUT_SUBSCRIBERS=1000,5000` replaces the default counts.
//!
//! Server and clients share the process: the CPU time includes both, and so does the
//! memory per subscriber. The clients run on one runtime thread of their own, whose CPU
//! time is shown separately.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use starling_rpc::context::WsLimits;
use starling_rpc::RpcContext;
use starling_storage::*;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio_tungstenite::tungstenite::Message;

/// Subscriber counts; each subscriber has a connection of its own.
const SUBSCRIBER_COUNTS: [usize; 2] = [1_000, 10_000];
/// Blocks committed in each run; every subscriber must receive each once, in order.
const BLOCKS: u64 = 20;
const COMMIT_INTERVAL: Duration = Duration::from_millis(200);

/// Connections being opened and subscribed at once. Opening all 10,000 together would
/// overflow the listener's accept backlog (1,024 in tokio) and make clients wait out
/// SYN retransmits.
const CONCURRENT_CONNECTS: usize = 128;
/// Deadline for a connect, or for a response to the subscribe request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline for all subscriptions of a run to be in place.
const SETUP_TIMEOUT: Duration = Duration::from_secs(180);
/// Idle time before the memory reading, for the connections' first buffers to settle.
const IDLE_BEFORE_RSS: Duration = Duration::from_secs(1);
/// Deadline, after the last commit, for every subscriber to have every block.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// Time the clients keep reading after the last delivery, to catch duplicates.
const QUIET_PERIOD: Duration = Duration::from_millis(500);

/// File descriptors besides the connections: RocksDB's files, epoll, the runtimes.
const OTHER_DESCRIPTORS: u64 = 512;

/// Thread names of the two runtimes. Linux keeps the first 15 bytes of a thread name.
const SERVER_THREAD: &str = "fanout-server";
const CLIENT_THREAD: &str = "fanout-client";

/// Command-line flag that makes the process measure one configuration and print its
/// result as one JSON line on stdout.
const CHILD_FLAG: &str = "--fanout-run";

fn main() -> anyhow::Result<()> {
    let arguments: Vec<String> = std::env::args().collect();
    if let Some(position) = arguments.iter().position(|argument| argument == CHILD_FLAG) {
        let path = arguments.get(position + 1).context("missing API path")?;
        let count = arguments
            .get(position + 2)
            .context("missing subscriber count")?;
        let api = ApiPath::parse(path)?;
        let subscribers: usize = count
            .parse()
            .with_context(|| format!("invalid subscriber count {count:?}"))?;
        let result = measure(api, subscribers)?;
        println!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }

    // `cargo bench` passes `--bench`; no other arguments are supported.
    let subscriber_counts = subscriber_counts()?;
    let open_file_limit = open_file_limit()?;
    let (cores, cpu) = machine();
    println!("Machine: {cores} cores (`nproc`), {cpu}.");
    println!(
        "Each run commits {BLOCKS} empty blocks, one every {} ms, to subscribers that hold one `starknet_subscribeNewHeads` subscription each on a connection of their own.",
        COMMIT_INTERVAL.as_millis()
    );
    println!();

    let mut results = Vec::new();
    let mut skipped = Vec::new();
    for api in [ApiPath::V0_8, ApiPath::Root] {
        for &subscribers in &subscriber_counts {
            let needed = descriptors_needed(subscribers);
            if open_file_limit.is_some_and(|limit| limit < needed) {
                skipped.push(format!(
                    "- `{}`, {subscribers} subscribers: not run, because they need about {needed} file descriptors and the open-file limit is {}. Raise it with `ulimit -n` (above the hard limit only as root).",
                    api.path(),
                    open_file_limit.unwrap_or_default()
                ));
                continue;
            }
            eprintln!("measuring {subscribers} subscribers on {}", api.path());
            results.push(run_child(api, subscribers)?);
        }
    }
    print_table(&results);
    for line in &skipped {
        println!("{line}");
    }
    Ok(())
}

/// Returns the subscriber counts to run: `SUBSCRIBER_COUNTS`, or the comma-separated counts in
/// the `FANOUT_SUBSCRIBERS` environment variable.
fn subscriber_counts() -> anyhow::Result<Vec<usize>> {
    let Ok(text) = std::env::var("FANOUT_SUBSCRIBERS") else {
        return Ok(SUBSCRIBER_COUNTS.to_vec());
    };
    text.split(',')
        .map(|count| {
            count.trim().parse().with_context(|| {
                format!("invalid count {count:?} in FANOUT_SUBSCRIBERS: expected numbers separated by commas")
            })
        })
        .collect()
}

/// Runs one configuration in a child process and reads its result.
fn run_child(api: ApiPath, subscribers: usize) -> anyhow::Result<RunResult> {
    let executable = std::env::current_exe().context("cannot find the benchmark executable")?;
    let output = Command::new(&executable)
        .args([CHILD_FLAG, api.path(), &subscribers.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("failed to start {}", executable.display()))?;
    ensure!(
        output.status.success(),
        "the run with {subscribers} subscribers on {} failed ({}); its error is printed above",
        api.path(),
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .last()
        .context("the child process printed no result")?;
    serde_json::from_str(line).with_context(|| format!("invalid result line {line:?}"))
}

/// The API path the subscribers connect to. The two send different notification shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ApiPath {
    /// `/v0_8`: `starknet_subscriptionNewHeads` notifications with a string
    /// `subscription_id`.
    V0_8,
    /// `/`: Juno's `starknet_subscribeNewHeads` notifications with a numeric
    /// `subscription`.
    Root,
}

impl ApiPath {
    fn parse(path: &str) -> anyhow::Result<Self> {
        match path {
            "/v0_8" => Ok(Self::V0_8),
            "/" => Ok(Self::Root),
            other => bail!("unsupported API path {other:?}: expected /v0_8 or /"),
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::V0_8 => "/v0_8",
            Self::Root => "/",
        }
    }

    fn notification_method(self) -> &'static str {
        match self {
            Self::V0_8 => "starknet_subscriptionNewHeads",
            Self::Root => "starknet_subscribeNewHeads",
        }
    }

    /// Returns the subscription id in a notification's params.
    fn notification_id(self, params: &NotificationParams) -> Option<&Value> {
        match self {
            Self::V0_8 => params.subscription_id.as_ref(),
            Self::Root => params.subscription.as_ref(),
        }
    }
}

/// The numbers of one run, sent from the child process to the parent.
#[derive(Debug, Serialize, Deserialize)]
struct RunResult {
    path: String,
    subscribers: usize,
    notifications: usize,
    setup_secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Median over blocks of the time from commit until the last subscriber had the block.
    last_delivery_median_ms: f64,
    /// Notifications that arrived before `BlockWriter::commit` returned to the committer.
    delivered_before_commit_returned: usize,
    window_secs: f64,
    process_cpu_secs: f64,
    client_cpu_secs: f64,
    rss_before_kib: u64,
    rss_after_kib: u64,
}

fn print_table(results: &[RunResult]) {
    println!(
        "| path | subscribers | notifications | commit to delivery p50 (ms) | p99 (ms) | max (ms) | last subscriber, median over blocks (ms) | CPU, whole process (s) | CPU, client thread (s) | RSS per idle subscriber (KiB) | time to subscribe all (s) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for result in results {
        let rss_per_subscriber = result.rss_after_kib.saturating_sub(result.rss_before_kib) as f64
            / result.subscribers as f64;
        println!(
            "| `{}` | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} |",
            result.path,
            result.subscribers,
            result.notifications,
            result.p50_ms,
            result.p99_ms,
            result.max_ms,
            result.last_delivery_median_ms,
            result.process_cpu_secs,
            result.client_cpu_secs,
            rss_per_subscriber,
            result.setup_secs,
        );
    }
    println!();
    for result in results {
        println!(
            "- `{}`, {} subscribers: CPU measured over {:.2} s from the first commit to the last delivery; RSS {} KiB before the connections, {} KiB with them idle; {} notifications arrived before `commit` returned (counted as 0 ms).",
            result.path,
            result.subscribers,
            result.window_secs,
            result.rss_before_kib,
            result.rss_after_kib,
            result.delivered_before_commit_returned,
        );
    }
}

/// Measures one configuration in this process.
fn measure(api: ApiPath, subscribers: usize) -> anyhow::Result<RunResult> {
    check_open_file_limit(subscribers)?;

    let dir = tempfile::tempdir().context("failed to create a temporary directory")?;
    let chain = ChainInfo {
        network: "sepolia".into(),
        chain_id: ChainId::SEPOLIA,
    };
    let storage = Storage::open(dir.path(), chain).context("failed to open the database")?;
    let mut writer = storage
        .writer()
        .context("failed to open the block writer")?;

    // The server gets a runtime like the node's, with a worker per core. The clients run
    // on one worker of their own.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(SERVER_THREAD)
        .build()?;
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name(CLIENT_THREAD)
        .build()?;

    let limits = WsLimits {
        max_connections: subscribers,
        ..WsLimits::default()
    };
    let context = RpcContext::new(storage.clone()).with_ws_limits(limits);
    let listener = server_runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let address = listener.local_addr()?;
    server_runtime.spawn(starling_rpc::ws::serve(listener, context));

    let rss_before_kib = rss_kib()?;
    let setup_start = Instant::now();
    let connect_slots = Arc::new(Semaphore::new(CONCURRENT_CONNECTS));
    let completed = Arc::new(AtomicUsize::new(0));
    let (stop_sender, stop) = watch::channel(false);
    let (ready_sender, mut ready) = mpsc::channel(subscribers);
    let clients: Vec<_> = (0..subscribers)
        .map(|_| {
            client_runtime.spawn(run_client(ClientSetup {
                address,
                api,
                connect_slots: connect_slots.clone(),
                ready: ready_sender.clone(),
                completed: completed.clone(),
                stop: stop.clone(),
            }))
        })
        .collect();
    drop(ready_sender);

    client_runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + SETUP_TIMEOUT;
        for subscribed in 0..subscribers {
            match tokio::time::timeout_at(deadline, ready.recv()).await {
                Ok(Some(Ok(()))) => {}
                Ok(Some(Err(error))) => {
                    bail!("subscriber failed after {subscribed} of {subscribers} had subscribed: {error}")
                }
                Ok(None) => bail!("the clients stopped after {subscribed} of {subscribers} had subscribed"),
                Err(_) => bail!(
                    "timed out after {} s with {subscribed} of {subscribers} subscribers subscribed",
                    SETUP_TIMEOUT.as_secs()
                ),
            }
        }
        Ok(())
    })?;
    let setup_time = setup_start.elapsed();
    std::thread::sleep(IDLE_BEFORE_RSS);
    let rss_after_kib = rss_kib()?;
    eprintln!(
        "{subscribers} subscribed in {:.1} s; committing {BLOCKS} blocks",
        setup_time.as_secs_f64()
    );

    let clock_ticks = clock_ticks_per_second()?;
    let cpu_start = ThreadCpu::read()?;
    let window_start = Instant::now();
    let mut commit_times = Vec::new();
    for block in 0..BLOCKS {
        if block > 0 {
            std::thread::sleep(COMMIT_INTERVAL);
        }
        commit_empty_block(&storage, &mut writer)?;
        commit_times.push(Instant::now());
    }

    let delivery_deadline = Instant::now() + DELIVERY_TIMEOUT;
    while completed.load(Ordering::Acquire) < subscribers {
        ensure!(
            Instant::now() < delivery_deadline,
            "only {} of {subscribers} subscribers had all {BLOCKS} blocks {} s after the last commit",
            completed.load(Ordering::Acquire),
            DELIVERY_TIMEOUT.as_secs()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let window = window_start.elapsed();
    let cpu_end = ThreadCpu::read()?;

    std::thread::sleep(QUIET_PERIOD);
    stop_sender.send_replace(true);
    let outcomes = client_runtime.block_on(async {
        let mut outcomes = Vec::with_capacity(clients.len());
        for client in clients {
            outcomes.push(tokio::time::timeout(REQUEST_TIMEOUT, client).await);
        }
        outcomes
    });
    let mut deliveries = Vec::with_capacity(outcomes.len());
    for (index, outcome) in outcomes.into_iter().enumerate() {
        let outcome = outcome
            .with_context(|| format!("subscriber {index} did not stop"))?
            .with_context(|| format!("subscriber {index} panicked"))?;
        check_deliveries(index, &outcome)?;
        deliveries.push(outcome.deliveries);
    }

    client_runtime.shutdown_timeout(Duration::from_secs(1));
    server_runtime.shutdown_timeout(Duration::from_secs(1));

    let latencies = Latencies::compute(&commit_times, &deliveries);
    Ok(RunResult {
        path: api.path().into(),
        subscribers,
        notifications: latencies.all.len(),
        setup_secs: setup_time.as_secs_f64(),
        p50_ms: millis(percentile(&latencies.all, 0.50)),
        p99_ms: millis(percentile(&latencies.all, 0.99)),
        max_ms: millis(percentile(&latencies.all, 1.0)),
        last_delivery_median_ms: millis(percentile(&latencies.last_per_block, 0.50)),
        delivered_before_commit_returned: latencies.early,
        window_secs: window.as_secs_f64(),
        process_cpu_secs: cpu_end
            .process_ticks
            .saturating_sub(cpu_start.process_ticks) as f64
            / clock_ticks,
        client_cpu_secs: cpu_end.client_ticks_since(&cpu_start) as f64 / clock_ticks,
        rss_before_kib,
        rss_after_kib,
    })
}

/// File descriptors that `subscribers` connections need, with both ends in this process.
fn descriptors_needed(subscribers: usize) -> u64 {
    2 * subscribers as u64 + OTHER_DESCRIPTORS
}

/// Reads the soft limit on open files from /proc/self/limits; `None` when unlimited.
fn open_file_limit() -> anyhow::Result<Option<u64>> {
    let limits =
        std::fs::read_to_string("/proc/self/limits").context("failed to read /proc/self/limits")?;
    let soft_limit = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .context("no \"Max open files\" line in /proc/self/limits")?;
    if soft_limit == "unlimited" {
        return Ok(None);
    }
    let soft_limit = soft_limit
        .parse()
        .with_context(|| format!("invalid open-file limit {soft_limit:?}"))?;
    Ok(Some(soft_limit))
}

/// Fails unless the open-file limit covers both ends of every connection, since server
/// and clients share this process.
fn check_open_file_limit(subscribers: usize) -> anyhow::Result<()> {
    let needed = descriptors_needed(subscribers);
    if let Some(limit) = open_file_limit()? {
        ensure!(
            limit >= needed,
            "the open-file limit is {limit}, but {subscribers} subscribers need about {needed} descriptors, because both ends of each connection are in this process; raise it with `ulimit -n`"
        );
    }
    Ok(())
}

/// Inputs of one client task, one per subscriber.
struct ClientSetup {
    address: SocketAddr,
    api: ApiPath,
    connect_slots: Arc<Semaphore>,
    /// Receives `Ok` once the subscription is in place, or the reason it failed.
    ready: mpsc::Sender<Result<(), String>>,
    /// Counts the clients that have received `BLOCKS` notifications.
    completed: Arc<AtomicUsize>,
    stop: watch::Receiver<bool>,
}

/// Notifications one client received: each notification's block number and arrival time.
#[derive(Debug, Default)]
struct ClientOutcome {
    deliveries: Vec<(u64, Instant)>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Notification {
    method: String,
    params: NotificationParams,
}

#[derive(Deserialize)]
struct NotificationParams {
    #[serde(default)]
    subscription_id: Option<Value>,
    #[serde(default)]
    subscription: Option<Value>,
    result: NotifiedHeader,
}

#[derive(Deserialize)]
struct NotifiedHeader {
    block_number: u64,
}

/// Connects, subscribes, then records notifications until the stop signal.
async fn run_client(mut setup: ClientSetup) -> ClientOutcome {
    let mut outcome = ClientOutcome::default();
    let subscribed = {
        let _slot = setup.connect_slots.acquire().await;
        subscribe(setup.address, setup.api).await
    };
    let (mut socket, subscription_id) = match subscribed {
        Ok(subscribed) => subscribed,
        Err(error) => {
            let _ = setup.ready.send(Err(format!("{error:#}"))).await;
            outcome.error = Some(format!("{error:#}"));
            return outcome;
        }
    };
    let _ = setup.ready.send(Ok(())).await;

    loop {
        let message = tokio::select! {
            message = socket.next() => message,
            _ = setup.stop.changed() => break,
        };
        let received = Instant::now();
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                outcome.error = Some(format!("the server closed the connection: {frame:?}"));
                break;
            }
            // tungstenite queues the pong for a ping itself.
            Some(Ok(_)) => continue,
            Some(Err(error)) => {
                outcome.error = Some(format!("read failed: {error}"));
                break;
            }
            None => {
                outcome.error = Some("the connection ended".into());
                break;
            }
        };
        let notification: Notification = match serde_json::from_str(&text) {
            Ok(notification) => notification,
            Err(error) => {
                outcome.error = Some(format!("invalid notification ({error}): {text}"));
                break;
            }
        };
        let id = setup.api.notification_id(&notification.params);
        if notification.method != setup.api.notification_method() || id != Some(&subscription_id) {
            outcome.error = Some(format!(
                "unexpected message for subscription {subscription_id}: {text}"
            ));
            break;
        }
        outcome
            .deliveries
            .push((notification.params.result.block_number, received));
        if outcome.deliveries.len() as u64 == BLOCKS {
            setup.completed.fetch_add(1, Ordering::AcqRel);
        }
    }
    outcome
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a connection to `api`'s path and subscribes to new heads. Returns the socket
/// and the subscription id.
async fn subscribe(address: SocketAddr, api: ApiPath) -> anyhow::Result<(Socket, Value)> {
    let url = format!("ws://{address}{}", api.path());
    let (mut socket, _) = tokio::time::timeout(
        REQUEST_TIMEOUT,
        tokio_tungstenite::connect_async(url.as_str()),
    )
    .await
    .with_context(|| format!("connecting to {url} timed out"))?
    .with_context(|| format!("failed to connect to {url}"))?;

    let request = json!({"jsonrpc": "2.0", "method": "starknet_subscribeNewHeads", "id": 1});
    socket
        .send(Message::text(request.to_string()))
        .await
        .context("failed to send the subscribe request")?;
    let deadline = tokio::time::Instant::now() + REQUEST_TIMEOUT;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .context("no response to the subscribe request")?
            .context("the connection ended before the subscribe response")?
            .context("failed to read the subscribe response")?;
        let Message::Text(text) = message else {
            continue;
        };
        let response: Value = serde_json::from_str(&text)
            .with_context(|| format!("invalid subscribe response {text}"))?;
        let id = response["result"].clone();
        ensure!(
            id.is_string() || id.is_u64(),
            "subscribe request failed: {response}"
        );
        return Ok((socket, id));
    }
}

/// Fails unless subscriber `index` received blocks 0 to `BLOCKS - 1`, each once, in
/// order, and saw no error.
fn check_deliveries(index: usize, outcome: &ClientOutcome) -> anyhow::Result<()> {
    if let Some(error) = &outcome.error {
        bail!("subscriber {index}: {error}");
    }
    let received: Vec<u64> = outcome.deliveries.iter().map(|(block, _)| *block).collect();
    let expected: Vec<u64> = (0..BLOCKS).collect();
    ensure!(
        received == expected,
        "subscriber {index} received blocks {received:?}, expected each of 0 to {} once, in order",
        BLOCKS - 1
    );
    Ok(())
}

/// Commit-to-delivery times of one run.
struct Latencies {
    all: Vec<Duration>,
    /// For each block, the time until its last subscriber had it.
    last_per_block: Vec<Duration>,
    /// Deliveries timestamped before `commit` returned; they count as zero.
    early: usize,
}

impl Latencies {
    fn compute(commit_times: &[Instant], deliveries: &[Vec<(u64, Instant)>]) -> Self {
        let mut all = Vec::new();
        let mut last_per_block = vec![Duration::ZERO; commit_times.len()];
        let mut early = 0;
        for (block, received) in deliveries.iter().flatten() {
            let committed = commit_times[*block as usize];
            let latency = match received.checked_duration_since(committed) {
                Some(latency) => latency,
                None => {
                    early += 1;
                    Duration::ZERO
                }
            };
            all.push(latency);
            let last = &mut last_per_block[*block as usize];
            *last = (*last).max(latency);
        }
        Self {
            all,
            last_per_block,
            early,
        }
    }
}

/// Commits an empty block on top of the writer's head.
fn commit_empty_block(storage: &Storage, writer: &mut BlockWriter) -> anyhow::Result<()> {
    let number = writer.next_block_number().get();
    let parent = writer.head();
    let header = BlockHeader {
        number: BlockNumber(number),
        hash: BlockHash(Felt::from(0xb000_0000 + number)),
        parent_hash: parent.map(|(_, hash)| hash).unwrap_or(BlockHash::ZERO),
        state_root: Felt::ZERO,
        timestamp: 1_700_000_000 + number,
        sequencer_address: ContractAddress(Felt::from(0x5eu8)),
        l1_gas_price: GasPrices {
            price_in_wei: Felt::from(10u8),
            price_in_fri: Felt::from(20u8),
        },
        l1_data_gas_price: GasPrices::default(),
        l2_gas_price: GasPrices::default(),
        l1_da_mode: L1DataAvailabilityMode::Blob,
        starknet_version: "0.13.4".into(),
        status: BlockStatus::AcceptedOnL2,
        transaction_count: 0,
        event_count: 0,
        transaction_commitment: None,
        event_commitment: None,
        receipt_commitment: None,
        state_diff_commitment: None,
        state_diff_length: None,
    };
    let state_diff = StateDiff::default();
    let state_commitment = storage
        .compute_state_commitment(parent.map(|(number, _)| number), &state_diff)
        .with_context(|| format!("failed to compute the state commitment of block {number}"))?;
    writer
        .commit(BlockCommit {
            header,
            transactions: vec![],
            receipts: vec![],
            state_diff,
            new_classes: vec![],
            state_commitment,
        })
        .with_context(|| format!("failed to commit block {number}"))?;
    Ok(())
}

/// CPU time of the process and of each client thread, in clock ticks (utime + stime).
struct ThreadCpu {
    process_ticks: u64,
    /// Keyed by thread id. Only threads alive at the reading are present.
    client_ticks: HashMap<u64, u64>,
}

impl ThreadCpu {
    fn read() -> anyhow::Result<Self> {
        let (_, process_ticks) = read_stat("/proc/self/stat")?;
        let mut client_ticks = HashMap::new();
        for entry in std::fs::read_dir("/proc/self/task").context("failed to list threads")? {
            let entry = entry?;
            let Ok(thread_id) = entry.file_name().to_string_lossy().parse::<u64>() else {
                continue;
            };
            // A thread that exits between the listing and the read has no stat file.
            let Ok((name, ticks)) = read_stat(&format!("/proc/self/task/{thread_id}/stat")) else {
                continue;
            };
            if name.starts_with(CLIENT_THREAD) {
                client_ticks.insert(thread_id, ticks);
            }
        }
        Ok(Self {
            process_ticks,
            client_ticks,
        })
    }

    /// Client-thread CPU time since `start`. A thread missing from `start` counts from 0.
    fn client_ticks_since(&self, start: &ThreadCpu) -> u64 {
        self.client_ticks
            .iter()
            .map(|(thread_id, ticks)| {
                ticks.saturating_sub(start.client_ticks.get(thread_id).copied().unwrap_or(0))
            })
            .sum()
    }
}

/// Reads the command name and utime + stime (in clock ticks) from a `stat` file of
/// proc(5).
fn read_stat(path: &str) -> anyhow::Result<(String, u64)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("failed to read {path}"))?;
    // The command name is in parentheses and may itself contain spaces or ')'.
    let open = text.find('(').context("no command name in stat")?;
    let close = text.rfind(')').context("no command name in stat")?;
    let name = text[open + 1..close].to_string();
    // After the name come fields 3 (state) onward; utime and stime are fields 14 and 15.
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let field = |number: usize| -> anyhow::Result<u64> {
        let value = fields
            .get(number - 3)
            .with_context(|| format!("{path} has no field {number}"))?;
        value
            .parse()
            .with_context(|| format!("invalid field {number} {value:?} in {path}"))
    };
    Ok((name, field(14)? + field(15)?))
}

/// Clock ticks per second (`getconf CLK_TCK`), the unit of the CPU times in proc(5).
fn clock_ticks_per_second() -> anyhow::Result<f64> {
    let output = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .context("failed to run `getconf CLK_TCK`")?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .parse()
        .with_context(|| format!("invalid output of `getconf CLK_TCK`: {text:?}"))
}

/// Resident set size (`VmRSS` of /proc/self/status), in KiB.
fn rss_kib() -> anyhow::Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("failed to read /proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .context("no VmRSS line in /proc/self/status")?;
    let value = line.split_whitespace().nth(1).context("empty VmRSS line")?;
    value
        .parse()
        .with_context(|| format!("invalid VmRSS line {line:?}"))
}

/// Nearest-rank percentile; `quantile` 1.0 is the maximum.
fn percentile(latencies: &[Duration], quantile: f64) -> Duration {
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Returns the core count that `nproc` prints and the CPU model from /proc/cpuinfo.
fn machine() -> (String, String) {
    let cores = Command::new("nproc")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    (cores, cpu)
}
