//! Storage against a real RocksDB in a temporary directory.

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

fn header(number: u64, parent: BlockHash) -> BlockHeader {
    BlockHeader {
        number: BlockNumber(number),
        hash: BlockHash(felt(1000 + number)),
        parent_hash: parent,
        state_root: felt(77),
        timestamp: 1_700_000_000 + number,
        sequencer_address: ContractAddress(felt(1)),
        l1_gas_price: GasPrices::default(),
        l1_data_gas_price: GasPrices::default(),
        l2_gas_price: GasPrices::default(),
        l1_da_mode: L1DataAvailabilityMode::Blob,
        starknet_version: "0.13.4".into(),
        status: BlockStatus::AcceptedOnL2,
        transaction_count: 1,
        event_count: 1,
        transaction_commitment: None,
        event_commitment: None,
        receipt_commitment: None,
        state_diff_commitment: None,
        state_diff_length: None,
    }
}

/// A block with one invoke transaction that writes `value` to slot 5 of contract 0xc0
/// and bumps its nonce.
fn block(number: u64, parent: BlockHash, value: u64) -> BlockCommit {
    let hash = TransactionHash(felt(5000 + number));
    let contract = ContractAddress(felt(0xc0));
    let transaction = Transaction {
        hash,
        variant: TransactionVariant::InvokeV1(InvokeTransactionV1 {
            sender_address: contract,
            calldata: vec![felt(1), felt(2)],
            max_fee: felt(10),
            signature: vec![],
            nonce: felt(number),
        }),
    };
    let receipt = Receipt {
        transaction_hash: hash,
        actual_fee: felt(3),
        execution_status: ExecutionStatus::Succeeded,
        events: vec![Event {
            from_address: contract,
            keys: vec![felt(9)],
            data: vec![felt(value)],
        }],
        l2_to_l1_messages: vec![],
        l1_to_l2_consumed_message: None,
        execution_resources: ExecutionResources::default(),
    };
    let mut state_diff = StateDiff {
        storage_diffs: vec![ContractStorageDiff {
            address: contract,
            entries: vec![StorageEntry {
                key: StorageKey(felt(5)),
                value: felt(value),
            }],
        }],
        nonces: vec![NonceUpdate {
            contract_address: contract,
            nonce: felt(number + 1),
        }],
        ..StateDiff::default()
    };
    let mut new_classes = Vec::new();
    if number == 0 {
        state_diff.deployed_contracts.push(DeployedContract {
            address: contract,
            class_hash: ClassHash(felt(0xcc)),
        });
        new_classes.push(ClassDefinition {
            hash: ClassHash(felt(0xcc)),
            kind: ClassKind::Cairo0,
            declared_at: BlockNumber(0),
            definition: br#"{"abi":[],"program":{}}"#.to_vec(),
            compiled: None,
        });
    }
    BlockCommit {
        header: header(number, parent),
        transactions: vec![transaction],
        receipts: vec![receipt],
        state_diff,
        new_classes,
        state_commitment: StateCommitmentUpdate::default(),
    }
}

/// Completes `block` with its state commitment computed on the writer's head.
fn with_commitment(storage: &Storage, writer: &BlockWriter, mut block: BlockCommit) -> BlockCommit {
    let parent = writer.head().map(|(number, _)| number);
    block.state_commitment = storage
        .compute_state_commitment(parent, &block.state_diff)
        .unwrap();
    // The check at open reverts a head whose header disagrees with its stored roots.
    block.header.state_root = block.state_commitment.roots.global_root();
    block
}

fn commit_chain(storage: &Storage, writer: &mut BlockWriter, values: &[u64]) {
    let mut parent = BlockHash::ZERO;
    for (number, value) in values.iter().enumerate() {
        let block = with_commitment(storage, writer, block(number as u64, parent, *value));
        let header = writer.commit(block).unwrap();
        parent = header.hash;
    }
}

