//! The check of a whole block: every transaction hash, every commitment and count the
//! header claims, and the block hash.

use starling_storage::{BlockHeader, ChainId, Felt, Receipt, StateDiff, Transaction};

use super::block_hash::{block_hash, fallback_sequencer_block_hash, BlockCommitments};
use super::commitments::{event_commitment, receipt_commitment, transaction_commitment};
use super::error::{HashMismatch, VerifyError};
use super::state_diff_commitment::{state_diff_commitment, state_diff_length};
use super::transaction_hash::{verify_transaction_hash, HashContext};
use super::version::StarknetVersion;

/// Checks every hash a block claims: each transaction hash, each commitment the header
/// carries, the counts, and finally the block hash.
///
/// Receipt `i` must be the receipt of transaction `i`. `state_diff` is the block's state
/// diff. When it is `None`, the header's state diff commitment and length enter the block
/// hash unchecked. That is meant for recorded blocks without their state update, because
/// the sync pipeline always has the state diff.
///
/// Blocks that report no Starknet version (Mainnet before 0.9.1) carry `0x0` in place of
/// commitments the gateway did not record, so such zeros are treated as absent.
pub fn verify_block(
    header: &BlockHeader,
    transactions: &[Transaction],
    receipts: &[Receipt],
    state_diff: Option<&StateDiff>,
    chain_id: ChainId,
) -> Result<(), VerifyError> {
    let context = HashContext::for_header(header)?;
    let version = context.starknet_version;

    check_counts(header, transactions, receipts)?;

    for (index, transaction) in transactions.iter().enumerate() {
        verify_transaction_hash(transaction, chain_id, context).map_err(|mismatch| {
            HashMismatch {
                what: format!("transaction {index} ({:#x})", transaction.hash.0),
                ..mismatch
            }
        })?;
    }

    let unversioned = context.is_unversioned();
    let claimed =
        |value: Option<Felt>| value.filter(|value| !(unversioned && *value == Felt::ZERO));

    let mut commitments = BlockCommitments {
        transaction_commitment: transaction_commitment(transactions, version),
        event_commitment: event_commitment(receipts, version),
        ..BlockCommitments::default()
    };
    check_claim(
        "transaction commitment",
        claimed(header.transaction_commitment),
        commitments.transaction_commitment,
    )?;
    check_claim(
        "event commitment",
        claimed(header.event_commitment),
        commitments.event_commitment,
    )?;

    if version >= StarknetVersion::V0_13_2 {
        commitments.receipt_commitment = receipt_commitment(receipts);
        check_claim(
            "receipt commitment",
            header.receipt_commitment,
            commitments.receipt_commitment,
        )?;

        let (commitment, length) = state_diff_values(header, state_diff)?;
        commitments.state_diff_commitment = commitment;
        commitments.state_diff_length = length;
    }

    let computed = block_hash(header, &commitments, chain_id)?;
    if computed == header.hash.0 {
        return Ok(());
    }

    let fallback = fallback_sequencer_block_hash(header, &commitments, chain_id)?;
    if fallback == Some(header.hash.0) {
        return Ok(());
    }

    Err(HashMismatch {
        what: format!("block hash of block {}", header.number),
        expected: header.hash.0,
        computed,
    }
    .into())
}

/// Checks the transaction and event counts of the header, and that receipt `i` belongs to
/// transaction `i`.
fn check_counts(
    header: &BlockHeader,
    transactions: &[Transaction],
    receipts: &[Receipt],
) -> Result<(), VerifyError> {
    if header.transaction_count != transactions.len() as u64 {
        return Err(VerifyError::CountMismatch {
            what: "transaction count",
            claimed: header.transaction_count,
            actual: transactions.len() as u64,
        });
    }
    if receipts.len() != transactions.len() {
        return Err(VerifyError::CountMismatch {
            what: "receipt count",
            claimed: transactions.len() as u64,
            actual: receipts.len() as u64,
        });
    }
    for (index, (receipt, transaction)) in receipts.iter().zip(transactions).enumerate() {
        if receipt.transaction_hash != transaction.hash {
            return Err(VerifyError::ReceiptOrder {
                index,
                transaction: transaction.hash.0,
                receipt_transaction: receipt.transaction_hash.0,
            });
        }
    }

    let event_count: usize = receipts.iter().map(|receipt| receipt.events.len()).sum();
    if header.event_count != event_count as u64 {
        return Err(VerifyError::CountMismatch {
            what: "event count",
            claimed: header.event_count,
            actual: event_count as u64,
        });
    }
    Ok(())
}

