//! Fan-out of `starknet_subscribeNewHeads` to many WebSocket subscribers: the time from
//! a block's commit to its notification at each client, the server's CPU time during
//! the run and the server's memory per idle subscriber. Prints a Markdown table.
//!
//! Run with `make bench` (or `cargo bench -p starling-rpc --bench fanout`). The
//! benchmark executable plays three roles, chosen by its first argument:
//!
//! - without a role flag it is the coordinator. It runs each configuration (API path
//!   and subscriber count) in a server process of its own, so that memory freed by one
//!   run does not hide the allocations of the next, and prints the table.
//! - `--fanout-server PATH COUNT` opens a RocksDB in a temporary directory, serves it
//!   with `starling_rpc::ws::serve` on 127.0.0.1 and starts load-client processes. Once
//!   every subscription is in place it commits `BLOCKS` empty blocks through a
//!   `BlockWriter`, one every `COMMIT_INTERVAL`, and prints its result as one JSON line.
//! - `--fanout-clients ADDRESS PATH COUNT` opens `COUNT` connections to that server,
//!   each with one subscription, and reports on stdout as JSON lines: when all are
//!   subscribed, when all have every block, then every notification's block number and
//!   arrival time.
//!
//! Splitting clients from the server keeps each process under the open-file limit: the
//! server has one descriptor per subscriber, and each client process opens at most
//! `MAX_SUBSCRIBERS_PER_CLIENT_PROCESS` connections. Every process raises its soft open-file limit
//! to the hard limit. A configuration that still does not fit is skipped, with the
//! reason printed. `FANOUT_SUBSCRIBERS=1000,5000` replaces the default counts.
//!
//! Commit and arrival times are read from `CLOCK_MONOTONIC`, which all processes on
//! one Linux machine share. Every wait has a deadline, and a server process kills its
//! client processes when it stops early.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use futures_util::{SinkExt, StreamExt};
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use rustix::time::{clock_gettime, ClockId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use starling_rpc::context::WsLimits;
use starling_rpc::RpcContext;
use starling_storage::*;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// Subscriber counts; each subscriber has a connection of its own.
const SUBSCRIBER_COUNTS: [usize; 2] = [1_000, 10_000];
/// Blocks committed in each run; every subscriber must receive each once, in order.
const BLOCKS: u64 = 20;
const COMMIT_INTERVAL: Duration = Duration::from_millis(200);

/// Maximum number of connections in one client process, which runs them all on one
/// thread. 10,000 subscribers make two client processes.
const MAX_SUBSCRIBERS_PER_CLIENT_PROCESS: usize = 5_000;
/// Connections being opened and subscribed at once in one client process. Opening
/// thousands together would overflow the listener's accept backlog (1,024 in tokio) and
/// make clients wait out SYN retransmits.
const CONCURRENT_CONNECTS: usize = 128;
/// Read buffer of each client connection. tungstenite zero-fills its read buffer (128
/// KiB by default) before each read, which takes CPU from the server on shared cores.
/// Notifications are well under 8 KiB.
const CLIENT_READ_BUFFER_BYTES: usize = 8 * 1024;

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
/// Deadline for the client processes' final reports and exits, from the closing of
/// their stdin.
const REPORT_TIMEOUT: Duration = Duration::from_secs(30);

/// File descriptors of the server process besides the connections: RocksDB's files,
/// epoll, the runtime and the pipes to the client processes.
const SERVER_OTHER_DESCRIPTORS: u64 = 512;
/// File descriptors of a client process besides its connections.
const CLIENT_OTHER_DESCRIPTORS: u64 = 64;

/// Thread name of the server runtime's workers.
const SERVER_THREAD: &str = "fanout-server";

/// Command-line flags that select the server and the client role.
const SERVER_FLAG: &str = "--fanout-server";
const CLIENTS_FLAG: &str = "--fanout-clients";

fn main() -> anyhow::Result<()> {
    let arguments: Vec<String> = std::env::args().collect();
    if let Some(position) = arguments
        .iter()
        .position(|argument| argument == SERVER_FLAG)
    {
        let api = ApiPath::parse(argument(&arguments, position + 1, "API path")?)?;
        let subscribers = parse_count(argument(&arguments, position + 2, "subscriber count")?)?;
        let result = measure(api, subscribers)?;
        println!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }
    if let Some(position) = arguments
        .iter()
        .position(|argument| argument == CLIENTS_FLAG)
    {
        let address = argument(&arguments, position + 1, "server address")?;
        let address: SocketAddr = address
            .parse()
            .with_context(|| format!("invalid server address {address:?}"))?;
        let api = ApiPath::parse(argument(&arguments, position + 2, "API path")?)?;
        let count = parse_count(argument(&arguments, position + 3, "subscriber count")?)?;
        return run_client_process(address, api, count);
    }

    // `cargo bench` passes `--bench`; no other arguments are supported.
    let subscriber_counts = subscriber_counts()?;
    let open_file_limit = raise_open_file_limit()?;
    let (cores, cpu) = machine();
    println!("Machine: {cores} cores (`nproc`), {cpu}.");
    println!(
        "Each run commits {BLOCKS} empty blocks, one every {} ms, to subscribers that hold one `starknet_subscribeNewHeads` subscription each on a connection of their own. The server and the clients run in separate processes; CPU and memory are the server process's.",
        COMMIT_INTERVAL.as_millis()
    );
    println!();

    let mut results = Vec::new();
    let mut skipped = Vec::new();
    for api in [ApiPath::V0_8, ApiPath::Root] {
        for &subscribers in &subscriber_counts {
            let needed = server_descriptors(subscribers).max(client_descriptors(
                subscribers.min(MAX_SUBSCRIBERS_PER_CLIENT_PROCESS),
            ));
            if open_file_limit.is_some_and(|limit| limit < needed) {
                skipped.push(format!(
                    "- `{}`, {subscribers} subscribers: not run, because one process needs about {needed} file descriptors and the hard open-file limit is {}. Raise it as root (`ulimit -Hn` or /etc/security/limits.conf).",
                    api.path(),
                    open_file_limit.unwrap_or_default()
                ));
                continue;
            }
            eprintln!("measuring {subscribers} subscribers on {}", api.path());
            results.push(run_server_process(api, subscribers)?);
        }
    }
    print_table(&results);
    for line in &skipped {
        println!("{line}");
    }
    Ok(())
}

fn argument<'a>(arguments: &'a [String], index: usize, name: &str) -> anyhow::Result<&'a str> {
    arguments
        .get(index)
        .map(String::as_str)
        .with_context(|| format!("missing {name}"))
}

