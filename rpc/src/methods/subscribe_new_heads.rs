//! `starknet_subscribeNewHeads` on the root path: a header notification for every block
//! committed after the subscription, in order, none skipped and none repeated.

use serde_json::{json, Value};
use starling_storage::{BlockHeader, BlockNumber, ChainEvent};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::session::{Session, SubscriptionId};
use crate::types::BlockHeaderV07;

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
    });
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
    outgoing: mpsc::Sender<String>,
    start: oneshot::Receiver<()>,
) {
    if start.await.is_err() {
        return;
    }

    loop {
        let newest = match events.recv().await {
            Ok(ChainEvent::Committed(header)) => header.number,
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
