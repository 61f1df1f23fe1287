//! Opening the database and the shared [`Storage`] handle.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rocksdb::{BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBCompressionType, Options, DB};
use tokio::sync::broadcast;

use crate::codec::felt_from_bytes;
use crate::error::{StorageError, StorageResult};
use crate::events::ChainEvent;
use crate::orphans::Orphans;
use crate::schema::{self, MetaKey};
use crate::types::ChainId;
use crate::writer::BlockWriter;

/// Capacity of the commit-event channel. A subscriber that falls further behind than
/// this gets `Lagged` and catches up from storage, so the value bounds memory, not
/// correctness.
const EVENT_CHANNEL_CAPACITY: usize = 1024;

/// Shared block cache for all column families. 256 MiB keeps the hot headers, indexes
/// and recent history in memory on a small machine; RocksDB's default is 32 MiB.
const BLOCK_CACHE_BYTES: usize = 256 << 20;

/// Chain a database belongs to, fixed when it is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainInfo {
    pub network: String,
    pub chain_id: ChainId,
}

/// Cheap-to-clone handle to the node's database; reads go through it directly and the
/// single [`BlockWriter`] is taken from it once.
#[derive(Clone, Debug)]
pub struct Storage {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: DB,
    pub(crate) path: PathBuf,
    pub(crate) chain: ChainInfo,
    pub(crate) events: broadcast::Sender<ChainEvent>,
    pub(crate) orphans: Orphans,
    writer_taken: AtomicBool,
    read_only: bool,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("path", &self.path)
            .field("chain", &self.chain)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl Storage {
    /// Opens or creates the node's database for `chain`. An existing database of another
    /// chain or schema version is rejected.
    pub fn open(path: &Path, chain: ChainInfo) -> StorageResult<Self> {
        std::fs::create_dir_all(path)?;
        let db = DB::open_cf_descriptors(&db_options(true), path, column_descriptors())
            .map_err(|error| map_open_error(error, path))?;

        let stored_chain = read_chain_info(&db, path)?;
        match stored_chain {
            Some(stored) if stored.chain_id != chain.chain_id => {
                return Err(StorageError::chain_mismatch(
                    path.to_owned(),
                    stored.chain_id,
                    chain.chain_id,
                ));
            }
            Some(_) => {}
            None => write_new_meta(&db, &chain)?,
        }

        let storage = Self::from_db(db, path, chain, false);
        storage.repair_inconsistent_head()?;
        Ok(storage)
    }

    /// Opens an existing database for writing, for the chain it was created for, and
    /// repairs an inconsistent head as [`Storage::open`] does. Fails with
    /// [`StorageError::Locked`] while a node runs on it.
    pub fn open_existing(path: &Path) -> StorageResult<Self> {
        let storage = Self::open_existing_unrepaired(path)?;
        storage.repair_inconsistent_head()?;
        Ok(storage)
    }

    /// Opens an existing database for writing without the startup repair, so that a
    /// checker such as `starling db verify` reports damage instead of having it unwound.
    pub fn open_existing_unrepaired(path: &Path) -> StorageResult<Self> {
        if !path.join("CURRENT").exists() {
            return Err(StorageError::NotFound {
                path: path.to_owned(),
            });
        }
        let db = DB::open_cf_descriptors(&db_options(false), path, column_descriptors())
            .map_err(|error| map_open_error(error, path))?;
        let chain = read_chain_info(&db, path)?.ok_or_else(|| {
            StorageError::Corrupt(format!("{} has no chain metadata", path.display()))
        })?;
        Ok(Self::from_db(db, path, chain, false))
    }

    /// Opens an existing database without taking its lock, so that it can be inspected
    /// while a node is running on it.
    pub fn open_read_only(path: &Path) -> StorageResult<Self> {
        if !path.join("CURRENT").exists() {
            return Err(StorageError::NotFound {
                path: path.to_owned(),
            });
        }
        let db = DB::open_cf_descriptors_read_only(
            &db_options(false),
            path,
            column_descriptors(),
            false,
        )
        .map_err(|error| map_open_error(error, path))?;
        let chain = read_chain_info(&db, path)?.ok_or_else(|| {
            StorageError::Corrupt(format!("{} has no chain metadata", path.display()))
        })?;
        Ok(Self::from_db(db, path, chain, true))
    }

    fn from_db(db: DB, path: &Path, chain: ChainInfo, read_only: bool) -> Self {
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        Self {
            inner: Arc::new(Inner {
                db,
                path: path.to_owned(),
                chain,
                events,
                orphans: Orphans::default(),
                writer_taken: AtomicBool::new(false),
                read_only,
            }),
        }
    }

    pub fn chain(&self) -> &ChainInfo {
        &self.inner.chain
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Takes the database's single writer. A second call fails: one writer keeps the
    /// head pointer and the commit events in order.
    pub fn writer(&self) -> StorageResult<BlockWriter> {
        if self.inner.read_only {
            return Err(StorageError::ReadOnly);
        }
        if self.inner.writer_taken.swap(true, Ordering::SeqCst) {
            return Err(StorageError::WriterTaken);
        }
        BlockWriter::new(self.clone())
    }

    /// Receives a [`ChainEvent`] for every block committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.inner.events.subscribe()
    }

    /// Total size of the files in the database directory, in bytes.
    pub fn size_on_disk(&self) -> StorageResult<u64> {
        let mut total = 0;
        for entry in std::fs::read_dir(&self.inner.path)? {
            let metadata = entry?.metadata()?;
            if metadata.is_file() {
                total += metadata.len();
            }
        }
        Ok(total)
    }

    /// Reads one raw value, so that tests can copy it elsewhere.
    #[doc(hidden)]
    pub fn test_get_raw(&self, column_family: &str, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        Ok(self.inner.db.get_cf(self.cf(column_family), key)?)
    }

    /// Writes one raw value, bypassing the writer, so that tests can damage a database.
    #[doc(hidden)]
    pub fn test_put_raw(&self, column_family: &str, key: &[u8], value: &[u8]) -> StorageResult<()> {
        self.inner.db.put_cf(self.cf(column_family), key, value)?;
        Ok(())
    }

    /// Deletes one raw value, bypassing the writer, so that tests can damage a database.
    #[doc(hidden)]
    pub fn test_delete_raw(&self, column_family: &str, key: &[u8]) -> StorageResult<()> {
        self.inner.db.delete_cf(self.cf(column_family), key)?;
        Ok(())
    }

    pub(crate) fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        // Every name in `schema::COLUMN_FAMILIES` is created at open.
        self.inner
            .db
            .cf_handle(name)
            .unwrap_or_else(|| panic!("column family {name} is declared in the schema"))
    }
}

