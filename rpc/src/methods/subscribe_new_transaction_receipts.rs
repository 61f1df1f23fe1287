//! `starknet_subscribeNewTransactionReceipts` (v0.9 and later): the receipt of every new
//! transaction as `starknet_subscriptionNewTransactionReceipts` notifications.
//!
//! NOTE: the node keeps no pre-confirmed blocks, so notifications come only from
//! blocks committed after the subscription, with status `ACCEPTED_ON_L2`. A
//! subscription whose `finality_status` list lacks `ACCEPTED_ON_L2` receives nothing.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::RpcFelt;
use crate::session::Session;
use crate::subscription::{self, BlockFeed};
use crate::types::{receipt_fields, SpecVersion};
use crate::version::Api;

/// `TXN_FINALITY_STATUS` without `ACCEPTED_ON_L1`.
const FINALITY_STATUSES: &[&str] = &["PRE_CONFIRMED", "ACCEPTED_ON_L2"];

#[derive(Deserialize)]
struct Input {
    #[serde(default)]
    finality_status: Option<Vec<String>>,
    #[serde(default)]
    sender_address: Option<Vec<RpcFelt>>,
}

pub fn handle(
    context: &RpcContext,
    api: Api,
    session: &mut Session,
    params: &Params,
) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["finality_status", "sender_address"])?;
    let version = SpecVersion::of(api);
    let senders = subscription::parse_sender_addresses(
        input.sender_address,
        context.ws_limits.max_filter_addresses,
    )?;
    let wanted =
        subscription::wants_accepted_on_l2(input.finality_status.as_deref(), FINALITY_STATUSES)?;
    // The specs list these notifications among the reorg's receivers from v0.10 on.
    let notify_reorgs = version >= SpecVersion::V0_10;
    let feed = BlockFeed::subscribe(&context.storage)?;

    subscription::spawn(session, move |id, outgoing| async move {
        if !wanted {
            return;
        }
        subscription::send_committed_transactions(
            feed,
            senders,
            id,
            outgoing,
            notify_reorgs,
            |header, transaction, receipt| {
                // `TXN_RECEIPT_WITH_BLOCK_INFO` of a committed block.
                let mut fields = receipt_fields(transaction, receipt, header.status, version);
                fields.insert("block_hash".into(), json!(header.hash));
                fields.insert("block_number".into(), json!(header.number.get()));
                Ok(subscription::notification(
                    "starknet_subscriptionNewTransactionReceipts",
                    id,
                    Value::Object(fields),
                ))
            },
        )
        .await
    })
}
