//! Backpressure: a bounded priority queue of requests waiting for rpm/tpm capacity.
//!
//! Requests of a model group wait in `(priority, arrival)` order (lower priority value =
//! sooner, as LiteLLM's scheduler). Only the head of a group's line tries to route; the others
//! wait for it to leave, so a burst cannot overtake an earlier, more urgent request.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// The shared queue of one router.
#[derive(Debug)]
pub struct Queue {
    lines: Mutex<HashMap<String, BTreeSet<(i64, u64)>>>,
    next: AtomicU64,
    capacity: usize,
    changed: Notify,
}

/// A place in a group's line; leaving (drop) wakes the others.
#[derive(Debug)]
pub struct Ticket {
    queue: Arc<Queue>,
    group: String,
    key: (i64, u64),
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Queue {
    #[must_use]
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            lines: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            capacity,
            changed: Notify::new(),
        })
    }

    /// Requests waiting, over every group.
    #[must_use]
    pub fn len(&self) -> usize {
        lock(&self.lines).values().map(BTreeSet::len).sum()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Join `group`'s line; `None` when the queue is full.
    #[must_use]
    pub fn join(self: &Arc<Self>, group: &str, priority: i64) -> Option<Ticket> {
        let mut lines = lock(&self.lines);
        let waiting: usize = lines.values().map(BTreeSet::len).sum();
        if waiting >= self.capacity {
            return None;
        }
        let key = (priority, self.next.fetch_add(1, Ordering::Relaxed));
        lines.entry(group.to_owned()).or_default().insert(key);
        Some(Ticket {
            queue: Arc::clone(self),
            group: group.to_owned(),
            key,
        })
    }

    /// Wait until something changes in the queue or `limit` passes.
    pub async fn changed(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.changed.notified()).await;
    }
}

impl Ticket {
    /// Whether this request is first in its group's line.
    #[must_use]
    pub fn is_head(&self) -> bool {
        lock(&self.queue.lines)
            .get(&self.group)
            .and_then(|line| line.first())
            .is_some_and(|first| *first == self.key)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        {
            let mut lines = lock(&self.queue.lines);
            if let Some(line) = lines.get_mut(&self.group) {
                line.remove(&self.key);
                if line.is_empty() {
                    lines.remove(&self.group);
                }
            }
        }
        self.queue.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_then_arrival_order_and_bound() {
        let queue = Queue::new(3);
        let late_urgent;
        let first = queue.join("g", 5).unwrap();
        let second = queue.join("g", 5).unwrap();
        assert!(first.is_head());
        late_urgent = queue.join("g", 0).unwrap();
        assert!(late_urgent.is_head());
        assert!(!first.is_head());
        // Full: a fourth request is refused, in any group.
        assert!(queue.join("other", 0).is_none());
        drop(late_urgent);
        assert!(first.is_head());
        drop(first);
        assert!(second.is_head());
        assert_eq!(queue.len(), 1);
        // Groups have separate lines.
        let other = queue.join("other", 9).unwrap();
        assert!(other.is_head());
        drop(second);
        drop(other);
        assert!(queue.is_empty());
    }

    #[tokio::test]
    async fn leaving_wakes_waiters() {
        let queue = Queue::new(10);
        let first = queue.join("g", 0).unwrap();
        let second = queue.join("g", 0).unwrap();
        let waiter = {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                while !second.is_head() {
                    queue.changed(Duration::from_secs(5)).await;
                }
                started.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(first);
        let waited = waiter.await.unwrap();
        assert!(waited < Duration::from_secs(2), "{waited:?}");
    }
}
