//! State shared by every request handler.

use starling_storage::Storage;

/// What handlers need: the database and the node's identity.
#[derive(Clone, Debug)]
pub struct RpcContext {
    pub storage: Storage,
    /// Returned by `juno_version`, such as `v0.1.0`.
    pub node_version: String,
}

impl RpcContext {
    pub fn new(storage: Storage) -> Self {
        Self {
            storage,
            node_version: format!("v{}", env!("CARGO_PKG_VERSION")),
        }
    }
}
