//! The `starling` binary: parses the command line and runs the node or a tool.

mod cli;
mod db;
mod health;
mod metrics_server;
mod node;

use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("starling")
        .build()?;

    match cli.command {
        None => runtime.block_on(node::run(cli.node)),
        Some(Command::ReplayGateway(args)) => {
            let config = starling_sync::replay::ReplayConfig {
                faults: args.faults(),
                dir: args.dir,
                host: args.host,
                port: args.port,
                initial_blocks: args.initial_blocks,
                release_interval: args.release_interval_ms.map(Duration::from_millis),
                fork_dir: args.fork_dir,
                switch_after: Duration::from_millis(args.switch_after_ms),
            };
            runtime.block_on(starling_sync::replay::run(config))
        }
        Some(Command::Db(command)) => db::run(command),
        Some(Command::SynthChain(args)) => starling_sync::synth::run(
            &args.out,
            &starling_sync::synth::SynthOptions {
                blocks: args.blocks,
                seed: args.seed,
                network: args.network.into(),
                divergence: None,
            },
            args.fork_at.zip(args.fork_out),
        ),
    }
}

/// Logs to stderr; `RUST_LOG` overrides the default of `info`.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
