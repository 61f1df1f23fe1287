//! Checks a fetched block must pass before it is committed: links to the stored chain,
//! every hash and commitment it claims, the hashes of its new classes, and the state root.

use starling_storage::{
    BlockHash, BlockNumber, ChainId, ClassDefinition, ClassKind, Felt, StateCommitmentUpdate,
    Storage,
};

use crate::convert::ConvertedBlock;
use crate::pipeline::BlockError;
use crate::signature::{verify_block_signature, BlockSignature};
use crate::verify::{self, CompiledClassHashVersion, HashMismatch, StarknetVersion, VerifyError};

/// Checks that the block is the one requested, links to the stored head, and that the
/// state update belongs to it.
pub fn check_links(
    block: &ConvertedBlock,
    number: BlockNumber,
    head: Option<(BlockNumber, BlockHash)>,
    storage: &Storage,
) -> Result<(), BlockError> {
    let header = &block.header;
    if header.number != number {
        return Err(BlockError::Invalid(format!(
            "requested block {number}, the gateway returned block {}",
            header.number
        )));
    }

    if let Some((head_number, head_hash)) = head {
        if header.parent_hash != head_hash {
            return Err(BlockError::ParentMismatch {
                number,
                parent_hash: header.parent_hash,
                head_number,
                head_hash,
            });
        }
        let parent_root = storage
            .header(head_number)
            .map_err(|error| BlockError::Invalid(format!("cannot read the stored head: {error}")))?
            .map(|parent| parent.state_root);
        if parent_root.is_some_and(|root| root != block.old_root) {
            return Err(BlockError::Invalid(format!(
                "state update of block {number} has old_root {:#x}, the stored head's state root is {:#x}",
                block.old_root,
                parent_root.unwrap_or_default()
            )));
        }
    } else if header.parent_hash != BlockHash::ZERO && number == BlockNumber::GENESIS {
        return Err(BlockError::Invalid(format!(
            "genesis block has parent_block_hash {}, expected 0x0",
            header.parent_hash
        )));
    }

    if block.state_update_block_hash != Some(header.hash) {
        return Err(BlockError::Invalid(format!(
            "state update of block {number} names block hash {:?}, the block's hash is {}",
            block.state_update_block_hash, header.hash
        )));
    }
    if block.new_root != header.state_root {
        return Err(BlockError::Invalid(format!(
            "state update of block {number} has new_root {:#x}, the block's state_root is {:#x}",
            block.new_root, header.state_root
        )));
    }
    Ok(())
}

/// Recomputes every transaction hash, commitment and the block hash, and the hashes of
/// the classes the block introduces.
pub fn verify_hashes(
    block: &ConvertedBlock,
    new_classes: &[ClassDefinition],
    chain_id: ChainId,
) -> Result<(), BlockError> {
    let number = block.header.number;
    verify::verify_block(
        &block.header,
        &block.transactions,
        &block.receipts,
        Some(&block.state_diff),
        chain_id,
    )
    .map_err(|error| verify_error(number, error))?;

    let version = StarknetVersion::parse(&block.header.starknet_version)
        .map_err(|error| verify_error(number, error.into()))?;
    for class in new_classes {
        verify_class(class, version).map_err(|error| verify_error(number, error))?;
    }
    Ok(())
}

fn verify_class(class: &ClassDefinition, version: StarknetVersion) -> Result<(), VerifyError> {
    let unhashable = |error: verify::ClassHashError| VerifyError::Unhashable {
        what: format!("class {}", class.hash),
        reason: error.to_string(),
    };
    let computed = match class.kind {
        ClassKind::Cairo0 => verify::cairo0_class_hash(&class.definition).map_err(unhashable)?,
        ClassKind::Sierra { .. } => {
            verify::sierra_class_hash(&class.definition).map_err(unhashable)?
        }
    };
    if computed != class.hash.0 {
        return Err(HashMismatch {
            what: format!("class hash of class {}", class.hash),
            expected: class.hash.0,
            computed,
        }
        .into());
    }

    if let (
        ClassKind::Sierra {
            compiled_class_hash,
        },
        Some(casm),
    ) = (class.kind, &class.compiled)
    {
        let hash_version = CompiledClassHashVersion::for_starknet_version(version);
        let computed = verify::compiled_class_hash_with(casm, hash_version).map_err(unhashable)?;
        if computed != compiled_class_hash.0 {
            return Err(HashMismatch {
                what: format!("compiled class hash of class {}", class.hash),
                expected: compiled_class_hash.0,
                computed,
            }
            .into());
        }
    }
    Ok(())
}

/// Checks the sequencer's signature over the block.
pub fn verify_signature(
    signature: &BlockSignature,
    block: &ConvertedBlock,
    public_key: Felt,
) -> Result<(), BlockError> {
    verify_block_signature(signature, &block.header, &block.state_diff, public_key)
        .map_err(|mismatch| verify_error(block.header.number, mismatch.into()))
}

/// Applies the state diff to the stored tries and compares the new global root with the
/// header's. Returns the trie writes for the block's batch.
pub fn verify_state_root(
    storage: &Storage,
    block: &ConvertedBlock,
    parent: Option<BlockNumber>,
) -> Result<StateCommitmentUpdate, BlockError> {
    let commitment = storage
        .compute_state_commitment(parent, &block.state_diff)
        .map_err(BlockError::Storage)?;
    let computed = commitment.roots.global_root();
    if computed != block.header.state_root {
        return Err(BlockError::Mismatch {
            number: block.header.number,
            what: "state root".into(),
            expected: block.header.state_root,
            computed,
        });
    }
    Ok(commitment)
}

fn verify_error(number: BlockNumber, error: VerifyError) -> BlockError {
    match error {
        VerifyError::Mismatch(mismatch) => BlockError::Mismatch {
            number,
            what: mismatch.what,
            expected: mismatch.expected,
            computed: mismatch.computed,
        },
        other => BlockError::Unverifiable {
            number,
            reason: other.to_string(),
        },
    }
}
