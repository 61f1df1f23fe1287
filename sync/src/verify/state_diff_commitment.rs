//! State diff commitments: the one in Starknet 0.13.2+ block hashes, the one that
//! signatures of older blocks sign, and the state diff length.

use std::collections::BTreeMap;

use starknet_types_core::hash::{Poseidon, StarkHash};
use starling_storage::{Felt, StateDiff};

use super::commitments::push_length_and_elements;

/// `STARKNET_STATE_DIFF0` as a Cairo short string, the first element of the state diff
/// commitment.
const STARKNET_STATE_DIFF0: Felt =
    Felt::from_hex_unwrap("0x535441524b4e45545f53544154455f4449464630");

/// Returns the state diff commitment of Starknet 0.13.2 and later.
///
/// It is `poseidon_array` over these sections, each list sorted by its first element:
/// 1. `STARKNET_STATE_DIFF0`;
/// 2. the count and the (address, class hash) pairs of deployed and replaced contracts;
/// 3. the count and the (class hash, compiled class hash) pairs of declared Sierra classes
///    and of classes with a migrated compiled class hash;
/// 4. the count and the hashes of declared Cairo 0 classes;
/// 5. the constants 1 and 0;
/// 6. the count of contracts with storage writes and, per contract, its address, its
///    write count and the (key, value) pairs, leaving out contracts without writes;
/// 7. the count and the (address, nonce) pairs of nonce updates.
pub fn state_diff_commitment(state_diff: &StateDiff) -> Felt {
    let sorted = SortedStateDiff::new(state_diff);
    let mut elements = vec![STARKNET_STATE_DIFF0];
    elements.extend(sorted.class_update_elements());
    elements.extend(sorted.sierra_class_elements());
    elements.extend(sorted.cairo0_class_elements());
    elements.push(Felt::ONE);
    elements.push(Felt::ZERO);
    elements.extend(sorted.storage_and_nonce_elements());
    Poseidon::hash_array(&elements)
}

/// Returns the state diff commitment that sequencer signatures of blocks before Starknet
/// 0.13.2 sign (`signature_input.state_diff_commitment` of `get_signature`).
///
/// It has the sections of [`state_diff_commitment`], but each section is hashed on its
/// own: `poseidon_array([0, H(class updates), H(Sierra classes), H(Cairo 0 classes), 1, 0,
/// H(storage writes and nonces)])`, where `H` is `poseidon_array` over the section's
/// elements and the leading 0 is the state diff format version.
pub fn legacy_state_diff_commitment(state_diff: &StateDiff) -> Felt {
    let sorted = SortedStateDiff::new(state_diff);
    Poseidon::hash_array(&[
        Felt::ZERO,
        Poseidon::hash_array(&sorted.class_update_elements()),
        Poseidon::hash_array(&sorted.sierra_class_elements()),
        Poseidon::hash_array(&sorted.cairo0_class_elements()),
        Felt::ONE,
        Felt::ZERO,
        Poseidon::hash_array(&sorted.storage_and_nonce_elements()),
    ])
}

/// Returns the number of state changes of a block, as the header's `state_diff_length`
/// counts them: storage writes, nonce updates, deployed and replaced contracts, declared
/// Sierra and Cairo 0 classes, and migrated compiled class hashes.
pub fn state_diff_length(state_diff: &StateDiff) -> u64 {
    let sorted = SortedStateDiff::new(state_diff);
    let storage_writes: usize = sorted.storage.values().map(BTreeMap::len).sum();
    let count = storage_writes
        + sorted.nonces.len()
        + sorted.class_updates.len()
        + sorted.sierra_classes.len()
        + sorted.cairo0_classes.len();
    count as u64
}

/// A state diff with every list sorted by its first element and free of repeats, the
/// form that the state diff commitment and length are defined on.
struct SortedStateDiff {
    /// Contract address to class hash, for deployed and replaced contracts. A contract
    /// deployed and replaced in the same block ends with the replacement class.
    class_updates: BTreeMap<Felt, Felt>,
    /// Class hash to compiled class hash, for declared Sierra classes and migrated
    /// compiled class hashes.
    sierra_classes: BTreeMap<Felt, Felt>,
    cairo0_classes: Vec<Felt>,
    /// Contract address to its storage writes; contracts without writes are left out.
    storage: BTreeMap<Felt, BTreeMap<Felt, Felt>>,
    nonces: BTreeMap<Felt, Felt>,
}

