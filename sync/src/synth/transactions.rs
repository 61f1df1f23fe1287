//! Accounts of the synthetic chain and the transactions and receipts they produce.
//!
//! Transaction hashes come from [`crate::verify::transaction_hash`], and every
//! transaction carries a real ECDSA signature by its account's key over that hash.

use anyhow::Context as _;
use starknet_types_core::hash::{Pedersen, StarkHash};
use starling_storage::{
    ChainId, ClassHash, CompiledClassHash, ContractAddress, DataAvailabilityMode,
    DeclareTransactionV0V1, DeclareTransactionV2, DeclareTransactionV3, DeployAccountTransactionV3,
    Event, ExecutionResources, ExecutionStatus, Felt, GasPrices, GasVector, InvokeTransactionV1,
    InvokeTransactionV3, L2ToL1Message, Receipt, ResourceBounds, ResourceBoundsMapping,
    Transaction, TransactionHash, TransactionVariant,
};

use crate::verify::{transaction_hash, HashContext};

/// `STARKNET_CONTRACT_ADDRESS` as a Cairo short string, the prefix of address derivation.
const CONTRACT_ADDRESS_PREFIX: Felt =
    Felt::from_hex_unwrap("0x535441524b4e45545f434f4e54524143545f41444452455353");

/// Addresses are reduced below 2^251 - 256, as the Starknet OS does.
const ADDRESS_UPPER_BOUND: Felt =
    Felt::from_hex_unwrap("0x7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00");

/// An account contract and the key that signs its transactions.
#[derive(Clone, Debug)]
pub(super) struct Account {
    pub address: ContractAddress,
    pub private_key: Felt,
    pub public_key: Felt,
    /// Salt of its DEPLOY_ACCOUNT transaction.
    pub salt: Felt,
    /// Nonce of its next transaction.
    pub nonce: u64,
    /// Sends version 1 transactions, which pay in wei, instead of version 3.
    pub sends_v1: bool,
}

impl Account {
    /// Creates an account whose address is derived, as DEPLOY_ACCOUNT derives it, from
    /// its class, salt and the public key as the only constructor argument.
    pub(super) fn new(
        private_key: Felt,
        salt: Felt,
        class_hash: ClassHash,
        sends_v1: bool,
    ) -> Self {
        let public_key = public_key(private_key);
        Self {
            address: contract_address(Felt::ZERO, salt, class_hash, &[public_key]),
            private_key,
            public_key,
            salt,
            nonce: 0,
            sends_v1,
        }
    }
}

/// Computes the address of a contract deployed by `deployer` (0 for DEPLOY_ACCOUNT and
/// for non-unique deployments).
pub(super) fn contract_address(
    deployer: Felt,
    salt: Felt,
    class_hash: ClassHash,
    constructor_calldata: &[Felt],
) -> ContractAddress {
    let hash = Pedersen::hash_array(&[
        CONTRACT_ADDRESS_PREFIX,
        deployer,
        salt,
        class_hash.0,
        Pedersen::hash_array(constructor_calldata),
    ]);
    // The hash is below the field prime, which is below twice the bound, so one
    // subtraction reduces it.
    let reduced = if hash >= ADDRESS_UPPER_BOUND {
        hash - ADDRESS_UPPER_BOUND
    } else {
        hash
    };
    ContractAddress(reduced)
}

/// Returns the Starknet Keccak selector of an entry point or event name.
pub(super) fn selector(name: &str) -> Felt {
    let selector = starknet_core::utils::get_selector_from_name(name)
        .unwrap_or_else(|_| unreachable!("entry point names of the generator are ASCII"));
    Felt::from_bytes_be(&selector.to_bytes_be())
}

fn to_crypto(value: Felt) -> starknet_crypto::Felt {
    starknet_crypto::Felt::from_bytes_be(&value.to_bytes_be())
}

fn from_crypto(value: starknet_crypto::Felt) -> Felt {
    Felt::from_bytes_be(&value.to_bytes_be())
}

pub(super) fn public_key(private_key: Felt) -> Felt {
    from_crypto(starknet_crypto::get_public_key(&to_crypto(private_key)))
}

