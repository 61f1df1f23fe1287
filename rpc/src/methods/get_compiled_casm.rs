//! `starknet_getCompiledCasm`: the CASM of a Sierra class (executables API, from v0.8).

use serde::Deserialize;
use serde_json::Value;
use starling_storage::{ClassHash, ClassKind};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::RpcFelt;
use crate::types::compiled_casm;
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    class_hash: RpcFelt,
}

/// Returns the CASM the feeder gateway served for the class. A Cairo 0 class has no
/// CASM, so it is error 28 like an unknown class. Juno returns 28 for it too.
///
/// NOTE: the node does not compile Sierra itself, so a Sierra class stored without
/// CASM is error 100 with a message saying so, not the output of a compiler.
pub fn handle(context: &RpcContext, _api: Api, params: &Params) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["class_hash"])?;
    let hash = ClassHash(input.class_hash.0);
    let storage = &context.storage;
    let info = storage
        .class_info(hash)?
        .ok_or_else(RpcError::class_hash_not_found)?;
    if info.kind == ClassKind::Cairo0 {
        return Err(RpcError::class_hash_not_found());
    }
    let compiled = storage.compiled_class(hash)?.ok_or_else(|| {
        RpcError::compilation_error(format!(
            "no CASM is stored for class {hash}, and this node does not compile Sierra"
        ))
    })?;
    compiled_casm(hash, &compiled)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::sample_chain::{
        self, CAIRO0_CLASS, SIERRA_CLASS, SIERRA_CLASS_WITHOUT_CASM,
    };
    use crate::test_support::{assert_keys, params_from};

    fn call(context: &RpcContext, params: Value) -> Result<Value, RpcError> {
        handle(context, Api::V0_8, &params_from(params))
    }

    fn hex(value: u64) -> String {
        format!("{value:#x}")
    }

    #[test]
    fn returns_stored_casm_in_spec_shape() {
        let (context, _dir) = sample_chain::context();
        let casm = call(&context, json!([hex(SIERRA_CLASS)])).unwrap();
        assert_keys(
            &casm,
            &[
                "prime",
                "compiler_version",
                "entry_points_by_type",
                "bytecode",
                "hints",
                "bytecode_segment_lengths",
            ],
        );
        assert_eq!(
            casm["prime"],
            "0x800000000000011000000000000000000000000000000000000000000000001"
        );
        assert_eq!(casm["compiler_version"], "2.6.0");
        assert_eq!(
            casm["bytecode"],
            json!(["0xa0680017fff8000", "0x7", "0x482680017ffa8000"])
        );
        assert_eq!(casm["bytecode_segment_lengths"], json!([3]));
        assert_eq!(casm["hints"][0][0], 0);
        assert_eq!(
            casm["hints"][0][1][0]["TestLessThanOrEqual"]["lhs"],
            json!({ "Immediate": "0x3f2a0" })
        );
        assert_eq!(
            casm["entry_points_by_type"]["EXTERNAL"],
            json!([{
                "offset": 0,
                "selector": "0x362398bec32bc0ebb411203221a35a0301193a96f317ebe5e40be9f60d15320",
                "builtins": ["range_check"],
            }])
        );
        assert_eq!(casm["entry_points_by_type"]["L1_HANDLER"], json!([]));
    }

    #[test]
    fn by_name_parameter() {
        let (context, _dir) = sample_chain::context();
        let casm = call(&context, json!({ "class_hash": hex(SIERRA_CLASS) })).unwrap();
        assert_eq!(casm["compiler_version"], "2.6.0");
    }

    #[test]
    fn cairo0_and_unknown_classes_are_error_28() {
        let (context, _dir) = sample_chain::context();
        assert_eq!(
            call(&context, json!([hex(CAIRO0_CLASS)])).unwrap_err().code,
            28
        );
        assert_eq!(call(&context, json!(["0x5eed"])).unwrap_err().code, 28);
        assert_eq!(call(&context, json!(["5eed"])).unwrap_err().code, -32602);
    }

    #[test]
    fn sierra_class_without_casm_is_error_100() {
        let (context, _dir) = sample_chain::context();
        let error = call(&context, json!([hex(SIERRA_CLASS_WITHOUT_CASM)])).unwrap_err();
        assert_eq!(error.code, 100);
        assert_eq!(error.message, "Failed to compile the contract");
        let reason = error.data.unwrap()["compilation_error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(reason.contains(&hex(SIERRA_CLASS_WITHOUT_CASM)), "{reason}");
    }
}
