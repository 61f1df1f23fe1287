//! Event filters written with each block, against a real RocksDB in a temporary directory.

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

fn event(address: u64, keys: &[u64]) -> Event {
    Event {
        from_address: ContractAddress(felt(address)),
        keys: keys.iter().map(|key| felt(*key)).collect(),
        data: vec![felt(1)],
    }
}

/// Builds a block with one invoke transaction per entry of `events`, which emits them.
fn block_with_events(number: u64, parent: BlockHash, events: Vec<Vec<Event>>) -> BlockCommit {
    let mut transactions = Vec::new();
    let mut receipts = Vec::new();
    for (index, events) in events.into_iter().enumerate() {
        let hash = TransactionHash(felt(number * 1000 + index as u64));
        transactions.push(Transaction {
            hash,
            variant: TransactionVariant::InvokeV1(InvokeTransactionV1 {
                sender_address: ContractAddress(felt(0xa)),
                calldata: vec![],
                max_fee: felt(1),
                signature: vec![],
                nonce: felt(index as u64),
            }),
        });
        receipts.push(Receipt {
            transaction_hash: hash,
            actual_fee: felt(1),
            execution_status: ExecutionStatus::Succeeded,
            events,
            l2_to_l1_messages: vec![],
            l1_to_l2_consumed_message: None,
            execution_resources: ExecutionResources::default(),
        });
    }

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
            transaction_count: transactions.len() as u64,
            event_count: 0,
            transaction_commitment: None,
            event_commitment: None,
            receipt_commitment: None,
            state_diff_commitment: None,
            state_diff_length: None,
        },
        transactions,
        receipts,
        state_diff: StateDiff::default(),
        new_classes: vec![],
        state_commitment: StateCommitmentUpdate::default(),
    }
}

fn commit_blocks(storage: &Storage, blocks: Vec<Vec<Vec<Event>>>) {
    let mut writer = storage.writer().unwrap();
    for events in blocks {
        let number = writer.next_block_number().get();
        let parent = writer.head().map(|(_, hash)| hash).unwrap_or_default();
        let mut block = block_with_events(number, parent, events);
        block.state_commitment = storage
            .compute_state_commitment(writer.head().map(|(number, _)| number), &block.state_diff)
            .unwrap();
        writer.commit(block).unwrap();
    }
}

fn query(addresses: &[u64], keys: &[&[u64]]) -> EventQuery {
    EventQuery {
        addresses: addresses
            .iter()
            .map(|address| ContractAddress(felt(*address)))
            .collect(),
        keys: keys
            .iter()
            .map(|values| values.iter().map(|key| felt(*key)).collect())
            .collect(),
    }
}

#[test]
fn writer_stores_a_filter_per_block() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    commit_blocks(
        &storage,
        vec![
            vec![vec![event(0xe1, &[7, 8])], vec![event(0xe2, &[9])]],
            vec![],
            vec![vec![]],
        ],
    );

    let first = storage.event_filter(BlockNumber(0)).unwrap().unwrap();
    assert!(first.may_contain_address(ContractAddress(felt(0xe2))));
    assert!(first.may_contain_key(1, &felt(8)));
    assert!(!first.may_contain_key(1, &felt(9)));

    let no_transactions = storage.event_filter(BlockNumber(1)).unwrap().unwrap();
    assert!(no_transactions.is_empty());
    let no_events = storage.event_filter(BlockNumber(2)).unwrap().unwrap();
    assert!(no_events.is_empty());
    assert_eq!(storage.event_filter(BlockNumber(3)).unwrap(), None);
}

#[test]
fn block_may_match_uses_the_stored_filter() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    commit_blocks(
        &storage,
        vec![vec![vec![event(0xe1, &[7])]], vec![vec![event(0xe2, &[8])]]],
    );

    let by_address = query(&[0xe1], &[]);
    assert!(storage
        .block_may_match_events(BlockNumber(0), &by_address)
        .unwrap());
    assert!(!storage
        .block_may_match_events(BlockNumber(1), &by_address)
        .unwrap());

    let by_key = query(&[], &[&[8]]);
    assert!(!storage
        .block_may_match_events(BlockNumber(0), &by_key)
        .unwrap());
    assert!(storage
        .block_may_match_events(BlockNumber(1), &by_key)
        .unwrap());
}

#[test]
fn block_without_stored_filter_may_match() {
    let dir = tempfile::tempdir().unwrap();
    {
        let storage = Storage::open(dir.path(), sepolia()).unwrap();
        commit_blocks(&storage, vec![vec![vec![event(0xe1, &[7])]]]);
    }

    // Remove the filter, as in a database synced before filters existed.
    {
        let mut options = rocksdb::Options::default();
        options.create_if_missing(false);
        let db = rocksdb::DB::open_cf(&options, dir.path(), schema::COLUMN_FAMILIES).unwrap();
        let filters = db.cf_handle(schema::EVENT_FILTERS).unwrap();
        db.delete_cf(filters, schema::block_key(BlockNumber(0)))
            .unwrap();
    }

    let storage = Storage::open(dir.path(), sepolia()).unwrap();
    assert_eq!(storage.event_filter(BlockNumber(0)).unwrap(), None);
    assert!(storage
        .block_may_match_events(BlockNumber(0), &query(&[0xbad], &[]))
        .unwrap());
}
