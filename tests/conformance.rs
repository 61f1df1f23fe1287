//! Conformance: the real binary syncs recorded Mainnet and Sepolia blocks, then every
//! method of every served version is called over HTTP with real block numbers, hashes,
//! transactions, contracts, storage keys and classes. Every result and every error is
//! validated against the method's JSON schema or error list in that version's spec.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use support::spec::{specs_dir, Spec};
use support::{canonical_felt, fgw_dir, read_json, start_gateway, HttpClient, Node};

/// Paths and the spec version each serves.
const VERSIONS: &[(&str, &str)] = &[
    ("/", "0.7.1"),
    ("/v0_7", "0.7.1"),
    ("/rpc/v0_8", "0.8.1"),
    ("/v0_9", "0.9.0"),
    ("/rpc/v0_10", "0.10.3"),
];

/// Methods outside the read API: they return -32601 until execution exists.
const NOT_SERVED: &[&str] = &[
    "starknet_call",
    "starknet_estimateFee",
    "starknet_estimateMessageFee",
    "starknet_getMessagesStatus",
];

/// What a call must produce.
enum Expect {
    /// A result valid against the method's result schema.
    Result,
    /// This error code, which the method's spec must declare.
    Error(i64),
}

/// Real identifiers taken from the recording, for building parameters.
struct Recorded {
    head: u64,
    block_hash: String,
    transaction_hash: String,
    contract: String,
    storage_key: String,
    class_hash: String,
}

impl Recorded {
    fn read(recording: &Path, head: u64) -> Recorded {
        let block = read_json(&recording.join("block/1.json"));
        let transaction_hash = block["transactions"][0]["transaction_hash"].clone();
        let (contract, storage_key) = first_storage_write(recording, head);
        // A class the synced blocks use: the first one block 0 declares or deploys.
        let genesis = read_json(&recording.join("state_update/0.json"));
        let class_hash =
            canonical_felt(&genesis["state_diff"]["deployed_contracts"][0]["class_hash"]);
        Recorded {
            head,
            block_hash: canonical_felt(&block["block_hash"]),
            transaction_hash: canonical_felt(&transaction_hash),
            contract,
            storage_key,
            class_hash,
        }
    }

