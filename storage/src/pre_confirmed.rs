//! The pre-confirmed block: the block after the stored head that the sequencer is still
//! building (Starknet 0.14 and later; the `pending` block of earlier versions).
//!
//! The pre-confirmed poller in `sync` writes it and RPC handlers read it, through a
//! [`PreConfirmedHandle`] that lives here so that `rpc` never depends on `sync`. It is
//! kept in memory only and never written to the database.

use std::collections::HashMap;
use std::sync::Arc;

use starknet_types_core::felt::Felt;
use tokio::sync::watch;

use crate::block::{GasPrices, L1DataAvailabilityMode};
use crate::receipt::Receipt;
use crate::state::{ContractStorageDiff, DeployedContract, NonceUpdate, StateDiff, StorageEntry};
use crate::transaction::Transaction;
use crate::types::{
    BlockHash, BlockNumber, ClassHash, ContractAddress, StorageKey, TransactionHash,
};

/// The block being built on top of the stored head, as the feeder gateway last served it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreConfirmedBlock {
    /// Number the block will have: the head's number + 1.
    pub number: BlockNumber,
    /// Hash of the stored head that the block builds on.
    pub parent_hash: BlockHash,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    pub sequencer_address: ContractAddress,
    pub starknet_version: String,
    pub l1_gas_price: GasPrices,
    pub l1_data_gas_price: GasPrices,
    pub l2_gas_price: GasPrices,
    pub l1_da_mode: L1DataAvailabilityMode,
    /// Executed transactions in block order, each with its hash.
    pub transactions: Vec<Transaction>,
    /// One receipt per entry of `transactions`, in the same order.
    pub receipts: Vec<Receipt>,
    /// Transactions the sequencer has accepted into the block but not executed yet
    /// (the gateway sends a `null` receipt and state diff for them). They have no
    /// receipt, and RPC reports them as candidates, not as part of the block.
    pub candidate_transactions: Vec<Transaction>,
    /// The state diffs of the executed transactions merged in order (see
    /// [`merge_state_diffs`]).
    pub state_diff: StateDiff,
}

/// An executed transaction of a pre-confirmed block with its position and receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreConfirmedTransaction<'a> {
    /// Position among the executed transactions.
    pub index: usize,
    pub transaction: &'a Transaction,
    pub receipt: &'a Receipt,
}

impl PreConfirmedBlock {
    /// Returns whether the block builds on the block `head_number` with hash `head_hash`.
    pub fn builds_on(&self, head_number: BlockNumber, head_hash: BlockHash) -> bool {
        self.number == head_number.next() && self.parent_hash == head_hash
    }

    /// Finds an executed transaction by hash.
    pub fn transaction(&self, hash: TransactionHash) -> Option<PreConfirmedTransaction<'_>> {
        let index = self
            .transactions
            .iter()
            .position(|transaction| transaction.hash == hash)?;
        Some(PreConfirmedTransaction {
            index,
            transaction: &self.transactions[index],
            receipt: self.receipts.get(index)?,
        })
    }

    /// Finds a transaction that is included but not executed yet.
    pub fn candidate_transaction(&self, hash: TransactionHash) -> Option<&Transaction> {
        self.candidate_transactions
            .iter()
            .find(|transaction| transaction.hash == hash)
    }

    /// Returns the value the block wrote to a storage slot, or `None` when it did not
    /// write the slot.
    pub fn storage_value(&self, address: ContractAddress, key: StorageKey) -> Option<Felt> {
        self.state_diff
            .storage_diffs
            .iter()
            .filter(|diff| diff.address == address)
            .flat_map(|diff| diff.entries.iter())
            .rev()
            .find(|entry| entry.key == key)
            .map(|entry| entry.value)
    }

    /// Returns the nonce the block set for a contract, or `None` when it set none.
    pub fn nonce(&self, address: ContractAddress) -> Option<Felt> {
        self.state_diff
            .nonces
            .iter()
            .rev()
            .find(|update| update.contract_address == address)
            .map(|update| update.nonce)
    }

    /// Returns the class the block deployed at an address or replaced it with, or `None`
    /// when the block did neither.
    pub fn class_hash(&self, address: ContractAddress) -> Option<ClassHash> {
        let replaced = self
            .state_diff
            .replaced_classes
            .iter()
            .rev()
            .find(|replaced| replaced.address == address);
        let deployed = || {
            self.state_diff
                .deployed_contracts
                .iter()
                .rev()
                .find(|deployed| deployed.address == address)
        };
        replaced
            .or_else(deployed)
            .map(|contract| contract.class_hash)
    }
}

