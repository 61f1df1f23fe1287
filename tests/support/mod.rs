//! Shared helpers for the end-to-end tests: recorded data, the real `starling` binary,
//! an in-process replay gateway and a WebSocket JSON-RPC client.

#![allow(dead_code)]

pub mod spec;

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use starling_sync::replay::{ReplayConfig, ReplayGateway};

/// The in-process replay gateway the tests start.
pub type ReplayGatewayHandle = ReplayGateway;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Returns the recorded feeder-gateway responses, or `None` (after printing why) when they are
/// missing and `STARLING_REQUIRE_DATA` is not set.
pub fn fgw_dir(network: &str) -> Option<PathBuf> {
    let root = std::env::var_os("STARLING_FGW_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fgw"));
    let dir = root.join(network);
    if dir.join("block").is_dir() {
        return Some(dir);
    }
    let message = format!(
        "feeder-gateway recordings not found at {} (set STARLING_FGW_DIR)",
        dir.display()
    );
    if std::env::var_os("STARLING_REQUIRE_DATA").is_some_and(|value| value != "0") {
        panic!("{message}");
    }
    eprintln!("skipped: {message}");
    None
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Canonical `0x` lowercase form of a recorded felt, which may lack the prefix or be
/// zero-padded.
pub fn canonical_felt(value: &Value) -> String {
    let text = value.as_str().expect("felt string");
    let digits = text
        .trim_start_matches("0x")
        .trim_start_matches('0')
        .to_lowercase();
    if digits.is_empty() {
        "0x0".into()
    } else {
        format!("0x{digits}")
    }
}

/// Writes a chain of `blocks` blocks with `starling synth-chain --seed seed` to `out`,
/// with `extra` arguments (such as `--fork-at`), and fails the test if it fails.
pub fn synth_chain(out: &Path, blocks: u64, seed: u64, extra: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_starling"))
        .arg("synth-chain")
        .arg("--out")
        .arg(out)
        .args(["--blocks", &blocks.to_string(), "--seed", &seed.to_string()])
        .args(extra)
        .output()
        .expect("starling binary starts");
    assert!(
        output.status.success(),
        "synth-chain failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `starling` node process with its log captured to a file.
pub struct Node {
    child: Child,
    pub log_path: PathBuf,
    pub ws_port: u16,
    pub http_port: u16,
}

impl Node {
    /// Starts the real binary on `db_path`, syncing from `gateway_url`, with `--ws` and
    /// `--http` on free ports of 127.0.0.1.
    pub fn start(network: &str, db_path: &Path, gateway_url: &str, log_path: &Path) -> Node {
        Node::start_with_args(network, db_path, gateway_url, log_path, &[])
    }

    /// Like [`Node::start`], with `extra` flags appended to the command line.
    pub fn start_with_args(
        network: &str,
        db_path: &Path,
        gateway_url: &str,
        log_path: &Path,
        extra: &[&str],
    ) -> Node {
        let ws_port = free_port();
        let http_port = free_port();
        let log = File::create(log_path).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_starling"))
            .args(["--network", network])
            .arg("--db-path")
            .arg(db_path)
            .args(["--feeder-gateway-url", gateway_url])
            .args(["--ws", "--ws-host", "127.0.0.1", "--ws-port"])
            .arg(ws_port.to_string())
            .args(["--http", "--http-host", "127.0.0.1", "--http-port"])
            .arg(http_port.to_string())
            .args(["--poll-interval-ms", "100"])
            .args(extra)
            .env("RUST_LOG", "info,sync=debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starling binary starts");
        Node {
            child,
            log_path: log_path.to_owned(),
            ws_port,
            http_port,
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.ws_port)
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Connects to the WebSocket server's root path, retrying while the node starts.
    pub async fn connect(&self) -> WsClient {
        self.connect_to("/").await
    }

    /// Connects to `path` (such as `/v0_10`) of the WebSocket server, retrying while the
    /// node starts.
    pub async fn connect_to(&self, path: &str) -> WsClient {
        let url = format!("ws://127.0.0.1:{}{path}", self.ws_port);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match tokio_tungstenite::connect_async(url.as_str()).await {
                Ok((socket, _)) => return WsClient { socket, next_id: 1 },
                Err(error) if Instant::now() > deadline => {
                    panic!(
                        "cannot connect to {url}: {error}\nnode log:\n{}",
                        self.log()
                    )
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Polls the log until it contains `needle`, for at most `timeout`.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            if Instant::now() > deadline {
                panic!("log never contained {needle:?}; log:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl WsClient {
    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text.to_string()))
            .await
            .unwrap();
    }

    /// Next text message as JSON, or `None` if nothing arrives within `timeout`.
    pub async fn receive(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let message = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??;
            match message.expect("websocket read") {
                Message::Text(text) => return Some(serde_json::from_str(&text).unwrap()),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Sends a request and returns its response, failing if a notification or another
    /// message arrives first.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let request = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": id});
        self.send_text(&request.to_string()).await;
        let response = self
            .receive(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no response to {method}"));
        assert_eq!(response["id"], json!(id), "unexpected message: {response}");
        response
    }

    /// Polls `starknet_blockNumber` until it returns `number`.
    pub async fn wait_for_head(&mut self, number: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let response = self.call("starknet_blockNumber", json!([])).await;
            if response["result"] == json!(number) {
                return;
            }
            if Instant::now() > deadline {
                panic!("head never reached {number}; last answer {response}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Starts an in-process replay gateway on 127.0.0.1 (`port` 0 picks a free one).
pub async fn start_gateway(
    dir: &Path,
    port: u16,
    initial_blocks: Option<u64>,
    release: Option<Duration>,
) -> ReplayGateway {
    let mut config = ReplayConfig::new(dir);
    config.host = "127.0.0.1".into();
    config.port = port;
    config.initial_blocks = initial_blocks;
    config.release_interval = release;
    ReplayGateway::start(config)
        .await
        .expect("replay gateway starts")
}

/// Copies the per-block files and the classes of a recording, leaving out the combined
/// `state_update_with_block` files so that the gateway composes them from the copies.
pub fn copy_recording(from: &Path, to: &Path) {
    for folder in [
        "block",
        "state_update",
        "class",
        "compiled_class",
        "signature",
    ] {
        let source = from.join(folder);
        if !source.is_dir() {
            continue;
        }
        std::fs::create_dir_all(to.join(folder)).unwrap();
        for entry in std::fs::read_dir(source).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(folder).join(entry.file_name())).unwrap();
        }
    }
}

/// Rewrites a JSON file of a copied recording.
pub fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut value = read_json(path);
    edit(&mut value);
    std::fs::write(path, value.to_string()).unwrap();
}

/// A JSON-RPC client over HTTP for one node.
pub struct HttpClient {
    http: reqwest::Client,
    base: String,
}

impl HttpClient {
    pub fn new(node: &Node) -> HttpClient {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        HttpClient {
            http,
            base: node.http_url(""),
        }
    }

    /// POSTs a raw body to `path` and returns the status and the body parsed as JSON
    /// (`Value::Null` for an empty body).
    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("HTTP request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// Calls `method` on `path` and returns the whole response object.
    pub async fn call(&self, path: &str, method: &str, params: Value) -> Value {
        let request = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
        let (status, response) = self.post_raw(path, &request.to_string()).await;
        assert_eq!(status, 200, "{method} on {path}: HTTP {status} {response}");
        response
    }
}