    /// `pending` until v0.8, `pre_confirmed` from v0.9.
    fn pending_tag(spec: &str) -> &'static str {
        if spec.starts_with("0.7.") || spec.starts_with("0.8.") {
            "pending"
        } else {
            "pre_confirmed"
        }
    }

    /// Calls to make for `method`, each with its expectation.
    fn calls(&self, method: &str, spec: &str) -> Vec<(Value, Expect)> {
        let by_number = json!({"block_number": 1});
        let by_hash = json!({"block_hash": self.block_hash});
        let unknown_block = json!({"block_number": self.head + 1000});
        let latest = json!("latest");
        let pending = json!(Self::pending_tag(spec));
        // Calls with each kind of block id; `before` and `after` are the parameters
        // around the block id, in the method's spec order.
        let block_id_calls_around = |before: &[Value], after: &[Value]| -> Vec<(Value, Expect)> {
            let with = |id: &Value| {
                let mut params = before.to_vec();
                params.push(id.clone());
                params.extend_from_slice(after);
                Value::Array(params)
            };
            vec![
                (with(&by_number), Expect::Result),
                (with(&by_hash), Expect::Result),
                (with(&latest), Expect::Result),
                (with(&pending), Expect::Result),
                (with(&unknown_block), Expect::Error(24)),
            ]
        };
        let block_id_calls = |after: &[Value]| block_id_calls_around(&[], after);

        match method {
            "starknet_specVersion"
            | "starknet_blockNumber"
            | "starknet_blockHashAndNumber"
            | "starknet_chainId"
            | "starknet_syncing" => vec![(json!([]), Expect::Result)],
            "starknet_getBlockWithTxHashes"
            | "starknet_getBlockWithTxs"
            | "starknet_getBlockWithReceipts"
            | "starknet_getStateUpdate"
            | "starknet_getBlockTransactionCount" => block_id_calls(&[]),
            "starknet_getStorageAt" => {
                let before = [json!(self.contract), json!(self.storage_key)];
                let mut calls = block_id_calls_around(&before, &[]);
                calls.push((
                    json!(["0x1234567", self.storage_key, "latest"]),
                    Expect::Error(20),
                ));
                calls
            }
            "starknet_getNonce" | "starknet_getClassHashAt" | "starknet_getClassAt" => {
                let mut calls: Vec<(Value, Expect)> = vec![
                    (
                        json!([{"block_number": self.head}, self.contract]),
                        Expect::Result,
                    ),
                    (json!(["latest", self.contract]), Expect::Result),
                    (json!([unknown_block, self.contract]), Expect::Error(24)),
                ];
                calls.push((json!(["latest", "0x1234567"]), Expect::Error(20)));
                calls
            }
            "starknet_getClass" => vec![
                (json!(["latest", self.class_hash]), Expect::Result),
                (
                    json!([{"block_number": self.head}, self.class_hash]),
                    Expect::Result,
                ),
                (json!(["latest", "0x1234567"]), Expect::Error(28)),
                (json!([unknown_block, self.class_hash]), Expect::Error(24)),
            ],
            "starknet_getCompiledCasm" => vec![(json!(["0x1234567"]), Expect::Error(28))],
            "starknet_getTransactionStatus"
            | "starknet_getTransactionByHash"
            | "starknet_getTransactionReceipt" => vec![
                (json!([self.transaction_hash]), Expect::Result),
                (json!(["0x1234567"]), Expect::Error(29)),
            ],
            "starknet_getTransactionByBlockIdAndIndex" => vec![
                (json!([by_number, 0]), Expect::Result),
                (json!([by_hash, 0]), Expect::Result),
                (json!([by_number, 10_000]), Expect::Error(27)),
                (json!([unknown_block, 0]), Expect::Error(24)),
            ],
            "starknet_getEvents" => vec![
                (
                    json!([{"from_block": {"block_number": 0}, "to_block": "latest", "chunk_size": 100}]),
                    Expect::Result,
                ),
                (
                    json!([{"from_block": {"block_number": 0}, "to_block": "latest", "chunk_size": 1, "keys": [[]]}]),
                    Expect::Result,
                ),
                (
                    json!([{"from_block": {"block_number": 0}, "to_block": "latest", "chunk_size": 1_000_000}]),
                    Expect::Error(31),
                ),
                (
                    json!([{"from_block": {"block_number": 0}, "to_block": "latest", "chunk_size": 10, "continuation_token": "garbage"}]),
                    Expect::Error(33),
                ),
            ],
            "starknet_getStorageProof" => vec![(
                json!({
                    "block_id": {"block_number": self.head},
                    "class_hashes": [self.class_hash],
                    "contract_addresses": [self.contract],
                    "contracts_storage_keys": [{"contract_address": self.contract, "storage_keys": [self.storage_key]}],
                }),
                Expect::Result,
            )],
            other if NOT_SERVED.contains(&other) => vec![(json!([]), Expect::Error(-32601))],
            other => panic!("no test calls for {other}"),
        }
    }
}

/// Returns the first storage write of the recording's blocks 1..=head: (contract, key).
fn first_storage_write(recording: &Path, head: u64) -> (String, String) {
    for number in 1..=head {
        let update = read_json(&recording.join(format!("state_update/{number}.json")));
        if let Some((contract, entries)) = update["state_diff"]["storage_diffs"]
            .as_object()
            .and_then(|diffs| diffs.iter().next())
        {
            return (
                canonical_felt(&json!(contract)),
                canonical_felt(&entries[0]["key"]),
            );
        }
    }
    panic!(
        "no storage write in blocks 1..={head} of {}",
        recording.display()
    );
}

async fn synced_node(
    network: &str,
    head: u64,
) -> Option<(
    Node,
    support::ReplayGatewayHandle,
    PathBuf,
    tempfile::TempDir,
)> {
    let recording = fgw_dir(network)?;
    let work = tempfile::tempdir().unwrap();
    let gateway = start_gateway(&recording, 0, None, None).await;
    let node = Node::start(
        network,
        &work.path().join("db"),
        &gateway.base_url(),
        &work.path().join("node.log"),
    );
    let mut client = node.connect().await;
    client.wait_for_head(head, Duration::from_secs(60)).await;
    Some((node, gateway, recording, work))
}

