//! The vectors of a `redis-semantic` cache, shared through Redis without any Redis module:
//! every answer stored by any instance is appended to one Redis stream (its scope, key,
//! vector, answer and expiry), and each instance keeps a copy in its in-process
//! [`VectorIndex`], read forward from the last stream id it saw before every semantic
//! lookup (one `XREAD` of what is new, usually nothing). Deletes and flushes are stream
//! entries too, so every instance applies them. The stream is trimmed to about the cache's
//! entry bound (`MAXLEN ~`); an answer's expiry travels with it and expired ones are skipped.
//!
//! Plain Redis 5+ is enough: no RediSearch, no vector type.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::Value as RedisValue;

use super::index::VectorIndex;
use crate::CacheError;
use crate::backend::redis::{Connections, RedisTarget};
use crate::entry::Entry;

/// Where the streams live: `llmrelay:semcache:<index name>`.
pub const PREFIX: &str = "llmrelay:semcache:";

/// Stream entries read by one `XREAD` …
const PAGE: usize = 1_000;
/// … and at most this many pages before a lookup goes on with what it has (a new instance
/// catches up on a long stream over several lookups).
const PAGES_PER_SYNC: usize = 20;

fn failed(error: impl std::fmt::Display) -> CacheError {
    CacheError::Backend(format!("redis-semantic: {error}"))
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A stream id (`<ms>-<seq>`), ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct StreamId(u64, u64);

impl StreamId {
    fn parse(text: &str) -> Option<Self> {
        let (ms, seq) = text.split_once('-')?;
        Some(Self(ms.parse().ok()?, seq.parse().ok()?))
    }

    fn text(self) -> String {
        format!("{}-{}", self.0, self.1)
    }
}

/// One change to the shared vectors.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Put {
        scope: String,
        key: String,
        vector: Vec<f32>,
        entry: Vec<u8>,
        /// Unix milliseconds it expires at (`None`: never).
        expires_ms: Option<u64>,
    },
    Delete {
        key: String,
    },
    Flush,
}

impl Change {
    fn fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        match self {
            Self::Put {
                scope,
                key,
                vector,
                entry,
                expires_ms,
            } => vec![
                ("op", b"put".to_vec()),
                ("scope", scope.as_bytes().to_vec()),
                ("key", key.as_bytes().to_vec()),
                ("vec", vector.iter().flat_map(|x| x.to_le_bytes()).collect()),
                ("entry", entry.clone()),
                ("exp", expires_ms.unwrap_or(0).to_string().into_bytes()),
            ],
            Self::Delete { key } => vec![("op", b"del".to_vec()), ("key", key.as_bytes().to_vec())],
            Self::Flush => vec![("op", b"flush".to_vec())],
        }
    }

    /// The change a stream entry's fields describe (`None` for one this build cannot read).
    fn from_fields(fields: &[(Vec<u8>, Vec<u8>)]) -> Option<Self> {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k.as_slice() == name.as_bytes())
                .map(|(_, v)| v.as_slice())
        };
        let text = |name: &str| field(name).and_then(|v| std::str::from_utf8(v).ok());
        match field("op")? {
            b"put" => {
                let bytes = field("vec")?;
                if bytes.len() % 4 != 0 {
                    return None;
                }
                let vector = bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                let expires_ms = text("exp")?.parse::<u64>().ok()?;
                Some(Self::Put {
                    scope: text("scope")?.to_owned(),
                    key: text("key")?.to_owned(),
                    vector,
                    entry: field("entry")?.to_vec(),
                    expires_ms: (expires_ms > 0).then_some(expires_ms),
                })
            }
            b"del" => Some(Self::Delete {
                key: text("key")?.to_owned(),
            }),
            b"flush" => Some(Self::Flush),
            _ => None,
        }
    }

    /// Apply to an instance's copy of the vectors.
    fn apply(self, index: &VectorIndex) {
        match self {
            Self::Put {
                scope,
                key,
                vector,
                entry,
                expires_ms,
            } => {
                let expires = match expires_ms {
                    None => None,
                    Some(at) => {
                        let now = unix_ms();
                        if at <= now {
                            return;
                        }
                        Instant::now().checked_add(Duration::from_millis(at - now))
                    }
                };
                let Ok(entry) = serde_json::from_slice::<Entry>(&entry) else {
                    return;
                };
                index.insert(&scope, &key, &vector, Arc::new(entry), expires);
            }
            Self::Delete { key } => {
                index.remove(&key);
            }
            Self::Flush => index.clear(),
        }
    }
}

