//! Block signatures: the sequencer's ECDSA signature over each block.
//!
//! The gateway has served two forms. Replies with `signature_input` (and the signatures
//! inside older `includeBlock=true` replies) sign `poseidon(block_hash,
//! state_diff_commitment)` with the pre-0.13.2 state diff commitment. Replies of the form
//! `{block_hash, signature}` sign the block hash itself. Both are checked against the
//! block as recomputed here, so a valid signature over another block is rejected.

use starknet_types_core::hash::{Poseidon, StarkHash};
use starling_storage::{BlockHeader, Felt, StateDiff};

use crate::gateway::wire;
use crate::network::Network;
use crate::verify::{legacy_state_diff_commitment, HashMismatch};

/// Public keys the sequencers sign blocks with, as the gateway's `get_public_key`
/// returns them. Every recorded Mainnet and Sepolia signature verifies with these.
const MAINNET_SEQUENCER_KEY: Felt =
    Felt::from_hex_unwrap("0x48253ff2c3bed7af18bde0b611b083b39445959102d4947c51c4db6aa4f4e58");
const SEPOLIA_SEQUENCER_KEY: Felt =
    Felt::from_hex_unwrap("0x1252b6bce1351844c677869c6327e80eae1535755b611c66b8f46e595b40eea");

pub fn sequencer_public_key(network: Network) -> Felt {
    match network {
        Network::Mainnet => MAINNET_SEQUENCER_KEY,
        Network::Sepolia => SEPOLIA_SEQUENCER_KEY,
    }
}

/// A signature and the values the gateway reports it signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockSignature {
    pub signature: Vec<Felt>,
    pub signed_block_hash: Option<Felt>,
    pub signed_state_diff_commitment: Option<Felt>,
}

impl From<wire::BlockSignature> for BlockSignature {
    fn from(reply: wire::BlockSignature) -> Self {
        let signed_block_hash = reply.block_hash();
        Self {
            signature: reply.signature,
            signed_block_hash,
            signed_state_diff_commitment: reply
                .signature_input
                .map(|input| input.state_diff_commitment),
        }
    }
}

/// Checks that `signature` is the sequencer's signature over this block.
pub fn verify_block_signature(
    signature: &BlockSignature,
    header: &BlockHeader,
    state_diff: &StateDiff,
    public_key: Felt,
) -> Result<(), HashMismatch> {
    let block_hash = header.hash.0;
    if let Some(signed) = signature.signed_block_hash {
        if signed != block_hash {
            return Err(HashMismatch {
                what: "block hash named by the signature".into(),
                expected: signed,
                computed: block_hash,
            });
        }
    }

    let state_diff_commitment = legacy_state_diff_commitment(state_diff);
    if let Some(signed) = signature.signed_state_diff_commitment {
        if signed != state_diff_commitment {
            return Err(HashMismatch {
                what: "state diff commitment named by the signature".into(),
                expected: signed,
                computed: state_diff_commitment,
            });
        }
    }

    let [r, s] = signature.signature[..] else {
        return Err(HashMismatch {
            what: format!(
                "signature length ({} elements, expected 2)",
                signature.signature.len()
            ),
            expected: Felt::from(2u8),
            computed: Felt::from(signature.signature.len() as u64),
        });
    };
    let candidates = [
        Poseidon::hash_array(&[block_hash, state_diff_commitment]),
        block_hash,
    ];
    if candidates
        .iter()
        .any(|message| ecdsa_verify(public_key, *message, r, s))
    {
        return Ok(());
    }
    Err(HashMismatch {
        what: "block signature (r shown)".into(),
        expected: r,
        computed: Felt::ZERO,
    })
}

/// ECDSA on the STARK curve. starknet-crypto uses an older `Felt` type, so values pass
/// through their byte form.
fn ecdsa_verify(public_key: Felt, message: Felt, r: Felt, s: Felt) -> bool {
    let convert = |value: Felt| starknet_core::types::Felt::from_bytes_be(&value.to_bytes_be());
    starknet_crypto::verify(
        &convert(public_key),
        &convert(message),
        &convert(r),
        &convert(s),
    )
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::recordings_dir;

    fn recorded_block(
        dir: &std::path::Path,
        network: &str,
        number: u64,
    ) -> crate::convert::ConvertedBlock {
        let block =
            std::fs::read_to_string(dir.join(format!("{network}/block/{number}.json"))).unwrap();
        let update =
            std::fs::read_to_string(dir.join(format!("{network}/state_update/{number}.json")))
                .unwrap();
        let text = format!(r#"{{"block": {block}, "state_update": {update}}}"#);
        crate::convert::convert_block(serde_json::from_str(&text).unwrap()).unwrap()
    }

    fn recorded_signature(dir: &std::path::Path, path: &str) -> BlockSignature {
        let text = std::fs::read_to_string(dir.join(path)).unwrap();
        serde_json::from_str::<wire::BlockSignature>(&text)
            .unwrap()
            .into()
    }

    #[test]
    fn sepolia_signatures_verify() {
        let Some(dir) = recordings_dir() else { return };
        for number in 0..=7 {
            let block = recorded_block(&dir, "sepolia", number);
            let signature = recorded_signature(&dir, &format!("sepolia/signature/{number}.json"));
            let key = sequencer_public_key(Network::Sepolia);
            assert_eq!(
                verify_block_signature(&signature, &block.header, &block.state_diff, key),
                Ok(()),
                "block {number}"
            );
        }
    }

    #[test]
    fn mainnet_signatures_in_combined_replies_verify() {
        let Some(dir) = recordings_dir() else { return };
        for number in 1..=2 {
            let text = std::fs::read_to_string(
                dir.join(format!("mainnet/state_update_with_block/{number}.json")),
            )
            .unwrap();
            let reply: wire::StateUpdateWithBlock = serde_json::from_str(&text).unwrap();
            let signature = BlockSignature {
                signature: reply.signature.clone().unwrap(),
                signed_block_hash: None,
                signed_state_diff_commitment: None,
            };
            let block = crate::convert::convert_block(reply).unwrap();
            let key = sequencer_public_key(Network::Mainnet);
            assert_eq!(
                verify_block_signature(&signature, &block.header, &block.state_diff, key),
                Ok(()),
                "block {number}"
            );
        }
    }

    #[test]
    fn signature_of_another_network_is_rejected() {
        let Some(dir) = recordings_dir() else { return };
        let block = recorded_block(&dir, "sepolia", 4);
        let signature = recorded_signature(&dir, "sepolia/signature/4.json");
        let mainnet_key = sequencer_public_key(Network::Mainnet);
        let error =
            verify_block_signature(&signature, &block.header, &block.state_diff, mainnet_key)
                .unwrap_err();
        assert!(error.what.contains("block signature"), "{error}");
    }

    #[test]
    fn signature_over_another_block_is_rejected() {
        let Some(dir) = recordings_dir() else { return };
        let block = recorded_block(&dir, "sepolia", 4);
        let signature = recorded_signature(&dir, "sepolia/signature/5.json");
        let key = sequencer_public_key(Network::Sepolia);
        let error =
            verify_block_signature(&signature, &block.header, &block.state_diff, key).unwrap_err();
        assert!(
            error.what.contains("block hash named by the signature"),
            "{error}"
        );
    }
}
