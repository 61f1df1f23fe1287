//! `starknet_subscribePendingTransactions` (v0.8): the hash, or with
//! `transaction_details` the whole transaction, of every new transaction as
//! `starknet_subscriptionPendingTransactions` notifications.
//!
//! A transaction is sent once: when it appears executed in the pending (pre-confirmed)
//! block, or, if the node never saw it there, when its block is committed.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::RpcFelt;
use crate::session::Session;
use crate::subscription::{self, Stages, TransactionSubscription};
use crate::types::{transaction_with_hash, SpecVersion};
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    #[serde(default)]
    transaction_details: Option<bool>,
    #[serde(default)]
    sender_address: Option<Vec<RpcFelt>>,
}

pub fn handle(
    context: &RpcContext,
    api: Api,
    session: &mut Session,
    params: &Params,
) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["transaction_details", "sender_address"])?;
    let version = SpecVersion::of(api);
    let details = input.transaction_details.unwrap_or(false);
    let senders = subscription::parse_sender_addresses(
        input.sender_address,
        context.ws_limits.max_filter_addresses,
    )?;
    let subscription = TransactionSubscription {
        method: "starknet_subscriptionPendingTransactions",
        senders,
        stages: Stages {
            pre_confirmed: true,
            accepted_on_l2: true,
            once: true,
            ..Stages::default()
        },
        // v0.8 sends reorg notifications only to heads, events and statuses.
        notify_reorgs: false,
    };
    subscription::spawn_transaction_subscription(context, session, subscription, move |reported| {
        if details {
            Ok(transaction_with_hash(reported.transaction, version, false))
        } else {
            Ok(json!(reported.transaction.hash))
        }
    })
}
