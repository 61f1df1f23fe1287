//! Data-driven checks over the recorded feeder-gateway responses: every recorded block's
//! transaction hashes, commitments and block hash, every class and compiled class hash,
//! and the state diff commitments that recorded block signatures sign.
//!
//! The recordings are read from `STARLING_FGW_DIR`, by default `shared/fgw` beside the
//! checkout. Without them each test prints why it is skipped and passes, unless
//! `STARLING_REQUIRE_DATA=1`.

use std::path::Path;

use serde_json::Value;
use starling_storage::{BlockNumber, ChainId, Felt, StateDiff, Transaction, TransactionVariant};

use super::*;
use crate::convert::{self, ConvertedBlock};
use crate::gateway::wire;
use crate::testdata::{json_files, recordings_dir};

/// Sepolia-integration block 3077642 with made-up `proof_facts` added to its first
/// transaction, so that transaction's recorded hash must not recompute.
const FAKE_PROOF_FACTS_FILE: &str = "versions/0.14.3/state_update/sepolia_integration_fake.json";

/// One recording of each hash era; the walk over all recordings must verify these.
const REQUIRED_BLOCK_FILES: &[&str] = &[
    "mainnet/block/0.json",
    "versions/0.7.0/block/mainnet_2240.json",
    "versions/0.9.0/block/mainnet_2800.json",
    "versions/0.11.1/block/mainnet_65000.json",
    "sepolia/block/7.json",
    "versions/0.13.1/state_update_with_block/sepolia_integration_9703.json",
    "versions/0.13.2/block/sepolia_integration_35748.json",
    "versions/0.13.4/block/sepolia_integration_63881.json",
    "versions/0.14.1/state_update/sepolia_integration_3077642.json",
];

/// Blake (v2) compiled class hashes of the two recorded CASM classes, keyed by class hash.
/// Source: Pathfinder's precomputed table
/// `crates/casm-hashes/fixtures/testnet-sepolia-casm-v2-hashes.bin` (class hash, then v2
/// compiled class hash, 32 bytes each).
const BLAKE_COMPILED_CLASS_HASHES: &[(&str, &str)] = &[
    (
        "0x1a736d6ed154502257f02b1ccdf4d9d1089f80811cd6acad48e6b6a9d1f2003",
        "0x57e46615d7d8ca02c4e02e03e5f6b39c42aa44b60fbf1cae7b4e0b49d0cac96",
    ),
    (
        "0x903752516de5c04fe91600ca6891e325278b2dfc54880ae11a809abb364844",
        "0x5ca34a57fdf5a981e51d0a335030b7d59de7a159fa986caa2ea64a3d3bbc9a",
    ),
];

fn sepolia_integration() -> ChainId {
    ChainId(Felt::from_bytes_be_slice(b"SN_INTEGRATION_SEPOLIA"))
}

