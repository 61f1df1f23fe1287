//! End-to-end: every subscription of every versioned WebSocket path against blocks that
//! the real binary commits while the client listens, with each notification checked
//! against the JSON schema of its method in that version's `starknet_ws_api.json`.
//!
//! Two chains: the recorded Sepolia blocks 0–6, which carry real transactions and
//! events, and a synthetic chain whose gateway also serves the pre-confirmed block, so
//! that pre-confirmed notifications are checked too.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::spec::{specs_dir, Spec};
use support::{fgw_dir, start_gateway, Node, WsClient};

const VERSIONS: [(&str, &str); 3] = [("/v0_8", "0.8.1"), ("/v0_9", "0.9.0"), ("/v0_10", "0.10.3")];

/// Lists the subscriptions opened on `path` as (method, params).
fn subscriptions(path: &str, transaction_hash: &str) -> Vec<(&'static str, Value)> {
    let mut list = vec![
        (
            "starknet_subscribeNewHeads",
            json!({ "block_id": { "block_number": 0 } }),
        ),
        (
            "starknet_subscribeEvents",
            json!({ "block_id": { "block_number": 0 } }),
        ),
        (
            "starknet_subscribeTransactionStatus",
            json!({ "transaction_hash": transaction_hash }),
        ),
    ];
    if path == "/v0_8" {
        list.push(("starknet_subscribePendingTransactions", json!({})));
        list.push((
            "starknet_subscribePendingTransactions",
            json!({ "transaction_details": true }),
        ));
    } else {
        list.push((
            "starknet_subscribeEvents",
            json!({ "block_id": { "block_number": 0 }, "finality_status": "PRE_CONFIRMED" }),
        ));
        list.push((
            "starknet_subscribeNewTransactions",
            json!({ "finality_status": ["CANDIDATE", "PRE_CONFIRMED", "ACCEPTED_ON_L2"] }),
        ));
        list.push((
            "starknet_subscribeNewTransactionReceipts",
            json!({ "finality_status": ["PRE_CONFIRMED", "ACCEPTED_ON_L2"] }),
        ));
    }
    list
}

