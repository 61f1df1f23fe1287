//! Hashes of version 3 transactions (Starknet 0.13.0 and later).
//!
//! A v3 hash is `poseidon_array` over eight common elements (prefix, version 3, sender,
//! fee hash, paymaster data hash, chain id, nonce, packed data availability modes) and
//! then the fields of the transaction type.

use starknet_types_core::hash::{Poseidon, StarkHash};
use starling_storage::{
    ChainId, DataAvailabilityMode, DeclareTransactionV3, DeployAccountTransactionV3, Felt,
    InvokeTransactionV3, ResourceBounds, ResourceBoundsMapping,
};

use super::transaction_hash::{DECLARE, DEPLOY_ACCOUNT, INVOKE};

/// Resource names as packed into a v3 transaction's fee hash: `L1_GAS`, `L2_GAS` and
/// `L1_DATA` (not `L1_DATA_GAS`), as ASCII.
const L1_GAS_NAME: &[u8] = b"L1_GAS";
const L2_GAS_NAME: &[u8] = b"L2_GAS";
const L1_DATA_GAS_NAME: &[u8] = b"L1_DATA";

/// Hashes an INVOKE v3. `proof_facts` (Starknet 0.14.1) enter the hash only when the list
/// is not empty, so older invokes and invokes with `"proof_facts": []` hash alike.
pub(super) fn invoke_v3_hash(tx: &InvokeTransactionV3, chain_id: ChainId) -> Felt {
    let mut elements = v3_common_elements(
        INVOKE,
        tx.sender_address.0,
        &V3Fees {
            resource_bounds: &tx.resource_bounds,
            tip: tx.tip,
            paymaster_data: &tx.paymaster_data,
        },
        chain_id,
        tx.nonce,
        tx.nonce_data_availability_mode,
        tx.fee_data_availability_mode,
    );
    elements.push(Poseidon::hash_array(&tx.account_deployment_data));
    elements.push(Poseidon::hash_array(&tx.calldata));
    if !tx.proof_facts.is_empty() {
        elements.push(Poseidon::hash_array(&tx.proof_facts));
    }
    Poseidon::hash_array(&elements)
}

pub(super) fn declare_v3_hash(tx: &DeclareTransactionV3, chain_id: ChainId) -> Felt {
    let mut elements = v3_common_elements(
        DECLARE,
        tx.sender_address.0,
        &V3Fees {
            resource_bounds: &tx.resource_bounds,
            tip: tx.tip,
            paymaster_data: &tx.paymaster_data,
        },
        chain_id,
        tx.nonce,
        tx.nonce_data_availability_mode,
        tx.fee_data_availability_mode,
    );
    elements.push(Poseidon::hash_array(&tx.account_deployment_data));
    elements.push(tx.class_hash.0);
    elements.push(tx.compiled_class_hash.0);
    Poseidon::hash_array(&elements)
}

pub(super) fn deploy_account_v3_hash(tx: &DeployAccountTransactionV3, chain_id: ChainId) -> Felt {
    let mut elements = v3_common_elements(
        DEPLOY_ACCOUNT,
        tx.contract_address.0,
        &V3Fees {
            resource_bounds: &tx.resource_bounds,
            tip: tx.tip,
            paymaster_data: &tx.paymaster_data,
        },
        chain_id,
        tx.nonce,
        tx.nonce_data_availability_mode,
        tx.fee_data_availability_mode,
    );
    elements.push(Poseidon::hash_array(&tx.constructor_calldata));
    elements.push(tx.class_hash.0);
    elements.push(tx.contract_address_salt);
    Poseidon::hash_array(&elements)
}

/// Fee fields of a version 3 transaction.
struct V3Fees<'a> {
    resource_bounds: &'a ResourceBoundsMapping,
    tip: u64,
    paymaster_data: &'a [Felt],
}

/// Returns the first eight elements that every v3 hash shares: prefix, version 3, sender,
/// fee hash, paymaster data hash, chain id, nonce and the packed data availability modes.
fn v3_common_elements(
    prefix: Felt,
    sender: Felt,
    fees: &V3Fees<'_>,
    chain_id: ChainId,
    nonce: Felt,
    nonce_mode: DataAvailabilityMode,
    fee_mode: DataAvailabilityMode,
) -> Vec<Felt> {
    vec![
        prefix,
        Felt::THREE,
        sender,
        fee_hash(fees.tip, fees.resource_bounds),
        Poseidon::hash_array(fees.paymaster_data),
        chain_id.0,
        nonce,
        pack_data_availability_modes(nonce_mode, fee_mode),
    ]
}

