//! Spend rows that are never dropped: `append` writes the row to a write-ahead file (one
//! `write` per row, which survives `kill -9`) and queues it; a batching loop hands batches to a
//! [`BatchSink`] with retry and backoff, and a segment of the file is deleted once all its rows
//! are in the database. At start the files are replayed (idempotent by `request_id`).
//!
//! The loop is this crate's own until `llmrelay_pipeline::delivery::Queue` lands: the sink
//! trait has the same shape as `llmrelay_pipeline::delivery::Sink`, so switching is a change of
//! the driver only.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::Notify;

use crate::budget::Ledger;
use crate::error::GovernanceError;
use crate::spend::{SpendRow, write_batch};
use crate::store::SqlStore;

/// Where batches go (same shape as `llmrelay_pipeline::delivery::Sink`).
pub trait BatchSink: Send + Sync + 'static {
    type Item: Send + 'static;
    fn name(&self) -> &'static str;
    fn deliver(&self, batch: Vec<Self::Item>) -> BoxFuture<'static, Result<(), String>>;
}

/// Writes spend batches to the database and tells the budget ledger what was written.
#[derive(Clone)]
pub struct SpendSink {
    store: Arc<SqlStore>,
    ledger: Arc<Ledger>,
}

impl SpendSink {
    #[must_use]
    pub fn new(store: Arc<SqlStore>, ledger: Arc<Ledger>) -> Self {
        Self { store, ledger }
    }
}

impl BatchSink for SpendSink {
    type Item = SpendRow;

    fn name(&self) -> &'static str {
        "spend_logs"
    }

    fn deliver(&self, batch: Vec<SpendRow>) -> BoxFuture<'static, Result<(), String>> {
        let store = Arc::clone(&self.store);
        let ledger = Arc::clone(&self.ledger);
        Box::pin(async move {
            let totals = write_batch(&store, &batch)
                .await
                .map_err(|e| e.to_string())?;
            for (entity, amount) in &totals.entities {
                ledger.written(entity, *amount);
            }
            Ok(())
        })
    }
}

/// Settings of the writer.
#[derive(Debug, Clone)]
pub struct SpendWriterConfig {
    /// Folder of the write-ahead files; `None` keeps rows in memory only (tests, benches).
    pub wal_directory: Option<PathBuf>,
    pub batch_size: usize,
    pub flush_interval: Duration,
    /// Rows not yet in the database at which [`SpendWriter::ready`] starts to wait
    /// (backpressure; `append` itself never refuses a row).
    pub max_pending: usize,
    /// Rows per write-ahead segment before a new one starts.
    pub segment_rows: usize,
    /// At shutdown, how long failed batches are retried before the rest is left in the
    /// write-ahead files for the next start.
    pub shutdown_retry: Duration,
}

