//! `starknet_subscribeNewTransactions` (v0.9 and later): every new transaction, with
//! its finality status, as `starknet_subscriptionNewTransaction` notifications.
//!
//! NOTE: the node has no mempool and keeps no pre-confirmed blocks, so notifications
//! come only from blocks committed after the subscription, with status
//! `ACCEPTED_ON_L2`. A subscription whose `finality_status` list lacks
//! `ACCEPTED_ON_L2` receives nothing.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::RpcFelt;
use crate::session::Session;
use crate::subscription::{self, BlockFeed};
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
            |_header, transaction, _receipt| {
                let mut result = transaction_with_hash(transaction, version, include_proof_facts);
                result["finality_status"] = json!("ACCEPTED_ON_L2");
                Ok(subscription::notification(
                    "starknet_subscriptionNewTransaction",
                    id,
                    result,
                ))
            },
        )
        .await
    })
}
