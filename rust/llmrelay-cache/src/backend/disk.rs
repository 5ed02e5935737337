//! The disk store: one redb file (an embedded, crash-safe B-tree store) under
//! `disk_cache_dir`; it survives restarts. Each value is its expiry (unix ms, 0 for none)
//! followed by the entry's JSON. Calls into redb run on tokio's blocking pool.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use redb::{Database, ReadableDatabase, TableDefinition};

use crate::CacheError;
use crate::entry::Entry;

const TABLE: TableDefinition<&str, &[u8]> = TableDefinition::new("responses");

/// The file inside `disk_cache_dir`.
pub const FILE_NAME: &str = "llmrelay-cache.redb";

fn failed(error: impl std::fmt::Display) -> CacheError {
    CacheError::Backend(format!("disk cache: {error}"))
}

fn now_ms() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(now.as_millis()).unwrap_or(u64::MAX)
}

/// Answers kept in a file.
pub struct DiskStore {
    db: Arc<Database>,
    path: PathBuf,
}

impl DiskStore {
    /// Open (or create) the store in `dir`.
    ///
    /// # Errors
    /// The directory or the file cannot be created or opened (another process holds it).
    pub fn open(dir: &Path) -> Result<Self, CacheError> {
        // One process holds a redb file once: caches on the same directory share it.
        static OPEN: std::sync::Mutex<Vec<(PathBuf, std::sync::Weak<Database>)>> =
            std::sync::Mutex::new(Vec::new());
        std::fs::create_dir_all(dir).map_err(failed)?;
        let path = dir.join(FILE_NAME);
        let canonical = std::fs::canonicalize(dir).map_err(failed)?.join(FILE_NAME);
        let mut open = OPEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        open.retain(|(_, db)| db.strong_count() > 0);
        if let Some(db) = open
            .iter()
            .find(|(p, _)| *p == canonical)
            .and_then(|(_, db)| db.upgrade())
        {
            return Ok(Self { db, path });
        }
        let db = Database::create(&path).map_err(failed)?;
        let write = db.begin_write().map_err(failed)?;
        write.open_table(TABLE).map_err(failed)?;
        write.commit().map_err(failed)?;
        let db = Arc::new(db);
        open.push((canonical, Arc::downgrade(&db)));
        Ok(Self { db, path })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, CacheError> + Send + 'static,
    ) -> Result<T, CacheError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(failed)?
    }

    /// The live entry under `key`.
    ///
    /// # Errors
    /// A read that failed, or a stored value that does not decode.
    pub async fn get(&self, key: &str) -> Result<Option<Entry>, CacheError> {
        let key = key.to_owned();
        self.blocking(move |db| {
            let read = db.begin_read().map_err(failed)?;
            let table = read.open_table(TABLE).map_err(failed)?;
            let Some(value) = table.get(key.as_str()).map_err(failed)? else {
                return Ok(None);
            };
            let bytes = value.value();
            let Some((expiry, json)) = bytes.split_first_chunk::<8>() else {
                return Err(failed("a stored value is truncated"));
            };
            let expires = u64::from_le_bytes(*expiry);
            if expires != 0 && expires <= now_ms() {
                return Ok(None);
            }
            serde_json::from_slice(json).map(Some).map_err(failed)
        })
        .await
    }

    /// Store a batch in one transaction: `(key, entry JSON, ttl)`.
    ///
    /// # Errors
    /// The write failed (nothing of the batch is stored).
    pub async fn set_many(
        &self,
        items: Vec<(String, Vec<u8>, Option<Duration>)>,
    ) -> Result<(), CacheError> {
        self.blocking(move |db| {
            let write = db.begin_write().map_err(failed)?;
            {
                let mut table = write.open_table(TABLE).map_err(failed)?;
                let now = now_ms();
                for (key, json, ttl) in &items {
                    let expires = ttl.map_or(0, |ttl| {
                        now.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
                    });
                    let mut value = Vec::with_capacity(8 + json.len());
                    value.extend_from_slice(&expires.to_le_bytes());
                    value.extend_from_slice(json);
                    table
                        .insert(key.as_str(), value.as_slice())
                        .map_err(failed)?;
                }
            }
            write.commit().map_err(failed)
        })
        .await
    }

    /// Remove `keys`; how many were there.
    ///
    /// # Errors
    /// The write failed.
    pub async fn delete(&self, keys: Vec<String>) -> Result<usize, CacheError> {
        self.blocking(move |db| {
            let write = db.begin_write().map_err(failed)?;
            let mut removed = 0;
            {
                let mut table = write.open_table(TABLE).map_err(failed)?;
                for key in &keys {
                    if table.remove(key.as_str()).map_err(failed)?.is_some() {
                        removed += 1;
                    }
                }
            }
            write.commit().map_err(failed)?;
            Ok(removed)
        })
        .await
    }

    /// Remove everything.
    ///
    /// # Errors
    /// The write failed.
    pub async fn clear(&self) -> Result<(), CacheError> {
        self.blocking(move |db| {
            let write = db.begin_write().map_err(failed)?;
            write.delete_table(TABLE).map_err(failed)?;
            write.open_table(TABLE).map_err(failed)?;
            write.commit().map_err(failed)
        })
        .await
    }
}
