//! `STATE_DIFF` and the state diff length of v0.10 block headers.

use std::collections::{BTreeSet, HashSet};

use serde_json::{json, Value};
use starling_storage::{ContractAddress, StateDiff};

use super::{into_object, SpecVersion};

/// Builds `STATE_DIFF` in the order the gateway listed the changes. v0.10 adds
/// `migrated_compiled_classes`.
///
/// With `contracts`, only the storage diffs, nonces, deployments and class
/// replacements of those contracts are kept. Declared classes are never filtered,
/// as the v0.10 `contract_addresses` parameter defines.
pub fn state_diff(
    diff: &StateDiff,
    version: SpecVersion,
    contracts: Option<&HashSet<ContractAddress>>,
) -> Value {
    let selected = |address: &ContractAddress| contracts.is_none_or(|set| set.contains(address));

    let storage_diffs: Vec<Value> = diff
        .storage_diffs
        .iter()
        .filter(|contract| selected(&contract.address))
        .map(|contract| {
            let entries: Vec<Value> = contract
                .entries
                .iter()
                .map(|entry| json!({ "key": entry.key, "value": entry.value }))
                .collect();
            json!({ "address": contract.address, "storage_entries": entries })
        })
        .collect();
    let nonces: Vec<Value> = diff
        .nonces
        .iter()
        .filter(|update| selected(&update.contract_address))
        .map(|update| json!({ "contract_address": update.contract_address, "nonce": update.nonce }))
        .collect();
    let deployed_contracts: Vec<Value> = diff
        .deployed_contracts
        .iter()
        .filter(|contract| selected(&contract.address))
        .map(|contract| json!({ "address": contract.address, "class_hash": contract.class_hash }))
        .collect();
    let replaced_classes: Vec<Value> = diff
        .replaced_classes
        .iter()
        .filter(|contract| selected(&contract.address))
        .map(|contract| {
            json!({ "contract_address": contract.address, "class_hash": contract.class_hash })
        })
        .collect();
    let declared_classes = |classes: &[starling_storage::DeclaredClass]| -> Vec<Value> {
        classes
            .iter()
            .map(|class| {
                json!({
                    "class_hash": class.class_hash,
                    "compiled_class_hash": class.compiled_class_hash,
                })
            })
            .collect()
    };

    let mut fields = into_object(json!({
        "storage_diffs": storage_diffs,
        "deprecated_declared_classes": diff.deprecated_declared_classes,
        "declared_classes": declared_classes(&diff.declared_classes),
        "deployed_contracts": deployed_contracts,
        "replaced_classes": replaced_classes,
        "nonces": nonces,
    }));
    if version >= SpecVersion::V0_10 {
        fields.insert(
            "migrated_compiled_classes".into(),
            json!(declared_classes(&diff.migrated_compiled_classes)),
        );
    }
    Value::Object(fields)
}

