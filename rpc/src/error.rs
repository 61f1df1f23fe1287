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

    /// Starknet error 20.
    pub fn contract_not_found() -> Self {
        Self::new(20, "Contract not found")
    }

    /// Starknet error 27.
    pub fn invalid_transaction_index() -> Self {
        Self::new(27, "Invalid transaction index in a block")
    }

    /// Starknet error 28.
    pub fn class_hash_not_found() -> Self {
        Self::new(28, "Class hash not found")
    }

    /// Starknet error 29.
    pub fn transaction_hash_not_found() -> Self {
        Self::new(29, "Transaction hash not found")
    }

    /// Starknet error 31.
    pub fn page_size_too_big() -> Self {
        Self::new(31, "Requested page size is too big")
    }

    /// Starknet error 33.
    pub fn invalid_continuation_token() -> Self {
        Self::new(33, "The supplied continuation token is invalid or unknown")
    }

    /// Starknet error 34.
    pub fn too_many_keys_in_filter() -> Self {
        Self::new(34, "Too many keys provided in a filter")
    }

    /// Starknet error 42, with the spec's data.
    pub fn storage_proof_not_supported() -> Self {
        Self::new(
            42,
            "the node doesn't support storage proofs for blocks that are too far in the past",
        )
    }

    /// Starknet error 66.
    pub fn invalid_subscription_id() -> Self {
        Self::new(66, "Invalid subscription id")
    }

    /// Starknet error 32 on the versions that still define it.
    pub fn no_blocks() -> Self {
        Self::new(32, "There are no blocks")
    }

    /// Starknet error 100 of the executables API, with the spec's
    /// `{"compilation_error": reason}` data.
    pub fn compilation_error(reason: impl Into<String>) -> Self {
        Self::new(100, "Failed to compile the contract")
            .with_data(serde_json::json!({ "compilation_error": reason.into() }))
    }
}

impl From<starling_storage::StorageError> for RpcError {
    fn from(error: starling_storage::StorageError) -> Self {
        tracing::error!(target: "rpc", %error, "storage read failed");
        Self::internal()
    }
}
