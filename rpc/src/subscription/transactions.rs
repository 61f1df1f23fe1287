//! The loop shared by the subscriptions to new transactions and receipts: every
//! transaction of every block committed after the subscription, filtered by sender.

use std::collections::HashSet;

use starling_storage::{BlockHeader, ContractAddress, Receipt, Transaction};

use super::{reorg_notification, BlockFeed, FeedItem, Outgoing};
use crate::error::RpcError;
use crate::session::SubscriptionId;

/// Checks a `finality_status` list against the statuses the method accepts and reports
/// whether it requests `ACCEPTED_ON_L2`, the only status that committed blocks give. An
/// absent or empty list is the specs' default, `[ACCEPTED_ON_L2]`.
pub fn wants_accepted_on_l2(
    statuses: Option<&[String]>,
    accepted: &[&str],
) -> Result<bool, RpcError> {
    let statuses = match statuses {
        None | Some([]) => return Ok(true),
        Some(statuses) => statuses,
    };
    for status in statuses {
        if !accepted.contains(&status.as_str()) {
            return Err(RpcError::invalid_params(format!(
                "invalid finality_status {status:?}: expected one of {accepted:?}"
            )));
        }
    }
    Ok(statuses.iter().any(|status| status == "ACCEPTED_ON_L2"))
}

/// Calls `build` for every transaction of every block the feed yields whose sender is
/// in `senders` (every sender when it is empty), and queues the messages it returns.
/// With `notify_reorgs`, a reorg of blocks the subscription passed is sent as
/// `starknet_subscriptionReorg` before the transactions of the new chain; without it the
/// new chain's transactions simply follow. Ends when the connection closes or storage
/// fails.
pub async fn send_committed_transactions<F>(
    mut feed: BlockFeed,
    senders: HashSet<ContractAddress>,
    id: SubscriptionId,
    outgoing: Outgoing,
    notify_reorgs: bool,
    mut build: F,
) where
    F: FnMut(&BlockHeader, &Transaction, &Receipt) -> Result<String, RpcError>,
{
    let storage = feed.storage().clone();
    loop {
        let header = match feed.next_item().await {
            Ok(Some(FeedItem::Block(header))) => header,
            Ok(Some(FeedItem::Reorg(reorg))) => {
                if notify_reorgs && outgoing.send(reorg_notification(id, &reorg)).await.is_err() {
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
        let block = storage
            .transactions(header.number)
            .and_then(|transactions| Ok((transactions, storage.receipts(header.number)?)));
        let (transactions, receipts) = match block {
            Ok(block) => block,
            Err(error) => {
                tracing::error!(target: "rpc::ws", subscription = id, block_number = %header.number, %error, "cannot read transactions; subscription ended");
                return;
            }
        };

        for (transaction, receipt) in transactions.iter().zip(&receipts) {
            let sender = transaction.variant.sender_address();
            if !senders.is_empty() && !senders.contains(&sender) {
                continue;
            }
            let Ok(message) = build(&header, transaction, receipt) else {
                tracing::error!(target: "rpc::ws", subscription = id, block_number = %header.number, "cannot build a notification; subscription ended");
                return;
            };
            if outgoing.send(message).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPTED: &[&str] = &["PRE_CONFIRMED", "ACCEPTED_ON_L2"];

    #[test]
    fn finality_defaults_to_accepted_on_l2() {
        assert_eq!(wants_accepted_on_l2(None, ACCEPTED), Ok(true));
        assert_eq!(wants_accepted_on_l2(Some(&[]), ACCEPTED), Ok(true));
        let pre_confirmed = ["PRE_CONFIRMED".to_string()];
        assert_eq!(
            wants_accepted_on_l2(Some(&pre_confirmed), ACCEPTED),
            Ok(false)
        );
        let on_l1 = ["ACCEPTED_ON_L1".to_string()];
        assert!(wants_accepted_on_l2(Some(&on_l1), ACCEPTED).is_err());
    }
}
