//! End-to-end: the real `starling` binary syncs a chain written by `starling synth-chain`
//! from a replay gateway on 127.0.0.1 with every check on, and serves its contents.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use support::{canonical_felt, read_json, start_gateway, HttpClient, Node};

const BLOCKS: u64 = 30;

/// Runs `starling synth-chain` with `extra` arguments and fails the test on error.
fn synth_chain(out: &Path, seed: u64, extra: &[&str]) {
    support::synth_chain(out, BLOCKS, seed, extra);
}

fn read_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_chain_syncs_with_every_check() {
    let work = tempfile::tempdir().unwrap();
    let chain = work.path().join("chain");
    synth_chain(&chain, 2024, &["--network", "sepolia"]);
    assert!(
        !chain.join("signature").exists(),
        "the generator must not write signatures"
    );

    let gateway = start_gateway(&chain, 0, None, None).await;
    let node = Node::start(
        "sepolia",
        &work.path().join("db"),
        &gateway.base_url(),
        &work.path().join("node.log"),
    );
    let mut client = node.connect().await;
    let last = BLOCKS - 1;
    client.wait_for_head(last, Duration::from_secs(120)).await;

    let recorded_last = read_json(&chain.join(format!("block/{last}.json")));
    let head = client.call("starknet_blockHashAndNumber", json!([])).await;
    assert_eq!(head["result"]["block_number"], json!(last), "{head}");
    assert_eq!(
        head["result"]["block_hash"],
        json!(canonical_felt(&recorded_last["block_hash"])),
        "{head}"
    );

    let log = node.log();
    assert!(
        !log.contains("failed verification"),
        "node log reports a verification failure:\n{log}"
    );
    assert!(!log.contains("ERROR"), "node log has errors:\n{log}");

    let http = HttpClient::new(&node);

    // Storage: the last write of the last block's state diff.
    let state_update = read_json(&chain.join(format!("state_update/{last}.json")));
    let storage_diffs = state_update["state_diff"]["storage_diffs"]
        .as_object()
        .expect("storage_diffs is an object");
    let (address, entries) = storage_diffs
        .iter()
        .next()
        .expect("the block writes storage");
    let entry = &entries[0];
    let storage = http
        .call(
            "/rpc/v0_8",
            "starknet_getStorageAt",
            json!([address, entry["key"], {"block_number": last}]),
        )
        .await;
    assert_eq!(
        storage["result"],
        json!(canonical_felt(&entry["value"])),
        "{storage}"
    );

    // Events: every event of the last block, in order.
    let expected_events: Vec<Value> = recorded_last["transaction_receipts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|receipt| receipt["events"].as_array().unwrap().clone())
        .collect();
    assert!(!expected_events.is_empty());
    let events = http
        .call(
            "/rpc/v0_8",
            "starknet_getEvents",
            json!([{
                "from_block": {"block_number": last},
                "to_block": {"block_number": last},
                "chunk_size": 1000
            }]),
        )
        .await;
    let served = events["result"]["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in {events}"));
    assert_eq!(served.len(), expected_events.len(), "{events}");
    for (served, expected) in served.iter().zip(&expected_events) {
        assert_eq!(served["from_address"], expected["from_address"]);
        assert_eq!(served["keys"], expected["keys"]);
        assert_eq!(served["data"], expected["data"]);
        assert_eq!(served["block_number"], json!(last));
    }

    // Events filtered by contract and key: the fee token's transfers in the last block.
    let fee_transfer = expected_events.last().unwrap();
    let filtered = http
        .call(
            "/rpc/v0_8",
            "starknet_getEvents",
            json!([{
                "from_block": {"block_number": last},
                "to_block": {"block_number": last},
                "address": fee_transfer["from_address"],
                "keys": [[fee_transfer["keys"][0]]],
                "chunk_size": 1000
            }]),
        )
        .await;
    let filtered_count = filtered["result"]["events"].as_array().map(Vec::len);
    let expected_count = expected_events
        .iter()
        .filter(|event| {
            event["from_address"] == fee_transfer["from_address"]
                && event["keys"][0] == fee_transfer["keys"][0]
        })
        .count();
    assert_eq!(filtered_count, Some(expected_count), "{filtered}");

    gateway.shutdown().await;
}

#[test]
fn fork_shares_blocks_before_fork_point() {
    let work = tempfile::tempdir().unwrap();
    let chain = work.path().join("chain");
    let fork = work.path().join("fork");
    let fork_out = fork.to_str().unwrap();
    synth_chain(&chain, 77, &["--fork-at", "10", "--fork-out", fork_out]);

    for number in 0..BLOCKS {
        for folder in ["block", "state_update"] {
            let name = format!("{folder}/{number}.json");
            let main = read_bytes(&chain.join(&name));
            let forked = read_bytes(&fork.join(&name));
            if number < 10 {
                assert!(main == forked, "{name} differs before the fork");
            } else {
                assert!(main != forked, "{name} is the same after the fork");
            }
        }
    }
    assert!(!chain.join(format!("block/{BLOCKS}.json")).exists());
    assert!(!fork.join(format!("block/{BLOCKS}.json")).exists());
}

#[test]
fn fork_at_last_block_plus_one_is_rejected() {
    let work = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_starling"))
        .arg("synth-chain")
        .arg("--out")
        .arg(work.path().join("chain"))
        .args([
            "--blocks",
            "5",
            "--seed",
            "1",
            "--fork-at",
            "5",
            "--fork-out",
        ])
        .arg(work.path().join("fork"))
        .output()
        .expect("starling binary starts");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("between 1 and 4"), "{stderr}");
    assert!(!work.path().join("chain").exists(), "nothing is written");
}
