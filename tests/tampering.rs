//! Corrupted gateway data: each kind of tampering in a copy of the recorded Sepolia
//! blocks is rejected by the running node, which stops at the last good block.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use support::{copy_recording, edit_json, fgw_dir, start_gateway, Node};

/// Syncs a tampered copy of Sepolia 0..=6 and checks that `bad_block` is rejected with a
/// verification error naming `what`, and that the head stays at the block before it.
async fn assert_tampering_rejected(bad_block: u64, what: &str, tamper: impl FnOnce(&Path)) {
    let Some(recording) = fgw_dir("sepolia") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let tampered = work.path().join("fgw");
    copy_recording(&recording, &tampered);
    tamper(&tampered);

    let gateway = start_gateway(&tampered, 0, None, None).await;
    let node = Node::start(
        "sepolia",
        &work.path().join("db"),
        &gateway.base_url(),
        &work.path().join("node.log"),
    );
    let log = node
        .wait_for_log("sync stopped", Duration::from_secs(60))
        .await;

    let rejection = log
        .lines()
        .find(|line| line.contains("block failed verification"))
        .unwrap_or_else(|| panic!("no verification error in the log:\n{log}"));
    assert!(rejection.contains("network=sepolia"), "{rejection}");
    assert!(
        rejection.contains(&format!("block_number={bad_block}")),
        "{rejection}"
    );
    assert!(
        rejection.contains(what),
        "expected {what:?} in: {rejection}"
    );
    assert!(rejection.contains("expected=0x"), "{rejection}");
    assert!(rejection.contains("computed=0x"), "{rejection}");
    let attempts = log
        .lines()
        .filter(|line| line.contains("block failed verification"))
        .count();
    assert_eq!(
        attempts, 3,
        "the block is retried a bounded number of times:\n{log}"
    );

    let mut client = node.connect().await;
    let head = client.call("starknet_blockNumber", json!([])).await;
    assert_eq!(head["result"], json!(bad_block - 1), "log:\n{log}");
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_storage_value_is_rejected() {
    assert_tampering_rejected(4, "state root", |dir| {
        edit_json(&dir.join("state_update/4.json"), |update| {
            let diffs = update["state_diff"]["storage_diffs"]
                .as_object_mut()
                .unwrap();
            let entries = diffs.values_mut().next().unwrap().as_array_mut().unwrap();
            entries[0]["value"] = Value::from("0x1234");
        });
    })
    .await;
}
