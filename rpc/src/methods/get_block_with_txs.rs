//! `starknet_getBlockWithTxs`: a block header with its full transactions.

use serde_json::Value;

use crate::context::{ResolvedBlock, RpcContext};
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::BlockWithTransactionsParams;
use crate::types::{block_fields, pending_block_fields, transaction_with_hash, SpecVersion};
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
            let transactions: Vec<Value> = context
                .storage
                .transactions(header.number)?
                .iter()
                .map(|transaction| transaction_with_hash(transaction, version, include_proof_facts))
                .collect();
            block.insert("transactions".into(), Value::Array(transactions));
            block
        }
        ResolvedBlock::Pending { parent, block } => {
            let transactions: Vec<Value> = block
                .iter()
                .flat_map(|block| &block.transactions)
                .map(|transaction| transaction_with_hash(transaction, version, include_proof_facts))
                .collect();
            let mut fields = pending_block_fields(&parent, block.as_deref(), version);
            fields.insert("transactions".into(), Value::Array(transactions));
            fields
        }
    };
    Ok(Value::Object(block))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::sample_chain::{self, transaction_hash, SIERRA_CLASS};
    use crate::test_support::{assert_keys, context_with_blocks, params_from};

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &params_from(params))
    }

    fn transactions(context: &RpcContext, api: Api, block: u64) -> Vec<Value> {
        let block = call(context, api, json!([{ "block_number": block }])).unwrap();
        block["transactions"].as_array().unwrap().clone()
    }

    const V3_COMMON: &[&str] = &[
        "transaction_hash",
        "type",
        "version",
        "signature",
        "nonce",
        "resource_bounds",
        "tip",
        "paymaster_data",
        "nonce_data_availability_mode",
        "fee_data_availability_mode",
    ];

    fn with(base: &[&'static str], added: &[&'static str]) -> Vec<&'static str> {
        base.iter().chain(added).copied().collect()
    }

    #[test]
    fn legacy_transaction_fields() {
        let (context, _dir) = sample_chain::context();
        for api in [Api::V0_7, Api::V0_10] {
            let block_0 = transactions(&context, api, 0);
            let common = ["transaction_hash", "type", "version"];
            let deploy = with(
                &common,
                &[
                    "contract_address_salt",
                    "constructor_calldata",
                    "class_hash",
                ],
            );
            assert_keys(&block_0[0], &deploy);
            let invoke_v0 = with(
                &common,
                &[
                    "max_fee",
                    "signature",
                    "contract_address",
                    "entry_point_selector",
                    "calldata",
                ],
            );
            assert_keys(&block_0[1], &invoke_v0);
            let l1_handler = with(
                &common,
                &[
                    "nonce",
                    "contract_address",
                    "entry_point_selector",
                    "calldata",
                ],
            );
            assert_keys(&block_0[2], &l1_handler);
            let declare_v0 = with(
                &common,
                &["sender_address", "max_fee", "signature", "class_hash"],
            );
            let declare_v1 = with(&declare_v0, &["nonce"]);
            assert_keys(&block_0[3], &declare_v1);

            let block_1 = transactions(&context, api, 1);
            let invoke_v1 = with(
                &common,
                &[
                    "sender_address",
                    "calldata",
                    "max_fee",
                    "signature",
                    "nonce",
                ],
            );
            assert_keys(&block_1[0], &invoke_v1);
            assert_keys(&block_1[1], &with(&declare_v1, &["compiled_class_hash"]));
            let deploy_account_v1 = with(
                &common,
                &[
                    "max_fee",
                    "signature",
                    "nonce",
                    "contract_address_salt",
                    "constructor_calldata",
                    "class_hash",
                ],
            );
            assert_keys(&block_1[2], &deploy_account_v1);
            assert_keys(&block_1[3], &declare_v0);
        }
    }

    #[test]
    fn legacy_transaction_values() {
        let (context, _dir) = sample_chain::context();
        let block_0 = transactions(&context, Api::V0_7, 0);
        assert_eq!(
            block_0[0],
            json!({
                "transaction_hash": "0x1000",
                "type": "DEPLOY",
                "version": "0x0",
                "contract_address_salt": "0x5a17",
                "constructor_calldata": ["0x99"],
                "class_hash": "0xc0",
            })
        );
        assert_eq!(
            block_0[2],
            json!({
                "transaction_hash": "0x1002",
                "type": "L1_HANDLER",
                "version": "0x0",
                "nonce": "0x9",
                "contract_address": "0xa1",
                "entry_point_selector": "0x1e1",
                "calldata": ["0xe7", "0x5"],
            })
        );
        let block_1 = transactions(&context, Api::V0_7, 1);
        assert_eq!(
            block_1[1],
            json!({
                "transaction_hash": "0x2001",
                "type": "DECLARE",
                "version": "0x2",
                "sender_address": "0xa1",
                "compiled_class_hash": "0xcc1",
                "max_fee": "0x3000",
                "signature": [],
                "nonce": "0x2",
                "class_hash": format!("{:#x}", SIERRA_CLASS),
            })
        );
    }

    #[test]
    fn v3_transactions_per_version() {
        let (context, _dir) = sample_chain::context();
        let invoke = with(
            V3_COMMON,
            &["sender_address", "calldata", "account_deployment_data"],
        );
        let declare = with(
            V3_COMMON,
            &[
                "sender_address",
                "compiled_class_hash",
                "class_hash",
                "account_deployment_data",
            ],
        );
        let deploy_account = with(
            V3_COMMON,
            &[
                "contract_address_salt",
                "constructor_calldata",
                "class_hash",
            ],
        );
        for api in [Api::Root, Api::V0_8, Api::V0_10] {
            let block_2 = transactions(&context, api, 2);
            assert_keys(&block_2[0], &invoke);
            assert_keys(&block_2[1], &declare);
            assert_keys(&block_2[2], &deploy_account);
        }

        let v0_7 = transactions(&context, Api::V0_7, 2);
        assert_eq!(v0_7[0]["version"], "0x3");
        assert_eq!(v0_7[0]["tip"], "0x5");
        assert_eq!(v0_7[0]["nonce_data_availability_mode"], "L1");
        assert_eq!(v0_7[0]["fee_data_availability_mode"], "L2");
        assert_eq!(
            v0_7[0]["resource_bounds"],
            json!({
                "l1_gas": { "max_amount": "0x10", "max_price_per_unit": "0x20" },
                "l2_gas": { "max_amount": "0x30", "max_price_per_unit": "0x40" },
            })
        );

        let v0_8 = transactions(&context, Api::V0_8, 2);
        assert_eq!(
            v0_8[0]["resource_bounds"]["l1_data_gas"],
            json!({ "max_amount": "0x50", "max_price_per_unit": "0x60" })
        );
        // The declare predates the L1 data gas bound: zeros from v0.8.
        assert_eq!(
            v0_8[1]["resource_bounds"]["l1_data_gas"],
            json!({ "max_amount": "0x0", "max_price_per_unit": "0x0" })
        );
        assert_eq!(v0_8[1]["paymaster_data"], json!(["0x9a"]));
        assert_eq!(v0_8[1]["account_deployment_data"], json!(["0x9b"]));
    }

    #[test]
    fn proof_facts_only_on_request_in_v0_10() {
        let (context, _dir) = sample_chain::context();
        let flagged = json!([{ "block_number": 2 }, ["INCLUDE_PROOF_FACTS"]]);
        let block = call(&context, Api::V0_10, flagged).unwrap();
        assert_eq!(block["transactions"][0]["proof_facts"], json!(["0xf1"]));
        assert!(block["transactions"][1].get("proof_facts").is_none());

        let by_name = json!({
            "block_id": { "block_number": 2 },
            "response_flags": ["INCLUDE_PROOF_FACTS"],
        });
        let block = call(&context, Api::V0_10, by_name).unwrap();
        assert_eq!(block["transactions"][0]["proof_facts"], json!(["0xf1"]));

        let unflagged = call(&context, Api::V0_10, json!([{ "block_number": 2 }, []])).unwrap();
        assert!(unflagged["transactions"][0].get("proof_facts").is_none());

        let bad_flag = json!([{ "block_number": 2 }, ["INCLUDE_EVERYTHING"]]);
        assert_eq!(
            call(&context, Api::V0_10, bad_flag).unwrap_err().code,
            -32602
        );
        // Before v0.10 the method takes one parameter.
        let too_many = json!([{ "block_number": 2 }, ["INCLUDE_PROOF_FACTS"]]);
        assert_eq!(
            call(&context, Api::V0_9, too_many).unwrap_err().code,
            -32602
        );
    }

    #[test]
    fn transactions_keep_block_order() {
        let (context, _dir) = sample_chain::context();
        let hashes: Vec<Value> = transactions(&context, Api::V0_9, 1)
            .iter()
            .map(|transaction| transaction["transaction_hash"].clone())
            .collect();
        let expected: Vec<Value> = (0..4)
            .map(|index| json!(format!("{:#x}", transaction_hash(1, index))))
            .collect();
        assert_eq!(hashes, expected);
    }

    #[test]
    fn pending_and_pre_confirmed_blocks_are_empty() {
        let (context, _dir) = sample_chain::context();
        let pending = call(&context, Api::V0_8, json!(["pending"])).unwrap();
        assert_eq!(pending["transactions"], json!([]));
        assert_eq!(pending["parent_hash"], "0x102");
        let pre_confirmed = call(&context, Api::V0_10, json!(["pre_confirmed"])).unwrap();
        assert_eq!(pre_confirmed["transactions"], json!([]));
        assert_eq!(pre_confirmed["block_number"], 3);
    }

    #[test]
    fn unknown_block_is_error_24() {
        let (context, _dir) = context_with_blocks(1);
        let error = call(&context, Api::V0_10, json!([{ "block_number": 1 }])).unwrap_err();
        assert_eq!(error.code, 24);
    }
}
