//! The OpenRPC specs of each served version, for validating results and errors against
//! the JSON schema of each method.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

/// One served version's methods, from its `starknet_api_openrpc.json` and, where it
/// exists, `starknet_executables.json`.
pub struct Spec {
    pub version: String,
    components: Map<String, Value>,
    methods: HashMap<String, MethodSpec>,
}

pub struct MethodSpec {
    pub result: Value,
    /// Codes of the Starknet errors the method may return.
    pub error_codes: Vec<i64>,
}

/// Returns the spec directory (`STARLING_SPECS_DIR`, by default `shared/specs` beside the
/// checkout), or `None` after printing why, unless `STARLING_REQUIRE_DATA` is set.
pub fn specs_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("STARLING_SPECS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/specs"));
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!(
        "OpenRPC specs not found at {} (set STARLING_SPECS_DIR)",
        dir.display()
    );
    if std::env::var_os("STARLING_REQUIRE_DATA").is_some_and(|value| value != "0") {
        panic!("{message}");
    }
    eprintln!("skipped: {message}");
    None
}

impl Spec {
    /// Loads the read and executable methods of `dir/v<version>/`.
    pub fn load(dir: &Path, version: &str) -> Spec {
        Self::load_files(
            dir,
            version,
            &[
                ("starknet_api_openrpc.json", true),
                ("starknet_executables.json", true),
            ],
        )
    }

    /// Loads the WebSocket methods of `dir/v<version>/`: the subscribe methods with
    /// their results, and the notifications, whose `result` parameter is checked as
    /// their result.
    pub fn load_ws(dir: &Path, version: &str) -> Spec {
        Self::load_files(
            dir,
            version,
            &[
                ("starknet_api_openrpc.json", false),
                ("starknet_ws_api.json", true),
            ],
        )
    }

    /// Loads the components of every file and the methods of the files marked `true`.
    fn load_files(dir: &Path, version: &str, files: &[(&str, bool)]) -> Spec {
        let folder = dir.join(format!("v{version}"));
        let mut components = Map::new();
        let mut methods = HashMap::new();
        for (file, with_methods) in files {
            let path = folder.join(file);
            if !path.exists() {
                continue;
            }
            let mut document = super::read_json(&path);
            localize_refs(&mut document);
            relax_one_of(&mut document);
            merge_components(&mut components, &document["components"]);
            if !with_methods {
                continue;
            }
            for method in document["methods"].as_array().unwrap() {
                let name = method["name"].as_str().unwrap().to_string();
                // A notification has no result; its `result` parameter is what it carries.
                let result = match method.get("result") {
                    Some(result) => result["schema"].clone(),
                    None => method["params"]
                        .as_array()
                        .and_then(|params| params.iter().find(|param| param["name"] == "result"))
                        .map(|param| param["schema"].clone())
                        .unwrap_or(Value::Null),
                };
                let error_codes = method["errors"]
                    .as_array()
                    .map(|errors| {
                        errors
                            .iter()
                            .map(|error| error_code(&components, error))
                            .collect()
                    })
                    .unwrap_or_default();
                methods.insert(
                    name,
                    MethodSpec {
                        result,
                        error_codes,
                    },
                );
            }
        }
        Spec {
            version: version.to_string(),
            components,
            methods,
        }
    }

    pub fn method_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.methods.keys().cloned().collect();
        names.sort();
        names
    }

    pub fn method(&self, name: &str) -> &MethodSpec {
        self.methods
            .get(name)
            .unwrap_or_else(|| panic!("spec {} has no method {name}", self.version))
    }

    /// Validates a successful result against the method's result schema; returns the
    /// validation errors as text.
    pub fn check_result(&self, method: &str, result: &Value) -> Result<(), String> {
        let schema = self.method(method).result.clone();
        let errors = self.schema_errors(&schema, result);
        if errors.is_empty() {
            return Ok(());
        }

        // A failed `anyOf` only reports that no branch matched, so explain each branch.
        let mut report = errors;
        let branches = self.resolve(&schema)["anyOf"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for branch in branches {
            let title = self.resolve(&branch)["title"]
                .as_str()
                .unwrap_or("branch")
                .to_string();
            let branch_errors = self.schema_errors(&branch, result);
            report.push(format!("  {title}: {}", branch_errors.join("; ")));
        }
        Err(report.join("\n"))
    }

    /// Follows a local `$ref` to the schema it names.
    fn resolve(&self, schema: &Value) -> Value {
        match schema["$ref"]
            .as_str()
            .and_then(|reference| reference.strip_prefix("#/components/"))
        {
            Some(path) => {
                let mut target = Value::Object(self.components.clone());
                for part in path.split('/') {
                    target = target[part].clone();
                }
                self.resolve(&target)
            }
            None => schema.clone(),
        }
    }

    fn schema_errors(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let mut schema = schema.clone();
        if let Value::Object(object) = &mut schema {
            object.insert("components".into(), Value::Object(self.components.clone()));
        }
        let validator = jsonschema::validator_for(&schema)
            .unwrap_or_else(|error| panic!("schema in spec {}: {error}", self.version));
        validator
            .iter_errors(instance)
            .take(8)
            .map(|error| {
                let mut text = error.to_string();
                text.truncate(300);
                format!("{text} at {}", error.instance_path())
            })
            .collect()
    }

    /// Whether `code` is one of the errors the method declares.
    pub fn allows_error(&self, method: &str, code: i64) -> bool {
        self.method(method).error_codes.contains(&code)
    }
}

/// Code of an error given inline or as a `$ref` into the merged components.
fn error_code(components: &Map<String, Value>, error: &Value) -> i64 {
    if let Some(code) = error["code"].as_i64() {
        return code;
    }
    let reference = error["$ref"]
        .as_str()
        .expect("error is a $ref or has a code");
    let name = reference.rsplit('/').next().unwrap();
    components["errors"][name]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("unknown error {reference}"))
}

/// Turns every `oneOf` into `anyOf`. The specs' `oneOf` branches overlap because
/// they allow additional properties: a committed block is also a valid pre-confirmed
/// block, and an INVOKE v1 transaction also matches looser variants. Strict `oneOf`
/// would reject every such valid result; each branch is still checked in full.
fn relax_one_of(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(branches) = object.remove("oneOf") {
                object.insert("anyOf".into(), branches);
            }
            object.values_mut().for_each(relax_one_of);
        }
        Value::Array(items) => items.iter_mut().for_each(relax_one_of),
        _ => {}
    }
}

/// Rewrites references into a sibling spec file (`./api/starknet_api_openrpc.json#/…`)
/// to local ones; the components of both files are merged into one document.
fn localize_refs(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get_mut("$ref") {
                if let Some(index) = reference.find('#') {
                    *reference = reference[index..].to_string();
                }
            }
            object.values_mut().for_each(localize_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(localize_refs),
        _ => {}
    }
}

fn merge_components(into: &mut Map<String, Value>, from: &Value) {
    let Some(from) = from.as_object() else { return };
    for (section, entries) in from {
        let target = into.entry(section.clone()).or_insert_with(|| json!({}));
        if let (Some(target), Some(entries)) = (target.as_object_mut(), entries.as_object()) {
            for (name, entry) in entries {
                target.entry(name.clone()).or_insert_with(|| entry.clone());
            }
        }
    }
}