/// Merges the state diffs of consecutive transactions into the diff of the whole
/// sequence: a later write of the same storage slot, nonce, deployment or class
/// replacement overrides the earlier one, and declarations are listed once each, in
/// first-seen order.
pub fn merge_state_diffs(diffs: impl IntoIterator<Item = StateDiff>) -> StateDiff {
    let mut storage: Vec<(ContractAddress, Vec<StorageEntry>)> = Vec::new();
    let mut storage_positions: HashMap<ContractAddress, usize> = HashMap::new();
    let mut merged = StateDiff::default();

    for diff in diffs {
        for contract in diff.storage_diffs {
            let position = *storage_positions
                .entry(contract.address)
                .or_insert_with(|| {
                    storage.push((contract.address, Vec::new()));
                    storage.len() - 1
                });
            let entries = &mut storage[position].1;
            for entry in contract.entries {
                match entries
                    .iter_mut()
                    .find(|existing| existing.key == entry.key)
                {
                    Some(existing) => existing.value = entry.value,
                    None => entries.push(entry),
                }
            }
        }
        for update in diff.nonces {
            upsert(&mut merged.nonces, update, |existing: &NonceUpdate| {
                existing.contract_address == update.contract_address
            });
        }
        for deployed in diff.deployed_contracts {
            upsert(
                &mut merged.deployed_contracts,
                deployed,
                |existing: &DeployedContract| existing.address == deployed.address,
            );
        }
        for replaced in diff.replaced_classes {
            upsert(
                &mut merged.replaced_classes,
                replaced,
                |existing: &DeployedContract| existing.address == replaced.address,
            );
        }
        for declared in diff.declared_classes {
            upsert(&mut merged.declared_classes, declared, |existing| {
                existing.class_hash == declared.class_hash
            });
        }
        for migrated in diff.migrated_compiled_classes {
            upsert(
                &mut merged.migrated_compiled_classes,
                migrated,
                |existing| existing.class_hash == migrated.class_hash,
            );
        }
        for class_hash in diff.deprecated_declared_classes {
            if !merged.deprecated_declared_classes.contains(&class_hash) {
                merged.deprecated_declared_classes.push(class_hash);
            }
        }
    }

    merged.storage_diffs = storage
        .into_iter()
        .map(|(address, entries)| ContractStorageDiff { address, entries })
        .collect();
    merged
}

/// Replaces the first element that `is_same` selects with `value`, or appends `value`.
fn upsert<T>(items: &mut Vec<T>, value: T, is_same: impl Fn(&T) -> bool) {
    match items.iter_mut().find(|existing| is_same(existing)) {
        Some(existing) => *existing = value,
        None => items.push(value),
    }
}

/// The shared pre-confirmed block; clones share one value. The pre-confirmed poller sets
/// and clears it, RPC handlers read it with [`PreConfirmedHandle::block_on`], and
/// subscriptions follow it with [`PreConfirmedHandle::subscribe`].
#[derive(Clone, Debug)]
pub struct PreConfirmedHandle {
    sender: Arc<watch::Sender<Option<Arc<PreConfirmedBlock>>>>,
}

impl Default for PreConfirmedHandle {
    fn default() -> Self {
        Self::new()
    }
}

impl PreConfirmedHandle {
    /// Creates a handle that holds no block.
    pub fn new() -> Self {
        let (sender, _) = watch::channel(None);
        Self {
            sender: Arc::new(sender),
        }
    }

    /// Replaces the block. Subscribers are notified only when the new block differs from
    /// the one held, so polling an unchanged block sends nothing.
    pub fn set(&self, block: PreConfirmedBlock) {
        self.sender.send_if_modified(|current| {
            if current.as_deref() == Some(&block) {
                return false;
            }
            *current = Some(Arc::new(block));
            true
        });
    }

    /// Removes the block, notifying subscribers when there was one.
    pub fn clear(&self) {
        self.sender
            .send_if_modified(|current| current.take().is_some());
    }

    /// Returns the block held, whatever head it builds on. Readers that combine it with
    /// stored data use [`PreConfirmedHandle::block_on`] instead.
    pub fn current(&self) -> Option<Arc<PreConfirmedBlock>> {
        self.sender.borrow().clone()
    }

