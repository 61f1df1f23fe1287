//! The single writer: commits a whole block in one RocksDB `WriteBatch`.

use std::sync::Arc;

use rocksdb::{WriteBatch, WriteOptions};

use crate::block::BlockHeader;
use crate::class::{ClassDefinition, ClassKind};
use crate::codec::{compress, encode};
use crate::commitment::StateCommitmentUpdate;
use crate::db::Storage;
use crate::error::{StorageError, StorageResult};
use crate::event_filter::put_event_filter;
use crate::events::ChainEvent;
use crate::receipt::Receipt;
use crate::schema::{self, MetaKey, StoredClassInfo};
use crate::state::StateDiff;
use crate::transaction::Transaction;
use crate::types::{BlockHash, BlockNumber};

/// Everything the node stores for one block.
#[derive(Clone, Debug)]
pub struct BlockCommit {
    pub header: BlockHeader,
    pub transactions: Vec<Transaction>,
    pub receipts: Vec<Receipt>,
    pub state_diff: StateDiff,
    /// Classes that the block introduces and that are not stored yet.
    pub new_classes: Vec<ClassDefinition>,
    /// The tries after the block, from
    /// [`Storage::compute_state_commitment`](crate::Storage::compute_state_commitment)
    /// against the current head.
    pub state_commitment: StateCommitmentUpdate,
}

/// The node's only writer. It owns the head, so two writers can never race.
#[derive(Debug)]
pub struct BlockWriter {
    pub(crate) storage: Storage,
    pub(crate) head: Option<(BlockNumber, BlockHash)>,
}

impl BlockWriter {
    pub(crate) fn new(storage: Storage) -> StorageResult<Self> {
        let head = storage.head()?;
        Ok(Self { storage, head })
    }

    pub fn head(&self) -> Option<(BlockNumber, BlockHash)> {
        self.head
    }

    pub fn next_block_number(&self) -> BlockNumber {
        self.head
            .map(|(number, _)| number.next())
            .unwrap_or(BlockNumber::GENESIS)
    }

    /// Writes the block atomically and durably, makes it the head, then publishes a
    /// [`ChainEvent::Committed`]. The block must be the next one and link to the head.
    pub fn commit(&mut self, block: BlockCommit) -> StorageResult<Arc<BlockHeader>> {
        self.check_links(&block)?;

        let batch = self.build_batch(&block)?;
        let mut options = WriteOptions::default();
        // fsync the WAL before returning, so that a commit event is never sent for a
        // block that a power loss could take back.
        options.set_sync(true);
        self.storage.inner.db.write_opt(batch, &options)?;

        let header = Arc::new(block.header);
        self.head = Some((header.number, header.hash));
        // No receiver is normal: no client has subscribed yet.
        let _ = self
            .storage
            .inner
            .events
            .send(ChainEvent::Committed(header.clone()));
        Ok(header)
    }

    fn check_links(&self, block: &BlockCommit) -> StorageResult<()> {
        let header = &block.header;
        let expected = self.next_block_number();
        if header.number != expected {
            return Err(StorageError::NotNextBlock {
                expected,
                got: header.number,
            });
        }

        let head_hash = self.head.map(|(_, hash)| hash).unwrap_or(BlockHash::ZERO);
        if header.parent_hash != head_hash {
            return Err(StorageError::ParentMismatch {
                number: header.number,
                parent_hash: header.parent_hash,
                head_hash,
            });
        }

        let head_number = self.head.map(|(number, _)| number);
        if block.state_commitment.parent != head_number {
            return Err(StorageError::StaleCommitment {
                number: header.number,
                computed_on: block.state_commitment.parent,
            });
        }

        if block.transactions.len() != block.receipts.len() {
            return Err(StorageError::ReceiptCountMismatch {
                number: header.number,
                transactions: block.transactions.len(),
                receipts: block.receipts.len(),
            });
        }
        Ok(())
    }

