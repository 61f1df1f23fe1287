//! `starknet_getBlockWithReceipts`: a block header with each transaction and its
//! receipt.

use serde_json::{json, Value};

use crate::context::{ResolvedBlock, RpcContext};
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::BlockWithTransactionsParams;
use crate::types::{
    block_fields, pending_block_fields, pre_confirmed_receipt_fields, receipt_fields,
    transaction_fields, SpecVersion,
};
use crate::version::Api;

pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let version = SpecVersion::of(api);
    let BlockWithTransactionsParams {
        block_id,
        include_proof_facts,
    } = BlockWithTransactionsParams::parse(params, api)?;

    let block = match context.resolve_block(block_id)? {
        ResolvedBlock::Committed(header) => {
            let mut block = block_fields(&context.storage, &header, version)?;
            let transactions = context.storage.transactions(header.number)?;
            let receipts = context.storage.receipts(header.number)?;
            // The transaction has no hash field here, because the spec's `TXN` has
            // none. The receipt contains the hash.
            let items: Vec<Value> = transactions
                .iter()
                .zip(&receipts)
                .map(|(transaction, receipt)| {
                    json!({
                        "transaction": transaction_fields(
                            &transaction.variant,
                            version,
                            include_proof_facts,
                        ),
                        "receipt": receipt_fields(transaction, receipt, header.status, version),
                    })
                })
                .collect();
            block.insert("transactions".into(), Value::Array(items));
            block
        }
        ResolvedBlock::Pending { parent, block } => {
            let items: Vec<Value> = block
                .iter()
                .flat_map(|block| block.transactions.iter().zip(&block.receipts))
                .map(|(transaction, receipt)| {
                    json!({
                        "transaction": transaction_fields(
                            &transaction.variant,
                            version,
                            include_proof_facts,
                        ),
                        "receipt": pre_confirmed_receipt_fields(transaction, receipt, version),
                    })
                })
                .collect();
            let mut fields = pending_block_fields(&parent, block.as_deref(), version);
            fields.insert("transactions".into(), Value::Array(items));
            fields
        }
    };
    Ok(Value::Object(block))
}

#[cfg(test)]
mod tests {
    use starling_storage::{Felt, L1HandlerTransaction, TransactionVariant};

    use super::*;
    use crate::test_support::sample_chain::{self, ACCOUNT, L1_RECIPIENT, SECOND_ACCOUNT};
    use crate::test_support::{assert_keys, context_with_blocks, params_from};
    use crate::types::l1_handler_message_hash;

    const RECEIPT_KEYS: &[&str] = &[
        "type",
        "transaction_hash",
        "actual_fee",
        "finality_status",
        "execution_status",
        "messages_sent",
        "events",
        "execution_resources",
    ];

