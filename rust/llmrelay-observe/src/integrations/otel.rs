//! OpenTelemetry traces over OTLP/HTTP (protobuf), built and sent with the official crates
//! (`opentelemetry`, `opentelemetry_sdk`'s `SpanData`, `opentelemetry-otlp`'s exporter): a span
//! per call with the GenAI semantic-convention attributes
//! (<https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/>), a child of the
//! caller's `traceparent` when it sent one. The delivery queue batches the spans; the exporter
//! only encodes and posts them. Settings follow the OTLP exporter's environment variables
//! (<https://opentelemetry.io/docs/specs/otel/protocol/exporter/>) and LiteLLM's
//! `OTEL_ENDPOINT` / `OTEL_HEADERS` / `OTEL_EXPORTER`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue, StringValue};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter as _, SpanLinks};
use serde_json::Value;

use llmrelay_pipeline::delivery::Sink;

use crate::Event;
use crate::settings::Environment;
use crate::trace_context::{self, SpanIds};

#[derive(Debug, Clone)]
pub struct OtelSettings {
    /// The full traces URL (`…/v1/traces`).
    pub endpoint: String,
    pub headers: Vec<(String, String)>,
    pub service_name: String,
    pub resource_attributes: Vec<(String, String)>,
    pub timeout: Duration,
    /// `gen_ai.input.messages` / `gen_ai.output.messages` on spans: opt-in, as the GenAI
    /// conventions say (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`).
    pub capture_content: bool,
}

impl OtelSettings {
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is), else `OTEL_EXPORTER_OTLP_ENDPOINT` or
    /// LiteLLM's `OTEL_ENDPOINT` (+ `/v1/traces`), else `http://localhost:4318/v1/traces`;
    /// headers from `OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `OTEL_EXPORTER_OTLP_HEADERS` /
    /// `OTEL_HEADERS`; `OTEL_SERVICE_NAME` (default `litellm`), `OTEL_RESOURCE_ATTRIBUTES`.
    ///
    /// # Errors
    /// A protocol other than OTLP/HTTP protobuf is asked for.
    pub fn from_env(environment: &Environment) -> Result<Self, String> {
        let protocol = environment.first(&[
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER",
        ]);
        if let Some(protocol) = protocol {
            let protocol = protocol.trim().to_ascii_lowercase();
            if !matches!(
                protocol.as_str(),
                "http/protobuf" | "otlp_http" | "http" | "otlp"
            ) {
                return Err(format!(
                    "otel: exporter protocol {protocol:?} is not available in llmrelay (use http/protobuf)"
                ));
            }
        }
        let endpoint = match environment.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            Some(endpoint) => endpoint,
            None => {
                let base = environment
                    .first(&["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_ENDPOINT"])
                    .unwrap_or_else(|| "http://localhost:4318".to_owned());
                let base = base.trim_end_matches('/');
                if base.ends_with("/v1/traces") {
                    base.to_owned()
                } else {
                    format!("{base}/v1/traces")
                }
            }
        };
        let headers = environment
            .first(&[
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "OTEL_EXPORTER_OTLP_HEADERS",
                "OTEL_HEADERS",
            ])
            .map(|h| super::header_list(&h))
            .unwrap_or_default();
        let timeout = environment
            .first(&[
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                "OTEL_EXPORTER_OTLP_TIMEOUT",
            ])
            .and_then(|ms| ms.trim().parse::<u64>().ok())
            .map_or(Duration::from_secs(10), Duration::from_millis);
        Ok(Self {
            endpoint,
            headers,
            service_name: environment
                .get("OTEL_SERVICE_NAME")
                .unwrap_or_else(|| "litellm".to_owned()),
            resource_attributes: environment
                .get("OTEL_RESOURCE_ATTRIBUTES")
                .map(|a| super::header_list(&a))
                .unwrap_or_default(),
            timeout,
            capture_content: environment
                .get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        })
    }
}