fn check_claim(what: &str, claimed: Option<Felt>, computed: Felt) -> Result<(), HashMismatch> {
    match claimed {
        Some(claimed) if claimed != computed => Err(HashMismatch {
            what: what.to_owned(),
            expected: claimed,
            computed,
        }),
        _ => Ok(()),
    }
}

/// Returns the state diff commitment and length for a 0.13.2+ block hash: recomputed and
/// checked against the header when the state diff is given, else the header's values.
fn state_diff_values(
    header: &BlockHeader,
    state_diff: Option<&StateDiff>,
) -> Result<(Felt, u64), VerifyError> {
    if let Some(state_diff) = state_diff {
        let commitment = state_diff_commitment(state_diff);
        let length = state_diff_length(state_diff);
        check_claim(
            "state diff commitment",
            header.state_diff_commitment,
            commitment,
        )?;
        if let Some(claimed) = header.state_diff_length {
            if claimed != length {
                return Err(VerifyError::CountMismatch {
                    what: "state diff length",
                    claimed,
                    actual: length,
                });
            }
        }
        return Ok((commitment, length));
    }

    let missing = |field| VerifyError::MissingStateDiff {
        block_number: header.number.0,
        version: header.starknet_version.clone(),
        field,
    };
    let commitment = header
        .state_diff_commitment
        .ok_or_else(|| missing("state_diff_commitment"))?;
    let length = header
        .state_diff_length
        .ok_or_else(|| missing("state_diff_length"))?;
    Ok((commitment, length))
}

#[cfg(test)]
mod tests {
    use starling_storage::{
        BlockHash, BlockNumber, BlockStatus, ContractAddress, ContractStorageDiff, Event,
        ExecutionResources, ExecutionStatus, GasPrices, GasVector, L1DataAvailabilityMode,
        L1HandlerTransaction, StorageEntry, StorageKey, TransactionHash, TransactionVariant,
    };

    use super::super::transaction_hash::transaction_hash;
    use super::*;

    /// A one-transaction block whose header claims exactly what its contents give.
    struct SampleBlock {
        header: BlockHeader,
        transactions: Vec<Transaction>,
        receipts: Vec<Receipt>,
        state_diff: StateDiff,
    }

    impl SampleBlock {
        fn new(number: u64, version: &str, chain_id: ChainId) -> Self {
            let mut header = BlockHeader {
                number: BlockNumber(number),
                hash: BlockHash::ZERO,
                parent_hash: BlockHash(Felt::from(0xabcu64)),
                state_root: Felt::from(0x5eedu64),
                timestamp: 1_700_000_000,
                sequencer_address: ContractAddress(Felt::from(0x5e9u64)),
                l1_gas_price: GasPrices {
                    price_in_wei: Felt::from(3u64),
                    price_in_fri: Felt::from(4u64),
                },
                l1_data_gas_price: GasPrices {
                    price_in_wei: Felt::from(5u64),
                    price_in_fri: Felt::from(6u64),
                },
                l2_gas_price: GasPrices {
                    price_in_wei: Felt::from(7u64),
                    price_in_fri: Felt::from(8u64),
                },
                l1_da_mode: L1DataAvailabilityMode::Blob,
                starknet_version: version.to_owned(),
                status: BlockStatus::AcceptedOnL1,
                transaction_count: 1,
                event_count: 1,
                transaction_commitment: None,
                event_commitment: None,
                receipt_commitment: None,
                state_diff_commitment: None,
                state_diff_length: None,
            };
            let context = HashContext::for_header(&header).unwrap();

            let variant = TransactionVariant::L1Handler(L1HandlerTransaction {
                version: Felt::ZERO,
                nonce: Felt::from(12u64),
                contract_address: ContractAddress(Felt::from(0xc0u64)),
                entry_point_selector: Felt::from(0x5eu64),
                calldata: vec![Felt::ONE, Felt::TWO],
            });
            let hash = TransactionHash(transaction_hash(&variant, chain_id, context));
            let transactions = vec![Transaction { hash, variant }];
            let receipts = vec![Receipt {
                transaction_hash: hash,
                actual_fee: Felt::ZERO,
                execution_status: ExecutionStatus::Succeeded,
                events: vec![Event {
                    from_address: ContractAddress(Felt::from(0xc0u64)),
                    keys: vec![Felt::ONE],
                    data: vec![],
                }],
                l2_to_l1_messages: vec![],
                l1_to_l2_consumed_message: None,
                execution_resources: ExecutionResources {
                    total_gas_consumed: Some(GasVector {
                        l1_gas: 10,
                        l1_data_gas: 20,
                        l2_gas: 0,
                    }),
                    ..ExecutionResources::default()
                },
            }];
            let state_diff = StateDiff {
                storage_diffs: vec![ContractStorageDiff {
                    address: ContractAddress(Felt::from(0xc0u64)),
                    entries: vec![StorageEntry {
                        key: StorageKey(Felt::ONE),
                        value: Felt::TWO,
                    }],
                }],
                ..StateDiff::default()
            };

            let version = context.starknet_version;
            let mut commitments = BlockCommitments {
                transaction_commitment: transaction_commitment(&transactions, version),
                event_commitment: event_commitment(&receipts, version),
                ..BlockCommitments::default()
            };
            header.transaction_commitment = Some(commitments.transaction_commitment);
            header.event_commitment = Some(commitments.event_commitment);
            if version >= StarknetVersion::V0_13_2 {
                commitments.receipt_commitment = receipt_commitment(&receipts);
                commitments.state_diff_commitment = state_diff_commitment(&state_diff);
                commitments.state_diff_length = state_diff_length(&state_diff);
                header.receipt_commitment = Some(commitments.receipt_commitment);
                header.state_diff_commitment = Some(commitments.state_diff_commitment);
                header.state_diff_length = Some(commitments.state_diff_length);
            }
            header.hash = BlockHash(block_hash(&header, &commitments, chain_id).unwrap());

            Self {
                header,
                transactions,
                receipts,
                state_diff,
            }
        }

