//! `TXN_RECEIPT`: one shape per transaction type, with execution resources that
//! differ between v0.7 and later versions.

use serde_json::{json, Map, Value};
use sha3::{Digest, Keccak256};
use starling_storage::{
    BlockStatus, ExecutionResources, ExecutionStatus, Felt, L1HandlerTransaction, Receipt,
    Transaction, TransactionVariant,
};

use super::{into_object, SpecVersion};

/// Builds the `TXN_RECEIPT` fields of a transaction in a block with status `finality`.
///
/// Every receipt has the common properties; L1 handler receipts add `message_hash`,
/// deploy and deploy-account receipts add the `contract_address` they deployed.
pub fn receipt_fields(
    transaction: &Transaction,
    receipt: &Receipt,
    finality: BlockStatus,
    version: SpecVersion,
) -> Map<String, Value> {
    let variant = &transaction.variant;
    let unit = if variant.pays_fee_in_fri() {
        "FRI"
    } else {
        "WEI"
    };
    let messages_sent: Vec<Value> = receipt
        .l2_to_l1_messages
        .iter()
        .map(|message| {
            json!({
                "from_address": message.from_address,
                "to_address": message.to_address,
                "payload": message.payload,
            })
        })
        .collect();
    let events: Vec<Value> = receipt
        .events
        .iter()
        .map(|event| {
            json!({
                "from_address": event.from_address,
                "keys": event.keys,
                "data": event.data,
            })
        })
        .collect();

    let mut fields = into_object(json!({
        "type": variant.type_name(),
        "transaction_hash": receipt.transaction_hash,
        "actual_fee": { "amount": receipt.actual_fee, "unit": unit },
        "finality_status": finality.as_str(),
        "messages_sent": messages_sent,
        "events": events,
        "execution_resources": execution_resources(&receipt.execution_resources, version),
    }));
    match &receipt.execution_status {
        ExecutionStatus::Succeeded => {
            fields.insert("execution_status".into(), json!("SUCCEEDED"));
        }
        ExecutionStatus::Reverted { reason } => {
            fields.insert("execution_status".into(), json!("REVERTED"));
            fields.insert("revert_reason".into(), json!(reason));
        }
    }

    match variant {
        TransactionVariant::L1Handler(tx) => {
            fields.insert("message_hash".into(), json!(l1_handler_message_hash(tx)));
        }
        TransactionVariant::Deploy(_)
        | TransactionVariant::DeployAccountV1(_)
        | TransactionVariant::DeployAccountV3(_) => {
            fields.insert("contract_address".into(), json!(variant.sender_address()));
        }
        _ => {}
    }
    fields
}

/// Builds the `TXN_RECEIPT` fields of a transaction in the pre-confirmed block: finality
/// `PRE_CONFIRMED` from v0.9, and `ACCEPTED_ON_L2` before, as pending receipts had.
pub fn pre_confirmed_receipt_fields(
    transaction: &Transaction,
    receipt: &Receipt,
    version: SpecVersion,
) -> Map<String, Value> {
    let mut fields = receipt_fields(transaction, receipt, BlockStatus::AcceptedOnL2, version);
    if version >= SpecVersion::V0_9 {
        fields.insert("finality_status".into(), json!("PRE_CONFIRMED"));
    }
    fields
}

