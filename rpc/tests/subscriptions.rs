//! Subscriptions of the versioned paths (`/v0_8`, `/v0_9`, `/v0_10`) on a real socket on
//! 127.0.0.1, with blocks committed through a real `BlockWriter`.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use starling_rpc::context::WsLimits;
use starling_rpc::RpcContext;
use starling_storage::*;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const VERSIONS: [&str; 3] = ["/v0_8", "/v0_9", "/v0_10"];
const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(300);

const ALICE: u64 = 0xa11ce;
const BOB: u64 = 0xb0b;
const KEY_1: u64 = 0x11;
const KEY_2: u64 = 0x12;

struct Server {
    storage: Storage,
    writer: BlockWriter,
    address: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

async fn start_server(limits: WsLimits) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let chain = ChainInfo {
        network: "sepolia".into(),
        chain_id: ChainId::SEPOLIA,
    };
    let storage = Storage::open(dir.path(), chain).unwrap();
    let writer = storage.writer().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let context = RpcContext::new(storage.clone()).with_ws_limits(limits);
    tokio::spawn(starling_rpc::ws::serve(listener, context));
    Server {
        storage,
        writer,
        address,
        _dir: dir,
    }
}

/// One transaction of a test block: its sender and the events it emits.
struct TestTransaction {
    sender: u64,
    events: Vec<Event>,
}

fn event(from: u64, keys: &[u64]) -> Event {
    Event {
        from_address: ContractAddress(Felt::from(from)),
        keys: keys.iter().map(|key| Felt::from(*key)).collect(),
        data: vec![Felt::from(0xda7au64)],
    }
}

fn transaction_hash(block: u64, index: u64) -> Felt {
    Felt::from(0x7000_0000 + block * 1000 + index)
}

impl Server {
    async fn connect(&self, path: &str) -> Socket {
        let url = format!("ws://{}{path}", self.address);
        tokio_tungstenite::connect_async(url).await.unwrap().0
    }

    fn commit_empty(&mut self) -> BlockHeader {
        self.commit(Vec::new())
    }

    fn commit(&mut self, transactions: Vec<TestTransaction>) -> BlockHeader {
        let number = self.writer.next_block_number().get();
        let parent = self.writer.head();
        let mut block = BlockCommit {
            header: BlockHeader {
                number: BlockNumber(number),
                hash: BlockHash(Felt::from(0xb000_0000 + number)),
                parent_hash: parent.map(|(_, hash)| hash).unwrap_or(BlockHash::ZERO),
                state_root: Felt::ZERO,
                timestamp: 1_700_000_000 + number,
                sequencer_address: ContractAddress(Felt::from(0x5eu8)),
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
            },
            transactions: vec![],
            receipts: vec![],
            state_diff: StateDiff::default(),
            new_classes: vec![],
            state_commitment: self
                .storage
                .compute_state_commitment(parent.map(|(number, _)| number), &StateDiff::default())
                .unwrap(),
        };
        for (index, transaction) in (0u64..).zip(transactions) {
            let hash = TransactionHash(transaction_hash(number, index));
            block.transactions.push(Transaction {
                hash,
                variant: TransactionVariant::InvokeV1(InvokeTransactionV1 {
                    sender_address: ContractAddress(Felt::from(transaction.sender)),
                    calldata: vec![],
                    max_fee: Felt::ONE,
                    signature: vec![],
                    nonce: Felt::from(index),
                }),
            });
            block.header.event_count += transaction.events.len() as u64;
            block.receipts.push(Receipt {
                transaction_hash: hash,
                actual_fee: Felt::ONE,
                execution_status: ExecutionStatus::Succeeded,
                events: transaction.events,
                l2_to_l1_messages: vec![],
                l1_to_l2_consumed_message: None,
                execution_resources: ExecutionResources::default(),
            });
        }
        block.header.transaction_count = block.transactions.len() as u64;
        self.writer.commit(block).unwrap().as_ref().clone()
    }
}

