//! End-to-end: the real `starling` binary syncing recorded blocks from a replay
//! gateway on 127.0.0.1 and streaming them over WebSocket.

mod support;

use std::time::Duration;

use serde_json::{json, Value};

use support::{canonical_felt, copy_recording, fgw_dir, free_port, read_json, start_gateway, Node};

fn assert_header_matches_recording(notification: &Value, recorded: &Value, subscription: &Value) {
    assert_eq!(notification["jsonrpc"], "2.0");
    assert_eq!(notification["method"], "starknet_subscribeNewHeads");
    assert_eq!(&notification["params"]["subscription"], subscription);
    let header = &notification["params"]["result"];
    assert_eq!(header["block_number"], recorded["block_number"]);
    assert_eq!(
        header["block_hash"],
        json!(canonical_felt(&recorded["block_hash"]))
    );
    assert_eq!(
        header["parent_hash"],
        json!(canonical_felt(&recorded["parent_block_hash"]))
    );
    assert_eq!(
        header["new_root"],
        json!(canonical_felt(&recorded["state_root"]))
    );
    assert_eq!(header["timestamp"], recorded["timestamp"]);
    for field in [
        "sequencer_address",
        "l1_gas_price",
        "l1_data_gas_price",
        "l1_da_mode",
        "starknet_version",
    ] {
        assert!(
            header.get(field).is_some(),
            "header lacks {field}: {header}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mainnet_blocks_stream_survive_kill_and_restart() {
    let Some(recording) = fgw_dir("mainnet") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let db_path = work.path().join("db");
    let gateway_port = free_port();
    let gateway_url = format!("http://127.0.0.1:{gateway_port}");

    // The node starts before the gateway, so the subscription exists before block 0
    // can be released.
    let mut node = Node::start(
        "mainnet",
        &db_path,
        &gateway_url,
        &work.path().join("node1.log"),
    );
    let mut client = node.connect().await;
    let subscribed = client.call("starknet_subscribeNewHeads", json!([])).await;
    let subscription = subscribed["result"].clone();
    assert!(
        subscription.is_u64(),
        "subscription id is a number: {subscribed}"
    );

    let mut quitter = node.connect().await;
    let quitter_id = quitter.call("starknet_subscribeNewHeads", json!({})).await["result"].clone();

    let gateway = start_gateway(
        &recording,
        gateway_port,
        Some(0),
        Some(Duration::from_millis(200)),
    )
    .await;

    let first = quitter
        .receive(Duration::from_secs(30))
        .await
        .expect("block 0 notification");
    assert_eq!(first["params"]["result"]["block_number"], 0);
    let unsubscribed = quitter
        .call("juno_unsubscribe", json!({"id": quitter_id}))
        .await;
    assert_eq!(unsubscribed["result"], json!(true));

    for number in 0..3 {
        let notification = client
            .receive(Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("no notification for block {number}; log:\n{}", node.log()));
        let recorded = read_json(&recording.join(format!("block/{number}.json")));
        assert_header_matches_recording(&notification, &recorded, &subscription);
    }
    assert_eq!(
        client.receive(Duration::from_millis(800)).await,
        None,
        "a fourth notification arrived"
    );
    assert_eq!(
        quitter.receive(Duration::from_millis(200)).await,
        None,
        "unsubscribed client got a notification"
    );

    let head = client.call("starknet_blockHashAndNumber", json!([])).await;
    let recorded_head = read_json(&recording.join("block/2.json"));
    assert_eq!(
        head["result"],
        json!({"block_hash": canonical_felt(&recorded_head["block_hash"]), "block_number": 2})
    );

    // `db info` reads the database while the node holds it.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_starling"))
        .args(["db", "info", "--json", "--db-path"])
        .arg(&db_path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "db info failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let info: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(info["network"], "mainnet");
    assert_eq!(info["chain_id"], "0x534e5f4d41494e");
    assert_eq!(info["chain_id_name"], "SN_MAIN");
    assert_eq!(info["head"]["block_number"], 2);
    assert_eq!(info["head"]["block_hash"], head["result"]["block_hash"]);
    assert_eq!(info["block_count"], 3);
    assert!(info["size_on_disk_bytes"].as_u64().unwrap() > 0);

    node.kill();
    let fetches_before_restart: Vec<u64> = (0..3)
        .map(|number| gateway.block_request_count("get_state_update", number))
        .collect();

    let node = Node::start(
        "mainnet",
        &db_path,
        &gateway_url,
        &work.path().join("node2.log"),
    );
    let mut client = node.connect().await;
    let head_after_restart = client.call("starknet_blockHashAndNumber", json!([])).await;
    assert_eq!(head_after_restart["result"], head["result"]);

    // Give the restarted node time to poll for block 3, then check it fetched none of
    // the blocks it already had.
    node.wait_for_log("database opened", Duration::from_secs(10))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    for number in 0..3u64 {
        assert_eq!(
            gateway.block_request_count("get_state_update", number),
            fetches_before_restart[number as usize],
            "block {number} was fetched again after the restart"
        );
    }
    assert!(
        gateway.block_request_count("get_state_update", 3) > 0,
        "restarted node never asked for block 3"
    );

    let subscription = client.call("starknet_subscribeNewHeads", json!([])).await["result"].clone();
    let unsubscribed = client.call("juno_unsubscribe", json!([subscription])).await;
    assert_eq!(unsubscribed["result"], json!(true));
    assert_eq!(client.receive(Duration::from_millis(300)).await, None);

    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sepolia_stops_before_block_with_missing_classes() {
    let Some(recording) = fgw_dir("sepolia") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let gateway = start_gateway(&recording, 0, None, None).await;
    let node = Node::start(
        "sepolia",
        &work.path().join("db"),
        &gateway.base_url(),
        &work.path().join("node.log"),
    );
    let mut client = node.connect().await;
    client.wait_for_head(6, Duration::from_secs(60)).await;

    // Block 7 declares four classes that the recording lacks. They are fetched
    // concurrently, so each attempt may name a different one of them.
    let missing = [
        "0x3ae692aaf1ded26a0b58cf42490f757563850acea887ed57b4894fee8279063",
        "0x5aa23d5bb71ddaa783da7ea79d405315bafa7cf0387a74f4593578c3e9e6570",
        "0x298049830f817974463b6d4186b062b04cc1af2557f98f55e21334739252600",
    ];
    let needle = "class not available; block not committed";
    node.wait_for_log(needle, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = node.log();
    let attempts: Vec<&str> = log.lines().filter(|line| line.contains(needle)).collect();
    assert!(attempts.len() >= 2, "block 7 was not retried; log:\n{log}");
    for line in &attempts {
        assert!(line.contains("block_number=7"), "not block 7: {line}");
        let named = line
            .split_whitespace()
            .find_map(|field| field.strip_prefix("class_hash="))
            .unwrap_or_else(|| panic!("no class hash in {line}"));
        let file = recording.join("class").join(format!("{named}.json"));
        assert!(!file.exists(), "{named} is in the recording: {line}");
    }
    assert!(
        attempts
            .iter()
            .any(|line| missing.iter().any(|hash| line.contains(hash))),
        "no attempt names a known missing class; log:\n{log}"
    );

    let head = client.call("starknet_blockNumber", json!([])).await;
    assert_eq!(head["result"], json!(6));
    let chain_id = client.call("starknet_chainId", json!([])).await;
    assert_eq!(chain_id["result"], json!("0x534e5f5345504f4c4941"));
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_with_wrong_parent_is_not_committed() {
    let Some(recording) = fgw_dir("mainnet") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let tampered = work.path().join("fgw");
    copy_recording(&recording, &tampered);

    let block_path = tampered.join("block/1.json");
    let mut block = read_json(&block_path);
    block["parent_block_hash"] = json!("0x123abc");
    std::fs::write(&block_path, block.to_string()).unwrap();

    let gateway = start_gateway(&tampered, 0, None, None).await;
    let node = Node::start(
        "mainnet",
        &work.path().join("db"),
        &gateway.base_url(),
        &work.path().join("node.log"),
    );
    let mut client = node.connect().await;
    client.wait_for_head(0, Duration::from_secs(30)).await;

    let block0_hash = canonical_felt(&read_json(&recording.join("block/0.json"))["block_hash"]);
    let log = node
        .wait_for_log("does not link to the stored head", Duration::from_secs(30))
        .await;
    let line = log
        .lines()
        .find(|line| line.contains("does not link to the stored head"))
        .unwrap();
    assert!(
        line.contains("0x123abc"),
        "log line lacks the block's parent hash: {line}"
    );
    assert!(
        line.contains(&block0_hash),
        "log line lacks the stored head hash: {line}"
    );
    assert!(
        line.contains("block_number=1"),
        "log line lacks the block number: {line}"
    );

    let head = client.call("starknet_blockNumber", json!([])).await;
    assert_eq!(head["result"], json!(0));
    gateway.shutdown().await;
}