impl SortedStateDiff {
    fn new(state_diff: &StateDiff) -> Self {
        let class_updates = state_diff
            .deployed_contracts
            .iter()
            .chain(&state_diff.replaced_classes)
            .map(|contract| (contract.address.0, contract.class_hash.0))
            .collect();

        let sierra_classes = state_diff
            .declared_classes
            .iter()
            .chain(&state_diff.migrated_compiled_classes)
            .map(|class| (class.class_hash.0, class.compiled_class_hash.0))
            .collect();

        let mut cairo0_classes: Vec<Felt> = state_diff
            .deprecated_declared_classes
            .iter()
            .map(|class_hash| class_hash.0)
            .collect();
        cairo0_classes.sort();
        cairo0_classes.dedup();

        let mut storage: BTreeMap<Felt, BTreeMap<Felt, Felt>> = BTreeMap::new();
        for contract in &state_diff.storage_diffs {
            let writes = storage.entry(contract.address.0).or_default();
            for entry in &contract.entries {
                writes.insert(entry.key.0, entry.value);
            }
        }
        storage.retain(|_, writes| !writes.is_empty());

        let nonces = state_diff
            .nonces
            .iter()
            .map(|update| (update.contract_address.0, update.nonce))
            .collect();

        Self {
            class_updates,
            sierra_classes,
            cairo0_classes,
            storage,
            nonces,
        }
    }

    /// Returns the count and the (address, class hash) pairs of deployed and replaced
    /// contracts.
    fn class_update_elements(&self) -> Vec<Felt> {
        pairs_with_count(&self.class_updates)
    }

    /// Returns the count and the (class hash, compiled class hash) pairs of Sierra classes.
    fn sierra_class_elements(&self) -> Vec<Felt> {
        pairs_with_count(&self.sierra_classes)
    }

    /// Returns the count and the hashes of declared Cairo 0 classes.
    fn cairo0_class_elements(&self) -> Vec<Felt> {
        let mut elements = Vec::with_capacity(self.cairo0_classes.len() + 1);
        push_length_and_elements(&mut elements, &self.cairo0_classes);
        elements
    }

    /// Returns the storage section followed by the nonce section. The storage section is
    /// the count of contracts with writes and, per contract, its address, its write count
    /// and the (key, value) pairs. The nonce section is the count and the (address, nonce)
    /// pairs.
    fn storage_and_nonce_elements(&self) -> Vec<Felt> {
        let mut elements = vec![Felt::from(self.storage.len())];
        for (address, writes) in &self.storage {
            elements.push(*address);
            elements.extend(pairs_with_count(writes));
        }
        elements.extend(pairs_with_count(&self.nonces));
        elements
    }
}

fn pairs_with_count(pairs: &BTreeMap<Felt, Felt>) -> Vec<Felt> {
    let mut elements = Vec::with_capacity(pairs.len() * 2 + 1);
    elements.push(Felt::from(pairs.len()));
    for (key, value) in pairs {
        elements.push(*key);
        elements.push(*value);
    }
    elements
}

#[cfg(test)]
mod tests {
    use starling_storage::{
        ClassHash, CompiledClassHash, ContractAddress, ContractStorageDiff, DeclaredClass,
        DeployedContract, NonceUpdate, StorageEntry, StorageKey,
    };

    use super::*;

    #[test]
    fn empty_state_diff_commitment() {
        let expected = Poseidon::hash_array(&[
            Felt::from_bytes_be_slice(b"STARKNET_STATE_DIFF0"),
            Felt::ZERO,
            Felt::ZERO,
            Felt::ZERO,
            Felt::ONE,
            Felt::ZERO,
            Felt::ZERO,
            Felt::ZERO,
        ]);
        assert_eq!(state_diff_commitment(&StateDiff::default()), expected);
        assert_eq!(state_diff_length(&StateDiff::default()), 0);
    }

