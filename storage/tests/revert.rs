//! Reverting the head block, and the repair at open, against a real RocksDB in a
//! temporary directory.

use starling_storage::schema;
use starling_storage::*;

fn felt(value: u64) -> Felt {
    Felt::from(value)
}

fn address(value: u64) -> ContractAddress {
    ContractAddress(felt(value))
}

fn sepolia() -> ChainInfo {
    ChainInfo {
        network: "sepolia".into(),
        chain_id: ChainId::SEPOLIA,
    }
}

fn header(number: u64, hash: u64, parent: BlockHash, transaction_count: u64) -> BlockHeader {
    BlockHeader {
        number: BlockNumber(number),
        hash: BlockHash(felt(hash)),
        parent_hash: parent,
        state_root: Felt::ZERO,
        timestamp: 1_700_000_000 + number,
        sequencer_address: address(1),
        l1_gas_price: GasPrices::default(),
        l1_data_gas_price: GasPrices::default(),
        l2_gas_price: GasPrices::default(),
        l1_da_mode: L1DataAvailabilityMode::Blob,
        starknet_version: "0.13.4".into(),
        status: BlockStatus::AcceptedOnL2,
        transaction_count,
        event_count: transaction_count,
        transaction_commitment: None,
        event_commitment: None,
        receipt_commitment: None,
        state_diff_commitment: None,
        state_diff_length: None,
    }
}

/// Builds one invoke transaction with hash `hash` from `sender`, and its receipt with one event
/// keyed `event_key`.
fn transaction(hash: u64, sender: ContractAddress, event_key: u64) -> (Transaction, Receipt) {
    let hash = TransactionHash(felt(hash));
    let transaction = Transaction {
        hash,
        variant: TransactionVariant::InvokeV1(InvokeTransactionV1 {
            sender_address: sender,
            calldata: vec![felt(1)],
            max_fee: felt(10),
            signature: vec![],
            nonce: felt(0),
        }),
    };
    let receipt = Receipt {
        transaction_hash: hash,
        actual_fee: felt(3),
        execution_status: ExecutionStatus::Succeeded,
        events: vec![Event {
            from_address: sender,
            keys: vec![felt(event_key)],
            data: vec![],
        }],
        l2_to_l1_messages: vec![],
        l1_to_l2_consumed_message: None,
        execution_resources: ExecutionResources::default(),
    };
    (transaction, receipt)
}

fn storage_diff(contract: u64, entries: &[(u64, u64)]) -> ContractStorageDiff {
    ContractStorageDiff {
        address: address(contract),
        entries: entries
            .iter()
            .map(|(key, value)| StorageEntry {
                key: StorageKey(felt(*key)),
                value: felt(*value),
            })
            .collect(),
    }
}

fn deployed(contract: u64, class_hash: u64) -> DeployedContract {
    DeployedContract {
        address: address(contract),
        class_hash: ClassHash(felt(class_hash)),
    }
}