pub struct Otel {
    exporter: opentelemetry_otlp::SpanExporter,
    scope: InstrumentationScope,
    capture_content: bool,
}

impl Otel {
    /// # Errors
    /// The exporter cannot be built (a malformed endpoint).
    pub fn new(settings: &OtelSettings) -> Result<Self, String> {
        let headers: HashMap<String, String> = settings.headers.iter().cloned().collect();
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(crate::http::OtelHttpClient(crate::http::client()?))
            .with_endpoint(settings.endpoint.clone())
            .with_headers(headers)
            .with_timeout(settings.timeout)
            .build()
            .map_err(|e| format!("otel: {e}"))?;
        let resource = Resource::builder_empty()
            .with_attributes(
                settings
                    .resource_attributes
                    .iter()
                    .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
            )
            .with_service_name(settings.service_name.clone())
            .build();
        exporter.set_resource(&resource);
        Ok(Self {
            exporter,
            scope: InstrumentationScope::builder("llmrelay")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
            capture_content: settings.capture_content,
        })
    }

    /// The span of one call.
    #[must_use]
    pub fn span(&self, event: &Event) -> SpanData {
        span(event, self.scope.clone(), self.capture_content)
    }
}

fn time(epoch_seconds: f64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs_f64(epoch_seconds.max(0.0))
}

/// GenAI `gen_ai.operation.name` of a LiteLLM call type.
fn operation(call_type: &str) -> &'static str {
    let call_type = call_type.trim_start_matches('a');
    match call_type {
        "completion" | "anthropic_messages" => "chat",
        "text_completion" => "text_completion",
        "embedding" => "embeddings",
        "responses" => "chat",
        _ => "generate_content",
    }
}

