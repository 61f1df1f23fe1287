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
    /// Added to every block hash, so that blocks committed after a revert differ from
    /// the reverted ones.
    fork: u64,
    pre_confirmed: PreConfirmedHandle,
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
    let pre_confirmed = PreConfirmedHandle::new();
    let context = RpcContext::new(storage.clone())
        .with_ws_limits(limits)
        .with_pre_confirmed(pre_confirmed.clone());
    tokio::spawn(starling_rpc::ws::serve(listener, context));
    Server {
        storage,
        writer,
        fork: 0,
        pre_confirmed,
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

/// Block `number`'s transactions and receipts; transaction `i` has hash
/// `transaction_hash(number, i)`.
fn build_transactions(
    number: u64,
    transactions: Vec<TestTransaction>,
) -> (Vec<Transaction>, Vec<Receipt>) {
    let mut built = (Vec::new(), Vec::new());
    for (index, transaction) in (0u64..).zip(transactions) {
        let hash = TransactionHash(transaction_hash(number, index));
        built.0.push(Transaction {
            hash,
            variant: TransactionVariant::InvokeV1(InvokeTransactionV1 {
                sender_address: ContractAddress(Felt::from(transaction.sender)),
                calldata: vec![],
                max_fee: Felt::ONE,
                signature: vec![],
                nonce: Felt::from(index),
            }),
        });
        built.1.push(Receipt {
            transaction_hash: hash,
            actual_fee: Felt::ONE,
            execution_status: ExecutionStatus::Succeeded,
            events: transaction.events,
            l2_to_l1_messages: vec![],
            l1_to_l2_consumed_message: None,
            execution_resources: ExecutionResources::default(),
        });
    }
    built
}

impl Server {
    /// Makes the block after the head pre-confirmed with `executed` transactions (hashes
    /// as [`build_transactions`] gives them) and `candidates` after them.
    fn pre_confirm(&self, executed: Vec<TestTransaction>, candidates: Vec<TestTransaction>) {
        let (head, head_hash) = self.writer.head().expect("a head");
        let number = head.get() + 1;
        let executed_count = executed.len() as u64;
        let (transactions, receipts) = build_transactions(number, executed);
        let (mut candidate_transactions, _) = build_transactions(number, candidates);
        for (offset, transaction) in (executed_count..).zip(&mut candidate_transactions) {
            transaction.hash = TransactionHash(transaction_hash(number, offset));
        }
        self.pre_confirmed.set(PreConfirmedBlock {
            number: BlockNumber(number),
            parent_hash: head_hash,
            timestamp: 1_700_000_000 + number,
            sequencer_address: ContractAddress(Felt::from(0x5eu8)),
            starknet_version: "0.14.0".into(),
            l1_gas_price: GasPrices::default(),
            l1_data_gas_price: GasPrices::default(),
            l2_gas_price: GasPrices::default(),
            l1_da_mode: L1DataAvailabilityMode::Blob,
            transactions,
            receipts,
            candidate_transactions,
            state_diff: StateDiff::default(),
        });
    }

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
                hash: BlockHash(Felt::from(0xb000_0000 + number + self.fork)),
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
        let (transactions, receipts) = build_transactions(number, transactions);
        block.header.event_count = receipts
            .iter()
            .map(|receipt| receipt.events.len() as u64)
            .sum();
        block.transactions = transactions;
        block.receipts = receipts;
        block.header.transaction_count = block.transactions.len() as u64;
        self.writer.commit(block).unwrap().as_ref().clone()
    }
}

fn block_hash(number: u64, fork: u64) -> String {
    format!("{:#x}", 0xb000_0000 + number + fork)
}

/// Subscribes while notifications of earlier subscriptions may arrive; those are kept
/// in `buffer`. Returns the subscription id.
async fn subscribe_buffered(
    socket: &mut Socket,
    method: &str,
    params: Value,
    buffer: &mut Vec<Value>,
) -> String {
    send(socket, method, params).await;
    loop {
        let message = receive(socket, WAIT).await.expect("a response");
        if message.get("id").is_some() {
            return message["result"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} failed: {message}"))
                .to_string();
        }
        buffer.push(message);
    }
}

