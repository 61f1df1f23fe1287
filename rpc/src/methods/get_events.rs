//! `starknet_getEvents`: the events of a block range, filtered by emitter and keys, in
//! pages linked by continuation tokens.
//!
//! The scan visits the range's blocks in order. For each block it first reads the block's
//! event filter (a Bloom filter written with the block, see
//! [`starling_storage::BlockEventFilter`]) and reads the block's receipts only when the
//! filter may match. A request stops after [`RpcLimits::events_max_blocks`] visited blocks
//! and then returns a continuation token even when the page is not full.
//!
//! A continuation token is `<block number>-<event index>`, both decimal: the position of
//! the next event to consider, where the index counts every event of the block in receipt
//! order. The writer only appends blocks, so a token stays valid for the same filter.
//!
//! A range that ends at `pending` or `pre_confirmed` also covers the pre-confirmed block
//! when the node holds one, after the head. Its events have no block hash, and before
//! v0.9 no block number either, as the specs prescribe for pending events. A token into
//! it names its number and stays valid only until that block is committed or replaced.
//!
//! [`RpcLimits::events_max_blocks`]: crate::context::RpcLimits::events_max_blocks

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use starling_storage::{
    BlockHash, BlockNumber, ContractAddress, Event, EventQuery, Felt, PreConfirmedBlock, Receipt,
    Storage, TransactionHash,
};

use crate::context::{ResolvedBlock, RpcContext};
use crate::error::RpcError;
use crate::jsonrpc::Params;
use crate::params::{parse_felt, BlockId, BlockIdParam, RpcFelt};
use crate::types::SpecVersion;
use crate::version::Api;

#[derive(Deserialize)]
struct Input {
    filter: FilterParam,
}

/// The spec's `EVENT_FILTER` and `RESULT_PAGE_REQUEST` in one object.
#[derive(Deserialize)]
struct FilterParam {
    #[serde(default)]
    from_block: Option<BlockIdParam>,
    #[serde(default)]
    to_block: Option<BlockIdParam>,
    /// One address, or from v0.10 on also a list; parsed by [`parse_addresses`].
    #[serde(default)]
    address: Option<Value>,
    #[serde(default)]
    keys: Option<Vec<Vec<RpcFelt>>>,
    chunk_size: u64,
    #[serde(default)]
    continuation_token: Option<String>,
}

/// A validated request with its block range resolved against storage.
#[derive(Clone, Debug, PartialEq, Eq)]
struct EventsRequest {
    /// Position where the scan starts: the continuation token, or the first event of
    /// `from_block`.
    start: ContinuationToken,
    /// The last stored block to scan, at most the head.
    to: BlockNumber,
    query: EventQuery,
    chunk_size: usize,
    /// The pre-confirmed block, scanned after the stored blocks when the range ends at
    /// `pending` or `pre_confirmed`.
    pre_confirmed: Option<Arc<PreConfirmedBlock>>,
}

/// The position of the next event to consider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ContinuationToken {
    block: BlockNumber,
    /// Index among all events of the block, in receipt order.
    event_index: u64,
}

/// One matching event with where it was emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
struct EmittedEvent {
    event: Event,
    block_number: BlockNumber,
    /// `None` for an event of the pre-confirmed block.
    block_hash: Option<BlockHash>,
    transaction_hash: TransactionHash,
    transaction_index: usize,
    /// Index of the event in its transaction's receipt.
    event_index: usize,
}

#[derive(Debug, Default)]
struct EventsPage {
    events: Vec<EmittedEvent>,
    continuation_token: Option<ContinuationToken>,
}

/// Cost of a scan: every block it visited, and those whose receipts it read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ScanStats {
    blocks_visited: u64,
    blocks_read: u64,
}

pub fn handle(context: &RpcContext, api: Api, params: &Params) -> Result<Value, RpcError> {
    let Input { filter } = params.parse(&["filter"])?;
    let Some(request) = build_request(context, api, filter)? else {
        return Ok(json!({ "events": [] }));
    };
    let (page, _) = scan_events(&context.storage, &request, context.limits.events_max_blocks)?;
    Ok(page_to_json(&page, api))
}