/// The shared stream of a `redis-semantic` cache.
pub struct SharedVectors {
    connections: Connections,
    stream: String,
    max_entries: usize,
    /// The last stream id this instance applied.
    seen: Mutex<StreamId>,
}

impl std::fmt::Debug for SharedVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedVectors")
            .field("target", &self.target())
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl SharedVectors {
    /// A lazily connected stream `llmrelay:semcache:<index_name>` on the Redis at `target`
    /// (on a Cluster, one stream lives in one slot).
    ///
    /// # Errors
    /// A URL the client cannot parse.
    pub fn new(
        target: &RedisTarget,
        index_name: &str,
        max_entries: usize,
    ) -> Result<Self, CacheError> {
        Ok(Self {
            connections: Connections::open(target, Duration::from_millis(1_000)).map_err(failed)?,
            stream: format!("{PREFIX}{index_name}"),
            max_entries: max_entries.max(1),
            seen: Mutex::new(StreamId::default()),
        })
    }

    /// Where the Redis is, without passwords.
    #[must_use]
    pub fn target(&self) -> String {
        self.connections.target().describe()
    }

    #[must_use]
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// Append `change` for every instance (this one applies its own changes at once; reading
    /// them back later replaces them with themselves).
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn append(&self, change: &Change) -> Result<(), CacheError> {
        let mut command = redis::cmd("XADD");
        command
            .arg(&self.stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.max_entries)
            .arg("*");
        for (name, value) in change.fields() {
            command.arg(name).arg(value);
        }
        let id: String = self.connections.query(&command).await.map_err(failed)?;
        if *change == Change::Flush {
            // Everything before the flush is gone for every reader; the stream itself stays,
            // so its ids keep growing and no instance misses the flush.
            let mut trim = redis::cmd("XTRIM");
            trim.arg(&self.stream).arg("MINID").arg(&id);
            self.connections.query::<()>(&trim).await.map_err(failed)?;
        }
        Ok(())
    }

    /// Read what other instances appended since the last read and apply it to `index`; how
    /// many changes were applied.
    ///
    /// # Errors
    /// Redis did not answer or answered something that is not a stream.
    pub async fn sync(&self, index: &VectorIndex) -> Result<usize, CacheError> {
        // On the lookup's path: this thread's connection, as the exact store's lookups.
        let mut connection = self.connections.this_thread().await.map_err(failed)?;
        let mut applied = 0;
        for _ in 0..PAGES_PER_SYNC {
            let from = *self.seen.lock().unwrap_or_else(|e| e.into_inner());
            let reply: RedisValue = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(PAGE)
                .arg("STREAMS")
                .arg(&self.stream)
                .arg(from.text())
                .query_async(&mut connection)
                .await
                .map_err(|error| {
                    self.connections.forget_this_thread();
                    failed(error)
                })?;
            let entries = stream_entries(reply)?;
            let count = entries.len();
            let mut last = from;
            for (id, fields) in entries {
                if let Some(change) = Change::from_fields(&fields) {
                    change.apply(index);
                    applied += 1;
                }
                last = last.max(id);
            }
            {
                let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
                *seen = (*seen).max(last);
            }
            if count < PAGE {
                break;
            }
        }
        Ok(applied)
    }

    /// Whether Redis answers.
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn ping(&self) -> Result<(), CacheError> {
        self.connections
            .query::<String>(&redis::cmd("PING"))
            .await
            .map(|_| ())
            .map_err(failed)
    }
}

