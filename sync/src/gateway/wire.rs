//! Serde types for the JSON bodies of the Starknet feeder gateway (`/feeder_gateway/...`).
//!
//! | endpoint | type |
//! |---|---|
//! | `get_block?blockNumber=N` | [`Block`] |
//! | `get_state_update?blockNumber=N` | [`StateUpdate`] |
//! | `get_state_update?blockNumber=N&includeBlock=true` | [`StateUpdateWithBlock`] |
//! | the same for the `pending` block (gateways before Starknet 0.14.0) | [`PendingStateUpdateWithBlock`] |
//! | `get_preconfirmed_block` (Starknet 0.14.0 and later) | [`PreconfirmedBlock`] |
//! | `get_signature?blockNumber=N` | [`BlockSignature`] |
//! | any error reply | [`GatewayError`] |
//! | `get_class_by_hash` | kept as `serde_json::Value`, see [`class_kind`] |
//!
//! Parsing rules shared by every type:
//!
//! * Felts are read by [`felt_serde`]: hex strings with or without `0x`, in any case, with up to
//!   64 digits (so zero-padded values such as `"0000…"` work), or non-negative JSON integers.
//!   A string is always read as hex, never as decimal. Values at or above the Stark field prime
//!   are rejected.
//! * Unknown fields are ignored, because the gateway adds fields in new Starknet versions.
//!   Fields that older responses omit are `Option`s or default to zero or empty.
//! * `storage_diffs` and `nonces` are JSON objects keyed by contract address. They are read into
//!   vectors in the order the gateway sent them, because `serde_json::Map` sorts its keys unless
//!   the `preserve_order` feature is on.
//!
//! Every type also implements `Serialize`, so tools can write blocks in the gateway's shape.
//! Felts are written as lowercase `0x` hex. The output is not byte-for-byte what the gateway
//! sent: field order, absent-versus-default fields and number spelling can differ.
//! These types target self-describing formats such as JSON. [`Transaction`] buffers each
//! transaction as a `serde_json::Value` to dispatch on its `type` and `version`.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use starknet_types_core::felt::Felt;

// ---------------------------------------------------------------------------------------------
// Felt parsing
// ---------------------------------------------------------------------------------------------

/// Felt (de)serialization helpers for `#[serde(with = "...")]`.
///
/// Accepted input: a JSON string of 1 to 64 hex digits with an optional `0x` or `0X` prefix, or
/// a non-negative JSON integer. The value must be below the Stark field prime
/// p = 2^251 + 17·2^192 + 1. Output: a lowercase hex string with a `0x` prefix and no padding.
pub(crate) mod felt_serde {
    use std::fmt;

    use serde::de::{self, Deserialize, Deserializer, Visitor};
    use serde::ser::{Serialize, Serializer};
    use starknet_types_core::felt::Felt;

    /// Big-endian bytes of the Stark field prime p = 2^251 + 17·2^192 + 1.
    const PRIME_BE: [u8; 32] = [
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x01,
    ];

    /// Maximum number of hex digits: 64 digits are 256 bits, enough for any zero-padded felt.
    const MAX_HEX_DIGITS: usize = 64;

    /// Maximum number of characters of the offending input quoted in an error message.
    const MAX_QUOTED_CHARS: usize = 80;

    /// Reason a string is not a valid felt.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    pub enum FeltParseError {
        #[error("no hex digits")]
        Empty,
        #[error("invalid hex digit {character:?} at byte {position}")]
        InvalidDigit { character: char, position: usize },
        #[error("{digits} hex digits, more than the {MAX_HEX_DIGITS} that fit in 256 bits")]
        TooLong { digits: usize },
        #[error(
            "value is not below the Stark field prime \
             0x800000000000011000000000000000000000000000000000000000000000001"
        )]
        OutOfRange,
    }

    /// Parses a hex felt as the gateway spells it: optional `0x`/`0X`, any case, up to 64 digits.
    pub fn parse(text: &str) -> Result<Felt, FeltParseError> {
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        let prefix_len = text.len() - digits.len();

        if digits.is_empty() {
            return Err(FeltParseError::Empty);
        }
        if let Some((position, character)) = digits
            .char_indices()
            .find(|(_, character)| !character.is_ascii_hexdigit())
        {
            return Err(FeltParseError::InvalidDigit {
                character,
                position: prefix_len + position,
            });
        }
        if digits.len() > MAX_HEX_DIGITS {
            return Err(FeltParseError::TooLong {
                digits: digits.len(),
            });
        }

        // Fill the 32 big-endian bytes from the least significant digit, so that odd digit
        // counts and zero padding need no special case.
        let mut bytes = [0u8; 32];
        for (index, digit) in digits.bytes().rev().enumerate() {
            let nibble = char::from(digit)
                .to_digit(16)
                .expect("digits were checked to be ASCII hex above") as u8;
            bytes[31 - index / 2] |= nibble << (4 * (index % 2));
        }
        if bytes >= PRIME_BE {
            return Err(FeltParseError::OutOfRange);
        }
        Ok(Felt::from_bytes_be(&bytes))
    }

    /// Felt with the gateway's parsing rules, for use inside containers (`Vec`, `Option`, map keys).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct WireFelt(pub Felt);

    impl<'de> Deserialize<'de> for WireFelt {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(FeltVisitor).map(WireFelt)
        }
    }

    impl Serialize for WireFelt {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serialize(&self.0, serializer)
        }
    }

    struct FeltVisitor;

    impl Visitor<'_> for FeltVisitor {
        type Value = Felt;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a felt as a hex string or a non-negative JSON integer")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Felt, E> {
            parse(text).map_err(|error| {
                E::custom(format_args!("invalid felt \"{}\": {error}", quote(text)))
            })
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Felt, E> {
            Ok(Felt::from(value))
        }

        fn visit_u128<E: de::Error>(self, value: u128) -> Result<Felt, E> {
            Ok(Felt::from(value))
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Felt, E> {
            u64::try_from(value).map(Felt::from).map_err(|_| {
                E::custom(format_args!("invalid felt {value}: felts are not negative"))
            })
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<Felt, E> {
            // serde_json reports integers above u64::MAX as f64, which has lost precision.
            Err(E::custom(format_args!(
                "invalid felt {value}: a JSON number must be an integer below 2^64; \
                 larger felts must be sent as hex strings"
            )))
        }
    }

    /// Returns `text`, cut to [`MAX_QUOTED_CHARS`] characters so that errors stay short.
    fn quote(text: &str) -> String {
        match text.char_indices().nth(MAX_QUOTED_CHARS) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_owned(),
        }
    }

    pub fn serialize<S: Serializer>(felt: &Felt, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&felt.to_hex_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Felt, D::Error> {
        WireFelt::deserialize(deserializer).map(|felt| felt.0)
    }

    /// `Option<Felt>`: JSON `null` and (with `#[serde(default)]`) a missing field are `None`.
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            value: &Option<Felt>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            value.map(WireFelt).serialize(serializer)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Felt>, D::Error> {
            Ok(Option::<WireFelt>::deserialize(deserializer)?.map(|felt| felt.0))
        }
    }

    /// `Vec<Felt>` from a JSON array.
    pub mod vec {
        use super::*;

        pub fn serialize<S: Serializer>(values: &[Felt], serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(values.iter().copied().map(WireFelt))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<Felt>, D::Error> {
            let values = Vec::<WireFelt>::deserialize(deserializer)?;
            Ok(values.into_iter().map(|felt| felt.0).collect())
        }
    }

    /// `Option<Vec<Felt>>`: JSON `null` and (with `#[serde(default)]`) a missing field are `None`.
    pub mod option_vec {
        use super::*;

        pub fn serialize<S: Serializer>(
            values: &Option<Vec<Felt>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match values {
                Some(values) => serializer.serialize_some(&Wrapped(values)),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Vec<Felt>>, D::Error> {
            let values = Option::<Vec<WireFelt>>::deserialize(deserializer)?;
            Ok(values.map(|values| values.into_iter().map(|felt| felt.0).collect()))
        }

        struct Wrapped<'a>(&'a [Felt]);

        impl Serialize for Wrapped<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                super::vec::serialize(self.0, serializer)
            }
        }
    }
}

use felt_serde::WireFelt;

/// JSON objects keyed by contract address, read into vectors in the gateway's order.
///
/// A repeated address is rejected, because merging or dropping one of the entries would change
/// the state diff.
mod address_map {
    use std::collections::HashSet;
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
    use serde::ser::{Serialize, Serializer};
    use starknet_types_core::felt::Felt;

    use super::WireFelt;

    pub fn serialize<S: Serializer, V: Serialize>(
        entries: &[(Felt, V)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            entries
                .iter()
                .map(|(address, value)| (WireFelt(*address), value)),
        )
    }

    pub fn deserialize<'de, D, V>(deserializer: D) -> Result<Vec<(Felt, V)>, D::Error>
    where
        D: Deserializer<'de>,
        V: Deserialize<'de>,
    {
        deserializer.deserialize_map(AddressMapVisitor(PhantomData))
    }

    struct AddressMapVisitor<V>(PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for AddressMapVisitor<V> {
        type Value = Vec<(Felt, V)>;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a JSON object keyed by contract address")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::new();
            let mut seen = HashSet::new();
            while let Some(WireFelt(address)) = map.next_key()? {
                if !seen.insert(address) {
                    return Err(de::Error::custom(format_args!(
                        "duplicate contract address {address:#x}"
                    )));
                }
                entries.push((address, map.next_value()?));
            }
            Ok(entries)
        }
    }

    /// `nonces`: address -> nonce, where the nonce is a felt.
    pub mod nonces {
        use super::*;

        pub fn serialize<S: Serializer>(
            entries: &[(Felt, Felt)],
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            serializer.collect_map(
                entries
                    .iter()
                    .map(|(address, nonce)| (WireFelt(*address), WireFelt(*nonce))),
            )
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<(Felt, Felt)>, D::Error> {
            let entries: Vec<(Felt, WireFelt)> = super::deserialize(deserializer)?;
            Ok(entries
                .into_iter()
                .map(|(address, nonce)| (address, nonce.0))
                .collect())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------------------------

/// Block status as the gateway reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BlockStatus {
    #[serde(rename = "PENDING")]
    Pending,
    #[serde(rename = "ACCEPTED_ON_L2")]
    AcceptedOnL2,
    #[serde(rename = "ACCEPTED_ON_L1")]
    AcceptedOnL1,
    #[serde(rename = "REVERTED")]
    Reverted,
    #[serde(rename = "ABORTED")]
    Aborted,
    #[serde(rename = "PRE_CONFIRMED")]
    PreConfirmed,
}

impl fmt::Display for BlockStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Pending => "PENDING",
            Self::AcceptedOnL2 => "ACCEPTED_ON_L2",
            Self::AcceptedOnL1 => "ACCEPTED_ON_L1",
            Self::Reverted => "REVERTED",
            Self::Aborted => "ABORTED",
            Self::PreConfirmed => "PRE_CONFIRMED",
        };
        formatter.write_str(name)
    }
}

/// L1 data availability mode of a block (`l1_da_mode`): state diffs posted as calldata or blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum L1DataAvailabilityMode {
    #[serde(rename = "CALLDATA")]
    Calldata,
    #[serde(rename = "BLOB")]
    Blob,
}

/// Price of one unit of a resource, in wei (ETH) and in fri (STRK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePrice {
    #[serde(with = "felt_serde")]
    pub price_in_wei: Felt,
    #[serde(with = "felt_serde")]
    pub price_in_fri: Felt,
}

/// Reply of `get_block?blockNumber=N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    #[serde(with = "felt_serde")]
    pub block_hash: Felt,
    #[serde(with = "felt_serde")]
    pub parent_block_hash: Felt,
    pub block_number: u64,
    /// Global state root after this block. Early Mainnet blocks spell it without `0x`.
    #[serde(with = "felt_serde")]
    pub state_root: Felt,
    pub status: BlockStatus,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    /// Absent on the earliest Mainnet blocks (before Starknet 0.8.0).
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub sequencer_address: Option<Felt>,
    /// Single L1 gas price in wei, sent by older gateways in place of `l1_gas_price`.
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub gas_price: Option<Felt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_gas_price: Option<ResourcePrice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_data_gas_price: Option<ResourcePrice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2_gas_price: Option<ResourcePrice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_da_mode: Option<L1DataAvailabilityMode>,
    /// Absent on blocks before Starknet 0.9.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starknet_version: Option<String>,
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub transaction_commitment: Option<Felt>,
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub event_commitment: Option<Felt>,
    /// Starknet 0.13.2 and later.
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub receipt_commitment: Option<Felt>,
    /// Starknet 0.13.2 and later.
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub state_diff_commitment: Option<Felt>,
    /// Starknet 0.13.2 and later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_diff_length: Option<u64>,
    pub transactions: Vec<Transaction>,
    /// One receipt per transaction, in the same order.
    pub transaction_receipts: Vec<Receipt>,
}