fn sierra_class(
    hash: u64,
    compiled_hash: u64,
    declared_at: u64,
) -> (DeclaredClass, ClassDefinition) {
    let declared = DeclaredClass {
        class_hash: ClassHash(felt(hash)),
        compiled_class_hash: CompiledClassHash(felt(compiled_hash)),
    };
    let definition = ClassDefinition {
        hash: ClassHash(felt(hash)),
        kind: ClassKind::Sierra {
            compiled_class_hash: CompiledClassHash(felt(compiled_hash)),
        },
        declared_at: BlockNumber(declared_at),
        definition: format!(r#"{{"sierra":{hash}}}"#).into_bytes(),
        compiled: Some(format!(r#"{{"casm":{hash}}}"#).into_bytes()),
    };
    (declared, definition)
}

/// Builds a block with the given diff, one transaction per entry of `transactions` and the
/// state commitment computed on the writer's head.
fn block(
    storage: &Storage,
    writer: &BlockWriter,
    hash: u64,
    transactions: &[(u64, u64)],
    state_diff: StateDiff,
    new_classes: Vec<ClassDefinition>,
) -> BlockCommit {
    let number = writer.next_block_number().get();
    let parent = writer.head().map(|(_, hash)| hash).unwrap_or_default();
    let (transactions, receipts): (Vec<_>, Vec<_>) = transactions
        .iter()
        .map(|(hash, event_key)| transaction(*hash, address(0xc0), *event_key))
        .unzip();
    let mut header = header(number, hash, parent, transactions.len() as u64);
    let state_commitment = storage
        .compute_state_commitment(writer.head().map(|(number, _)| number), &state_diff)
        .unwrap();
    header.state_root = state_commitment.roots.global_root();
    BlockCommit {
        header,
        transactions,
        receipts,
        state_diff,
        new_classes,
        state_commitment,
    }
}

/// Block 0 deploys 0xc0 (Cairo 0 class 0xcc) and writes two slots. Block 1 deploys 0xc1
/// with Sierra class 0x6161, which it declares, and bumps 0xc0's nonce. Block 2 changes
/// and adds slots, bumps the nonce again, deploys 0xc2 with the class of block 1, replaces
/// 0xc1's class with 0x7171, which it declares, and has two transactions.
fn three_blocks(storage: &Storage, writer: &mut BlockWriter) {
    let cairo0 = ClassDefinition {
        hash: ClassHash(felt(0xcc)),
        kind: ClassKind::Cairo0,
        declared_at: BlockNumber(0),
        definition: br#"{"abi":[],"program":{}}"#.to_vec(),
        compiled: None,
    };
    let diff = StateDiff {
        storage_diffs: vec![storage_diff(0xc0, &[(5, 11), (6, 12)])],
        deployed_contracts: vec![deployed(0xc0, 0xcc)],
        deprecated_declared_classes: vec![ClassHash(felt(0xcc))],
        ..StateDiff::default()
    };
    let commit = block(storage, writer, 0x100, &[(0x5000, 1)], diff, vec![cairo0]);
    writer.commit(commit).unwrap();

    let (declared, class) = sierra_class(0x6161, 0x8888, 1);
    let diff = StateDiff {
        storage_diffs: vec![storage_diff(0xc1, &[(1, 21)])],
        nonces: vec![NonceUpdate {
            contract_address: address(0xc0),
            nonce: felt(1),
        }],
        deployed_contracts: vec![deployed(0xc1, 0x6161)],
        declared_classes: vec![declared],
        ..StateDiff::default()
    };
    let commit = block(storage, writer, 0x101, &[(0x5001, 2)], diff, vec![class]);
    writer.commit(commit).unwrap();

    let (declared, class) = sierra_class(0x7171, 0x9999, 2);
    let diff = StateDiff {
        storage_diffs: vec![
            storage_diff(0xc0, &[(5, 33), (7, 34)]),
            storage_diff(0xc2, &[(1, 35)]),
        ],
        nonces: vec![NonceUpdate {
            contract_address: address(0xc0),
            nonce: felt(2),
        }],
        deployed_contracts: vec![deployed(0xc2, 0x6161)],
        replaced_classes: vec![deployed(0xc1, 0x7171)],
        declared_classes: vec![declared],
        ..StateDiff::default()
    };
    let commit = block(
        storage,
        writer,
        0x102,
        &[(0x5002, 3), (0x5003, 4)],
        diff,
        vec![class],
    );
    writer.commit(commit).unwrap();
}

/// Asserts that every read returns the state after block 1, with no block 2 stored.
fn assert_view_of_block_1(storage: &Storage) {
    let block_1 = BlockNumber(1);
    let block_2 = BlockNumber(2);
    assert_eq!(
        storage.head().unwrap(),
        Some((block_1, BlockHash(felt(0x101))))
    );

    assert_eq!(storage.header(block_2).unwrap(), None);
    assert_eq!(
        storage
            .block_number_by_hash(BlockHash(felt(0x102)))
            .unwrap(),
        None
    );
    assert!(storage.transactions(block_2).unwrap().is_empty());
    assert!(storage.receipts(block_2).unwrap().is_empty());
    for hash in [0x5002, 0x5003] {
        let location = storage.transaction_location(TransactionHash(felt(hash)));
        assert_eq!(location.unwrap(), None, "transaction {hash:#x}");
    }
    assert_eq!(storage.state_diff(block_2).unwrap(), None);
    assert_eq!(storage.state_roots(block_2).unwrap(), None);
    assert_eq!(storage.event_filter(block_2).unwrap(), None);

    // Reads "at block 2" and later fall through to block 1's values.
    for at in [block_1, block_2, BlockNumber(10)] {
        let slot = |contract, key| storage.storage_at(address(contract), StorageKey(felt(key)), at);
        assert_eq!(slot(0xc0, 5).unwrap(), felt(11), "0xc0 slot 5 at {at}");
        assert_eq!(slot(0xc0, 6).unwrap(), felt(12), "0xc0 slot 6 at {at}");
        assert_eq!(slot(0xc0, 7).unwrap(), Felt::ZERO, "0xc0 slot 7 at {at}");
        assert_eq!(slot(0xc2, 1).unwrap(), Felt::ZERO, "0xc2 slot 1 at {at}");
        assert_eq!(storage.nonce_at(address(0xc0), at).unwrap(), Some(felt(1)));
        assert_eq!(
            storage.class_hash_at(address(0xc1), at).unwrap(),
            Some(ClassHash(felt(0x6161)))
        );
        assert_eq!(storage.class_hash_at(address(0xc2), at).unwrap(), None);
        assert_eq!(
            storage.storage_root_at(address(0xc0), at).unwrap(),
            storage.storage_root_at(address(0xc0), block_1).unwrap()
        );
        assert_eq!(
            storage.storage_root_at(address(0xc2), at).unwrap(),
            Felt::ZERO
        );
    }

    // The class declared in block 2 is gone; the one block 2 only deployed stays.
    let removed = ClassHash(felt(0x7171));
    assert_eq!(storage.class_info(removed).unwrap(), None);
    assert_eq!(storage.class_definition(removed).unwrap(), None);
    assert_eq!(storage.compiled_class(removed).unwrap(), None);
    let kept = ClassHash(felt(0x6161));
    assert_eq!(
        storage
            .class_info(kept)
            .unwrap()
            .map(|info| info.declared_at),
        Some(block_1)
    );
    assert!(storage.compiled_class(kept).unwrap().is_some());

    // Block 1 itself is untouched.
    let header_1 = storage.header(block_1).unwrap().unwrap();
    assert_eq!(storage.transactions(block_1).unwrap().len(), 1);
    assert_eq!(
        storage.state_roots(block_1).unwrap().unwrap().global_root(),
        header_1.state_root
    );
}

#[test]
fn revert_head_restores_parent_view() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let mut writer = storage.writer().unwrap();
    three_blocks(&storage, &mut writer);
    let mut events = storage.subscribe();

    let reverted = writer.revert_head().unwrap();
    assert_eq!(reverted.number, BlockNumber(2));
    assert_eq!(
        reverted.header.map(|header| header.hash),
        Some(BlockHash(felt(0x102)))
    );
    assert_eq!(
        reverted.new_head,
        Some((BlockNumber(1), BlockHash(felt(0x101))))
    );
    assert_eq!(writer.head(), reverted.new_head);
    assert_eq!(writer.next_block_number(), BlockNumber(2));
    match events.try_recv().unwrap() {
        ChainEvent::Reverted { first, last } => {
            assert_eq!(first, BlockNumber(2));
            assert_eq!(last, BlockNumber(2));
        }
        other => panic!("expected a revert event, got {other:?}"),
    }

    assert_view_of_block_1(&storage);
}

#[test]
fn different_block_commits_after_revert() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let mut writer = storage.writer().unwrap();
    three_blocks(&storage, &mut writer);
    writer.revert_head().unwrap();

    // Another block 2: reuses one transaction hash of the reverted block, writes one of
    // its slots to another value and declares the reverted block's class again.
    let (declared, class) = sierra_class(0x7171, 0x9999, 2);
    let diff = StateDiff {
        storage_diffs: vec![storage_diff(0xc0, &[(5, 44)])],
        declared_classes: vec![declared],
        ..StateDiff::default()
    };
    let commit = block(&storage, &writer, 0x202, &[(0x5002, 7)], diff, vec![class]);
    let new_root = commit.header.state_root;
    writer.commit(commit).unwrap();

    let block_2 = BlockNumber(2);
    assert_eq!(
        storage.head().unwrap(),
        Some((block_2, BlockHash(felt(0x202))))
    );
    assert_eq!(
        storage
            .block_number_by_hash(BlockHash(felt(0x102)))
            .unwrap(),
        None
    );
    assert_eq!(
        storage
            .block_number_by_hash(BlockHash(felt(0x202)))
            .unwrap(),
        Some(block_2)
    );
    let transactions = storage.transactions(block_2).unwrap();
    assert_eq!(transactions.len(), 1);
    assert_eq!(storage.receipts(block_2).unwrap().len(), 1);
    assert_eq!(
        storage
            .transaction_location(TransactionHash(felt(0x5002)))
            .unwrap(),
        Some(TransactionLocation {
            block_number: block_2,
            index: 0
        })
    );
    assert_eq!(
        storage
            .transaction_location(TransactionHash(felt(0x5003)))
            .unwrap(),
        None
    );

    let slot =
        |contract, key| storage.storage_at(address(contract), StorageKey(felt(key)), block_2);
    assert_eq!(slot(0xc0, 5).unwrap(), felt(44));
    assert_eq!(slot(0xc0, 7).unwrap(), Felt::ZERO);
    assert_eq!(slot(0xc2, 1).unwrap(), Felt::ZERO);
    assert_eq!(
        storage.nonce_at(address(0xc0), block_2).unwrap(),
        Some(felt(1))
    );
    assert_eq!(
        storage.class_hash_at(address(0xc1), block_2).unwrap(),
        Some(ClassHash(felt(0x6161)))
    );
    assert_eq!(
        storage
            .class_info(ClassHash(felt(0x7171)))
            .unwrap()
            .map(|info| info.declared_at),
        Some(block_2)
    );
    assert_eq!(
        storage.state_roots(block_2).unwrap().unwrap().global_root(),
        new_root
    );

    let filter = storage.event_filter(block_2).unwrap().unwrap();
    assert!(filter.may_contain_key(0, &felt(7)));

    // The new block's state commitment matches one recomputed from the stored diff.
    let recomputed = storage
        .compute_state_commitment(
            Some(BlockNumber(1)),
            &storage.state_diff(block_2).unwrap().unwrap(),
        )
        .unwrap();
    assert_eq!(recomputed.roots.global_root(), new_root);
}

#[test]
fn revert_to_removes_each_block() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    let mut writer = storage.writer().unwrap();
    three_blocks(&storage, &mut writer);
    let mut events = storage.subscribe();

    let error = writer.revert_to(BlockNumber(0), 1).unwrap_err();
    assert!(
        matches!(error, StorageError::RevertTooDeep { max_depth: 1, .. }),
        "{error}"
    );
    let error = writer.revert_to(BlockNumber(3), 10).unwrap_err();
    assert!(
        matches!(error, StorageError::RevertTargetAboveHead { .. }),
        "{error}"
    );
    assert_eq!(
        storage.head().unwrap().map(|(number, _)| number),
        Some(BlockNumber(2))
    );
    assert!(
        events.try_recv().is_err(),
        "a rejected revert sends no event"
    );

    assert!(writer.revert_to(BlockNumber(2), 0).unwrap().is_empty());

    let reverted = writer.revert_to(BlockNumber(0), 2).unwrap();
    let numbers: Vec<u64> = reverted.iter().map(|block| block.number.get()).collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(
        storage.head().unwrap(),
        Some((BlockNumber(0), BlockHash(felt(0x100))))
    );
    match events.try_recv().unwrap() {
        ChainEvent::Reverted { first, last } => {
            assert_eq!(first, BlockNumber(1));
            assert_eq!(last, BlockNumber(2));
        }
        other => panic!("expected a revert event, got {other:?}"),
    }
    assert!(events.try_recv().is_err(), "one event for the whole range");

    assert_eq!(storage.class_info(ClassHash(felt(0x6161))).unwrap(), None);
    assert_eq!(
        storage
            .class_hash_at(address(0xc1), BlockNumber(5))
            .unwrap(),
        None
    );
    assert_eq!(
        storage.nonce_at(address(0xc0), BlockNumber(5)).unwrap(),
        None
    );

    // Reverting block 0 empties the chain; the class it declared goes with it.
    let genesis = writer.revert_head().unwrap();
    assert_eq!(genesis.new_head, None);
    assert_eq!(storage.head().unwrap(), None);
    assert_eq!(writer.next_block_number(), BlockNumber(0));
    assert_eq!(storage.class_info(ClassHash(felt(0xcc))).unwrap(), None);
    assert_eq!(
        storage
            .storage_at(address(0xc0), StorageKey(felt(5)), BlockNumber(0))
            .unwrap(),
        Felt::ZERO
    );
    assert!(matches!(
        writer.revert_head(),
        Err(StorageError::EmptyChain)
    ));
}

