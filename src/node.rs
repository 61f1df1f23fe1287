//! Runs the node: opens storage, starts the RPC servers and the sync pipeline, and
//! stops on Ctrl-C or SIGTERM.

use std::time::Duration;

use anyhow::Context;
use starling_metrics::Metrics;
use starling_rpc::RpcContext;
use starling_storage::{PreConfirmedHandle, Storage, SyncStatus};
use starling_sync::{GatewayClient, Network, PreConfirmedConfig, SyncConfig};
use tokio::net::TcpListener;

use crate::cli::NodeArgs;
use crate::health::NodeHealth;

pub async fn run(args: NodeArgs) -> anyhow::Result<()> {
    let network = Network::from(args.network);
    let sync_status = SyncStatus::new();
    let (metrics, health) = start_metrics(&args, &sync_status).await?;

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

    health.database_opened(storage.clone());

    let pre_confirmed = PreConfirmedHandle::new();
    let context = RpcContext::new(storage.clone())
        .with_sync_status(sync_status.clone())
        .with_pre_confirmed(pre_confirmed.clone())
        .with_metrics(metrics.clone())
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
    health.rpc_listening();

    let gateway_url = args
        .feeder_gateway_url
        .clone()
        .unwrap_or_else(|| network.default_gateway_url().to_string());
    let client =
        GatewayClient::new(&gateway_url, args.gateway.options())?.with_metrics(metrics.clone());
    let writer = storage.writer()?;
    if args.no_pre_confirmed || args.pre_confirmed_poll_ms == 0 {
        tracing::info!(target: "node", "pre-confirmed polling disabled");
    } else {
        let config = PreConfirmedConfig {
            network,
            poll_interval: Duration::from_millis(args.pre_confirmed_poll_ms),
            sync_status: sync_status.clone(),
            handle: pre_confirmed,
        };
        starling_sync::pre_confirmed::spawn(config, client.clone(), storage.clone());
    }
    let config = SyncConfig {
        network,
        poll_interval: Duration::from_millis(args.poll_interval_ms),
        sync_status,
        max_reorg_depth: args.max_reorg_depth,
        // The parser bounds the value to 1..=1024.
        fetch_ahead: args.fetch_ahead as usize,
    };
    tracing::info!(target: "node", gateway = client.base_url(), "sync starting");
    let sync = tokio::spawn(starling_sync::run(config, client, writer, storage.clone()));
    health.sync_started();

    tokio::select! {
        _ = shutdown_signal() => {
            tracing::info!(target: "node", "shutdown requested");
        }
        result = sync => {
            match result {
                Ok(Ok(())) => {
                    tracing::info!(target: "node", "sync finished");
                    health.sync_finished();
                }
                Ok(Err(error)) => {
                    tracing::error!(target: "node", %error, "sync stopped; RPC keeps serving stored blocks");
                    health.sync_failed(&error.to_string());
                }
                Err(error) => {
                    tracing::error!(target: "node", %error, "sync task failed; RPC keeps serving stored blocks");
                    health.sync_failed(&format!("sync task failed: {error}"));
                }
            }
            shutdown_signal().await;
            tracing::info!(target: "node", "shutdown requested");
        }
    }
    // Every block is committed in one synced batch, so nothing is left to flush; the
    // database closes when the last handle drops.
    tracing::info!(target: "node", "node stopped");
    Ok(())
}

/// Starts the `--metrics` server before the database opens, so that `/live` responds and
/// `/ready` reports the start-up. Without `--metrics` the handles record nothing that is
/// served.
async fn start_metrics(
    args: &NodeArgs,
    sync_status: &SyncStatus,
) -> anyhow::Result<(Metrics, NodeHealth)> {
    let health = NodeHealth::new(sync_status.clone(), args.ready_max_lag);
    if !args.metrics {
        return Ok((Metrics::disabled(), health));
    }

    let metrics = Metrics::new();
    let chain_health = health.clone();
    metrics.register_chain_state(move || chain_health.chain_state());
    let (host, port) = (&args.metrics_host, args.metrics_port);
    let listener = TcpListener::bind((host.as_str(), port))
        .await
        .with_context(|| format!("cannot listen for metrics on {host}:{port}"))?;
    tracing::info!(target: "node", address = %listener.local_addr()?, "metrics and health checks listening");
    tokio::spawn(crate::metrics_server::serve(
        listener,
        metrics.clone(),
        health.clone(),
    ));
    Ok((metrics, health))
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