    fn with(base: &[&'static str], added: &[&'static str]) -> Vec<&'static str> {
        base.iter().chain(added).copied().collect()
    }

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &params_from(params))
    }

    fn items(context: &RpcContext, api: Api, block: u64) -> Vec<Value> {
        let block = call(context, api, json!([{ "block_number": block }])).unwrap();
        block["transactions"].as_array().unwrap().clone()
    }

    #[test]
    fn items_pair_transaction_and_receipt() {
        let (context, _dir) = sample_chain::context();
        for item in items(&context, Api::V0_8, 1) {
            assert_keys(&item, &["transaction", "receipt"]);
            assert!(item["transaction"].get("transaction_hash").is_none());
        }
        let block_1 = items(&context, Api::V0_8, 1);
        assert_eq!(block_1[1]["transaction"]["type"], "DECLARE");
        assert_eq!(block_1[1]["receipt"]["transaction_hash"], "0x2001");
    }

    #[test]
    fn receipt_fields_per_type() {
        let (context, _dir) = sample_chain::context();
        for api in [Api::V0_7, Api::V0_9] {
            let block_0 = items(&context, api, 0);
            let deploy = &block_0[0]["receipt"];
            assert_keys(deploy, &with(RECEIPT_KEYS, &["contract_address"]));
            assert_eq!(deploy["type"], "DEPLOY");
            assert_eq!(deploy["contract_address"], json!(format!("{ACCOUNT:#x}")));
            assert_keys(&block_0[1]["receipt"], RECEIPT_KEYS);
            let l1_handler = &block_0[2]["receipt"];
            assert_keys(l1_handler, &with(RECEIPT_KEYS, &["message_hash"]));
            assert_keys(&block_0[3]["receipt"], RECEIPT_KEYS);

            let block_1 = items(&context, api, 1);
            let reverted = &block_1[0]["receipt"];
            assert_keys(reverted, &with(RECEIPT_KEYS, &["revert_reason"]));
            assert_eq!(reverted["execution_status"], "REVERTED");
            assert_eq!(reverted["revert_reason"], "Error in the called contract");
            let deploy_account = &block_1[2]["receipt"];
            assert_eq!(deploy_account["type"], "DEPLOY_ACCOUNT");
            assert_eq!(
                deploy_account["contract_address"],
                json!(format!("{SECOND_ACCOUNT:#x}"))
            );
        }
    }

    #[test]
    fn receipt_values() {
        let (context, _dir) = sample_chain::context();
        let block_0 = items(&context, Api::V0_7, 0);
        let invoke = &block_0[1]["receipt"];
        assert_eq!(invoke["finality_status"], "ACCEPTED_ON_L1");
        assert_eq!(invoke["execution_status"], "SUCCEEDED");
        assert_eq!(
            invoke["actual_fee"],
            json!({ "amount": "0x0", "unit": "WEI" })
        );
        assert_eq!(
            invoke["events"],
            json!([{ "from_address": "0xa1", "keys": ["0xe1"], "data": ["0xd1", "0xd2"] }])
        );
        assert_eq!(
            invoke["messages_sent"],
            json!([{
                "from_address": "0xa1",
                "to_address": format!("{L1_RECIPIENT:#x}"),
                "payload": ["0x7"],
            }])
        );

        let TransactionVariant::L1Handler(l1_handler) = &context
            .storage
            .transactions(starling_storage::BlockNumber(0))
            .unwrap()[2]
            .variant
        else {
            panic!("transaction 2 of block 0 is an L1 handler");
        };
        assert_eq!(
            block_0[2]["receipt"]["message_hash"],
            json!(l1_handler_message_hash(l1_handler))
        );
        assert_ne!(
            l1_handler_message_hash(l1_handler),
            l1_handler_message_hash(&L1HandlerTransaction {
                nonce: Felt::from(10u8),
                ..l1_handler.clone()
            })
        );

        let block_1 = items(&context, Api::V0_8, 1);
        assert_eq!(block_1[0]["receipt"]["finality_status"], "ACCEPTED_ON_L2");
        assert_eq!(
            block_1[0]["receipt"]["actual_fee"],
            json!({ "amount": "0x1234", "unit": "WEI" })
        );
        let block_2 = items(&context, Api::V0_8, 2);
        assert_eq!(
            block_2[0]["receipt"]["actual_fee"],
            json!({ "amount": "0x5678", "unit": "FRI" })
        );
    }

    #[test]
    fn v0_7_execution_resources_leave_out_zero_counters() {
        let (context, _dir) = sample_chain::context();
        let block_0 = items(&context, Api::V0_7, 0);
        assert_eq!(
            block_0[0]["receipt"]["execution_resources"],
            json!({
                "steps": 41,
                "range_check_builtin_applications": 2,
                "data_availability": { "l1_gas": 0, "l1_data_gas": 0 },
            })
        );
        assert_eq!(
            block_0[1]["receipt"]["execution_resources"],
            json!({
                "steps": 100,
                "memory_holes": 3,
                "pedersen_builtin_applications": 1,
                "data_availability": { "l1_gas": 0, "l1_data_gas": 0 },
            })
        );
        let block_1 = items(&context, Api::Root, 1);
        assert_eq!(
            block_1[0]["receipt"]["execution_resources"]["data_availability"],
            json!({ "l1_gas": 0, "l1_data_gas": 128 })
        );
    }

    #[test]
    fn execution_resources_are_gas_from_v0_8() {
        let (context, _dir) = sample_chain::context();
        for api in [Api::V0_8, Api::V0_9, Api::V0_10] {
            let block_2 = items(&context, api, 2);
            assert_eq!(
                block_2[0]["receipt"]["execution_resources"],
                json!({ "l1_gas": 1, "l1_data_gas": 2, "l2_gas": 3 })
            );
            // Receipts without a recorded total report zero gas.
            let block_0 = items(&context, api, 0);
            assert_eq!(
                block_0[0]["receipt"]["execution_resources"],
                json!({ "l1_gas": 0, "l1_data_gas": 0, "l2_gas": 0 })
            );
        }
    }

    #[test]
    fn proof_facts_in_transaction_on_request() {
        let (context, _dir) = sample_chain::context();
        let params = json!([{ "block_number": 2 }, ["INCLUDE_PROOF_FACTS"]]);
        let block = call(&context, Api::V0_10, params).unwrap();
        assert_eq!(
            block["transactions"][0]["transaction"]["proof_facts"],
            json!(["0xf1"])
        );
        assert!(block["transactions"][0]["receipt"]
            .get("proof_facts")
            .is_none());
    }

    #[test]
    fn pending_block_has_no_transactions() {
        let (context, _dir) = sample_chain::context();
        let pending = call(&context, Api::V0_7, json!(["pending"])).unwrap();
        assert_eq!(pending["transactions"], json!([]));
        assert!(pending.get("status").is_none());
        let pre_confirmed = call(&context, Api::V0_9, json!(["pre_confirmed"])).unwrap();
        assert_eq!(pre_confirmed["transactions"], json!([]));
    }

    #[test]
    fn unknown_block_is_error_24() {
        let (context, _dir) = context_with_blocks(1);
        let error = call(&context, Api::V0_7, json!([{ "block_hash": "0x1" }])).unwrap_err();
        assert_eq!(error.code, 24);
    }

    #[test]
    fn pre_confirmed_receipts_per_version() {
        let (context, _dir) = sample_chain::context();
        crate::context::pre_confirmed_fixture::set_on_head(&context);

        let v0_9 = call(&context, Api::V0_9, json!(["pre_confirmed"])).unwrap();
        let items = v0_9["transactions"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["receipt"]["finality_status"], "PRE_CONFIRMED");
        assert_eq!(items[1]["receipt"]["execution_status"], "REVERTED");
        assert!(items[0]["transaction"].get("transaction_hash").is_none());

        let v0_8 = call(&context, Api::V0_8, json!(["pending"])).unwrap();
        assert_eq!(
            v0_8["transactions"][0]["receipt"]["finality_status"],
            "ACCEPTED_ON_L2"
        );
    }
}
