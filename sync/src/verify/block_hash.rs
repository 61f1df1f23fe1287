//! Block hashes under each historical rule.
//!
//! | blocks | rule |
//! |---|---|
//! | Mainnet below 833 | Pedersen chain with the chain id, zero timestamp and sequencer |
//! | 0.7 up to 0.13.1.1 | Pedersen chain over header fields, counts and two commitments |
//! | 0.13.2 and 0.13.3 | Poseidon chain `STARKNET_BLOCK_HASH0` with all four commitments |
//! | 0.13.4 and later | Poseidon chain `STARKNET_BLOCK_HASH1` with the gas prices hashed |

use starknet_types_core::hash::{Pedersen, Poseidon, StarkHash};
use starling_storage::{BlockHeader, ChainId, ContractAddress, Felt};

use super::commitments::concatenated_counts;
use super::transaction_hash::HashContext;
use super::version::{InvalidStarknetVersion, StarknetVersion};

/// `STARKNET_BLOCK_HASH0` as a Cairo short string.
const STARKNET_BLOCK_HASH0: Felt =
    Felt::from_hex_unwrap("0x535441524b4e45545f424c4f434b5f4841534830");
/// `STARKNET_BLOCK_HASH1` as a Cairo short string.
const STARKNET_BLOCK_HASH1: Felt =
    Felt::from_hex_unwrap("0x535441524b4e45545f424c4f434b5f4841534831");
/// `STARKNET_GAS_PRICES0` as a Cairo short string.
const STARKNET_GAS_PRICES0: Felt =
    Felt::from_hex_unwrap("0x535441524b4e45545f4741535f50524943455330");

/// Sequencer address that early Mainnet blocks were hashed with although the gateway
/// reports no sequencer address for them, such as Mainnet block 2240. Pathfinder
/// (`fallback_sequencer_address` in `crates/block-commitments/src/lib.rs`) dates these
/// blocks to Starknet 0.8.0 and 0.8.1.
const MAINNET_FALLBACK_SEQUENCER_ADDRESS: ContractAddress = ContractAddress(Felt::from_hex_unwrap(
    "0x21f4b90b0377c82bf330b7b5295820769e72d79d8acd0effa0ebde6e9988bc5",
));

/// The commitments and counts that enter a block hash besides the header's own fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockCommitments {
    pub transaction_commitment: Felt,
    pub event_commitment: Felt,
    /// Zero, and unused, before Starknet 0.13.2.
    pub receipt_commitment: Felt,
    /// Zero, and unused, before Starknet 0.13.2.
    pub state_diff_commitment: Felt,
    /// Zero, and unused, before Starknet 0.13.2.
    pub state_diff_length: u64,
}

/// Computes the hash of a block from its header and commitments, by the rule of the
/// header's `starknet_version` (see the module documentation).
///
/// The header's own `hash` and commitment fields are not read: the commitments come from
/// `commitments`, so that recomputed values can be hashed. The header's transaction and
/// event counts are hashed as they are, and [`super::verify_block`] checks them first.
pub fn block_hash(
    header: &BlockHeader,
    commitments: &BlockCommitments,
    chain_id: ChainId,
) -> Result<Felt, InvalidStarknetVersion> {
    let context = HashContext::for_header(header)?;
    let version = context.starknet_version;

    if context.is_mainnet_before_0_7(chain_id) {
        return Ok(pre_0_7_block_hash(header, commitments, chain_id));
    }
    if version < StarknetVersion::V0_13_2 {
        return Ok(pedersen_block_hash(
            header,
            commitments,
            header.sequencer_address,
        ));
    }
    Ok(poseidon_block_hash(header, commitments, version))
}

/// Hashes a Mainnet block before Starknet 0.7: the chain id is hashed in, and the
/// timestamp, sequencer address, event count and event commitment are zero.
fn pre_0_7_block_hash(
    header: &BlockHeader,
    commitments: &BlockCommitments,
    chain_id: ChainId,
) -> Felt {
    Pedersen::hash_array(&[
        Felt::from(header.number.0),
        header.state_root,
        Felt::ZERO,
        Felt::ZERO,
        Felt::from(header.transaction_count),
        commitments.transaction_commitment,
        Felt::ZERO,
        Felt::ZERO,
        Felt::ZERO,
        Felt::ZERO,
        chain_id.0,
        header.parent_hash.0,
    ])
}

/// Hashes a block of Starknet 0.7 up to 0.13.1.1. The two zeros are the reserved
/// protocol version and extra data fields.
fn pedersen_block_hash(
    header: &BlockHeader,
    commitments: &BlockCommitments,
    sequencer_address: ContractAddress,
) -> Felt {
    Pedersen::hash_array(&[
        Felt::from(header.number.0),
        header.state_root,
        sequencer_address.0,
        Felt::from(header.timestamp),
        Felt::from(header.transaction_count),
        commitments.transaction_commitment,
        Felt::from(header.event_count),
        commitments.event_commitment,
        Felt::ZERO,
        Felt::ZERO,
        header.parent_hash.0,
    ])
}

