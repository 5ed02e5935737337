//! The in-memory store: bounded by entries and by bytes (quick_cache's CLOCK-PRO eviction,
//! close to LRU), each entry with its own expiry.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::entry::Entry;

#[derive(Clone)]
struct Slot {
    entry: Arc<Entry>,
    expires: Option<Instant>,
    weight: u64,
}

#[derive(Clone)]
struct Weigh;

impl quick_cache::Weighter<String, Slot> for Weigh {
    fn weight(&self, key: &String, slot: &Slot) -> u64 {
        key.len() as u64 + slot.weight
    }
}

/// Answers kept in this process.
pub struct MemoryStore {
    entries: quick_cache::sync::Cache<String, Slot, Weigh>,
    /// The least an entry weighs, so that at most `max_entries` fit in `max_bytes`.
    floor: u64,
}

impl MemoryStore {
    /// A store of at most `max_entries` answers and about `max_bytes` of them (their JSON).
    #[must_use]
    pub fn new(max_entries: usize, max_bytes: u64) -> Self {
        let max_entries = max_entries.max(1);
        let max_bytes = max_bytes.max(1);
        Self {
            entries: quick_cache::sync::Cache::with_weighter(max_entries, max_bytes, Weigh),
            floor: (max_bytes / max_entries as u64).max(1),
        }
    }

    /// The live entry under `key` (an expired one is removed).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<Arc<Entry>> {
        let slot = self.entries.get(key)?;
        if slot.expires.is_some_and(|at| at <= Instant::now()) {
            self.entries.remove(key);
            return None;
        }
        Some(slot.entry)
    }

    /// Keep `entry` under `key` for `ttl` (for ever when `None`, until evicted); `bytes` is
    /// its size.
    pub fn set(&self, key: String, entry: Arc<Entry>, bytes: u64, ttl: Option<Duration>) {
        let slot = Slot {
            entry,
            expires: ttl.map(|ttl| Instant::now() + ttl),
            weight: bytes.max(self.floor),
        };
        self.entries.insert(key, slot);
    }

    pub fn delete(&self, key: &str) -> bool {
        self.entries.remove(key).is_some()
    }

    pub fn clear(&self) {
        self.entries.clear();
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Stored;

    fn entry(text: &str) -> Arc<Entry> {
        let response = serde_json::from_value(serde_json::json!({
            "id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
        }))
        .unwrap_or_else(|e| unreachable!("{e}"));
        Arc::new(Entry {
            timestamp: 0.0,
            provider: String::new(),
            model: String::new(),
            answer: Stored::Chat(response),
        })
    }

    #[test]
    fn entries_expire_and_are_deleted() {
        let store = MemoryStore::new(10, 1 << 20);
        store.set("a".into(), entry("a"), 10, Some(Duration::from_millis(30)));
        store.set("b".into(), entry("b"), 10, None);
        assert!(store.get("a").is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(store.get("a").is_none(), "expired");
        assert!(store.get("b").is_some());
        assert!(store.delete("b"));
        assert!(store.get("b").is_none());
    }

    #[test]
    fn bounded_by_entries_and_bytes() {
        let store = MemoryStore::new(50, 1 << 30);
        for n in 0..500 {
            store.set(format!("k{n}"), entry("x"), 10, None);
        }
        assert!(store.len() <= 50, "{} entries kept", store.len());
        let small = MemoryStore::new(1000, 10_000);
        for n in 0..100 {
            small.set(format!("k{n}"), entry("x"), 1000, None);
        }
        assert!(small.len() <= 10, "{} entries kept", small.len());
        assert!(small.get("k99").is_some(), "the newest entry is kept");
    }
}
