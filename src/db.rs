//! `starling db ...`: inspecting a database, also while a node runs on it.

use anyhow::Context;
use serde_json::json;
use starling_storage::Storage;

use crate::cli::DbCommand;

pub fn run(command: DbCommand) -> anyhow::Result<()> {
    match command {
        DbCommand::Info { db_path, json } => info(&db_path, json),
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
