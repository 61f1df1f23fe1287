//! Replay feeder gateway: serves a directory of recorded Starknet feeder-gateway responses over
//! HTTP, so the node can sync offline and tests can run against real data.
//!
//! Directory layout (`N` is a decimal block number, `H` a hexadecimal class hash):
//!
//! | file | served endpoint |
//! |---|---|
//! | `block/N.json` | `get_block?blockNumber=N` |
//! | `state_update/N.json` | `get_state_update?blockNumber=N` |
//! | `state_update_with_block/N.json` (optional) | `get_state_update?...&includeBlock=true` |
//! | `signature/N.json` (optional) | `get_signature?blockNumber=N` |
//! | `class/H.json` | `get_class_by_hash?classHash=H` |
//! | `compiled_class/H.json` | `get_compiled_class_by_class_hash?classHash=H` |
//! | `block/N.json` and `state_update/N.json` of the next block | `get_preconfirmed_block?blockNumber=N` |
//!
//! The served chain is the contiguous range `block/0.json..=block/N.json`. Other files in `block/`
//! (numbers after a gap, `latest.json`) are ignored. Responses are the recorded file bytes, never
//! re-serialised. Two responses are built when their file is missing: `includeBlock=true` joins
//! the block and state update files, and `get_signature` takes the `signature` array of
//! `state_update_with_block/N.json`.
//!
//! Blocks become visible in order: the first [`ReplayConfig::initial_blocks`] at start, then one
//! more per [`ReplayConfig::release_interval`]. Requests for a block that is not visible yet
//! return `BLOCK_NOT_FOUND`, as the real gateway does for a block it has not produced yet.
//! `get_preconfirmed_block` serves the first block that is not visible yet as the block the
//! sequencer is building (see `compose_preconfirmed_block`), and `BLOCK_NOT_FOUND` for any
//! other number.
//!
//! With [`ReplayConfig::fork_dir`] the gateway simulates a reorg: it serves `dir` until
//! [`ReplayConfig::switch_after`] has passed since start, then serves the fork directory, whose
//! chain shares a prefix with the first. Classes are looked up in the active directory first,
//! then in the other one.
//!
//! [`ReplayConfig::faults`] injects failures for testing clients: a seeded share of the requests
//! to feeder-gateway endpoints gets, in place of its response, HTTP 429, HTTP 503, a held request, a closed
//! connection or a truncated body (see [`FaultKind`]).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::MissedTickBehavior;
use tracing::{debug, error, info, warn};

/// URL path prefix of every feeder-gateway endpoint.
const PATH_PREFIX: &str = "/feeder_gateway/";

const BLOCK_DIR: &str = "block";
const STATE_UPDATE_DIR: &str = "state_update";
const STATE_UPDATE_WITH_BLOCK_DIR: &str = "state_update_with_block";
const SIGNATURE_DIR: &str = "signature";
const CLASS_DIR: &str = "class";
const COMPILED_CLASS_DIR: &str = "compiled_class";

/// Time that open connections get to finish their requests after shutdown before they are closed.
const SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(5);

/// Pause after a failed `accept`, so that an error such as "too many open files" does not spin.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// `Retry-After` value, in seconds, of an injected HTTP 429.
const INJECTED_RETRY_AFTER_SECS: u64 = 1;

/// Body type of every response. Only `json_response` and `text_response` construct it.
type ResponseBody = Full<Bytes>;

/// Settings of a [`ReplayGateway`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayConfig {
    /// Recording directory, laid out as described in the module documentation.
    pub dir: PathBuf,
    /// Host name or IP address to bind, for example `127.0.0.1`.
    pub host: String,
    /// TCP port to bind. Port 0 picks a free port.
    pub port: u16,
    /// Number of blocks visible at start, counted from block 0. `None` makes every recorded
    /// block visible, and a number above the recorded count is clamped to it.
    pub initial_blocks: Option<u64>,
    /// Time between two releases of one more block. With `None`, blocks that are not visible at
    /// start are never released.
    pub release_interval: Option<Duration>,
    /// Injected failures and latency. [`FaultConfig::default`] injects none.
    pub faults: FaultConfig,
    /// Second recording, served in place of `dir` once `switch_after` has passed. `None`
    /// serves `dir` only.
    pub fork_dir: Option<PathBuf>,
    /// Time from start after which `fork_dir` is served. Ignored without `fork_dir`.
    pub switch_after: Duration,
}

impl ReplayConfig {
    /// Creates a configuration that serves `dir` on 127.0.0.1 at a free port, with every recorded
    /// block visible from the start and no injected faults.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            host: Ipv4Addr::LOCALHOST.to_string(),
            port: 0,
            initial_blocks: None,
            release_interval: None,
            faults: FaultConfig::default(),
            fork_dir: None,
            switch_after: Duration::ZERO,
        }
    }
}

/// Failure that the gateway sends in place of a normal response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// HTTP 429 with a `Retry-After: 1` header (seconds).
    TooManyRequests,
    /// HTTP 503 with a plain-text body.
    ServiceUnavailable,
    /// Holds the request for [`FaultConfig::timeout_hold`], then sends the normal response.
    Timeout,
    /// Closes the connection without sending a response.
    Reset,
    /// HTTP 200 whose body is the first half of the normal response body, whatever its status.
    Truncate,
}

impl FaultKind {
    /// Every kind, in the order of [`FaultKind::name`]'s list.
    pub const ALL: [FaultKind; 5] = [
        FaultKind::TooManyRequests,
        FaultKind::ServiceUnavailable,
        FaultKind::Timeout,
        FaultKind::Reset,
        FaultKind::Truncate,
    ];

    /// Returns the name used on the command line: `429`, `503`, `timeout`, `reset` or
    /// `truncate`.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::TooManyRequests => "429",
            FaultKind::ServiceUnavailable => "503",
            FaultKind::Timeout => "timeout",
            FaultKind::Reset => "reset",
            FaultKind::Truncate => "truncate",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for FaultKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                format!(
                    "invalid fault kind '{text}': expected 429, 503, timeout, reset or truncate"
                )
            })
    }
}

/// Fault injection settings of a [`ReplayGateway`].
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Probability, from 0.0 to 1.0, that a GET request to a feeder-gateway endpoint gets a
    /// fault in place of its normal response.
    pub fail_rate: f64,
    /// Kinds to inject, each equally likely. Must not be empty when `fail_rate` is above 0.
    pub kinds: Vec<FaultKind>,
    /// Delay before every response, faults included.
    pub latency: Duration,
    /// Delay of a [`FaultKind::Timeout`] fault before the normal response. Choose it longer than
    /// the client's request timeout.
    pub timeout_hold: Duration,
    /// Seed of the fault sequence. With the same seed, the n-th endpoint request since start gets
    /// the same fault or none, so a run with one client at a time is reproducible.
    pub seed: u64,
}

impl Default for FaultConfig {
    /// No faults and no latency; `timeout_hold` is 65 s, beyond the node's default request
    /// timeout of 60 s.
    fn default() -> Self {
        Self {
            fail_rate: 0.0,
            kinds: FaultKind::ALL.to_vec(),
            latency: Duration::ZERO,
            timeout_hold: Duration::from_secs(65),
            seed: 0,
        }
    }
}

impl FaultConfig {
    fn validate(&self) -> anyhow::Result<()> {
        if !(0.0..=1.0).contains(&self.fail_rate) {
            bail!(
                "fail rate {} is invalid: expected a number from 0.0 to 1.0",
                self.fail_rate
            );
        }
        if self.fail_rate > 0.0 && self.kinds.is_empty() {
            bail!("fail rate {} needs at least one fault kind", self.fail_rate);
        }
        Ok(())
    }

    /// Decides the fault of the request with sequence number `sequence`, from the seed alone.
    fn fault_for(&self, sequence: u64) -> Option<FaultKind> {
        if self.fail_rate <= 0.0 || self.kinds.is_empty() {
            return None;
        }
        let draw = splitmix64(self.seed ^ splitmix64(sequence));
        // The top 53 bits give a uniform f64 in [0, 1).
        let uniform = (draw >> 11) as f64 / (1u64 << 53) as f64;
        if uniform >= self.fail_rate {
            return None;
        }
        let index = splitmix64(draw) % self.kinds.len() as u64;
        Some(self.kinds[index as usize])
    }
}

/// SplitMix64 finaliser (Sebastiano Vigna): maps a counter to a well-mixed 64-bit value.
fn splitmix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Running replay feeder gateway. Dropping it without [`ReplayGateway::shutdown`] also stops the
/// server, but in the background, without waiting for open connections to close.
#[derive(Debug)]
pub struct ReplayGateway {
    local_addr: SocketAddr,
    state: Arc<GatewayState>,
    shutdown_sender: watch::Sender<bool>,
    server_task: JoinHandle<()>,
    release_task: Option<JoinHandle<()>>,
}

impl ReplayGateway {
    /// Scans `config.dir`, binds `config.host:config.port` and starts serving in a background
    /// task.
    ///
    /// Fails when the directory or its `block/` subdirectory is missing, when there is no
    /// `block/0.json`, when `release_interval` is zero or when binding fails. The scan reads
    /// every block file of the served range once to index block hashes, so start time grows with
    /// the size of the recording.
    pub async fn start(config: ReplayConfig) -> anyhow::Result<ReplayGateway> {
        if config.release_interval == Some(Duration::ZERO) {
            bail!("release_interval must be greater than zero; use None to disable releases");
        }
        config.faults.validate()?;

        let dir = config.dir.clone();
        let recording = tokio::task::spawn_blocking(move || Recording::scan(&dir))
            .await
            .context("the recording scan task panicked")??;
        let fork = match config.fork_dir.clone() {
            Some(fork_dir) => {
                let recording = tokio::task::spawn_blocking(move || Recording::scan(&fork_dir))
                    .await
                    .context("the fork recording scan task panicked")??;
                Some(Fork {
                    recording,
                    switch_at: Instant::now() + config.switch_after,
                    switched: AtomicBool::new(false),
                })
            }
            None => None,
        };
        let recorded_blocks = fork.as_ref().map_or(recording.block_count, |fork| {
            fork.recording.block_count.max(recording.block_count)
        });
        let visible_blocks = config
            .initial_blocks
            .map_or(recorded_blocks, |count| count.min(recorded_blocks));

        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .await
            .with_context(|| {
                format!(
                    "failed to bind the replay gateway to {}:{}",
                    config.host, config.port
                )
            })?;
        let local_addr = listener
            .local_addr()
            .context("failed to read the address of the replay gateway listener")?;

        let state = Arc::new(GatewayState {
            recording,
            fork,
            visible_blocks: AtomicU64::new(visible_blocks),
            counters: RequestCounters::default(),
            faults: config.faults.clone(),
            fault_sequence: AtomicU64::new(0),
            injected_faults: Default::default(),
        });
        let (shutdown_sender, shutdown_receiver) = watch::channel(false);
        let server_task = tokio::spawn(serve_connections(
            listener,
            Arc::clone(&state),
            shutdown_receiver.clone(),
        ));
        let release_task = match config.release_interval {
            Some(interval) if visible_blocks < recorded_blocks => Some(tokio::spawn(
                release_blocks(Arc::clone(&state), interval, shutdown_receiver),
            )),
            _ => None,
        };

        info!(
            target: "replay",
            address = %local_addr,
            dir = %config.dir.display(),
            fork_dir = config.fork_dir.as_ref().map(|dir| dir.display().to_string()),
            switch_after_ms = config.fork_dir.as_ref().map(|_| config.switch_after.as_millis()),
            recorded_blocks,
            visible = visible_blocks,
            release_interval_ms = config.release_interval.map(|interval| interval.as_millis()),
            fail_rate = config.faults.fail_rate,
            fail_kinds = %FaultKinds(&config.faults.kinds),
            latency_ms = config.faults.latency.as_millis(),
            timeout_hold_ms = config.faults.timeout_hold.as_millis(),
            fault_seed = config.faults.seed,
            "replay gateway started"
        );
        Ok(ReplayGateway {
            local_addr,
            state,
            shutdown_sender,
            server_task,
            release_task,
        })
    }