fn db_options(create: bool) -> Options {
    let mut options = Options::default();
    options.create_if_missing(create);
    options.create_missing_column_families(create);
    // Two background threads match the smallest machines the node targets; RocksDB
    // uses them for flushes and compactions.
    options.increase_parallelism(2);
    // LZ4 is cheap enough for every level; the bottommost level, which contains most of
    // the data of a synced node, gets the denser zstd.
    options.set_compression_type(DBCompressionType::Lz4);
    options.set_bottommost_compression_type(DBCompressionType::Zstd);
    // Bounds file handles so that a large database does not exhaust the default
    // limit of 1024 descriptors together with RPC sockets.
    options.set_max_open_files(512);
    options.set_keep_log_file_num(5);
    options
}

fn column_descriptors() -> Vec<ColumnFamilyDescriptor> {
    let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
    schema::COLUMN_FAMILIES
        .iter()
        .map(|name| {
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&cache);
            // Point lookups by hash dominate; a 10-bit bloom filter rules out most misses
            // without reading a data block.
            table.set_bloom_filter(10.0, false);
            let mut options = db_options(true);
            options.set_block_based_table_factory(&table);
            ColumnFamilyDescriptor::new(*name, options)
        })
        .collect()
}

fn map_open_error(error: rocksdb::Error, path: &Path) -> StorageError {
    let message = error.to_string();
    if message.contains("lock") || message.contains("Resource temporarily unavailable") {
        StorageError::Locked {
            path: path.to_owned(),
        }
    } else {
        StorageError::Rocks(error)
    }
}

fn read_chain_info(db: &DB, path: &Path) -> StorageResult<Option<ChainInfo>> {
    let meta = db
        .cf_handle(schema::META)
        .ok_or_else(|| StorageError::Corrupt("missing meta column family".into()))?;

    let Some(version) = db.get_cf(meta, MetaKey::SchemaVersion.as_bytes())? else {
        return Ok(None);
    };
    let version: [u8; 4] = version
        .as_slice()
        .try_into()
        .map_err(|_| StorageError::Corrupt("schema version is not 4 bytes".into()))?;
    let version = u32::from_be_bytes(version);
    if version != schema::SCHEMA_VERSION {
        return Err(StorageError::SchemaMismatch {
            path: path.to_owned(),
            found: version,
            expected: schema::SCHEMA_VERSION,
        });
    }

    let chain_id = db
        .get_cf(meta, MetaKey::ChainId.as_bytes())?
        .ok_or_else(|| StorageError::Corrupt("missing chain id".into()))?;
    let network = db
        .get_cf(meta, MetaKey::Network.as_bytes())?
        .ok_or_else(|| StorageError::Corrupt("missing network name".into()))?;
    Ok(Some(ChainInfo {
        network: String::from_utf8_lossy(&network).into_owned(),
        chain_id: ChainId(felt_from_bytes(&chain_id, "chain id")?),
    }))
}

fn write_new_meta(db: &DB, chain: &ChainInfo) -> StorageResult<()> {
    let meta = db
        .cf_handle(schema::META)
        .ok_or_else(|| StorageError::Corrupt("missing meta column family".into()))?;
    let mut batch = rocksdb::WriteBatch::default();
    batch.put_cf(
        meta,
        MetaKey::SchemaVersion.as_bytes(),
        schema::SCHEMA_VERSION.to_be_bytes(),
    );
    batch.put_cf(
        meta,
        MetaKey::ChainId.as_bytes(),
        chain.chain_id.to_bytes_be(),
    );
    batch.put_cf(meta, MetaKey::Network.as_bytes(), chain.network.as_bytes());
    let mut options = rocksdb::WriteOptions::default();
    options.set_sync(true);
    db.write_opt(batch, &options)?;
    Ok(())
}
