//! End-to-end: the real `starling` binary syncs chain A from a replay gateway on 127.0.0.1,
//! the gateway switches to chain B, which shares a prefix with A, and the node reverts the
//! blocks B does not contain and syncs B's blocks in their place. A WebSocket subscriber
//! to new heads hears of the reorg once, before chain B's heads.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use starling_sync::replay::{ReplayConfig, ReplayGateway};

use support::{canonical_felt, read_json, start_gateway, Node, WsClient};

const BLOCKS: u64 = 20;
const LAST: u64 = BLOCKS - 1;

/// Writes chain A to `out` and chain B, which differs from block `fork_at` on, to `fork_out`.
fn synth_fork(out: &Path, fork_out: &Path, fork_at: u64) {
    let fork_at = fork_at.to_string();
    let fork_out = fork_out.to_str().expect("a UTF-8 path");
    let extra = [
        "--network",
        "sepolia",
        "--fork-at",
        &fork_at,
        "--fork-out",
        fork_out,
    ];
    support::synth_chain(out, BLOCKS, 7, &extra);
}

fn recorded_hash(chain: &Path, number: u64) -> String {
    canonical_felt(&read_json(&chain.join(format!("block/{number}.json")))["block_hash"])
}

async fn block_hash_at(client: &mut WsClient, number: u64) -> Value {
    let response = client
        .call(
            "starknet_getBlockWithTxHashes",
            json!([{"block_number": number}]),
        )
        .await;
    response["result"]["block_hash"].clone()
}

