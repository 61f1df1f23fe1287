//! State diffs: what one block changed in contract storage, nonces and classes.

use serde::{Deserialize, Serialize};
use starknet_types_core::felt::Felt;

use crate::types::{ClassHash, CompiledClassHash, ContractAddress, StorageKey};

/// Every state change of one block, in the order the gateway listed them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDiff {
    pub storage_diffs: Vec<ContractStorageDiff>,
    pub nonces: Vec<NonceUpdate>,
    pub deployed_contracts: Vec<DeployedContract>,
    pub replaced_classes: Vec<DeployedContract>,
    /// Sierra classes declared in the block, with their compiled class hashes.
    pub declared_classes: Vec<DeclaredClass>,
    /// Cairo 0 classes declared in the block.
    pub deprecated_declared_classes: Vec<ClassHash>,
    /// Sierra classes whose compiled class hash was recomputed (Starknet 0.14.1 and later).
    pub migrated_compiled_classes: Vec<DeclaredClass>,
}

impl StateDiff {
    /// Class hashes that the block introduces to the state: declared classes and the
    /// classes of deployed or replaced contracts, without duplicates, in first-seen order.
    pub fn introduced_class_hashes(&self) -> Vec<ClassHash> {
        let candidates = self
            .deprecated_declared_classes
            .iter()
            .copied()
            .chain(
                self.declared_classes
                    .iter()
                    .map(|declared| declared.class_hash),
            )
            .chain(
                self.deployed_contracts
                    .iter()
                    .map(|deployed| deployed.class_hash),
            )
            .chain(
                self.replaced_classes
                    .iter()
                    .map(|replaced| replaced.class_hash),
            );

        let mut seen = std::collections::HashSet::new();
        candidates.filter(|hash| seen.insert(*hash)).collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractStorageDiff {
    pub address: ContractAddress,
    pub entries: Vec<StorageEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageEntry {
    pub key: StorageKey,
    pub value: Felt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceUpdate {
    pub contract_address: ContractAddress,
    pub nonce: Felt,
}

/// A contract deployed at an address, or an address whose class was replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedContract {
    pub address: ContractAddress,
    pub class_hash: ClassHash,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredClass {
    pub class_hash: ClassHash,
    pub compiled_class_hash: CompiledClassHash,
}
