//! `pre_call`: plans the call's guardrails, then runs the pre-call ones on the request before
//! routing. A violation refuses the call with LiteLLM's error (400 and the guardrail's message;
//! 500 when a remote guardrail could not judge); masking rewrites the request in place; a
//! guardrail that answers instead of the model (Bedrock's `disable_exception_on_block`) ends the
//! call with that text.

use std::sync::Arc;

use serde_json::{Map, Value};

use llmrelay_core::Error;
use llmrelay_pipeline::{Admission, Admit, AdmitStage, Call, Step, replay};
use llmrelay_providers::engine::Request;

use crate::config::EventHook;
use crate::engine::{GuardrailCall, Guardrails, PreCallOutcome, Selection};
use crate::guardrail::CallMetadata;
use crate::payload::RequestPayload;

use super::super::Planned;
use super::super::account::logging_only;

pub(crate) struct PreCall {
    guardrails: Arc<Guardrails>,
}

impl PreCall {
    pub(crate) fn new(guardrails: Arc<Guardrails>) -> Self {
        Self { guardrails }
    }
}

/// The parts of the request body that select guardrails: `guardrails`, `metadata` (and
/// `litellm_metadata`), `tags`.
fn selection_body(call: &Call) -> Map<String, Value> {
    let mut body = Map::new();
    for key in ["guardrails", "tags", "litellm_metadata"] {
        if let Some(value) = call.options.other.get(key) {
            body.insert(key.to_owned(), value.clone());
        }
    }
    if let Some(metadata) = &call.options.metadata {
        body.insert("metadata".to_owned(), metadata.clone());
    }
    body
}

/// Who is calling, as remote guardrails forward it.
fn call_metadata(call: &Call) -> CallMetadata {
    let identity = &call.identity;
    let mut user_api_key = Map::new();
    for (key, value) in [
        ("user_api_key_hash", &identity.key_hash),
        ("user_api_key_alias", &identity.key_alias),
        ("user_api_key_user_id", &identity.user_id),
        ("user_api_key_team_id", &identity.team_id),
        ("user_api_key_team_alias", &identity.team_alias),
        ("user_api_key_org_id", &identity.org_id),
        ("user_api_key_end_user_id", &identity.end_user_id),
    ] {
        if let Some(value) = value {
            user_api_key.insert(key.to_owned(), Value::String(value.clone()));
        }
    }
    CallMetadata {
        litellm_call_id: Some(call.id.to_string()),
        litellm_trace_id: call
            .options
            .other
            .get("litellm_trace_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        user_api_key,
        tags: Vec::new(),
    }
}

/// The request as guardrails see it (chat, text completion, embedding; the Responses API
/// through its chat form). Other operations carry no text guardrails read.
pub(crate) fn payload_of(request: &mut Request) -> Option<RequestPayload<'_>> {
    match request {
        Request::Chat(chat) => Some(RequestPayload::Chat(chat)),
        Request::Text(text) => Some(RequestPayload::TextCompletion(text)),
        Request::Embedding(embedding) => Some(RequestPayload::Embedding(embedding)),
        Request::Responses(responses) => Some(RequestPayload::Chat(&mut responses.chat)),
        // Operations and provider-native pass-through bodies carry no text guardrails read.
        Request::Operation { .. } | Request::PassThrough(_) => None,
    }
}

async fn run_pre_call(guardrails: GuardrailCall, call: &mut Call) -> Admission {
    let Some(mut payload) = payload_of(&mut call.request) else {
        return Admission::Continue;
    };
    match guardrails.pre_call(&mut payload).await {
        Ok(PreCallOutcome::Continue) => Admission::Continue,
        Ok(PreCallOutcome::Respond(text)) if call.kind.is_chat() => Admission::Respond(
            replay::text_answer(&call.model_group, &text, call.request.stream()),
        ),
        Ok(PreCallOutcome::Respond(text)) => Admission::Reject(Error::bad_request(text)),
        Err(error) => Admission::Reject(error.to_core_error()),
    }
}

impl Admit for PreCall {
    fn name(&self) -> &'static str {
        "guardrails_pre_call"
    }

    fn stage(&self) -> AdmitStage {
        AdmitStage::Guardrails
    }

    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        let selection = match Selection::from_request(&selection_body(call)) {
            Ok(selection) => {
                let key = (!call.identity.metadata.is_empty()).then_some(&call.identity.metadata);
                selection.with_admin_metadata(key, call.identity.team_metadata.as_deref())
            }
            Err(error) => {
                return Step::Ready(Admission::Reject(
                    Error::bad_request(error.message).with_param(error.param),
                ));
            }
        };
        let Some(guardrails) = self.guardrails.begin_call(&selection, call_metadata(call)) else {
            return Step::Ready(Admission::Continue);
        };
        call.extensions.insert(Planned(guardrails.clone()));
        logging_only::register(call, guardrails.clone());
        if !guardrails.runs(EventHook::PreCall) {
            return Step::Ready(Admission::Continue);
        }
        Step::wait(run_pre_call(guardrails, call))
    }
}
