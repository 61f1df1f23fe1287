//! Writes assembled blocks in the replay gateway's directory layout, as the feeder
//! gateway's JSON: `block/N.json`, `state_update/N.json`, `class/0xHASH.json` and
//! `compiled_class/0xHASH.json`. No `signature/` files are written, because only the
//! sequencer's key could sign the blocks.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use starling_storage::{
    DataAvailabilityMode, ExecutionStatus, GasPrices, Receipt, ResourceBoundsMapping, StateDiff,
    Transaction, TransactionVariant,
};

use super::assembly::AssembledBlock;
use crate::gateway::wire;

/// Writes one chain into a directory.
#[derive(Debug)]
pub(super) struct ChainWriter {
    dir: PathBuf,
}

impl ChainWriter {
    /// Creates the directory layout under `dir`. Fails when `dir` already contains a
    /// `block/0.json`, so that an earlier chain is never mixed with a new one.
    pub(super) fn create(dir: &Path) -> anyhow::Result<Self> {
        if dir.join("block").join("0.json").exists() {
            anyhow::bail!(
                "{} already contains a chain (block/0.json exists); choose an empty directory",
                dir.display()
            );
        }
        for subdir in ["block", "state_update", "class", "compiled_class"] {
            let path = dir.join(subdir);
            std::fs::create_dir_all(&path)
                .with_context(|| format!("failed to create {}", path.display()))?;
        }
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    /// Writes the block, its state update and the classes it introduces.
    pub(super) fn write_block(&self, block: &AssembledBlock) -> anyhow::Result<()> {
        let number = block.header.number;
        let wire_block = to_wire_block(block);
        let state_update = wire::StateUpdate {
            block_hash: Some(block.header.hash.0),
            new_root: Some(block.header.state_root),
            old_root: block.old_root,
            state_diff: to_wire_state_diff(&block.content.state_diff),
        };
        self.write_json(&format!("block/{number}.json"), &wire_block)?;
        self.write_json(&format!("state_update/{number}.json"), &state_update)?;

        for class in &block.content.new_classes {
            self.write_bytes(&format!("class/{}.json", class.hash), &class.definition)?;
            if let Some(compiled) = &class.compiled {
                self.write_bytes(&format!("compiled_class/{}.json", class.hash), compiled)?;
            }
        }
        Ok(())
    }

    fn write_json(&self, relative: &str, value: &impl serde::Serialize) -> anyhow::Result<()> {
        let bytes =
            serde_json::to_vec(value).with_context(|| format!("failed to serialize {relative}"))?;
        self.write_bytes(relative, &bytes)
    }

    fn write_bytes(&self, relative: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.dir.join(relative);
        std::fs::write(&path, bytes).with_context(|| format!("failed to write {}", path.display()))
    }
}

fn to_wire_block(block: &AssembledBlock) -> wire::Block {
    let header = &block.header;
    let prices = |prices: GasPrices| wire::ResourcePrice {
        price_in_wei: prices.price_in_wei,
        price_in_fri: prices.price_in_fri,
    };
    wire::Block {
        block_hash: header.hash.0,
        parent_block_hash: header.parent_hash.0,
        block_number: header.number.0,
        state_root: header.state_root,
        status: match header.status {
            starling_storage::BlockStatus::AcceptedOnL1 => wire::BlockStatus::AcceptedOnL1,
            starling_storage::BlockStatus::AcceptedOnL2 => wire::BlockStatus::AcceptedOnL2,
        },
        timestamp: header.timestamp,
        sequencer_address: Some(header.sequencer_address.0),
        gas_price: None,
        l1_gas_price: Some(prices(header.l1_gas_price)),
        l1_data_gas_price: Some(prices(header.l1_data_gas_price)),
        l2_gas_price: Some(prices(header.l2_gas_price)),
        l1_da_mode: Some(match header.l1_da_mode {
            starling_storage::L1DataAvailabilityMode::Calldata => {
                wire::L1DataAvailabilityMode::Calldata
            }
            starling_storage::L1DataAvailabilityMode::Blob => wire::L1DataAvailabilityMode::Blob,
        }),
        starknet_version: Some(header.starknet_version.clone()),
        transaction_commitment: header.transaction_commitment,
        event_commitment: header.event_commitment,
        receipt_commitment: header.receipt_commitment,
        state_diff_commitment: header.state_diff_commitment,
        state_diff_length: header.state_diff_length,
        transactions: block
            .content
            .transactions
            .iter()
            .map(to_wire_transaction)
            .collect(),
        transaction_receipts: block
            .content
            .receipts
            .iter()
            .enumerate()
            .map(|(index, receipt)| to_wire_receipt(index, receipt))
            .collect(),
    }
}

fn to_wire_da_mode(mode: DataAvailabilityMode) -> wire::DataAvailabilityMode {
    match mode {
        DataAvailabilityMode::L1 => wire::DataAvailabilityMode::L1,
        DataAvailabilityMode::L2 => wire::DataAvailabilityMode::L2,
    }
}

fn to_wire_bounds(bounds: &ResourceBoundsMapping) -> wire::ResourceBoundsMapping {
    let convert = |bound: &starling_storage::ResourceBounds| wire::ResourceBounds {
        max_amount: bound.max_amount.into(),
        max_price_per_unit: bound.max_price_per_unit.into(),
    };
    wire::ResourceBoundsMapping {
        l1_gas: convert(&bounds.l1_gas),
        l2_gas: convert(&bounds.l2_gas),
        l1_data_gas: bounds.l1_data_gas.as_ref().map(convert),
    }
}

/// Converts the transaction types the generator builds. The others never occur.
fn to_wire_transaction(transaction: &Transaction) -> wire::Transaction {
    let transaction_hash = transaction.hash.0;
    match &transaction.variant {
        TransactionVariant::InvokeV1(tx) => {
            wire::Transaction::InvokeV1(wire::InvokeTransactionV1 {
                transaction_hash,
                sender_address: tx.sender_address.0,
                calldata: tx.calldata.clone(),
                signature: tx.signature.clone(),
                max_fee: tx.max_fee,
                nonce: tx.nonce,
            })
        }
        TransactionVariant::InvokeV3(tx) => {
            wire::Transaction::InvokeV3(wire::InvokeTransactionV3 {
                transaction_hash,
                sender_address: tx.sender_address.0,
                calldata: tx.calldata.clone(),
                signature: tx.signature.clone(),
                nonce: tx.nonce,
                resource_bounds: to_wire_bounds(&tx.resource_bounds),
                tip: tx.tip.into(),
                paymaster_data: tx.paymaster_data.clone(),
                nonce_data_availability_mode: to_wire_da_mode(tx.nonce_data_availability_mode),
                fee_data_availability_mode: to_wire_da_mode(tx.fee_data_availability_mode),
                account_deployment_data: tx.account_deployment_data.clone(),
                proof_facts: None,
            })
        }
        TransactionVariant::DeclareV1(tx) => {
            wire::Transaction::DeclareV1(wire::DeclareTransactionV1 {
                transaction_hash,
                sender_address: tx.sender_address.0,
                class_hash: tx.class_hash.0,
                max_fee: tx.max_fee,
                nonce: tx.nonce,
                signature: tx.signature.clone(),
            })
        }
        TransactionVariant::DeclareV2(tx) => {
            wire::Transaction::DeclareV2(wire::DeclareTransactionV2 {
                transaction_hash,
                sender_address: tx.sender_address.0,
                class_hash: tx.class_hash.0,
                compiled_class_hash: tx.compiled_class_hash.0,
                max_fee: tx.max_fee,
                nonce: tx.nonce,
                signature: tx.signature.clone(),
            })
        }
        TransactionVariant::DeclareV3(tx) => {
            wire::Transaction::DeclareV3(wire::DeclareTransactionV3 {
                transaction_hash,
                sender_address: tx.sender_address.0,
                class_hash: tx.class_hash.0,
                compiled_class_hash: tx.compiled_class_hash.0,
                signature: tx.signature.clone(),
                nonce: tx.nonce,
                resource_bounds: to_wire_bounds(&tx.resource_bounds),
                tip: tx.tip.into(),
                paymaster_data: tx.paymaster_data.clone(),
                nonce_data_availability_mode: to_wire_da_mode(tx.nonce_data_availability_mode),
                fee_data_availability_mode: to_wire_da_mode(tx.fee_data_availability_mode),
                account_deployment_data: tx.account_deployment_data.clone(),
            })
        }
        TransactionVariant::DeployAccountV3(tx) => {
            wire::Transaction::DeployAccountV3(wire::DeployAccountTransactionV3 {
                transaction_hash,
                sender_address: tx.contract_address.0,
                contract_address_salt: tx.contract_address_salt,
                class_hash: tx.class_hash.0,
                constructor_calldata: tx.constructor_calldata.clone(),
                signature: tx.signature.clone(),
                nonce: tx.nonce,
                resource_bounds: to_wire_bounds(&tx.resource_bounds),
                tip: tx.tip.into(),
                paymaster_data: tx.paymaster_data.clone(),
                nonce_data_availability_mode: to_wire_da_mode(tx.nonce_data_availability_mode),
                fee_data_availability_mode: to_wire_da_mode(tx.fee_data_availability_mode),
            })
        }
        other => unreachable!(
            "the generator does not build {} transactions",
            other.type_name()
        ),
    }
}

fn to_wire_receipt(index: usize, receipt: &Receipt) -> wire::Receipt {
    let (execution_status, revert_error) = match &receipt.execution_status {
        ExecutionStatus::Succeeded => (wire::ExecutionStatus::Succeeded, None),
        ExecutionStatus::Reverted { reason } => {
            (wire::ExecutionStatus::Reverted, Some(reason.clone()))
        }
    };
    let resources = &receipt.execution_resources;
    let gas = |vector: starling_storage::GasVector| wire::GasVector {
        l1_gas: vector.l1_gas,
        l1_data_gas: vector.l1_data_gas,
        l2_gas: vector.l2_gas,
    };
    let builtins = &resources.builtins;
    wire::Receipt {
        transaction_hash: receipt.transaction_hash.0,
        transaction_index: index as u64,
        actual_fee: receipt.actual_fee,
        execution_status,
        revert_error,
        events: receipt
            .events
            .iter()
            .map(|event| wire::Event {
                from_address: event.from_address.0,
                keys: event.keys.clone(),
                data: event.data.clone(),
            })
            .collect(),
        l2_to_l1_messages: receipt
            .l2_to_l1_messages
            .iter()
            .map(|message| wire::L2ToL1Message {
                from_address: message.from_address.0,
                to_address: message.to_address,
                payload: message.payload.clone(),
            })
            .collect(),
        l1_to_l2_consumed_message: None,
        execution_resources: Some(wire::ExecutionResources {
            n_steps: resources.steps,
            n_memory_holes: resources.memory_holes,
            builtin_instance_counter: wire::BuiltinInstanceCounter {
                pedersen_builtin: builtins.pedersen,
                range_check_builtin: builtins.range_check,
                bitwise_builtin: builtins.bitwise,
                output_builtin: builtins.output,
                ecdsa_builtin: builtins.ecdsa,
                ec_op_builtin: builtins.ec_op,
                keccak_builtin: builtins.keccak,
                poseidon_builtin: builtins.poseidon,
                segment_arena_builtin: builtins.segment_arena,
                add_mod_builtin: builtins.add_mod,
                mul_mod_builtin: builtins.mul_mod,
                range_check96_builtin: builtins.range_check96,
            },
            data_availability: Some(gas(resources.data_availability)),
            total_gas_consumed: resources.total_gas_consumed.map(gas),
        }),
    }
}

fn to_wire_state_diff(diff: &StateDiff) -> wire::StateDiff {
    let deployed = |contract: &starling_storage::DeployedContract| wire::DeployedContract {
        address: contract.address.0,
        class_hash: contract.class_hash.0,
    };
    let declared = |class: &starling_storage::DeclaredClass| wire::DeclaredClass {
        class_hash: class.class_hash.0,
        compiled_class_hash: class.compiled_class_hash.0,
    };
    wire::StateDiff {
        storage_diffs: diff
            .storage_diffs
            .iter()
            .map(|contract| {
                let entries = contract
                    .entries
                    .iter()
                    .map(|entry| wire::StorageEntry {
                        key: entry.key.0,
                        value: entry.value,
                    })
                    .collect();
                (contract.address.0, entries)
            })
            .collect(),
        nonces: diff
            .nonces
            .iter()
            .map(|update| (update.contract_address.0, update.nonce))
            .collect(),
        deployed_contracts: diff.deployed_contracts.iter().map(deployed).collect(),
        replaced_classes: diff.replaced_classes.iter().map(deployed).collect(),
        declared_classes: diff.declared_classes.iter().map(declared).collect(),
        old_declared_contracts: diff
            .deprecated_declared_classes
            .iter()
            .map(|hash| hash.0)
            .collect(),
        migrated_compiled_classes: diff
            .migrated_compiled_classes
            .iter()
            .map(declared)
            .collect(),
    }
}
