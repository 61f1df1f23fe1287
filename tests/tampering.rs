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
        // The signature also covers the state diff; without it the state root check is
        // the one that catches the change.
        std::fs::remove_file(dir.join("signature/4.json")).unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_transaction_field_is_rejected() {
    assert_tampering_rejected(3, "transaction 1", |dir| {
        edit_json(&dir.join("block/3.json"), |block| {
            let calldata = block["transactions"][1]["calldata"].as_array_mut().unwrap();
            calldata[0] = Value::from("0x7");
        });
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_event_key_is_rejected() {
    assert_tampering_rejected(5, "event commitment", |dir| {
        edit_json(&dir.join("block/5.json"), |block| {
            let keys = block["transaction_receipts"][0]["events"][0]["keys"]
                .as_array_mut()
                .unwrap();
            keys[0] = Value::from("0x1");
        });
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_class_body_is_rejected() {
    let class = "0x1b661756bf7d16210fc611626e1af4569baa1781ffc964bd018f4585ae241c1";
    assert_tampering_rejected(1, &format!("class hash of class {class}"), |dir| {
        let path = dir.join(format!("class/{class}.json"));
        let text = std::fs::read_to_string(&path).unwrap();
        // One byte of an entry point offset: still valid JSON, a different class.
        let tampered = text.replacen("\"offset\":1629", "\"offset\":1628", 1);
        assert_ne!(tampered, text, "the class body has the expected offset");
        std::fs::write(&path, tampered).unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_signature_is_rejected() {
    assert_tampering_rejected(3, "block signature", |dir| {
        edit_json(&dir.join("signature/3.json"), |signature| {
            signature["signature"][0] = Value::from("0x1");
        });
    })
    .await;
}