#[test]
fn open_reverts_head_without_state_roots() {
    let dir = tempfile::tempdir().unwrap();
    {
        let storage = Storage::open(dir.path(), sepolia()).unwrap();
        three_blocks(&storage, &mut storage.writer().unwrap());
        storage
            .test_delete_raw(schema::STATE_ROOTS, &schema::block_key(BlockNumber(2)))
            .unwrap();
    }

    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    assert_view_of_block_1(&storage);
    assert_eq!(
        storage.writer().unwrap().next_block_number(),
        BlockNumber(2)
    );
}

#[test]
fn open_reverts_blocks_above_missing_header() {
    let dir = tempfile::tempdir().unwrap();
    {
        let storage = Storage::open(dir.path(), sepolia()).unwrap();
        three_blocks(&storage, &mut storage.writer().unwrap());
        storage
            .test_delete_raw(schema::HEADERS, &schema::block_key(BlockNumber(1)))
            .unwrap();
    }

    let storage = Storage::open_existing(dir.path()).unwrap();
    assert_eq!(
        storage.head().unwrap(),
        Some((BlockNumber(0), BlockHash(felt(0x100))))
    );
    assert_eq!(storage.header(BlockNumber(2)).unwrap(), None);
    assert_eq!(storage.class_info(ClassHash(felt(0x7171))).unwrap(), None);
    assert_eq!(
        storage
            .transaction_location(TransactionHash(felt(0x5001)))
            .unwrap(),
        None
    );
    assert_eq!(
        storage
            .storage_at(address(0xc1), StorageKey(felt(1)), BlockNumber(5))
            .unwrap(),
        Felt::ZERO
    );
}

#[test]
fn open_keeps_consistent_chain() {
    let dir = tempfile::tempdir().unwrap();
    {
        let storage = Storage::open(dir.path(), sepolia()).unwrap();
        three_blocks(&storage, &mut storage.writer().unwrap());
    }
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    assert_eq!(
        storage.head().unwrap(),
        Some((BlockNumber(2), BlockHash(felt(0x102))))
    );
}

#[test]
fn open_existing_rejects_locked_database() {
    let dir = tempfile::tempdir().unwrap();
    let _running = Storage::open(dir.path(), sepolia()).unwrap();
    let error = Storage::open_existing(dir.path()).unwrap_err();
    assert!(matches!(error, StorageError::Locked { .. }), "{error}");

    let missing = dir.path().join("missing");
    let error = Storage::open_existing(&missing).unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "{error}");
}
