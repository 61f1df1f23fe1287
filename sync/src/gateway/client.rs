//! HTTP client for the feeder gateway's read endpoints.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::IgnoredAny;
use starling_metrics::Metrics;
use starling_storage::{BlockHash, BlockNumber, ClassHash, Felt};

use super::wire::{BlockSignature, GatewayError, PreconfirmedBlock, StateUpdateWithBlock};

/// Header that carries the gateway API key. Pathfinder sends the key of its
/// `--gateway-api-key` option under this name to the feeder gateway since 0.10.3-rc1 (its
/// CHANGELOG), so that the public gateway does not throttle the node.
pub const API_KEY_HEADER: &str = "X-Throttling-Bypass";

/// Maximum wait honoured from a `Retry-After` header, so that one response cannot stall sync for
/// hours.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Settings of a [`GatewayClient`].
#[derive(Clone)]
pub struct GatewayOptions {
    /// Time allowed for one HTTP request, body included. A class can be several megabytes, and
    /// the public gateway takes seconds to serve one under load.
    pub request_timeout: Duration,
    /// Value of the [`API_KEY_HEADER`] header sent with every request.
    pub api_key: Option<String>,
    /// Attempts per request, counting the first; 1 disables retries.
    pub max_attempts: u32,
    /// Wait before the first retry. Each further retry doubles it, up to `max_backoff`, and
    /// the wait actually used is drawn between half of that value and all of it.
    pub initial_backoff: Duration,
    /// Upper bound of the backoff. A `Retry-After` header may request more, up to 60 s.
    pub max_backoff: Duration,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(60),
            api_key: None,
            max_attempts: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl fmt::Debug for GatewayOptions {
    /// Leaves the API key out, so that logging the options does not leak it.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("GatewayOptions")
            .field("request_timeout", &self.request_timeout)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .finish()
    }
}

/// Reason a gateway request failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("request to {endpoint} failed: {source}")]
    Transport {
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
    },

    #[error("{endpoint} returned HTTP 429 Too Many Requests (Retry-After: {retry_after:?})")]
    RateLimited {
        endpoint: &'static str,
        retry_after: Option<Duration>,
    },

    #[error("{endpoint} returned HTTP {status}: {body}")]
    Status {
        endpoint: &'static str,
        status: StatusCode,
        body: String,
    },

    #[error("{endpoint} returned {code}: {message}")]
    Gateway {
        endpoint: &'static str,
        code: String,
        message: String,
    },

    #[error("{endpoint} returned invalid JSON: {source}")]
    Decode {
        endpoint: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl FetchError {
    /// Returns a short name of the failure for logs: `timeout`, `connect`, `transport`,
    /// `rate_limited`, `server_error`, `http_status`, `gateway_error` or `invalid_json`.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Transport { source, .. } if source.is_timeout() => "timeout",
            FetchError::Transport { source, .. } if source.is_connect() => "connect",
            FetchError::Transport { .. } => "transport",
            FetchError::RateLimited { .. } => "rate_limited",
            FetchError::Status { status, .. } if status.is_server_error() => "server_error",
            FetchError::Status { .. } => "http_status",
            FetchError::Gateway { .. } => "gateway_error",
            FetchError::Decode { .. } => "invalid_json",
        }
    }

    /// Returns whether another attempt may succeed: transport failures and timeouts, HTTP 429, 408
    /// and 5xx, and bodies that are not the expected JSON (such as a cut-off response).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Transport { .. }
            | FetchError::RateLimited { .. }
            | FetchError::Decode { .. } => true,
            FetchError::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::REQUEST_TIMEOUT
            }
            FetchError::Gateway { .. } => false,
        }
    }
}

/// Client of one feeder gateway, such as `https://alpha-sepolia.starknet.io`.
#[derive(Clone, Debug)]
pub struct GatewayClient {
    http: reqwest::Client,
    /// Base URL ending in `/feeder_gateway`.
    base: String,
    options: GatewayOptions,
    /// Counts every attempt and every failed attempt; disabled unless
    /// [`GatewayClient::with_metrics`] shares the node's handle.
    metrics: Metrics,
}

impl GatewayClient {
    /// Accepts the gateway's base URL with or without the `/feeder_gateway` suffix. Fails when
    /// the API key is not a valid HTTP header value or the HTTP client cannot be built.
    pub fn new(url: &str, options: GatewayOptions) -> anyhow::Result<Self> {
        let trimmed = url.trim_end_matches('/');
        let base = if trimmed.ends_with("/feeder_gateway") {
            trimmed.to_string()
        } else {
            format!("{trimmed}/feeder_gateway")
        };
        let mut headers = HeaderMap::new();
        if let Some(api_key) = &options.api_key {
            let mut value = HeaderValue::from_str(api_key).map_err(|_| {
                anyhow::anyhow!(
                    "invalid gateway API key: it must contain only visible ASCII characters"
                )
            })?;
            value.set_sensitive(true);
            headers.insert(API_KEY_HEADER, value);
        }
        let http = reqwest::Client::builder()
            .timeout(options.request_timeout)
            .default_headers(headers)
            .user_agent(concat!("starling/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base,
            options,
            metrics: Metrics::disabled(),
        })
    }

