//! Command-line interface: the node's flags and the `replay-gateway`, `db` and
//! `synth-chain` commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use starling_rpc::context::{RpcLimits, WsLimits};
use starling_sync::gateway::client::GatewayOptions;
use starling_sync::replay::{FaultConfig, FaultKind};
use starling_sync::Network;

#[derive(Debug, Parser)]
#[command(name = "starling", version, about = "A Starknet full node")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a directory of recorded feeder-gateway responses as a feeder gateway.
    ReplayGateway(ReplayGatewayArgs),
    /// Inspect a node's database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Write a deterministic synthetic chain in the replay gateway's directory layout.
    SynthChain(SynthChainArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetworkArg {
    Mainnet,
    Sepolia,
}

impl From<NetworkArg> for Network {
    fn from(value: NetworkArg) -> Self {
        match value {
            NetworkArg::Mainnet => Network::Mainnet,
            NetworkArg::Sepolia => Network::Sepolia,
        }
    }
}

#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Network to sync; sets the chain id and the default feeder gateway.
    #[arg(long, value_enum, default_value = "mainnet", env = "STARLING_NETWORK")]
    pub network: NetworkArg,

    /// Feeder gateway to sync from instead of the network's public one. The chain id
    /// stays the network's.
    #[arg(long, value_name = "URL", env = "STARLING_FEEDER_GATEWAY_URL")]
    pub feeder_gateway_url: Option<String>,

    /// Database directory [default: data/<network>].
    #[arg(long, value_name = "DIR", env = "STARLING_DB_PATH")]
    pub db_path: Option<PathBuf>,

    /// Serve JSON-RPC over HTTP.
    #[arg(long)]
    pub http: bool,

    /// Interface for the HTTP server.
    #[arg(long, default_value = "localhost", env = "STARLING_HTTP_HOST")]
    pub http_host: String,

    /// Port for the HTTP server.
    #[arg(long, default_value_t = 6060, env = "STARLING_HTTP_PORT")]
    pub http_port: u16,

    /// Serve JSON-RPC and subscriptions over WebSocket.
    #[arg(long)]
    pub ws: bool,

    /// Interface for the WebSocket server.
    #[arg(long, default_value = "localhost", env = "STARLING_WS_HOST")]
    pub ws_host: String,

    /// Port for the WebSocket server.
    #[arg(long, default_value_t = 6061, env = "STARLING_WS_PORT")]
    pub ws_port: u16,

    /// Serve Prometheus metrics at /metrics and health checks at /live and /ready over HTTP.
    #[arg(long)]
    pub metrics: bool,

    /// Interface for the metrics server.
    #[arg(long, default_value = "127.0.0.1", env = "STARLING_METRICS_HOST")]
    pub metrics_host: String,

    /// Port for the metrics server.
    #[arg(long, default_value_t = 9090, env = "STARLING_METRICS_PORT")]
    pub metrics_port: u16,

    /// Maximum number of blocks the stored head may be behind the feeder gateway's newest
    /// block for /ready to return 200.
    #[arg(
        long,
        value_name = "BLOCKS",
        default_value_t = 6,
        env = "STARLING_READY_MAX_LAG"
    )]
    pub ready_max_lag: u64,

    /// Milliseconds between polls for a new block once the node has caught up.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 2000,
        env = "STARLING_POLL_INTERVAL_MS"
    )]
    pub poll_interval_ms: u64,

    /// Maximum number of stored blocks that sync reverts to follow a reorg. A deeper
    /// reorg stops sync with an error, and RPC keeps serving the stored blocks.
    #[arg(
        long,
        value_name = "BLOCKS",
        default_value_t = 64,
        env = "STARLING_MAX_REORG_DEPTH"
    )]
    pub max_reorg_depth: u64,

    /// Milliseconds between polls of the pre-confirmed block (the block the sequencer is
    /// building after the head) once the node has caught up; 0 disables polling.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 1000,
        env = "STARLING_PRE_CONFIRMED_POLL_MS"
    )]
    pub pre_confirmed_poll_ms: u64,

    /// Do not poll the pre-confirmed block: `pending` and `pre_confirmed` then name an
    /// empty block on top of the head.
    #[arg(long)]
    pub no_pre_confirmed: bool,

    /// Maximum number of blocks downloaded and checked ahead of the one being committed,
    /// from 1 (one block at a time) to 1024. Each one holds a block and its new classes
    /// in memory.
    #[arg(
        long,
        value_name = "BLOCKS",
        default_value_t = starling_sync::DEFAULT_FETCH_AHEAD as u64,
        value_parser = clap::value_parser!(u64).range(1..=1024),
        env = "STARLING_FETCH_AHEAD"
    )]
    pub fetch_ahead: u64,

    #[command(flatten)]
    pub gateway: GatewayArgs,

    #[command(flatten)]
    pub rpc_limits: RpcLimitArgs,

    #[command(flatten)]
    pub ws_limits: WsLimitArgs,
}

