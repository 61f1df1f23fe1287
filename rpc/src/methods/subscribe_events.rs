//! `starknet_subscribeEvents`: every event that matches an emitter and key filter, from
//! `block_id` (default: the head) on, as `starknet_subscriptionEvents` notifications.
//!
//! Blocks are read from a [`BlockFeed`], so a block without events (or without matches)
//! is passed over and the subscription goes on with the next one. The block's event
//! filter is consulted first, as for `starknet_getEvents`, and receipts are read only
//! for blocks that may match.
//!
//! With `finality_status` `PRE_CONFIRMED` (v0.9 and later) the events of the
//! pre-confirmed block's executed transactions are sent as they appear, without a block
//! hash, and sent again with `ACCEPTED_ON_L2` once their block is committed, as the
//! specs describe.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

use starling_storage::{
    BlockHash, BlockHeader, BlockNumber, Event, EventQuery, PreConfirmedBlock, Receipt,
    TransactionHash,
};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::{BlockIdParam, RpcFelt};
use crate::session::{Session, SubscriptionId};
use crate::subscription::{self, BlockFeed, ChainItem, ChainWatcher, Outgoing};
use crate::types::SpecVersion;
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    /// One address, or from v0.10 on also a list.
    #[serde(default)]
    from_address: Option<Value>,
    #[serde(default)]
    keys: Option<Vec<Vec<RpcFelt>>>,
    #[serde(default)]
    block_id: Option<BlockIdParam>,
    /// `PRE_CONFIRMED` or `ACCEPTED_ON_L2`, from v0.9 on.
    #[serde(default)]
    finality_status: Option<String>,
}

pub fn handle(
    context: &RpcContext,
    api: Api,
    session: &mut Session,
    params: &Params,
) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["from_address", "keys", "block_id", "finality_status"])?;
    let limits = &context.ws_limits;
    let addresses =
        subscription::parse_addresses(input.from_address, api, limits.max_filter_addresses)?;
    let keys = subscription::parse_event_keys(input.keys, limits.max_filter_keys)?;
    let pre_confirmed =
        check_finality_status(api, input.finality_status.as_deref())? == Some("PRE_CONFIRMED");
    let query = EventQuery { addresses, keys };

    let feed = BlockFeed::subscribe(&context.storage)?;
    let start = subscription::replay_start(context, api, input.block_id, feed.head())?;
    let feed = feed.start_at(start)?;
    let watcher = ChainWatcher::new(feed, pre_confirmed.then_some(&context.pre_confirmed));

    let context = context.clone();
    subscription::spawn(session, move |id, outgoing| {
        send_events(context, api, query, watcher, id, outgoing)
    })
}

/// Checks `finality_status` and returns it.
fn check_finality_status(api: Api, status: Option<&str>) -> Result<Option<&str>, RpcError> {
    match (status, api) {
        (None, _) => Ok(None),
        (Some(_), Api::Root | Api::V0_7 | Api::V0_8) => Err(RpcError::invalid_params(format!(
            "finality_status needs spec v0.9 or later, not {}",
            api.spec_version()
        ))),
        (Some(status @ ("PRE_CONFIRMED" | "ACCEPTED_ON_L2")), _) => Ok(Some(status)),
        (Some(other), _) => Err(RpcError::invalid_params(format!(
            "invalid finality_status {other:?}: expected \"PRE_CONFIRMED\" or \"ACCEPTED_ON_L2\""
        ))),
    }
}

async fn send_events(
    context: RpcContext,
    api: Api,
    query: EventQuery,
    mut watcher: ChainWatcher,
    id: SubscriptionId,
    outgoing: Outgoing,
) {
    // Transactions of the pre-confirmed block `reported_block` whose events were sent.
    let mut reported: HashSet<TransactionHash> = HashSet::new();
    let mut reported_block: Option<BlockNumber> = None;
    loop {
        let messages = match watcher.next().await {
            Ok(Some(ChainItem::Block(header))) => {
                if reported_block.is_some_and(|number| number <= header.number) {
                    reported.clear();
                    reported_block = None;
                }
                match block_notifications(&context, api, &query, &header, id) {
                    Ok(messages) => messages,
                    Err(error) => {
                        tracing::error!(target: "rpc::ws", subscription = id, block_number = %header.number, %error, "cannot read events; subscription ended");
                        return;
                    }
                }
            }
            Ok(Some(ChainItem::PreConfirmed(block))) => {
                if reported_block != Some(block.number) {
                    reported.clear();
                    reported_block = Some(block.number);
                }
                pre_confirmed_notifications(api, &query, &block, &mut reported, id)
            }
            Ok(Some(ChainItem::Reorg(reorg))) => {
                reported.clear();
                reported_block = None;
                vec![subscription::reorg_notification(id, &reorg)]
            }
            Ok(None) => return,
            Err(error) => {
                tracing::error!(target: "rpc::ws", subscription = id, %error, "cannot read the next header; subscription ended");
                return;
            }
        };
        for message in messages {
            if outgoing.send(message).await.is_err() {
                return;
            }
        }
    }
}

