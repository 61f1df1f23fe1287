//! One module per JSON-RPC method.

pub mod block_hash_and_number;
pub mod block_number;
pub mod chain_id;
pub mod juno_version;
pub mod spec_version;
pub mod subscribe_new_heads;
pub mod unsubscribe;