/// Validates the filter and resolves its block range. `None` means that the range holds
/// no stored block, so the result is empty.
fn build_request(
    context: &RpcContext,
    api: Api,
    filter: FilterParam,
) -> Result<Option<EventsRequest>, RpcError> {
    let limits = &context.limits;
    if filter.chunk_size == 0 {
        return Err(RpcError::invalid_params("chunk_size must be at least 1"));
    }
    let chunk_size = usize::try_from(filter.chunk_size).unwrap_or(usize::MAX);
    if chunk_size > limits.events_max_chunk_size {
        return Err(RpcError::page_size_too_big());
    }

    let keys = parse_keys(filter.keys.unwrap_or_default(), limits.events_max_keys)?;
    let addresses = parse_addresses(filter.address, api)?;
    if addresses.len() > limits.events_max_addresses {
        return Err(RpcError::invalid_params(format!(
            "the filter has {} addresses, more than this node's limit of {}",
            addresses.len(),
            limits.events_max_addresses
        )));
    }
    let token = filter
        .continuation_token
        .map(|text| {
            ContinuationToken::parse(&text).ok_or_else(RpcError::invalid_continuation_token)
        })
        .transpose()?;

    let Some(range) = resolve_range(context, api, filter.from_block, filter.to_block)? else {
        return Ok(None);
    };
    let (from, to) = (range.from, range.to);
    let in_pre_confirmed = |block: BlockNumber| {
        range
            .pre_confirmed
            .as_ref()
            .is_some_and(|pre_confirmed| pre_confirmed.number == block)
    };
    // NOTE: with `from_block: "latest"` a token becomes invalid once a new block moves
    // `from` past the token's block, as in Pathfinder.
    let start = match token {
        Some(token)
            if token.block < from || (token.block > to && !in_pre_confirmed(token.block)) =>
        {
            return Err(RpcError::invalid_continuation_token())
        }
        Some(token) => token,
        None => ContinuationToken {
            block: from,
            event_index: 0,
        },
    };
    Ok(Some(EventsRequest {
        start,
        to,
        query: EventQuery { addresses, keys },
        chunk_size,
        pre_confirmed: range.pre_confirmed,
    }))
}

/// Drops trailing wildcards, which match every event, and checks the number of keys
/// summed over all positions against `max_keys` (error 34).
fn parse_keys(keys: Vec<Vec<RpcFelt>>, max_keys: usize) -> Result<Vec<Vec<Felt>>, RpcError> {
    let mut keys: Vec<Vec<Felt>> = keys
        .into_iter()
        .map(|values| values.into_iter().map(|key| key.0).collect())
        .collect();
    while keys.last().is_some_and(Vec::is_empty) {
        keys.pop();
    }

    let key_count: usize = keys.iter().map(Vec::len).sum();
    if key_count > max_keys {
        return Err(RpcError::too_many_keys_in_filter());
    }
    Ok(keys)
}

/// A resolved block range: the stored blocks `from..=to`, which may be empty, and the
/// pre-confirmed block after them.
struct BlockRange {
    from: BlockNumber,
    to: BlockNumber,
    pre_confirmed: Option<Arc<PreConfirmedBlock>>,
}

/// Resolves the range, with `to` at most the head. An absent `from_block` is genesis and
/// an absent `to_block` is the head. A `to_block` of `pending` or `pre_confirmed` adds
/// the pre-confirmed block when the node holds one. `None` means that the range holds
/// no block.
fn resolve_range(
    context: &RpcContext,
    api: Api,
    from_block: Option<BlockIdParam>,
    to_block: Option<BlockIdParam>,
) -> Result<Option<BlockRange>, RpcError> {
    let from = match from_block {
        Some(id) => resolve_bound(context, api, id)?.0,
        None => BlockNumber::GENESIS,
    };
    let (to, pre_confirmed) = match to_block {
        Some(id) => {
            let (to, pre_confirmed) = resolve_bound(context, api, id)?;
            (Some(to), pre_confirmed)
        }
        None => (None, None),
    };

    // A numeric bound may lie beyond the head, and the scan of stored blocks ends at the
    // head.
    let Some((head, _)) = context.storage.head()? else {
        return Ok(None);
    };
    let to = to.map_or(head, |to| to.min(head));
    let pre_confirmed = pre_confirmed.filter(|block| from <= block.number);
    if from > to && pre_confirmed.is_none() {
        return Ok(None);
    }
    Ok(Some(BlockRange {
        from,
        to,
        pre_confirmed,
    }))
}

