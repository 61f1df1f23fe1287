//! `starknet_getStorageProof` (v0.8 and later): Merkle paths in the classes trie, the
//! contracts trie and contract storage tries at one block, with the roots they lead to.
//!
//! Trie nodes are never deleted, so every stored block has proofs and error 42
//! (`STORAGE_PROOF_NOT_SUPPORTED`) is never returned.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{json, Value};
use starling_storage::trie::{Node, TrieError};
use starling_storage::{
    BlockNumber, ClassHash, ContractAddress, Felt, StateRoots, Storage, StorageKey,
};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::{BlockId, BlockIdParam, RpcFelt};
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    block_id: BlockIdParam,
    #[serde(default)]
    class_hashes: Option<Vec<RpcFelt>>,
    #[serde(default)]
    contract_addresses: Option<Vec<RpcFelt>>,
    #[serde(default)]
    contracts_storage_keys: Option<Vec<ContractStorageKeys>>,
}

#[derive(Deserialize)]
struct ContractStorageKeys {
    contract_address: RpcFelt,
    storage_keys: Vec<RpcFelt>,
}

pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let input: Input = params.parse(&[
        "block_id",
        "class_hashes",
        "contract_addresses",
        "contracts_storage_keys",
    ])?;
    let class_hashes = input.class_hashes.unwrap_or_default();
    let contract_addresses = input.contract_addresses.unwrap_or_default();
    let storage_keys = input.contracts_storage_keys.unwrap_or_default();

    let key_count = class_hashes.len()
        + contract_addresses.len()
        + storage_keys
            .iter()
            .map(|contract| contract.storage_keys.len())
            .sum::<usize>();
    let max_keys = context.limits.storage_proof_max_keys;
    if key_count > max_keys {
        return Err(RpcError::invalid_params(format!(
            "the request asks for {key_count} proofs, more than this node's limit of {max_keys}"
        )));
    }

    let block_id = input
        .block_id
        .for_api(api)
        .map_err(RpcError::invalid_params)?;
    if block_id == BlockId::Pending {
        // The spec's block id for this method excludes the tag, and the node keeps no
        // pre-confirmed state to prove.
        return Err(RpcError::invalid_params(format!(
            "storage proofs need a committed block: spec {} does not allow the {} tag here",
            api.spec_version(),
            pending_tag(api)
        )));
    }
    let header = context.resolve_committed(block_id)?;
    let number = header.number;
    let Some(roots) = context.storage.state_roots(number)? else {
        tracing::error!(target: "rpc", block_number = %number, "stored block has no state roots");
        return Err(RpcError::internal());
    };
    let storage = &context.storage;

    let classes_proof = classes_proof(storage, roots.classes_root, number, &class_hashes)?;
    let contracts_proof = contracts_proof(storage, &roots, number, &contract_addresses)?;
    let contracts_storage_proofs = contracts_storage_proofs(storage, number, &storage_keys)?;
    Ok(json!({
        "classes_proof": classes_proof,
        "contracts_proof": contracts_proof,
        "contracts_storage_proofs": contracts_storage_proofs,
        "global_roots": {
            "contracts_tree_root": roots.contracts_root,
            "classes_tree_root": roots.classes_root,
            "block_hash": header.hash,
        },
    }))
}

/// Builds `classes_proof`: the paths to the class hashes in the classes trie.
fn classes_proof(
    storage: &Storage,
    classes_root: Felt,
    number: BlockNumber,
    class_hashes: &[RpcFelt],
) -> Result<Value, RpcError> {
    let mut nodes = NodeMapping::default();
    for class_hash in class_hashes {
        let proof = storage.classes_trie_proof(classes_root, ClassHash(class_hash.0));
        nodes.extend(checked(proof, number, "class hash", class_hash.0)?);
    }
    Ok(nodes.into_json())
}

