//! `starknet_getNonce`: a contract's nonce at a block.

use serde::Deserialize;
use serde_json::{json, Value};
use starling_storage::{ContractAddress, Felt};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::{BlockIdParam, RpcFelt};
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    block_id: BlockIdParam,
    contract_address: RpcFelt,
}

/// Returns the nonce, 0 for a deployed contract that never had a nonce written (early
/// contracts were deployed without one), or error 20 when nothing is deployed at the
/// address at that block.
pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["block_id", "contract_address"])?;
    let block_id = input
        .block_id
        .for_api(api)
        .map_err(RpcError::invalid_params)?;
    let resolved = context.resolve_block(block_id)?;
    let at = resolved.state_block();
    let address = ContractAddress(input.contract_address.0);

    // The pre-confirmed block's nonces and deployments apply on top of the head.
    if let Some(block) = resolved.pre_confirmed() {
        if let Some(nonce) = block.nonce(address) {
            return Ok(json!(nonce));
        }
    }
    if let Some(nonce) = context.storage.nonce_at(address, at)? {
        return Ok(json!(nonce));
    }
    let deployed_in_pre_confirmed = resolved
        .pre_confirmed()
        .and_then(|block| block.class_hash(address));
    match deployed_in_pre_confirmed.or(context.storage.class_hash_at(address, at)?) {
        Some(_) => Ok(json!(Felt::ZERO)),
        None => Err(RpcError::contract_not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_with_diff, context_with_chain};
    use starling_storage::{ClassHash, DeployedContract, NonceUpdate, StateDiff};
    use tempfile::TempDir;

    /// Block 0 deploys 0xc0 and 0xc1; block 1 sets the nonce of 0xc0 to 1.
    fn chain() -> (RpcContext, TempDir) {
        let deploy = |address: u64| DeployedContract {
            address: ContractAddress(Felt::from(address)),
            class_hash: ClassHash(Felt::from(0xccu64)),
        };
        context_with_chain(vec![
            block_with_diff(StateDiff {
                deployed_contracts: vec![deploy(0xc0), deploy(0xc1)],
                ..StateDiff::default()
            }),
            block_with_diff(StateDiff {
                nonces: vec![NonceUpdate {
                    contract_address: ContractAddress(Felt::from(0xc0u64)),
                    nonce: Felt::ONE,
                }],
                ..StateDiff::default()
            }),
        ])
    }

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &crate::test_support::params_from(params))
    }

    #[test]
    fn nonce_at_each_block() {
        let (context, _dir) = chain();
        let at_0 = call(&context, Api::V0_7, json!([{"block_number": 0}, "0xc0"])).unwrap();
        assert_eq!(at_0, json!("0x0"));
        let at_1 = call(&context, Api::V0_7, json!([{"block_number": 1}, "0xc0"])).unwrap();
        assert_eq!(at_1, json!("0x1"));
        let latest = call(&context, Api::V0_10, json!(["latest", "0xc0"])).unwrap();
        assert_eq!(latest, json!("0x1"));
    }

    #[test]
    fn deployed_contract_without_nonce_is_zero() {
        let (context, _dir) = chain();
        let result = call(&context, Api::V0_9, json!(["pre_confirmed", "0xc1"])).unwrap();
        assert_eq!(result, json!("0x0"));
    }

    #[test]
    fn undeployed_contract_is_error_20() {
        let (context, _dir) = chain();
        let error = call(&context, Api::V0_8, json!(["latest", "0xc2"])).unwrap_err();
        assert_eq!(error.code, 20);
    }

    #[test]
    fn by_name_and_errors() {
        let (context, _dir) = chain();
        let named = Params::Named(
            json!({"contract_address": "0xc0", "block_id": "latest"})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(handle(&context, Api::V0_8, &named).unwrap(), json!("0x1"));

        let unknown_block = call(
            &context,
            Api::V0_7,
            json!([{"block_hash": "0x999"}, "0xc0"]),
        )
        .unwrap_err();
        assert_eq!(unknown_block.code, 24);
        let bad_tag = call(&context, Api::V0_9, json!(["pending", "0xc0"])).unwrap_err();
        assert_eq!(bad_tag.code, -32602);
    }

    #[test]
    fn pre_confirmed_nonce_over_head_state() {
        use crate::context::pre_confirmed_fixture::{self, DEPLOYED};
        let (context, _dir) = chain();
        pre_confirmed_fixture::set_on_head(&context);
        let deployed = format!("{DEPLOYED:#x}");
        let nonce = call(&context, Api::V0_9, json!(["pre_confirmed", deployed])).unwrap();
        assert_eq!(nonce, json!("0x3"));
        let head_nonce = call(&context, Api::V0_8, json!(["pending", "0xc0"])).unwrap();
        assert_eq!(head_nonce, json!("0x1"));
        let latest = call(&context, Api::V0_9, json!(["latest", deployed])).unwrap_err();
        assert_eq!(latest.code, 20);
    }
}