    /// Records requests and failures into `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Block `number` with its state update in one request; `None` if the gateway does
    /// not have the block yet.
    pub async fn state_update_with_block(
        &self,
        number: BlockNumber,
    ) -> Result<Option<StateUpdateWithBlock>, FetchError> {
        let query = [
            ("blockNumber", number.to_string()),
            ("includeBlock", "true".to_string()),
        ];
        self.fetch("get_state_update", &query, Some(number), |body| {
            serde_json::from_slice(body)
        })
        .await
    }

    /// Number and hash of the newest block the gateway has, or `None` if it has none.
    pub async fn latest_block(&self) -> Result<Option<(BlockNumber, BlockHash)>, FetchError> {
        #[derive(serde::Deserialize)]
        struct Header {
            block_number: u64,
            #[serde(with = "super::wire::felt_serde")]
            block_hash: Felt,
        }

        let query = [
            ("blockNumber", "latest".to_string()),
            ("headerOnly", "true".to_string()),
        ];
        self.fetch("get_block", &query, None, |body| {
            serde_json::from_slice::<Header>(body).map(|header| {
                (
                    BlockNumber(header.block_number),
                    BlockHash(header.block_hash),
                )
            })
        })
        .await
    }

    /// Hash of block `number` on the gateway's chain, or `None` if the gateway does not
    /// have the block. Only `block_hash` is decoded, so a gateway that ignores
    /// `headerOnly` and sends the full block also works.
    pub async fn block_hash(&self, number: BlockNumber) -> Result<Option<BlockHash>, FetchError> {
        #[derive(serde::Deserialize)]
        struct Header {
            #[serde(with = "super::wire::felt_serde")]
            block_hash: Felt,
        }

        let query = [
            ("blockNumber", number.to_string()),
            ("headerOnly", "true".to_string()),
        ];
        self.fetch("get_block", &query, Some(number), |body| {
            serde_json::from_slice::<Header>(body).map(|header| BlockHash(header.block_hash))
        })
        .await
    }

    /// Fetches the sequencer's signature of block `number`; `None` if the gateway has none.
    pub async fn signature(
        &self,
        number: BlockNumber,
    ) -> Result<Option<BlockSignature>, FetchError> {
        let query = [("blockNumber", number.to_string())];
        self.fetch("get_signature", &query, Some(number), |body| {
            serde_json::from_slice(body)
        })
        .await
    }

    /// Fetches the class definition JSON, which block `block` introduces; `None` if the gateway does
    /// not know the class. The body is checked to be JSON but returned as sent.
    pub async fn class_definition(
        &self,
        hash: ClassHash,
        block: BlockNumber,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let query = [("classHash", hash.to_string())];
        self.fetch("get_class_by_hash", &query, Some(block), raw_json)
            .await
    }

    /// Fetches the CASM JSON of a Sierra class, which block `block` introduces; `None` if the gateway
    /// does not have it. The body is checked to be JSON but returned as sent.
    pub async fn compiled_class(
        &self,
        hash: ClassHash,
        block: BlockNumber,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let query = [("classHash", hash.to_string())];
        self.fetch(
            "get_compiled_class_by_class_hash",
            &query,
            Some(block),
            raw_json,
        )
        .await
    }

