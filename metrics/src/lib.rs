//! Prometheus metrics of the Starling node.
//!
//! [`Metrics`] is a cheap handle that `sync`, `rpc` and the binary share. It lives in
//! its own crate so that `rpc` and `sync` can both record into one registry without
//! depending on each other. A disabled handle ([`Metrics::default`]) records nothing,
//! so unit tests, benchmarks and a node started without `--metrics` need no registry.
//!
//! Counters, the latency histogram and the WebSocket gauges are updated where the work
//! happens. The chain gauges (stored head, gateway head, lag, sync rate) are read at
//! scrape time from a [`ChainState`] source that the binary registers, because their
//! values already live in storage and `storage::SyncStatus`.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::TypedMetric;
use prometheus_client::registry::Registry;

/// `Content-Type` of [`Metrics::encode`]'s output: the Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds, in seconds, of the RPC latency buckets. They start at 100 µs, about one
/// RocksDB point read, and reach 10 s because `getEvents` and `getStorageProof` may scan
/// many blocks. The range is an estimate, not a measurement.
const RPC_LATENCY_BUCKETS: [f64; 16] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Chain-state values read at every scrape; `None` leaves the metric out of the output.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ChainState {
    /// Number of the stored head block.
    pub head: Option<u64>,
    /// Newest block number the feeder gateway reported.
    pub gateway_head: Option<u64>,
    /// Blocks committed per second over the sync loop's last status interval.
    pub blocks_per_second: Option<f64>,
    /// Whether the sync task is still running.
    pub sync_running: bool,
}

impl ChainState {
    /// Blocks the stored head is behind the gateway's newest block: 0 when the head is
    /// at or past it, the gateway's block count when nothing is stored, `None` while the
    /// gateway's newest block is unknown.
    pub fn lag(&self) -> Option<u64> {
        let gateway_head = self.gateway_head?;
        Some(match self.head {
            Some(head) => gateway_head.saturating_sub(head),
            None => gateway_head + 1,
        })
    }
}

/// Shared handle to the node's metrics; clones record into the same registry.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// `None` for a disabled handle, which records nothing.
    inner: Option<Arc<Inner>>,
}

