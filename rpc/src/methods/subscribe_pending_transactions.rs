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
use crate::subscription::{self, BlockFeed, ChainWatcher};
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
    let stages = subscription::Stages {
        pre_confirmed: true,
        accepted_on_l2: true,
        once: true,
        ..subscription::Stages::default()
    };
    let feed = BlockFeed::subscribe(&context.storage)?;
    let watcher = ChainWatcher::new(feed, Some(&context.pre_confirmed));

    subscription::spawn(session, move |id, outgoing| {
        subscription::send_transactions(
            watcher,
            senders,
            stages,
            id,
            outgoing,
            // v0.8 sends reorg notifications only to heads, events and statuses.
            false,
            move |reported| {
                let result = if details {
                    transaction_with_hash(reported.transaction, version, false)
                } else {
                    json!(reported.transaction.hash)
                };
                Ok(subscription::notification(
                    "starknet_subscriptionPendingTransactions",
                    id,
                    result,
                ))
            },
        )
    })
}