/// The span of `event` (`scope` names the instrumentation; `capture_content` adds the
/// messages and the answer).
#[must_use]
pub fn span(event: &Event, scope: InstrumentationScope, capture_content: bool) -> SpanData {
    let payload = &event.payload;
    let ids = event.span.unwrap_or_else(|| {
        SpanIds::for_call(
            event.trace_parent.as_ref(),
            trace_context::trace_id_of(&payload.trace_id),
        )
    });
    let (trace_id, span_id, sampled) = (ids.trace_id, ids.span_id, ids.sampled);
    let (parent_span_id, parent_is_remote) = event
        .trace_parent
        .map_or((0, false), |parent| (parent.parent_span_id, true));
    let span_context = SpanContext::new(
        TraceId::from(trace_id),
        SpanId::from(span_id),
        if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        },
        false,
        TraceState::default(),
    );
    let operation = operation(payload.call_type);
    let mut attributes = vec![
        KeyValue::new("gen_ai.operation.name", operation),
        KeyValue::new("gen_ai.request.model", payload.model.clone()),
        KeyValue::new("gen_ai.usage.input_tokens", payload.prompt_tokens as i64),
        KeyValue::new(
            "gen_ai.usage.output_tokens",
            payload.completion_tokens as i64,
        ),
        KeyValue::new("litellm.call_id", payload.litellm_call_id.clone()),
        KeyValue::new("litellm.call_type", payload.call_type),
        KeyValue::new("litellm.response_cost", payload.response_cost),
        KeyValue::new("litellm.cache_hit", payload.cache_hit),
        KeyValue::new("litellm.stream", payload.stream),
    ];
    if let Some(provider) = &payload.custom_llm_provider {
        attributes.push(KeyValue::new("gen_ai.provider.name", provider.clone()));
        attributes.push(KeyValue::new("gen_ai.system", provider.clone()));
    }
    if let Some(group) = &payload.model_group {
        attributes.push(KeyValue::new("litellm.model_group", group.clone()));
    }
    if let Some(deployment) = event.deployment() {
        attributes.push(KeyValue::new("litellm.deployment", deployment.to_owned()));
    }
    for (key, name) in [
        ("temperature", "gen_ai.request.temperature"),
        ("top_p", "gen_ai.request.top_p"),
        ("max_tokens", "gen_ai.request.max_tokens"),
        ("max_completion_tokens", "gen_ai.request.max_tokens"),
        ("frequency_penalty", "gen_ai.request.frequency_penalty"),
        ("presence_penalty", "gen_ai.request.presence_penalty"),
        ("seed", "gen_ai.request.seed"),
    ] {
        match payload.model_parameters.get(key) {
            Some(Value::Number(n)) if n.is_i64() => {
                attributes.push(KeyValue::new(name, n.as_i64().unwrap_or_default()));
            }
            Some(Value::Number(n)) => {
                attributes.push(KeyValue::new(name, n.as_f64().unwrap_or_default()));
            }
            _ => {}
        }
    }
    for (key, name) in [
        ("user_api_key_alias", "litellm.api_key_alias"),
        ("user_api_key_team_id", "litellm.team_id"),
        ("user_api_key_team_alias", "litellm.team_alias"),
        ("user_api_key_user_id", "litellm.user_id"),
    ] {
        if let Some(value) = event.metadata_str(key) {
            attributes.push(KeyValue::new(name, value.to_owned()));
        }
    }
    if let Some(response) = &payload.response {
        if let Some(id) = response.get("id").and_then(Value::as_str) {
            attributes.push(KeyValue::new("gen_ai.response.id", id.to_owned()));
        }
        if let Some(model) = response.get("model").and_then(Value::as_str) {
            attributes.push(KeyValue::new("gen_ai.response.model", model.to_owned()));
        }
        let reasons: Vec<StringValue> = response
            .get("choices")
            .and_then(Value::as_array)
            .map(|choices| {
                choices
                    .iter()
                    .filter_map(|c| c.get("finish_reason").and_then(Value::as_str))
                    .map(|r| StringValue::from(r.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        if !reasons.is_empty() {
            attributes.push(KeyValue::new(
                "gen_ai.response.finish_reasons",
                opentelemetry::Value::Array(opentelemetry::Array::String(reasons)),
            ));
        }
        if capture_content {
            attributes.push(KeyValue::new(
                "gen_ai.output.messages",
                response
                    .get("choices")
                    .map_or_else(|| response.to_string(), Value::to_string),
            ));
        }
    } else if let Some(model) = &payload.hidden_params.litellm_model_name {
        attributes.push(KeyValue::new("gen_ai.response.model", model.clone()));
    }
    if capture_content && !payload.messages.is_null() {
        attributes.push(KeyValue::new(
            "gen_ai.input.messages",
            payload.messages.to_string(),
        ));
    }
    let status = match &payload.error_information {
        Some(error) => {
            attributes.push(KeyValue::new("error.type", error.error_class.clone()));
            Status::error(error.error_message.clone())
        }
        None if event.is_success() => Status::Ok,
        None => Status::error(payload.error_str.clone().unwrap_or_default()),
    };
    // A proxied call is the server side of the caller's request; an SDK call is a client.
    let span_kind = if payload
        .metadata
        .get("user_api_key_request_route")
        .is_some_and(|r| !r.is_null())
    {
        SpanKind::Server
    } else {
        SpanKind::Client
    };
    SpanData {
        span_context,
        parent_span_id: SpanId::from(parent_span_id),
        parent_span_is_remote: parent_is_remote,
        span_kind,
        name: Cow::Owned(format!("{operation} {}", payload.model)),
        start_time: time(payload.start_time),
        end_time: time(payload.end_time),
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status,
        instrumentation_scope: scope,
    }
}

impl Sink for Otel {
    type Item = Arc<Event>;

    fn name(&self) -> &'static str {
        "otel"
    }

    fn deliver<'a>(&'a self, batch: &'a [Arc<Event>]) -> BoxFuture<'a, Result<(), String>> {
        let spans: Vec<SpanData> = batch.iter().map(|e| self.span(e)).collect();
        Box::pin(async move {
            self.exporter
                .export(spans)
                .await
                .map_err(|e| format!("otel: {e}"))
        })
    }
}
