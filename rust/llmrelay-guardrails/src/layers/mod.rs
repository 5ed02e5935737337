//! The guardrails as call-pipeline layers: `pre_call` is an admission layer (stage
//! `Guardrails`), `during_call` an around task beside the upstream call, `post_call` a respond
//! layer (whole answers, and streams chunk by chunk through [`StreamGuard`]), `logging_only` an
//! edit of the logging payload every account layer reads.
//!
//! The admission layer plans the call (which guardrails run in which hook, from the request's
//! `guardrails`, its tags, the key's metadata and `default_on`) and keeps the plan in
//! `Call::extensions`; the other layers read it. A call no guardrail applies to costs one check.
//!
//! [`StreamGuard`]: crate::StreamGuard

mod account;
mod admit;
mod around;
mod respond;

use std::sync::Arc;

use llmrelay_pipeline::Layers;

use crate::engine::{GuardrailCall, Guardrails};

/// The plan of one call, kept in `Call::extensions` by the admission layer.
#[derive(Clone)]
pub(crate) struct Planned(pub GuardrailCall);

/// The layers that run `guardrails` on every call; none when no guardrail is configured.
#[must_use]
pub fn layers(guardrails: &Arc<Guardrails>) -> Layers {
    let mut layers = Layers::new();
    if guardrails.is_empty() {
        return layers;
    }
    layers
        .admit(Arc::new(admit::pre_call::PreCall::new(Arc::clone(
            guardrails,
        ))))
        .around(Arc::new(around::during_call::DuringCall))
        .respond(Arc::new(respond::post_call::PostCall));
    layers
}
