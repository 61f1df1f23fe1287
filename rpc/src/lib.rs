//! Starling's JSON-RPC server: the JSON-RPC 2.0 core, one module per method, the
//! versioned APIs and the HTTP and WebSocket transports.
//!
//! [`ws::serve`] and [`http::serve`] accept connections; both hand each message to
//! [`router::handle_message`], which parses it and calls the method for the [`Api`]
//! the request path selected.

pub mod context;
pub mod error;
pub mod http;
pub mod jsonrpc;
pub mod methods;
pub mod params;
pub mod router;
pub mod routes;
pub mod session;
pub mod subscription;
pub mod types;
pub mod version;
pub mod ws;

#[cfg(test)]
mod test_support;

pub use context::RpcContext;
pub use version::Api;
