//! `starknet_syncing`: `false` when the node is not behind the feeder gateway, otherwise
//! the starting, current and highest block.

use serde_json::{json, Value};
use starling_storage::BlockHash;

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::version::Api;

/// Returns `false` until the sync loop has reported the gateway's newest block and stored a
/// block, and whenever the stored head has reached the gateway's newest block. The current
/// block is the stored head.
pub fn handle(context: &RpcContext, _api: Api, _params: &Params) -> Result<Value, RpcError> {
    let progress = context.sync_status.progress();
    let Some(highest) = progress.highest_block else {
        return Ok(Value::Bool(false));
    };
    let Some((current_number, current_hash)) = context.storage.head()? else {
        return Ok(Value::Bool(false));
    };
    if current_number >= highest.number {
        return Ok(Value::Bool(false));
    }

    let (starting_number, starting_hash) = progress
        .starting_block
        .unwrap_or((current_number, current_hash));
    // The sync loop reports the newest block's hash with its number; 0x0 only covers a
    // caller of `SyncStatus` that reports a number alone.
    let highest_hash = highest.hash.unwrap_or(BlockHash::ZERO);
    Ok(json!({
        "starting_block_hash": starting_hash,
        "starting_block_num": starting_number.get(),
        "current_block_hash": current_hash,
        "current_block_num": current_number.get(),
        "highest_block_hash": highest_hash,
        "highest_block_num": highest.number.get(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{context_with_blocks, empty_context};
    use starling_storage::{BlockNumber, Felt};

    #[test]
    fn not_syncing_before_the_gateway_reports() {
        let (context, _dir) = context_with_blocks(3);
        let result = handle(&context, Api::V0_7, &Params::None).unwrap();
        assert_eq!(result, Value::Bool(false));
    }

    #[test]
    fn not_syncing_without_stored_blocks() {
        let (context, _dir) = empty_context();
        context.sync_status.set_highest_block(BlockNumber(10), None);
        let result = handle(&context, Api::V0_7, &Params::None).unwrap();
        assert_eq!(result, Value::Bool(false));
    }

    #[test]
    fn behind_the_gateway_reports_progress() {
        let (context, _dir) = context_with_blocks(3);
        context
            .sync_status
            .set_starting_block(BlockNumber(1), BlockHash(Felt::from(0x101u64)));
        context
            .sync_status
            .set_highest_block(BlockNumber(9), Some(BlockHash(Felt::from(0x999u64))));

        let result = handle(&context, Api::V0_10, &Params::None).unwrap();
        assert_eq!(
            result,
            json!({
                "starting_block_hash": "0x101",
                "starting_block_num": 1,
                "current_block_hash": "0x102",
                "current_block_num": 2,
                "highest_block_hash": "0x999",
                "highest_block_num": 9,
            })
        );
    }

    #[test]
    fn unknown_highest_hash_is_zero() {
        let (context, _dir) = context_with_blocks(2);
        context.sync_status.set_highest_block(BlockNumber(5), None);
        let result = handle(&context, Api::V0_8, &Params::None).unwrap();
        assert_eq!(result["highest_block_hash"], json!("0x0"));
        assert_eq!(result["starting_block_num"], json!(1));
    }

    #[test]
    fn at_the_tip_is_not_syncing() {
        let (context, _dir) = context_with_blocks(3);
        context.sync_status.set_highest_block(BlockNumber(2), None);
        let result = handle(&context, Api::V0_9, &Params::None).unwrap();
        assert_eq!(result, Value::Bool(false));
    }
}
