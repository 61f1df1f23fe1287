//! Synthetic chains: deterministic, fully valid Starknet blocks in the replay gateway's
//! directory layout, for benchmarks and tests that need more blocks than the recordings.
//!
//! [`generate`] writes `blocks` blocks whose every hash, commitment, class hash and state
//! root is computed with the node's own verification and trie code, so a node started
//! with the same network syncs them with every check on. The content is described in
//! [`world`]. The same seed always gives the same bytes. With a [`Divergence`] the chain
//! is the seed's chain up to the divergence block and differs from there on, which makes
//! a fork of the chain without the divergence.
//!
//! Blocks carry no sequencer signature, so the node skips the signature check.

mod assembly;
mod classes;
mod rng;
mod transactions;
mod world;
mod writer;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use starling_storage::{BlockHash, BlockNumber};

use crate::network::Network;
use assembly::ChainAssembler;
use rng::Rng;
use world::World;
use writer::ChainWriter;

pub use world::STARKNET_VERSION;

/// Options of a synthetic chain.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// Number of blocks, counting block 0.
    pub blocks: u64,
    pub seed: u64,
    /// Sets the chain id that transaction and block hashes use.
    pub network: Network,
    pub divergence: Option<Divergence>,
}

/// The point where a chain leaves the chain of its seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// First block that differs; blocks before it are identical.
    pub at: u64,
    /// Seed of the blocks from `at` on.
    pub seed: u64,
}

impl Divergence {
    /// Diverges at `at` with a seed derived from `seed`.
    pub fn derived(at: u64, seed: u64) -> Self {
        Self {
            at,
            seed: seed ^ 0x5eed_f04c_5eed_f04c,
        }
    }
}

/// Totals of a generated chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainSummary {
    pub blocks: u64,
    pub last_block_hash: BlockHash,
    pub last_state_root: starling_storage::Felt,
    pub transactions: u64,
    pub events: u64,
    pub classes: u64,
}

/// Generates a chain into `dir`, which must not contain a chain already. `progress` is
/// called after each block with its number.
pub fn generate(
    dir: &Path,
    options: &SynthOptions,
    mut progress: impl FnMut(BlockNumber),
) -> anyhow::Result<ChainSummary> {
    if options.blocks == 0 {
        anyhow::bail!("the chain needs at least one block; pass a block count of 1 or more");
    }
    if let Some(divergence) = options.divergence {
        if divergence.at == 0 || divergence.at >= options.blocks {
            anyhow::bail!(
                "the fork block {} must be between 1 and {} (the last block), so that both chains share block 0 and differ afterwards",
                divergence.at,
                options.blocks - 1
            );
        }
    }

    let chain_id = options.network.chain_id();
    let writer = ChainWriter::create(dir)?;
    // Block 0 always uses the base seed, so the world drawn from it is shared by a fork.
    let mut world = World::new(options.seed, chain_id)?;
    let mut assembler = ChainAssembler::new(chain_id);
    let mut summary = ChainSummary::default();

    for number in 0..options.blocks {
        let seed = match options.divergence {
            Some(divergence) if number >= divergence.at => divergence.seed,
            _ => options.seed,
        };
        let mut rng = Rng::for_block(seed, number);
        let env = world.block_env(number, &mut rng);
        let content = world.build_block(&env, &mut rng)?;
        let block = assembler.assemble(&env, content)?;
        writer.write_block(&block)?;

        summary.blocks += 1;
        summary.last_block_hash = block.header.hash;
        summary.last_state_root = block.header.state_root;
        summary.transactions += block.header.transaction_count;
        summary.events += block.header.event_count;
        summary.classes += block.content.new_classes.len() as u64;
        progress(block.header.number);
    }
    Ok(summary)
}

/// How often [`run`] logs its progress.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(10);

/// Generates the chain of `options` into `out` and, with `fork` = `(K, dir)`, a second
/// chain into `dir` that shares blocks 0 to K-1 and differs from block K on. Logs
/// progress and the totals of each chain.
pub fn run(out: &Path, options: &SynthOptions, fork: Option<(u64, PathBuf)>) -> anyhow::Result<()> {
    // Checked before the first chain is written, so a bad fork block wastes no time.
    if let Some((at, _)) = &fork {
        if *at == 0 || *at >= options.blocks {
            anyhow::bail!(
                "--fork-at {at} must be between 1 and {} (the last block)",
                options.blocks.saturating_sub(1)
            );
        }
    }
    generate_logged(out, options)?;
    if let Some((at, fork_out)) = fork {
        let fork_options = SynthOptions {
            divergence: Some(Divergence::derived(at, options.seed)),
            ..options.clone()
        };
        generate_logged(&fork_out, &fork_options)?;
    }
    Ok(())
}

