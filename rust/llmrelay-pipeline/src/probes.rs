//! Probe layers: one of each capability the layer API offers, each idle unless a call's
//! `metadata` asks for it. Tests register them for SDK, Router and proxy calls; the benchmark
//! registers them all, idle, to measure what an idle layer costs. Built with the `probes`
//! feature.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

use llmrelay_core::types::{ChatChunk, MessageContent};
use llmrelay_core::{Error, Result};
use llmrelay_providers::engine::{ChatOutcome, Outcome};
use llmrelay_providers::stream::ChunkStream;

use crate::attempt::AttemptInfo;
use crate::call::Call;
use crate::layer::{
    Account, Admission, Admit, AdmitStage, Around, Flow, PerAttempt, Respond, Step,
    StreamTransform, transform,
};
use crate::layers::Layers;
use crate::record::{CallRecord, Status};
use crate::replay;

/// What a probe asks of a call: `metadata["probe"][name]`.
fn wants<'a>(call: &'a Call, name: &str) -> Option<&'a Value> {
    call.metadata()?.get("probe")?.get(name)
}

/// Everything the probes saw, in order.
#[derive(Debug, Default)]
pub struct Journal {
    pub events: Mutex<Vec<String>>,
}

impl Journal {
    pub fn note(&self, event: impl Into<String>) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.into());
    }

    #[must_use]
    pub fn events(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Events that start with `prefix`.
    #[must_use]
    pub fn matching(&self, prefix: &str) -> Vec<String> {
        self.events()
            .into_iter()
            .filter(|e| e.starts_with(prefix))
            .collect()
    }
}

/// `probe.reject: "<message>"` → refused with a 403.
pub struct RejectProbe;

impl Admit for RejectProbe {
    fn name(&self) -> &'static str {
        "probe_reject"
    }
    fn stage(&self) -> AdmitStage {
        AdmitStage::Access
    }
    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        match wants(call, "reject").and_then(Value::as_str) {
            Some(message) => Step::Ready(Admission::Reject(
                Error::new(llmrelay_core::ErrorKind::PermissionDenied, message).with_status(403),
            )),
            None => Step::Ready(Admission::Continue),
        }
    }
}

/// `probe.answer: "<text>"` → answered at once (whole, or a replayed stream for a stream);
/// `probe.cached: "<text>"` → the same as a cache hit.
pub struct AnswerProbe;

impl Admit for AnswerProbe {
    fn name(&self) -> &'static str {
        "probe_answer"
    }
    fn stage(&self) -> AdmitStage {
        AdmitStage::Cache
    }
    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        let stream = call.request.stream();
        if let Some(text) = wants(call, "answer").and_then(Value::as_str) {
            return Step::Ready(Admission::Respond(replay::text_answer(
                &call.model_group,
                text,
                stream,
            )));
        }
        if let Some(text) = wants(call, "cached").and_then(Value::as_str) {
            return Step::Ready(Admission::CacheHit(replay::text_answer(
                &call.model_group,
                text,
                stream,
            )));
        }
        Step::Ready(Admission::Continue)
    }
}

/// `probe.rewrite: "<suffix>"` → appended to the last message's text (asynchronously, as a
/// guardrail calling a service would).
pub struct RewriteProbe;

impl Admit for RewriteProbe {
    fn name(&self) -> &'static str {
        "probe_rewrite"
    }
    fn stage(&self) -> AdmitStage {
        AdmitStage::Guardrails
    }
    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        let Some(suffix) = wants(call, "rewrite")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Step::Ready(Admission::Continue);
        };
        Step::wait(async move {
            tokio::task::yield_now().await;
            if let Some(message) = call.request.chat_mut().and_then(|c| c.messages.last_mut()) {
                if let Some(MessageContent::Text(text)) = &mut message.content {
                    text.push_str(&suffix);
                }
            }
            Admission::Continue
        })
    }
}

/// A value reserved at admission and settled by accounting (a budget's shape).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reserved(pub f64);

/// `probe.reserve: <amount>` → reserved at admission; [`BooksProbe`] notes its settlement.
pub struct ReserveProbe;

impl Admit for ReserveProbe {
    fn name(&self) -> &'static str {
        "probe_reserve"
    }
    fn stage(&self) -> AdmitStage {
        AdmitStage::Budget
    }
    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        if let Some(amount) = wants(call, "reserve").and_then(Value::as_f64) {
            call.extensions.insert(Reserved(amount));
        }
        Step::Ready(Admission::Continue)
    }
}

/// Notes every attempt: `attempt <index> retry=<r> fallback=<f> group=<g> deployment=<d> → ok|<kind>`;
/// `probe.refuse_first_attempt: true` refuses attempt 0.
pub struct AttemptProbe(pub Arc<Journal>);