/// The `pending` block served by gateways before Starknet 0.14.0.
///
/// It is a [`Block`] that is still open, so it has no hash, number, state root or commitments,
/// but it names its parent and has a receipt for every transaction. It is a separate type from
/// [`PreconfirmedBlock`], which has no parent hash, may hold `null` receipts and carries one
/// state diff per transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBlock {
    #[serde(with = "felt_serde")]
    pub parent_block_hash: Felt,
    pub status: BlockStatus,
    pub timestamp: u64,
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub sequencer_address: Option<Felt>,
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub gas_price: Option<Felt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_gas_price: Option<ResourcePrice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_data_gas_price: Option<ResourcePrice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2_gas_price: Option<ResourcePrice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_da_mode: Option<L1DataAvailabilityMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starknet_version: Option<String>,
    pub transactions: Vec<Transaction>,
    pub transaction_receipts: Vec<Receipt>,
}

/// Reply of `get_preconfirmed_block` (Starknet 0.14.0 and later): the block being built.
///
/// `transaction_receipts` and `transaction_state_diffs` run parallel to `transactions`. An entry
/// can be `null` for a transaction that has not been executed yet.
// NOTE: checked against full replies of Starknet 0.14.0 and 0.14.2 only. The `block_identifier`
// and `changed` fields suggest a shorter reply when the block has not changed. No such reply
// has been seen, and it may not parse as this type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreconfirmedBlock {
    pub status: BlockStatus,
    pub starknet_version: String,
    pub l1_gas_price: ResourcePrice,
    pub l1_data_gas_price: ResourcePrice,
    pub l2_gas_price: ResourcePrice,
    pub l1_da_mode: L1DataAvailabilityMode,
    pub timestamp: u64,
    #[serde(with = "felt_serde")]
    pub sequencer_address: Felt,
    pub transactions: Vec<Transaction>,
    pub transaction_receipts: Vec<Option<Receipt>>,
    /// State diff of each transaction alone, in the [`StateDiff`] shape.
    pub transaction_state_diffs: Vec<Option<StateDiff>>,
    /// Number the block will have. Sent by Starknet 0.14.2, absent in 0.14.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_number: Option<u64>,
    /// Hex string such as `"0x1cbe25d9"`, sent by Starknet 0.14.2. Kept as text because its
    /// format is not specified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
}

// ---------------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------------

/// Data availability mode of a v3 transaction's nonce or fee state. The gateway sends `0` for L1
/// and `1` for L2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataAvailabilityMode {
    L1,
    L2,
}

impl Serialize for DataAvailabilityMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::L1 => serializer.serialize_u8(0),
            Self::L2 => serializer.serialize_u8(1),
        }
    }
}

impl<'de> Deserialize<'de> for DataAvailabilityMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match u64::deserialize(deserializer)? {
            0 => Ok(Self::L1),
            1 => Ok(Self::L2),
            other => Err(de::Error::custom(format_args!(
                "invalid data availability mode {other}: expected 0 (L1) or 1 (L2)"
            ))),
        }
    }
}

/// Maximum amount and maximum price per unit of one resource in a v3 transaction.
///
/// The protocol limits `max_amount` to 64 bits and `max_price_per_unit` to 128 bits. Both are
/// kept as the felts the gateway sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceBounds {
    #[serde(with = "felt_serde")]
    pub max_amount: Felt,
    #[serde(with = "felt_serde")]
    pub max_price_per_unit: Felt,
}

/// `resource_bounds` of a v3 transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceBoundsMapping {
    #[serde(rename = "L1_GAS")]
    pub l1_gas: ResourceBounds,
    #[serde(rename = "L2_GAS")]
    pub l2_gas: ResourceBounds,
    /// Starknet 0.13.4 and later. `None` differs from a zero bound in the transaction hash.
    #[serde(
        rename = "L1_DATA_GAS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub l1_data_gas: Option<ResourceBounds>,
}

/// `INVOKE_FUNCTION` version 0x0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokeTransactionV0 {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    /// Called contract. Also accepted as `sender_address`, the name used since Starknet 0.11.0.
    #[serde(with = "felt_serde", alias = "sender_address")]
    pub contract_address: Felt,
    #[serde(with = "felt_serde")]
    pub entry_point_selector: Felt,
    #[serde(with = "felt_serde::vec")]
    pub calldata: Vec<Felt>,
    /// Read as empty when absent.
    #[serde(default, with = "felt_serde::vec")]
    pub signature: Vec<Felt>,
    /// Read as zero when absent.
    #[serde(default, with = "felt_serde")]
    pub max_fee: Felt,
}

/// `INVOKE_FUNCTION` version 0x1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokeTransactionV1 {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    #[serde(with = "felt_serde")]
    pub sender_address: Felt,
    #[serde(with = "felt_serde::vec")]
    pub calldata: Vec<Felt>,
    #[serde(with = "felt_serde::vec")]
    pub signature: Vec<Felt>,
    #[serde(with = "felt_serde")]
    pub max_fee: Felt,
    #[serde(with = "felt_serde")]
    pub nonce: Felt,
}

/// `INVOKE_FUNCTION` version 0x3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokeTransactionV3 {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    #[serde(with = "felt_serde")]
    pub sender_address: Felt,
    #[serde(with = "felt_serde::vec")]
    pub calldata: Vec<Felt>,
    #[serde(with = "felt_serde::vec")]
    pub signature: Vec<Felt>,
    #[serde(with = "felt_serde")]
    pub nonce: Felt,
    pub resource_bounds: ResourceBoundsMapping,
    #[serde(with = "felt_serde")]
    pub tip: Felt,
    #[serde(with = "felt_serde::vec")]
    pub paymaster_data: Vec<Felt>,
    pub nonce_data_availability_mode: DataAvailabilityMode,
    pub fee_data_availability_mode: DataAvailabilityMode,
    #[serde(with = "felt_serde::vec")]
    pub account_deployment_data: Vec<Felt>,
    /// Starknet 0.14.1 and later. `None` when the gateway omits the field, `Some(vec![])` when
    /// it sends an empty list.
    #[serde(
        default,
        with = "felt_serde::option_vec",
        skip_serializing_if = "Option::is_none"
    )]
    pub proof_facts: Option<Vec<Felt>>,
}

/// `DECLARE` version 0x0 (Cairo 0 class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclareTransactionV0 {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    #[serde(with = "felt_serde")]
    pub sender_address: Felt,
    #[serde(with = "felt_serde")]
    pub class_hash: Felt,
    #[serde(with = "felt_serde")]
    pub max_fee: Felt,
    /// Read as zero when absent.
    #[serde(default, with = "felt_serde")]
    pub nonce: Felt,
    #[serde(default, with = "felt_serde::vec")]
    pub signature: Vec<Felt>,
}

/// `DECLARE` version 0x1 (Cairo 0 class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclareTransactionV1 {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    #[serde(with = "felt_serde")]
    pub sender_address: Felt,
    #[serde(with = "felt_serde")]
    pub class_hash: Felt,
    #[serde(with = "felt_serde")]
    pub max_fee: Felt,
    #[serde(with = "felt_serde")]
    pub nonce: Felt,
    #[serde(with = "felt_serde::vec")]
    pub signature: Vec<Felt>,
}

/// `DECLARE` version 0x2 (Sierra class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclareTransactionV2 {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    #[serde(with = "felt_serde")]
    pub sender_address: Felt,
    #[serde(with = "felt_serde")]
    pub class_hash: Felt,
    #[serde(with = "felt_serde")]
    pub compiled_class_hash: Felt,
    #[serde(with = "felt_serde")]
    pub max_fee: Felt,
    #[serde(with = "felt_serde")]
    pub nonce: Felt,
    #[serde(with = "felt_serde::vec")]
    pub signature: Vec<Felt>,
}

/// `DECLARE` version 0x3 (Sierra class).
// NOTE: not yet checked against a real gateway reply. The fields follow the v3 transaction of
// the Starknet spec with the gateway's spelling, as modelled in Pathfinder's gateway types
// (eqlabs/pathfinder, crates/gateway-types/src/reply.rs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclareTransactionV3 {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    #[serde(with = "felt_serde")]
    pub sender_address: Felt,
    #[serde(with = "felt_serde")]
    pub class_hash: Felt,
    #[serde(with = "felt_serde")]
    pub compiled_class_hash: Felt,
    #[serde(with = "felt_serde::vec")]
    pub signature: Vec<Felt>,
    #[serde(with = "felt_serde")]
    pub nonce: Felt,
    pub resource_bounds: ResourceBoundsMapping,
    #[serde(with = "felt_serde")]
    pub tip: Felt,
    #[serde(with = "felt_serde::vec")]
    pub paymaster_data: Vec<Felt>,
    pub nonce_data_availability_mode: DataAvailabilityMode,
    pub fee_data_availability_mode: DataAvailabilityMode,
    #[serde(with = "felt_serde::vec")]
    pub account_deployment_data: Vec<Felt>,
}

/// `DEPLOY` (removed in Starknet 0.11.0, still present in old blocks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployTransaction {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    /// 0x0 or 0x1. The version enters the transaction hash, so it is kept. Read as 0x0 when absent.
    #[serde(default, with = "felt_serde")]
    pub version: Felt,
    #[serde(with = "felt_serde")]
    pub contract_address: Felt,
    #[serde(with = "felt_serde")]
    pub contract_address_salt: Felt,
    #[serde(with = "felt_serde")]
    pub class_hash: Felt,
    #[serde(with = "felt_serde::vec")]
    pub constructor_calldata: Vec<Felt>,
}

/// `DEPLOY_ACCOUNT` version 0x1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployAccountTransactionV1 {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    /// Address of the new account.
    #[serde(with = "felt_serde")]
    pub contract_address: Felt,
    #[serde(with = "felt_serde")]
    pub contract_address_salt: Felt,
    #[serde(with = "felt_serde")]
    pub class_hash: Felt,
    #[serde(with = "felt_serde::vec")]
    pub constructor_calldata: Vec<Felt>,
    #[serde(with = "felt_serde")]
    pub max_fee: Felt,
    #[serde(with = "felt_serde")]
    pub nonce: Felt,
    #[serde(with = "felt_serde::vec")]
    pub signature: Vec<Felt>,
}

/// `DEPLOY_ACCOUNT` version 0x3.
// NOTE: not yet checked against a real gateway reply. The fields follow the v3 transaction of
// the Starknet spec with the gateway's spelling, as modelled in Pathfinder's gateway types
// (eqlabs/pathfinder, crates/gateway-types/src/reply.rs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployAccountTransactionV3 {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    /// Address of the new account. Version 0x1 calls this field `contract_address`.
    #[serde(with = "felt_serde")]
    pub sender_address: Felt,
    #[serde(with = "felt_serde")]
    pub contract_address_salt: Felt,
    #[serde(with = "felt_serde")]
    pub class_hash: Felt,
    #[serde(with = "felt_serde::vec")]
    pub constructor_calldata: Vec<Felt>,
    #[serde(with = "felt_serde::vec")]
    pub signature: Vec<Felt>,
    #[serde(with = "felt_serde")]
    pub nonce: Felt,
    pub resource_bounds: ResourceBoundsMapping,
    #[serde(with = "felt_serde")]
    pub tip: Felt,
    #[serde(with = "felt_serde::vec")]
    pub paymaster_data: Vec<Felt>,
    pub nonce_data_availability_mode: DataAvailabilityMode,
    pub fee_data_availability_mode: DataAvailabilityMode,
}

/// `L1_HANDLER`: a message from L1 executed on L2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct L1HandlerTransaction {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    /// Only 0x0 is accepted. Read as 0x0 when absent.
    #[serde(default, with = "felt_serde")]
    pub version: Felt,
    #[serde(with = "felt_serde")]
    pub contract_address: Felt,
    #[serde(with = "felt_serde")]
    pub entry_point_selector: Felt,
    /// The first calldata element is the L1 sender address.
    #[serde(with = "felt_serde::vec")]
    pub calldata: Vec<Felt>,
    /// L1 message nonce. `None` when the gateway omits it.
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub nonce: Option<Felt>,
}

const INVOKE_FUNCTION: &str = "INVOKE_FUNCTION";
const DECLARE: &str = "DECLARE";
const DEPLOY: &str = "DEPLOY";
const DEPLOY_ACCOUNT: &str = "DEPLOY_ACCOUNT";
const L1_HANDLER: &str = "L1_HANDLER";

/// A transaction of a block, selected by the gateway's `type` and `version` fields.
///
/// A missing `version` means 0x0. An unknown `type`, or a `version` that the type does not have,
/// is a deserialization error that names the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transaction {
    InvokeV0(InvokeTransactionV0),
    InvokeV1(InvokeTransactionV1),
    InvokeV3(InvokeTransactionV3),
    DeclareV0(DeclareTransactionV0),
    DeclareV1(DeclareTransactionV1),
    DeclareV2(DeclareTransactionV2),
    DeclareV3(DeclareTransactionV3),
    Deploy(DeployTransaction),
    DeployAccountV1(DeployAccountTransactionV1),
    DeployAccountV3(DeployAccountTransactionV3),
    L1Handler(L1HandlerTransaction),
}

impl Transaction {
    /// Returns the `transaction_hash` the gateway sent (it is not recomputed here).
    pub fn hash(&self) -> Felt {
        match self {
            Self::InvokeV0(tx) => tx.transaction_hash,
            Self::InvokeV1(tx) => tx.transaction_hash,
            Self::InvokeV3(tx) => tx.transaction_hash,
            Self::DeclareV0(tx) => tx.transaction_hash,
            Self::DeclareV1(tx) => tx.transaction_hash,
            Self::DeclareV2(tx) => tx.transaction_hash,
            Self::DeclareV3(tx) => tx.transaction_hash,
            Self::Deploy(tx) => tx.transaction_hash,
            Self::DeployAccountV1(tx) => tx.transaction_hash,
            Self::DeployAccountV3(tx) => tx.transaction_hash,
            Self::L1Handler(tx) => tx.transaction_hash,
        }
    }