    /// Fetches the pre-confirmed block that will become block `number` (Starknet 0.14.0 and
    /// later); `None` if the gateway is not building that block. Unlike the other methods it
    /// makes exactly one attempt, because the caller polls every interval and a failed poll
    /// waits for the next one.
    pub async fn preconfirmed_block(
        &self,
        number: BlockNumber,
    ) -> Result<Option<PreconfirmedBlock>, FetchError> {
        let endpoint = "get_preconfirmed_block";
        let query = [("blockNumber", number.to_string())];
        match self.get(endpoint, &query).await? {
            Some(body) => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|source| FetchError::Decode { endpoint, source }),
            None => Ok(None),
        }
    }

    /// GETs an endpoint and decodes the body, retrying transient failures (see
    /// [`FetchError::is_transient`]) up to [`GatewayOptions::max_attempts`] times with capped
    /// exponential backoff and jitter. Logs each retry once at warn level; `block` only labels
    /// those lines.
    async fn fetch<T>(
        &self,
        endpoint: &'static str,
        query: &[(&str, String)],
        block: Option<BlockNumber>,
        decode: impl Fn(&[u8]) -> Result<T, serde_json::Error>,
    ) -> Result<Option<T>, FetchError> {
        let max_attempts = self.options.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let result = match self.get(endpoint, query).await {
                Ok(Some(body)) => decode(&body).map(Some).map_err(|source| {
                    let error = FetchError::Decode { endpoint, source };
                    self.metrics.gateway_error(endpoint, error.kind());
                    error
                }),
                Ok(None) => Ok(None),
                Err(error) => Err(error),
            };
            let error = match result {
                Err(error) if error.is_transient() && attempt < max_attempts => error,
                other => return other,
            };

            let delay = self.retry_delay(attempt, &error);
            tracing::warn!(
                target: "sync",
                block_number = block.map(|number| number.0),
                endpoint,
                attempt,
                max_attempts,
                error_kind = error.kind(),
                retry_in_ms = delay.as_millis() as u64,
                %error,
                "gateway request failed; retrying"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Wait after failed attempt number `attempt` (1 for the first): the jittered backoff, or
    /// the `Retry-After` of a 429 when that is longer (capped at 60 s).
    fn retry_delay(&self, attempt: u32, error: &FetchError) -> Duration {
        let backoff = backoff_delay(
            self.options.initial_backoff,
            self.options.max_backoff,
            attempt,
            random_fraction(),
        );
        match error {
            FetchError::RateLimited {
                retry_after: Some(retry_after),
                ..
            } => backoff.max((*retry_after).min(MAX_RETRY_AFTER)),
            _ => backoff,
        }
    }

    /// GETs an endpoint once. The gateway's "not found" responses (unknown block or class)
    /// become `Ok(None)`; every other failure is an error. Counts the request, and the
    /// failure by kind, in the metrics; a body that the caller cannot decode is counted
    /// by the caller.
    async fn get(
        &self,
        endpoint: &'static str,
        query: &[(&str, String)],
    ) -> Result<Option<Vec<u8>>, FetchError> {
        self.metrics.gateway_request(endpoint);
        let result = self.send_get(endpoint, query).await;
        if let Err(error) = &result {
            self.metrics.gateway_error(endpoint, error.kind());
        }
        result
    }

    async fn send_get(
        &self,
        endpoint: &'static str,
        query: &[(&str, String)],
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let url = format!("{}/{endpoint}", self.base);
        let response = self
            .http
            .get(url)
            .query(query)
            .send()
            .await
            .map_err(|source| FetchError::Transport { endpoint, source })?;
        let status = response.status();
        let retry_after = parse_retry_after(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|source| FetchError::Transport { endpoint, source })?;

        if status.is_success() {
            return Ok(Some(body.to_vec()));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(FetchError::RateLimited {
                endpoint,
                retry_after,
            });
        }
        if !status.is_server_error() {
            if let Ok(error) = serde_json::from_slice::<GatewayError>(&body) {
                if error.is_block_not_found() || error.is_undeclared_class() {
                    return Ok(None);
                }
                return Err(FetchError::Gateway {
                    endpoint,
                    code: error.code,
                    message: error.message,
                });
            }
        }
        Err(FetchError::Status {
            endpoint,
            status,
            body: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        })
    }
}

/// Checks that `body` is JSON without building it, and returns it as sent.
fn raw_json(body: &[u8]) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::from_slice::<IgnoredAny>(body)?;
    Ok(body.to_vec())
}

/// Reads `Retry-After` in its delay-seconds form. The HTTP-date form is ignored, so the
/// backoff applies alone.
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// `initial` doubled per earlier retry and capped at `max`, scaled into its upper half by
/// `fraction` (from 0 to 1), so that clients failing together do not retry together.
fn backoff_delay(initial: Duration, max: Duration, attempt: u32, fraction: f64) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
    let capped = initial.saturating_mul(factor).min(max);
    capped.mul_f64(0.5 + 0.5 * fraction.clamp(0.0, 1.0))
}