async fn send(socket: &mut Socket, method: &str, params: Value) {
    let request = json!({ "jsonrpc": "2.0", "method": method, "params": params, "id": 1 });
    socket
        .send(Message::text(request.to_string()))
        .await
        .unwrap();
}

/// Waits for the next text message; `None` after `timeout` without one.
async fn receive(socket: &mut Socket, timeout: Duration) -> Option<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let message = tokio::time::timeout(left, socket.next())
            .await
            .ok()??
            .ok()?;
        if let Message::Text(text) = message {
            return Some(serde_json::from_str(&text).unwrap());
        }
    }
}

async fn call(socket: &mut Socket, method: &str, params: Value) -> Value {
    send(socket, method, params).await;
    receive(socket, WAIT).await.expect("a response")
}

/// Subscribes and returns the subscription id; panics on an error response.
async fn subscribe(socket: &mut Socket, method: &str, params: Value) -> String {
    let response = call(socket, method, params).await;
    response["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{method} failed: {response}"))
        .to_string()
}

/// The next notification's `result`, after checking its method and subscription id.
async fn notification(socket: &mut Socket, method: &str, id: &str) -> Value {
    let message = receive(socket, WAIT).await.expect("a notification");
    assert_eq!(message["method"], method, "{message}");
    assert_eq!(message["params"]["subscription_id"], id, "{message}");
    message["params"]["result"].clone()
}

async fn assert_quiet(socket: &mut Socket) {
    if let Some(message) = receive(socket, QUIET).await {
        panic!("unexpected message {message}");
    }
}

#[tokio::test]
async fn new_heads_replay_then_follow_on_every_version() {
    let mut server = start_server(WsLimits::default()).await;
    for _ in 0..3 {
        server.commit_empty();
    }

    for path in VERSIONS {
        let mut socket = server.connect(path).await;
        let id = subscribe(
            &mut socket,
            "starknet_subscribeNewHeads",
            json!({ "block_id": { "block_number": 1 } }),
        )
        .await;
        for expected in 1..=2 {
            let header = notification(&mut socket, "starknet_subscriptionNewHeads", &id).await;
            assert_eq!(header["block_number"], expected, "{path}");
            assert!(header.get("status").is_none(), "{path}: {header}");
            assert!(header.get("l2_gas_price").is_some(), "{path}: {header}");
            assert_eq!(
                header.get("transaction_count").is_some(),
                path == "/v0_10",
                "{path}: {header}"
            );
        }
        assert_quiet(&mut socket).await;
    }

    // Without block_id a subscription starts at the head.
    let mut socket = server.connect("/v0_9").await;
    let id = subscribe(&mut socket, "starknet_subscribeNewHeads", json!({})).await;
    let head = notification(&mut socket, "starknet_subscriptionNewHeads", &id).await;
    assert_eq!(head["block_number"], 2);
    server.commit_empty();
    let next = notification(&mut socket, "starknet_subscriptionNewHeads", &id).await;
    assert_eq!(next["block_number"], 3);
}

#[tokio::test]
async fn new_heads_seam_has_no_gap_or_duplicate() {
    let mut server = start_server(WsLimits::default()).await;
    for _ in 0..50 {
        server.commit_empty();
    }
    let mut socket = server.connect("/v0_10").await;
    let id = subscribe(
        &mut socket,
        "starknet_subscribeNewHeads",
        json!([{ "block_number": 0 }]),
    )
    .await;
    // These blocks are committed while the subscription is still replaying.
    for _ in 0..50 {
        server.commit_empty();
    }
    for expected in 0..100 {
        let header = notification(&mut socket, "starknet_subscriptionNewHeads", &id).await;
        assert_eq!(header["block_number"], expected);
    }
    assert_quiet(&mut socket).await;
}

