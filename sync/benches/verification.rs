//! Throughput of the work that bounds sync speed: the Pedersen and Poseidon hash floor,
//! state-trie updates against a real RocksDB, and the verification of each recorded
//! block. Prints a Markdown table.
//!
//! Run with `make bench` (or `cargo bench -p starling-sync --bench verification`).
//! Every loop has a fixed count, so a run takes well under a minute on two cores.

use std::time::{Duration, Instant};

use std::path::PathBuf;

use starknet_types_core::hash::{Pedersen, Poseidon, StarkHash};
use starling_storage::*;
use starling_sync::convert::convert_block;
use starling_sync::gateway::wire::StateUpdateWithBlock;
use starling_sync::verify::verify_block;

/// Hashes timed for the floor: enough for a stable rate, about a second each.
const HASH_COUNT: u32 = 50_000;
/// Blocks of random storage writes applied to the tries.
const TRIE_BLOCKS: u64 = 20;
const CONTRACTS_PER_BLOCK: u64 = 100;
const WRITES_PER_CONTRACT: u64 = 10;
/// Repetitions of each recorded block's verification.
const VERIFY_ROUNDS: u32 = 20;

fn main() {
    // `cargo bench` passes `--bench`; no other arguments are supported.
    println!("| measurement | result |");
    println!("| --- | --- |");

    let pedersen = hashes_per_second(Pedersen::hash);
    println!("| Pedersen hashes per second | {pedersen:.0} |");
    let poseidon = hashes_per_second(Poseidon::hash);
    println!("| Poseidon hashes per second | {poseidon:.0} |");

    let trie = trie_updates();
    println!(
        "| state-trie storage writes per second ({CONTRACTS_PER_BLOCK} contracts x {WRITES_PER_CONTRACT} writes per block, RocksDB, incl. commit) | {:.0} |",
        trie.writes_per_second
    );
    println!(
        "| state-trie time per block of {} writes | {:.1} ms |",
        CONTRACTS_PER_BLOCK * WRITES_PER_CONTRACT,
        trie.per_block.as_secs_f64() * 1000.0
    );
    println!(
        "| new trie nodes per storage write | {:.1} |",
        trie.nodes_per_write
    );

    for (name, chain_id, blocks) in [
        ("mainnet", ChainId::MAINNET, 0..=2),
        ("sepolia", ChainId::SEPOLIA, 0..=7),
    ] {
        for number in blocks {
            match verification_time(name, chain_id, number) {
                Some((transactions, time)) => println!(
                    "| verify {name} block {number} ({transactions} transactions: hashes, commitments, block hash) | {:.2} ms |",
                    time.as_secs_f64() * 1000.0
                ),
                None => println!("| verify {name} block {number} | skipped: recording not found |"),
            }
        }
    }
}

/// Average time of `verify_block` on a recorded block, with its transaction count.
fn verification_time(network: &str, chain_id: ChainId, number: u64) -> Option<(usize, Duration)> {
    let root = std::env::var_os("STARLING_FGW_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fgw")));
    let dir = root.join(network);
    let block = std::fs::read_to_string(dir.join(format!("block/{number}.json"))).ok()?;
    let state_update =
        std::fs::read_to_string(dir.join(format!("state_update/{number}.json"))).ok()?;
    let combined = format!(r#"{{"block": {block}, "state_update": {state_update}}}"#);
    let fetched: StateUpdateWithBlock =
        serde_json::from_str(&combined).expect("recorded block parses");
    let block = convert_block(fetched).expect("recorded block converts");

    let start = Instant::now();
    for _ in 0..VERIFY_ROUNDS {
        verify_block(
            &block.header,
            &block.transactions,
            &block.receipts,
            Some(&block.state_diff),
            chain_id,
        )
        .expect("recorded block verifies");
    }
    Some((block.transactions.len(), start.elapsed() / VERIFY_ROUNDS))
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

struct TrieResult {
    writes_per_second: f64,
    per_block: Duration,
    nodes_per_write: f64,
}

/// Commits blocks whose state diffs write random slots of many contracts, timing the
/// trie computation and the commit together.
fn trie_updates() -> TrieResult {
    let dir = tempfile::tempdir().expect("temporary directory");
    let chain = ChainInfo {
        network: "sepolia".into(),
        chain_id: ChainId::SEPOLIA,
    };
    let storage = Storage::open(dir.path(), chain).expect("database opens");
    let mut writer = storage.writer().expect("writer");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = move || {
        // xorshift64: deterministic and dependency-free.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };

    let mut elapsed = Duration::ZERO;
    let mut nodes = 0usize;
    for number in 0..TRIE_BLOCKS {
        let storage_diffs = (0..CONTRACTS_PER_BLOCK)
            .map(|contract| ContractStorageDiff {
                address: ContractAddress(Felt::from(0x1000 + contract)),
                entries: (0..WRITES_PER_CONTRACT)
                    .map(|_| StorageEntry {
                        key: StorageKey(Felt::from(random()) * Felt::from(random())),
                        value: Felt::from(random()),
                    })
                    .collect(),
            })
            .collect();
        let state_diff = StateDiff {
            storage_diffs,
            ..StateDiff::default()
        };

        let start = Instant::now();
        let head = writer.head();
        let commitment = storage
            .compute_state_commitment(head.map(|(number, _)| number), &state_diff)
            .expect("state commitment");
        nodes += commitment.pedersen_nodes.len();
        let header = synthetic_header(
            number,
            head.map(|(_, hash)| hash),
            commitment.roots.global_root(),
        );
        writer
            .commit(BlockCommit {
                header,
                transactions: vec![],
                receipts: vec![],
                state_diff,
                new_classes: vec![],
                state_commitment: commitment,
            })
            .expect("commit");
        elapsed += start.elapsed();
    }

    let writes = (TRIE_BLOCKS * CONTRACTS_PER_BLOCK * WRITES_PER_CONTRACT) as f64;
    TrieResult {
        writes_per_second: writes / elapsed.as_secs_f64(),
        per_block: elapsed / TRIE_BLOCKS as u32,
        nodes_per_write: nodes as f64 / writes,
    }
}

fn synthetic_header(number: u64, parent: Option<BlockHash>, state_root: Felt) -> BlockHeader {
    BlockHeader {
        number: BlockNumber(number),
        hash: BlockHash(Felt::from(0xb10c_0000 + number)),
        parent_hash: parent.unwrap_or(BlockHash::ZERO),
        state_root,
        timestamp: 1_700_000_000 + number,
        sequencer_address: ContractAddress::ZERO,
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
    }
}
