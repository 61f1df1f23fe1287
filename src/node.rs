//! Runs the node: opens storage, starts the RPC servers and the sync pipeline, and
//! stops on Ctrl-C or SIGTERM.

use std::time::Duration;

use anyhow::Context;
use starling_rpc::RpcContext;
use starling_storage::{Storage, SyncStatus};
use starling_sync::{GatewayClient, Network, SyncConfig};
use tokio::net::TcpListener;

use crate::cli::NodeArgs;

pub async fn run(args: NodeArgs) -> anyhow::Result<()> {
    let network = Network::from(args.network);
    let db_path = args.db_path();
    let storage = Storage::open(&db_path, network.chain_info())
        .with_context(|| format!("cannot open database at {}", db_path.display()))?;
    let head = storage.head()?;
    tracing::info!(
        target: "node",
        network = network.name(),
        chain_id = %network.chain_id().as_short_string(),
        db_path = %db_path.display(),
        head = ?head.map(|(number, hash)| format!("{number} {hash}")),
        "database opened"
    );

    let sync_status = SyncStatus::new();
    let context = RpcContext::new(storage.clone())
        .with_sync_status(sync_status.clone())
        .with_limits(args.rpc_limits.limits())
        .with_ws_limits(args.ws_limits.limits());
    if args.http {
        let listener = bind(&args.http_host, args.http_port, "HTTP").await?;
        tokio::spawn(starling_rpc::http::serve(listener, context.clone()));
    }
    if args.ws {
        let listener = bind(&args.ws_host, args.ws_port, "WebSocket").await?;
        tokio::spawn(starling_rpc::ws::serve(listener, context.clone()));
    }

    let gateway_url = args
        .feeder_gateway_url
        .clone()
        .unwrap_or_else(|| network.default_gateway_url().to_string());
    let client = GatewayClient::new(&gateway_url, args.gateway.options())?;
    let writer = storage.writer()?;
    let config = SyncConfig {
        network,
        poll_interval: Duration::from_millis(args.poll_interval_ms),
        sync_status,
        max_reorg_depth: args.max_reorg_depth,
    };
    tracing::info!(target: "node", gateway = client.base_url(), "sync starting");
    let sync = tokio::spawn(starling_sync::run(config, client, writer, storage.clone()));

    tokio::select! {
        _ = shutdown_signal() => {
            tracing::info!(target: "node", "shutdown requested");
        }
        result = sync => {
            match result {
                Ok(Ok(())) => tracing::info!(target: "node", "sync finished"),
                Ok(Err(error)) => tracing::error!(target: "node", %error, "sync stopped; RPC keeps serving stored blocks"),
                Err(error) => tracing::error!(target: "node", %error, "sync task failed; RPC keeps serving stored blocks"),
            }
            shutdown_signal().await;
            tracing::info!(target: "node", "shutdown requested");
        }
    }
    Ok(())
}

async fn bind(host: &str, port: u16, what: &str) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind((host, port))
        .await
        .with_context(|| format!("cannot listen for {what} on {host}:{port}"))?;
    tracing::info!(target: "node", address = %listener.local_addr()?, "{what} JSON-RPC listening");
    Ok(listener)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler installs");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
