//! `starknet_subscribePendingTransactions` (v0.8): the hash, or with
//! `transaction_details` the whole transaction, of every new transaction as
//! `starknet_subscriptionPendingTransactions` notifications.
//!
//! NOTE: the node keeps no pending block, so notifications come from blocks committed
//! after the subscription, once each block is committed rather than while it is
//! pending.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::RpcFelt;
use crate::session::Session;
use crate::subscription::{self, BlockFeed};
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
    let feed = BlockFeed::subscribe(&context.storage)?;

    subscription::spawn(session, move |id, outgoing| {
        subscription::send_committed_transactions(
            feed,
            senders,
            id,
            outgoing,
            // v0.8 sends reorg notifications only to heads, events and statuses.
            false,
            move |_header, transaction, _receipt| {
                let result = if details {
                    transaction_with_hash(transaction, version, false)
                } else {
                    json!(transaction.hash)
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
