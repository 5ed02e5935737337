//! The one delivery queue for everything written off the request path (spend rows, logging
//! integrations, alerts, webhooks): bounded, batched, retried with backoff, with counters and a
//! flush on shutdown.
//!
//! Two ways in: [`Queue::push`] never waits and counts a drop when the queue is full (logging
//! integrations); [`Queue::reserve`] waits for room *before* the call goes upstream and
//! returns a [`Slot`] the account layer fills without waiting (records that must not be lost:
//! the wait is the backpressure).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

/// Where batches go.
pub trait Sink: Send + Sync + 'static {
    type Item: Send + 'static;

    /// A name for logs and metrics.
    fn name(&self) -> &'static str;

    /// Deliver one batch. An error is retried with backoff (the same batch again).
    fn deliver<'a>(&'a self, batch: &'a [Self::Item]) -> BoxFuture<'a, Result<(), String>>;
}

/// What to do with a batch that still fails after `max_retries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Count it as dropped and go on (logging integrations).
    Drop,
    /// Keep retrying (the backoff stays at its cap): nothing accepted is lost.
    Retry,
}

/// How a queue batches and retries.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Items waiting at most.
    pub capacity: usize,
    /// Items per batch at most.
    pub batch_size: usize,
    /// How long the first item of a batch waits for others.
    pub linger: Duration,
    /// Retries of a failing batch before `on_failure` applies.
    pub max_retries: u32,
    /// First retry delay; doubles up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub on_failure: OnFailure,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            batch_size: 500,
            linger: Duration::from_millis(100),
            max_retries: 5,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            on_failure: OnFailure::Drop,
        }
    }
}

/// Counters of a queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub accepted: u64,
    pub delivered: u64,
    /// Items refused because the queue was full, or in batches given up on.
    pub dropped: u64,
    /// Failed delivery attempts (each retried or given up).
    pub failures: u64,
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    failures: AtomicU64,
}

enum Message<T> {
    Item(T),
    Flush(oneshot::Sender<()>),
}

/// A bounded, batching delivery queue in front of a [`Sink`].
pub struct Queue<T: Send + 'static> {
    sender: mpsc::Sender<Message<T>>,
    counters: Arc<Counters>,
    worker: Mutex<Option<JoinHandle<()>>>,
    name: &'static str,
}

/// Room reserved in a queue: filling it never waits and never drops.
pub struct Slot<T: Send + 'static> {
    permit: mpsc::OwnedPermit<Message<T>>,
    counters: Arc<Counters>,
}

impl<T: Send + 'static> Slot<T> {
    pub fn send(self, item: T) {
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        self.permit.send(Message::Item(item));
    }
}

impl<T: Send + 'static> Queue<T> {
    /// Start the queue's worker on the current Tokio runtime.
    #[must_use]
    pub fn start<S: Sink<Item = T>>(sink: Arc<S>, config: QueueConfig) -> Self {
        let (sender, receiver) = mpsc::channel(config.capacity.max(1));
        let counters = Arc::new(Counters::default());
        let name = sink.name();
        let worker = tokio::spawn(work(sink, config, receiver, Arc::clone(&counters)));
        Self {
            sender,
            counters,
            worker: Mutex::new(Some(worker)),
            name,
        }
    }

    /// Queue an item without waiting; `false` (and a drop counted) when the queue is full or
    /// shut down.
    pub fn push(&self, item: T) -> bool {
        match self.sender.try_send(Message::Item(item)) {
            Ok(()) => {
                self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(queue = self.name, "delivery queue full: item dropped");
                false
            }
        }
    }

    /// Wait for room for one item; `None` once the queue is shut down.
    pub async fn reserve(&self) -> Option<Slot<T>> {
        let permit = self.sender.clone().reserve_owned().await.ok()?;
        Some(Slot {
            permit,
            counters: Arc::clone(&self.counters),
        })
    }

    /// Deliver everything queued so far.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Stop accepting, deliver what is queued, and stop the worker.
    pub async fn shutdown(&self) {
        self.flush().await;
        let worker = self.worker.lock().await.take();
        if let Some(worker) = worker {
            worker.abort();
            let _ = worker.await;
        }
    }

    #[must_use]
    pub fn stats(&self) -> QueueStats {
        QueueStats {
            accepted: self.counters.accepted.load(Ordering::Relaxed),
            delivered: self.counters.delivered.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            failures: self.counters.failures.load(Ordering::Relaxed),
        }
    }

    /// Items waiting.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

