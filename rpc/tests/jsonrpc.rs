//! JSON-RPC 2.0 edge cases, each over HTTP and over WebSocket, against real sockets on
//! 127.0.0.1 and a real RocksDB.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use starling_rpc::context::RpcLimits;
use starling_rpc::RpcContext;
use starling_storage::*;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

struct Servers {
    http: SocketAddr,
    ws: SocketAddr,
    _dir: tempfile::TempDir,
}

/// Starts both transports over a database with blocks 0 and 1.
async fn start() -> Servers {
    start_with_limits(RpcLimits::default()).await
}

async fn start_with_limits(limits: RpcLimits) -> Servers {
    let dir = tempfile::tempdir().unwrap();
    let chain = ChainInfo {
        network: "sepolia".into(),
        chain_id: ChainId::SEPOLIA,
    };
    let storage = Storage::open(dir.path(), chain).unwrap();
    let mut writer = storage.writer().unwrap();
    for number in 0..2u64 {
        let head = writer.head();
        let state_diff = StateDiff::default();
        let state_commitment = storage
            .compute_state_commitment(head.map(|(number, _)| number), &state_diff)
            .unwrap();
        let header = BlockHeader {
            number: BlockNumber(number),
            hash: BlockHash(Felt::from(0xabc0 + number)),
            parent_hash: head.map(|(_, hash)| hash).unwrap_or(BlockHash::ZERO),
            state_root: state_commitment.roots.global_root(),
            timestamp: 1_700_000_000 + number,
            sequencer_address: ContractAddress(Felt::from(1u8)),
            l1_gas_price: GasPrices::default(),
            l1_data_gas_price: GasPrices::default(),
            l2_gas_price: GasPrices::default(),
            l1_da_mode: L1DataAvailabilityMode::Blob,
            starknet_version: "0.13.4".into(),
            status: BlockStatus::AcceptedOnL2,
            transaction_count: 0,
            event_count: 0,
            transaction_commitment: None,
            event_commitment: None,
            receipt_commitment: None,
            state_diff_commitment: None,
            state_diff_length: None,
        };
        writer
            .commit(BlockCommit {
                header,
                transactions: vec![],
                receipts: vec![],
                state_diff,
                new_classes: vec![],
                state_commitment,
            })
            .unwrap();
    }

    let context = RpcContext::new(storage).with_limits(limits);
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let servers = Servers {
        http: http.local_addr().unwrap(),
        ws: ws.local_addr().unwrap(),
        _dir: dir,
    };
    tokio::spawn(starling_rpc::http::serve(http, context.clone()));
    tokio::spawn(starling_rpc::ws::serve(ws, context));
    servers
}

/// Sends `body` to `/v0_8` over both transports and returns both replies: `None` when
/// a transport sent nothing (HTTP 204, or no WebSocket message within 300 ms).
async fn exchange(servers: &Servers, body: &str) -> [Option<Value>; 2] {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let response = client
        .post(format!("http://{}/v0_8", servers.http))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let http_reply = match response.status().as_u16() {
        204 => None,
        200 => Some(response.json::<Value>().await.unwrap()),
        other => panic!("HTTP {other} for {body}"),
    };

    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/v0_8", servers.ws))
        .await
        .unwrap();
    socket.send(Message::text(body.to_string())).await.unwrap();
    let ws_reply = match tokio::time::timeout(Duration::from_millis(300), socket.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => Some(serde_json::from_str(&text).unwrap()),
        Ok(other) => panic!("unexpected WebSocket reply {other:?}"),
        Err(_) => None,
    };
    [http_reply, ws_reply]
}

/// Asserts the same reply over both transports and returns it.
async fn reply(servers: &Servers, body: &str) -> Value {
    let [http, ws] = exchange(servers, body).await;
    let http = http.unwrap_or_else(|| panic!("no HTTP reply to {body}"));
    assert_eq!(Some(&http), ws.as_ref(), "transports disagree for {body}");
    http
}

#[tokio::test]
async fn empty_batch_is_invalid_request() {
    let servers = start().await;
    let response = reply(&servers, "[]").await;
    assert_eq!(response["error"]["code"], -32600);
    assert_eq!(response["id"], Value::Null);
}

#[tokio::test]
async fn batch_of_one_answers_array_of_one() {
    let servers = start().await;
    let response = reply(
        &servers,
        r#"[{"jsonrpc":"2.0","method":"starknet_blockNumber","id":7}]"#,
    )
    .await;
    assert_eq!(response, json!([{"jsonrpc": "2.0", "result": 1, "id": 7}]));
}

