//! HTTP client for the feeder gateway's read endpoints.

use std::time::Duration;

use reqwest::StatusCode;
use starling_storage::{BlockHash, BlockNumber, ClassHash, Felt};

use super::wire::{BlockSignature, GatewayError, StateUpdateWithBlock};

/// Per-request timeout. A class can be several megabytes, and the public gateway takes
/// seconds to serve one under load; beyond 60 s the request is retried instead.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a gateway request failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("request to {endpoint} failed: {source}")]
    Transport {
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
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

/// Client of one feeder gateway, such as `https://alpha-sepolia.starknet.io`.
#[derive(Clone, Debug)]
pub struct GatewayClient {
    http: reqwest::Client,
    /// Base URL ending in `/feeder_gateway`.
    base: String,
}

impl GatewayClient {
    /// Accepts the gateway's base URL with or without the `/feeder_gateway` suffix.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let trimmed = url.trim_end_matches('/');
        let base = if trimmed.ends_with("/feeder_gateway") {
            trimmed.to_string()
        } else {
            format!("{trimmed}/feeder_gateway")
        };
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("starling/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, base })
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
        let endpoint = "get_state_update";
        let query = [
            ("blockNumber", number.to_string()),
            ("includeBlock", "true".to_string()),
        ];
        match self.get(endpoint, &query).await? {
            Some(body) => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|source| FetchError::Decode { endpoint, source }),
            None => Ok(None),
        }
    }

    /// Number and hash of the newest block the gateway has, or `None` if it has none.
    pub async fn latest_block(&self) -> Result<Option<(BlockNumber, BlockHash)>, FetchError> {
        #[derive(serde::Deserialize)]
        struct Header {
            block_number: u64,
            #[serde(with = "super::wire::felt_serde")]
            block_hash: Felt,
        }

        let endpoint = "get_block";
        let query = [
            ("blockNumber", "latest".to_string()),
            ("headerOnly", "true".to_string()),
        ];
        match self.get(endpoint, &query).await? {
            Some(body) => serde_json::from_slice::<Header>(&body)
                .map(|header| {
                    Some((
                        BlockNumber(header.block_number),
                        BlockHash(header.block_hash),
                    ))
                })
                .map_err(|source| FetchError::Decode { endpoint, source }),
            None => Ok(None),
        }
    }

    /// The sequencer's signature of block `number`; `None` if the gateway has none.
    pub async fn signature(
        &self,
        number: BlockNumber,
    ) -> Result<Option<BlockSignature>, FetchError> {
        let endpoint = "get_signature";
        let query = [("blockNumber", number.to_string())];
        match self.get(endpoint, &query).await? {
            Some(body) => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|source| FetchError::Decode { endpoint, source }),
            None => Ok(None),
        }
    }

    /// The class definition JSON; `None` if the gateway does not know the class.
    pub async fn class_definition(&self, hash: ClassHash) -> Result<Option<Vec<u8>>, FetchError> {
        let query = [("classHash", hash.to_string())];
        self.get("get_class_by_hash", &query).await
    }

    /// The CASM JSON of a Sierra class; `None` if the gateway does not have it.
    pub async fn compiled_class(&self, hash: ClassHash) -> Result<Option<Vec<u8>>, FetchError> {
        let query = [("classHash", hash.to_string())];
        self.get("get_compiled_class_by_class_hash", &query).await
    }

    /// GETs an endpoint. The gateway's "not found" answers (unknown block or class)
    /// become `Ok(None)`; every other failure is an error.
    async fn get(
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
        let body = response
            .bytes()
            .await
            .map_err(|source| FetchError::Transport { endpoint, source })?;

        if status.is_success() {
            return Ok(Some(body.to_vec()));
        }
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
        Err(FetchError::Status {
            endpoint,
            status,
            body: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        })
    }
}
