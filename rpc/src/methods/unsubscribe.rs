//! `juno_unsubscribe` on the root path and `starknet_unsubscribe` on the versioned paths:
//! stops one of the connection's subscriptions.

use serde::Deserialize;
use serde_json::Value;

use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::session::{Session, SubscriptionId};

#[derive(Deserialize)]
struct Input {
    id: SubscriptionId,
}

pub fn handle(session: &mut Session, params: &Params) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["id"])?;
    if session.remove_subscription(input.id) {
        Ok(Value::Bool(true))
    } else {
        Err(RpcError::invalid_subscription_id())
    }
}

#[derive(Deserialize)]
struct VersionedInput {
    subscription_id: Value,
}

/// `starknet_unsubscribe`. The id is the string that the subscribe request returned;
/// a JSON integer is accepted too, because the v0.8.1 spec types this parameter as an
/// integer. An id that this connection does not hold, including another connection's,
/// is error 66.
pub fn handle_versioned(session: &mut Session, params: &Params) -> Result<Value, RpcError> {
    let input: VersionedInput = params.parse(&["subscription_id"])?;
    let id = match &input.subscription_id {
        Value::String(text) => text.parse::<SubscriptionId>().ok(),
        Value::Number(number) => number.as_u64(),
        other => {
            return Err(RpcError::invalid_params(format!(
                "invalid subscription_id {other}: expected the string that the subscribe request returned"
            )))
        }
    };
    match id {
        Some(id) if session.remove_subscription(id) => Ok(Value::Bool(true)),
        _ => Err(RpcError::invalid_subscription_id()),
    }
}
