//! The feeder gateway: its HTTP client and its JSON wire types.

pub mod client;
pub mod wire;
