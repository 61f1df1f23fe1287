//! `juno_unsubscribe` on the root path: stops one of the connection's subscriptions.

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
