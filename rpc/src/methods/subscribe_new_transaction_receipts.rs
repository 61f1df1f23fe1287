//! `starknet_subscribeNewTransactionReceipts` (v0.9 and later): the receipt of every new
//! transaction as `starknet_subscriptionNewTransactionReceipts` notifications.
//!
//! Receipts come from the executed transactions of the pre-confirmed block
//! (`PRE_CONFIRMED`, without a block hash) and from blocks committed after the
//! subscription (`ACCEPTED_ON_L2`). Each is sent once for every requested status it
//! reaches.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::RpcFelt;
use crate::session::Session;
use crate::subscription::{self, TransactionBlock, TransactionSubscription};
use crate::types::{pre_confirmed_receipt_fields, receipt_fields, SpecVersion};
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
    let stages = subscription::Stages::from_finality_statuses(
        input.finality_status.as_deref(),
        FINALITY_STATUSES,
    )?;
    let subscription = TransactionSubscription {
        method: "starknet_subscriptionNewTransactionReceipts",
        senders,
        stages,
        // The specs list these notifications among the reorg's receivers from v0.10 on.
        notify_reorgs: version >= SpecVersion::V0_10,
    };
    subscription::spawn_transaction_subscription(context, session, subscription, move |reported| {
        let Some(receipt) = reported.receipt else {
            return Err(RpcError::internal());
        };
        // `TXN_RECEIPT_WITH_BLOCK_INFO`: a pre-confirmed block has no hash yet.
        let mut fields = match reported.block {
            TransactionBlock::Committed(header) => {
                let mut fields =
                    receipt_fields(reported.transaction, receipt, header.status, version);
                fields.insert("block_hash".into(), json!(header.hash));
                fields
            }
            TransactionBlock::PreConfirmed(_) => {
                pre_confirmed_receipt_fields(reported.transaction, receipt, version)
            }
        };
        fields.insert("block_number".into(), json!(reported.block.number().get()));
        Ok(Value::Object(fields))
    })
}
