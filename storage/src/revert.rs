//! Reverting the head block: one `WriteBatch` that deletes everything the block's commit
//! wrote and moves the head pointer to its parent.
//!
//! Trie nodes stay, because they are content-addressed and the parent's roots (kept in
//! `state_roots`) still point into them.

use rocksdb::{WriteBatch, WriteOptions};

use crate::block::BlockHeader;
use crate::db::Storage;
use crate::error::{StorageError, StorageResult};
use crate::events::ChainEvent;
use crate::schema::{self, MetaKey};
use crate::state::StateDiff;
use crate::types::{BlockHash, BlockNumber};
use crate::writer::BlockWriter;

/// A block removed from the stored chain.
#[derive(Clone, Debug)]
pub struct RevertedBlock {
    pub number: BlockNumber,
    /// The removed block's header; `None` only when a repair at open removed a head
    /// whose header was missing.
    pub header: Option<BlockHeader>,
    /// The head after the revert; `None` when block 0 was reverted.
    pub new_head: Option<(BlockNumber, BlockHash)>,
}

impl BlockWriter {
    /// Removes the head block in one durable batch, makes its parent the head, then
    /// publishes [`ChainEvent::Reverted`] for it.
    pub fn revert_head(&mut self) -> StorageResult<RevertedBlock> {
        let storage = self.storage.clone();
        let whole_reorg = storage.inner.orphans.lock_for_revert();
        let reverted = self.revert_head_silently()?;
        drop(whole_reorg);
        self.publish_reverted(reverted.number, reverted.number);
        Ok(reverted)
    }

    /// Reverts block by block until `target` is the head, each block in its own batch,
    /// and publishes one [`ChainEvent::Reverted`] for the removed range. Reverting more
    /// than `max_depth` blocks is rejected before anything is written. If a batch fails,
    /// the event names the blocks already removed and the error is returned.
    pub fn revert_to(
        &mut self,
        target: BlockNumber,
        max_depth: u64,
    ) -> StorageResult<Vec<RevertedBlock>> {
        let Some((head, _)) = self.head else {
            return Err(StorageError::RevertTargetAboveHead { target, head: None });
        };
        if target > head {
            return Err(StorageError::RevertTargetAboveHead {
                target,
                head: Some(head),
            });
        }
        let depth = head.get() - target.get();
        if depth > max_depth {
            return Err(StorageError::RevertTooDeep {
                head,
                target,
                max_depth,
            });
        }

        let storage = self.storage.clone();
        let whole_reorg = storage.inner.orphans.lock_for_revert();
        let mut reverted = Vec::new();
        while self.head.is_some_and(|(number, _)| number > target) {
            match self.revert_head_silently() {
                Ok(block) => reverted.push(block),
                Err(error) => {
                    drop(whole_reorg);
                    if let Some(lowest) = reverted.last() {
                        self.publish_reverted(lowest.number, head);
                    }
                    return Err(error);
                }
            }
        }
        drop(whole_reorg);
        if let Some(lowest) = reverted.last() {
            self.publish_reverted(lowest.number, head);
        }
        Ok(reverted)
    }

    fn revert_head_silently(&mut self) -> StorageResult<RevertedBlock> {
        let (number, _) = self.head.ok_or(StorageError::EmptyChain)?;
        let reverted = self.storage.revert_block(number)?;
        self.head = reverted.new_head;
        Ok(reverted)
    }

    fn publish_reverted(&self, first: BlockNumber, last: BlockNumber) {
        // Having no receivers is normal before the first subscription.
        let _ = self
            .storage
            .inner
            .events
            .send(ChainEvent::Reverted { first, last });
    }
}

