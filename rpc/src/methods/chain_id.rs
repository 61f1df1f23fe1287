//! `starknet_chainId`: the chain id as a hex felt.

use serde_json::Value;

use crate::context::RpcContext;

pub fn handle(context: &RpcContext) -> Value {
    Value::from(context.storage.chain().chain_id.to_string())
}