#[tokio::test]
async fn replay_is_limited_to_1024_blocks() {
    let mut server = start_server(WsLimits::default()).await;
    for _ in 0..1030 {
        server.commit_empty();
    }
    for path in VERSIONS {
        let mut socket = server.connect(path).await;
        for method in ["starknet_subscribeNewHeads", "starknet_subscribeEvents"] {
            let too_old = call(
                &mut socket,
                method,
                json!({ "block_id": { "block_number": 4 } }),
            )
            .await;
            assert_eq!(too_old["error"]["code"], 68, "{path} {method}: {too_old}");

            let unknown = call(
                &mut socket,
                method,
                json!({ "block_id": { "block_number": 5000 } }),
            )
            .await;
            assert_eq!(unknown["error"]["code"], 24, "{path} {method}: {unknown}");

            let unknown_hash = call(
                &mut socket,
                method,
                json!({ "block_id": { "block_hash": "0x123" } }),
            )
            .await;
            assert_eq!(
                unknown_hash["error"]["code"], 24,
                "{path} {method}: {unknown_hash}"
            );
        }
        assert_quiet(&mut socket).await;

        // Block 5 is 1024 blocks behind head 1029: the oldest block allowed.
        let id = subscribe(
            &mut socket,
            "starknet_subscribeNewHeads",
            json!({ "block_id": { "block_number": 5 } }),
        )
        .await;
        let first = notification(&mut socket, "starknet_subscriptionNewHeads", &id).await;
        assert_eq!(first["block_number"], 5, "{path}");
    }
}

#[tokio::test]
async fn events_filter_by_address_and_keys_across_blocks() {
    let mut server = start_server(WsLimits::default()).await;
    server.commit_empty(); // 0
    server.commit(vec![TestTransaction {
        sender: ALICE,
        events: vec![event(ALICE, &[KEY_1]), event(BOB, &[KEY_1])],
    }]); // 1: one match
    server.commit_empty(); // 2: no events
    server.commit(vec![TestTransaction {
        sender: BOB,
        events: vec![event(ALICE, &[KEY_2])],
    }]); // 3: address matches, key does not

    for path in VERSIONS {
        let mut socket = server.connect(path).await;
        let id = subscribe(
            &mut socket,
            "starknet_subscribeEvents",
            json!({
                "from_address": format!("{ALICE:#x}"),
                "keys": [[format!("{KEY_1:#x}")]],
                "block_id": { "block_number": 0 },
            }),
        )
        .await;
        let first = notification(&mut socket, "starknet_subscriptionEvents", &id).await;
        assert_eq!(first["block_number"], 1, "{path}");
        assert_eq!(first["from_address"], format!("{ALICE:#x}"), "{path}");
        assert_eq!(
            first["transaction_hash"],
            format!("{:#x}", transaction_hash(1, 0))
        );
        assert_eq!(
            first.get("finality_status").is_some(),
            path != "/v0_8",
            "{path}"
        );
        assert_eq!(
            first.get("event_index").is_some(),
            path == "/v0_10",
            "{path}"
        );
        assert_quiet(&mut socket).await;
    }

    // Live blocks, including empty ones, keep the subscription going.
    let mut socket = server.connect("/v0_10").await;
    let id = subscribe(
        &mut socket,
        "starknet_subscribeEvents",
        json!({ "from_address": [format!("{ALICE:#x}"), format!("{BOB:#x}")], "keys": [[], [format!("{KEY_2:#x}")]] }),
    )
    .await;
    assert_quiet(&mut socket).await;
    server.commit_empty();
    server.commit_empty();
    server.commit(vec![TestTransaction {
        sender: BOB,
        events: vec![event(BOB, &[KEY_1, KEY_2]), event(ALICE, &[KEY_1])],
    }]);
    let live = notification(&mut socket, "starknet_subscriptionEvents", &id).await;
    assert_eq!(live["block_number"], 6);
    assert_eq!(live["from_address"], format!("{BOB:#x}"));
    assert_eq!(live["event_index"], 0);
    assert_quiet(&mut socket).await;
}

