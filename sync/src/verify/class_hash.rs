//! Class hashes of Cairo 0 and Sierra definitions as the feeder gateway serves them, and
//! compiled class hashes of CASM.
//!
//! Parsing and the Cairo 0 and Sierra class hashes come from `starknet-core`. Its Cairo 0
//! hash reproduces the quirks of the hinted class hash: the program JSON is re-serialized
//! with sorted keys and Python spacing, `debug_info` becomes null, empty `attributes` and
//! an absent `compiler_version` are left out, and named tuple types of programs without
//! `compiler_version` get an extra space before each colon.
//!
//! Both compiled class hashes are computed here from the CASM that `starknet-core` parses.
//! `starknet-core` 0.16 has no Blake hash, and its Poseidon hash rejects nested
//! `bytecode_segment_lengths` such as `[2, [3, 1]]` because its recursion moves the
//! segment offset of the enclosing list. The two agree on flat segment lists, which the
//! tests check.

use starknet_core::types::contract::legacy::LegacyContractClass;
use starknet_core::types::contract::{CompiledClass, CompiledClassEntrypoint, IntOrList};
use starknet_core::types::FlattenedSierraClass;
use starknet_types_core::hash::{Blake2Felt252, Poseidon, StarkHash};
use starling_storage::Felt;

use super::version::StarknetVersion;

/// `COMPILED_CLASS_V1` as a Cairo short string, the first element of both CASM hashes.
const COMPILED_CLASS_V1: Felt = Felt::from_hex_unwrap("0x434f4d50494c45445f434c4153535f5631");

/// The hash function of a compiled class hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompiledClassHashVersion {
    /// Poseidon, for classes declared before Starknet 0.14.1.
    Poseidon,
    /// Blake2s, for classes declared from Starknet 0.14.1 on, and for the
    /// `migrated_compiled_classes` of a state diff.
    Blake,
}

impl CompiledClassHashVersion {
    const FIRST_BLAKE_VERSION: StarknetVersion = StarknetVersion::new(0, 14, 1, 0);

    /// Returns the hash that declarations in a block of this version use.
    pub fn for_starknet_version(version: StarknetVersion) -> Self {
        if version < Self::FIRST_BLAKE_VERSION {
            Self::Poseidon
        } else {
            Self::Blake
        }
    }
}

/// Reason a class hash could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ClassHashError {
    #[error("invalid {kind} class definition: {source}")]
    InvalidJson {
        kind: &'static str,
        source: serde_json::Error,
    },
    #[error("failed to hash the {kind} class: {message}")]
    Unhashable { kind: &'static str, message: String },
}

/// Computes the class hash of a Cairo 0 definition in the gateway's shape: `program` as an
/// object, `abi`, and `entry_points_by_type`.
pub fn cairo0_class_hash(definition_json: &[u8]) -> Result<Felt, ClassHashError> {
    const KIND: &str = "Cairo 0";
    let class: LegacyContractClass = serde_json::from_slice(definition_json)
        .map_err(|source| ClassHashError::InvalidJson { kind: KIND, source })?;
    let hash = class
        .class_hash()
        .map_err(|error| ClassHashError::Unhashable {
            kind: KIND,
            message: error.to_string(),
        })?;
    Ok(from_core_felt(hash))
}

/// Computes the class hash of a Sierra definition in the gateway's shape: `sierra_program`,
/// `contract_class_version`, `entry_points_by_type`, and `abi` as a string, which is hashed
/// byte for byte.
pub fn sierra_class_hash(json: &[u8]) -> Result<Felt, ClassHashError> {
    let class: FlattenedSierraClass =
        serde_json::from_slice(json).map_err(|source| ClassHashError::InvalidJson {
            kind: "Sierra",
            source,
        })?;
    Ok(from_core_felt(class.class_hash()))
}

/// Computes the Poseidon compiled class hash of a CASM class, the hash of classes
/// declared before Starknet 0.14.1.
pub fn compiled_class_hash(casm_json: &[u8]) -> Result<Felt, ClassHashError> {
    compiled_class_hash_with(casm_json, CompiledClassHashVersion::Poseidon)
}

/// Computes the compiled class hash of a CASM class with the given hash function.
pub fn compiled_class_hash_with(
    casm_json: &[u8],
    version: CompiledClassHashVersion,
) -> Result<Felt, ClassHashError> {
    const KIND: &str = "CASM";
    let class: CompiledClass = serde_json::from_slice(casm_json)
        .map_err(|source| ClassHashError::InvalidJson { kind: KIND, source })?;

    let hash = match version {
        CompiledClassHashVersion::Poseidon => compiled_class_hash_generic::<Poseidon>(&class),
        CompiledClassHashVersion::Blake => compiled_class_hash_generic::<Blake2Felt252>(&class),
    };
    hash.map_err(|message| ClassHashError::Unhashable {
        kind: KIND,
        message,
    })
}

