//! Databases with a few synthetic blocks for handler tests.

use starling_storage::*;
use tempfile::TempDir;

use crate::context::RpcContext;

pub fn empty_context() -> (RpcContext, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let chain = ChainInfo {
        network: "sepolia".into(),
        chain_id: ChainId::SEPOLIA,
    };
    let storage = Storage::open(dir.path(), chain).unwrap();
    (RpcContext::new(storage), dir)
}

/// Blocks 0..count with no transactions; block n has hash 0x100 + n.
pub fn context_with_blocks(count: u64) -> (RpcContext, TempDir) {
    let (context, dir) = empty_context();
    let mut writer = context.storage.writer().unwrap();
    let mut parent = BlockHash::ZERO;
    for number in 0..count {
        let mut block = empty_block(number, parent);
        let head = writer.head().map(|(number, _)| number);
        block.state_commitment = context
            .storage
            .compute_state_commitment(head, &block.state_diff)
            .unwrap();
        let header = writer.commit(block).unwrap();
        parent = header.hash;
    }
    (context, dir)
}

pub fn empty_block(number: u64, parent: BlockHash) -> BlockCommit {
    BlockCommit {
        header: BlockHeader {
            number: BlockNumber(number),
            hash: BlockHash(Felt::from(0x100 + number)),
            parent_hash: parent,
            state_root: Felt::from(7u8),
            timestamp: 1_700_000_000 + number,
            sequencer_address: ContractAddress(Felt::from(1u8)),
            l1_gas_price: GasPrices::default(),
            l1_data_gas_price: GasPrices::default(),
            l2_gas_price: GasPrices::default(),
            l1_da_mode: L1DataAvailabilityMode::Calldata,
            starknet_version: "0.13.1".into(),
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
