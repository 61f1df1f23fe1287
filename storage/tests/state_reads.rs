//! Merkle proofs and last-write reads of stored state, against a real RocksDB in a
//! temporary directory.

use starling_storage::trie::{self, TrieHash};
use starling_storage::*;

fn felt(value: u64) -> Felt {
    Felt::from(value)
}

fn sepolia() -> ChainInfo {
    ChainInfo {
        network: "sepolia".into(),
        chain_id: ChainId::SEPOLIA,
    }
}

fn empty_block(number: u64, parent: BlockHash) -> BlockCommit {
    BlockCommit {
        header: BlockHeader {
            number: BlockNumber(number),
            hash: BlockHash(felt(0x100 + number)),
            parent_hash: parent,
            state_root: Felt::ZERO,
            timestamp: 1_700_000_000 + number,
            sequencer_address: ContractAddress(felt(1)),
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
        },
        transactions: vec![],
        receipts: vec![],
        state_diff: StateDiff::default(),
        new_classes: vec![],
        state_commitment: StateCommitmentUpdate::default(),
    }
}

/// Commits one block per diff, each with its state commitment and the matching state root.
fn commit_diffs(storage: &Storage, diffs: Vec<StateDiff>) {
    let mut writer = storage.writer().unwrap();
    for diff in diffs {
        let number = writer.next_block_number().get();
        let parent = writer.head().map(|(_, hash)| hash).unwrap_or_default();
        let mut block = empty_block(number, parent);
        block.state_diff = diff;
        block.state_commitment = storage
            .compute_state_commitment(writer.head().map(|(number, _)| number), &block.state_diff)
            .unwrap();
        block.header.state_root = block.state_commitment.roots.global_root();
        writer.commit(block).unwrap();
    }
}

fn storage_diff(address: u64, entries: &[(u64, u64)]) -> ContractStorageDiff {
    ContractStorageDiff {
        address: ContractAddress(felt(address)),
        entries: entries
            .iter()
            .map(|(key, value)| StorageEntry {
                key: StorageKey(felt(*key)),
                value: felt(*value),
            })
            .collect(),
    }
}

/// Block 0 deploys 0xc0 with two slots, writes system contract 0x1 and declares Sierra
/// class 0x5151. Block 1 changes a slot of 0xc0, deploys 0xc1 and declares class 0x6161.
fn two_block_state(storage: &Storage) {
    let first = StateDiff {
        storage_diffs: vec![
            storage_diff(0xc0, &[(5, 11), (6, 12)]),
            storage_diff(0x1, &[(0x10, 0xabc)]),
        ],
        nonces: vec![NonceUpdate {
            contract_address: ContractAddress(felt(0xc0)),
            nonce: felt(1),
        }],
        deployed_contracts: vec![DeployedContract {
            address: ContractAddress(felt(0xc0)),
            class_hash: ClassHash(felt(0xcc)),
        }],
        declared_classes: vec![DeclaredClass {
            class_hash: ClassHash(felt(0x5151)),
            compiled_class_hash: CompiledClassHash(felt(0x7777)),
        }],
        ..StateDiff::default()
    };
    let second = StateDiff {
        storage_diffs: vec![storage_diff(0xc0, &[(5, 22)])],
        deployed_contracts: vec![DeployedContract {
            address: ContractAddress(felt(0xc1)),
            class_hash: ClassHash(felt(0xcd)),
        }],
        declared_classes: vec![DeclaredClass {
            class_hash: ClassHash(felt(0x6161)),
            compiled_class_hash: CompiledClassHash(felt(0x8888)),
        }],
        ..StateDiff::default()
    };
    commit_diffs(storage, vec![first, second]);
}

#[test]
fn contract_proofs_verify_at_every_block() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    two_block_state(&storage);

    for block in [BlockNumber(0), BlockNumber(1)] {
        let roots = storage.state_roots(block).unwrap().unwrap();
        let header = storage.header(block).unwrap().unwrap();
        assert_eq!(roots.global_root(), header.state_root);

        for address in [0xc0, 0xc1, 0x1, 0xdead] {
            let address = ContractAddress(felt(address));
            let proof = storage
                .contracts_trie_proof(roots.contracts_root, address)
                .unwrap();
            let proven =
                trie::verify_proof(roots.contracts_root, address.0, &proof, TrieHash::Pedersen)
                    .unwrap();

            let class_hash = storage
                .class_hash_at(address, block)
                .unwrap()
                .unwrap_or_default();
            let nonce = storage
                .nonce_at(address, block)
                .unwrap()
                .unwrap_or_default();
            let storage_root = storage.storage_root_at(address, block).unwrap();
            let leaf = trie::contract_state_hash(class_hash.0, storage_root, nonce);
            let expected = (leaf != Felt::ZERO).then_some(leaf);
            assert_eq!(proven, expected, "contract {address} at block {block}");
        }
    }
}