/// Takes the notifications in `buffer`, then reads messages until the socket stays
/// quiet, and groups them by subscription id, each as (method, result) in arrival order.
async fn drain(
    socket: &mut Socket,
    buffer: &mut Vec<Value>,
) -> std::collections::HashMap<String, Vec<(String, Value)>> {
    let mut messages = std::mem::take(buffer);
    while let Some(message) = receive(socket, QUIET).await {
        messages.push(message);
    }
    let mut by_subscription = std::collections::HashMap::<String, Vec<(String, Value)>>::new();
    for message in messages {
        let id = message["params"]["subscription_id"]
            .as_str()
            .unwrap_or_else(|| panic!("not a notification: {message}"))
            .to_string();
        let method = message["method"].as_str().unwrap().to_string();
        by_subscription
            .entry(id)
            .or_default()
            .push((method, message["params"]["result"].clone()));
    }
    by_subscription
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
    // gives the close frame (at least 5 s).
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

/// Builds one transaction from ALICE that emits one event.
fn alice_transaction() -> Vec<TestTransaction> {
    vec![TestTransaction {
        sender: ALICE,
        events: vec![event(ALICE, &[KEY_1])],
    }]
}

#[tokio::test]
async fn reorg_sent_once_before_new_chain() {
    let mut server = start_server(WsLimits::default()).await;
    for _ in 0..=5 {
        server.commit(alice_transaction());
    }
    let moved = format!("{:#x}", transaction_hash(4, 0));

    // Per path: the subscriptions, and whether each gets a reorg notification.
    let mut sockets = Vec::new();
    for path in VERSIONS {
        let mut socket = server.connect(path).await;
        let mut buffer = Vec::new();
        let mut subscriptions = vec![
            (
                subscribe_buffered(&mut socket, "starknet_subscribeNewHeads", json!({}), &mut buffer).await,
                "heads",
                true,
            ),
            (
                subscribe_buffered(
                    &mut socket,
                    "starknet_subscribeEvents",
                    json!({ "from_address": format!("{ALICE:#x}"), "block_id": { "block_number": 0 } }),
                    &mut buffer,
                )
                .await,
                "events",
                true,
            ),
            (
                subscribe_buffered(
                    &mut socket,
                    "starknet_subscribeTransactionStatus",
                    json!({ "transaction_hash": moved }),
                    &mut buffer,
                )
                .await,
                "status",
                true,
            ),
        ];
        if path == "/v0_8" {
            let id = subscribe_buffered(
                &mut socket,
                "starknet_subscribePendingTransactions",
                json!({}),
                &mut buffer,
            )
            .await;
            subscriptions.push((id, "transactions", false));
        } else {
            // From v0.10 on the specs list these subscriptions among the reorg's receivers.
            let reorgs = path == "/v0_10";
            let id = subscribe_buffered(
                &mut socket,
                "starknet_subscribeNewTransactions",
                json!({}),
                &mut buffer,
            )
            .await;
            subscriptions.push((id, "transactions", reorgs));
            let id = subscribe_buffered(
                &mut socket,
                "starknet_subscribeNewTransactionReceipts",
                json!({}),
                &mut buffer,
            )
            .await;
            subscriptions.push((id, "receipts", reorgs));
        }
        let before = drain(&mut socket, &mut buffer).await;
        let heads = subscriptions[0].0.clone();
        assert_eq!(before[&heads].len(), 1, "{path}: the head");
        let events = subscriptions[1].0.clone();
        assert_eq!(before[&events].len(), 6, "{path}: one event per block");
        sockets.push((path, socket, subscriptions));
    }

    // Blocks 3 to 5 are replaced by 3' to 6'.
    server.writer.revert_to(BlockNumber(2), 64).unwrap();
    server.fork = 0x100_0000;
    for _ in 3..=6 {
        server.commit(alice_transaction());
    }

    let expected_reorg = json!({
        "starting_block_hash": block_hash(3, 0),
        "starting_block_number": 3,
        "ending_block_hash": block_hash(5, 0),
        "ending_block_number": 5,
    });
    for (path, mut socket, subscriptions) in sockets {
        let after = drain(&mut socket, &mut Vec::new()).await;
        for (id, kind, reorgs) in subscriptions {
            let messages = after.get(&id).cloned().unwrap_or_default();
            let reorg_count = messages
                .iter()
                .filter(|(method, _)| method == "starknet_subscriptionReorg")
                .count();
            assert_eq!(
                reorg_count,
                usize::from(reorgs),
                "{path} {kind}: {messages:?}"
            );
            let rest = if reorgs {
                assert_eq!(messages[0].0, "starknet_subscriptionReorg", "{path} {kind}");
                assert_eq!(messages[0].1, expected_reorg, "{path} {kind}");
                &messages[1..]
            } else {
                &messages[..]
            };
            match kind {
                "heads" => {
                    let blocks: Vec<(u64, String)> = rest
                        .iter()
                        .map(|(_, header)| {
                            (
                                header["block_number"].as_u64().unwrap(),
                                header["block_hash"].as_str().unwrap().to_string(),
                            )
                        })
                        .collect();
                    let expected: Vec<(u64, String)> =
                        (3..=6).map(|n| (n, block_hash(n, 0x100_0000))).collect();
                    assert_eq!(blocks, expected, "{path}");
                }
                "events" => {
                    let blocks: Vec<&Value> =
                        rest.iter().map(|(_, event)| &event["block_hash"]).collect();
                    let expected: Vec<Value> =
                        (3..=6).map(|n| json!(block_hash(n, 0x100_0000))).collect();
                    assert_eq!(blocks, expected.iter().collect::<Vec<_>>(), "{path}");
                }
                "status" => {
                    assert_eq!(rest.len(), 1, "{path}: {rest:?}");
                    assert_eq!(rest[0].1["transaction_hash"], moved);
                    assert_eq!(rest[0].1["status"]["finality_status"], "ACCEPTED_ON_L2");
                }
                _ => {
                    // One transaction per new block, in order.
                    assert_eq!(rest.len(), 4, "{path} {kind}: {rest:?}");
                }
            }
        }
    }
}

#[tokio::test]
async fn reorg_outside_a_subscription_sends_no_reorg() {
    let mut server = start_server(WsLimits::default()).await;
    for _ in 0..=5 {
        server.commit_empty();
    }
    let mut socket = server.connect("/v0_9").await;
    // The status subscription waits for a transaction that no block holds.
    let missing = format!("{:#x}", transaction_hash(9, 0));
    let status = subscribe(
        &mut socket,
        "starknet_subscribeTransactionStatus",
        json!({ "transaction_hash": missing }),
    )
    .await;
    server.writer.revert_to(BlockNumber(4), 64).unwrap();
    server.fork = 0x100_0000;
    server.commit_empty();
    let after = drain(&mut socket, &mut Vec::new()).await;
    assert!(!after.contains_key(&status), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_subscriber_reorg_stays_consistent() {
    let limits = WsLimits {
        max_queued_messages: 4,
        max_queued_bytes: 8 << 10,
        max_stall_secs: 120,
        ..WsLimits::default()
    };
    let mut server = start_server(limits).await;
    for _ in 0..3 {
        server.commit_empty();
    }
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.address).await.unwrap();
    let url = format!("ws://{}/v0_10", server.address);
    let (mut client, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    let id = subscribe(&mut client, "starknet_subscribeNewHeads", json!({})).await;

    // More commits than the commit channel holds while the client reads nothing, then a
    // reorg of the newest blocks.
    for _ in 0..1100 {
        server.commit_empty();
    }
    server.writer.revert_to(BlockNumber(1095), 64).unwrap();
    server.fork = 0x100_0000;
    for _ in 0..10 {
        server.commit_empty();
    }
    let head = server.writer.head().unwrap();

    // Rebuild the client's view: a head extends it, a reorg cuts it back.
    let mut view: Vec<String> = Vec::new();
    let mut reorgs = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while view.len() as u64 <= head.0.get() && Instant::now() < deadline {
        let message = receive(&mut client, WAIT).await.expect("a notification");
        assert_eq!(message["params"]["subscription_id"], id.as_str());
        let result = &message["params"]["result"];
        if message["method"] == "starknet_subscriptionReorg" {
            reorgs += 1;
            let first = result["starting_block_number"].as_u64().unwrap() as usize;
            let last = result["ending_block_number"].as_u64().unwrap() as usize;
            assert_eq!(
                last + 1,
                view.len(),
                "the reorg ends at the last block sent"
            );
            assert_eq!(result["starting_block_hash"], view[first].as_str());
            view.truncate(first);
            continue;
        }
        let number = result["block_number"].as_u64().unwrap() as usize;
        if number == 2 && view.is_empty() {
            // The head when the client subscribed; blocks 0 and 1 came before.
            view = vec![block_hash(0, 0), block_hash(1, 0)];
        }
        assert_eq!(number, view.len(), "no gap and no duplicate");
        if let Some(parent) = view.last() {
            assert_eq!(result["parent_hash"], parent.as_str());
        }
        view.push(result["block_hash"].as_str().unwrap().to_string());
    }
    assert!(reorgs <= 1, "{reorgs} reorg notifications");
    assert_eq!(view.len() as u64, head.0.get() + 1);
    assert_eq!(view.last().unwrap(), &format!("{:#x}", head.1 .0));
    assert_quiet(&mut client).await;
}

#[tokio::test]
async fn pre_confirmed_transactions_and_events_then_accepted() {
    let mut server = start_server(WsLimits::default()).await;
    server.commit_empty();
    let alice = format!("{:#x}", transaction_hash(1, 0));
    let bob = format!("{:#x}", transaction_hash(1, 1));
    let alice_transaction = || TestTransaction {
        sender: ALICE,
        events: vec![event(ALICE, &[KEY_1])],
    };
    let bob_transaction = || TestTransaction {
        sender: BOB,
        events: vec![event(BOB, &[KEY_2])],
    };

    let mut v0_10 = server.connect("/v0_10").await;
    let mut buffer = Vec::new();
    let transactions = subscribe_buffered(
        &mut v0_10,
        "starknet_subscribeNewTransactions",
        json!({ "finality_status": ["CANDIDATE", "PRE_CONFIRMED", "ACCEPTED_ON_L2"] }),
        &mut buffer,
    )
    .await;
    let receipts = subscribe_buffered(
        &mut v0_10,
        "starknet_subscribeNewTransactionReceipts",
        json!({ "finality_status": ["PRE_CONFIRMED", "ACCEPTED_ON_L2"] }),
        &mut buffer,
    )
    .await;
    let events = subscribe_buffered(
        &mut v0_10,
        "starknet_subscribeEvents",
        json!({ "from_address": format!("{ALICE:#x}"), "finality_status": "PRE_CONFIRMED" }),
        &mut buffer,
    )
    .await;
    let accepted_only = subscribe_buffered(
        &mut v0_10,
        "starknet_subscribeNewTransactions",
        json!({}),
        &mut buffer,
    )
    .await;
    let mut v0_8 = server.connect("/v0_8").await;
    let pending = subscribe(
        &mut v0_8,
        "starknet_subscribePendingTransactions",
        json!({}),
    )
    .await;
    let before = drain(&mut v0_10, &mut buffer).await;
    // Only the event subscription replays: block 0 has no events.
    assert!(before.is_empty(), "{before:?}");

    // Block 1 is pre-confirmed with Alice's transaction executed and Bob's a candidate.
    server.pre_confirm(vec![alice_transaction()], vec![bob_transaction()]);
    let first = drain(&mut v0_10, &mut Vec::new()).await;
    let statuses = |messages: &[(String, Value)]| -> Vec<(String, String)> {
        messages
            .iter()
            .map(|(_, result)| {
                (
                    result["transaction_hash"].as_str().unwrap().to_string(),
                    result["finality_status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        statuses(&first[&transactions]),
        vec![
            (alice.clone(), "PRE_CONFIRMED".to_string()),
            (bob.clone(), "CANDIDATE".to_string())
        ]
    );
    let receipt = &first[&receipts];
    assert_eq!(receipt.len(), 1, "{receipt:?}");
    assert_eq!(receipt[0].1["transaction_hash"], alice.as_str());
    assert_eq!(receipt[0].1["finality_status"], "PRE_CONFIRMED");
    assert_eq!(receipt[0].1["block_number"], 1);
    assert!(receipt[0].1.get("block_hash").is_none(), "{receipt:?}");
    let event = &first[&events];
    assert_eq!(event.len(), 1, "{event:?}");
    assert_eq!(event[0].1["transaction_hash"], alice.as_str());
    assert_eq!(event[0].1["finality_status"], "PRE_CONFIRMED");
    assert!(event[0].1.get("block_hash").is_none(), "{event:?}");
    assert!(!first.contains_key(&accepted_only), "{first:?}");
    let pending_first = notification(
        &mut v0_8,
        "starknet_subscriptionPendingTransactions",
        &pending,
    )
    .await;
    assert_eq!(pending_first, json!(alice));

    // Bob's transaction is executed in the next version of the pre-confirmed block.
    server.pre_confirm(vec![alice_transaction(), bob_transaction()], vec![]);
    let second = drain(&mut v0_10, &mut Vec::new()).await;
    assert_eq!(
        statuses(&second[&transactions]),
        vec![(bob.clone(), "PRE_CONFIRMED".to_string())]
    );
    assert_eq!(
        statuses(&second[&receipts]),
        vec![(bob.clone(), "PRE_CONFIRMED".to_string())]
    );
    assert!(
        !second.contains_key(&events),
        "Bob's event does not match: {second:?}"
    );
    let pending_second = notification(
        &mut v0_8,
        "starknet_subscriptionPendingTransactions",
        &pending,
    )
    .await;
    assert_eq!(pending_second, json!(bob));

    // The block is committed.
    let committed = server.commit(vec![alice_transaction(), bob_transaction()]);
    server.pre_confirmed.clear();
    let third = drain(&mut v0_10, &mut Vec::new()).await;
    let accepted = vec![
        (alice.clone(), "ACCEPTED_ON_L2".to_string()),
        (bob.clone(), "ACCEPTED_ON_L2".to_string()),
    ];
    assert_eq!(statuses(&third[&transactions]), accepted);
    assert_eq!(statuses(&third[&accepted_only]), accepted);
    assert_eq!(statuses(&third[&receipts]), accepted);
    for (_, receipt) in &third[&receipts] {
        assert_eq!(receipt["block_hash"], json!(committed.hash));
    }
    let event = &third[&events];
    assert_eq!(event.len(), 1, "{event:?}");
    assert_eq!(event[0].1["finality_status"], "ACCEPTED_ON_L2");
    assert_eq!(event[0].1["block_hash"], json!(committed.hash));
    // v0.8 reports each transaction once.
    assert_quiet(&mut v0_8).await;
}

#[tokio::test]
async fn transaction_status_goes_from_pre_confirmed_to_accepted() {
    let mut server = start_server(WsLimits::default()).await;
    server.commit_empty();
    let hash = format!("{:#x}", transaction_hash(1, 0));
    let alice_transaction = || TestTransaction {
        sender: ALICE,
        events: vec![],
    };

    let mut subscribers = Vec::new();
    for path in VERSIONS {
        let mut socket = server.connect(path).await;
        let id = subscribe(
            &mut socket,
            "starknet_subscribeTransactionStatus",
            json!({ "transaction_hash": hash }),
        )
        .await;
        subscribers.push((path, socket, id));
    }

    server.pre_confirm(vec![], vec![alice_transaction()]);
    let candidate = |path: &str| {
        if path == "/v0_8" {
            "RECEIVED"
        } else {
            "CANDIDATE"
        }
    };
    for (path, socket, id) in &mut subscribers {
        let status = notification(socket, "starknet_subscriptionTransactionStatus", id).await;
        assert_eq!(status["transaction_hash"], hash.as_str());
        assert_eq!(
            status["status"],
            json!({ "finality_status": candidate(path) }),
            "{path}"
        );
    }

    server.pre_confirm(vec![alice_transaction()], vec![]);
    for (path, socket, id) in &mut subscribers {
        let status = notification(socket, "starknet_subscriptionTransactionStatus", id).await;
        // v0.8 has no PRE_CONFIRMED: pending transactions were ACCEPTED_ON_L2.
        let finality = if *path == "/v0_8" {
            "ACCEPTED_ON_L2"
        } else {
            "PRE_CONFIRMED"
        };
        assert_eq!(
            status["status"],
            json!({ "finality_status": finality, "execution_status": "SUCCEEDED" }),
            "{path}"
        );
    }

    server.commit(vec![alice_transaction()]);
    server.pre_confirmed.clear();
    for (path, socket, id) in &mut subscribers {
        if *path == "/v0_8" {
            // The status is the same as the pending one, so nothing new is sent.
            assert_quiet(socket).await;
            continue;
        }
        let status = notification(socket, "starknet_subscriptionTransactionStatus", id).await;
        assert_eq!(
            status["status"],
            json!({ "finality_status": "ACCEPTED_ON_L2", "execution_status": "SUCCEEDED" }),
            "{path}"
        );
        assert_quiet(socket).await;
    }
}
