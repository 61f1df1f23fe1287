//! `TXN`: one shape per transaction type and version.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use starling_storage::{
    DataAvailabilityMode, ResourceBounds, ResourceBoundsMapping, Transaction, TransactionVariant,
};

use super::{hex, into_object, SpecVersion};

/// `TXN_RESPONSE_FLAG` of v0.10: which optional fields a transaction response
/// includes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum TxnResponseFlag {
    #[serde(rename = "INCLUDE_PROOF_FACTS")]
    IncludeProofFacts,
}

impl TxnResponseFlag {
    /// Reports whether a response of `version` includes `proof_facts`. Only v0.10 has
    /// the `response_flags` parameter, so earlier versions never include them.
    pub fn include_proof_facts(flags: &[TxnResponseFlag], version: SpecVersion) -> bool {
        version >= SpecVersion::V0_10 && flags.contains(&TxnResponseFlag::IncludeProofFacts)
    }
}

/// Builds the `TXN` fields of a transaction, without its hash, as `version` defines
/// them.
///
/// `include_proof_facts` adds `proof_facts` to version 3 invokes; only v0.10 has the
/// field, and only when the request sets the `INCLUDE_PROOF_FACTS` flag.
pub fn transaction_fields(
    variant: &TransactionVariant,
    version: SpecVersion,
    include_proof_facts: bool,
) -> Map<String, Value> {
    let fields = match variant {
        TransactionVariant::InvokeV0(tx) => json!({
            "type": "INVOKE",
            "version": "0x0",
            "max_fee": tx.max_fee,
            "signature": tx.signature,
            "contract_address": tx.contract_address,
            "entry_point_selector": tx.entry_point_selector,
            "calldata": tx.calldata,
        }),
        TransactionVariant::InvokeV1(tx) => json!({
            "type": "INVOKE",
            "version": "0x1",
            "sender_address": tx.sender_address,
            "calldata": tx.calldata,
            "max_fee": tx.max_fee,
            "signature": tx.signature,
            "nonce": tx.nonce,
        }),
        TransactionVariant::InvokeV3(tx) => {
            let mut fields = into_object(json!({
                "type": "INVOKE",
                "version": "0x3",
                "sender_address": tx.sender_address,
                "calldata": tx.calldata,
                "signature": tx.signature,
                "nonce": tx.nonce,
                "resource_bounds": resource_bounds(&tx.resource_bounds, version),
                "tip": hex(tx.tip),
                "paymaster_data": tx.paymaster_data,
                "account_deployment_data": tx.account_deployment_data,
                "nonce_data_availability_mode": da_mode(tx.nonce_data_availability_mode),
                "fee_data_availability_mode": da_mode(tx.fee_data_availability_mode),
            }));
            if include_proof_facts && version >= SpecVersion::V0_10 {
                fields.insert("proof_facts".into(), json!(tx.proof_facts));
            }
            Value::Object(fields)
        }
        // Version 0 declares have no nonce in any spec version.
        TransactionVariant::DeclareV0(tx) => json!({
            "type": "DECLARE",
            "version": "0x0",
            "sender_address": tx.sender_address,
            "max_fee": tx.max_fee,
            "signature": tx.signature,
            "class_hash": tx.class_hash,
        }),
        TransactionVariant::DeclareV1(tx) => json!({
            "type": "DECLARE",
            "version": "0x1",
            "sender_address": tx.sender_address,
            "max_fee": tx.max_fee,
            "signature": tx.signature,
            "nonce": tx.nonce,
            "class_hash": tx.class_hash,
        }),
        TransactionVariant::DeclareV2(tx) => json!({
            "type": "DECLARE",
            "version": "0x2",
            "sender_address": tx.sender_address,
            "compiled_class_hash": tx.compiled_class_hash,
            "max_fee": tx.max_fee,
            "signature": tx.signature,
            "nonce": tx.nonce,
            "class_hash": tx.class_hash,
        }),
        TransactionVariant::DeclareV3(tx) => json!({
            "type": "DECLARE",
            "version": "0x3",
            "sender_address": tx.sender_address,
            "compiled_class_hash": tx.compiled_class_hash,
            "signature": tx.signature,
            "nonce": tx.nonce,
            "class_hash": tx.class_hash,
            "resource_bounds": resource_bounds(&tx.resource_bounds, version),
            "tip": hex(tx.tip),
            "paymaster_data": tx.paymaster_data,
            "account_deployment_data": tx.account_deployment_data,
            "nonce_data_availability_mode": da_mode(tx.nonce_data_availability_mode),
            "fee_data_availability_mode": da_mode(tx.fee_data_availability_mode),
        }),
        // DEPLOY_TXN has no `contract_address` in any spec version; receipts carry it.
        TransactionVariant::Deploy(tx) => json!({
            "type": "DEPLOY",
            "version": tx.version,
            "contract_address_salt": tx.contract_address_salt,
            "constructor_calldata": tx.constructor_calldata,
            "class_hash": tx.class_hash,
        }),
        TransactionVariant::DeployAccountV1(tx) => json!({
            "type": "DEPLOY_ACCOUNT",
            "version": "0x1",
            "max_fee": tx.max_fee,
            "signature": tx.signature,
            "nonce": tx.nonce,
            "contract_address_salt": tx.contract_address_salt,
            "constructor_calldata": tx.constructor_calldata,
            "class_hash": tx.class_hash,
        }),
        TransactionVariant::DeployAccountV3(tx) => json!({
            "type": "DEPLOY_ACCOUNT",
            "version": "0x3",
            "signature": tx.signature,
            "nonce": tx.nonce,
            "contract_address_salt": tx.contract_address_salt,
            "constructor_calldata": tx.constructor_calldata,
            "class_hash": tx.class_hash,
            "resource_bounds": resource_bounds(&tx.resource_bounds, version),
            "tip": hex(tx.tip),
            "paymaster_data": tx.paymaster_data,
            "nonce_data_availability_mode": da_mode(tx.nonce_data_availability_mode),
            "fee_data_availability_mode": da_mode(tx.fee_data_availability_mode),
        }),
        TransactionVariant::L1Handler(tx) => json!({
            "type": "L1_HANDLER",
            "version": tx.version,
            "nonce": tx.nonce,
            "contract_address": tx.contract_address,
            "entry_point_selector": tx.entry_point_selector,
            "calldata": tx.calldata,
        }),
    };
    into_object(fields)
}