    /// Returns the gateway's `type` string, such as `"INVOKE_FUNCTION"`.
    pub fn transaction_type(&self) -> &'static str {
        match self {
            Self::InvokeV0(_) | Self::InvokeV1(_) | Self::InvokeV3(_) => INVOKE_FUNCTION,
            Self::DeclareV0(_) | Self::DeclareV1(_) | Self::DeclareV2(_) | Self::DeclareV3(_) => {
                DECLARE
            }
            Self::Deploy(_) => DEPLOY,
            Self::DeployAccountV1(_) | Self::DeployAccountV3(_) => DEPLOY_ACCOUNT,
            Self::L1Handler(_) => L1_HANDLER,
        }
    }

    /// Returns the transaction version.
    pub fn version(&self) -> Felt {
        match self {
            Self::InvokeV0(_) | Self::DeclareV0(_) => Felt::ZERO,
            Self::InvokeV1(_) | Self::DeclareV1(_) | Self::DeployAccountV1(_) => Felt::ONE,
            Self::DeclareV2(_) => Felt::TWO,
            Self::InvokeV3(_) | Self::DeclareV3(_) | Self::DeployAccountV3(_) => Felt::THREE,
            Self::Deploy(tx) => tx.version,
            Self::L1Handler(tx) => tx.version,
        }
    }

    /// Selects the variant from `type` and `version`, then decodes the whole object into it.
    fn from_json_value(value: Value) -> Result<Self, String> {
        let Value::Object(fields) = &value else {
            return Err(format!(
                "invalid transaction: expected a JSON object, got {}",
                json_type_name(&value)
            ));
        };
        let transaction_type = match fields.get("type") {
            Some(Value::String(name)) => name.clone(),
            Some(other) => {
                return Err(format!(
                    "invalid transaction: field `type` must be a string, got {}",
                    json_type_name(other)
                ))
            }
            None => return Err("invalid transaction: missing field `type`".to_owned()),
        };
        let version = match fields.get("version") {
            None => Felt::ZERO,
            Some(raw) => felt_serde::deserialize(raw).map_err(|error| {
                format!("invalid {transaction_type} transaction: field `version`: {error}")
            })?,
        };
        let context = DecodeContext {
            transaction_type: &transaction_type,
            version,
            hash: fields.get("transaction_hash").and_then(Value::as_str),
        };

        let version_number = u8::try_from(version).ok();
        let transaction = match (transaction_type.as_str(), version_number) {
            (INVOKE_FUNCTION, Some(0)) => Self::InvokeV0(context.decode(&value)?),
            (INVOKE_FUNCTION, Some(1)) => Self::InvokeV1(context.decode(&value)?),
            (INVOKE_FUNCTION, Some(3)) => Self::InvokeV3(context.decode(&value)?),
            (DECLARE, Some(0)) => Self::DeclareV0(context.decode(&value)?),
            (DECLARE, Some(1)) => Self::DeclareV1(context.decode(&value)?),
            (DECLARE, Some(2)) => Self::DeclareV2(context.decode(&value)?),
            (DECLARE, Some(3)) => Self::DeclareV3(context.decode(&value)?),
            (DEPLOY, Some(0 | 1)) => Self::Deploy(context.decode(&value)?),
            (DEPLOY_ACCOUNT, Some(1)) => Self::DeployAccountV1(context.decode(&value)?),
            (DEPLOY_ACCOUNT, Some(3)) => Self::DeployAccountV3(context.decode(&value)?),
            (L1_HANDLER, Some(0)) => Self::L1Handler(context.decode(&value)?),
            (known_type, _) => {
                let supported = match known_type {
                    INVOKE_FUNCTION => "0x0, 0x1 or 0x3",
                    DECLARE => "0x0, 0x1, 0x2 or 0x3",
                    DEPLOY => "0x0 or 0x1",
                    DEPLOY_ACCOUNT => "0x1 or 0x3",
                    L1_HANDLER => "0x0",
                    unknown_type => {
                        return Err(format!(
                            "unknown transaction type \"{unknown_type}\": expected \
                             INVOKE_FUNCTION, DECLARE, DEPLOY, DEPLOY_ACCOUNT or L1_HANDLER"
                        ))
                    }
                };
                return Err(format!(
                    "unsupported {known_type} transaction version {version:#x}{}: \
                     expected {supported}",
                    context.hash_suffix()
                ));
            }
        };
        Ok(transaction)
    }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Type, version and hash of the transaction being decoded, for error messages.
struct DecodeContext<'a> {
    transaction_type: &'a str,
    version: Felt,
    hash: Option<&'a str>,
}

impl DecodeContext<'_> {
    fn decode<T: DeserializeOwned>(&self, value: &Value) -> Result<T, String> {
        T::deserialize(value).map_err(|error| {
            format!(
                "invalid {} v{:#x} transaction{}: {error}",
                self.transaction_type,
                self.version,
                self.hash_suffix()
            )
        })
    }

    fn hash_suffix(&self) -> String {
        self.hash.map(|hash| format!(" {hash}")).unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for Transaction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_json_value(value).map_err(de::Error::custom)
    }
}

impl Serialize for Transaction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // DEPLOY and L1_HANDLER bodies carry their own `version` field.
        let version = match self {
            Self::Deploy(_) | Self::L1Handler(_) => None,
            _ => Some(self.version()),
        };
        let transaction_type = self.transaction_type();
        match self {
            Self::InvokeV0(body) => tagged(transaction_type, version, body, serializer),
            Self::InvokeV1(body) => tagged(transaction_type, version, body, serializer),
            Self::InvokeV3(body) => tagged(transaction_type, version, body, serializer),
            Self::DeclareV0(body) => tagged(transaction_type, version, body, serializer),
            Self::DeclareV1(body) => tagged(transaction_type, version, body, serializer),
            Self::DeclareV2(body) => tagged(transaction_type, version, body, serializer),
            Self::DeclareV3(body) => tagged(transaction_type, version, body, serializer),
            Self::Deploy(body) => tagged(transaction_type, version, body, serializer),
            Self::DeployAccountV1(body) => tagged(transaction_type, version, body, serializer),
            Self::DeployAccountV3(body) => tagged(transaction_type, version, body, serializer),
            Self::L1Handler(body) => tagged(transaction_type, version, body, serializer),
        }
    }
}

/// Transaction body with the gateway's `type` and `version` fields added in front.
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    transaction_type: &'static str,
    #[serde(with = "felt_serde::option", skip_serializing_if = "Option::is_none")]
    version: Option<Felt>,
    #[serde(flatten)]
    body: &'a T,
}

fn tagged<S: Serializer, T: Serialize>(
    transaction_type: &'static str,
    version: Option<Felt>,
    body: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    Tagged {
        transaction_type,
        version,
        body,
    }
    .serialize(serializer)
}

// ---------------------------------------------------------------------------------------------
// Receipts
// ---------------------------------------------------------------------------------------------

/// Execution outcome of a transaction (`execution_status`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExecutionStatus {
    /// Also the value for receipts without the field, which older gateways send for blocks from
    /// before reverted transactions existed.
    #[default]
    #[serde(rename = "SUCCEEDED")]
    Succeeded,
    #[serde(rename = "REVERTED")]
    Reverted,
}

/// Receipt of one transaction, as listed in `transaction_receipts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    #[serde(with = "felt_serde")]
    pub transaction_hash: Felt,
    /// Position of the transaction in its block.
    pub transaction_index: u64,
    /// Fee charged, in the unit of the transaction's fee token. Read as zero when absent.
    #[serde(default, with = "felt_serde")]
    pub actual_fee: Felt,
    #[serde(default)]
    pub execution_status: ExecutionStatus,
    /// Set when `execution_status` is `REVERTED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert_error: Option<String>,
    #[serde(default)]
    pub events: Vec<Event>,
    #[serde(default)]
    pub l2_to_l1_messages: Vec<L2ToL1Message>,
    /// The L1 message an `L1_HANDLER` transaction consumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_to_l2_consumed_message: Option<L1ToL2Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_resources: Option<ExecutionResources>,
}

/// Event emitted by a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(with = "felt_serde")]
    pub from_address: Felt,
    #[serde(with = "felt_serde::vec")]
    pub keys: Vec<Felt>,
    #[serde(with = "felt_serde::vec")]
    pub data: Vec<Felt>,
}

/// Message sent from an L2 contract to L1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct L2ToL1Message {
    #[serde(with = "felt_serde")]
    pub from_address: Felt,
    /// Ethereum address, which the gateway writes in mixed-case checksum form.
    #[serde(with = "felt_serde")]
    pub to_address: Felt,
    #[serde(with = "felt_serde::vec")]
    pub payload: Vec<Felt>,
}

/// Message sent from L1 to an L2 contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct L1ToL2Message {
    /// Ethereum address, which the gateway writes in mixed-case checksum form.
    #[serde(with = "felt_serde")]
    pub from_address: Felt,
    #[serde(with = "felt_serde")]
    pub to_address: Felt,
    #[serde(with = "felt_serde")]
    pub selector: Felt,
    #[serde(with = "felt_serde::vec")]
    pub payload: Vec<Felt>,
    /// `None` when the gateway omits it.
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub nonce: Option<Felt>,
}

/// Cairo VM resources a transaction used, and its gas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionResources {
    pub n_steps: u64,
    #[serde(default)]
    pub n_memory_holes: u64,
    #[serde(default)]
    pub builtin_instance_counter: BuiltinInstanceCounter,
    /// Gas for publishing the transaction's state diff (Starknet 0.13.1 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_availability: Option<GasVector>,
    /// All gas the transaction consumed (Starknet 0.13.2 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_gas_consumed: Option<GasVector>,
}

/// Number of instances of each builtin a transaction used. The gateway omits unused builtins,
/// and those read as zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BuiltinInstanceCounter {
    pub pedersen_builtin: u64,
    pub range_check_builtin: u64,
    pub bitwise_builtin: u64,
    pub output_builtin: u64,
    pub ecdsa_builtin: u64,
    pub ec_op_builtin: u64,
    pub keccak_builtin: u64,
    pub poseidon_builtin: u64,
    pub segment_arena_builtin: u64,
    pub add_mod_builtin: u64,
    pub mul_mod_builtin: u64,
    pub range_check96_builtin: u64,
}

/// Gas amounts per resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GasVector {
    pub l1_gas: u64,
    pub l1_data_gas: u64,
    /// Starknet 0.13.4 and later. Read as zero when absent.
    #[serde(default)]
    pub l2_gas: u64,
}

// ---------------------------------------------------------------------------------------------
// State updates
// ---------------------------------------------------------------------------------------------

/// Reply of `get_state_update?blockNumber=N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateUpdate {
    /// Absent on the pending block.
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub block_hash: Option<Felt>,
    /// State root after the block. Absent on the pending block.
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub new_root: Option<Felt>,
    /// State root before the block.
    #[serde(with = "felt_serde")]
    pub old_root: Felt,
    pub state_diff: StateDiff,
}

/// Changes a block (or, in [`PreconfirmedBlock`], one transaction) made to the global state.
///
/// `storage_diffs` and `deployed_contracts` are required. The other lists read as empty when
/// absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDiff {
    /// Storage writes per contract address, in the gateway's order.
    #[serde(with = "address_map")]
    pub storage_diffs: Vec<(Felt, Vec<StorageEntry>)>,
    /// New nonce per contract address, in the gateway's order.
    #[serde(default, with = "address_map::nonces")]
    pub nonces: Vec<(Felt, Felt)>,
    pub deployed_contracts: Vec<DeployedContract>,
    /// Contracts whose class changed (`replace_class` syscall).
    #[serde(default)]
    pub replaced_classes: Vec<DeployedContract>,
    /// Sierra classes declared in the block.
    #[serde(default)]
    pub declared_classes: Vec<DeclaredClass>,
    /// Cairo 0 class hashes declared in the block.
    #[serde(default, with = "felt_serde::vec")]
    pub old_declared_contracts: Vec<Felt>,
    /// Sierra classes whose compiled class hash was recomputed (Starknet 0.14.1 and later).
    #[serde(default)]
    pub migrated_compiled_classes: Vec<DeclaredClass>,
}

/// New value of one storage key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageEntry {
    #[serde(with = "felt_serde")]
    pub key: Felt,
    #[serde(with = "felt_serde")]
    pub value: Felt,
}

/// Contract address with its class hash, used for deployed and replaced classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedContract {
    #[serde(with = "felt_serde")]
    pub address: Felt,
    #[serde(with = "felt_serde")]
    pub class_hash: Felt,
}

/// Sierra class hash with the hash of its compiled (CASM) class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredClass {
    #[serde(with = "felt_serde")]
    pub class_hash: Felt,
    #[serde(with = "felt_serde")]
    pub compiled_class_hash: Felt,
}

/// Reply of `get_state_update?blockNumber=N&includeBlock=true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateUpdateWithBlock {
    pub block: Block,
    pub state_update: StateUpdate,
    /// Block signature, sent by some gateway versions.
    #[serde(
        default,
        with = "felt_serde::option_vec",
        skip_serializing_if = "Option::is_none"
    )]
    pub signature: Option<Vec<Felt>>,
}

