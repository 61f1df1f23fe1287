//! Whole-node sync throughput: the real `starling` binary syncs a generated chain with
//! every check on from a replay gateway on 127.0.0.1 into a temporary RocksDB. Prints a
//! Markdown table with blocks and transactions per second, the hashing floor measured in
//! the same run, the node's peak memory and its bytes on disk per block.
//!
//! Run with `make bench` (or `cargo bench -p starling --bench sync_chain`). Settings, by
//! environment variable:
//!
//! - `SYNC_BENCH_BLOCKS` (default 5000) and `SYNC_BENCH_SEED` (default 1): the chain. It
//!   is generated once with `starling synth-chain` and kept under
//!   `$HOME/.cache/starling/synth-chains/`, keyed by seed and block count, because
//!   generating 5,000 blocks takes about 90 s.
//! - `SYNC_BENCH_FETCH_AHEAD` (default `1,16`): one sync per listed `--fetch-ahead`
//!   value, each into a fresh database.
//!
//! # The hashing floor
//!
//! Verification is bound by Pedersen and Poseidon hashes. The benchmark times both (one
//! `hash(a, b)` each, which is one Poseidon permutation) and multiplies by the number of
//! hashes the chain's verification needs:
//!
//! - trie nodes, counted exactly: every node a sync creates is stored under its hash in
//!   `pedersen_trie_nodes` (storage and contracts tries) or `poseidon_trie_nodes`
//!   (classes trie) and never deleted. So the key count of each column family after the
//!   sync is the number of node hashes computed;
//! - contract leaves: three Pedersen hashes per contract whose state a block changes;
//! - per block, estimated from the recorded JSON for Starknet 0.13.2 and later (Poseidon
//!   commitments). These are the transaction hashes (Poseidon over the fields and over
//!   the calldata for version 3, Pedersen for older versions), one commitment leaf per
//!   transaction, event and receipt, and one node per leaf for each commitment tree. The
//!   state-diff commitment, the block hash, the global root and the Sierra and CASM class
//!   hashes come on top. A Poseidon
//!   hash over n elements counts n / 2 + 1 permutations, a Pedersen hash chain over n
//!   elements n + 1 hashes.
//!
//! The floor is the time those hashes take on one core, turned into blocks per second.
//! Trie hashes need the parent state and run in the writer, one block after the other,
//! but the writer hashes the storage tries of different contracts on several threads
//! and the other checks run beside it. The two-core floor is therefore half of the
//! total: every hash split evenly over both cores. It is a bound, not a target, because
//! each block's contracts trie is hashed on one thread after its storage tries. Keccak
//! hashes (Cairo 0 classes, revert reasons), trie reads and RocksDB writes are left out,
//! so real sync is slower than either floor.

use std::collections::HashSet;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use starknet_types_core::felt::Felt;
use starknet_types_core::hash::{Pedersen, Poseidon, StarkHash};
use starling_storage::schema::{PEDERSEN_TRIE_NODES, POSEIDON_TRIE_NODES};
use starling_sync::replay::{ReplayConfig, ReplayGateway};

const DEFAULT_BLOCKS: u64 = 5_000;
const DEFAULT_SEED: u64 = 1;
const DEFAULT_FETCH_AHEAD: &str = "1,16";
/// Generation runs at about 55 blocks per second; this leaves room for a loaded machine.
const GENERATION_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// Maximum time one sync of the chain may take before the benchmark gives up.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Time the node gets to exit after SIGTERM before it is killed.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);
/// Hashes timed for the floor: enough for a stable rate, about a second each.
const HASH_COUNT: u32 = 50_000;
const HEAD_POLL_INTERVAL: Duration = Duration::from_millis(200);

