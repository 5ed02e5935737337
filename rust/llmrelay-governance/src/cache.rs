//! A bounded in-memory cache of verified keys (and end users), invalidated through the change
//! feed that every instance polls.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::identity::KeyAuth;

#[derive(Debug)]
struct Entry<T> {
    value: Arc<T>,
    loaded_at: Instant,
}

#[derive(Debug)]
struct Inner<T> {
    entries: HashMap<String, Entry<T>>,
    /// Insertion order, for evicting the oldest entries when full.
    order: VecDeque<String>,
}

/// A bounded map from an id to a verified object.
#[derive(Debug)]
pub struct BoundedCache<T> {
    inner: Mutex<Inner<T>>,
    capacity: usize,
    ttl: Duration,
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup<T> {
    Fresh(Arc<T>),
    /// Older than the time to live: reload, but keep serving it if the database is down.
    Stale(Arc<T>),
    Missing,
}

impl<T> BoundedCache<T> {
    #[must_use]
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: VecDeque::new(),
            }),
            capacity: capacity.max(1),
            ttl,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[must_use]
    pub fn get(&self, id: &str) -> Lookup<T> {
        let inner = self.lock();
        match inner.entries.get(id) {
            Some(entry) if entry.loaded_at.elapsed() < self.ttl => {
                Lookup::Fresh(Arc::clone(&entry.value))
            }
            Some(entry) => Lookup::Stale(Arc::clone(&entry.value)),
            None => Lookup::Missing,
        }
    }

    pub fn insert(&self, id: String, value: Arc<T>) {
        let mut inner = self.lock();
        let entry = Entry {
            value,
            loaded_at: Instant::now(),
        };
        if inner.entries.insert(id.clone(), entry).is_none() {
            inner.order.push_back(id);
        }
        while inner.entries.len() > self.capacity {
            match inner.order.pop_front() {
                Some(oldest) => {
                    inner.entries.remove(&oldest);
                }
                None => break,
            }
        }
        // Ids removed by invalidation stay in `order` until they reach its front; bound it.
        if inner.order.len() > self.capacity.saturating_mul(2) {
            let Inner { entries, order } = &mut *inner;
            order.retain(|id| entries.contains_key(id));
        }
    }

    pub fn remove(&self, id: &str) {
        self.lock().entries.remove(id);
    }

    /// Removes every entry for which `matches` holds.
    pub fn remove_where(&self, matches: impl Fn(&T) -> bool) {
        self.lock()
            .entries
            .retain(|_, entry| !matches(&entry.value));
    }

    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.order.clear();
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a change in the feed invalidates.
pub fn invalidate(keys: &BoundedCache<KeyAuth>, kind: &str, object_id: &str) {
    match kind {
        "key" => keys.remove(object_id),
        "team" => keys.remove_where(|auth| auth.team_id.as_deref() == Some(object_id)),
        "user" => keys.remove_where(|auth| auth.user_id.as_deref() == Some(object_id)),
        "organization" => keys.remove_where(|auth| auth.org_id.as_deref() == Some(object_id)),
        "budget" | "all" => keys.clear(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(token: &str, team: Option<&str>) -> Arc<KeyAuth> {
        Arc::new(KeyAuth {
            token: token.into(),
            team_id: team.map(Into::into),
            ..KeyAuth::default()
        })
    }

    #[test]
    fn bounded_and_invalidated() {
        let cache = BoundedCache::new(2, Duration::from_secs(60));
        cache.insert("a".into(), auth("a", Some("t")));
        cache.insert("b".into(), auth("b", None));
        cache.insert("c".into(), auth("c", Some("t")));
        assert_eq!(cache.len(), 2);
        assert!(matches!(cache.get("a"), Lookup::Missing));
        invalidate(&cache, "team", "t");
        assert!(matches!(cache.get("c"), Lookup::Missing));
        assert!(matches!(cache.get("b"), Lookup::Fresh(_)));
        invalidate(&cache, "key", "b");
        assert!(cache.is_empty());
    }

    #[test]
    fn entries_go_stale_after_ttl() {
        let cache = BoundedCache::new(4, Duration::ZERO);
        cache.insert("a".into(), auth("a", None));
        assert!(matches!(cache.get("a"), Lookup::Stale(_)));
    }
}
