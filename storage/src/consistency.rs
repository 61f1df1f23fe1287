//! The check at open that the head block was stored whole, and the repair when it was
//! not.
//!
//! Each block is one atomic batch, so the check fails only for a database that
//! something other than the writer changed. It reads only the head and the few blocks
//! below it, to keep the open fast.

use crate::db::Storage;
use crate::error::{StorageError, StorageResult};
use crate::types::{BlockHash, BlockNumber};

/// Blocks checked at open, counting the head.
const CHECKED_BLOCKS: u64 = 4;

impl Storage {
    /// Checks the newest [`CHECKED_BLOCKS`] blocks and reverts down to the block below
    /// the lowest inconsistent one, logging each repair.
    pub(crate) fn repair_inconsistent_head(&self) -> StorageResult<()> {
        let Some((head, head_hash)) = self.head()? else {
            return Ok(());
        };
        let lowest_checked = head.get().saturating_sub(CHECKED_BLOCKS - 1);

        let mut lowest_bad: Option<(BlockNumber, String)> = None;
        let mut expected_hash = Some(head_hash);
        for number in (lowest_checked..=head.get()).rev() {
            let number = BlockNumber(number);
            match self.check_block(number, expected_hash)? {
                Ok(parent_hash) => expected_hash = Some(parent_hash),
                Err(problem) => {
                    lowest_bad = Some((number, problem));
                    expected_hash = None;
                }
            }
        }
        let Some((lowest_bad, problem)) = lowest_bad else {
            return Ok(());
        };

        tracing::warn!(
            target: "storage",
            head = %head,
            block_number = %lowest_bad,
            problem,
            "stored chain is inconsistent; reverting to the block below"
        );
        // NOTE: only the newest `CHECKED_BLOCKS` blocks are checked, so a damaged block
        // further down stays until `starling db verify` finds it.
        for number in (lowest_bad.get()..=head.get()).rev() {
            let reverted = self.revert_block(BlockNumber(number))?;
            tracing::warn!(
                target: "storage",
                block_number = %reverted.number,
                new_head = ?reverted.new_head.map(|(number, hash)| format!("{number} {hash}")),
                "reverted inconsistent block"
            );
        }
        Ok(())
    }

    /// Returns the block's parent hash if it is stored whole, or what is wrong with it.
    /// `expected_hash` is the hash the head pointer or the child block names.
    fn check_block(
        &self,
        number: BlockNumber,
        expected_hash: Option<BlockHash>,
    ) -> StorageResult<Result<BlockHash, String>> {
        let header = match self.header(number) {
            Ok(Some(header)) => header,
            Ok(None) => return Ok(Err("header is missing".into())),
            Err(StorageError::Corrupt(reason)) => return Ok(Err(reason)),
            Err(error) => return Err(error),
        };
        if header.number != number {
            return Ok(Err(format!("header has block number {}", header.number)));
        }
        if let Some(expected) = expected_hash.filter(|expected| *expected != header.hash) {
            return Ok(Err(format!(
                "header hash is {}, the next block or the head pointer names {expected}",
                header.hash
            )));
        }

        let transactions = match self.transactions(number) {
            Ok(transactions) => transactions.len() as u64,
            Err(StorageError::Corrupt(reason)) => return Ok(Err(reason)),
            Err(error) => return Err(error),
        };
        let receipts = match self.receipts(number) {
            Ok(receipts) => receipts.len() as u64,
            Err(StorageError::Corrupt(reason)) => return Ok(Err(reason)),
            Err(error) => return Err(error),
        };
        if transactions != header.transaction_count || receipts != header.transaction_count {
            return Ok(Err(format!(
                "header counts {} transactions, stored are {transactions} transactions and {receipts} receipts",
                header.transaction_count
            )));
        }

        let roots = match self.state_roots(number) {
            Ok(Some(roots)) => roots,
            Ok(None) => return Ok(Err("state roots are missing".into())),
            Err(StorageError::Corrupt(reason)) => return Ok(Err(reason)),
            Err(error) => return Err(error),
        };
        if roots.global_root() != header.state_root {
            return Ok(Err(format!(
                "stored state roots give state root {:#x}, the header has {:#x}",
                roots.global_root(),
                header.state_root
            )));
        }
        Ok(Ok(header.parent_hash))
    }
}
