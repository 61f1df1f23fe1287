//! Block commitments: the transaction, event and receipt commitments (roots of height-64
//! trees over per-item hashes), and the packed counts of the block hash.
//!
//! Before Starknet 0.13.2 the trees and their leaves hash with Pedersen. From 0.13.2 on
//! they hash with Poseidon, and events and receipts are bound to their transaction hash.

use starknet_types_core::hash::{Pedersen, Poseidon, StarkHash};
use starling_storage::{
    ExecutionStatus, Felt, L1DataAvailabilityMode, Receipt, Transaction, TransactionVariant,
};

use super::commitment_tree::commitment_root;
use super::version::StarknetVersion;

/// Returns the transaction commitment of a block of the given version.
///
/// Each leaf binds a transaction hash to the transaction's signature:
/// * before 0.11.1: `pedersen(hash, pedersen_array(signature))`, where only INVOKE
///   transactions contribute their signature and every other type an empty list;
/// * 0.11.1 up to 0.13.2: the same with the signature of every type that has one
///   (DEPLOY and L1_HANDLER have none);
/// * 0.13.2 up to 0.13.4: `poseidon_array([hash, signature...])`, with `[0]` standing in
///   for an empty signature;
/// * 0.13.4 and later: the same without the stand-in.
pub fn transaction_commitment(transactions: &[Transaction], version: StarknetVersion) -> Felt {
    if version < StarknetVersion::V0_13_2 {
        let leaves: Vec<Felt> = transactions
            .iter()
            .map(|transaction| {
                let signature =
                    if version < StarknetVersion::V0_11_1 && !is_invoke(&transaction.variant) {
                        &[]
                    } else {
                        signature(&transaction.variant)
                    };
                Pedersen::hash(&transaction.hash.0, &Pedersen::hash_array(signature))
            })
            .collect();
        return commitment_root::<Pedersen>(&leaves);
    }

    let leaves: Vec<Felt> = transactions
        .iter()
        .map(|transaction| {
            let signature = signature(&transaction.variant);
            let mut elements = Vec::with_capacity(signature.len() + 2);
            elements.push(transaction.hash.0);
            elements.extend_from_slice(signature);
            if signature.is_empty() && version < StarknetVersion::V0_13_4 {
                elements.push(Felt::ZERO);
            }
            Poseidon::hash_array(&elements)
        })
        .collect();
    commitment_root::<Poseidon>(&leaves)
}

fn is_invoke(transaction: &TransactionVariant) -> bool {
    matches!(
        transaction,
        TransactionVariant::InvokeV0(_)
            | TransactionVariant::InvokeV1(_)
            | TransactionVariant::InvokeV3(_)
    )
}

fn signature(transaction: &TransactionVariant) -> &[Felt] {
    match transaction {
        TransactionVariant::InvokeV0(tx) => &tx.signature,
        TransactionVariant::InvokeV1(tx) => &tx.signature,
        TransactionVariant::InvokeV3(tx) => &tx.signature,
        TransactionVariant::DeclareV0(tx) | TransactionVariant::DeclareV1(tx) => &tx.signature,
        TransactionVariant::DeclareV2(tx) => &tx.signature,
        TransactionVariant::DeclareV3(tx) => &tx.signature,
        TransactionVariant::DeployAccountV1(tx) => &tx.signature,
        TransactionVariant::DeployAccountV3(tx) => &tx.signature,
        TransactionVariant::Deploy(_) | TransactionVariant::L1Handler(_) => &[],
    }
}

