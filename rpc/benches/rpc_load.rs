//! Requests per second and latency of the JSON-RPC server over HTTP/1, measured against a
//! synthetic chain in RocksDB and against a bare hyper server that returns a fixed reply.
//! The bare server is the ceiling of this harness: the same transport and load generator
//! with no JSON-RPC handling. A second bare server runs each request through
//! `spawn_blocking`, as the Starling server does, to show the cost of that hop alone.
//! Prints Markdown tables.
//!
//! Run with `make bench` (or `cargo bench -p starling-rpc --bench rpc_load`). Both
//! servers listen on 127.0.0.1 and the load generator connects only to them. Every run
//! sends a fixed number of requests and stops early at a time cap.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use sha3::{Digest, Keccak256};
use starling_rpc::{Api, RpcContext};
use starling_storage::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// Blocks in the synthetic chain.
const BLOCKS: u64 = 2_000;
const TRANSACTIONS_PER_BLOCK: usize = 4;
/// Accounts that send the transactions, each with a fee-token balance slot.
const ACCOUNTS: usize = 16;
/// Token contracts besides the fee token. Each transaction transfers one of them.
const APP_TOKENS: usize = 4;
/// Balance slots per app token. Each transfer writes two of them.
const SLOTS_PER_TOKEN: usize = 64;

/// Blocks covered by one `getEvents` request. Every transaction emits one fee-token
/// `Transfer`, so the filter matches `TRANSACTIONS_PER_BLOCK` events per block.
const EVENTS_RANGE_BLOCKS: u64 = 20;
const EVENTS_CHUNK_SIZE: u64 = 100;

/// Concurrent clients of each run. Each client keeps one HTTP/1 connection alive.
const CLIENT_COUNTS: [usize; 3] = [1, 16, 64];
/// Requests of one measured run, shared out among its clients. Point reads run at tens of
/// thousands per second on two cores, so a run of 5,000 lasts a few hundred milliseconds.
const REQUESTS_PER_RUN: usize = 5_000;
/// Measured runs of each method at each client count. The table shows the run with the
/// median throughput.
const ROUNDS: usize = 3;
/// A run stops issuing requests after this long, even if it has not sent them all.
const RUN_TIME_CAP: Duration = Duration::from_secs(10);
/// A request without a complete response after this long fails the benchmark.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Unrecorded requests per method at 16 clients before its measured runs.
const WARMUP_REQUESTS: usize = 500;
/// Requests per method whose results are compared with the chain before any timing.
const CHECKED_REQUESTS: usize = 50;
/// Calls per method timed directly on `handle_message`, without HTTP.
const HANDLER_CALLS: usize = 2_000;

/// Every Starling request goes to the v0.8 API.
const API_PATH: &str = "/rpc/v0_8";
/// The bare server's reply to every request.
const ECHO_REPLY: &[u8] = br#"{"jsonrpc":"2.0","id":1,"result":"0x7cf"}"#;