#[tokio::test]
async fn batch_mixes_results_errors_and_notifications() {
    let servers = start().await;
    let body = r#"[
        {"jsonrpc":"2.0","method":"starknet_chainId","id":"a"},
        {"jsonrpc":"2.0","method":"starknet_chainId"},
        {"jsonrpc":"2.0","method":"starknet_nope","id":"b"},
        42
    ]"#;
    let response = reply(&servers, body).await;
    let items = response.as_array().unwrap();
    assert_eq!(items.len(), 3, "{response}");
    assert_eq!(items[0]["result"], "0x534e5f5345504f4c4941");
    assert_eq!(items[1]["error"]["code"], -32601);
    assert_eq!(items[2]["error"]["code"], -32600);
}

#[tokio::test]
async fn notification_gets_no_reply() {
    let servers = start().await;
    let [http, ws] = exchange(
        &servers,
        r#"{"jsonrpc":"2.0","method":"starknet_blockNumber"}"#,
    )
    .await;
    assert_eq!(http, None);
    assert_eq!(ws, None);
}

#[tokio::test]
async fn batch_of_notifications_gets_no_reply() {
    let servers = start().await;
    let body = r#"[{"jsonrpc":"2.0","method":"starknet_blockNumber"},{"jsonrpc":"2.0","method":"starknet_chainId"}]"#;
    let [http, ws] = exchange(&servers, body).await;
    assert_eq!(http, None);
    assert_eq!(ws, None);
}

#[tokio::test]
async fn ids_are_echoed_unchanged() {
    let servers = start().await;
    for id in [
        json!("abc"),
        json!(0),
        json!(-5),
        json!(1.5),
        json!(18446744073709551615u64),
        Value::Null,
    ] {
        let body =
            json!({"jsonrpc": "2.0", "method": "starknet_blockNumber", "id": id}).to_string();
        let response = reply(&servers, &body).await;
        assert_eq!(response["id"], id, "{body}");
        assert_eq!(response["result"], 1);
    }
}

