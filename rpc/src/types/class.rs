//! `DEPRECATED_CONTRACT_CLASS`, `CONTRACT_CLASS` and `CASM_COMPILED_CONTRACT_CLASS`,
//! built from the class JSON that the feeder gateway served and storage keeps.

use std::collections::HashMap;
use std::io::Write;

use base64::Engine;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use starling_storage::{ClassHash, ClassKind, Felt};

use crate::error::RpcError;

/// Entry point types in the spec's order. Every class lists all three, even when empty.
const ENTRY_POINT_TYPES: [&str; 3] = ["CONSTRUCTOR", "EXTERNAL", "L1_HANDLER"];

/// Builds the spec's class from the stored gateway JSON: `DEPRECATED_CONTRACT_CLASS`
/// for Cairo 0 and `CONTRACT_CLASS` for Sierra. The shapes are the same in every
/// served version. A definition that does not parse is logged and is error -32603.
pub fn contract_class(
    hash: ClassHash,
    kind: ClassKind,
    definition: &[u8],
) -> Result<Value, RpcError> {
    let result = match kind {
        ClassKind::Cairo0 => cairo0_class(definition),
        ClassKind::Sierra { .. } => sierra_class(definition),
    };
    result.map_err(|error| {
        tracing::error!(target: "rpc", class_hash = %hash, %error, "stored class definition is malformed");
        RpcError::internal()
    })
}

/// Builds `CASM_COMPILED_CONTRACT_CLASS` from the stored gateway CASM. The gateway's
/// `pythonic_hints` are left out because the spec has no such field. CASM that does
/// not parse is logged and is error -32603.
pub fn compiled_casm(hash: ClassHash, compiled: &[u8]) -> Result<Value, RpcError> {
    casm(compiled).map_err(|error| {
        tracing::error!(target: "rpc", class_hash = %hash, %error, "stored CASM is malformed");
        RpcError::internal()
    })
}

#[derive(Deserialize)]
struct StoredCairo0Class<'a> {
    #[serde(borrow)]
    program: &'a RawValue,
    #[serde(default)]
    entry_points_by_type: HashMap<String, Vec<StoredCairo0EntryPoint>>,
    #[serde(default)]
    abi: Option<Value>,
}

#[derive(Deserialize)]
struct StoredCairo0EntryPoint {
    selector: Felt,
    offset: Cairo0Offset,
}

/// The gateway writes Cairo 0 entry point offsets as numbers in some classes and as
/// hex strings in others.
#[derive(Deserialize)]
#[serde(untagged)]
enum Cairo0Offset {
    Number(u64),
    Hex(String),
}

impl Cairo0Offset {
    /// Formats the offset as `NUM_AS_HEX`.
    fn to_hex(&self) -> Result<String, String> {
        let value = match self {
            Cairo0Offset::Number(value) => *value,
            Cairo0Offset::Hex(text) => {
                let digits = text
                    .strip_prefix("0x")
                    .ok_or_else(|| format!("entry point offset {text:?} is not hex"))?;
                u64::from_str_radix(digits, 16)
                    .map_err(|error| format!("entry point offset {text:?}: {error}"))?
            }
        };
        Ok(super::hex(value))
    }
}

/// `program` becomes the base64 of the gzip of the program JSON exactly as stored.
fn cairo0_class(definition: &[u8]) -> Result<Value, String> {
    let class: StoredCairo0Class =
        serde_json::from_slice(definition).map_err(|error| error.to_string())?;

    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    let compressed = encoder
        .write_all(class.program.get().as_bytes())
        .and_then(|()| encoder.finish())
        .map_err(|error| format!("gzip of the program failed: {error}"))?;
    let program = base64::engine::general_purpose::STANDARD.encode(compressed);

    let mut entry_points = Map::new();
    for entry_point_type in ENTRY_POINT_TYPES {
        let mut list = Vec::new();
        for entry_point in class
            .entry_points_by_type
            .get(entry_point_type)
            .into_iter()
            .flatten()
        {
            list.push(json!({
                "offset": entry_point.offset.to_hex()?,
                "selector": entry_point.selector,
            }));
        }
        entry_points.insert(entry_point_type.into(), Value::Array(list));
    }

    let mut fields = Map::new();
    fields.insert("program".into(), Value::String(program));
    fields.insert("entry_points_by_type".into(), Value::Object(entry_points));
    // NOTE: the ABI is sent as the gateway stored it, so entries that do not match the
    // spec's `CONTRACT_ABI_ENTRY` shapes reach the client unchanged.
    if let Some(abi) = class.abi.filter(|abi| !abi.is_null()) {
        fields.insert("abi".into(), abi);
    }
    Ok(Value::Object(fields))
}

