//! Recomputation of every hash a Starknet block claims: transaction hashes, the
//! transaction, event, receipt and state diff commitments, the block hash, and class and
//! compiled class hashes.
//!
//! The rules depend on the block's Starknet version ([`StarknetVersion`]) and, for Mainnet
//! blocks that report no version, on the block number. [`verify_block`] checks a whole
//! block against its header; the other functions compute single values.

mod block_hash;
mod class_hash;
mod commitment_tree;
mod commitments;
mod error;
mod state_diff_commitment;
mod transaction_hash;
mod transaction_hash_v3;
mod verify_block;
mod version;

#[cfg(test)]
mod recorded_tests;

pub use block_hash::{block_hash, BlockCommitments};
pub use class_hash::{
    cairo0_class_hash, compiled_class_hash, compiled_class_hash_with, sierra_class_hash,
    ClassHashError, CompiledClassHashVersion,
};
pub use commitments::{
    concatenated_counts, event_commitment, receipt_commitment, transaction_commitment,
};
pub use error::{HashMismatch, VerifyError};
pub use state_diff_commitment::{
    legacy_state_diff_commitment, state_diff_commitment, state_diff_length,
};
pub use transaction_hash::{transaction_hash, verify_transaction_hash, HashContext};
pub use verify_block::verify_block;
pub use version::{InvalidStarknetVersion, StarknetVersion};
