//! Crash safety: the real node is killed with SIGKILL at random instants while it syncs a
//! synthetic chain from a replay gateway on 127.0.0.1. After every kill the database
//! must pass `starling db verify`, and the next start must resume at head + 1 without
//! fetching a stored block again.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use starling_storage::Storage;
use support::{canonical_felt, read_json, start_gateway, Node};

const BLOCKS: u64 = 200;
const KILLS: usize = 20;
/// Bounds of the time between a start and its SIGKILL, in milliseconds.
const MIN_KILL_DELAY_MS: u64 = 50;
const MAX_KILL_DELAY_MS: u64 = 700;
const SEED: u64 = 0x5eed_c4a5;

/// SplitMix64: enough to spread kill instants reproducibly.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn stored_head(db_path: &Path) -> Option<u64> {
    if !db_path.join("CURRENT").exists() {
        return None;
    }
    let storage = Storage::open_read_only(db_path).expect("database opens read-only");
    storage.head().unwrap().map(|(number, _)| number.get())
}

fn db_verify(db_path: &Path, round: usize) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_starling"))
        .args(["db", "verify", "--db-path"])
        .arg(db_path)
        .output()
        .expect("starling binary starts");
    assert!(
        output.status.success(),
        "round {round}: db verify failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loop_keeps_database_consistent() {
    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let chain = work.path().join("chain");
    support::synth_chain(&chain, BLOCKS, 4242, &[]);

    let gateway = start_gateway(&chain, 0, None, None).await;
    let db_path = work.path().join("db");
    let mut random = SplitMix64(SEED);
    let mut head: Option<u64> = None;

    for round in 0..KILLS {
        let stored_count = head.map_or(0, |head| head + 1);
        let fetches_before: Vec<u64> = (0..stored_count)
            .map(|number| gateway.block_request_count("get_state_update", number))
            .collect();

        let log_path = work.path().join(format!("node-{round}.log"));
        let mut node = Node::start("sepolia", &db_path, &gateway.base_url(), &log_path);
        if round == 0 {
            // A kill before the database exists would leave nothing to verify.
            node.wait_for_log("database opened", Duration::from_secs(10))
                .await;
        }
        let delay = MIN_KILL_DELAY_MS + random.next() % (MAX_KILL_DELAY_MS - MIN_KILL_DELAY_MS + 1);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        node.kill();

        for number in 0..stored_count {
            assert_eq!(
                gateway.block_request_count("get_state_update", number),
                fetches_before[number as usize],
                "round {round}: block {number} was fetched again after a restart at head {head:?}"
            );
        }

        let verified = db_verify(&db_path, round);
        let new_head = stored_head(&db_path);
        assert!(
            new_head >= head,
            "round {round}: head went back from {head:?} to {new_head:?}"
        );
        eprintln!(
            "round {round}: killed after {delay} ms, head {head:?} -> {new_head:?} ({})",
            verified.trim()
        );
        head = new_head;
    }

    // The last start runs to the end of the chain.
    let stored_count = head.map_or(0, |head| head + 1);
    let fetches_before: Vec<u64> = (0..stored_count)
        .map(|number| gateway.block_request_count("get_state_update", number))
        .collect();
    let node = Node::start(
        "sepolia",
        &db_path,
        &gateway.base_url(),
        &work.path().join("node-final.log"),
    );
    let mut client = node.connect().await;
    let last = BLOCKS - 1;
    client.wait_for_head(last, Duration::from_secs(60)).await;
    for number in 0..stored_count {
        assert_eq!(
            gateway.block_request_count("get_state_update", number),
            fetches_before[number as usize],
            "final run: block {number} was fetched again after a restart at head {head:?}"
        );
    }

    let served = client.call("starknet_blockHashAndNumber", json!([])).await;
    let recorded = read_json(&chain.join(format!("block/{last}.json")));
    assert_eq!(
        served["result"],
        json!({"block_hash": canonical_felt(&recorded["block_hash"]), "block_number": last}),
        "{served}"
    );
    drop(client);
    drop(node);
    gateway.shutdown().await;
    eprintln!("kill loop took {:?}", started.elapsed());
}
