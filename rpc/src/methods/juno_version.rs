//! `juno_version`: the node's own version string.

use serde_json::Value;

use crate::context::RpcContext;

pub fn handle(context: &RpcContext) -> Value {
    Value::from(context.node_version.clone())
}
