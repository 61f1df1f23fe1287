//! State shared by every request handler, and block-id resolution.

use starling_storage::{BlockHeader, BlockNumber, BlockStatus, Storage};

use crate::error::RpcError;
use crate::params::BlockId;

/// How far back `l1_accepted` looks for a block that was accepted on L1 when synced.
const L1_ACCEPTED_SCAN_LIMIT: u64 = 10_000;

/// What handlers need: the database and the node's identity.
#[derive(Clone, Debug)]
pub struct RpcContext {
    pub storage: Storage,
    /// Returned by `juno_version`, such as `v0.1.0`.
    pub node_version: String,
}

/// A block id resolved against storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolvedBlock {
    Committed(BlockHeader),
    /// The block after the head, still being built. The node keeps no pre-confirmed data
    /// yet, so it is empty and its state is the head's state.
    Pending {
        parent: BlockHeader,
    },
}

impl ResolvedBlock {
    /// The committed block whose state a read at this block id sees.
    pub fn state_block(&self) -> BlockNumber {
        match self {
            ResolvedBlock::Committed(header) => header.number,
            ResolvedBlock::Pending { parent } => parent.number,
        }
    }
}

impl RpcContext {
    pub fn new(storage: Storage) -> Self {
        Self {
            storage,
            node_version: format!("v{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The newest committed header, or error 24 when there is none.
    pub fn latest_header(&self) -> Result<BlockHeader, RpcError> {
        let (number, _) = self.storage.head()?.ok_or_else(RpcError::block_not_found)?;
        self.storage
            .header(number)?
            .ok_or_else(RpcError::block_not_found)
    }

    /// Resolves a block id; an unknown block is error 24.
    pub fn resolve_block(&self, id: BlockId) -> Result<ResolvedBlock, RpcError> {
        let header = match id {
            BlockId::Latest => self.latest_header()?,
            BlockId::Pending => {
                return Ok(ResolvedBlock::Pending {
                    parent: self.latest_header()?,
                })
            }
            BlockId::Number(number) => self
                .storage
                .header(number)?
                .ok_or_else(RpcError::block_not_found)?,
            BlockId::Hash(hash) => self
                .storage
                .header_by_hash(hash)?
                .ok_or_else(RpcError::block_not_found)?,
            BlockId::L1Accepted => self.newest_l1_accepted()?,
        };
        Ok(ResolvedBlock::Committed(header))
    }

    /// Resolves a block id that must name a committed block (as for `getStorageProof`,
    /// which has no pending state): `pending` resolves to the head.
    pub fn resolve_committed(&self, id: BlockId) -> Result<BlockHeader, RpcError> {
        match self.resolve_block(id)? {
            ResolvedBlock::Committed(header) => Ok(header),
            ResolvedBlock::Pending { parent } => Ok(parent),
        }
    }

    // NOTE: the status is the one the gateway reported when the block was synced; the
    // node does not yet refresh it when L1 accepts a block later.
    fn newest_l1_accepted(&self) -> Result<BlockHeader, RpcError> {
        let head = self.latest_header()?;
        let oldest = head.number.get().saturating_sub(L1_ACCEPTED_SCAN_LIMIT);
        for number in (oldest..=head.number.get()).rev() {
            if let Some(header) = self.storage.header(BlockNumber(number))? {
                if header.status == BlockStatus::AcceptedOnL1 {
                    return Ok(header);
                }
            }
        }
        Err(RpcError::block_not_found())
    }
}
