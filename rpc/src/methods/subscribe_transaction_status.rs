//! `starknet_subscribeTransactionStatus`: the transaction's current status at once if
//! the node knows it, then every change until the status is final, as
//! `starknet_subscriptionTransactionStatus` notifications.
//!
//! Status changes come from a `StatusTracker`, which sends a notification whenever
//! the observed status differs from the last one sent. The task looks the transaction
//! up as `starknet_getTransactionStatus` does, in storage and in the pre-confirmed
//! block, after each committed block and each change of the pre-confirmed block, so a
//! transaction goes from `CANDIDATE` to `PRE_CONFIRMED` to `ACCEPTED_ON_L2`.
//!
//! NOTE: the node records a block's L1 status when it syncs the block and does not
//! update it later, so a transaction seen as `ACCEPTED_ON_L2` stays there and the
//! subscription stays open until the client unsubscribes.

use serde::Deserialize;
use serde_json::{json, Value};
use starling_storage::{BlockNumber, TransactionHash};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::methods::get_transaction_status;
use crate::params::RpcFelt;
use crate::session::{Session, SubscriptionId};
use crate::subscription::{self, BlockFeed, ChainItem, ChainWatcher, Outgoing};
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    transaction_hash: RpcFelt,
}

pub fn handle(
    context: &RpcContext,
    api: Api,
    session: &mut Session,
    params: &Params,
) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["transaction_hash"])?;
    let hash = TransactionHash(input.transaction_hash.0);
    // Subscribing before the first lookup means that a commit in between is seen either
    // by the lookup or as the next block.
    let feed = BlockFeed::subscribe(&context.storage)?;
    let watcher = ChainWatcher::new(feed, Some(&context.pre_confirmed));
    let context = context.clone();
    subscription::spawn(session, move |id, outgoing| {
        send_statuses(context, api, watcher, hash, id, outgoing)
    })
}

async fn send_statuses(
    context: RpcContext,
    api: Api,
    mut watcher: ChainWatcher,
    hash: TransactionHash,
    id: SubscriptionId,
    outgoing: Outgoing,
) {
    let mut tracker = StatusTracker::new(hash);
    loop {
        let status = match get_transaction_status::transaction_status(&context, api, hash) {
            Ok(status) => status,
            Err(error) => {
                tracing::error!(target: "rpc::ws", subscription = id, transaction_hash = %hash.0, ?error, "cannot read a transaction status; subscription ended");
                return;
            }
        };
        if let Some(result) =
            status.and_then(|(status, block)| tracker.observe(status, Some(block)))
        {
            let message =
                subscription::notification("starknet_subscriptionTransactionStatus", id, result);
            if outgoing.send(message).await.is_err() {
                return;
            }
        }
        if tracker.is_final() {
            return;
        }

        match watcher.next().await {
            Ok(Some(ChainItem::Block(_) | ChainItem::PreConfirmed(_))) => {}
            Ok(Some(ChainItem::Reorg(reorg))) => {
                // Only a reorg that removed the block of the status last sent makes
                // that status wrong.
                if tracker.block.is_some_and(|block| block >= reorg.first.0) {
                    tracker.forget();
                    if outgoing
                        .send(subscription::reorg_notification(id, &reorg))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
            Ok(None) => return,
            Err(error) => {
                tracing::error!(target: "rpc::ws", subscription = id, %error, "cannot read the next block; subscription ended");
                return;
            }
        }
    }
}

/// The last status sent for one transaction.
#[derive(Debug)]
struct StatusTracker {
    hash: TransactionHash,
    last: Option<Value>,
    /// The block that held the transaction when the last status was sent.
    block: Option<BlockNumber>,
}

impl StatusTracker {
    fn new(hash: TransactionHash) -> Self {
        Self {
            hash,
            last: None,
            block: None,
        }
    }

    /// Records `status` (a `TXN_STATUS_RESULT`) observed in `block` and returns the
    /// `NEW_TXN_STATUS` to send, or `None` when it equals the last status sent.
    fn observe(&mut self, status: Value, block: Option<BlockNumber>) -> Option<Value> {
        if self.last.as_ref() == Some(&status) && self.block == block {
            return None;
        }
        self.last = Some(status.clone());
        self.block = block;
        Some(json!({ "transaction_hash": self.hash, "status": status }))
    }

    /// Forgets the last status, after a reorg removed the block it came from, so that
    /// the status in the new chain is sent even when it is the same.
    fn forget(&mut self) {
        self.last = None;
        self.block = None;
    }

    /// `ACCEPTED_ON_L1` and `REJECTED` never change.
    fn is_final(&self) -> bool {
        self.last.as_ref().is_some_and(|status| {
            matches!(
                status["finality_status"].as_str(),
                Some("ACCEPTED_ON_L1" | "REJECTED")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use starling_storage::Felt;

    use super::*;

    #[test]
    fn tracker_sends_only_changes() {
        let mut tracker = StatusTracker::new(TransactionHash(Felt::from(7u8)));
        let on_l2 = json!({ "finality_status": "ACCEPTED_ON_L2", "execution_status": "SUCCEEDED" });
        let sent = tracker
            .observe(on_l2.clone(), Some(BlockNumber(3)))
            .unwrap();
        assert_eq!(sent["transaction_hash"], "0x7");
        assert_eq!(sent["status"], on_l2);
        assert!(tracker
            .observe(on_l2.clone(), Some(BlockNumber(3)))
            .is_none());
        assert!(!tracker.is_final());

        let on_l1 = json!({ "finality_status": "ACCEPTED_ON_L1", "execution_status": "SUCCEEDED" });
        tracker.forget();
        assert!(tracker.observe(on_l2, Some(BlockNumber(3))).is_some());
        assert!(tracker.observe(on_l1, Some(BlockNumber(3))).is_some());
        assert!(tracker.is_final());
    }
}
