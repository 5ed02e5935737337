//! LiteLLM's `StandardLoggingPayload` (`kwargs["standard_logging_object"]`), built once per
//! call in Rust and handed identically to SDK callbacks, proxy hooks and integrations.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value, json};

use llmrelay_core::clock::epoch_seconds;
use llmrelay_providers::engine::Request;

use crate::call::Call;
use crate::record::CallRecord;

/// An addition a layer makes to the logging payload when it is built.
pub type PayloadEdit = dyn Fn(&Call, &CallRecord, &mut StandardLoggingPayload) + Send + Sync;

/// Additions layers make to the logging payload when it is built (guardrail records, the
/// logged copies `logging_only` guardrails mask), kept in `Call::extensions`; they run in the
/// order they were added.
#[derive(Clone, Default)]
pub struct PayloadEdits(Vec<Arc<PayloadEdit>>);

impl PayloadEdits {
    /// Adds an edit to the call's payload.
    pub fn add(
        extensions: &mut http::Extensions,
        edit: impl Fn(&Call, &CallRecord, &mut StandardLoggingPayload) + Send + Sync + 'static,
    ) {
        let edit: Arc<PayloadEdit> = Arc::new(edit);
        match extensions.get_mut::<Self>() {
            Some(edits) => edits.0.push(edit),
            None => {
                extensions.insert(Self(vec![edit]));
            }
        }
    }
}

/// `status_fields`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatusFields {
    pub llm_api_status: &'static str,
    pub guardrail_status: &'static str,
}

/// `model_map_information`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelMapInformation {
    pub model_map_key: String,
    pub model_map_value: Option<Value>,
}

/// `error_information`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorInformation {
    pub error_code: String,
    pub error_class: String,
    pub llm_provider: String,
    pub traceback: String,
    pub error_message: String,
}

/// `hidden_params`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PayloadHiddenParams {
    pub model_id: Option<String>,
    pub cache_key: Option<String>,
    pub api_base: Option<String>,
    pub response_cost: Option<f64>,
    pub additional_headers: Map<String, Value>,
    pub litellm_model_name: Option<String>,
}

/// The payload, field for field as LiteLLM names them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StandardLoggingPayload {
    pub id: String,
    pub trace_id: String,
    pub litellm_call_id: String,
    pub call_type: &'static str,
    pub stream: bool,
    pub status: &'static str,
    pub status_fields: StatusFields,
    pub response_cost: f64,
    pub cost_breakdown: Option<Value>,
    pub total_tokens: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    #[serde(rename = "startTime")]
    pub start_time: f64,
    #[serde(rename = "endTime")]
    pub end_time: f64,
    #[serde(rename = "completionStartTime")]
    pub completion_start_time: f64,
    pub response_time: f64,
    pub model: String,
    pub model_id: Option<String>,
    pub model_group: Option<String>,
    pub custom_llm_provider: Option<String>,
    pub model_map_information: ModelMapInformation,
    pub api_base: String,
    pub cache_hit: bool,
    pub cache_key: Option<String>,
    pub saved_cache_cost: f64,
    pub metadata: Map<String, Value>,
    pub request_tags: Vec<Value>,
    pub end_user: Option<String>,
    pub requester_ip_address: Option<String>,
    pub messages: Value,
    pub response: Option<Value>,
    pub error_str: Option<String>,
    pub error_information: Option<ErrorInformation>,
    pub model_parameters: Map<String, Value>,
    pub hidden_params: PayloadHiddenParams,
    pub guardrail_information: Option<Value>,
}

/// `StandardLoggingMetadata` keys LiteLLM always sets (unset ones as null).
const METADATA_KEYS: &[&str] = &[
    "user_api_key_hash",
    "user_api_key_alias",
    "user_api_key_spend",
    "user_api_key_max_budget",
    "user_api_key_budget_reset_at",
    "user_api_key_user_id",
    "user_api_key_user_email",
    "user_api_key_team_id",
    "user_api_key_team_alias",
    "user_api_key_org_id",
    "user_api_key_end_user_id",
    "user_api_key_request_route",
    "spend_logs_metadata",
    "requester_ip_address",
    "requester_metadata",
    "requester_custom_headers",
    "prompt_management_metadata",
    "mcp_tool_call_metadata",
    "vector_store_request_metadata",
    "applied_guardrails",
    "usage_object",
];

/// Request keys that are not model parameters.
const NOT_PARAMETERS: &[&str] = &["model", "messages", "prompt", "input"];

fn metadata(call: &Call) -> Map<String, Value> {
    let mut metadata: Map<String, Value> = METADATA_KEYS
        .iter()
        .map(|key| ((*key).to_owned(), Value::Null))
        .collect();
    let identity = &call.identity;
    let mut put = |key: &str, value: Option<&String>| {
        if let Some(value) = value {
            metadata.insert(key.to_owned(), Value::String(value.clone()));
        }
    };
    put("user_api_key_hash", identity.key_hash.as_ref());
    put("user_api_key_alias", identity.key_alias.as_ref());
    put("user_api_key_user_id", identity.user_id.as_ref());
    put("user_api_key_user_email", identity.user_email.as_ref());
    put("user_api_key_team_id", identity.team_id.as_ref());
    put("user_api_key_team_alias", identity.team_alias.as_ref());
    put("user_api_key_org_id", identity.org_id.as_ref());
    put("user_api_key_end_user_id", identity.end_user_id.as_ref());
    if let crate::call::Origin::Proxy(route) = call.origin {
        metadata.insert(
            "user_api_key_request_route".to_owned(),
            Value::String(route.to_owned()),
        );
    }
    if let Some(request_metadata) = call.metadata() {
        for (key, value) in request_metadata {
            metadata.insert(key.clone(), value.clone());
        }
    }
    metadata
}