fn parse_count(text: &str) -> anyhow::Result<usize> {
    text.parse()
        .with_context(|| format!("invalid subscriber count {text:?}"))
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

/// Runs one configuration in a server process and reads its result.
fn run_server_process(api: ApiPath, subscribers: usize) -> anyhow::Result<RunResult> {
    let executable = std::env::current_exe().context("cannot find the benchmark executable")?;
    let output = Command::new(&executable)
        .args([SERVER_FLAG, api.path(), &subscribers.to_string()])
        .stdin(Stdio::null())
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
        .context("the server process printed no result")?;
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

/// The numbers of one run, sent from the server process to the coordinator.
#[derive(Debug, Serialize, Deserialize)]
struct RunResult {
    path: String,
    subscribers: usize,
    client_processes: usize,
    notifications: usize,
    setup_secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Median over blocks of the time from commit until the last subscriber had the block.
    last_delivery_median_ms: f64,
    /// Notifications that arrived before `BlockWriter::commit` returned to the committer.
    delivered_before_commit_returned: usize,
    /// How long before `commit` returned the earliest of those arrived.
    earliest_before_commit_returned_ms: f64,
    window_secs: f64,
    server_cpu_secs: f64,
    /// CPU time of all client processes from their last subscription to their last
    /// delivery.
    client_cpu_secs: f64,
    rss_before_kib: u64,
    rss_after_kib: u64,
    /// Sum of the client processes' peak resident set sizes.
    client_peak_rss_kib: u64,
}

fn print_table(results: &[RunResult]) {
    println!(
        "| path | subscribers | notifications | commit to delivery p50 (ms) | p99 (ms) | max (ms) | last subscriber, median over blocks (ms) | CPU, server process (s) | CPU, client processes (s) | server RSS per idle subscriber (KiB) | time to subscribe all (s) |"
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
            result.server_cpu_secs,
            result.client_cpu_secs,
            rss_per_subscriber,
            result.setup_secs,
        );
    }
    println!();
    for result in results {
        println!(
            "- `{}`, {} subscribers in {} client process{}: CPU measured over {:.2} s from the first commit to the last delivery; server RSS {} KiB before the connections, {} KiB with them idle; client processes' peak RSS {} KiB in total; {} notifications arrived before `commit` returned (counted as 0 ms), the earliest {:.2} ms before.",
            result.path,
            result.subscribers,
            result.client_processes,
            if result.client_processes == 1 { "" } else { "es" },
            result.window_secs,
            result.rss_before_kib,
            result.rss_after_kib,
            result.client_peak_rss_kib,
            result.delivered_before_commit_returned,
            result.earliest_before_commit_returned_ms,
        );
    }
}

/// Measures one configuration as the server process.
fn measure(api: ApiPath, subscribers: usize) -> anyhow::Result<RunResult> {
    check_open_file_limit(server_descriptors(subscribers), "the server process")?;

    let dir = tempfile::tempdir().context("failed to create a temporary directory")?;
    let chain = ChainInfo {
        network: "sepolia".into(),
        chain_id: ChainId::SEPOLIA,
    };
    let storage = Storage::open(dir.path(), chain).context("failed to open the database")?;
    let mut writer = storage
        .writer()
        .context("failed to open the block writer")?;

    // A runtime like the node's, with a worker per core.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(SERVER_THREAD)
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
    let mut clients = ClientProcesses::start(address, api, subscribers)?;

    let subscribed = clients.wait_for_all(
        Instant::now() + SETUP_TIMEOUT,
        "all subscriptions",
        |report| match report {
            ClientReport::Subscribed { cpu_ticks } => Some(cpu_ticks),
            _ => None,
        },
    )?;
    let setup_time = setup_start.elapsed();
    std::thread::sleep(IDLE_BEFORE_RSS);
    let rss_after_kib = rss_kib()?;
    eprintln!(
        "{subscribers} subscribed in {:.1} s from {} client process(es); committing {BLOCKS} blocks",
        setup_time.as_secs_f64(),
        clients.processes.len()
    );

    let clock_ticks = clock_ticks_per_second()?;
    let cpu_start = process_cpu_ticks()?;
    let window_start = Instant::now();
    let mut commit_times = Vec::new();
    for block in 0..BLOCKS {
        if block > 0 {
            std::thread::sleep(COMMIT_INTERVAL);
        }
        commit_empty_block(&storage, &mut writer)?;
        commit_times.push(monotonic_nanos());
    }

    let completed = clients.wait_for_all(
        Instant::now() + DELIVERY_TIMEOUT,
        "every subscriber to have every block",
        |report| match report {
            ClientReport::Completed { cpu_ticks } => Some(cpu_ticks),
            _ => None,
        },
    )?;
    let window = window_start.elapsed();
    let cpu_end = process_cpu_ticks()?;

    std::thread::sleep(QUIET_PERIOD);
    clients.close_stdin();
    let finished = clients.wait_for_all(
        Instant::now() + REPORT_TIMEOUT,
        "the final reports",
        |report| match report {
            ClientReport::Finished {
                subscribers,
                peak_rss_kib,
            } => Some((subscribers, peak_rss_kib)),
            _ => None,
        },
    )?;
    clients.wait_for_exit(Instant::now() + REPORT_TIMEOUT)?;
    server_runtime.shutdown_timeout(Duration::from_secs(1));

    let mut deliveries = Vec::with_capacity(subscribers);
    let mut client_peak_rss_kib = 0;
    for (records, peak_rss_kib) in finished {
        client_peak_rss_kib += peak_rss_kib;
        for record in records {
            check_deliveries(deliveries.len(), &record)?;
            deliveries.push(record.deliveries);
        }
    }
    ensure!(
        deliveries.len() == subscribers,
        "the client processes reported {} subscribers, expected {subscribers}",
        deliveries.len()
    );
    let client_ticks: u64 = completed
        .iter()
        .zip(&subscribed)
        .map(|(end, start)| end.saturating_sub(*start))
        .sum();

    let latencies = Latencies::compute(&commit_times, &deliveries);
    Ok(RunResult {
        path: api.path().into(),
        subscribers,
        client_processes: clients.processes.len(),
        notifications: latencies.all.len(),
        setup_secs: setup_time.as_secs_f64(),
        p50_ms: millis(percentile(&latencies.all, 0.50)),
        p99_ms: millis(percentile(&latencies.all, 0.99)),
        max_ms: millis(percentile(&latencies.all, 1.0)),
        last_delivery_median_ms: millis(percentile(&latencies.last_per_block, 0.50)),
        delivered_before_commit_returned: latencies.early,
        earliest_before_commit_returned_ms: millis(latencies.earliest),
        window_secs: window.as_secs_f64(),
        server_cpu_secs: cpu_end.saturating_sub(cpu_start) as f64 / clock_ticks,
        client_cpu_secs: client_ticks as f64 / clock_ticks,
        rss_before_kib,
        rss_after_kib,
        client_peak_rss_kib,
    })
}

/// One line a client process prints on stdout.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum ClientReport {
    /// Every connection of the process has its subscription. `cpu_ticks` is the
    /// process's CPU time so far (utime + stime, in clock ticks).
    Subscribed { cpu_ticks: u64 },
    /// Every subscriber of the process has received `BLOCKS` notifications.
    Completed { cpu_ticks: u64 },
    /// Sent once stdin is closed: every subscriber's notifications, in the order of
    /// `ClientProcesses::start`'s split.
    Finished {
        subscribers: Vec<SubscriberRecord>,
        /// Peak resident set size (`VmHWM`) of the client process, in KiB.
        peak_rss_kib: u64,
    },
}

