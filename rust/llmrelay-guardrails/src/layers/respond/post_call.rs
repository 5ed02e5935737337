//! `post_call`: the call's post-call guardrails on the answer before the caller gets it. A whole
//! chat answer is checked (and masked, or its PII tokens restored) at once; a streamed one goes
//! chunk by chunk through the call's [`StreamGuard`], which holds back a bounded look-behind so
//! an entity split across chunks is still masked. A violation fails a whole answer with
//! LiteLLM's error, and ends a stream with it (what was sent stays sent).

use std::collections::VecDeque;
use std::time::Instant;

use futures::StreamExt as _;

use llmrelay_core::Result;
use llmrelay_core::types::{ChatChunk, ChatRequest};
use llmrelay_pipeline::{Call, Respond, Step};
use llmrelay_providers::engine::{ChatOutcome, Outcome, Request};
use llmrelay_providers::stream::ChunkStream;

use crate::config::EventHook;
use crate::engine::{GuardrailCall, StreamGuard};
use crate::info::{Findings, GuardrailStatus, epoch_seconds};

use super::super::Planned;

pub(crate) struct PostCall;

/// The chat request the answer is for (response guardrails read its tools and PII tokens).
pub(crate) fn chat_request(request: &Request) -> Option<&ChatRequest> {
    match request {
        Request::Chat(chat) => Some(chat),
        Request::Responses(responses) => Some(&responses.chat),
        _ => None,
    }
}

impl Respond for PostCall {
    fn name(&self) -> &'static str {
        "guardrails_post_call"
    }

    fn whole<'a>(&'a self, call: &'a Call, outcome: &'a mut Outcome) -> Step<'a, Result<()>> {
        let Some(Planned(guardrails)) = call.extensions.get::<Planned>() else {
            return Step::Ready(Ok(()));
        };
        if !guardrails.runs(EventHook::PostCall) {
            return Step::Ready(Ok(()));
        }
        let Outcome::Chat(ChatOutcome::Whole(result)) = outcome else {
            return Step::Ready(Ok(()));
        };
        let request = chat_request(&call.request);
        Step::wait(async move {
            guardrails
                .post_call(request, &mut result.response)
                .await
                .map_err(|error| error.to_core_error())
        })
    }

    fn stream(&self, call: &Call, chunks: ChunkStream<ChatChunk>) -> ChunkStream<ChatChunk> {
        let Some(Planned(guardrails)) = call.extensions.get::<Planned>() else {
            return chunks;
        };
        let request = chat_request(&call.request);
        let mut chunks = match guardrails.stream_guard(request) {
            Some(guard) => guarded(chunks, guard),
            None => chunks,
        };
        for (guardrail, context) in guardrails.stream_rewriters(request) {
            let name = context.guardrail_name.clone();
            let provider = guardrail.provider().to_owned();
            let rewritten = guardrail.rewrite_stream(chunks, context);
            chunks = recorded(rewritten, guardrails.clone(), name, provider);
        }
        chunks
    }
}

struct Guarded {
    chunks: ChunkStream<ChatChunk>,
    guard: StreamGuard,
    pending: VecDeque<Result<ChatChunk>>,
    ended: bool,
}

/// The stream the caller gets: every upstream chunk goes through the guard, which releases
/// what no entity can still grow over; at the end the guard releases the rest (and runs the
/// checks that need the whole answer, which may await a remote guardrail).
fn guarded(chunks: ChunkStream<ChatChunk>, guard: StreamGuard) -> ChunkStream<ChatChunk> {
    let state = Guarded {
        chunks,
        guard,
        pending: VecDeque::new(),
        ended: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(item) = state.pending.pop_front() {
                return Some((item, state));
            }
            if state.ended {
                return None;
            }
            match state.chunks.next().await {
                Some(Ok(chunk)) => match state.guard.push(chunk) {
                    Ok(out) => state.pending.extend(out.into_iter().map(Ok)),
                    Err(error) => {
                        state.ended = true;
                        state.pending.push_back(Err(error.to_core_error()));
                    }
                },
                Some(Err(error)) => {
                    state.ended = true;
                    state.pending.push_back(Err(error));
                }
                None => {
                    state.ended = true;
                    match state.guard.finish().await {
                        Ok(out) => state.pending.extend(out.into_iter().map(Ok)),
                        Err(error) => state.pending.push_back(Err(error.to_core_error())),
                    }
                }
            }
        }
    })
    .boxed()
}

/// What records a rewritten stream's end.
type RecordEnd = Box<dyn FnOnce(Option<&llmrelay_core::Error>) + Send>;

/// A guardrail's rewritten stream, recorded in `guardrail_information` when it ends: `success`,
/// or `guardrail_intervened` with the error that ended it (a stream the caller drops is not
/// recorded).
fn recorded(
    chunks: ChunkStream<ChatChunk>,
    guardrails: GuardrailCall,
    name: String,
    provider: String,
) -> ChunkStream<ChatChunk> {
    let started = (epoch_seconds(), Instant::now());
    let record: RecordEnd = Box::new(move |error| {
        let findings = match error {
            None => Findings::default(),
            Some(error) => Findings {
                status: GuardrailStatus::GuardrailIntervened,
                response: Some(serde_json::Value::from(error.message().to_owned())),
                ..Findings::default()
            },
        };
        guardrails.record(&name, &provider, EventHook::PostCall, findings, started);
    });
    futures::stream::unfold(
        (chunks, Some(record)),
        |(mut chunks, mut record)| async move {
            match chunks.next().await {
                Some(Ok(chunk)) => Some((Ok(chunk), (chunks, record))),
                Some(Err(error)) => {
                    if let Some(record) = record.take() {
                        record(Some(&error));
                    }
                    Some((Err(error), (chunks, record)))
                }
                None => {
                    if let Some(record) = record.take() {
                        record(None);
                    }
                    None
                }
            }
        },
    )
    .boxed()
}
