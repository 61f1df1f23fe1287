//! The pre-confirmed block end to end: the real binary syncs recorded Sepolia blocks
//! 0 to 3 from a replay gateway, which serves block 4 as the block being built until it
//! releases it. Over HTTP the node shows block 4 under `pending` and `pre_confirmed` with
//! its transactions, statuses and state, in shapes valid against every served spec, and
//! once block 4 is committed its transactions are accepted on L2.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use support::spec::{specs_dir, Spec};
use support::{
    canonical_felt, copy_recording, edit_json, fgw_dir, read_json, start_gateway, HttpClient, Node,
};

/// Blocks 0 to 3 are visible at start; block 4 is the pre-confirmed block.
const VISIBLE_AT_START: u64 = 4;
const PRE_CONFIRMED: u64 = 4;
/// Time until the gateway releases block 4. The node must sync blocks 0 to 3 and poll
/// the pre-confirmed block within it; the checks before the release take about a second.
const RELEASE_AFTER: Duration = Duration::from_secs(15);

/// Paths, their spec version and the tag that names the pre-confirmed block there.
const VERSIONS: &[(&str, &str, &str)] = &[
    ("/", "0.7.1", "pending"),
    ("/rpc/v0_8", "0.8.1", "pending"),
    ("/v0_9", "0.9.0", "pre_confirmed"),
    ("/rpc/v0_10", "0.10.3", "pre_confirmed"),
];

async fn result(client: &HttpClient, path: &str, method: &str, params: Value) -> Value {
    let response = client.call(path, method, params.clone()).await;
    match response.get("result") {
        Some(result) => result.clone(),
        None => panic!("{method} {params} on {path} failed: {response}"),
    }
}

