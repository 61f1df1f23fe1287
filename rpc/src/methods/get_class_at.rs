//! `starknet_getClassAt`: the class of the contract at an address, at a block.

use serde::Deserialize;
use serde_json::Value;
use starling_storage::ContractAddress;

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::methods::get_class::class_at;
use crate::params::{BlockIdParam, RpcFelt};
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    block_id: BlockIdParam,
    contract_address: RpcFelt,
}

/// An address with no contract after the block is error 20; a contract whose class
/// was replaced returns the class it had after that block.
pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["block_id", "contract_address"])?;
    let block_id = input
        .block_id
        .for_api(api)
        .map_err(RpcError::invalid_params)?;
    let resolved = context.resolve_block(block_id)?;
    let block = resolved.state_block();
    let address = ContractAddress(input.contract_address.0);

    // A contract the pre-confirmed block deploys, or whose class it replaces.
    // NOTE: classes that the pre-confirmed block declares are not fetched, so a
    // contract of such a class is error 20 until its block is committed.
    if let Some(class_hash) = resolved
        .pre_confirmed()
        .and_then(|pre_confirmed| pre_confirmed.class_hash(address))
    {
        return class_at(context, class_hash, block)?.ok_or_else(RpcError::contract_not_found);
    }
    let class_hash = context
        .storage
        .class_hash_at(address, block)?
        .ok_or_else(RpcError::contract_not_found)?;
    class_at(context, class_hash, block)?.ok_or_else(|| {
        tracing::error!(target: "rpc", %address, %class_hash, block_number = %block, "deployed contract's class is not stored");
        RpcError::internal()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::params_from;
    use crate::test_support::sample_chain::{self, ACCOUNT, SECOND_ACCOUNT, THIRD_ACCOUNT};

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &params_from(params))
    }

    fn hex(value: u64) -> String {
        format!("{value:#x}")
    }

    #[test]
    fn class_follows_deployments_and_replacements() {
        let (context, _dir) = sample_chain::context();
        // The account has its Cairo 0 class until block 2 replaces it with Sierra.
        let before = call(
            &context,
            Api::V0_7,
            json!([{ "block_number": 1 }, hex(ACCOUNT)]),
        );
        assert!(before.unwrap().get("program").is_some());
        let after = call(
            &context,
            Api::V0_7,
            json!([{ "block_number": 2 }, hex(ACCOUNT)]),
        );
        assert!(after.unwrap().get("sierra_program").is_some());

        let deployed_in_1 = call(
            &context,
            Api::V0_10,
            json!({ "block_id": "latest", "contract_address": hex(SECOND_ACCOUNT) }),
        );
        assert!(deployed_in_1.unwrap().get("program").is_some());
        let pending = call(&context, Api::V0_8, json!(["pending", hex(THIRD_ACCOUNT)]));
        assert!(pending.unwrap().get("sierra_program").is_some());
    }

    #[test]
    fn contract_not_deployed_yet_is_error_20() {
        let (context, _dir) = sample_chain::context();
        let early = json!([{ "block_number": 1 }, hex(THIRD_ACCOUNT)]);
        assert_eq!(call(&context, Api::V0_9, early).unwrap_err().code, 20);
        let never = json!(["latest", "0xbeef"]);
        assert_eq!(call(&context, Api::V0_9, never).unwrap_err().code, 20);
    }

    #[test]
    fn unknown_block_is_error_24() {
        let (context, _dir) = sample_chain::context();
        let params = json!([{ "block_hash": "0x999" }, hex(ACCOUNT)]);
        assert_eq!(call(&context, Api::V0_7, params).unwrap_err().code, 24);
        let bad_address = json!(["latest", "0x"]);
        assert_eq!(
            call(&context, Api::V0_7, bad_address).unwrap_err().code,
            -32602
        );
    }

    #[test]
    fn pre_confirmed_deployment_of_stored_class() {
        use crate::context::pre_confirmed_fixture::{self, DEPLOYED};
        use crate::test_support::sample_chain::CAIRO0_CLASS;
        use starling_storage::{ClassHash, Felt};

        let (context, _dir) = sample_chain::context();
        let mut block = pre_confirmed_fixture::set_on_head(&context);
        let deployed = json!(["pre_confirmed", hex(DEPLOYED)]);
        // The fixture's class 0xaa is not stored.
        let unknown_class = call(&context, Api::V0_9, deployed.clone()).unwrap_err();
        assert_eq!(unknown_class.code, 20);

        block.state_diff.deployed_contracts[0].class_hash = ClassHash(Felt::from(CAIRO0_CLASS));
        context.pre_confirmed.set(block);
        let class = call(&context, Api::V0_9, deployed).unwrap();
        assert!(class.get("program").is_some());
        let latest = call(&context, Api::V0_9, json!(["latest", hex(DEPLOYED)]));
        assert_eq!(latest.unwrap_err().code, 20);
    }
}
