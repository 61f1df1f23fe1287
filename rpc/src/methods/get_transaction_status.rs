//! `starknet_getTransactionStatus`: finality and execution status of a committed or
//! pre-confirmed transaction.

use serde::Deserialize;
use serde_json::{json, Value};
use starling_storage::{BlockNumber, ExecutionStatus, TransactionHash};

use crate::context::{FoundTransaction, RpcContext};
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::RpcFelt;
use crate::types::SpecVersion;
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    transaction_hash: RpcFelt,
}

/// Returns the finality status, which is the status of the block that contains the
/// transaction, and the execution status. From v0.8, a reverted transaction also has
/// `failure_reason`, its revert reason.
///
/// An executed transaction of the pre-confirmed block is `PRE_CONFIRMED` from v0.9 and
/// `ACCEPTED_ON_L2` before, as pending transactions were. One that the pre-confirmed
/// block includes but has not executed is `CANDIDATE` from v0.9 and `RECEIVED` before,
/// without an execution status.
///
/// NOTE: the node has no mempool and keeps no rejected transactions, so a
/// transaction it has neither stored nor seen in the pre-confirmed block is error 29,
/// never `RECEIVED` or `REJECTED`.
pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["transaction_hash"])?;
    let hash = TransactionHash(input.transaction_hash.0);
    match transaction_status(context, api, hash)? {
        Some((status, _)) => Ok(status),
        None => Err(RpcError::transaction_hash_not_found()),
    }
}

/// Returns the `TXN_STATUS_RESULT` of `hash` and the number of the block (committed or
/// pre-confirmed) that contains it, or `None` when the node does not have it.
pub fn transaction_status(
    context: &RpcContext,
    api: Api,
    hash: TransactionHash,
) -> Result<Option<(Value, BlockNumber)>, RpcError> {
    let version = SpecVersion::of(api);
    let (finality, receipt, block) = match context.find_transaction(hash)? {
        Some(FoundTransaction::Committed(location)) => {
            let storage = &context.storage;
            let stored = storage.transaction(location)?;
            let header = storage.header(location.block_number)?;
            let (Some((_transaction, receipt)), Some(header)) = (stored, header) else {
                tracing::error!(target: "rpc", ?location, "transaction hash index names a missing transaction or block");
                return Err(RpcError::internal());
            };
            (header.status.as_str(), receipt, location.block_number)
        }
        Some(FoundTransaction::PreConfirmed(block)) => {
            let Some(found) = block.transaction(hash) else {
                return Ok(None);
            };
            let finality = if version >= SpecVersion::V0_9 {
                "PRE_CONFIRMED"
            } else {
                "ACCEPTED_ON_L2"
            };
            (finality, found.receipt.clone(), block.number)
        }
        Some(FoundTransaction::Candidate(block)) => {
            let finality = if version >= SpecVersion::V0_9 {
                "CANDIDATE"
            } else {
                "RECEIVED"
            };
            return Ok(Some((json!({ "finality_status": finality }), block.number)));
        }
        None => return Ok(None),
    };

    let mut status = json!({ "finality_status": finality });
    match receipt.execution_status {
        ExecutionStatus::Succeeded => {
            status["execution_status"] = json!("SUCCEEDED");
        }
        ExecutionStatus::Reverted { reason } => {
            status["execution_status"] = json!("REVERTED");
            if version >= SpecVersion::V0_8 {
                status["failure_reason"] = json!(reason);
            }
        }
    }
    Ok(Some((status, block)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::sample_chain::{self, transaction_hash};
    use crate::test_support::{empty_context, params_from};

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &params_from(params))
    }

    fn hash(block: u64, index: u64) -> String {
        format!("{:#x}", transaction_hash(block, index))
    }

    #[test]
    fn finality_follows_block_status() {
        let (context, _dir) = sample_chain::context();
        let on_l1 = call(&context, Api::V0_7, json!([hash(0, 1)])).unwrap();
        assert_eq!(
            on_l1,
            json!({ "finality_status": "ACCEPTED_ON_L1", "execution_status": "SUCCEEDED" })
        );
        let on_l2 = call(
            &context,
            Api::V0_10,
            json!({ "transaction_hash": hash(2, 1) }),
        );
        assert_eq!(
            on_l2.unwrap(),
            json!({ "finality_status": "ACCEPTED_ON_L2", "execution_status": "SUCCEEDED" })
        );
    }

    #[test]
    fn failure_reason_from_v0_8() {
        let (context, _dir) = sample_chain::context();
        let v0_7 = call(&context, Api::Root, json!([hash(1, 0)])).unwrap();
        assert_eq!(
            v0_7,
            json!({ "finality_status": "ACCEPTED_ON_L2", "execution_status": "REVERTED" })
        );
        for api in [Api::V0_8, Api::V0_9, Api::V0_10] {
            let status = call(&context, api, json!([hash(1, 0)])).unwrap();
            assert_eq!(
                status,
                json!({
                    "finality_status": "ACCEPTED_ON_L2",
                    "execution_status": "REVERTED",
                    "failure_reason": "Error in the called contract",
                }),
                "{api:?}"
            );
        }
    }

    #[test]
    fn unknown_hash_is_error_29() {
        let (context, _dir) = sample_chain::context();
        assert_eq!(
            call(&context, Api::V0_9, json!(["0xdead"]))
                .unwrap_err()
                .code,
            29
        );
        let (empty, _dir) = empty_context();
        assert_eq!(
            call(&empty, Api::V0_7, json!(["0x1"])).unwrap_err().code,
            29
        );
        assert_eq!(call(&empty, Api::V0_7, json!([])).unwrap_err().code, -32602);
    }

    #[test]
    fn pre_confirmed_statuses_per_version() {
        use crate::context::pre_confirmed_fixture::{self, CANDIDATE, REVERTED, SUCCEEDED};
        let (context, _dir) = sample_chain::context();
        pre_confirmed_fixture::set_on_head(&context);
        let status = |api, hash: u64| call(&context, api, json!([format!("{hash:#x}")])).unwrap();

        assert_eq!(
            status(Api::V0_9, SUCCEEDED),
            json!({ "finality_status": "PRE_CONFIRMED", "execution_status": "SUCCEEDED" })
        );
        assert_eq!(
            status(Api::V0_10, REVERTED),
            json!({
                "finality_status": "PRE_CONFIRMED",
                "execution_status": "REVERTED",
                "failure_reason": "out of gas",
            })
        );
        assert_eq!(
            status(Api::V0_8, SUCCEEDED),
            json!({ "finality_status": "ACCEPTED_ON_L2", "execution_status": "SUCCEEDED" })
        );
        assert_eq!(
            status(Api::V0_9, CANDIDATE),
            json!({ "finality_status": "CANDIDATE" })
        );
        assert_eq!(
            status(Api::V0_7, CANDIDATE),
            json!({ "finality_status": "RECEIVED" })
        );
    }

    #[test]
    fn pre_confirmed_off_head_is_error_29() {
        use crate::context::pre_confirmed_fixture::{self, SUCCEEDED};
        let (context, _dir) = sample_chain::context();
        let mut block = pre_confirmed_fixture::set_on_head(&context);
        block.parent_hash = starling_storage::BlockHash(starling_storage::Felt::from(0x999u64));
        context.pre_confirmed.set(block);
        let error = call(&context, Api::V0_9, json!([format!("{SUCCEEDED:#x}")])).unwrap_err();
        assert_eq!(error.code, 29);
    }
}