/// Polls `check` every 100 ms until it returns `Some`, for at most `timeout`.
async fn wait_until<T, F>(timeout: Duration, description: &str, node: &Node, mut check: F) -> T
where
    F: AsyncFnMut() -> Option<T>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() > deadline {
            panic!(
                "timed out waiting for {description}; node log:\n{}",
                node.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_head(client: &HttpClient, node: &Node, number: u64, timeout: Duration) {
    node.wait_for_log("HTTP JSON-RPC listening", Duration::from_secs(30))
        .await;
    wait_until(timeout, &format!("head {number}"), node, async || {
        let response = client
            .call("/v0_9", "starknet_blockNumber", json!([]))
            .await;
        (response["result"] == json!(number)).then_some(())
    })
    .await
}

/// Returns the first storage write of a recorded state update: contract, key and value.
fn first_storage_write(state_update: &Value) -> (String, String, String) {
    let (contract, entries) = state_update["state_diff"]["storage_diffs"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, entries)| !entries.as_array().unwrap().is_empty())
        .expect("the block writes storage");
    let entry = &entries[0];
    (
        canonical_felt(&json!(contract)),
        canonical_felt(&entry["key"]),
        canonical_felt(&entry["value"]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_confirmed_block_served_until_committed() {
    let Some(recording) = fgw_dir("sepolia") else {
        return;
    };
    let specs = specs_dir();
    let work = tempfile::tempdir().unwrap();
    // The recording marks block 4 as accepted on L1, its status when it was recorded. A
    // block that was just built is accepted on L2, so the copy marks it that way.
    let recording_copy = work.path().join("recording");
    copy_recording(&recording, &recording_copy);
    edit_json(
        &recording_copy.join(format!("block/{PRE_CONFIRMED}.json")),
        |block| block["status"] = json!("ACCEPTED_ON_L2"),
    );
    let recording = recording_copy;
    let gateway = start_gateway(&recording, 0, Some(VISIBLE_AT_START), Some(RELEASE_AFTER)).await;
    let node = Node::start_with_args(
        "sepolia",
        &work.path().join("db"),
        &gateway.base_url(),
        &work.path().join("node.log"),
        &["--pre-confirmed-poll-ms", "200"],
    );
    let client = HttpClient::new(&node);

    let recorded_block = read_json(&recording.join(format!("block/{PRE_CONFIRMED}.json")));
    let recorded_update = read_json(&recording.join(format!("state_update/{PRE_CONFIRMED}.json")));
    let recorded_hashes: Vec<Value> = recorded_block["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|transaction| json!(canonical_felt(&transaction["transaction_hash"])))
        .collect();
    let first_hash = recorded_hashes[0].clone();

    wait_for_head(&client, &node, PRE_CONFIRMED - 1, Duration::from_secs(60)).await;
    let block = wait_until(
        Duration::from_secs(10),
        "the pre-confirmed block",
        &node,
        async || {
            let block = result(
                &client,
                "/v0_9",
                "starknet_getBlockWithTxHashes",
                json!(["pre_confirmed"]),
            )
            .await;
            let transactions = block["transactions"].as_array().unwrap();
            (!transactions.is_empty()).then_some(block)
        },
    )
    .await;

    // The block and its transactions.
    assert_eq!(block["block_number"], json!(PRE_CONFIRMED));
    assert_eq!(block["transactions"], Value::Array(recorded_hashes.clone()));
    assert_eq!(block["timestamp"], recorded_block["timestamp"]);
    let pending = result(
        &client,
        "/rpc/v0_8",
        "starknet_getBlockWithTxHashes",
        json!(["pending"]),
    )
    .await;
    let head = result(
        &client,
        "/v0_9",
        "starknet_getBlockWithTxHashes",
        json!(["latest"]),
    )
    .await;
    assert_eq!(pending["parent_hash"], head["block_hash"]);
    assert_eq!(
        pending["transactions"],
        Value::Array(recorded_hashes.clone())
    );
    let count = result(
        &client,
        "/v0_9",
        "starknet_getBlockTransactionCount",
        json!(["pre_confirmed"]),
    )
    .await;
    assert_eq!(count, json!(recorded_hashes.len()));

    // A transaction's status and receipt.
    let status = result(
        &client,
        "/v0_9",
        "starknet_getTransactionStatus",
        json!([first_hash]),
    )
    .await;
    assert_eq!(status["finality_status"], "PRE_CONFIRMED");
    assert_eq!(status["execution_status"], "SUCCEEDED");
    let status = result(
        &client,
        "/rpc/v0_8",
        "starknet_getTransactionStatus",
        json!([first_hash]),
    )
    .await;
    assert_eq!(status["finality_status"], "ACCEPTED_ON_L2");
    let receipt = result(
        &client,
        "/v0_9",
        "starknet_getTransactionReceipt",
        json!([first_hash]),
    )
    .await;
    assert_eq!(receipt["finality_status"], "PRE_CONFIRMED");
    assert_eq!(receipt["block_number"], json!(PRE_CONFIRMED));
    assert!(receipt.get("block_hash").is_none(), "{receipt}");
    let receipt = result(
        &client,
        "/",
        "starknet_getTransactionReceipt",
        json!([first_hash]),
    )
    .await;
    assert!(receipt.get("block_number").is_none(), "{receipt}");

    // A storage value that block 4 writes, over the head's state.
    let (contract, key, value) = first_storage_write(&recorded_update);
    let pre_confirmed_value = result(
        &client,
        "/v0_9",
        "starknet_getStorageAt",
        json!([contract, key, "pre_confirmed"]),
    )
    .await;
    assert_eq!(pre_confirmed_value, json!(value));
    let latest_value = result(
        &client,
        "/v0_9",
        "starknet_getStorageAt",
        json!([contract, key, "latest"]),
    )
    .await;
    assert_ne!(
        latest_value,
        json!(value),
        "block 4 does not change the slot"
    );
    let update = result(
        &client,
        "/v0_9",
        "starknet_getStateUpdate",
        json!(["pre_confirmed"]),
    )
    .await;
    let written: Vec<&Value> = update["state_diff"]["storage_diffs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|diff| diff["address"] == json!(contract))
        .collect();
    assert_eq!(written.len(), 1, "{update}");

    // Events of the pre-confirmed block, after those of the stored blocks.
    let events = result(
        &client,
        "/v0_9",
        "starknet_getEvents",
        json!({"filter": {"from_block": {"block_number": PRE_CONFIRMED - 1}, "to_block": "pre_confirmed", "chunk_size": 100}}),
    )
    .await;
    let recorded_events: usize = recorded_block["transaction_receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|receipt| receipt["events"].as_array().unwrap().len())
        .sum();
    let pre_confirmed_events: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["block_number"] == json!(PRE_CONFIRMED))
        .collect();
    assert_eq!(pre_confirmed_events.len(), recorded_events, "{events}");
    assert!(pre_confirmed_events
        .iter()
        .all(|event| event.get("block_hash").is_none()));

    // Every pre-confirmed result is valid against the spec of its path.
    if let Some(specs) = &specs {
        for (path, version, tag) in VERSIONS {
            let spec = Spec::load(specs, version);
            let calls = [
                ("starknet_getBlockWithTxHashes", json!([tag])),
                ("starknet_getBlockWithTxs", json!([tag])),
                ("starknet_getBlockWithReceipts", json!([tag])),
                ("starknet_getBlockTransactionCount", json!([tag])),
                ("starknet_getStateUpdate", json!([tag])),
                ("starknet_getTransactionByBlockIdAndIndex", json!([tag, 1])),
                ("starknet_getTransactionByHash", json!([first_hash])),
                ("starknet_getTransactionReceipt", json!([first_hash])),
                ("starknet_getTransactionStatus", json!([first_hash])),
                ("starknet_getStorageAt", json!([contract, key, tag])),
                (
                    "starknet_getEvents",
                    json!({"filter": {"from_block": {"block_number": 0}, "to_block": tag, "chunk_size": 100}}),
                ),
            ];
            for (method, params) in calls {
                let answer = result(&client, path, method, params.clone()).await;
                if let Err(errors) = spec.check_result(method, &answer) {
                    panic!(
                        "{method} {params} on {path} breaks spec {version}:\n{errors}\n{answer}"
                    );
                }
            }
        }
    }

    // Once block 4 is committed, its transactions are accepted on L2 and leave the
    // pre-confirmed block.
    wait_for_head(&client, &node, PRE_CONFIRMED, Duration::from_secs(40)).await;
    let status = result(
        &client,
        "/v0_9",
        "starknet_getTransactionStatus",
        json!([first_hash]),
    )
    .await;
    assert_eq!(status["finality_status"], "ACCEPTED_ON_L2");
    let receipt = result(
        &client,
        "/v0_9",
        "starknet_getTransactionReceipt",
        json!([first_hash]),
    )
    .await;
    assert_eq!(
        receipt["block_hash"],
        json!(canonical_felt(&recorded_block["block_hash"]))
    );
    let block = result(
        &client,
        "/v0_9",
        "starknet_getBlockWithTxHashes",
        json!(["pre_confirmed"]),
    )
    .await;
    assert_eq!(block["block_number"], json!(PRE_CONFIRMED + 1));
    for hash in &recorded_hashes {
        assert!(
            !block["transactions"].as_array().unwrap().contains(hash),
            "committed transaction {hash} still pre-confirmed: {block}"
        );
    }

    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_polling_sends_no_request() {
    let Some(recording) = fgw_dir("sepolia") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let gateway = start_gateway(&recording, 0, Some(VISIBLE_AT_START), None).await;
    let node = Node::start_with_args(
        "sepolia",
        &work.path().join("db"),
        &gateway.base_url(),
        &work.path().join("node.log"),
        &["--no-pre-confirmed", "--pre-confirmed-poll-ms", "100"],
    );
    let client = HttpClient::new(&node);

    wait_for_head(&client, &node, PRE_CONFIRMED - 1, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    assert_eq!(gateway.request_count("get_preconfirmed_block"), 0);
    let block = result(
        &client,
        "/v0_9",
        "starknet_getBlockWithTxHashes",
        json!(["pre_confirmed"]),
    )
    .await;
    assert_eq!(block["block_number"], json!(PRE_CONFIRMED));
    assert_eq!(block["transactions"], json!([]));
    gateway.shutdown().await;
}
