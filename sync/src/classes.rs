//! Class definitions as the gateway serves them: telling Cairo 0 from Sierra.

use serde::de::IgnoredAny;
use serde::Deserialize;
use starling_storage::{ClassHash, ClassKind, StateDiff};

/// Top-level keys that tell the two definition formats apart.
#[derive(Deserialize)]
struct DefinitionProbe {
    sierra_program: Option<IgnoredAny>,
    program: Option<IgnoredAny>,
}

/// Classifies a definition and finds the compiled class hash of a Sierra class in the
/// state diff that declares it. Also rejects a body that is not complete JSON, such as
/// a truncated response.
pub fn class_kind(
    definition: &[u8],
    hash: ClassHash,
    diff: &StateDiff,
) -> Result<ClassKind, String> {
    let probe: DefinitionProbe = serde_json::from_slice(definition)
        .map_err(|error| format!("class {hash} is not valid JSON: {error}"))?;

    match (probe.sierra_program, probe.program) {
        (Some(_), _) => {
            let declared = diff
                .declared_classes
                .iter()
                .chain(&diff.migrated_compiled_classes)
                .find(|declared| declared.class_hash == hash)
                .ok_or_else(|| {
                    format!("Sierra class {hash} is not declared in the block that introduces it")
                })?;
            Ok(ClassKind::Sierra {
                compiled_class_hash: declared.compiled_class_hash,
            })
        }
        (None, Some(_)) => Ok(ClassKind::Cairo0),
        (None, None) => Err(format!(
            "class {hash} has neither `program` nor `sierra_program`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use starling_storage::{CompiledClassHash, DeclaredClass, Felt};

    #[test]
    fn cairo0_and_sierra_are_told_apart() {
        let hash = ClassHash(Felt::from(1u8));
        let diff = StateDiff {
            declared_classes: vec![DeclaredClass {
                class_hash: hash,
                compiled_class_hash: CompiledClassHash(Felt::from(2u8)),
            }],
            ..StateDiff::default()
        };
        assert_eq!(
            class_kind(br#"{"program": {}, "abi": []}"#, hash, &diff).unwrap(),
            ClassKind::Cairo0
        );
        assert_eq!(
            class_kind(br#"{"sierra_program": [], "abi": "[]"}"#, hash, &diff).unwrap(),
            ClassKind::Sierra {
                compiled_class_hash: CompiledClassHash(Felt::from(2u8))
            }
        );
    }

    #[test]
    fn truncated_definition_is_rejected() {
        let error =
            class_kind(br#"{"program": {"#, ClassHash::ZERO, &StateDiff::default()).unwrap_err();
        assert!(error.contains("not valid JSON"), "{error}");
    }
}
