//! `BLOCK_HEADER` with a block's `status`, and the header of the pending
//! (`PENDING_BLOCK_HEADER`) or pre-confirmed (`PRE_CONFIRMED_BLOCK_HEADER`) block.

use serde::Serialize;
use serde_json::{json, Map, Value};
use starling_storage::{BlockHeader, Felt, GasPrices, PreConfirmedBlock, Storage};

use super::{into_object, state_diff_length, SpecVersion};
use crate::error::RpcError;

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

/// Builds the `BLOCK_HEADER` fields of a committed block plus its `status`, the part
/// that `BLOCK_WITH_TX_HASHES`, `BLOCK_WITH_TXS` and `BLOCK_WITH_RECEIPTS` share.
///
/// v0.8 adds `l2_gas_price`. v0.10 adds the four commitments, which are `0x0` for
/// blocks that predate them, as the spec prescribes, and the transaction, event and
/// state diff counts. A block without a stored `state_diff_length` gets it computed
/// from its state diff, which is the only case that reads storage.
pub fn block_fields(
    storage: &Storage,
    header: &BlockHeader,
    version: SpecVersion,
) -> Result<Map<String, Value>, RpcError> {
    let mut fields = into_object(json!({
        "status": header.status.as_str(),
        "block_hash": header.hash,
        "parent_hash": header.parent_hash,
        "block_number": header.number.get(),
        "new_root": header.state_root,
        "timestamp": header.timestamp,
        "sequencer_address": header.sequencer_address,
        "l1_gas_price": ResourcePrice::from(header.l1_gas_price),
        "l1_data_gas_price": ResourcePrice::from(header.l1_data_gas_price),
        "l1_da_mode": header.l1_da_mode.as_str(),
        "starknet_version": header.starknet_version,
    }));
    if version >= SpecVersion::V0_8 {
        fields.insert(
            "l2_gas_price".into(),
            json!(ResourcePrice::from(header.l2_gas_price)),
        );
    }
    if version >= SpecVersion::V0_10 {
        let state_diff_length = match header.state_diff_length {
            Some(length) => length,
            None => storage
                .state_diff(header.number)?
                .map(|diff| state_diff_length(&diff))
                .unwrap_or(0),
        };
        let zero_if_absent = |commitment: Option<Felt>| commitment.unwrap_or(Felt::ZERO);
        fields.extend(into_object(json!({
            "transaction_commitment": zero_if_absent(header.transaction_commitment),
            "event_commitment": zero_if_absent(header.event_commitment),
            "receipt_commitment": zero_if_absent(header.receipt_commitment),
            "state_diff_commitment": zero_if_absent(header.state_diff_commitment),
            "transaction_count": header.transaction_count,
            "event_count": header.event_count,
            "state_diff_length": state_diff_length,
        })));
    }
    Ok(fields)
}

/// Builds the header of the block after `parent`: `PENDING_BLOCK_HEADER` before v0.9 (no
/// hash, number or root, but the parent's hash) and `PRE_CONFIRMED_BLOCK_HEADER` from
/// v0.9 (the block number but no parent hash).
///
/// The timestamp, sequencer, prices, data availability mode and Starknet version are
/// those of the pre-confirmed `block`. Without one they are the parent's.
pub fn pending_block_fields(
    parent: &BlockHeader,
    block: Option<&PreConfirmedBlock>,
    version: SpecVersion,
) -> Map<String, Value> {
    let header = match block {
        Some(block) => PendingHeader {
            timestamp: block.timestamp,
            sequencer_address: block.sequencer_address.0,
            l1_gas_price: block.l1_gas_price,
            l1_data_gas_price: block.l1_data_gas_price,
            l2_gas_price: block.l2_gas_price,
            l1_da_mode: block.l1_da_mode.as_str(),
            starknet_version: &block.starknet_version,
        },
        None => PendingHeader {
            timestamp: parent.timestamp,
            sequencer_address: parent.sequencer_address.0,
            l1_gas_price: parent.l1_gas_price,
            l1_data_gas_price: parent.l1_data_gas_price,
            l2_gas_price: parent.l2_gas_price,
            l1_da_mode: parent.l1_da_mode.as_str(),
            starknet_version: &parent.starknet_version,
        },
    };
    let mut fields = into_object(json!({
        "timestamp": header.timestamp,
        "sequencer_address": header.sequencer_address,
        "l1_gas_price": ResourcePrice::from(header.l1_gas_price),
        "l1_data_gas_price": ResourcePrice::from(header.l1_data_gas_price),
        "l1_da_mode": header.l1_da_mode,
        "starknet_version": header.starknet_version,
    }));
    if version >= SpecVersion::V0_8 {
        fields.insert(
            "l2_gas_price".into(),
            json!(ResourcePrice::from(header.l2_gas_price)),
        );
    }
    if version >= SpecVersion::V0_9 {
        fields.insert("block_number".into(), json!(parent.number.next().get()));
    } else {
        fields.insert("parent_hash".into(), json!(parent.hash));
    }
    fields
}

/// The header fields that the pending and pre-confirmed shapes share.
struct PendingHeader<'a> {
    timestamp: u64,
    sequencer_address: Felt,
    l1_gas_price: GasPrices,
    l1_data_gas_price: GasPrices,
    l2_gas_price: GasPrices,
    l1_da_mode: &'static str,
    starknet_version: &'a str,
}
