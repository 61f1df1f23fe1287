//! `starknet_getTransactionByBlockIdAndIndex`: the transaction at a position in a block.

use serde::Deserialize;
use serde_json::Value;
use starling_storage::TransactionLocation;

use crate::context::{ResolvedBlock, RpcContext};
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::BlockIdParam;
use crate::types::{transaction_with_hash, SpecVersion, TxnResponseFlag};
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    block_id: BlockIdParam,
    index: u64,
    /// From v0.10.
    #[serde(default)]
    response_flags: Vec<TxnResponseFlag>,
}

pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let version = SpecVersion::of(api);
    let names: &[&str] = if version >= SpecVersion::V0_10 {
        &["block_id", "index", "response_flags"]
    } else {
        &["block_id", "index"]
    };
    let input: Input = params.parse(names)?;
    let block_id = input
        .block_id
        .for_api(api)
        .map_err(RpcError::invalid_params)?;
    let include_proof_facts = TxnResponseFlag::include_proof_facts(&input.response_flags, version);

    let header = match context.resolve_block(block_id)? {
        ResolvedBlock::Committed(header) => header,
        // Without a pre-confirmed block, the pending block is empty.
        ResolvedBlock::Pending { block, .. } => {
            let transaction = usize::try_from(input.index)
                .ok()
                .and_then(|index| block?.transactions.get(index).cloned())
                .ok_or_else(RpcError::invalid_transaction_index)?;
            return Ok(transaction_with_hash(
                &transaction,
                version,
                include_proof_facts,
            ));
        }
    };
    let index = u32::try_from(input.index).map_err(|_| RpcError::invalid_transaction_index())?;
    let location = TransactionLocation {
        block_number: header.number,
        index,
    };
    let (transaction, _receipt) = context
        .storage
        .transaction(location)?
        .ok_or_else(RpcError::invalid_transaction_index)?;
    Ok(transaction_with_hash(
        &transaction,
        version,
        include_proof_facts,
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::sample_chain::{self, transaction_hash};
    use crate::test_support::{context_with_blocks, params_from};

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &params_from(params))
    }

    #[test]
    fn returns_transaction_at_index() {
        let (context, _dir) = sample_chain::context();
        for (block, count) in [(0u64, 4u64), (1, 4), (2, 3)] {
            for index in 0..count {
                let transaction = call(
                    &context,
                    Api::V0_8,
                    json!([{ "block_number": block }, index]),
                )
                .unwrap();
                assert_eq!(
                    transaction["transaction_hash"],
                    json!(format!("{:#x}", transaction_hash(block, index))),
                    "block {block} index {index}"
                );
            }
        }
        let by_name = call(
            &context,
            Api::V0_7,
            json!({ "block_id": { "block_hash": "0x100" }, "index": 2 }),
        )
        .unwrap();
        assert_eq!(by_name["type"], "L1_HANDLER");
    }

    #[test]
    fn proof_facts_on_request_in_v0_10() {
        let (context, _dir) = sample_chain::context();
        let flagged = call(
            &context,
            Api::V0_10,
            json!(["latest", 0, ["INCLUDE_PROOF_FACTS"]]),
        )
        .unwrap();
        assert_eq!(flagged["proof_facts"], json!(["0xf1"]));
        let unflagged = call(&context, Api::V0_10, json!(["latest", 0])).unwrap();
        assert!(unflagged.get("proof_facts").is_none());
        let too_many = json!(["latest", 0, ["INCLUDE_PROOF_FACTS"]]);
        assert_eq!(
            call(&context, Api::V0_9, too_many).unwrap_err().code,
            -32602
        );
    }

    #[test]
    fn index_past_end_is_error_27() {
        let (context, _dir) = sample_chain::context();
        for index in [3u64, 4, u64::from(u32::MAX) + 1] {
            let error = call(&context, Api::V0_10, json!(["latest", index])).unwrap_err();
            assert_eq!(error.code, 27, "index {index}");
        }
        let (empty_blocks, _dir) = context_with_blocks(1);
        let error = call(&empty_blocks, Api::V0_7, json!(["latest", 0])).unwrap_err();
        assert_eq!(error.code, 27);
    }

    #[test]
    fn pending_block_has_no_index() {
        let (context, _dir) = sample_chain::context();
        assert_eq!(
            call(&context, Api::V0_8, json!(["pending", 0]))
                .unwrap_err()
                .code,
            27
        );
        assert_eq!(
            call(&context, Api::V0_9, json!(["pre_confirmed", 0]))
                .unwrap_err()
                .code,
            27
        );
    }

    #[test]
    fn unknown_block_is_error_24() {
        let (context, _dir) = sample_chain::context();
        let error = call(&context, Api::V0_7, json!([{ "block_number": 3 }, 0])).unwrap_err();
        assert_eq!(error.code, 24);
    }

    #[test]
    fn negative_or_missing_index_is_invalid_params() {
        let (context, _dir) = sample_chain::context();
        for params in [
            json!(["latest", -1]),
            json!(["latest"]),
            json!(["latest", "0x1"]),
        ] {
            let error = call(&context, Api::V0_7, params.clone()).unwrap_err();
            assert_eq!(error.code, -32602, "{params}");
        }
    }

    #[test]
    fn pre_confirmed_transactions_by_index() {
        use crate::context::pre_confirmed_fixture::{self, REVERTED};
        let (context, _dir) = sample_chain::context();
        pre_confirmed_fixture::set_on_head(&context);
        let second = call(&context, Api::V0_9, json!(["pre_confirmed", 1])).unwrap();
        assert_eq!(second["transaction_hash"], json!(format!("{REVERTED:#x}")));
        // The candidate is not part of the block.
        let error = call(&context, Api::V0_8, json!(["pending", 2])).unwrap_err();
        assert_eq!(error.code, 27);
    }
}
