//! Conversion of feeder-gateway wire types into the chain model of `starling-storage`.
//! Wire types stop here: nothing outside this crate sees them.

use starling_storage as model;
use starling_storage::{
    BlockHash, BlockNumber, ClassHash, CompiledClassHash, ContractAddress, Felt, StorageKey,
    TransactionHash,
};

use crate::gateway::wire;

/// A block and its state update in chain-model types, plus the state update's claims
/// that the sync pipeline checks against the block before committing.
#[derive(Debug, Clone)]
pub struct ConvertedBlock {
    pub header: model::BlockHeader,
    pub transactions: Vec<model::Transaction>,
    pub receipts: Vec<model::Receipt>,
    pub state_diff: model::StateDiff,
    /// `block_hash` of the state update; must equal the header's hash.
    pub state_update_block_hash: Option<BlockHash>,
    /// `old_root` of the state update; must equal the parent's state root.
    pub old_root: Felt,
    /// `new_root` of the state update; must equal the header's state root.
    pub new_root: Felt,
    /// The sequencer's signature, when the reply carried one.
    pub signature: Option<Vec<Felt>>,
}

/// Converts a `get_state_update?includeBlock=true` reply. Errors name the offending
/// transaction or field.
pub fn convert_block(fetched: wire::StateUpdateWithBlock) -> Result<ConvertedBlock, String> {
    let wire::StateUpdateWithBlock {
        block,
        state_update,
        signature,
    } = fetched;
    let number = BlockNumber(block.block_number);

    if block.transactions.len() != block.transaction_receipts.len() {
        return Err(format!(
            "block {number} has {} transactions but {} receipts",
            block.transactions.len(),
            block.transaction_receipts.len()
        ));
    }

    let transactions = block
        .transactions
        .iter()
        .map(convert_transaction)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("block {number}: {error}"))?;

    let mut receipts = Vec::with_capacity(block.transaction_receipts.len());
    for (index, (receipt, transaction)) in block
        .transaction_receipts
        .iter()
        .zip(&transactions)
        .enumerate()
    {
        if receipt.transaction_hash != transaction.hash.0 {
            return Err(format!(
                "block {number}: receipt {index} is for transaction {:#x}, transaction {index} is {}",
                receipt.transaction_hash, transaction.hash
            ));
        }
        receipts.push(convert_receipt(receipt));
    }

    let event_count = receipts
        .iter()
        .map(|receipt| receipt.events.len() as u64)
        .sum();
    let header = convert_header(&block, transactions.len() as u64, event_count)?;
    let new_root = state_update.new_root.unwrap_or(header.state_root);

    Ok(ConvertedBlock {
        header,
        transactions,
        receipts,
        state_diff: convert_state_diff(&state_update.state_diff),
        state_update_block_hash: state_update.block_hash.map(BlockHash),
        old_root: state_update.old_root,
        new_root,
        signature,
    })
}

fn convert_header(
    block: &wire::Block,
    transaction_count: u64,
    event_count: u64,
) -> Result<model::BlockHeader, String> {
    let status = match block.status {
        wire::BlockStatus::AcceptedOnL1 => model::BlockStatus::AcceptedOnL1,
        wire::BlockStatus::AcceptedOnL2 => model::BlockStatus::AcceptedOnL2,
        other => {
            return Err(format!(
                "block {} has status {other}; only accepted blocks are synced",
                block.block_number
            ))
        }
    };

    // Blocks before Starknet 0.13.1 carry a single wei price in `gas_price`.
    let l1_gas_price = match (block.l1_gas_price, block.gas_price) {
        (Some(prices), _) => convert_prices(prices),
        (None, Some(price_in_wei)) => model::GasPrices {
            price_in_wei,
            price_in_fri: Felt::ZERO,
        },
        (None, None) => model::GasPrices::default(),
    };

    Ok(model::BlockHeader {
        number: BlockNumber(block.block_number),
        hash: BlockHash(block.block_hash),
        parent_hash: BlockHash(block.parent_block_hash),
        state_root: block.state_root,
        timestamp: block.timestamp,
        sequencer_address: ContractAddress(block.sequencer_address.unwrap_or_default()),
        l1_gas_price,
        l1_data_gas_price: block
            .l1_data_gas_price
            .map(convert_prices)
            .unwrap_or_default(),
        l2_gas_price: block.l2_gas_price.map(convert_prices).unwrap_or_default(),
        l1_da_mode: match block.l1_da_mode {
            Some(wire::L1DataAvailabilityMode::Blob) => model::L1DataAvailabilityMode::Blob,
            Some(wire::L1DataAvailabilityMode::Calldata) | None => {
                model::L1DataAvailabilityMode::Calldata
            }
        },
        starknet_version: block.starknet_version.clone().unwrap_or_default(),
        status,
        transaction_count,
        event_count,
        transaction_commitment: block.transaction_commitment,
        event_commitment: block.event_commitment,
        receipt_commitment: block.receipt_commitment,
        state_diff_commitment: block.state_diff_commitment,
        state_diff_length: block.state_diff_length,
    })
}