/// Hashes a block of Starknet 0.13.2 and later. The version enters as the ASCII bytes of
/// the header's `starknet_version` string, and the zero before the parent hash is reserved.
fn poseidon_block_hash(
    header: &BlockHeader,
    commitments: &BlockCommitments,
    version: StarknetVersion,
) -> Felt {
    let counts = concatenated_counts(
        header.transaction_count,
        header.event_count,
        commitments.state_diff_length,
        header.l1_da_mode,
    );
    let prefix = if version < StarknetVersion::V0_13_4 {
        STARKNET_BLOCK_HASH0
    } else {
        STARKNET_BLOCK_HASH1
    };

    let mut elements = vec![
        prefix,
        Felt::from(header.number.0),
        header.state_root,
        header.sequencer_address.0,
        Felt::from(header.timestamp),
        counts,
        commitments.state_diff_commitment,
        commitments.transaction_commitment,
        commitments.event_commitment,
        commitments.receipt_commitment,
    ];
    if version < StarknetVersion::V0_13_4 {
        elements.extend([
            header.l1_gas_price.price_in_wei,
            header.l1_gas_price.price_in_fri,
            header.l1_data_gas_price.price_in_wei,
            header.l1_data_gas_price.price_in_fri,
        ]);
    } else {
        elements.push(Poseidon::hash_array(&[
            STARKNET_GAS_PRICES0,
            header.l1_gas_price.price_in_wei,
            header.l1_gas_price.price_in_fri,
            header.l1_data_gas_price.price_in_wei,
            header.l1_data_gas_price.price_in_fri,
            header.l2_gas_price.price_in_wei,
            header.l2_gas_price.price_in_fri,
        ]));
    }
    elements.extend([
        Felt::from_bytes_be_slice(header.starknet_version.as_bytes()),
        Felt::ZERO,
        header.parent_hash.0,
    ]);
    Poseidon::hash_array(&elements)
}

/// Computes the hash of an early Mainnet block with the sequencer address it was hashed
/// with, for blocks whose gateway reply reports no sequencer address. Returns `None` for
/// every other block.
pub(super) fn fallback_sequencer_block_hash(
    header: &BlockHeader,
    commitments: &BlockCommitments,
    chain_id: ChainId,
) -> Result<Option<Felt>, InvalidStarknetVersion> {
    let context = HashContext::for_header(header)?;
    let applies = chain_id == ChainId::MAINNET
        && context.is_unversioned()
        && !context.is_mainnet_before_0_7(chain_id)
        && header.sequencer_address == ContractAddress::ZERO;
    if !applies {
        return Ok(None);
    }
    Ok(Some(pedersen_block_hash(
        header,
        commitments,
        MAINNET_FALLBACK_SEQUENCER_ADDRESS,
    )))
}

#[cfg(test)]
mod tests {
    use starling_storage::{
        BlockHash, BlockNumber, BlockStatus, GasPrices, L1DataAvailabilityMode,
    };

    use super::*;

    fn header(number: u64, version: &str) -> BlockHeader {
        let prices = |wei: u64, fri: u64| GasPrices {
            price_in_wei: Felt::from(wei),
            price_in_fri: Felt::from(fri),
        };
        BlockHeader {
            number: BlockNumber(number),
            hash: BlockHash::ZERO,
            parent_hash: BlockHash(Felt::from(0xabcu64)),
            state_root: Felt::from(0x5eedu64),
            timestamp: 1_700_000_000,
            sequencer_address: ContractAddress(Felt::from(0x5e9u64)),
            l1_gas_price: prices(3, 4),
            l1_data_gas_price: prices(5, 6),
            l2_gas_price: prices(7, 8),
            l1_da_mode: L1DataAvailabilityMode::Blob,
            starknet_version: version.to_owned(),
            status: BlockStatus::AcceptedOnL1,
            transaction_count: 2,
            event_count: 3,
            transaction_commitment: None,
            event_commitment: None,
            receipt_commitment: None,
            state_diff_commitment: None,
            state_diff_length: None,
        }
    }

    fn commitments() -> BlockCommitments {
        BlockCommitments {
            transaction_commitment: Felt::from(11u64),
            event_commitment: Felt::from(12u64),
            receipt_commitment: Felt::from(13u64),
            state_diff_commitment: Felt::from(14u64),
            state_diff_length: 4,
        }
    }

    #[test]
    fn prefixes_are_the_short_strings() {
        assert_eq!(
            STARKNET_BLOCK_HASH0,
            Felt::from_bytes_be_slice(b"STARKNET_BLOCK_HASH0")
        );
        assert_eq!(
            STARKNET_BLOCK_HASH1,
            Felt::from_bytes_be_slice(b"STARKNET_BLOCK_HASH1")
        );
        assert_eq!(
            STARKNET_GAS_PRICES0,
            Felt::from_bytes_be_slice(b"STARKNET_GAS_PRICES0")
        );
    }