/// Returns the event commitment over the events of all receipts, in block order.
///
/// Before 0.13.2 an event hashes as `pedersen_array([from_address, pedersen_array(keys),
/// pedersen_array(data)])`. From 0.13.2 on it hashes as `poseidon_array([from_address,
/// transaction_hash, len(keys), keys..., len(data), data...])`, where the transaction hash
/// is the `transaction_hash` of the receipt that emitted it.
pub fn event_commitment(receipts: &[Receipt], version: StarknetVersion) -> Felt {
    let events = receipts
        .iter()
        .flat_map(|receipt| receipt.events.iter().map(move |event| (receipt, event)));

    if version < StarknetVersion::V0_13_2 {
        let leaves: Vec<Felt> = events
            .map(|(_, event)| {
                Pedersen::hash_array(&[
                    event.from_address.0,
                    Pedersen::hash_array(&event.keys),
                    Pedersen::hash_array(&event.data),
                ])
            })
            .collect();
        return commitment_root::<Pedersen>(&leaves);
    }

    let leaves: Vec<Felt> = events
        .map(|(receipt, event)| {
            let mut elements = Vec::with_capacity(event.keys.len() + event.data.len() + 4);
            elements.push(event.from_address.0);
            elements.push(receipt.transaction_hash.0);
            push_length_and_elements(&mut elements, &event.keys);
            push_length_and_elements(&mut elements, &event.data);
            Poseidon::hash_array(&elements)
        })
        .collect();
    commitment_root::<Poseidon>(&leaves)
}

/// Returns the receipt commitment of a Starknet 0.13.2+ block (older blocks have none).
///
/// A receipt hashes as `poseidon_array([transaction_hash, actual_fee, messages_hash,
/// revert_reason_hash, 0, l1_gas, l1_data_gas])`:
/// * `messages_hash` is `poseidon_array([count, (from_address, to_address, len(payload),
///   payload...)...])` over the L2-to-L1 messages;
/// * `revert_reason_hash` is zero for a succeeded transaction and the Starknet Keccak of
///   the revert reason otherwise;
/// * the zero is the L2 gas slot. StarkWare's `starknet_api` hashes zero there, and the
///   receipt commitments of Starknet 0.13.2 to 0.14.1 blocks recompute with it;
/// * the gas amounts are the receipt's `total_gas_consumed`, zero when absent.
pub fn receipt_commitment(receipts: &[Receipt]) -> Felt {
    let leaves: Vec<Felt> = receipts.iter().map(receipt_hash).collect();
    commitment_root::<Poseidon>(&leaves)
}

fn receipt_hash(receipt: &Receipt) -> Felt {
    let mut messages = vec![Felt::from(receipt.l2_to_l1_messages.len())];
    for message in &receipt.l2_to_l1_messages {
        messages.push(message.from_address.0);
        messages.push(message.to_address);
        push_length_and_elements(&mut messages, &message.payload);
    }

    let revert_reason_hash = match &receipt.execution_status {
        ExecutionStatus::Succeeded => Felt::ZERO,
        ExecutionStatus::Reverted { reason } => starknet_keccak(reason.as_bytes()),
    };

    let gas = receipt
        .execution_resources
        .total_gas_consumed
        .unwrap_or_default();

    Poseidon::hash_array(&[
        receipt.transaction_hash.0,
        receipt.actual_fee,
        Poseidon::hash_array(&messages),
        revert_reason_hash,
        Felt::ZERO,
        Felt::from(gas.l1_gas),
        Felt::from(gas.l1_data_gas),
    ])
}

/// Returns the Keccak-256 of `bytes` reduced to its low 250 bits, as Starknet uses for
/// selectors and revert reasons.
fn starknet_keccak(bytes: &[u8]) -> Felt {
    let hash = starknet_core::utils::starknet_keccak(bytes);
    Felt::from_bytes_be(&hash.to_bytes_be())
}

/// Packs the counts of a Starknet 0.13.2+ block into one felt, big-endian: transaction
/// count, event count and state diff length as 64 bits each, then one byte whose top bit
/// is set for `BLOB` data availability, then seven zero bytes.
pub fn concatenated_counts(
    transaction_count: u64,
    event_count: u64,
    state_diff_length: u64,
    l1_da_mode: L1DataAvailabilityMode,
) -> Felt {
    let mut bytes = [0u8; 32];
    bytes[0..8].copy_from_slice(&transaction_count.to_be_bytes());
    bytes[8..16].copy_from_slice(&event_count.to_be_bytes());
    bytes[16..24].copy_from_slice(&state_diff_length.to_be_bytes());
    bytes[24] = match l1_da_mode {
        L1DataAvailabilityMode::Calldata => 0,
        L1DataAvailabilityMode::Blob => 0b1000_0000,
    };
    Felt::from_bytes_be(&bytes)
}

