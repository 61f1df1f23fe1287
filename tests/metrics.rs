//! End-to-end: the real `starling` binary with `--metrics` serves `/live`, `/ready` and
//! `/metrics` on 127.0.0.1 while it syncs a synthetic chain from an in-process replay
//! gateway. Readiness follows sync, the head gauge follows the stored head, RPC calls are
//! counted exactly, gateway faults are counted by kind, and a sync that stops on a bad
//! block makes `/ready` return 503.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use starling_sync::replay::{FaultConfig, FaultKind, ReplayConfig, ReplayGateway};

use support::{edit_json, free_port, HttpClient, Node};

/// Blocks of the synthetic chain; the last is `BLOCKS - 1`.
const BLOCKS: u64 = 40;

/// Added before every gateway response, so that sync takes a few seconds and `/ready`
/// can be seen returning 503 while it runs.
const GATEWAY_LATENCY: Duration = Duration::from_millis(50);

/// Bound on every wait for the node.
const DEADLINE: Duration = Duration::from_secs(90);

/// Writes a synthetic Sepolia chain of [`BLOCKS`] blocks with `starling synth-chain`.
fn synth_chain(out: &Path, seed: u64) {
    support::synth_chain(out, BLOCKS, seed, &["--network", "sepolia"]);
}

async fn start_gateway(chain: &Path, faults: FaultConfig) -> ReplayGateway {
    let config = ReplayConfig {
        faults,
        ..ReplayConfig::new(chain)
    };
    ReplayGateway::start(config)
        .await
        .expect("replay gateway starts")
}

/// Starts the node with `--metrics` on a free port of 127.0.0.1 and `extra` flags.
fn start_node(work: &Path, gateway: &ReplayGateway, extra: &[&str]) -> (Node, MetricsClient) {
    let metrics_port = free_port().to_string();
    let mut args = vec![
        "--metrics",
        "--metrics-host",
        "127.0.0.1",
        "--metrics-port",
        &metrics_port,
    ];
    args.extend_from_slice(extra);
    let node = Node::start_with_args(
        "sepolia",
        &work.join("db"),
        &gateway.base_url(),
        &work.join("node.log"),
        &args,
    );
    let client = MetricsClient::new(&metrics_port);
    (node, client)
}

/// HTTP client of the metrics server.
struct MetricsClient {
    http: reqwest::Client,
    base: String,
}

