//! Spec-shaped JSON output: block headers, transactions, receipts, state updates and
//! classes, each built with exactly the fields of the requested spec version.
//!
//! Builders return `serde_json` maps, so a method can add the fields that belong to
//! it (a block's `transactions`, a receipt's `block_hash`) before it returns them.

mod class;
mod header;
mod receipt;
mod state_update;
mod transaction;

pub use class::{compiled_casm, contract_class};
pub use header::{block_fields, pending_block_fields, BlockHeaderV07, ResourcePrice};
pub use receipt::{l1_handler_message_hash, pre_confirmed_receipt_fields, receipt_fields};
pub use state_update::{state_diff, state_diff_length};
pub use transaction::{transaction_fields, transaction_with_hash, TxnResponseFlag};

use serde_json::{Map, Value};

use crate::version::Api;

/// The spec release whose shapes a response follows. The root path serves v0.7 shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpecVersion {
    V0_7,
    V0_8,
    V0_9,
    V0_10,
}

impl SpecVersion {
    pub fn of(api: Api) -> Self {
        match api {
            Api::Root | Api::V0_7 => SpecVersion::V0_7,
            Api::V0_8 => SpecVersion::V0_8,
            Api::V0_9 => SpecVersion::V0_9,
            Api::V0_10 => SpecVersion::V0_10,
        }
    }
}

/// Formats an integer as the spec's hex-string integers (`u64`, `u128`,
/// `NUM_AS_HEX`): `0x` and lowercase digits without leading zeros.
pub(crate) fn hex(value: impl std::fmt::LowerHex) -> String {
    format!("{value:#x}")
}

/// Unwraps the object that a `json!({...})` literal builds.
pub(crate) fn into_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => unreachable!("expected a JSON object literal, got {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_has_no_leading_zeros() {
        assert_eq!(hex(0u64), "0x0");
        assert_eq!(hex(0x0abcu64), "0xabc");
        assert_eq!(hex(u128::MAX), format!("0x{}", "f".repeat(32)));
    }

    #[test]
    fn root_path_uses_v0_7_shapes() {
        assert_eq!(SpecVersion::of(Api::Root), SpecVersion::V0_7);
        assert_eq!(SpecVersion::of(Api::V0_10), SpecVersion::V0_10);
        assert!(SpecVersion::V0_8 < SpecVersion::V0_9);
    }
}