impl ClientReport {
    fn kind(&self) -> &'static str {
        match self {
            Self::Subscribed { .. } => "subscribed",
            Self::Completed { .. } => "completed",
            Self::Finished { .. } => "finished",
        }
    }
}

/// Notifications of one subscriber, and the error that ended its connection, if any.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SubscriberRecord {
    /// Block number and arrival time (`CLOCK_MONOTONIC`, nanoseconds) of each
    /// notification, in arrival order.
    deliveries: Vec<(u64, u64)>,
    error: Option<String>,
}

/// Event passed on by the thread that reads a client process's stdout.
enum ClientEvent {
    Report(ClientReport),
    Invalid(String),
    /// Stdout reached its end: the process exited or closed it.
    Ended,
}

/// One load-client process. Dropping it kills the process if it is still running.
struct ClientProcess {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for ClientProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The load-client processes of one run and the reports they print.
struct ClientProcesses {
    processes: Vec<ClientProcess>,
    /// Events of all processes, each tagged with its process's index.
    events: std_mpsc::Receiver<(usize, ClientEvent)>,
    /// Whether each process has closed stdout.
    ended: Vec<bool>,
}

impl ClientProcesses {
    /// Starts enough client processes for `subscribers`, each with an equal share (at
    /// most `MAX_SUBSCRIBERS_PER_CLIENT_PROCESS`), and a thread per process that reads
    /// its reports.
    fn start(address: SocketAddr, api: ApiPath, subscribers: usize) -> anyhow::Result<Self> {
        let executable = std::env::current_exe().context("cannot find the benchmark executable")?;
        let count = subscribers
            .div_ceil(MAX_SUBSCRIBERS_PER_CLIENT_PROCESS)
            .max(1);
        let (sender, events) = std_mpsc::channel();
        let mut processes = Vec::with_capacity(count);
        for index in 0..count {
            // The first `subscribers % count` processes take one subscriber more.
            let share = subscribers / count + usize::from(index < subscribers % count);
            let mut child = Command::new(&executable)
                .args([
                    CLIENTS_FLAG,
                    &address.to_string(),
                    api.path(),
                    &share.to_string(),
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .with_context(|| format!("failed to start client process {index}"))?;
            let stdin = child.stdin.take();
            let stdout = child
                .stdout
                .take()
                .context("client process has no stdout")?;
            processes.push(ClientProcess { child, stdin });

            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let event = match line {
                        Ok(line) => match serde_json::from_str(&line) {
                            Ok(report) => ClientEvent::Report(report),
                            Err(error) => ClientEvent::Invalid(format!("{error}: {line:.200}")),
                        },
                        Err(error) => ClientEvent::Invalid(format!("read failed: {error}")),
                    };
                    if sender.send((index, event)).is_err() {
                        return;
                    }
                }
                let _ = sender.send((index, ClientEvent::Ended));
            });
        }
        Ok(Self {
            ended: vec![false; processes.len()],
            processes,
            events,
        })
    }

