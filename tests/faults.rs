//! End-to-end: the real `starling` binary syncs a synthetic chain through a replay gateway on
//! 127.0.0.1 that fails 30% of its responses (HTTP 429 and 503, held requests, closed
//! connections, truncated bodies) and ends on the same head as a sync without faults, while
//! its JSON-RPC server keeps responding.

mod support;

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use starling_sync::replay::{FaultConfig, FaultKind, ReplayConfig, ReplayGateway};

use support::{canonical_felt, free_port, read_json, start_gateway};

const BLOCKS: u64 = 60;

/// Share of the faulty gateway's responses that are faults.
const FAIL_RATE: f64 = 0.3;

/// Client request timeout of the nodes; the faulty gateway delays a timed-out request longer.
const CLIENT_TIMEOUT_MS: u64 = 500;
const TIMEOUT_HOLD: Duration = Duration::from_millis(1500);

/// Bound on both syncs together.
const SYNC_DEADLINE: Duration = Duration::from_secs(90);

/// Time the node gets to open its HTTP port before a failed call counts as a missing response.
const STARTUP_DEADLINE: Duration = Duration::from_secs(15);

/// A `starling` node process with its log in a file; killed on drop.
struct NodeProcess {
    child: Child,
    log_path: std::path::PathBuf,
    http_url: String,
}