impl PerAttempt for AttemptProbe {
    fn name(&self) -> &'static str {
        "probe_attempts"
    }

    fn before<'a>(&'a self, call: &'a Call, attempt: &'a AttemptInfo<'a>) -> Step<'a, Result<()>> {
        if attempt.index == 0
            && wants(call, "refuse_first_attempt").and_then(Value::as_bool) == Some(true)
        {
            return Step::Ready(Err(Error::new(
                llmrelay_core::ErrorKind::RateLimit,
                "probe: first attempt refused",
            )));
        }
        Step::Ready(Ok(()))
    }

    fn after(&self, call: &Call, attempt: &AttemptInfo<'_>, result: Result<&Outcome, &Error>) {
        if wants(call, "attempts").is_none() {
            return;
        }
        let ended = match result {
            Ok(_) => "ok".to_owned(),
            Err(error) => error.kind().as_str().to_owned(),
        };
        self.0.note(format!(
            "attempt {} retry={} fallback={} group={} deployment={} → {ended}",
            attempt.index,
            attempt.retry,
            attempt.fallback,
            attempt.model_group,
            attempt.deployment_id.unwrap_or("-"),
        ));
    }
}

/// `probe.cancel_after_ms: <ms>` → a task beside the upstream call that fails after that long,
/// cancelling the call.
pub struct BesideProbe(pub Arc<Journal>);

impl Around for BesideProbe {
    fn name(&self) -> &'static str {
        "probe_beside"
    }
    fn around<'a>(&'a self, call: &'a Call) -> Option<BoxFuture<'a, Result<()>>> {
        let after = wants(call, "cancel_after_ms").and_then(Value::as_u64)?;
        let journal = Arc::clone(&self.0);
        Some(Box::pin(async move {
            journal.note("beside: started");
            tokio::time::sleep(Duration::from_millis(after)).await;
            journal.note("beside: cancelling");
            Err(Error::bad_request("probe: violation found beside the call").with_status(400))
        }))
    }
}

/// `probe.shout: true` → whole and streamed text uppercased; `probe.stop_after: <n>` → a
/// stream ends after n content chunks.
pub struct TransformProbe;

struct Shout {
    upper: bool,
    stop_after: Option<u64>,
    seen: u64,
}

impl StreamTransform for Shout {
    fn chunk(&mut self, mut chunk: ChatChunk, out: &mut Vec<ChatChunk>) -> Result<Flow> {
        let has_text = chunk
            .choices
            .iter()
            .any(|c| c.delta.content.as_deref().is_some_and(|t| !t.is_empty()));
        if self.upper {
            for choice in &mut chunk.choices {
                if let Some(text) = &mut choice.delta.content {
                    *text = text.to_uppercase();
                }
            }
        }
        out.push(chunk);
        if has_text {
            self.seen += 1;
            if self.stop_after.is_some_and(|n| self.seen >= n) {
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::Continue)
    }

    fn end(&mut self, _out: &mut Vec<ChatChunk>) -> Result<()> {
        Ok(())
    }
}

impl Respond for TransformProbe {
    fn name(&self) -> &'static str {
        "probe_transform"
    }

    fn whole<'a>(&'a self, call: &'a Call, outcome: &'a mut Outcome) -> Step<'a, Result<()>> {
        if wants(call, "shout").and_then(Value::as_bool) == Some(true) {
            if let Outcome::Chat(ChatOutcome::Whole(result)) = outcome {
                for choice in &mut result.response.choices {
                    if let Some(text) = &mut choice.message.content {
                        *text = text.to_uppercase();
                    }
                }
            }
        }
        Step::Ready(Ok(()))
    }

    fn stream(&self, call: &Call, chunks: ChunkStream<ChatChunk>) -> ChunkStream<ChatChunk> {
        let upper = wants(call, "shout").and_then(Value::as_bool) == Some(true);
        let stop_after = wants(call, "stop_after").and_then(Value::as_u64);
        if !upper && stop_after.is_none() {
            return chunks;
        }
        transform(
            chunks,
            Shout {
                upper,
                stop_after,
                seen: 0,
            },
        )
    }
}

/// Notes the settlement of every call with probe metadata (`probe: {}` is enough):
/// `books <status> cost=<c> reserved=<r> cache_hit=<b> stream=<b>`.
pub struct BooksProbe(pub Arc<Journal>);

impl Account for BooksProbe {
    fn name(&self) -> &'static str {
        "probe_books"
    }

    fn account(&self, call: &Call, record: &CallRecord) {
        if call.metadata().and_then(|m| m.get("probe")).is_none() {
            return;
        }
        let status = match record.status {
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Cancelled => "cancelled",
        };
        let reserved = call
            .extensions
            .get::<Reserved>()
            .map_or_else(|| "-".to_owned(), |r| r.0.to_string());
        self.0.note(format!(
            "books {status} cost={} reserved={reserved} cache_hit={} stream={}",
            record
                .cost
                .map_or_else(|| "-".to_owned(), |c| format!("{c:.6}")),
            record.cache_hit,
            record.stream,
        ));
    }
}

/// Every probe, registered.
#[must_use]
pub fn all(journal: &Arc<Journal>) -> Layers {
    let mut layers = Layers::new();
    layers
        .admit(Arc::new(RejectProbe))
        .admit(Arc::new(ReserveProbe))
        .admit(Arc::new(RewriteProbe))
        .admit(Arc::new(AnswerProbe))
        .attempt(Arc::new(AttemptProbe(Arc::clone(journal))))
        .around(Arc::new(BesideProbe(Arc::clone(journal))))
        .respond(Arc::new(TransformProbe))
        .account(Arc::new(BooksProbe(Arc::clone(journal))));
    layers
}
