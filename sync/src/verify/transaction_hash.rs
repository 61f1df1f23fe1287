//! Transaction hashes of every type and version, including the rules of the earliest
//! Mainnet blocks.
//!
//! Versions 0 to 2 hash with Pedersen over a fixed list of fields (the spec's
//! `compute_hash_on_elements`, which appends the list length). Version 3 hashes with
//! Poseidon and packs the fee fields. The chain id enters every hash, so a transaction
//! cannot be replayed on another network.

use starknet_types_core::hash::{Pedersen, StarkHash};
use starling_storage::{
    BlockHeader, BlockNumber, ChainId, DeclareTransactionV0V1, DeclareTransactionV2,
    DeployAccountTransactionV1, DeployTransaction, Felt, InvokeTransactionV0, InvokeTransactionV1,
    L1HandlerTransaction, Transaction, TransactionVariant,
};

use super::error::HashMismatch;
use super::transaction_hash_v3;
use super::version::{InvalidStarknetVersion, StarknetVersion};

/// `invoke` as a Cairo short string.
pub(super) const INVOKE: Felt = Felt::from_hex_unwrap("0x696e766f6b65");
/// `declare` as a Cairo short string.
pub(super) const DECLARE: Felt = Felt::from_hex_unwrap("0x6465636c617265");
/// `deploy` as a Cairo short string.
const DEPLOY: Felt = Felt::from_hex_unwrap("0x6465706c6f79");
/// `deploy_account` as a Cairo short string.
pub(super) const DEPLOY_ACCOUNT: Felt = Felt::from_hex_unwrap("0x6465706c6f795f6163636f756e74");
/// `l1_handler` as a Cairo short string.
const L1_HANDLER: Felt = Felt::from_hex_unwrap("0x6c315f68616e646c6572");
/// Selector of `constructor` (the Starknet Keccak of the name), the entry point of DEPLOY.
const CONSTRUCTOR_SELECTOR: Felt =
    Felt::from_hex_unwrap("0x28ffe4ff0f226a9107253e17a904099aa4f63a02a5621de0576e5aa71bc5194");

/// First Mainnet block of Starknet 0.7. Blocks below it hash DEPLOY, INVOKE v0 and
/// L1_HANDLER transactions with the legacy rule (no version, no fee field), and their
/// block hash includes the chain id. The number is Pathfinder's `first_0_7_block` for
/// Mainnet (`crates/block-commitments/src/lib.rs`). The recorded Mainnet blocks 0 to 2
/// follow the legacy rules, and blocks 2240, 2500 and 2800 the current ones.
const MAINNET_FIRST_0_7_BLOCK: BlockNumber = BlockNumber(833);

/// Block number and Starknet version: the facts of a block that choose the hash rules of
/// its transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashContext {
    pub block_number: BlockNumber,
    pub starknet_version: StarknetVersion,
}

impl HashContext {
    /// Returns the context of the transactions of the block with this header.
    pub fn for_header(header: &BlockHeader) -> Result<Self, InvalidStarknetVersion> {
        Ok(Self {
            block_number: header.number,
            starknet_version: StarknetVersion::parse(&header.starknet_version)?,
        })
    }

    /// Returns true for blocks that predate numbered versions (Mainnet before Starknet
    /// 0.9.1). Hash rules changed then without the blocks saying which rule they used.
    pub(super) fn is_unversioned(self) -> bool {
        self.starknet_version < StarknetVersion::V0_9_1
    }

    /// Returns true for Mainnet blocks from before Starknet 0.7, which hash their
    /// transactions and themselves with the legacy rules.
    pub(super) fn is_mainnet_before_0_7(self, chain_id: ChainId) -> bool {
        chain_id == ChainId::MAINNET
            && self.is_unversioned()
            && self.block_number < MAINNET_FIRST_0_7_BLOCK
    }
}

