//! State shared by every request handler, and block-id resolution.

use starling_metrics::Metrics;
use std::sync::Arc;

use starling_storage::{
    BlockHeader, BlockNumber, BlockStatus, PreConfirmedBlock, PreConfirmedHandle, Storage,
    SyncStatus, TransactionHash, TransactionLocation,
};

use crate::error::RpcError;
use crate::params::BlockId;

/// How far back `l1_accepted` looks for a block that was accepted on L1 when synced.
const L1_ACCEPTED_SCAN_LIMIT: u64 = 10_000;

/// State every handler needs: the database, the node's identity, the sync progress and
/// the request limits.
#[derive(Clone, Debug)]
pub struct RpcContext {
    pub storage: Storage,
    /// Returned by `juno_version`, such as `v0.1.0`.
    pub node_version: String,
    /// The sync loop's progress for `starknet_syncing`. [`RpcContext::new`] starts with a
    /// handle that nothing updates; share the sync loop's handle with
    /// [`RpcContext::with_sync_status`].
    pub sync_status: SyncStatus,
    /// The block being built after the head, for the `pending` and `pre_confirmed` block
    /// ids. [`RpcContext::new`] starts with a handle that nothing sets; share the
    /// pre-confirmed poller's handle with [`RpcContext::with_pre_confirmed`].
    pub pre_confirmed: PreConfirmedHandle,
    pub limits: RpcLimits,
    pub ws_limits: WsLimits,
    /// Request counts and latencies, and WebSocket gauges. [`RpcContext::new`] starts with
    /// a disabled handle; share the node's with [`RpcContext::with_metrics`].
    pub metrics: Metrics,
}

/// Limits on the work one request may ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcLimits {
    /// Largest HTTP request body or WebSocket message, in bytes. A larger HTTP body gets
    /// HTTP 413, and a larger WebSocket message closes the connection.
    pub max_request_bytes: usize,
    /// Most requests in one batch; a larger batch gets one -32600 error.
    pub max_batch_size: usize,
    /// Most HTTP requests handled at once; further requests wait for a slot.
    pub max_concurrent_requests: usize,
    /// Maximum `chunk_size` of `starknet_getEvents`; a larger one is error 31.
    pub events_max_chunk_size: usize,
    /// Maximum number of keys in one `starknet_getEvents` filter, summed over all
    /// positions; more is error 34.
    pub events_max_keys: usize,
    /// Maximum number of addresses in one v0.10 `starknet_getEvents` filter; more is
    /// rejected with -32602, because the spec has no error for it.
    pub events_max_addresses: usize,
    /// Maximum number of blocks one `starknet_getEvents` request visits, counting blocks
    /// that the event index lets it skip. A request that reaches the limit returns the
    /// events found so far and a continuation token.
    pub events_max_blocks: u64,
    /// Maximum number of keys in one `starknet_getStorageProof` request, counting class
    /// hashes, contract addresses and storage keys together. More is rejected with -32602.
    pub storage_proof_max_keys: usize,
}

impl Default for RpcLimits {
    /// Returns the defaults. The chunk size and proof-key limits are Pathfinder's (1024 and
    /// 100 in its `get_events.rs` and `get_storage_proof.rs` at commit afd4b22, May 2026).
    /// The other event limits are this node's choices and were not measured. A visited
    /// block costs one point read of its event filter, and a block whose filter may match
    /// costs a read of all its receipts.
    fn default() -> Self {
        Self {
            // Read requests are small: 10 MiB leaves room for large batches without
            // letting one client make the node buffer much more.
            max_request_bytes: 10 << 20,
            max_batch_size: 1024,
            // Handlers are short RocksDB reads on the blocking pool; 256 keeps its
            // threads (512 by default in tokio) from all being taken by RPC.
            max_concurrent_requests: 256,
            events_max_chunk_size: 1024,
            events_max_keys: 256,
            events_max_addresses: 1024,
            events_max_blocks: 10_000,
            storage_proof_max_keys: 100,
        }
    }
}

