//! `starknet_subscribeNewHeads`: a header notification for every block committed after
//! the subscription, in order, none skipped and none repeated. The root path sends
//! Juno's shapes and starts after the head; the versioned paths can replay from a past
//! block.

use serde::Deserialize;
use serde_json::{json, Value};
use starling_storage::BlockHeader;
use tokio::sync::oneshot;

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::BlockIdParam;
use crate::session::{Session, SubscriptionId};
use crate::subscription::{self, BlockFeed, FeedItem, Outgoing};
use crate::types::{block_fields, BlockHeaderV07, SpecVersion};
use crate::version::Api;

pub fn handle(context: &RpcContext, session: &mut Session) -> Result<Value, RpcError> {
    // The feed subscribes to commits before it reads the head, so a block committed in
    // between is sent once.
    let feed = BlockFeed::subscribe(&context.storage)?;
    let outgoing = session.outgoing.clone();
    let id = session.add_subscription(|id, start| {
        tokio::spawn(stream_heads(feed, id, outgoing, start)).abort_handle()
    })?;
    Ok(Value::from(id))
}

/// Sends every block committed after the subscription, in order. Juno's shapes on this
/// path have no reorg notification: after a reorg the blocks that replace the reverted
/// ones are sent as they are committed.
async fn stream_heads(
    mut feed: BlockFeed,
    id: SubscriptionId,
    outgoing: Outgoing,
    start: oneshot::Receiver<()>,
) {
    if start.await.is_err() {
        return;
    }
    loop {
        let header = match feed.next_header().await {
            Ok(Some(header)) => header,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(target: "rpc::ws", subscription = id, %error, "cannot read the next header; subscription ended");
                return;
            }
        };
        if outgoing.send(notification(id, &header)).await.is_err() {
            return;
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
    let feed = feed.start_at(start)?;

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
        let header = match feed.next_item().await {
            Ok(Some(FeedItem::Block(header))) => header,
            Ok(Some(FeedItem::Reorg(reorg))) => {
                if outgoing
                    .send(subscription::reorg_notification(id, &reorg))
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
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