impl Storage {
    /// Deletes block `number`, which must be the head, in one synced batch. It reads
    /// what to delete from the block itself, so it also removes a block whose header or
    /// state diff is missing.
    pub(crate) fn revert_block(&self, number: BlockNumber) -> StorageResult<RevertedBlock> {
        let header = self.header(number)?;
        let state_diff = self.state_diff(number)?;
        let transactions = self.transactions(number)?;

        let mut batch = WriteBatch::default();
        let block_key = schema::block_key(number);
        let next_block_key = &schema::block_key(number.next())[..];

        if let Some(header) = &header {
            // A damaged header can name another block's hash; that index entry stays.
            if self.block_number_by_hash(header.hash)? == Some(number) {
                batch.delete_cf(self.cf(schema::BLOCK_HASHES), header.hash.to_bytes_be());
            }
        }
        batch.delete_cf(self.cf(schema::HEADERS), block_key);

        for transaction in &transactions {
            batch.delete_cf(
                self.cf(schema::TRANSACTION_HASHES),
                transaction.hash.to_bytes_be(),
            );
        }
        // Ranges rather than one key per index, so that receipts without a transaction
        // are removed too.
        let first_transaction = &schema::transaction_key(number, 0)[..];
        batch.delete_range_cf(
            self.cf(schema::TRANSACTIONS),
            first_transaction,
            next_block_key,
        );
        batch.delete_range_cf(self.cf(schema::RECEIPTS), first_transaction, next_block_key);

        batch.delete_cf(self.cf(schema::EVENT_FILTERS), block_key);
        batch.delete_cf(self.cf(schema::STATE_ROOTS), block_key);
        batch.delete_cf(self.cf(schema::STATE_DIFFS), block_key);
        if let Some(diff) = &state_diff {
            self.delete_state_diff_entries(&mut batch, number, diff)?;
        }

        let new_head = match number.parent() {
            Some(parent) => {
                // The parent's own header is the authority on its hash; the reverted
                // header's parent hash is used only when the parent's header is missing.
                let parent_hash = match (self.header(parent)?, &header) {
                    (Some(parent_header), _) => parent_header.hash,
                    (None, Some(header)) => header.parent_hash,
                    (None, None) => {
                        return Err(StorageError::Corrupt(format!(
                            "cannot revert block {number}: neither it nor its parent {parent} has a header"
                        )))
                    }
                };
                let mut head = Vec::with_capacity(40);
                head.extend_from_slice(&schema::block_key(parent));
                head.extend_from_slice(&parent_hash.to_bytes_be());
                batch.put_cf(self.cf(schema::META), MetaKey::Head.as_bytes(), head);
                Some((parent, parent_hash))
            }
            None => {
                batch.delete_cf(self.cf(schema::META), MetaKey::Head.as_bytes());
                None
            }
        };

        let mut options = WriteOptions::default();
        // As for commits: the revert is durable before anyone hears of it.
        options.set_sync(true);
        self.inner.db.write_opt(batch, &options)?;
        if let Some(header) = &header {
            self.inner
                .orphans
                .record(number, header.hash, header.parent_hash);
        }

        Ok(RevertedBlock {
            number,
            header,
            new_head,
        })
    }

    /// Deletes the history entries, contract storage roots and classes that the block's
    /// state diff caused the writer to store.
    fn delete_state_diff_entries(
        &self,
        batch: &mut WriteBatch,
        number: BlockNumber,
        diff: &StateDiff,
    ) -> StorageResult<()> {
        for contract in &diff.storage_diffs {
            for entry in &contract.entries {
                batch.delete_cf(
                    self.cf(schema::STORAGE_HISTORY),
                    schema::storage_history_key(contract.address, entry.key, number),
                );
            }
            // The writer stores a new storage root for every contract whose storage
            // changed; deleting a key that was never written is harmless.
            batch.delete_cf(
                self.cf(schema::CONTRACT_STORAGE_ROOTS),
                schema::contract_history_key(contract.address, number),
            );
        }
        for update in &diff.nonces {
            batch.delete_cf(
                self.cf(schema::NONCE_HISTORY),
                schema::contract_history_key(update.contract_address, number),
            );
        }
        for contract in diff.deployed_contracts.iter().chain(&diff.replaced_classes) {
            batch.delete_cf(
                self.cf(schema::CONTRACT_CLASS_HISTORY),
                schema::contract_history_key(contract.address, number),
            );
        }

        // A class is stored once, by the first block that introduces it; only that
        // block's revert removes it.
        for class_hash in diff.introduced_class_hashes() {
            let declared_here = self
                .class_info(class_hash)?
                .is_some_and(|info| info.declared_at == number);
            if declared_here {
                let key = class_hash.to_bytes_be();
                batch.delete_cf(self.cf(schema::CLASSES), key);
                batch.delete_cf(self.cf(schema::CLASS_DEFINITIONS), key);
                batch.delete_cf(self.cf(schema::COMPILED_CLASSES), key);
            }
        }
        Ok(())
    }
}
