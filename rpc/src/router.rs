//! Routes a parsed request to its method on the requested API.

use std::time::Instant;

use serde_json::Value;

use crate::context::RpcContext;
use crate::error::RpcError;
use crate::jsonrpc::{parse_message, Incoming, Params, Request, Response};
use crate::methods;
use crate::routes;
use crate::session::Session;
use crate::version::Api;

/// Handles one HTTP body or WebSocket text frame and returns the text to send back, or
/// `None` when nothing is owed (notifications only).
pub fn handle_message(
    context: &RpcContext,
    api: Api,
    text: &str,
    mut session: Option<&mut Session>,
) -> Option<String> {
    let incoming = match parse_message(text) {
        Ok(incoming) => incoming,
        Err(response) => return Some(response.to_json()),
    };

    match incoming {
        Incoming::Single(request) => {
            handle_one(context, api, request, session.as_deref_mut()).map(|r| r.to_json())
        }
        Incoming::Batch(requests) if requests.len() > context.limits.max_batch_size => {
            let error = RpcError::invalid_request(format!(
                "batch of {} requests exceeds the maximum of {}",
                requests.len(),
                context.limits.max_batch_size
            ));
            Some(Response::error(serde_json::Value::Null, error).to_json())
        }
        Incoming::Batch(requests) => {
            let responses: Vec<Response> = requests
                .into_iter()
                .filter_map(|request| handle_one(context, api, request, session.as_deref_mut()))
                .collect();
            if responses.is_empty() {
                None
            } else {
                Some(serde_json::to_string(&responses).expect("responses serialize"))
            }
        }
    }
}

fn handle_one(
    context: &RpcContext,
    api: Api,
    request: Result<Request, Box<Response>>,
    session: Option<&mut Session>,
) -> Option<Response> {
    let request = match request {
        Ok(request) => request,
        Err(response) => return Some(*response),
    };
    let started = Instant::now();
    let result = call(context, api, &request, session);
    context.metrics.rpc_request(
        metric_method_label(api, &request.method),
        api_label(api),
        started.elapsed(),
    );
    let id = request.id?;
    Some(match result {
        Ok(value) => Response::result(id, value),
        Err(error) => Response::error(id, error),
    })
}

/// Returns the method name to label metrics with: the name itself when `api` serves it,
/// otherwise `unknown`, so that clients cannot add time series with made-up names.
fn metric_method_label(api: Api, method: &str) -> &str {
    if routes::is_served(api, method) {
        method
    } else {
        "unknown"
    }
}

/// Returns the `api` label of the request metrics: `root` or the version's path segment.
fn api_label(api: Api) -> &'static str {
    match api {
        Api::Root => "root",
        Api::V0_7 => "v0_7",
        Api::V0_8 => "v0_8",
        Api::V0_9 => "v0_9",
        Api::V0_10 => "v0_10",
    }
}

fn call(
    context: &RpcContext,
    api: Api,
    request: &Request,
    session: Option<&mut Session>,
) -> Result<Value, RpcError> {
    let params = &request.params;
    if !routes::is_served(api, &request.method) {
        return Err(RpcError::method_not_found(&request.method));
    }
    if routes::takes_no_params(&request.method) && !params.is_empty() {
        return Err(RpcError::invalid_params(format!(
            "{} takes no parameters",
            request.method
        )));
    }
    match request.method.as_str() {
        "starknet_specVersion" => Ok(methods::spec_version::handle(api)),
        "starknet_chainId" => Ok(methods::chain_id::handle(context)),
        "starknet_blockNumber" => methods::block_number::handle(context),
        "starknet_blockHashAndNumber" => methods::block_hash_and_number::handle(context),
        "juno_version" => Ok(methods::juno_version::handle(context)),
        "starknet_getBlockWithTxHashes" => {
            methods::get_block_with_tx_hashes::handle(context, api, params)
        }
        "starknet_getBlockWithTxs" => methods::get_block_with_txs::handle(context, api, params),
        "starknet_getBlockWithReceipts" => {
            methods::get_block_with_receipts::handle(context, api, params)
        }
        "starknet_getStateUpdate" => methods::get_state_update::handle(context, api, params),
        "starknet_getStorageAt" => methods::get_storage_at::handle(context, api, params),
        "starknet_getTransactionStatus" => {
            methods::get_transaction_status::handle(context, api, params)
        }
        "starknet_getTransactionByHash" => {
            methods::get_transaction_by_hash::handle(context, api, params)
        }
        "starknet_getTransactionByBlockIdAndIndex" => {
            methods::get_transaction_by_block_id_and_index::handle(context, api, params)
        }
        "starknet_getTransactionReceipt" => {
            methods::get_transaction_receipt::handle(context, api, params)
        }
        "starknet_getClass" => methods::get_class::handle(context, api, params),
        "starknet_getClassHashAt" => methods::get_class_hash_at::handle(context, api, params),
        "starknet_getClassAt" => methods::get_class_at::handle(context, api, params),
        "starknet_getBlockTransactionCount" => {
            methods::get_block_transaction_count::handle(context, api, params)
        }
        "starknet_syncing" => methods::syncing::handle(context, api, params),
        "starknet_getEvents" => methods::get_events::handle(context, api, params),
        "starknet_getNonce" => methods::get_nonce::handle(context, api, params),
        "starknet_getStorageProof" => methods::get_storage_proof::handle(context, api, params),
        "starknet_getCompiledCasm" => methods::get_compiled_casm::handle(context, api, params),
        "starknet_subscribeNewHeads" if api == Api::Root => match session {
            // The root path's subscription starts at the next block and takes no block id.
            Some(_) if !params.is_empty() => Err(RpcError::invalid_params(
                "starknet_subscribeNewHeads on / takes no parameters",
            )),
            Some(session) => methods::subscribe_new_heads::handle(context, session),
            None => Err(RpcError::method_not_found(&request.method)),
        },
        "juno_unsubscribe" if api == Api::Root => match session {
            Some(session) => methods::unsubscribe::handle(session, params),
            None => Err(RpcError::method_not_found(&request.method)),
        },
        method if routes::is_versioned_subscription(method) => match session {
            Some(session) => call_subscription(context, api, method, params, session),
            // Subscriptions need a WebSocket connection.
            None => Err(RpcError::method_not_found(method)),
        },
        other => Err(RpcError::method_not_found(other)),
    }
}

/// Calls a subscription method of the versioned paths.
fn call_subscription(
    context: &RpcContext,
    api: Api,
    method: &str,
    params: &Params,
    session: &mut Session,
) -> Result<Value, RpcError> {
    match method {
        "starknet_subscribeNewHeads" => {
            methods::subscribe_new_heads::handle_versioned(context, api, session, params)
        }
        "starknet_subscribeEvents" => {
            methods::subscribe_events::handle(context, api, session, params)
        }
        "starknet_subscribeTransactionStatus" => {
            methods::subscribe_transaction_status::handle(context, api, session, params)
        }
        "starknet_subscribePendingTransactions" => {
            methods::subscribe_pending_transactions::handle(context, api, session, params)
        }
        "starknet_subscribeNewTransactions" => {
            methods::subscribe_new_transactions::handle(context, api, session, params)
        }
        "starknet_subscribeNewTransactionReceipts" => {
            methods::subscribe_new_transaction_receipts::handle(context, api, session, params)
        }
        "starknet_unsubscribe" => methods::unsubscribe::handle_versioned(session, params),
        other => Err(RpcError::method_not_found(other)),
    }
}
