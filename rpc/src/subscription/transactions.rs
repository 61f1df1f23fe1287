//! The loop shared by the subscriptions to new transactions and receipts: every
//! transaction of the pre-confirmed block and of every block committed after the
//! subscription, filtered by sender, at the finality stages the client requested.

use std::collections::{HashMap, HashSet};

use starling_storage::{
    BlockHeader, BlockNumber, ContractAddress, PreConfirmedBlock, Receipt, Transaction,
    TransactionHash,
};

use serde_json::Value;

use super::{notification, reorg_notification, BlockFeed, ChainItem, ChainWatcher, Outgoing};
use crate::context::RpcContext;
use crate::error::RpcError;
use crate::session::Session;
use crate::session::SubscriptionId;

/// How far a transaction has come, in the order it gets there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Included in the pre-confirmed block but not executed yet.
    Candidate,
    /// Executed in the pre-confirmed block.
    PreConfirmed,
    /// In a committed block.
    AcceptedOnL2,
}

impl Stage {
    /// Returns the spec's `TXN_STATUS` spelling.
    pub fn finality_status(self) -> &'static str {
        match self {
            Stage::Candidate => "CANDIDATE",
            Stage::PreConfirmed => "PRE_CONFIRMED",
            Stage::AcceptedOnL2 => "ACCEPTED_ON_L2",
        }
    }
}

/// The stages a subscription reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stages {
    pub candidate: bool,
    pub pre_confirmed: bool,
    pub accepted_on_l2: bool,
    /// Report each transaction at its first stage only, as v0.8's pending-transaction
    /// subscription does: a committed transaction already reported from the
    /// pre-confirmed block is not reported again.
    pub once: bool,
}

impl Stages {
    /// Parses a `finality_status` list against the statuses the method accepts. An
    /// absent or empty list is the specs' default, `[ACCEPTED_ON_L2]`. `RECEIVED` is
    /// accepted and never reported: the node has no mempool.
    pub fn from_finality_statuses(
        statuses: Option<&[String]>,
        accepted: &[&str],
    ) -> Result<Stages, RpcError> {
        let statuses = match statuses {
            None | Some([]) => {
                return Ok(Stages {
                    accepted_on_l2: true,
                    ..Stages::default()
                })
            }
            Some(statuses) => statuses,
        };
        let mut stages = Stages::default();
        for status in statuses {
            if !accepted.contains(&status.as_str()) {
                return Err(RpcError::invalid_params(format!(
                    "invalid finality_status {status:?}: expected one of {accepted:?}"
                )));
            }
            match status.as_str() {
                "CANDIDATE" => stages.candidate = true,
                "PRE_CONFIRMED" => stages.pre_confirmed = true,
                "ACCEPTED_ON_L2" => stages.accepted_on_l2 = true,
                _ => {}
            }
        }
        Ok(stages)
    }

    /// Returns whether the subscription needs the pre-confirmed block at all.
    pub fn wants_pre_confirmed(&self) -> bool {
        self.candidate || self.pre_confirmed
    }
}

/// The block a reported transaction is in.
#[derive(Clone, Copy, Debug)]
pub enum TransactionBlock<'a> {
    Committed(&'a BlockHeader),
    PreConfirmed(&'a PreConfirmedBlock),
}

impl TransactionBlock<'_> {
    pub fn number(&self) -> BlockNumber {
        match self {
            TransactionBlock::Committed(header) => header.number,
            TransactionBlock::PreConfirmed(block) => block.number,
        }
    }
}

/// One transaction to report: the stage, its block, the transaction and its receipt
/// (`None` for a candidate).
#[derive(Clone, Copy, Debug)]
pub struct Reported<'a> {
    pub stage: Stage,
    pub block: TransactionBlock<'a>,
    pub transaction: &'a Transaction,
    pub receipt: Option<&'a Receipt>,
}

/// A subscription to transactions: which ones it reports and how.
#[derive(Clone, Debug)]
pub struct TransactionSubscription {
    /// The notification's method, such as `starknet_subscriptionNewTransaction`.
    pub method: &'static str,
    /// Senders whose transactions are reported; every sender when empty.
    pub senders: HashSet<ContractAddress>,
    pub stages: Stages,
    /// Whether a reorg of blocks the subscription passed is sent as
    /// `starknet_subscriptionReorg` before the new chain's transactions. Without it the
    /// new chain's transactions simply follow.
    pub notify_reorgs: bool,
}

