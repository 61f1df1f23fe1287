//! The leaf and global-root formulas, against their definitions written out by hand.

use starknet_types_core::felt::Felt;
use starknet_types_core::hash::{Pedersen, Poseidon, StarkHash};

use crate::trie::{
    class_leaf, contract_state_hash, global_root, CONTRACT_CLASS_LEAF_VERSION, GLOBAL_STATE_VERSION,
};

#[test]
fn version_constants_are_ascii_felts() {
    assert_eq!(
        CONTRACT_CLASS_LEAF_VERSION,
        Felt::from_bytes_be_slice(b"CONTRACT_CLASS_LEAF_V0")
    );
    assert_eq!(
        GLOBAL_STATE_VERSION,
        Felt::from_bytes_be_slice(b"STARKNET_STATE_V0")
    );
}

#[test]
fn contract_state_hash_nests_three_pedersen_hashes() {
    let (class_hash, storage_root, nonce) = (Felt::from(11), Felt::from(22), Felt::from(3));
    let inner = Pedersen::hash(&Pedersen::hash(&class_hash, &storage_root), &nonce);
    assert_eq!(
        contract_state_hash(class_hash, storage_root, nonce),
        Pedersen::hash(&inner, &Felt::ZERO)
    );
}

#[test]
fn contract_state_hash_of_empty_contract_is_zero() {
    assert_eq!(
        contract_state_hash(Felt::ZERO, Felt::ZERO, Felt::ZERO),
        Felt::ZERO
    );
    // Any non-zero part gives a real leaf.
    assert_ne!(
        contract_state_hash(Felt::ZERO, Felt::ZERO, Felt::ONE),
        Felt::ZERO
    );
}

#[test]
fn class_leaf_is_two_input_poseidon() {
    let compiled_class_hash = Felt::from(0x1234);
    assert_eq!(
        class_leaf(compiled_class_hash),
        Poseidon::hash(&CONTRACT_CLASS_LEAF_VERSION, &compiled_class_hash)
    );
    assert_eq!(class_leaf(Felt::ZERO), Felt::ZERO);
}

#[test]
fn global_root_switches_to_poseidon_with_classes() {
    let contracts_root = Felt::from(0xabc);
    assert_eq!(global_root(contracts_root, Felt::ZERO), contracts_root);
    assert_eq!(global_root(Felt::ZERO, Felt::ZERO), Felt::ZERO);

    let classes_root = Felt::from(0xdef);
    assert_eq!(
        global_root(contracts_root, classes_root),
        Poseidon::hash_array(&[GLOBAL_STATE_VERSION, contracts_root, classes_root])
    );
}
