//! Transaction receipts, events and messages.

use serde::{Deserialize, Serialize};
use starknet_types_core::felt::Felt;

use crate::types::{ContractAddress, TransactionHash};

/// Outcome of one transaction: fee, status, events, messages and resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub transaction_hash: TransactionHash,
    pub actual_fee: Felt,
    pub execution_status: ExecutionStatus,
    pub events: Vec<Event>,
    pub l2_to_l1_messages: Vec<L2ToL1Message>,
    /// The L1 message an L1 handler consumed, from which its message hash is derived.
    pub l1_to_l2_consumed_message: Option<L1ToL2Message>,
    pub execution_resources: ExecutionResources,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionStatus {
    Succeeded,
    Reverted { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub from_address: ContractAddress,
    pub keys: Vec<Felt>,
    pub data: Vec<Felt>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct L2ToL1Message {
    pub from_address: ContractAddress,
    /// Ethereum address of the recipient.
    pub to_address: Felt,
    pub payload: Vec<Felt>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct L1ToL2Message {
    /// Ethereum address of the sender.
    pub from_address: Felt,
    pub to_address: ContractAddress,
    pub selector: Felt,
    pub payload: Vec<Felt>,
    pub nonce: Option<Felt>,
}

/// Cairo VM resources and gas a transaction consumed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionResources {
    pub steps: u64,
    pub memory_holes: u64,
    pub builtins: BuiltinCounters,
    /// Gas spent on data availability; zero before Starknet 0.13.1.
    pub data_availability: GasVector,
    /// Total gas consumed, reported from Starknet 0.13.2.
    pub total_gas_consumed: Option<GasVector>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltinCounters {
    pub pedersen: u64,
    pub range_check: u64,
    pub bitwise: u64,
    pub output: u64,
    pub ecdsa: u64,
    pub ec_op: u64,
    pub keccak: u64,
    pub poseidon: u64,
    pub segment_arena: u64,
    pub add_mod: u64,
    pub mul_mod: u64,
    pub range_check96: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GasVector {
    pub l1_gas: u64,
    pub l1_data_gas: u64,
    pub l2_gas: u64,
}