/// Computes the hash of a transaction under the rule its block prescribes.
///
/// Mainnet blocks before 833 use the legacy rule for DEPLOY, INVOKE v0 and L1_HANDLER.
/// Every other block uses the current rule of the transaction's type and version.
/// [`verify_transaction_hash`] also accepts the other historical rules in blocks that
/// report no version, because those blocks do not say which rule they used.
pub fn transaction_hash(
    transaction: &TransactionVariant,
    chain_id: ChainId,
    context: HashContext,
) -> Felt {
    if context.is_mainnet_before_0_7(chain_id) {
        if let Some(hash) = legacy_hash(transaction, chain_id) {
            return hash;
        }
    }
    current_hash(transaction, chain_id)
}

/// Checks that a transaction's hash is the one its fields produce.
///
/// In blocks that report no Starknet version, the legacy rule and the Starknet 0.7
/// L1_HANDLER rule are accepted too, whatever the block number.
// NOTE: no recorded block uses the Starknet 0.7 L1_HANDLER rule (Mainnet 2240 already uses
// the current one); only a published test vector covers it.
pub fn verify_transaction_hash(
    transaction: &Transaction,
    chain_id: ChainId,
    context: HashContext,
) -> Result<(), HashMismatch> {
    let claimed = transaction.hash.0;
    let computed = transaction_hash(&transaction.variant, chain_id, context);
    if computed == claimed {
        return Ok(());
    }

    if context.is_unversioned() {
        let alternatives = [
            Some(current_hash(&transaction.variant, chain_id)),
            legacy_hash(&transaction.variant, chain_id),
            match &transaction.variant {
                TransactionVariant::L1Handler(tx) => Some(l1_handler_v0_7_hash(tx, chain_id)),
                _ => None,
            },
        ];
        if alternatives.contains(&Some(claimed)) {
            return Ok(());
        }
    }

    Err(HashMismatch {
        what: format!(
            "{} transaction {:#x}",
            transaction.variant.type_name(),
            claimed
        ),
        expected: claimed,
        computed,
    })
}

/// Computes the hash under the rule Starknet uses today for the type and version.
fn current_hash(transaction: &TransactionVariant, chain_id: ChainId) -> Felt {
    match transaction {
        TransactionVariant::InvokeV0(tx) => invoke_v0_hash(tx, chain_id),
        TransactionVariant::InvokeV1(tx) => invoke_v1_hash(tx, chain_id),
        TransactionVariant::InvokeV3(tx) => transaction_hash_v3::invoke_v3_hash(tx, chain_id),
        TransactionVariant::DeclareV0(tx) => declare_v0_hash(tx, chain_id),
        TransactionVariant::DeclareV1(tx) => declare_v1_hash(tx, chain_id),
        TransactionVariant::DeclareV2(tx) => declare_v2_hash(tx, chain_id),
        TransactionVariant::DeclareV3(tx) => transaction_hash_v3::declare_v3_hash(tx, chain_id),
        TransactionVariant::Deploy(tx) => deploy_hash(tx, chain_id),
        TransactionVariant::DeployAccountV1(tx) => deploy_account_v1_hash(tx, chain_id),
        TransactionVariant::DeployAccountV3(tx) => {
            transaction_hash_v3::deploy_account_v3_hash(tx, chain_id)
        }
        TransactionVariant::L1Handler(tx) => l1_handler_hash(tx, chain_id),
    }
}

/// Computes the hash of the earliest Mainnet blocks, which has neither a version nor a fee
/// field. L1 handlers hash with the `invoke` prefix under this rule. The other types did
/// not exist yet and have no legacy hash.
fn legacy_hash(transaction: &TransactionVariant, chain_id: ChainId) -> Option<Felt> {
    let (prefix, address, entry_point, calldata) = match transaction {
        TransactionVariant::Deploy(tx) => (
            DEPLOY,
            tx.contract_address.0,
            CONSTRUCTOR_SELECTOR,
            &tx.constructor_calldata,
        ),
        TransactionVariant::InvokeV0(tx) => (
            INVOKE,
            tx.contract_address.0,
            tx.entry_point_selector,
            &tx.calldata,
        ),
        TransactionVariant::L1Handler(tx) => (
            INVOKE,
            tx.contract_address.0,
            tx.entry_point_selector,
            &tx.calldata,
        ),
        _ => return None,
    };
    Some(Pedersen::hash_array(&[
        prefix,
        address,
        entry_point,
        Pedersen::hash_array(calldata),
        chain_id.0,
    ]))
}