/// Settings of the feeder-gateway client; the defaults are `GatewayOptions`'.
#[derive(Args)]
pub struct GatewayArgs {
    /// API key of the public feeder gateway, sent as the `X-Throttling-Bypass` header with
    /// every feeder-gateway request.
    #[arg(
        long,
        value_name = "KEY",
        env = "STARLING_GATEWAY_API_KEY",
        hide_env_values = true
    )]
    pub gateway_api_key: Option<String>,

    /// Milliseconds one feeder-gateway request may take, body included, before it is retried.
    #[arg(long, value_name = "MS", default_value_t = GatewayOptions::default().request_timeout.as_millis() as u64, env = "STARLING_GATEWAY_TIMEOUT_MS")]
    pub gateway_timeout_ms: u64,

    /// Attempts per feeder-gateway request, counting the first, before the block is retried
    /// as a whole.
    #[arg(long, value_name = "N", default_value_t = GatewayOptions::default().max_attempts,
          value_parser = clap::value_parser!(u32).range(1..), env = "STARLING_GATEWAY_MAX_ATTEMPTS")]
    pub gateway_max_attempts: u32,
}

impl std::fmt::Debug for GatewayArgs {
    /// Leaves the API key out, so that logging the arguments does not leak it.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("GatewayArgs")
            .field(
                "gateway_api_key",
                &self.gateway_api_key.as_ref().map(|_| "<redacted>"),
            )
            .field("gateway_timeout_ms", &self.gateway_timeout_ms)
            .field("gateway_max_attempts", &self.gateway_max_attempts)
            .finish()
    }
}

impl GatewayArgs {
    pub fn options(&self) -> GatewayOptions {
        GatewayOptions {
            api_key: self.gateway_api_key.clone(),
            request_timeout: std::time::Duration::from_millis(self.gateway_timeout_ms),
            max_attempts: self.gateway_max_attempts,
            ..GatewayOptions::default()
        }
    }
}

/// Limits on what one JSON-RPC request may ask for; the defaults are `RpcLimits`'.
#[derive(Debug, Args)]
pub struct RpcLimitArgs {
    /// Largest HTTP request body or WebSocket message, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = RpcLimits::default().max_request_bytes, env = "STARLING_RPC_MAX_REQUEST_BYTES")]
    pub rpc_max_request_bytes: usize,

    /// Maximum number of requests in one JSON-RPC batch.
    #[arg(long, value_name = "N", default_value_t = RpcLimits::default().max_batch_size, env = "STARLING_RPC_MAX_BATCH_SIZE")]
    pub rpc_max_batch_size: usize,

    /// Most HTTP requests handled at once; more wait for a free slot.
    #[arg(long, value_name = "N", default_value_t = RpcLimits::default().max_concurrent_requests, env = "STARLING_RPC_MAX_CONCURRENT_REQUESTS")]
    pub rpc_max_concurrent_requests: usize,

    /// Largest `chunk_size` of starknet_getEvents (larger is error 31).
    #[arg(long, value_name = "N", default_value_t = RpcLimits::default().events_max_chunk_size, env = "STARLING_RPC_EVENTS_MAX_CHUNK_SIZE")]
    pub rpc_events_max_chunk_size: usize,

    /// Maximum number of keys in one starknet_getEvents filter, over all positions (more is
    /// error 34).
    #[arg(long, value_name = "N", default_value_t = RpcLimits::default().events_max_keys, env = "STARLING_RPC_EVENTS_MAX_KEYS")]
    pub rpc_events_max_keys: usize,

    /// Maximum number of addresses in one v0.10 starknet_getEvents filter.
    #[arg(long, value_name = "N", default_value_t = RpcLimits::default().events_max_addresses, env = "STARLING_RPC_EVENTS_MAX_ADDRESSES")]
    pub rpc_events_max_addresses: usize,

    /// Most blocks one starknet_getEvents request scans before it returns a
    /// continuation token.
    #[arg(long, value_name = "N", default_value_t = RpcLimits::default().events_max_blocks, env = "STARLING_RPC_EVENTS_MAX_BLOCKS")]
    pub rpc_events_max_blocks: u64,