/// `EXECUTION_RESOURCES`. v0.7 reports Cairo VM resources: `steps`, the nonzero
/// builtin counters (the spec forbids zeros there) and the data availability gas.
/// v0.8 and later report the total gas per resource.
///
/// NOTE: receipts before Starknet 0.13.2 carry no total gas, so v0.8 and later report
/// zero gas for them.
fn execution_resources(resources: &ExecutionResources, version: SpecVersion) -> Value {
    if version >= SpecVersion::V0_8 {
        let total = resources.total_gas_consumed.unwrap_or_default();
        return json!({
            "l1_gas": total.l1_gas,
            "l1_data_gas": total.l1_data_gas,
            "l2_gas": total.l2_gas,
        });
    }

    let builtins = &resources.builtins;
    let optional_counters = [
        ("memory_holes", resources.memory_holes),
        ("range_check_builtin_applications", builtins.range_check),
        ("pedersen_builtin_applications", builtins.pedersen),
        ("poseidon_builtin_applications", builtins.poseidon),
        ("ec_op_builtin_applications", builtins.ec_op),
        ("ecdsa_builtin_applications", builtins.ecdsa),
        ("bitwise_builtin_applications", builtins.bitwise),
        ("keccak_builtin_applications", builtins.keccak),
        ("segment_arena_builtin", builtins.segment_arena),
    ];
    let mut fields = into_object(json!({
        "steps": resources.steps,
        "data_availability": {
            "l1_gas": resources.data_availability.l1_gas,
            "l1_data_gas": resources.data_availability.l1_data_gas,
        },
    }));
    for (name, count) in optional_counters {
        if count != 0 {
            fields.insert(name.into(), json!(count));
        }
    }
    Value::Object(fields)
}

/// Computes the `message_hash` of an L1 handler: the Keccak-256 hash under which the
/// Starknet core contract on L1 recorded the message, as `0x` and 64 hex digits.
///
/// The hashed bytes are 32-byte big-endian words: the L1 sender (the first calldata
/// element), the L2 contract, the message nonce, the handler's selector, the payload
/// length and the payload (the remaining calldata).
pub fn l1_handler_message_hash(transaction: &L1HandlerTransaction) -> String {
    let (from_address, payload) = match transaction.calldata.split_first() {
        Some((from_address, payload)) => (*from_address, payload),
        None => (Felt::ZERO, &[][..]),
    };

    let mut hasher = Keccak256::new();
    hasher.update(from_address.to_bytes_be());
    hasher.update(transaction.contract_address.to_bytes_be());
    hasher.update(transaction.nonce.to_bytes_be());
    hasher.update(transaction.entry_point_selector.to_bytes_be());
    hasher.update(Felt::from(payload.len()).to_bytes_be());
    for element in payload {
        hasher.update(element.to_bytes_be());
    }

    let digest = hasher.finalize();
    let digits: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("0x{digits}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use starling_storage::ContractAddress;

    fn felt(hex_digits: &str) -> Felt {
        Felt::from_hex(hex_digits).unwrap()
    }

    /// The L1 handler of Goerli transaction
    /// 0x46144b600db00853c57a8cf003030ffaa51a810758ef5bfe1bb42bf55b7af38, whose message
    /// hash is the test vector of starknet-rs (`starknet-core/src/types/msg.rs`).
    #[test]
    fn message_hash_matches_goerli_transaction() {
        let transaction = L1HandlerTransaction {
            version: Felt::ZERO,
            nonce: Felt::from(782_870u64),
            contract_address: ContractAddress(felt(
                "0x39dc79e64f4bb3289240f88e0bae7d21735bef0d1a51b2bf3c4730cb16983e1",
            )),
            entry_point_selector: felt(
                "0x2f15cff7b0eed8b9beb162696cf4e3e0e35fa7032af69cd1b7d2ac67a13f40f",
            ),
            calldata: vec![
                felt("0xbe3c44c09bc1a3566f3e1ca12e5aba0fa4ca72be"),
                Felt::ONE,
                Felt::TWO,
            ],
        };
        assert_eq!(
            l1_handler_message_hash(&transaction),
            "0x7d56f59fe6cce2fd0620a4b1cce69c488acac84670c38053ffec3763a2eec09d"
        );
    }

    #[test]
    fn empty_input_hashes_like_keccak_of_words() {
        // With no calldata every word is zero: five zero words.
        let transaction = L1HandlerTransaction {
            version: Felt::ZERO,
            nonce: Felt::ZERO,
            contract_address: ContractAddress(Felt::ZERO),
            entry_point_selector: Felt::ZERO,
            calldata: vec![],
        };
        let expected = Keccak256::digest([0u8; 32 * 5]);
        let digits: String = expected.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(l1_handler_message_hash(&transaction), format!("0x{digits}"));
    }
}