/// Limits on WebSocket connections and their subscriptions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsLimits {
    /// Maximum number of open WebSocket connections; the upgrade of one more is rejected
    /// with HTTP 503.
    pub max_connections: usize,
    /// Maximum number of subscriptions one connection may hold; one more is rejected
    /// with error -32005 until the client unsubscribes from another.
    pub max_subscriptions_per_connection: usize,
    /// Maximum number of keys in one `starknet_subscribeEvents` filter, summed over all
    /// positions; more is error 34.
    pub max_filter_keys: usize,
    /// Maximum number of addresses in one subscription filter (`from_address`,
    /// `sender_address`); more is error 67.
    pub max_filter_addresses: usize,
    /// Maximum number of blocks behind the head that a subscription's `block_id` may
    /// name; older is error 68. The specs of v0.8 to v0.10 fix it at 1024.
    pub max_replay_blocks: u64,
    /// Maximum number of messages queued for one connection. A subscription whose
    /// message does not fit waits, and the connection stops reading requests.
    pub max_queued_messages: usize,
    /// Maximum number of bytes queued for one connection, with the same back-pressure.
    pub max_queued_bytes: usize,
    /// Seconds a client may leave one message unread (the socket accepts no more bytes)
    /// before the node closes the connection with a close frame that names the reason.
    pub max_stall_secs: u64,
    /// Seconds between pings. A connection that has not sent a pong by the next ping
    /// is closed.
    pub ping_interval_secs: u64,
}

impl Default for WsLimits {
    /// Returns the defaults. The replay depth is the specs' 1024 blocks; the other values
    /// are this node's choices and were not measured.
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_subscriptions_per_connection: 64,
            max_filter_keys: 256,
            max_filter_addresses: 1024,
            max_replay_blocks: 1024,
            // About 256 block headers: a subscription replaying 1024 blocks waits for the
            // client after a quarter of them instead of buffering all.
            max_queued_messages: 256,
            max_queued_bytes: 16 << 20,
            max_stall_secs: 30,
            ping_interval_secs: 30,
        }
    }
}

/// A block id resolved against storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolvedBlock {
    Committed(BlockHeader),
    /// The block after the head, still being built: the pre-confirmed block when the
    /// node holds one that builds on the head, else an empty block whose state is the
    /// head's state.
    Pending {
        parent: BlockHeader,
        block: Option<Arc<PreConfirmedBlock>>,
    },
}

impl ResolvedBlock {
    /// Returns the committed block whose state a read at this block id uses.
    pub fn state_block(&self) -> BlockNumber {
        match self {
            ResolvedBlock::Committed(header) => header.number,
            ResolvedBlock::Pending { parent, .. } => parent.number,
        }
    }

    /// Returns the pre-confirmed block this id names, if any; its state diff applies on
    /// top of [`ResolvedBlock::state_block`].
    pub fn pre_confirmed(&self) -> Option<&PreConfirmedBlock> {
        match self {
            ResolvedBlock::Committed(_) => None,
            ResolvedBlock::Pending { block, .. } => block.as_deref(),
        }
    }
}

/// Location of a transaction found by hash: a committed block, the executed transactions
/// of the pre-confirmed block, or its candidates (included but not executed yet).
#[derive(Clone, Debug)]
pub enum FoundTransaction {
    Committed(TransactionLocation),
    PreConfirmed(Arc<PreConfirmedBlock>),
    Candidate(Arc<PreConfirmedBlock>),
}

impl RpcContext {
    pub fn new(storage: Storage) -> Self {
        Self {
            storage,
            node_version: format!("v{}", env!("CARGO_PKG_VERSION")),
            sync_status: SyncStatus::new(),
            pre_confirmed: PreConfirmedHandle::new(),
            limits: RpcLimits::default(),
            ws_limits: WsLimits::default(),
            metrics: Metrics::disabled(),
        }
    }

    /// Records requests and connections into the node's metrics.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Shares the sync loop's progress handle, so that `starknet_syncing` reports it.
    pub fn with_sync_status(mut self, sync_status: SyncStatus) -> Self {
        self.sync_status = sync_status;
        self
    }

    /// Shares the pre-confirmed poller's handle, so that `pending` and `pre_confirmed`
    /// name its block.
    pub fn with_pre_confirmed(mut self, pre_confirmed: PreConfirmedHandle) -> Self {
        self.pre_confirmed = pre_confirmed;
        self
    }