fn main() {
    let blocks = env_u64("SYNC_BENCH_BLOCKS", DEFAULT_BLOCKS);
    let seed = env_u64("SYNC_BENCH_SEED", DEFAULT_SEED);
    let fetch_ahead_values: Vec<u64> = std::env::var("SYNC_BENCH_FETCH_AHEAD")
        .unwrap_or_else(|_| DEFAULT_FETCH_AHEAD.to_string())
        .split(',')
        .map(|value| {
            value
                .trim()
                .parse()
                .expect("SYNC_BENCH_FETCH_AHEAD is a comma-separated list of numbers")
        })
        .collect();

    let chain = cached_chain(blocks, seed);
    let stats = ChainStats::read(&chain, blocks);
    let pedersen_rate = hashes_per_second(Pedersen::hash);
    let poseidon_rate = hashes_per_second(Poseidon::hash);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    let runs: Vec<SyncRun> = fetch_ahead_values
        .iter()
        .map(|&fetch_ahead| runtime.block_on(sync_once(&chain, blocks, fetch_ahead)))
        .collect();

    println!(
        "chain: {blocks} blocks, seed {seed}, {} transactions, {}",
        stats.transactions,
        chain.display()
    );
    println!();
    println!("| measurement | result |");
    println!("| --- | --- |");
    for run in &runs {
        let seconds = run.elapsed.as_secs_f64();
        println!(
            "| `--fetch-ahead {}`: sync time, start to last block committed | {seconds:.1} s |",
            run.fetch_ahead
        );
        println!(
            "| `--fetch-ahead {}`: blocks per second | {:.1} |",
            run.fetch_ahead,
            blocks as f64 / seconds
        );
        println!(
            "| `--fetch-ahead {}`: transactions per second | {:.0} |",
            run.fetch_ahead,
            stats.transactions as f64 / seconds
        );
        println!(
            "| `--fetch-ahead {}`: peak resident memory of the node (VmHWM) | {:.1} MiB |",
            run.fetch_ahead,
            run.peak_rss_kib as f64 / 1024.0
        );
        println!(
            "| `--fetch-ahead {}`: database size on disk per block | {:.0} bytes |",
            run.fetch_ahead,
            run.database_bytes as f64 / blocks as f64
        );
    }
    println!(
        "| raw feeder-gateway JSON per block (block + state update) | {:.0} bytes |",
        stats.block_json_bytes as f64 / blocks as f64
    );
    println!(
        "| raw feeder-gateway JSON per block, classes and CASM included | {:.0} bytes |",
        (stats.block_json_bytes + stats.class_json_bytes) as f64 / blocks as f64
    );
    println!("| Pedersen hashes per second | {pedersen_rate:.0} |");
    println!("| Poseidon hashes per second | {poseidon_rate:.0} |");

    let Some(run) = runs.last() else {
        return;
    };
    let trie_seconds = run.pedersen_trie_nodes as f64 / pedersen_rate
        + run.poseidon_trie_nodes as f64 / poseidon_rate
        + stats.contract_leaf_pedersen as f64 / pedersen_rate;
    let other_seconds =
        stats.block_pedersen as f64 / pedersen_rate + stats.block_poseidon as f64 / poseidon_rate;
    let one_core = trie_seconds + other_seconds;
    let two_cores = one_core / 2.0;
    println!(
        "| Pedersen trie nodes created (exact) + contract leaf hashes | {} + {} |",
        run.pedersen_trie_nodes, stats.contract_leaf_pedersen
    );
    println!(
        "| Poseidon trie nodes created (exact) | {} |",
        run.poseidon_trie_nodes
    );
    println!(
        "| hashes per block outside the tries (estimate): Pedersen, Poseidon | {:.0}, {:.0} |",
        stats.block_pedersen as f64 / blocks as f64,
        stats.block_poseidon as f64 / blocks as f64
    );
    println!(
        "| hashing floor, one core | {:.1} blocks/s ({:.1} ms per block, {:.1} ms of it in the tries) |",
        blocks as f64 / one_core,
        one_core * 1000.0 / blocks as f64,
        trie_seconds * 1000.0 / blocks as f64
    );
    println!(
        "| hashing floor, two cores (every hash split evenly) | {:.1} blocks/s |",
        blocks as f64 / two_cores
    );
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |value| {
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}"))
    })
}