async fn work<S: Sink>(
    sink: Arc<S>,
    config: QueueConfig,
    mut receiver: mpsc::Receiver<Message<S::Item>>,
    counters: Arc<Counters>,
) {
    let batch_size = config.batch_size.max(1);
    loop {
        let Some(first) = receiver.recv().await else {
            return;
        };
        let mut batch = Vec::with_capacity(batch_size);
        let mut flushes = Vec::new();
        match first {
            Message::Item(item) => batch.push(item),
            Message::Flush(done) => flushes.push(done),
        }
        // Linger for more items, unless a flush asked for delivery now.
        let deadline = tokio::time::Instant::now() + config.linger;
        while batch.len() < batch_size && flushes.is_empty() {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some(Message::Item(item))) => batch.push(item),
                Ok(Some(Message::Flush(done))) => flushes.push(done),
                Ok(None) | Err(_) => break,
            }
        }
        // A flush delivers everything queued before it.
        if !flushes.is_empty() {
            while let Ok(message) = receiver.try_recv() {
                match message {
                    Message::Item(item) => batch.push(item),
                    Message::Flush(done) => flushes.push(done),
                }
            }
        }
        while !batch.is_empty() {
            let rest = if batch.len() > batch_size {
                batch.split_off(batch_size)
            } else {
                Vec::new()
            };
            deliver(&*sink, &config, batch, &counters).await;
            batch = rest;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

async fn deliver<S: Sink>(
    sink: &S,
    config: &QueueConfig,
    batch: Vec<S::Item>,
    counters: &Counters,
) {
    let count = batch.len() as u64;
    let mut attempt: u32 = 0;
    let mut delay = config.backoff;
    loop {
        match sink.deliver(&batch).await {
            Ok(()) => {
                counters.delivered.fetch_add(count, Ordering::Relaxed);
                return;
            }
            Err(error) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                attempt += 1;
                if attempt > config.max_retries && config.on_failure == OnFailure::Drop {
                    counters.dropped.fetch_add(count, Ordering::Relaxed);
                    tracing::warn!(sink = sink.name(), %error, items = count, "delivery failed: batch dropped");
                    return;
                }
                tracing::debug!(sink = sink.name(), %error, attempt, "delivery failed: retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(config.max_backoff);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::sync::atomic::AtomicU32;

    use super::*;

    /// Records batches; fails the first `fail` deliveries.
    struct Recorder {
        batches: StdMutex<Vec<Vec<u32>>>,
        fail: AtomicU32,
    }

    impl Sink for Recorder {
        type Item = u32;
        fn name(&self) -> &'static str {
            "recorder"
        }
        fn deliver<'a>(&'a self, batch: &'a [u32]) -> BoxFuture<'a, Result<(), String>> {
            Box::pin(async move {
                if self
                    .fail
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return Err("down".to_owned());
                }
                self.batches.lock().unwrap().push(batch.to_vec());
                Ok(())
            })
        }
    }

    fn recorder(fail: u32) -> Arc<Recorder> {
        Arc::new(Recorder {
            batches: StdMutex::new(Vec::new()),
            fail: AtomicU32::new(fail),
        })
    }

    fn config(on_failure: OnFailure) -> QueueConfig {
        QueueConfig {
            capacity: 8,
            batch_size: 3,
            linger: Duration::from_millis(20),
            max_retries: 2,
            backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            on_failure,
        }
    }

    #[tokio::test]
    async fn batches_and_flushes_everything_queued() {
        let sink = recorder(0);
        let queue = Queue::start(Arc::clone(&sink), config(OnFailure::Drop));
        for n in 0..7 {
            assert!(queue.push(n));
        }
        queue.flush().await;
        let batches = sink.batches.lock().unwrap().clone();
        assert!(batches.iter().all(|b| b.len() <= 3), "{batches:?}");
        assert_eq!(batches.concat(), (0..7).collect::<Vec<_>>());
        assert_eq!(queue.stats().delivered, 7);
        queue.shutdown().await;
    }

    #[tokio::test]
    async fn a_failing_batch_is_retried_then_dropped_or_kept() {
        let sink = recorder(2);
        let queue = Queue::start(Arc::clone(&sink), config(OnFailure::Drop));
        queue.push(1);
        queue.flush().await;
        assert_eq!(
            sink.batches.lock().unwrap().concat(),
            [1],
            "two failures, third try delivers"
        );
        assert_eq!(queue.stats().failures, 2);
        let sink = recorder(10);
        let queue = Queue::start(Arc::clone(&sink), config(OnFailure::Drop));
        queue.push(2);
        queue.flush().await;
        assert_eq!(queue.stats().dropped, 1);
        let sink = recorder(10);
        let queue = Queue::start(Arc::clone(&sink), config(OnFailure::Retry));
        queue.push(3);
        queue.flush().await;
        assert_eq!(
            sink.batches.lock().unwrap().concat(),
            [3],
            "kept until it went through"
        );
        assert_eq!(queue.stats().dropped, 0);
    }

    /// A sink that holds every delivery until released.
    struct Gate {
        open: tokio::sync::Semaphore,
        delivered: StdMutex<Vec<u32>>,
    }

    impl Sink for Gate {
        type Item = u32;
        fn name(&self) -> &'static str {
            "gate"
        }
        fn deliver<'a>(&'a self, batch: &'a [u32]) -> BoxFuture<'a, Result<(), String>> {
            Box::pin(async move {
                let permit = self.open.acquire().await.map_err(|e| e.to_string())?;
                permit.forget();
                self.delivered.lock().unwrap().extend_from_slice(batch);
                Ok(())
            })
        }
    }

    #[tokio::test]
    async fn a_full_queue_drops_pushes_and_makes_reservations_wait() {
        let sink = Arc::new(Gate {
            open: tokio::sync::Semaphore::new(0),
            delivered: StdMutex::new(Vec::new()),
        });
        let mut small = config(OnFailure::Drop);
        small.capacity = 2;
        small.batch_size = 1;
        let queue = Arc::new(Queue::start(Arc::clone(&sink), small));
        // The worker takes the first item and waits at the gate; two more fill the queue.
        queue.push(1);
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(queue.push(2) && queue.push(3));
        assert!(!queue.push(4), "full: dropped");
        assert_eq!(queue.stats().dropped, 1);
        let waiting = {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move { queue.reserve().await.map(|slot| slot.send(5)) })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!waiting.is_finished(), "a reservation waits for room");
        sink.open.add_permits(100);
        assert!(waiting.await.unwrap().is_some());
        queue.flush().await;
        assert_eq!(*sink.delivered.lock().unwrap(), [1, 2, 3, 5]);
    }
}