    fn sample_state_diff() -> StateDiff {
        let storage = |address: u64, entries: &[(u64, u64)]| ContractStorageDiff {
            address: ContractAddress(Felt::from(address)),
            entries: entries
                .iter()
                .map(|(key, value)| StorageEntry {
                    key: StorageKey(Felt::from(*key)),
                    value: Felt::from(*value),
                })
                .collect(),
        };
        StateDiff {
            storage_diffs: vec![
                storage(9, &[(2, 20), (1, 10)]),
                storage(3, &[]),
                storage(4, &[(5, 50)]),
            ],
            nonces: vec![NonceUpdate {
                contract_address: ContractAddress(Felt::from(9u64)),
                nonce: Felt::ONE,
            }],
            deployed_contracts: vec![DeployedContract {
                address: ContractAddress(Felt::from(4u64)),
                class_hash: ClassHash(Felt::from(40u64)),
            }],
            replaced_classes: vec![],
            declared_classes: vec![DeclaredClass {
                class_hash: ClassHash(Felt::from(70u64)),
                compiled_class_hash: CompiledClassHash(Felt::from(71u64)),
            }],
            deprecated_declared_classes: vec![ClassHash(Felt::from(60u64))],
            migrated_compiled_classes: vec![DeclaredClass {
                class_hash: ClassHash(Felt::from(80u64)),
                compiled_class_hash: CompiledClassHash(Felt::from(81u64)),
            }],
        }
    }

    #[test]
    fn state_diff_commitment_sorts_and_skips_empty_storage() {
        let diff = sample_state_diff();
        let expected = Poseidon::hash_array(&[
            Felt::from_bytes_be_slice(b"STARKNET_STATE_DIFF0"),
            // Deployed and replaced contracts.
            Felt::ONE,
            Felt::from(4u64),
            Felt::from(40u64),
            // Declared Sierra classes and migrated compiled class hashes.
            Felt::TWO,
            Felt::from(70u64),
            Felt::from(71u64),
            Felt::from(80u64),
            Felt::from(81u64),
            // Declared Cairo 0 classes.
            Felt::ONE,
            Felt::from(60u64),
            Felt::ONE,
            Felt::ZERO,
            // Storage: contract 3 has no writes and is left out.
            Felt::TWO,
            Felt::from(4u64),
            Felt::ONE,
            Felt::from(5u64),
            Felt::from(50u64),
            Felt::from(9u64),
            Felt::TWO,
            Felt::ONE,
            Felt::from(10u64),
            Felt::TWO,
            Felt::from(20u64),
            // Nonces.
            Felt::ONE,
            Felt::from(9u64),
            Felt::ONE,
        ]);
        assert_eq!(state_diff_commitment(&diff), expected);
        assert_eq!(state_diff_length(&diff), 3 + 1 + 1 + 2 + 1);
    }

    #[test]
    fn replaced_class_overrides_deployment_in_the_same_block() {
        let deployed = DeployedContract {
            address: ContractAddress(Felt::from(4u64)),
            class_hash: ClassHash(Felt::from(40u64)),
        };
        let replaced = DeployedContract {
            class_hash: ClassHash(Felt::from(41u64)),
            ..deployed
        };
        let both = StateDiff {
            deployed_contracts: vec![deployed],
            replaced_classes: vec![replaced],
            ..StateDiff::default()
        };
        let only_final_class = StateDiff {
            deployed_contracts: vec![replaced],
            ..StateDiff::default()
        };
        assert_eq!(
            state_diff_commitment(&both),
            state_diff_commitment(&only_final_class)
        );
        assert_eq!(state_diff_length(&both), 1);
    }

    #[test]
    fn legacy_state_diff_commitment_hashes_sections_separately() {
        let diff = StateDiff {
            nonces: vec![NonceUpdate {
                contract_address: ContractAddress(Felt::from(9u64)),
                nonce: Felt::ONE,
            }],
            ..StateDiff::default()
        };
        let expected = Poseidon::hash_array(&[
            Felt::ZERO,
            Poseidon::hash_array(&[Felt::ZERO]),
            Poseidon::hash_array(&[Felt::ZERO]),
            Poseidon::hash_array(&[Felt::ZERO]),
            Felt::ONE,
            Felt::ZERO,
            Poseidon::hash_array(&[Felt::ZERO, Felt::ONE, Felt::from(9u64), Felt::ONE]),
        ]);
        assert_eq!(legacy_state_diff_commitment(&diff), expected);
    }

    #[test]
    fn state_diff_prefix_is_the_short_string() {
        assert_eq!(
            STARKNET_STATE_DIFF0,
            Felt::from_bytes_be_slice(b"STARKNET_STATE_DIFF0")
        );
    }
}
