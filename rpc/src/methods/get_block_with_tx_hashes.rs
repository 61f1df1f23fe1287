//! `starknet_getBlockWithTxHashes`: a block header with its transaction hashes.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::context::{ResolvedBlock, RpcContext};
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::BlockIdParam;
use crate::types::{block_fields, pending_block_fields, SpecVersion};
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    block_id: BlockIdParam,
}

pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["block_id"])?;
    let block_id = input
        .block_id
        .for_api(api)
        .map_err(RpcError::invalid_params)?;
    let version = SpecVersion::of(api);

    let block = match context.resolve_block(block_id)? {
        ResolvedBlock::Committed(header) => {
            let mut block = block_fields(&context.storage, &header, version)?;
            let hashes: Vec<Value> = context
                .storage
                .transactions(header.number)?
                .iter()
                .map(|transaction| json!(transaction.hash))
                .collect();
            block.insert("transactions".into(), Value::Array(hashes));
            block
        }
        ResolvedBlock::Pending { parent, block } => {
            let hashes: Vec<Value> = block
                .iter()
                .flat_map(|block| &block.transactions)
                .map(|transaction| json!(transaction.hash))
                .collect();
            let mut fields = pending_block_fields(&parent, block.as_deref(), version);
            fields.insert("transactions".into(), Value::Array(hashes));
            fields
        }
    };
    Ok(Value::Object(block))
}

#[cfg(test)]
mod tests {
    use starling_storage::{BlockNumber, Felt};

    use super::*;
    use crate::test_support::sample_chain::{self, transaction_hash};
    use crate::test_support::{assert_keys, context_with_blocks, empty_context, params_from};

    const V0_7_KEYS: &[&str] = &[
        "status",
        "block_hash",
        "parent_hash",
        "block_number",
        "new_root",
        "timestamp",
        "sequencer_address",
        "l1_gas_price",
        "l1_data_gas_price",
        "l1_da_mode",
        "starknet_version",
        "transactions",
    ];
    const V0_10_ADDED_KEYS: &[&str] = &[
        "transaction_commitment",
        "event_commitment",
        "receipt_commitment",
        "state_diff_commitment",
        "transaction_count",
        "event_count",
        "state_diff_length",
    ];

