//! `starknet_getTransactionReceipt`: a committed or pre-confirmed transaction's receipt
//! with the block that contains it.

use serde::Deserialize;
use serde_json::{json, Value};
use starling_storage::TransactionHash;

use crate::context::{FoundTransaction, RpcContext};
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::RpcFelt;
use crate::types::{pre_confirmed_receipt_fields, receipt_fields, SpecVersion};
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    transaction_hash: RpcFelt,
}

/// Returns `TXN_RECEIPT_WITH_BLOCK_INFO`: the receipt and its block's hash and number.
/// A pre-confirmed receipt has no block hash, and from v0.9 it has the block number,
/// which the spec requires there. A candidate transaction has no receipt yet, so it is
/// error 29.
pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["transaction_hash"])?;
    let version = SpecVersion::of(api);
    let hash = TransactionHash(input.transaction_hash.0);
    let location = match context.find_transaction(hash)? {
        Some(FoundTransaction::Committed(location)) => location,
        Some(FoundTransaction::PreConfirmed(block)) => {
            let found = block
                .transaction(hash)
                .ok_or_else(RpcError::transaction_hash_not_found)?;
            let mut fields =
                pre_confirmed_receipt_fields(found.transaction, found.receipt, version);
            if version >= SpecVersion::V0_9 {
                fields.insert("block_number".into(), json!(block.number.get()));
            }
            return Ok(Value::Object(fields));
        }
        Some(FoundTransaction::Candidate(_)) | None => {
            return Err(RpcError::transaction_hash_not_found())
        }
    };
    let storage = &context.storage;
    let stored = storage.transaction(location)?;
    let header = storage.header(location.block_number)?;
    let (Some((transaction, receipt)), Some(header)) = (stored, header) else {
        tracing::error!(target: "rpc", ?location, "transaction hash index names a missing transaction or block");
        return Err(RpcError::internal());
    };

    let mut fields = receipt_fields(&transaction, &receipt, header.status, version);
    fields.insert("block_hash".into(), json!(header.hash));
    fields.insert("block_number".into(), json!(header.number.get()));
    Ok(Value::Object(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::sample_chain::{self, transaction_hash, THIRD_ACCOUNT};
    use crate::test_support::{assert_keys, params_from};

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &params_from(params))
    }

    fn hash(block: u64, index: u64) -> String {
        format!("{:#x}", transaction_hash(block, index))
    }

    #[test]
    fn receipt_has_block_info() {
        let (context, _dir) = sample_chain::context();
        let receipt = call(&context, Api::V0_9, json!([hash(2, 2)])).unwrap();
        assert_keys(
            &receipt,
            &[
                "type",
                "transaction_hash",
                "actual_fee",
                "finality_status",
                "execution_status",
                "messages_sent",
                "events",
                "execution_resources",
                "contract_address",
                "block_hash",
                "block_number",
            ],
        );
        assert_eq!(receipt["block_hash"], "0x102");
        assert_eq!(receipt["block_number"], 2);
        assert_eq!(receipt["type"], "DEPLOY_ACCOUNT");
        assert_eq!(
            receipt["contract_address"],
            json!(format!("{THIRD_ACCOUNT:#x}"))
        );
        assert_eq!(receipt["transaction_hash"], json!(hash(2, 2)));
        assert_eq!(
            receipt["actual_fee"],
            json!({ "amount": "0x789a", "unit": "FRI" })
        );
        assert_eq!(
            receipt["execution_resources"],
            json!({ "l1_gas": 0, "l1_data_gas": 0, "l2_gas": 0 })
        );
    }

    #[test]
    fn receipt_shapes_per_version() {
        let (context, _dir) = sample_chain::context();
        let v0_7 = call(
            &context,
            Api::V0_7,
            json!({ "transaction_hash": hash(2, 0) }),
        )
        .unwrap();
        assert_eq!(
            v0_7["execution_resources"],
            json!({ "steps": 300, "data_availability": { "l1_gas": 0, "l1_data_gas": 0 } })
        );
        let v0_10 = call(&context, Api::V0_10, json!([hash(2, 0)])).unwrap();
        assert_eq!(
            v0_10["execution_resources"],
            json!({ "l1_gas": 1, "l1_data_gas": 2, "l2_gas": 3 })
        );
        assert_eq!(v0_10["events"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn l1_handler_receipt_has_message_hash() {
        let (context, _dir) = sample_chain::context();
        let receipt = call(&context, Api::V0_8, json!([hash(0, 2)])).unwrap();
        assert_eq!(receipt["type"], "L1_HANDLER");
        assert_eq!(receipt["finality_status"], "ACCEPTED_ON_L1");
        let message_hash = receipt["message_hash"].as_str().unwrap();
        assert_eq!(message_hash.len(), 66, "{message_hash}");
        assert!(message_hash.starts_with("0x"));
    }

    #[test]
    fn reverted_receipt_has_reason() {
        let (context, _dir) = sample_chain::context();
        let receipt = call(&context, Api::V0_10, json!([hash(1, 0)])).unwrap();
        assert_eq!(receipt["execution_status"], "REVERTED");
        assert_eq!(receipt["revert_reason"], "Error in the called contract");
        let succeeded = call(&context, Api::V0_10, json!([hash(1, 1)])).unwrap();
        assert_eq!(succeeded["execution_status"], "SUCCEEDED");
        assert!(succeeded.get("revert_reason").is_none());
    }

    #[test]
    fn unknown_hash_is_error_29() {
        let (context, _dir) = sample_chain::context();
        let error = call(&context, Api::V0_7, json!(["0x1"])).unwrap_err();
        assert_eq!(error.code, 29);
        let error = call(&context, Api::V0_7, json!(["0xnope"])).unwrap_err();
        assert_eq!(error.code, -32602);
    }

    #[test]
    fn pre_confirmed_receipt_has_no_block_hash() {
        use crate::context::pre_confirmed_fixture::{self, CANDIDATE, SUCCEEDED};
        let (context, _dir) = sample_chain::context();
        pre_confirmed_fixture::set_on_head(&context);
        let hash = json!([format!("{SUCCEEDED:#x}")]);

        let v0_9 = call(&context, Api::V0_9, hash.clone()).unwrap();
        assert_eq!(v0_9["finality_status"], "PRE_CONFIRMED");
        assert_eq!(v0_9["block_number"], 3);
        assert!(v0_9.get("block_hash").is_none());
        assert_eq!(v0_9["events"][0]["keys"], json!(["0x11"]));

        let v0_7 = call(&context, Api::V0_7, hash).unwrap();
        assert_eq!(v0_7["finality_status"], "ACCEPTED_ON_L2");
        assert!(v0_7.get("block_number").is_none());
        assert!(v0_7.get("block_hash").is_none());

        let candidate = call(&context, Api::V0_9, json!([format!("{CANDIDATE:#x}")]));
        assert_eq!(candidate.unwrap_err().code, 29);
    }
}