    /// Returns the address the gateway is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Returns the feeder-gateway base URL, for example `http://127.0.0.1:9545/feeder_gateway`.
    /// An unspecified bind address (`0.0.0.0`, `::`) is replaced by loopback.
    pub fn base_url(&self) -> String {
        base_url_for(self.local_addr)
    }

    /// Returns the number of blocks visible now, counted from block 0.
    pub fn visible_blocks(&self) -> u64 {
        self.state.visible_blocks.load(Ordering::Acquire)
    }

    /// Returns the number of blocks in the served range, visible or not. With a fork
    /// directory, this is the range of the recording served now.
    pub fn recorded_blocks(&self) -> u64 {
        self.state.active_recording().block_count
    }

    /// Returns how many GET requests reached `endpoint` (for example `"get_block"`), whatever
    /// their status, injected faults included. Unknown endpoint names return 0.
    pub fn request_count(&self, endpoint: &str) -> u64 {
        Endpoint::from_name(endpoint).map_or(0, |endpoint| self.state.counters.count(endpoint))
    }

    /// Returns how many requests to `endpoint` referred to block `block_number`: by
    /// `blockNumber=N` (counted even when N is not visible), or by `latest` or `blockHash` that
    /// resolved to N. Unknown endpoint names return 0. Requests that got an injected 429, 503
    /// or reset in place of their response are not counted here.
    pub fn block_request_count(&self, endpoint: &str, block_number: u64) -> u64 {
        Endpoint::from_name(endpoint).map_or(0, |endpoint| {
            self.state.counters.block_count(endpoint, block_number)
        })
    }

    /// Returns how many requests to `endpoint` (`"get_class_by_hash"` or
    /// `"get_compiled_class_by_class_hash"`) named class `class_hash`, in any hexadecimal
    /// form, whatever their status. Requests that got an injected 429, 503 or reset are not
    /// counted here.
    pub fn class_request_count(&self, endpoint: &str, class_hash: &str) -> u64 {
        match (Endpoint::from_name(endpoint), normalize_hex(class_hash)) {
            (Some(endpoint), Some(key)) => self.state.counters.class_count(endpoint, &key),
            _ => 0,
        }
    }

    /// Returns how many faults of `kind` were injected since start.
    pub fn fault_count(&self, kind: FaultKind) -> u64 {
        self.state.injected_faults[kind as usize].load(Ordering::Relaxed)
    }

    /// Stops accepting connections and the block releases, then waits up to 5 s for open
    /// connections to finish their requests before closing them.
    pub async fn shutdown(self) {
        self.shutdown_sender.send_replace(true);
        if let Err(error) = self.server_task.await {
            warn!(target: "replay", %error, "replay gateway server task failed");
        }
        if let Some(release_task) = self.release_task {
            if let Err(error) = release_task.await {
                warn!(target: "replay", %error, "replay gateway release task failed");
            }
        }
        info!(target: "replay", address = %self.local_addr, "replay gateway stopped");
    }
}

/// Starts a replay gateway, serves until ctrl-c and then shuts it down.
pub async fn run(config: ReplayConfig) -> anyhow::Result<()> {
    let gateway = ReplayGateway::start(config).await?;
    info!(
        target: "replay",
        base_url = %gateway.base_url(),
        "serving recorded feeder-gateway responses; press ctrl-c to stop"
    );

    let signal = tokio::signal::ctrl_c().await;
    gateway.shutdown().await;
    signal.context("failed to listen for ctrl-c")
}

/// Comma-separated fault kind names, for the start log line.
struct FaultKinds<'a>(&'a [FaultKind]);

impl fmt::Display for FaultKinds<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, kind) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str(",")?;
            }
            formatter.write_str(kind.name())?;
        }
        Ok(())
    }
}

fn base_url_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/feeder_gateway", SocketAddr::new(ip, addr.port()))
}

// ---------------------------------------------------------------------------------------------
// Recording directory
// ---------------------------------------------------------------------------------------------

/// Index of a recording directory, built once at start.
#[derive(Debug)]
struct Recording {
    dir: PathBuf,
    /// Blocks `0..block_count` form the served range.
    block_count: u64,
    /// `block_hash` of each served block as recorded, indexed by block number. `None` when the
    /// block file could not be parsed.
    block_hashes: Vec<Option<String>>,
    /// Block number by normalised block hash (see [`normalize_hex`]).
    block_numbers_by_hash: HashMap<String, u64>,
    /// Class file by normalised class hash.
    classes: HashMap<String, PathBuf>,
    /// Compiled class file by normalised class hash.
    compiled_classes: HashMap<String, PathBuf>,
}

#[derive(Debug, Deserialize)]
struct BlockHashField {
    block_hash: Option<String>,
}

impl Recording {
    fn scan(dir: &Path) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            bail!(
                "replay directory {} does not exist or is not a directory",
                dir.display()
            );
        }
        let block_dir = dir.join(BLOCK_DIR);
        if !block_dir.is_dir() {
            bail!(
                "replay directory {} has no {BLOCK_DIR}/ subdirectory; \
                 expected recorded blocks at {BLOCK_DIR}/0.json, {BLOCK_DIR}/1.json, ...",
                dir.display()
            );
        }

        let block_numbers = read_block_numbers(&block_dir)?;
        if !block_numbers.contains(&0) {
            bail!(
                "{} contains no block 0 (0.json); the replay gateway serves the contiguous \
                 range of blocks starting at 0",
                block_dir.display()
            );
        }
        let block_count = block_numbers
            .iter()
            .zip(0u64..)
            .take_while(|(number, expected)| **number == *expected)
            .count() as u64;
        let ignored_blocks = block_numbers.len() as u64 - block_count;

        let (block_hashes, block_numbers_by_hash) = index_block_hashes(&block_dir, block_count);
        warn_about_missing_state_updates(dir, block_count);
        let classes = read_class_dir(&dir.join(CLASS_DIR))?;
        let compiled_classes = read_class_dir(&dir.join(COMPILED_CLASS_DIR))?;

        info!(
            target: "replay",
            dir = %dir.display(),
            blocks = block_count,
            ignored_blocks,
            classes = classes.len(),
            compiled_classes = compiled_classes.len(),
            "scanned recording"
        );
        Ok(Self {
            dir: dir.to_path_buf(),
            block_count,
            block_hashes,
            block_numbers_by_hash,
            classes,
            compiled_classes,
        })
    }

    fn block_file(&self, subdir: &str, block_number: u64) -> PathBuf {
        self.dir.join(subdir).join(format!("{block_number}.json"))
    }
}

/// Collects the numbers of the `N.json` files in `block_dir`. Names that are not a canonical
/// decimal number, such as `latest.json` or `007.json`, are skipped.
fn read_block_numbers(block_dir: &Path) -> anyhow::Result<BTreeSet<u64>> {
    let entries = std::fs::read_dir(block_dir)
        .with_context(|| format!("failed to list {}", block_dir.display()))?;

    let mut numbers = BTreeSet::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to list {}", block_dir.display()))?;
        let file_name = entry.file_name();
        let Some(stem) = file_name
            .to_str()
            .and_then(|name| name.strip_suffix(".json"))
        else {
            continue;
        };
        let Ok(number) = stem.parse::<u64>() else {
            continue;
        };
        if number.to_string() == stem && entry.path().is_file() {
            numbers.insert(number);
        }
    }
    Ok(numbers)
}

/// Reads `block_hash` from every block file of the served range. A file that cannot be read or
/// parsed is logged and left out, so `blockHash` queries do not find that block.
fn index_block_hashes(
    block_dir: &Path,
    block_count: u64,
) -> (Vec<Option<String>>, HashMap<String, u64>) {
    let mut block_hashes = Vec::new();
    let mut block_numbers_by_hash = HashMap::new();
    for block_number in 0..block_count {
        let path = block_dir.join(format!("{block_number}.json"));
        let block_hash = match read_block_hash(&path) {
            Ok(block_hash) => Some(block_hash),
            Err(error) => {
                warn!(
                    target: "replay",
                    path = %path.display(),
                    error = format!("{error:#}"),
                    "failed to index the block hash; blockHash queries will not find this block"
                );
                None
            }
        };

        if let Some(key) = block_hash.as_deref().and_then(normalize_hex) {
            if let Some(first) = block_numbers_by_hash.get(&key) {
                warn!(
                    target: "replay",
                    block_number,
                    first_block_number = first,
                    block_hash = block_hash.as_deref(),
                    "duplicate block hash; blockHash queries return the lower block number"
                );
            } else {
                block_numbers_by_hash.insert(key, block_number);
            }
        }
        block_hashes.push(block_hash);
    }
    (block_hashes, block_numbers_by_hash)
}

fn read_block_hash(path: &Path) -> anyhow::Result<String> {
    let contents =
        std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
    let block: BlockHashField = serde_json::from_slice(&contents)
        .with_context(|| format!("failed to parse {} as a block", path.display()))?;
    block
        .block_hash
        .with_context(|| format!("{} has no block_hash field", path.display()))
}

/// Logs once at start which served blocks lack `state_update/N.json`. Requests for their state
/// update return `BLOCK_NOT_FOUND`.
fn warn_about_missing_state_updates(dir: &Path, block_count: u64) {
    let state_update_dir = dir.join(STATE_UPDATE_DIR);
    let missing: Vec<u64> = (0..block_count)
        .filter(|number| !state_update_dir.join(format!("{number}.json")).is_file())
        .collect();
    if let Some(first) = missing.first() {
        warn!(
            target: "replay",
            dir = %state_update_dir.display(),
            missing = missing.len(),
            first_missing_block = first,
            "recording lacks state updates of served blocks; they are answered with BLOCK_NOT_FOUND"
        );
    }
}

