//! Spec-shaped JSON output types.

use serde::Serialize;
use starling_storage::{BlockHeader, Felt, GasPrices};

/// `RESOURCE_PRICE` of the spec.
#[derive(Debug, Serialize)]
pub struct ResourcePrice {
    pub price_in_fri: Felt,
    pub price_in_wei: Felt,
}

impl From<GasPrices> for ResourcePrice {
    fn from(prices: GasPrices) -> Self {
        Self {
            price_in_fri: prices.price_in_fri,
            price_in_wei: prices.price_in_wei,
        }
    }
}

/// `BLOCK_HEADER` of spec v0.7.
#[derive(Debug, Serialize)]
pub struct BlockHeaderV07 {
    pub block_hash: Felt,
    pub parent_hash: Felt,
    pub block_number: u64,
    pub new_root: Felt,
    pub timestamp: u64,
    pub sequencer_address: Felt,
    pub l1_gas_price: ResourcePrice,
    pub l1_data_gas_price: ResourcePrice,
    pub l1_da_mode: &'static str,
    pub starknet_version: String,
}

impl From<&BlockHeader> for BlockHeaderV07 {
    fn from(header: &BlockHeader) -> Self {
        Self {
            block_hash: header.hash.0,
            parent_hash: header.parent_hash.0,
            block_number: header.number.get(),
            new_root: header.state_root,
            timestamp: header.timestamp,
            sequencer_address: header.sequencer_address.0,
            l1_gas_price: header.l1_gas_price.into(),
            l1_data_gas_price: header.l1_data_gas_price.into(),
            l1_da_mode: header.l1_da_mode.as_str(),
            starknet_version: header.starknet_version.clone(),
        }
    }
}
