//! `starknet_getStateUpdate`: the state diff of a block with the roots around it.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{json, Value};
use starling_storage::{ContractAddress, Felt, StateDiff};

use crate::context::{ResolvedBlock, RpcContext};
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::{BlockIdParam, RpcFelt};
use crate::types::{state_diff, SpecVersion};
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    block_id: BlockIdParam,
    /// From v0.10: keep only the changes of these contracts.
    #[serde(default)]
    contract_addresses: Option<Vec<RpcFelt>>,
}

/// Returns `STATE_UPDATE` for a committed block, where `old_root` is the parent's
/// state root (0x0 before the genesis block), and for the pending or pre-confirmed
/// block its merged diff (empty without a pre-confirmed block) on top of the head's root.
pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let version = SpecVersion::of(api);
    let names: &[&str] = if version >= SpecVersion::V0_10 {
        &["block_id", "contract_addresses"]
    } else {
        &["block_id"]
    };
    let input: Input = params.parse(names)?;
    let block_id = input
        .block_id
        .for_api(api)
        .map_err(RpcError::invalid_params)?;
    let contracts: Option<HashSet<ContractAddress>> = input
        .contract_addresses
        .filter(|_| version >= SpecVersion::V0_10)
        .map(|addresses| {
            addresses
                .into_iter()
                .map(|address| ContractAddress(address.0))
                .collect()
        });

    let storage = &context.storage;
    match context.resolve_block(block_id)? {
        ResolvedBlock::Committed(header) => {
            let diff = storage.state_diff(header.number)?.ok_or_else(|| {
                tracing::error!(target: "rpc", block_number = %header.number, "committed block has no state diff");
                RpcError::internal()
            })?;
            let old_root = match header.number.parent() {
                Some(parent) => {
                    let parent = storage.header(parent)?.ok_or_else(|| {
                        tracing::error!(target: "rpc", block_number = %header.number, "parent header is missing");
                        RpcError::internal()
                    })?;
                    parent.state_root
                }
                None => Felt::ZERO,
            };
            Ok(json!({
                "block_hash": header.hash,
                "old_root": old_root,
                "new_root": header.state_root,
                "state_diff": state_diff(&diff, version, contracts.as_ref()),
            }))
        }
        ResolvedBlock::Pending { parent, block } => {
            let empty = StateDiff::default();
            let diff = block.as_ref().map_or(&empty, |block| &block.state_diff);
            Ok(json!({
                "old_root": parent.state_root,
                "state_diff": state_diff(diff, version, contracts.as_ref()),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use starling_storage::BlockNumber;

    use super::*;
    use crate::test_support::sample_chain::{
        self, ACCOUNT, CAIRO0_CLASS, MIGRATED_COMPILED_CLASS, SECOND_ACCOUNT, SIERRA_CLASS,
        SIERRA_CLASS_WITHOUT_CASM, THIRD_ACCOUNT,
    };
    use crate::test_support::{assert_keys, empty_context, params_from};

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        handle(context, api, &params_from(params))
    }

    fn hex(value: u64) -> String {
        format!("{value:#x}")
    }

    fn state_root(context: &RpcContext, block: u64) -> Value {
        json!(
            context
                .storage
                .header(BlockNumber(block))
                .unwrap()
                .unwrap()
                .state_root
        )
    }

    const DIFF_KEYS: &[&str] = &[
        "storage_diffs",
        "deprecated_declared_classes",
        "declared_classes",
        "deployed_contracts",
        "replaced_classes",
        "nonces",
    ];

    #[test]
    fn genesis_state_update() {
        let (context, _dir) = sample_chain::context();
        let update = call(&context, Api::V0_7, json!([{ "block_number": 0 }])).unwrap();
        assert_keys(
            &update,
            &["block_hash", "old_root", "new_root", "state_diff"],
        );
        assert_eq!(update["block_hash"], "0x100");
        assert_eq!(update["old_root"], "0x0");
        assert_eq!(update["new_root"], state_root(&context, 0));
        assert_eq!(
            update["state_diff"],
            json!({
                "storage_diffs": [{
                    "address": hex(ACCOUNT),
                    "storage_entries": [{ "key": "0x5", "value": "0x55" }],
                }],
                "deprecated_declared_classes": [hex(CAIRO0_CLASS)],
                "declared_classes": [],
                "deployed_contracts": [{ "address": hex(ACCOUNT), "class_hash": hex(CAIRO0_CLASS) }],
                "replaced_classes": [],
                "nonces": [{ "contract_address": hex(ACCOUNT), "nonce": "0x1" }],
            })
        );
    }

    #[test]
    fn old_root_is_parent_root() {
        let (context, _dir) = sample_chain::context();
        let update = call(&context, Api::V0_9, json!([{ "block_hash": "0x102" }])).unwrap();
        assert_eq!(update["old_root"], state_root(&context, 1));
        assert_eq!(update["new_root"], state_root(&context, 2));
        assert_keys(&update["state_diff"], DIFF_KEYS);
        assert_eq!(
            update["state_diff"]["replaced_classes"],
            json!([{ "contract_address": hex(ACCOUNT), "class_hash": hex(SIERRA_CLASS) }])
        );
        assert_eq!(
            update["state_diff"]["declared_classes"],
            json!([{ "class_hash": hex(SIERRA_CLASS_WITHOUT_CASM), "compiled_class_hash": "0xcc2" }])
        );
    }

    #[test]
    fn migrated_classes_from_v0_10() {
        let (context, _dir) = sample_chain::context();
        let update = call(&context, Api::V0_10, json!(["latest"])).unwrap();
        let keys: Vec<&str> = DIFF_KEYS
            .iter()
            .copied()
            .chain(["migrated_compiled_classes"])
            .collect();
        assert_keys(&update["state_diff"], &keys);
        assert_eq!(
            update["state_diff"]["migrated_compiled_classes"],
            json!([{ "class_hash": hex(SIERRA_CLASS), "compiled_class_hash": hex(MIGRATED_COMPILED_CLASS) }])
        );
    }

    #[test]
    fn contract_filter_from_v0_10() {
        let (context, _dir) = sample_chain::context();
        let filtered = call(
            &context,
            Api::V0_10,
            json!([{ "block_number": 2 }, [hex(SECOND_ACCOUNT)]]),
        )
        .unwrap();
        let diff = &filtered["state_diff"];
        assert_eq!(
            diff["nonces"],
            json!([{ "contract_address": hex(SECOND_ACCOUNT), "nonce": "0x3" }])
        );
        assert_eq!(diff["storage_diffs"], json!([]));
        assert_eq!(diff["deployed_contracts"], json!([]));
        assert_eq!(diff["replaced_classes"], json!([]));
        // Declarations are not filtered.
        assert_eq!(diff["declared_classes"].as_array().unwrap().len(), 1);
        assert_eq!(
            diff["migrated_compiled_classes"].as_array().unwrap().len(),
            1
        );

        let by_name = call(
            &context,
            Api::V0_10,
            json!({ "block_id": { "block_number": 2 }, "contract_addresses": [hex(THIRD_ACCOUNT)] }),
        )
        .unwrap();
        assert_eq!(
            by_name["state_diff"]["storage_diffs"][0]["address"],
            hex(THIRD_ACCOUNT)
        );
        assert_eq!(by_name["state_diff"]["nonces"], json!([]));

        let unfiltered = call(&context, Api::V0_10, json!([{ "block_number": 2 }])).unwrap();
        assert_eq!(
            unfiltered["state_diff"]["nonces"].as_array().unwrap().len(),
            1
        );
        assert_eq!(
            unfiltered["state_diff"]["storage_diffs"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        // Before v0.10 the method takes only the block id.
        let too_many = json!([{ "block_number": 2 }, [hex(SECOND_ACCOUNT)]]);
        assert_eq!(
            call(&context, Api::V0_9, too_many).unwrap_err().code,
            -32602
        );
    }

    #[test]
    fn pending_state_update_is_empty() {
        let (context, _dir) = sample_chain::context();
        let v0_7 = call(&context, Api::V0_7, json!(["pending"])).unwrap();
        assert_keys(&v0_7, &["old_root", "state_diff"]);
        assert_eq!(v0_7["old_root"], state_root(&context, 2));
        assert_keys(&v0_7["state_diff"], DIFF_KEYS);
        for key in DIFF_KEYS {
            assert_eq!(v0_7["state_diff"][key], json!([]), "{key}");
        }
        let v0_10 = call(&context, Api::V0_10, json!(["pre_confirmed"])).unwrap();
        assert_keys(&v0_10, &["old_root", "state_diff"]);
        assert_eq!(v0_10["state_diff"]["migrated_compiled_classes"], json!([]));
    }

    #[test]
    fn unknown_block_is_error_24() {
        let (context, _dir) = sample_chain::context();
        let error = call(&context, Api::V0_8, json!([{ "block_number": 3 }])).unwrap_err();
        assert_eq!(error.code, 24);
        let (empty, _dir) = empty_context();
        assert_eq!(
            call(&empty, Api::V0_9, json!(["pre_confirmed"]))
                .unwrap_err()
                .code,
            24
        );
        let bad_address = json!(["latest", ["0xnot-an-address"]]);
        assert_eq!(
            call(&context, Api::V0_10, bad_address).unwrap_err().code,
            -32602
        );
    }

    #[test]
    fn pre_confirmed_diff_over_head_root() {
        let (context, _dir) = sample_chain::context();
        crate::context::pre_confirmed_fixture::set_on_head(&context);
        let head = context.storage.header(BlockNumber(2)).unwrap().unwrap();

        let update = call(&context, Api::V0_9, json!(["pre_confirmed"])).unwrap();
        assert_eq!(update["old_root"], json!(head.state_root));
        assert!(update.get("block_hash").is_none());
        let diff = &update["state_diff"];
        assert_eq!(
            diff["storage_diffs"],
            json!([{ "address": "0xd00", "storage_entries": [{ "key": "0x5", "value": "0x77" }] }])
        );
        assert_eq!(
            diff["deployed_contracts"],
            json!([{ "address": "0xd00", "class_hash": "0xaa" }])
        );
        assert_eq!(
            diff["nonces"],
            json!([{ "contract_address": "0xd00", "nonce": "0x3" }])
        );

        // v0.10 filters the pre-confirmed diff by contract too.
        let filtered = call(&context, Api::V0_10, json!(["pre_confirmed", ["0xa1"]])).unwrap();
        assert_eq!(filtered["state_diff"]["storage_diffs"], json!([]));
    }
}