#[tokio::test]
async fn transaction_status_known_and_awaited() {
    let mut server = start_server(WsLimits::default()).await;
    server.commit(vec![TestTransaction {
        sender: ALICE,
        events: vec![],
    }]);
    let committed = format!("{:#x}", transaction_hash(0, 0));
    let later = format!("{:#x}", transaction_hash(1, 0));

    for path in VERSIONS {
        let mut socket = server.connect(path).await;
        let id = subscribe(
            &mut socket,
            "starknet_subscribeTransactionStatus",
            json!({ "transaction_hash": committed }),
        )
        .await;
        let status = notification(&mut socket, "starknet_subscriptionTransactionStatus", &id).await;
        assert_eq!(status["transaction_hash"], committed, "{path}");
        assert_eq!(
            status["status"]["finality_status"], "ACCEPTED_ON_L2",
            "{path}"
        );
        assert_eq!(status["status"]["execution_status"], "SUCCEEDED", "{path}");
    }

    let mut socket = server.connect("/v0_9").await;
    let id = subscribe(
        &mut socket,
        "starknet_subscribeTransactionStatus",
        json!([later]),
    )
    .await;
    assert_quiet(&mut socket).await;
    // The connection keeps serving requests while the subscription waits.
    let number = call(&mut socket, "starknet_blockNumber", json!([])).await;
    assert_eq!(number["result"], 0);
    server.commit(vec![TestTransaction {
        sender: BOB,
        events: vec![],
    }]);
    let status = notification(&mut socket, "starknet_subscriptionTransactionStatus", &id).await;
    assert_eq!(status["transaction_hash"], later);
    assert_eq!(status["status"]["finality_status"], "ACCEPTED_ON_L2");
    server.commit_empty();
    assert_quiet(&mut socket).await;
}

#[tokio::test]
async fn new_transactions_and_receipts_filter_by_sender() {
    let mut server = start_server(WsLimits::default()).await;
    server.commit_empty();

    let mut v0_8 = server.connect("/v0_8").await;
    let hashes = subscribe(
        &mut v0_8,
        "starknet_subscribePendingTransactions",
        json!({}),
    )
    .await;
    let details = subscribe(
        &mut v0_8,
        "starknet_subscribePendingTransactions",
        json!({ "transaction_details": true, "sender_address": [format!("{ALICE:#x}")] }),
    )
    .await;
    let mut v0_9 = server.connect("/v0_9").await;
    let receipts = subscribe(
        &mut v0_9,
        "starknet_subscribeNewTransactionReceipts",
        json!({ "sender_address": [format!("{ALICE:#x}")] }),
    )
    .await;
    let mut v0_10 = server.connect("/v0_10").await;
    let transactions = subscribe(
        &mut v0_10,
        "starknet_subscribeNewTransactions",
        json!({ "finality_status": ["ACCEPTED_ON_L2"], "sender_address": [format!("{ALICE:#x}")], "tags": ["INCLUDE_PROOF_FACTS"] }),
    )
    .await;
    // Committed blocks give only ACCEPTED_ON_L2, so this subscription stays quiet.
    subscribe(
        &mut v0_10,
        "starknet_subscribeNewTransactions",
        json!({ "finality_status": ["PRE_CONFIRMED"] }),
    )
    .await;

    server.commit(vec![
        TestTransaction {
            sender: BOB,
            events: vec![],
        },
        TestTransaction {
            sender: ALICE,
            events: vec![],
        },
    ]);
    let alice_tx = format!("{:#x}", transaction_hash(1, 1));
    let bob_tx = format!("{:#x}", transaction_hash(1, 0));

    // The two v0.8 subscriptions interleave, so collect three notifications.
    let mut by_subscription: Vec<(String, Value)> = Vec::new();
    for _ in 0..3 {
        let message = receive(&mut v0_8, WAIT).await.expect("a notification");
        assert_eq!(
            message["method"],
            "starknet_subscriptionPendingTransactions"
        );
        let subscription = message["params"]["subscription_id"]
            .as_str()
            .unwrap()
            .to_string();
        by_subscription.push((subscription, message["params"]["result"].clone()));
    }
    let all: Vec<&Value> = by_subscription
        .iter()
        .filter(|(subscription, _)| *subscription == hashes)
        .map(|(_, result)| result)
        .collect();
    assert_eq!(all, vec![&json!(bob_tx), &json!(alice_tx)]);
    let detailed: Vec<&Value> = by_subscription
        .iter()
        .filter(|(subscription, _)| *subscription == details)
        .map(|(_, result)| result)
        .collect();
    assert_eq!(detailed.len(), 1);
    assert_eq!(detailed[0]["transaction_hash"], alice_tx);
    assert_eq!(detailed[0]["type"], "INVOKE");

    let receipt = notification(
        &mut v0_9,
        "starknet_subscriptionNewTransactionReceipts",
        &receipts,
    )
    .await;
    assert_eq!(receipt["transaction_hash"], alice_tx);
    assert_eq!(receipt["block_number"], 1);
    assert_eq!(receipt["finality_status"], "ACCEPTED_ON_L2");
    assert_quiet(&mut v0_9).await;

    let transaction = notification(
        &mut v0_10,
        "starknet_subscriptionNewTransaction",
        &transactions,
    )
    .await;
    assert_eq!(transaction["transaction_hash"], alice_tx);
    assert_eq!(transaction["finality_status"], "ACCEPTED_ON_L2");
    assert_quiet(&mut v0_10).await;
}