/// Builds the notifications of the matching events of the pre-confirmed block's
/// executed transactions that are not in `reported`, and adds those transactions to it.
fn pre_confirmed_notifications(
    api: Api,
    query: &EventQuery,
    block: &PreConfirmedBlock,
    reported: &mut HashSet<TransactionHash>,
    id: SubscriptionId,
) -> Vec<String> {
    let origin = EventOrigin {
        block_hash: None,
        block_number: block.number,
        finality_status: "PRE_CONFIRMED",
    };
    let mut messages = Vec::new();
    for (transaction_index, receipt) in block.receipts.iter().enumerate() {
        if reported.insert(receipt.transaction_hash) {
            let matches = receipt_notifications(api, query, origin, transaction_index, receipt, id);
            messages.extend(matches);
        }
    }
    messages
}

/// Builds the notifications of the matching events of one receipt, the
/// `transaction_index`th of its block.
fn receipt_notifications<'a>(
    api: Api,
    query: &'a EventQuery,
    origin: EventOrigin,
    transaction_index: usize,
    receipt: &'a Receipt,
    id: SubscriptionId,
) -> impl Iterator<Item = String> + 'a {
    receipt
        .events
        .iter()
        .enumerate()
        .filter(|(_, event)| query.matches(event))
        .map(move |(event_index, event)| {
            let position = EventPosition {
                transaction_index,
                event_index,
            };
            let result = emitted_event(api, origin, receipt, event, position);
            subscription::notification("starknet_subscriptionEvents", id, result)
        })
}

/// Builds the notifications of the block's matching events, in receipt order.
fn block_notifications(
    context: &RpcContext,
    api: Api,
    query: &EventQuery,
    header: &BlockHeader,
    id: SubscriptionId,
) -> Result<Vec<String>, starling_storage::StorageError> {
    if !context
        .storage
        .block_may_match_events(header.number, query)?
    {
        return Ok(Vec::new());
    }
    let receipts = context.storage.receipts(header.number)?;
    let origin = EventOrigin {
        block_hash: Some(header.hash),
        block_number: header.number,
        finality_status: header.status.as_str(),
    };
    let mut messages = Vec::new();
    for (transaction_index, receipt) in receipts.iter().enumerate() {
        let matches = receipt_notifications(api, query, origin, transaction_index, receipt, id);
        messages.extend(matches);
    }
    Ok(messages)
}

/// Where an event sits in its block: its transaction's index and its index in the
/// transaction's receipt.
#[derive(Clone, Copy)]
struct EventPosition {
    transaction_index: usize,
    event_index: usize,
}

/// The block an event is in: a committed one, or the pre-confirmed block, which has no
/// hash yet.
#[derive(Clone, Copy)]
struct EventOrigin {
    block_hash: Option<BlockHash>,
    block_number: BlockNumber,
    finality_status: &'static str,
}

/// Builds `EMITTED_EVENT`, with `finality_status` from v0.9 and the transaction and
/// event indices from v0.10.
fn emitted_event(
    api: Api,
    origin: EventOrigin,
    receipt: &Receipt,
    event: &Event,
    position: EventPosition,
) -> Value {
    let mut object = Map::new();
    object.insert("from_address".into(), json!(event.from_address));
    object.insert("keys".into(), json!(event.keys));
    object.insert("data".into(), json!(event.data));
    if let Some(block_hash) = origin.block_hash {
        object.insert("block_hash".into(), json!(block_hash));
    }
    object.insert("block_number".into(), json!(origin.block_number.get()));
    object.insert("transaction_hash".into(), json!(receipt.transaction_hash));
    let version = SpecVersion::of(api);
    if version >= SpecVersion::V0_9 {
        object.insert("finality_status".into(), json!(origin.finality_status));
    }
    if version >= SpecVersion::V0_10 {
        object.insert(
            "transaction_index".into(),
            json!(position.transaction_index),
        );
        object.insert("event_index".into(), json!(position.event_index));
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finality_status_needs_v0_9() {
        assert!(check_finality_status(Api::V0_8, None).is_ok());
        assert_eq!(
            check_finality_status(Api::V0_8, Some("ACCEPTED_ON_L2"))
                .unwrap_err()
                .code,
            -32602
        );
        assert!(check_finality_status(Api::V0_9, Some("PRE_CONFIRMED")).is_ok());
        assert!(check_finality_status(Api::V0_10, Some("ACCEPTED_ON_L1")).is_err());
    }
}
