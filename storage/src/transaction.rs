//! Transactions of every type and version that Starknet has accepted.

use serde::{Deserialize, Serialize};
use starknet_types_core::felt::Felt;

use crate::types::{ClassHash, CompiledClassHash, ContractAddress, TransactionHash};

/// A transaction with the hash it was accepted under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub hash: TransactionHash,
    pub variant: TransactionVariant,
}

/// One variant per transaction type and version, each with exactly its own fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionVariant {
    InvokeV0(InvokeTransactionV0),
    InvokeV1(InvokeTransactionV1),
    InvokeV3(InvokeTransactionV3),
    DeclareV0(DeclareTransactionV0V1),
    DeclareV1(DeclareTransactionV0V1),
    DeclareV2(DeclareTransactionV2),
    DeclareV3(DeclareTransactionV3),
    Deploy(DeployTransaction),
    DeployAccountV1(DeployAccountTransactionV1),
    DeployAccountV3(DeployAccountTransactionV3),
    L1Handler(L1HandlerTransaction),
}

impl TransactionVariant {
    /// The spec's transaction type: `INVOKE`, `DECLARE`, `DEPLOY`, `DEPLOY_ACCOUNT` or
    /// `L1_HANDLER`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::InvokeV0(_) | Self::InvokeV1(_) | Self::InvokeV3(_) => "INVOKE",
            Self::DeclareV0(_) | Self::DeclareV1(_) | Self::DeclareV2(_) | Self::DeclareV3(_) => {
                "DECLARE"
            }
            Self::Deploy(_) => "DEPLOY",
            Self::DeployAccountV1(_) | Self::DeployAccountV3(_) => "DEPLOY_ACCOUNT",
            Self::L1Handler(_) => "L1_HANDLER",
        }
    }

    /// Transactions of version 3 pay fees in fri (STRK); older ones in wei (ETH).
    pub fn pays_fee_in_fri(&self) -> bool {
        matches!(
            self,
            Self::InvokeV3(_) | Self::DeclareV3(_) | Self::DeployAccountV3(_)
        )
    }

    /// The account that sent the transaction, or the contract an L1 handler or a
    /// deploy runs on.
    pub fn sender_address(&self) -> ContractAddress {
        match self {
            Self::InvokeV0(tx) => tx.contract_address,
            Self::InvokeV1(tx) => tx.sender_address,
            Self::InvokeV3(tx) => tx.sender_address,
            Self::DeclareV0(tx) | Self::DeclareV1(tx) => tx.sender_address,
            Self::DeclareV2(tx) => tx.sender_address,
            Self::DeclareV3(tx) => tx.sender_address,
            Self::Deploy(tx) => tx.contract_address,
            Self::DeployAccountV1(tx) => tx.contract_address,
            Self::DeployAccountV3(tx) => tx.contract_address,
            Self::L1Handler(tx) => tx.contract_address,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokeTransactionV0 {
    pub max_fee: Felt,
    pub signature: Vec<Felt>,
    pub contract_address: ContractAddress,
    pub entry_point_selector: Felt,
    pub calldata: Vec<Felt>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokeTransactionV1 {
    pub sender_address: ContractAddress,
    pub calldata: Vec<Felt>,
    pub max_fee: Felt,
    pub signature: Vec<Felt>,
    pub nonce: Felt,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokeTransactionV3 {
    pub sender_address: ContractAddress,
    pub calldata: Vec<Felt>,
    pub signature: Vec<Felt>,
    pub nonce: Felt,
    pub resource_bounds: ResourceBoundsMapping,
    pub tip: u64,
    pub paymaster_data: Vec<Felt>,
    pub account_deployment_data: Vec<Felt>,
    pub nonce_data_availability_mode: DataAvailabilityMode,
    pub fee_data_availability_mode: DataAvailabilityMode,
    /// Proof facts of Starknet 0.14.1 and later; empty before.
    pub proof_facts: Vec<Felt>,
}

/// Declare version 0 and 1 share their fields; version 0 has no meaningful nonce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclareTransactionV0V1 {
    pub sender_address: ContractAddress,
    pub max_fee: Felt,
    pub signature: Vec<Felt>,
    pub nonce: Felt,
    pub class_hash: ClassHash,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclareTransactionV2 {
    pub sender_address: ContractAddress,
    pub compiled_class_hash: CompiledClassHash,
    pub max_fee: Felt,
    pub signature: Vec<Felt>,
    pub nonce: Felt,
    pub class_hash: ClassHash,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclareTransactionV3 {
    pub sender_address: ContractAddress,
    pub compiled_class_hash: CompiledClassHash,
    pub signature: Vec<Felt>,
    pub nonce: Felt,
    pub class_hash: ClassHash,
    pub resource_bounds: ResourceBoundsMapping,
    pub tip: u64,
    pub paymaster_data: Vec<Felt>,
    pub account_deployment_data: Vec<Felt>,
    pub nonce_data_availability_mode: DataAvailabilityMode,
    pub fee_data_availability_mode: DataAvailabilityMode,
}

/// The original, fee-less deploy transaction of early Starknet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployTransaction {
    /// 0 or 1; both occur on Mainnet.
    pub version: Felt,
    pub contract_address: ContractAddress,
    pub contract_address_salt: Felt,
    pub class_hash: ClassHash,
    pub constructor_calldata: Vec<Felt>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployAccountTransactionV1 {
    pub contract_address: ContractAddress,
    pub max_fee: Felt,
    pub signature: Vec<Felt>,
    pub nonce: Felt,
    pub contract_address_salt: Felt,
    pub constructor_calldata: Vec<Felt>,
    pub class_hash: ClassHash,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployAccountTransactionV3 {
    pub contract_address: ContractAddress,
    pub signature: Vec<Felt>,
    pub nonce: Felt,
    pub contract_address_salt: Felt,
    pub constructor_calldata: Vec<Felt>,
    pub class_hash: ClassHash,
    pub resource_bounds: ResourceBoundsMapping,
    pub tip: u64,
    pub paymaster_data: Vec<Felt>,
    pub nonce_data_availability_mode: DataAvailabilityMode,
    pub fee_data_availability_mode: DataAvailabilityMode,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct L1HandlerTransaction {
    pub version: Felt,
    pub nonce: Felt,
    pub contract_address: ContractAddress,
    pub entry_point_selector: Felt,
    pub calldata: Vec<Felt>,
}

/// Limits a version 3 transaction sets on each resource it pays for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceBoundsMapping {
    pub l1_gas: ResourceBounds,
    pub l2_gas: ResourceBounds,
    /// Present from Starknet 0.13.4; transactions before it carry only two bounds.
    pub l1_data_gas: Option<ResourceBounds>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceBounds {
    pub max_amount: u64,
    pub max_price_per_unit: u128,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataAvailabilityMode {
    #[default]
    L1,
    L2,
}

impl DataAvailabilityMode {
    /// Spec spelling: `L1` or `L2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::L1 => "L1",
            Self::L2 => "L2",
        }
    }
}
