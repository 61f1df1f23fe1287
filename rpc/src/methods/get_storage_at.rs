//! `starknet_getStorageAt`: the value of a storage slot at a block, and from v0.10 on
//! request the block of the slot's last write.

use serde::Deserialize;
use serde_json::{json, Value};
use starling_storage::{ContractAddress, Felt, StorageKey};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::{BlockIdParam, RpcFelt};
use crate::version::Api;

/// The v0.10 flag that turns the result into `{value, last_update_block}`.
const INCLUDE_LAST_UPDATE_BLOCK: &str = "INCLUDE_LAST_UPDATE_BLOCK";

#[derive(Deserialize)]
struct Input {
    contract_address: RpcFelt,
    key: RpcFelt,
    block_id: BlockIdParam,
    #[serde(default)]
    response_flags: Vec<String>,
}

pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let input: Input = if api == Api::V0_10 {
        params.parse(&["contract_address", "key", "block_id", "response_flags"])?
    } else {
        // Earlier versions have no `response_flags`; a named one is ignored, as by
        // Pathfinder, and a fourth positional parameter is rejected by `parse`.
        let mut input: Input = params.parse(&["contract_address", "key", "block_id"])?;
        input.response_flags.clear();
        input
    };
    let include_last_update_block = parse_flags(&input.response_flags)?;

    let key = input.key.0;
    if key.bits() > 251 {
        return Err(RpcError::invalid_params(format!(
            "invalid storage key {key:#x}: storage keys are below 2^251"
        )));
    }
    let address = ContractAddress(input.contract_address.0);
    let block_id = input
        .block_id
        .for_api(api)
        .map_err(RpcError::invalid_params)?;
    let resolved = context.resolve_block(block_id)?;
    let at = resolved.state_block();
    // The pre-confirmed block's writes and deployments apply on top of the head.
    let pre_confirmed = resolved.pre_confirmed();
    let pre_confirmed_write = pre_confirmed.and_then(|block| {
        let value = block.storage_value(address, StorageKey(key))?;
        Some((value, block.number.get()))
    });
    let deployed_in_pre_confirmed =
        pre_confirmed.is_some_and(|block| block.class_hash(address).is_some());

    // NOTE: system contracts 0x1 and 0x2 have storage but no class. A written slot of
    // theirs returns its value; an unwritten one is error 20, as for any address without
    // a deployed contract. Pathfinder does the same (its `get_storage_at.rs` at commit
    // afd4b22, May 2026).
    let (value, last_update_block) = match pre_confirmed_write {
        Some(write) => write,
        None => match context
            .storage
            .storage_at_with_block(address, StorageKey(key), at)?
        {
            Some((value, block)) => (value, block.get()),
            None if deployed_in_pre_confirmed => (Felt::ZERO, 0),
            None if context.storage.class_hash_at(address, at)?.is_some() => (Felt::ZERO, 0),
            None => return Err(RpcError::contract_not_found()),
        },
    };

    if include_last_update_block {
        Ok(json!({ "value": value, "last_update_block": last_update_block }))
    } else {
        Ok(json!(value))
    }
}

