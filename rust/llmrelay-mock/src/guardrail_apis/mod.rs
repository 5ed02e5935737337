//! Guardrail vendor APIs the engine's remote guardrails call: Lakera Guard v2, Presidio's
//! analyzer and anonymizer, and LiteLLM's generic guardrail API. (Bedrock's ApplyGuardrail lives
//! with the other Bedrock routes, OpenAI moderations with the OpenAI routes.) Their verdicts come from small,
//! documented rules (`detect.rs`), so tests know what each text gets.

mod detect;
mod generic;
mod lakera;
mod presidio;

use std::sync::Arc;

use axum::Router;
use axum::routing::post;

use crate::MockState;

pub(crate) use detect::{HATE, INVESTMENT_ADVICE, VIOLENCE, WORD_FILTER, find_pii};

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/v2/guard", post(lakera::guard))
        .route("/analyze", post(presidio::analyze))
        .route("/anonymize", post(presidio::anonymize))
        .route("/beta/litellm_basic_guardrail_api", post(generic::apply))
}

/// The JSON object of a request body, or a 400 in the route's dialect.
pub(crate) fn object(
    body: Option<&serde_json::Value>,
) -> Result<&serde_json::Map<String, serde_json::Value>, crate::faults::ErrorSpec> {
    body.and_then(serde_json::Value::as_object).ok_or_else(|| {
        crate::faults::ErrorSpec::invalid_request(
            "The request body must be a JSON object.",
            None,
            None,
        )
    })
}