#[test]
fn empty_database_has_no_head() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    assert_eq!(storage.head().unwrap(), None);
    assert_eq!(
        storage.writer().unwrap().next_block_number(),
        BlockNumber(0)
    );
}

#[test]
fn committed_block_reads_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let mut writer = storage.writer().unwrap();
    commit_chain(&storage, &mut writer, &[11]);

    let mut expected = block(0, BlockHash::ZERO, 11);
    expected.header.state_root = storage
        .state_roots(BlockNumber(0))
        .unwrap()
        .unwrap()
        .global_root();
    assert_eq!(
        storage.head().unwrap(),
        Some((BlockNumber(0), BlockHash(felt(1000))))
    );
    assert_eq!(
        storage.header(BlockNumber(0)).unwrap(),
        Some(expected.header.clone())
    );
    assert_eq!(
        storage.header_by_hash(BlockHash(felt(1000))).unwrap(),
        Some(expected.header.clone())
    );
    assert_eq!(
        storage.transactions(BlockNumber(0)).unwrap(),
        expected.transactions
    );
    assert_eq!(storage.receipts(BlockNumber(0)).unwrap(), expected.receipts);
    assert_eq!(
        storage.state_diff(BlockNumber(0)).unwrap(),
        Some(expected.state_diff)
    );

    let location = storage
        .transaction_location(TransactionHash(felt(5000)))
        .unwrap()
        .unwrap();
    assert_eq!(location.block_number, BlockNumber(0));
    assert_eq!(location.index, 0);

    let class = ClassHash(felt(0xcc));
    assert!(storage.has_class(class).unwrap());
    assert_eq!(
        storage.class_definition(class).unwrap().unwrap(),
        br#"{"abi":[],"program":{}}"#.to_vec()
    );
    assert_eq!(storage.header(BlockNumber(1)).unwrap(), None);
}

#[test]
fn history_reads_value_at_each_block() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let mut writer = storage.writer().unwrap();
    commit_chain(&storage, &mut writer, &[11, 22, 33]);

    let contract = ContractAddress(felt(0xc0));
    let slot = StorageKey(felt(5));
    for (number, value) in [(0, 11), (1, 22), (2, 33), (9, 33)] {
        assert_eq!(
            storage
                .storage_at(contract, slot, BlockNumber(number))
                .unwrap(),
            felt(value),
            "storage at block {number}"
        );
    }
    assert_eq!(
        storage
            .storage_at(contract, StorageKey(felt(6)), BlockNumber(2))
            .unwrap(),
        Felt::ZERO
    );
    assert_eq!(
        storage
            .storage_at(ContractAddress(felt(0xc1)), slot, BlockNumber(2))
            .unwrap(),
        Felt::ZERO
    );

    assert_eq!(
        storage.nonce_at(contract, BlockNumber(1)).unwrap(),
        Some(felt(2))
    );
    assert_eq!(
        storage
            .nonce_at(ContractAddress(felt(0xc1)), BlockNumber(1))
            .unwrap(),
        None
    );
    assert_eq!(
        storage.class_hash_at(contract, BlockNumber(2)).unwrap(),
        Some(ClassHash(felt(0xcc)))
    );
}

#[test]
fn block_that_skips_a_number_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let mut writer = storage.writer().unwrap();
    commit_chain(&storage, &mut writer, &[1]);

    let error = writer
        .commit(block(2, BlockHash(felt(1000)), 5))
        .unwrap_err();
    assert!(
        matches!(error, StorageError::NotNextBlock { .. }),
        "{error}"
    );
    assert_eq!(storage.head().unwrap().unwrap().0, BlockNumber(0));
}

#[test]
fn block_with_wrong_parent_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let mut writer = storage.writer().unwrap();
    commit_chain(&storage, &mut writer, &[1]);

    let error = writer
        .commit(block(1, BlockHash(felt(999)), 5))
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("0x3e7"), "{message}");
    assert!(message.contains("0x3e8"), "{message}");
    assert_eq!(storage.header(BlockNumber(1)).unwrap(), None);
}