fn convert_prices(prices: wire::ResourcePrice) -> model::GasPrices {
    model::GasPrices {
        price_in_wei: prices.price_in_wei,
        price_in_fri: prices.price_in_fri,
    }
}

pub fn convert_transaction(transaction: &wire::Transaction) -> Result<model::Transaction, String> {
    use model::TransactionVariant as Variant;
    use wire::Transaction as Wire;

    let variant = match transaction {
        Wire::InvokeV0(tx) => Variant::InvokeV0(model::InvokeTransactionV0 {
            max_fee: tx.max_fee,
            signature: tx.signature.clone(),
            contract_address: ContractAddress(tx.contract_address),
            entry_point_selector: tx.entry_point_selector,
            calldata: tx.calldata.clone(),
        }),
        Wire::InvokeV1(tx) => Variant::InvokeV1(model::InvokeTransactionV1 {
            sender_address: ContractAddress(tx.sender_address),
            calldata: tx.calldata.clone(),
            max_fee: tx.max_fee,
            signature: tx.signature.clone(),
            nonce: tx.nonce,
        }),
        Wire::InvokeV3(tx) => Variant::InvokeV3(model::InvokeTransactionV3 {
            sender_address: ContractAddress(tx.sender_address),
            calldata: tx.calldata.clone(),
            signature: tx.signature.clone(),
            nonce: tx.nonce,
            resource_bounds: convert_bounds(&tx.resource_bounds)?,
            tip: felt_to_u64(tx.tip, "tip")?,
            paymaster_data: tx.paymaster_data.clone(),
            account_deployment_data: tx.account_deployment_data.clone(),
            nonce_data_availability_mode: convert_da_mode(tx.nonce_data_availability_mode),
            fee_data_availability_mode: convert_da_mode(tx.fee_data_availability_mode),
            proof_facts: tx.proof_facts.clone().unwrap_or_default(),
        }),
        Wire::DeclareV0(tx) => Variant::DeclareV0(model::DeclareTransactionV0V1 {
            sender_address: ContractAddress(tx.sender_address),
            max_fee: tx.max_fee,
            signature: tx.signature.clone(),
            nonce: tx.nonce,
            class_hash: ClassHash(tx.class_hash),
        }),
        Wire::DeclareV1(tx) => Variant::DeclareV1(model::DeclareTransactionV0V1 {
            sender_address: ContractAddress(tx.sender_address),
            max_fee: tx.max_fee,
            signature: tx.signature.clone(),
            nonce: tx.nonce,
            class_hash: ClassHash(tx.class_hash),
        }),
        Wire::DeclareV2(tx) => Variant::DeclareV2(model::DeclareTransactionV2 {
            sender_address: ContractAddress(tx.sender_address),
            compiled_class_hash: CompiledClassHash(tx.compiled_class_hash),
            max_fee: tx.max_fee,
            signature: tx.signature.clone(),
            nonce: tx.nonce,
            class_hash: ClassHash(tx.class_hash),
        }),
        Wire::DeclareV3(tx) => Variant::DeclareV3(model::DeclareTransactionV3 {
            sender_address: ContractAddress(tx.sender_address),
            compiled_class_hash: CompiledClassHash(tx.compiled_class_hash),
            signature: tx.signature.clone(),
            nonce: tx.nonce,
            class_hash: ClassHash(tx.class_hash),
            resource_bounds: convert_bounds(&tx.resource_bounds)?,
            tip: felt_to_u64(tx.tip, "tip")?,
            paymaster_data: tx.paymaster_data.clone(),
            account_deployment_data: tx.account_deployment_data.clone(),
            nonce_data_availability_mode: convert_da_mode(tx.nonce_data_availability_mode),
            fee_data_availability_mode: convert_da_mode(tx.fee_data_availability_mode),
        }),
        Wire::Deploy(tx) => Variant::Deploy(model::DeployTransaction {
            version: tx.version,
            contract_address: ContractAddress(tx.contract_address),
            contract_address_salt: tx.contract_address_salt,
            class_hash: ClassHash(tx.class_hash),
            constructor_calldata: tx.constructor_calldata.clone(),
        }),
        Wire::DeployAccountV1(tx) => Variant::DeployAccountV1(model::DeployAccountTransactionV1 {
            contract_address: ContractAddress(tx.contract_address),
            max_fee: tx.max_fee,
            signature: tx.signature.clone(),
            nonce: tx.nonce,
            contract_address_salt: tx.contract_address_salt,
            constructor_calldata: tx.constructor_calldata.clone(),
            class_hash: ClassHash(tx.class_hash),
        }),
        Wire::DeployAccountV3(tx) => Variant::DeployAccountV3(model::DeployAccountTransactionV3 {
            contract_address: ContractAddress(tx.sender_address),
            signature: tx.signature.clone(),
            nonce: tx.nonce,
            contract_address_salt: tx.contract_address_salt,
            constructor_calldata: tx.constructor_calldata.clone(),
            class_hash: ClassHash(tx.class_hash),
            resource_bounds: convert_bounds(&tx.resource_bounds)?,
            tip: felt_to_u64(tx.tip, "tip")?,
            paymaster_data: tx.paymaster_data.clone(),
            nonce_data_availability_mode: convert_da_mode(tx.nonce_data_availability_mode),
            fee_data_availability_mode: convert_da_mode(tx.fee_data_availability_mode),
        }),
        Wire::L1Handler(tx) => Variant::L1Handler(model::L1HandlerTransaction {
            version: tx.version,
            nonce: tx.nonce.unwrap_or_default(),
            contract_address: ContractAddress(tx.contract_address),
            entry_point_selector: tx.entry_point_selector,
            calldata: tx.calldata.clone(),
        }),
    };

    Ok(model::Transaction {
        hash: TransactionHash(transaction.hash()),
        variant,
    })
    .map_err(|error: String| format!("transaction {:#x}: {error}", transaction.hash()))
}