fn generate_logged(dir: &Path, options: &SynthOptions) -> anyhow::Result<ChainSummary> {
    let started = Instant::now();
    let mut last_report = Instant::now();
    tracing::info!(
        target: "synth",
        dir = %dir.display(),
        blocks = options.blocks,
        seed = options.seed,
        network = options.network.name(),
        fork_at = options.divergence.map(|divergence| divergence.at),
        "generating synthetic chain"
    );
    let summary = generate(dir, options, |number| {
        if last_report.elapsed() >= PROGRESS_INTERVAL {
            tracing::info!(target: "synth", block_number = %number, "generating");
            last_report = Instant::now();
        }
    })?;
    tracing::info!(
        target: "synth",
        dir = %dir.display(),
        blocks = summary.blocks,
        transactions = summary.transactions,
        events = summary.events,
        classes = summary.classes,
        last_block_hash = %summary.last_block_hash,
        state_root = %format!("{:#x}", summary.last_state_root),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "synthetic chain written"
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use starling_storage::{BlockCommit, ChainId, ClassDefinition, ContractAddress, Felt, Storage};

    use super::*;
    use crate::checks;
    use crate::convert::convert_block;
    use crate::gateway::wire;

    fn options(blocks: u64, seed: u64) -> SynthOptions {
        SynthOptions {
            blocks,
            seed,
            network: Network::Sepolia,
            divergence: None,
        }
    }

    fn read(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    /// Reads block `number` back as the node does: joins the block and state update as
    /// the replay gateway composes them, parses and converts.
    fn read_block(dir: &Path, number: u64) -> crate::convert::ConvertedBlock {
        let block = read(&dir.join(format!("block/{number}.json")));
        let state_update = read(&dir.join(format!("state_update/{number}.json")));
        let joined = format!(
            "{{\"block\": {}, \"state_update\": {}}}",
            String::from_utf8(block).unwrap(),
            String::from_utf8(state_update).unwrap()
        );
        let fetched: wire::StateUpdateWithBlock = serde_json::from_str(&joined).unwrap();
        convert_block(fetched).unwrap()
    }

    /// Runs the node's checks on every block of `dir` and commits them to a fresh
    /// database, as the sync pipeline does. Returns the storage.
    fn sync_offline(dir: &Path, blocks: u64, network: Network, db: &Path) -> Storage {
        let storage = Storage::open(db, network.chain_info()).unwrap();
        let mut writer = storage.writer().unwrap();
        for number in 0..blocks {
            let converted = read_block(dir, number);
            checks::check_links(&converted, BlockNumber(number), writer.head(), &storage)
                .unwrap_or_else(|error| panic!("block {number}: {error}"));

            let mut new_classes = Vec::new();
            for class_hash in converted.state_diff.introduced_class_hashes() {
                if storage.has_class(class_hash).unwrap() {
                    continue;
                }
                let definition = read(&dir.join(format!("class/{class_hash}.json")));
                let kind =
                    crate::classes::class_kind(&definition, class_hash, &converted.state_diff)
                        .unwrap();
                let compiled_path = dir.join(format!("compiled_class/{class_hash}.json"));
                let compiled = compiled_path.exists().then(|| read(&compiled_path));
                new_classes.push(ClassDefinition {
                    hash: class_hash,
                    kind,
                    declared_at: BlockNumber(number),
                    definition,
                    compiled,
                });
            }
            checks::verify_hashes(&converted, &new_classes, network.chain_id())
                .unwrap_or_else(|error| panic!("block {number}: {error}"));
            let state_commitment = checks::verify_state_root(
                &storage,
                &converted,
                writer.head().map(|(number, _)| number),
            )
            .unwrap_or_else(|error| panic!("block {number}: {error}"));
            writer
                .commit(BlockCommit {
                    header: converted.header,
                    transactions: converted.transactions,
                    receipts: converted.receipts,
                    state_diff: converted.state_diff,
                    new_classes,
                    state_commitment,
                })
                .unwrap();
        }
        storage
    }

    #[test]
    fn generated_chain_passes_every_node_check() {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("chain");
        let blocks = DECLARE_TEST_BLOCKS;
        let summary = generate(&dir, &options(blocks, 42), |_| {}).unwrap();
        assert_eq!(summary.blocks, blocks);

        let storage = sync_offline(&dir, blocks, Network::Sepolia, &work.path().join("db"));
        let head = storage.header(BlockNumber(blocks - 1)).unwrap().unwrap();
        assert_eq!(head.hash, summary.last_block_hash);
        assert_eq!(head.state_root, summary.last_state_root);
        assert_eq!(head.starknet_version, STARKNET_VERSION);
    }

    /// Long enough to include the first declaration after the setup blocks.
    const DECLARE_TEST_BLOCKS: u64 = world::DECLARE_INTERVAL + 2;

    #[test]
    fn chain_has_reverts_messages_and_classes() {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("chain");
        let blocks = DECLARE_TEST_BLOCKS;
        generate(&dir, &options(blocks, 7), |_| {}).unwrap();

        let mut reverted = 0;
        let mut messages = 0;
        let mut cairo0_classes = 0;
        let mut sierra_classes = 0;
        for number in 0..blocks {
            let block = read_block(&dir, number);
            for receipt in &block.receipts {
                if matches!(
                    receipt.execution_status,
                    starling_storage::ExecutionStatus::Reverted { .. }
                ) {
                    reverted += 1;
                }
                messages += receipt.l2_to_l1_messages.len();
                assert!(
                    !receipt.events.is_empty(),
                    "every transaction emits a fee transfer"
                );
            }
            cairo0_classes += block.state_diff.deprecated_declared_classes.len();
            sierra_classes += block.state_diff.declared_classes.len();
        }
        assert!(reverted > 0, "no reverted transaction in {blocks} blocks");
        assert!(messages > 0, "no L2-to-L1 message in {blocks} blocks");
        // Genesis: three predeployed Cairo 0 classes and one DECLARE v1, three Sierra
        // classes; block 100 declares one more Sierra class (DECLARE v2).
        assert_eq!(cairo0_classes, 4);
        assert_eq!(sierra_classes, 4);
    }

    #[test]
    fn transaction_kinds_cover_all_versions() {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("chain");
        let blocks = 12;
        generate(&dir, &options(blocks, 9), |_| {}).unwrap();
        let mut names = std::collections::BTreeSet::new();
        for number in 0..blocks {
            for transaction in read_block(&dir, number).transactions {
                let name = match transaction.variant {
                    starling_storage::TransactionVariant::InvokeV1(_) => "INVOKE v1",
                    starling_storage::TransactionVariant::InvokeV3(_) => "INVOKE v3",
                    starling_storage::TransactionVariant::DeclareV1(_) => "DECLARE v1",
                    starling_storage::TransactionVariant::DeclareV2(_) => "DECLARE v2",
                    starling_storage::TransactionVariant::DeclareV3(_) => "DECLARE v3",
                    starling_storage::TransactionVariant::DeployAccountV3(_) => "DEPLOY_ACCOUNT v3",
                    other => panic!("unexpected transaction {other:?}"),
                };
                names.insert(name);
            }
        }
        let expected = [
            "DECLARE v1",
            "DECLARE v2",
            "DECLARE v3",
            "DEPLOY_ACCOUNT v3",
            "INVOKE v1",
            "INVOKE v3",
        ];
        assert_eq!(names.into_iter().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn nonces_increase_by_one_per_transaction() {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("chain");
        let blocks = 15;
        generate(&dir, &options(blocks, 11), |_| {}).unwrap();
        let mut next_nonce: std::collections::HashMap<ContractAddress, Felt> = Default::default();
        for number in 0..blocks {
            let block = read_block(&dir, number);
            for transaction in &block.transactions {
                let (sender, nonce) = match &transaction.variant {
                    starling_storage::TransactionVariant::InvokeV1(tx) => {
                        (tx.sender_address, tx.nonce)
                    }
                    starling_storage::TransactionVariant::InvokeV3(tx) => {
                        (tx.sender_address, tx.nonce)
                    }
                    starling_storage::TransactionVariant::DeclareV1(tx) => {
                        (tx.sender_address, tx.nonce)
                    }
                    starling_storage::TransactionVariant::DeclareV2(tx) => {
                        (tx.sender_address, tx.nonce)
                    }
                    starling_storage::TransactionVariant::DeclareV3(tx) => {
                        (tx.sender_address, tx.nonce)
                    }
                    starling_storage::TransactionVariant::DeployAccountV3(tx) => {
                        (tx.contract_address, tx.nonce)
                    }
                    other => panic!("unexpected transaction {other:?}"),
                };
                let expected = next_nonce.get(&sender).copied().unwrap_or(Felt::ZERO);
                assert_eq!(nonce, expected, "block {number}, sender {sender}");
                next_nonce.insert(sender, nonce + Felt::ONE);
            }
            for update in &block.state_diff.nonces {
                assert_eq!(
                    Some(&update.nonce),
                    next_nonce.get(&update.contract_address)
                );
            }
        }
    }

    #[test]
    fn same_seed_gives_identical_bytes() {
        let work = tempfile::tempdir().unwrap();
        let first = work.path().join("first");
        let second = work.path().join("second");
        let third = work.path().join("third");
        generate(&first, &options(8, 5), |_| {}).unwrap();
        generate(&second, &options(8, 5), |_| {}).unwrap();
        generate(&third, &options(8, 6), |_| {}).unwrap();
        for number in 0..8 {
            let name = format!("block/{number}.json");
            assert_eq!(
                read(&first.join(&name)),
                read(&second.join(&name)),
                "{name}"
            );
            assert_ne!(read(&first.join(&name)), read(&third.join(&name)), "{name}");
        }
    }

    #[test]
    fn divergence_shares_the_prefix_only() {
        let work = tempfile::tempdir().unwrap();
        let base = work.path().join("base");
        let fork = work.path().join("fork");
        let blocks = 10;
        generate(&base, &options(blocks, 3), |_| {}).unwrap();
        let fork_options = SynthOptions {
            divergence: Some(Divergence::derived(6, 3)),
            ..options(blocks, 3)
        };
        let summary = generate(&fork, &fork_options, |_| {}).unwrap();
        for number in 0..blocks {
            for folder in ["block", "state_update"] {
                let name = format!("{folder}/{number}.json");
                let same = read(&base.join(&name)) == read(&fork.join(&name));
                assert_eq!(same, number < 6, "{name}");
            }
        }
        sync_offline(&fork, blocks, Network::Sepolia, &work.path().join("db"));
        assert_eq!(summary.blocks, blocks);
    }

    #[test]
    fn mainnet_chain_uses_the_mainnet_chain_id() {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("chain");
        let mainnet = SynthOptions {
            network: Network::Mainnet,
            ..options(6, 1)
        };
        generate(&dir, &mainnet, |_| {}).unwrap();
        sync_offline(&dir, 6, Network::Mainnet, &work.path().join("db"));

        let block = read_block(&dir, 1);
        let error = checks::verify_hashes(&block, &[], ChainId::SEPOLIA).unwrap_err();
        assert!(error.to_string().contains("transaction 0"), "{error}");
    }

    #[test]
    fn storage_values_are_readable_after_sync() {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("chain");
        let blocks = 8;
        generate(&dir, &options(blocks, 13), |_| {}).unwrap();
        let storage = sync_offline(&dir, blocks, Network::Sepolia, &work.path().join("db"));

        let block = read_block(&dir, blocks - 1);
        let written = &block.state_diff.storage_diffs[0];
        let entry = written.entries[0];
        let stored = storage
            .storage_at(written.address, entry.key, BlockNumber(blocks - 1))
            .unwrap();
        assert_eq!(stored, entry.value);
    }

    #[test]
    fn invalid_options_are_rejected() {
        let work = tempfile::tempdir().unwrap();
        let error = generate(&work.path().join("a"), &options(0, 1), |_| {}).unwrap_err();
        assert!(error.to_string().contains("at least one block"), "{error}");

        let fork_at_end = SynthOptions {
            divergence: Some(Divergence::derived(5, 1)),
            ..options(5, 1)
        };
        let error = generate(&work.path().join("b"), &fork_at_end, |_| {}).unwrap_err();
        assert!(error.to_string().contains("between 1 and 4"), "{error}");

        let dir = work.path().join("c");
        generate(&dir, &options(1, 1), |_| {}).unwrap();
        let error = generate(&dir, &options(1, 1), |_| {}).unwrap_err();
        assert!(
            error.to_string().contains("already contains a chain"),
            "{error}"
        );
    }
}