impl NodeProcess {
    /// Starts the binary syncing Sepolia from `gateway_url`, with JSON-RPC over HTTP on a free
    /// port of 127.0.0.1 and a short gateway request timeout.
    fn start(db_path: &Path, gateway_url: &str, log_path: &Path) -> NodeProcess {
        let http_port = free_port();
        let log = File::create(log_path).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_starling"))
            .args(["--network", "sepolia"])
            .arg("--db-path")
            .arg(db_path)
            .args(["--feeder-gateway-url", gateway_url])
            .args(["--http", "--http-host", "127.0.0.1", "--http-port"])
            .arg(http_port.to_string())
            .args(["--poll-interval-ms", "100"])
            .args(["--gateway-timeout-ms", &CLIENT_TIMEOUT_MS.to_string()])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starling binary starts");
        NodeProcess {
            child,
            log_path: log_path.to_owned(),
            http_url: format!("http://127.0.0.1:{http_port}/rpc/v0_8"),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Sends one JSON-RPC request; `Err` when no JSON-RPC response arrives.
async fn call(
    http: &reqwest::Client,
    url: &str,
    method: &str,
    params: Value,
) -> Result<Value, String> {
    let request = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
    let response = http
        .post(url)
        .json(&request)
        .send()
        .await
        .map_err(|error| format!("{method}: {error}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|error| format!("{method}: HTTP {status}, body is not JSON: {error}"))?;
    if status != 200 || body["id"] != json!(1) {
        return Err(format!("{method}: HTTP {status}, {body}"));
    }
    Ok(body)
}

/// Writes a chain of [`BLOCKS`] blocks with `starling synth-chain`.
fn synth_chain(out: &Path) {
    support::synth_chain(out, BLOCKS, 606, &["--network", "sepolia"]);
}

async fn start_faulty_gateway(chain: &Path) -> ReplayGateway {
    let config = ReplayConfig {
        faults: FaultConfig {
            fail_rate: FAIL_RATE,
            kinds: FaultKind::ALL.to_vec(),
            timeout_hold: TIMEOUT_HOLD,
            seed: 11,
            ..FaultConfig::default()
        },
        ..ReplayConfig::new(chain)
    };
    ReplayGateway::start(config)
        .await
        .expect("faulty replay gateway starts")
}

/// Head of a node as `(block_hash, new_root)` of its latest block.
async fn head(http: &reqwest::Client, node: &NodeProcess) -> (Value, Value) {
    let block = call(
        http,
        &node.http_url,
        "starknet_getBlockWithTxHashes",
        json!(["latest"]),
    )
    .await
    .unwrap_or_else(|error| panic!("{error}\nnode log:\n{}", node.log()));
    let result = &block["result"];
    assert_eq!(result["block_number"], json!(BLOCKS - 1), "{block}");
    (result["block_hash"].clone(), result["new_root"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_gateway_sync_matches_clean() {
    let work = tempfile::tempdir().unwrap();
    let chain = work.path().join("chain");
    synth_chain(&chain);

    let clean_gateway = start_gateway(&chain, 0, None, None).await;
    let faulty_gateway = start_faulty_gateway(&chain).await;
    let clean = NodeProcess::start(
        &work.path().join("clean-db"),
        &clean_gateway.base_url(),
        &work.path().join("clean.log"),
    );
    let faulty = NodeProcess::start(
        &work.path().join("faulty-db"),
        &faulty_gateway.base_url(),
        &work.path().join("faulty.log"),
    );

    // Poll both nodes until both have the last block. Every call to the faulty node after
    // its first response must get a response.
    let http = http_client();
    let last = BLOCKS - 1;
    let started = Instant::now();
    let mut faulty_responses = 0u64;
    let mut clean_done = false;
    let mut faulty_done = false;
    for _ in 0..2000 {
        if clean_done && faulty_done {
            break;
        }
        assert!(
            started.elapsed() < SYNC_DEADLINE,
            "sync did not finish within {SYNC_DEADLINE:?} (clean done: {clean_done}, faulty done: {faulty_done})\nfaulty node log:\n{}",
            faulty.log()
        );

        match call(&http, &faulty.http_url, "starknet_blockNumber", json!([])).await {
            Ok(response) => {
                faulty_responses += 1;
                faulty_done = response["result"] == json!(last);
            }
            // The node may not listen yet.
            Err(_) if faulty_responses == 0 && started.elapsed() < STARTUP_DEADLINE => {}
            Err(error) => panic!(
                "starknet_blockNumber got no response after {faulty_responses} responses: {error}\nnode log:\n{}",
                faulty.log()
            ),
        }
        if !clean_done {
            if let Ok(response) =
                call(&http, &clean.http_url, "starknet_blockNumber", json!([])).await
            {
                clean_done = response["result"] == json!(last);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(clean_done, "the clean node never reached block {last}");
    assert!(faulty_done, "the faulty node never reached block {last}");
    assert!(
        faulty_responses > 10,
        "only {faulty_responses} blockNumber responses"
    );

    let (clean_hash, clean_root) = head(&http, &clean).await;
    let (faulty_hash, faulty_root) = head(&http, &faulty).await;
    assert_eq!(faulty_hash, clean_hash, "head hashes differ");
    assert_eq!(faulty_root, clean_root, "state roots differ");

    let recorded = read_json(&chain.join(format!("block/{last}.json")));
    assert_eq!(clean_hash, json!(canonical_felt(&recorded["block_hash"])));
    assert_eq!(clean_root, json!(canonical_felt(&recorded["state_root"])));

    for kind in FaultKind::ALL {
        assert!(
            faulty_gateway.fault_count(kind) > 0,
            "no {kind} fault was injected"
        );
        assert_eq!(clean_gateway.fault_count(kind), 0, "{kind}");
    }

    let counts: Vec<String> = FaultKind::ALL
        .iter()
        .map(|kind| format!("{kind}={}", faulty_gateway.fault_count(*kind)))
        .collect();
    eprintln!(
        "synced {BLOCKS} blocks through faults [{}] in {:?}, {faulty_responses} blockNumber responses",
        counts.join(" "),
        started.elapsed()
    );

    let faulty_log = faulty.log();
    assert!(
        faulty_log.contains("gateway request failed; retrying"),
        "no retry logged:\n{faulty_log}"
    );
    assert!(
        !faulty_log.contains("failed verification"),
        "a fault was taken for a verification failure:\n{faulty_log}"
    );
    let clean_log = clean.log();
    assert!(
        !clean_log.contains("WARN"),
        "clean sync warned:\n{clean_log}"
    );

    drop(faulty);
    drop(clean);
    faulty_gateway.shutdown().await;
    clean_gateway.shutdown().await;
}
