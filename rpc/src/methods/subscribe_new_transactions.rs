//! `starknet_subscribeNewTransactions` (v0.9 and later): every new transaction, with
//! its finality status, as `starknet_subscriptionNewTransaction` notifications.
//!
//! Transactions come from the pre-confirmed block (`CANDIDATE` while included but not
//! executed, then `PRE_CONFIRMED`) and from blocks committed after the subscription
//! (`ACCEPTED_ON_L2`). Each is sent once for every requested status it reaches.
//!
//! NOTE: the node has no mempool, so `RECEIVED` is accepted in the filter and never
//! sent.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::RpcFelt;
use crate::session::Session;
use crate::subscription::{self, TransactionSubscription};
use crate::types::{transaction_with_hash, SpecVersion, TxnResponseFlag};
use crate::version::Api;

/// `TXN_STATUS_WITHOUT_L1`.
const FINALITY_STATUSES: &[&str] = &["RECEIVED", "CANDIDATE", "PRE_CONFIRMED", "ACCEPTED_ON_L2"];

#[derive(Deserialize)]
struct Input {
    #[serde(default)]
    finality_status: Option<Vec<String>>,
    #[serde(default)]
    sender_address: Option<Vec<RpcFelt>>,
    /// `SUBSCRIPTION_TAG` values, from v0.10 on.
    #[serde(default)]
    tags: Option<Vec<TxnResponseFlag>>,
}

pub fn handle(
    context: &RpcContext,
    api: Api,
    session: &mut Session,
    params: &Params,
) -> Result<Value, RpcError> {
    let input: Input = params.parse(&["finality_status", "sender_address", "tags"])?;
    let version = SpecVersion::of(api);
    if input.tags.is_some() && version < SpecVersion::V0_10 {
        return Err(RpcError::invalid_params(format!(
            "tags need spec v0.10, not {}",
            api.spec_version()
        )));
    }
    let include_proof_facts =
        TxnResponseFlag::include_proof_facts(&input.tags.unwrap_or_default(), version);
    let senders = subscription::parse_sender_addresses(
        input.sender_address,
        context.ws_limits.max_filter_addresses,
    )?;
    let stages = subscription::Stages::from_finality_statuses(
        input.finality_status.as_deref(),
        FINALITY_STATUSES,
    )?;
    let subscription = TransactionSubscription {
        method: "starknet_subscriptionNewTransaction",
        senders,
        stages,
        // The specs list these notifications among the reorg's receivers from v0.10 on.
        notify_reorgs: version >= SpecVersion::V0_10,
    };
    subscription::spawn_transaction_subscription(context, session, subscription, move |reported| {
        let mut result = transaction_with_hash(reported.transaction, version, include_proof_facts);
        result["finality_status"] = json!(reported.stage.finality_status());
        Ok(result)
    })
}