/// Maps the normalised hash of every `0xHASH.json` file in `dir` to its path. A missing
/// directory yields an empty map. Names that are not hexadecimal are skipped.
fn read_class_dir(dir: &Path) -> anyhow::Result<HashMap<String, PathBuf>> {
    let mut classes = HashMap::new();
    if !dir.exists() {
        return Ok(classes);
    }
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("failed to list {}", dir.display()))?;

    for entry in entries {
        let entry = entry.with_context(|| format!("failed to list {}", dir.display()))?;
        let path = entry.path();
        let Some(key) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".json"))
            .and_then(normalize_hex)
        else {
            debug!(
                target: "replay",
                path = %path.display(),
                "skipping file without a hexadecimal class hash name"
            );
            continue;
        };
        if !path.is_file() {
            continue;
        }
        if let Some(first) = classes.get(&key) {
            warn!(
                target: "replay",
                path = %path.display(),
                served = %Path::display(first),
                "two files name the same class hash; serving only one of them"
            );
            continue;
        }
        classes.insert(key, path);
    }
    Ok(classes)
}

/// Normalises a hexadecimal felt for numeric comparison: strips an optional `0x`/`0X` prefix and
/// leading zeros, and lowercases. Returns `None` for an empty string, a non-hex character or more
/// than 64 significant digits. Zero becomes `"0"`.
fn normalize_hex(text: &str) -> Option<String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 64 {
        return None;
    }
    if significant.is_empty() {
        return Some("0".to_owned());
    }
    Some(significant.to_ascii_lowercase())
}

// ---------------------------------------------------------------------------------------------
// Shared state, endpoints and request counters
// ---------------------------------------------------------------------------------------------

/// State shared by all connections and the release task.
#[derive(Debug)]
struct GatewayState {
    recording: Recording,
    /// Recording that replaces `recording` from its switch time on.
    fork: Option<Fork>,
    /// Blocks `0..visible_blocks` are served. Only the release task increases it.
    visible_blocks: AtomicU64,
    counters: RequestCounters,
    faults: FaultConfig,
    /// Sequence number of the next GET request to an endpoint, the input of
    /// [`FaultConfig::fault_for`].
    fault_sequence: AtomicU64,
    /// Injected faults per kind, indexed by `FaultKind as usize`.
    injected_faults: [AtomicU64; FaultKind::ALL.len()],
}

#[derive(Debug)]
struct Fork {
    recording: Recording,
    switch_at: Instant,
    /// Set by the first request served from the fork, which logs the switch.
    switched: AtomicBool,
}

impl GatewayState {
    /// Returns the recording served now: the fork once its switch time has passed, else the
    /// first.
    fn active_recording(&self) -> &Recording {
        match &self.fork {
            Some(fork) if Instant::now() >= fork.switch_at => {
                if !fork.switched.swap(true, Ordering::Relaxed) {
                    info!(target: "replay", blocks = fork.recording.block_count, "switched to the fork directory");
                }
                &fork.recording
            }
            _ => &self.recording,
        }
    }

    /// Returns the recording that is not served now, searched for classes the active one
    /// lacks.
    fn inactive_recording(&self) -> Option<&Recording> {
        let fork = self.fork.as_ref()?;
        if Instant::now() >= fork.switch_at {
            Some(&self.recording)
        } else {
            Some(&fork.recording)
        }
    }