/// Computes a compiled class hash with the hash function `H`, as Starknet defines it for
/// both versions: `H([COMPILED_CLASS_V1, external, l1_handler, constructor, bytecode])`.
///
/// Each entry point list hashes as `H([selector, offset, H(builtin names)...])`. The
/// bytecode hashes along `bytecode_segment_lengths`: a segment of code is `H(code)`, and a
/// list of segments is `1 + H([length, hash, ...])` over its children. Without segment
/// lengths the whole bytecode is one segment.
fn compiled_class_hash_generic<H: StarkHash>(class: &CompiledClass) -> Result<Felt, String> {
    let bytecode: Vec<Felt> = class.bytecode.iter().copied().map(from_core_felt).collect();
    let segments = class
        .bytecode_segment_lengths
        .clone()
        .unwrap_or(IntOrList::Int(bytecode.len() as u64));

    let mut remaining = bytecode.as_slice();
    let (_, bytecode_hash) = bytecode_segment_hash::<H>(&segments, &mut remaining)?;
    if !remaining.is_empty() {
        return Err(format!(
            "bytecode_segment_lengths cover {} of {} bytecode elements",
            bytecode.len() - remaining.len(),
            bytecode.len()
        ));
    }

    Ok(H::hash_array(&[
        COMPILED_CLASS_V1,
        entry_points_hash::<H>(&class.entry_points_by_type.external)?,
        entry_points_hash::<H>(&class.entry_points_by_type.l1_handler)?,
        entry_points_hash::<H>(&class.entry_points_by_type.constructor)?,
        bytecode_hash,
    ]))
}

fn entry_points_hash<H: StarkHash>(
    entry_points: &[CompiledClassEntrypoint],
) -> Result<Felt, String> {
    let mut elements = Vec::with_capacity(entry_points.len() * 3);
    for entry_point in entry_points {
        let builtins = entry_point
            .builtins
            .iter()
            .map(|name| short_string(name))
            .collect::<Result<Vec<_>, _>>()?;
        elements.push(from_core_felt(entry_point.selector));
        elements.push(Felt::from(entry_point.offset));
        elements.push(H::hash_array(&builtins));
    }
    Ok(H::hash_array(&elements))
}

/// Hashes the segment tree `node` over the front of `bytecode`, consuming the elements it
/// covers, and returns the covered length with the hash.
fn bytecode_segment_hash<H: StarkHash>(
    node: &IntOrList,
    bytecode: &mut &[Felt],
) -> Result<(u64, Felt), String> {
    match node {
        IntOrList::Int(length) => {
            let length_usize = usize::try_from(*length).unwrap_or(usize::MAX);
            if length_usize > bytecode.len() {
                return Err(format!(
                    "bytecode segment of {length} elements runs past the end of the bytecode"
                ));
            }
            let (segment, rest) = bytecode.split_at(length_usize);
            *bytecode = rest;
            Ok((*length, H::hash_array(segment)))
        }
        IntOrList::List(children) => {
            let mut elements = Vec::with_capacity(children.len() * 2);
            let mut total = 0u64;
            for child in children {
                let (length, hash) = bytecode_segment_hash::<H>(child, bytecode)?;
                elements.push(Felt::from(length));
                elements.push(hash);
                total += length;
            }
            Ok((total, H::hash_array(&elements) + Felt::ONE))
        }
    }
}

/// Encodes an ASCII name of at most 31 bytes as a Cairo short string.
fn short_string(name: &str) -> Result<Felt, String> {
    if !name.is_ascii() || name.len() > 31 {
        return Err(format!(
            "builtin name {name:?} is not an ASCII string of at most 31 bytes"
        ));
    }
    Ok(Felt::from_bytes_be_slice(name.as_bytes()))
}

