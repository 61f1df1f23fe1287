//! Leaves of the contracts and classes tries, and the global state root built from both.
//!
//! The formulas are those of the Starknet OS, `get_contract_state_hash`,
//! `get_contract_class_leaf_hash` and `calculate_global_state_root` in
//! `starkware/starknet/core/os/state/commitment.cairo` (starkware-libs/sequencer).

use starknet_types_core::felt::Felt;
use starknet_types_core::hash::{Pedersen, Poseidon, StarkHash};

/// Version felt hashed last into every contract leaf.
pub const CONTRACT_STATE_HASH_VERSION: Felt = Felt::ZERO;

/// `"CONTRACT_CLASS_LEAF_V0"` as a felt (its ASCII bytes read as a big-endian integer).
pub const CONTRACT_CLASS_LEAF_VERSION: Felt =
    Felt::from_hex_unwrap("0x434f4e54524143545f434c4153535f4c4541465f5630");

/// `"STARKNET_STATE_V0"` as a felt (its ASCII bytes read as a big-endian integer).
pub const GLOBAL_STATE_VERSION: Felt =
    Felt::from_hex_unwrap("0x535441524b4e45545f53544154455f5630");

/// Computes a contract's leaf in the contracts trie:
/// `pedersen(pedersen(pedersen(class_hash, storage_root), nonce), CONTRACT_STATE_HASH_VERSION)`.
///
/// A contract with class hash, storage root and nonce all zero has leaf 0, which removes it
/// from the contracts trie.
pub fn contract_state_hash(class_hash: Felt, storage_root: Felt, nonce: Felt) -> Felt {
    if class_hash == Felt::ZERO && storage_root == Felt::ZERO && nonce == Felt::ZERO {
        return Felt::ZERO;
    }
    let hash = Pedersen::hash(&class_hash, &storage_root);
    let hash = Pedersen::hash(&hash, &nonce);
    Pedersen::hash(&hash, &CONTRACT_STATE_HASH_VERSION)
}

/// Computes a class's leaf in the classes trie (keyed by class hash):
/// `poseidon(CONTRACT_CLASS_LEAF_VERSION, compiled_class_hash)`, or 0 for a compiled class
/// hash of 0. Only Sierra classes have leaves; Cairo 0 classes are not in the classes trie.
pub fn class_leaf(compiled_class_hash: Felt) -> Felt {
    if compiled_class_hash == Felt::ZERO {
        return Felt::ZERO;
    }
    Poseidon::hash(&CONTRACT_CLASS_LEAF_VERSION, &compiled_class_hash)
}

/// Computes the global state root: `contracts_root` while the classes trie is empty (so in
/// every block before the chain's first Sierra class), otherwise
/// `poseidon_many([GLOBAL_STATE_VERSION, contracts_root, classes_root])`. Both tries empty
/// give 0.
pub fn global_root(contracts_root: Felt, classes_root: Felt) -> Felt {
    if classes_root == Felt::ZERO {
        return contracts_root;
    }
    Poseidon::hash_array(&[GLOBAL_STATE_VERSION, contracts_root, classes_root])
}
