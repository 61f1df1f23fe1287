//! Errors of block verification.

use std::fmt;

use starling_storage::Felt;

use super::version::InvalidStarknetVersion;

/// A hash or commitment that a block claims and that recomputing it from the block's data
/// contradicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashMismatch {
    /// The checked value, such as `transaction 3 (0x1f…)` or `event commitment`.
    pub what: String,
    /// The value the block claims.
    pub expected: Felt,
    /// The value recomputed from the block's data.
    pub computed: Felt,
}

impl fmt::Display for HashMismatch {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} does not match its data: the block claims {:#x}, recomputing gives {:#x}",
            self.what, self.expected, self.computed
        )
    }
}

impl std::error::Error for HashMismatch {}

/// Reason a block failed verification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A hash or commitment differs from the value recomputed from the block.
    #[error(transparent)]
    Mismatch(#[from] HashMismatch),
    /// A count in the header differs from the block's contents.
    #[error(
        "{what} does not match the block: the header claims {claimed}, the block has {actual}"
    )]
    CountMismatch {
        what: &'static str,
        claimed: u64,
        actual: u64,
    },
    /// Receipt `index` belongs to another transaction than transaction `index`.
    #[error(
        "receipt {index} is for transaction {receipt_transaction:#x}, but transaction {index} \
         is {transaction:#x}"
    )]
    ReceiptOrder {
        index: usize,
        transaction: Felt,
        receipt_transaction: Felt,
    },
    /// A class definition or CASM cannot be hashed, for example because it is not the
    /// JSON shape of its kind.
    #[error("{what} cannot be hashed: {reason}")]
    Unhashable { what: String, reason: String },
    /// The header's `starknet_version` cannot be parsed, so no hash rule can be chosen.
    #[error(transparent)]
    InvalidVersion(#[from] InvalidStarknetVersion),
    /// A Starknet 0.13.2+ block hash needs the state diff commitment and length, and
    /// neither the header nor the caller supplied them.
    #[error(
        "block {block_number} (Starknet {version}) has no {field} in its header and no state \
         diff was passed, so its block hash cannot be computed; pass the block's state diff"
    )]
    MissingStateDiff {
        block_number: u64,
        version: String,
        field: &'static str,
    },
}