        fn verify(&self, chain_id: ChainId) -> Result<(), VerifyError> {
            verify_block(
                &self.header,
                &self.transactions,
                &self.receipts,
                Some(&self.state_diff),
                chain_id,
            )
        }
    }

    fn mismatch_subject(result: Result<(), VerifyError>) -> String {
        match result {
            Err(VerifyError::Mismatch(mismatch)) => mismatch.what,
            other => panic!("expected a hash mismatch, got {other:?}"),
        }
    }

    #[test]
    fn consistent_blocks_verify_in_every_era() {
        for version in [
            "0.11.0", "0.12.3", "0.13.1.1", "0.13.2", "0.13.3", "0.13.4", "0.14.1",
        ] {
            let block = SampleBlock::new(10, version, ChainId::SEPOLIA);
            assert_eq!(block.verify(ChainId::SEPOLIA), Ok(()), "{version}");
        }
    }

    #[test]
    fn each_era_hashes_differently() {
        let hashes: Vec<Felt> = ["0.13.1", "0.13.2", "0.13.4"]
            .iter()
            .map(|version| {
                SampleBlock::new(10, version, ChainId::SEPOLIA)
                    .header
                    .hash
                    .0
            })
            .collect();
        assert_ne!(hashes[0], hashes[1]);
        assert_ne!(hashes[1], hashes[2]);
    }

    #[test]
    fn tampered_transaction_is_reported_with_its_index() {
        let mut block = SampleBlock::new(10, "0.13.4", ChainId::SEPOLIA);
        let TransactionVariant::L1Handler(transaction) = &mut block.transactions[0].variant else {
            unreachable!("the sample transaction is an L1 handler");
        };
        transaction.calldata.push(Felt::THREE);
        let subject = mismatch_subject(block.verify(ChainId::SEPOLIA));
        assert!(subject.starts_with("transaction 0 (0x"), "{subject}");
    }

    #[test]
    fn wrong_chain_id_fails_the_transaction_hash() {
        let block = SampleBlock::new(10, "0.13.4", ChainId::SEPOLIA);
        let subject = mismatch_subject(block.verify(ChainId::MAINNET));
        assert!(subject.starts_with("transaction 0 "), "{subject}");
    }