    /// Returns the block held if it builds on the stored head `head_number` with hash
    /// `head_hash` (its number is the head's + 1 and its parent hash is the head's hash).
    ///
    /// A reader passes the head it read from storage, so once a block is committed, the
    /// pre-confirmed block it replaces is hidden even before the poller clears it.
    pub fn block_on(
        &self,
        head_number: BlockNumber,
        head_hash: BlockHash,
    ) -> Option<Arc<PreConfirmedBlock>> {
        self.current()
            .filter(|block| block.builds_on(head_number, head_hash))
    }

    /// Returns a receiver that is notified on every change of the block: set to a
    /// different block, or cleared. The block held at the time of the call counts as
    /// already received, and `borrow_and_update` reads the newest value. Receivers do
    /// not check the head, so they compare [`PreConfirmedBlock::builds_on`] with the
    /// stored head themselves.
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<PreConfirmedBlock>>> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::{ExecutionResources, ExecutionStatus};
    use crate::state::DeclaredClass;
    use crate::transaction::{L1HandlerTransaction, TransactionVariant};
    use crate::types::CompiledClassHash;

    fn felt(value: u64) -> Felt {
        Felt::from(value)
    }

    fn address(value: u64) -> ContractAddress {
        ContractAddress(felt(value))
    }

    fn transaction(hash: u64) -> Transaction {
        Transaction {
            hash: TransactionHash(felt(hash)),
            variant: TransactionVariant::L1Handler(L1HandlerTransaction {
                version: Felt::ZERO,
                nonce: felt(hash),
                contract_address: address(0xa1),
                entry_point_selector: felt(0x1e1),
                calldata: vec![],
            }),
        }
    }

    fn receipt(hash: u64) -> Receipt {
        Receipt {
            transaction_hash: TransactionHash(felt(hash)),
            actual_fee: Felt::ZERO,
            execution_status: ExecutionStatus::Succeeded,
            events: vec![],
            l2_to_l1_messages: vec![],
            l1_to_l2_consumed_message: None,
            execution_resources: ExecutionResources::default(),
        }
    }

    fn block(number: u64, parent_hash: u64) -> PreConfirmedBlock {
        PreConfirmedBlock {
            number: BlockNumber(number),
            parent_hash: BlockHash(felt(parent_hash)),
            timestamp: 1_750_000_000,
            sequencer_address: address(0x5e),
            starknet_version: "0.14.0".into(),
            l1_gas_price: GasPrices::default(),
            l1_data_gas_price: GasPrices::default(),
            l2_gas_price: GasPrices::default(),
            l1_da_mode: L1DataAvailabilityMode::Blob,
            transactions: vec![transaction(0x10), transaction(0x11)],
            receipts: vec![receipt(0x10), receipt(0x11)],
            candidate_transactions: vec![transaction(0x12)],
            state_diff: StateDiff::default(),
        }
    }

    fn storage_write(contract: u64, key: u64, value: u64) -> StateDiff {
        StateDiff {
            storage_diffs: vec![ContractStorageDiff {
                address: address(contract),
                entries: vec![StorageEntry {
                    key: StorageKey(felt(key)),
                    value: felt(value),
                }],
            }],
            ..StateDiff::default()
        }
    }

    #[test]
    fn block_on_requires_head_number_and_hash() {
        let handle = PreConfirmedHandle::new();
        assert!(handle.current().is_none());
        handle.set(block(5, 0x44));

        let on_head = handle.block_on(BlockNumber(4), BlockHash(felt(0x44)));
        assert_eq!(on_head.map(|block| block.number), Some(BlockNumber(5)));
        assert!(handle
            .block_on(BlockNumber(5), BlockHash(felt(0x55)))
            .is_none());
        assert!(handle
            .block_on(BlockNumber(4), BlockHash(felt(0x99)))
            .is_none());
    }

    #[test]
    fn clones_share_the_block() {
        let writer = PreConfirmedHandle::new();
        let reader = writer.clone();
        writer.set(block(1, 0x1));
        assert_eq!(
            reader.current().map(|block| block.number),
            Some(BlockNumber(1))
        );
        writer.clear();
        assert!(reader.current().is_none());
    }

    #[tokio::test]
    async fn subscribers_see_changes_only() {
        let handle = PreConfirmedHandle::new();
        let mut receiver = handle.subscribe();

        handle.set(block(3, 0x2));
        receiver.changed().await.unwrap();
        assert_eq!(
            receiver
                .borrow_and_update()
                .as_ref()
                .map(|block| block.number),
            Some(BlockNumber(3))
        );

        handle.set(block(3, 0x2));
        assert!(!receiver.has_changed().unwrap(), "same block notified");

        let mut grown = block(3, 0x2);
        grown.transactions.push(transaction(0x13));
        grown.receipts.push(receipt(0x13));
        handle.set(grown);
        assert!(receiver.has_changed().unwrap());
        receiver.borrow_and_update();

        handle.clear();
        assert!(receiver.has_changed().unwrap());
        assert!(receiver.borrow_and_update().is_none());
        handle.clear();
        assert!(
            !receiver.has_changed().unwrap(),
            "clearing nothing notified"
        );
    }

