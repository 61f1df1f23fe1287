//! Starling's sync: the feeder-gateway client and wire types, conversion into the chain
//! model, block checks, the sync pipeline, and the replay gateway used offline and in
//! tests.
//!
//! [`run`] is the pipeline's entry point; [`replay`] serves recorded gateway responses.

mod checks;
mod classes;
pub mod convert;
pub mod gateway;
mod network;
mod pipeline;
pub mod pre_confirmed;
mod prefetch;
mod progress;
mod reorg;
pub mod replay;
mod signature;
pub mod synth;
#[cfg(test)]
mod testdata;
pub mod verify;

pub use gateway::client::{FetchError, GatewayClient};
pub use network::Network;
pub use pipeline::{run, BlockError, SyncConfig, SyncError, DEFAULT_FETCH_AHEAD};
pub use pre_confirmed::PreConfirmedConfig;