/// Builds `TXN_WITH_HASH`: the transaction's fields and its `transaction_hash`.
pub fn transaction_with_hash(
    transaction: &Transaction,
    version: SpecVersion,
    include_proof_facts: bool,
) -> Value {
    let mut fields = transaction_fields(&transaction.variant, version, include_proof_facts);
    fields.insert("transaction_hash".into(), json!(transaction.hash));
    Value::Object(fields)
}

/// `RESOURCE_BOUNDS_MAPPING`: `l1_gas` and `l2_gas`, and from v0.8 `l1_data_gas`.
///
/// NOTE: version 3 transactions before Starknet 0.13.4 set no `l1_data_gas` bound;
/// v0.8 and later require the field, so those transactions report zero bounds for it.
fn resource_bounds(bounds: &ResourceBoundsMapping, version: SpecVersion) -> Value {
    let mut fields = into_object(json!({
        "l1_gas": resource_bound(bounds.l1_gas),
        "l2_gas": resource_bound(bounds.l2_gas),
    }));
    if version >= SpecVersion::V0_8 {
        let l1_data_gas = bounds.l1_data_gas.unwrap_or_default();
        fields.insert("l1_data_gas".into(), resource_bound(l1_data_gas));
    }
    Value::Object(fields)
}

fn resource_bound(bound: ResourceBounds) -> Value {
    json!({
        "max_amount": hex(bound.max_amount),
        "max_price_per_unit": hex(bound.max_price_per_unit),
    })
}

fn da_mode(mode: DataAvailabilityMode) -> &'static str {
    mode.as_str()
}