    /// Waits until every process has sent the report that `select` accepts and returns
    /// the selected values in process order. Fails on any other report, on a process
    /// that ends first, or at `deadline`. `waiting_for` names the wait in the error.
    fn wait_for_all<T>(
        &mut self,
        deadline: Instant,
        waiting_for: &str,
        select: impl Fn(ClientReport) -> Option<T>,
    ) -> anyhow::Result<Vec<T>> {
        if let Some(index) = self.ended.iter().position(|ended| *ended) {
            bail!("client process {index} closed stdout before {waiting_for}");
        }
        let mut values: Vec<Option<T>> = (0..self.processes.len()).map(|_| None).collect();
        while values.iter().any(Option::is_none) {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let (index, event) = match self.events.recv_timeout(remaining) {
                Ok(received) => received,
                Err(_) => bail!(
                    "timed out waiting for {waiting_for}: {} of {} client processes reported",
                    values.iter().filter(|value| value.is_some()).count(),
                    values.len()
                ),
            };
            let report = match event {
                ClientEvent::Report(report) => report,
                ClientEvent::Invalid(error) => {
                    bail!("client process {index} printed an invalid report: {error}")
                }
                // A process closes stdout after its last report, which may come
                // while this waits for the others.
                ClientEvent::Ended if values[index].is_some() => {
                    self.ended[index] = true;
                    continue;
                }
                ClientEvent::Ended => {
                    // The process has closed stdout, so it exits within moments.
                    std::thread::sleep(Duration::from_millis(100));
                    let status = self.processes[index].child.try_wait();
                    bail!(
                        "client process {index} closed stdout while waiting for {waiting_for} (exit status {status:?}). Its error, if any, is printed above"
                    )
                }
            };
            let kind = report.kind();
            let Some(value) = select(report) else {
                bail!("client process {index} sent an unexpected `{kind}` report while waiting for {waiting_for}");
            };
            ensure!(
                values[index].is_none(),
                "client process {index} reported twice while waiting for {waiting_for}"
            );
            values[index] = Some(value);
        }
        Ok(values.into_iter().flatten().collect())
    }