pub(super) fn push_length_and_elements(elements: &mut Vec<Felt>, list: &[Felt]) {
    elements.push(Felt::from(list.len()));
    elements.extend_from_slice(list);
}

#[cfg(test)]
mod tests {
    use starling_storage::{
        ClassHash, ContractAddress, Event, ExecutionResources, GasVector, InvokeTransactionV0,
        L1HandlerTransaction, TransactionHash,
    };

    use super::*;

    fn felt(hex: &str) -> Felt {
        Felt::from_hex(hex).unwrap()
    }

    fn version(text: &str) -> StarknetVersion {
        StarknetVersion::parse(text).unwrap()
    }

    fn invoke(hash: u64, signature: Vec<Felt>) -> Transaction {
        Transaction {
            hash: TransactionHash(Felt::from(hash)),
            variant: TransactionVariant::InvokeV0(InvokeTransactionV0 {
                max_fee: Felt::ZERO,
                signature,
                contract_address: ContractAddress(felt("0xdeadbeef")),
                entry_point_selector: felt("0xe"),
                calldata: vec![],
            }),
        }
    }

    fn l1_handler(hash: u64) -> Transaction {
        Transaction {
            hash: TransactionHash(Felt::from(hash)),
            variant: TransactionVariant::L1Handler(L1HandlerTransaction {
                version: Felt::ZERO,
                nonce: Felt::ZERO,
                contract_address: ContractAddress(Felt::ONE),
                entry_point_selector: Felt::TWO,
                calldata: vec![],
            }),
        }
    }

    fn receipt(hash: u64, events: Vec<Event>) -> Receipt {
        Receipt {
            transaction_hash: TransactionHash(Felt::from(hash)),
            actual_fee: Felt::from(100u64),
            execution_status: ExecutionStatus::Succeeded,
            events,
            l2_to_l1_messages: vec![],
            l1_to_l2_consumed_message: None,
            execution_resources: ExecutionResources {
                total_gas_consumed: Some(GasVector {
                    l1_gas: 5,
                    l1_data_gas: 6,
                    l2_gas: 7,
                }),
                ..ExecutionResources::default()
            },
        }
    }

    /// Root of a tree whose only leaf is at index 0.
    fn single_leaf_root<H: StarkHash>(leaf: Felt) -> Felt {
        H::hash(&leaf, &Felt::ZERO) + Felt::from(64u64)
    }

    #[test]
    fn empty_block_commitments_are_zero() {
        for text in ["", "0.11.0", "0.13.1", "0.13.2", "0.14.1"] {
            assert_eq!(
                transaction_commitment(&[], version(text)),
                Felt::ZERO,
                "{text}"
            );
            assert_eq!(event_commitment(&[], version(text)), Felt::ZERO, "{text}");
        }
        assert_eq!(receipt_commitment(&[]), Felt::ZERO);
    }

    /// The leaf value is Pathfinder's test vector (from cairo-lang's
    /// `calculate_single_tx_hash_with_signature(1, [2, 3], hash_function=pedersen_hash)`).
    #[test]
    fn pedersen_transaction_leaf_vector() {
        let leaf = felt("0x259c3bd5a1951eafb2f41e0b783eab92cfe4e108b2b1f071e3736f06b909431");
        let transactions = [invoke(1, vec![Felt::TWO, Felt::THREE])];
        assert_eq!(
            transaction_commitment(&transactions, version("0.12.3")),
            single_leaf_root::<Pedersen>(leaf)
        );
    }

    /// The leaf value is Pathfinder's test vector (from cairo-lang's
    /// `calculate_event_hash(0xdeadbeef, [1, 2, 3, 4], [5, 6, 7, 8, 9])`).
    #[test]
    fn pedersen_event_leaf_vector() {
        let event = Event {
            from_address: ContractAddress(felt("0xdeadbeef")),
            keys: (1..=4u64).map(Felt::from).collect(),
            data: (5..=9u64).map(Felt::from).collect(),
        };
        let leaf = felt("0xdb96455b3a61f9139f7921667188d31d1e1d49fb60a1aa3dbf3756dbe3a9b4");
        assert_eq!(
            event_commitment(&[receipt(1, vec![event])], version("0.13.1")),
            single_leaf_root::<Pedersen>(leaf)
        );
    }