/// Signs `message` with an RFC 6979 nonce, so the signature is deterministic.
fn sign(private_key: Felt, message: Felt) -> anyhow::Result<Vec<Felt>> {
    let private_key = to_crypto(private_key);
    let message = to_crypto(message);
    let k = starknet_crypto::rfc6979_generate_k(&message, &private_key, None);
    let signature = starknet_crypto::sign(&private_key, &message, &k)
        .with_context(|| format!("failed to sign transaction hash {message:#x}"))?;
    Ok(vec![from_crypto(signature.r), from_crypto(signature.s)])
}

/// Fee fields of the transactions of one block, derived from its gas prices.
#[derive(Clone, Copy, Debug)]
pub(super) struct FeeTerms {
    pub l1_gas_price: GasPrices,
    pub l1_data_gas_price: GasPrices,
    pub l2_gas_price: GasPrices,
}

impl FeeTerms {
    /// Bounds at twice the block's prices, with amounts that cover every gas vector
    /// [`draw_gas`] returns.
    fn resource_bounds(&self) -> ResourceBoundsMapping {
        let price = |prices: GasPrices| u128::try_from(prices.price_in_fri).unwrap_or(0) * 2;
        ResourceBoundsMapping {
            l1_gas: ResourceBounds {
                max_amount: 0x1000,
                max_price_per_unit: price(self.l1_gas_price),
            },
            l2_gas: ResourceBounds {
                max_amount: 0x100_0000,
                max_price_per_unit: price(self.l2_gas_price),
            },
            l1_data_gas: Some(ResourceBounds {
                max_amount: 0x1000,
                max_price_per_unit: price(self.l1_data_gas_price),
            }),
        }
    }

    /// Fee of `gas` at the block's prices, in fri for v3 transactions and wei otherwise.
    pub(super) fn fee(&self, gas: GasVector, in_fri: bool) -> u128 {
        let price = |prices: GasPrices| {
            let value = if in_fri {
                prices.price_in_fri
            } else {
                prices.price_in_wei
            };
            u128::try_from(value).unwrap_or(0)
        };
        u128::from(gas.l1_gas) * price(self.l1_gas_price)
            + u128::from(gas.l1_data_gas) * price(self.l1_data_gas_price)
            + u128::from(gas.l2_gas) * price(self.l2_gas_price)
    }

    /// Returns a `max_fee` for v1 and v2 transactions that covers every fee [`draw_gas`] allows.
    fn max_fee(&self) -> Felt {
        let ceiling = GasVector {
            l1_gas: 0x1000,
            l1_data_gas: 0x1000,
            l2_gas: 0x100_0000,
        };
        Felt::from(self.fee(ceiling, false) * 2)
    }
}

/// Builds the transactions of one block: hashes them under the block's rules and signs
/// them.
#[derive(Clone, Copy, Debug)]
pub(super) struct TransactionFactory {
    pub chain_id: ChainId,
    pub context: HashContext,
    pub fees: FeeTerms,
}

impl TransactionFactory {
    /// Hashes `variant`, then signs the hash with `private_key` and stores the signature
    /// in the transaction. Signatures are not part of any transaction hash.
    fn finish(
        &self,
        mut variant: TransactionVariant,
        private_key: Felt,
    ) -> anyhow::Result<Transaction> {
        let hash = transaction_hash(&variant, self.chain_id, self.context);
        let signature = sign(private_key, hash)?;
        match &mut variant {
            TransactionVariant::InvokeV1(tx) => tx.signature = signature,
            TransactionVariant::InvokeV3(tx) => tx.signature = signature,
            TransactionVariant::DeclareV1(tx) => tx.signature = signature,
            TransactionVariant::DeclareV2(tx) => tx.signature = signature,
            TransactionVariant::DeclareV3(tx) => tx.signature = signature,
            TransactionVariant::DeployAccountV3(tx) => tx.signature = signature,
            _ => unreachable!("the generator builds only the variants above"),
        }
        Ok(Transaction {
            hash: TransactionHash(hash),
            variant,
        })
    }

