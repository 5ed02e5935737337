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
use serde::Serialize;
use serde_json::Value;

use llmrelay_pipeline::StandardLoggingPayload;

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
fn output(response: Option<&Value>) -> Option<&Value> {
    let response = response?;
    match response.get("choices").and_then(|c| c.get(0)) {
        Some(choice) => choice.get("message").or_else(|| choice.get("text")),
        None => Some(response),
    }
}

/// The payload's metadata without its null fields, plus `model_group` and `cache_hit`
/// (serialized in place: nothing is copied).
struct Metadata<'a>(&'a StandardLoggingPayload);

impl Serialize for Metadata<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let payload = self.0;
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in &payload.metadata {
            if !value.is_null() && key != "model_group" && key != "cache_hit" {
                map.serialize_entry(key, value)?;
            }
        }
        if let Some(group) = &payload.model_group {
            map.serialize_entry("model_group", group)?;
        }
        map.serialize_entry("cache_hit", &payload.cache_hit)?;
        map.end()
    }
}

#[derive(Serialize)]
struct Envelope<'a, B> {
    id: String,
    timestamp: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    body: B,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TraceBody<'a> {
    id: &'a str,
    timestamp: &'a str,
    name: &'a str,
    user_id: Option<&'a str>,
    session_id: Option<&'a str>,
    input: &'a Value,
    output: Option<&'a Value>,
    metadata: Metadata<'a>,
    tags: &'a [Value],
}

#[derive(Serialize)]
struct Usage {
    input: u64,
    output: u64,
    total: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'static str>,
}

#[derive(Serialize)]
struct Cost {
    total: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerationBody<'a> {
    id: &'a str,
    trace_id: &'a str,
    name: &'a str,
    start_time: &'a str,
    end_time: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_start_time: Option<String>,
    model: &'a str,
    model_parameters: &'a serde_json::Map<String, Value>,
    input: &'a Value,
    output: Option<&'a Value>,
    usage: Usage,
    usage_details: Usage,
    cost_details: Cost,
    metadata: Metadata<'a>,
    level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_message: Option<&'a str>,
}

/// Times of one call, formatted once.
struct Times {
    start: String,
    end: String,
    name: String,
}

/// Write the two ingestion events of one call (`trace-create`, `generation-create`) as
/// array elements.
fn write_events(event: &Event, times: &Times, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let payload = &*event.payload;
    let meta_str = |key: &str| payload.metadata.get(key).and_then(Value::as_str);
    let name = meta_str("trace_name").unwrap_or(&times.name);
    let output = output(payload.response.as_ref());
    let element = |out: &mut Vec<u8>, value: &dyn ErasedJson| {
        if out.last() != Some(&b'[') {
            out.push(b',');
        }
        value.write_json(out)
    };
    element(
        out,
        &Envelope {
            id: uuid::Uuid::new_v4().to_string(),
            timestamp: &times.end,
            kind: "trace-create",
            body: TraceBody {
                id: &payload.trace_id,
                timestamp: &times.start,
                name,
                user_id: payload.end_user.as_deref(),
                session_id: meta_str("session_id"),
                input: &payload.messages,
                output,
                metadata: Metadata(payload),
                tags: &payload.request_tags,
            },
        },
    )?;
    let usage = || Usage {
        input: payload.prompt_tokens,
        output: payload.completion_tokens,
        total: payload.total_tokens,
        unit: None,
    };
    element(
        out,
        &Envelope {
            id: uuid::Uuid::new_v4().to_string(),
            timestamp: &times.end,
            kind: "generation-create",
            body: GenerationBody {
                id: &payload.id,
                trace_id: &payload.trace_id,
                name: meta_str("generation_name").unwrap_or(&times.name),
                start_time: &times.start,
                end_time: &times.end,
                completion_start_time: payload
                    .stream
                    .then(|| super::iso8601(payload.completion_start_time)),
                model: payload
                    .hidden_params
                    .litellm_model_name
                    .as_deref()
                    .unwrap_or(&payload.model),
                model_parameters: &payload.model_parameters,
                input: &payload.messages,
                output,
                usage: Usage {
                    unit: Some("TOKENS"),
                    ..usage()
                },
                usage_details: usage(),
                cost_details: Cost {
                    total: payload.response_cost,
                },
                metadata: Metadata(payload),
                level: if event.is_success() {
                    "DEFAULT"
                } else {
                    "ERROR"
                },
                status_message: payload.error_str.as_deref(),
            },
        },
    )
}

/// A value written as JSON (the two envelope types through one writer).
trait ErasedJson {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

impl<T: Serialize> ErasedJson for T {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

/// The ingestion request body of a batch: `{"batch": [...], "metadata": {...}}`.
///
/// # Errors
/// Never in practice (serializing JSON values into memory).
pub fn body(batch: &[Arc<Event>]) -> serde_json::Result<Vec<u8>> {
    let times: Vec<Times> = batch
        .iter()
        .map(|event| Times {
            start: super::iso8601(event.payload.start_time),
            end: super::iso8601(event.payload.end_time),
            name: format!("litellm-{}", event.payload.call_type),
        })
        .collect();
    let mut out = Vec::with_capacity(batch.len() * 2048);
    out.extend_from_slice(b"{\"batch\":[");
    for (event, times) in batch.iter().zip(&times) {
        write_events(event, times, &mut out)?;
    }
    out.extend_from_slice(b"],\"metadata\":{\"sdk_name\":\"llmrelay\"}}");
    Ok(out)
}

impl Sink for Langfuse {
    type Item = Arc<Event>;

    fn name(&self) -> &'static str {
        "langfuse"
    }

    fn deliver<'a>(&'a self, batch: &'a [Arc<Event>]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let body = body(batch).map_err(|e| e.to_string())?;
            let answer = crate::http::send(
                self.client
                    .post(&self.url)
                    .header("authorization", &self.authorization)
                    .header("content-type", "application/json")
                    .body(body),
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
