//! The vectors of a semantic cache, in this process: per scope (the cache key without the
//! prompt), a flat row-major matrix of unit vectors searched exhaustively by inner product —
//! no approximate index to tune. Each row is also kept as bytes (int8 with a scale, a quarter
//! of the memory to read): the search scores every row on the bytes, then rescores the best
//! few exactly on the floats, so the answer and its similarity are the exact ones unless the
//! true best is not among the best few by the bytes (their error is about 1e-3, far below
//! the gap that separates a paraphrase from the next prompt). Bounded by entries (oldest out first) and by TTL (expired rows are skipped,
//! and removed as new ones come in).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::entry::Entry;

/// The best row of a scope for a query.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Cosine similarity with the query (the vectors are unit length).
    pub similarity: f32,
    /// The exact key the answer was stored under.
    pub key: Arc<str>,
    pub entry: Arc<Entry>,
}

struct Slot {
    key: Arc<str>,
    entry: Arc<Entry>,
    expires: Option<Instant>,
    generation: u64,
}

#[derive(Default)]
struct Scope {
    /// `slots.len() × dims` floats, row `i` for `slots[i]`.
    vectors: Vec<f32>,
    /// The same rows as int8 codes, and each row's scale (`float ≈ code × scale`).
    codes: Vec<i8>,
    scales: Vec<f32>,
    slots: Vec<Slot>,
}

/// Rows rescored exactly after the int8 pass.
const RESCORED: usize = 8;

/// `vector` as int8 codes and the scale that maps them back.
fn quantize(vector: &[f32]) -> (Vec<i8>, f32) {
    let top = vector.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let scale = if top > 0.0 { top / 127.0 } else { 1.0 };
    let codes = vector
        .iter()
        .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (codes, scale)
}

/// Inner product of two int8 rows, in sixteen independent integer lanes.
fn dot_codes(a: &[i8], b: &[i8]) -> i32 {
    let (a_chunks, b_chunks) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: i32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    let mut lanes = [0i32; 16];
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..16 {
            lanes[lane] += i32::from(x[lane]) * i32::from(y[lane]);
        }
    }
    lanes.iter().sum::<i32>() + tail
}

#[derive(Default)]
struct State {
    scopes: HashMap<Arc<str>, Scope>,
    /// key → (scope, row).
    rows: HashMap<Arc<str>, (Arc<str>, usize)>,
    /// Keys oldest first, with the generation they were stored at (a key stored again
    /// later is not evicted by its older place in the queue).
    order: VecDeque<(Arc<str>, u64)>,
    generation: u64,
}

/// Vectors and answers of a semantic cache. `Sync`: searches share a read lock, which no
/// await ever holds.
pub struct VectorIndex {
    /// Floats per vector; 0 until the first vector sets it (a remote embedding model's
    /// size is known only from its first answer).
    dims: AtomicUsize,
    max_entries: usize,
    state: RwLock<State>,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dims", &self.dims())
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// Inner product of two equally long slices, in eight independent lanes the compiler turns
/// into SIMD.
#[must_use]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut lanes = [0.0f32; 8];
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

fn live(slot: &Slot, now: Instant) -> bool {
    slot.expires.is_none_or(|at| at > now)
}

impl State {
    fn remove(&mut self, key: &str) -> bool {
        let Some((scope_name, row)) = self.rows.remove(key) else {
            return false;
        };
        let Some(scope) = self.scopes.get_mut(&scope_name) else {
            return true;
        };
        let dims = if scope.slots.is_empty() {
            0
        } else {
            scope.vectors.len() / scope.slots.len()
        };
        let last = scope.slots.len() - 1;
        if row != last {
            scope
                .vectors
                .copy_within(last * dims..(last + 1) * dims, row * dims);
            scope
                .codes
                .copy_within(last * dims..(last + 1) * dims, row * dims);
        }
        scope.vectors.truncate(last * dims);
        scope.codes.truncate(last * dims);
        scope.scales.swap_remove(row);
        scope.slots.swap_remove(row);
        if let Some(moved) = scope.slots.get(row) {
            if let Some(place) = self.rows.get_mut(&moved.key) {
                place.1 = row;
            }
        }
        if scope.slots.is_empty() {
            self.scopes.remove(&scope_name);
        }
        true
    }

    fn slot(&self, key: &str) -> Option<&Slot> {
        let (scope, row) = self.rows.get(key)?;
        self.scopes.get(scope)?.slots.get(*row)
    }
}

impl VectorIndex {
    /// An empty index for vectors of `dims` floats (0: the first vector's length), holding
    /// at most `max_entries` answers.
    #[must_use]
    pub fn new(dims: usize, max_entries: usize) -> Self {
        Self {
            dims: AtomicUsize::new(dims),
            max_entries: max_entries.max(1),
            state: RwLock::new(State::default()),
        }
    }