    /// Builds an INVOKE from `account` with its current nonce, version 1 or 3 as the
    /// account prefers, and advances the nonce.
    pub(super) fn invoke(
        &self,
        account: &mut Account,
        calldata: Vec<Felt>,
        tip: u64,
    ) -> anyhow::Result<Transaction> {
        let nonce = Felt::from(account.nonce);
        account.nonce += 1;
        let variant = if account.sends_v1 {
            TransactionVariant::InvokeV1(InvokeTransactionV1 {
                sender_address: account.address,
                calldata,
                max_fee: self.fees.max_fee(),
                signature: Vec::new(),
                nonce,
            })
        } else {
            TransactionVariant::InvokeV3(InvokeTransactionV3 {
                sender_address: account.address,
                calldata,
                signature: Vec::new(),
                nonce,
                resource_bounds: self.fees.resource_bounds(),
                tip,
                paymaster_data: Vec::new(),
                account_deployment_data: Vec::new(),
                nonce_data_availability_mode: DataAvailabilityMode::L1,
                fee_data_availability_mode: DataAvailabilityMode::L1,
                proof_facts: Vec::new(),
            })
        };
        self.finish(variant, account.private_key)
    }

    /// Builds a DECLARE of a Cairo 0 class (version 1) and advances the nonce.
    pub(super) fn declare_v1(
        &self,
        account: &mut Account,
        class_hash: ClassHash,
    ) -> anyhow::Result<Transaction> {
        let nonce = Felt::from(account.nonce);
        account.nonce += 1;
        let variant = TransactionVariant::DeclareV1(DeclareTransactionV0V1 {
            sender_address: account.address,
            max_fee: self.fees.max_fee(),
            signature: Vec::new(),
            nonce,
            class_hash,
        });
        self.finish(variant, account.private_key)
    }

    /// Builds a DECLARE of a Sierra class, version 2 or 3, and advances the nonce.
    pub(super) fn declare_sierra(
        &self,
        account: &mut Account,
        class_hash: ClassHash,
        compiled_class_hash: CompiledClassHash,
        version_3: bool,
        tip: u64,
    ) -> anyhow::Result<Transaction> {
        let nonce = Felt::from(account.nonce);
        account.nonce += 1;
        let variant = if version_3 {
            TransactionVariant::DeclareV3(DeclareTransactionV3 {
                sender_address: account.address,
                compiled_class_hash,
                signature: Vec::new(),
                nonce,
                class_hash,
                resource_bounds: self.fees.resource_bounds(),
                tip,
                paymaster_data: Vec::new(),
                account_deployment_data: Vec::new(),
                nonce_data_availability_mode: DataAvailabilityMode::L1,
                fee_data_availability_mode: DataAvailabilityMode::L1,
            })
        } else {
            TransactionVariant::DeclareV2(DeclareTransactionV2 {
                sender_address: account.address,
                compiled_class_hash,
                max_fee: self.fees.max_fee(),
                signature: Vec::new(),
                nonce,
                class_hash,
            })
        };
        self.finish(variant, account.private_key)
    }

    /// Builds the DEPLOY_ACCOUNT (version 3) of `account`, whose constructor takes its
    /// public key, and advances its nonce from 0 to 1.
    pub(super) fn deploy_account(
        &self,
        account: &mut Account,
        class_hash: ClassHash,
        tip: u64,
    ) -> anyhow::Result<Transaction> {
        let nonce = Felt::from(account.nonce);
        account.nonce += 1;
        let variant = TransactionVariant::DeployAccountV3(DeployAccountTransactionV3 {
            contract_address: account.address,
            signature: Vec::new(),
            nonce,
            contract_address_salt: account.salt,
            constructor_calldata: vec![account.public_key],
            class_hash,
            resource_bounds: self.fees.resource_bounds(),
            tip,
            paymaster_data: Vec::new(),
            nonce_data_availability_mode: DataAvailabilityMode::L1,
            fee_data_availability_mode: DataAvailabilityMode::L1,
        });
        self.finish(variant, account.private_key)
    }
}

/// Draws the gas a transaction consumed: no L1 gas (blob data availability), some L1
/// data gas and L2 gas.
pub(super) fn draw_gas(rng: &mut super::rng::Rng) -> GasVector {
    GasVector {
        l1_gas: 0,
        l1_data_gas: rng.range(128, 1024),
        l2_gas: rng.range(200_000, 3_000_000),
    }
}