fn convert_bounds(
    bounds: &wire::ResourceBoundsMapping,
) -> Result<model::ResourceBoundsMapping, String> {
    let convert =
        |bound: &wire::ResourceBounds, name: &str| -> Result<model::ResourceBounds, String> {
            Ok(model::ResourceBounds {
                max_amount: felt_to_u64(bound.max_amount, &format!("{name}.max_amount"))?,
                max_price_per_unit: felt_to_u128(
                    bound.max_price_per_unit,
                    &format!("{name}.max_price_per_unit"),
                )?,
            })
        };
    Ok(model::ResourceBoundsMapping {
        l1_gas: convert(&bounds.l1_gas, "L1_GAS")?,
        l2_gas: convert(&bounds.l2_gas, "L2_GAS")?,
        l1_data_gas: bounds
            .l1_data_gas
            .as_ref()
            .map(|bound| convert(bound, "L1_DATA_GAS"))
            .transpose()?,
    })
}

fn convert_da_mode(mode: wire::DataAvailabilityMode) -> model::DataAvailabilityMode {
    match mode {
        wire::DataAvailabilityMode::L1 => model::DataAvailabilityMode::L1,
        wire::DataAvailabilityMode::L2 => model::DataAvailabilityMode::L2,
    }
}

fn felt_to_u64(value: Felt, field: &str) -> Result<u64, String> {
    u64::try_from(value).map_err(|_| format!("{field} {value:#x} does not fit in 64 bits"))
}