#[derive(Debug)]
struct Inner {
    /// Locked to encode a scrape and to register the chain-state source at start-up.
    registry: Mutex<Registry>,
    gateway_requests: Family<EndpointLabels, Counter>,
    gateway_errors: Family<GatewayErrorLabels, Counter>,
    rpc_requests: Family<RpcRequestLabels, Counter>,
    rpc_request_duration: Family<MethodLabels, Histogram>,
    ws_connections: Gauge,
    ws_subscriptions: Gauge,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GatewayErrorLabels {
    endpoint: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcRequestLabels {
    method: String,
    api: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: String,
}

impl Metrics {
    /// Creates an enabled handle with every metric registered.
    pub fn new() -> Self {
        let gateway_requests = Family::<EndpointLabels, Counter>::default();
        let gateway_errors = Family::<GatewayErrorLabels, Counter>::default();
        let rpc_requests = Family::<RpcRequestLabels, Counter>::default();
        let rpc_request_duration =
            Family::<MethodLabels, Histogram>::new_with_constructor(rpc_latency_histogram as _);
        let ws_connections = Gauge::default();
        let ws_subscriptions = Gauge::default();

        let mut registry = Registry::default();
        registry.register(
            "starling_gateway_requests",
            "Feeder-gateway HTTP requests sent, counting every retry, by endpoint",
            gateway_requests.clone(),
        );
        registry.register(
            "starling_gateway_errors",
            "Failed feeder-gateway requests, counting every failed attempt, by endpoint and error kind",
            gateway_errors.clone(),
        );
        registry.register(
            "starling_rpc_requests",
            "JSON-RPC requests handled over HTTP and WebSocket, by method and API version",
            rpc_requests.clone(),
        );
        registry.register(
            "starling_rpc_request_duration_seconds",
            "Time spent handling one JSON-RPC request, by method",
            rpc_request_duration.clone(),
        );
        registry.register(
            "starling_ws_connections",
            "Open WebSocket connections",
            ws_connections.clone(),
        );
        registry.register(
            "starling_ws_subscriptions",
            "Open WebSocket subscriptions",
            ws_subscriptions.clone(),
        );

        Self {
            inner: Some(Arc::new(Inner {
                registry: Mutex::new(registry),
                gateway_requests,
                gateway_errors,
                rpc_requests,
                rpc_request_duration,
                ws_connections,
                ws_subscriptions,
            })),
        }
    }

    /// Returns a handle that records nothing; the same as [`Metrics::default`].
    pub fn disabled() -> Self {
        Self::default()
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Registers the source of the chain gauges, called at every scrape:
    /// `starling_head_block_number`, `starling_gateway_head_block_number`,
    /// `starling_sync_lag_blocks`, `starling_sync_blocks_per_second` and
    /// `starling_sync_running`.
    pub fn register_chain_state(&self, source: impl Fn() -> ChainState + Send + Sync + 'static) {
        if let Some(inner) = &self.inner {
            inner
                .registry
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .register_collector(Box::new(ChainStateCollector {
                    source: Box::new(source),
                }));
        }
    }

    /// Counts one attempt at a feeder-gateway request.
    pub fn gateway_request(&self, endpoint: &'static str) {
        if let Some(inner) = &self.inner {
            inner
                .gateway_requests
                .get_or_create(&EndpointLabels { endpoint })
                .inc();
        }
    }

    /// Counts one failed attempt at a feeder-gateway request; `kind` is the short name of
    /// the failure, such as `timeout` or `rate_limited`.
    pub fn gateway_error(&self, endpoint: &'static str, kind: &'static str) {
        if let Some(inner) = &self.inner {
            inner
                .gateway_errors
                .get_or_create(&GatewayErrorLabels { endpoint, kind })
                .inc();
        }
    }

    /// Counts one handled JSON-RPC request and records how long it took. `method` should
    /// be a served method name or a fixed placeholder, because every distinct value adds
    /// a time series.
    pub fn rpc_request(&self, method: &str, api: &'static str, duration: Duration) {
        if let Some(inner) = &self.inner {
            inner
                .rpc_requests
                .get_or_create(&RpcRequestLabels {
                    method: method.to_owned(),
                    api,
                })
                .inc();
            inner
                .rpc_request_duration
                .get_or_create(&MethodLabels {
                    method: method.to_owned(),
                })
                .observe(duration.as_secs_f64());
        }
    }

    /// Counts an open WebSocket connection until the returned guard is dropped.
    pub fn ws_connection_opened(&self) -> WsConnectionGuard {
        if let Some(inner) = &self.inner {
            inner.ws_connections.inc();
        }
        WsConnectionGuard {
            metrics: self.clone(),
        }
    }

    /// Adds `delta` (negative for closed ones) to the open WebSocket subscriptions.
    pub fn add_ws_subscriptions(&self, delta: i64) {
        if let Some(inner) = &self.inner {
            inner.ws_subscriptions.inc_by(delta);
        }
    }

    /// Encodes every metric in the Prometheus text format ([`CONTENT_TYPE`]); empty for
    /// a disabled handle.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Some(inner) = &self.inner {
            let registry = inner
                .registry
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // Writing to a `String` cannot fail, and the counters, gauges and histograms
            // registered here encode without errors of their own.
            prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
                .expect("metrics encode into a String");
        }
        text
    }
}

/// Keeps `starling_ws_connections` counting one connection while it is alive.
#[derive(Debug)]
pub struct WsConnectionGuard {
    metrics: Metrics,
}

impl Drop for WsConnectionGuard {
    fn drop(&mut self) {
        if let Some(inner) = &self.metrics.inner {
            inner.ws_connections.dec();
        }
    }
}

fn rpc_latency_histogram() -> Histogram {
    Histogram::new(RPC_LATENCY_BUCKETS)
}

/// Encodes the chain gauges from a [`ChainState`] read at scrape time.
struct ChainStateCollector {
    source: Box<dyn Fn() -> ChainState + Send + Sync>,
}

impl fmt::Debug for ChainStateCollector {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("ChainStateCollector").finish()
    }
}

