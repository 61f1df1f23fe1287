//! The networks the node knows: chain id and public feeder gateway of each.

use starling_storage::{ChainId, ChainInfo};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    Mainnet,
    Sepolia,
}

impl Network {
    pub fn name(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Sepolia => "sepolia",
        }
    }

    pub fn chain_id(self) -> ChainId {
        match self {
            Network::Mainnet => ChainId::MAINNET,
            Network::Sepolia => ChainId::SEPOLIA,
        }
    }

    /// Base URL of the public feeder gateway, without the trailing `/feeder_gateway`.
    pub fn default_gateway_url(self) -> &'static str {
        match self {
            Network::Mainnet => "https://alpha-mainnet.starknet.io",
            Network::Sepolia => "https://alpha-sepolia.starknet.io",
        }
    }

    pub fn chain_info(self) -> ChainInfo {
        ChainInfo {
            network: self.name().to_string(),
            chain_id: self.chain_id(),
        }
    }
}