impl Default for SpendWriterConfig {
    fn default() -> Self {
        Self {
            wal_directory: None,
            batch_size: 500,
            flush_interval: Duration::from_millis(200),
            max_pending: 100_000,
            segment_rows: 10_000,
            shutdown_retry: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
struct Segment {
    path: PathBuf,
    outstanding: usize,
    closed: bool,
}

#[derive(Debug)]
struct WalState {
    file: Option<File>,
    current: u64,
    rows_in_current: usize,
    segments: HashMap<u64, Segment>,
}

#[derive(Debug)]
struct Queued {
    row: SpendRow,
    segment: Option<u64>,
}

struct Shared {
    queue: Mutex<VecDeque<Queued>>,
    notify: Notify,
    wal: Mutex<WalState>,
    config: SpendWriterConfig,
    stopping: std::sync::atomic::AtomicBool,
    /// Rows appended (or replayed) and not yet delivered, queued or in a batch being
    /// delivered: incremented once per row by `append`, decremented once per row when its
    /// batch is in the database. Exact, so `ready` waits exactly while it is at the limit.
    undelivered: std::sync::atomic::AtomicUsize,
    /// Woken when rows are delivered (`ready` waiters re-check the count).
    space: Notify,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The durable spend writer.
pub struct SpendWriter {
    shared: Arc<Shared>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for SpendWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpendWriter").finish_non_exhaustive()
    }
}

fn segment_path(directory: &Path, number: u64) -> PathBuf {
    directory.join(format!("spend-{number:012}.wal"))
}

impl SpendWriter {
    /// Replays the write-ahead files left by a previous run and starts the batching loop.
    ///
    /// # Errors
    /// The write-ahead folder cannot be created or read.
    pub fn start<S>(config: SpendWriterConfig, sink: S) -> Result<Arc<Self>, GovernanceError>
    where
        S: BatchSink<Item = SpendRow>,
    {
        let mut segments = HashMap::new();
        let mut replay = VecDeque::new();
        let mut next = 0;
        if let Some(directory) = &config.wal_directory {
            std::fs::create_dir_all(directory).map_err(|e| {
                GovernanceError::Config(format!(
                    "spend write-ahead folder {}: {e}",
                    directory.display()
                ))
            })?;
            let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(directory)
                .map_err(|e| GovernanceError::Config(format!("{}: {e}", directory.display())))?
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let number = name
                        .strip_prefix("spend-")?
                        .strip_suffix(".wal")?
                        .parse()
                        .ok()?;
                    Some((number, entry.path()))
                })
                .collect();
            found.sort();
            for (number, path) in found {
                let rows = read_segment(&path);
                tracing::info!(segment = %path.display(), rows = rows.len(), "replaying spend rows");
                next = next.max(number + 1);
                segments.insert(
                    number,
                    Segment {
                        path: path.clone(),
                        outstanding: rows.len(),
                        closed: true,
                    },
                );
                if rows.is_empty() {
                    let _ = std::fs::remove_file(&path);
                    segments.remove(&number);
                }
                replay.extend(rows.into_iter().map(|row| Queued {
                    row,
                    segment: Some(number),
                }));
            }
        }
        let replayed = replay.len();
        let shared = Arc::new(Shared {
            queue: Mutex::new(replay),
            notify: Notify::new(),
            wal: Mutex::new(WalState {
                file: None,
                current: next,
                rows_in_current: 0,
                segments,
            }),
            config,
            stopping: std::sync::atomic::AtomicBool::new(false),
            undelivered: std::sync::atomic::AtomicUsize::new(replayed),
            space: Notify::new(),
        });
        let task = tokio::spawn(run(Arc::clone(&shared), sink));
        Ok(Arc::new(Self {
            shared,
            task: Mutex::new(Some(task)),
        }))
    }

    /// Records one row: written to the write-ahead file before this returns (call it before
    /// the last byte goes to the client), then queued for the next batch.
    ///
    /// # Errors
    /// The write-ahead file cannot be written (the row is not acknowledged).
    pub fn append(&self, row: SpendRow) -> Result<(), GovernanceError> {
        let segment = if let Some(directory) = &self.shared.config.wal_directory {
            let mut line =
                serde_json::to_vec(&row).map_err(|e| GovernanceError::Internal(e.to_string()))?;
            line.push(b'\n');
            let mut wal = lock(&self.shared.wal);
            if wal.file.is_none() || wal.rows_in_current >= self.shared.config.segment_rows {
                if wal.file.take().is_some() {
                    let current = wal.current;
                    if let Some(segment) = wal.segments.get_mut(&current) {
                        segment.closed = true;
                    }
                    wal.current += 1;
                    delete_finished(&mut wal);
                }
                let number = wal.current;
                let path = segment_path(directory, number);
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| {
                        GovernanceError::Internal(format!(
                            "spend write-ahead file {}: {e}",
                            path.display()
                        ))
                    })?;
                wal.file = Some(file);
                wal.rows_in_current = 0;
                wal.segments.insert(
                    number,
                    Segment {
                        path,
                        outstanding: 0,
                        closed: false,
                    },
                );
            }
            if let Some(file) = wal.file.as_mut() {
                file.write_all(&line).map_err(|e| {
                    GovernanceError::Internal(format!("spend write-ahead write: {e}"))
                })?;
            }
            wal.rows_in_current += 1;
            let current = wal.current;
            if let Some(segment) = wal.segments.get_mut(&current) {
                segment.outstanding += 1;
            }
            Some(current)
        } else {
            None
        };
        {
            let mut queue = lock(&self.shared.queue);
            self.shared
                .undelivered
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            queue.push_back(Queued { row, segment });
        }
        self.shared.notify.notify_one();
        Ok(())
    }

    /// Waits while `max_pending` rows or more are not yet in the database (backpressure when
    /// the database is slow); returns at once otherwise.
    pub async fn ready(&self) {
        loop {
            let notified = self.shared.space.notified();
            tokio::pin!(notified);
            // Registered before the check, so a delivery between the check and the wait wakes it.
            notified.as_mut().enable();
            if self.pending() < self.shared.config.max_pending {
                return;
            }
            notified.await;
        }
    }