#[tokio::test]
async fn unsubscribe_rejects_other_connections_ids() {
    let mut server = start_server(WsLimits::default()).await;
    server.commit_empty();
    let mut owner = server.connect("/v0_9").await;
    let mut other = server.connect("/v0_9").await;
    let id = subscribe(&mut owner, "starknet_subscribeNewHeads", json!({})).await;
    notification(&mut owner, "starknet_subscriptionNewHeads", &id).await;

    let foreign = call(
        &mut other,
        "starknet_unsubscribe",
        json!({ "subscription_id": id }),
    )
    .await;
    assert_eq!(foreign["error"]["code"], 66);
    let unknown = call(&mut owner, "starknet_unsubscribe", json!(["12345"])).await;
    assert_eq!(unknown["error"]["code"], 66);

    let own = call(
        &mut owner,
        "starknet_unsubscribe",
        json!({ "subscription_id": id }),
    )
    .await;
    assert_eq!(own["result"], true);
    server.commit_empty();
    assert_quiet(&mut owner).await;
    let again = call(&mut owner, "starknet_unsubscribe", json!([id])).await;
    assert_eq!(again["error"]["code"], 66);
}

#[tokio::test]
async fn subscriptions_follow_path_versions() {
    let server = start_server(WsLimits::default()).await;
    let mut socket = server.connect("/v0_7").await;
    let v0_7 = call(&mut socket, "starknet_subscribeEvents", json!({})).await;
    assert_eq!(v0_7["error"]["code"], -32601);
    let mut socket = server.connect("/v0_9").await;
    let pending = call(
        &mut socket,
        "starknet_subscribePendingTransactions",
        json!({}),
    )
    .await;
    assert_eq!(pending["error"]["code"], -32601);
}

#[tokio::test]
async fn filter_and_subscription_limits() {
    let limits = WsLimits {
        max_subscriptions_per_connection: 2,
        max_filter_keys: 2,
        max_filter_addresses: 2,
        ..WsLimits::default()
    };
    let server = start_server(limits).await;
    let mut socket = server.connect("/v0_10").await;

    let addresses = call(
        &mut socket,
        "starknet_subscribeNewTransactions",
        json!({ "sender_address": ["0x1", "0x2", "0x3"] }),
    )
    .await;
    assert_eq!(addresses["error"]["code"], 67);
    let emitters = call(
        &mut socket,
        "starknet_subscribeEvents",
        json!({ "from_address": ["0x1", "0x2", "0x3"] }),
    )
    .await;
    assert_eq!(emitters["error"]["code"], 67);
    let keys = call(
        &mut socket,
        "starknet_subscribeEvents",
        json!({ "keys": [["0x1", "0x2"], ["0x3"]] }),
    )
    .await;
    assert_eq!(keys["error"]["code"], 34);

    subscribe(&mut socket, "starknet_subscribeNewHeads", json!({})).await;
    subscribe(&mut socket, "starknet_subscribeNewHeads", json!({})).await;
    let third = call(&mut socket, "starknet_subscribeNewHeads", json!({})).await;
    assert_eq!(third["error"]["code"], -32005, "{third}");

    // Another connection has its own budget.
    let mut second = server.connect("/v0_10").await;
    subscribe(&mut second, "starknet_subscribeNewHeads", json!({})).await;
}