    #[test]
    fn non_invoke_signatures_from_0_11_1() {
        let declare = Transaction {
            hash: TransactionHash(Felt::from(9u64)),
            variant: TransactionVariant::DeclareV1(starling_storage::DeclareTransactionV0V1 {
                sender_address: ContractAddress(Felt::ONE),
                max_fee: Felt::ZERO,
                signature: vec![Felt::from(4u64)],
                nonce: Felt::ZERO,
                class_hash: ClassHash(Felt::TWO),
            }),
        };
        let transactions = [declare];
        let before = transaction_commitment(&transactions, version("0.11.0"));
        let after = transaction_commitment(&transactions, version("0.11.1"));
        assert_eq!(
            before,
            single_leaf_root::<Pedersen>(Pedersen::hash(
                &Felt::from(9u64),
                &Pedersen::hash_array(&[])
            ))
        );
        assert_ne!(before, after);
    }

    #[test]
    fn empty_signature_placeholder_ends_at_0_13_4() {
        let transactions = [l1_handler(7)];
        let hash = Felt::from(7u64);
        assert_eq!(
            transaction_commitment(&transactions, version("0.13.3")),
            single_leaf_root::<Poseidon>(Poseidon::hash_array(&[hash, Felt::ZERO]))
        );
        assert_eq!(
            transaction_commitment(&transactions, version("0.13.4")),
            single_leaf_root::<Poseidon>(Poseidon::hash_array(&[hash]))
        );
    }

    #[test]
    fn poseidon_event_leaf_binds_the_transaction_hash() {
        let event = Event {
            from_address: ContractAddress(Felt::ONE),
            keys: vec![Felt::TWO],
            data: vec![Felt::THREE, Felt::from(4u64)],
        };
        let leaf = Poseidon::hash_array(&[
            Felt::ONE,
            Felt::from(8u64),
            Felt::ONE,
            Felt::TWO,
            Felt::TWO,
            Felt::THREE,
            Felt::from(4u64),
        ]);
        assert_eq!(
            event_commitment(&[receipt(8, vec![event])], version("0.13.2")),
            single_leaf_root::<Poseidon>(leaf)
        );
    }

    #[test]
    fn receipt_leaf_layout() {
        let leaf = Poseidon::hash_array(&[
            Felt::ONE,
            Felt::from(100u64),
            Poseidon::hash_array(&[Felt::ZERO]),
            Felt::ZERO,
            Felt::ZERO,
            Felt::from(5u64),
            Felt::from(6u64),
        ]);
        assert_eq!(
            receipt_commitment(&[receipt(1, vec![])]),
            single_leaf_root::<Poseidon>(leaf)
        );
    }

    #[test]
    fn revert_reason_changes_the_receipt_commitment() {
        let succeeded = receipt(1, vec![]);
        let reverted = Receipt {
            execution_status: ExecutionStatus::Reverted {
                reason: "out of gas".to_owned(),
            },
            ..succeeded.clone()
        };
        assert_ne!(
            receipt_commitment(&[succeeded]),
            receipt_commitment(&[reverted])
        );
    }

    #[test]
    fn concatenated_counts_layout() {
        // 64-bit transaction, event and state diff counts, the mode byte, seven zero bytes.
        let blob = [
            "0x",
            "0000000000000001",
            "0000000000000002",
            "0000000000000003",
            "80",
            "00000000000000",
        ]
        .concat();
        assert_eq!(
            concatenated_counts(1, 2, 3, L1DataAvailabilityMode::Blob),
            felt(&blob)
        );
        let calldata = blob.replace("380", "300");
        assert_eq!(
            concatenated_counts(1, 2, 3, L1DataAvailabilityMode::Calldata),
            felt(&calldata)
        );
    }
}