/// The input as LiteLLM logs it (`messages`): chat messages, else the prompt or input.
#[must_use]
pub fn messages(request: &Request) -> Value {
    match request {
        Request::Chat(chat) => serde_json::to_value(&chat.messages).unwrap_or(Value::Null),
        Request::Responses(call) => {
            serde_json::to_value(&call.chat.messages).unwrap_or(Value::Null)
        }
        Request::Text(text) => text.prompt.clone(),
        Request::Embedding(embedding) => embedding.input.clone(),
        Request::Operation { body, .. } => body
            .get("input")
            .or_else(|| body.get("prompt"))
            .or_else(|| body.get("query"))
            .cloned()
            .unwrap_or(Value::Null),
        // The provider's own shape: OpenAI's and Anthropic's `messages`, Gemini's `contents`.
        Request::PassThrough(pass) => pass
            .body
            .as_ref()
            .and_then(|body| {
                ["messages", "contents", "input", "prompt"]
                    .iter()
                    .find_map(|key| body.get(*key))
            })
            .cloned()
            .unwrap_or(Value::Null),
    }
}

fn model_parameters(request: &Request) -> Map<String, Value> {
    let mut parameters = request.to_map();
    for key in NOT_PARAMETERS {
        parameters.remove(*key);
    }
    parameters.retain(|_, value| !value.is_null());
    parameters
}

impl StandardLoggingPayload {
    /// The payload of a finished call.
    #[must_use]
    pub fn build(call: &Call, record: &CallRecord) -> Self {
        let usage = record.usage.as_ref();
        let prompt_tokens = usage.map_or(0, |u| u.prompt_tokens);
        let completion_tokens = usage.map_or(0, |u| u.completion_tokens);
        let start_time = epoch_seconds(call.started_wall);
        let end_time = epoch_seconds(record.end_time);
        let completion_start_time = record.completion_start_time.map_or(end_time, epoch_seconds);
        let hidden = record.hidden.as_ref();
        let metadata = metadata(call);
        let provider = hidden
            .map(|h| h.custom_llm_provider.clone())
            .filter(|p| !p.is_empty())
            .or_else(|| call.options.custom_llm_provider.clone());
        let error_information = record.error.as_ref().map(|error| ErrorInformation {
            error_code: error.status_code().to_string(),
            error_class: error.kind().litellm_class().to_owned(),
            llm_provider: error
                .inner()
                .provider
                .clone()
                .or_else(|| provider.clone())
                .unwrap_or_default(),
            traceback: String::new(),
            error_message: error.to_string(),
        });
        let model_group = Some(record.route.model_group.clone())
            .filter(|g| !g.is_empty())
            .or_else(|| {
                metadata
                    .get("model_group")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        let request_tags = call
            .tags
            .as_slice()
            .iter()
            .map(|tag| Value::String(tag.clone()))
            .collect();
        let api_base = hidden
            .and_then(|h| h.api_base.clone())
            .or_else(|| call.options.api_base.clone())
            .unwrap_or_default();
        let additional_headers: Map<String, Value> = hidden
            .map(|h| {
                h.headers
                    .iter()
                    .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                    .collect()
            })
            .unwrap_or_default();
        let litellm_model_name = hidden.map(|h| h.model.clone()).filter(|m| !m.is_empty());
        let model = call.model_group.clone();
        let mut payload = Self {
            id: call.id.to_string(),
            trace_id: call
                .options
                .other
                .get("litellm_trace_id")
                .and_then(Value::as_str)
                .map_or_else(|| call.id.to_string(), str::to_owned),
            litellm_call_id: call.id.to_string(),
            call_type: call.call_type(),
            stream: record.stream,
            status: record.status.as_str(),
            status_fields: StatusFields {
                llm_api_status: record.status.as_str(),
                guardrail_status: "not_run",
            },
            response_cost: record.cost.unwrap_or(0.0),
            cost_breakdown: None,
            total_tokens: prompt_tokens + completion_tokens,
            prompt_tokens,
            completion_tokens,
            start_time,
            end_time,
            completion_start_time,
            response_time: end_time - start_time,
            model_id: hidden.and_then(|h| h.model_id.clone()),
            model_group,
            custom_llm_provider: provider,
            model_map_information: ModelMapInformation {
                model_map_key: litellm_model_name.clone().unwrap_or_else(|| model.clone()),
                model_map_value: None,
            },
            model,
            api_base,
            cache_hit: record.cache_hit,
            cache_key: hidden.and_then(|h| h.cache_key.clone()),
            saved_cache_cost: 0.0,
            end_user: call.request.user().map(str::to_owned),
            request_tags,
            metadata,
            requester_ip_address: None,
            messages: messages(&call.request),
            response: record.response.clone(),
            error_str: record.error.as_ref().map(ToString::to_string),
            error_information,
            model_parameters: model_parameters(&call.request),
            hidden_params: PayloadHiddenParams {
                model_id: hidden.and_then(|h| h.model_id.clone()),
                cache_key: hidden.and_then(|h| h.cache_key.clone()),
                api_base: hidden.and_then(|h| h.api_base.clone()),
                response_cost: record.cost,
                additional_headers,
                litellm_model_name,
            },
            guardrail_information: None,
        };
        if let Some(edits) = call.extensions.get::<PayloadEdits>() {
            for edit in &edits.0 {
                edit(call, record, &mut payload);
            }
        }
        payload
    }

    /// As a JSON value (what Python receives).
    #[must_use]
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }
}