    /// Most class hashes, addresses and storage keys in one starknet_getStorageProof.
    #[arg(long, value_name = "N", default_value_t = RpcLimits::default().storage_proof_max_keys, env = "STARLING_RPC_STORAGE_PROOF_MAX_KEYS")]
    pub rpc_storage_proof_max_keys: usize,
}

impl RpcLimitArgs {
    pub fn limits(&self) -> RpcLimits {
        RpcLimits {
            max_request_bytes: self.rpc_max_request_bytes,
            max_batch_size: self.rpc_max_batch_size,
            max_concurrent_requests: self.rpc_max_concurrent_requests,
            events_max_chunk_size: self.rpc_events_max_chunk_size,
            events_max_keys: self.rpc_events_max_keys,
            events_max_addresses: self.rpc_events_max_addresses,
            events_max_blocks: self.rpc_events_max_blocks,
            storage_proof_max_keys: self.rpc_storage_proof_max_keys,
        }
    }
}

/// Limits on WebSocket connections and subscriptions; the defaults are `WsLimits`'.
#[derive(Debug, Args)]
pub struct WsLimitArgs {
    /// Maximum number of open WebSocket connections; more are rejected with HTTP 503.
    #[arg(long, value_name = "N", default_value_t = WsLimits::default().max_connections, env = "STARLING_WS_MAX_CONNECTIONS")]
    pub ws_max_connections: usize,

    /// Maximum number of subscriptions on one WebSocket connection.
    #[arg(long, value_name = "N", default_value_t = WsLimits::default().max_subscriptions_per_connection, env = "STARLING_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION")]
    pub ws_max_subscriptions_per_connection: usize,

    /// Maximum number of keys in one starknet_subscribeEvents filter (more is error 34).
    #[arg(long, value_name = "N", default_value_t = WsLimits::default().max_filter_keys, env = "STARLING_WS_MAX_FILTER_KEYS")]
    pub ws_max_filter_keys: usize,

    /// Maximum number of addresses in one subscription filter (more is error 67).
    #[arg(long, value_name = "N", default_value_t = WsLimits::default().max_filter_addresses, env = "STARLING_WS_MAX_FILTER_ADDRESSES")]
    pub ws_max_filter_addresses: usize,

    /// Maximum number of blocks behind the head a subscription may replay from (older is
    /// error 68).
    #[arg(long, value_name = "N", default_value_t = WsLimits::default().max_replay_blocks, env = "STARLING_WS_MAX_REPLAY_BLOCKS")]
    pub ws_max_replay_blocks: u64,

    /// Maximum number of messages queued for one WebSocket client.
    #[arg(long, value_name = "N", default_value_t = WsLimits::default().max_queued_messages, env = "STARLING_WS_MAX_QUEUED_MESSAGES")]
    pub ws_max_queued_messages: usize,

    /// Maximum number of bytes queued for one WebSocket client.
    #[arg(long, value_name = "BYTES", default_value_t = WsLimits::default().max_queued_bytes, env = "STARLING_WS_MAX_QUEUED_BYTES")]
    pub ws_max_queued_bytes: usize,

    /// Seconds a WebSocket client may stop reading before it is disconnected.
    #[arg(long, value_name = "SECONDS", default_value_t = WsLimits::default().max_stall_secs, env = "STARLING_WS_MAX_STALL_SECS")]
    pub ws_max_stall_secs: u64,

    /// Seconds between pings; a client that has not sent a pong by the next ping is
    /// disconnected.
    #[arg(long, value_name = "SECONDS", default_value_t = WsLimits::default().ping_interval_secs, env = "STARLING_WS_PING_INTERVAL_SECS")]
    pub ws_ping_interval_secs: u64,
}

impl WsLimitArgs {
    pub fn limits(&self) -> WsLimits {
        WsLimits {
            max_connections: self.ws_max_connections,
            max_subscriptions_per_connection: self.ws_max_subscriptions_per_connection,
            max_filter_keys: self.ws_max_filter_keys,
            max_filter_addresses: self.ws_max_filter_addresses,
            max_replay_blocks: self.ws_max_replay_blocks,
            max_queued_messages: self.ws_max_queued_messages,
            max_queued_bytes: self.ws_max_queued_bytes,
            max_stall_secs: self.ws_max_stall_secs,
            ping_interval_secs: self.ws_ping_interval_secs,
        }
    }
}

impl NodeArgs {
    pub fn db_path(&self) -> PathBuf {
        self.db_path
            .clone()
            .unwrap_or_else(|| PathBuf::from("data").join(Network::from(self.network).name()))
    }
}