#[test]
fn second_writer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let _writer = storage.writer().unwrap();
    assert!(matches!(
        storage.writer().unwrap_err(),
        StorageError::WriterTaken
    ));
}

#[test]
fn reopen_keeps_head_and_rejects_other_chain() {
    let dir = tempfile::tempdir().unwrap();
    {
        let storage = Storage::open(dir.path(), sepolia()).unwrap();
        commit_chain(&storage, &mut storage.writer().unwrap(), &[1, 2]);
    }
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    assert_eq!(storage.head().unwrap().unwrap().0, BlockNumber(1));
    assert_eq!(
        storage.writer().unwrap().next_block_number(),
        BlockNumber(2)
    );
    drop(storage);

    let mainnet = ChainInfo {
        network: "mainnet".into(),
        chain_id: ChainId::MAINNET,
    };
    let error = Storage::open(dir.path(), mainnet).unwrap_err();
    assert!(error.to_string().contains("SN_SEPOLIA"), "{error}");
}

#[test]
fn read_only_open_works_beside_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    commit_chain(&storage, &mut storage.writer().unwrap(), &[1, 2, 3]);

    let reader = Storage::open_read_only(dir.path()).unwrap();
    assert_eq!(reader.chain(), &sepolia());
    assert_eq!(reader.head().unwrap().unwrap().0, BlockNumber(2));
    assert!(matches!(
        reader.writer().unwrap_err(),
        StorageError::ReadOnly
    ));
    assert!(reader.size_on_disk().unwrap() > 0);

    let locked = Storage::open(dir.path(), sepolia()).unwrap_err();
    assert!(matches!(locked, StorageError::Locked { .. }), "{locked}");
}

#[test]
fn commit_event_follows_each_block() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let mut events = storage.subscribe();
    commit_chain(&storage, &mut storage.writer().unwrap(), &[1, 2]);

    for number in 0..2 {
        match events.try_recv().unwrap() {
            ChainEvent::Committed(header) => assert_eq!(header.number, BlockNumber(number)),
            other => panic!("expected a commit event, got {other:?}"),
        }
    }
    assert!(events.try_recv().is_err());
}

#[test]
fn state_roots_follow_each_block() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let mut writer = storage.writer().unwrap();
    commit_chain(&storage, &mut writer, &[11, 22]);

    let contract = ContractAddress(felt(0xc0));
    let first = storage.state_roots(BlockNumber(0)).unwrap().unwrap();
    let second = storage.state_roots(BlockNumber(1)).unwrap().unwrap();
    assert_ne!(first.contracts_root, Felt::ZERO);
    assert_ne!(first.contracts_root, second.contracts_root);
    assert_eq!(
        first.classes_root,
        Felt::ZERO,
        "no Sierra class was declared"
    );
    assert_eq!(first.global_root(), first.contracts_root);

    let storage_root_0 = storage.storage_root_at(contract, BlockNumber(0)).unwrap();
    let storage_root_1 = storage.storage_root_at(contract, BlockNumber(1)).unwrap();
    assert_ne!(storage_root_0, storage_root_1);
    assert_eq!(
        storage
            .storage_root_at(ContractAddress(felt(0xc1)), BlockNumber(1))
            .unwrap(),
        Felt::ZERO
    );

    // Recomputing block 1's diff on block 0 gives the stored roots again.
    let diff = storage.state_diff(BlockNumber(1)).unwrap().unwrap();
    let again = storage
        .compute_state_commitment(Some(BlockNumber(0)), &diff)
        .unwrap();
    assert_eq!(again.roots, second);
}

#[test]
fn commitment_computed_on_another_block_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let mut writer = storage.writer().unwrap();
    commit_chain(&storage, &mut writer, &[11]);

    let stale = block(1, BlockHash(felt(1000)), 5);
    let error = writer.commit(stale).unwrap_err();
    assert!(
        matches!(error, StorageError::StaleCommitment { .. }),
        "{error}"
    );
    assert_eq!(storage.head().unwrap().unwrap().0, BlockNumber(0));
}
