//! Request coalescing (beyond LiteLLM): while a miss is being answered upstream, identical
//! calls wait for that answer instead of calling upstream too. The first caller of a key
//! leads; the store layer hands its answer to the waiters when the call is over (or tells
//! them it has none: a failure, a cut-off stream, an answer not to be stored), and they go
//! upstream themselves after [`WAIT`] at most.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use crate::entry::Entry;

/// How long a waiter waits for the leader's answer.
pub const WAIT: Duration = Duration::from_secs(30);

/// What the leader ended with: `None` while it runs, then `Some(answer or none)`.
type Outcome = Option<Option<Arc<Entry>>>;

/// The misses in flight, by key.
#[derive(Default)]
pub struct InFlight {
    calls: Mutex<HashMap<Arc<str>, watch::Receiver<Outcome>>>,
}

/// The leader's side: what it hands to the waiters (dropping it unfinished tells them there
/// is no answer).
pub struct Leader {
    key: Arc<str>,
    sender: watch::Sender<Outcome>,
}

/// What a caller of a key that missed is.
pub enum Role {
    Leader(Leader),
    Waiter(watch::Receiver<Outcome>),
}

impl InFlight {
    /// Lead the miss of `key`, or wait for the call that leads it.
    pub fn join(&self, key: &Arc<str>) -> Role {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(receiver) = calls.get(key) {
            if receiver.borrow().is_none() && receiver.has_changed().is_ok() {
                return Role::Waiter(receiver.clone());
            }
        }
        let (sender, receiver) = watch::channel(None);
        calls.insert(Arc::clone(key), receiver);
        Role::Leader(Leader {
            key: Arc::clone(key),
            sender,
        })
    }

    /// The leader is done: hand `answer` to the waiters and forget the key.
    pub fn finish(&self, leader: &Leader, answer: Option<Arc<Entry>>) {
        let _ = leader.sender.send(Some(answer));
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        if calls
            .get(&leader.key)
            .is_some_and(|r| r.same_channel(&leader.sender.subscribe()))
        {
            calls.remove(&leader.key);
        }
    }

    /// Keys in flight (tests).
    #[must_use]
    pub fn len(&self) -> usize {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Wait for the leader's answer (`None`: none came, go upstream).
pub async fn wait(mut receiver: watch::Receiver<Outcome>) -> Option<Arc<Entry>> {
    let ended = tokio::time::timeout(WAIT, receiver.wait_for(Option::is_some)).await;
    match ended {
        Ok(Ok(outcome)) => outcome.clone().flatten(),
        _ => None,
    }
}