fn felt_to_u128(value: Felt, field: &str) -> Result<u128, String> {
    u128::try_from(value).map_err(|_| format!("{field} {value:#x} does not fit in 128 bits"))
}

pub fn convert_receipt(receipt: &wire::Receipt) -> model::Receipt {
    let execution_status = match receipt.execution_status {
        wire::ExecutionStatus::Succeeded => model::ExecutionStatus::Succeeded,
        wire::ExecutionStatus::Reverted => model::ExecutionStatus::Reverted {
            reason: receipt.revert_error.clone().unwrap_or_default(),
        },
    };

    model::Receipt {
        transaction_hash: TransactionHash(receipt.transaction_hash),
        actual_fee: receipt.actual_fee,
        execution_status,
        events: receipt
            .events
            .iter()
            .map(|event| model::Event {
                from_address: ContractAddress(event.from_address),
                keys: event.keys.clone(),
                data: event.data.clone(),
            })
            .collect(),
        l2_to_l1_messages: receipt
            .l2_to_l1_messages
            .iter()
            .map(|message| model::L2ToL1Message {
                from_address: ContractAddress(message.from_address),
                to_address: message.to_address,
                payload: message.payload.clone(),
            })
            .collect(),
        l1_to_l2_consumed_message: receipt.l1_to_l2_consumed_message.as_ref().map(|message| {
            model::L1ToL2Message {
                from_address: message.from_address,
                to_address: ContractAddress(message.to_address),
                selector: message.selector,
                payload: message.payload.clone(),
                nonce: message.nonce,
            }
        }),
        execution_resources: receipt
            .execution_resources
            .as_ref()
            .map(convert_resources)
            .unwrap_or_default(),
    }
}

fn convert_resources(resources: &wire::ExecutionResources) -> model::ExecutionResources {
    let builtins = &resources.builtin_instance_counter;
    let gas = |vector: &wire::GasVector| model::GasVector {
        l1_gas: vector.l1_gas,
        l1_data_gas: vector.l1_data_gas,
        l2_gas: vector.l2_gas,
    };
    model::ExecutionResources {
        steps: resources.n_steps,
        memory_holes: resources.n_memory_holes,
        builtins: model::BuiltinCounters {
            pedersen: builtins.pedersen_builtin,
            range_check: builtins.range_check_builtin,
            bitwise: builtins.bitwise_builtin,
            output: builtins.output_builtin,
            ecdsa: builtins.ecdsa_builtin,
            ec_op: builtins.ec_op_builtin,
            keccak: builtins.keccak_builtin,
            poseidon: builtins.poseidon_builtin,
            segment_arena: builtins.segment_arena_builtin,
            add_mod: builtins.add_mod_builtin,
            mul_mod: builtins.mul_mod_builtin,
            range_check96: builtins.range_check96_builtin,
        },
        data_availability: resources
            .data_availability
            .as_ref()
            .map(gas)
            .unwrap_or_default(),
        total_gas_consumed: resources.total_gas_consumed.as_ref().map(gas),
    }
}

pub fn convert_state_diff(diff: &wire::StateDiff) -> model::StateDiff {
    let declared = |declared: &wire::DeclaredClass| model::DeclaredClass {
        class_hash: ClassHash(declared.class_hash),
        compiled_class_hash: CompiledClassHash(declared.compiled_class_hash),
    };
    let deployed = |deployed: &wire::DeployedContract| model::DeployedContract {
        address: ContractAddress(deployed.address),
        class_hash: ClassHash(deployed.class_hash),
    };

    model::StateDiff {
        storage_diffs: diff
            .storage_diffs
            .iter()
            .map(|(address, entries)| model::ContractStorageDiff {
                address: ContractAddress(*address),
                entries: entries
                    .iter()
                    .map(|entry| model::StorageEntry {
                        key: StorageKey(entry.key),
                        value: entry.value,
                    })
                    .collect(),
            })
            .collect(),
        nonces: diff
            .nonces
            .iter()
            .map(|(address, nonce)| model::NonceUpdate {
                contract_address: ContractAddress(*address),
                nonce: *nonce,
            })
            .collect(),
        deployed_contracts: diff.deployed_contracts.iter().map(deployed).collect(),
        replaced_classes: diff.replaced_classes.iter().map(deployed).collect(),
        declared_classes: diff.declared_classes.iter().map(declared).collect(),
        deprecated_declared_classes: diff
            .old_declared_contracts
            .iter()
            .map(|hash| ClassHash(*hash))
            .collect(),
        migrated_compiled_classes: diff
            .migrated_compiled_classes
            .iter()
            .map(declared)
            .collect(),
    }
}