impl MetricsClient {
    fn new(port: &str) -> MetricsClient {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        MetricsClient {
            http,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// GETs `path`; `None` while nothing listens.
    async fn try_get(&self, path: &str) -> Option<(u16, String)> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.unwrap()))
    }

    async fn get(&self, path: &str, node: &Node) -> (u16, String) {
        self.try_get(path)
            .await
            .unwrap_or_else(|| panic!("GET {path} failed\nnode log:\n{}", node.log()))
    }

    /// Polls `/live` until the server responds, and returns the status and body.
    async fn wait_until_listening(&self, node: &Node) -> (u16, String) {
        let started = Instant::now();
        loop {
            if let Some(response) = self.try_get("/live").await {
                return response;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "metrics server never listened\nnode log:\n{}",
                node.log()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn metrics(&self, node: &Node) -> String {
        let (status, text) = self.get("/metrics", node).await;
        assert_eq!(status, 200, "{text}");
        text
    }

    /// Polls `/metrics` until `done` accepts it, and returns that text. `expected`
    /// names the awaited state in the failure message.
    async fn wait_for_metrics(
        &self,
        node: &Node,
        expected: &str,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            let text = self.metrics(node).await;
            if done(&text) {
                return text;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "metrics never showed {expected}:\n{text}\nnode log:\n{}",
                node.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Returns the value of the sample whose series (name and labels, as printed) is `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

/// Like [`sample`], with an absent series read as 0, as Prometheus treats a counter that
/// has not been created yet.
fn counter(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_readiness_follow_sync_and_rpc() {
    let work = tempfile::tempdir().unwrap();
    let chain = work.path().join("chain");
    synth_chain(&chain, 808);
    let gateway = start_gateway(
        &chain,
        FaultConfig {
            latency: GATEWAY_LATENCY,
            ..FaultConfig::default()
        },
    )
    .await;
    let (node, metrics) = start_node(work.path(), &gateway, &[]);
    let last = BLOCKS - 1;

    // The server listens before the database opens, so the first responses come before
    // sync can have caught up.
    let (live_status, live_body) = metrics.wait_until_listening(&node).await;
    assert_eq!(live_status, 200, "{live_body}");
    let mut reasons = Vec::new();
    let started = Instant::now();
    loop {
        let (status, body) = metrics.get("/ready", &node).await;
        if status == 200 {
            assert_eq!(body, "ready\n");
            break;
        }
        assert_eq!(status, 503, "{body}");
        reasons.push(body);
        assert!(
            started.elapsed() < DEADLINE,
            "never ready; last reason {:?}\nnode log:\n{}",
            reasons.last(),
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !reasons.is_empty(),
        "/ready returned 200 before sync caught up"
    );
    let known_reasons = [
        "database not open yet",
        "JSON-RPC not listening yet",
        "sync not started yet",
        "gateway head unknown yet",
        "still syncing: ",
    ];
    for reason in &reasons {
        assert!(reason.ends_with('\n'), "{reason:?}");
        assert_eq!(reason.lines().count(), 1, "{reason:?}");
        assert!(
            known_reasons.iter().any(|known| reason.starts_with(known)),
            "unexpected reason {reason:?}"
        );
    }
    let syncing = reasons
        .iter()
        .find(|reason| reason.starts_with("still syncing: "))
        .unwrap_or_else(|| panic!("no 'still syncing' reason among {reasons:?}"));
    assert!(
        syncing.contains(&format!("gateway head {last},")),
        "{syncing:?}"
    );
    assert!(syncing.ends_with("(ready within 6)\n"), "{syncing:?}");

    let text = metrics
        .wait_for_metrics(&node, "the synced head", |text| {
            sample(text, "starling_head_block_number") == Some(last as f64)
        })
        .await;
    assert_eq!(
        sample(&text, "starling_gateway_head_block_number"),
        Some(last as f64),
        "{text}"
    );
    assert_eq!(
        sample(&text, "starling_sync_lag_blocks"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(sample(&text, "starling_sync_running"), Some(1.0), "{text}");
    assert!(
        counter(
            &text,
            "starling_gateway_requests_total{endpoint=\"get_state_update\"}"
        ) >= BLOCKS as f64,
        "{text}"
    );
    assert_eq!(metrics.get("/ready", &node).await, (200, "ready\n".into()));
    assert_eq!(metrics.get("/live", &node).await, (200, "live\n".into()));
    assert_eq!(metrics.get("/nothing", &node).await.0, 404);

    // Only this test calls starknet_chainId, so its counters move by exactly the calls.
    let requests_v0_8 = "starling_rpc_requests_total{method=\"starknet_chainId\",api=\"v0_8\"}";
    let requests_root = "starling_rpc_requests_total{method=\"starknet_chainId\",api=\"root\"}";
    let unknown = "starling_rpc_requests_total{method=\"unknown\",api=\"v0_8\"}";
    let latency_count = "starling_rpc_request_duration_seconds_count{method=\"starknet_chainId\"}";
    let latency_sum = "starling_rpc_request_duration_seconds_sum{method=\"starknet_chainId\"}";
    let latency_inf =
        "starling_rpc_request_duration_seconds_bucket{method=\"starknet_chainId\",le=\"+Inf\"}";
    let before = metrics.metrics(&node).await;

    let rpc = HttpClient::new(&node);
    const CALLS: u64 = 5;
    for _ in 0..CALLS {
        let response = rpc.call("/rpc/v0_8", "starknet_chainId", json!([])).await;
        assert_eq!(
            response["result"],
            json!("0x534e5f5345504f4c4941"),
            "{response}"
        );
    }
    rpc.call("/", "starknet_chainId", json!([])).await;
    let response = rpc
        .call("/rpc/v0_8", "starknet_noSuchMethod", json!([]))
        .await;
    assert_eq!(response["error"]["code"], json!(-32601), "{response}");

    let after = metrics.metrics(&node).await;
    let increase = |series: &str| counter(&after, series) - counter(&before, series);
    assert_eq!(increase(requests_v0_8), CALLS as f64, "{after}");
    assert_eq!(increase(requests_root), 1.0, "{after}");
    assert_eq!(increase(unknown), 1.0, "{after}");
    assert_eq!(increase(latency_count), (CALLS + 1) as f64, "{after}");
    assert_eq!(increase(latency_inf), (CALLS + 1) as f64, "{after}");
    assert!(increase(latency_sum) > 0.0, "{after}");
    assert!(
        !after.contains("starknet_noSuchMethod"),
        "a made-up method name became a label:\n{after}"
    );

    // One WebSocket connection with one subscription, then neither.
    let mut client = node.connect().await;
    let subscribed = client.call("starknet_subscribeNewHeads", json!([])).await;
    assert!(subscribed["result"].is_u64(), "{subscribed}");
    let text = metrics.metrics(&node).await;
    assert_eq!(
        sample(&text, "starling_ws_connections"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "starling_ws_subscriptions"),
        Some(1.0),
        "{text}"
    );
    drop(client);
    metrics
        .wait_for_metrics(&node, "the WebSocket connection closed", |text| {
            sample(text, "starling_ws_connections") == Some(0.0)
                && sample(text, "starling_ws_subscriptions") == Some(0.0)
        })
        .await;

    drop(node);
    gateway.shutdown().await;
}

/// The node's `kind` label for each injected fault: a 429, a 503, a request held past the
/// client's timeout, a connection closed without a response, and a body cut in half.
const FAULT_ERROR_KINDS: [(FaultKind, &str); 5] = [
    (FaultKind::TooManyRequests, "rate_limited"),
    (FaultKind::ServiceUnavailable, "server_error"),
    (FaultKind::Timeout, "timeout"),
    (FaultKind::Reset, "transport"),
    (FaultKind::Truncate, "invalid_json"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_errors_counted_by_kind() {
    let work = tempfile::tempdir().unwrap();
    let chain = work.path().join("chain");
    synth_chain(&chain, 809);
    let gateway = start_gateway(
        &chain,
        FaultConfig {
            fail_rate: 0.3,
            kinds: FaultKind::ALL.to_vec(),
            timeout_hold: Duration::from_millis(1500),
            seed: 5,
            ..FaultConfig::default()
        },
    )
    .await;
    let (node, metrics) = start_node(work.path(), &gateway, &["--gateway-timeout-ms", "500"]);
    metrics.wait_until_listening(&node).await;

    let text = metrics
        .wait_for_metrics(&node, "an error of every kind", |text| {
            text.lines()
                .any(|line| line.starts_with("starling_gateway_errors_total"))
                && FAULT_ERROR_KINDS
                    .iter()
                    .all(|(_, kind)| error_count(text, kind) > 0.0)
        })
        .await;

    // Every error the node counted was caused by a fault the gateway had injected before
    // it was read here, so the gateway's count bounds the node's.
    for (fault, kind) in FAULT_ERROR_KINDS {
        let counted = error_count(&text, kind);
        let injected = gateway.fault_count(fault) as f64;
        assert!(counted > 0.0, "no {kind} error counted:\n{text}");
        assert!(
            counted <= injected,
            "{counted} {kind} errors counted, but only {injected} {fault} faults injected:\n{text}"
        );
    }
    let requests: f64 = text
        .lines()
        .filter(|line| line.starts_with("starling_gateway_requests_total{"))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    let errors: f64 = FAULT_ERROR_KINDS
        .iter()
        .map(|(_, kind)| error_count(&text, kind))
        .sum();
    assert!(
        requests > errors,
        "{requests} requests, {errors} errors:\n{text}"
    );

    drop(node);
    gateway.shutdown().await;
}

/// Sums `starling_gateway_errors_total` of one kind over every endpoint.
fn error_count(text: &str, kind: &str) -> f64 {
    let label = format!("kind=\"{kind}\"");
    text.lines()
        .filter(|line| line.starts_with("starling_gateway_errors_total{") && line.contains(&label))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_sync_makes_ready_fail() {
    let work = tempfile::tempdir().unwrap();
    let chain = work.path().join("chain");
    synth_chain(&chain, 810);
    // A changed timestamp changes the block hash, so block 3 fails verification on every
    // download and sync stops with blocks 0 to 2 stored.
    edit_json(&chain.join("block/3.json"), |block| {
        let timestamp = block["timestamp"].as_u64().unwrap();
        block["timestamp"] = json!(timestamp + 1);
    });
    let gateway = start_gateway(&chain, FaultConfig::default()).await;
    let (node, metrics) = start_node(work.path(), &gateway, &[]);
    metrics.wait_until_listening(&node).await;
    node.wait_for_log("sync stopped", DEADLINE).await;

    let (status, reason) = metrics.get("/ready", &node).await;
    assert_eq!(status, 503, "{reason}");
    assert!(
        reason.starts_with("sync stopped after an error: block 3 failed verification"),
        "{reason:?}"
    );
    assert_eq!(reason.lines().count(), 1, "{reason:?}");
    let text = metrics.metrics(&node).await;
    assert_eq!(sample(&text, "starling_sync_running"), Some(0.0), "{text}");
    assert_eq!(
        sample(&text, "starling_head_block_number"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(metrics.get("/live", &node).await.0, 200);

    drop(node);
    gateway.shutdown().await;
}