/// Parses `address`: one felt on every version, or a list of felts from v0.10 on. An
/// absent address or an empty list matches every emitter.
fn parse_addresses(address: Option<Value>, api: Api) -> Result<Vec<ContractAddress>, RpcError> {
    let parse = |value: &Value| match value {
        Value::String(text) => parse_felt(text)
            .map(ContractAddress)
            .map_err(RpcError::invalid_params),
        other => Err(RpcError::invalid_params(format!(
            "invalid address {other}: expected a felt string"
        ))),
    };
    match address {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(values)) if api == Api::V0_10 => {
            let mut seen = HashSet::new();
            let mut addresses = Vec::new();
            for value in &values {
                let address = parse(value)?;
                if seen.insert(address) {
                    addresses.push(address);
                }
            }
            Ok(addresses)
        }
        Some(Value::Array(_)) => Err(RpcError::invalid_params(format!(
            "invalid address: spec {} allows one address; lists need v0.10",
            api.spec_version()
        ))),
        Some(value) => Ok(vec![parse(&value)?]),
    }
}

/// Resolves a range bound to a block number. A number need not be stored yet, but a hash
/// or tag must resolve (error 24 otherwise). `pending` and `pre_confirmed` resolve to the
/// pre-confirmed block, returned too, or to the head when the node holds none.
fn resolve_bound(
    context: &RpcContext,
    api: Api,
    id: BlockIdParam,
) -> Result<(BlockNumber, Option<Arc<PreConfirmedBlock>>), RpcError> {
    match id.for_api(api).map_err(RpcError::invalid_params)? {
        BlockId::Number(number) => Ok((number, None)),
        other => match context.resolve_block(other)? {
            ResolvedBlock::Pending {
                block: Some(block), ..
            } => Ok((block.number, Some(block))),
            resolved => Ok((resolved.state_block(), None)),
        },
    }
}

/// Scans from `request.start` to `request.to`, visiting at most `max_blocks` blocks (at
/// least one).
fn scan_events(
    storage: &Storage,
    request: &EventsRequest,
    max_blocks: u64,
) -> Result<(EventsPage, ScanStats), RpcError> {
    let max_blocks = max_blocks.max(1);
    let mut page = EventsPage::default();
    let mut stats = ScanStats::default();
    let mut skip = request.start.event_index;
    let mut number = request.start.block.get();

    while number <= request.to.get() {
        if stats.blocks_visited == max_blocks {
            page.continuation_token = Some(ContinuationToken {
                block: BlockNumber(number),
                event_index: 0,
            });
            break;
        }
        stats.blocks_visited += 1;

        let block = BlockNumber(number);
        if storage.block_may_match_events(block, &request.query)? {
            stats.blocks_read += 1;
            let next = collect_block_events(storage, block, skip, request, &mut page.events)?;
            if next.is_some() {
                page.continuation_token = next;
                break;
            }
        }
        skip = 0;
        number += 1;
    }

    if let (None, Some(block)) = (page.continuation_token, &request.pre_confirmed) {
        let skip = if request.start.block == block.number {
            request.start.event_index
        } else {
            0
        };
        page.continuation_token = collect_events(
            &block.receipts,
            block.number,
            || Ok(None),
            skip,
            request,
            &mut page.events,
        )?;
    }
    Ok((page, stats))
}

/// Appends the matching events of `block` from event index `skip` on until `events`
/// contains a full page. Returns the position of the next matching event once the page is full,
/// or `None` when the block has no more matches.
fn collect_block_events(
    storage: &Storage,
    block: BlockNumber,
    skip: u64,
    request: &EventsRequest,
    events: &mut Vec<EmittedEvent>,
) -> Result<Option<ContinuationToken>, RpcError> {
    let receipts = storage.receipts(block)?;
    collect_events(
        &receipts,
        block,
        || block_hash_of(storage, block).map(Some),
        skip,
        request,
        events,
    )
}

