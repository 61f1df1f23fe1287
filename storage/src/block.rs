//! Block headers as the node stores them.

use serde::{Deserialize, Serialize};
use starknet_types_core::felt::Felt;

use crate::types::{BlockHash, BlockNumber, ContractAddress};

/// Header of a committed block, with every field that any served spec version reports.
///
/// Fields that old blocks lack are stored with the defaults the RPC specs prescribe:
/// zero gas prices, `CALLDATA` data availability, and an empty Starknet version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    pub number: BlockNumber,
    pub hash: BlockHash,
    pub parent_hash: BlockHash,
    pub state_root: Felt,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    pub sequencer_address: ContractAddress,
    pub l1_gas_price: GasPrices,
    pub l1_data_gas_price: GasPrices,
    pub l2_gas_price: GasPrices,
    pub l1_da_mode: L1DataAvailabilityMode,
    /// Starknet protocol version such as `0.13.1.1`; empty for blocks that predate the
    /// field (Mainnet blocks before Starknet 0.9.1).
    pub starknet_version: String,
    /// Finality status reported by the gateway when the block was synced.
    pub status: BlockStatus,
    pub transaction_count: u64,
    pub event_count: u64,
    pub transaction_commitment: Option<Felt>,
    pub event_commitment: Option<Felt>,
    pub receipt_commitment: Option<Felt>,
    pub state_diff_commitment: Option<Felt>,
    pub state_diff_length: Option<u64>,
}

/// Price of one unit of a resource, in wei and in fri.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GasPrices {
    pub price_in_wei: Felt,
    pub price_in_fri: Felt,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum L1DataAvailabilityMode {
    #[default]
    Calldata,
    Blob,
}

impl L1DataAvailabilityMode {
    /// Spec spelling: `CALLDATA` or `BLOB`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Calldata => "CALLDATA",
            Self::Blob => "BLOB",
        }
    }
}

/// Finality of a committed block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockStatus {
    AcceptedOnL2,
    AcceptedOnL1,
}

impl BlockStatus {
    /// Spec spelling: `ACCEPTED_ON_L2` or `ACCEPTED_ON_L1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AcceptedOnL2 => "ACCEPTED_ON_L2",
            Self::AcceptedOnL1 => "ACCEPTED_ON_L1",
        }
    }
}
