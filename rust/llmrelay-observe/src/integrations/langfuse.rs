//! Langfuse, through its batch ingestion API: `POST {LANGFUSE_HOST}/api/public/ingestion` with
//! Basic auth (public key : secret key) and `{"batch": [event, ...]}`, each event an envelope
//! `{id, timestamp, type, body}` — here a `trace-create` and a `generation-create` (model,
//! input, output, usage, cost) per call. The answer is 207 with per-event `successes` /
//! `errors`. Wire format: Langfuse's public API reference (`ingestion_batch`,
//! <https://api.reference.langfuse.com/#tag/ingestion/POST/api/public/ingestion>) and
//! data model (<https://langfuse.com/docs/observability/data-model>).

use std::sync::Arc;

use base64::Engine;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use llmrelay_pipeline::delivery::Sink;

use crate::Event;
use crate::settings::Environment;

/// Where and as whom to send.
#[derive(Debug, Clone)]
pub struct LangfuseSettings {
    pub host: String,
    pub public_key: String,
    pub secret_key: String,
}

impl LangfuseSettings {
    /// `LANGFUSE_PUBLIC_KEY`, `LANGFUSE_SECRET_KEY`, `LANGFUSE_HOST` (default Langfuse Cloud).
    ///
    /// # Errors
    /// A key is not set.
    pub fn from_env(environment: &Environment) -> Result<Self, String> {
        let public_key = environment
            .get("LANGFUSE_PUBLIC_KEY")
            .ok_or("langfuse: LANGFUSE_PUBLIC_KEY is not set")?;
        let secret_key = environment
            .get("LANGFUSE_SECRET_KEY")
            .ok_or("langfuse: LANGFUSE_SECRET_KEY is not set")?;
        let host = environment
            .first(&["LANGFUSE_HOST", "LANGFUSE_BASE_URL"])
            .unwrap_or_else(|| "https://cloud.langfuse.com".to_owned());
        let host = if host.starts_with("http://") || host.starts_with("https://") {
            host
        } else {
            format!("https://{host}")
        };
        Ok(Self {
            host: host.trim_end_matches('/').to_owned(),
            public_key,
            secret_key,
        })
    }
}

pub struct Langfuse {
    client: reqwest::Client,
    url: String,
    authorization: String,
}

impl Langfuse {
    /// # Errors
    /// No HTTP client.
    pub fn new(settings: &LangfuseSettings) -> Result<Self, String> {
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", settings.public_key, settings.secret_key));
        Ok(Self {
            client: crate::http::client()?,
            url: format!("{}/api/public/ingestion", settings.host),
            authorization: format!("Basic {credentials}"),
        })
    }
}

/// The answer's first message (chat), text (completions) or the whole answer.
fn output(response: Option<&Value>) -> Value {
    let Some(response) = response else {
        return Value::Null;
    };
    let choice = response.get("choices").and_then(|c| c.get(0));
    match choice {
        Some(choice) => choice
            .get("message")
            .or_else(|| choice.get("text"))
            .cloned()
            .unwrap_or(Value::Null),
        None => response.clone(),
    }
}

/// The two ingestion events of one call.
#[must_use]
pub fn events(event: &Event) -> [Value; 2] {
    let payload = &event.payload;
    let start = super::iso8601(payload.start_time);
    let end = super::iso8601(payload.end_time);
    let name = format!("litellm-{}", payload.call_type);
    let output = output(payload.response.as_ref());
    let mut metadata: Map<String, Value> = payload
        .metadata
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(group) = &payload.model_group {
        metadata.insert("model_group".to_owned(), Value::String(group.clone()));
    }
    metadata.insert("cache_hit".to_owned(), Value::Bool(payload.cache_hit));
    let session_id = payload
        .metadata
        .get("session_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let trace = json!({
        "id": payload.trace_id,
        "timestamp": start,
        "name": payload.metadata.get("trace_name").and_then(Value::as_str).unwrap_or(&name),
        "userId": payload.end_user,
        "sessionId": session_id,
        "input": payload.messages,
        "output": output,
        "metadata": metadata,
        "tags": payload.request_tags,
    });
    let model = payload
        .hidden_params
        .litellm_model_name
        .clone()
        .unwrap_or_else(|| payload.model.clone());
    let mut generation = json!({
        "id": payload.id,
        "traceId": payload.trace_id,
        "name": payload.metadata.get("generation_name").and_then(Value::as_str).unwrap_or(&name),
        "startTime": start,
        "endTime": end,
        "model": model,
        "modelParameters": payload.model_parameters,
        "input": payload.messages,
        "output": output,
        "usage": {
            "input": payload.prompt_tokens,
            "output": payload.completion_tokens,
            "total": payload.total_tokens,
            "unit": "TOKENS",
        },
        "usageDetails": {
            "input": payload.prompt_tokens,
            "output": payload.completion_tokens,
            "total": payload.total_tokens,
        },
        "costDetails": {"total": payload.response_cost},
        "metadata": metadata,
        "level": if event.is_success() { "DEFAULT" } else { "ERROR" },
    });
    if payload.stream {
        generation["completionStartTime"] =
            Value::String(super::iso8601(payload.completion_start_time));
    }
    if let Some(error) = &payload.error_str {
        generation["statusMessage"] = Value::String(error.clone());
    }
    let envelope = |kind: &str, body: Value| {
        json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "timestamp": end,
            "type": kind,
            "body": body,
        })
    };
    [
        envelope("trace-create", trace),
        envelope("generation-create", generation),
    ]
}

impl Sink for Langfuse {
    type Item = Arc<Event>;

    fn name(&self) -> &'static str {
        "langfuse"
    }

    fn deliver<'a>(&'a self, batch: &'a [Arc<Event>]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let events: Vec<Value> = batch.iter().flat_map(|e| events(e)).collect();
            let body = json!({"batch": events, "metadata": {"sdk_name": "llmrelay"}});
            let answer = crate::http::send(
                self.client
                    .post(&self.url)
                    .header("authorization", &self.authorization)
                    .json(&body),
            )
            .await?;
            // 207: input errors are reported per event and not worth retrying.
            if let Ok(answer) = serde_json::from_slice::<Value>(&answer)
                && let Some(errors) = answer.get("errors").and_then(Value::as_array)
                && !errors.is_empty()
            {
                let errors = Value::Array(errors.clone());
                tracing::warn!(%errors, "langfuse refused some events");
            }
            Ok(())
        })
    }
}