fn invoke_v0_hash(tx: &InvokeTransactionV0, chain_id: ChainId) -> Felt {
    Pedersen::hash_array(&[
        INVOKE,
        Felt::ZERO,
        tx.contract_address.0,
        tx.entry_point_selector,
        Pedersen::hash_array(&tx.calldata),
        tx.max_fee,
        chain_id.0,
    ])
}

fn invoke_v1_hash(tx: &InvokeTransactionV1, chain_id: ChainId) -> Felt {
    Pedersen::hash_array(&[
        INVOKE,
        Felt::ONE,
        tx.sender_address.0,
        Felt::ZERO,
        Pedersen::hash_array(&tx.calldata),
        tx.max_fee,
        chain_id.0,
        tx.nonce,
    ])
}

/// Hashes a DECLARE v0: no nonce, an empty calldata list, and the class hash last.
fn declare_v0_hash(tx: &DeclareTransactionV0V1, chain_id: ChainId) -> Felt {
    Pedersen::hash_array(&[
        DECLARE,
        Felt::ZERO,
        tx.sender_address.0,
        Felt::ZERO,
        Pedersen::hash_array(&[]),
        tx.max_fee,
        chain_id.0,
        tx.class_hash.0,
    ])
}

fn declare_v1_hash(tx: &DeclareTransactionV0V1, chain_id: ChainId) -> Felt {
    Pedersen::hash_array(&[
        DECLARE,
        Felt::ONE,
        tx.sender_address.0,
        Felt::ZERO,
        Pedersen::hash_array(&[tx.class_hash.0]),
        tx.max_fee,
        chain_id.0,
        tx.nonce,
    ])
}

fn declare_v2_hash(tx: &DeclareTransactionV2, chain_id: ChainId) -> Felt {
    Pedersen::hash_array(&[
        DECLARE,
        Felt::TWO,
        tx.sender_address.0,
        Felt::ZERO,
        Pedersen::hash_array(&[tx.class_hash.0]),
        tx.max_fee,
        chain_id.0,
        tx.nonce,
        tx.compiled_class_hash.0,
    ])
}

/// Hashes a DEPLOY of Starknet 0.7 and later: its own version, no fee, no nonce.
fn deploy_hash(tx: &DeployTransaction, chain_id: ChainId) -> Felt {
    Pedersen::hash_array(&[
        DEPLOY,
        tx.version,
        tx.contract_address.0,
        CONSTRUCTOR_SELECTOR,
        Pedersen::hash_array(&tx.constructor_calldata),
        Felt::ZERO,
        chain_id.0,
    ])
}

fn deploy_account_v1_hash(tx: &DeployAccountTransactionV1, chain_id: ChainId) -> Felt {
    let mut deployment = vec![tx.class_hash.0, tx.contract_address_salt];
    deployment.extend_from_slice(&tx.constructor_calldata);
    Pedersen::hash_array(&[
        DEPLOY_ACCOUNT,
        Felt::ONE,
        tx.contract_address.0,
        Felt::ZERO,
        Pedersen::hash_array(&deployment),
        tx.max_fee,
        chain_id.0,
        tx.nonce,
    ])
}

/// Hashes an L1_HANDLER: the `l1_handler` prefix, a zero fee and the L1 message nonce.
fn l1_handler_hash(tx: &L1HandlerTransaction, chain_id: ChainId) -> Felt {
    Pedersen::hash_array(&[
        L1_HANDLER,
        tx.version,
        tx.contract_address.0,
        tx.entry_point_selector,
        Pedersen::hash_array(&tx.calldata),
        Felt::ZERO,
        chain_id.0,
        tx.nonce,
    ])
}

/// Hashes an L1_HANDLER as Starknet 0.7 did: the `l1_handler` prefix and the nonce, but
/// no version and no fee field.
fn l1_handler_v0_7_hash(tx: &L1HandlerTransaction, chain_id: ChainId) -> Felt {
    Pedersen::hash_array(&[
        L1_HANDLER,
        tx.contract_address.0,
        tx.entry_point_selector,
        Pedersen::hash_array(&tx.calldata),
        chain_id.0,
        tx.nonce,
    ])
}