#[derive(Debug, Args)]
pub struct ReplayGatewayArgs {
    /// Directory laid out like a feeder-gateway recording: block/, state_update/, class/ ...
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,

    /// Interface to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on.
    #[arg(long, default_value_t = 9545)]
    pub port: u16,

    /// Blocks visible at start [default: all].
    #[arg(long, value_name = "K")]
    pub initial_blocks: Option<u64>,

    /// Milliseconds between releases of one more block [default: no releases].
    #[arg(long, value_name = "MS")]
    pub release_interval_ms: Option<u64>,

    /// Second recording that shares a prefix with --dir. It is served in place of --dir
    /// once --switch-after-ms has passed, which simulates a reorg.
    #[arg(long, value_name = "DIR2")]
    pub fork_dir: Option<PathBuf>,

    /// Milliseconds from start after which --fork-dir is served.
    #[arg(long, value_name = "MS", default_value_t = 0, requires = "fork_dir")]
    pub switch_after_ms: u64,

    /// Fraction of feeder-gateway requests that get an injected fault in place of their
    /// response, from 0.0 to 1.0.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = parse_fail_rate)]
    pub fail_rate: f64,

    /// Comma-separated fault kinds to inject: 429 (with Retry-After: 1), 503, timeout (hold
    /// the request for --timeout-hold-ms), reset (close the connection without a response),
    /// truncate (HTTP 200 with half of the body).
    #[arg(
        long,
        value_name = "KINDS",
        value_delimiter = ',',
        default_value = "429,503,timeout,reset,truncate"
    )]
    pub fail_kinds: Vec<FaultKind>,

    /// Milliseconds added before every response.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,

    /// Milliseconds a timeout fault delays its response; keep it above the client's request
    /// timeout.
    #[arg(long, value_name = "MS", default_value_t = FaultConfig::default().timeout_hold.as_millis() as u64)]
    pub timeout_hold_ms: u64,

    /// Seed of the fault sequence; the same seed fails the same requests, counted in arrival
    /// order.
    #[arg(long, value_name = "SEED", default_value_t = 0)]
    pub fault_seed: u64,
}

impl ReplayGatewayArgs {
    pub fn faults(&self) -> FaultConfig {
        FaultConfig {
            fail_rate: self.fail_rate,
            kinds: self.fail_kinds.clone(),
            latency: std::time::Duration::from_millis(self.latency_ms),
            timeout_hold: std::time::Duration::from_millis(self.timeout_hold_ms),
            seed: self.fault_seed,
        }
    }
}

fn parse_fail_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("invalid fail rate '{text}': expected a number from 0.0 to 1.0"))?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(format!(
            "invalid fail rate {rate}: expected a number from 0.0 to 1.0"
        ));
    }
    Ok(rate)
}

#[derive(Debug, Args)]
pub struct SynthChainArgs {
    /// Empty directory to write block/, state_update/, class/ and compiled_class/ into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Number of blocks, counting block 0.
    #[arg(long, value_name = "N")]
    pub blocks: u64,

    /// Seed of the generator; the same seed always writes the same files.
    #[arg(long, value_name = "S")]
    pub seed: u64,

    /// Network whose chain id the transaction and block hashes use.
    #[arg(long, value_enum, default_value = "sepolia")]
    pub network: NetworkArg,

    /// Also write a fork that shares blocks 0 to K-1 and differs from block K on.
    #[arg(long, value_name = "K", requires = "fork_out")]
    pub fork_at: Option<u64>,

    /// Empty directory for the fork's blocks (same length as the main chain).
    #[arg(long, value_name = "DIR", requires = "fork_at")]
    pub fork_out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Print the network, head and size of a database; safe beside a running node.
    Info {
        /// Database directory.
        #[arg(long, value_name = "DIR")]
        db_path: PathBuf,

        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove every block above a block number, newest first, each block atomically.
    /// The node must be stopped.
    Revert {
        /// Block that becomes the head.
        #[arg(long, value_name = "N")]
        to_block: u64,

        /// Database directory.
        #[arg(long, value_name = "DIR")]
        db_path: PathBuf,
    },
    /// Recompute the hashes, commitments, state roots and parent links of stored blocks
    /// and report the first mismatch. The node must be stopped.
    Verify {
        /// Database directory.
        #[arg(long, value_name = "DIR")]
        db_path: PathBuf,

        /// First block to check [default: 0].
        #[arg(long, value_name = "A")]
        from: Option<u64>,

        /// Last block to check [default: the head].
        #[arg(long, value_name = "B")]
        to: Option<u64>,
    },
}