#[tokio::test]
async fn params_by_name_and_position_agree() {
    let servers = start().await;
    let by_position = reply(&servers, r#"{"jsonrpc":"2.0","method":"starknet_getBlockTransactionCount","params":[{"block_number":1}],"id":1}"#).await;
    let by_name = reply(&servers, r#"{"jsonrpc":"2.0","method":"starknet_getBlockTransactionCount","params":{"block_id":{"block_number":1}},"id":1}"#).await;
    assert_eq!(by_position["result"], 0);
    assert_eq!(by_name, by_position);
}

#[tokio::test]
async fn empty_and_absent_params_work_without_required_params() {
    let servers = start().await;
    for params in [r#","params":[]"#, r#","params":{}"#, ""] {
        let body =
            format!(r#"{{"jsonrpc":"2.0","method":"starknet_blockHashAndNumber"{params},"id":1}}"#);
        let response = reply(&servers, &body).await;
        assert_eq!(response["result"]["block_number"], 1, "{body}");
    }
}

#[tokio::test]
async fn missing_required_param_is_invalid_params() {
    let servers = start().await;
    let response = reply(
        &servers,
        r#"{"jsonrpc":"2.0","method":"starknet_getBlockTransactionCount","params":[],"id":1}"#,
    )
    .await;
    assert_eq!(response["error"]["code"], -32602);
}

#[tokio::test]
async fn malformed_json_is_parse_error() {
    let servers = start().await;
    let response = reply(&servers, r#"{"jsonrpc":"2.0","method":"#).await;
    assert_eq!(response["error"]["code"], -32700);
}

#[tokio::test]
async fn invalid_request_shapes_are_rejected() {
    let servers = start().await;
    for body in [
        r#"{"jsonrpc":"1.0","method":"starknet_blockNumber","id":1}"#,
        r#"{"method":"starknet_blockNumber","id":1}"#,
        r#"{"jsonrpc":"2.0","method":5,"id":1}"#,
        r#"{"jsonrpc":"2.0","method":"starknet_blockNumber","params":"x","id":1}"#,
        r#""a string""#,
    ] {
        let response = reply(&servers, body).await;
        assert_eq!(response["error"]["code"], -32600, "{body}");
    }
}

#[tokio::test]
async fn unknown_method_is_method_not_found() {
    let servers = start().await;
    for method in ["starknet_nope", "starknet_call", "starknet_estimateFee"] {
        let body = json!({"jsonrpc": "2.0", "method": method, "params": [], "id": 1}).to_string();
        let response = reply(&servers, &body).await;
        assert_eq!(response["error"]["code"], -32601, "{method}");
    }
}

#[tokio::test]
async fn felt_params_are_strict() {
    let servers = start().await;
    let call = |felt: &str| {
        json!({
            "jsonrpc": "2.0",
            "method": "starknet_getBlockTransactionCount",
            "params": [{"block_hash": felt}],
            "id": 1,
        })
        .to_string()
    };
    // At or above the prime, too long, not hex, no prefix: invalid params.
    for felt in [
        "0x800000000000011000000000000000000000000000000000000000000000001",
        &format!("0x{}", "f".repeat(64)),
        &format!("0x{}", "0".repeat(65)),
        "0xxyz",
        "abc0",
    ] {
        let response = reply(&servers, &call(felt)).await;
        assert_eq!(response["error"]["code"], -32602, "{felt}");
    }
    // Any case and leading zeros name the same block.
    for felt in ["0xabc1", "0xABC1", &format!("0x{:0>64}", "abc1")] {
        let response = reply(&servers, &call(felt)).await;
        assert_eq!(response["result"], 0, "{felt}");
    }
}

#[tokio::test]
async fn felts_are_answered_canonically() {
    let servers = start().await;
    let response = reply(
        &servers,
        r#"{"jsonrpc":"2.0","method":"starknet_blockHashAndNumber","id":1}"#,
    )
    .await;
    assert_eq!(response["result"]["block_hash"], "0xabc1");
}

#[tokio::test]
async fn unknown_block_is_error_24() {
    let servers = start().await;
    let response = reply(&servers, r#"{"jsonrpc":"2.0","method":"starknet_getBlockTransactionCount","params":[{"block_number":99}],"id":1}"#).await;
    assert_eq!(response["error"]["code"], 24);
    assert_eq!(response["error"]["message"], "Block not found");
}

#[tokio::test]
async fn tag_of_another_version_is_invalid_params() {
    let servers = start().await;
    // `/v0_8` accepts `pending`, not `pre_confirmed`.
    let response = reply(&servers, r#"{"jsonrpc":"2.0","method":"starknet_getBlockTransactionCount","params":["pre_confirmed"],"id":1}"#).await;
    assert_eq!(response["error"]["code"], -32602);
}

#[tokio::test]
async fn unknown_http_path_is_404() {
    let servers = start().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for path in ["/v0_6", "/rpc/v1", "/metrics"] {
        let response = client
            .post(format!("http://{}{path}", servers.http))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404, "{path}");
    }
}

#[tokio::test]
async fn spec_version_follows_the_path() {
    let servers = start().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for (path, version) in [
        ("/", "0.7.1"),
        ("/v0_7", "0.7.1"),
        ("/rpc/v0_8", "0.8.1"),
        ("/v0_9", "0.9.0"),
        ("/rpc/v0_10", "0.10.3"),
        ("/rpc", "0.10.3"),
    ] {
        let response: Value = client
            .post(format!("http://{}{path}", servers.http))
            .body(r#"{"jsonrpc":"2.0","method":"starknet_specVersion","id":1}"#)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(response["result"], version, "{path}");
    }
}

#[tokio::test]
async fn params_to_a_method_without_params_are_invalid() {
    let servers = start().await;
    for params in ["[1]", r#"{"block":"latest"}"#] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"starknet_blockNumber","params":{params},"id":1}}"#
        );
        let response = reply(&servers, &body).await;
        assert_eq!(response["error"]["code"], -32602, "{body}");
    }
}

#[tokio::test]
async fn batch_above_the_limit_is_invalid_request() {
    let servers = start_with_limits(RpcLimits {
        max_batch_size: 2,
        ..RpcLimits::default()
    })
    .await;
    let request = r#"{"jsonrpc":"2.0","method":"starknet_blockNumber","id":1}"#;
    let allowed = reply(&servers, &format!("[{request},{request}]")).await;
    assert_eq!(allowed.as_array().unwrap().len(), 2);
    let rejected = reply(&servers, &format!("[{request},{request},{request}]")).await;
    assert_eq!(rejected["error"]["code"], -32600);
    assert!(rejected["error"]["data"]
        .as_str()
        .unwrap()
        .contains("maximum of 2"));
}

#[tokio::test]
async fn body_above_the_limit_is_http_413() {
    let servers = start_with_limits(RpcLimits {
        max_request_bytes: 1024,
        ..RpcLimits::default()
    })
    .await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let padding = " ".repeat(2048);
    let body = format!(r#"{{"jsonrpc":"2.0","method":"starknet_blockNumber","id":1}}{padding}"#);
    let response = client
        .post(format!("http://{}/v0_8", servers.http))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
}

#[tokio::test]
async fn message_larger_than_the_read_buffer_is_answered() {
    let servers = start().await;
    let request = r#"{"jsonrpc":"2.0","method":"starknet_blockNumber","id":1}"#;
    let batch = format!("[{}]", vec![request; 400].join(","));
    assert!(batch.len() > 16 * 1024);
    let response = reply(&servers, &batch).await;
    assert_eq!(response.as_array().unwrap().len(), 400);
}
