//! `starknet_subscribeNewHeads`: a header notification for every block committed after
//! the subscription, in order, none skipped and none repeated. The root path sends
//! Juno's shapes and starts after the head; the versioned paths can replay from a past
//! block.

use serde::Deserialize;
use serde_json::{json, Value};
use starling_storage::{BlockHeader, BlockNumber, ChainEvent};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, oneshot};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::BlockIdParam;
use crate::session::{Session, SubscriptionId};
use crate::subscription::{self, BlockFeed, Outgoing};
use crate::types::{block_fields, BlockHeaderV07, SpecVersion};
use crate::version::Api;

pub fn handle(context: &RpcContext, session: &mut Session) -> Result<Value, RpcError> {
    // Subscribe before reading the head: a block committed in between is then both
    // in the head and in the channel, and the task skips the channel copy.
    let events = context.storage.subscribe();
    let next = match context.storage.head()? {
        Some((number, _)) => number.next(),
        None => BlockNumber::GENESIS,
    };

    let context = context.clone();
    let outgoing = session.outgoing.clone();
    let id = session.add_subscription(|id, start| {
        tokio::spawn(stream_heads(context, events, next, id, outgoing, start)).abort_handle()
    })?;
    Ok(Value::from(id))
}

/// Sends block `next` and every later block as it is committed. When the task falls
/// behind the commit channel it reads the missed headers from storage, so a slow
/// client delays notifications but never loses one.
async fn stream_heads(
    context: RpcContext,
    mut events: broadcast::Receiver<ChainEvent>,
    mut next: BlockNumber,
    id: SubscriptionId,
    outgoing: Outgoing,
    start: oneshot::Receiver<()>,
) {
    if start.await.is_err() {
        return;
    }

    loop {
        let newest = match events.recv().await {
            Ok(ChainEvent::Committed(header)) => header.number,
            // TODO: notify the client of the reorg; for now only the head is re-read, so
            // blocks that replace the reverted ones are sent as they are committed.
            Ok(ChainEvent::Reverted { .. }) => match context.storage.head() {
                Ok(Some((number, _))) => number,
                Ok(None) => continue,
                Err(error) => {
                    tracing::error!(target: "rpc::ws", subscription = id, %error, "cannot read head");
                    return;
                }
            },
            Err(RecvError::Lagged(skipped)) => {
                tracing::debug!(target: "rpc::ws", subscription = id, skipped, "subscriber lagged, reading from storage");
                match context.storage.head() {
                    Ok(Some((number, _))) => number,
                    Ok(None) => continue,
                    Err(error) => {
                        tracing::error!(target: "rpc::ws", subscription = id, %error, "cannot read head");
                        return;
                    }
                }
            }
            Err(RecvError::Closed) => return,
        };

        while next <= newest {
            let header = match context.storage.header(next) {
                Ok(Some(header)) => header,
                Ok(None) => break,
                Err(error) => {
                    tracing::error!(target: "rpc::ws", subscription = id, block_number = %next, %error, "cannot read header");
                    return;
                }
            };
            if outgoing.send(notification(id, &header)).await.is_err() {
                return;
            }
            next = next.next();
        }
    }
}

fn notification(id: SubscriptionId, header: &BlockHeader) -> String {
    json!({
        "jsonrpc": "2.0",
        "method": "starknet_subscribeNewHeads",
        "params": {
            "result": BlockHeaderV07::from(header),
            "subscription": id,
        },
    })
    .to_string()
}

/// Parameters of `starknet_subscribeNewHeads` on the versioned paths.
#[derive(Deserialize)]
struct VersionedInput {
    #[serde(default)]
    block_id: Option<BlockIdParam>,
}

/// `starknet_subscribeNewHeads` on `/v0_8` and later: sends the header of every block
/// from `block_id` (default: the head) to the head, then of every block committed later,
/// as `starknet_subscriptionNewHeads` notifications with the version's `BLOCK_HEADER`.
pub fn handle_versioned(
    context: &RpcContext,
    api: Api,
    session: &mut Session,
    params: &Params,
) -> Result<Value, RpcError> {
    let input: VersionedInput = params.parse(&["block_id"])?;
    let feed = BlockFeed::subscribe(&context.storage)?;
    let start = subscription::replay_start(context, api, input.block_id, feed.head())?;
    let feed = feed.start_at(start);

    let context = context.clone();
    subscription::spawn(session, move |id, outgoing| {
        send_headers(context, api, feed, id, outgoing)
    })
}

async fn send_headers(
    context: RpcContext,
    api: Api,
    mut feed: BlockFeed,
    id: SubscriptionId,
    outgoing: Outgoing,
) {
    loop {
        let header = match feed.next_header().await {
            Ok(Some(header)) => header,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(target: "rpc::ws", subscription = id, %error, "cannot read the next header; subscription ended");
                return;
            }
        };
        let mut fields = match block_fields(&context.storage, &header, SpecVersion::of(api)) {
            Ok(fields) => fields,
            Err(_) => {
                tracing::error!(target: "rpc::ws", subscription = id, block_number = %header.number, "cannot build the header; subscription ended");
                return;
            }
        };
        // `BLOCK_HEADER` has no status; `block_fields` adds it for block responses.
        fields.remove("status");
        let message =
            subscription::notification("starknet_subscriptionNewHeads", id, Value::Object(fields));
        if outgoing.send(message).await.is_err() {
            return;
        }
    }
}
