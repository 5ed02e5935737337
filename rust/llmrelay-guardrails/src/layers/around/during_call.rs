//! `during_call`: the call's during-call guardrails run beside the upstream call, on copies of
//! the request; a violation cancels the upstream call and fails the call with LiteLLM's error.

use futures::FutureExt as _;
use futures::future::BoxFuture;

use llmrelay_core::Result;
use llmrelay_pipeline::{Around, Call};
use llmrelay_providers::engine::Request;

use crate::config::EventHook;
use crate::payload::RequestRef;

use super::super::Planned;

pub(crate) struct DuringCall;

fn request_ref(request: &Request) -> Option<RequestRef<'_>> {
    match request {
        Request::Chat(chat) => Some(RequestRef::Chat(chat)),
        Request::Text(text) => Some(RequestRef::TextCompletion(text)),
        Request::Embedding(embedding) => Some(RequestRef::Embedding(embedding)),
        Request::Responses(responses) => Some(RequestRef::Chat(&responses.chat)),
        // Operations and provider-native pass-through bodies carry no text guardrails read.
        Request::Operation { .. } | Request::PassThrough(_) => None,
    }
}

impl Around for DuringCall {
    fn name(&self) -> &'static str {
        "guardrails_during_call"
    }

    fn around<'a>(&'a self, call: &'a Call) -> Option<BoxFuture<'a, Result<()>>> {
        let Planned(guardrails) = call.extensions.get::<Planned>()?;
        if !guardrails.runs(EventHook::DuringCall) {
            return None;
        }
        let request = request_ref(&call.request)?;
        Some(
            async move {
                guardrails
                    .during_call(request)
                    .await
                    .map_err(|error| error.to_core_error())
            }
            .boxed(),
        )
    }
}