/// Reply of `get_state_update?blockNumber=pending&includeBlock=true` (before Starknet 0.14.0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingStateUpdateWithBlock {
    pub block: PendingBlock,
    pub state_update: StateUpdate,
}

// ---------------------------------------------------------------------------------------------
// Signatures, errors, classes
// ---------------------------------------------------------------------------------------------

/// Reply of `get_signature?blockNumber=N`: the sequencer's signature over a block.
///
/// Three shapes occur: `{block_hash, signature}`,
/// `{block_number, signature, signature_input: {block_hash, state_diff_commitment}}`, and
/// `{block_number, signature}` without any block hash (seen for Mainnet block 21656).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockSignature {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_number: Option<u64>,
    /// Top-level `block_hash`. [`BlockSignature::block_hash()`] also reads `signature_input`.
    #[serde(
        default,
        with = "felt_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub block_hash: Option<Felt>,
    /// ECDSA signature as the (r, s) pair.
    #[serde(with = "felt_serde::vec")]
    pub signature: Vec<Felt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_input: Option<SignatureInput>,
}

/// Values the signature in the `signature_input` shape of [`BlockSignature`] signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureInput {
    #[serde(with = "felt_serde")]
    pub block_hash: Felt,
    #[serde(with = "felt_serde")]
    pub state_diff_commitment: Felt,
}

impl BlockSignature {
    /// Returns the top-level `block_hash`, else `signature_input.block_hash`, else `None`.
    pub fn block_hash(&self) -> Option<Felt> {
        self.block_hash
            .or_else(|| self.signature_input.map(|input| input.block_hash))
    }
}

/// Error body of a failed gateway request, such as
/// `{"code": "StarknetErrorCode.BLOCK_NOT_FOUND", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("feeder gateway error {code}: {message}")]
pub struct GatewayError {
    pub code: String,
    pub message: String,
}

impl GatewayError {
    /// Code for a block number or hash the gateway does not have (yet).
    pub const BLOCK_NOT_FOUND: &'static str = "StarknetErrorCode.BLOCK_NOT_FOUND";
    /// Code for a class hash the gateway does not have.
    pub const UNDECLARED_CLASS: &'static str = "StarknetErrorCode.UNDECLARED_CLASS";

    pub fn is_block_not_found(&self) -> bool {
        self.code == Self::BLOCK_NOT_FOUND
    }

    pub fn is_undeclared_class(&self) -> bool {
        self.code == Self::UNDECLARED_CLASS
    }
}

/// Kind of a class definition returned by `get_class_by_hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClassKind {
    /// Cairo 0 (deprecated) class with a `program` field.
    Cairo0,
    /// Cairo 1+ class with a `sierra_program` field.
    Sierra,
}