    fn build_batch(&self, block: &BlockCommit) -> StorageResult<WriteBatch> {
        let storage = &self.storage;
        let header = &block.header;
        let number = header.number;
        let block_key = schema::block_key(number);
        let mut batch = WriteBatch::default();

        batch.put_cf(storage.cf(schema::HEADERS), block_key, encode(header));
        batch.put_cf(
            storage.cf(schema::BLOCK_HASHES),
            header.hash.to_bytes_be(),
            block_key,
        );

        for (index, (transaction, receipt)) in
            block.transactions.iter().zip(&block.receipts).enumerate()
        {
            let index = u32::try_from(index)
                .map_err(|_| StorageError::Corrupt("more than 2^32 transactions".into()))?;
            let key = schema::transaction_key(number, index);
            batch.put_cf(storage.cf(schema::TRANSACTIONS), key, encode(transaction));
            batch.put_cf(storage.cf(schema::RECEIPTS), key, encode(receipt));
            batch.put_cf(
                storage.cf(schema::TRANSACTION_HASHES),
                transaction.hash.to_bytes_be(),
                key,
            );
        }

        put_event_filter(storage, &mut batch, number, &block.receipts);
        put_state_diff(storage, &mut batch, number, &block.state_diff);
        put_state_commitment(storage, &mut batch, number, &block.state_commitment);
        for class in &block.new_classes {
            put_class(storage, &mut batch, class)?;
        }

        let mut head = Vec::with_capacity(40);
        head.extend_from_slice(&block_key);
        head.extend_from_slice(&header.hash.to_bytes_be());
        batch.put_cf(storage.cf(schema::META), MetaKey::Head.as_bytes(), head);
        Ok(batch)
    }
}

fn put_state_diff(
    storage: &Storage,
    batch: &mut WriteBatch,
    number: BlockNumber,
    diff: &StateDiff,
) {
    batch.put_cf(
        storage.cf(schema::STATE_DIFFS),
        schema::block_key(number),
        encode(diff),
    );

    for contract in &diff.storage_diffs {
        for entry in &contract.entries {
            let key = schema::storage_history_key(contract.address, entry.key, number);
            batch.put_cf(
                storage.cf(schema::STORAGE_HISTORY),
                key,
                entry.value.to_bytes_be(),
            );
        }
    }

    for update in &diff.nonces {
        let key = schema::contract_history_key(update.contract_address, number);
        batch.put_cf(
            storage.cf(schema::NONCE_HISTORY),
            key,
            update.nonce.to_bytes_be(),
        );
    }

    // A replacement in the same block as a deployment wins, so replaced classes are
    // written after deployed ones.
    for contract in diff.deployed_contracts.iter().chain(&diff.replaced_classes) {
        let key = schema::contract_history_key(contract.address, number);
        batch.put_cf(
            storage.cf(schema::CONTRACT_CLASS_HISTORY),
            key,
            contract.class_hash.to_bytes_be(),
        );
    }
}

fn put_state_commitment(
    storage: &Storage,
    batch: &mut WriteBatch,
    number: BlockNumber,
    commitment: &StateCommitmentUpdate,
) {
    batch.put_cf(
        storage.cf(schema::STATE_ROOTS),
        schema::block_key(number),
        commitment.roots.encode(),
    );
    for (address, root) in &commitment.storage_roots {
        batch.put_cf(
            storage.cf(schema::CONTRACT_STORAGE_ROOTS),
            schema::contract_history_key(*address, number),
            root.to_bytes_be(),
        );
    }
    for (hash, node) in &commitment.pedersen_nodes {
        batch.put_cf(
            storage.cf(schema::PEDERSEN_TRIE_NODES),
            hash.to_bytes_be(),
            node.encode(),
        );
    }
    for (hash, node) in &commitment.poseidon_nodes {
        batch.put_cf(
            storage.cf(schema::POSEIDON_TRIE_NODES),
            hash.to_bytes_be(),
            node.encode(),
        );
    }
}

fn put_class(
    storage: &Storage,
    batch: &mut WriteBatch,
    class: &ClassDefinition,
) -> StorageResult<()> {
    let key = class.hash.to_bytes_be();
    let info = StoredClassInfo {
        kind: class.kind,
        declared_at: class.declared_at,
    };
    batch.put_cf(storage.cf(schema::CLASSES), key, encode(&info));
    batch.put_cf(
        storage.cf(schema::CLASS_DEFINITIONS),
        key,
        compress(&class.definition)?,
    );
    if let (ClassKind::Sierra { .. }, Some(compiled)) = (class.kind, &class.compiled) {
        batch.put_cf(
            storage.cf(schema::COMPILED_CLASSES),
            key,
            compress(compiled)?,
        );
    }
    Ok(())
}