async fn check_every_method(network: &str, head: u64) {
    let Some(specs) = specs_dir() else { return };
    let Some((node, gateway, recording, _work)) = synced_node(network, head).await else {
        return;
    };
    let http = HttpClient::new(&node);
    let recorded = Recorded::read(&recording, head);
    let mut failures = Vec::new();
    let mut checked = 0;

    for (path, version) in VERSIONS {
        let spec = Spec::load(&specs, version);
        for method in spec.method_names() {
            for (params, expect) in recorded.calls(&method, version) {
                let response = http.call(path, &method, params.clone()).await;
                checked += 1;
                let context = format!("{method} on {path} with {params}");
                match (expect, response.get("result"), response.get("error")) {
                    (Expect::Result, Some(result), None) => {
                        if let Err(errors) = spec.check_result(&method, result) {
                            failures.push(format!("{context}: result does not match the schema:\n{errors}\nresult: {result}"));
                        }
                    }
                    (Expect::Error(code), None, Some(error)) if error["code"] == json!(code) => {
                        if code > 0 && !spec.allows_error(&method, code) {
                            failures.push(format!(
                                "{context}: error {code} is not in the method's spec"
                            ));
                        }
                    }
                    (Expect::Result, _, _) => {
                        failures.push(format!("{context}: expected a result, got {response}"))
                    }
                    (Expect::Error(code), _, _) => {
                        failures.push(format!("{context}: expected error {code}, got {response}"))
                    }
                }
            }
        }
    }
    gateway.shutdown().await;
    assert!(
        failures.is_empty(),
        "{} of {checked} calls failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_conforms_on_mainnet() {
    check_every_method("mainnet", 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_conforms_on_sepolia() {
    check_every_method("sepolia", 6).await;
}

/// Golden values from the recorded Sepolia blocks: hashes, a storage slot whose value
/// differs between two blocks, and a nonce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_values_on_sepolia() {
    let Some((node, gateway, recording, _work)) = synced_node("sepolia", 6).await else {
        return;
    };
    let http = HttpClient::new(&node);

    for number in 0..=6u64 {
        let recorded = read_json(&recording.join(format!("block/{number}.json")));
        for path in ["/v0_7", "/v0_10"] {
            let block = http
                .call(
                    path,
                    "starknet_getBlockWithTxHashes",
                    json!([{"block_number": number}]),
                )
                .await;
            let result = &block["result"];
            assert_eq!(
                result["block_hash"],
                json!(canonical_felt(&recorded["block_hash"])),
                "block {number} on {path}"
            );
            assert_eq!(
                result["new_root"],
                json!(canonical_felt(&recorded["state_root"])),
                "block {number} on {path}"
            );
            let hashes: Vec<Value> = recorded["transactions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|transaction| json!(canonical_felt(&transaction["transaction_hash"])))
                .collect();
            assert_eq!(
                result["transactions"],
                json!(hashes),
                "block {number} on {path}"
            );
        }
    }

    // Written in block 4 to a contract deployed in block 0.
    let contract = "0x4c5772d1914fe6ce891b64eb35bf3522aeae1315647314aac58b01137607f3f";
    let key = "0x5d2e9527cbeb1a51aa084b0de7501f343b7b1bf24a0c427d6204a7b7988970";
    let before = http
        .call(
            "/v0_8",
            "starknet_getStorageAt",
            json!([contract, key, {"block_number": 3}]),
        )
        .await;
    assert_eq!(before["result"], json!("0x0"));
    let after = http
        .call(
            "/v0_8",
            "starknet_getStorageAt",
            json!({"contract_address": contract, "key": key, "block_id": {"block_number": 4}}),
        )
        .await;
    assert_eq!(
        after["result"],
        json!("0x6d8ff7b212b08760c82e4a8f354f6ebc69d748290fa38e92eb859726a88f379")
    );

    let update = read_json(&recording.join("state_update/5.json"));
    let (address, nonce) = update["state_diff"]["nonces"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    let answer = http
        .call(
            "/v0_9",
            "starknet_getNonce",
            json!([{"block_number": 5}, canonical_felt(&json!(address))]),
        )
        .await;
    assert_eq!(answer["result"], json!(canonical_felt(nonce)));
    gateway.shutdown().await;
}
