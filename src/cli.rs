//! Command-line interface: the node's flags and the `replay-gateway` and `db` commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
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
    #[arg(long, default_value = "localhost")]
    pub http_host: String,

    /// Port for the HTTP server.
    #[arg(long, default_value_t = 6060)]
    pub http_port: u16,

    /// Serve JSON-RPC and subscriptions over WebSocket.
    #[arg(long)]
    pub ws: bool,

    /// Interface for the WebSocket server.
    #[arg(long, default_value = "localhost")]
    pub ws_host: String,

    /// Port for the WebSocket server.
    #[arg(long, default_value_t = 6061)]
    pub ws_port: u16,

    /// Milliseconds between polls for a new block once the node has caught up.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub poll_interval_ms: u64,
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
}
