//! Global state roots of real Mainnet and Sepolia blocks, recomputed from their recorded
//! feeder-gateway state updates, starting from an empty state.
//!
//! The recordings are read from `STARLING_FGW_DIR`, by default the `shared/fgw` folder two
//! levels above this crate. When it is missing the tests print a note and pass, unless
//! `STARLING_REQUIRE_DATA=1`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use starknet_types_core::felt::Felt;

use crate::trie::{
    apply_updates, class_leaf, contract_state_hash, get, global_root, proof, verify_proof,
    MemoryNodeStore, TrieHash,
};

/// Returns the recordings folder, or `None` (after printing why) when the test should skip.
fn recordings_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("STARLING_FGW_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fgw")));
    if dir.is_dir() {
        return Some(dir);
    }
    let missing = format!(
        "feeder-gateway recordings not found at {} (set STARLING_FGW_DIR)",
        dir.display()
    );
    if std::env::var("STARLING_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{missing}; STARLING_REQUIRE_DATA=1 makes this a failure");
    }
    println!("skipped: {missing}");
    None
}

/// Parses a felt written in hex, with or without `0x` and zero padding (early Mainnet
/// recordings write roots as 64 hex digits without `0x`).
fn parse_felt(value: &Value) -> Felt {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("expected a hex string, found {value}"));
    let digits = text.strip_prefix("0x").unwrap_or(text);
    Felt::from_hex(&format!("0x{digits}"))
        .unwrap_or_else(|error| panic!("invalid felt {text:?}: {error:?}"))
}

fn field<'a>(object: &'a Value, name: &str) -> &'a Value {
    object
        .get(name)
        .unwrap_or_else(|| panic!("missing field {name:?} in {object}"))
}

/// Items of an optional list field; recordings of older versions omit some lists.
fn list<'a>(object: &'a Value, name: &str) -> &'a [Value] {
    object
        .get(name)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

#[derive(Clone, Copy, Default)]
struct Contract {
    class_hash: Felt,
    nonce: Felt,
    storage_root: Felt,
}

/// The whole state as tries in one node store, plus the values the tests check reads against.
#[derive(Default)]
struct ChainState {
    store: MemoryNodeStore,
    contracts: BTreeMap<Felt, Contract>,
    contracts_root: Felt,
    classes_root: Felt,
    storage: BTreeMap<(Felt, Felt), Felt>,
    compiled_class_hashes: BTreeMap<Felt, Felt>,
    /// First replayed block after which the classes trie is non-empty.
    first_block_with_classes: Option<u64>,
}

impl ChainState {
    fn apply(&mut self, updates: &[(Felt, Felt)], root: Felt, hash: TrieHash) -> Felt {
        let update = apply_updates(&self.store, root, updates, hash).unwrap();
        self.store.extend(update.new_nodes);
        update.root
    }

    /// Applies a feeder-gateway `state_diff` and returns the new global state root.
    fn apply_state_diff(&mut self, diff: &Value) -> Felt {
        // Every contract whose class, nonce or storage changes gets a new leaf, built from
        // all three current values.
        let mut touched: BTreeMap<Felt, Contract> = BTreeMap::new();

        for item in list(diff, "deployed_contracts")
            .iter()
            .chain(list(diff, "replaced_classes"))
        {
            let address = parse_felt(field(item, "address"));
            touched_entry(&mut touched, &self.contracts, address).class_hash =
                parse_felt(field(item, "class_hash"));
        }
        if let Some(nonces) = diff.get("nonces").and_then(Value::as_object) {
            for (address, nonce) in nonces {
                let address = parse_felt(&Value::String(address.clone()));
                touched_entry(&mut touched, &self.contracts, address).nonce = parse_felt(nonce);
            }
        }
        if let Some(storage_diffs) = diff.get("storage_diffs").and_then(Value::as_object) {
            for (address, entries) in storage_diffs {
                let address = parse_felt(&Value::String(address.clone()));
                let entries: Vec<(Felt, Felt)> = entries
                    .as_array()
                    .unwrap_or_else(|| panic!("storage diff of {address:#x} is not a list"))
                    .iter()
                    .map(|entry| {
                        (
                            parse_felt(field(entry, "key")),
                            parse_felt(field(entry, "value")),
                        )
                    })
                    .collect();
                for (key, value) in &entries {
                    self.storage.insert((address, *key), *value);
                }
                let old_root = touched_entry(&mut touched, &self.contracts, address).storage_root;
                let new_root = self.apply(&entries, old_root, TrieHash::Pedersen);
                touched_entry(&mut touched, &self.contracts, address).storage_root = new_root;
            }
        }

        let leaves: Vec<(Felt, Felt)> = touched
            .iter()
            .map(|(address, c)| {
                (
                    *address,
                    contract_state_hash(c.class_hash, c.storage_root, c.nonce),
                )
            })
            .collect();
        self.contracts.extend(touched);
        self.contracts_root = self.apply(&leaves, self.contracts_root, TrieHash::Pedersen);

        // Cairo 0 classes (`old_declared_contracts`) have no leaf in the classes trie.
        let mut class_leaves = Vec::new();
        for item in list(diff, "declared_classes")
            .iter()
            .chain(list(diff, "migrated_compiled_classes"))
        {
            let class_hash = parse_felt(field(item, "class_hash"));
            let compiled_class_hash = parse_felt(field(item, "compiled_class_hash"));
            self.compiled_class_hashes
                .insert(class_hash, compiled_class_hash);
            class_leaves.push((class_hash, class_leaf(compiled_class_hash)));
        }
        self.classes_root = self.apply(&class_leaves, self.classes_root, TrieHash::Poseidon);

        global_root(self.contracts_root, self.classes_root)
    }