impl Collector for ChainStateCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let state = (self.source)();
        let gauges: [(&str, &str, Option<f64>); 5] = [
            (
                "starling_head_block_number",
                "Number of the stored head block; absent while the database is empty",
                state.head.map(|head| head as f64),
            ),
            (
                "starling_gateway_head_block_number",
                "Newest block number the feeder gateway reported; absent until it is known",
                state.gateway_head.map(|head| head as f64),
            ),
            (
                "starling_sync_lag_blocks",
                "Blocks the stored head is behind the feeder gateway's newest block",
                state.lag().map(|lag| lag as f64),
            ),
            (
                "starling_sync_blocks_per_second",
                "Blocks committed per second over the sync loop's last status interval",
                state.blocks_per_second,
            ),
            (
                "starling_sync_running",
                "1 while the sync task runs, 0 after it stopped",
                Some(if state.sync_running { 1.0 } else { 0.0 }),
            ),
        ];
        for (name, help, value) in gauges {
            let Some(value) = value else { continue };
            let gauge = ConstGauge::new(value);
            let metric_encoder =
                encoder.encode_descriptor(name, help, None, ConstGauge::<f64>::TYPE)?;
            gauge.encode(metric_encoder)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the value of the sample line that starts with `series` followed by a space.
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map(|value| value.parse().unwrap())
    }

    #[test]
    fn disabled_handle_records_nothing() {
        let metrics = Metrics::disabled();
        metrics.gateway_request("get_block");
        metrics.rpc_request("starknet_blockNumber", "v0_8", Duration::from_millis(1));
        drop(metrics.ws_connection_opened());
        assert!(!metrics.is_enabled());
        assert_eq!(metrics.encode(), "");
    }

    #[test]
    fn gateway_counters_by_endpoint_and_kind() {
        let metrics = Metrics::new();
        metrics.gateway_request("get_block");
        metrics.gateway_request("get_block");
        metrics.gateway_error("get_block", "timeout");
        let text = metrics.encode();
        assert_eq!(
            sample(
                &text,
                "starling_gateway_requests_total{endpoint=\"get_block\"}"
            ),
            Some(2.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                "starling_gateway_errors_total{endpoint=\"get_block\",kind=\"timeout\"}"
            ),
            Some(1.0),
            "{text}"
        );
    }

    #[test]
    fn rpc_request_counts_and_observes_latency() {
        let metrics = Metrics::new();
        metrics.rpc_request("starknet_chainId", "v0_8", Duration::from_micros(300));
        metrics.rpc_request("starknet_chainId", "root", Duration::from_secs(20));
        let text = metrics.encode();
        assert_eq!(
            sample(
                &text,
                "starling_rpc_requests_total{method=\"starknet_chainId\",api=\"v0_8\"}"
            ),
            Some(1.0),
            "{text}"
        );
        let histogram = "starling_rpc_request_duration_seconds";
        let method = "method=\"starknet_chainId\"";
        assert_eq!(
            sample(&text, &format!("{histogram}_count{{{method}}}")),
            Some(2.0)
        );
        assert_eq!(
            sample(
                &text,
                &format!("{histogram}_bucket{{{method},le=\"0.0005\"}}")
            ),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                &format!("{histogram}_bucket{{{method},le=\"+Inf\"}}")
            ),
            Some(2.0),
            "{text}"
        );
    }

    #[test]
    fn ws_gauges_follow_guards_and_deltas() {
        let metrics = Metrics::new();
        let first = metrics.ws_connection_opened();
        let second = metrics.ws_connection_opened();
        drop(first);
        metrics.add_ws_subscriptions(3);
        metrics.add_ws_subscriptions(-1);
        let text = metrics.encode();
        assert_eq!(sample(&text, "starling_ws_connections"), Some(1.0));
        assert_eq!(sample(&text, "starling_ws_subscriptions"), Some(2.0));
        drop(second);
        assert_eq!(
            sample(&metrics.encode(), "starling_ws_connections"),
            Some(0.0)
        );
    }

    #[test]
    fn chain_gauges_omit_unknown_values() {
        let metrics = Metrics::new();
        metrics.register_chain_state(|| ChainState {
            head: None,
            gateway_head: Some(9),
            blocks_per_second: None,
            sync_running: true,
        });
        let text = metrics.encode();
        assert_eq!(sample(&text, "starling_head_block_number"), None, "{text}");
        assert_eq!(
            sample(&text, "starling_gateway_head_block_number"),
            Some(9.0)
        );
        assert_eq!(sample(&text, "starling_sync_lag_blocks"), Some(10.0));
        assert_eq!(sample(&text, "starling_sync_blocks_per_second"), None);
        assert_eq!(sample(&text, "starling_sync_running"), Some(1.0));
    }

    #[test]
    fn lag_saturates_at_zero() {
        let mut state = ChainState {
            head: Some(12),
            gateway_head: Some(10),
            ..ChainState::default()
        };
        assert_eq!(state.lag(), Some(0));
        state.head = Some(4);
        assert_eq!(state.lag(), Some(6));
        state.gateway_head = None;
        assert_eq!(state.lag(), None);
    }
}