/// Converts a felt of the `starknet-types-core` version that `starknet-core` uses.
fn from_core_felt(value: starknet_core::types::Felt) -> Felt {
    Felt::from_bytes_be(&value.to_bytes_be())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up CASM class with a nested segment structure: `[2, [3, 1]]` over six
    /// bytecode elements, and entry points at the starts of the first two segments.
    const SEGMENTED_CASM: &str = r#"{
        "prime": "0x800000000000011000000000000000000000000000000000000000000000001",
        "compiler_version": "2.6.0",
        "bytecode": ["0x1", "0x2", "0x3", "0x4", "0x5", "0x6"],
        "bytecode_segment_lengths": [2, [3, 1]],
        "hints": [],
        "entry_points_by_type": {
            "EXTERNAL": [{"selector": "0x10", "offset": 0, "builtins": ["range_check"]}],
            "L1_HANDLER": [],
            "CONSTRUCTOR": [{"selector": "0x11", "offset": 2, "builtins": []}]
        }
    }"#;

    #[test]
    fn compiled_class_prefix_is_the_short_string() {
        assert_eq!(
            COMPILED_CLASS_V1,
            Felt::from_bytes_be_slice(b"COMPILED_CLASS_V1")
        );
    }

    #[test]
    fn poseidon_hash_matches_starknet_core_on_flat_segments() {
        let flat = SEGMENTED_CASM.replace("[2, [3, 1]]", "[2, 3, 1]");
        let class: CompiledClass = serde_json::from_str(&flat).unwrap();
        let from_core = from_core_felt(class.class_hash().unwrap());
        assert_eq!(compiled_class_hash(flat.as_bytes()).unwrap(), from_core);

        let unsegmented = SEGMENTED_CASM.replace("\"bytecode_segment_lengths\": [2, [3, 1]],", "");
        let class: CompiledClass = serde_json::from_str(&unsegmented).unwrap();
        let from_core = from_core_felt(class.class_hash().unwrap());
        assert_eq!(
            compiled_class_hash(unsegmented.as_bytes()).unwrap(),
            from_core
        );
    }

    #[test]
    fn segment_tree_hash_layout() {
        let class: CompiledClass = serde_json::from_str(SEGMENTED_CASM).unwrap();
        let felts = |values: &[u64]| {
            values
                .iter()
                .map(|value| Felt::from(*value))
                .collect::<Vec<_>>()
        };
        let inner = Poseidon::hash_array(&[
            Felt::THREE,
            Poseidon::hash_array(&felts(&[3, 4, 5])),
            Felt::ONE,
            Poseidon::hash_array(&felts(&[6])),
        ]) + Felt::ONE;
        let bytecode = Poseidon::hash_array(&[
            Felt::TWO,
            Poseidon::hash_array(&felts(&[1, 2])),
            Felt::from(4u64),
            inner,
        ]) + Felt::ONE;
        let external = Poseidon::hash_array(&[
            Felt::from(0x10u64),
            Felt::ZERO,
            Poseidon::hash_array(&[Felt::from_bytes_be_slice(b"range_check")]),
        ]);
        let constructor =
            Poseidon::hash_array(&[Felt::from(0x11u64), Felt::TWO, Poseidon::hash_array(&[])]);
        let expected = Poseidon::hash_array(&[
            COMPILED_CLASS_V1,
            external,
            Poseidon::hash_array(&[]),
            constructor,
            bytecode,
        ]);
        assert_eq!(
            compiled_class_hash_generic::<Poseidon>(&class).unwrap(),
            expected
        );
    }

    #[test]
    fn blake_and_poseidon_hashes_differ() {
        let poseidon = compiled_class_hash(SEGMENTED_CASM.as_bytes()).unwrap();
        let blake =
            compiled_class_hash_with(SEGMENTED_CASM.as_bytes(), CompiledClassHashVersion::Blake)
                .unwrap();
        assert_ne!(poseidon, blake);
    }

    #[test]
    fn segments_must_cover_the_bytecode() {
        let short = SEGMENTED_CASM.replace("[2, [3, 1]]", "[2, [3]]");
        let error = compiled_class_hash_with(short.as_bytes(), CompiledClassHashVersion::Blake)
            .unwrap_err();
        assert!(error.to_string().contains("cover 5 of 6"), "{error}");

        let long = SEGMENTED_CASM.replace("[2, [3, 1]]", "[2, [3, 2]]");
        let error =
            compiled_class_hash_with(long.as_bytes(), CompiledClassHashVersion::Blake).unwrap_err();
        assert!(error.to_string().contains("runs past the end"), "{error}");
    }

    #[test]
    fn invalid_json_names_the_class_kind() {
        let error = cairo0_class_hash(b"{\"program\": 1}").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid Cairo 0 class definition"),
            "{error}"
        );
        let error = sierra_class_hash(b"[]").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid Sierra class definition"),
            "{error}"
        );
        let error = compiled_class_hash(b"{").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid CASM class definition"),
            "{error}"
        );
    }

    #[test]
    fn blake_starts_with_starknet_0_14_1() {
        let version = |text| StarknetVersion::parse(text).unwrap();
        assert_eq!(
            CompiledClassHashVersion::for_starknet_version(version("0.14.0")),
            CompiledClassHashVersion::Poseidon
        );
        assert_eq!(
            CompiledClassHashVersion::for_starknet_version(version("0.14.1")),
            CompiledClassHashVersion::Blake
        );
    }
}