    #[must_use]
    pub fn dims(&self) -> usize {
        self.dims.load(Ordering::Relaxed)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answers held (expired ones included until they are removed).
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().rows.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The answer stored under exactly `key`, if it has not expired.
    #[must_use]
    pub fn get(&self, key: &str, now: Instant) -> Option<Arc<Entry>> {
        let state = self.read();
        let slot = state.slot(key)?;
        live(slot, now).then(|| Arc::clone(&slot.entry))
    }

    /// The row of `scope` most similar to `query` (a unit vector of `dims` floats), expired
    /// rows skipped.
    #[must_use]
    pub fn search(&self, scope: &str, query: &[f32], now: Instant) -> Option<Hit> {
        let dims = self.dims();
        if dims == 0 || query.len() != dims {
            return None;
        }
        let state = self.read();
        let scope = state.scopes.get(scope)?;
        let (query_codes, _) = quantize(query);
        // The best rows by their bytes, best first (live ones only).
        let mut candidates: Vec<(f32, usize)> = Vec::with_capacity(RESCORED + 1);
        for (row, codes) in scope.codes.chunks_exact(dims).enumerate() {
            let score = dot_codes(codes, &query_codes) as f32 * scope.scales[row];
            let full = candidates.len() == RESCORED;
            if full && candidates.last().is_some_and(|(worst, _)| score <= *worst) {
                continue;
            }
            if !live(&scope.slots[row], now) {
                continue;
            }
            let at = candidates.partition_point(|(s, _)| *s >= score);
            candidates.insert(at, (score, row));
            candidates.truncate(RESCORED);
        }
        let best = candidates
            .iter()
            .map(|&(_, row)| {
                let vector = &scope.vectors[row * dims..(row + 1) * dims];
                (dot(vector, query), row)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let (similarity, row) = best?;
        let slot = &scope.slots[row];
        Some(Hit {
            similarity,
            key: Arc::clone(&slot.key),
            entry: Arc::clone(&slot.entry),
        })
    }

    /// Store `entry` under `key` in `scope` with its prompt's `vector`; a key already there
    /// is replaced. The oldest answers leave when the index is full, expired ones first.
    pub fn insert(
        &self,
        scope: &str,
        key: &str,
        vector: &[f32],
        entry: Arc<Entry>,
        expires: Option<Instant>,
    ) {
        let dims =
            match self
                .dims
                .compare_exchange(0, vector.len(), Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => vector.len(),
                Err(dims) => dims,
            };
        if vector.is_empty() || vector.len() != dims {
            return;
        }
        let mut state = self.write();
        state.remove(key);
        state.generation += 1;
        let generation = state.generation;
        let key: Arc<str> = Arc::from(key);
        let scope_name: Arc<str> = match state.scopes.get_key_value(scope) {
            Some((name, _)) => Arc::clone(name),
            None => Arc::from(scope),
        };
        let target = state.scopes.entry(Arc::clone(&scope_name)).or_default();
        let row = target.slots.len();
        target.vectors.extend_from_slice(vector);
        let (codes, scale) = quantize(vector);
        target.codes.extend_from_slice(&codes);
        target.scales.push(scale);
        target.slots.push(Slot {
            key: Arc::clone(&key),
            entry,
            expires,
            generation,
        });
        state.rows.insert(Arc::clone(&key), (scope_name, row));
        state.order.push_back((key, generation));
        let now = Instant::now();
        while state.rows.len() > self.max_entries {
            let Some((oldest, generation)) = state.order.pop_front() else {
                break;
            };
            if state
                .slot(&oldest)
                .is_some_and(|s| s.generation == generation)
            {
                state.remove(&oldest);
            }
        }
        // Drop expired answers at the front of the queue (the oldest are the likeliest).
        while let Some((front, generation)) = state.order.front().cloned() {
            match state.slot(&front) {
                Some(slot) if slot.generation == generation && live(slot, now) => break,
                Some(slot) if slot.generation == generation => {
                    state.remove(&front);
                }
                _ => {}
            }
            state.order.pop_front();
        }
    }

    /// Remove the answer under `key`; whether it was there.
    pub fn remove(&self, key: &str) -> bool {
        self.write().remove(key)
    }

    pub fn clear(&self) {
        *self.write() = State::default();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::entry::Stored;

    fn entry(text: &str) -> Arc<Entry> {
        let response = serde_json::json!({
            "id": text, "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
        });
        let answer = Stored::from_json(crate::StoredKind::Chat, &response)
            .unwrap_or_else(|| unreachable!("a valid chat answer"));
        Arc::new(Entry {
            timestamp: 0.0,
            provider: String::new(),
            model: String::new(),
            answer,
        })
    }

    fn unit(values: &[f32]) -> Vec<f32> {
        let mut v = values.to_vec();
        crate::semantic::embed::normalize(&mut v);
        v
    }

    #[test]
    fn dot_matches_the_plain_sum_for_any_length() {
        for len in [0, 1, 7, 8, 9, 384, 385] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4, "len {len}");
        }
    }

    #[test]
    fn the_int8_pass_keeps_the_exact_best_among_many_rows() {
        let dims = 64;
        let index = VectorIndex::new(dims, 10_000);
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        };
        let mut rows = Vec::new();
        for row in 0..2_000 {
            let vector = unit(&(0..dims).map(|_| next()).collect::<Vec<_>>());
            index.insert("s", &format!("r{row}"), &vector, entry("x"), None);
            rows.push(vector);
        }
        let now = Instant::now();
        for probe in 0..50 {
            let query = unit(&(0..dims).map(|_| next()).collect::<Vec<_>>());
            let exact = rows
                .iter()
                .enumerate()
                .map(|(row, v)| (dot(v, &query), row))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap_or_else(|| unreachable!());
            let hit = index
                .search("s", &query, now)
                .unwrap_or_else(|| unreachable!());
            assert_eq!(&*hit.key, format!("r{}", exact.1), "probe {probe}");
            assert!((hit.similarity - exact.0).abs() < 1e-6);
        }
    }

    #[test]
    fn search_finds_the_closest_row_in_its_scope_only() {
        let index = VectorIndex::new(3, 10);
        let now = Instant::now();
        index.insert("s", "a", &unit(&[1.0, 0.0, 0.0]), entry("a"), None);
        index.insert("s", "b", &unit(&[0.0, 1.0, 0.0]), entry("b"), None);
        index.insert("t", "c", &unit(&[0.9, 0.1, 0.0]), entry("c"), None);
        let hit = index
            .search("s", &unit(&[0.8, 0.2, 0.0]), now)
            .unwrap_or_else(|| unreachable!("scope s has rows"));
        assert_eq!(&*hit.key, "a");
        assert!(hit.similarity > 0.9 && hit.similarity < 1.0);
        assert!(index.search("u", &unit(&[1.0, 0.0, 0.0]), now).is_none());
        assert_eq!(
            index.get("c", now).map(|e| e.model.clone()),
            Some(String::new())
        );
    }

    #[test]
    fn removal_keeps_the_other_rows_and_their_vectors() {
        let index = VectorIndex::new(2, 10);
        let now = Instant::now();
        index.insert("s", "a", &unit(&[1.0, 0.0]), entry("a"), None);
        index.insert("s", "b", &unit(&[0.0, 1.0]), entry("b"), None);
        index.insert("s", "c", &unit(&[-1.0, 0.0]), entry("c"), None);
        assert!(index.remove("a"));
        assert!(!index.remove("a"));
        // "c" moved into "a"'s row: its vector must have moved with it.
        let hit = index.search("s", &unit(&[-1.0, 0.1]), now);
        assert_eq!(hit.map(|h| h.key.to_string()).as_deref(), Some("c"));
        let hit = index.search("s", &unit(&[0.1, 1.0]), now);
        assert_eq!(hit.map(|h| h.key.to_string()).as_deref(), Some("b"));
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn the_oldest_answer_leaves_when_full_and_a_rewrite_counts_as_new() {
        let index = VectorIndex::new(2, 2);
        let now = Instant::now();
        index.insert("s", "a", &unit(&[1.0, 0.0]), entry("a"), None);
        index.insert("s", "b", &unit(&[0.0, 1.0]), entry("b"), None);
        index.insert("s", "a", &unit(&[1.0, 0.1]), entry("a2"), None);
        index.insert("s", "c", &unit(&[1.0, 1.0]), entry("c"), None);
        assert!(index.get("b", now).is_none(), "b was the oldest");
        assert!(index.get("a", now).is_some());
        assert!(index.get("c", now).is_some());
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn expired_rows_are_neither_served_nor_kept() {
        let index = VectorIndex::new(2, 10);
        let now = Instant::now();
        let past = now.checked_sub(Duration::from_secs(1));
        index.insert("s", "old", &unit(&[1.0, 0.0]), entry("old"), past);
        assert!(index.get("old", now).is_none());
        let hit = index.search("s", &unit(&[1.0, 0.0]), now);
        assert!(hit.is_none());
        index.insert("s", "new", &unit(&[0.0, 1.0]), entry("new"), None);
        assert_eq!(index.len(), 1, "the expired row went when a new one came");
    }
}
