//! Method lists of each served API, taken from each spec version.

use crate::version::Api;

/// Read methods of every served version, v0.7 to v0.10.
const READ_METHODS: &[&str] = &[
    "starknet_specVersion",
    "starknet_getBlockWithTxHashes",
    "starknet_getBlockWithTxs",
    "starknet_getBlockWithReceipts",
    "starknet_getStateUpdate",
    "starknet_getStorageAt",
    "starknet_getTransactionStatus",
    "starknet_getTransactionByHash",
    "starknet_getTransactionByBlockIdAndIndex",
    "starknet_getTransactionReceipt",
    "starknet_getClass",
    "starknet_getClassHashAt",
    "starknet_getClassAt",
    "starknet_getBlockTransactionCount",
    "starknet_blockNumber",
    "starknet_blockHashAndNumber",
    "starknet_chainId",
    "starknet_syncing",
    "starknet_getEvents",
    "starknet_getNonce",
    // The node's own method, served on every path as Juno does.
    "juno_version",
];

/// Added in v0.8: storage proofs, and `getCompiledCasm` of the executables API.
const SINCE_V0_8: &[&str] = &["starknet_getStorageProof", "starknet_getCompiledCasm"];

/// The root path's Juno-style subscription methods (WebSocket only).
const ROOT_SUBSCRIPTIONS: &[&str] = &["starknet_subscribeNewHeads", "juno_unsubscribe"];

/// Subscription methods of v0.8 (WebSocket only).
const SUBSCRIPTIONS_V0_8: &[&str] = &[
    "starknet_subscribeNewHeads",
    "starknet_subscribeEvents",
    "starknet_subscribeTransactionStatus",
    "starknet_subscribePendingTransactions",
    "starknet_unsubscribe",
];

/// Subscription methods of v0.9 and v0.10 (WebSocket only): v0.9 replaced pending
/// transactions with new transactions and new transaction receipts.
const SUBSCRIPTIONS_SINCE_V0_9: &[&str] = &[
    "starknet_subscribeNewHeads",
    "starknet_subscribeEvents",
    "starknet_subscribeTransactionStatus",
    "starknet_subscribeNewTransactions",
    "starknet_subscribeNewTransactionReceipts",
    "starknet_unsubscribe",
];

/// Reports whether `method` is a subscription method of some versioned path. Whether the
/// requested path serves it is [`is_served`]'s question.
pub fn is_versioned_subscription(method: &str) -> bool {
    SUBSCRIPTIONS_V0_8.contains(&method) || SUBSCRIPTIONS_SINCE_V0_9.contains(&method)
}

/// Methods without parameters; any parameter sent to them is -32602 rather than
/// silently ignored.
const WITHOUT_PARAMS: &[&str] = &[
    "starknet_specVersion",
    "starknet_blockNumber",
    "starknet_blockHashAndNumber",
    "starknet_chainId",
    "starknet_syncing",
    "juno_version",
];

pub fn takes_no_params(method: &str) -> bool {
    WITHOUT_PARAMS.contains(&method)
}

/// Whether `api` serves `method`. Methods outside these lists get -32601.
pub fn is_served(api: Api, method: &str) -> bool {
    let in_list = |list: &[&str]| list.contains(&method);
    match api {
        Api::Root => in_list(READ_METHODS) || in_list(ROOT_SUBSCRIPTIONS),
        Api::V0_7 => in_list(READ_METHODS),
        Api::V0_8 => in_list(READ_METHODS) || in_list(SINCE_V0_8) || in_list(SUBSCRIPTIONS_V0_8),
        Api::V0_9 | Api::V0_10 => {
            in_list(READ_METHODS) || in_list(SINCE_V0_8) || in_list(SUBSCRIPTIONS_SINCE_V0_9)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_proofs_start_at_v0_8() {
        assert!(!is_served(Api::V0_7, "starknet_getStorageProof"));
        assert!(is_served(Api::V0_8, "starknet_getStorageProof"));
        assert!(is_served(Api::V0_10, "starknet_getCompiledCasm"));
    }

    #[test]
    fn root_subscriptions_only_on_root() {
        assert!(is_served(Api::Root, "juno_unsubscribe"));
        assert!(!is_served(Api::V0_7, "juno_unsubscribe"));
        assert!(!is_served(Api::V0_10, "juno_unsubscribe"));
        assert!(!is_served(Api::V0_7, "starknet_subscribeNewHeads"));
    }

    #[test]
    fn subscriptions_follow_versions() {
        assert!(is_served(
            Api::V0_8,
            "starknet_subscribePendingTransactions"
        ));
        assert!(!is_served(
            Api::V0_9,
            "starknet_subscribePendingTransactions"
        ));
        assert!(!is_served(Api::V0_8, "starknet_subscribeNewTransactions"));
        assert!(is_served(
            Api::V0_10,
            "starknet_subscribeNewTransactionReceipts"
        ));
        assert!(is_served(Api::V0_9, "starknet_unsubscribe"));
        assert!(!is_served(Api::Root, "starknet_unsubscribe"));
    }

    #[test]
    fn execution_methods_are_not_served() {
        for api in [Api::Root, Api::V0_7, Api::V0_10] {
            assert!(!is_served(api, "starknet_call"));
            assert!(!is_served(api, "starknet_estimateFee"));
        }
    }
}