    #[test]
    fn early_mainnet_blocks_hash_the_chain_id() {
        let early = header(5, "");
        let expected = Pedersen::hash_array(&[
            Felt::from(5u64),
            early.state_root,
            Felt::ZERO,
            Felt::ZERO,
            Felt::TWO,
            Felt::from(11u64),
            Felt::ZERO,
            Felt::ZERO,
            Felt::ZERO,
            Felt::ZERO,
            ChainId::MAINNET.0,
            early.parent_hash.0,
        ]);
        let computed = block_hash(&early, &commitments(), ChainId::MAINNET).unwrap();
        assert_eq!(computed, expected);

        let on_sepolia = block_hash(&early, &commitments(), ChainId::SEPOLIA).unwrap();
        let pedersen = pedersen_block_hash(&early, &commitments(), early.sequencer_address);
        assert_eq!(on_sepolia, pedersen);

        let block_833 = header(833, "");
        let computed = block_hash(&block_833, &commitments(), ChainId::MAINNET).unwrap();
        let pedersen = pedersen_block_hash(&block_833, &commitments(), block_833.sequencer_address);
        assert_eq!(computed, pedersen);
    }

    #[test]
    fn pedersen_block_hash_layout() {
        let block = header(10, "0.13.1.1");
        let expected = Pedersen::hash_array(&[
            Felt::from(10u64),
            block.state_root,
            block.sequencer_address.0,
            Felt::from(block.timestamp),
            Felt::TWO,
            Felt::from(11u64),
            Felt::THREE,
            Felt::from(12u64),
            Felt::ZERO,
            Felt::ZERO,
            block.parent_hash.0,
        ]);
        let computed = block_hash(&block, &commitments(), ChainId::SEPOLIA).unwrap();
        assert_eq!(computed, expected);
    }

    #[test]
    fn poseidon_block_hash_layouts() {
        let counts = concatenated_counts(2, 3, 4, L1DataAvailabilityMode::Blob);
        let common = |block: &BlockHeader, prefix: Felt| {
            vec![
                prefix,
                Felt::from(10u64),
                block.state_root,
                block.sequencer_address.0,
                Felt::from(block.timestamp),
                counts,
                Felt::from(14u64),
                Felt::from(11u64),
                Felt::from(12u64),
                Felt::from(13u64),
            ]
        };

        let block = header(10, "0.13.2");
        let mut elements = common(&block, STARKNET_BLOCK_HASH0);
        elements.extend((3..=6u64).map(Felt::from));
        elements.extend([
            Felt::from_bytes_be_slice(b"0.13.2"),
            Felt::ZERO,
            block.parent_hash.0,
        ]);
        let computed = block_hash(&block, &commitments(), ChainId::SEPOLIA).unwrap();
        assert_eq!(computed, Poseidon::hash_array(&elements));

        let block = header(10, "0.14.1");
        let mut elements = common(&block, STARKNET_BLOCK_HASH1);
        let mut prices = vec![STARKNET_GAS_PRICES0];
        prices.extend((3..=8u64).map(Felt::from));
        elements.push(Poseidon::hash_array(&prices));
        elements.extend([
            Felt::from_bytes_be_slice(b"0.14.1"),
            Felt::ZERO,
            block.parent_hash.0,
        ]);
        let computed = block_hash(&block, &commitments(), ChainId::SEPOLIA).unwrap();
        assert_eq!(computed, Poseidon::hash_array(&elements));
    }

    #[test]
    fn fallback_sequencer_scope() {
        let unreported = |number: u64, version: &str| BlockHeader {
            sequencer_address: ContractAddress::ZERO,
            ..header(number, version)
        };

        let block = unreported(2240, "");
        let expected =
            pedersen_block_hash(&block, &commitments(), MAINNET_FALLBACK_SEQUENCER_ADDRESS);
        let fallback = fallback_sequencer_block_hash(&block, &commitments(), ChainId::MAINNET);
        assert_eq!(fallback, Ok(Some(expected)));

        let cases = [
            ("reported sequencer", header(2240, ""), ChainId::MAINNET),
            (
                "numbered version",
                unreported(2240, "0.9.1"),
                ChainId::MAINNET,
            ),
            ("before Starknet 0.7", unreported(100, ""), ChainId::MAINNET),
            ("not Mainnet", unreported(2240, ""), ChainId::SEPOLIA),
        ];
        for (case, block, chain_id) in cases {
            let fallback = fallback_sequencer_block_hash(&block, &commitments(), chain_id);
            assert_eq!(fallback, Ok(None), "{case}");
        }
    }

    #[test]
    fn invalid_version_is_rejected() {
        let error =
            block_hash(&header(10, "0.13.x"), &commitments(), ChainId::SEPOLIA).unwrap_err();
        assert_eq!(error.text, "0.13.x");
    }
}