    pub fn with_limits(mut self, limits: RpcLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn with_ws_limits(mut self, ws_limits: WsLimits) -> Self {
        self.ws_limits = ws_limits;
        self
    }

    /// Returns the newest committed header, or error 24 when there is none.
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
                let parent = self.latest_header()?;
                let block = self.pre_confirmed.block_on(parent.number, parent.hash);
                return Ok(ResolvedBlock::Pending { parent, block });
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
            ResolvedBlock::Pending { parent, .. } => Ok(parent),
        }
    }

    /// Finds a transaction in the committed blocks, then in the pre-confirmed block on
    /// the head. The second read of storage covers a block committed between the first
    /// two reads, which hides the pre-confirmed block that held the transaction.
    pub fn find_transaction(
        &self,
        hash: TransactionHash,
    ) -> Result<Option<FoundTransaction>, RpcError> {
        if let Some(location) = self.storage.transaction_location(hash)? {
            return Ok(Some(FoundTransaction::Committed(location)));
        }
        if let Some((number, head_hash)) = self.storage.head()? {
            if let Some(block) = self.pre_confirmed.block_on(number, head_hash) {
                if block.transaction(hash).is_some() {
                    return Ok(Some(FoundTransaction::PreConfirmed(block)));
                }
                if block.candidate_transaction(hash).is_some() {
                    return Ok(Some(FoundTransaction::Candidate(block)));
                }
            }
        }
        Ok(self
            .storage
            .transaction_location(hash)?
            .map(FoundTransaction::Committed))
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

/// A pre-confirmed block for handler tests.
#[cfg(test)]
pub(crate) mod pre_confirmed_fixture {
    use starling_storage::*;

    use super::RpcContext;

    /// Hashes of the block's executed transactions and of its candidate.
    pub const SUCCEEDED: u64 = 0x9000;
    pub const REVERTED: u64 = 0x9001;
    pub const CANDIDATE: u64 = 0x9002;
    /// The contract whose slot 0x5 the block sets to 0x77, and which it deploys with
    /// class 0xaa.
    pub const DEPLOYED: u64 = 0xd00;

    fn l1_handler(hash: u64) -> Transaction {
        Transaction {
            hash: TransactionHash(Felt::from(hash)),
            variant: TransactionVariant::L1Handler(L1HandlerTransaction {
                version: Felt::ZERO,
                nonce: Felt::from(hash),
                contract_address: ContractAddress(Felt::from(DEPLOYED)),
                entry_point_selector: Felt::from(0x1e1u64),
                calldata: vec![Felt::from(0xe7u64)],
            }),
        }
    }

    fn receipt(hash: u64, execution_status: ExecutionStatus, events: Vec<Event>) -> Receipt {
        Receipt {
            transaction_hash: TransactionHash(Felt::from(hash)),
            actual_fee: Felt::from(0x10u64),
            execution_status,
            events,
            l2_to_l1_messages: vec![],
            l1_to_l2_consumed_message: None,
            execution_resources: ExecutionResources::default(),
        }
    }

    /// Sets a pre-confirmed block on the head of `context`: two executed L1 handlers (the
    /// first emits one event from `DEPLOYED` with key 0x11, the second reverted) and one
    /// candidate.
    pub fn set_on_head(context: &RpcContext) -> PreConfirmedBlock {
        let head = context.latest_header().unwrap();
        let event = Event {
            from_address: ContractAddress(Felt::from(DEPLOYED)),
            keys: vec![Felt::from(0x11u64)],
            data: vec![Felt::from(0x1u64)],
        };
        let block = PreConfirmedBlock {
            number: head.number.next(),
            parent_hash: head.hash,
            timestamp: 1_800_000_000,
            sequencer_address: ContractAddress(Felt::from(0x5eu64)),
            starknet_version: "0.14.0".into(),
            l1_gas_price: GasPrices {
                price_in_wei: Felt::from(0x10u64),
                price_in_fri: Felt::from(0x11u64),
            },
            l1_data_gas_price: GasPrices::default(),
            l2_gas_price: GasPrices::default(),
            l1_da_mode: L1DataAvailabilityMode::Blob,
            transactions: vec![l1_handler(SUCCEEDED), l1_handler(REVERTED)],
            receipts: vec![
                receipt(SUCCEEDED, ExecutionStatus::Succeeded, vec![event]),
                receipt(
                    REVERTED,
                    ExecutionStatus::Reverted {
                        reason: "out of gas".into(),
                    },
                    vec![],
                ),
            ],
            candidate_transactions: vec![l1_handler(CANDIDATE)],
            state_diff: StateDiff {
                storage_diffs: vec![ContractStorageDiff {
                    address: ContractAddress(Felt::from(DEPLOYED)),
                    entries: vec![StorageEntry {
                        key: StorageKey(Felt::from(0x5u64)),
                        value: Felt::from(0x77u64),
                    }],
                }],
                nonces: vec![NonceUpdate {
                    contract_address: ContractAddress(Felt::from(DEPLOYED)),
                    nonce: Felt::from(0x3u64),
                }],
                deployed_contracts: vec![DeployedContract {
                    address: ContractAddress(Felt::from(DEPLOYED)),
                    class_hash: ClassHash(Felt::from(0xaau64)),
                }],
                ..StateDiff::default()
            },
        };
        context.pre_confirmed.set(block.clone());
        block
    }
}