/// Converts a `get_preconfirmed_block` reply for block `number`, which builds on the
/// stored head `parent_hash`. Transactions with a receipt become the block's executed
/// transactions, those with a `null` receipt its candidates, and the state diffs of the
/// executed ones are merged into one. Errors name the offending transaction or field.
pub fn convert_preconfirmed_block(
    block: &wire::PreconfirmedBlock,
    number: BlockNumber,
    parent_hash: BlockHash,
) -> Result<model::PreConfirmedBlock, String> {
    if block.transaction_receipts.len() != block.transactions.len()
        || block.transaction_state_diffs.len() != block.transactions.len()
    {
        return Err(format!(
            "pre-confirmed block {number} has {} transactions, {} receipts and {} state diffs",
            block.transactions.len(),
            block.transaction_receipts.len(),
            block.transaction_state_diffs.len()
        ));
    }

    let mut transactions = Vec::new();
    let mut receipts = Vec::new();
    let mut candidate_transactions = Vec::new();
    let mut state_diffs = Vec::new();
    let entries = block
        .transactions
        .iter()
        .zip(&block.transaction_receipts)
        .zip(&block.transaction_state_diffs);
    for (index, ((transaction, receipt), state_diff)) in entries.enumerate() {
        let transaction = convert_transaction(transaction)
            .map_err(|error| format!("pre-confirmed block {number}: {error}"))?;
        let Some(receipt) = receipt else {
            candidate_transactions.push(transaction);
            continue;
        };
        if receipt.transaction_hash != transaction.hash.0 {
            return Err(format!(
                "pre-confirmed block {number}: receipt {index} is for transaction {:#x}, transaction {index} is {}",
                receipt.transaction_hash, transaction.hash
            ));
        }
        receipts.push(convert_receipt(receipt));
        transactions.push(transaction);
        if let Some(state_diff) = state_diff {
            state_diffs.push(convert_state_diff(state_diff));
        }
    }

    Ok(model::PreConfirmedBlock {
        number,
        parent_hash,
        timestamp: block.timestamp,
        sequencer_address: ContractAddress(block.sequencer_address),
        starknet_version: block.starknet_version.clone(),
        l1_gas_price: convert_prices(block.l1_gas_price),
        l1_data_gas_price: convert_prices(block.l1_data_gas_price),
        l2_gas_price: convert_prices(block.l2_gas_price),
        l1_da_mode: match block.l1_da_mode {
            wire::L1DataAvailabilityMode::Blob => model::L1DataAvailabilityMode::Blob,
            wire::L1DataAvailabilityMode::Calldata => model::L1DataAvailabilityMode::Calldata,
        },
        transactions,
        receipts,
        candidate_transactions,
        state_diff: model::merge_state_diffs(state_diffs),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::Value;

    use super::*;
    use crate::testdata::{json_files, recordings_dir};

    /// Parses from text, not from a `Value`: a `Value` sorts object keys, and the
    /// conversion keeps the gateway's order of contracts.
    fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> T {
        serde_json::from_str(text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    /// Converts the block inside a recorded file, in whichever shape the file has.
    fn convert_recorded_block(path: &Path, block: wire::Block) -> model::BlockHeader {
        let transactions: Vec<_> = block
            .transactions
            .iter()
            .map(|transaction| {
                convert_transaction(transaction)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            })
            .collect();
        let receipts: Vec<_> = block
            .transaction_receipts
            .iter()
            .map(convert_receipt)
            .collect();
        assert_eq!(transactions.len(), receipts.len(), "{}", path.display());
        for (transaction, receipt) in transactions.iter().zip(&receipts) {
            assert_eq!(
                transaction.hash,
                receipt.transaction_hash,
                "{}",
                path.display()
            );
        }
        let events = receipts
            .iter()
            .map(|receipt| receipt.events.len() as u64)
            .sum();
        convert_header(&block, transactions.len() as u64, events)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    #[test]
    fn every_recorded_block_and_state_update_converts() {
        let Some(dir) = recordings_dir() else { return };
        let mut blocks = 0;
        let mut state_updates = 0;

        for path in json_files(&dir) {
            let text = read(&path);
            let value: Value = serde_json::from_str(&text).unwrap();
            let is_block = value.get("transactions").is_some() && value.get("block_hash").is_some();
            let is_combined = value.get("block").is_some() && value.get("state_update").is_some();
            let is_state_update =
                value.get("state_diff").is_some() && value.get("block_hash").is_some();

            if is_combined && value["block"].get("block_hash").is_some() {
                let converted = convert_block(parse(&path, &text))
                    .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
                assert_eq!(
                    converted.state_update_block_hash,
                    Some(converted.header.hash),
                    "{}",
                    path.display()
                );
                assert_eq!(
                    converted.new_root,
                    converted.header.state_root,
                    "{}",
                    path.display()
                );
                blocks += 1;
                state_updates += 1;
            } else if is_block {
                let block: wire::Block = parse(&path, &text);
                let expected_hash = block.block_hash;
                let header = convert_recorded_block(&path, block);
                assert_eq!(header.hash.0, expected_hash);
                blocks += 1;
            } else if is_state_update {
                let update: wire::StateUpdate = parse(&path, &text);
                convert_state_diff(&update.state_diff);
                state_updates += 1;
            }
        }
        // Mainnet 0-2, Sepolia 0-7 and the single-version samples.
        assert!(blocks >= 25, "only {blocks} block files converted");
        assert!(
            state_updates >= 15,
            "only {state_updates} state updates converted"
        );
    }

    #[test]
    fn mainnet_genesis_converts_with_old_block_defaults() {
        let Some(dir) = recordings_dir() else { return };
        let path = dir.join("mainnet/block/0.json");
        let block: wire::Block = parse(&path, &read(&path));
        let header = convert_recorded_block(&path, block);

        assert_eq!(header.number, BlockNumber(0));
        assert_eq!(
            header.state_root,
            Felt::from_hex_unwrap(
                "0x21870ba80540e7831fb21c591ee93481f5ae1bb71ff85a86ddd465be4eddee6"
            )
        );
        assert_eq!(header.transaction_count, 18);
        assert_eq!(header.starknet_version, "");
        assert_eq!(header.sequencer_address, ContractAddress::ZERO);
        assert_eq!(header.l1_da_mode, model::L1DataAvailabilityMode::Calldata);
        assert_eq!(header.status, model::BlockStatus::AcceptedOnL1);
    }

    #[test]
    fn sepolia_block_7_state_diff_lists_declared_classes() {
        let Some(dir) = recordings_dir() else { return };
        let path = dir.join("sepolia/state_update/7.json");
        let update: wire::StateUpdate = parse(&path, &read(&path));
        let diff = convert_state_diff(&update.state_diff);

        assert_eq!(diff.declared_classes.len(), 3);
        assert_eq!(diff.deprecated_declared_classes.len(), 7);
        let introduced = diff.introduced_class_hashes();
        assert_eq!(
            introduced[0],
            ClassHash(Felt::from_hex_unwrap(
                "0x3ae692aaf1ded26a0b58cf42490f757563850acea887ed57b4894fee8279063"
            ))
        );
        assert_eq!(
            diff.storage_diffs[0].address,
            ContractAddress(Felt::from_hex_unwrap(
                "0x68922eb87daed71fc3099031e178b6534fc39a570022342e8c166024da893f5"
            ))
        );
    }
}
