//! `starling db verify` and `starling db revert` on a database synced by the real binary
//! from a synthetic chain served on 127.0.0.1.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use starling_storage::{schema, BlockNumber, Storage};
use support::{start_gateway, Node};

const BLOCKS: u64 = 12;

fn starling(args: &[&str], db_path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_starling"))
        .args(args)
        .arg("--db-path")
        .arg(db_path)
        .output()
        .expect("starling binary starts")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes a synthetic chain of `BLOCKS` blocks and syncs it into `db_path` with the real
/// node, which is still running when this returns.
async fn synced_node(work: &Path, db_path: &Path) -> (Node, support::ReplayGatewayHandle) {
    let chain = work.join("chain");
    support::synth_chain(&chain, BLOCKS, 31, &[]);

    let gateway = start_gateway(&chain, 0, None, None).await;
    let node = Node::start(
        "sepolia",
        db_path,
        &gateway.base_url(),
        &work.join("node.log"),
    );
    let mut client = node.connect().await;
    client
        .wait_for_head(BLOCKS - 1, Duration::from_secs(60))
        .await;
    (node, gateway)
}

/// Copies the raw value of `column_family` at block `from` over the value at block `to`,
/// bypassing the writer.
fn copy_raw(db_path: &Path, column_family: &str, from: BlockNumber, to: BlockNumber) {
    let storage = Storage::open_existing(db_path).unwrap();
    let value = storage
        .test_get_raw(column_family, &schema::block_key(from))
        .unwrap()
        .expect("source value exists");
    storage
        .test_put_raw(column_family, &schema::block_key(to), &value)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_verify_and_revert() {
    let work = tempfile::tempdir().unwrap();
    let db_path = work.path().join("db");
    let (mut node, gateway) = synced_node(work.path(), &db_path).await;

    // Both commands need the lock, which the running node holds.
    for args in [
        &["db", "verify"][..],
        &["db", "revert", "--to-block", "3"][..],
    ] {
        let output = starling(args, &db_path);
        assert!(
            !output.status.success(),
            "{args:?} succeeded beside a running node"
        );
        assert!(
            stderr(&output).contains("locked by a running node"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    node.kill();
    gateway.shutdown().await;

    let output = starling(&["db", "verify"], &db_path);
    assert!(
        output.status.success(),
        "verify failed: {}",
        stderr(&output)
    );
    let last = BLOCKS - 1;
    assert!(
        stdout(&output).contains(&format!("verified blocks 0 to {last}")),
        "{}",
        stdout(&output)
    );

    let output = starling(&["db", "verify", "--from", "3", "--to", "5"], &db_path);
    assert!(
        output.status.success(),
        "verify failed: {}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("verified blocks 3 to 5"),
        "{}",
        stdout(&output)
    );

    let output = starling(&["db", "verify", "--to", "99"], &db_path);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("above the head"),
        "{}",
        stderr(&output)
    );

    // Damage blocks below the few that the check at open looks at, highest first, and
    // check that verify reports the lowest damaged block each time.
    copy_raw(
        &db_path,
        schema::STATE_ROOTS,
        BlockNumber(6),
        BlockNumber(7),
    );
    let output = starling(&["db", "verify"], &db_path);
    assert!(!output.status.success(), "verify passed a wrong state root");
    let message = stderr(&output);
    assert!(
        message.contains("verification failed at block 7"),
        "{message}"
    );
    assert!(message.contains("root"), "{message}");

    copy_raw(
        &db_path,
        schema::STATE_DIFFS,
        BlockNumber(4),
        BlockNumber(5),
    );
    let output = starling(&["db", "verify"], &db_path);
    assert!(!output.status.success(), "verify passed a wrong state diff");
    let message = stderr(&output);
    assert!(
        message.contains("verification failed at block 5"),
        "{message}"
    );

    copy_raw(&db_path, schema::HEADERS, BlockNumber(3), BlockNumber(2));
    let output = starling(&["db", "verify"], &db_path);
    assert!(!output.status.success(), "verify passed a wrong header");
    let message = stderr(&output);
    assert!(
        message.contains("verification failed at block 2: header block number"),
        "{message}"
    );

    let output = starling(&["db", "verify", "--to", "1"], &db_path);
    assert!(
        output.status.success(),
        "verify failed: {}",
        stderr(&output)
    );

    // Reverting to block 1 removes every damaged block; verify passes again.
    let output = starling(&["db", "revert", "--to-block", "1"], &db_path);
    assert!(
        output.status.success(),
        "revert failed: {}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains(&format!("reverted {} blocks", last - 1)),
        "{}",
        stdout(&output)
    );
    let storage = Storage::open_read_only(&db_path).unwrap();
    assert_eq!(
        storage.head().unwrap().map(|(number, _)| number),
        Some(BlockNumber(1))
    );
    assert_eq!(storage.header(BlockNumber(2)).unwrap(), None);
    drop(storage);

    let output = starling(&["db", "verify"], &db_path);
    assert!(
        output.status.success(),
        "verify failed: {}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("verified blocks 0 to 1"),
        "{}",
        stdout(&output)
    );

    let output = starling(&["db", "revert", "--to-block", "5"], &db_path);
    assert!(!output.status.success(), "revert above the head succeeded");
    assert!(
        stderr(&output).contains("cannot revert to block 5"),
        "{}",
        stderr(&output)
    );
}