/// Registers `subscription` on `session` and spawns its task, which sends the result
/// that `build` makes of every reported transaction as a notification. Returns the
/// subscription id.
pub fn spawn_transaction_subscription<F>(
    context: &RpcContext,
    session: &mut Session,
    subscription: TransactionSubscription,
    build: F,
) -> Result<Value, RpcError>
where
    F: FnMut(Reported<'_>) -> Result<Value, RpcError> + Send + 'static,
{
    let feed = BlockFeed::subscribe(&context.storage)?;
    let pre_confirmed = subscription
        .stages
        .wants_pre_confirmed()
        .then_some(&context.pre_confirmed);
    let watcher = ChainWatcher::new(feed, pre_confirmed);
    super::spawn(session, move |id, outgoing| {
        send_transactions(watcher, subscription, id, outgoing, build)
    })
}

/// Sends a notification for every transaction that reaches one of the subscription's
/// stages from one of its senders. A transaction is reported once per stage: the
/// pre-confirmed block is yielded again as it grows, and only its new transactions (or
/// those that moved from candidate to executed) are reported. Ends when the connection
/// closes or storage fails.
async fn send_transactions<F>(
    mut watcher: ChainWatcher,
    subscription: TransactionSubscription,
    id: SubscriptionId,
    outgoing: Outgoing,
    mut build: F,
) where
    F: FnMut(Reported<'_>) -> Result<Value, RpcError>,
{
    let TransactionSubscription {
        method,
        senders,
        stages,
        notify_reorgs,
    } = subscription;
    let storage = watcher.feed().storage().clone();
    let from_sender = |transaction: &Transaction| {
        senders.is_empty() || senders.contains(&transaction.variant.sender_address())
    };
    // The highest stage reported for each transaction of the pre-confirmed block number
    // `reported_block`.
    let mut reported: HashMap<TransactionHash, Stage> = HashMap::new();
    let mut reported_block: Option<BlockNumber> = None;

    loop {
        let mut messages = Vec::new();
        let item = match watcher.next().await {
            Ok(Some(item)) => item,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(target: "rpc::ws", subscription = id, %error, "cannot read the next block; subscription ended");
                return;
            }
        };
        let mut build_into = |messages: &mut Vec<String>, item: Reported<'_>| match build(item) {
            Ok(result) => {
                messages.push(notification(method, id, result));
                true
            }
            Err(_) => {
                tracing::error!(target: "rpc::ws", subscription = id, block_number = %item.block.number(), "cannot build a notification; subscription ended");
                false
            }
        };
        match item {
            ChainItem::Reorg(reorg) => {
                reported.clear();
                reported_block = None;
                if notify_reorgs {
                    messages.push(reorg_notification(id, &reorg));
                }
            }
            ChainItem::PreConfirmed(block) => {
                if reported_block != Some(block.number) {
                    reported.clear();
                    reported_block = Some(block.number);
                }
                let executed =
                    block
                        .transactions
                        .iter()
                        .zip(&block.receipts)
                        .map(|(transaction, receipt)| {
                            (Stage::PreConfirmed, transaction, Some(receipt))
                        });
                let candidates = block
                    .candidate_transactions
                    .iter()
                    .map(|transaction| (Stage::Candidate, transaction, None));
                for (stage, transaction, receipt) in executed.chain(candidates) {
                    let requested = match stage {
                        Stage::Candidate => stages.candidate,
                        _ => stages.pre_confirmed,
                    };
                    if !requested || !from_sender(transaction) {
                        continue;
                    }
                    let already = reported.get(&transaction.hash).copied();
                    if already.is_some_and(|already| already >= stage || stages.once) {
                        continue;
                    }
                    reported.insert(transaction.hash, stage);
                    let item = Reported {
                        stage,
                        block: TransactionBlock::PreConfirmed(&block),
                        transaction,
                        receipt,
                    };
                    if !build_into(&mut messages, item) {
                        return;
                    }
                }
            }
            ChainItem::Block(header) => {
                if stages.accepted_on_l2 {
                    let block = storage
                        .transactions(header.number)
                        .and_then(|transactions| {
                            Ok((transactions, storage.receipts(header.number)?))
                        });
                    let (transactions, receipts) = match block {
                        Ok(block) => block,
                        Err(error) => {
                            tracing::error!(target: "rpc::ws", subscription = id, block_number = %header.number, %error, "cannot read transactions; subscription ended");
                            return;
                        }
                    };
                    let skip_reported = stages.once && reported_block == Some(header.number);
                    for (transaction, receipt) in transactions.iter().zip(&receipts) {
                        if !from_sender(transaction)
                            || (skip_reported && reported.contains_key(&transaction.hash))
                        {
                            continue;
                        }
                        let item = Reported {
                            stage: Stage::AcceptedOnL2,
                            block: TransactionBlock::Committed(&header),
                            transaction,
                            receipt: Some(receipt),
                        };
                        if !build_into(&mut messages, item) {
                            return;
                        }
                    }
                }
                if reported_block.is_some_and(|number| number <= header.number) {
                    reported.clear();
                    reported_block = None;
                }
            }
        }
        for message in messages {
            if outgoing.send(message).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPTED: &[&str] = &["RECEIVED", "CANDIDATE", "PRE_CONFIRMED", "ACCEPTED_ON_L2"];

    #[test]
    fn finality_defaults_to_accepted_on_l2() {
        let default = Stages {
            accepted_on_l2: true,
            ..Stages::default()
        };
        assert_eq!(Stages::from_finality_statuses(None, ACCEPTED), Ok(default));
        assert_eq!(
            Stages::from_finality_statuses(Some(&[]), ACCEPTED),
            Ok(default)
        );
        let pre_confirmed = ["PRE_CONFIRMED".to_string(), "CANDIDATE".to_string()];
        assert_eq!(
            Stages::from_finality_statuses(Some(&pre_confirmed), ACCEPTED),
            Ok(Stages {
                candidate: true,
                pre_confirmed: true,
                ..Stages::default()
            })
        );
        let on_l1 = ["ACCEPTED_ON_L1".to_string()];
        assert!(Stages::from_finality_statuses(Some(&on_l1), ACCEPTED).is_err());
    }
}