type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// The `(id, fields)` of an `XREAD` reply for one stream (nil: nothing new). RESP2 answers
/// `[[name, [[id, [f, v, …]], …]]]`; RESP3 a map `{name: [[id, [f, v, …]], …]}`.
fn stream_entries(reply: RedisValue) -> Result<Vec<(StreamId, Fields)>, CacheError> {
    let entries = match reply {
        RedisValue::Nil => return Ok(Vec::new()),
        RedisValue::Array(streams) => streams.into_iter().next().and_then(|stream| match stream {
            RedisValue::Array(mut pair) if pair.len() == 2 => pair.pop(),
            _ => None,
        }),
        RedisValue::Map(streams) => streams.into_iter().next().map(|(_, entries)| entries),
        other => return Err(failed(format!("XREAD answered {other:?}"))),
    };
    let Some(RedisValue::Array(entries)) = entries else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let RedisValue::Array(mut parts) = entry else {
            continue;
        };
        if parts.len() != 2 {
            continue;
        }
        let fields = parts.pop();
        let Some(id) = parts.pop().and_then(bytes) else {
            continue;
        };
        let Some(id) = std::str::from_utf8(&id).ok().and_then(StreamId::parse) else {
            continue;
        };
        let flat = match fields {
            Some(RedisValue::Array(flat)) => flat,
            Some(RedisValue::Map(pairs)) => pairs.into_iter().flat_map(|(k, v)| [k, v]).collect(),
            _ => Vec::new(),
        };
        let mut fields = Vec::with_capacity(flat.len() / 2);
        let mut flat = flat.into_iter();
        while let (Some(name), Some(value)) = (flat.next(), flat.next()) {
            if let (Some(name), Some(value)) = (bytes(name), bytes(value)) {
                fields.push((name, value));
            }
        }
        out.push((id, fields));
    }
    Ok(out)
}

fn bytes(value: RedisValue) -> Option<Vec<u8>> {
    match value {
        RedisValue::BulkString(bytes) => Some(bytes),
        RedisValue::SimpleString(text) => Some(text.into_bytes()),
        RedisValue::VerbatimString { text, .. } => Some(text.into_bytes()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip_through_stream_fields() {
        let put = Change::Put {
            scope: "s".into(),
            key: "k".into(),
            vector: vec![0.25, -1.5, 3.0],
            entry: b"{}".to_vec(),
            expires_ms: Some(42),
        };
        for change in [put, Change::Delete { key: "k".into() }, Change::Flush] {
            let fields: Fields = change
                .fields()
                .into_iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v))
                .collect();
            assert_eq!(Change::from_fields(&fields), Some(change));
        }
        assert_eq!(
            Change::from_fields(&[(b"op".to_vec(), b"what".to_vec())]),
            None
        );
    }

    #[test]
    fn stream_ids_order_by_time_then_sequence() {
        let (a, b) = (StreamId::parse("5-9"), StreamId::parse("10-0"));
        assert!(a < b);
        assert_eq!(
            StreamId::parse("10-0").map(StreamId::text).as_deref(),
            Some("10-0")
        );
        assert_eq!(StreamId::parse("x"), None);
    }

    #[test]
    fn xread_replies_in_resp2_and_resp3_shapes() {
        let entry = RedisValue::Array(vec![
            RedisValue::BulkString(b"7-1".to_vec()),
            RedisValue::Array(vec![
                RedisValue::BulkString(b"op".to_vec()),
                RedisValue::BulkString(b"flush".to_vec()),
            ]),
        ]);
        let name = RedisValue::BulkString(b"llmrelay:semcache:i".to_vec());
        let resp2 = RedisValue::Array(vec![RedisValue::Array(vec![
            name.clone(),
            RedisValue::Array(vec![entry.clone()]),
        ])]);
        let resp3 = RedisValue::Map(vec![(name, RedisValue::Array(vec![entry]))]);
        for reply in [resp2, resp3] {
            let entries = stream_entries(reply).unwrap_or_default();
            assert_eq!(entries.len(), 1);
            assert_eq!(entries[0].0, StreamId(7, 1));
            assert_eq!(Change::from_fields(&entries[0].1), Some(Change::Flush));
        }
        assert!(
            stream_entries(RedisValue::Nil)
                .unwrap_or_default()
                .is_empty()
        );
    }
}