/// Returns the directory of the generated chain, generating it on first use.
fn cached_chain(blocks: u64, seed: u64) -> PathBuf {
    let home = std::env::var_os("HOME").expect("HOME is set");
    let root = Path::new(&home).join(".cache/starling/synth-chains");
    let dir = root.join(format!("sepolia-seed{seed}-blocks{blocks}"));
    let complete_marker = dir.join(".complete");
    if complete_marker.exists() {
        return dir;
    }

    std::fs::create_dir_all(&root).expect("chain cache directory is writable");
    let partial = root.join(format!("sepolia-seed{seed}-blocks{blocks}.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("generating {blocks} blocks into {}", dir.display());
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_starling"))
        .arg("synth-chain")
        .arg("--out")
        .arg(&partial)
        .args(["--blocks", &blocks.to_string(), "--seed", &seed.to_string()])
        .args(["--network", "sepolia"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starling binary starts");
    let status = wait_with_timeout(&mut child, GENERATION_TIMEOUT)
        .unwrap_or_else(|| panic!("synth-chain took longer than {GENERATION_TIMEOUT:?}"));
    assert!(status.success(), "synth-chain failed: {status}");
    std::fs::rename(&partial, &dir).expect("generated chain moves into place");
    File::create(&complete_marker).expect("completion marker is written");
    eprintln!(
        "generated {blocks} blocks in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    dir
}

/// Waits for `child` to exit, for at most `timeout`; kills it and returns `None` after.
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("child status is readable") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn hashes_per_second(hash: impl Fn(&Felt, &Felt) -> Felt) -> f64 {
    let mut accumulator = Felt::from(0x1234_5678u64);
    let other =
        Felt::from_hex_unwrap("0x49d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7");
    let start = Instant::now();
    for _ in 0..HASH_COUNT {
        accumulator = hash(&accumulator, &other);
    }
    let elapsed = start.elapsed();
    std::hint::black_box(accumulator);
    f64::from(HASH_COUNT) / elapsed.as_secs_f64()
}

/// Sizes, transaction count and estimated hash counts of a recorded chain.
#[derive(Debug, Default)]
struct ChainStats {
    transactions: u64,
    block_json_bytes: u64,
    class_json_bytes: u64,
    /// Three per contract whose state a block changes.
    contract_leaf_pedersen: u64,
    /// Estimated Pedersen hashes outside the tries (transaction hashes before version 3).
    block_pedersen: u64,
    /// Estimated Poseidon permutations outside the tries.
    block_poseidon: u64,
}

/// Poseidon permutations of a hash over `elements` felts: two felts per permutation, plus
/// the padding.
fn poseidon_permutations(elements: usize) -> u64 {
    elements as u64 / 2 + 1
}

fn array_len(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

impl ChainStats {
    fn read(chain: &Path, blocks: u64) -> ChainStats {
        let mut stats = ChainStats::default();
        for number in 0..blocks {
            let block_path = chain.join(format!("block/{number}.json"));
            let state_update_path = chain.join(format!("state_update/{number}.json"));
            let block_text = std::fs::read(&block_path).expect("block file is readable");
            let state_update_text =
                std::fs::read(&state_update_path).expect("state update file is readable");
            stats.block_json_bytes += (block_text.len() + state_update_text.len()) as u64;
            let block: Value = serde_json::from_slice(&block_text).expect("block is JSON");
            let state_update: Value =
                serde_json::from_slice(&state_update_text).expect("state update is JSON");
            stats.add_block(&block, &state_update["state_diff"]);
        }
        for folder in ["class", "compiled_class"] {
            let Ok(entries) = std::fs::read_dir(chain.join(folder)) else {
                continue;
            };
            for entry in entries {
                let text = std::fs::read(entry.expect("class entry").path()).expect("class file");
                stats.class_json_bytes += text.len() as u64;
                let class: Value = serde_json::from_slice(&text).expect("class is JSON");
                // Sierra class hash and compiled class hash: Poseidon over the program
                // or bytecode, plus the entry points (a few permutations, counted as 10).
                for program in ["sierra_program", "bytecode"] {
                    if let Some(felts) = class[program].as_array() {
                        stats.block_poseidon += poseidon_permutations(felts.len()) + 10;
                    }
                }
            }
        }
        stats
    }

    fn add_block(&mut self, block: &Value, diff: &Value) {
        let transactions = block["transactions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let receipts = block["transaction_receipts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        self.transactions += transactions.len() as u64;

        for transaction in &transactions {
            let calldata = array_len(&transaction["calldata"])
                + array_len(&transaction["constructor_calldata"]);
            if transaction["version"] == json!("0x3") {
                // Fee hash (tip and three bounds), paymaster data, account deployment
                // data, calldata, then the outer hash over about 11 fields.
                self.block_poseidon += poseidon_permutations(4)
                    + poseidon_permutations(array_len(&transaction["paymaster_data"]))
                    + poseidon_permutations(array_len(&transaction["account_deployment_data"]))
                    + poseidon_permutations(calldata)
                    + poseidon_permutations(11);
            } else {
                // Pedersen chain over the calldata, then over about 8 fields.
                self.block_pedersen += calldata as u64 + 1 + 9;
            }
            // Transaction commitment leaf over the hash and the signature.
            self.block_poseidon +=
                poseidon_permutations(1 + array_len(&transaction["signature"]).max(1));
        }

        let mut events = 0u64;
        for receipt in &receipts {
            for event in receipt["events"].as_array().into_iter().flatten() {
                events += 1;
                self.block_poseidon += poseidon_permutations(
                    4 + array_len(&event["keys"]) + array_len(&event["data"]),
                );
            }
            // Receipt leaf over seven fields, and the hash of its L2-to-L1 messages.
            self.block_poseidon += poseidon_permutations(7) + 1;
        }
        // One node per leaf in each height-64 commitment tree (transactions, events,
        // receipts): n - 1 binary nodes and the edge above them.
        self.block_poseidon += 2 * transactions.len() as u64 + events;

        let storage_diffs = diff["storage_diffs"].as_object();
        let storage_entries: usize = storage_diffs
            .map(|diffs| diffs.values().map(array_len).sum())
            .unwrap_or(0);
        let deployed =
            array_len(&diff["deployed_contracts"]) + array_len(&diff["replaced_classes"]);
        let declared = array_len(&diff["declared_classes"]);
        let nonces = diff["nonces"].as_object().map_or(0, |nonces| nonces.len());
        let contracts_with_storage = storage_diffs.map_or(0, |diffs| diffs.len());
        let state_diff_elements = 6
            + 2 * deployed
            + 2 * declared
            + array_len(&diff["old_declared_contracts"])
            + 2 * contracts_with_storage
            + 2 * storage_entries
            + 2 * nonces;
        // State-diff commitment, block hash with its gas-price hash, global state root.
        self.block_poseidon += poseidon_permutations(state_diff_elements) + 12 + 2;
        // One classes-trie leaf per declared class; its nodes are counted from storage.
        self.block_poseidon += declared as u64;

        let mut changed_contracts: HashSet<String> = HashSet::new();
        if let Some(diffs) = storage_diffs {
            changed_contracts.extend(diffs.keys().cloned());
        }
        if let Some(nonces) = diff["nonces"].as_object() {
            changed_contracts.extend(nonces.keys().cloned());
        }
        for folder in ["deployed_contracts", "replaced_classes"] {
            for item in diff[folder].as_array().into_iter().flatten() {
                if let Some(address) = item["address"].as_str() {
                    changed_contracts.insert(address.to_owned());
                }
            }
        }
        self.contract_leaf_pedersen += 3 * changed_contracts.len() as u64;
    }
}

#[derive(Debug)]
struct SyncRun {
    fetch_ahead: u64,
    elapsed: Duration,
    peak_rss_kib: u64,
    database_bytes: u64,
    pedersen_trie_nodes: u64,
    poseidon_trie_nodes: u64,
}

/// Syncs the chain into a fresh database and measures the run.
async fn sync_once(chain: &Path, blocks: u64, fetch_ahead: u64) -> SyncRun {
    let work = tempfile::tempdir().expect("temporary directory");
    let db_path = work.path().join("db");
    let log_path = work.path().join("node.log");
    let gateway = ReplayGateway::start(ReplayConfig::new(chain))
        .await
        .expect("replay gateway starts");
    let http_port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();

    let started = Instant::now();
    let mut node = Command::new(env!("CARGO_BIN_EXE_starling"))
        .args(["--network", "sepolia"])
        .arg("--db-path")
        .arg(&db_path)
        .args(["--feeder-gateway-url", &gateway.base_url()])
        .args(["--http", "--http-host", "127.0.0.1", "--http-port"])
        .arg(http_port.to_string())
        .args(["--poll-interval-ms", "100"])
        .args(["--fetch-ahead", &fetch_ahead.to_string()])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(File::create(&log_path).expect("log file"))
        .spawn()
        .expect("starling binary starts");

    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client");
    let url = format!("http://127.0.0.1:{http_port}/");
    let last = blocks - 1;
    let deadline = started + SYNC_TIMEOUT;
    loop {
        if let Some(status) = node.try_wait().expect("node status is readable") {
            panic!(
                "the node exited with {status} during sync; log:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        if Instant::now() > deadline {
            let _ = node.kill();
            panic!("the node did not reach block {last} within {SYNC_TIMEOUT:?}");
        }
        let request = json!({"jsonrpc": "2.0", "method": "starknet_blockNumber", "id": 1});
        let head = match http.post(&url).json(&request).send().await {
            Ok(response) => response.json::<Value>().await.ok(),
            Err(_) => None,
        };
        if head.is_some_and(|head| head["result"] == json!(last)) {
            break;
        }
        tokio::time::sleep(HEAD_POLL_INTERVAL).await;
    }
    let elapsed = started.elapsed();
    let peak_rss_kib = peak_rss_kib(node.id());

    // SIGTERM lets the node close RocksDB cleanly before the database is measured.
    let _ = Command::new("kill")
        .args(["-TERM", &node.id().to_string()])
        .status();
    if wait_with_timeout(&mut node, SHUTDOWN_TIMEOUT).is_none() {
        eprintln!("the node did not exit within {SHUTDOWN_TIMEOUT:?} of SIGTERM; killed it");
    }
    gateway.shutdown().await;

    let (pedersen_trie_nodes, poseidon_trie_nodes) = trie_node_counts(&db_path);
    SyncRun {
        fetch_ahead,
        elapsed,
        peak_rss_kib,
        database_bytes: directory_size(&db_path),
        pedersen_trie_nodes,
        poseidon_trie_nodes,
    }
}

/// Reads the peak resident set size (`VmHWM`) of a running process, in KiB; 0 where
/// `/proc` does not have it.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn directory_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => directory_size(&entry.path()),
            Ok(metadata) => metadata.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Counts the keys of the two trie-node column families of a closed database.
fn trie_node_counts(db_path: &Path) -> (u64, u64) {
    let options = rocksdb::Options::default();
    let families = rocksdb::DB::list_cf(&options, db_path).expect("column families are listed");
    let db = rocksdb::DB::open_cf_for_read_only(&options, db_path, &families, false)
        .expect("database opens read-only");
    let count = |name: &str| {
        let family = db.cf_handle(name).expect("trie column family exists");
        let mut nodes = 0u64;
        for item in db.iterator_cf(family, rocksdb::IteratorMode::Start) {
            item.expect("trie node is readable");
            nodes += 1;
        }
        nodes
    };
    (count(PEDERSEN_TRIE_NODES), count(POSEIDON_TRIE_NODES))
}