/// Returns the kind of a class definition, or `None` for JSON that is neither kind (for example
/// a compiled CASM class).
pub fn class_kind(json: &Value) -> Option<ClassKind> {
    let fields = json.as_object()?;
    if fields.contains_key("sierra_program") {
        Some(ClassKind::Sierra)
    } else if fields.contains_key("program") {
        Some(ClassKind::Cairo0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;
    use std::path::Path;

    use serde::de::DeserializeOwned;
    use serde_json::json;

    use super::felt_serde::FeltParseError;
    use super::*;

    // -----------------------------------------------------------------------------------------
    // Recorded replies
    // -----------------------------------------------------------------------------------------

    use crate::testdata::recordings_dir;

    fn read_text(dir: &Path, relative: &str) -> String {
        let path = dir.join(relative);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()))
    }

    fn parse_file<T: DeserializeOwned>(dir: &Path, relative: &str) -> T {
        serde_json::from_str(&read_text(dir, relative)).unwrap_or_else(|error| {
            panic!(
                "failed to parse {relative} as {}: {error}",
                std::any::type_name::<T>()
            )
        })
    }

    /// Returns the paths, relative to `dir` and sorted, of all `.json` files whose parent folder
    /// has one of `folder_names`.
    fn recordings_in(dir: &Path, folder_names: &[&str]) -> Vec<String> {
        fn walk(folder: &Path, root: &Path, folder_names: &[&str], found: &mut Vec<String>) {
            let entries = std::fs::read_dir(folder)
                .unwrap_or_else(|error| panic!("failed to list {}: {error}", folder.display()));
            for entry in entries {
                let path = entry
                    .unwrap_or_else(|error| panic!("failed to list {}: {error}", folder.display()))
                    .path();
                if path.is_dir() {
                    walk(&path, root, folder_names, found);
                    continue;
                }
                let parent_name = path
                    .parent()
                    .and_then(Path::file_name)
                    .and_then(|name| name.to_str());
                let is_json = path
                    .extension()
                    .is_some_and(|extension| extension == "json");
                if is_json && parent_name.is_some_and(|name| folder_names.contains(&name)) {
                    let relative = path.strip_prefix(root).expect("walk stays under the root");
                    found.push(relative.to_string_lossy().into_owned());
                }
            }
        }

        let mut found = Vec::new();
        walk(dir, dir, folder_names, &mut found);
        found.sort();
        found
    }

    /// Returns whether a file is in the `includeBlock=true` shape, judged by its top-level keys.
    fn has_block_and_state_update(dir: &Path, relative: &str) -> bool {
        let value: Value = parse_file(dir, relative);
        value.get("block").is_some() && value.get("state_update").is_some()
    }

    /// Reads the block of a `get_block` or an `includeBlock=true` recording.
    fn load_block(dir: &Path, relative: &str) -> Block {
        if has_block_and_state_update(dir, relative) {
            parse_file::<StateUpdateWithBlock>(dir, relative).block
        } else {
            parse_file(dir, relative)
        }
    }

    fn felt(hex: &str) -> Felt {
        Felt::from_hex(hex).unwrap_or_else(|error| panic!("invalid test constant {hex}: {error}"))
    }

    /// Checks that receipt `i` belongs to transaction `i`. A `None` receipt (not executed yet)
    /// is skipped.
    fn assert_receipts_match<'a>(
        file: &str,
        transactions: &[Transaction],
        receipts: impl ExactSizeIterator<Item = Option<&'a Receipt>>,
    ) {
        assert_eq!(
            transactions.len(),
            receipts.len(),
            "{file}: transaction and receipt counts differ"
        );
        for (index, (transaction, receipt)) in transactions.iter().zip(receipts).enumerate() {
            let Some(receipt) = receipt else { continue };
            assert_eq!(
                receipt.transaction_hash,
                transaction.hash(),
                "{file}: receipt {index} is for another transaction"
            );
            assert_eq!(
                receipt.transaction_index, index as u64,
                "{file}: receipt {index} has the wrong transaction_index"
            );
        }
    }

    fn round_trip<T>(dir: &Path, relative: &str)
    where
        T: Serialize + DeserializeOwned + PartialEq + Debug,
    {
        let parsed: T = parse_file(dir, relative);
        let written = serde_json::to_string(&parsed)
            .unwrap_or_else(|error| panic!("failed to serialize {relative}: {error}"));
        let reparsed: T = serde_json::from_str(&written)
            .unwrap_or_else(|error| panic!("failed to reparse serialized {relative}: {error}"));
        assert_eq!(
            parsed, reparsed,
            "{relative} changed in a serialize round trip"
        );
    }

    /// Values of one recorded block, checked against the parsed block.
    struct KnownBlock {
        file: &'static str,
        number: u64,
        hash: &'static str,
        parent: &'static str,
        state_root: &'static str,
        version: Option<&'static str>,
        transactions: usize,
    }

    #[rustfmt::skip]
    const KNOWN_BLOCKS: &[KnownBlock] = &[
        KnownBlock { file: "sepolia/block/0.json", number: 0, hash: "0x5c627d4aeb51280058bed93c7889bce78114d63baad1be0f0aeb32496d5f19c", parent: "0x0", state_root: "0xe005205a1327f3dff98074e528f7b96f30e0624a1dfcf571bdc81948d150a0", version: Some("0.12.3"), transactions: 7 },
        KnownBlock { file: "sepolia/block/1.json", number: 1, hash: "0x78b67b11f8c23850041e11fb0f3b39db0bcb2c99d756d5a81321d1b483d79f6", parent: "0x5c627d4aeb51280058bed93c7889bce78114d63baad1be0f0aeb32496d5f19c", state_root: "0xe005205a1327f3dff98074e528f7b96f30e0624a1dfcf571bdc81948d150a0", version: Some("0.12.3"), transactions: 1 },
        KnownBlock { file: "sepolia/block/2.json", number: 2, hash: "0x7a906dfd1ff77a121b8048e6f750cda9e949d341c4487d4c6a449f183f0e61d", parent: "0x78b67b11f8c23850041e11fb0f3b39db0bcb2c99d756d5a81321d1b483d79f6", state_root: "0xe005205a1327f3dff98074e528f7b96f30e0624a1dfcf571bdc81948d150a0", version: Some("0.12.3"), transactions: 1 },
        KnownBlock { file: "sepolia/block/3.json", number: 3, hash: "0x37644818236ee05b7e3b180bed64ea70ee3dd1553ca334a5c2a290ee276f380", parent: "0x7a906dfd1ff77a121b8048e6f750cda9e949d341c4487d4c6a449f183f0e61d", state_root: "0x1801be8c1f95003d643eb1601adad68585bae7536b7f28f7f3bd600adc39082", version: Some("0.12.3"), transactions: 2 },
        KnownBlock { file: "sepolia/block/4.json", number: 4, hash: "0x445152a69e628774b0f78a952e6f9ba0ffcda1374724b314140928fd2f31f4c", parent: "0x37644818236ee05b7e3b180bed64ea70ee3dd1553ca334a5c2a290ee276f380", state_root: "0xe290a369aa37fb11008ffea52cf207cd5e2a66fed9ad4e551aa46ec0ed58b", version: Some("0.12.3"), transactions: 4 },
        KnownBlock { file: "sepolia/block/5.json", number: 5, hash: "0x13b390a0b2c48f907cda28c73a12aa31b96d51bc1be004ba5f71174d8d70e4f", parent: "0x445152a69e628774b0f78a952e6f9ba0ffcda1374724b314140928fd2f31f4c", state_root: "0x79c232ec00890309f011037762ed19439ce50c2245ed8934c48e737bcb4f7f0", version: Some("0.12.3"), transactions: 2 },
        KnownBlock { file: "sepolia/block/6.json", number: 6, hash: "0x7e16179ff54fa8bb1533fe2eea930e9e2bd658faaf9972533c9d3a9303171fc", parent: "0x13b390a0b2c48f907cda28c73a12aa31b96d51bc1be004ba5f71174d8d70e4f", state_root: "0x2729a9ded030fa182a4802b9accf662d071d23fdfb2011504d1777927c9abaf", version: Some("0.12.3"), transactions: 1 },
        KnownBlock { file: "sepolia/block/7.json", number: 7, hash: "0x2e59a5adbdf53e00fd282a007b59771067870c1c7664ca7878327adfff398b4", parent: "0x7e16179ff54fa8bb1533fe2eea930e9e2bd658faaf9972533c9d3a9303171fc", state_root: "0x4604bb7f9ebbf8bf909ba5982b11adf2ed3638f1d736036ddb4154889e139a0", version: Some("0.12.3"), transactions: 17 },
        KnownBlock { file: "sepolia/block/18.json", number: 18, hash: "0x5beb56c7d9a9fc066e695c3fc467f45532cace83d9979db4ccfd6b77ca476af", parent: "0x641077df21f3d3167e62ddf3feea236e2644e427940673114a30f2eb5c445c6", state_root: "0x4c7f8d53ff361055ca6b224bff96bae036e1694c7d0efd0bef5fc633eef720d", version: Some("0.12.3"), transactions: 13 },
        KnownBlock { file: "sepolia/block/4850.json", number: 4850, hash: "0x410dfca0f99545e62aef946e228329ce3a906f6785f5e6f97389f30ad1c1088", parent: "0x61d60ea141cd3677a36da9ac7bdc5b4535b76bf9c5e6dd0bddfb04036b460c6", state_root: "0x42f9257e7075f9cffffcfbda7dd7b318ee3474436b6a7d17ad152c45e8738ce", version: Some("0.12.3"), transactions: 3 },
        KnownBlock { file: "sepolia/block/19957.json", number: 19957, hash: "0x852225462ef12fe1955e473beb93877a8c9723650c56a13888057e2af184d3", parent: "0x180b900d6c23f99ae02b4fcb6a6c29a4322a1eb158707d8d1ea3fb48eb731f5", state_root: "0x7c2f75d9284b8d5882be888297fb4553919df09bae1e42836485f8f89952d67", version: Some("0.13.0"), transactions: 4 },
        KnownBlock { file: "sepolia/block/469719.json", number: 469719, hash: "0x4508238b9af18a7170fe26fc7b0bef20624ef3a4afc63a2ed545e84fc3b90a7", parent: "0x62ecce229bfe7516d39a5551955292762bf50343f2daaf43faadd02fc1346bf", state_root: "0x37c043fc8572f38f9c259e32584974fb3bf950d103b1a4306ac43b178300d2c", version: Some("0.13.3"), transactions: 3 },
        KnownBlock { file: "sepolia/block/567941.json", number: 567941, hash: "0x50f312f9b3d33ec6372e394a7829aa93cbaf122edb617fdb90dc04dec759014", parent: "0x522fe443114e97f1fe8d8fd5798c1546cb538576a8e6fee8c1bd5e5a8cd3535", state_root: "0x5fe314a9e2f3de362018e812b2b9b9911fa00364d7a575847bbd255f7904556", version: Some("0.13.4"), transactions: 5 },
        KnownBlock { file: "sepolia/block/4072139.json", number: 4072139, hash: "0x7681e58d041005f83d84e9b0a109bc7ca2dc69e995e96f9b7a310f2844c3144", parent: "0xc131b0a9eb82d885fd8cdb0abc296c18daaa50395be5e4231e5f4b989d5c5", state_root: "0x636e63b6488bebd672a9a498396ec78a1d25bcd6d450a30119cdea968a5239a", version: Some("0.14.1"), transactions: 3 },
        KnownBlock { file: "sepolia/block/latest.json", number: 4850, hash: "0x410dfca0f99545e62aef946e228329ce3a906f6785f5e6f97389f30ad1c1088", parent: "0x61d60ea141cd3677a36da9ac7bdc5b4535b76bf9c5e6dd0bddfb04036b460c6", state_root: "0x42f9257e7075f9cffffcfbda7dd7b318ee3474436b6a7d17ad152c45e8738ce", version: Some("0.12.3"), transactions: 3 },
        KnownBlock { file: "sepolia/state_update_with_block/1.json", number: 1, hash: "0x78b67b11f8c23850041e11fb0f3b39db0bcb2c99d756d5a81321d1b483d79f6", parent: "0x5c627d4aeb51280058bed93c7889bce78114d63baad1be0f0aeb32496d5f19c", state_root: "0xe005205a1327f3dff98074e528f7b96f30e0624a1dfcf571bdc81948d150a0", version: Some("0.12.3"), transactions: 1 },
        KnownBlock { file: "sepolia/state_update_with_block/4072139.json", number: 4072139, hash: "0x7681e58d041005f83d84e9b0a109bc7ca2dc69e995e96f9b7a310f2844c3144", parent: "0xc131b0a9eb82d885fd8cdb0abc296c18daaa50395be5e4231e5f4b989d5c5", state_root: "0x636e63b6488bebd672a9a498396ec78a1d25bcd6d450a30119cdea968a5239a", version: Some("0.14.1"), transactions: 3 },
        KnownBlock { file: "mainnet/block/0.json", number: 0, hash: "0x47c3637b57c2b079b93c61539950c17e868a28f46cdef28f88521067f21e943", parent: "0x0", state_root: "0x21870ba80540e7831fb21c591ee93481f5ae1bb71ff85a86ddd465be4eddee6", version: None, transactions: 18 },
        KnownBlock { file: "mainnet/block/1.json", number: 1, hash: "0x2a70fb03fe363a2d6be843343a1d81ce6abeda1e9bd5cc6ad8fa9f45e30fdeb", parent: "0x47c3637b57c2b079b93c61539950c17e868a28f46cdef28f88521067f21e943", state_root: "0x525aed4da9cc6cce2de31ba79059546b0828903279e4eaa38768de33e2cac32", version: None, transactions: 8 },
        KnownBlock { file: "mainnet/block/2.json", number: 2, hash: "0x4e1f77f39545afe866ac151ac908bd1a347a2a8a7d58bef1276db4f06fdf2f6", parent: "0x2a70fb03fe363a2d6be843343a1d81ce6abeda1e9bd5cc6ad8fa9f45e30fdeb", state_root: "0x3ceee867d50b5926bb88c0ec7e0b9c20ae6b537e74aac44b8fcf6bb6da138d9", version: None, transactions: 6 },
        KnownBlock { file: "mainnet/state_update_with_block/1.json", number: 1, hash: "0x2a70fb03fe363a2d6be843343a1d81ce6abeda1e9bd5cc6ad8fa9f45e30fdeb", parent: "0x47c3637b57c2b079b93c61539950c17e868a28f46cdef28f88521067f21e943", state_root: "0x525aed4da9cc6cce2de31ba79059546b0828903279e4eaa38768de33e2cac32", version: None, transactions: 8 },
        KnownBlock { file: "mainnet/state_update_with_block/2.json", number: 2, hash: "0x4e1f77f39545afe866ac151ac908bd1a347a2a8a7d58bef1276db4f06fdf2f6", parent: "0x2a70fb03fe363a2d6be843343a1d81ce6abeda1e9bd5cc6ad8fa9f45e30fdeb", state_root: "0x3ceee867d50b5926bb88c0ec7e0b9c20ae6b537e74aac44b8fcf6bb6da138d9", version: None, transactions: 6 },
        KnownBlock { file: "versions/0.11.1/block/mainnet_65000.json", number: 65000, hash: "0x2e2860fc70cfefaf6a2f1c8ca865a01edbd2caa3c79f0e1f310cd5799abfe6e", parent: "0x649de055f4d5ce6af195dc3704add880bca1958d87cf13e05245f9d83fb880d", state_root: "0x7b67971649c24ca8999ac9b8a645133e6f37ada7f7d6696c58be6df263ac58a", version: Some("0.11.1"), transactions: 236 },
        KnownBlock { file: "versions/0.13.1/state_update_with_block/sepolia_integration_9703.json", number: 9703, hash: "0x6a2755817d86ade81ed0fea2eaf23d94264e2f25aff43ecb2e5000bf3ec28b7", parent: "0x7bbdcf883d8a1afafbddb85687a99834a993914f41fbaa0f725d87160fbc078", state_root: "0x5252cc70dc66434ec91d92f16abd6f25bbab9a059d6c3096b8f5316380be167", version: Some("0.13.1"), transactions: 4 },
        KnownBlock { file: "versions/0.13.2/block/sepolia_integration_35748.json", number: 35748, hash: "0x1ea2a9cfa3df5297d58c0a04d09d276bc68d40fe64701305bbe2ed8f417e869", parent: "0x77140bef51bbb4d1932f17cc5081825ff18465a1df4440ca0429a4fa80f1dc5", state_root: "0x38e01cbe2d5721780b2e1a478fd131f2ffcc099528dd2e1289f26b027127790", version: Some("0.13.2"), transactions: 2 },
        KnownBlock { file: "versions/0.13.4/block/sepolia_integration_63881.json", number: 63881, hash: "0x48f57e58c80fc24eaecbfba53f4eec3f718f6887a299de2aca61abc7ffb5cae", parent: "0x7683143ddc8fde8ed1c476e1f4fc4bba7811ff83f1508e357509571d3c7890a", state_root: "0x50393f169e67a317046e5a562babe94b7cc2a2db6b78bfb73660e591b0ef97e", version: Some("0.13.4"), transactions: 4 },
        KnownBlock { file: "versions/0.14.1/state_update/sepolia_integration_3077642.json", number: 3077642, hash: "0x7c6517ec2c503f9fc80ade2df901a1dbe067ab8cfb8c6bf8e7d04a29c1dde0b", parent: "0x6e9a0066e864c7d32acd0d3e2a8ddc20898fc3677be6f1db198f731640ec37f", state_root: "0x7e472f4392adc406f482ed52f8f85c5b1c7649d390c259b073b79f5e5adee5c", version: Some("0.14.1"), transactions: 201 },
        KnownBlock { file: "versions/0.14.3/state_update/sepolia_integration_fake.json", number: 3077642, hash: "0x7c6517ec2c503f9fc80ade2df901a1dbe067ab8cfb8c6bf8e7d04a29c1dde0b", parent: "0x6e9a0066e864c7d32acd0d3e2a8ddc20898fc3677be6f1db198f731640ec37f", state_root: "0x7e472f4392adc406f482ed52f8f85c5b1c7649d390c259b073b79f5e5adee5c", version: Some("0.14.1"), transactions: 201 },
        KnownBlock { file: "versions/0.7.0/block/mainnet_2240.json", number: 2240, hash: "0x1a02cb7164d3592c3dcf9c7a7634353709ce467155f7686c37e429efe05c55f", parent: "0x6c4f26be2ea7afcf4808952968a0100fd17fb00c9b29dbe9a2fc3f62798f996", state_root: "0x284590e2fccf1b7420e65aed4c3ac3b7d063da73db322d0256b395fe0ae0de1", version: None, transactions: 298 },
        KnownBlock { file: "versions/0.8.0/block/mainnet_2500.json", number: 2500, hash: "0x40db218b21b6de2bc954b7457a373f5bd1d3cc58f37f1b95a72543dc021db52", parent: "0x18a467885033e71677a62b5bb81d49895f2fb7d35305ed07cb9850bcb234e3e", state_root: "0x2dda8df03e598fda235f64d0421da77b05b652616565feefb038c2f4e04d81d", version: None, transactions: 426 },
        KnownBlock { file: "versions/0.9.0/block/mainnet_2800.json", number: 2800, hash: "0x10967f99fb3b6c92106a2124abff9c9204c666be2ecceeae456e51614185d2", parent: "0x479b4ae76a7c36639d1726a02721472eefc4c7e55e7cc0ff69412b12171a1c3", state_root: "0xe3607c420b5a34c9b713edeb4f2f2b4d254120697e9e2fff589f0119529efe", version: None, transactions: 184 },
        KnownBlock { file: "versions/pre_0.7.0/block/mainnet_genesis.json", number: 0, hash: "0x47c3637b57c2b079b93c61539950c17e868a28f46cdef28f88521067f21e943", parent: "0x0", state_root: "0x21870ba80540e7831fb21c591ee93481f5ae1bb71ff85a86ddd465be4eddee6", version: None, transactions: 18 },
    ];

    // -----------------------------------------------------------------------------------------
    // Felt parsing
    // -----------------------------------------------------------------------------------------

    fn wire_felt(value: Value) -> Result<Felt, String> {
        serde_json::from_value::<WireFelt>(value)
            .map(|felt| felt.0)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn felt_accepts_gateway_spellings() {
        let padded_root = "021870ba80540e7831fb21c591ee93481f5ae1bb71ff85a86ddd465be4eddee6";
        let cases = [
            ("0x1a", Felt::from(0x1a_u64)),
            ("1a", Felt::from(0x1a_u64)),
            ("0X1A", Felt::from(0x1a_u64)),
            ("0x00001A", Felt::from(0x1a_u64)),
            ("0", Felt::ZERO),
            ("0x0", Felt::ZERO),
            (
                "0000000000000000000000000000000000000000000000000000000000000000",
                Felt::ZERO,
            ),
            (
                padded_root,
                felt("0x21870ba80540e7831fb21c591ee93481f5ae1bb71ff85a86ddd465be4eddee6"),
            ),
            (
                "0x8453FC6Cd1bCfE8D4dFC069C400B433054d47bDc",
                felt("0x8453fc6cd1bcfe8d4dfc069c400b433054d47bdc"),
            ),
            (
                "0x0800000000000011000000000000000000000000000000000000000000000000",
                Felt::MAX,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(felt_serde::parse(text), Ok(expected), "parse({text:?})");
            assert_eq!(wire_felt(json!(text)), Ok(expected), "deserialize {text:?}");
        }
    }

    #[test]
    fn felt_accepts_json_integers() {
        assert_eq!(wire_felt(json!(0)), Ok(Felt::ZERO));
        assert_eq!(
            wire_felt(json!(1_781_802_368_u64)),
            Ok(Felt::from(1_781_802_368_u64))
        );
        assert_eq!(wire_felt(json!(u64::MAX)), Ok(Felt::from(u64::MAX)));
    }

    #[test]
    fn felt_rejects_values_at_or_above_prime() {
        let too_large = [
            "0x800000000000011000000000000000000000000000000000000000000000001",
            "0x800000000000011000000000000000000000000000000000000000000000002",
            "0x0800000000000012000000000000000000000000000000000000000000000000",
            "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ];
        for text in too_large {
            assert_eq!(
                felt_serde::parse(text),
                Err(FeltParseError::OutOfRange),
                "{text}"
            );
            let error = wire_felt(json!(text)).expect_err(text);
            assert!(error.contains("Stark field prime"), "{text}: {error}");
            assert!(
                error.contains(text),
                "error should quote the input: {error}"
            );
        }
    }

    #[test]
    fn felt_rejects_malformed_text() {
        let cases = [
            ("", FeltParseError::Empty),
            ("0x", FeltParseError::Empty),
            (
                "0xg1",
                FeltParseError::InvalidDigit {
                    character: 'g',
                    position: 2,
                },
            ),
            (
                " 0x1",
                FeltParseError::InvalidDigit {
                    character: ' ',
                    position: 0,
                },
            ),
            (
                "-1",
                FeltParseError::InvalidDigit {
                    character: '-',
                    position: 0,
                },
            ),
            (
                "0x1é",
                FeltParseError::InvalidDigit {
                    character: 'é',
                    position: 3,
                },
            ),
            (
                "0x00000000000000000000000000000000000000000000000000000000000000001",
                FeltParseError::TooLong { digits: 65 },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(felt_serde::parse(text), Err(expected), "parse({text:?})");
        }

        let error = wire_felt(json!("0xnot-hex")).expect_err("non-hex text");
        assert!(error.contains("invalid felt \"0xnot-hex\""), "{error}");
        assert!(error.contains("invalid hex digit 'n' at byte 2"), "{error}");
    }

    #[test]
    fn felt_rejects_other_json_values() {
        let negative = wire_felt(json!(-1)).expect_err("negative integer");
        assert!(negative.contains("not negative"), "{negative}");

        let fractional = wire_felt(json!(1.5)).expect_err("fractional number");
        assert!(fractional.contains("hex strings"), "{fractional}");

        let huge: Value = serde_json::from_str("100000000000000000000000").unwrap();
        let huge_error = wire_felt(huge).expect_err("integer above u64::MAX");
        assert!(huge_error.contains("below 2^64"), "{huge_error}");

        let boolean = wire_felt(json!(true)).expect_err("boolean");
        assert!(boolean.contains("hex string"), "{boolean}");
    }

    #[test]
    fn felt_error_quotes_long_input_shortened() {
        let long_input = "z".repeat(500);
        let error = wire_felt(json!(long_input)).expect_err("invalid long input");
        assert!(error.contains('…'), "{error}");
        assert!(error.len() < 300, "error is {} bytes long", error.len());
    }

    #[test]
    fn felt_serializes_as_lowercase_hex() {
        let parsed = felt_serde::parse("0X00AbC").unwrap();
        assert_eq!(
            serde_json::to_string(&WireFelt(parsed)).unwrap(),
            "\"0xabc\""
        );
        assert_eq!(
            serde_json::to_string(&WireFelt(Felt::ZERO)).unwrap(),
            "\"0x0\""
        );
    }

    // -----------------------------------------------------------------------------------------
    // Blocks
    // -----------------------------------------------------------------------------------------

    #[test]
    fn every_block_recording_parses() {
        let Some(dir) = recordings_dir() else { return };
        let files = recordings_in(&dir, &["block"]);
        assert!(
            files.len() >= 25,
            "found only {} block recordings",
            files.len()
        );

        for file in &files {
            let block: Block = parse_file(&dir, file);
            assert_receipts_match(
                file,
                &block.transactions,
                block.transaction_receipts.iter().map(Some),
            );
        }
    }

    #[test]
    fn known_blocks_match_table() {
        let Some(dir) = recordings_dir() else { return };
        for known in KNOWN_BLOCKS {
            let block = load_block(&dir, known.file);
            assert_eq!(
                block.block_number, known.number,
                "{}: block_number",
                known.file
            );
            assert_eq!(
                block.block_hash,
                felt(known.hash),
                "{}: block_hash",
                known.file
            );
            assert_eq!(
                block.parent_block_hash,
                felt(known.parent),
                "{}: parent_block_hash",
                known.file
            );
            assert_eq!(
                block.state_root,
                felt(known.state_root),
                "{}: state_root",
                known.file
            );
            assert_eq!(
                block.starknet_version.as_deref(),
                known.version,
                "{}: starknet_version",
                known.file
            );
            assert_eq!(
                block.transactions.len(),
                known.transactions,
                "{}: transaction count",
                known.file
            );
            assert_receipts_match(
                known.file,
                &block.transactions,
                block.transaction_receipts.iter().map(Some),
            );
        }
    }

    #[test]
    fn mainnet_genesis_block_values() {
        let Some(dir) = recordings_dir() else { return };
        let block: Block = parse_file(&dir, "mainnet/block/0.json");

        assert_eq!(block.transactions.len(), 18);
        assert_eq!(
            block.block_hash,
            felt("0x47c3637b57c2b079b93c61539950c17e868a28f46cdef28f88521067f21e943")
        );
        assert_eq!(
            block.state_root,
            felt("0x21870ba80540e7831fb21c591ee93481f5ae1bb71ff85a86ddd465be4eddee6")
        );
        assert_eq!(block.status, BlockStatus::AcceptedOnL1);
        assert_eq!(block.sequencer_address, None);
        assert_eq!(block.starknet_version, None);
        assert_eq!(block.gas_price, Some(Felt::ZERO));
        assert_eq!(block.l1_gas_price, None);

        // This recording predates `execution_status`, so every receipt takes the default.
        for receipt in &block.transaction_receipts {
            assert_eq!(
                receipt.execution_status,
                ExecutionStatus::Succeeded,
                "{receipt:?}"
            );
        }

        let deploys = block
            .transactions
            .iter()
            .filter(|tx| matches!(tx, Transaction::Deploy(_)))
            .count();
        let invokes = block
            .transactions
            .iter()
            .filter(|tx| matches!(tx, Transaction::InvokeV0(_)))
            .count();
        assert_eq!(deploys, 5);
        assert_eq!(invokes, 13);

        let Transaction::Deploy(first) = &block.transactions[0] else {
            panic!(
                "first genesis transaction is not a DEPLOY: {:?}",
                block.transactions[0]
            );
        };
        assert_eq!(first.version, Felt::ZERO);
        assert_eq!(
            first.class_hash,
            felt("0x10455c752b86932ce552f2b0fe81a880746649b9aee7e0d842bf3f52378f9f8")
        );
        assert_eq!(
            first.contract_address,
            felt("0x20cfa74ee3564b4cd5435cdace0f9c4d43b939620e4a0bb5076105df0a626c6")
        );

        // A later recording of the same block, by a newer gateway, has the same transactions.
        let genesis: Block = parse_file(&dir, "versions/pre_0.7.0/block/mainnet_genesis.json");
        assert_eq!(genesis.transactions, block.transactions);
    }

    #[test]
    fn ethereum_addresses_in_mixed_case_parse() {
        let Some(dir) = recordings_dir() else { return };

        let block: Block = parse_file(&dir, "sepolia/block/6.json");
        let message = block.transaction_receipts[0]
            .l1_to_l2_consumed_message
            .as_ref()
            .expect("sepolia block 6 starts with an L1 handler");
        assert_eq!(
            message.from_address,
            felt("0x8453fc6cd1bcfe8d4dfc069c400b433054d47bdc")
        );
        assert_eq!(message.nonce, Some(Felt::ZERO));
        assert_eq!(message.payload.len(), 3);

        let block: Block = parse_file(&dir, "versions/0.11.1/block/mainnet_65000.json");
        let sent = &block.transaction_receipts[92].l2_to_l1_messages[0];
        assert_eq!(
            sent.to_address,
            felt("0xae0ee0a63a2ce6baeeffe56e7714fb4efe48d419")
        );
    }

    #[test]
    fn receipts_capture_revert_and_resources() {
        let Some(dir) = recordings_dir() else { return };
        let block: Block = parse_file(&dir, "sepolia/block/4072139.json");
        for receipt in &block.transaction_receipts {
            let resources = receipt
                .execution_resources
                .as_ref()
                .expect("0.14.1 receipts carry execution_resources");
            assert!(resources.total_gas_consumed.is_some(), "{receipt:?}");
            assert!(resources.data_availability.is_some(), "{receipt:?}");
        }

        let reverted: Vec<Receipt> = recordings_in(&dir, &["block"])
            .iter()
            .flat_map(|file| parse_file::<Block>(&dir, file).transaction_receipts)
            .filter(|receipt| receipt.execution_status == ExecutionStatus::Reverted)
            .collect();
        assert!(
            !reverted.is_empty(),
            "the recordings contain reverted transactions"
        );
        for receipt in &reverted {
            let reason = receipt.revert_error.as_deref().unwrap_or_default();
            assert!(
                !reason.is_empty(),
                "reverted receipt without revert_error: {receipt:?}"
            );
        }
    }

    #[test]
    fn unknown_block_status_rejected() {
        let Some(dir) = recordings_dir() else { return };
        let mut value: Value = parse_file(&dir, "sepolia/block/1.json");
        value["status"] = json!("FINALIZED");
        let error = serde_json::from_value::<Block>(value).expect_err("unknown status");
        assert!(error.to_string().contains("FINALIZED"), "{error}");
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let Some(dir) = recordings_dir() else { return };
        let plain: Block = parse_file(&dir, "sepolia/block/7.json");

        let mut value: Value = parse_file(&dir, "sepolia/block/7.json");
        value["future_block_field"] = json!({"nested": [1, 2, 3]});
        value["transactions"][0]["future_transaction_field"] = json!("0x1");
        value["transaction_receipts"][0]["future_receipt_field"] = json!(null);
        value["transaction_receipts"][0]["execution_resources"]["builtin_instance_counter"]
            ["future_builtin"] = json!(7);
        let extended: Block = serde_json::from_value(value).unwrap();

        assert_eq!(extended, plain);
    }

    // -----------------------------------------------------------------------------------------
    // Pre-confirmed and pending blocks
    // -----------------------------------------------------------------------------------------

    #[test]
    fn preconfirmed_blocks_parse() {
        let Some(dir) = recordings_dir() else { return };

        let file = "sepolia/preconfirmed/latest/full.json";
        let block: PreconfirmedBlock = parse_file(&dir, file);
        assert_eq!(block.status, BlockStatus::PreConfirmed);
        assert_eq!(block.starknet_version, "0.14.2");
        assert_eq!(block.block_number, Some(10_936_237));
        assert_eq!(block.block_identifier.as_deref(), Some("0x1cbe25d9"));
        assert_eq!(block.changed, Some(true));
        assert_eq!(block.l1_da_mode, L1DataAvailabilityMode::Blob);
        assert_eq!(block.l2_gas_price.price_in_fri, felt("0x1dcd65000"));
        assert_eq!(block.transactions.len(), 3);
        assert_eq!(block.transaction_state_diffs.len(), 3);
        assert!(block.transaction_receipts.iter().all(Option::is_some));
        assert!(block.transaction_state_diffs.iter().all(Option::is_some));
        assert_receipts_match(
            file,
            &block.transactions,
            block.transaction_receipts.iter().map(Option::as_ref),
        );

        let file = "versions/0.14.0/preconfirmed_block/sepolia_integration_955821.json";
        let block: PreconfirmedBlock = parse_file(&dir, file);
        assert_eq!(block.starknet_version, "0.14.0");
        assert_eq!(block.block_number, None);
        assert_eq!(block.block_identifier, None);
        assert_eq!(block.transactions.len(), 9);
        assert_eq!(block.transaction_state_diffs.len(), 9);
        assert_receipts_match(
            file,
            &block.transactions,
            block.transaction_receipts.iter().map(Option::as_ref),
        );
    }

    #[test]
    fn preconfirmed_null_entries_are_none() {
        let Some(dir) = recordings_dir() else { return };
        let mut value: Value = parse_file(&dir, "sepolia/preconfirmed/latest/full.json");
        value["transaction_receipts"][2] = Value::Null;
        value["transaction_state_diffs"][2] = Value::Null;

        let block: PreconfirmedBlock = serde_json::from_value(value).unwrap();

        assert!(block.transaction_receipts[1].is_some());
        assert!(block.transaction_receipts[2].is_none());
        assert!(block.transaction_state_diffs[2].is_none());
    }

    #[test]
    fn pending_block_parses() {
        let Some(dir) = recordings_dir() else { return };
        let file = "versions/0.13.1/state_update_with_block/sepolia_integration_pending.json";

        let pending: PendingStateUpdateWithBlock = parse_file(&dir, file);
        assert_eq!(pending.block.status, BlockStatus::Pending);
        assert_eq!(
            pending.block.parent_block_hash,
            felt("0x7f2d95ed85839a9cfb9f2e0257816315d84d2f9f2a29f39d044631dbe082a4b")
        );
        assert_eq!(pending.block.starknet_version.as_deref(), Some("0.13.1"));
        assert_eq!(pending.block.transactions.len(), 3);
        assert_receipts_match(
            file,
            &pending.block.transactions,
            pending.block.transaction_receipts.iter().map(Some),
        );
        assert_eq!(pending.state_update.block_hash, None);
        assert_eq!(pending.state_update.new_root, None);

        let error = serde_json::from_str::<StateUpdateWithBlock>(&read_text(&dir, file))
            .expect_err("a pending block has no block_hash");
        assert!(error.to_string().contains("block_hash"), "{error}");
    }

    // -----------------------------------------------------------------------------------------
    // Transactions
    // -----------------------------------------------------------------------------------------

    fn transaction_error(value: Value) -> String {
        serde_json::from_value::<Transaction>(value)
            .expect_err("transaction should be rejected")
            .to_string()
    }

    #[test]
    fn transaction_type_and_version_errors() {
        let missing_type = transaction_error(json!({"transaction_hash": "0x1", "version": "0x1"}));
        assert!(
            missing_type.contains("missing field `type`"),
            "{missing_type}"
        );

        let numeric_type = transaction_error(json!({"type": 5}));
        assert!(
            numeric_type.contains("`type` must be a string, got a number"),
            "{numeric_type}"
        );

        let not_object = transaction_error(json!(["INVOKE_FUNCTION"]));
        assert!(
            not_object.contains("expected a JSON object, got an array"),
            "{not_object}"
        );

        let unknown_type =
            transaction_error(json!({"type": "DECLARE_V9", "transaction_hash": "0x1"}));
        assert!(
            unknown_type.contains("unknown transaction type \"DECLARE_V9\""),
            "{unknown_type}"
        );

        let invoke_v2 = transaction_error(
            json!({"type": "INVOKE_FUNCTION", "version": "0x2", "transaction_hash": "0xabc"}),
        );
        assert!(
            invoke_v2.contains("unsupported INVOKE_FUNCTION transaction version 0x2 0xabc"),
            "{invoke_v2}"
        );
        assert!(
            invoke_v2.contains("expected 0x0, 0x1 or 0x3"),
            "{invoke_v2}"
        );

        let deploy_account_v0 =
            transaction_error(json!({"type": "DEPLOY_ACCOUNT", "transaction_hash": "0x1"}));
        assert!(
            deploy_account_v0.contains("unsupported DEPLOY_ACCOUNT transaction version 0x0"),
            "{deploy_account_v0}"
        );

        let query_version = transaction_error(
            json!({"type": "INVOKE_FUNCTION", "version": "0x100000000000000000000000000000001"}),
        );
        assert!(
            query_version.contains("version 0x100000000000000000000000000000001"),
            "{query_version}"
        );

        let bad_version = transaction_error(json!({"type": "DECLARE", "version": "0xzz"}));
        assert!(
            bad_version.contains("invalid DECLARE transaction: field `version`"),
            "{bad_version}"
        );

        let missing_nonce = transaction_error(json!({
            "type": "INVOKE_FUNCTION", "version": "0x1", "transaction_hash": "0x5",
            "sender_address": "0x2", "calldata": [], "signature": [], "max_fee": "0x0"
        }));
        assert!(
            missing_nonce.contains("invalid INVOKE_FUNCTION v0x1 transaction 0x5"),
            "{missing_nonce}"
        );
        assert!(
            missing_nonce.contains("missing field `nonce`"),
            "{missing_nonce}"
        );
    }

    #[test]
    fn transaction_error_inside_block_names_position() {
        let Some(dir) = recordings_dir() else { return };
        let mut value: Value = parse_file(&dir, "sepolia/block/1.json");
        value["transactions"][0]["type"] = json!("DECLARE_V9");
        let text = serde_json::to_string_pretty(&value).unwrap();

        let error = serde_json::from_str::<Block>(&text).expect_err("unknown transaction type");

        assert!(error.to_string().contains("DECLARE_V9"), "{error}");
        assert!(error.line() > 0, "{error}");
    }

    #[test]
    fn old_transactions_get_defaults() {
        let invoke: Transaction = serde_json::from_value(json!({
            "type": "INVOKE_FUNCTION", "transaction_hash": "0x1", "contract_address": "0x2",
            "entry_point_selector": "0x3", "calldata": ["0x4"]
        }))
        .unwrap();
        let Transaction::InvokeV0(invoke) = invoke else {
            panic!("expected InvokeV0: {invoke:?}")
        };
        assert_eq!(invoke.max_fee, Felt::ZERO);
        assert!(invoke.signature.is_empty());
        assert_eq!(invoke.contract_address, Felt::TWO);

        let renamed: Transaction = serde_json::from_value(json!({
            "type": "INVOKE_FUNCTION", "version": "0x0", "transaction_hash": "0x1",
            "sender_address": "0x2", "entry_point_selector": "0x3", "calldata": []
        }))
        .unwrap();
        let Transaction::InvokeV0(renamed) = renamed else {
            panic!("expected InvokeV0: {renamed:?}")
        };
        assert_eq!(renamed.contract_address, Felt::TWO);

        let handler: Transaction = serde_json::from_value(json!({
            "type": "L1_HANDLER", "transaction_hash": "0x1", "contract_address": "0x2",
            "entry_point_selector": "0x3", "calldata": ["0x4"]
        }))
        .unwrap();
        let Transaction::L1Handler(handler) = handler else {
            panic!("expected L1Handler: {handler:?}")
        };
        assert_eq!(handler.nonce, None);
        assert_eq!(handler.version, Felt::ZERO);

        let deploy: Transaction = serde_json::from_value(json!({
            "type": "DEPLOY", "version": "0x1", "transaction_hash": "0x1", "contract_address": "0x2",
            "contract_address_salt": "0x3", "class_hash": "0x4", "constructor_calldata": []
        }))
        .unwrap();
        assert_eq!(deploy.version(), Felt::ONE);
        assert_eq!(deploy.transaction_type(), "DEPLOY");

        let declare: Transaction = serde_json::from_value(json!({
            "type": "DECLARE", "transaction_hash": "0x1", "sender_address": "0x1",
            "class_hash": "0x4", "max_fee": "0x0"
        }))
        .unwrap();
        let Transaction::DeclareV0(declare) = declare else {
            panic!("expected DeclareV0: {declare:?}")
        };
        assert_eq!(declare.nonce, Felt::ZERO);
        assert!(declare.signature.is_empty());
    }

    fn v3_common_fields() -> Value {
        json!({
            "version": "0x3",
            "transaction_hash": "0x7d2",
            "signature": ["0x1", "0x2"],
            "nonce": "0x5",
            "resource_bounds": {
                "L1_GAS": {"max_amount": "0x186a0", "max_price_per_unit": "0x5af3107a4000"},
                "L2_GAS": {"max_amount": "0x0", "max_price_per_unit": "0x0"}
            },
            "tip": "0x0",
            "paymaster_data": [],
            "nonce_data_availability_mode": 0,
            "fee_data_availability_mode": 1
        })
    }

    fn with_fields(mut base: Value, extra: Value) -> Value {
        let (Value::Object(base_fields), Value::Object(extra_fields)) = (&mut base, extra) else {
            panic!("both values must be objects");
        };
        base_fields.extend(extra_fields);
        base
    }

    #[test]
    fn declare_v3_parses_and_round_trips() {
        let value = with_fields(
            v3_common_fields(),
            json!({
                "type": "DECLARE",
                "sender_address": "0x3f",
                "class_hash": "0x1a736d6ed154502257f02b1ccdf4d9d1089f80811cd6acad48e6b6a9d1f2003",
                "compiled_class_hash": "0x29787a427a423ffc5986d43e630077a176e4391fcef3ebf36014b154069ae4",
                "account_deployment_data": ["0x9"]
            }),
        );
        let transaction: Transaction = serde_json::from_value(value).unwrap();
        assert_eq!(transaction.hash(), felt("0x7d2"));
        assert_eq!(transaction.version(), Felt::THREE);

        let Transaction::DeclareV3(declare) = &transaction else {
            panic!("expected DeclareV3: {transaction:?}");
        };
        assert_eq!(declare.sender_address, felt("0x3f"));
        assert_eq!(
            declare.compiled_class_hash,
            felt("0x29787a427a423ffc5986d43e630077a176e4391fcef3ebf36014b154069ae4")
        );
        assert_eq!(declare.resource_bounds.l1_gas.max_amount, felt("0x186a0"));
        assert_eq!(declare.resource_bounds.l1_data_gas, None);
        assert_eq!(
            declare.nonce_data_availability_mode,
            DataAvailabilityMode::L1
        );
        assert_eq!(declare.fee_data_availability_mode, DataAvailabilityMode::L2);
        assert_eq!(declare.account_deployment_data, vec![felt("0x9")]);

        let written = serde_json::to_value(&transaction).unwrap();
        assert_eq!(written["type"], json!("DECLARE"));
        assert_eq!(written["version"], json!("0x3"));
        assert_eq!(written["fee_data_availability_mode"], json!(1));
        assert_eq!(
            serde_json::from_value::<Transaction>(written).unwrap(),
            transaction
        );
    }

    #[test]
    fn deploy_account_v3_parses_and_round_trips() {
        let mut value = with_fields(
            v3_common_fields(),
            json!({
                "type": "DEPLOY_ACCOUNT",
                "sender_address": "0x4c5",
                "contract_address_salt": "0x11",
                "class_hash": "0x5c478ee27f2112411f86f207605b2e2c58cdb647bac0df27f660ef2252359c6",
                "constructor_calldata": ["0x12", "0x13"]
            }),
        );
        value["resource_bounds"]["L1_DATA_GAS"] =
            json!({"max_amount": "0x2710", "max_price_per_unit": "0x1"});
        let transaction: Transaction = serde_json::from_value(value).unwrap();

        let Transaction::DeployAccountV3(deploy) = &transaction else {
            panic!("expected DeployAccountV3: {transaction:?}");
        };
        assert_eq!(deploy.sender_address, felt("0x4c5"));
        assert_eq!(
            deploy.constructor_calldata,
            vec![felt("0x12"), felt("0x13")]
        );
        assert_eq!(
            deploy.resource_bounds.l1_data_gas,
            Some(ResourceBounds {
                max_amount: felt("0x2710"),
                max_price_per_unit: Felt::ONE
            })
        );
        assert_eq!(transaction.transaction_type(), "DEPLOY_ACCOUNT");

        let written = serde_json::to_value(&transaction).unwrap();
        assert_eq!(written["type"], json!("DEPLOY_ACCOUNT"));
        assert_eq!(written["version"], json!("0x3"));
        assert_eq!(
            serde_json::from_value::<Transaction>(written).unwrap(),
            transaction
        );
    }

    #[test]
    fn data_availability_mode_values() {
        assert_eq!(
            serde_json::from_value::<DataAvailabilityMode>(json!(0)).unwrap(),
            DataAvailabilityMode::L1
        );
        assert_eq!(
            serde_json::from_value::<DataAvailabilityMode>(json!(1)).unwrap(),
            DataAvailabilityMode::L2
        );
        assert_eq!(
            serde_json::to_value(DataAvailabilityMode::L2).unwrap(),
            json!(1)
        );

        let error = serde_json::from_value::<DataAvailabilityMode>(json!(2)).expect_err("mode 2");
        assert!(
            error
                .to_string()
                .contains("invalid data availability mode 2"),
            "{error}"
        );
    }

    #[test]
    fn proof_facts_captured() {
        let Some(dir) = recordings_dir() else { return };

        let fake: StateUpdateWithBlock = parse_file(
            &dir,
            "versions/0.14.3/state_update/sepolia_integration_fake.json",
        );
        let Transaction::InvokeV3(first) = &fake.block.transactions[0] else {
            panic!("expected InvokeV3: {:?}", fake.block.transactions[0]);
        };
        assert_eq!(
            first.proof_facts,
            Some(vec![felt("0xdeadbeef"), felt("0xcafebabe")])
        );

        let block: Block = parse_file(&dir, "sepolia/block/4072139.json");
        for transaction in &block.transactions {
            let Transaction::InvokeV3(invoke) = transaction else {
                panic!("expected InvokeV3: {transaction:?}");
            };
            assert_eq!(invoke.proof_facts, Some(Vec::new()));
        }

        let block: Block = parse_file(&dir, "sepolia/block/567941.json");
        let v3_count = block
            .transactions
            .iter()
            .filter_map(|transaction| match transaction {
                Transaction::InvokeV3(invoke) => Some(invoke),
                _ => None,
            })
            .inspect(|invoke| assert_eq!(invoke.proof_facts, None))
            .count();
        assert!(v3_count > 0, "sepolia block 567941 has v3 invokes");
    }

    // -----------------------------------------------------------------------------------------
    // Receipts
    // -----------------------------------------------------------------------------------------

    #[test]
    fn receipt_defaults() {
        let receipt: Receipt =
            serde_json::from_value(json!({"transaction_hash": "0x1", "transaction_index": 4}))
                .unwrap();
        assert_eq!(receipt.actual_fee, Felt::ZERO);
        assert_eq!(receipt.execution_status, ExecutionStatus::Succeeded);
        assert!(receipt.events.is_empty());
        assert!(receipt.l2_to_l1_messages.is_empty());
        assert_eq!(receipt.execution_resources, None);

        let resources: ExecutionResources = serde_json::from_value(json!({
            "n_steps": 10,
            "builtin_instance_counter": {"keccak_builtin": 2},
            "data_availability": {"l1_gas": 1, "l1_data_gas": 2}
        }))
        .unwrap();
        assert_eq!(resources.n_memory_holes, 0);
        assert_eq!(resources.builtin_instance_counter.keccak_builtin, 2);
        assert_eq!(resources.builtin_instance_counter.pedersen_builtin, 0);
        assert_eq!(
            resources.data_availability,
            Some(GasVector {
                l1_gas: 1,
                l1_data_gas: 2,
                l2_gas: 0
            })
        );
        assert_eq!(resources.total_gas_consumed, None);
    }

    // -----------------------------------------------------------------------------------------
    // State updates
    // -----------------------------------------------------------------------------------------

    #[test]
    fn every_state_update_recording_parses() {
        let Some(dir) = recordings_dir() else { return };
        let files = recordings_in(&dir, &["state_update", "state-update"]);
        assert!(
            files.len() >= 18,
            "found only {} state update recordings",
            files.len()
        );

        for file in &files {
            if has_block_and_state_update(&dir, file) {
                let with_block: StateUpdateWithBlock = parse_file(&dir, file);
                let update = &with_block.state_update;
                assert_eq!(
                    update.block_hash,
                    Some(with_block.block.block_hash),
                    "{file}"
                );
                assert_eq!(update.new_root, Some(with_block.block.state_root), "{file}");
            } else {
                let update: StateUpdate = parse_file(&dir, file);
                assert!(update.block_hash.is_some(), "{file}: block_hash");
                assert!(update.new_root.is_some(), "{file}: new_root");
            }
        }
    }

    #[test]
    fn state_updates_chain_with_blocks() {
        let Some(dir) = recordings_dir() else { return };
        for (network, last) in [("sepolia", 7), ("mainnet", 2)] {
            let mut previous_root = Felt::ZERO;
            for number in 0..=last {
                let block: Block = parse_file(&dir, &format!("{network}/block/{number}.json"));
                let update: StateUpdate =
                    parse_file(&dir, &format!("{network}/state_update/{number}.json"));
                let label = format!("{network} {number}");
                assert_eq!(
                    update.block_hash,
                    Some(block.block_hash),
                    "{label}: block_hash"
                );
                assert_eq!(update.new_root, Some(block.state_root), "{label}: new_root");
                assert_eq!(update.old_root, previous_root, "{label}: old_root");
                previous_root = block.state_root;
            }
        }
    }

    #[test]
    fn sepolia_state_update_7_values() {
        let Some(dir) = recordings_dir() else { return };
        let update: StateUpdate = parse_file(&dir, "sepolia/state_update/7.json");
        let diff = &update.state_diff;

        assert_eq!(
            diff.declared_classes,
            vec![
                DeclaredClass {
                    class_hash: felt(
                        "0x903752516de5c04fe91600ca6891e325278b2dfc54880ae11a809abb364844"
                    ),
                    compiled_class_hash: felt(
                        "0x7e2bc0b8214da5e9506f383ce72dd8e92cf7f09e8cb668522f43e77023c9f52"
                    ),
                },
                DeclaredClass {
                    class_hash: felt(
                        "0x1a736d6ed154502257f02b1ccdf4d9d1089f80811cd6acad48e6b6a9d1f2003"
                    ),
                    compiled_class_hash: felt(
                        "0x29787a427a423ffc5986d43e630077a176e4391fcef3ebf36014b154069ae4"
                    ),
                },
                DeclaredClass {
                    class_hash: felt(
                        "0x298049830f817974463b6d4186b062b04cc1af2557f98f55e21334739252600"
                    ),
                    compiled_class_hash: felt(
                        "0x63a8548e679463cb43c229d688641269ad847d98ead75ed0f93bbb1a9505313"
                    ),
                },
            ]
        );
        assert_eq!(diff.old_declared_contracts.len(), 7);
        assert_eq!(
            diff.old_declared_contracts[0],
            felt("0x3ae692aaf1ded26a0b58cf42490f757563850acea887ed57b4894fee8279063")
        );
        assert_eq!(diff.deployed_contracts.len(), 5);
        assert!(diff.replaced_classes.is_empty());
        assert!(diff.migrated_compiled_classes.is_empty());
        assert_eq!(
            update.old_root,
            felt("0x2729a9ded030fa182a4802b9accf662d071d23fdfb2011504d1777927c9abaf")
        );

        // The gateway lists these addresses unsorted, and that order must survive.
        let storage_addresses: Vec<Felt> = diff
            .storage_diffs
            .iter()
            .map(|(address, _)| *address)
            .collect();
        assert_eq!(
            storage_addresses,
            vec![
                felt("0x68922eb87daed71fc3099031e178b6534fc39a570022342e8c166024da893f5"),
                felt("0x49d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7"),
            ]
        );
        assert_eq!(
            diff.nonces[0],
            (
                felt("0x68922eb87daed71fc3099031e178b6534fc39a570022342e8c166024da893f5"),
                felt("0xe")
            )
        );
        assert_eq!(
            diff.nonces[1].0,
            felt("0x535ca4e1d1be7ec4a88d51a2962cd6c5aea1be96cb2c0b60eb1721dc34f800d")
        );
    }

    #[test]
    fn state_diff_keeps_order_when_serialized() {
        // Raw text, because `json!` would build a sorted `serde_json::Map`.
        let text = r#"{
            "storage_diffs": {
                "0x3": [{"key": "0x1", "value": "0x2"}],
                "0x1": [],
                "0x2": [{"key": "0x5", "value": "0x6"}, {"key": "0x4", "value": "0x7"}]
            },
            "nonces": {"0x9": "0x1", "0x8": "0x2"},
            "deployed_contracts": []
        }"#;
        let diff: StateDiff = serde_json::from_str(text).unwrap();

        let addresses: Vec<Felt> = diff
            .storage_diffs
            .iter()
            .map(|(address, _)| *address)
            .collect();
        assert_eq!(addresses, vec![Felt::THREE, Felt::ONE, Felt::TWO]);
        assert_eq!(diff.storage_diffs[2].1[0].key, Felt::from(5_u64));
        assert_eq!(
            diff.nonces,
            vec![
                (Felt::from(9_u64), Felt::ONE),
                (Felt::from(8_u64), Felt::TWO)
            ]
        );
        assert!(diff.declared_classes.is_empty());
        assert!(diff.migrated_compiled_classes.is_empty());

        let written = serde_json::to_string(&diff).unwrap();
        let position = |needle: &str| {
            written
                .find(needle)
                .unwrap_or_else(|| panic!("{needle} missing in {written}"))
        };
        assert!(position("\"0x3\":[") < position("\"0x1\":[]"), "{written}");
        assert!(position("\"0x1\":[]") < position("\"0x2\":["), "{written}");
        assert!(
            position("\"0x9\":\"0x1\"") < position("\"0x8\":\"0x2\""),
            "{written}"
        );
    }

    #[test]
    fn state_diff_rejects_duplicate_address() {
        let text = r#"{"storage_diffs": {"0x1": [], "0x01": []}, "deployed_contracts": []}"#;
        let error =
            serde_json::from_str::<StateDiff>(text).expect_err("0x1 and 0x01 are the same address");
        assert!(
            error.to_string().contains("duplicate contract address 0x1"),
            "{error}"
        );
    }

    #[test]
    fn state_update_with_block_recordings_parse() {
        let Some(dir) = recordings_dir() else { return };
        let files = recordings_in(&dir, &["state_update_with_block"]);
        assert!(
            files.len() >= 6,
            "found only {} includeBlock recordings",
            files.len()
        );

        for file in &files {
            let value: Value = parse_file(&dir, file);
            if value["block"].get("block_hash").is_none() {
                let pending: PendingStateUpdateWithBlock = parse_file(&dir, file);
                assert_eq!(pending.block.status, BlockStatus::Pending, "{file}");
                continue;
            }
            let with_block: StateUpdateWithBlock = parse_file(&dir, file);
            assert_eq!(
                with_block.state_update.block_hash,
                Some(with_block.block.block_hash),
                "{file}"
            );
        }

        for file in [
            "mainnet/state_update_with_block/1.json",
            "mainnet/state_update_with_block/2.json",
        ] {
            let with_block: StateUpdateWithBlock = parse_file(&dir, file);
            let signature = with_block
                .signature
                .unwrap_or_else(|| panic!("{file}: no signature"));
            assert_eq!(signature.len(), 2, "{file}");
        }
        let without: StateUpdateWithBlock =
            parse_file(&dir, "sepolia/state_update_with_block/1.json");
        assert_eq!(without.signature, None);

        let migrated: StateUpdateWithBlock = parse_file(
            &dir,
            "versions/0.14.1/state_update/sepolia_integration_3077642.json",
        );
        assert_eq!(migrated.block.starknet_version.as_deref(), Some("0.14.1"));
    }

    #[test]
    fn state_update_equals_include_block_copy() {
        let Some(dir) = recordings_dir() else { return };
        for number in [1, 2] {
            let block: Block = parse_file(&dir, &format!("mainnet/block/{number}.json"));
            let update: StateUpdate =
                parse_file(&dir, &format!("mainnet/state_update/{number}.json"));
            let with_block: StateUpdateWithBlock = parse_file(
                &dir,
                &format!("mainnet/state_update_with_block/{number}.json"),
            );
            assert_eq!(with_block.block, block, "mainnet block {number}");
            assert_eq!(
                with_block.state_update, update,
                "mainnet state update {number}"
            );
        }
    }

    // -----------------------------------------------------------------------------------------
    // Signatures, errors, classes
    // -----------------------------------------------------------------------------------------

    #[test]
    fn signature_recordings_parse() {
        let Some(dir) = recordings_dir() else { return };
        let files = recordings_in(&dir, &["signature"]);
        assert!(
            files.len() >= 40,
            "found only {} signature recordings",
            files.len()
        );

        for file in &files {
            let signature: BlockSignature = parse_file(&dir, file);
            assert_eq!(signature.signature.len(), 2, "{file}");
            // Mainnet 21656 is the one recording of the shape without any block hash.
            let expects_hash = !file.ends_with("mainnet/signature/21656.json");
            assert_eq!(signature.block_hash().is_some(), expects_hash, "{file}");
        }

        let hashless: BlockSignature = parse_file(&dir, "mainnet/signature/21656.json");
        assert_eq!(hashless.block_number, Some(21656));
        assert_eq!(hashless.signature_input, None);

        for number in 0..=7 {
            let block: Block = parse_file(&dir, &format!("sepolia/block/{number}.json"));
            let signature: BlockSignature =
                parse_file(&dir, &format!("sepolia/signature/{number}.json"));
            assert_eq!(
                signature.block_hash(),
                Some(block.block_hash),
                "sepolia {number}"
            );
        }

        let with_input: BlockSignature = parse_file(&dir, "sepolia/signature/0.json");
        assert_eq!(with_input.block_number, Some(0));
        assert_eq!(with_input.block_hash, None);
        assert!(with_input.signature_input.is_some());

        let plain: BlockSignature = parse_file(&dir, "sepolia/signature/7.json");
        assert_eq!(plain.block_number, None);
        assert_eq!(plain.signature_input, None);
    }

    #[test]
    fn gateway_error_body() {
        let error: GatewayError = serde_json::from_str(
            r#"{"code": "StarknetErrorCode.BLOCK_NOT_FOUND", "message": "Block number 99999999 was not found."}"#,
        )
        .unwrap();
        assert!(error.is_block_not_found());
        assert!(!error.is_undeclared_class());
        assert_eq!(
            error.to_string(),
            "feeder gateway error StarknetErrorCode.BLOCK_NOT_FOUND: Block number 99999999 was not found."
        );

        let undeclared = GatewayError {
            code: GatewayError::UNDECLARED_CLASS.to_owned(),
            message: String::new(),
        };
        assert_eq!(undeclared.code, "StarknetErrorCode.UNDECLARED_CLASS");
        assert!(undeclared.is_undeclared_class());
    }

    #[test]
    fn class_kind_detection() {
        let Some(dir) = recordings_dir() else { return };
        let sierra = "0x1a736d6ed154502257f02b1ccdf4d9d1089f80811cd6acad48e6b6a9d1f2003.json";

        let classes = recordings_in(&dir, &["class"]);
        assert!(
            classes.len() >= 11,
            "found only {} class recordings",
            classes.len()
        );
        for file in &classes {
            let expected = if file.ends_with(sierra) {
                ClassKind::Sierra
            } else {
                ClassKind::Cairo0
            };
            let json: Value = parse_file(&dir, file);
            assert_eq!(class_kind(&json), Some(expected), "{file}");
        }

        for file in recordings_in(&dir, &["compiled_class"]) {
            let json: Value = parse_file(&dir, &file);
            assert_eq!(class_kind(&json), None, "{file}");
        }
        assert_eq!(class_kind(&json!([])), None);
    }

    // -----------------------------------------------------------------------------------------
    // Serialization
    // -----------------------------------------------------------------------------------------

    #[test]
    fn serialize_round_trips() {
        let Some(dir) = recordings_dir() else { return };
        round_trip::<Block>(&dir, "mainnet/block/0.json");
        round_trip::<Block>(&dir, "sepolia/block/7.json");
        round_trip::<Block>(&dir, "sepolia/block/4072139.json");
        round_trip::<Block>(&dir, "versions/0.11.1/block/mainnet_65000.json");
        round_trip::<StateUpdate>(&dir, "sepolia/state_update/7.json");
        round_trip::<StateUpdateWithBlock>(&dir, "mainnet/state_update_with_block/1.json");
        round_trip::<StateUpdateWithBlock>(
            &dir,
            "versions/0.14.3/state_update/sepolia_integration_fake.json",
        );
        round_trip::<PendingStateUpdateWithBlock>(
            &dir,
            "versions/0.13.1/state_update_with_block/sepolia_integration_pending.json",
        );
        round_trip::<PreconfirmedBlock>(&dir, "sepolia/preconfirmed/latest/full.json");
        round_trip::<BlockSignature>(&dir, "sepolia/signature/0.json");
        round_trip::<BlockSignature>(&dir, "sepolia/signature/7.json");
    }

    #[test]
    fn serialize_writes_gateway_shape() {
        let Some(dir) = recordings_dir() else { return };
        let block: Block = parse_file(&dir, "mainnet/block/0.json");
        let written = serde_json::to_value(&block).unwrap();

        assert_eq!(
            written["state_root"],
            json!("0x21870ba80540e7831fb21c591ee93481f5ae1bb71ff85a86ddd465be4eddee6")
        );
        assert_eq!(written["status"], json!("ACCEPTED_ON_L1"));
        assert_eq!(written.get("sequencer_address"), None);
        assert_eq!(written["transactions"][0]["type"], json!("DEPLOY"));
        assert_eq!(written["transactions"][0]["version"], json!("0x0"));
        let invoke = block
            .transactions
            .iter()
            .position(|transaction| matches!(transaction, Transaction::InvokeV0(_)))
            .expect("genesis has invokes");
        assert_eq!(
            written["transactions"][invoke]["type"],
            json!("INVOKE_FUNCTION")
        );
        assert_eq!(written["transactions"][invoke]["version"], json!("0x0"));
    }
}
