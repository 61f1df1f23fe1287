//! Parsing of subscription filters: emitter and sender addresses, and event keys.

use std::collections::HashSet;

use serde_json::Value;
use starling_storage::{ContractAddress, Felt};

use super::too_many_addresses_in_filter;
use crate::error::RpcError;
use crate::params::{parse_felt, RpcFelt};
use crate::version::Api;

/// Parses the `from_address` of `starknet_subscribeEvents`: one address on every
/// version, or from v0.10 on also a list. An absent address or an empty list matches
/// every emitter. Duplicates count once; more than `max` addresses is error 67.
pub fn parse_addresses(
    address: Option<Value>,
    api: Api,
    max: usize,
) -> Result<Vec<ContractAddress>, RpcError> {
    let values = match address {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(values)) if api == Api::V0_10 => values,
        Some(Value::Array(_)) => {
            return Err(RpcError::invalid_params(format!(
                "invalid from_address: spec {} allows one address; lists need v0.10",
                api.spec_version()
            )))
        }
        Some(value) => vec![value],
    };

    let mut seen = HashSet::new();
    let mut addresses = Vec::new();
    for value in &values {
        let address = match value {
            Value::String(text) => parse_felt(text)
                .map(ContractAddress)
                .map_err(RpcError::invalid_params)?,
            other => {
                return Err(RpcError::invalid_params(format!(
                    "invalid from_address {other}: expected a felt string"
                )))
            }
        };
        if seen.insert(address) {
            addresses.push(address);
        }
    }
    if addresses.len() > max {
        return Err(too_many_addresses_in_filter(addresses.len(), max));
    }
    Ok(addresses)
}

/// Parses a `sender_address` list. An absent or empty list matches every sender; more
/// than `max` distinct addresses is error 67.
pub fn parse_sender_addresses(
    addresses: Option<Vec<RpcFelt>>,
    max: usize,
) -> Result<HashSet<ContractAddress>, RpcError> {
    let addresses: HashSet<ContractAddress> = addresses
        .unwrap_or_default()
        .into_iter()
        .map(|address| ContractAddress(address.0))
        .collect();
    if addresses.len() > max {
        return Err(too_many_addresses_in_filter(addresses.len(), max));
    }
    Ok(addresses)
}

/// Parses `keys` with the semantics of `starknet_getEvents`: position i lists the
/// accepted values of key i, an empty position accepts any value, and trailing empty
/// positions are dropped. More than `max` keys summed over all positions is error 34.
pub fn parse_event_keys(
    keys: Option<Vec<Vec<RpcFelt>>>,
    max: usize,
) -> Result<Vec<Vec<Felt>>, RpcError> {
    let mut keys: Vec<Vec<Felt>> = keys
        .unwrap_or_default()
        .into_iter()
        .map(|values| values.into_iter().map(|key| key.0).collect())
        .collect();
    while keys.last().is_some_and(Vec::is_empty) {
        keys.pop();
    }

    let key_count: usize = keys.iter().map(Vec::len).sum();
    if key_count > max {
        return Err(RpcError::too_many_keys_in_filter());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn felt(value: u64) -> RpcFelt {
        RpcFelt(Felt::from(value))
    }

    #[test]
    fn address_lists_need_v0_10() {
        let list = json!(["0x1", "0x2", "0x1"]);
        let addresses = parse_addresses(Some(list.clone()), Api::V0_10, 10).unwrap();
        assert_eq!(addresses.len(), 2);

        let error = parse_addresses(Some(list), Api::V0_9, 10).unwrap_err();
        assert_eq!(error.code, -32602);

        let single = parse_addresses(Some(json!("0x5")), Api::V0_8, 10).unwrap();
        assert_eq!(single, vec![ContractAddress(Felt::from(5u8))]);
    }

    #[test]
    fn too_many_addresses_is_error_67() {
        let error = parse_addresses(Some(json!(["0x1", "0x2", "0x3"])), Api::V0_10, 2);
        assert_eq!(error.unwrap_err().code, 67);

        let senders = parse_sender_addresses(Some(vec![felt(1), felt(2), felt(3)]), 2);
        assert_eq!(senders.unwrap_err().code, 67);
    }

    #[test]
    fn keys_drop_trailing_wildcards_before_counting() {
        let keys = parse_event_keys(Some(vec![vec![felt(1)], vec![], vec![]]), 1).unwrap();
        assert_eq!(keys, vec![vec![Felt::from(1u8)]]);

        let error = parse_event_keys(Some(vec![vec![felt(1), felt(2)], vec![felt(3)]]), 2);
        assert_eq!(error.unwrap_err().code, 34);
    }
}