/// Returns a number in [0, 1) from the standard library's randomly keyed hasher. It is good
/// enough for jitter, not for anything that needs unpredictability.
fn random_fraction() -> f64 {
    let bits = RandomState::new().build_hasher().finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// Bound on every test's wait for the client.
    const TEST_TIMEOUT: Duration = Duration::from_secs(10);

    /// HTTP/1.1 server on 127.0.0.1 that replies to the n-th connection with the n-th scripted
    /// response (raw bytes, then close) and HTTP 500 once the script is used up. Returns the
    /// base URL and the request heads it received.
    async fn scripted_server(script: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let received = Arc::clone(&heads);
        tokio::spawn(async move {
            let mut responses = script.into_iter();
            for _ in 0..32 {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 65536 {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                received
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let response = responses.next().unwrap_or_else(|| {
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n".to_owned()
                });
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        (format!("http://{address}"), heads)
    }

    fn response(status: &str, headers: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
            body.len()
        )
    }

    fn fast_options() -> GatewayOptions {
        GatewayOptions {
            request_timeout: Duration::from_secs(2),
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            ..GatewayOptions::default()
        }
    }

    const LATEST: &str = r#"{"block_number": 7, "block_hash": "0xabc"}"#;

    #[tokio::test]
    async fn retries_transient_failures() {
        let script = vec![
            response("503 Service Unavailable", "", "busy"),
            response("429 Too Many Requests", "retry-after: 0\r\n", ""),
            response("200 OK", "", &LATEST[..LATEST.len() / 2]),
            response("200 OK", "", LATEST),
        ];
        let (url, heads) = scripted_server(script).await;
        let client = GatewayClient::new(&url, fast_options()).unwrap();

        let latest = tokio::time::timeout(TEST_TIMEOUT, client.latest_block())
            .await
            .expect("latest_block timed out")
            .expect("latest_block failed after retries");
        assert_eq!(
            latest,
            Some((BlockNumber(7), BlockHash(Felt::from(0xabc_u64))))
        );
        assert_eq!(heads.lock().unwrap().len(), 4);
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts() {
        let script = vec![response("503 Service Unavailable", "", "busy"); 5];
        let (url, heads) = scripted_server(script).await;
        let options = GatewayOptions {
            max_attempts: 3,
            ..fast_options()
        };
        let client = GatewayClient::new(&url, options).unwrap();

        let error = tokio::time::timeout(TEST_TIMEOUT, client.latest_block())
            .await
            .expect("latest_block timed out")
            .expect_err("three 503 answers must fail the request");
        assert_eq!(error.kind(), "server_error");
        assert_eq!(heads.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn block_not_found_not_retried() {
        let not_found = r#"{"code": "StarknetErrorCode.BLOCK_NOT_FOUND", "message": "Block number 9 was not found."}"#;
        let malformed = r#"{"code": "StarknetErrorCode.MALFORMED_REQUEST", "message": "bad"}"#;
        let script = vec![
            response("400 Bad Request", "", not_found),
            response("400 Bad Request", "", malformed),
        ];
        let (url, heads) = scripted_server(script).await;
        let client = GatewayClient::new(&url, fast_options()).unwrap();

        let missing = client.signature(BlockNumber(9)).await.unwrap();
        assert!(missing.is_none());
        let error = client
            .signature(BlockNumber(9))
            .await
            .expect_err("MALFORMED_REQUEST is an error");
        assert_eq!(error.kind(), "gateway_error");
        assert_eq!(heads.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn api_key_header_sent() {
        let script = vec![response("200 OK", "", LATEST)];
        let (url, heads) = scripted_server(script).await;
        let options = GatewayOptions {
            api_key: Some("test-key-1".to_owned()),
            ..fast_options()
        };
        let client = GatewayClient::new(&url, options).unwrap();
        client.latest_block().await.unwrap();

        let heads = heads.lock().unwrap();
        let head = heads[0].to_ascii_lowercase();
        assert!(
            head.contains("x-throttling-bypass: test-key-1\r\n"),
            "{head}"
        );
        assert!(
            !format!("{client:?}").contains("test-key-1"),
            "Debug output shows the API key"
        );
    }

    #[test]
    fn api_key_with_newline_rejected() {
        let options = GatewayOptions {
            api_key: Some("key\nX-Other: 1".to_owned()),
            ..GatewayOptions::default()
        };
        let error = GatewayClient::new("http://127.0.0.1:1", options).unwrap_err();
        assert!(
            error.to_string().contains("invalid gateway API key"),
            "{error}"
        );
    }

    #[test]
    fn backoff_doubles_capped_with_jitter() {
        let initial = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        assert_eq!(backoff_delay(initial, max, 1, 1.0), initial);
        assert_eq!(
            backoff_delay(initial, max, 1, 0.0),
            Duration::from_millis(50)
        );
        assert_eq!(
            backoff_delay(initial, max, 3, 1.0),
            Duration::from_millis(400)
        );
        assert_eq!(backoff_delay(initial, max, 30, 1.0), max);
        assert_eq!(backoff_delay(initial, max, 30, 0.0), max / 2);
    }

    #[test]
    fn retry_after_seconds_parsed() {
        let mut headers = HeaderMap::new();
        assert_eq!(parse_retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(parse_retry_after(&headers), None);
    }
}
