//! `starknet_getTransactionByHash`: a committed or pre-confirmed transaction with its
//! hash.

use serde::Deserialize;
use serde_json::Value;
use starling_storage::TransactionHash;

use crate::context::{FoundTransaction, RpcContext};
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::RpcFelt;
use crate::types::{transaction_with_hash, SpecVersion, TxnResponseFlag};
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    transaction_hash: RpcFelt,
    /// From v0.10.
    #[serde(default)]
    response_flags: Vec<TxnResponseFlag>,
}

pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let version = SpecVersion::of(api);
    let names: &[&str] = if version >= SpecVersion::V0_10 {
        &["transaction_hash", "response_flags"]
    } else {
        &["transaction_hash"]
    };
    let input: Input = params.parse(names)?;
    let include_proof_facts = TxnResponseFlag::include_proof_facts(&input.response_flags, version);

    let hash = TransactionHash(input.transaction_hash.0);
    let location = match context.find_transaction(hash)? {
        Some(FoundTransaction::Committed(location)) => location,
        Some(FoundTransaction::PreConfirmed(block) | FoundTransaction::Candidate(block)) => {
            let transaction = block
                .transactions
                .iter()
                .chain(&block.candidate_transactions)
                .find(|transaction| transaction.hash == hash)
                .ok_or_else(RpcError::transaction_hash_not_found)?;
            return Ok(transaction_with_hash(
                transaction,
                version,
                include_proof_facts,
            ));
        }
        None => return Err(RpcError::transaction_hash_not_found()),
    };
    let (transaction, _receipt) = context.storage.transaction(location)?.ok_or_else(|| {
        tracing::error!(target: "rpc", ?location, "transaction hash index names a missing transaction");
        RpcError::internal()
    })?;
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
    use crate::test_support::params_from;
    use crate::test_support::sample_chain::{self, transaction_hash, SECOND_ACCOUNT};

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &params_from(params))
    }

    fn hash(block: u64, index: u64) -> String {
        format!("{:#x}", transaction_hash(block, index))
    }

    #[test]
    fn returns_transaction_with_hash() {
        let (context, _dir) = sample_chain::context();
        let deploy_account = call(&context, Api::V0_7, json!([hash(1, 2)])).unwrap();
        assert_eq!(
            deploy_account,
            json!({
                "transaction_hash": hash(1, 2),
                "type": "DEPLOY_ACCOUNT",
                "version": "0x1",
                "max_fee": "0x4000",
                "signature": ["0x61"],
                "nonce": "0x0",
                "contract_address_salt": "0x5a18",
                "constructor_calldata": ["0x98"],
                "class_hash": "0xc0",
            })
        );

        let by_name = call(
            &context,
            Api::V0_9,
            json!({ "transaction_hash": hash(2, 0) }),
        );
        let invoke = by_name.unwrap();
        assert_eq!(invoke["type"], "INVOKE");
        assert_eq!(
            invoke["sender_address"],
            json!(format!("{SECOND_ACCOUNT:#x}"))
        );
        assert!(invoke["resource_bounds"].get("l1_data_gas").is_some());
    }

    #[test]
    fn hash_with_leading_zeros_matches() {
        let (context, _dir) = sample_chain::context();
        let padded = format!("0x{:0>64x}", transaction_hash(0, 1));
        let invoke = call(&context, Api::V0_8, json!([padded])).unwrap();
        assert_eq!(invoke["transaction_hash"], json!(hash(0, 1)));
    }

    #[test]
    fn proof_facts_on_request_in_v0_10() {
        let (context, _dir) = sample_chain::context();
        let flagged = call(
            &context,
            Api::V0_10,
            json!([hash(2, 0), ["INCLUDE_PROOF_FACTS"]]),
        )
        .unwrap();
        assert_eq!(flagged["proof_facts"], json!(["0xf1"]));
        let unflagged = call(&context, Api::V0_10, json!([hash(2, 0)])).unwrap();
        assert!(unflagged.get("proof_facts").is_none());
    }

    #[test]
    fn unknown_hash_is_error_29() {
        let (context, _dir) = sample_chain::context();
        for api in [Api::Root, Api::V0_8, Api::V0_10] {
            let error = call(&context, api, json!(["0x12345"])).unwrap_err();
            assert_eq!(error.code, 29, "{api:?}");
        }
    }

    #[test]
    fn malformed_hash_is_invalid_params() {
        let (context, _dir) = sample_chain::context();
        for params in [json!([]), json!(["12"]), json!([7])] {
            let error = call(&context, Api::V0_7, params.clone()).unwrap_err();
            assert_eq!(error.code, -32602, "{params}");
        }
    }

    #[test]
    fn pre_confirmed_and_candidate_found() {
        use crate::context::pre_confirmed_fixture::{self, CANDIDATE, REVERTED};
        let (context, _dir) = sample_chain::context();
        pre_confirmed_fixture::set_on_head(&context);
        for hash in [REVERTED, CANDIDATE] {
            let transaction = call(&context, Api::V0_9, json!([format!("{hash:#x}")])).unwrap();
            assert_eq!(transaction["transaction_hash"], json!(format!("{hash:#x}")));
            assert_eq!(transaction["type"], "L1_HANDLER");
        }
    }
}
