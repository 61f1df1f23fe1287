//! `starknet_getClass`: a class definition, if the class is declared at the requested
//! block.

use serde::Deserialize;
use serde_json::Value;
use starling_storage::{BlockNumber, ClassHash};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::{BlockIdParam, RpcFelt};
use crate::types::contract_class;
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    block_id: BlockIdParam,
    class_hash: RpcFelt,
}

pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["block_id", "class_hash"])?;
    let block_id = input
        .block_id
        .for_api(api)
        .map_err(RpcError::invalid_params)?;
    let block = context.resolve_block(block_id)?;
    class_at(context, ClassHash(input.class_hash.0), block.state_block())?
        .ok_or_else(RpcError::class_hash_not_found)
}

/// Builds the class `hash` if the state after block `at` contains it, which is when
/// the block that first declared or deployed the class is `at` or older. Returns
/// `None` otherwise.
pub(crate) fn class_at(
    context: &RpcContext,
    hash: ClassHash,
    at: BlockNumber,
) -> Result<Option<Value>, RpcError> {
    let storage = &context.storage;
    let Some(info) = storage.class_info(hash)? else {
        return Ok(None);
    };
    if info.declared_at > at {
        return Ok(None);
    }
    let definition = storage.class_definition(hash)?.ok_or_else(|| {
        tracing::error!(target: "rpc", class_hash = %hash, "class is recorded but its definition is missing");
        RpcError::internal()
    })?;
    contract_class(hash, info.kind, &definition).map(Some)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::sample_chain::{
        self, CAIRO0_CLASS, SECOND_CAIRO0_CLASS, SIERRA_CLASS, SIERRA_CLASS_WITHOUT_CASM,
    };
    use crate::test_support::{assert_keys, params_from};

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &params_from(params))
    }

    fn hex(value: u64) -> String {
        format!("{value:#x}")
    }

    #[test]
    fn cairo0_class_shape() {
        let (context, _dir) = sample_chain::context();
        for api in [Api::V0_7, Api::V0_10] {
            let class = call(&context, api, json!(["latest", hex(CAIRO0_CLASS)])).unwrap();
            assert_keys(&class, &["program", "entry_points_by_type", "abi"]);
            assert_eq!(
                class["entry_points_by_type"],
                json!({
                    "CONSTRUCTOR": [{
                        "offset": "0x1f",
                        "selector": "0x28ffe4ff0f226a9107253e17a904099aa4f63a02a5621de0576e5aa71bc5194",
                    }],
                    "EXTERNAL": [{
                        "offset": "0x1a",
                        "selector": "0xc73f681176fc7b3f9693986fd7b14581e8d540519e27400e88b8713932be01",
                    }],
                    "L1_HANDLER": [],
                })
            );
            assert_eq!(class["abi"][0]["name"], "deposit");
            let program = class["program"].as_str().unwrap();
            assert!(
                program.starts_with("H4sI"),
                "gzip magic in base64: {program}"
            );
        }
    }

    #[test]
    fn sierra_class_shape() {
        let (context, _dir) = sample_chain::context();
        let class = call(
            &context,
            Api::V0_9,
            json!({ "block_id": { "block_number": 1 }, "class_hash": hex(SIERRA_CLASS) }),
        )
        .unwrap();
        assert_keys(
            &class,
            &[
                "sierra_program",
                "contract_class_version",
                "entry_points_by_type",
                "abi",
            ],
        );
        assert_eq!(
            class["sierra_program"],
            json!(["0x1", "0x3", "0x0", "0x2", "0xa"])
        );
        assert_eq!(class["contract_class_version"], "0.1.0");
        assert_eq!(
            class["abi"],
            "[{\"type\": \"function\", \"name\": \"increase_balance\"}]"
        );
        assert_eq!(
            class["entry_points_by_type"]["EXTERNAL"],
            json!([{
                "selector": "0x362398bec32bc0ebb411203221a35a0301193a96f317ebe5e40be9f60d15320",
                "function_idx": 0,
            }])
        );
    }

    #[test]
    fn class_declared_later_is_error_28() {
        let (context, _dir) = sample_chain::context();
        for (class, declared_at) in [
            (SECOND_CAIRO0_CLASS, 1),
            (SIERRA_CLASS, 1),
            (SIERRA_CLASS_WITHOUT_CASM, 2),
        ] {
            let before = json!([{ "block_number": declared_at - 1 }, hex(class)]);
            assert_eq!(call(&context, Api::V0_8, before).unwrap_err().code, 28);
            let at = json!([{ "block_number": declared_at }, hex(class)]);
            assert!(call(&context, Api::V0_8, at).is_ok(), "class {class:#x}");
        }
    }

    #[test]
    fn pending_block_sees_every_committed_class() {
        let (context, _dir) = sample_chain::context();
        let pending = json!(["pending", hex(SIERRA_CLASS_WITHOUT_CASM)]);
        assert!(call(&context, Api::V0_7, pending).is_ok());
        let pre_confirmed = json!(["pre_confirmed", hex(SIERRA_CLASS_WITHOUT_CASM)]);
        assert!(call(&context, Api::V0_10, pre_confirmed).is_ok());
    }

    #[test]
    fn unknown_class_and_block_errors() {
        let (context, _dir) = sample_chain::context();
        let unknown_class = json!(["latest", "0xdead"]);
        assert_eq!(
            call(&context, Api::V0_7, unknown_class).unwrap_err().code,
            28
        );
        let unknown_block = json!([{ "block_number": 9 }, hex(CAIRO0_CLASS)]);
        assert_eq!(
            call(&context, Api::V0_7, unknown_block).unwrap_err().code,
            24
        );
        let missing_hash = json!(["latest"]);
        assert_eq!(
            call(&context, Api::V0_7, missing_hash).unwrap_err().code,
            -32602
        );
    }
}
