//! `starknet_getClassHashAt`: the class of the contract at an address, at a block.

use serde::Deserialize;
use serde_json::{json, Value};
use starling_storage::ContractAddress;

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

/// Returns the class hash, or error 20 when no contract is deployed at the address at that
/// block. System contracts 0x1 and 0x2 have no class, so they are error 20 too.
pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["block_id", "contract_address"])?;
    let block_id = input
        .block_id
        .for_api(api)
        .map_err(RpcError::invalid_params)?;
    let resolved = context.resolve_block(block_id)?;
    let address = ContractAddress(input.contract_address.0);

    // A deployment or class replacement in the pre-confirmed block overrides the head.
    if let Some(class_hash) = resolved
        .pre_confirmed()
        .and_then(|block| block.class_hash(address))
    {
        return Ok(json!(class_hash));
    }
    match context
        .storage
        .class_hash_at(address, resolved.state_block())?
    {
        Some(class_hash) => Ok(json!(class_hash)),
        None => Err(RpcError::contract_not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_with_diff, context_with_chain};
    use starling_storage::{
        ClassHash, ContractStorageDiff, DeployedContract, Felt, StateDiff, StorageEntry, StorageKey,
    };
    use tempfile::TempDir;

    /// Block 0 deploys 0xc0 with class 0xaa and writes a slot of system contract 0x1;
    /// block 1 replaces the class of 0xc0 with 0xbb.
    fn chain() -> (RpcContext, TempDir) {
        let contract = ContractAddress(Felt::from(0xc0u64));
        context_with_chain(vec![
            block_with_diff(StateDiff {
                deployed_contracts: vec![DeployedContract {
                    address: contract,
                    class_hash: ClassHash(Felt::from(0xaau64)),
                }],
                storage_diffs: vec![ContractStorageDiff {
                    address: ContractAddress(Felt::ONE),
                    entries: vec![StorageEntry {
                        key: StorageKey(Felt::from(0x10u64)),
                        value: Felt::from(0xabcu64),
                    }],
                }],
                ..StateDiff::default()
            }),
            block_with_diff(StateDiff {
                replaced_classes: vec![DeployedContract {
                    address: contract,
                    class_hash: ClassHash(Felt::from(0xbbu64)),
                }],
                ..StateDiff::default()
            }),
        ])
    }

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &crate::test_support::params_from(params))
    }

    #[test]
    fn class_follows_replacement() {
        let (context, _dir) = chain();
        let before = call(&context, Api::V0_7, json!([{"block_number": 0}, "0xc0"])).unwrap();
        assert_eq!(before, json!("0xaa"));
        let after = call(
            &context,
            Api::V0_8,
            json!([{"block_hash": "0x101"}, "0xc0"]),
        )
        .unwrap();
        assert_eq!(after, json!("0xbb"));
        let pending = call(&context, Api::V0_8, json!(["pending", "0xc0"])).unwrap();
        assert_eq!(pending, json!("0xbb"));
    }

    #[test]
    fn missing_contracts_are_error_20() {
        let (context, _dir) = chain();
        for address in ["0xc1", "0x1"] {
            let error = call(&context, Api::V0_10, json!(["latest", address])).unwrap_err();
            assert_eq!(error.code, 20, "address {address}");
        }
    }

    #[test]
    fn unknown_block_is_error_24() {
        let (context, _dir) = chain();
        let error = call(&context, Api::V0_9, json!([{"block_number": 9}, "0xc0"])).unwrap_err();
        assert_eq!(error.code, 24);
    }

    #[test]
    fn pre_confirmed_deployment_over_head_state() {
        use crate::context::pre_confirmed_fixture::{self, DEPLOYED};
        let (context, _dir) = chain();
        pre_confirmed_fixture::set_on_head(&context);
        let deployed = format!("{DEPLOYED:#x}");
        let class = call(&context, Api::V0_9, json!(["pre_confirmed", deployed])).unwrap();
        assert_eq!(class, json!("0xaa"));
        let head_class = call(&context, Api::V0_9, json!(["pre_confirmed", "0xc0"])).unwrap();
        assert_eq!(head_class, json!("0xbb"));
        let latest = call(&context, Api::V0_9, json!(["latest", deployed])).unwrap_err();
        assert_eq!(latest.code, 20);
    }
}
