//! `starknet_getNonce`.

use serde_json::Value;

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::version::Api;

// TODO: not implemented yet; answers -32601 like a method the node does not serve.
pub fn handle(_context: &RpcContext, _api: Api, _params: &Params) -> Result<Value, RpcError> {
    Err(RpcError::method_not_found("starknet_getNonce"))
}