    /// Visible blocks of the active recording.
    fn visible_block_count(&self, recording: &Recording) -> u64 {
        self.visible_blocks
            .load(Ordering::Acquire)
            .min(recording.block_count)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Endpoint {
    Block,
    StateUpdate,
    Signature,
    ClassByHash,
    CompiledClassByClassHash,
    PreconfirmedBlock,
}

impl Endpoint {
    const ALL: [Endpoint; 6] = [
        Endpoint::Block,
        Endpoint::StateUpdate,
        Endpoint::Signature,
        Endpoint::ClassByHash,
        Endpoint::CompiledClassByClassHash,
        Endpoint::PreconfirmedBlock,
    ];

    fn name(self) -> &'static str {
        match self {
            Endpoint::Block => "get_block",
            Endpoint::StateUpdate => "get_state_update",
            Endpoint::Signature => "get_signature",
            Endpoint::ClassByHash => "get_class_by_hash",
            Endpoint::CompiledClassByClassHash => "get_compiled_class_by_class_hash",
            Endpoint::PreconfirmedBlock => "get_preconfirmed_block",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|endpoint| endpoint.name() == name)
    }

    fn from_path(path: &str) -> Option<Self> {
        path.strip_prefix(PATH_PREFIX).and_then(Self::from_name)
    }
}

#[derive(Debug, Default)]
struct RequestCounters {
    /// Requests per endpoint, indexed by `Endpoint as usize`.
    per_endpoint: [AtomicU64; Endpoint::ALL.len()],
    per_block: Mutex<HashMap<(Endpoint, u64), u64>>,
    /// Class requests per endpoint and normalised class hash.
    per_class: Mutex<HashMap<(Endpoint, String), u64>>,
}

impl RequestCounters {
    fn record(&self, endpoint: Endpoint) {
        self.per_endpoint[endpoint as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn record_block(&self, endpoint: Endpoint, block_number: u64) {
        let mut per_block = self
            .per_block
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *per_block.entry((endpoint, block_number)).or_default() += 1;
    }

    fn record_class(&self, endpoint: Endpoint, key: &str) {
        let mut per_class = self
            .per_class
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *per_class.entry((endpoint, key.to_owned())).or_default() += 1;
    }

    fn class_count(&self, endpoint: Endpoint, key: &str) -> u64 {
        let per_class = self
            .per_class
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        per_class
            .get(&(endpoint, key.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    fn count(&self, endpoint: Endpoint) -> u64 {
        self.per_endpoint[endpoint as usize].load(Ordering::Relaxed)
    }

    fn block_count(&self, endpoint: Endpoint, block_number: u64) -> u64 {
        let per_block = self
            .per_block
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        per_block
            .get(&(endpoint, block_number))
            .copied()
            .unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Failure of one request. The client errors carry the code and message of the real gateway.
#[derive(Debug, thiserror::Error)]
enum GatewayError {
    #[error("Block number {0} was not found.")]
    BlockNumberNotFound(u64),
    #[error("Block hash 0x{0} was not found.")]
    BlockHashNotFound(String),
    #[error("Block number latest was not found: no block has been released yet.")]
    NoBlockReleased,
    #[error("Class with hash 0x{0} is not declared.")]
    UndeclaredClass(String),
    #[error("{0}")]
    MalformedRequest(String),
    #[error("failed to read {}: {source}", path.display())]
    ReadFailed { path: PathBuf, source: io::Error },
    #[error("recorded file {} is not valid JSON: {source}", path.display())]
    InvalidRecording {
        path: PathBuf,
        source: serde_json::Error,
    },
}

#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
}

impl GatewayError {
    /// Returns the `StarknetErrorCode` of a client error, or `None` for a server-side failure.
    fn starknet_code(&self) -> Option<&'static str> {
        match self {
            GatewayError::BlockNumberNotFound(_)
            | GatewayError::BlockHashNotFound(_)
            | GatewayError::NoBlockReleased => Some("StarknetErrorCode.BLOCK_NOT_FOUND"),
            GatewayError::UndeclaredClass(_) => Some("StarknetErrorCode.UNDECLARED_CLASS"),
            GatewayError::MalformedRequest(_) => Some("StarknetErrorCode.MALFORMED_REQUEST"),
            GatewayError::ReadFailed { .. } | GatewayError::InvalidRecording { .. } => None,
        }
    }

    fn to_response(&self) -> Response<ResponseBody> {
        let message = self.to_string();
        let Some(code) = self.starknet_code() else {
            return text_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Internal Server Error: {message}\n"),
            );
        };
        let body = serde_json::to_vec(&ErrorBody {
            code,
            message: &message,
        })
        .expect("an object of two strings always serialises");
        json_response(StatusCode::BAD_REQUEST, Bytes::from(body))
    }
}

fn malformed(message: impl Into<String>) -> GatewayError {
    GatewayError::MalformedRequest(message.into())
}

fn json_response(status: StatusCode, body: Bytes) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn text_response(status: StatusCode, body: String) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

// ---------------------------------------------------------------------------------------------
// Request handling
// ---------------------------------------------------------------------------------------------

/// Handles one request and logs it at debug level. Every request of every connection passes
/// through here, so behaviour that applies to all responses (delays, injected failures,
/// switching recordings) belongs in this function and in [`GatewayState`].
///
/// Returns [`InjectedReset`] to make the connection close without a response.
async fn handle_request<B>(
    state: &GatewayState,
    request: &Request<B>,
) -> Result<Response<ResponseBody>, InjectedReset> {
    let path = request.uri().path();
    let query = request.uri().query().unwrap_or("");

    // The latency is added after routing, so that the request counters count a request
    // as soon as it arrives, while the client still waits for the whole latency.
    let endpoint = Endpoint::from_path(path).filter(|_| request.method() == Method::GET);
    let fault = endpoint.and_then(|endpoint| state.next_fault(endpoint));
    let response = match fault {
        None => route(state, request.method(), path, query).await,
        Some(FaultKind::TooManyRequests) => too_many_requests_response(),
        Some(FaultKind::ServiceUnavailable) => text_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: injected fault\n".to_owned(),
        ),
        Some(FaultKind::Timeout) => {
            tokio::time::sleep(state.faults.timeout_hold).await;
            route(state, request.method(), path, query).await
        }
        Some(FaultKind::Reset) => {
            add_latency(state).await;
            debug!(target: "replay", path, query, fault = "reset", "closing the connection without a response");
            return Err(InjectedReset);
        }
        Some(FaultKind::Truncate) => {
            truncate_response(route(state, request.method(), path, query).await).await
        }
    };
    add_latency(state).await;
    debug!(
        target: "replay",
        method = %request.method(),
        path,
        query,
        status = response.status().as_u16(),
        fault = fault.map(FaultKind::name),
        "served request"
    );
    Ok(response)
}

/// Waits for the configured `--latency-ms` before a response is sent.
async fn add_latency(state: &GatewayState) {
    if !state.faults.latency.is_zero() {
        tokio::time::sleep(state.faults.latency).await;
    }
}

/// Service error that makes hyper close the connection without writing a response.
#[derive(Debug, thiserror::Error)]
#[error("connection closed by an injected reset fault")]
struct InjectedReset;

impl GatewayState {
    /// Draws the fault of the next endpoint request and counts it. A fault that responds without
    /// routing (429, 503, reset) also counts the request in [`RequestCounters::record`], but not
    /// in the per-block counters.
    fn next_fault(&self, endpoint: Endpoint) -> Option<FaultKind> {
        if self.faults.fail_rate <= 0.0 {
            return None;
        }
        let sequence = self.fault_sequence.fetch_add(1, Ordering::Relaxed);
        let kind = self.faults.fault_for(sequence)?;
        self.injected_faults[kind as usize].fetch_add(1, Ordering::Relaxed);
        if matches!(
            kind,
            FaultKind::TooManyRequests | FaultKind::ServiceUnavailable | FaultKind::Reset
        ) {
            self.counters.record(endpoint);
        }
        Some(kind)
    }
}

fn too_many_requests_response() -> Response<ResponseBody> {
    let mut response = text_response(
        StatusCode::TOO_MANY_REQUESTS,
        "Too Many Requests: injected fault\n".to_owned(),
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(INJECTED_RETRY_AFTER_SECS));
    response
}

/// Turns `response` into an HTTP 200 carrying the first half of its body (at least one byte
/// less than the whole), so that the client receives invalid JSON.
async fn truncate_response(response: Response<ResponseBody>) -> Response<ResponseBody> {
    let (mut parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    parts.status = StatusCode::OK;
    Response::from_parts(parts, Full::new(body.slice(..body.len() / 2)))
}

async fn route(
    state: &GatewayState,
    method: &Method,
    path: &str,
    query: &str,
) -> Response<ResponseBody> {
    let Some(endpoint) = Endpoint::from_path(path) else {
        return text_response(
            StatusCode::NOT_FOUND,
            format!("Not Found: no feeder-gateway endpoint at {path}\n"),
        );
    };
    if method != Method::GET {
        let mut response = text_response(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method Not Allowed: {} accepts only GET\n", endpoint.name()),
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    state.counters.record(endpoint);

    let params = QueryParams::parse(query);
    // One recording per request, so a switch during the request cannot mix two chains.
    let recording = state.active_recording();
    let other = state.inactive_recording();
    let result = match endpoint {
        Endpoint::Block => get_block(state, recording, &params).await,
        Endpoint::StateUpdate => get_state_update(state, recording, &params).await,
        Endpoint::Signature => get_signature(state, recording, &params).await,
        Endpoint::PreconfirmedBlock => get_preconfirmed_block(state, recording, &params).await,
        Endpoint::ClassByHash => {
            record_class_request(state, endpoint, &params);
            get_class(
                &recording.classes,
                other.map(|other| &other.classes),
                &params,
            )
            .await
        }
        Endpoint::CompiledClassByClassHash => {
            record_class_request(state, endpoint, &params);
            get_class(
                &recording.compiled_classes,
                other.map(|other| &other.compiled_classes),
                &params,
            )
            .await
        }
    };

    match result {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(error) => {
            if error.starknet_code().is_none() {
                error!(target: "replay", path, query, %error, "failed to serve request");
            }
            error.to_response()
        }
    }
}

async fn get_block(
    state: &GatewayState,
    recording: &Recording,
    params: &QueryParams,
) -> Result<Bytes, GatewayError> {
    let block_number = state.resolve_block(recording, Endpoint::Block, params)?;
    let path = recording.block_file(BLOCK_DIR, block_number);
    read_block_file(&path, block_number).await
}

/// Serves `state_update/N.json`, or with `includeBlock=true` the recorded
/// `state_update_with_block/N.json`, falling back to an object composed of the block and the
/// state update files.
async fn get_state_update(
    state: &GatewayState,
    recording: &Recording,
    params: &QueryParams,
) -> Result<Bytes, GatewayError> {
    let include_block = parse_include_block(params)?;
    let block_number = state.resolve_block(recording, Endpoint::StateUpdate, params)?;

    let state_update_path = recording.block_file(STATE_UPDATE_DIR, block_number);
    if !include_block {
        return read_block_file(&state_update_path, block_number).await;
    }

    let with_block_path = recording.block_file(STATE_UPDATE_WITH_BLOCK_DIR, block_number);
    if let Some(recorded) = read_optional(&with_block_path).await? {
        return Ok(recorded);
    }
    let block_path = recording.block_file(BLOCK_DIR, block_number);
    let block = read_block_file(&block_path, block_number).await?;
    let state_update = read_block_file(&state_update_path, block_number).await?;
    Ok(compose_state_update_with_block(&block, &state_update))
}

/// Builds `{"block": <block>, "state_update": <state update>}` from the recorded bytes, so both
/// parts keep their recorded text.
fn compose_state_update_with_block(block: &[u8], state_update: &[u8]) -> Bytes {
    let block = block.trim_ascii();
    let state_update = state_update.trim_ascii();
    let mut body = Vec::with_capacity(block.len() + state_update.len() + 32);
    body.extend_from_slice(b"{\"block\": ");
    body.extend_from_slice(block);
    body.extend_from_slice(b", \"state_update\": ");
    body.extend_from_slice(state_update);
    body.push(b'}');
    Bytes::from(body)
}

#[derive(Debug, Deserialize)]
struct StateUpdateWithBlockSignature {
    block: Option<BlockHashField>,
    signature: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct SignatureBody<'a> {
    block_hash: &'a str,
    signature: &'a serde_json::Value,
}

/// Serves `signature/N.json`. Without it, takes the `signature` array of
/// `state_update_with_block/N.json` and returns `{"block_hash", "signature"}`.
async fn get_signature(
    state: &GatewayState,
    recording: &Recording,
    params: &QueryParams,
) -> Result<Bytes, GatewayError> {
    let block_number = state.resolve_block(recording, Endpoint::Signature, params)?;

    let signature_path = recording.block_file(SIGNATURE_DIR, block_number);
    if let Some(recorded) = read_optional(&signature_path).await? {
        return Ok(recorded);
    }

    let with_block_path = recording.block_file(STATE_UPDATE_WITH_BLOCK_DIR, block_number);
    let Some(with_block) = read_optional(&with_block_path).await? else {
        return Err(GatewayError::BlockNumberNotFound(block_number));
    };
    let parsed: StateUpdateWithBlockSignature =
        serde_json::from_slice(&with_block).map_err(|source| GatewayError::InvalidRecording {
            path: with_block_path,
            source,
        })?;
    let Some(signature) = parsed.signature.filter(serde_json::Value::is_array) else {
        return Err(GatewayError::BlockNumberNotFound(block_number));
    };
    let block_hash = parsed
        .block
        .and_then(|block| block.block_hash)
        .or_else(|| recording.block_hashes[block_number as usize].clone())
        .ok_or(GatewayError::BlockNumberNotFound(block_number))?;

    let body = serde_json::to_vec(&SignatureBody {
        block_hash: &block_hash,
        signature: &signature,
    })
    .expect("a string and a JSON array always serialise");
    Ok(Bytes::from(body))
}

/// Serves the block after the last visible one as a pre-confirmed block. Any other block
/// number is `BLOCK_NOT_FOUND`, and so is every number once the whole recording is visible.
async fn get_preconfirmed_block(
    state: &GatewayState,
    recording: &Recording,
    params: &QueryParams,
) -> Result<Bytes, GatewayError> {
    let next = state.visible_block_count(recording);
    let block_number = match parse_block_id(params)? {
        BlockId::Number(number) => number,
        BlockId::Latest => next,
        BlockId::Hash(_) => {
            return Err(malformed(
                "get_preconfirmed_block takes blockNumber, not blockHash.",
            ))
        }
    };
    state
        .counters
        .record_block(Endpoint::PreconfirmedBlock, block_number);
    if block_number != next || block_number >= recording.block_count {
        return Err(GatewayError::BlockNumberNotFound(block_number));
    }

    let with_block_path = recording.block_file(STATE_UPDATE_WITH_BLOCK_DIR, block_number);
    let (block, state_update) = match read_optional(&with_block_path).await? {
        Some(recorded) => {
            let mut parsed = parse_recording::<serde_json::Value>(&with_block_path, &recorded)?;
            (parsed["block"].take(), parsed["state_update"].take())
        }
        None => {
            let block_path = recording.block_file(BLOCK_DIR, block_number);
            let block = read_block_file(&block_path, block_number).await?;
            let state_update_path = recording.block_file(STATE_UPDATE_DIR, block_number);
            let state_update = read_block_file(&state_update_path, block_number).await?;
            (
                parse_recording(&block_path, &block)?,
                parse_recording(&state_update_path, &state_update)?,
            )
        }
    };
    let body = compose_preconfirmed_block(block_number, &block, &state_update);
    Ok(Bytes::from(
        serde_json::to_vec(&body).expect("a JSON value always serialises"),
    ))
}

fn parse_recording<T: serde::de::DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
) -> Result<T, GatewayError> {
    serde_json::from_slice(bytes).map_err(|source| GatewayError::InvalidRecording {
        path: path.to_path_buf(),
        source,
    })
}

/// Builds a `get_preconfirmed_block` reply from a recorded block and its state update. It
/// has status `PRE_CONFIRMED`, the block's header fields, its transactions and receipts,
/// and one state diff per transaction. Header fields that old blocks lack get the chain
/// model's defaults. The recording has only the whole block's diff, so the last
/// transaction carries it and the others an empty diff. A block without transactions has
/// no diff.
fn compose_preconfirmed_block(
    block_number: u64,
    block: &serde_json::Value,
    state_update: &serde_json::Value,
) -> serde_json::Value {
    use serde_json::{json, Value};

    let zero_prices = json!({ "price_in_wei": "0x0", "price_in_fri": "0x0" });
    let field_or = |name: &str, default: Value| match block.get(name) {
        Some(value) if !value.is_null() => value.clone(),
        _ => default,
    };
    // Blocks before Starknet 0.13.1 carry one wei price in `gas_price`.
    let legacy_l1_gas_price = json!({
        "price_in_wei": field_or("gas_price", json!("0x0")),
        "price_in_fri": "0x0",
    });
    let transactions = field_or("transactions", json!([]));
    let transaction_count = transactions.as_array().map_or(0, Vec::len);
    let empty_diff = json!({
        "storage_diffs": {},
        "nonces": {},
        "deployed_contracts": [],
        "old_declared_contracts": [],
        "declared_classes": [],
        "replaced_classes": [],
    });
    let mut state_diffs = vec![empty_diff; transaction_count];
    if let Some(last) = state_diffs.last_mut() {
        *last = state_update["state_diff"].clone();
    }

    json!({
        "status": "PRE_CONFIRMED",
        "starknet_version": field_or("starknet_version", json!("")),
        "l1_da_mode": field_or("l1_da_mode", json!("CALLDATA")),
        "l1_gas_price": field_or("l1_gas_price", legacy_l1_gas_price),
        "l1_data_gas_price": field_or("l1_data_gas_price", zero_prices.clone()),
        "l2_gas_price": field_or("l2_gas_price", zero_prices),
        "timestamp": field_or("timestamp", json!(0)),
        "sequencer_address": field_or("sequencer_address", json!("0x0")),
        "transactions": transactions,
        "transaction_receipts": field_or("transaction_receipts", json!([])),
        "transaction_state_diffs": state_diffs,
        "block_number": block_number,
    })
}

/// Serves a class or compiled class by `classHash`, from `classes` or else from `fallback`.
/// Any `blockNumber` parameter is ignored.
async fn get_class(
    classes: &HashMap<String, PathBuf>,
    fallback: Option<&HashMap<String, PathBuf>>,
    params: &QueryParams,
) -> Result<Bytes, GatewayError> {
    let text = params
        .get("classHash")
        .ok_or_else(|| malformed("Missing query parameter classHash."))?;
    let key = normalize_hex(text).ok_or_else(|| {
        malformed(format!(
            "Invalid classHash '{text}': expected a hexadecimal felt such as 0x1a2b."
        ))
    })?;
    let Some(path) = classes
        .get(&key)
        .or_else(|| fallback.and_then(|fallback| fallback.get(&key)))
    else {
        return Err(GatewayError::UndeclaredClass(key));
    };
    read_optional(path)
        .await?
        .ok_or(GatewayError::UndeclaredClass(key))
}

/// Counts a class request by its `classHash` parameter, when that is a valid felt.
fn record_class_request(state: &GatewayState, endpoint: Endpoint, params: &QueryParams) {
    if let Some(key) = params.get("classHash").and_then(normalize_hex) {
        state.counters.record_class(endpoint, &key);
    }
}

/// Reads a block-indexed file. A missing file means that the recording lacks the block, so the
/// error is `BLOCK_NOT_FOUND`.
async fn read_block_file(path: &Path, block_number: u64) -> Result<Bytes, GatewayError> {
    read_optional(path)
        .await?
        .ok_or(GatewayError::BlockNumberNotFound(block_number))
}

/// Reads a file on the blocking thread pool. Returns `Ok(None)` when it does not exist.
async fn read_optional(path: &Path) -> Result<Option<Bytes>, GatewayError> {
    match tokio::fs::read(path).await {
        Ok(contents) => Ok(Some(Bytes::from(contents))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(GatewayError::ReadFailed {
            path: path.to_path_buf(),
            source,
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Query parameters and block identifiers
// ---------------------------------------------------------------------------------------------

/// Decoded query parameters in request order.
#[derive(Debug, Default, PartialEq, Eq)]
struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Parses an `application/x-www-form-urlencoded` query string.
    fn parse(query: &str) -> Self {
        let pairs = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(name), percent_decode(value))
            })
            .collect();
        Self(pairs)
    }

    /// Returns the value of the first parameter called `name`.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Decodes `%XX` escapes and `+` (space). A `%` without two hex digits is kept as is, and bytes
/// that are not UTF-8 become U+FFFD.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'+' {
            decoded.push(b' ');
            index += 1;
            continue;
        }
        if byte == b'%' {
            let high = bytes
                .get(index + 1)
                .and_then(|&digit| hex_digit_value(digit));
            let low = bytes
                .get(index + 2)
                .and_then(|&digit| hex_digit_value(digit));
            if let (Some(high), Some(low)) = (high, low) {
                decoded.push(high << 4 | low);
                index += 3;
                continue;
            }
        }
        decoded.push(byte);
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_digit_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Block selected by `blockNumber` or `blockHash`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BlockId {
    Number(u64),
    Latest,
    /// Normalised block hash (see [`normalize_hex`]).
    Hash(String),
}

fn parse_block_id(params: &QueryParams) -> Result<BlockId, GatewayError> {
    match (params.get("blockNumber"), params.get("blockHash")) {
        (Some(_), Some(_)) => Err(malformed("Pass either blockNumber or blockHash, not both.")),
        (Some("latest"), None) => Ok(BlockId::Latest),
        (Some(text), None) => {
            let number = text
                .bytes()
                .all(|byte| byte.is_ascii_digit())
                .then(|| text.parse::<u64>().ok())
                .flatten();
            number.map(BlockId::Number).ok_or_else(|| {
                malformed(format!(
                    "Invalid blockNumber '{text}': expected a non-negative integer or 'latest'."
                ))
            })
        }
        (None, Some(text)) => normalize_hex(text).map(BlockId::Hash).ok_or_else(|| {
            malformed(format!(
                "Invalid blockHash '{text}': expected a hexadecimal felt such as 0x1a2b."
            ))
        }),
        (None, None) => Err(malformed(
            "Missing block identifier: pass blockNumber (a number or 'latest') or blockHash.",
        )),
    }
}

fn parse_include_block(params: &QueryParams) -> Result<bool, GatewayError> {
    match params.get("includeBlock") {
        None => Ok(false),
        Some(text) if text.eq_ignore_ascii_case("true") => Ok(true),
        Some(text) if text.eq_ignore_ascii_case("false") => Ok(false),
        Some(text) => Err(malformed(format!(
            "Invalid includeBlock '{text}': expected 'true' or 'false'."
        ))),
    }
}

impl GatewayState {
    /// Resolves the block identifier of `params` to a visible block number and records the
    /// request in the per-block counters.
    fn resolve_block(
        &self,
        recording: &Recording,
        endpoint: Endpoint,
        params: &QueryParams,
    ) -> Result<u64, GatewayError> {
        let block_id = parse_block_id(params)?;
        let visible_blocks = self.visible_block_count(recording);
        let resolved = match &block_id {
            BlockId::Number(number) if *number < visible_blocks => Ok(*number),
            BlockId::Number(number) => Err(GatewayError::BlockNumberNotFound(*number)),
            BlockId::Latest => visible_blocks
                .checked_sub(1)
                .ok_or(GatewayError::NoBlockReleased),
            BlockId::Hash(key) => match recording.block_numbers_by_hash.get(key) {
                Some(&number) if number < visible_blocks => Ok(number),
                _ => Err(GatewayError::BlockHashNotFound(key.clone())),
            },
        };

        let counted_block = match (&block_id, &resolved) {
            (BlockId::Number(number), _) | (_, Ok(number)) => Some(*number),
            _ => None,
        };
        if let Some(block_number) = counted_block {
            self.counters.record_block(endpoint, block_number);
        }
        resolved
    }
}

// ---------------------------------------------------------------------------------------------
// Server and release tasks
// ---------------------------------------------------------------------------------------------

/// Waits until shutdown is requested or the [`ReplayGateway`] holding the sender is dropped.
async fn wait_for_shutdown(shutdown: &mut watch::Receiver<bool>) {
    // `wait_for` fails only when the sender is gone, which also means "stop".
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn serve_connections(
    listener: TcpListener,
    state: Arc<GatewayState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let connection_shutdown = shutdown.clone();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = wait_for_shutdown(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(
                        stream,
                        peer,
                        Arc::clone(&state),
                        connection_shutdown.clone(),
                    ));
                }
                Err(error) => {
                    warn!(
                        target: "replay",
                        %error,
                        "failed to accept a connection; retrying in 100 ms"
                    );
                    tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                }
            },
            Some(joined) = connections.join_next(), if !connections.is_empty() => {
                if let Err(error) = joined {
                    warn!(target: "replay", %error, "connection task failed");
                }
            }
        }
    }
    drop(listener);

    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE_PERIOD, drain)
        .await
        .is_err()
    {
        warn!(
            target: "replay",
            open_connections = connections.len(),
            grace_period_ms = SHUTDOWN_GRACE_PERIOD.as_millis(),
            "connections still open after the shutdown grace period; closing them"
        );
        connections.shutdown().await;
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    state: Arc<GatewayState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = service_fn(move |request: Request<Incoming>| {
        let state = Arc::clone(&state);
        async move { handle_request(&state, &request).await }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);

    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = wait_for_shutdown(&mut shutdown) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        debug!(target: "replay", %peer, %error, "connection closed with an error");
    }
}

/// Makes one more block visible per `interval` until every recorded block is visible.
async fn release_blocks(
    state: Arc<GatewayState>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let recorded_blocks = state
        .fork
        .as_ref()
        .map_or(state.recording.block_count, |fork| {
            fork.recording.block_count.max(state.recording.block_count)
        });
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);

    while state.visible_blocks.load(Ordering::Acquire) < recorded_blocks {
        tokio::select! {
            _ = ticker.tick() => {}
            () = wait_for_shutdown(&mut shutdown) => return,
        }
        let visible = state.visible_blocks.fetch_add(1, Ordering::AcqRel) + 1;
        info!(target: "replay", block_number = visible - 1, visible, "released block");
    }
    info!(target: "replay", visible = recorded_blocks, "released every recorded block");
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Instant;

    use serde_json::{json, Value};

    const BLOCK_NOT_FOUND: &str = "StarknetErrorCode.BLOCK_NOT_FOUND";
    const UNDECLARED_CLASS: &str = "StarknetErrorCode.UNDECLARED_CLASS";
    const MALFORMED_REQUEST: &str = "StarknetErrorCode.MALFORMED_REQUEST";

    const MAINNET_BLOCK_1_HASH: &str =
        "0x2a70fb03fe363a2d6be843343a1d81ce6abeda1e9bd5cc6ad8fa9f45e30fdeb";
    const MAINNET_CLASS_HASH: &str =
        "0x10455c752b86932ce552f2b0fe81a880746649b9aee7e0d842bf3f52378f9f8";
    /// Sepolia Sierra class whose class and compiled class are both recorded.
    const SEPOLIA_SIERRA_CLASS_HASH: &str =
        "0x1a736d6ed154502257f02b1ccdf4d9d1089f80811cd6acad48e6b6a9d1f2003";
    /// Sepolia Sierra class of which only the compiled class is recorded.
    const SEPOLIA_COMPILED_ONLY_CLASS_HASH: &str =
        "0x903752516de5c04fe91600ca6891e325278b2dfc54880ae11a809abb364844";

    const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

    use crate::testdata::recordings_dir;

    /// HTTP client that never uses a proxy, so requests go straight to the local gateway.
    fn http_client() -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("failed to build the HTTP client")
    }

    #[derive(Debug)]
    struct Reply {
        status: u16,
        content_type: Option<String>,
        body: Bytes,
    }

    impl Reply {
        fn json(&self) -> Value {
            serde_json::from_slice(&self.body).unwrap_or_else(|error| {
                panic!(
                    "response body is not JSON ({error}): {}",
                    String::from_utf8_lossy(&self.body)
                )
            })
        }

        fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }
    }