/// Builds `contracts_proof`: the paths to the addresses in the contracts trie, and each
/// contract's nonce, class hash and storage root in request order. A contract that does
/// not exist at the block has all three zero.
fn contracts_proof(
    storage: &Storage,
    roots: &StateRoots,
    number: BlockNumber,
    addresses: &[RpcFelt],
) -> Result<Value, RpcError> {
    let mut nodes = NodeMapping::default();
    let mut leaves_data = Vec::with_capacity(addresses.len());
    for address in addresses {
        let address = ContractAddress(address.0);
        let proof = storage.contracts_trie_proof(roots.contracts_root, address);
        nodes.extend(checked(proof, number, "contract address", address.0)?);

        let nonce = storage.nonce_at(address, number)?.unwrap_or_default();
        let class_hash = storage.class_hash_at(address, number)?.unwrap_or_default();
        let storage_root = storage.storage_root_at(address, number)?;
        leaves_data.push(json!({
            "nonce": nonce,
            "class_hash": class_hash,
            "storage_root": storage_root,
        }));
    }
    Ok(json!({ "nodes": nodes.into_json(), "contract_leaves_data": leaves_data }))
}

/// Builds `contracts_storage_proofs`: for each requested contract, the paths to its keys
/// in its storage trie at the block.
fn contracts_storage_proofs(
    storage: &Storage,
    number: BlockNumber,
    contracts: &[ContractStorageKeys],
) -> Result<Vec<Value>, RpcError> {
    let mut proofs = Vec::with_capacity(contracts.len());
    for contract in contracts {
        let address = ContractAddress(contract.contract_address.0);
        let storage_root = storage.storage_root_at(address, number)?;
        let mut nodes = NodeMapping::default();
        for key in &contract.storage_keys {
            let proof = storage.storage_trie_proof(storage_root, StorageKey(key.0));
            nodes.extend(checked(proof, number, "storage key", key.0)?);
        }
        proofs.push(nodes.into_json());
    }
    Ok(proofs)
}

fn pending_tag(api: Api) -> &'static str {
    match api {
        Api::Root | Api::V0_7 | Api::V0_8 => "\"pending\"",
        Api::V0_9 | Api::V0_10 => "\"pre_confirmed\"",
    }
}

/// Maps a key of 2^251 or more to -32602 and any other trie failure to an internal error.
fn checked(
    nodes: Result<Vec<(Felt, Node)>, TrieError>,
    number: BlockNumber,
    key_kind: &str,
    key: Felt,
) -> Result<Vec<(Felt, Node)>, RpcError> {
    nodes.map_err(|error| match error {
        TrieError::KeyOutOfRange { .. } => RpcError::invalid_params(format!(
            "invalid {key_kind} {key:#x}: trie keys are below 2^251"
        )),
        other => {
            tracing::error!(
                target: "rpc",
                %other,
                block_number = %number,
                key_kind,
                key = %format!("{key:#x}"),
                "storage proof failed"
            );
            RpcError::internal()
        }
    })
}

/// `NODE_HASH_TO_NODE_MAPPING`: the union of several paths, each node once, in the order
/// first seen.
#[derive(Default)]
struct NodeMapping {
    seen: HashSet<Felt>,
    entries: Vec<Value>,
}

impl NodeMapping {
    fn extend(&mut self, nodes: Vec<(Felt, Node)>) {
        for (hash, node) in nodes {
            if self.seen.insert(hash) {
                self.entries
                    .push(json!({ "node_hash": hash, "node": node_to_json(&node) }));
            }
        }
    }

    fn into_json(self) -> Value {
        Value::Array(self.entries)
    }
}

