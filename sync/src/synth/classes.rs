//! Small classes that the synthetic chain declares: Cairo 0 definitions and Sierra
//! definitions with their CASM, hashed with the node's own class hash code.
//!
//! The programs are not meant to run. They only have the shape the gateway serves, so
//! that `cairo0_class_hash`, `sierra_class_hash` and `compiled_class_hash_with` accept
//! them, and a `variant` number inside the program makes every class hash distinct.

use anyhow::Context as _;
use serde_json::json;
use starling_storage::{ClassHash, CompiledClassHash, Felt};

use crate::verify::{self, CompiledClassHashVersion};

/// The Stark field prime as Cairo programs spell it.
const PRIME: &str = "0x800000000000011000000000000000000000000000000000000000000000001";

/// A generated class with the files the replay gateway serves for it.
#[derive(Clone, Debug)]
pub(super) struct SynthClass {
    pub hash: ClassHash,
    /// Set for Sierra classes.
    pub compiled_class_hash: Option<CompiledClassHash>,
    /// Body of `class/0xHASH.json`.
    pub definition: Vec<u8>,
    /// Body of `compiled_class/0xHASH.json`, for Sierra classes.
    pub compiled: Option<Vec<u8>>,
}

/// Builds a Cairo 0 class with one external entry point per selector, each at its own
/// offset of a three-instruction program that embeds `variant`.
pub(super) fn cairo0_class(
    name: &str,
    variant: u64,
    selectors: &[Felt],
) -> anyhow::Result<SynthClass> {
    let mut sorted = selectors.to_vec();
    sorted.sort();
    let external: Vec<_> = sorted
        .iter()
        .enumerate()
        .map(|(index, selector)| json!({"offset": format!("{:#x}", index), "selector": format!("{selector:#x}")}))
        .collect();
    let abi: Vec<_> = (0..selectors.len())
        .map(|index| {
            json!({
                "inputs": [{"name": "value", "type": "felt"}],
                "name": format!("{name}_entry_{index}"),
                "outputs": [],
                "type": "function"
            })
        })
        .collect();
    // `[ap] = variant; ap++` followed by `ret`, padded with `ret` for the other entry points.
    let mut data = vec!["0x480680017fff8000".to_owned(), format!("{variant:#x}")];
    data.extend((0..selectors.len().max(1)).map(|_| "0x208b7fff7fff7ffe".to_owned()));
    let definition = json!({
        "abi": abi,
        "entry_points_by_type": {
            "CONSTRUCTOR": [],
            "EXTERNAL": external,
            "L1_HANDLER": []
        },
        "program": {
            "attributes": [],
            "builtins": ["pedersen", "range_check"],
            "compiler_version": "0.13.1",
            "data": data,
            "debug_info": null,
            "hints": {},
            "identifiers": {
                format!("__main__.{name}"): {"decorators": ["external"], "pc": 0, "type": "function"}
            },
            "main_scope": "__main__",
            "prime": PRIME,
            "reference_manager": {"references": []}
        }
    });
    let definition = serde_json::to_vec(&definition)?;
    let hash = verify::cairo0_class_hash(&definition)
        .with_context(|| format!("failed to hash the generated Cairo 0 class {name}"))?;
    Ok(SynthClass {
        hash: ClassHash(hash),
        compiled_class_hash: None,
        definition,
        compiled: None,
    })
}