#[derive(Deserialize)]
struct StoredSierraClass {
    sierra_program: Vec<Felt>,
    contract_class_version: String,
    #[serde(default)]
    entry_points_by_type: HashMap<String, Vec<SierraEntryPoint>>,
    #[serde(default)]
    abi: Option<Value>,
}

#[derive(Deserialize)]
struct SierraEntryPoint {
    selector: Felt,
    function_idx: u64,
}

/// Felts are rewritten without leading zeros, and a non-string `abi` becomes its JSON
/// text, because the spec's Sierra `abi` is a string.
fn sierra_class(definition: &[u8]) -> Result<Value, String> {
    let class: StoredSierraClass =
        serde_json::from_slice(definition).map_err(|error| error.to_string())?;

    let mut entry_points = Map::new();
    for entry_point_type in ENTRY_POINT_TYPES {
        let list: Vec<Value> = class
            .entry_points_by_type
            .get(entry_point_type)
            .into_iter()
            .flatten()
            .map(|entry_point| {
                json!({
                    "selector": entry_point.selector,
                    "function_idx": entry_point.function_idx,
                })
            })
            .collect();
        entry_points.insert(entry_point_type.into(), Value::Array(list));
    }

    let mut fields = Map::new();
    fields.insert("sierra_program".into(), json!(class.sierra_program));
    fields.insert(
        "contract_class_version".into(),
        Value::String(class.contract_class_version),
    );
    fields.insert("entry_points_by_type".into(), Value::Object(entry_points));
    match class.abi {
        None | Some(Value::Null) => {}
        Some(Value::String(abi)) => {
            fields.insert("abi".into(), Value::String(abi));
        }
        Some(other) => {
            fields.insert("abi".into(), Value::String(other.to_string()));
        }
    }
    Ok(Value::Object(fields))
}

#[derive(Deserialize)]
struct StoredCasm {
    prime: String,
    compiler_version: String,
    bytecode: Vec<Felt>,
    hints: Value,
    #[serde(default)]
    entry_points_by_type: HashMap<String, Vec<CasmEntryPoint>>,
    #[serde(default)]
    bytecode_segment_lengths: Option<Value>,
}

#[derive(Deserialize)]
struct CasmEntryPoint {
    selector: Felt,
    offset: u64,
    builtins: Vec<String>,
}

