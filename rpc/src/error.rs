//! JSON-RPC error objects: the protocol's own codes and the Starknet spec's codes.

use serde::Serialize;
use serde_json::Value;

/// An error as sent to the client. Internal failures are logged where they happen and
/// reach the client only as [`RpcError::internal`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    fn with_data(mut self, data: impl Into<Value>) -> Self {
        self.data = Some(data.into());
        self
    }

    pub fn parse_error(error: impl std::fmt::Display) -> Self {
        Self::new(-32700, "Parse error").with_data(error.to_string())
    }

    pub fn invalid_request(reason: impl Into<String>) -> Self {
        Self::new(-32600, "Invalid Request").with_data(reason.into())
    }

    pub fn method_not_found(method: &str) -> Self {
        Self::new(-32601, "Method not found").with_data(method.to_string())
    }

    pub fn invalid_params(reason: impl Into<String>) -> Self {
        Self::new(-32602, "Invalid params").with_data(reason.into())
    }

    pub fn internal() -> Self {
        Self::new(-32603, "Internal error")
    }

    /// Starknet error 24.
    pub fn block_not_found() -> Self {
        Self::new(24, "Block not found")
    }

    /// Starknet error 66.
    pub fn invalid_subscription_id() -> Self {
        Self::new(66, "Invalid subscription id")
    }

    /// Starknet error 32 on the versions that still define it.
    pub fn no_blocks() -> Self {
        Self::new(32, "There are no blocks")
    }
}

impl From<starling_storage::StorageError> for RpcError {
    fn from(error: starling_storage::StorageError) -> Self {
        tracing::error!(target: "rpc", %error, "storage read failed");
        Self::internal()
    }
}