    /// Rows not yet in the database (queued or being delivered), exactly.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.shared
            .undelivered
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Flushes every queued row and stops the loop.
    pub async fn shutdown(&self) {
        self.shared
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.shared.notify.notify_one();
        let task = lock(&self.task).take();
        if let Some(task) = task {
            let _ = task.await;
        }
        // The open segment is complete now: delete it when every row of it was delivered
        // (nothing to replay at the next start).
        let mut wal = lock(&self.shared.wal);
        if wal.file.take().is_some() {
            let current = wal.current;
            if let Some(segment) = wal.segments.get_mut(&current) {
                segment.closed = true;
            }
            wal.current += 1;
        }
        delete_finished(&mut wal);
    }

    /// Waits until the queue is empty (tests).
    pub async fn flush(&self) {
        while self.pending() > 0 {
            self.shared.notify.notify_one();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn read_segment(path: &Path) -> Vec<SpendRow> {
    let Ok(file) = File::open(path) else {
        return Vec::new();
    };
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        // A line cut by a crash mid-write was never acknowledged: skip it.
        .filter_map(|line| serde_json::from_str(&line).ok())
        .collect()
}

fn delete_finished(wal: &mut WalState) {
    let finished: Vec<u64> = wal
        .segments
        .iter()
        .filter(|(_, s)| s.closed && s.outstanding == 0)
        .map(|(n, _)| *n)
        .collect();
    for number in finished {
        if let Some(segment) = wal.segments.remove(&number) {
            let _ = std::fs::remove_file(&segment.path);
        }
    }
}

async fn run<S: BatchSink<Item = SpendRow>>(shared: Arc<Shared>, sink: S) {
    let mut backoff = Duration::from_millis(100);
    let mut give_up_at: Option<tokio::time::Instant> = None;
    loop {
        let stopping = shared.stopping.load(std::sync::atomic::Ordering::SeqCst);
        let queued = lock(&shared.queue).len();
        if queued == 0 {
            if stopping {
                return;
            }
            let _ =
                tokio::time::timeout(shared.config.flush_interval, shared.notify.notified()).await;
            continue;
        }
        if queued < shared.config.batch_size && !stopping {
            // Let a batch fill up for at most one interval.
            let _ = tokio::time::timeout(shared.config.flush_interval, async {
                loop {
                    shared.notify.notified().await;
                    if lock(&shared.queue).len() >= shared.config.batch_size {
                        break;
                    }
                }
            })
            .await;
        }
        let batch: Vec<Queued> = {
            let mut queue = lock(&shared.queue);
            let take = queue.len().min(shared.config.batch_size);
            queue.drain(..take).collect()
        };
        let rows: Vec<SpendRow> = batch.iter().map(|q| q.row.clone()).collect();
        match sink.deliver(rows).await {
            Ok(()) => {
                backoff = Duration::from_millis(100);
                let mut wal = lock(&shared.wal);
                for queued in &batch {
                    if let Some(number) = queued.segment
                        && let Some(segment) = wal.segments.get_mut(&number)
                    {
                        segment.outstanding = segment.outstanding.saturating_sub(1);
                    }
                }
                delete_finished(&mut wal);
                drop(wal);
                shared
                    .undelivered
                    .fetch_sub(batch.len(), std::sync::atomic::Ordering::SeqCst);
                shared.space.notify_waiters();
            }
            Err(error) => {
                tracing::warn!(sink = sink.name(), %error, rows = batch.len(), "spend batch failed; retrying");
                // Never drop: put the batch back in front, in order.
                {
                    let mut queue = lock(&shared.queue);
                    for queued in batch.into_iter().rev() {
                        queue.push_front(queued);
                    }
                }
                let deadline = stopping.then(|| {
                    *give_up_at.get_or_insert_with(|| {
                        tokio::time::Instant::now() + shared.config.shutdown_retry
                    })
                });
                if deadline.is_some_and(|deadline| tokio::time::Instant::now() >= deadline) {
                    // Stopping with the database unreachable: the rows stay in the
                    // write-ahead files and are replayed at the next start.
                    tracing::warn!(
                        sink = sink.name(),
                        rows = lock(&shared.queue).len(),
                        "database unreachable at shutdown; spend rows kept in the write-ahead files"
                    );
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct FlakySink {
        delivered: Arc<Mutex<Vec<String>>>,
        failures_left: Arc<AtomicUsize>,
    }

    impl BatchSink for FlakySink {
        type Item = SpendRow;
        fn name(&self) -> &'static str {
            "test"
        }
        fn deliver(&self, batch: Vec<SpendRow>) -> BoxFuture<'static, Result<(), String>> {
            let delivered = Arc::clone(&self.delivered);
            let failures = Arc::clone(&self.failures_left);
            Box::pin(async move {
                if failures.load(Ordering::SeqCst) > 0 {
                    failures.fetch_sub(1, Ordering::SeqCst);
                    return Err("database down".into());
                }
                lock(&delivered).extend(batch.into_iter().map(|r| r.request_id));
                Ok(())
            })
        }
    }

    fn row(id: usize) -> SpendRow {
        SpendRow {
            request_id: format!("r{id}"),
            ..SpendRow::default()
        }
    }

    #[tokio::test]
    async fn failed_batches_are_retried_in_order_and_segments_deleted() {
        let directory = std::env::temp_dir().join(format!("llmrelay-wal-{}", uuid::Uuid::new_v4()));
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let config = SpendWriterConfig {
            wal_directory: Some(directory.clone()),
            batch_size: 3,
            flush_interval: Duration::from_millis(5),
            segment_rows: 2,
            ..SpendWriterConfig::default()
        };
        let writer = SpendWriter::start(
            config,
            FlakySink {
                delivered: Arc::clone(&delivered),
                failures_left: Arc::new(AtomicUsize::new(2)),
            },
        )
        .unwrap();
        for id in 0..7 {
            writer.append(row(id)).unwrap();
        }
        writer.shutdown().await;
        let ids: Vec<String> = (0..7).map(|i| format!("r{i}")).collect();
        assert_eq!(*lock(&delivered), ids);
        // Only the still-open segment may remain.
        let left = std::fs::read_dir(&directory).unwrap().count();
        assert!(left <= 1, "{left} segments left");
        std::fs::remove_dir_all(&directory).unwrap();
    }

    /// Delivers one batch per permit of `gate`.
    struct GatedSink {
        gate: Arc<tokio::sync::Semaphore>,
        delivered: Arc<AtomicUsize>,
    }

    impl BatchSink for GatedSink {
        type Item = SpendRow;
        fn name(&self) -> &'static str {
            "gated"
        }
        fn deliver(&self, batch: Vec<SpendRow>) -> BoxFuture<'static, Result<(), String>> {
            let gate = Arc::clone(&self.gate);
            let delivered = Arc::clone(&self.delivered);
            Box::pin(async move {
                gate.acquire().await.map_err(|e| e.to_string())?.forget();
                delivered.fetch_add(batch.len(), Ordering::SeqCst);
                Ok(())
            })
        }
    }

    async fn ready_within(writer: &SpendWriter, wait: Duration) -> bool {
        tokio::time::timeout(wait, writer.ready()).await.is_ok()
    }

    #[tokio::test]
    async fn backpressure_counts_rows_exactly() {
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let delivered = Arc::new(AtomicUsize::new(0));
        let writer = SpendWriter::start(
            SpendWriterConfig {
                batch_size: 2,
                flush_interval: Duration::from_millis(1),
                max_pending: 4,
                ..SpendWriterConfig::default()
            },
            GatedSink {
                gate: Arc::clone(&gate),
                delivered: Arc::clone(&delivered),
            },
        )
        .unwrap();
        assert!(ready_within(&writer, Duration::from_millis(50)).await);
        // More rows than the limit: append never refuses, ready waits, the count is exact.
        for id in 0..10 {
            writer.append(row(id)).unwrap();
        }
        assert_eq!(writer.pending(), 10);
        assert!(!ready_within(&writer, Duration::from_millis(50)).await);
        // Three batches of two go through: 4 left, still at the limit.
        gate.add_permits(3);
        while delivered.load(Ordering::SeqCst) < 6 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert_eq!(writer.pending(), 4);
        assert!(!ready_within(&writer, Duration::from_millis(50)).await);
        // One more batch: 2 left, below the limit; a waiter wakes.
        let waiting = {
            let writer = Arc::clone(&writer);
            tokio::spawn(async move { writer.ready().await })
        };
        gate.add_permits(1);
        tokio::time::timeout(Duration::from_secs(2), waiting)
            .await
            .unwrap()
            .unwrap();
        gate.add_permits(1);
        writer.flush().await;
        assert_eq!(writer.pending(), 0);
        assert_eq!(delivered.load(Ordering::SeqCst), 10);
        // Rows over the limit gave nothing back that they never took: with the database stalled
        // again, four rows reach the limit exactly as before (a permit count that had grown
        // past the limit would let `ready` through here).
        for id in 10..14 {
            writer.append(row(id)).unwrap();
        }
        assert_eq!(writer.pending(), 4);
        assert!(!ready_within(&writer, Duration::from_millis(50)).await);
        gate.add_permits(100);
        writer.shutdown().await;
        assert_eq!(writer.pending(), 0);
        assert_eq!(delivered.load(Ordering::SeqCst), 14);
    }

    #[tokio::test]
    async fn replayed_and_retried_rows_are_counted_once() {
        let directory = std::env::temp_dir().join(format!("llmrelay-wal-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        let mut text = String::new();
        for id in 0..3 {
            text.push_str(&serde_json::to_string(&row(id)).unwrap());
            text.push('\n');
        }
        std::fs::write(segment_path(&directory, 1), text).unwrap();
        let failures = Arc::new(AtomicUsize::new(1_000_000));
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let writer = SpendWriter::start(
            SpendWriterConfig {
                wal_directory: Some(directory.clone()),
                flush_interval: Duration::from_millis(1),
                max_pending: 5,
                ..SpendWriterConfig::default()
            },
            FlakySink {
                delivered: Arc::clone(&delivered),
                failures_left: Arc::clone(&failures),
            },
        )
        .unwrap();
        assert_eq!(writer.pending(), 3);
        writer.append(row(3)).unwrap();
        // Failed batches go back to the queue without changing the count.
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(writer.pending(), 4);
        assert!(ready_within(&writer, Duration::from_millis(20)).await);
        writer.append(row(4)).unwrap();
        assert!(!ready_within(&writer, Duration::from_millis(20)).await);
        failures.store(0, Ordering::SeqCst);
        writer.flush().await;
        assert_eq!(writer.pending(), 0);
        assert_eq!(lock(&delivered).len(), 5);
        writer.shutdown().await;
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[tokio::test]
    async fn shutdown_with_the_database_down_keeps_the_rows_in_the_file() {
        let directory = std::env::temp_dir().join(format!("llmrelay-wal-{}", uuid::Uuid::new_v4()));
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let writer = SpendWriter::start(
            SpendWriterConfig {
                wal_directory: Some(directory.clone()),
                flush_interval: Duration::from_millis(1),
                shutdown_retry: Duration::from_millis(200),
                ..SpendWriterConfig::default()
            },
            FlakySink {
                delivered: Arc::clone(&delivered),
                failures_left: Arc::new(AtomicUsize::new(usize::MAX)),
            },
        )
        .unwrap();
        writer.append(row(1)).unwrap();
        tokio::time::timeout(Duration::from_secs(5), writer.shutdown())
            .await
            .expect("shutdown gives up on a database that stays down");
        assert!(lock(&delivered).is_empty());
        assert_eq!(read_segment(&segment_path(&directory, 0)).len(), 1);
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[tokio::test]
    async fn a_clean_shutdown_leaves_nothing_to_replay() {
        let directory = std::env::temp_dir().join(format!("llmrelay-wal-{}", uuid::Uuid::new_v4()));
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let writer = SpendWriter::start(
            SpendWriterConfig {
                wal_directory: Some(directory.clone()),
                flush_interval: Duration::from_millis(1),
                ..SpendWriterConfig::default()
            },
            FlakySink {
                delivered: Arc::clone(&delivered),
                failures_left: Arc::new(AtomicUsize::new(0)),
            },
        )
        .unwrap();
        for id in 0..3 {
            writer.append(row(id)).unwrap();
        }
        writer.shutdown().await;
        assert_eq!(lock(&delivered).len(), 3);
        assert_eq!(std::fs::read_dir(&directory).unwrap().count(), 0);
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[tokio::test]
    async fn rows_left_in_the_file_are_replayed() {
        let directory = std::env::temp_dir().join(format!("llmrelay-wal-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        let mut text = String::new();
        for id in 0..3 {
            text.push_str(&serde_json::to_string(&row(id)).unwrap());
            text.push('\n');
        }
        text.push_str("{\"request_id\": \"cut"); // a line cut by kill -9
        std::fs::write(segment_path(&directory, 4), text).unwrap();
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let writer = SpendWriter::start(
            SpendWriterConfig {
                wal_directory: Some(directory.clone()),
                flush_interval: Duration::from_millis(5),
                ..SpendWriterConfig::default()
            },
            FlakySink {
                delivered: Arc::clone(&delivered),
                failures_left: Arc::new(AtomicUsize::new(0)),
            },
        )
        .unwrap();
        writer.flush().await;
        writer.shutdown().await;
        assert_eq!(lock(&delivered).len(), 3);
        assert!(!segment_path(&directory, 4).exists());
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