/// Hints are passed on unchanged: the gateway writes them in the spec's `HINT` form.
///
/// NOTE: hints address cells with negative `FP` offsets, because arguments sit below
/// the frame pointer. The v0.9 and v0.10 `CellRef` schema forbids them with
/// `"minimum": 0`, while v0.8 allows them. The offsets are sent unchanged, because
/// changing them would change the program.
fn casm(compiled: &[u8]) -> Result<Value, String> {
    let casm: StoredCasm = serde_json::from_slice(compiled).map_err(|error| error.to_string())?;

    let mut entry_points = Map::new();
    for entry_point_type in ENTRY_POINT_TYPES {
        let list: Vec<Value> = casm
            .entry_points_by_type
            .get(entry_point_type)
            .into_iter()
            .flatten()
            .map(|entry_point| {
                json!({
                    "offset": entry_point.offset,
                    "selector": entry_point.selector,
                    "builtins": entry_point.builtins,
                })
            })
            .collect();
        entry_points.insert(entry_point_type.into(), Value::Array(list));
    }

    let mut fields = Map::new();
    fields.insert("prime".into(), Value::String(casm.prime));
    fields.insert(
        "compiler_version".into(),
        Value::String(casm.compiler_version),
    );
    fields.insert("entry_points_by_type".into(), Value::Object(entry_points));
    fields.insert("bytecode".into(), json!(casm.bytecode));
    fields.insert("hints".into(), casm.hints);
    if let Some(lengths) = casm.bytecode_segment_lengths {
        fields.insert("bytecode_segment_lengths".into(), lengths);
    }
    Ok(Value::Object(fields))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::*;

    fn decode_program(encoded: &str) -> String {
        let compressed = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let mut text = String::new();
        GzDecoder::new(&compressed[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn cairo0_program_is_gzip_base64_of_stored_json() {
        let stored = br#"{"program": {"data": ["0x1", "0x2"], "prime": "0x800"},
            "entry_points_by_type": {"EXTERNAL": [{"selector": "0x00ab", "offset": 26}],
                                     "CONSTRUCTOR": [{"selector": "0x1", "offset": "0x01f"}]},
            "abi": [{"type": "function", "name": "f", "inputs": [], "outputs": []}]}"#;
        let class = cairo0_class(stored).unwrap();

        assert_eq!(
            decode_program(class["program"].as_str().unwrap()),
            r#"{"data": ["0x1", "0x2"], "prime": "0x800"}"#
        );
        assert_eq!(
            class["entry_points_by_type"],
            json!({
                "CONSTRUCTOR": [{"offset": "0x1f", "selector": "0x1"}],
                "EXTERNAL": [{"offset": "0x1a", "selector": "0xab"}],
                "L1_HANDLER": [],
            })
        );
        assert_eq!(
            class["abi"],
            json!([{"type": "function", "name": "f", "inputs": [], "outputs": []}])
        );
    }

    #[test]
    fn cairo0_without_abi_omits_it() {
        let stored = br#"{"program": {}, "entry_points_by_type": {}, "abi": null}"#;
        let class = cairo0_class(stored).unwrap();
        assert!(class.get("abi").is_none());
    }

    #[test]
    fn cairo0_rejects_non_hex_offset() {
        let stored = br#"{"program": {}, "entry_points_by_type":
            {"EXTERNAL": [{"selector": "0x1", "offset": "26"}]}}"#;
        assert!(cairo0_class(stored).unwrap_err().contains("\"26\""));
    }

    #[test]
    fn sierra_fields_are_normalized() {
        let stored = br#"{"contract_class_version": "0.1.0",
            "sierra_program": ["0x01", "0xABC"],
            "entry_points_by_type": {"EXTERNAL": [{"selector": "0x0002", "function_idx": 3}]},
            "abi": [{"type": "function"}]}"#;
        let class = sierra_class(stored).unwrap();
        assert_eq!(class["sierra_program"], json!(["0x1", "0xabc"]));
        assert_eq!(
            class["entry_points_by_type"],
            json!({
                "CONSTRUCTOR": [],
                "EXTERNAL": [{"selector": "0x2", "function_idx": 3}],
                "L1_HANDLER": [],
            })
        );
        assert_eq!(class["abi"], json!(r#"[{"type":"function"}]"#));
        assert_eq!(class["contract_class_version"], json!("0.1.0"));
    }

    #[test]
    fn casm_drops_pythonic_hints() {
        let stored = br#"{"prime": "0x800000000000011000000000000000000000000000000000000000000000001",
            "compiler_version": "2.6.0", "bytecode": ["0x0a"],
            "hints": [[0, [{"AllocSegment": {"dst": {"register": "AP", "offset": 0}}}]]],
            "pythonic_hints": [[0, ["memory[ap + 0] = segments.add()"]]],
            "bytecode_segment_lengths": [1],
            "entry_points_by_type": {"L1_HANDLER": [{"selector": "0x05", "offset": 0, "builtins": ["range_check"]}]}}"#;
        let casm = casm(stored).unwrap();
        assert!(casm.get("pythonic_hints").is_none());
        assert_eq!(casm["bytecode"], json!(["0xa"]));
        assert_eq!(casm["bytecode_segment_lengths"], json!([1]));
        assert_eq!(
            casm["hints"],
            json!([[0, [{"AllocSegment": {"dst": {"register": "AP", "offset": 0}}}]]])
        );
        assert_eq!(
            casm["entry_points_by_type"]["L1_HANDLER"],
            json!([{"offset": 0, "selector": "0x5", "builtins": ["range_check"]}])
        );
        assert_eq!(casm["entry_points_by_type"]["EXTERNAL"], json!([]));
    }
}