    fn keys_with(base: &[&'static str], added: &[&'static str]) -> Vec<&'static str> {
        base.iter().chain(added).copied().collect()
    }

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &params_from(params))
    }

    #[test]
    fn committed_block_fields_per_version() {
        let (context, _dir) = sample_chain::context();
        let by_number = json!([{ "block_number": 1 }]);

        let v0_7 = call(&context, Api::V0_7, by_number.clone()).unwrap();
        assert_keys(&v0_7, V0_7_KEYS);
        let v0_8_keys = keys_with(V0_7_KEYS, &["l2_gas_price"]);
        for api in [Api::V0_8, Api::V0_9] {
            assert_keys(&call(&context, api, by_number.clone()).unwrap(), &v0_8_keys);
        }
        let v0_10 = call(&context, Api::V0_10, by_number).unwrap();
        assert_keys(&v0_10, &keys_with(&v0_8_keys, V0_10_ADDED_KEYS));

        let parent = context.storage.header(BlockNumber(0)).unwrap().unwrap();
        let header = context.storage.header(BlockNumber(1)).unwrap().unwrap();
        assert_eq!(v0_7["status"], "ACCEPTED_ON_L2");
        assert_eq!(v0_7["block_hash"], "0x101");
        assert_eq!(v0_7["parent_hash"], "0x100");
        assert_eq!(v0_7["block_number"], 1);
        assert_eq!(v0_7["new_root"], json!(header.state_root));
        assert_ne!(header.state_root, parent.state_root);
        assert_eq!(v0_7["timestamp"], 1_700_000_001);
        assert_eq!(v0_7["sequencer_address"], "0x1");
        assert_eq!(
            v0_7["l1_gas_price"],
            json!({ "price_in_wei": "0x3b9aca00", "price_in_fri": "0x5d21dba000" })
        );
        assert_eq!(
            v0_7["l1_data_gas_price"],
            json!({ "price_in_wei": "0x1", "price_in_fri": "0x2" })
        );
        assert_eq!(v0_7["l1_da_mode"], "BLOB");
        assert_eq!(v0_7["starknet_version"], "0.13.1");
        let hashes: Vec<Value> = (0..4)
            .map(|index| json!(Felt::from(transaction_hash(1, index))))
            .collect();
        assert_eq!(v0_7["transactions"], Value::Array(hashes));
    }

    #[test]
    fn v0_7_header_matches_subscription_header() {
        let (context, _dir) = sample_chain::context();
        let header = context.storage.header(BlockNumber(2)).unwrap().unwrap();
        let mut block = call(&context, Api::V0_7, json!([{ "block_number": 2 }])).unwrap();
        let object = block.as_object_mut().unwrap();
        object.remove("status");
        object.remove("transactions");
        assert_eq!(
            block,
            serde_json::to_value(crate::types::BlockHeaderV07::from(&header)).unwrap()
        );
    }

    #[test]
    fn v0_10_commitments_and_counts() {
        let (context, _dir) = sample_chain::context();
        let newest = call(&context, Api::V0_10, json!(["latest"])).unwrap();
        assert_eq!(newest["block_number"], 2);
        assert_eq!(newest["transaction_commitment"], "0x7c");
        assert_eq!(newest["event_commitment"], "0xec");
        assert_eq!(newest["receipt_commitment"], "0x4c");
        assert_eq!(newest["state_diff_commitment"], "0x5dc");
        assert_eq!(newest["transaction_count"], 3);
        assert_eq!(newest["event_count"], 2);
        assert_eq!(newest["state_diff_length"], 7);
        assert_eq!(
            newest["l2_gas_price"],
            json!({ "price_in_wei": "0x14", "price_in_fri": "0x15" })
        );

        // Block 0 predates the commitments: they are 0x0, and the state diff length is
        // counted from the stored diff (1 write, 1 nonce, 1 deployment, 1 declaration).
        let oldest = call(&context, Api::V0_10, json!([{ "block_number": 0 }])).unwrap();
        assert_eq!(oldest["status"], "ACCEPTED_ON_L1");
        for commitment in [
            "transaction_commitment",
            "event_commitment",
            "receipt_commitment",
            "state_diff_commitment",
        ] {
            assert_eq!(oldest[commitment], "0x0", "{commitment}");
        }
        assert_eq!(oldest["transaction_count"], 4);
        assert_eq!(oldest["event_count"], 1);
        assert_eq!(oldest["state_diff_length"], 4);
        assert_eq!(
            oldest["l1_gas_price"],
            json!({ "price_in_wei": "0x0", "price_in_fri": "0x0" })
        );
        assert_eq!(oldest["l1_da_mode"], "CALLDATA");
    }

    #[test]
    fn block_by_hash_and_by_name() {
        let (context, _dir) = sample_chain::context();
        let by_hash = call(&context, Api::V0_8, json!([{ "block_hash": "0x102" }])).unwrap();
        assert_eq!(by_hash["block_number"], 2);
        let by_name = call(
            &context,
            Api::V0_8,
            json!({ "block_id": { "block_number": 2 } }),
        )
        .unwrap();
        assert_eq!(by_name, by_hash);
    }

    #[test]
    fn pending_block_before_v0_9() {
        let (context, _dir) = sample_chain::context();
        let v0_7 = call(&context, Api::Root, json!(["pending"])).unwrap();
        let pending_keys = [
            "parent_hash",
            "timestamp",
            "sequencer_address",
            "l1_gas_price",
            "l1_data_gas_price",
            "l1_da_mode",
            "starknet_version",
            "transactions",
        ];
        assert_keys(&v0_7, &pending_keys);
        assert_eq!(v0_7["parent_hash"], "0x102");
        assert_eq!(v0_7["transactions"], json!([]));
        assert_eq!(v0_7["starknet_version"], "0.14.1");

        let v0_8 = call(&context, Api::V0_8, json!(["pending"])).unwrap();
        assert_keys(&v0_8, &keys_with(&pending_keys, &["l2_gas_price"]));
    }

    #[test]
    fn pre_confirmed_block_from_v0_9() {
        let (context, _dir) = sample_chain::context();
        for api in [Api::V0_9, Api::V0_10] {
            let block = call(&context, api, json!(["pre_confirmed"])).unwrap();
            assert_keys(
                &block,
                &[
                    "block_number",
                    "timestamp",
                    "sequencer_address",
                    "l1_gas_price",
                    "l2_gas_price",
                    "l1_data_gas_price",
                    "l1_da_mode",
                    "starknet_version",
                    "transactions",
                ],
            );
            assert_eq!(block["block_number"], 3);
            assert_eq!(block["transactions"], json!([]));
        }
    }

    #[test]
    fn l1_accepted_is_newest_block_accepted_on_l1() {
        let (context, _dir) = sample_chain::context();
        let block = call(&context, Api::V0_9, json!(["l1_accepted"])).unwrap();
        assert_eq!(block["block_number"], 0);
        assert_eq!(block["status"], "ACCEPTED_ON_L1");
    }

    #[test]
    fn unknown_block_is_error_24() {
        let (context, _dir) = context_with_blocks(2);
        for id in [
            json!({ "block_number": 2 }),
            json!({ "block_hash": "0x999" }),
        ] {
            let error = call(&context, Api::V0_7, json!([id])).unwrap_err();
            assert_eq!(error.code, 24, "{id}");
        }
        let (empty, _dir) = empty_context();
        assert_eq!(
            call(&empty, Api::V0_10, json!(["latest"]))
                .unwrap_err()
                .code,
            24
        );
        assert_eq!(
            call(&empty, Api::V0_8, json!(["pending"]))
                .unwrap_err()
                .code,
            24
        );
    }

    #[test]
    fn invalid_block_ids_are_invalid_params() {
        let (context, _dir) = context_with_blocks(1);
        let cases = [
            (Api::V0_7, json!(["pre_confirmed"])),
            (Api::V0_9, json!(["pending"])),
            (Api::V0_8, json!([{ "block_hash": "0xzz" }])),
            (Api::V0_10, json!([])),
            (Api::V0_10, json!(["latest", "extra"])),
        ];
        for (api, params) in cases {
            let error = call(&context, api, params.clone()).unwrap_err();
            assert_eq!(error.code, -32602, "{api:?} {params}");
        }
    }

    #[test]
    fn pre_confirmed_block_lists_its_transactions() {
        use crate::context::pre_confirmed_fixture::{self, REVERTED, SUCCEEDED};
        let (context, _dir) = sample_chain::context();
        pre_confirmed_fixture::set_on_head(&context);
        let hashes = json!([format!("{SUCCEEDED:#x}"), format!("{REVERTED:#x}")]);

        let v0_9 = call(&context, Api::V0_9, json!(["pre_confirmed"])).unwrap();
        assert_eq!(v0_9["block_number"], 3);
        assert_eq!(v0_9["transactions"], hashes);
        assert_eq!(v0_9["timestamp"], 1_800_000_000);
        assert_eq!(v0_9["sequencer_address"], "0x5e");
        assert_eq!(v0_9["starknet_version"], "0.14.0");
        assert_eq!(
            v0_9["l1_gas_price"],
            json!({ "price_in_wei": "0x10", "price_in_fri": "0x11" })
        );

        let v0_7 = call(&context, Api::V0_7, json!(["pending"])).unwrap();
        assert_eq!(v0_7["parent_hash"], "0x102");
        assert_eq!(v0_7["transactions"], hashes);
    }

    #[test]
    fn pre_confirmed_block_on_other_head_hidden() {
        let (context, _dir) = sample_chain::context();
        let mut block = crate::context::pre_confirmed_fixture::set_on_head(&context);
        block.number = BlockNumber(2);
        context.pre_confirmed.set(block);
        let block = call(&context, Api::V0_9, json!(["pre_confirmed"])).unwrap();
        assert_eq!(block["block_number"], 3);
        assert_eq!(block["transactions"], json!([]));
    }
}