fn main() -> anyhow::Result<()> {
    // Arguments, such as the `--bench` that `cargo bench` passes, are ignored.
    eprintln!("building a chain of {BLOCKS} blocks in a temporary RocksDB");
    let dir = tempfile::tempdir().context("failed to create a temporary directory")?;
    let chain_info = ChainInfo {
        network: "sepolia".into(),
        chain_id: ChainId::SEPOLIA,
    };
    let storage =
        Storage::open(dir.path(), chain_info.clone()).context("failed to open the database")?;
    let build_start = Instant::now();
    let chain = Arc::new(ChainBuilder::new(0x5747_4c49_4e47).build(&storage)?);
    let build_time = build_start.elapsed();
    // The whole chain still fits in RocksDB's memtables. Reopening flushes them to SST
    // files, because RocksDB flushes the write-ahead log it recovers at open. Reads then
    // go through SST files and the block cache, as most reads on a synced node do.
    drop(storage);
    let storage = Storage::open(dir.path(), chain_info).context("failed to reopen the database")?;
    let size_on_disk = storage.size_on_disk()?;
    let context = RpcContext::new(storage);

    // The servers get a runtime like the node's (a multi-threaded one with a worker per
    // core). The load generator runs on one thread of its own, so that it needs at most
    // one core.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rpc-server")
        .build()?;
    let servers = Servers {
        starling: start_starling(&server_runtime, context.clone())?,
        echo: start_echo(&server_runtime, false)?,
        echo_via_blocking_pool: start_echo(&server_runtime, true)?,
    };
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    let (cores, cpu) = machine();
    println!("Machine: {cores} cores (`nproc`), {cpu}.");
    println!(
        "Database: {BLOCKS} blocks, {} transactions, {} events, {} storage writes to {} slots, {:.1} MiB on disk, built in {:.1} s.",
        chain.transaction_hashes.len(),
        chain.event_count,
        chain.storage_write_count,
        chain.slots.len(),
        size_on_disk as f64 / (1 << 20) as f64,
        build_time.as_secs_f64()
    );
    println!(
        "Requests: v0.8 API; getStorageAt reads a random written slot; getEvents asks for the fee token's Transfer events in {EVENTS_RANGE_BLOCKS} consecutive blocks with chunk_size {EVENTS_CHUNK_SIZE} and gets {} events.",
        EVENTS_RANGE_BLOCKS as usize * TRANSACTIONS_PER_BLOCK
    );
    println!();

    let runs = client_runtime.block_on(measure(&servers, &chain))?;
    print_http_table(&runs, cores);
    println!();
    print_handler_table(&context, &chain)?;

    server_runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// The runs of one method at one client count.
struct Runs {
    target: Target,
    clients: usize,
    results: Vec<RunResult>,
}

/// Checks each target's results, warms it up, then measures every target at every
/// client count `ROUNDS` times. Rounds go over all targets in turn, so that a burst of
/// load from elsewhere on the machine spoils one run of several targets rather than
/// every run of one.
async fn measure(servers: &Servers, chain: &Arc<Chain>) -> anyhow::Result<Vec<Runs>> {
    for target in Target::ALL {
        let address = servers.address(target);
        eprintln!("checking results of {}", target.label());
        check_results(target, address, chain).await?;
        run(target, address, chain, 16, WARMUP_REQUESTS).await?;
    }

    let mut runs: Vec<Runs> = Target::ALL
        .into_iter()
        .flat_map(|target| {
            CLIENT_COUNTS.map(|clients| Runs {
                target,
                clients,
                results: Vec::new(),
            })
        })
        .collect();
    for round in 1..=ROUNDS {
        eprintln!("round {round} of {ROUNDS}");
        for entry in &mut runs {
            let address = servers.address(entry.target);
            let result = run(
                entry.target,
                address,
                chain,
                entry.clients,
                REQUESTS_PER_RUN,
            )
            .await?;
            entry.results.push(result);
        }
    }
    Ok(runs)
}

/// Prints, for each method and client count, the run with the median throughput, and
/// the range of throughput over all runs. The CPU column is the process's CPU time over
/// the run's wall time, load generator included.
fn print_http_table(runs: &[Runs], cores: usize) {
    println!(
        "| method | clients | requests/s (median of {ROUNDS} runs) | requests/s, range | p50 (ms) | p99 (ms) | CPU busy (% of {cores} cores) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut capped = Vec::new();
    for entry in runs {
        let mut results: Vec<&RunResult> = entry.results.iter().collect();
        results.sort_by(|a, b| a.throughput().total_cmp(&b.throughput()));
        let median = results[results.len() / 2];
        let slowest = results[0].throughput();
        let fastest = results[results.len() - 1].throughput();
        println!(
            "| {} | {} | {:.0} | {slowest:.0} to {fastest:.0} | {:.3} | {:.3} | {:.0} |",
            entry.target.label(),
            entry.clients,
            median.throughput(),
            millis(percentile(&median.latencies, 0.50)),
            millis(percentile(&median.latencies, 0.99)),
            100.0 * median.cpu.as_secs_f64() / (median.elapsed.as_secs_f64() * cores as f64),
        );
        for result in &entry.results {
            if result.latencies.len() < REQUESTS_PER_RUN {
                capped.push((entry.target, entry.clients, result.latencies.len()));
            }
        }
    }
    for (target, clients, completed) in capped {
        println!(
            "\nA run of {} at {clients} clients reached the {} s cap after {completed} of {REQUESTS_PER_RUN} requests.",
            target.label(),
            RUN_TIME_CAP.as_secs()
        );
    }
}

/// Times each Starling method on the router alone and prints the latencies.
fn print_handler_table(context: &RpcContext, chain: &Chain) -> anyhow::Result<()> {
    println!("| method | handler alone, p50 (µs) | handler alone, p99 (µs) |");
    println!("| --- | ---: | ---: |");
    for target in Target::ALL {
        if target.is_echo() {
            continue;
        }
        let mut latencies = time_handler(context, target, chain)?;
        latencies.sort_unstable();
        println!(
            "| {} | {:.1} | {:.1} |",
            target.label(),
            micros(percentile(&latencies, 0.50)),
            micros(percentile(&latencies, 0.99)),
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The synthetic chain
// ---------------------------------------------------------------------------------------

/// Facts about the committed chain that the load generator uses to build requests and
/// check their results.
struct Chain {
    block_hashes: Vec<BlockHash>,
    /// All transaction hashes in chain order. Those of block n start at index
    /// n · `TRANSACTIONS_PER_BLOCK`.
    transaction_hashes: Vec<TransactionHash>,
    slots: Vec<SlotHistory>,
    fee_token: ContractAddress,
    /// `sn_keccak("Transfer")`, the first key of every transfer event.
    transfer_key: Felt,
    event_count: usize,
    storage_write_count: usize,
}

/// One written storage slot and every value written to it, in block order.
struct SlotHistory {
    contract: ContractAddress,
    key: StorageKey,
    writes: Vec<(u64, Felt)>,
}

impl SlotHistory {
    /// Returns the slot's value after block `number`, or zero before its first write.
    fn value_at(&self, number: u64) -> Felt {
        self.writes
            .iter()
            .take_while(|(block, _)| *block <= number)
            .last()
            .map_or(Felt::ZERO, |(_, value)| *value)
    }
}

/// Generates the blocks from a seeded random source, so that every run commits the same
/// chain.
///
/// Block 0 deploys the accounts and the tokens. In every block, each transaction comes
/// from a random account, bumps its nonce, transfers an app token between two of the
/// token's balance slots and pays a fee to the sequencer in the fee token. It emits an app
/// `Transfer` and a fee `Transfer`. Transactions alternate between INVOKE v3 and v1.
struct ChainBuilder {
    rng: StdRng,
    accounts: Vec<ContractAddress>,
    fee_token: ContractAddress,
    app_tokens: Vec<ContractAddress>,
    sequencer: ContractAddress,
    /// Fee-token balance slot of each account, and the sequencer's last.
    fee_slots: Vec<StorageKey>,
    /// Balance slots of each app token.
    app_slots: Vec<Vec<StorageKey>>,
    nonces: Vec<u64>,
    transfer_key: Felt,
    /// Entry point selector of `transfer`, called by every transaction.
    transfer_selector: Felt,
}

impl ChainBuilder {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut addresses = |count: usize| -> Vec<ContractAddress> {
            (0..count)
                .map(|_| ContractAddress(random_felt(&mut rng)))
                .collect()
        };
        let accounts = addresses(ACCOUNTS);
        let app_tokens = addresses(APP_TOKENS);
        let fee_token = addresses(1)[0];
        let sequencer = addresses(1)[0];
        let fee_slots = (0..=ACCOUNTS)
            .map(|_| StorageKey(random_felt(&mut rng)))
            .collect();
        let app_slots = (0..APP_TOKENS)
            .map(|_| {
                (0..SLOTS_PER_TOKEN)
                    .map(|_| StorageKey(random_felt(&mut rng)))
                    .collect()
            })
            .collect();
        Self {
            rng,
            accounts,
            fee_token,
            app_tokens,
            sequencer,
            fee_slots,
            app_slots,
            nonces: vec![0; ACCOUNTS],
            transfer_key: starknet_keccak(b"Transfer"),
            transfer_selector: starknet_keccak(b"transfer"),
        }
    }

    /// Commits blocks 0 to `BLOCKS - 1` through the storage writer.
    fn build(mut self, storage: &Storage) -> anyhow::Result<Chain> {
        let mut writer = storage.writer()?;
        let mut chain = Chain {
            block_hashes: Vec::new(),
            transaction_hashes: Vec::new(),
            slots: Vec::new(),
            fee_token: self.fee_token,
            transfer_key: self.transfer_key,
            event_count: 0,
            storage_write_count: 0,
        };
        let mut slot_indexes: HashMap<(ContractAddress, StorageKey), usize> = HashMap::new();

        for number in 0..BLOCKS {
            let mut block = self.block(number);
            let head = writer.head();
            block.header.parent_hash = head.map_or(BlockHash::ZERO, |(_, hash)| hash);
            block.state_commitment = storage
                .compute_state_commitment(head.map(|(number, _)| number), &block.state_diff)
                .with_context(|| {
                    format!("failed to compute the state commitment of block {number}")
                })?;
            block.header.state_root = block.state_commitment.roots.global_root();

            chain.block_hashes.push(block.header.hash);
            chain.transaction_hashes.extend(
                block
                    .transactions
                    .iter()
                    .map(|transaction| transaction.hash),
            );
            chain.event_count += block.header.event_count as usize;
            for contract in &block.state_diff.storage_diffs {
                for entry in &contract.entries {
                    let index = *slot_indexes
                        .entry((contract.address, entry.key))
                        .or_insert_with(|| {
                            chain.slots.push(SlotHistory {
                                contract: contract.address,
                                key: entry.key,
                                writes: Vec::new(),
                            });
                            chain.slots.len() - 1
                        });
                    chain.slots[index].writes.push((number, entry.value));
                    chain.storage_write_count += 1;
                }
            }

            writer
                .commit(block)
                .with_context(|| format!("failed to commit block {number}"))?;
        }
        Ok(chain)
    }

    /// Builds block `number` without its parent hash, state root and state commitment,
    /// which depend on the stored chain.
    fn block(&mut self, number: u64) -> BlockCommit {
        let mut storage_writes: BTreeMap<ContractAddress, BTreeMap<StorageKey, Felt>> =
            BTreeMap::new();
        let mut senders = Vec::new();
        let mut transactions = Vec::with_capacity(TRANSACTIONS_PER_BLOCK);
        let mut receipts = Vec::with_capacity(TRANSACTIONS_PER_BLOCK);
        for index in 0..TRANSACTIONS_PER_BLOCK {
            let (transaction, receipt, sender) = self.transaction(index, &mut storage_writes);
            transactions.push(transaction);
            receipts.push(receipt);
            senders.push(sender);
        }
        let sequencer_balance = Felt::from(self.rng.random::<u64>());
        storage_writes
            .entry(self.fee_token)
            .or_default()
            .insert(self.fee_slots[ACCOUNTS], sequencer_balance);

        senders.sort_unstable();
        senders.dedup();
        let state_diff = StateDiff {
            storage_diffs: storage_writes
                .into_iter()
                .map(|(address, entries)| ContractStorageDiff {
                    address,
                    entries: entries
                        .into_iter()
                        .map(|(key, value)| StorageEntry { key, value })
                        .collect(),
                })
                .collect(),
            nonces: senders
                .into_iter()
                .map(|sender| NonceUpdate {
                    contract_address: self.accounts[sender],
                    nonce: Felt::from(self.nonces[sender]),
                })
                .collect(),
            deployed_contracts: if number == 0 {
                self.deployments()
            } else {
                vec![]
            },
            ..StateDiff::default()
        };

        let header = self.header(number, &receipts, &state_diff);
        BlockCommit {
            header,
            transactions,
            receipts,
            state_diff,
            new_classes: vec![],
            state_commitment: StateCommitmentUpdate::default(),
        }
    }

    /// Builds transaction `index` of a block with its receipt, records its storage writes
    /// and returns the index of its sender.
    fn transaction(
        &mut self,
        index: usize,
        storage_writes: &mut BTreeMap<ContractAddress, BTreeMap<StorageKey, Felt>>,
    ) -> (Transaction, Receipt, usize) {
        let rng = &mut self.rng;
        let sender = rng.random_range(0..ACCOUNTS);
        let recipient = self.accounts[rng.random_range(0..ACCOUNTS)];
        let token = rng.random_range(0..APP_TOKENS);
        let amount = Felt::from(rng.random_range(1..1_000_000_000u64));
        let fee = Felt::from(rng.random_range(10_000..10_000_000u64));
        let nonce = Felt::from(self.nonces[sender]);
        self.nonces[sender] += 1;

        let sender_address = self.accounts[sender];
        let token_address = self.app_tokens[token];
        // An account's `__execute__` calldata for one call: call count, target, selector,
        // then the call's calldata with its length.
        let calldata = vec![
            Felt::ONE,
            token_address.0,
            self.transfer_selector,
            Felt::THREE,
            recipient.0,
            amount,
            Felt::ZERO,
        ];
        let signature = vec![random_felt(rng), random_felt(rng)];
        let variant = if index % 2 == 0 {
            let bounds = |max_amount: u64, max_price_per_unit: u128| ResourceBounds {
                max_amount,
                max_price_per_unit,
            };
            TransactionVariant::InvokeV3(InvokeTransactionV3 {
                sender_address,
                calldata,
                signature,
                nonce,
                resource_bounds: ResourceBoundsMapping {
                    l1_gas: bounds(0, 0x5af3107a4000),
                    l2_gas: bounds(0x1000000, 0x2cb417800),
                    l1_data_gas: Some(bounds(0x400, 0x1b9aca00)),
                },
                tip: 0,
                paymaster_data: vec![],
                account_deployment_data: vec![],
                nonce_data_availability_mode: DataAvailabilityMode::L1,
                fee_data_availability_mode: DataAvailabilityMode::L1,
                proof_facts: vec![],
            })
        } else {
            TransactionVariant::InvokeV1(InvokeTransactionV1 {
                sender_address,
                calldata,
                max_fee: Felt::from(0x2386f26fc10000u64),
                signature,
                nonce,
            })
        };
        let hash = TransactionHash(random_felt(rng));

        let [from_slot, to_slot] = [0, 1].map(|_| rng.random_range(0..SLOTS_PER_TOKEN));
        let token_writes = storage_writes.entry(token_address).or_default();
        for slot in [from_slot, to_slot] {
            let balance = Felt::from(rng.random::<u64>());
            token_writes.insert(self.app_slots[token][slot], balance);
        }
        let sender_fee_balance = Felt::from(rng.random::<u64>());
        storage_writes
            .entry(self.fee_token)
            .or_default()
            .insert(self.fee_slots[sender], sender_fee_balance);

        let events = vec![
            Event {
                from_address: token_address,
                keys: vec![self.transfer_key, sender_address.0, recipient.0],
                data: vec![amount, Felt::ZERO],
            },
            Event {
                from_address: self.fee_token,
                keys: vec![self.transfer_key, sender_address.0, self.sequencer.0],
                data: vec![fee, Felt::ZERO],
            },
        ];
        let steps = rng.random_range(2_000..20_000u64);
        let receipt = Receipt {
            transaction_hash: hash,
            actual_fee: fee,
            execution_status: ExecutionStatus::Succeeded,
            events,
            l2_to_l1_messages: vec![],
            l1_to_l2_consumed_message: None,
            execution_resources: ExecutionResources {
                steps,
                memory_holes: steps / 20,
                builtins: BuiltinCounters {
                    pedersen: 4,
                    range_check: steps / 30,
                    poseidon: 2,
                    ..BuiltinCounters::default()
                },
                data_availability: GasVector {
                    l1_gas: 0,
                    l1_data_gas: 192,
                    l2_gas: 0,
                },
                total_gas_consumed: Some(GasVector {
                    l1_gas: 0,
                    l1_data_gas: 192,
                    l2_gas: steps * 100,
                }),
            },
        };

        let transaction = Transaction { hash, variant };
        (transaction, receipt, sender)
    }

    /// Lists the deployments of block 0: every account and token.
    fn deployments(&mut self) -> Vec<DeployedContract> {
        let account_class = ClassHash(random_felt(&mut self.rng));
        let token_class = ClassHash(random_felt(&mut self.rng));
        let accounts = self.accounts.iter().map(|&address| DeployedContract {
            address,
            class_hash: account_class,
        });
        let tokens = self
            .app_tokens
            .iter()
            .chain([&self.fee_token])
            .map(|&address| DeployedContract {
                address,
                class_hash: token_class,
            });
        accounts.chain(tokens).collect()
    }

    fn header(&mut self, number: u64, receipts: &[Receipt], diff: &StateDiff) -> BlockHeader {
        let rng = &mut self.rng;
        let prices = |wei: u64, fri: u64| GasPrices {
            price_in_wei: Felt::from(wei),
            price_in_fri: Felt::from(fri),
        };
        let state_diff_length: usize = diff
            .storage_diffs
            .iter()
            .map(|contract| contract.entries.len())
            .sum::<usize>()
            + diff.nonces.len()
            + diff.deployed_contracts.len();
        BlockHeader {
            number: BlockNumber(number),
            hash: BlockHash(random_felt(rng)),
            parent_hash: BlockHash::ZERO,
            state_root: Felt::ZERO,
            timestamp: 1_735_000_000 + number * 6,
            sequencer_address: self.sequencer,
            l1_gas_price: prices(0x3b9aca00, 0x5d21dba000),
            l1_data_gas_price: prices(0x1, 0x2),
            l2_gas_price: prices(0x1dcd650, 0x2cb417800),
            l1_da_mode: L1DataAvailabilityMode::Blob,
            starknet_version: "0.13.4".into(),
            status: BlockStatus::AcceptedOnL2,
            transaction_count: receipts.len() as u64,
            event_count: receipts.iter().map(|r| r.events.len() as u64).sum(),
            transaction_commitment: Some(random_felt(rng)),
            event_commitment: Some(random_felt(rng)),
            receipt_commitment: Some(random_felt(rng)),
            state_diff_commitment: Some(random_felt(rng)),
            state_diff_length: Some(state_diff_length as u64),
        }
    }
}

/// Returns a random felt below 2^250, the shape of hashes, addresses and storage keys.
fn random_felt(rng: &mut StdRng) -> Felt {
    let mut bytes: [u8; 32] = rng.random();
    bytes[0] &= 0x03;
    Felt::from_bytes_be(&bytes)
}

/// Starknet's `sn_keccak`: Keccak-256 truncated to 250 bits, as used for selectors and
/// event keys.
fn starknet_keccak(name: &[u8]) -> Felt {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&Keccak256::digest(name));
    bytes[0] &= 0x03;
    Felt::from_bytes_be(&bytes)
}

// ---------------------------------------------------------------------------------------
// Requests and the checks of their results
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    BlockWithTxHashes,
    StorageAtLatest,
    StorageAtOldBlock,
    TransactionReceipt,
    Events,
    Echo,
    EchoViaBlockingPool,
}

impl Target {
    const ALL: [Target; 7] = [
        Target::BlockWithTxHashes,
        Target::StorageAtLatest,
        Target::StorageAtOldBlock,
        Target::TransactionReceipt,
        Target::Events,
        Target::Echo,
        Target::EchoViaBlockingPool,
    ];

    fn is_echo(self) -> bool {
        matches!(self, Target::Echo | Target::EchoViaBlockingPool)
    }

    fn label(self) -> &'static str {
        match self {
            Target::BlockWithTxHashes => "getBlockWithTxHashes, random block",
            Target::StorageAtLatest => "getStorageAt, latest",
            Target::StorageAtOldBlock => "getStorageAt, random block in the older half",
            Target::TransactionReceipt => "getTransactionReceipt, random transaction",
            Target::Events => "getEvents, address + key filter",
            Target::Echo => "bare hyper server, fixed reply (ceiling)",
            Target::EchoViaBlockingPool => "bare hyper server, fixed reply via spawn_blocking",
        }
    }

    /// Builds a random request body and the result it must get.
    fn request(self, chain: &Chain, rng: &mut StdRng) -> (String, Expected) {
        match self {
            Target::BlockWithTxHashes => {
                let number = rng.random_range(0..BLOCKS);
                let body = request_body(
                    "starknet_getBlockWithTxHashes",
                    &format!(r#"[{{"block_number":{number}}}]"#),
                );
                (body, Expected::Block(number))
            }
            Target::StorageAtLatest | Target::StorageAtOldBlock => {
                let slot = &chain.slots[rng.random_range(0..chain.slots.len())];
                let (block_id, number) = if self == Target::StorageAtLatest {
                    (r#""latest""#.to_string(), BLOCKS - 1)
                } else {
                    let number = rng.random_range(0..BLOCKS / 2);
                    (format!(r#"{{"block_number":{number}}}"#), number)
                };
                let params = format!(
                    r#"["{:#x}","{:#x}",{block_id}]"#,
                    slot.contract.0, slot.key.0
                );
                let body = request_body("starknet_getStorageAt", &params);
                (body, Expected::Value(slot.value_at(number)))
            }
            Target::TransactionReceipt => {
                let index = rng.random_range(0..chain.transaction_hashes.len());
                let hash = chain.transaction_hashes[index];
                let body = request_body(
                    "starknet_getTransactionReceipt",
                    &format!(r#"["{:#x}"]"#, hash.0),
                );
                let block = (index / TRANSACTIONS_PER_BLOCK) as u64;
                (body, Expected::Receipt { hash, block })
            }
            Target::Events => {
                let from = rng.random_range(0..=BLOCKS - EVENTS_RANGE_BLOCKS);
                let to = from + EVENTS_RANGE_BLOCKS - 1;
                let params = format!(
                    r#"[{{"from_block":{{"block_number":{from}}},"to_block":{{"block_number":{to}}},"address":"{:#x}","keys":[["{:#x}"]],"chunk_size":{EVENTS_CHUNK_SIZE}}}]"#,
                    chain.fee_token.0, chain.transfer_key
                );
                let body = request_body("starknet_getEvents", &params);
                let count = EVENTS_RANGE_BLOCKS as usize * TRANSACTIONS_PER_BLOCK;
                (body, Expected::EventCount(count))
            }
            Target::Echo | Target::EchoViaBlockingPool => (
                request_body("starknet_blockNumber", "[]"),
                Expected::AnyResult,
            ),
        }
    }
}

fn request_body(method: &str, params: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#)
}

/// The result a request must get, checked by [`check_results`] before the timed runs.
#[derive(Debug)]
enum Expected {
    /// The block with this number, its hash and its transaction hashes.
    Block(u64),
    /// This storage value.
    Value(Felt),
    Receipt {
        hash: TransactionHash,
        block: u64,
    },
    /// This many events and no continuation token.
    EventCount(usize),
    AnyResult,
}

impl Expected {
    fn check(&self, chain: &Chain, result: &Value) -> anyhow::Result<()> {
        match self {
            Expected::Block(number) => {
                let number = *number;
                ensure!(
                    result["block_number"] == number,
                    "expected block_number {number}"
                );
                let hash = chain.block_hashes[number as usize];
                ensure!(
                    felt(&result["block_hash"])? == hash.0,
                    "expected block_hash {hash}"
                );
                let first = number as usize * TRANSACTIONS_PER_BLOCK;
                let expected = &chain.transaction_hashes[first..first + TRANSACTIONS_PER_BLOCK];
                let returned = result["transactions"]
                    .as_array()
                    .context("transactions is not an array")?
                    .iter()
                    .map(felt)
                    .collect::<anyhow::Result<Vec<Felt>>>()?;
                let expected: Vec<Felt> = expected.iter().map(|hash| hash.0).collect();
                ensure!(
                    returned == expected,
                    "expected the transaction hashes of block {number}"
                );
            }
            Expected::Value(value) => {
                ensure!(felt(result)? == *value, "expected the value {value:#x}");
            }
            Expected::Receipt { hash, block } => {
                ensure!(
                    felt(&result["transaction_hash"])? == hash.0,
                    "expected transaction_hash {hash}"
                );
                ensure!(
                    result["block_number"] == *block,
                    "expected block_number {block}"
                );
                let events = result["events"]
                    .as_array()
                    .context("events is not an array")?;
                ensure!(events.len() == 2, "expected 2 events, got {}", events.len());
            }
            Expected::EventCount(count) => {
                let events = result["events"]
                    .as_array()
                    .context("events is not an array")?;
                ensure!(
                    events.len() == *count,
                    "expected {count} events, got {}",
                    events.len()
                );
                ensure!(
                    result.get("continuation_token").is_none_or(Value::is_null),
                    "expected no continuation token"
                );
            }
            Expected::AnyResult => {}
        }
        Ok(())
    }
}

fn felt(value: &Value) -> anyhow::Result<Felt> {
    let text = value
        .as_str()
        .with_context(|| format!("{value} is not a felt string"))?;
    Felt::from_hex(text).with_context(|| format!("{text} is not a hex felt"))
}

/// The two members of a JSON-RPC response that tell a result from an error.
#[derive(Deserialize)]
struct Reply<'a> {
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
}

/// Checks that `body` is a JSON-RPC response with a result and no error.
fn check_is_result(target: Target, body: &[u8]) -> anyhow::Result<()> {
    let reply: Reply = serde_json::from_slice(body).with_context(|| {
        format!(
            "{} returned invalid JSON: {}",
            target.label(),
            String::from_utf8_lossy(body)
        )
    })?;
    if let Some(error) = reply.error {
        bail!("{} returned an error: {error}", target.label());
    }
    if reply.result.is_none() {
        bail!(
            "{} returned no result: {}",
            target.label(),
            String::from_utf8_lossy(body)
        );
    }
    Ok(())
}

/// Sends `CHECKED_REQUESTS` requests one by one and compares each result with the chain,
/// so that no timed run measures wrong results.
async fn check_results(target: Target, address: SocketAddr, chain: &Chain) -> anyhow::Result<()> {
    let mut client = Client::connect(address).await?;
    let mut rng = StdRng::seed_from_u64(0xc0ffee);
    for _ in 0..CHECKED_REQUESTS {
        let (body, expected) = target.request(chain, &mut rng);
        let reply = client.post(body.clone()).await?;
        check_is_result(target, &reply)?;
        let reply: Value = serde_json::from_slice(&reply)?;
        expected
            .check(chain, &reply["result"])
            .with_context(|| format!("wrong result for {body}: {}", reply["result"]))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Servers and the load generator
// ---------------------------------------------------------------------------------------

struct Servers {
    starling: SocketAddr,
    echo: SocketAddr,
    echo_via_blocking_pool: SocketAddr,
}

impl Servers {
    fn address(&self, target: Target) -> SocketAddr {
        match target {
            Target::Echo => self.echo,
            Target::EchoViaBlockingPool => self.echo_via_blocking_pool,
            _ => self.starling,
        }
    }
}

fn start_starling(runtime: &Runtime, context: RpcContext) -> anyhow::Result<SocketAddr> {
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let address = listener.local_addr()?;
    runtime.spawn(starling_rpc::http::serve(listener, context));
    Ok(address)
}

/// Starts a hyper HTTP/1 server that reads each request body and returns `ECHO_REPLY`,
/// with the same connection settings as the Starling server. With `via_blocking_pool`
/// the reply comes from a `spawn_blocking` task, the hop the Starling server makes to
/// run its handler.
fn start_echo(runtime: &Runtime, via_blocking_pool: bool) -> anyhow::Result<SocketAddr> {
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let address = listener.local_addr()?;
    runtime.spawn(async move {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    eprintln!("echo server: accept failed: {error}");
                    continue;
                }
            };
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| async move {
                    let _ = request.into_body().collect().await;
                    let reply = if via_blocking_pool {
                        tokio::task::spawn_blocking(|| ECHO_REPLY)
                            .await
                            .expect("the blocking task returns")
                    } else {
                        ECHO_REPLY
                    };
                    let response = Response::builder()
                        .header(CONTENT_TYPE, "application/json")
                        .body(Full::new(Bytes::from_static(reply)))
                        .expect("valid response");
                    Ok::<_, Infallible>(response)
                });
                // A client closing its connection at the end of a run is not an error.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(address)
}

/// One client: a single HTTP/1 connection, kept alive across its requests.
struct Client {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Client {
    async fn connect(address: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("failed to connect to {address}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .with_context(|| format!("HTTP handshake with {address} failed"))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                eprintln!("client connection to {address} failed: {error}");
            }
        });
        Ok(Self {
            sender,
            host: address.to_string(),
        })
    }

    /// Posts `body` to `API_PATH` and returns the response body. A status other than
    /// 200, or no complete response within `REQUEST_TIMEOUT`, is an error.
    async fn post(&mut self, body: String) -> anyhow::Result<Bytes> {
        let exchange = async {
            self.sender.ready().await?;
            let request = Request::builder()
                .method(Method::POST)
                .uri(API_PATH)
                .header(HOST, &self.host)
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body)))?;
            let response = self.sender.send_request(request).await?;
            let status = response.status();
            let bytes = response.into_body().collect().await?.to_bytes();
            ensure!(
                status == StatusCode::OK,
                "HTTP {status} from {}: {}",
                self.host,
                String::from_utf8_lossy(&bytes)
            );
            anyhow::Ok(bytes)
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .with_context(|| format!("no response from {} within {REQUEST_TIMEOUT:?}", self.host))?
    }
}

struct RunResult {
    elapsed: Duration,
    /// Latency of every completed request, sorted.
    latencies: Vec<Duration>,
    /// CPU time of the whole process during the run: servers and load generator.
    cpu: Duration,
}

impl RunResult {
    /// Completed requests per second.
    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Sends `total` requests from `clients` connections, each waiting for its response
/// before sending the next, and stops issuing requests at `RUN_TIME_CAP`. Any response
/// that is not a JSON-RPC result fails the run.
async fn run(
    target: Target,
    address: SocketAddr,
    chain: &Arc<Chain>,
    clients: usize,
    total: usize,
) -> anyhow::Result<RunResult> {
    // Connections are opened before the clock starts.
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(Client::connect(address).await?);
    }

    let issued = Arc::new(AtomicUsize::new(0));
    let cpu_start = process_cpu_time()?;
    let start = Instant::now();
    let deadline = start + RUN_TIME_CAP;
    let mut tasks = tokio::task::JoinSet::new();
    for (index, mut client) in connections.into_iter().enumerate() {
        let issued = issued.clone();
        let chain = chain.clone();
        let seed = (clients as u64) << 32 | index as u64;
        tasks.spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut latencies = Vec::new();
            while issued.fetch_add(1, Ordering::Relaxed) < total && Instant::now() < deadline {
                let (body, _) = target.request(&chain, &mut rng);
                let sent = Instant::now();
                let reply = client.post(body).await?;
                latencies.push(sent.elapsed());
                check_is_result(target, &reply)?;
            }
            anyhow::Ok(latencies)
        });
    }

    let mut latencies = Vec::with_capacity(total);
    while let Some(joined) = tasks.join_next().await {
        latencies.extend(joined??);
    }
    let elapsed = start.elapsed();
    let cpu = process_cpu_time()?.saturating_sub(cpu_start);
    latencies.sort_unstable();
    Ok(RunResult {
        elapsed,
        latencies,
        cpu,
    })
}

/// Times `HANDLER_CALLS` calls of the router on one thread, without HTTP or the blocking
/// pool, and returns their latencies.
fn time_handler(
    context: &RpcContext,
    target: Target,
    chain: &Chain,
) -> anyhow::Result<Vec<Duration>> {
    let mut rng = StdRng::seed_from_u64(0x4a4e);
    let mut latencies = Vec::with_capacity(HANDLER_CALLS);
    for _ in 0..HANDLER_CALLS {
        let (body, _) = target.request(chain, &mut rng);
        let start = Instant::now();
        let reply = starling_rpc::router::handle_message(context, Api::V0_8, &body, None);
        latencies.push(start.elapsed());
        let reply = reply.context("the router returned no reply")?;
        check_is_result(target, reply.as_bytes())?;
    }
    Ok(latencies)
}

// ---------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------

/// Returns the nearest-rank percentile `quantile` of sorted `latencies`.
fn percentile(latencies: &[Duration], quantile: f64) -> Duration {
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    let rank = (quantile * latencies.len() as f64).ceil() as usize;
    latencies[rank.clamp(1, latencies.len()) - 1]
}

/// Returns the CPU time of this process so far, all threads together, from
/// /proc/self/stat. The kernel counts it in clock ticks, usually 100 per second, so a run
/// of 0.2 s on two cores is measured to within a few percent.
fn process_cpu_time() -> anyhow::Result<Duration> {
    static TICKS_PER_SECOND: OnceLock<f64> = OnceLock::new();
    let ticks_per_second = *TICKS_PER_SECOND.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    });

    let stat =
        std::fs::read_to_string("/proc/self/stat").context("failed to read /proc/self/stat")?;
    // Field 2, the command name, may contain spaces, so fields are counted after its
    // closing parenthesis. That makes utime and stime, fields 14 and 15, the 12th and 13th.
    let (_, after_name) = stat
        .rsplit_once(')')
        .context("no command name in /proc/self/stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> anyhow::Result<u64> {
        let field = fields
            .get(index)
            .with_context(|| format!("/proc/self/stat has no field {}", index + 3))?;
        field
            .parse()
            .with_context(|| format!("invalid CPU time {field:?} in /proc/self/stat"))
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(total as f64 / ticks_per_second))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// Returns the core count that `nproc` prints and the CPU model from /proc/cpuinfo.
/// Without `nproc` the count is the standard library's available parallelism.
fn machine() -> (usize, String) {
    let cores = std::process::Command::new("nproc")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    (cores, cpu)
}
