//! Where answers are kept: memory, a disk file, Redis, memory in front of Redis, an S3
//! bucket, or a semantic store.

pub mod compress;
pub mod disk;
pub mod dual;
pub mod memory;
pub mod redis;
pub mod s3;

use std::sync::Arc;
use std::time::Duration;

use crate::CacheError;
use crate::config::{CacheParams, CacheType};
use crate::entry::Entry;

/// A cache's store (one per cache, behind an `Arc`: its size does not matter).
#[allow(clippy::large_enum_variant)]
pub enum Store {
    Memory(memory::MemoryStore),
    Disk(disk::DiskStore),
    Redis(redis::RedisStore),
    Dual(dual::DualStore),
    S3(s3::S3Store),
    Semantic(crate::semantic::SemanticStore),
}

impl Store {
    /// The store `params` name.
    ///
    /// # Errors
    /// The disk file cannot be opened; the Redis settings do not parse.
    pub fn open(params: &CacheParams) -> Result<Self, CacheError> {
        Ok(match params.kind {
            CacheType::Local => Self::Memory(memory::MemoryStore::new(
                params.max_entries,
                params.max_bytes,
            )),
            CacheType::Disk => Self::Disk(disk::DiskStore::open(&params.disk_cache_dir)?),
            CacheType::Redis => Self::Redis(redis::RedisStore::new(&params.redis_target())?),
            CacheType::Dual => Self::Dual(dual::DualStore::new(
                memory::MemoryStore::new(params.max_entries, params.max_bytes),
                redis::RedisStore::new(&params.redis_target())?,
                params
                    .memory_ttl
                    .and_then(|s| Duration::try_from_secs_f64(s).ok()),
            )),
            CacheType::S3 => match &params.s3 {
                Some(settings) => Self::S3(s3::S3Store::new(settings)),
                None => {
                    return Err(CacheError::Config(
                        "cache_params.s3_bucket_name: an s3 cache needs a bucket name".to_owned(),
                    ));
                }
            },
            CacheType::LocalSemantic => Self::Semantic(crate::semantic::SemanticStore::open(
                &crate::semantic::model_dir(params.local_semantic_model_dir.as_deref())?,
                params.similarity_threshold,
                params.max_entries,
            )?),
            CacheType::RedisSemantic => Self::Semantic(crate::semantic::SemanticStore::open_redis(
                &params.redis_target(),
                &params.index_name,
                &params.embedding_model,
                params.embedding_params.clone(),
                params.similarity_threshold,
                params.max_entries,
            )?),
            CacheType::QdrantSemantic => {
                Self::Semantic(crate::semantic::SemanticStore::open_qdrant(
                    &params.qdrant,
                    &params.embedding_model,
                    params.embedding_params.clone(),
                    params.similarity_threshold,
                ))
            }
        })
    }

    pub async fn get(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        match self {
            Self::Memory(memory) => Ok(memory.get(key)),
            Self::Disk(disk) => Ok(disk.get(key).await?.map(Arc::new)),
            Self::Redis(redis) => Ok(redis.get(key).await?.map(Arc::new)),
            Self::Dual(dual) => dual.get(key).await,
            Self::S3(s3) => Ok(s3.get(key).await?.map(Arc::new)),
            Self::Semantic(semantic) => semantic.get_exact(key).await,
        }
    }

    pub async fn set_many(
        &self,
        items: Vec<(String, Vec<u8>, Option<Duration>)>,
    ) -> Result<(), CacheError> {
        match self {
            Self::Memory(memory) => {
                for (key, json, ttl) in items {
                    let entry: Entry = serde_json::from_slice(&json)
                        .map_err(|e| CacheError::Backend(e.to_string()))?;
                    memory.set(key, Arc::new(entry), json.len() as u64, ttl);
                }
                Ok(())
            }
            Self::Disk(disk) => disk.set_many(items).await,
            // A dual store's memory took the answer when it was put.
            Self::Redis(redis) => redis.set_many(&items).await,
            Self::Dual(dual) => dual.redis().set_many(&items).await,
            Self::S3(s3) => s3.set_many(&items).await,
            // Answers reach a semantic store with their vectors (`Cache::put_semantic`).
            Self::Semantic(_) => Ok(()),
        }
    }

    pub async fn delete(&self, keys: &[String]) -> Result<usize, CacheError> {
        match self {
            Self::Memory(memory) => Ok(keys.iter().filter(|k| memory.delete(k)).count()),
            Self::Disk(disk) => disk.delete(keys.to_vec()).await,
            Self::Redis(redis) => redis.delete(keys).await,
            Self::Dual(dual) => dual.delete(keys).await,
            Self::S3(s3) => s3.delete(keys).await,
            Self::Semantic(semantic) => semantic.delete(keys).await,
        }
    }

    pub async fn clear(&self) -> Result<(), CacheError> {
        match self {
            Self::Memory(memory) => {
                memory.clear();
                Ok(())
            }
            Self::Disk(disk) => disk.clear().await,
            Self::Redis(redis) => redis.clear().await.map(|_| ()),
            Self::Dual(dual) => dual.clear().await,
            Self::S3(s3) => s3.clear().await.map(|_| ()),
            Self::Semantic(semantic) => semantic.clear().await,
        }
    }

    pub async fn ping(&self) -> Result<(), CacheError> {
        match self {
            Self::Memory(_) | Self::Disk(_) => Ok(()),
            Self::Redis(redis) => redis.ping().await,
            Self::Dual(dual) => dual.redis().ping().await,
            Self::S3(s3) => s3.ping().await,
            Self::Semantic(semantic) => semantic.ping().await,
        }
    }
}