    /// Closes every process's stdin, which makes it stop reading and send its final report.
    fn close_stdin(&mut self) {
        for process in &mut self.processes {
            process.stdin = None;
        }
    }

    /// Waits for every process to exit successfully, until `deadline`.
    fn wait_for_exit(&mut self, deadline: Instant) -> anyhow::Result<()> {
        for (index, process) in self.processes.iter_mut().enumerate() {
            let status = loop {
                if let Some(status) = process.child.try_wait()? {
                    break status;
                }
                ensure!(
                    Instant::now() < deadline,
                    "client process {index} did not exit after its final report"
                );
                std::thread::sleep(Duration::from_millis(10));
            };
            ensure!(status.success(), "client process {index} failed ({status})");
        }
        Ok(())
    }
}

/// Runs the client role: opens `count` subscriptions to `address` and reports on
/// stdout, as `ClientReport` lines, until stdin is closed.
fn run_client_process(address: SocketAddr, api: ApiPath, count: usize) -> anyhow::Result<()> {
    check_open_file_limit(client_descriptors(count), "a client process")?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (stop_sender, stop) = watch::channel(false);
    // The server process closes stdin to stop the clients. Stdin also ends when the
    // server process dies.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        stop_sender.send_replace(true);
    });

    let records = runtime.block_on(run_clients(address, api, count, stop))?;
    let peak_rss_kib = status_kib("VmHWM:")?;
    report(&ClientReport::Finished {
        subscribers: records,
        peak_rss_kib,
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// Opens the subscriptions of one client process, reports when they are in place and
/// when they have every block, and returns what each received once `stop` fires.
async fn run_clients(
    address: SocketAddr,
    api: ApiPath,
    count: usize,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Vec<SubscriberRecord>> {
    let connect_slots = std::sync::Arc::new(Semaphore::new(CONCURRENT_CONNECTS));
    let (ready_sender, mut ready) = mpsc::channel(count);
    let (completed_sender, mut completed) = mpsc::channel(count);
    let clients: Vec<_> = (0..count)
        .map(|_| {
            tokio::spawn(run_client(ClientSetup {
                address,
                api,
                connect_slots: connect_slots.clone(),
                ready: ready_sender.clone(),
                completed: completed_sender.clone(),
                stop: stop.clone(),
            }))
        })
        .collect();
    drop(ready_sender);
    drop(completed_sender);

    let deadline = tokio::time::Instant::now() + SETUP_TIMEOUT;
    for subscribed in 0..count {
        match tokio::time::timeout_at(deadline, ready.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(error))) => {
                bail!("subscriber failed after {subscribed} of {count} had subscribed: {error}")
            }
            Ok(None) => bail!("the clients stopped after {subscribed} of {count} had subscribed"),
            Err(_) => bail!(
                "timed out after {} s with {subscribed} of {count} subscribers subscribed",
                SETUP_TIMEOUT.as_secs()
            ),
        }
    }
    report(&ClientReport::Subscribed {
        cpu_ticks: process_cpu_ticks()?,
    })?;

    // The server waits for every client process to subscribe before it commits, so the
    // deliveries may start as late as the setup deadline.
    let wait_limit = SETUP_TIMEOUT + COMMIT_INTERVAL * BLOCKS as u32 + DELIVERY_TIMEOUT;
    let deadline = tokio::time::Instant::now() + wait_limit;
    let mut stopped = stop.clone();
    let mut all_completed = true;
    for _ in 0..count {
        tokio::select! {
            received = completed.recv() => {
                if received.is_none() {
                    all_completed = false;
                    break;
                }
            }
            // The server gave up; report what arrived.
            _ = stopped.changed() => {
                all_completed = false;
                break;
            }
            _ = tokio::time::sleep_until(deadline) => bail!(
                "not every subscriber had all {BLOCKS} blocks {} s after subscribing",
                wait_limit.as_secs()
            ),
        }
    }
    if all_completed {
        report(&ClientReport::Completed {
            cpu_ticks: process_cpu_ticks()?,
        })?;
    }

    let mut records = Vec::with_capacity(count);
    for (index, client) in clients.into_iter().enumerate() {
        let record = tokio::time::timeout_at(deadline + REPORT_TIMEOUT, client)
            .await
            .with_context(|| format!("subscriber {index} did not stop"))?
            .with_context(|| format!("subscriber {index} panicked"))?;
        records.push(record);
    }
    Ok(records)
}

/// Prints one report line on stdout and flushes it.
fn report(report: &ClientReport) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, report)?;
    stdout.write_all(b"\n")?;
    stdout.flush()?;
    Ok(())
}

