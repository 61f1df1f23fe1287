//! Machinery shared by the subscriptions of the versioned paths (`/v0_8` and later):
//! subscription ids, the connection's outgoing queue, the block feed that replays and
//! then follows the chain, filter parsing, start blocks and notification envelopes.
//!
//! Each subscription is one task started by [`spawn`]. It waits until the response to
//! its subscribe request is queued, then reads blocks from a [`BlockFeed`] (or a
//! [`ChainWatcher`] when it also follows the pre-confirmed block) and queues
//! notifications on the connection's [`Outgoing`] queue. The three transaction
//! subscriptions start through [`spawn_transaction_subscription`]. The task ends when the client
//! unsubscribes or the connection closes, both of which abort it.

mod chain;
mod feed;
mod filter;
mod ids;
mod outgoing;
mod transactions;

pub use chain::{ChainItem, ChainWatcher};
pub use feed::{BlockFeed, FeedItem, Reorg};
pub use filter::{parse_addresses, parse_event_keys, parse_sender_addresses};
pub use ids::{release_id, reserve_id};
pub use outgoing::{Closed, Outgoing, OutgoingQueue, QueuedMessage};
pub use transactions::{
    spawn_transaction_subscription, Reported, Stage, Stages, TransactionBlock,
    TransactionSubscription,
};

use std::future::Future;

use serde_json::{json, Value};
use starling_storage::BlockNumber;

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::params::BlockIdParam;
use crate::session::{Session, SubscriptionId};
use crate::version::Api;

/// Starknet error 67.
pub fn too_many_addresses_in_filter(count: usize, max: usize) -> RpcError {
    RpcError {
        code: 67,
        message: "Too many addresses in filter sender_address filter".into(),
        data: Some(json!(format!(
            "the filter has {count} addresses; this node allows at most {max}"
        ))),
    }
}

/// Starknet error 68.
pub fn too_many_blocks_back(blocks_back: u64, max: u64) -> RpcError {
    RpcError {
        code: 68,
        message: "Cannot go back more than 1024 blocks".into(),
        data: Some(json!(format!(
            "the block is {blocks_back} blocks behind the head; this node replays at most {max}"
        ))),
    }
}

/// Error -32005 (the "limit exceeded" code of EIP-1474, in the JSON-RPC range for
/// server errors): the connection holds the maximum number of subscriptions. The specs
/// define no error for it.
pub fn too_many_subscriptions(max: usize) -> RpcError {
    RpcError {
        code: -32005,
        message: "Limit exceeded".into(),
        data: Some(json!(format!(
            "this connection already has {max} subscriptions, the maximum; unsubscribe from one first"
        ))),
    }
}

/// Builds a notification: `{"subscription_id": "<id>", "result": result}` as the
/// params of `method`.
pub fn notification(method: &str, id: SubscriptionId, result: Value) -> String {
    json!({
        "jsonrpc": "2.0",
        "method": method,
        "params": {
            "subscription_id": id.to_string(),
            "result": result,
        },
    })
    .to_string()
}

/// Builds the `starknet_subscriptionReorg` notification for `reorg`.
pub fn reorg_notification(id: SubscriptionId, reorg: &Reorg) -> String {
    notification("starknet_subscriptionReorg", id, reorg.to_json())
}

/// Registers a subscription on `session` and spawns `task` for it. The task starts
/// after the response to the subscribe request is queued. Returns the subscription id
/// as the string that the subscribe request returns.
pub fn spawn<F, Fut>(session: &mut Session, task: F) -> Result<Value, RpcError>
where
    F: FnOnce(SubscriptionId, Outgoing) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let outgoing = session.outgoing.clone();
    let id = session.add_subscription(|id, start| {
        tokio::spawn(async move {
            if start.await.is_ok() {
                task(id, outgoing).await;
            }
        })
        .abort_handle()
    })?;
    Ok(Value::String(id.to_string()))
}

/// Resolves a subscription's `block_id` to the first block to replay. An absent id and
/// `latest` are the head; on an empty chain the subscription starts at genesis.
///
/// `head` is the head that the subscription's [`BlockFeed`] read, so that the replay
/// and the live blocks meet at the same block. An unknown block is error 24; a block
/// more than [`WsLimits::max_replay_blocks`] behind the head is error 68.
///
/// [`WsLimits::max_replay_blocks`]: crate::context::WsLimits::max_replay_blocks
pub fn replay_start(
    context: &RpcContext,
    api: Api,
    block_id: Option<BlockIdParam>,
    head: Option<BlockNumber>,
) -> Result<BlockNumber, RpcError> {
    let number = match block_id {
        None => return Ok(head.unwrap_or(BlockNumber::GENESIS)),
        Some(BlockIdParam::Tag(tag)) if tag == "latest" => {
            return Ok(head.unwrap_or(BlockNumber::GENESIS))
        }
        Some(BlockIdParam::Tag(tag)) => {
            return Err(RpcError::invalid_params(format!(
                "invalid block tag {tag:?}: subscriptions of spec {} accept only \"latest\"",
                api.spec_version()
            )))
        }
        Some(BlockIdParam::Number { block_number }) => BlockNumber(block_number),
        Some(BlockIdParam::Hash { block_hash }) => context
            .storage
            .block_number_by_hash(starling_storage::BlockHash(block_hash.0))?
            .ok_or_else(RpcError::block_not_found)?,
    };

    let Some(head) = head.filter(|head| number <= *head) else {
        return Err(RpcError::block_not_found());
    };
    let blocks_back = head.get() - number.get();
    let max = context.ws_limits.max_replay_blocks;
    if blocks_back > max {
        return Err(too_many_blocks_back(blocks_back, max));
    }
    Ok(number)
}