/// Appends the matching events of one block's `receipts` as [`collect_block_events`]
/// describes. `block_hash` is called once, for the first match.
fn collect_events(
    receipts: &[Receipt],
    block: BlockNumber,
    mut block_hash: impl FnMut() -> Result<Option<BlockHash>, RpcError>,
    skip: u64,
    request: &EventsRequest,
    events: &mut Vec<EmittedEvent>,
) -> Result<Option<ContinuationToken>, RpcError> {
    let event_count: u64 = receipts
        .iter()
        .map(|receipt| receipt.events.len() as u64)
        .sum();
    if skip > event_count {
        return Err(RpcError::invalid_continuation_token());
    }

    let mut known_hash = None;
    let mut position = 0u64;
    for (transaction_index, receipt) in receipts.iter().enumerate() {
        for (event_index, event) in receipt.events.iter().enumerate() {
            let this_position = position;
            position += 1;
            if this_position < skip || !request.query.matches(event) {
                continue;
            }
            if events.len() == request.chunk_size {
                return Ok(Some(ContinuationToken {
                    block,
                    event_index: this_position,
                }));
            }

            let block_hash = match known_hash {
                Some(hash) => hash,
                None => {
                    let hash = block_hash()?;
                    known_hash = Some(hash);
                    hash
                }
            };
            events.push(EmittedEvent {
                event: event.clone(),
                block_number: block,
                block_hash,
                transaction_hash: receipt.transaction_hash,
                transaction_index,
                event_index,
            });
        }
    }
    Ok(None)
}

fn block_hash_of(storage: &Storage, block: BlockNumber) -> Result<BlockHash, RpcError> {
    match storage.header(block)? {
        Some(header) => Ok(header.hash),
        None => {
            tracing::error!(target: "rpc", block_number = %block, "block has receipts but no header");
            Err(RpcError::internal())
        }
    }
}

/// Builds `EVENTS_CHUNK`; `transaction_index` and `event_index` exist from v0.10 on.
fn page_to_json(page: &EventsPage, api: Api) -> Value {
    let events: Vec<Value> = page
        .events
        .iter()
        .map(|emitted| {
            let mut object = Map::new();
            object.insert("from_address".into(), json!(emitted.event.from_address));
            object.insert("keys".into(), json!(emitted.event.keys));
            object.insert("data".into(), json!(emitted.event.data));
            // A pre-confirmed event has no block hash, and before v0.9 no number.
            if let Some(block_hash) = emitted.block_hash {
                object.insert("block_hash".into(), json!(block_hash));
            }
            if emitted.block_hash.is_some() || SpecVersion::of(api) >= SpecVersion::V0_9 {
                object.insert("block_number".into(), json!(emitted.block_number.get()));
            }
            object.insert("transaction_hash".into(), json!(emitted.transaction_hash));
            if api == Api::V0_10 {
                object.insert("transaction_index".into(), json!(emitted.transaction_index));
                object.insert("event_index".into(), json!(emitted.event_index));
            }
            Value::Object(object)
        })
        .collect();

    let mut chunk = json!({ "events": events });
    if let Some(token) = page.continuation_token {
        chunk["continuation_token"] = json!(token.to_string());
    }
    chunk
}

impl ContinuationToken {
    /// Parses `<block>-<event index>`; anything else, including signs and spaces, is
    /// `None`.
    fn parse(text: &str) -> Option<Self> {
        let (block, event_index) = text.split_once('-')?;
        Some(Self {
            block: BlockNumber(parse_decimal(block)?),
            event_index: parse_decimal(event_index)?,
        })
    }
}

impl fmt::Display for ContinuationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.block.get(), self.event_index)
    }
}

fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::RpcLimits;
    use crate::test_support::{block_with_events, context_with_chain};
    use tempfile::TempDir;

    const A: u64 = 0xa0;
    const B: u64 = 0xb0;
    const C: u64 = 0xc0;
    const K1: u64 = 0x11;
    const K2: u64 = 0x12;
    const K3: u64 = 0x13;
    const K9: u64 = 0x19;

    fn event(address: u64, keys: &[u64]) -> Event {
        Event {
            from_address: ContractAddress(Felt::from(address)),
            keys: keys.iter().map(|key| Felt::from(*key)).collect(),
            data: vec![Felt::from(address + 1)],
        }
    }

    /// Block 0: transaction 0 emits A[K1 K2] and B[K1], transaction 1 emits A[K3].
    /// Block 1 has no transactions. Block 2: C[K9]. Block 3: A[K2 K1].
    fn chain() -> (RpcContext, TempDir) {
        context_with_chain(vec![
            block_with_events(
                0,
                vec![
                    vec![event(A, &[K1, K2]), event(B, &[K1])],
                    vec![event(A, &[K3])],
                ],
            ),
            block_with_events(1, vec![]),
            block_with_events(2, vec![vec![event(C, &[K9])]]),
            block_with_events(3, vec![vec![event(A, &[K2, K1])]]),
        ])
    }

    fn call(context: &RpcContext, api: Api, filter: Value) -> Result<Value, RpcError> {
        handle(context, api, &Params::Positional(vec![filter]))
    }

    fn hex_to_u64(value: &Value) -> u64 {
        let text = value.as_str().unwrap();
        u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap()
    }

    /// `(block, transaction index, emitter)` of each returned event; the transaction index
    /// comes from the hash `block · 1000 + index` that `block_with_events` gives.
    fn positions(result: &Value) -> Vec<(u64, u64, u64)> {
        result["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|event| {
                let block = event["block_number"].as_u64().unwrap();
                let transaction_index = hex_to_u64(&event["transaction_hash"]) % 1000;
                (block, transaction_index, hex_to_u64(&event["from_address"]))
            })
            .collect()
    }

    #[test]
    fn address_filter_returns_emitters_events() {
        let (context, _dir) = chain();
        let result = call(
            &context,
            Api::V0_7,
            json!({"address": "0xa0", "chunk_size": 10}),
        )
        .unwrap();
        assert_eq!(positions(&result), vec![(0, 0, A), (0, 1, A), (3, 0, A)]);
        assert!(result.get("continuation_token").is_none());

        let first = &result["events"][0];
        assert_eq!(first["block_hash"], json!("0x100"));
        assert_eq!(first["transaction_hash"], json!("0x0"));
        assert_eq!(first["keys"], json!(["0x11", "0x12"]));
        assert_eq!(first["data"], json!(["0xa1"]));
        assert!(first.get("transaction_index").is_none());
        assert!(first.get("event_index").is_none());
    }

    #[test]
    fn keys_match_by_position_with_or_lists() {
        let (context, _dir) = chain();
        let cases = [
            (
                json!([["0x11", "0x13"]]),
                vec![(0, 0, A), (0, 0, B), (0, 1, A)],
            ),
            (json!([[], ["0x12"]]), vec![(0, 0, A)]),
            (json!([["0x12"], ["0x11"]]), vec![(3, 0, A)]),
            (json!([["0x11"], []]), vec![(0, 0, A), (0, 0, B)]),
            (json!([[], [], ["0x11"]]), vec![]),
            (json!([["0x99"]]), vec![]),
        ];
        for (keys, expected) in cases {
            let result =
                call(&context, Api::V0_8, json!({"keys": keys, "chunk_size": 10})).unwrap();
            assert_eq!(positions(&result), expected, "keys {keys}");
        }
    }

    #[test]
    fn empty_filter_returns_every_event() {
        let (context, _dir) = chain();
        let result = call(&context, Api::V0_9, json!({"chunk_size": 10, "keys": [[]]})).unwrap();
        assert_eq!(
            positions(&result),
            vec![(0, 0, A), (0, 0, B), (0, 1, A), (2, 0, C), (3, 0, A)]
        );
    }

    #[test]
    fn block_range_bounds_the_scan() {
        let (context, _dir) = chain();
        let range = |from: Value, to: Value| {
            let filter = json!({"from_block": from, "to_block": to, "chunk_size": 10});
            positions(&call(&context, Api::V0_8, filter).unwrap())
        };
        assert_eq!(
            range(json!({"block_number": 2}), json!({"block_number": 3})),
            vec![(2, 0, C), (3, 0, A)]
        );
        assert_eq!(
            range(json!({"block_hash": "0x102"}), json!({"block_number": 99})),
            vec![(2, 0, C), (3, 0, A)]
        );
        assert_eq!(range(json!("latest"), json!("pending")), vec![(3, 0, A)]);
        assert_eq!(
            range(json!({"block_number": 3}), json!({"block_number": 2})),
            vec![]
        );
        assert_eq!(range(json!({"block_number": 50}), json!("latest")), vec![]);

        let unknown_hash = json!({"from_block": {"block_hash": "0x999"}, "chunk_size": 10});
        assert_eq!(
            call(&context, Api::V0_8, unknown_hash).unwrap_err().code,
            24
        );
        let wrong_tag = json!({"to_block": "pending", "chunk_size": 10});
        assert_eq!(
            call(&context, Api::V0_9, wrong_tag).unwrap_err().code,
            -32602
        );
    }

    #[test]
    fn chunks_follow_tokens_across_blocks() {
        let (context, _dir) = chain();
        let all = positions(&call(&context, Api::V0_7, json!({"chunk_size": 100})).unwrap());

        for chunk_size in 1..=4 {
            let mut collected = Vec::new();
            let mut tokens = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut filter = json!({"chunk_size": chunk_size});
                if let Some(token) = &token {
                    filter["continuation_token"] = json!(token);
                }
                let result = call(&context, Api::V0_7, filter).unwrap();
                let page = positions(&result);
                assert!(page.len() <= chunk_size, "page {page:?}");
                collected.extend(page);
                match result.get("continuation_token") {
                    Some(next) => {
                        token = Some(next.as_str().unwrap().to_owned());
                        tokens.push(token.clone().unwrap());
                    }
                    None => break,
                }
            }
            assert_eq!(collected, all, "chunk size {chunk_size}");
            if chunk_size == 2 {
                // Pages: block 0 events 0-1, then block 0 event 2 and block 2, then block 3.
                assert_eq!(tokens, vec!["0-2", "3-0"]);
            }
        }
    }

    #[test]
    fn token_skips_non_matching_events() {
        let (context, _dir) = chain();
        let filter = json!({"address": "0xa0", "chunk_size": 1});
        let first = call(&context, Api::V0_7, filter).unwrap();
        assert_eq!(first["continuation_token"], json!("0-2"));

        let filter = json!({"address": "0xa0", "chunk_size": 1, "continuation_token": "0-2"});
        let second = call(&context, Api::V0_7, filter).unwrap();
        assert_eq!(positions(&second), vec![(0, 1, A)]);
        assert_eq!(second["continuation_token"], json!("3-0"));
    }

    #[test]
    fn invalid_tokens_are_error_33() {
        let (context, _dir) = chain();
        let from_2 = json!({"block_number": 2});
        for token in [
            "", "abc", "1-", "-1", "1-2-3", "+1-0", " 1-0", "0x1-0", "99-0", "0-4",
        ] {
            let filter = json!({"chunk_size": 5, "continuation_token": token});
            let error = call(&context, Api::V0_7, filter).unwrap_err();
            assert_eq!(error.code, 33, "token {token:?}");
        }
        let before_range =
            json!({"from_block": from_2, "chunk_size": 5, "continuation_token": "0-0"});
        assert_eq!(
            call(&context, Api::V0_7, before_range).unwrap_err().code,
            33
        );
    }

    #[test]
    fn page_and_key_limits() {
        let (context, _dir) = chain();
        let too_big = call(&context, Api::V0_7, json!({"chunk_size": 1025})).unwrap_err();
        assert_eq!(too_big.code, 31);
        let largest = call(&context, Api::V0_7, json!({"chunk_size": 1024}));
        assert!(largest.is_ok());
        let zero = call(&context, Api::V0_7, json!({"chunk_size": 0})).unwrap_err();
        assert_eq!(zero.code, -32602);
        let missing = call(&context, Api::V0_7, json!({})).unwrap_err();
        assert_eq!(missing.code, -32602);

        let keys: Vec<String> = (0..257).map(|key| format!("{key:#x}")).collect();
        let too_many = json!({"chunk_size": 5, "keys": [keys[..129], keys[129..]]});
        assert_eq!(call(&context, Api::V0_7, too_many).unwrap_err().code, 34);
        let at_limit = json!({"chunk_size": 5, "keys": [keys[..256]]});
        assert!(call(&context, Api::V0_7, at_limit).is_ok());
    }

    #[test]
    fn v0_10_takes_address_lists_and_adds_indexes() {
        let (context, _dir) = chain();
        let filter = json!({"address": ["0xb0", "0xc0", "0xb0"], "chunk_size": 10});
        let result = call(&context, Api::V0_10, filter.clone()).unwrap();
        assert_eq!(positions(&result), vec![(0, 0, B), (2, 0, C)]);
        let emitted_by_b = &result["events"][0];
        assert_eq!(emitted_by_b["transaction_index"], json!(0));
        assert_eq!(emitted_by_b["event_index"], json!(1));

        let single = call(
            &context,
            Api::V0_10,
            json!({"address": "0xa0", "chunk_size": 10}),
        )
        .unwrap();
        assert_eq!(single["events"][1]["transaction_index"], json!(1));
        assert_eq!(single["events"][1]["event_index"], json!(0));

        let everything = call(
            &context,
            Api::V0_10,
            json!({"address": [], "chunk_size": 10}),
        )
        .unwrap();
        assert_eq!(positions(&everything).len(), 5);

        assert_eq!(call(&context, Api::V0_9, filter).unwrap_err().code, -32602);
        let addresses: Vec<String> = (0..1025).map(|address| format!("{address:#x}")).collect();
        let too_many = json!({"address": addresses, "chunk_size": 10});
        assert_eq!(
            call(&context, Api::V0_10, too_many).unwrap_err().code,
            -32602
        );
        let not_a_felt = json!({"address": 5, "chunk_size": 10});
        assert_eq!(
            call(&context, Api::V0_10, not_a_felt).unwrap_err().code,
            -32602
        );
    }

    /// Twenty blocks of which only 5 and 15 have events of emitter 0xe0; every block has an
    /// event of another emitter.
    fn sparse_chain() -> (RpcContext, TempDir) {
        let blocks = (0..20)
            .map(|number| {
                let mut events = vec![event(0x100 + number, &[K1])];
                if number == 5 || number == 15 {
                    events.push(event(0xe0, &[K2]));
                }
                block_with_events(number, vec![events])
            })
            .collect();
        context_with_chain(blocks)
    }

    fn request(context: &RpcContext, filter: Value) -> EventsRequest {
        let filter: FilterParam = serde_json::from_value(filter).unwrap();
        build_request(context, Api::V0_8, filter).unwrap().unwrap()
    }

    #[test]
    fn event_filters_skip_non_matching_blocks() {
        let (context, _dir) = sparse_chain();
        let by_address = request(&context, json!({"address": "0xe0", "chunk_size": 10}));
        let (page, stats) = scan_events(&context.storage, &by_address, 1000).unwrap();
        assert_eq!(page.events.len(), 2);
        assert_eq!(
            stats,
            ScanStats {
                blocks_visited: 20,
                blocks_read: 2
            }
        );

        let by_key = request(&context, json!({"keys": [["0x12"]], "chunk_size": 10}));
        let (page, stats) = scan_events(&context.storage, &by_key, 1000).unwrap();
        assert_eq!(page.events.len(), 2);
        assert_eq!(stats.blocks_read, 2);

        let nowhere = request(
            &context,
            json!({"keys": [["0x12"], ["0x12"]], "chunk_size": 10}),
        );
        let (page, stats) = scan_events(&context.storage, &nowhere, 1000).unwrap();
        assert!(page.events.is_empty());
        assert_eq!(stats.blocks_read, 0);
    }

    #[test]
    fn block_limit_returns_token_before_page_is_full() {
        let (mut context, _dir) = sparse_chain();
        context.limits = RpcLimits {
            events_max_blocks: 4,
            ..RpcLimits::default()
        };

        let filter = json!({"address": "0xe0", "chunk_size": 10});
        let first = call(&context, Api::V0_7, filter).unwrap();
        assert_eq!(positions(&first), vec![]);
        assert_eq!(first["continuation_token"], json!("4-0"));

        let mut collected = Vec::new();
        let mut token = first["continuation_token"].as_str().map(str::to_owned);
        let mut requests = 1;
        while let Some(current) = token {
            let filter =
                json!({"address": "0xe0", "chunk_size": 10, "continuation_token": current});
            let result = call(&context, Api::V0_7, filter).unwrap();
            collected.extend(positions(&result));
            token = result
                .get("continuation_token")
                .and_then(Value::as_str)
                .map(str::to_owned);
            requests += 1;
        }
        assert_eq!(collected, vec![(5, 0, 0xe0), (15, 0, 0xe0)]);
        assert_eq!(requests, 5, "20 blocks at 4 per request");
    }

    #[test]
    fn empty_database_returns_no_events() {
        let (context, _dir) = crate::test_support::empty_context();
        let result = call(&context, Api::V0_7, json!({"chunk_size": 10})).unwrap();
        assert_eq!(result, json!({"events": []}));
        let error = call(
            &context,
            Api::V0_7,
            json!({"from_block": "latest", "chunk_size": 10}),
        )
        .unwrap_err();
        assert_eq!(error.code, 24);
    }

    #[test]
    fn pre_confirmed_events_follow_stored_ones() {
        use crate::context::pre_confirmed_fixture::{self, SUCCEEDED};
        let (context, _dir) = chain();
        pre_confirmed_fixture::set_on_head(&context);
        let range =
            |to: &str| json!({"from_block": {"block_number": 3}, "to_block": to, "chunk_size": 10});

        let v0_9 = call(&context, Api::V0_9, range("pre_confirmed")).unwrap();
        let events = v0_9["events"].as_array().unwrap();
        assert_eq!(events.len(), 2, "{v0_9}");
        assert_eq!(events[0]["block_number"], 3);
        assert_eq!(events[1]["block_number"], 4);
        assert_eq!(
            events[1]["transaction_hash"],
            json!(format!("{SUCCEEDED:#x}"))
        );
        assert!(events[1].get("block_hash").is_none());

        let v0_7 = call(&context, Api::V0_7, range("pending")).unwrap();
        let pending_event = &v0_7["events"][1];
        assert_eq!(pending_event["keys"], json!(["0x11"]));
        assert!(pending_event.get("block_number").is_none());
        assert!(pending_event.get("block_hash").is_none());

        let latest = call(&context, Api::V0_9, range("latest")).unwrap();
        assert_eq!(latest["events"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn continuation_token_reaches_pre_confirmed_block() {
        let (context, _dir) = chain();
        crate::context::pre_confirmed_fixture::set_on_head(&context);
        let page = |token: Option<&str>| {
            let mut filter = json!({"from_block": {"block_number": 3}, "to_block": "pre_confirmed", "chunk_size": 1});
            if let Some(token) = token {
                filter["continuation_token"] = json!(token);
            }
            call(&context, Api::V0_10, filter).unwrap()
        };

        let first = page(None);
        assert_eq!(first["events"][0]["block_number"], 3);
        assert_eq!(first["continuation_token"], "4-0");
        let second = page(Some("4-0"));
        assert_eq!(second["events"][0]["block_number"], 4);
        assert_eq!(second["events"][0]["transaction_index"], 0);
        assert!(second.get("continuation_token").is_none());

        // From the pre-confirmed block alone.
        let only =
            json!({"from_block": "pre_confirmed", "to_block": "pre_confirmed", "chunk_size": 5});
        let only = call(&context, Api::V0_10, only).unwrap();
        let only = only["events"].as_array().unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(only[0]["block_number"], 4);
    }
}
