//! One module per JSON-RPC method.

pub mod block_hash_and_number;
pub mod block_number;
pub mod chain_id;
pub mod get_block_transaction_count;
pub mod get_block_with_receipts;
pub mod get_block_with_tx_hashes;
pub mod get_block_with_txs;
pub mod get_class;
pub mod get_class_at;
pub mod get_class_hash_at;
pub mod get_compiled_casm;
pub mod get_events;
pub mod get_nonce;
pub mod get_state_update;
pub mod get_storage_at;
pub mod get_storage_proof;
pub mod get_transaction_by_block_id_and_index;
pub mod get_transaction_by_hash;
pub mod get_transaction_receipt;
pub mod get_transaction_status;
pub mod juno_version;
pub mod spec_version;
pub mod subscribe_new_heads;
pub mod syncing;
pub mod unsubscribe;