    /// Checks every leaf of the final state with `get` and with a verified proof.
    fn check_reads(&self) {
        for (address, contract) in &self.contracts {
            let leaf =
                contract_state_hash(contract.class_hash, contract.storage_root, contract.nonce);
            assert_reads(
                &self.store,
                self.contracts_root,
                *address,
                leaf,
                TrieHash::Pedersen,
            );
        }
        for ((address, key), value) in &self.storage {
            let storage_root = self.contracts[address].storage_root;
            assert_reads(&self.store, storage_root, *key, *value, TrieHash::Pedersen);
        }
        for (class_hash, compiled_class_hash) in &self.compiled_class_hashes {
            let leaf = class_leaf(*compiled_class_hash);
            assert_reads(
                &self.store,
                self.classes_root,
                *class_hash,
                leaf,
                TrieHash::Poseidon,
            );
        }
    }
}

/// Returns the contract's entry among the contracts this block touches, starting from its
/// state before the block.
fn touched_entry<'a>(
    touched: &'a mut BTreeMap<Felt, Contract>,
    contracts: &BTreeMap<Felt, Contract>,
    address: Felt,
) -> &'a mut Contract {
    touched
        .entry(address)
        .or_insert_with(|| contracts.get(&address).copied().unwrap_or_default())
}

fn assert_reads(store: &MemoryNodeStore, root: Felt, key: Felt, value: Felt, hash: TrieHash) {
    let expected = (value != Felt::ZERO).then_some(value);
    assert_eq!(get(store, root, key).unwrap(), expected, "get {key:#x}");
    let nodes = proof(store, root, key).unwrap();
    assert_eq!(
        verify_proof(root, key, &nodes, hash).unwrap(),
        expected,
        "proof of {key:#x}"
    );
}

/// Replays `blocks` of `network` from an empty state, asserting each block's `new_root`.
fn replay(network: &str, blocks: std::ops::RangeInclusive<u64>) -> Option<ChainState> {
    let dir = recordings_dir()?;
    let mut state = ChainState::default();
    let mut previous_root = Felt::ZERO;

    for block in blocks {
        let path = dir
            .join(network)
            .join("state_update")
            .join(format!("{block}.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let update: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()));

        assert_eq!(
            parse_felt(field(&update, "old_root")),
            previous_root,
            "{network} block {block}: old_root"
        );
        let root = state.apply_state_diff(field(&update, "state_diff"));
        assert_eq!(
            root,
            parse_felt(field(&update, "new_root")),
            "{network} block {block}: new_root"
        );
        if state.classes_root != Felt::ZERO && state.first_block_with_classes.is_none() {
            state.first_block_with_classes = Some(block);
        }
        previous_root = root;
    }
    Some(state)
}

#[test]
fn mainnet_blocks_0_to_2_reproduce_state_roots() {
    let Some(state) = replay("mainnet", 0..=2) else {
        return;
    };
    assert_eq!(state.first_block_with_classes, None);
    state.check_reads();
}

#[test]
fn sepolia_blocks_0_to_7_reproduce_state_roots() {
    let Some(state) = replay("sepolia", 0..=7) else {
        return;
    };
    // Block 7 declares the first Sierra classes: blocks 0 to 6 have the contracts root as
    // global root, block 7 the Poseidon combination.
    assert_eq!(state.first_block_with_classes, Some(7));
    assert_eq!(state.compiled_class_hashes.len(), 3);
    assert_ne!(
        global_root(state.contracts_root, state.classes_root),
        state.contracts_root
    );
    state.check_reads();
}