/// Builds a receipt with plausible execution resources for `gas`.
pub(super) fn receipt(
    transaction: &Transaction,
    actual_fee: u128,
    events: Vec<Event>,
    l2_to_l1_messages: Vec<L2ToL1Message>,
    revert_reason: Option<String>,
    gas: GasVector,
    rng: &mut super::rng::Rng,
) -> Receipt {
    let execution_status = match revert_reason {
        Some(reason) => ExecutionStatus::Reverted { reason },
        None => ExecutionStatus::Succeeded,
    };
    let mut resources = ExecutionResources {
        steps: rng.range(1_000, 20_000),
        memory_holes: rng.below(50),
        data_availability: GasVector {
            l1_gas: 0,
            l1_data_gas: gas.l1_data_gas,
            l2_gas: 0,
        },
        total_gas_consumed: Some(gas),
        ..ExecutionResources::default()
    };
    resources.builtins.pedersen = rng.below(20);
    resources.builtins.range_check = rng.range(10, 300);
    resources.builtins.poseidon = rng.below(30);
    Receipt {
        transaction_hash: transaction.hash,
        actual_fee: Felt::from(actual_fee),
        execution_status,
        events,
        l2_to_l1_messages,
        l1_to_l2_consumed_message: None,
        execution_resources: resources,
    }
}

#[cfg(test)]
mod tests {
    use starling_storage::{BlockNumber, ChainId};

    use super::*;
    use crate::verify::{verify_transaction_hash, StarknetVersion};

    fn factory() -> TransactionFactory {
        let prices = GasPrices {
            price_in_wei: Felt::from(1_000u64),
            price_in_fri: Felt::from(2_000u64),
        };
        TransactionFactory {
            chain_id: ChainId::SEPOLIA,
            context: HashContext {
                block_number: BlockNumber(5),
                starknet_version: StarknetVersion::V0_13_4,
            },
            fees: FeeTerms {
                l1_gas_price: prices,
                l1_data_gas_price: prices,
                l2_gas_price: prices,
            },
        }
    }

    #[test]
    fn invokes_hash_sign_and_advance_the_nonce() {
        let factory = factory();
        for sends_v1 in [false, true] {
            let mut account = Account::new(
                Felt::from(0x1234u64),
                Felt::ONE,
                ClassHash(Felt::TWO),
                sends_v1,
            );
            let first = factory.invoke(&mut account, vec![Felt::ONE], 0).unwrap();
            let second = factory.invoke(&mut account, vec![Felt::ONE], 0).unwrap();
            assert_eq!(account.nonce, 2);
            assert_ne!(first.hash, second.hash);
            verify_transaction_hash(&first, ChainId::SEPOLIA, factory.context).unwrap();

            let (TransactionVariant::InvokeV1(InvokeTransactionV1 { signature, .. })
            | TransactionVariant::InvokeV3(InvokeTransactionV3 { signature, .. })) = &first.variant
            else {
                panic!("expected an invoke, got {:?}", first.variant);
            };
            let verified = starknet_crypto::verify(
                &to_crypto(account.public_key),
                &to_crypto(first.hash.0),
                &to_crypto(signature[0]),
                &to_crypto(signature[1]),
            )
            .unwrap();
            assert!(verified, "signature of {:?}", first.hash);
        }
    }

    #[test]
    fn deploy_account_address_is_derived() {
        let factory = factory();
        let class_hash = ClassHash(Felt::from(0xc1a55u64));
        let mut account = Account::new(Felt::from(7u64), Felt::from(9u64), class_hash, false);
        let transaction = factory.deploy_account(&mut account, class_hash, 0).unwrap();
        let TransactionVariant::DeployAccountV3(deploy) = &transaction.variant else {
            panic!("expected DEPLOY_ACCOUNT");
        };
        assert_eq!(deploy.contract_address, account.address);
        assert_eq!(
            account.address,
            contract_address(
                Felt::ZERO,
                Felt::from(9u64),
                class_hash,
                &[account.public_key]
            )
        );
        assert!(account.address.0 < ADDRESS_UPPER_BOUND);
        verify_transaction_hash(&transaction, ChainId::SEPOLIA, factory.context).unwrap();
    }

    #[test]
    fn selector_of_transfer() {
        assert_eq!(
            selector("Transfer"),
            Felt::from_hex_unwrap(
                "0x99cd8bde557814842a3121e8ddfd433a539b8c9f14bf31ebf108d12e6196e9"
            )
        );
    }
}