/// Inputs of one client task, one per subscriber.
struct ClientSetup {
    address: SocketAddr,
    api: ApiPath,
    connect_slots: std::sync::Arc<Semaphore>,
    /// Receives `Ok` once the subscription is in place, or the reason it failed.
    ready: mpsc::Sender<Result<(), String>>,
    /// Receives one message when the client has received `BLOCKS` notifications.
    completed: mpsc::Sender<()>,
    stop: watch::Receiver<bool>,
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
async fn run_client(mut setup: ClientSetup) -> SubscriberRecord {
    let mut record = SubscriberRecord::default();
    let subscribed = {
        let _slot = setup.connect_slots.acquire().await;
        subscribe(setup.address, setup.api).await
    };
    let (mut socket, subscription_id) = match subscribed {
        Ok(subscribed) => subscribed,
        Err(error) => {
            let _ = setup.ready.send(Err(format!("{error:#}"))).await;
            record.error = Some(format!("{error:#}"));
            return record;
        }
    };
    let _ = setup.ready.send(Ok(())).await;

    loop {
        let message = tokio::select! {
            message = socket.next() => message,
            _ = setup.stop.changed() => break,
        };
        let received = monotonic_nanos();
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                record.error = Some(format!("the server closed the connection: {frame:?}"));
                break;
            }
            // tungstenite queues the pong for a ping itself.
            Some(Ok(_)) => continue,
            Some(Err(error)) => {
                record.error = Some(format!("read failed: {error}"));
                break;
            }
            None => {
                record.error = Some("the connection ended".into());
                break;
            }
        };
        let notification: Notification = match serde_json::from_str(&text) {
            Ok(notification) => notification,
            Err(error) => {
                record.error = Some(format!("invalid notification ({error}): {text}"));
                break;
            }
        };
        let id = setup.api.notification_id(&notification.params);
        if notification.method != setup.api.notification_method() || id != Some(&subscription_id) {
            record.error = Some(format!(
                "unexpected message for subscription {subscription_id}: {text}"
            ));
            break;
        }
        record
            .deliveries
            .push((notification.params.result.block_number, received));
        if record.deliveries.len() as u64 == BLOCKS {
            let _ = setup.completed.send(()).await;
        }
    }
    record
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a connection to `api`'s path and subscribes to new heads. Returns the socket
/// and the subscription id.
async fn subscribe(address: SocketAddr, api: ApiPath) -> anyhow::Result<(Socket, Value)> {
    let url = format!("ws://{address}{}", api.path());
    let config = WebSocketConfig::default().read_buffer_size(CLIENT_READ_BUFFER_BYTES);
    let (mut socket, _) = tokio::time::timeout(
        REQUEST_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), false),
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
fn check_deliveries(index: usize, record: &SubscriberRecord) -> anyhow::Result<()> {
    if let Some(error) = &record.error {
        bail!("subscriber {index}: {error}");
    }
    let received: Vec<u64> = record.deliveries.iter().map(|(block, _)| *block).collect();
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
    /// How long before `commit` returned the earliest delivery arrived.
    earliest: Duration,
}