#[cfg(test)]
mod tests {
    use starling_storage::{ClassHash, ContractAddress, TransactionHash};

    use super::*;

    /// `SN_GOERLI`, the chain id of the retired Goerli testnet, which some published test
    /// vectors use.
    fn goerli() -> ChainId {
        ChainId(Felt::from_bytes_be_slice(b"SN_GOERLI"))
    }

    fn felt(hex: &str) -> Felt {
        Felt::from_hex(hex).unwrap()
    }

    fn felts(hexes: &[&str]) -> Vec<Felt> {
        hexes.iter().map(|hex| felt(hex)).collect()
    }

    fn context(block_number: u64, version: &str) -> HashContext {
        HashContext {
            block_number: BlockNumber(block_number),
            starknet_version: StarknetVersion::parse(version).unwrap(),
        }
    }

    fn assert_verifies(
        hash: &str,
        variant: TransactionVariant,
        chain_id: ChainId,
        context: HashContext,
    ) {
        let transaction = Transaction {
            hash: TransactionHash(felt(hash)),
            variant,
        };
        let result = verify_transaction_hash(&transaction, chain_id, context);
        assert_eq!(result, Ok(()), "{hash}");
    }

    #[test]
    fn prefixes_are_the_short_strings() {
        assert_eq!(INVOKE, Felt::from_bytes_be_slice(b"invoke"));
        assert_eq!(DECLARE, Felt::from_bytes_be_slice(b"declare"));
        assert_eq!(DEPLOY, Felt::from_bytes_be_slice(b"deploy"));
        assert_eq!(DEPLOY_ACCOUNT, Felt::from_bytes_be_slice(b"deploy_account"));
        assert_eq!(L1_HANDLER, Felt::from_bytes_be_slice(b"l1_handler"));
        let selector = starknet_core::utils::get_selector_from_name("constructor").unwrap();
        assert_eq!(CONSTRUCTOR_SELECTOR.to_bytes_be(), selector.to_bytes_be());
    }

    // The vectors below are transactions from public chains, taken from the tests of
    // Pathfinder's `crates/common/src/transaction.rs`.

    #[test]
    fn declare_v0_vector() {
        let variant = TransactionVariant::DeclareV0(DeclareTransactionV0V1 {
            sender_address: ContractAddress(Felt::ONE),
            max_fee: Felt::ZERO,
            signature: vec![],
            nonce: Felt::ZERO,
            class_hash: ClassHash(felt(
                "0x71e6ef53e53e6f5ca792fc4a5799a33e6f4118e4fd1d948dca3a371506f0cc7",
            )),
        });
        assert_verifies(
            "0x6d346ba207eb124355960c19c737698ad37a3c920a588b741e0130ff5bd4d6d",
            variant,
            goerli(),
            context(0, "0.11.0"),
        );
    }

    #[test]
    fn l1_handler_vector() {
        let variant = TransactionVariant::L1Handler(L1HandlerTransaction {
            version: Felt::ZERO,
            nonce: felt("0x18cb20"),
            contract_address: ContractAddress(felt(
                "0x73314940630fd6dcda0d772d4c972c4e0a9946bef9dabf4ef84eda8ef542b82",
            )),
            entry_point_selector: felt(
                "0x2d757788a8d8d6f21d1cd40bce38a8222d70654214e96ff95d8086e684fbee5",
            ),
            calldata: felts(&[
                "0xae0ee0a63a2ce6baeeffe56e7714fb4efe48d419",
                "0x13f55ae8d173a036cf8bdf0448f04b835a5d42cda5fe6b4678217ed92cabc94",
                "0xd7621dc58210000",
                "0x0",
            ]),
        });
        assert_eq!(
            transaction_hash(&variant, ChainId::MAINNET, context(0, "0.12.0")),
            felt("0x8d7d99f96167a01f2406ae25dd6bdeb4f903fd4ed433d96dcf2564b7ab0a8f")
        );
    }