/// Hashes the tip with each packed resource bound. The L1 data gas bound enters only when
/// the transaction has one (Starknet 0.13.4 and later), which changes the hash.
fn fee_hash(tip: u64, bounds: &ResourceBoundsMapping) -> Felt {
    let mut elements = vec![
        Felt::from(tip),
        pack_resource_bound(L1_GAS_NAME, &bounds.l1_gas),
        pack_resource_bound(L2_GAS_NAME, &bounds.l2_gas),
    ];
    if let Some(l1_data_gas) = &bounds.l1_data_gas {
        elements.push(pack_resource_bound(L1_DATA_GAS_NAME, l1_data_gas));
    }
    Poseidon::hash_array(&elements)
}

/// Packs a resource bound into one felt, big-endian: the resource name in the top 64
/// bits, then the 64-bit maximum amount, then the 128-bit maximum price per unit.
fn pack_resource_bound(name: &[u8], bound: &ResourceBounds) -> Felt {
    let mut bytes = [0u8; 32];
    bytes[8 - name.len()..8].copy_from_slice(name);
    bytes[8..16].copy_from_slice(&bound.max_amount.to_be_bytes());
    bytes[16..32].copy_from_slice(&bound.max_price_per_unit.to_be_bytes());
    Felt::from_bytes_be(&bytes)
}

/// Packs the two data availability modes (L1 = 0, L2 = 1) as `nonce_mode << 32 | fee_mode`.
fn pack_data_availability_modes(
    nonce_mode: DataAvailabilityMode,
    fee_mode: DataAvailabilityMode,
) -> Felt {
    let code = |mode: DataAvailabilityMode| match mode {
        DataAvailabilityMode::L1 => 0u64,
        DataAvailabilityMode::L2 => 1u64,
    };
    Felt::from((code(nonce_mode) << 32) | code(fee_mode))
}

#[cfg(test)]
mod tests {
    use starling_storage::{ClassHash, CompiledClassHash, ContractAddress};

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

    fn l1_gas_only(max_amount: u64, max_price_per_unit: u128) -> ResourceBoundsMapping {
        ResourceBoundsMapping {
            l1_gas: ResourceBounds {
                max_amount,
                max_price_per_unit,
            },
            l2_gas: ResourceBounds::default(),
            l1_data_gas: None,
        }
    }

    #[test]
    fn resource_bound_packs_name_amount_and_price() {
        let bound = ResourceBounds {
            max_amount: 0x186a0,
            max_price_per_unit: 0x2540be400,
        };
        let expected = felt("0x00004c315f47415300000000000186a0000000000000000000000002540be400");
        assert_eq!(pack_resource_bound(L1_GAS_NAME, &bound), expected);
    }

    #[test]
    fn data_availability_modes_pack_nonce_high() {
        use DataAvailabilityMode::{L1, L2};
        assert_eq!(pack_data_availability_modes(L1, L1), Felt::ZERO);
        assert_eq!(pack_data_availability_modes(L1, L2), Felt::ONE);
        assert_eq!(pack_data_availability_modes(L2, L1), Felt::from(1u64 << 32));
    }

    // The vectors below are transactions from public chains, taken from the tests of
    // Pathfinder's `crates/common/src/transaction.rs`.

    #[test]
    fn declare_v3_vector() {
        let transaction = DeclareTransactionV3 {
            sender_address: ContractAddress(felt(
                "0x2fab82e4aef1d8664874e1f194951856d48463c3e6bf9a8c68e234a629a6f50",
            )),
            compiled_class_hash: CompiledClassHash(felt(
                "0x1add56d64bebf8140f3b8a38bdf102b7874437f0c861ab4ca7526ec33b4d0f8",
            )),
            signature: felts(&[
                "0x29a49dff154fede73dd7b5ca5a0beadf40b4b069f3a850cd8428e54dc809ccc",
                "0x429d142a17223b4f2acde0f5ecb9ad453e188b245003c86fab5c109bad58fc3",
            ]),
            nonce: Felt::ONE,
            class_hash: ClassHash(felt(
                "0x5ae9d09292a50ed48c5930904c880dab56e85b825022a7d689cfc9e65e01ee7",
            )),
            resource_bounds: l1_gas_only(0x186a0, 0x2540be400),
            tip: 0,
            paymaster_data: vec![],
            account_deployment_data: vec![],
            nonce_data_availability_mode: DataAvailabilityMode::L1,
            fee_data_availability_mode: DataAvailabilityMode::L1,
        };
        assert_eq!(
            declare_v3_hash(&transaction, goerli()),
            felt("0x41d1f5206ef58a443e7d3d1ca073171ec25fa75313394318fc83a074a6631c3")
        );
    }