impl Latencies {
    /// Computes the latencies from commit times and arrival times, both `CLOCK_MONOTONIC`
    /// nanoseconds.
    fn compute(commit_times: &[u64], deliveries: &[Vec<(u64, u64)>]) -> Self {
        let mut all = Vec::new();
        let mut last_per_block = vec![Duration::ZERO; commit_times.len()];
        let mut early = 0;
        let mut earliest = Duration::ZERO;
        for (block, received) in deliveries.iter().flatten() {
            let committed = commit_times[*block as usize];
            let latency = match received.checked_sub(committed) {
                Some(nanos) => Duration::from_nanos(nanos),
                None => {
                    early += 1;
                    earliest = earliest.max(Duration::from_nanos(committed - received));
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
            earliest,
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

/// Reads `CLOCK_MONOTONIC` in nanoseconds. Unlike `Instant`, the value can be sent to
/// another process on the same machine and compared there.
fn monotonic_nanos() -> u64 {
    let time = clock_gettime(ClockId::Monotonic);
    time.tv_sec as u64 * 1_000_000_000 + time.tv_nsec as u64
}

/// File descriptors the server process needs for `subscribers` connections.
fn server_descriptors(subscribers: usize) -> u64 {
    subscribers as u64 + SERVER_OTHER_DESCRIPTORS
}

/// File descriptors a client process needs for `subscribers` connections.
fn client_descriptors(subscribers: usize) -> u64 {
    subscribers as u64 + CLIENT_OTHER_DESCRIPTORS
}

/// Raises the soft open-file limit of this process to the hard limit, which child
/// processes inherit. Returns the new soft limit; `None` when unlimited.
fn raise_open_file_limit() -> anyhow::Result<Option<u64>> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        )
        .with_context(|| {
            format!(
                "failed to raise the soft open-file limit from {:?} to the hard limit {:?}",
                limit.current, limit.maximum
            )
        })?;
    }
    Ok(limit.maximum)
}

/// Raises the soft open-file limit and fails unless it covers `needed` descriptors of
/// `process`.
fn check_open_file_limit(needed: u64, process: &str) -> anyhow::Result<()> {
    if let Some(limit) = raise_open_file_limit()? {
        ensure!(
            limit >= needed,
            "the hard open-file limit is {limit}, but {process} needs about {needed} descriptors; raise it as root"
        );
    }
    Ok(())
}

/// Reads this process's utime + stime, in clock ticks, from /proc/self/stat.
fn process_cpu_ticks() -> anyhow::Result<u64> {
    let path = "/proc/self/stat";
    let text = std::fs::read_to_string(path).with_context(|| format!("failed to read {path}"))?;
    // The command name is in parentheses and may itself contain spaces or ')'.
    let close = text.rfind(')').context("no command name in stat")?;
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
    Ok(field(14)? + field(15)?)
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
    status_kib("VmRSS:")
}

/// Reads the value in KiB of the /proc/self/status line that starts with `field`.
fn status_kib(field: &str) -> anyhow::Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("failed to read /proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .with_context(|| format!("no {field} line in /proc/self/status"))?;
    let value = line
        .split_whitespace()
        .nth(1)
        .with_context(|| format!("empty {field} line"))?;
    value
        .parse()
        .with_context(|| format!("invalid {field} line {line:?}"))
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