    #[test]
    fn wrong_commitment_claims_are_named() {
        type Tamper = fn(&mut BlockHeader);
        let claims: [(&str, Tamper); 3] = [
            ("transaction commitment", |header| {
                header.transaction_commitment = Some(Felt::ONE)
            }),
            ("event commitment", |header| {
                header.event_commitment = Some(Felt::ONE)
            }),
            ("receipt commitment", |header| {
                header.receipt_commitment = Some(Felt::ONE)
            }),
        ];
        for (name, tamper) in claims {
            let mut block = SampleBlock::new(10, "0.13.4", ChainId::SEPOLIA);
            tamper(&mut block.header);
            assert_eq!(mismatch_subject(block.verify(ChainId::SEPOLIA)), name);
        }

        let mut block = SampleBlock::new(10, "0.13.4", ChainId::SEPOLIA);
        block.header.state_diff_commitment = Some(Felt::ONE);
        assert_eq!(
            mismatch_subject(block.verify(ChainId::SEPOLIA)),
            "state diff commitment"
        );
    }

    #[test]
    fn wrong_block_hash_is_reported() {
        let mut block = SampleBlock::new(10, "0.13.4", ChainId::SEPOLIA);
        block.header.timestamp += 1;
        assert_eq!(
            mismatch_subject(block.verify(ChainId::SEPOLIA)),
            "block hash of block 10"
        );
    }

    #[test]
    fn wrong_counts_are_reported() {
        let mut block = SampleBlock::new(10, "0.13.4", ChainId::SEPOLIA);
        block.header.event_count = 2;
        assert_eq!(
            block.verify(ChainId::SEPOLIA),
            Err(VerifyError::CountMismatch {
                what: "event count",
                claimed: 2,
                actual: 1
            })
        );

        let mut block = SampleBlock::new(10, "0.13.4", ChainId::SEPOLIA);
        block.header.state_diff_length = Some(5);
        assert_eq!(
            block.verify(ChainId::SEPOLIA),
            Err(VerifyError::CountMismatch {
                what: "state diff length",
                claimed: 5,
                actual: 1
            })
        );

        let mut block = SampleBlock::new(10, "0.13.4", ChainId::SEPOLIA);
        block.receipts.clear();
        assert!(matches!(
            block.verify(ChainId::SEPOLIA),
            Err(VerifyError::CountMismatch {
                what: "receipt count",
                ..
            })
        ));
    }

    #[test]
    fn receipt_of_another_transaction_is_rejected() {
        let mut block = SampleBlock::new(10, "0.13.4", ChainId::SEPOLIA);
        block.receipts[0].transaction_hash = TransactionHash(Felt::ONE);
        assert!(matches!(
            block.verify(ChainId::SEPOLIA),
            Err(VerifyError::ReceiptOrder { index: 0, .. })
        ));
    }

    #[test]
    fn header_claims_replace_missing_state_diff() {
        let block = SampleBlock::new(10, "0.13.4", ChainId::SEPOLIA);
        let without_diff = verify_block(
            &block.header,
            &block.transactions,
            &block.receipts,
            None,
            ChainId::SEPOLIA,
        );
        assert_eq!(without_diff, Ok(()));

        let mut header = block.header.clone();
        header.state_diff_commitment = None;
        let result = verify_block(
            &header,
            &block.transactions,
            &block.receipts,
            None,
            ChainId::SEPOLIA,
        );
        assert!(matches!(
            result,
            Err(VerifyError::MissingStateDiff {
                field: "state_diff_commitment",
                ..
            })
        ));
    }

    #[test]
    fn unreported_mainnet_sequencer_falls_back() {
        let mut block = SampleBlock::new(2240, "", ChainId::MAINNET);
        block.header.sequencer_address = ContractAddress::ZERO;
        let commitments = BlockCommitments {
            transaction_commitment: block.header.transaction_commitment.unwrap(),
            event_commitment: block.header.event_commitment.unwrap(),
            ..BlockCommitments::default()
        };
        let fallback = fallback_sequencer_block_hash(&block.header, &commitments, ChainId::MAINNET);
        block.header.hash = BlockHash(fallback.unwrap().unwrap());
        assert_eq!(block.verify(ChainId::MAINNET), Ok(()));
    }

    #[test]
    fn zero_claims_of_unversioned_blocks_are_absent() {
        let mut block = SampleBlock::new(2000, "", ChainId::MAINNET);
        block.header.transaction_commitment = Some(Felt::ZERO);
        block.header.event_commitment = Some(Felt::ZERO);
        assert_eq!(block.verify(ChainId::MAINNET), Ok(()));

        let mut versioned = SampleBlock::new(2000, "0.9.1", ChainId::MAINNET);
        versioned.header.transaction_commitment = Some(Felt::ZERO);
        assert_eq!(
            mismatch_subject(versioned.verify(ChainId::MAINNET)),
            "transaction commitment"
        );
    }
}