#[tokio::test]
async fn connections_beyond_limit_are_rejected() {
    let limits = WsLimits {
        max_connections: 2,
        ..WsLimits::default()
    };
    let server = start_server(limits).await;
    let first = server.connect("/v0_9").await;
    let _second = server.connect("/v0_9").await;
    let url = format!("ws://{}/v0_9", server.address);
    let error = tokio_tungstenite::connect_async(url.clone())
        .await
        .expect_err("a third connection was accepted");
    assert!(error.to_string().contains("503"), "{error}");

    // Closing a connection frees its slot.
    drop(first);
    let deadline = Instant::now() + WAIT;
    loop {
        if tokio_tungstenite::connect_async(url.clone()).await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed connection's slot was not freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// Multi-threaded, so that the server writes while the test commits blocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reader_is_closed_with_reason_and_resumes() {
    let limits = WsLimits {
        max_queued_messages: 4,
        max_queued_bytes: 8 << 10,
        max_stall_secs: 1,
        ..WsLimits::default()
    };
    // An empty chain, so that subscribing sends no head and responses do not interleave
    // with notifications.
    let mut server = start_server(limits).await;

    // A small receive buffer makes the client's socket fill after a few headers.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.address).await.unwrap();
    let url = format!("ws://{}/v0_10", server.address);
    let (mut client, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    // Twenty subscriptions multiply the traffic, so that the server's socket buffer, which
    // Linux grows up to several MiB, fills after a few hundred blocks.
    let mut last_seen = std::collections::HashMap::new();
    for _ in 0..20 {
        let id = subscribe(&mut client, "starknet_subscribeNewHeads", json!({})).await;
        last_seen.insert(id, None::<u64>);
    }

    // Stop reading while blocks keep coming.
    for _ in 0..600 {
        server.commit_empty();
    }
    // Longer than `max_stall_secs`, and shorter than the stall plus the grace the server
    // gives the close frame (also `max_stall_secs`).
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let mut close_reason = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let Ok(Some(message)) = tokio::time::timeout(WAIT, client.next()).await else {
            break;
        };
        match message {
            Ok(Message::Text(text)) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                let id = value["params"]["subscription_id"].as_str().unwrap();
                let number = value["params"]["result"]["block_number"].as_u64().unwrap();
                let previous = last_seen.get_mut(id).expect("a known subscription id");
                if let Some(previous) = *previous {
                    assert_eq!(number, previous + 1, "gap before the close");
                }
                *previous = Some(number);
            }
            Ok(Message::Close(frame)) => {
                close_reason = frame.map(|frame| frame.reason.to_string());
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let last_seen = last_seen
        .values()
        .map(|number| number.expect("some headers before the close"))
        .min()
        .unwrap();
    let reason = close_reason
        .unwrap_or_else(|| panic!("no close frame; oldest last block received {last_seen}"));
    assert!(reason.contains("stopped reading"), "{reason}");
    assert!(
        last_seen < 600,
        "the client received every block, so it never stalled"
    );

    // Resume from the block after the last one received.
    let mut resumed = server.connect("/v0_10").await;
    let id = subscribe(
        &mut resumed,
        "starknet_subscribeNewHeads",
        json!({ "block_id": { "block_number": last_seen + 1 } }),
    )
    .await;
    let first = notification(&mut resumed, "starknet_subscriptionNewHeads", &id).await;
    assert_eq!(first["block_number"], last_seen + 1);
}
