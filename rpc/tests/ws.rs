//! The WebSocket server on a real socket on 127.0.0.1 with a real RocksDB.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use starling_rpc::RpcContext;
use starling_storage::*;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

struct Server {
    storage: Storage,
    writer: BlockWriter,
    address: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

async fn start_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let chain = ChainInfo {
        network: "sepolia".into(),
        chain_id: ChainId::SEPOLIA,
    };
    let storage = Storage::open(dir.path(), chain).unwrap();
    let writer = storage.writer().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(starling_rpc::ws::serve(
        listener,
        RpcContext::new(storage.clone()),
    ));
    Server {
        storage,
        writer,
        address,
        _dir: dir,
    }
}

impl Server {
    async fn connect(&self, path: &str) -> Socket {
        let url = format!("ws://{}{path}", self.address);
        tokio_tungstenite::connect_async(url).await.unwrap().0
    }

    fn commit_block(&mut self) -> BlockHeader {
        let number = self.writer.next_block_number().get();
        let parent = self
            .writer
            .head()
            .map(|(_, hash)| hash)
            .unwrap_or(BlockHash::ZERO);
        let header = BlockHeader {
            number: BlockNumber(number),
            hash: BlockHash(Felt::from(0xb000 + number)),
            parent_hash: parent,
            state_root: Felt::from(0x5000 + number),
            timestamp: 1_700_000_000 + number,
            sequencer_address: ContractAddress(Felt::from(0x5eu8)),
            l1_gas_price: GasPrices {
                price_in_wei: Felt::from(10u8),
                price_in_fri: Felt::from(20u8),
            },
            l1_data_gas_price: GasPrices::default(),
            l2_gas_price: GasPrices::default(),
            l1_da_mode: L1DataAvailabilityMode::Blob,
            starknet_version: "0.13.1.1".into(),
            status: BlockStatus::AcceptedOnL2,
            transaction_count: 0,
            event_count: 0,
            transaction_commitment: None,
            event_commitment: None,
            receipt_commitment: None,
            state_diff_commitment: None,
            state_diff_length: None,
        };
        let block = BlockCommit {
            header,
            transactions: vec![],
            receipts: vec![],
            state_diff: StateDiff::default(),
            new_classes: vec![],
            state_commitment: self
                .storage
                .compute_state_commitment(
                    self.writer.head().map(|(number, _)| number),
                    &StateDiff::default(),
                )
                .unwrap(),
        };
        self.writer.commit(block).unwrap().as_ref().clone()
    }
}

async fn send(socket: &mut Socket, text: &str) {
    socket.send(Message::text(text.to_string())).await.unwrap();
}

async fn receive(socket: &mut Socket, timeout: Duration) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(timeout, socket.next())
            .await
            .ok()??
            .unwrap();
        if let Message::Text(text) = message {
            return Some(serde_json::from_str(&text).unwrap());
        }
    }
}

async fn call(socket: &mut Socket, text: &str) -> Value {
    send(socket, text).await;
    receive(socket, Duration::from_secs(5))
        .await
        .expect("a response")
}