    #[test]
    fn deploy_account_v3_vector() {
        let transaction = DeployAccountTransactionV3 {
            contract_address: ContractAddress(felt(
                "0x2fab82e4aef1d8664874e1f194951856d48463c3e6bf9a8c68e234a629a6f50",
            )),
            signature: felts(&[
                "0x6d756e754793d828c6c1a89c13f7ec70dbd8837dfeea5028a673b80e0d6b4ec",
                "0x4daebba599f860daee8f6e100601d98873052e1c61530c630cc4375c6bd48e3",
            ]),
            nonce: Felt::ZERO,
            contract_address_salt: Felt::ZERO,
            constructor_calldata: felts(&[
                "0x5cd65f3d7daea6c63939d659b8473ea0c5cd81576035a4d34e52fb06840196c",
            ]),
            class_hash: ClassHash(felt(
                "0x2338634f11772ea342365abd5be9d9dc8a6f44f159ad782fdebd3db5d969738",
            )),
            resource_bounds: l1_gas_only(0x186a0, 0x5af3107a4000),
            tip: 0,
            paymaster_data: vec![],
            nonce_data_availability_mode: DataAvailabilityMode::L1,
            fee_data_availability_mode: DataAvailabilityMode::L1,
        };
        assert_eq!(
            deploy_account_v3_hash(&transaction, goerli()),
            felt("0x29fd7881f14380842414cdfdd8d6c0b1f2174f8916edcfeb1ede1eb26ac3ef0")
        );
    }

    fn invoke_v3_with_proof_facts() -> InvokeTransactionV3 {
        InvokeTransactionV3 {
            sender_address: ContractAddress(felt(
                "0x69c0f9bcd79697bdceaf7748e3ff8f34aa39e4063ce44896af664c0c96f6c10",
            )),
            calldata: felts(&[
                "0x1",
                "0x4c0a5193d58f74fbace4b74dcf65481e734ed1714121bdc571da345540efa05",
                "0x3943907ef0ef6f9d2e2408b05e520a66daaf74293dbf665e5a20b117676170e",
                "0x2",
                "0x49d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7",
                "0x16345785d8a0000",
            ]),
            signature: vec![],
            nonce: felt("0x9d"),
            resource_bounds: l1_gas_only(0xa9e, 0x7f2a1ad4f2f1),
            tip: 0,
            paymaster_data: vec![],
            account_deployment_data: vec![],
            nonce_data_availability_mode: DataAvailabilityMode::L1,
            fee_data_availability_mode: DataAvailabilityMode::L1,
            proof_facts: felts(&["0x1", "0x2", "0x3"]),
        }
    }

    /// The vector comes from StarkWare's `starknet_api` test resources, through Pathfinder.
    #[test]
    fn invoke_v3_proof_facts_vector() {
        let expected = felt("0x6d885b1a2b7cb7946480c63aa1697888a33e9ccd0b1516f41c41731a1628726");
        let mut transaction = invoke_v3_with_proof_facts();
        assert_eq!(invoke_v3_hash(&transaction, ChainId::MAINNET), expected);

        transaction.proof_facts.clear();
        assert_ne!(invoke_v3_hash(&transaction, ChainId::MAINNET), expected);
    }

    #[test]
    fn l1_data_gas_bound_changes_the_hash() {
        let mut transaction = invoke_v3_with_proof_facts();
        let without = invoke_v3_hash(&transaction, ChainId::MAINNET);
        transaction.resource_bounds.l1_data_gas = Some(ResourceBounds::default());
        assert_ne!(invoke_v3_hash(&transaction, ChainId::MAINNET), without);
    }
}