/// Returns whether `INCLUDE_LAST_UPDATE_BLOCK` is set; any other flag is invalid.
fn parse_flags(flags: &[String]) -> Result<bool, RpcError> {
    let mut include_last_update_block = false;
    for flag in flags {
        if flag != INCLUDE_LAST_UPDATE_BLOCK {
            return Err(RpcError::invalid_params(format!(
                "invalid response flag {flag:?}: the only flag is {INCLUDE_LAST_UPDATE_BLOCK:?}"
            )));
        }
        include_last_update_block = true;
    }
    Ok(include_last_update_block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_with_diff, context_with_chain};
    use starling_storage::{
        ClassHash, ContractStorageDiff, DeployedContract, StateDiff, StorageEntry,
    };
    use tempfile::TempDir;

    fn storage_diff(address: u64, key: u64, value: u64) -> ContractStorageDiff {
        ContractStorageDiff {
            address: ContractAddress(Felt::from(address)),
            entries: vec![StorageEntry {
                key: StorageKey(Felt::from(key)),
                value: Felt::from(value),
            }],
        }
    }

    /// Block 0 deploys 0xc0 and writes its slot 5 and slot 0x10 of system contract 0x1.
    /// Block 1 is empty, and block 2 writes slot 5 of 0xc0 again.
    fn chain() -> (RpcContext, TempDir) {
        context_with_chain(vec![
            block_with_diff(StateDiff {
                storage_diffs: vec![storage_diff(0xc0, 5, 11), storage_diff(0x1, 0x10, 0xabc)],
                deployed_contracts: vec![DeployedContract {
                    address: ContractAddress(Felt::from(0xc0u64)),
                    class_hash: ClassHash(Felt::from(0xccu64)),
                }],
                ..StateDiff::default()
            }),
            block_with_diff(StateDiff::default()),
            block_with_diff(StateDiff {
                storage_diffs: vec![storage_diff(0xc0, 5, 33)],
                ..StateDiff::default()
            }),
        ])
    }

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        let params = match params {
            Value::Array(values) => Params::Positional(values),
            Value::Object(map) => Params::Named(map),
            _ => panic!("params must be an array or an object"),
        };
        handle(context, api, &params)
    }

    #[test]
    fn reads_value_at_each_block() {
        let (context, _dir) = chain();
        let cases = [
            (json!({"block_number": 0}), "0xb"),
            (json!({"block_number": 1}), "0xb"),
            (json!({"block_number": 2}), "0x21"),
            (json!("latest"), "0x21"),
            (json!({"block_hash": "0x101"}), "0xb"),
        ];
        for (block_id, expected) in cases {
            let result = call(&context, Api::V0_7, json!(["0xc0", "0x5", block_id])).unwrap();
            assert_eq!(result, json!(expected), "block {block_id}");
        }
    }

    #[test]
    fn unwritten_slot_of_deployed_contract_is_zero() {
        let (context, _dir) = chain();
        let result = call(
            &context,
            Api::V0_9,
            json!({"contract_address": "0xc0", "key": "0x6", "block_id": "latest"}),
        )
        .unwrap();
        assert_eq!(result, json!("0x0"));
    }

    #[test]
    fn undeployed_contract_is_error_20() {
        let (context, _dir) = chain();
        let error = call(&context, Api::V0_8, json!(["0xc1", "0x5", "latest"])).unwrap_err();
        assert_eq!(error.code, 20);
    }

    #[test]
    fn system_contract_serves_written_slots() {
        let (context, _dir) = chain();
        let written = call(&context, Api::V0_8, json!(["0x1", "0x10", "latest"])).unwrap();
        assert_eq!(written, json!("0xabc"));
        let unwritten = call(&context, Api::V0_8, json!(["0x1", "0x11", "latest"])).unwrap_err();
        assert_eq!(unwritten.code, 20);
    }

    #[test]
    fn pending_reads_head_state() {
        let (context, _dir) = chain();
        let result = call(&context, Api::V0_8, json!(["0xc0", "0x5", "pending"])).unwrap();
        assert_eq!(result, json!("0x21"));
        let result = call(
            &context,
            Api::V0_10,
            json!(["0xc0", "0x5", "pre_confirmed"]),
        )
        .unwrap();
        assert_eq!(result, json!("0x21"));
    }

    #[test]
    fn unknown_block_is_error_24() {
        let (context, _dir) = chain();
        let error = call(
            &context,
            Api::V0_7,
            json!(["0xc0", "0x5", {"block_number": 3}]),
        )
        .unwrap_err();
        assert_eq!(error.code, 24);
    }

    #[test]
    fn last_update_block_flag_on_v0_10() {
        let (context, _dir) = chain();
        let flags = json!(["INCLUDE_LAST_UPDATE_BLOCK"]);
        let cases = [
            (
                "0x5",
                json!({"block_number": 1}),
                json!({"value": "0xb", "last_update_block": 0}),
            ),
            (
                "0x5",
                json!("latest"),
                json!({"value": "0x21", "last_update_block": 2}),
            ),
            (
                "0x6",
                json!("latest"),
                json!({"value": "0x0", "last_update_block": 0}),
            ),
        ];
        for (key, block_id, expected) in cases {
            let result = call(&context, Api::V0_10, json!(["0xc0", key, block_id, flags])).unwrap();
            assert_eq!(result, expected, "key {key} at {block_id}");
        }

        let without_flag =
            call(&context, Api::V0_10, json!(["0xc0", "0x5", "latest", []])).unwrap();
        assert_eq!(without_flag, json!("0x21"));
    }

    #[test]
    fn invalid_flags_and_keys_are_rejected() {
        let (context, _dir) = chain();
        let bad_flag = call(
            &context,
            Api::V0_10,
            json!(["0xc0", "0x5", "latest", ["OTHER"]]),
        )
        .unwrap_err();
        assert_eq!(bad_flag.code, -32602);

        let flag_before_v0_10 = call(
            &context,
            Api::V0_9,
            json!(["0xc0", "0x5", "latest", ["INCLUDE_LAST_UPDATE_BLOCK"]]),
        )
        .unwrap_err();
        assert_eq!(flag_before_v0_10.code, -32602);

        let key_too_large = format!("0x8{}", "0".repeat(62));
        let error = call(
            &context,
            Api::V0_7,
            json!(["0xc0", key_too_large, "latest"]),
        )
        .unwrap_err();
        assert_eq!(error.code, -32602);
    }

    #[test]
    fn pre_confirmed_diff_over_head_state() {
        use crate::context::pre_confirmed_fixture::{self, DEPLOYED};
        let (context, _dir) = chain();
        pre_confirmed_fixture::set_on_head(&context);
        let deployed = format!("{DEPLOYED:#x}");

        let written = call(
            &context,
            Api::V0_9,
            json!([deployed, "0x5", "pre_confirmed"]),
        )
        .unwrap();
        assert_eq!(written, json!("0x77"));
        // An unwritten slot of the contract the block deploys is zero.
        let unwritten = call(&context, Api::V0_8, json!([deployed, "0x6", "pending"])).unwrap();
        assert_eq!(unwritten, json!("0x0"));
        // Slots the block does not write read the head's state.
        let head_slot = call(&context, Api::V0_9, json!(["0xc0", "0x5", "pre_confirmed"])).unwrap();
        assert_eq!(head_slot, json!("0x21"));
        // The head itself does not see the block.
        let latest = call(&context, Api::V0_9, json!([deployed, "0x5", "latest"])).unwrap_err();
        assert_eq!(latest.code, 20);

        let with_block = call(
            &context,
            Api::V0_10,
            json!([
                deployed,
                "0x5",
                "pre_confirmed",
                ["INCLUDE_LAST_UPDATE_BLOCK"]
            ]),
        )
        .unwrap();
        let pre_confirmed_number = context.latest_header().unwrap().number.get() + 1;
        assert_eq!(
            with_block,
            json!({ "value": "0x77", "last_update_block": pre_confirmed_number })
        );
    }
}