/// Builds a Sierra class with one external entry point per selector and a CASM with the
/// same entry points, and hashes the CASM with `hash_version`.
pub(super) fn sierra_class(
    name: &str,
    variant: u64,
    selectors: &[Felt],
    hash_version: CompiledClassHashVersion,
) -> anyhow::Result<SynthClass> {
    let mut sorted = selectors.to_vec();
    sorted.sort();
    let sierra_entry_points: Vec<_> = sorted
        .iter()
        .enumerate()
        .map(|(index, selector)| json!({"selector": format!("{selector:#x}"), "function_idx": index}))
        .collect();
    let abi: Vec<_> = (0..selectors.len())
        .map(|index| {
            json!({
                "type": "function",
                "name": format!("{name}_entry_{index}"),
                "inputs": [],
                "outputs": [],
                "state_mutability": "external"
            })
        })
        .collect();
    // The first felts of a real Sierra program encode the Sierra and compiler versions.
    // These only have to be felts, so they carry the variant instead.
    let sierra_program: Vec<String> = [0x1u64, 0x7, 0x0, variant, selectors.len() as u64]
        .iter()
        .map(|value| format!("{value:#x}"))
        .collect();
    let definition = json!({
        "sierra_program": sierra_program,
        "contract_class_version": "0.1.0",
        "entry_points_by_type": {
            "CONSTRUCTOR": [],
            "EXTERNAL": sierra_entry_points,
            "L1_HANDLER": []
        },
        "abi": serde_json::to_string(&abi)?
    });
    let definition = serde_json::to_vec(&definition)?;
    let hash = verify::sierra_class_hash(&definition)
        .with_context(|| format!("failed to hash the generated Sierra class {name}"))?;

    // Two instructions per entry point, one bytecode segment per entry point.
    let casm_entry_points: Vec<_> = sorted
        .iter()
        .enumerate()
        .map(|(index, selector)| {
            json!({"selector": format!("{selector:#x}"), "offset": index * 2, "builtins": ["range_check"]})
        })
        .collect();
    let mut bytecode = Vec::new();
    for index in 0..selectors.len().max(1) {
        bytecode.push(format!("{:#x}", 0x4806_8001_7fff_8000u64));
        bytecode.push(format!("{:#x}", variant.wrapping_add(index as u64)));
    }
    let segment_lengths = vec![2u64; selectors.len().max(1)];
    let compiled = json!({
        "prime": PRIME,
        "compiler_version": "2.9.2",
        "bytecode": bytecode,
        "bytecode_segment_lengths": segment_lengths,
        "hints": [],
        "entry_points_by_type": {
            "EXTERNAL": casm_entry_points,
            "L1_HANDLER": [],
            "CONSTRUCTOR": []
        }
    });
    let compiled = serde_json::to_vec(&compiled)?;
    let compiled_class_hash = verify::compiled_class_hash_with(&compiled, hash_version)
        .with_context(|| format!("failed to hash the CASM of the generated class {name}"))?;

    Ok(SynthClass {
        hash: ClassHash(hash),
        compiled_class_hash: Some(CompiledClassHash(compiled_class_hash)),
        definition,
        compiled: Some(compiled),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selectors() -> Vec<Felt> {
        vec![Felt::from(0x1234u64), Felt::from(0x99u64)]
    }

    #[test]
    fn cairo0_variants_hash_differently() {
        let first = cairo0_class("token", 1, &selectors()).unwrap();
        let second = cairo0_class("token", 2, &selectors()).unwrap();
        assert_ne!(first.hash, second.hash);
        assert_eq!(
            verify::cairo0_class_hash(&first.definition).unwrap(),
            first.hash.0
        );
        assert!(first.compiled.is_none());
    }

    #[test]
    fn sierra_class_and_casm_rehash() {
        let class =
            sierra_class("app", 3, &selectors(), CompiledClassHashVersion::Poseidon).unwrap();
        assert_eq!(
            verify::sierra_class_hash(&class.definition).unwrap(),
            class.hash.0
        );
        let compiled = class.compiled.as_ref().unwrap();
        assert_eq!(
            verify::compiled_class_hash(compiled).unwrap(),
            class.compiled_class_hash.unwrap().0
        );
        let other =
            sierra_class("app", 4, &selectors(), CompiledClassHashVersion::Poseidon).unwrap();
        assert_ne!(class.hash, other.hash);
        assert_ne!(class.compiled_class_hash, other.compiled_class_hash);
    }

    #[test]
    fn definitions_are_told_apart_by_the_node() {
        let cairo0 = cairo0_class("token", 1, &selectors()).unwrap();
        let sierra =
            sierra_class("app", 1, &selectors(), CompiledClassHashVersion::Poseidon).unwrap();
        let diff = starling_storage::StateDiff {
            declared_classes: vec![starling_storage::DeclaredClass {
                class_hash: sierra.hash,
                compiled_class_hash: sierra.compiled_class_hash.unwrap(),
            }],
            ..Default::default()
        };
        assert_eq!(
            crate::classes::class_kind(&cairo0.definition, cairo0.hash, &diff).unwrap(),
            starling_storage::ClassKind::Cairo0
        );
        assert!(matches!(
            crate::classes::class_kind(&sierra.definition, sierra.hash, &diff).unwrap(),
            starling_storage::ClassKind::Sierra { .. }
        ));
    }
}