#[tokio::test]
async fn malformed_json_is_parse_error() {
    let server = start_server().await;
    let mut socket = server.connect("/").await;
    let response = call(&mut socket, r#"{"jsonrpc": "2.0", "method": "#).await;
    assert_eq!(response["error"]["code"], -32700);
    assert_eq!(response["id"], Value::Null);
}

#[tokio::test]
async fn unknown_method_is_method_not_found() {
    let server = start_server().await;
    let mut socket = server.connect("/").await;
    let response = call(
        &mut socket,
        r#"{"jsonrpc":"2.0","method":"starknet_nope","params":[],"id":"x"}"#,
    )
    .await;
    assert_eq!(response["error"]["code"], -32601);
    assert_eq!(response["id"], "x");
}

#[tokio::test]
async fn bad_unsubscribe_params_are_invalid_params() {
    let server = start_server().await;
    let mut socket = server.connect("/").await;
    let response = call(
        &mut socket,
        r#"{"jsonrpc":"2.0","method":"juno_unsubscribe","params":{"id":"abc"},"id":1}"#,
    )
    .await;
    assert_eq!(response["error"]["code"], -32602);
}

#[tokio::test]
async fn unknown_subscription_id_is_error_66() {
    let server = start_server().await;
    let mut socket = server.connect("/").await;
    let response = call(
        &mut socket,
        r#"{"jsonrpc":"2.0","method":"juno_unsubscribe","params":{"id":12345},"id":1}"#,
    )
    .await;
    assert_eq!(
        response["error"],
        json!({"code": 66, "message": "Invalid subscription id"})
    );
}

#[tokio::test]
async fn version_and_spec_answer_without_params() {
    let server = start_server().await;
    let mut socket = server.connect("/").await;
    let version = call(
        &mut socket,
        r#"{"jsonrpc": "2.0", "method": "juno_version", "id": 1}"#,
    )
    .await;
    assert_eq!(
        version["result"],
        json!(format!("v{}", env!("CARGO_PKG_VERSION")))
    );
    let spec = call(
        &mut socket,
        r#"{"jsonrpc":"2.0","method":"starknet_specVersion","params":[],"id":2}"#,
    )
    .await;
    assert_eq!(spec["result"], "0.7.1");
    let chain = call(
        &mut socket,
        r#"{"jsonrpc":"2.0","method":"starknet_chainId","params":{},"id":3}"#,
    )
    .await;
    assert_eq!(chain["result"], "0x534e5f5345504f4c4941");
}

#[tokio::test]
async fn empty_database_has_no_blocks() {
    let server = start_server().await;
    let mut socket = server.connect("/").await;
    let response = call(
        &mut socket,
        r#"{"jsonrpc":"2.0","method":"starknet_blockNumber","id":1}"#,
    )
    .await;
    assert_eq!(response["error"]["code"], 32);
}

#[tokio::test]
async fn unknown_path_is_refused() {
    let server = start_server().await;
    let url = format!("ws://{}/v0_6", server.address);
    let error = tokio_tungstenite::connect_async(url).await.unwrap_err();
    assert!(error.to_string().contains("404"), "{error}");
}

#[tokio::test]
async fn subscriber_gets_each_later_block_once_in_order() {
    let mut server = start_server().await;
    server.commit_block();
    let mut socket = server.connect("/").await;
    let subscribed = call(
        &mut socket,
        r#"{"jsonrpc":"2.0","method":"starknet_subscribeNewHeads","params":[],"id":1}"#,
    )
    .await;
    let id = subscribed["result"].clone();
    assert!(id.is_u64(), "{subscribed}");

    let headers: Vec<BlockHeader> = (0..5).map(|_| server.commit_block()).collect();
    for header in &headers {
        let notification = receive(&mut socket, Duration::from_secs(5))
            .await
            .expect("notification");
        assert_eq!(notification["method"], "starknet_subscribeNewHeads");
        assert_eq!(notification["params"]["subscription"], id);
        let result = &notification["params"]["result"];
        assert_eq!(result["block_number"], header.number.get());
        assert_eq!(result["block_hash"], header.hash.to_string());
        assert_eq!(result["parent_hash"], header.parent_hash.to_string());
        assert_eq!(
            result["l1_gas_price"],
            json!({"price_in_fri": "0x14", "price_in_wei": "0xa"})
        );
        assert_eq!(result["l1_da_mode"], "BLOB");
        assert_eq!(result["starknet_version"], "0.13.1.1");
    }
    assert_eq!(receive(&mut socket, Duration::from_millis(200)).await, None);
}

#[tokio::test]
async fn subscriber_that_lags_catches_up_from_storage() {
    let mut server = start_server().await;
    let mut socket = server.connect("/").await;
    call(
        &mut socket,
        r#"{"jsonrpc":"2.0","method":"starknet_subscribeNewHeads","params":[],"id":1}"#,
    )
    .await;

    // More blocks than the commit channel and the connection queue hold together,
    // committed while the client reads nothing.
    let count = 1600;
    for _ in 0..count {
        server.commit_block();
    }
    for expected in 0..count {
        let notification = receive(&mut socket, Duration::from_secs(10))
            .await
            .expect("notification");
        assert_eq!(notification["params"]["result"]["block_number"], expected);
    }
    assert_eq!(
        server.storage.head().unwrap().unwrap().0,
        BlockNumber(count - 1)
    );
}

#[tokio::test]
async fn unsubscribed_client_gets_no_more_notifications() {
    let mut server = start_server().await;
    let mut socket = server.connect("/").await;
    let id = call(
        &mut socket,
        r#"{"jsonrpc":"2.0","method":"starknet_subscribeNewHeads","id":1}"#,
    )
    .await["result"]
        .clone();
    server.commit_block();
    let first = receive(&mut socket, Duration::from_secs(5)).await.unwrap();
    assert_eq!(first["params"]["result"]["block_number"], 0);

    let request = json!({"jsonrpc": "2.0", "method": "juno_unsubscribe", "params": [id], "id": 2});
    let response = call(&mut socket, &request.to_string()).await;
    assert_eq!(response["result"], true);
    server.commit_block();
    assert_eq!(receive(&mut socket, Duration::from_millis(300)).await, None);
}

#[tokio::test]
async fn batch_answers_in_one_array() {
    let server = start_server().await;
    let mut socket = server.connect("/").await;
    let response = call(
        &mut socket,
        r#"[{"jsonrpc":"2.0","method":"starknet_specVersion","id":1},{"jsonrpc":"2.0","method":"starknet_specVersion"},{"jsonrpc":"2.0","method":"x","id":3}]"#,
    )
    .await;
    let items = response.as_array().expect("array");
    assert_eq!(items.len(), 2, "the notification gets no entry: {response}");
    assert_eq!(items[0]["result"], "0.7.1");
    assert_eq!(items[1]["error"]["code"], -32601);
}