    fn l1_handler_v0_7() -> Transaction {
        Transaction {
            hash: TransactionHash(felt(
                "0x61b518bb1f97c49244b8a7a1a984798b4c2876d42920eca2b6ba8dfb1bddc54",
            )),
            variant: TransactionVariant::L1Handler(L1HandlerTransaction {
                version: Felt::ZERO,
                nonce: Felt::ZERO,
                contract_address: ContractAddress(felt(
                    "0xda8054260ec00606197a4103eb2ef08d6c8af0b6a808b610152d1ce498f8c3",
                )),
                entry_point_selector: felt(
                    "0xe3f5e9e1456ffa52a3fbc7e8c296631d4cc2120c0be1e2829301c0d8fa026b",
                ),
                calldata: felts(&[
                    "0x142273bcbfca76512b2a05aed21f134c4495208",
                    "0xa0c316cb0bb0c9632315ddc8f49c7921f2c80daa",
                    "0x2",
                    "0x453b0310bcdfa50d3c2e7f757e284ac6cd4171933a4e67d1bdcfdbc7f3cbc93",
                ]),
            }),
        }
    }

    #[test]
    fn l1_handler_v0_7_rule_only_in_unversioned_blocks() {
        let transaction = l1_handler_v0_7();
        let unversioned =
            verify_transaction_hash(&transaction, ChainId::MAINNET, context(1000, ""));
        assert_eq!(unversioned, Ok(()));

        let versioned =
            verify_transaction_hash(&transaction, ChainId::MAINNET, context(1000, "0.9.1"));
        let mismatch = versioned.unwrap_err();
        assert_eq!(mismatch.expected, transaction.hash.0);
        assert!(
            mismatch.what.starts_with("L1_HANDLER transaction 0x"),
            "{}",
            mismatch.what
        );
    }

    #[test]
    fn l1_handler_legacy_vector() {
        let variant = TransactionVariant::L1Handler(L1HandlerTransaction {
            version: Felt::ZERO,
            nonce: Felt::ZERO,
            contract_address: ContractAddress(felt(
                "0x55a46448decca3b138edf0104b7a47d41365b8293bdfd59b03b806c102b12b7",
            )),
            entry_point_selector: felt(
                "0xc73f681176fc7b3f9693986fd7b14581e8d540519e27400e88b8713932be01",
            ),
            calldata: felts(&[
                "0x2db8c2615db39a5ed8750b87ac8f217485be11ec",
                "0xbc614e",
                "0x258",
            ]),
        });
        assert_verifies(
            "0xfb118dc1d4a4141b7718da4b7fa98980b11caf5aa5d6e1e35e9b050aae788b",
            variant,
            goerli(),
            context(0, ""),
        );
    }

    #[test]
    fn legacy_rule_is_primary_only_before_mainnet_block_833() {
        let variant = TransactionVariant::Deploy(DeployTransaction {
            version: Felt::ZERO,
            contract_address: ContractAddress(felt("0x123")),
            contract_address_salt: felt("0x5"),
            class_hash: ClassHash(felt("0x77")),
            constructor_calldata: felts(&["0x1", "0x2"]),
        });
        let legacy = legacy_hash(&variant, ChainId::MAINNET).unwrap();
        let current = current_hash(&variant, ChainId::MAINNET);
        assert_ne!(legacy, current);

        assert_eq!(
            transaction_hash(&variant, ChainId::MAINNET, context(832, "")),
            legacy
        );
        assert_eq!(
            transaction_hash(&variant, ChainId::MAINNET, context(833, "")),
            current
        );
        assert_eq!(
            transaction_hash(&variant, ChainId::SEPOLIA, context(0, "")),
            current_hash(&variant, ChainId::SEPOLIA)
        );
    }

    #[test]
    fn chain_id_changes_the_hash() {
        let variant = l1_handler_v0_7().variant;
        assert_ne!(
            transaction_hash(&variant, ChainId::MAINNET, context(5000, "0.12.0")),
            transaction_hash(&variant, ChainId::SEPOLIA, context(5000, "0.12.0"))
        );
    }
}