    async fn get(client: &reqwest::Client, url: &str) -> Reply {
        let response = client
            .get(url)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {url} failed: {error}"));
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes()
            .await
            .unwrap_or_else(|error| panic!("reading the body of GET {url} failed: {error}"));
        Reply {
            status,
            content_type,
            body,
        }
    }

    async fn start_gateway(config: ReplayConfig) -> ReplayGateway {
        let dir = config.dir.clone();
        ReplayGateway::start(config)
            .await
            .unwrap_or_else(|error| panic!("failed to start on {}: {error:#}", dir.display()))
    }

    fn read_recorded(path: &Path) -> Bytes {
        let contents = std::fs::read(path)
            .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()));
        Bytes::from(contents)
    }

    fn write_file(root: &Path, relative: &str, contents: &str) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().expect("relative path has a parent"))
            .expect("failed to create the test directory");
        std::fs::write(&path, contents).expect("failed to write the test file");
    }

    fn assert_gateway_error(reply: &Reply, code: &str, message: &str) {
        assert_eq!(reply.status, 400, "body: {}", reply.text());
        assert_eq!(reply.content_type.as_deref(), Some("application/json"));
        assert_eq!(reply.json(), json!({ "code": code, "message": message }));
    }

    // --- pure helpers ---

    #[test]
    fn normalize_hex_cases() {
        assert_eq!(normalize_hex("0x0010aB").as_deref(), Some("10ab"));
        assert_eq!(normalize_hex("0X10AB").as_deref(), Some("10ab"));
        assert_eq!(normalize_hex("0010ab").as_deref(), Some("10ab"));
        assert_eq!(normalize_hex("0x0").as_deref(), Some("0"));
        assert_eq!(normalize_hex("0x000").as_deref(), Some("0"));
        assert_eq!(
            normalize_hex(&format!("0x{}", "0".repeat(80))).as_deref(),
            Some("0")
        );
        assert_eq!(normalize_hex(""), None);
        assert_eq!(normalize_hex("0x"), None);
        assert_eq!(normalize_hex("0xg1"), None);
        assert_eq!(normalize_hex("-0x1"), None);
        assert_eq!(normalize_hex(&format!("0x1{}", "0".repeat(64))), None);
    }

    #[test]
    fn query_params_decode() {
        let params = QueryParams::parse(
            "blockNumber=5&classHash=%30x1%2B&a+b=c+d&&flag&blockNumber=6&bad=%zz%4",
        );
        assert_eq!(params.get("blockNumber"), Some("5"));
        assert_eq!(params.get("classHash"), Some("0x1+"));
        assert_eq!(params.get("a b"), Some("c d"));
        assert_eq!(params.get("flag"), Some(""));
        assert_eq!(params.get("bad"), Some("%zz%4"));
        assert_eq!(params.get("missing"), None);
        assert_eq!(QueryParams::parse(""), QueryParams::default());
    }

    #[test]
    fn block_id_parsing() {
        let parse = |query: &str| parse_block_id(&QueryParams::parse(query));
        assert_eq!(parse("blockNumber=7").unwrap(), BlockId::Number(7));
        assert_eq!(parse("blockNumber=latest").unwrap(), BlockId::Latest);
        assert_eq!(
            parse("blockHash=0x00AB").unwrap(),
            BlockId::Hash("ab".to_owned())
        );
        for query in [
            "",
            "blockNumber=",
            "blockNumber=+1",
            "blockNumber=-1",
            "blockNumber=0x1",
            "blockNumber=pending",
            "blockNumber=99999999999999999999999",
            "blockHash=xyz",
            "blockNumber=1&blockHash=0x1",
        ] {
            let error = parse(query).expect_err(query);
            assert_eq!(
                error.starknet_code(),
                Some(MALFORMED_REQUEST),
                "query {query:?}"
            );
        }
    }

    #[test]
    fn compose_keeps_recorded_text() {
        let composed = compose_state_update_with_block(b"{\n  \"a\": 1\n}\n", b" {\"b\":2}");
        assert_eq!(
            &composed[..],
            b"{\"block\": {\n  \"a\": 1\n}, \"state_update\": {\"b\":2}}"
        );
    }

    #[test]
    fn base_url_replaces_unspecified_address() {
        let v4: SocketAddr = "0.0.0.0:9545".parse().unwrap();
        let v6: SocketAddr = "[::]:9545".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:9545".parse().unwrap();
        assert_eq!(base_url_for(v4), "http://127.0.0.1:9545/feeder_gateway");
        assert_eq!(base_url_for(v6), "http://[::1]:9545/feeder_gateway");
        assert_eq!(base_url_for(local), "http://127.0.0.1:9545/feeder_gateway");
    }

    // --- fault injection (no recordings needed) ---

    /// Starts a gateway over a one-block recording that fails every request with `kind`.
    async fn start_faulty_gateway(root: &Path, kind: FaultKind) -> ReplayGateway {
        write_file(
            root,
            "block/0.json",
            r#"{"block_hash": "0x00ab", "block_number": 0}"#,
        );
        let config = ReplayConfig {
            faults: FaultConfig {
                fail_rate: 1.0,
                kinds: vec![kind],
                timeout_hold: Duration::from_millis(600),
                ..FaultConfig::default()
            },
            ..ReplayConfig::new(root)
        };
        start_gateway(config).await
    }

    #[tokio::test]
    async fn fault_429_has_retry_after() {
        let root = tempfile::tempdir().unwrap();
        let gateway = start_faulty_gateway(root.path(), FaultKind::TooManyRequests).await;
        let url = format!("{}/get_block?blockNumber=0", gateway.base_url());

        let response = http_client().get(&url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 429);
        let retry_after = response.headers().get(RETRY_AFTER).cloned();
        assert_eq!(retry_after, Some(HeaderValue::from_static("1")));
        assert_eq!(gateway.fault_count(FaultKind::TooManyRequests), 1);
        assert_eq!(gateway.request_count("get_block"), 1);
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn fault_503_served() {
        let root = tempfile::tempdir().unwrap();
        let gateway = start_faulty_gateway(root.path(), FaultKind::ServiceUnavailable).await;
        let reply = get(
            &http_client(),
            &format!("{}/get_block?blockNumber=0", gateway.base_url()),
        )
        .await;
        assert_eq!(reply.status, 503);
        assert_eq!(gateway.fault_count(FaultKind::ServiceUnavailable), 1);
        assert_eq!(gateway.fault_count(FaultKind::TooManyRequests), 0);
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn fault_timeout_holds_request() {
        let root = tempfile::tempdir().unwrap();
        let gateway = start_faulty_gateway(root.path(), FaultKind::Timeout).await;
        let url = format!("{}/get_block?blockNumber=0", gateway.base_url());
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_millis(200))
            .build()
            .unwrap();

        let error = client
            .get(&url)
            .send()
            .await
            .expect_err("the hold outlasts 200 ms");
        assert!(error.is_timeout(), "{error}");

        let started = Instant::now();
        let reply = get(&http_client(), &url).await;
        assert_eq!(reply.status, 200, "the held request is answered normally");
        assert!(started.elapsed() >= Duration::from_millis(600));
        assert_eq!(gateway.fault_count(FaultKind::Timeout), 2);
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn fault_reset_closes_connection() {
        let root = tempfile::tempdir().unwrap();
        let gateway = start_faulty_gateway(root.path(), FaultKind::Reset).await;
        let url = format!("{}/get_block?blockNumber=0", gateway.base_url());

        let error = http_client()
            .get(&url)
            .send()
            .await
            .expect_err("a reset sends no response");
        assert!(!error.is_timeout(), "{error}");
        assert_eq!(gateway.fault_count(FaultKind::Reset), 1);
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn fault_truncate_cuts_body() {
        let root = tempfile::tempdir().unwrap();
        let gateway = start_faulty_gateway(root.path(), FaultKind::Truncate).await;
        let base = gateway.base_url();
        let block = r#"{"block_hash": "0x00ab", "block_number": 0}"#;

        let reply = get(&http_client(), &format!("{base}/get_block?blockNumber=0")).await;
        assert_eq!(reply.status, 200);
        assert_eq!(&reply.body[..], &block.as_bytes()[..block.len() / 2]);

        let missing = get(&http_client(), &format!("{base}/get_block?blockNumber=5")).await;
        assert_eq!(missing.status, 200, "a truncated error is sent as 200");
        assert!(serde_json::from_slice::<Value>(&missing.body).is_err());
        assert_eq!(gateway.fault_count(FaultKind::Truncate), 2);
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn fault_skips_unknown_paths() {
        let root = tempfile::tempdir().unwrap();
        let gateway = start_faulty_gateway(root.path(), FaultKind::ServiceUnavailable).await;
        let reply = get(
            &http_client(),
            &format!("{}/no_such_endpoint", gateway.base_url()),
        )
        .await;
        assert_eq!(reply.status, 404);
        assert_eq!(gateway.fault_count(FaultKind::ServiceUnavailable), 0);
        gateway.shutdown().await;
    }

    #[test]
    fn fault_sequence_follows_seed() {
        let config = FaultConfig {
            fail_rate: 0.3,
            seed: 42,
            ..FaultConfig::default()
        };
        let first: Vec<_> = (0..1000)
            .map(|sequence| config.fault_for(sequence))
            .collect();
        let again: Vec<_> = (0..1000)
            .map(|sequence| config.fault_for(sequence))
            .collect();
        assert_eq!(first, again);

        let other_seed = FaultConfig {
            seed: 43,
            ..config.clone()
        };
        let other: Vec<_> = (0..1000)
            .map(|sequence| other_seed.fault_for(sequence))
            .collect();
        assert_ne!(first, other);

        let failed = first.iter().filter(|fault| fault.is_some()).count();
        assert!(
            (230..=370).contains(&failed),
            "{failed} of 1000 failed at rate 0.3"
        );
        for kind in FaultKind::ALL {
            assert!(first.contains(&Some(kind)), "{kind} never drawn");
        }
        let none = FaultConfig::default();
        assert!((0..1000).all(|sequence| none.fault_for(sequence).is_none()));
    }

    #[test]
    fn fault_kind_names_parse() {
        for kind in FaultKind::ALL {
            assert_eq!(kind.name().parse::<FaultKind>(), Ok(kind));
        }
        assert_eq!(" Timeout ".parse::<FaultKind>(), Ok(FaultKind::Timeout));
        let error = "500".parse::<FaultKind>().unwrap_err();
        assert!(error.contains("invalid fault kind '500'"), "{error}");
    }

    #[tokio::test]
    async fn start_rejects_invalid_fail_rate() {
        let root = tempfile::tempdir().unwrap();
        write_file(root.path(), "block/0.json", r#"{"block_hash": "0x1"}"#);
        for (fail_rate, kinds) in [
            (1.5, FaultKind::ALL.to_vec()),
            (-0.1, FaultKind::ALL.to_vec()),
            (f64::NAN, FaultKind::ALL.to_vec()),
            (0.5, Vec::new()),
        ] {
            let config = ReplayConfig {
                faults: FaultConfig {
                    fail_rate,
                    kinds,
                    ..FaultConfig::default()
                },
                ..ReplayConfig::new(root.path())
            };
            let error = ReplayGateway::start(config)
                .await
                .expect_err("an invalid fault configuration must be rejected");
            assert!(format!("{error:#}").contains("fail rate"), "{error:#}");
        }
    }

    // --- start-up checks (no recordings needed) ---

    #[tokio::test]
    async fn start_rejects_missing_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("absent");
        let error = ReplayGateway::start(ReplayConfig::new(&dir))
            .await
            .expect_err("a missing directory must be rejected");
        let message = format!("{error:#}");
        assert!(message.contains("does not exist"), "{message}");
        assert!(message.contains(&dir.display().to_string()), "{message}");
    }

    #[tokio::test]
    async fn start_rejects_missing_block_directory() {
        let root = tempfile::tempdir().unwrap();
        write_file(root.path(), "state_update/0.json", "{}");
        let error = ReplayGateway::start(ReplayConfig::new(root.path()))
            .await
            .expect_err("a directory without block/ must be rejected");
        let message = format!("{error:#}");
        assert!(message.contains("no block/ subdirectory"), "{message}");
    }

    #[tokio::test]
    async fn start_rejects_missing_block_zero() {
        let root = tempfile::tempdir().unwrap();
        write_file(root.path(), "block/1.json", r#"{"block_hash": "0x1"}"#);
        write_file(root.path(), "block/latest.json", r#"{"block_hash": "0x1"}"#);
        let error = ReplayGateway::start(ReplayConfig::new(root.path()))
            .await
            .expect_err("a recording without block 0 must be rejected");
        let message = format!("{error:#}");
        assert!(message.contains("no block 0"), "{message}");
    }

    #[tokio::test]
    async fn start_rejects_zero_release_interval() {
        let root = tempfile::tempdir().unwrap();
        write_file(root.path(), "block/0.json", r#"{"block_hash": "0x1"}"#);
        let config = ReplayConfig {
            release_interval: Some(Duration::ZERO),
            ..ReplayConfig::new(root.path())
        };
        let error = ReplayGateway::start(config)
            .await
            .expect_err("a zero release interval must be rejected");
        assert!(
            format!("{error:#}").contains("release_interval"),
            "{error:#}"
        );
    }

    #[tokio::test]
    async fn minimal_recording_served() {
        let root = tempfile::tempdir().unwrap();
        let block = r#"{"block_hash": "0x00ab", "block_number": 0}"#;
        let class = r#"{"abi": []}"#;
        write_file(root.path(), "block/0.json", block);
        write_file(root.path(), "block/007.json", block);
        write_file(root.path(), "class/0x000abc.json", class);
        write_file(root.path(), "class/notes.json", "{}");
        let gateway = start_gateway(ReplayConfig::new(root.path())).await;
        let client = http_client();
        let base = gateway.base_url();

        assert_eq!(gateway.recorded_blocks(), 1);
        let by_hash = get(&client, &format!("{base}/get_block?blockHash=0xAB")).await;
        assert_eq!(by_hash.status, 200);
        assert_eq!(by_hash.body, block.as_bytes());

        let class_reply = get(
            &client,
            &format!("{base}/get_class_by_hash?classHash=0xABC"),
        )
        .await;
        assert_eq!(class_reply.status, 200);
        assert_eq!(class_reply.body, class.as_bytes());

        // The recording has no state_update/0.json.
        let state_update = get(&client, &format!("{base}/get_state_update?blockNumber=0")).await;
        assert_gateway_error(
            &state_update,
            BLOCK_NOT_FOUND,
            "Block number 0 was not found.",
        );
        let composed = get(
            &client,
            &format!("{base}/get_state_update?blockNumber=0&includeBlock=true"),
        )
        .await;
        assert_gateway_error(&composed, BLOCK_NOT_FOUND, "Block number 0 was not found.");
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn unreadable_recording_server_error() {
        let root = tempfile::tempdir().unwrap();
        write_file(root.path(), "block/0.json", r#"{"block_hash": "0x1"}"#);
        write_file(root.path(), "state_update_with_block/0.json", "not JSON");
        std::fs::create_dir_all(root.path().join("state_update/0.json")).unwrap();
        let gateway = start_gateway(ReplayConfig::new(root.path())).await;
        let client = http_client();
        let base = gateway.base_url();

        let signature = get(&client, &format!("{base}/get_signature?blockNumber=0")).await;
        assert_eq!(signature.status, 500, "{}", signature.text());
        assert!(
            signature.text().contains("is not valid JSON"),
            "{}",
            signature.text()
        );

        // state_update/0.json is a directory, so reading it fails with an error other than
        // "not found".
        let state_update = get(&client, &format!("{base}/get_state_update?blockNumber=0")).await;
        assert_eq!(state_update.status, 500, "{}", state_update.text());
        assert!(
            state_update.text().contains("failed to read"),
            "{}",
            state_update.text()
        );
        gateway.shutdown().await;
    }

    // --- blocks ---

    #[tokio::test]
    async fn sepolia_serves_contiguous_range_only() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("sepolia");
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();
        let base = gateway.base_url();

        assert_eq!(gateway.recorded_blocks(), 8);
        assert_eq!(gateway.visible_blocks(), 8);

        let latest = get(&client, &format!("{base}/get_block?blockNumber=latest")).await;
        assert_eq!(latest.status, 200);
        assert_eq!(latest.body, read_recorded(&dir.join("block/7.json")));

        for stray in [18, 4850] {
            let reply = get(&client, &format!("{base}/get_block?blockNumber={stray}")).await;
            assert_gateway_error(
                &reply,
                BLOCK_NOT_FOUND,
                &format!("Block number {stray} was not found."),
            );
        }
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn get_block_by_number() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("mainnet");
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();

        for number in 0..3 {
            let url = format!("{}/get_block?blockNumber={number}", gateway.base_url());
            let reply = get(&client, &url).await;
            assert_eq!(reply.status, 200, "block {number}: {}", reply.text());
            assert_eq!(reply.content_type.as_deref(), Some("application/json"));
            assert_eq!(
                reply.body,
                read_recorded(&dir.join(format!("block/{number}.json")))
            );
        }
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn get_block_latest() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("mainnet");
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();

        let url = format!("{}/get_block?blockNumber=latest", gateway.base_url());
        let reply = get(&client, &url).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, read_recorded(&dir.join("block/2.json")));
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn get_block_by_hash() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("mainnet");
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();
        let base = gateway.base_url();
        let expected = read_recorded(&dir.join("block/1.json"));

        let padded = format!("0x000{}", MAINNET_BLOCK_1_HASH[2..].to_uppercase());
        for hash in [MAINNET_BLOCK_1_HASH, padded.as_str()] {
            let reply = get(&client, &format!("{base}/get_block?blockHash={hash}")).await;
            assert_eq!(reply.status, 200, "hash {hash}: {}", reply.text());
            assert_eq!(reply.body, expected, "hash {hash}");
        }

        let unknown = get(&client, &format!("{base}/get_block?blockHash=0x0123")).await;
        assert_gateway_error(&unknown, BLOCK_NOT_FOUND, "Block hash 0x123 was not found.");
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn unreleased_block_not_found() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("mainnet");
        let config = ReplayConfig {
            initial_blocks: Some(1),
            ..ReplayConfig::new(&dir)
        };
        let gateway = start_gateway(config).await;
        let client = http_client();
        let base = gateway.base_url();
        assert_eq!(gateway.visible_blocks(), 1);
        assert_eq!(gateway.recorded_blocks(), 3);

        let block = get(&client, &format!("{base}/get_block?blockNumber=1")).await;
        assert_gateway_error(&block, BLOCK_NOT_FOUND, "Block number 1 was not found.");

        let by_hash = get(
            &client,
            &format!("{base}/get_block?blockHash={MAINNET_BLOCK_1_HASH}"),
        )
        .await;
        assert_eq!(by_hash.status, 400);
        assert_eq!(by_hash.json()["code"], BLOCK_NOT_FOUND);

        let state_update = get(&client, &format!("{base}/get_state_update?blockNumber=1")).await;
        assert_gateway_error(
            &state_update,
            BLOCK_NOT_FOUND,
            "Block number 1 was not found.",
        );

        let signature = get(&client, &format!("{base}/get_signature?blockNumber=1")).await;
        assert_gateway_error(&signature, BLOCK_NOT_FOUND, "Block number 1 was not found.");

        let latest = get(&client, &format!("{base}/get_block?blockNumber=latest")).await;
        assert_eq!(latest.status, 200);
        assert_eq!(latest.body, read_recorded(&dir.join("block/0.json")));
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn latest_not_found_before_release() {
        let Some(data) = recordings_dir() else { return };
        let config = ReplayConfig {
            initial_blocks: Some(0),
            ..ReplayConfig::new(data.join("mainnet"))
        };
        let gateway = start_gateway(config).await;
        let client = http_client();
        let base = gateway.base_url();

        for endpoint in ["get_block", "get_state_update", "get_signature"] {
            let reply = get(&client, &format!("{base}/{endpoint}?blockNumber=latest")).await;
            assert_eq!(reply.status, 400, "{endpoint}");
            assert_eq!(reply.json()["code"], BLOCK_NOT_FOUND, "{endpoint}");
        }
        let block_0 = get(&client, &format!("{base}/get_block?blockNumber=0")).await;
        assert_gateway_error(&block_0, BLOCK_NOT_FOUND, "Block number 0 was not found.");
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn release_one_block_per_interval() {
        let Some(data) = recordings_dir() else { return };
        let client = http_client();
        let interval = Duration::from_millis(200);
        let config = ReplayConfig {
            initial_blocks: Some(0),
            release_interval: Some(interval),
            ..ReplayConfig::new(data.join("mainnet"))
        };
        let started = Instant::now();
        let gateway = start_gateway(config).await;
        let url = format!("{}/get_block?blockNumber=latest", gateway.base_url());

        // Each entry is a newly seen latest block (None = not found) and when it was first seen.
        let mut observed: Vec<(Option<u64>, Duration)> = Vec::new();
        let deadline = started + Duration::from_secs(10);
        for _ in 0..1000 {
            if Instant::now() > deadline {
                break;
            }
            let reply = get(&client, &url).await;
            let latest = if reply.status == 200 {
                Some(reply.json()["block_number"].as_u64().expect("block_number"))
            } else {
                assert_eq!(reply.json()["code"], BLOCK_NOT_FOUND);
                None
            };
            if observed.last().map(|(block, _)| *block) != Some(latest) {
                observed.push((latest, started.elapsed()));
            }
            if latest == Some(2) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        let sequence: Vec<Option<u64>> = observed.iter().map(|(block, _)| *block).collect();
        assert_eq!(sequence, [None, Some(0), Some(1), Some(2)]);
        for (index, (block, seen_after)) in observed.iter().enumerate().skip(1) {
            // Block k is released no earlier than (k + 1) intervals after start.
            assert!(
                *seen_after >= interval * index as u32,
                "block {block:?} seen after {seen_after:?}, \
                 earlier than {index} intervals of {interval:?}"
            );
        }
        assert_eq!(gateway.visible_blocks(), 3);
        gateway.shutdown().await;
    }

    // --- state updates ---

    #[tokio::test]
    async fn get_state_update_plain() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("mainnet");
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();
        let base = gateway.base_url();

        for query in ["blockNumber=1", "blockNumber=1&includeBlock=false"] {
            let reply = get(&client, &format!("{base}/get_state_update?{query}")).await;
            assert_eq!(reply.status, 200, "{query}");
            assert_eq!(
                reply.body,
                read_recorded(&dir.join("state_update/1.json")),
                "{query}"
            );
        }
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn include_block_composed() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("mainnet");
        assert!(!dir.join("state_update_with_block/0.json").exists());
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();

        let url = format!(
            "{}/get_state_update?blockNumber=0&includeBlock=true",
            gateway.base_url()
        );
        let reply = get(&client, &url).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.content_type.as_deref(), Some("application/json"));

        let block = read_recorded(&dir.join("block/0.json"));
        let state_update = read_recorded(&dir.join("state_update/0.json"));
        let composed = reply.json();
        let block_json: Value = serde_json::from_slice(&block).unwrap();
        let state_update_json: Value = serde_json::from_slice(&state_update).unwrap();
        assert_eq!(composed["block"], block_json);
        assert_eq!(composed["state_update"], state_update_json);
        assert_eq!(composed.as_object().map(|object| object.len()), Some(2));

        let text = reply.text();
        let block_text = String::from_utf8_lossy(block.trim_ascii());
        assert!(
            text.contains(block_text.as_ref()),
            "block text was re-serialised"
        );
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn include_block_recorded() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("mainnet");
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();

        let url = format!(
            "{}/get_state_update?blockNumber=1&includeBlock=true",
            gateway.base_url()
        );
        let reply = get(&client, &url).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body,
            read_recorded(&dir.join("state_update_with_block/1.json"))
        );
        gateway.shutdown().await;
    }

    // --- signatures ---

    #[tokio::test]
    async fn signature_recorded_file() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("sepolia");
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();

        let url = format!("{}/get_signature?blockNumber=0", gateway.base_url());
        let reply = get(&client, &url).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, read_recorded(&dir.join("signature/0.json")));
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn signature_from_state_update_with_block() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("mainnet");
        assert!(!dir.join("signature/1.json").exists());
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();

        let url = format!("{}/get_signature?blockNumber=1", gateway.base_url());
        let reply = get(&client, &url).await;
        assert_eq!(reply.status, 200, "{}", reply.text());

        let with_block: Value =
            serde_json::from_slice(&read_recorded(&dir.join("state_update_with_block/1.json")))
                .unwrap();
        let expected = json!({
            "block_hash": MAINNET_BLOCK_1_HASH,
            "signature": with_block["signature"],
        });
        assert_eq!(reply.json(), expected);
        assert_eq!(reply.json()["signature"].as_array().map(Vec::len), Some(2));
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn signature_missing_not_found() {
        let Some(data) = recordings_dir() else { return };
        let gateway = start_gateway(ReplayConfig::new(data.join("mainnet"))).await;
        let client = http_client();

        // Mainnet block 0 has neither signature/0.json nor state_update_with_block/0.json.
        let url = format!("{}/get_signature?blockNumber=0", gateway.base_url());
        let reply = get(&client, &url).await;
        assert_gateway_error(&reply, BLOCK_NOT_FOUND, "Block number 0 was not found.");
        gateway.shutdown().await;
    }

    // --- classes ---

    #[tokio::test]
    async fn class_by_padded_hash() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("mainnet");
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();
        let base = gateway.base_url();
        let expected = read_recorded(&dir.join(format!("class/{MAINNET_CLASS_HASH}.json")));

        let digits = &MAINNET_CLASS_HASH[2..];
        let queries = [
            MAINNET_CLASS_HASH.to_owned(),
            format!("0x00{digits}"),
            format!("0x{digits:0>64}"),
            format!("0x{}", digits.to_uppercase()),
            format!("{MAINNET_CLASS_HASH}&blockNumber=latest"),
            format!("{MAINNET_CLASS_HASH}&blockNumber=123456"),
        ];
        for query in &queries {
            let reply = get(
                &client,
                &format!("{base}/get_class_by_hash?classHash={query}"),
            )
            .await;
            assert_eq!(reply.status, 200, "classHash={query}: {}", reply.text());
            assert_eq!(reply.content_type.as_deref(), Some("application/json"));
            assert_eq!(reply.body, expected, "classHash={query}");
        }
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn unknown_class_undeclared() {
        let Some(data) = recordings_dir() else { return };
        let gateway = start_gateway(ReplayConfig::new(data.join("mainnet"))).await;
        let client = http_client();
        let base = gateway.base_url();

        let reply = get(
            &client,
            &format!("{base}/get_class_by_hash?classHash=0x00123"),
        )
        .await;
        assert_gateway_error(
            &reply,
            UNDECLARED_CLASS,
            "Class with hash 0x123 is not declared.",
        );

        let compiled = get(
            &client,
            &format!("{base}/get_compiled_class_by_class_hash?classHash={MAINNET_CLASS_HASH}"),
        )
        .await;
        assert_gateway_error(
            &compiled,
            UNDECLARED_CLASS,
            &format!("Class with hash {MAINNET_CLASS_HASH} is not declared."),
        );
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn compiled_class_served() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("sepolia");
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();
        let base = gateway.base_url();

        for hash in [SEPOLIA_SIERRA_CLASS_HASH, SEPOLIA_COMPILED_ONLY_CLASS_HASH] {
            let url =
                format!("{base}/get_compiled_class_by_class_hash?classHash={hash}&blockNumber=7");
            let reply = get(&client, &url).await;
            assert_eq!(reply.status, 200, "{hash}: {}", reply.text());
            assert_eq!(
                reply.body,
                read_recorded(&dir.join(format!("compiled_class/{hash}.json")))
            );
        }

        let sierra = get(
            &client,
            &format!("{base}/get_class_by_hash?classHash={SEPOLIA_SIERRA_CLASS_HASH}"),
        )
        .await;
        assert_eq!(sierra.status, 200);
        assert_eq!(
            sierra.body,
            read_recorded(&dir.join(format!("class/{SEPOLIA_SIERRA_CLASS_HASH}.json")))
        );

        let compiled_only = get(
            &client,
            &format!("{base}/get_class_by_hash?classHash={SEPOLIA_COMPILED_ONLY_CLASS_HASH}"),
        )
        .await;
        assert_eq!(compiled_only.status, 400);
        assert_eq!(compiled_only.json()["code"], UNDECLARED_CLASS);
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn concurrent_large_class_requests() {
        let Some(data) = recordings_dir() else { return };
        let dir = data.join("sepolia");
        let hash = "0xd0e183745e9dae3e4e78a8ffedcce0903fc4900beace4e0abf192d4c202da3";
        let expected = read_recorded(&dir.join(format!("class/{hash}.json")));
        let gateway = start_gateway(ReplayConfig::new(&dir)).await;
        let client = http_client();
        let url = format!("{}/get_class_by_hash?classHash={hash}", gateway.base_url());

        let mut requests = JoinSet::new();
        for _ in 0..16 {
            let client = client.clone();
            let url = url.clone();
            requests.spawn(async move { get(&client, &url).await });
        }
        let replies = tokio::time::timeout(Duration::from_secs(30), requests.join_all())
            .await
            .expect("16 class requests did not finish within 30 s");
        for reply in &replies {
            assert_eq!(reply.status, 200);
            assert_eq!(reply.body, expected);
        }
        assert_eq!(gateway.request_count("get_class_by_hash"), 16);
        gateway.shutdown().await;
    }

    // --- request errors ---

    #[tokio::test]
    async fn malformed_requests_rejected() {
        let Some(data) = recordings_dir() else { return };
        let gateway = start_gateway(ReplayConfig::new(data.join("mainnet"))).await;
        let client = http_client();
        let base = gateway.base_url();

        let cases = [
            "get_block",
            "get_block?blockNumber=",
            "get_block?blockNumber=abc",
            "get_block?blockNumber=-1",
            "get_block?blockNumber=1&blockHash=0x1",
            "get_block?blockHash=0xzz",
            "get_state_update",
            "get_state_update?blockNumber=0&includeBlock=maybe",
            "get_signature",
            "get_class_by_hash",
            "get_class_by_hash?classHash=xyz",
            "get_compiled_class_by_class_hash?classHash=",
        ];
        for case in cases {
            let reply = get(&client, &format!("{base}/{case}")).await;
            assert_eq!(reply.status, 400, "{case}: {}", reply.text());
            let body = reply.json();
            assert_eq!(body["code"], MALFORMED_REQUEST, "{case}");
            let message = body["message"].as_str().unwrap_or_default();
            assert!(!message.is_empty(), "{case}: empty message");
        }
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn unknown_path_not_found() {
        let Some(data) = recordings_dir() else { return };
        let gateway = start_gateway(ReplayConfig::new(data.join("mainnet"))).await;
        let client = http_client();
        let origin = format!("http://{}", gateway.local_addr());

        for path in [
            "/",
            "/feeder_gateway",
            "/feeder_gateway/",
            "/feeder_gateway/get_nothing?blockNumber=0",
            "/get_block?blockNumber=0",
            "/feeder_gateway/get_block/?blockNumber=0",
        ] {
            let reply = get(&client, &format!("{origin}{path}")).await;
            assert_eq!(reply.status, 404, "{path}");
            assert_eq!(
                reply.content_type.as_deref(),
                Some("text/plain; charset=utf-8"),
                "{path}"
            );
            assert!(
                reply.text().starts_with("Not Found"),
                "{path}: {}",
                reply.text()
            );
        }
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn post_not_allowed() {
        let Some(data) = recordings_dir() else { return };
        let gateway = start_gateway(ReplayConfig::new(data.join("mainnet"))).await;
        let client = http_client();

        let url = format!("{}/get_block?blockNumber=0", gateway.base_url());
        let response = client.post(&url).send().await.expect("POST failed");
        assert_eq!(response.status().as_u16(), 405);
        assert_eq!(
            response
                .headers()
                .get(ALLOW)
                .and_then(|value| value.to_str().ok()),
            Some("GET")
        );
        assert_eq!(gateway.request_count("get_block"), 0);
        gateway.shutdown().await;
    }

    // --- counters and lifecycle ---

    #[tokio::test]
    async fn request_counters() {
        let Some(data) = recordings_dir() else { return };
        let gateway = start_gateway(ReplayConfig::new(data.join("mainnet"))).await;
        let client = http_client();
        let base = gateway.base_url();
        assert_eq!(gateway.request_count("get_block"), 0);

        for query in [
            "blockNumber=0",
            "blockNumber=0",
            "blockNumber=latest",
            &format!("blockHash={MAINNET_BLOCK_1_HASH}"),
            "blockNumber=7",
            "blockNumber=abc",
            "blockHash=0x123",
        ] {
            get(&client, &format!("{base}/get_block?{query}")).await;
        }
        get(&client, &format!("{base}/get_state_update?blockNumber=0")).await;
        get(
            &client,
            &format!("{base}/get_class_by_hash?classHash={MAINNET_CLASS_HASH}"),
        )
        .await;
        get(&client, &format!("{base}/no_such_endpoint")).await;

        assert_eq!(gateway.request_count("get_block"), 7);
        assert_eq!(gateway.request_count("get_state_update"), 1);
        assert_eq!(gateway.request_count("get_signature"), 0);
        assert_eq!(gateway.request_count("get_class_by_hash"), 1);
        assert_eq!(gateway.request_count("get_compiled_class_by_class_hash"), 0);
        assert_eq!(gateway.request_count("no_such_endpoint"), 0);

        assert_eq!(gateway.block_request_count("get_block", 0), 2);
        assert_eq!(gateway.block_request_count("get_block", 1), 1);
        assert_eq!(gateway.block_request_count("get_block", 2), 1);
        assert_eq!(gateway.block_request_count("get_block", 7), 1);
        assert_eq!(gateway.block_request_count("get_state_update", 0), 1);
        assert_eq!(gateway.block_request_count("get_state_update", 1), 0);
        assert_eq!(gateway.block_request_count("no_such_endpoint", 0), 0);
        gateway.shutdown().await;
    }

    #[tokio::test]
    async fn shutdown_closes_idle_connections() {
        let Some(data) = recordings_dir() else { return };
        let gateway = start_gateway(ReplayConfig::new(data.join("mainnet"))).await;
        let client = http_client();
        let url = format!("{}/get_block?blockNumber=0", gateway.base_url());

        // The client keeps this connection open in its pool.
        assert_eq!(get(&client, &url).await.status, 200);
        tokio::time::timeout(Duration::from_secs(5), gateway.shutdown())
            .await
            .expect("shutdown did not finish within 5 s");

        let after = client.get(&url).send().await;
        assert!(after.is_err(), "request after shutdown got {after:?}");
    }
}
