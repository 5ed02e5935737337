//! Accounting exactly once: a call's [`Ledger`] runs the account layers when it is settled,
//! and settles the call as cancelled if it is dropped unsettled (a client that went away).

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use llmrelay_core::Error;
use llmrelay_providers::engine::{ChatOutcome, HiddenParams, Outcome, TextOutcome};

use crate::call::Call;
use crate::layers::Layers;
use crate::record::{CallRecord, Route, Status};

/// A settled call: the call and what the account layers saw.
pub struct Settlement {
    pub call: Box<Call>,
    pub record: CallRecord,
}

impl Settlement {
    /// The logging payload, when the caller asked for it.
    #[must_use]
    pub fn payload(&self) -> Option<Arc<crate::payload::StandardLoggingPayload>> {
        self.call
            .wants_payload
            .then(|| self.record.payload(&self.call))
    }
}

/// The books of one call in flight.
pub struct Ledger {
    call: Option<Box<Call>>,
    layers: Arc<Layers>,
    route: Route,
    cache_hit: bool,
}

fn json<T: Serialize>(value: &T) -> Option<Value> {
    serde_json::to_value(value).ok()
}

impl Ledger {
    pub(crate) fn new(call: Box<Call>, layers: Arc<Layers>, route: Route, cache_hit: bool) -> Self {
        Self {
            call: Some(call),
            layers,
            route,
            cache_hit,
        }
    }

    /// The call these books are for.
    ///
    /// # Panics
    /// Never: a ledger holds its call until it is settled, which consumes it.
    #[must_use]
    #[expect(clippy::expect_used, reason = "the call is taken only by settle/drop")]
    pub fn call(&self) -> &Call {
        self.call
            .as_ref()
            .expect("a ledger holds its call until settled")
    }

    #[must_use]
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// Whether the answer must be kept as JSON for the account layers or the caller.
    #[must_use]
    pub fn wants_response(&self) -> bool {
        self.layers.wants_response || self.call.as_ref().is_some_and(|c| c.wants_payload)
    }

    fn base_record(&self, status: Status) -> CallRecord {
        let mut record = CallRecord::new(status);
        record.route = self.route.clone();
        record.cache_hit = self.cache_hit;
        record
    }

    /// Settle a whole answer that reached the caller.
    pub fn settle_whole(self, outcome: &Outcome) -> Settlement {
        let record = self.whole_record(outcome, Status::Success);
        self.settle(record)
    }

    /// Settle a whole answer that a respond layer refused: the upstream was called (and
    /// billed), the caller gets `error`.
    pub fn settle_refused(self, outcome: &Outcome, error: Error) -> Settlement {
        let mut record = self.whole_record(outcome, Status::Failure);
        record.error = Some(error);
        self.settle(record)
    }

    fn whole_record(&self, outcome: &Outcome, status: Status) -> CallRecord {
        let mut record = self.base_record(status);
        let hidden = outcome.hidden();
        record.cost = if self.cache_hit {
            Some(0.0)
        } else {
            hidden.response_cost
        };
        record.usage = outcome.usage().cloned();
        record.hidden = Some(hidden.clone());
        if self.wants_response() {
            record.response = match outcome {
                Outcome::Chat(ChatOutcome::Whole(r)) => json(&r.response),
                Outcome::Text(TextOutcome::Whole(r)) => json(&r.response),
                Outcome::Embedding(r) => json(&r.response),
                Outcome::Json(r) => Some(r.response.clone()),
                _ => None,
            };
        }
        record
    }

    /// Settle a call that failed after admission.
    pub fn settle_error(self, error: Error, hidden: Option<HiddenParams>) -> Settlement {
        let mut record = self.base_record(Status::Failure);
        record.error = Some(error);
        record.hidden = hidden;
        self.settle(record)
    }

    /// Settle with a record built by the caller (streams).
    pub(crate) fn settle_with(
        self,
        build: impl FnOnce(CallRecord) -> CallRecord,
        status: Status,
    ) -> Settlement {
        let record = build(self.base_record(status));
        self.settle(record)
    }

    fn settle(mut self, record: CallRecord) -> Settlement {
        let call = self.take_call();
        run_accounting(&self.layers, &call, &record);
        Settlement { call, record }
    }

    #[expect(
        clippy::expect_used,
        reason = "settle consumes the ledger; drop checks first"
    )]
    fn take_call(&mut self) -> Box<Call> {
        self.call.take().expect("a ledger is settled once")
    }
}

pub(crate) fn run_accounting(layers: &Layers, call: &Call, record: &CallRecord) {
    for layer in &layers.account {
        layer.account(call, record);
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            let mut record = self.base_record(Status::Cancelled);
            record.error = Some(Error::connection(
                "the caller went away before the answer was delivered",
            ));
            run_accounting(&self.layers, &call, &record);
        }
    }
}