    #[test]
    fn transactions_found_by_hash() {
        let block = block(1, 0x1);
        let found = block.transaction(TransactionHash(felt(0x11))).unwrap();
        assert_eq!(found.index, 1);
        assert_eq!(found.receipt.transaction_hash, TransactionHash(felt(0x11)));
        assert!(block.transaction(TransactionHash(felt(0x12))).is_none());
        assert!(block
            .candidate_transaction(TransactionHash(felt(0x12)))
            .is_some());
        assert!(block
            .candidate_transaction(TransactionHash(felt(0x10)))
            .is_none());
    }

    #[test]
    fn later_writes_override_earlier() {
        let mut first = storage_write(0xc0, 1, 10);
        first.nonces.push(NonceUpdate {
            contract_address: address(0xa1),
            nonce: felt(1),
        });
        first.deployed_contracts.push(DeployedContract {
            address: address(0xc0),
            class_hash: ClassHash(felt(0xaa)),
        });
        let mut second = storage_write(0xc0, 1, 11);
        second.storage_diffs[0].entries.push(StorageEntry {
            key: StorageKey(felt(2)),
            value: felt(20),
        });
        second.nonces.push(NonceUpdate {
            contract_address: address(0xa1),
            nonce: felt(2),
        });
        let third = storage_write(0xc1, 1, 30);

        let merged = merge_state_diffs([first, second, third]);

        assert_eq!(merged.storage_diffs.len(), 2);
        assert_eq!(merged.storage_diffs[0].address, address(0xc0));
        assert_eq!(
            merged.storage_diffs[0].entries,
            vec![
                StorageEntry {
                    key: StorageKey(felt(1)),
                    value: felt(11)
                },
                StorageEntry {
                    key: StorageKey(felt(2)),
                    value: felt(20)
                },
            ]
        );
        assert_eq!(merged.storage_diffs[1].address, address(0xc1));
        assert_eq!(
            merged.nonces,
            vec![NonceUpdate {
                contract_address: address(0xa1),
                nonce: felt(2)
            }]
        );
        assert_eq!(merged.deployed_contracts.len(), 1);
    }

    #[test]
    fn declarations_listed_once() {
        let declare = |class: u64| StateDiff {
            declared_classes: vec![DeclaredClass {
                class_hash: ClassHash(felt(class)),
                compiled_class_hash: CompiledClassHash(felt(class + 1)),
            }],
            deprecated_declared_classes: vec![ClassHash(felt(0xd0))],
            ..StateDiff::default()
        };
        let merged = merge_state_diffs([declare(0xe0), declare(0xe0), declare(0xf0)]);
        assert_eq!(merged.declared_classes.len(), 2);
        assert_eq!(
            merged.deprecated_declared_classes,
            vec![ClassHash(felt(0xd0))]
        );
    }

    #[test]
    fn lookups_read_the_merged_diff() {
        let mut block = block(1, 0x1);
        let mut diff = storage_write(0xc0, 7, 70);
        diff.nonces.push(NonceUpdate {
            contract_address: address(0xa1),
            nonce: felt(9),
        });
        diff.deployed_contracts.push(DeployedContract {
            address: address(0xc2),
            class_hash: ClassHash(felt(0xaa)),
        });
        diff.replaced_classes.push(DeployedContract {
            address: address(0xc0),
            class_hash: ClassHash(felt(0xbb)),
        });
        block.state_diff = diff;

        assert_eq!(
            block.storage_value(address(0xc0), StorageKey(felt(7))),
            Some(felt(70))
        );
        assert_eq!(
            block.storage_value(address(0xc0), StorageKey(felt(8))),
            None
        );
        assert_eq!(block.nonce(address(0xa1)), Some(felt(9)));
        assert_eq!(block.nonce(address(0xc0)), None);
        assert_eq!(block.class_hash(address(0xc2)), Some(ClassHash(felt(0xaa))));
        assert_eq!(block.class_hash(address(0xc0)), Some(ClassHash(felt(0xbb))));
        assert_eq!(block.class_hash(address(0xc3)), None);
    }
}