/// Counts the state changes of a block as the header's `state_diff_length` does.
/// Each distinct item counts once: a storage write, a nonce update, a contract with a
/// new class (deployed or replaced), a Sierra class with a new compiled class hash
/// (declared or migrated) and a declared Cairo 0 class.
pub fn state_diff_length(diff: &StateDiff) -> u64 {
    let storage_writes: BTreeSet<_> = diff
        .storage_diffs
        .iter()
        .flat_map(|contract| {
            contract
                .entries
                .iter()
                .map(move |entry| (contract.address, entry.key))
        })
        .collect();
    let nonces: BTreeSet<_> = diff
        .nonces
        .iter()
        .map(|update| update.contract_address)
        .collect();
    let class_updates: BTreeSet<_> = diff
        .deployed_contracts
        .iter()
        .chain(&diff.replaced_classes)
        .map(|contract| contract.address)
        .collect();
    let sierra_classes: BTreeSet<_> = diff
        .declared_classes
        .iter()
        .chain(&diff.migrated_compiled_classes)
        .map(|class| class.class_hash)
        .collect();
    let cairo0_classes: BTreeSet<_> = diff.deprecated_declared_classes.iter().collect();

    let count = storage_writes.len()
        + nonces.len()
        + class_updates.len()
        + sierra_classes.len()
        + cairo0_classes.len();
    count as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use starling_storage::{
        ClassHash, CompiledClassHash, ContractStorageDiff, DeclaredClass, DeployedContract, Felt,
        NonceUpdate, StorageEntry, StorageKey,
    };

    fn address(value: u64) -> ContractAddress {
        ContractAddress(Felt::from(value))
    }

    fn sample_diff() -> StateDiff {
        StateDiff {
            storage_diffs: vec![
                ContractStorageDiff {
                    address: address(0xa),
                    entries: vec![
                        StorageEntry {
                            key: StorageKey(Felt::ONE),
                            value: Felt::TWO,
                        },
                        StorageEntry {
                            key: StorageKey(Felt::TWO),
                            value: Felt::THREE,
                        },
                    ],
                },
                ContractStorageDiff {
                    address: address(0xb),
                    entries: vec![StorageEntry {
                        key: StorageKey(Felt::ONE),
                        value: Felt::ONE,
                    }],
                },
            ],
            nonces: vec![NonceUpdate {
                contract_address: address(0xa),
                nonce: Felt::ONE,
            }],
            deployed_contracts: vec![DeployedContract {
                address: address(0xb),
                class_hash: ClassHash(Felt::from(0xc0u64)),
            }],
            // The same contract deployed and replaced in one block counts once.
            replaced_classes: vec![DeployedContract {
                address: address(0xb),
                class_hash: ClassHash(Felt::from(0xc1u64)),
            }],
            declared_classes: vec![DeclaredClass {
                class_hash: ClassHash(Felt::from(0xc1u64)),
                compiled_class_hash: CompiledClassHash(Felt::from(0xcc1u64)),
            }],
            deprecated_declared_classes: vec![ClassHash(Felt::from(0xc0u64))],
            migrated_compiled_classes: vec![DeclaredClass {
                class_hash: ClassHash(Felt::from(0xc2u64)),
                compiled_class_hash: CompiledClassHash(Felt::from(0xcc2u64)),
            }],
        }
    }

    #[test]
    fn length_counts_distinct_changes() {
        // 3 storage writes, 1 nonce, 1 class update, 2 Sierra classes, 1 Cairo 0 class.
        assert_eq!(state_diff_length(&sample_diff()), 8);
        assert_eq!(state_diff_length(&StateDiff::default()), 0);
    }

    #[test]
    fn migrated_classes_only_from_v0_10() {
        let diff = sample_diff();
        let v0_9 = state_diff(&diff, SpecVersion::V0_9, None);
        assert!(v0_9.get("migrated_compiled_classes").is_none());
        let v0_10 = state_diff(&diff, SpecVersion::V0_10, None);
        assert_eq!(
            v0_10["migrated_compiled_classes"],
            json!([{ "class_hash": "0xc2", "compiled_class_hash": "0xcc2" }])
        );
    }

    #[test]
    fn contract_filter_keeps_declarations() {
        let diff = sample_diff();
        let only_a: HashSet<_> = [address(0xa)].into();
        let filtered = state_diff(&diff, SpecVersion::V0_10, Some(&only_a));
        assert_eq!(
            filtered["storage_diffs"],
            json!([{
                "address": "0xa",
                "storage_entries": [
                    { "key": "0x1", "value": "0x2" },
                    { "key": "0x2", "value": "0x3" },
                ],
            }])
        );
        assert_eq!(
            filtered["nonces"],
            json!([{ "contract_address": "0xa", "nonce": "0x1" }])
        );
        assert_eq!(filtered["deployed_contracts"], json!([]));
        assert_eq!(filtered["replaced_classes"], json!([]));
        assert_eq!(filtered["deprecated_declared_classes"], json!(["0xc0"]));
        assert_eq!(
            filtered["declared_classes"],
            json!([{ "class_hash": "0xc1", "compiled_class_hash": "0xcc1" }])
        );
    }
}
