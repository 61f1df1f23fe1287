//! `starknet_getBlockTransactionCount`: the number of transactions in a block.

use serde::Deserialize;
use serde_json::Value;

use crate::context::{ResolvedBlock, RpcContext};
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::BlockIdParam;
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
    let count = match context.resolve_block(block_id)? {
        ResolvedBlock::Committed(header) => header.transaction_count,
        ResolvedBlock::Pending { block, .. } => {
            block.map_or(0, |block| block.transactions.len() as u64)
        }
    };
    Ok(Value::from(count))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::{context_with_blocks, empty_context, params_from, sample_chain};

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &params_from(params))
    }

    #[test]
    fn counts_transactions_of_each_block() {
        let (context, _dir) = sample_chain::context();
        for (block, count) in [(0, 4), (1, 4), (2, 3)] {
            let result = call(&context, Api::V0_7, json!([{ "block_number": block }]));
            assert_eq!(result.unwrap(), json!(count), "block {block}");
        }
        let by_hash = call(&context, Api::V0_10, json!([{ "block_hash": "0x102" }]));
        assert_eq!(by_hash.unwrap(), json!(3));
        let newest = call(&context, Api::V0_9, json!({ "block_id": "latest" }));
        assert_eq!(newest.unwrap(), json!(3));
    }

    #[test]
    fn pending_block_is_empty() {
        let (context, _dir) = sample_chain::context();
        assert_eq!(
            call(&context, Api::V0_8, json!(["pending"])).unwrap(),
            json!(0)
        );
        assert_eq!(
            call(&context, Api::V0_10, json!(["pre_confirmed"])).unwrap(),
            json!(0)
        );
    }

    #[test]
    fn unknown_block_is_error_24() {
        let (context, _dir) = context_with_blocks(3);
        let error = call(&context, Api::V0_7, json!([{ "block_number": 3 }])).unwrap_err();
        assert_eq!(error.code, 24);
        let (empty, _dir) = empty_context();
        assert_eq!(
            call(&empty, Api::V0_7, json!(["latest"])).unwrap_err().code,
            24
        );
    }

    #[test]
    fn missing_block_id_is_invalid_params() {
        let (context, _dir) = context_with_blocks(1);
        assert_eq!(
            call(&context, Api::V0_7, json!([])).unwrap_err().code,
            -32602
        );
        assert_eq!(
            call(&context, Api::V0_7, json!([{ "block_number": -1 }]))
                .unwrap_err()
                .code,
            -32602
        );
    }

    #[test]
    fn pre_confirmed_counts_executed_transactions() {
        let (context, _dir) = sample_chain::context();
        crate::context::pre_confirmed_fixture::set_on_head(&context);
        assert_eq!(
            call(&context, Api::V0_10, json!(["pre_confirmed"])).unwrap(),
            json!(2)
        );
    }
}
