//! Parameter types shared by many methods: strictly parsed felts and block ids.

use serde::de::{self, Deserializer};
use serde::Deserialize;
use starling_storage::{BlockHash, BlockNumber, Felt};

use crate::version::Api;

/// A felt parameter: `0x` followed by 1 to 64 hex digits in any case, below the field
/// prime. Anything else is rejected with -32602 instead of being reduced or truncated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RpcFelt(pub Felt);

impl<'de> Deserialize<'de> for RpcFelt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_felt(&text).map(RpcFelt).map_err(de::Error::custom)
    }
}

/// Parses a felt as the spec's FELT pattern `^0x(0|[a-fA-F1-9]{1}[a-fA-F0-9]{0,62})$`
/// allows, and also accepts leading zeros up to 64 digits as clients send them.
pub fn parse_felt(text: &str) -> Result<Felt, String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| format!("invalid felt {text:?}: expected 0x followed by hex digits"))?;
    if digits.is_empty() || digits.len() > 64 {
        return Err(format!(
            "invalid felt {text:?}: expected 1 to 64 hex digits, got {}",
            digits.len()
        ));
    }
    if !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(format!("invalid felt {text:?}: not a hex number"));
    }

    let mut bytes = [0u8; 32];
    let padded = format!("{digits:0>64}");
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&padded[index * 2..index * 2 + 2], 16)
            .map_err(|_| format!("invalid felt {text:?}: not a hex number"))?;
    }
    // The field prime is 2^251 + 17·2^192 + 1; compare big-endian bytes with it.
    if bytes >= PRIME_BYTES {
        return Err(format!("invalid felt {text:?}: not below the field prime"));
    }
    Ok(Felt::from_bytes_be(&bytes))
}

/// The STARK field prime 2^251 + 17·2^192 + 1, big-endian.
const PRIME_BYTES: [u8; 32] = {
    let mut bytes = [0u8; 32];
    bytes[0] = 0x08;
    bytes[7] = 0x11;
    bytes[31] = 0x01;
    bytes
};

/// A block id as sent: hash, number or tag. Which tags exist depends on the version,
/// so tags are checked by [`BlockIdParam::for_api`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum BlockIdParam {
    Hash { block_hash: RpcFelt },
    Number { block_number: u64 },
    Tag(String),
}

/// A block id the requested version allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockId {
    Hash(BlockHash),
    Number(BlockNumber),
    Latest,
    /// `pending` before v0.9 and `pre_confirmed` from v0.9.
    Pending,
    /// `l1_accepted`, from v0.9.
    L1Accepted,
}

impl BlockIdParam {
    /// Checks the tag against the version's `BLOCK_TAG` enum.
    pub fn for_api(&self, api: Api) -> Result<BlockId, String> {
        let pre_0_9 = matches!(api, Api::Root | Api::V0_7 | Api::V0_8);
        match self {
            BlockIdParam::Hash { block_hash } => Ok(BlockId::Hash(BlockHash(block_hash.0))),
            BlockIdParam::Number { block_number } => {
                Ok(BlockId::Number(BlockNumber(*block_number)))
            }
            BlockIdParam::Tag(tag) => match (tag.as_str(), pre_0_9) {
                ("latest", _) => Ok(BlockId::Latest),
                ("pending", true) => Ok(BlockId::Pending),
                ("pre_confirmed", false) => Ok(BlockId::Pending),
                ("l1_accepted", false) => Ok(BlockId::L1Accepted),
                _ => Err(format!(
                    "invalid block tag {tag:?}: spec {} allows {}",
                    api.spec_version(),
                    if pre_0_9 {
                        "\"latest\" and \"pending\""
                    } else {
                        "\"latest\", \"pre_confirmed\" and \"l1_accepted\""
                    }
                )),
            },
        }
    }
}

/// Parameters of the methods that return a block with its transactions: `block_id`
/// and, from v0.10, `response_flags`.
#[derive(Clone, Copy, Debug)]
pub struct BlockWithTransactionsParams {
    pub block_id: BlockId,
    /// Whether v0.10's `INCLUDE_PROOF_FACTS` flag was sent.
    pub include_proof_facts: bool,
}

impl BlockWithTransactionsParams {
    pub fn parse(
        params: &crate::jsonrpc::Params,
        api: Api,
    ) -> Result<Self, crate::error::RpcError> {
        #[derive(Deserialize)]
        struct Input {
            block_id: BlockIdParam,
            #[serde(default)]
            response_flags: Vec<crate::types::TxnResponseFlag>,
        }

        let version = crate::types::SpecVersion::of(api);
        let names: &[&str] = if version >= crate::types::SpecVersion::V0_10 {
            &["block_id", "response_flags"]
        } else {
            &["block_id"]
        };
        let input: Input = params.parse(names)?;
        let block_id = input
            .block_id
            .for_api(api)
            .map_err(crate::error::RpcError::invalid_params)?;
        Ok(Self {
            block_id,
            include_proof_facts: crate::types::TxnResponseFlag::include_proof_facts(
                &input.response_flags,
                version,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn felts_parse_in_any_case_with_leading_zeros() {
        assert_eq!(parse_felt("0x0").unwrap(), Felt::ZERO);
        assert_eq!(parse_felt("0xAbC").unwrap(), Felt::from(0xabcu32));
        let padded = format!("0x{:0>64}", "1f");
        assert_eq!(parse_felt(&padded).unwrap(), Felt::from(0x1fu8));
    }

    #[test]
    fn felts_at_or_above_prime_are_rejected() {
        let prime = "0x800000000000011000000000000000000000000000000000000000000000001";
        assert!(parse_felt(prime).unwrap_err().contains("prime"));
        let below = "0x800000000000011000000000000000000000000000000000000000000000000";
        assert_eq!(parse_felt(below).unwrap(), Felt::MAX);
        assert!(parse_felt(&format!("0x{}", "f".repeat(64))).is_err());
    }

    #[test]
    fn malformed_felts_are_rejected() {
        for bad in [
            "",
            "0x",
            "12",
            "0xg1",
            "0x 1",
            &format!("0x{}", "0".repeat(65)),
        ] {
            assert!(parse_felt(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn block_tags_depend_on_version() {
        let tag = |text: &str| BlockIdParam::Tag(text.into());
        assert_eq!(tag("pending").for_api(Api::V0_8), Ok(BlockId::Pending));
        assert!(tag("pending").for_api(Api::V0_9).is_err());
        assert_eq!(
            tag("pre_confirmed").for_api(Api::V0_10),
            Ok(BlockId::Pending)
        );
        assert!(tag("pre_confirmed").for_api(Api::V0_7).is_err());
        assert_eq!(
            tag("l1_accepted").for_api(Api::V0_9),
            Ok(BlockId::L1Accepted)
        );
        assert!(tag("l1_accepted").for_api(Api::Root).is_err());
        assert!(tag("earliest").for_api(Api::V0_10).is_err());
    }

    #[test]
    fn block_ids_by_hash_and_number_parse() {
        let by_hash: BlockIdParam = serde_json::from_str(r#"{"block_hash": "0x12"}"#).unwrap();
        assert_eq!(
            by_hash.for_api(Api::V0_7),
            Ok(BlockId::Hash(BlockHash(Felt::from(0x12u8))))
        );
        let by_number: BlockIdParam = serde_json::from_str(r#"{"block_number": 7}"#).unwrap();
        assert_eq!(
            by_number.for_api(Api::V0_10),
            Ok(BlockId::Number(BlockNumber(7)))
        );
        assert!(serde_json::from_str::<BlockIdParam>(r#"{"block_number": -1}"#).is_err());
    }
}