/// Returns the chain id of a recording from its path, which names the network in a folder
/// (`mainnet/`, `sepolia/`) or in the file name (`mainnet_2240`, `sepolia_integration_…`).
fn chain_id_of(relative: &str) -> ChainId {
    if relative.contains("sepolia_integration") {
        sepolia_integration()
    } else if relative.contains("mainnet") {
        ChainId::MAINNET
    } else if relative.contains("sepolia") {
        ChainId::SEPOLIA
    } else {
        panic!("{relative}: the path names no network")
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Parses from bytes rather than from a `Value`, because a `Value` sorts object keys and
/// the gateway's order of contracts must be kept.
fn parse<T: serde::de::DeserializeOwned>(path: &Path, bytes: &[u8]) -> T {
    serde_json::from_slice(bytes).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

fn parse_felt(text: &str) -> Felt {
    wire::felt_serde::parse(text).unwrap_or_else(|error| panic!("invalid felt {text}: {error}"))
}

/// The shapes of recordings that contain transactions.
enum Recording {
    /// A closed block with its state diff when one was recorded.
    Block {
        block: Box<ConvertedBlock>,
        has_state_diff: bool,
    },
    /// A pending or pre-confirmed block: transactions without a block hash.
    OpenBlock {
        transactions: Vec<Transaction>,
        starknet_version: String,
        block_number: Option<u64>,
    },
}

/// Reads a recording that contains transactions, or returns `None` for other files
/// (classes, signatures, bare state updates, transaction statuses).
fn read_recording(dir: &Path, path: &Path) -> Option<Recording> {
    let bytes = read(path);
    let value: Value = parse(path, &bytes);
    let fields = value.as_object()?;

    if fields.contains_key("transaction_state_diffs") {
        let block: wire::PreconfirmedBlock = parse(path, &bytes);
        return Some(Recording::OpenBlock {
            transactions: convert_transactions(path, &block.transactions),
            starknet_version: block.starknet_version,
            block_number: block.block_number,
        });
    }

    if let Some(Value::Object(block)) = fields.get("block") {
        if !block.contains_key("block_hash") {
            let pending: wire::PendingStateUpdateWithBlock = parse(path, &bytes);
            return Some(Recording::OpenBlock {
                transactions: convert_transactions(path, &pending.block.transactions),
                starknet_version: pending.block.starknet_version.unwrap_or_default(),
                block_number: None,
            });
        }
        let fetched: wire::StateUpdateWithBlock = parse(path, &bytes);
        return Some(Recording::Block {
            block: Box::new(convert_checked(path, fetched)),
            has_state_diff: true,
        });
    }

    if fields.contains_key("transactions") && fields.contains_key("block_hash") {
        let block: wire::Block = parse(path, &bytes);
        let state_update_path =
            dir.join(relative(dir, path).replacen("/block/", "/state_update/", 1));
        let (state_update, has_state_diff) = if state_update_path.is_file() {
            (parse(&state_update_path, &read(&state_update_path)), true)
        } else {
            let empty = wire::StateUpdate {
                block_hash: None,
                new_root: None,
                old_root: Felt::ZERO,
                state_diff: wire::StateDiff::default(),
            };
            (empty, false)
        };
        let fetched = wire::StateUpdateWithBlock {
            block,
            state_update,
            signature: None,
        };
        return Some(Recording::Block {
            block: Box::new(convert_checked(path, fetched)),
            has_state_diff,
        });
    }

    None
}

/// Converts a block with its state update and checks that both name the same block.
fn convert_checked(path: &Path, fetched: wire::StateUpdateWithBlock) -> ConvertedBlock {
    let block = convert::convert_block(fetched)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    if let Some(hash) = block.state_update_block_hash {
        assert_eq!(
            hash,
            block.header.hash,
            "{}: state update of another block",
            path.display()
        );
    }
    block
}

fn convert_transactions(path: &Path, transactions: &[wire::Transaction]) -> Vec<Transaction> {
    transactions
        .iter()
        .map(|transaction| {
            convert::convert_transaction(transaction)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        })
        .collect()
}

#[test]
fn every_recorded_block_verifies() {
    let Some(dir) = recordings_dir() else { return };

    let mut verified = Vec::new();
    let mut failures = Vec::new();
    for path in json_files(&dir) {
        let name = relative(&dir, &path);
        if name == FAKE_PROOF_FACTS_FILE {
            continue;
        }
        let Some(Recording::Block {
            block,
            has_state_diff,
        }) = read_recording(&dir, &path)
        else {
            continue;
        };

        let state_diff = has_state_diff.then_some(&block.state_diff);
        let result = verify_block(
            &block.header,
            &block.transactions,
            &block.receipts,
            state_diff,
            chain_id_of(&name),
        );
        match result {
            Ok(()) => verified.push(name),
            Err(error) => failures.push(format!("{name}: {error}")),
        }
    }

    assert!(
        failures.is_empty(),
        "blocks that failed verification:\n{}",
        failures.join("\n")
    );
    for required in REQUIRED_BLOCK_FILES {
        assert!(
            verified.iter().any(|name| name == required),
            "{required} was not verified; verified: {verified:?}"
        );
    }
}

#[test]
fn open_block_transaction_hashes_recompute() {
    let Some(dir) = recordings_dir() else { return };

    let mut checked = 0;
    for path in json_files(&dir) {
        let name = relative(&dir, &path);
        let Some(Recording::OpenBlock {
            transactions,
            starknet_version,
            block_number,
        }) = read_recording(&dir, &path)
        else {
            continue;
        };

        // The number matters only for Mainnet blocks without a version, and open
        // blocks always report their version.
        let context = HashContext {
            block_number: BlockNumber(block_number.unwrap_or_default()),
            starknet_version: StarknetVersion::parse(&starknet_version).unwrap(),
        };
        for (index, transaction) in transactions.iter().enumerate() {
            if let Err(mismatch) = verify_transaction_hash(transaction, chain_id_of(&name), context)
            {
                panic!("{name}: transaction {index}: {mismatch}");
            }
        }
        checked += 1;
    }
    assert!(
        checked >= 1,
        "no pending or pre-confirmed block found under {}",
        dir.display()
    );
}

#[test]
fn fake_proof_facts_break_the_first_transaction_hash() {
    let Some(dir) = recordings_dir() else { return };
    let path = dir.join(FAKE_PROOF_FACTS_FILE);
    let Some(Recording::Block { block, .. }) = read_recording(&dir, &path) else {
        panic!("{FAKE_PROOF_FACTS_FILE} holds no block");
    };
    let chain_id = sepolia_integration();
    let context = HashContext::for_header(&block.header).unwrap();

    let error = verify_block(
        &block.header,
        &block.transactions,
        &block.receipts,
        Some(&block.state_diff),
        chain_id,
    )
    .unwrap_err();
    let VerifyError::Mismatch(mismatch) = error else {
        panic!("expected a hash mismatch, got {error}");
    };
    assert!(mismatch.what.starts_with("transaction 0 "), "{mismatch}");

    for (index, transaction) in block.transactions.iter().enumerate().skip(1) {
        let result = verify_transaction_hash(transaction, chain_id, context);
        assert!(result.is_ok(), "transaction {index}: {result:?}");
    }

    // Without the made-up proof facts the file is the real block 3077642.
    let mut transactions = block.transactions.clone();
    let TransactionVariant::InvokeV3(first) = &mut transactions[0].variant else {
        panic!("the first transaction is not an INVOKE v3");
    };
    assert!(!first.proof_facts.is_empty());
    first.proof_facts.clear();
    let result = verify_block(
        &block.header,
        &transactions,
        &block.receipts,
        Some(&block.state_diff),
        chain_id,
    );
    assert_eq!(result, Ok(()));
}

#[test]
fn recorded_classes_hash_to_their_file_names() {
    let Some(dir) = recordings_dir() else { return };

    let mut checked = 0;
    for path in json_files(&dir) {
        let name = relative(&dir, &path);
        if !name.contains("/class/") {
            continue;
        }
        let expected = parse_felt(path.file_stem().unwrap().to_str().unwrap());
        let bytes = read(&path);
        let definition: Value = parse(&path, &bytes);

        let computed = if definition.get("sierra_program").is_some() {
            sierra_class_hash(&bytes)
        } else {
            cairo0_class_hash(&bytes)
        }
        .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(computed, expected, "{name}");
        checked += 1;
    }
    assert!(checked >= 1, "no class file found under {}", dir.display());
}

#[test]
fn recorded_compiled_classes_match_declared_hashes() {
    let Some(dir) = recordings_dir() else { return };
    let state_update_path = dir.join("sepolia/state_update/7.json");
    let state_update: wire::StateUpdate = parse(&state_update_path, &read(&state_update_path));

    let mut checked = 0;
    for path in json_files(&dir.join("sepolia/compiled_class")) {
        let class_hash = parse_felt(path.file_stem().unwrap().to_str().unwrap());
        let bytes = read(&path);

        let declared = state_update
            .state_diff
            .declared_classes
            .iter()
            .find(|declared| declared.class_hash == class_hash)
            .unwrap_or_else(|| panic!("class {class_hash:#x} is not declared in block 7"));
        let poseidon = compiled_class_hash(&bytes).unwrap();
        assert_eq!(poseidon, declared.compiled_class_hash, "{}", path.display());

        let parsed: starknet_core::types::contract::CompiledClass = parse(&path, &bytes);
        let from_core = parsed.class_hash().unwrap();
        assert_eq!(
            poseidon.to_bytes_be(),
            from_core.to_bytes_be(),
            "{}",
            path.display()
        );

        let (_, blake_hex) = BLAKE_COMPILED_CLASS_HASHES
            .iter()
            .find(|(class, _)| parse_felt(class) == class_hash)
            .unwrap_or_else(|| panic!("no Blake hash listed for class {class_hash:#x}"));
        let blake = compiled_class_hash_with(&bytes, CompiledClassHashVersion::Blake).unwrap();
        assert_eq!(blake, parse_felt(blake_hex), "{}", path.display());
        checked += 1;
    }
    assert!(
        checked >= 1,
        "no compiled class found under {}",
        dir.display()
    );
}

/// Pairs of (state update, signature) recordings of blocks before Starknet 0.13.2. The
/// recording of block 350000 names no network, but it is a Mainnet block, as
/// `signatures_identify_the_network` shows.
fn signed_state_updates() -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = (0..=7)
        .map(|number| {
            (
                format!("sepolia/state_update/{number}.json"),
                format!("sepolia/signature/{number}.json"),
            )
        })
        .collect();
    pairs.push((
        "versions/0.12.2/state-update/350000.json".to_owned(),
        "versions/0.12.2/signature/350000.json".to_owned(),
    ));
    pairs
}

#[test]
fn signed_state_diff_commitments_recompute() {
    let Some(dir) = recordings_dir() else { return };

    let mut checked = 0;
    for (state_update_name, signature_name) in signed_state_updates() {
        let state_update_path = dir.join(&state_update_name);
        let signature_path = dir.join(&signature_name);
        let state_update: wire::StateUpdate = parse(&state_update_path, &read(&state_update_path));
        let signature: wire::BlockSignature = parse(&signature_path, &read(&signature_path));

        // Signatures in the `{block_hash, signature}` shape carry no state diff commitment.
        let Some(input) = signature.signature_input else {
            continue;
        };
        assert_eq!(
            Some(input.block_hash),
            state_update.block_hash,
            "{signature_name}"
        );

        let state_diff: StateDiff = convert::convert_state_diff(&state_update.state_diff);
        assert_eq!(
            legacy_state_diff_commitment(&state_diff),
            input.state_diff_commitment,
            "{state_update_name}"
        );
        checked += 1;
    }
    assert!(
        checked >= 1,
        "no signature with a state diff commitment was found"
    );
}

/// `sepolia/headers_sample.json` is no gateway reply: it holds the headers of Sepolia
/// blocks 0 to 2 with commitments recomputed under the Starknet 0.13.2 rules, which shows
/// those rules on more data than the 0.13.2 blocks themselves.
#[test]
fn headers_sample_holds_0_13_2_commitments() {
    let Some(dir) = recordings_dir() else { return };
    let sample_path = dir.join("sepolia/headers_sample.json");
    let sample: Value = parse(&sample_path, &read(&sample_path));
    let version = StarknetVersion::V0_13_2;

    let headers = sample.as_array().expect("headers_sample.json is a list");
    for header in headers {
        let number = header["block_number"].as_u64().unwrap();
        let block_path = dir.join(format!("sepolia/block/{number}.json"));
        let state_update_path = dir.join(format!("sepolia/state_update/{number}.json"));
        let fetched = wire::StateUpdateWithBlock {
            block: parse(&block_path, &read(&block_path)),
            state_update: parse(&state_update_path, &read(&state_update_path)),
            signature: None,
        };
        let block = convert_checked(&block_path, fetched);
        let claimed = |field: &str| parse_felt(header[field].as_str().unwrap());

        assert_eq!(
            transaction_commitment(&block.transactions, version),
            claimed("transaction_commitment"),
            "block {number}"
        );
        assert_eq!(
            event_commitment(&block.receipts, version),
            claimed("event_commitment"),
            "block {number}"
        );
        assert_eq!(
            receipt_commitment(&block.receipts),
            claimed("receipt_commitment"),
            "block {number}"
        );
        assert_eq!(
            state_diff_commitment(&block.state_diff),
            claimed("state_diff_commitment"),
            "block {number}"
        );
        assert_eq!(
            state_diff_length(&block.state_diff),
            header["state_diff_length"].as_u64().unwrap(),
            "block {number}"
        );
    }
    assert!(!headers.is_empty());
}

/// Public keys of the sequencers' block signatures. The Mainnet key is the one in
/// Pathfinder's signature test (`crates/common/src/signature.rs`, from the gateway's
/// `get_public_key`). The Sepolia key verifies the recorded Sepolia signatures below.
const MAINNET_SEQUENCER_KEY: &str =
    "0x48253ff2c3bed7af18bde0b611b083b39445959102d4947c51c4db6aa4f4e58";
const SEPOLIA_SEQUENCER_KEY: &str =
    "0x1252b6bce1351844c677869c6327e80eae1535755b611c66b8f46e595b40eea";

/// Checks the signature of a block before Starknet 0.13.2, which signs
/// `poseidon_array([block_hash, state_diff_commitment])`, against a sequencer key.
fn is_signed_by(signature: &wire::BlockSignature, public_key: &str) -> bool {
    use starknet_types_core::hash::{Poseidon, StarkHash};

    let input = signature
        .signature_input
        .expect("signature without signature_input");
    let message = Poseidon::hash_array(&[input.block_hash, input.state_diff_commitment]);
    let core_felt = |value: Felt| starknet_core::types::Felt::from_bytes_be(&value.to_bytes_be());
    let key = starknet_core::types::Felt::from_hex(public_key).unwrap();
    starknet_crypto::verify(
        &key,
        &core_felt(message),
        &core_felt(signature.signature[0]),
        &core_felt(signature.signature[1]),
    )
    .unwrap_or(false)
}

#[test]
fn signatures_identify_the_network() {
    let Some(dir) = recordings_dir() else { return };
    let read_signature = |name: &str| -> wire::BlockSignature {
        let path = dir.join(name);
        parse(&path, &read(&path))
    };

    let unnamed = read_signature("versions/0.12.2/signature/350000.json");
    assert!(is_signed_by(&unnamed, MAINNET_SEQUENCER_KEY));
    assert!(!is_signed_by(&unnamed, SEPOLIA_SEQUENCER_KEY));

    let sepolia = read_signature("sepolia/signature/4.json");
    assert!(is_signed_by(&sepolia, SEPOLIA_SEQUENCER_KEY));
    assert!(!is_signed_by(&sepolia, MAINNET_SEQUENCER_KEY));
}
