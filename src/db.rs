//! `starling db ...`: inspecting a database (also while a node runs on it), and
//! reverting or verifying one while no node runs on it.

use std::fmt::Display;
use std::path::Path;

use anyhow::{bail, Context};
use serde_json::json;
use starling_storage::{BlockHash, BlockHeader, BlockNumber, ChainId, Storage, StorageError};
use starling_sync::verify::{self, VerifyError};

use crate::cli::DbCommand;

pub fn run(command: DbCommand) -> anyhow::Result<()> {
    match command {
        DbCommand::Info { db_path, json } => info(&db_path, json),
        DbCommand::Revert { to_block, db_path } => revert(&db_path, BlockNumber(to_block)),
        DbCommand::Verify { db_path, from, to } => verify(&db_path, from, to),
    }
}

fn info(path: &std::path::Path, as_json: bool) -> anyhow::Result<()> {
    let storage = Storage::open_read_only(path)
        .with_context(|| format!("cannot open database at {}", path.display()))?;
    let chain = storage.chain();
    let head = storage.head()?;
    let size = storage.size_on_disk()?;
    let block_count = head.map(|(number, _)| number.get() + 1).unwrap_or(0);

    if as_json {
        let report = json!({
            "path": path.display().to_string(),
            "network": chain.network,
            "chain_id": chain.chain_id.to_string(),
            "chain_id_name": chain.chain_id.as_short_string(),
            "head": head.map(|(number, hash)| json!({
                "block_number": number.get(),
                "block_hash": hash.to_string(),
            })),
            "block_count": block_count,
            "size_on_disk_bytes": size,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }

    println!("path:         {}", path.display());
    println!("network:      {}", chain.network);
    println!(
        "chain id:     {} ({})",
        chain.chain_id,
        chain.chain_id.as_short_string()
    );
    match head {
        Some((number, hash)) => println!("head:         {number} {hash}"),
        None => println!("head:         none (empty database)"),
    }
    println!("blocks:       {block_count}");
    println!(
        "size on disk: {size} bytes ({:.1} MiB)",
        size as f64 / 1048576.0
    );
    Ok(())
}

/// Opens the database for writing. This fails while a node runs on it, because the node
/// has the RocksDB lock. `repair` runs the startup repair of an inconsistent head;
/// `db verify` skips it so that it reports the damage instead.
fn open_writable(path: &Path, repair: bool) -> anyhow::Result<Storage> {
    let opened = if repair {
        Storage::open_existing(path)
    } else {
        Storage::open_existing_unrepaired(path)
    };
    match opened {
        Ok(storage) => Ok(storage),
        Err(StorageError::Locked { .. }) => bail!(
            "database at {} is locked by a running node; stop the node and run the command again",
            path.display()
        ),
        Err(error) => {
            Err(error).with_context(|| format!("cannot open database at {}", path.display()))
        }
    }
}

fn revert(path: &Path, target: BlockNumber) -> anyhow::Result<()> {
    let storage = open_writable(path, true)?;
    let mut writer = storage.writer()?;
    let Some((head, _)) = writer.head() else {
        bail!("database at {} has no blocks to revert", path.display());
    };
    if target == head {
        println!("head is already block {head}; nothing reverted");
        return Ok(());
    }
    // The operator names the target explicitly, so there is no depth limit here.
    let reverted = writer.revert_to(target, u64::MAX)?;
    let (number, hash) = writer.head().context("head is missing after the revert")?;
    println!(
        "reverted {} blocks ({} to {head}); head is now {number} {hash}",
        reverted.len(),
        target.next()
    );
    Ok(())
}

/// The first difference `db verify` found.
struct Mismatch {
    block: BlockNumber,
    what: String,
    expected: String,
    computed: String,
}

impl Mismatch {
    fn new(block: BlockNumber, what: &str, expected: impl Display, computed: impl Display) -> Self {
        Self {
            block,
            what: what.to_owned(),
            expected: expected.to_string(),
            computed: computed.to_string(),
        }
    }
}

fn verify(path: &Path, from: Option<u64>, to: Option<u64>) -> anyhow::Result<()> {
    let storage = open_writable(path, false)?;
    let Some((head, head_hash)) = storage.head()? else {
        println!(
            "database at {} has no blocks; nothing to verify",
            path.display()
        );
        return Ok(());
    };
    let from = BlockNumber(from.unwrap_or(0));
    let to = BlockNumber(to.unwrap_or(head.get()));
    if to > head {
        bail!("--to {to} is above the head, block {head}");
    }
    if from > to {
        bail!("--from {from} is above --to {to}");
    }

    let chain_id = storage.chain().chain_id;
    for number in from.get()..=to.get() {
        let number = BlockNumber(number);
        let expected_hash = (number == head).then_some(head_hash);
        if let Some(mismatch) = verify_stored_block(&storage, number, expected_hash, chain_id)? {
            bail!(
                "verification failed at block {}: {}: expected {}, computed {}",
                mismatch.block,
                mismatch.what,
                mismatch.expected,
                mismatch.computed
            );
        }
    }
    println!(
        "verified blocks {from} to {to}: hashes, commitments, state roots and parent links match"
    );
    Ok(())
}

/// Checks one stored block against itself, its parent and the head pointer
/// (`expected_hash`, for the head block only).
fn verify_stored_block(
    storage: &Storage,
    number: BlockNumber,
    expected_hash: Option<BlockHash>,
    chain_id: ChainId,
) -> anyhow::Result<Option<Mismatch>> {
    let Some(header) = storage.header(number)? else {
        return Ok(Some(Mismatch::new(
            number,
            "header",
            "a stored header",
            "none",
        )));
    };
    if let Some(mismatch) = check_links(storage, &header, number, expected_hash)? {
        return Ok(Some(mismatch));
    }

    let transactions = storage.transactions(number)?;
    let receipts = storage.receipts(number)?;
    let Some(state_diff) = storage.state_diff(number)? else {
        return Ok(Some(Mismatch::new(
            number,
            "state diff",
            "a stored state diff",
            "none",
        )));
    };
    match verify::verify_block(
        &header,
        &transactions,
        &receipts,
        Some(&state_diff),
        chain_id,
    ) {
        Ok(()) => {}
        Err(VerifyError::Mismatch(mismatch)) => {
            return Ok(Some(Mismatch::new(
                number,
                &mismatch.what,
                format_args!("{:#x}", mismatch.expected),
                format_args!("{:#x}", mismatch.computed),
            )));
        }
        Err(other) => {
            return Ok(Some(Mismatch::new(
                number,
                "block contents",
                "a verifiable block",
                other,
            )));
        }
    }

    for (index, transaction) in transactions.iter().enumerate() {
        let location = storage.transaction_location(transaction.hash)?;
        let stored = location.map(|location| (location.block_number, location.index as usize));
        if stored != Some((number, index)) {
            return Ok(Some(Mismatch::new(
                number,
                &format!("transaction hash index of {}", transaction.hash),
                format_args!("block {number} index {index}"),
                format_args!("{stored:?}"),
            )));
        }
    }

    // Recompute the tries from the parent's state and this block's stored diff.
    let commitment = storage.compute_state_commitment(number.parent(), &state_diff)?;
    let Some(stored_roots) = storage.state_roots(number)? else {
        return Ok(Some(Mismatch::new(
            number,
            "state roots",
            "stored roots",
            "none",
        )));
    };
    let roots = [
        (
            "contracts-trie root",
            stored_roots.contracts_root,
            commitment.roots.contracts_root,
        ),
        (
            "classes-trie root",
            stored_roots.classes_root,
            commitment.roots.classes_root,
        ),
        (
            "state root",
            header.state_root,
            commitment.roots.global_root(),
        ),
    ];
    for (what, expected, computed) in roots {
        if expected != computed {
            return Ok(Some(Mismatch::new(
                number,
                what,
                format_args!("{expected:#x}"),
                format_args!("{computed:#x}"),
            )));
        }
    }
    Ok(None)
}

/// Checks the header's number, the hash index, the head pointer and the parent link.
fn check_links(
    storage: &Storage,
    header: &BlockHeader,
    number: BlockNumber,
    expected_hash: Option<BlockHash>,
) -> anyhow::Result<Option<Mismatch>> {
    if header.number != number {
        return Ok(Some(Mismatch::new(
            number,
            "header block number",
            number,
            header.number,
        )));
    }
    if let Some(expected) = expected_hash.filter(|expected| *expected != header.hash) {
        return Ok(Some(Mismatch::new(
            number,
            "head pointer hash",
            expected,
            header.hash,
        )));
    }
    let indexed = storage.block_number_by_hash(header.hash)?;
    if indexed != Some(number) {
        return Ok(Some(Mismatch::new(
            number,
            &format!("block hash index of {}", header.hash),
            number,
            format_args!("{indexed:?}"),
        )));
    }

    let parent_hash = match number.parent() {
        Some(parent) => match storage.header(parent)? {
            Some(parent_header) => parent_header.hash,
            None => {
                return Ok(Some(Mismatch::new(
                    number,
                    "parent header",
                    "a stored header",
                    "none",
                )));
            }
        },
        None => BlockHash::ZERO,
    };
    if header.parent_hash != parent_hash {
        return Ok(Some(Mismatch::new(
            number,
            "parent hash",
            parent_hash,
            header.parent_hash,
        )));
    }
    Ok(None)
}