/// Polls until the node's block `number` has hash `expected`, and panics after `timeout`.
async fn wait_for_hash(client: &mut WsClient, number: u64, expected: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let hash = block_hash_at(client, number).await;
        if hash == json!(expected) {
            return;
        }
        if Instant::now() > deadline {
            panic!("block {number} never got hash {expected}; last hash {hash}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Syncs A to its last block, switches the gateway to B and checks that the node follows.
async fn follow_reorg(depth: u64) {
    let fork_at = BLOCKS - depth;
    let work = tempfile::tempdir().unwrap();
    let chain_a = work.path().join("a");
    let chain_b = work.path().join("b");
    synth_fork(&chain_a, &chain_b, fork_at);
    let hash_a = recorded_hash(&chain_a, LAST);
    let hash_b = recorded_hash(&chain_b, LAST);
    assert_ne!(hash_a, hash_b, "the chains must differ at block {LAST}");
    assert_eq!(
        recorded_hash(&chain_a, fork_at - 1),
        recorded_hash(&chain_b, fork_at - 1),
        "the chains must share block {}",
        fork_at - 1
    );

    let gateway_a = start_gateway(&chain_a, 0, None, None).await;
    let port = gateway_a.local_addr().port();
    let log_path = work.path().join("node.log");
    let node = Node::start(
        "sepolia",
        &work.path().join("db"),
        &gateway_a.base_url(),
        &log_path,
    );
    let mut client = node.connect().await;
    client.wait_for_head(LAST, Duration::from_secs(40)).await;
    assert_eq!(block_hash_at(&mut client, LAST).await, json!(hash_a));

    // A subscriber to new heads, which receives the head of chain A at once.
    let mut subscriber = node.connect_to("/v0_10").await;
    let subscribed = subscriber
        .call("starknet_subscribeNewHeads", json!({}))
        .await;
    let subscription = subscribed["result"].clone();
    let head = subscriber
        .receive(Duration::from_secs(10))
        .await
        .expect("the head notification");
    assert_eq!(head["params"]["result"]["block_hash"], json!(hash_a));

    // Restart the gateway on the same port with B as its fork directory, switching at once,
    // so the node finds its chain replaced under it.
    gateway_a.shutdown().await;
    let mut config = ReplayConfig::new(&chain_a);
    config.port = port;
    config.fork_dir = Some(chain_b.clone());
    config.switch_after = Duration::ZERO;
    let gateway_b = ReplayGateway::start(config)
        .await
        .expect("replay gateway with the fork directory starts");

    wait_for_hash(&mut client, LAST, &hash_b, Duration::from_secs(20)).await;
    client.wait_for_head(LAST, Duration::from_secs(5)).await;
    assert_eq!(
        block_hash_at(&mut client, fork_at).await,
        json!(recorded_hash(&chain_b, fork_at)),
        "block {fork_at} must be chain B's after the reorg"
    );
    assert_eq!(
        block_hash_at(&mut client, fork_at - 1).await,
        json!(recorded_hash(&chain_a, fork_at - 1)),
        "the common ancestor must stay"
    );

    // The subscriber hears of the reorg once, before any head of chain B.
    let reorg = subscriber
        .receive(Duration::from_secs(10))
        .await
        .expect("a reorg notification");
    assert_eq!(reorg["method"], "starknet_subscriptionReorg", "{reorg}");
    assert_eq!(reorg["params"]["subscription_id"], subscription);
    assert_eq!(
        reorg["params"]["result"],
        json!({
            "starting_block_hash": recorded_hash(&chain_a, fork_at),
            "starting_block_number": fork_at,
            "ending_block_hash": hash_a,
            "ending_block_number": LAST,
        })
    );
    for number in fork_at..=LAST {
        let head = subscriber
            .receive(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no head notification for block {number}"));
        assert_eq!(head["method"], "starknet_subscriptionNewHeads", "{head}");
        assert_eq!(head["params"]["result"]["block_number"], number);
        assert_eq!(
            head["params"]["result"]["block_hash"],
            json!(recorded_hash(&chain_b, number))
        );
    }
    assert!(
        subscriber
            .receive(Duration::from_millis(300))
            .await
            .is_none(),
        "no message after chain B's head"
    );

    let log = node.log();
    let reorg_lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("reorg: reverted stored blocks"))
        .collect();
    assert_eq!(reorg_lines.len(), 1, "expected one reorg line:\n{log}");
    let line = reorg_lines[0];
    assert!(
        line.contains(&format!("first_reverted={fork_at}")),
        "reorg line must name block {fork_at} as the first reverted: {line}"
    );
    assert!(
        line.contains(&format!("last_reverted={LAST}")),
        "reorg line must name block {LAST} as the last reverted: {line}"
    );
    assert!(
        !log.contains("failed verification"),
        "node log reports a verification failure:\n{log}"
    );

    drop(node);
    gateway_b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorg_of_one_block() {
    follow_reorg(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorg_of_two_blocks() {
    follow_reorg(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorg_of_ten_blocks() {
    follow_reorg(10).await;
}

/// A reorg deeper than `--max-reorg-depth` stops sync on chain A, which RPC keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorg_deeper_than_limit_stops_sync() {
    let depth = 10;
    let fork_at = BLOCKS - depth;
    let work = tempfile::tempdir().unwrap();
    let chain_a = work.path().join("a");
    let chain_b = work.path().join("b");
    synth_fork(&chain_a, &chain_b, fork_at);
    let hash_a = recorded_hash(&chain_a, LAST);

    let gateway_a = start_gateway(&chain_a, 0, None, None).await;
    let port = gateway_a.local_addr().port();
    let node = Node::start_with_args(
        "sepolia",
        &work.path().join("db"),
        &gateway_a.base_url(),
        &work.path().join("node.log"),
        &["--max-reorg-depth", "5"],
    );
    let mut client = node.connect().await;
    client.wait_for_head(LAST, Duration::from_secs(40)).await;

    gateway_a.shutdown().await;
    let mut config = ReplayConfig::new(&chain_a);
    config.port = port;
    config.fork_dir = Some(chain_b.clone());
    config.switch_after = Duration::ZERO;
    let gateway_b = ReplayGateway::start(config)
        .await
        .expect("replay gateway with the fork directory starts");

    let log = node
        .wait_for_log("sync stopped", Duration::from_secs(30))
        .await;
    assert!(
        log.contains("--max-reorg-depth 5"),
        "the error names the limit:\n{log}"
    );
    assert!(
        !log.contains("reorg: reverted stored blocks"),
        "nothing may be reverted:\n{log}"
    );
    assert_eq!(block_hash_at(&mut client, LAST).await, json!(hash_a));
    client.wait_for_head(LAST, Duration::from_secs(5)).await;

    drop(node);
    gateway_b.shutdown().await;
}