/// `MERKLE_NODE`: `{left, right}` for a binary node and `{path, length, child}` for an
/// edge, whose path is a hex number of `length` bits.
fn node_to_json(node: &Node) -> Value {
    match node {
        Node::Binary { left, right } => json!({ "left": left, "right": right }),
        Node::Edge {
            child,
            path,
            length,
        } => json!({ "path": path, "length": length, "child": child }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::RpcLimits;
    use crate::params::parse_felt;
    use crate::test_support::{block_with_diff, context_with_chain};
    use starling_storage::trie::{self, TrieHash};
    use starling_storage::{
        CompiledClassHash, ContractStorageDiff, DeclaredClass, DeployedContract, NonceUpdate,
        StateDiff, StorageEntry,
    };
    use tempfile::TempDir;

    fn felt(value: u64) -> Felt {
        Felt::from(value)
    }

    fn storage_diff(address: u64, entries: &[(u64, u64)]) -> ContractStorageDiff {
        ContractStorageDiff {
            address: ContractAddress(felt(address)),
            entries: entries
                .iter()
                .map(|(key, value)| StorageEntry {
                    key: StorageKey(felt(*key)),
                    value: felt(*value),
                })
                .collect(),
        }
    }

    /// Block 0 deploys 0xc0 (class 0xcc, nonce 1, slots 5 and 6), writes slot 0x10 of
    /// system contract 0x1 and declares Sierra class 0x5151. Block 1 changes slot 5,
    /// deploys 0xc1 and declares class 0x6161.
    fn chain() -> (RpcContext, TempDir) {
        context_with_chain(vec![
            block_with_diff(StateDiff {
                storage_diffs: vec![
                    storage_diff(0xc0, &[(5, 11), (6, 12)]),
                    storage_diff(0x1, &[(0x10, 0xabc)]),
                ],
                nonces: vec![NonceUpdate {
                    contract_address: ContractAddress(felt(0xc0)),
                    nonce: felt(1),
                }],
                deployed_contracts: vec![DeployedContract {
                    address: ContractAddress(felt(0xc0)),
                    class_hash: ClassHash(felt(0xcc)),
                }],
                declared_classes: vec![DeclaredClass {
                    class_hash: ClassHash(felt(0x5151)),
                    compiled_class_hash: CompiledClassHash(felt(0x7777)),
                }],
                ..StateDiff::default()
            }),
            block_with_diff(StateDiff {
                storage_diffs: vec![storage_diff(0xc0, &[(5, 22)])],
                deployed_contracts: vec![DeployedContract {
                    address: ContractAddress(felt(0xc1)),
                    class_hash: ClassHash(felt(0xcd)),
                }],
                declared_classes: vec![DeclaredClass {
                    class_hash: ClassHash(felt(0x6161)),
                    compiled_class_hash: CompiledClassHash(felt(0x8888)),
                }],
                ..StateDiff::default()
            }),
        ])
    }

    fn call(context: &RpcContext, api: Api, params: Value) -> Result<Value, RpcError> {
        let Value::Object(map) = params else {
            panic!("tests pass named params");
        };
        handle(context, api, &Params::Named(map))
    }

    fn felt_of(value: &Value) -> Felt {
        parse_felt(value.as_str().unwrap()).unwrap()
    }

    /// Turns a `NODE_HASH_TO_NODE_MAPPING` back into trie nodes.
    fn nodes_of(mapping: &Value) -> Vec<(Felt, Node)> {
        mapping
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| {
                let node = &entry["node"];
                let node = if node.get("left").is_some() {
                    Node::Binary {
                        left: felt_of(&node["left"]),
                        right: felt_of(&node["right"]),
                    }
                } else {
                    Node::Edge {
                        child: felt_of(&node["child"]),
                        path: felt_of(&node["path"]),
                        length: node["length"].as_u64().unwrap().try_into().unwrap(),
                    }
                };
                (felt_of(&entry["node_hash"]), node)
            })
            .collect()
    }

    /// Verifies `key` against `root` with the nodes of a mapping that may also hold the
    /// paths of other keys: the key's path is picked out by walking down from the root.
    fn verify(root: Felt, key: Felt, mapping: &Value, hash: TrieHash) -> Option<Felt> {
        let nodes = nodes_of(mapping);
        // Bit `i` of the big-endian array is bit `255 - i`; the step at depth `d` is bit
        // `250 - d`, so it sits at index `5 + d`.
        let key_bits = key.to_bits_be();
        let step = |depth: usize| key_bits[256 - trie::TRIE_HEIGHT + depth];

        let mut path = Vec::new();
        let mut expected = root;
        let mut depth = 0;
        while depth < trie::TRIE_HEIGHT {
            let Some((node_hash, node)) =
                nodes.iter().find(|(node_hash, _)| *node_hash == expected)
            else {
                break;
            };
            path.push((*node_hash, *node));
            match node {
                Node::Binary { left, right } => {
                    expected = if step(depth) { *right } else { *left };
                    depth += 1;
                }
                Node::Edge {
                    child,
                    path: edge_path,
                    length,
                } => {
                    let length = usize::from(*length);
                    let edge_bits = edge_path.to_bits_be();
                    let on_key_path = (0..length)
                        .all(|offset| edge_bits[256 - length + offset] == step(depth + offset));
                    if !on_key_path {
                        break;
                    }
                    expected = *child;
                    depth += length;
                }
            }
        }
        trie::verify_proof(root, key, &path, hash).unwrap()
    }

    #[test]
    fn proofs_verify_against_returned_roots() {
        let (context, _dir) = chain();
        for block in [0u64, 1] {
            let result = call(
                &context,
                Api::V0_8,
                json!({
                    "block_id": {"block_number": block},
                    "class_hashes": ["0x5151", "0x6161", "0x9999"],
                    "contract_addresses": ["0xc0", "0xc1", "0x1", "0xdead"],
                    "contracts_storage_keys": [
                        {"contract_address": "0xc0", "storage_keys": ["0x5", "0x6", "0x7"]},
                        {"contract_address": "0x1", "storage_keys": ["0x10"]},
                        {"contract_address": "0xdead", "storage_keys": ["0x5"]},
                    ],
                }),
            )
            .unwrap();

            let roots = &result["global_roots"];
            let contracts_root = felt_of(&roots["contracts_tree_root"]);
            let classes_root = felt_of(&roots["classes_tree_root"]);
            let header = context.storage.header(BlockNumber(block)).unwrap().unwrap();
            assert_eq!(felt_of(&roots["block_hash"]), header.hash.0);
            assert_eq!(
                trie::global_root(contracts_root, classes_root),
                header.state_root
            );

            // Classes: 0x6161 is declared in block 1 only, 0x9999 never.
            let classes = &result["classes_proof"];
            let declared_6161 = (block == 1).then(|| trie::class_leaf(felt(0x8888)));
            let class_cases = [
                (0x5151, Some(trie::class_leaf(felt(0x7777)))),
                (0x6161, declared_6161),
                (0x9999, None),
            ];
            for (class_hash, expected) in class_cases {
                let proven = verify(classes_root, felt(class_hash), classes, TrieHash::Poseidon);
                assert_eq!(proven, expected, "class {class_hash:#x} at block {block}");
            }

            // Contracts: each leaf is the hash of the returned leaf data.
            let contract_nodes = &result["contracts_proof"]["nodes"];
            let leaves = result["contracts_proof"]["contract_leaves_data"]
                .as_array()
                .unwrap();
            assert_eq!(leaves.len(), 4);
            for (address, leaf) in [0xc0, 0xc1, 0x1, 0xdead].into_iter().zip(leaves) {
                let storage_root = felt_of(&leaf["storage_root"]);
                let expected = trie::contract_state_hash(
                    felt_of(&leaf["class_hash"]),
                    storage_root,
                    felt_of(&leaf["nonce"]),
                );
                let proven = verify(
                    contracts_root,
                    felt(address),
                    contract_nodes,
                    TrieHash::Pedersen,
                );
                assert_eq!(
                    proven,
                    (expected != Felt::ZERO).then_some(expected),
                    "contract {address:#x} at block {block}"
                );
            }
            assert_eq!(leaves[0]["class_hash"], json!("0xcc"));
            assert_eq!(leaves[0]["nonce"], json!("0x1"));
            assert_eq!(leaves[2]["class_hash"], json!("0x0"));
            assert_eq!(
                leaves[3],
                json!({"nonce": "0x0", "class_hash": "0x0", "storage_root": "0x0"})
            );

            // Storage: proven under the storage root from the leaf data.
            let storage_proofs = result["contracts_storage_proofs"].as_array().unwrap();
            assert_eq!(storage_proofs.len(), 3);
            let slot_5 = if block == 0 { 11 } else { 22 };
            let storage_cases = [
                (0, 0, 5, Some(slot_5)),
                (0, 0, 6, Some(12)),
                (0, 0, 7, None),
                (1, 2, 0x10, Some(0xabc)),
                (2, 3, 5, None),
            ];
            for (proof_index, leaf_index, key, expected) in storage_cases {
                let storage_root = felt_of(&leaves[leaf_index]["storage_root"]);
                let proven = verify(
                    storage_root,
                    felt(key),
                    &storage_proofs[proof_index],
                    TrieHash::Pedersen,
                );
                assert_eq!(
                    proven,
                    expected.map(felt),
                    "slot {key:#x} of proof {proof_index} at block {block}"
                );
            }
            assert_eq!(storage_proofs[2], json!([]));
        }
    }

    #[test]
    fn shared_nodes_are_listed_once() {
        let (context, _dir) = chain();
        let result = call(
            &context,
            Api::V0_10,
            json!({
                "block_id": "latest",
                "contract_addresses": ["0xc0", "0xc1", "0xc0"],
            }),
        )
        .unwrap();
        let nodes = result["contracts_proof"]["nodes"].as_array().unwrap();
        let hashes: HashSet<&Value> = nodes.iter().map(|node| &node["node_hash"]).collect();
        assert_eq!(hashes.len(), nodes.len());
        assert_eq!(
            result["contracts_proof"]["contract_leaves_data"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn empty_request_returns_roots_only() {
        let (context, _dir) = chain();
        let result = call(&context, Api::V0_9, json!({"block_id": "l1_accepted"}));
        // Test blocks are accepted on L2 only, so no block is accepted on L1.
        assert_eq!(result.unwrap_err().code, 24);

        let result = call(
            &context,
            Api::V0_9,
            json!({"block_id": {"block_hash": "0x100"}}),
        )
        .unwrap();
        assert_eq!(result["classes_proof"], json!([]));
        assert_eq!(
            result["contracts_proof"],
            json!({"nodes": [], "contract_leaves_data": []})
        );
        assert_eq!(result["contracts_storage_proofs"], json!([]));
        assert_eq!(result["global_roots"]["block_hash"], json!("0x100"));
    }

    #[test]
    fn pending_tags_are_rejected() {
        let (context, _dir) = chain();
        let v0_8 = call(&context, Api::V0_8, json!({"block_id": "pending"})).unwrap_err();
        assert_eq!(v0_8.code, -32602);
        let v0_10 = call(&context, Api::V0_10, json!({"block_id": "pre_confirmed"})).unwrap_err();
        assert_eq!(v0_10.code, -32602);
        assert!(v0_10
            .data
            .unwrap()
            .as_str()
            .unwrap()
            .contains("pre_confirmed"));
    }

    #[test]
    fn invalid_requests_are_rejected() {
        let (context, _dir) = chain();
        let unknown = call(
            &context,
            Api::V0_8,
            json!({"block_id": {"block_number": 2}}),
        )
        .unwrap_err();
        assert_eq!(unknown.code, 24);

        // 2^251, the smallest felt with no position in a trie.
        let huge_class = format!("0x8{}", "0".repeat(62));
        let out_of_range = call(
            &context,
            Api::V0_8,
            json!({"block_id": "latest", "class_hashes": [huge_class]}),
        )
        .unwrap_err();
        assert_eq!(out_of_range.code, -32602);

        let mut limited = context.clone();
        limited.limits = RpcLimits {
            storage_proof_max_keys: 3,
            ..RpcLimits::default()
        };
        let too_many = call(
            &limited,
            Api::V0_8,
            json!({
                "block_id": "latest",
                "class_hashes": ["0x1"],
                "contracts_storage_keys": [{"contract_address": "0xc0", "storage_keys": ["0x1", "0x2", "0x3"]}],
            }),
        )
        .unwrap_err();
        assert_eq!(too_many.code, -32602);
        let at_limit = call(
            &limited,
            Api::V0_8,
            json!({"block_id": "latest", "class_hashes": ["0x1", "0x2", "0x3"]}),
        );
        assert!(at_limit.is_ok());
    }
}
