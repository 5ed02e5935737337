//! What account layers and integrations see: the logging payload gets the call's
//! `guardrail_information`, `status_fields.guardrail_status` and `metadata.applied_guardrails`,
//! and `logging_only` guardrails mask its copies of the request (`messages`) and the answer
//! (`response`). The caller's request and answer are never changed by them.
//!
//! The payload is built synchronously (once, when the first account layer asks): guardrails run
//! here must decide without I/O, which the built-in ones do. A remote guardrail in
//! `logging_only` mode that would have to wait is recorded as `guardrail_failed_to_respond`
//! and the copy is left as it was.

use futures::FutureExt as _;
use serde_json::Value;

use llmrelay_core::types::ChatResponse;
use llmrelay_pipeline::payload::{PayloadEdits, messages};
use llmrelay_pipeline::{Call, CallRecord, StandardLoggingPayload};

use crate::config::EventHook;
use crate::engine::GuardrailCall;

use super::super::admit::pre_call::payload_of;
use super::super::respond::post_call::chat_request;

/// Adds the guardrail edits to the call's logging payload.
pub(crate) fn register(call: &mut Call, guardrails: GuardrailCall) {
    PayloadEdits::add(
        &mut call.extensions,
        move |call: &Call, _record: &CallRecord, payload: &mut StandardLoggingPayload| {
            if guardrails.runs(EventHook::LoggingOnly) {
                mask_logged_copies(&guardrails, call, payload);
            }
            edit_payload(&guardrails, payload);
        },
    );
}

fn mask_logged_copies(
    guardrails: &GuardrailCall,
    call: &Call,
    payload: &mut StandardLoggingPayload,
) {
    let mut request = call.request.clone();
    let masked = payload_of(&mut request)
        .map(|mut logged| guardrails.logging_only_request(&mut logged).now_or_never());
    if let Some(masked) = masked {
        if masked.is_some() {
            payload.messages = messages(&request);
        } else {
            guardrails.record_pending(EventHook::LoggingOnly);
        }
    }
    if !call.kind.is_chat() {
        return;
    }
    let Some(response) = payload.response.as_ref() else {
        return;
    };
    let Ok(mut response) = serde_json::from_value::<ChatResponse>(response.clone()) else {
        return;
    };
    let masked = guardrails
        .logging_only_response(chat_request(&call.request), &mut response)
        .now_or_never();
    if masked.is_some() {
        if let Ok(value) = serde_json::to_value(&response) {
            payload.response = Some(value);
        }
    } else {
        guardrails.record_pending(EventHook::LoggingOnly);
    }
}

fn edit_payload(guardrails: &GuardrailCall, payload: &mut StandardLoggingPayload) {
    let information = guardrails.information();
    if !information.is_empty() {
        payload.guardrail_information = serde_json::to_value(&information).ok();
    }
    payload.status_fields.guardrail_status = guardrails.guardrail_status().as_str();
    let applied = guardrails.applied_guardrails();
    if !applied.is_empty() {
        payload
            .metadata
            .insert("applied_guardrails".to_owned(), Value::from(applied));
    }
}