#[test]
fn storage_proofs_prove_values_and_absence() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    two_block_state(&storage);

    let contract = ContractAddress(felt(0xc0));
    let cases = [
        (0, 5, Some(11)),
        (0, 6, Some(12)),
        (0, 7, None),
        (1, 5, Some(22)),
        (1, 6, Some(12)),
    ];
    for (block, key, expected) in cases {
        let root = storage
            .storage_root_at(contract, BlockNumber(block))
            .unwrap();
        let proof = storage
            .storage_trie_proof(root, StorageKey(felt(key)))
            .unwrap();
        let proven = trie::verify_proof(root, felt(key), &proof, TrieHash::Pedersen).unwrap();
        assert_eq!(proven, expected.map(felt), "slot {key} at block {block}");
    }

    let system_root = storage
        .storage_root_at(ContractAddress(felt(0x1)), BlockNumber(1))
        .unwrap();
    let proof = storage
        .storage_trie_proof(system_root, StorageKey(felt(0x10)))
        .unwrap();
    assert_eq!(
        trie::verify_proof(system_root, felt(0x10), &proof, TrieHash::Pedersen).unwrap(),
        Some(felt(0xabc))
    );
}

#[test]
fn class_proofs_follow_declarations() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    two_block_state(&storage);

    let cases = [
        (0, 0x5151, Some(0x7777)),
        (0, 0x6161, None),
        (1, 0x5151, Some(0x7777)),
        (1, 0x6161, Some(0x8888)),
    ];
    for (block, class_hash, compiled) in cases {
        let roots = storage.state_roots(BlockNumber(block)).unwrap().unwrap();
        let proof = storage
            .classes_trie_proof(roots.classes_root, ClassHash(felt(class_hash)))
            .unwrap();
        let proven = trie::verify_proof(
            roots.classes_root,
            felt(class_hash),
            &proof,
            TrieHash::Poseidon,
        )
        .unwrap();
        let expected = compiled.map(|compiled| trie::class_leaf(felt(compiled)));
        assert_eq!(proven, expected, "class {class_hash:#x} at block {block}");
    }
}

#[test]
fn proof_of_key_above_trie_height_fails() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    two_block_state(&storage);

    let roots = storage.state_roots(BlockNumber(1)).unwrap().unwrap();
    let error = storage
        .classes_trie_proof(roots.classes_root, ClassHash(Felt::MAX))
        .unwrap_err();
    assert!(
        matches!(error, trie::TrieError::KeyOutOfRange { .. }),
        "{error}"
    );
}

#[test]
fn storage_at_with_block_returns_last_write() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let contract = ContractAddress(felt(0xc0));
    let slot = StorageKey(felt(5));
    let mut writer = storage.writer().unwrap();
    for (number, value) in [(0u64, Some(11u64)), (1, None), (2, Some(33))] {
        let parent = writer.head().map(|(_, hash)| hash).unwrap_or_default();
        let mut block = empty_block(number, parent);
        if let Some(value) = value {
            block.state_diff.storage_diffs.push(ContractStorageDiff {
                address: contract,
                entries: vec![StorageEntry {
                    key: slot,
                    value: felt(value),
                }],
            });
        }
        block.state_commitment = storage
            .compute_state_commitment(writer.head().map(|(number, _)| number), &block.state_diff)
            .unwrap();
        writer.commit(block).unwrap();
    }

    let cases = [
        (0, Some((felt(11), BlockNumber(0)))),
        (1, Some((felt(11), BlockNumber(0)))),
        (2, Some((felt(33), BlockNumber(2)))),
        (7, Some((felt(33), BlockNumber(2)))),
    ];
    for (at, expected) in cases {
        assert_eq!(
            storage
                .storage_at_with_block(contract, slot, BlockNumber(at))
                .unwrap(),
            expected,
            "slot at block {at}"
        );
    }
    assert_eq!(
        storage
            .storage_at_with_block(contract, StorageKey(felt(6)), BlockNumber(2))
            .unwrap(),
        None
    );
    assert_eq!(
        storage
            .storage_at_with_block(ContractAddress(felt(0xc1)), slot, BlockNumber(2))
            .unwrap(),
        None
    );
}