/// Subscribes, reading past notifications of earlier subscriptions (kept in `early`).
async fn subscribe(
    client: &mut WsClient,
    method: &str,
    params: Value,
    early: &mut Vec<Value>,
) -> String {
    let request = json!({ "jsonrpc": "2.0", "method": method, "params": params, "id": 1 });
    client.send_text(&request.to_string()).await;
    loop {
        let message = client
            .receive(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no response to {method}"));
        if message.get("id").is_some() {
            return message["result"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} with {params} failed: {message}"))
                .to_string();
        }
        early.push(message);
    }
}

/// What one run saw: notification counts by (path, notification method, finality
/// status or ""), and by finality status alone.
#[derive(Default)]
struct Seen {
    counts: BTreeMap<(String, String, String), usize>,
    finality: BTreeMap<String, usize>,
}

/// Subscribes on every versioned path while the node is at `start_head`, lets the
/// gateway release blocks up to `final_head`, and checks every notification against
/// the spec.
async fn check_notifications(
    network: &str,
    chain: &Path,
    start_head: u64,
    final_head: u64,
    transaction_hash: &str,
) -> Option<Seen> {
    let specs = specs_dir()?;
    let work = tempfile::tempdir().unwrap();
    let gateway = start_gateway(
        chain,
        0,
        Some(start_head + 1),
        Some(Duration::from_millis(1500)),
    )
    .await;
    let node = Node::start(
        network,
        &work.path().join("db"),
        &gateway.base_url(),
        &work.path().join("node.log"),
    );
    let mut control = node.connect().await;
    control
        .wait_for_head(start_head, Duration::from_secs(30))
        .await;

    let mut clients = Vec::new();
    for (path, version) in VERSIONS {
        let mut client = node.connect_to(path).await;
        let mut early = Vec::new();
        let mut ids = BTreeMap::new();
        for (method, params) in subscriptions(path, transaction_hash) {
            let id = subscribe(&mut client, method, params, &mut early).await;
            ids.insert(id, method);
        }
        clients.push((path, Spec::load_ws(&specs, version), client, early, ids));
    }
    control
        .wait_for_head(final_head, Duration::from_secs(60))
        .await;

    let mut seen = Seen::default();
    let mut failures = Vec::new();
    for (path, spec, client, early, ids) in &mut clients {
        let mut messages = std::mem::take(early);
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Some(message) = client.receive(Duration::from_millis(1500)).await {
            messages.push(message);
            assert!(Instant::now() < deadline, "notifications never stopped");
        }
        for message in messages {
            let method = message["method"].as_str().unwrap_or_default().to_string();
            let id = message["params"]["subscription_id"]
                .as_str()
                .unwrap_or_default();
            if !ids.contains_key(id) {
                failures.push(format!("{path}: unknown subscription id in {message}"));
                continue;
            }
            let result = &message["params"]["result"];
            if let Err(errors) = spec.check_result(&method, result) {
                failures.push(format!(
                    "{path} {method}: does not match the schema:\n{errors}\n{result}"
                ));
            }
            let status = result["finality_status"]
                .as_str()
                .or(result["status"]["finality_status"].as_str())
                .unwrap_or_default()
                .to_string();
            *seen.finality.entry(status.clone()).or_default() += 1;
            *seen
                .counts
                .entry((path.to_string(), method, status))
                .or_default() += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    gateway.shutdown().await;
    Some(seen)
}

/// Notifications of `method` on `path`, with finality `status` when given.
fn count(seen: &Seen, path: &str, method: &str, status: Option<&str>) -> usize {
    seen.counts
        .iter()
        .filter(|((p, m, s), _)| {
            p == path && m == method && status.is_none_or(|status| s == status)
        })
        .map(|(_, count)| count)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_sepolia_notifications_match_the_specs() {
    let Some(recording) = fgw_dir("sepolia") else {
        return;
    };
    // A transaction of block 5, which is committed after the subscriptions.
    let block_5 = support::read_json(&recording.join("block/5.json"));
    let transaction_hash = support::canonical_felt(&block_5["transactions"][0]["transaction_hash"]);
    let Some(seen) = check_notifications("sepolia", &recording, 2, 6, &transaction_hash).await
    else {
        return;
    };

    for (path, _) in VERSIONS {
        let heads = count(&seen, path, "starknet_subscriptionNewHeads", None);
        assert_eq!(heads, 7, "{path}");
        assert!(
            count(&seen, path, "starknet_subscriptionEvents", None) > 0,
            "{path}"
        );
        let statuses = count(&seen, path, "starknet_subscriptionTransactionStatus", None);
        assert!(statuses >= 1, "{path}");
    }

    // Blocks 3 to 6 contain 2 + 4 + 2 + 1 transactions. Those of the pre-confirmed block 7,
    // which never gets committed here, may come on top for the subscriptions that
    // include pre-confirmed transactions.
    let pending = count(
        &seen,
        "/v0_8",
        "starknet_subscriptionPendingTransactions",
        None,
    );
    assert!((18..=18 + 2 * 17).contains(&pending), "{pending}");

    for path in ["/v0_9", "/v0_10"] {
        for method in [
            "starknet_subscriptionNewTransaction",
            "starknet_subscriptionNewTransactionReceipts",
        ] {
            // The recorded blocks are accepted on L1 already, which receipts report.
            let accepted = count(&seen, path, method, Some("ACCEPTED_ON_L2"))
                + count(&seen, path, method, Some("ACCEPTED_ON_L1"));
            assert_eq!(accepted, 9, "{path} {method}: {:?}", seen.counts);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_confirmed_notifications_match_the_specs() {
    if specs_dir().is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let chain = work.path().join("chain");
    support::synth_chain(&chain, 8, 11, &["--network", "sepolia"]);
    let block_6 = support::read_json(&chain.join("block/6.json"));
    let transaction_hash = support::canonical_felt(&block_6["transactions"][0]["transaction_hash"]);
    let Some(seen) = check_notifications("sepolia", &chain, 3, 7, &transaction_hash).await else {
        return;
    };
    assert!(
        seen.finality
            .get("PRE_CONFIRMED")
            .is_some_and(|count| *count > 0),
        "no pre-confirmed notification: {:?}",
        seen.finality
    );
    assert!(
        seen.finality
            .get("ACCEPTED_ON_L2")
            .is_some_and(|count| *count > 0),
        "{:?}",
        seen.finality
    );
}
