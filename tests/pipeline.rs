//! End-to-end: the real `starling` binary syncs synthetic chains with blocks fetched
//! ahead of the writer (`--fetch-ahead`) from a replay gateway on 127.0.0.1. Checks the
//! final head and state root, that every block and class is requested exactly once, and
//! that a fork switch in the middle of catching up is followed.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use starling_sync::replay::{ReplayConfig, ReplayGateway};

use support::{canonical_felt, read_json, start_gateway, Node, WsClient};

const BLOCKS: u64 = 100;
const LAST: u64 = BLOCKS - 1;

/// Runs `starling synth-chain` for `BLOCKS` blocks with `extra` arguments.
fn synth_chain(out: &Path, seed: u64, extra: &[&str]) {
    let mut arguments = vec!["--network", "sepolia"];
    arguments.extend_from_slice(extra);
    support::synth_chain(out, BLOCKS, seed, &arguments);
}

fn recorded_header(chain: &Path, number: u64) -> Value {
    read_json(&chain.join(format!("block/{number}.json")))
}

fn recorded_hash(chain: &Path, number: u64) -> String {
    canonical_felt(&recorded_header(chain, number)["block_hash"])
}

/// Class hashes of the files in `chain/folder`, named `0x….json`.
fn class_hashes(chain: &Path, folder: &str) -> Vec<String> {
    let mut hashes: Vec<String> = std::fs::read_dir(chain.join(folder))
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .filter_map(|name| name.strip_suffix(".json").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    hashes.sort();
    hashes
}

async fn block_at(client: &mut WsClient, number: u64) -> Value {
    let response = client
        .call(
            "starknet_getBlockWithTxHashes",
            json!([{"block_number": number}]),
        )
        .await;
    response["result"].clone()
}

/// Polls until the node's block `number` has hash `expected`, and panics with the node's
/// log after `timeout`.
async fn wait_for_hash(
    client: &mut WsClient,
    node: &Node,
    number: u64,
    expected: &str,
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    loop {
        let hash = block_at(client, number).await["block_hash"].clone();
        if hash == json!(expected) {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "block {number} never got hash {expected}; last hash {hash}; node log:\n{}",
                node.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_ahead_requests_each_block_and_class_once() {
    let work = tempfile::tempdir().unwrap();
    let chain = work.path().join("chain");
    synth_chain(&chain, 31, &[]);
    let definitions = class_hashes(&chain, "class");
    let compiled = class_hashes(&chain, "compiled_class");
    assert!(definitions.len() >= 2, "the chain declares classes");
    assert!(!compiled.is_empty(), "the chain declares Sierra classes");

    let gateway = start_gateway(&chain, 0, None, None).await;
    let node = Node::start_with_args(
        "sepolia",
        &work.path().join("db"),
        &gateway.base_url(),
        &work.path().join("node.log"),
        &["--fetch-ahead", "8"],
    );
    let mut client = node.connect().await;
    client.wait_for_head(LAST, Duration::from_secs(120)).await;

    let recorded_last = recorded_header(&chain, LAST);
    let served_last = block_at(&mut client, LAST).await;
    assert_eq!(
        served_last["block_hash"],
        json!(canonical_felt(&recorded_last["block_hash"])),
        "{served_last}"
    );
    assert_eq!(
        served_last["new_root"],
        json!(canonical_felt(&recorded_last["state_root"])),
        "{served_last}"
    );

    for number in 0..BLOCKS {
        assert_eq!(
            gateway.block_request_count("get_state_update", number),
            1,
            "state update requests for block {number}"
        );
    }
    for hash in &definitions {
        assert_eq!(
            gateway.class_request_count("get_class_by_hash", hash),
            1,
            "definition requests for class {hash}"
        );
    }
    for hash in &compiled {
        assert_eq!(
            gateway.class_request_count("get_compiled_class_by_class_hash", hash),
            1,
            "CASM requests for class {hash}"
        );
    }
    assert_eq!(
        gateway.request_count("get_class_by_hash"),
        definitions.len() as u64
    );
    assert_eq!(
        gateway.request_count("get_compiled_class_by_class_hash"),
        compiled.len() as u64
    );

    let log = node.log();
    assert!(
        log.contains("fetch_ahead=8"),
        "the node logs its fetch-ahead:\n{log}"
    );
    assert!(
        !log.contains("failed verification"),
        "node log reports a verification failure:\n{log}"
    );
    assert!(!log.contains("ERROR"), "node log has errors:\n{log}");

    drop(node);
    gateway.shutdown().await;
}

/// The gateway switches from chain A to chain B, which differs from block `FORK_AT` on,
/// while the node is still catching up with blocks fetched ahead. The node must notice
/// the first block of B that does not link to its head, drop what it fetched ahead, revert
/// A's blocks and end on B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_switch_during_catch_up_is_followed() {
    const FORK_AT: u64 = 3;
    // Every response waits this long. A block needs at least two requests one after the
    // other (state update, then signature), so at most FETCH_AHEAD blocks arrive per
    // 400 ms: at most 20 blocks per second, at most 70 blocks by the switch.
    const LATENCY: Duration = Duration::from_millis(200);
    const FETCH_AHEAD: u64 = 8;
    const SWITCH_AFTER: Duration = Duration::from_millis(3500);

    let work = tempfile::tempdir().unwrap();
    let chain_a = work.path().join("a");
    let chain_b = work.path().join("b");
    let fork_out = chain_b.to_str().unwrap().to_owned();
    synth_chain(
        &chain_a,
        41,
        &["--fork-at", &FORK_AT.to_string(), "--fork-out", &fork_out],
    );
    let hash_b = recorded_hash(&chain_b, LAST);
    assert_ne!(recorded_hash(&chain_a, LAST), hash_b);

    let mut config = ReplayConfig::new(&chain_a);
    config.fork_dir = Some(chain_b.clone());
    config.switch_after = SWITCH_AFTER;
    config.faults.latency = LATENCY;
    let started = Instant::now();
    let gateway = ReplayGateway::start(config)
        .await
        .expect("replay gateway with the fork directory starts");
    let node = Node::start_with_args(
        "sepolia",
        &work.path().join("db"),
        &gateway.base_url(),
        &work.path().join("node.log"),
        // The reorg reverts every block from the fork point to the head at the switch,
        // which may be more than the default limit of 64.
        &[
            "--fetch-ahead",
            &FETCH_AHEAD.to_string(),
            "--max-reorg-depth",
            &BLOCKS.to_string(),
        ],
    );
    let mut client = node.connect().await;

    // Just before the switch: the node is between the fork point and A's last block, and
    // the gateway has served blocks beyond the node's head.
    tokio::time::sleep(SWITCH_AFTER.saturating_sub(started.elapsed() + LATENCY)).await;
    let head = client.call("starknet_blockNumber", json!([])).await["result"]
        .as_u64()
        .expect("the node has blocks before the switch");
    assert!(
        head < LAST,
        "the node must still be catching up at the switch, head {head}"
    );
    assert!(
        head >= FORK_AT,
        "the node must have stored blocks of A after the fork point, head {head}"
    );
    eprintln!("head at the switch: {head}");
    let requested_ahead = (head + 2..=head + FETCH_AHEAD)
        .filter(|number| gateway.block_request_count("get_state_update", *number) > 0)
        .count();
    assert!(
        requested_ahead > 0,
        "the node must have requested blocks beyond {} at head {head}",
        head + 1
    );

    wait_for_hash(&mut client, &node, LAST, &hash_b, Duration::from_secs(60)).await;
    client.wait_for_head(LAST, Duration::from_secs(5)).await;
    for number in FORK_AT..BLOCKS {
        assert_eq!(
            block_at(&mut client, number).await["block_hash"],
            json!(recorded_hash(&chain_b, number)),
            "block {number} must be chain B's"
        );
    }
    assert_eq!(
        block_at(&mut client, FORK_AT - 1).await["block_hash"],
        json!(recorded_hash(&chain_a, FORK_AT - 1)),
        "the common ancestor must stay"
    );
    let by_hash = client
        .call(
            "starknet_getBlockWithTxHashes",
            json!([{"block_hash": recorded_hash(&chain_a, FORK_AT)}]),
        )
        .await;
    assert_eq!(
        by_hash["error"]["code"],
        json!(24),
        "chain A's block {FORK_AT} must not be served: {by_hash}"
    );

    let log = node.log();
    assert!(
        log.contains("discarded blocks fetched ahead") && log.contains("parent_mismatch"),
        "the node must drop its prefetched blocks on the parent mismatch:\n{log}"
    );
    let reorg_lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("reorg: reverted stored blocks"))
        .collect();
    assert_eq!(reorg_lines.len(), 1, "expected one reorg line:\n{log}");
    assert!(
        reorg_lines[0].contains(&format!("first_reverted={FORK_AT}")),
        "the reorg starts at the fork point: {}",
        reorg_lines[0]
    );
    assert!(
        !log.contains("failed verification"),
        "node log reports a verification failure:\n{log}"
    );

    drop(node);
    gateway.shutdown().await;
}
