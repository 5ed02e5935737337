//! OpenAI-compatible providers as data: one row per provider (base URL, key and base
//! environment variables, supported parameters, quirks), one implementation for all.
//!
//! Every row follows LiteLLM 1.104's provider configuration (`get_llm_provider_logic.py`,
//! `llms/<provider>/chat/transformation.py`): the same default base, the same environment
//! variable names in the same order, and the list `get_supported_openai_params` returns.

use serde_json::{Map, Value};

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
    TextCompletionRequest, TextCompletionResponse,
};
use llmrelay_core::{Error, Result};

use crate::openai::{
    ChatDecoder, TextCompletionDecoder, chat_body, embedding_body, parse_chat, parse_embedding,
    parse_error, parse_text_completion, post, text_completion_body,
};
use crate::params;
use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider};

/// How a provider's dialect of the Chat Completions body differs from OpenAI's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quirks {
    /// The server reads `max_tokens` only: `max_completion_tokens` is sent under that name.
    pub max_tokens_only: bool,
    /// `tool_choice: "required"` is spelled `"any"` (Mistral).
    pub required_tool_choice_is_any: bool,
    /// Model ids are sent with this prefix when they lack it (Fireworks' `accounts/…` paths).
    pub model_prefix: Option<&'static str>,
    /// Message content given as a list of text parts is sent as one string (PublicAI).
    pub content_list_to_string: bool,
    /// `temperature` is capped at this value (SCX).
    pub temperature_max: Option<f64>,
    /// `store` is always sent as `false` (Parasail).
    pub store_false: bool,
}

impl Quirks {
    pub(crate) const NONE: Quirks = Quirks {
        max_tokens_only: false,
        required_tool_choice_is_any: false,
        model_prefix: None,
        content_list_to_string: false,
        temperature_max: None,
        store_false: false,
    };
    pub(crate) const MAX_TOKENS: Quirks = Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    };

    fn apply(self, body: &mut Map<String, Value>) {
        if self.max_tokens_only {
            if let Some(value) = body.remove("max_completion_tokens") {
                body.entry("max_tokens").or_insert(value);
            }
        }
        if self.required_tool_choice_is_any
            && body.get("tool_choice").and_then(Value::as_str) == Some("required")
        {
            body.insert("tool_choice".to_owned(), Value::from("any"));
        }
        if let Some(prefix) = self.model_prefix {
            if let Some(Value::String(model)) = body.get_mut("model") {
                if !model.starts_with("accounts/") {
                    model.insert_str(0, prefix);
                }
            }
        }
        if self.content_list_to_string {
            if let Some(Value::Array(messages)) = body.get_mut("messages") {
                for message in messages {
                    flatten_text_parts(message);
                }
            }
        }
        if self.store_false {
            body.insert("store".to_owned(), Value::Bool(false));
        }
        if let Some(max) = self.temperature_max {
            if let Some(value) = body.get_mut("temperature") {
                if value.as_f64().is_some_and(|t| t > max) {
                    *value = Value::from(max);
                }
            }
        }
    }
}

/// `content: [{"type": "text", "text": …}, …]` becomes the texts joined, when every part is text.
fn flatten_text_parts(message: &mut Value) {
    let Some(Value::Array(parts)) = message.get("content") else {
        return;
    };
    let texts: Option<Vec<&str>> = parts
        .iter()
        .map(|part| {
            (part.get("type").and_then(Value::as_str) == Some("text"))
                .then(|| part.get("text").and_then(Value::as_str))
                .flatten()
        })
        .collect();
    if let Some(texts) = texts {
        let joined = texts.concat();
        message["content"] = Value::from(joined);
    }
}

/// A base URL built from one value (a cloud region, an account id): `{value}` in the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateBase {
    pub template: &'static str,
    /// The call's credential that gives the value (`aws_region_name=`), read first.
    pub credential: Option<&'static str>,
    /// Environment variables that give the value, first set wins.
    pub env: &'static [&'static str],
    /// The value when nothing gives one; without it the call needs `api_base=`.
    pub default: Option<&'static str>,
}

/// The endpoints a row serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Serves {
    pub chat: bool,
    pub embeddings: bool,
    pub text_completion: bool,
}

impl Serves {
    pub(crate) const ALL: Serves = Serves {
        chat: true,
        embeddings: true,
        text_completion: true,
    };
    pub(crate) const CHAT: Serves = Serves {
        chat: true,
        embeddings: false,
        text_completion: false,
    };
    pub(crate) const CHAT_EMBEDDINGS: Serves = Serves {
        chat: true,
        embeddings: true,
        text_completion: false,
    };
    pub(crate) const EMBEDDINGS: Serves = Serves {
        chat: false,
        embeddings: true,
        text_completion: false,
    };
}

/// An OpenAI-compatible server, described by data.
#[derive(Debug, Clone, Copy)]
pub struct OpenAiCompatible {
    pub name: &'static str,
    pub default_base: Option<&'static str>,
    pub key_env: &'static [&'static str],
    pub base_env: &'static [&'static str],
    pub key_required: bool,
    /// The OpenAI chat parameters the provider accepts (LiteLLM's list for it).
    pub params: &'static [&'static str],
    pub quirks: Quirks,
    /// The documentation page the row follows (the provider's API reference, or LiteLLM's page
    /// for the provider where that is where its configuration is stated).
    pub doc: &'static str,
    /// The path appended to the base for chat (`/chat/completions`, or `/v1/chat/completions`
    /// for a provider whose base has no version path).
    pub chat_path: &'static str,
    pub serves: Serves,
    /// A base computed from a region or an account, used when neither the call nor the
    /// environment gives one.
    pub template_base: Option<TemplateBase>,
    /// LiteLLM's JSON-configured providers (`llms/openai_like/providers.json`): the tool
    /// parameters are unsupported for a model the price map does not mark
    /// `supports_function_calling`, and `reasoning_effort` is supported for one it marks
    /// `supports_reasoning`.
    pub model_aware_params: bool,
    /// The key sent when none is configured (LiteLLM's placeholder is `fake-api-key`).
    pub placeholder_key: Option<&'static str>,
    /// A header that carries the key too, besides `Authorization: Bearer` (Sarvam).
    pub key_header: Option<&'static str>,
    /// The embedding body's name for `dimensions` (Voyage: `output_dimension`).
    pub dimensions_as: Option<&'static str>,
}

const TOOL_PARAMS: &[&str] = &[
    "tools",
    "tool_choice",
    "function_call",
    "functions",
    "parallel_tool_calls",
];

impl OpenAiCompatible {
    /// The parameters this provider accepts for `model`.
    #[must_use]
    pub fn params_for(&self, model: &str) -> Vec<&'static str> {
        if !self.model_aware_params {
            return self.params.to_vec();
        }
        let catalog = llmrelay_core::catalog::global();
        let entry = catalog.lookup(model, Some(self.name));
        let flag = |name: &str| entry.is_some_and(|e| e.flag(name));
        let mut params: Vec<&'static str> = self.params.to_vec();
        if !flag("supports_function_calling") {
            params.retain(|p| !TOOL_PARAMS.contains(p));
        }
        if flag("supports_reasoning") && !params.contains(&"reasoning_effort") {
            params.push("reasoning_effort");
        }
        params
    }

    /// The Chat Completions body for this provider: unsupported parameters rejected (or dropped
    /// with `drop_params`), then the provider's quirks applied.
    ///
    /// # Errors
    /// `UnsupportedParams`, or a body that cannot be serialized.
    pub fn chat_body(&self, request: &ChatRequest, drop_params: bool) -> Result<Vec<u8>> {
        let bytes = chat_body(request)?;
        let mut body: Map<String, Value> = serde_json::from_slice(&bytes)?;
        let before = body.len();
        let supported = self.params_for(&request.model);
        params::enforce(
            &mut body,
            &supported,
            self.name,
            &request.model,
            drop_params,
        )?;
        if self.quirks == Quirks::NONE && body.len() == before {
            return Ok(bytes);
        }
        self.quirks.apply(&mut body);
        Ok(serde_json::to_vec(&body)?)
    }

    fn post(&self, endpoint: &Endpoint, path: &str, body: Vec<u8>) -> HttpRequest {
        let mut request = match (self.placeholder_key, endpoint.api_key.as_deref()) {
            (Some(placeholder), None | Some("")) => {
                let endpoint = Endpoint {
                    api_key: Some(placeholder.to_owned()),
                    ..endpoint.clone()
                };
                post(&endpoint, path, body)
            }
            _ => post(endpoint, path, body),
        };
        if let (Some(header), Some(key)) = (self.key_header, endpoint.api_key.as_deref()) {
            request.headers.push((header.to_owned(), key.to_owned()));
        }
        request
    }

    fn not_served(&self, what: &str) -> Error {
        Error::bad_request(format!("{} does not support {what}", self.name))
    }

    // Const builders for the rows of `registry::COMPATIBLE`.
    pub(crate) const fn doc(self, doc: &'static str) -> Self {
        Self { doc, ..self }
    }
    pub(crate) const fn params(self, params: &'static [&'static str]) -> Self {
        Self { params, ..self }
    }
    pub(crate) const fn quirks(self, quirks: Quirks) -> Self {
        Self { quirks, ..self }
    }
    pub(crate) const fn chat_path(self, chat_path: &'static str) -> Self {
        Self { chat_path, ..self }
    }
    pub(crate) const fn serves(self, serves: Serves) -> Self {
        Self { serves, ..self }
    }
    pub(crate) const fn template_base(self, template_base: TemplateBase) -> Self {
        Self {
            template_base: Some(template_base),
            ..self
        }
    }
    /// A provider of LiteLLM's `providers.json`.
    pub(crate) const fn json_provider(self) -> Self {
        Self {
            model_aware_params: true,
            ..self
        }
    }
    pub(crate) const fn placeholder_key(self, key: &'static str) -> Self {
        Self {
            placeholder_key: Some(key),
            ..self
        }
    }
    pub(crate) const fn key_header(self, header: &'static str) -> Self {
        Self {
            key_header: Some(header),
            ..self
        }
    }
    pub(crate) const fn dimensions_as(self, name: &'static str) -> Self {
        Self {
            dimensions_as: Some(name),
            ..self
        }
    }
}

impl Provider for OpenAiCompatible {
    fn name(&self) -> &str {
        self.name
    }
    fn default_api_base(&self) -> Option<&str> {
        self.default_base
    }
    fn api_key_env(&self) -> &[&'static str] {
        self.key_env
    }
    fn api_base_env(&self) -> &[&'static str] {
        self.base_env
    }
    fn requires_api_key(&self) -> bool {
        self.key_required
    }
    fn derived_api_base(&self, credentials: &Map<String, Value>) -> Option<String> {
        let base = self.template_base?;
        let value = base
            .credential
            .and_then(|key| credentials.get(key))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .or_else(|| {
                base.env
                    .iter()
                    .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            })
            .or_else(|| base.default.map(str::to_owned))?;
        Some(base.template.replace("{value}", &value))
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        if !self.serves.chat {
            return Err(self.not_served("completion"));
        }
        let body = self.chat_body(request, endpoint.drop_params)?;
        let path = if endpoint
            .api_base
            .trim_end_matches('/')
            .ends_with(self.chat_path)
        {
            ""
        } else {
            self.chat_path
        };
        Ok(self.post(endpoint, path, body))
    }
    fn chat_response(&self, body: &[u8], _request: &ChatRequest) -> Result<ChatResponse> {
        parse_chat(body)
    }
    fn chat_decoder(&self, _request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(ChatDecoder)
    }
    fn text_completion_request(
        &self,
        request: &TextCompletionRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        if !self.serves.text_completion {
            return Err(self.not_served("text_completion"));
        }
        Ok(self.post(endpoint, "/completions", text_completion_body(request)?))
    }
    fn text_completion_response(&self, body: &[u8]) -> Result<TextCompletionResponse> {
        parse_text_completion(body)
    }
    fn text_completion_decoder(&self) -> Box<dyn ChunkDecoder<TextCompletionResponse>> {
        Box::new(TextCompletionDecoder)
    }
    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        if !self.serves.embeddings {
            return Err(self.not_served("embedding"));
        }
        let mut body = embedding_body(request)?;
        if let Some(name) = self.dimensions_as {
            let mut map: Map<String, Value> = serde_json::from_slice(&body)?;
            if let Some(value) = map.remove("dimensions") {
                map.insert(name.to_owned(), value);
                body = serde_json::to_vec(&map)?;
            }
        }
        Ok(self.post(endpoint, "/embeddings", body))
    }
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        parse_embedding(body)
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }
    fn supported_openai_params(&self, model: &str) -> Option<Vec<&'static str>> {
        Some(self.params_for(model))
    }
}

/// LiteLLM's list for a generic OpenAI-compatible server (`OpenAIGPTConfig`).
pub const OPENAI_LIKE_PARAMS: &[&str] = &[
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_tokens",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "function_call",
    "functions",
    "max_retries",
    "extra_headers",
    "parallel_tool_calls",
    "audio",
    "web_search_options",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "store",
    "response_format",
];

/// The generic list plus the reasoning controls (vLLM, DeepSeek).
pub(crate) const REASONING_PARAMS: &[&str] = &[
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_tokens",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "function_call",
    "functions",
    "max_retries",
    "extra_headers",
    "parallel_tool_calls",
    "audio",
    "web_search_options",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "store",
    "response_format",
    "reasoning_effort",
    "thinking",
];

pub(crate) const GROQ_PARAMS: &[&str] = &[
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_tokens",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "function_call",
    "functions",
    "extra_headers",
    "parallel_tool_calls",
    "audio",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "store",
    "response_format",
];

pub(crate) const MISTRAL_PARAMS: &[&str] = &[
    "stream",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "tools",
    "tool_choice",
    "seed",
    "stop",
    "response_format",
    "parallel_tool_calls",
];

pub(crate) const FIREWORKS_PARAMS: &[&str] = &[
    "stream",
    "max_completion_tokens",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "frequency_penalty",
    "presence_penalty",
    "n",
    "stop",
    "response_format",
    "user",
    "logprobs",
    "prompt_truncate_len",
    "context_length_exceeded_behavior",
    "seed",
    "top_logprobs",
    "min_p",
    "typical_p",
    "repetition_penalty",
    "mirostat_target",
    "mirostat_lr",
    "logit_bias",
    "echo",
    "echo_last",
    "ignore_eos",
    "prompt_cache_key",
    "prompt_cache_isolation_key",
    "raw_output",
    "perf_metrics_in_response",
    "return_token_ids",
    "safe_tokenization",
    "service_tier",
    "speculation",
    "prediction",
    "stream_options",
    "sampling_mask",
    "tools",
    "parallel_tool_calls",
];

pub(crate) const XAI_PARAMS: &[&str] = &[
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "n",
    "parallel_tool_calls",
    "presence_penalty",
    "response_format",
    "seed",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "web_search_options",
    "stop",
    "frequency_penalty",
];

pub(crate) const PERPLEXITY_PARAMS: &[&str] = &[
    "frequency_penalty",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "response_format",
    "stream",
    "temperature",
    "top_p",
    "max_retries",
    "extra_headers",
];

pub(crate) const DEEPINFRA_PARAMS: &[&str] = &[
    "stream",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "presence_penalty",
    "stop",
    "temperature",
    "top_p",
    "response_format",
    "tools",
    "tool_choice",
];

pub(crate) const CEREBRAS_PARAMS: &[&str] = &[
    "max_tokens",
    "max_completion_tokens",
    "response_format",
    "seed",
    "stop",
    "stream",
    "temperature",
    "top_p",
    "tool_choice",
    "tools",
    "user",
    "max_retries",
    "extra_headers",
];

pub(crate) const SAMBANOVA_PARAMS: &[&str] = &[
    "max_completion_tokens",
    "max_tokens",
    "response_format",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "top_k",
];

pub(crate) const NVIDIA_NIM_PARAMS: &[&str] = &[
    "stream",
    "temperature",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
];

pub(crate) const FEATHERLESS_PARAMS: &[&str] = &[
    "stream",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "presence_penalty",
    "stop",
    "temperature",
    "top_p",
];

pub(crate) const NSCALE_PARAMS: &[&str] = &[
    "max_tokens",
    "n",
    "temperature",
    "top_p",
    "stream",
    "logprobs",
    "top_logprobs",
    "frequency_penalty",
    "presence_penalty",
    "response_format",
    "stop",
    "logit_bias",
];

// Lists LiteLLM 1.104.9's `get_supported_openai_params` returns for each provider.

/// The generic list plus `reasoning_effort` (DashScope and its QwenCloud / Qianwen names,
/// Bedrock Mantle).
pub(crate) const REASONING_EFFORT_PARAMS: &[&str] = &[
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_tokens",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "function_call",
    "functions",
    "max_retries",
    "extra_headers",
    "parallel_tool_calls",
    "audio",
    "web_search_options",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "store",
    "response_format",
    "reasoning_effort",
];

pub(crate) const BASETEN_PARAMS: &[&str] = &[
    "max_tokens",
    "max_completion_tokens",
    "response_format",
    "seed",
    "stop",
    "stream",
    "temperature",
    "top_p",
    "tool_choice",
    "tools",
    "user",
    "presence_penalty",
    "frequency_penalty",
    "stream_options",
];

pub(crate) const GRADIENT_AI_PARAMS: &[&str] = &[
    "frequency_penalty",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "k",
    "kb_filters",
    "filter_kb_content_by_query_metadata",
    "instruction_override",
    "include_functions_info",
    "include_retrieval_info",
    "include_guardrails_info",
    "provide_citations",
    "retrieval_method",
];

pub(crate) const HYPERBOLIC_PARAMS: &[&str] = &[
    "messages",
    "model",
    "stream",
    "temperature",
    "top_p",
    "max_tokens",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "n",
    "tools",
    "tool_choice",
    "response_format",
    "seed",
    "user",
];

pub(crate) const INCEPTION_PARAMS: &[&str] = &[
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "stop",
    "tools",
    "tool_choice",
    "stream",
    "stream_options",
    "response_format",
    "reasoning_effort",
    "reasoning_summary",
    "reasoning_summary_wait",
    "diffusing",
    "realtime",
];

/// The generic list plus MiniMax's reasoning controls.
pub(crate) const MINIMAX_PARAMS: &[&str] = &[
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_tokens",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "function_call",
    "functions",
    "max_retries",
    "extra_headers",
    "parallel_tool_calls",
    "audio",
    "web_search_options",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "store",
    "response_format",
    "reasoning_split",
    "thinking",
];

pub(crate) const MORPH_PARAMS: &[&str] = &["messages", "model", "stream"];

pub(crate) const V0_PARAMS: &[&str] = &["messages", "model", "stream", "tools", "tool_choice"];

pub(crate) const VOLCENGINE_PARAMS: &[&str] = &[
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_completion_tokens",
    "max_tokens",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "function_call",
    "functions",
    "max_retries",
    "extra_headers",
    "thinking",
];

pub(crate) const ZAI_PARAMS: &[&str] = &[
    "max_tokens",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "stop",
    "tools",
    "tool_choice",
    "thinking",
];

pub(crate) const AI21_PARAMS: &[&str] = &[
    "tools",
    "response_format",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "stop",
    "n",
    "stream",
    "seed",
    "tool_choice",
];

pub(crate) const DATABRICKS_PARAMS: &[&str] = &[
    "stream",
    "stop",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "response_format",
    "tools",
    "tool_choice",
    "reasoning_effort",
    "thinking",
];

pub(crate) const TENCENT_PARAMS: &[&str] = &[
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_tokens",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "function_call",
    "functions",
    "max_retries",
    "extra_headers",
    "parallel_tool_calls",
    "audio",
    "web_search_options",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "store",
    "response_format",
    "thinking",
    "reasoning_effort",
];

/// A row with the generic parameter list and no quirks.
pub(crate) const fn row(
    name: &'static str,
    default_base: Option<&'static str>,
    key_env: &'static [&'static str],
    base_env: &'static [&'static str],
    key_required: bool,
) -> OpenAiCompatible {
    OpenAiCompatible {
        name,
        default_base,
        key_env,
        base_env,
        key_required,
        params: OPENAI_LIKE_PARAMS,
        quirks: Quirks::NONE,
        doc: "",
        chat_path: "/chat/completions",
        serves: Serves::ALL,
        template_base: None,
        model_aware_params: false,
        placeholder_key: None,
        key_header: None,
        dimensions_as: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{COMPATIBLE, implemented as names};
    use serde_json::json;

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    fn find(name: &str) -> &'static OpenAiCompatible {
        COMPATIBLE.iter().find(|p| p.name == name).unwrap()
    }

    fn body(name: &str, value: Value, drop_params: bool) -> Result<Value> {
        let bytes = find(name).chat_body(&request(value), drop_params)?;
        Ok(serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn table_has_distinct_providers_known_to_litellm() {
        assert!(COMPATIBLE.len() >= 80);
        let mut names: Vec<_> = COMPATIBLE.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COMPATIBLE.len());
        for name in names {
            assert!(llmrelay_core::detect::is_known_provider(name), "{name}");
        }
    }

    const INDEX: &str = "docs/providers/index.md";
    const BEGIN: &str = "<!-- generated from rust/llmrelay-providers/src/registry.rs: begin -->";
    const END: &str = "<!-- generated: end -->";

    fn code_list(names: &[&str]) -> String {
        if names.is_empty() {
            "—".to_owned()
        } else {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    }

    /// The price map's first chat (else embedding) model of a row, as sent upstream.
    fn example_model(row: &OpenAiCompatible) -> String {
        let map_name = match row.name {
            "ai21_chat" => "ai21",
            name => name,
        };
        let catalog = llmrelay_core::catalog::global();
        let mut keys: Vec<(bool, String)> = catalog
            .entries()
            .filter(|e| e.provider == map_name)
            .filter(|e| matches!(e.mode.as_deref(), Some("chat" | "embedding")))
            .map(|e| (e.mode.as_deref() != Some("chat"), e.key.clone()))
            .collect();
        keys.sort();
        keys.first().map_or_else(
            || "my-model".to_owned(),
            |(_, key)| {
                key.strip_prefix(&format!("{}/", row.name))
                    .unwrap_or(key)
                    .to_owned()
            },
        )
    }

    fn base_cell(row: &OpenAiCompatible) -> String {
        match (row.default_base, row.template_base) {
            (_, Some(t)) => {
                let value = t.env.first().map_or("value", |e| e);
                let base = format!(
                    "`{}`",
                    t.template.replace("{value}", &format!("{{{value}}}"))
                );
                match t.default {
                    Some(d) => format!("{base} (`{d}` when unset)"),
                    None => format!("{base}, else `api_base=` required"),
                }
            }
            (Some(b), None) => format!("`{b}`"),
            (None, None) => "— (`api_base=` required)".to_owned(),
        }
    }

    fn api_base_form(row: &OpenAiCompatible) -> String {
        let base = row
            .default_base
            .or(row.template_base.map(|t| t.template))
            .unwrap_or("https://host/v1");
        let rest = base.split_once("://").map_or(base, |(_, r)| r);
        let path = rest
            .find('/')
            .map_or("", |i| rest[i..].trim_end_matches('/'));
        match row.name {
            "databricks" => "`https://<workspace>/serving-endpoints`".to_owned(),
            "heroku" => "`https://us.inference.heroku.com` (no version path)".to_owned(),
            _ => format!("`https://host{path}`"),
        }
    }

    fn notes(row: &OpenAiCompatible) -> String {
        let q = row.quirks;
        let mut notes = Vec::new();
        if !row.key_required {
            notes.push("no key needed".to_owned());
        }
        if q.max_tokens_only {
            notes.push("`max_completion_tokens` sent as `max_tokens`".to_owned());
        }
        if q.required_tool_choice_is_any {
            notes.push("`tool_choice: \"required\"` sent as `\"any\"`".to_owned());
        }
        if let Some(prefix) = q.model_prefix {
            notes.push(format!(
                "model ids get `{prefix}` when they lack `accounts/`"
            ));
        }
        if q.content_list_to_string {
            notes.push("text-part content lists sent as one string".to_owned());
        }
        if let Some(max) = q.temperature_max {
            notes.push(format!("`temperature` capped at {max}"));
        }
        if q.store_false {
            notes.push("`store` always `false`".to_owned());
        }
        if row.model_aware_params {
            notes.push("tool parameters only for models the price map marks `supports_function_calling`; `reasoning_effort` for `supports_reasoning` ones".to_owned());
        }
        if let Some(key) = row.placeholder_key {
            notes.push(format!("sends `Bearer {key}` when no key is set"));
        }
        if let Some(header) = row.key_header {
            notes.push(format!("the key is also sent as `{header}`"));
        }
        if let Some(name) = row.dimensions_as {
            notes.push(format!("`dimensions` sent as `{name}`"));
        }
        if row.chat_path != "/chat/completions" {
            notes.push(format!("chat path `{}`", row.chat_path));
        }
        if let Some(t) = row.template_base {
            if let Some(credential) = t.credential {
                notes.push(format!(
                    "`{credential}=` (or a `<region>/` model prefix) picks the base"
                ));
            }
        }
        if notes.is_empty() {
            "—".to_owned()
        } else {
            notes.join("; ")
        }
    }

    fn yes_no(value: bool, yes: &str) -> String {
        if value {
            yes.to_owned()
        } else {
            "no".to_owned()
        }
    }

    /// The OpenAI-compatible providers table, rendered from the registry.
    fn render_compatible_table() -> String {
        let mut out = String::from(
            "| provider | model prefixes | API key env (first set wins) | API base env | default base | `api_base` form | example model | chat + stream | tools | JSON mode | vision | embeddings | other endpoints | notes | follows |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for row in COMPATIBLE {
            let tools = row.params.contains(&"tools");
            let cells = [
                format!("`{}`", row.name),
                format!("`{}/<model>`", row.name),
                code_list(row.key_env),
                code_list(row.base_env),
                base_cell(row),
                api_base_form(row),
                format!("`{}`", example_model(row)),
                yes_no(row.serves.chat, "yes"),
                if row.serves.chat && tools && !row.params.contains(&"tool_choice") {
                    "yes (no `tool_choice`)".to_owned()
                } else {
                    yes_no(row.serves.chat && tools, "yes")
                },
                yes_no(
                    row.serves.chat && row.params.contains(&"response_format"),
                    "yes",
                ),
                if row.serves.chat {
                    "pass-through".to_owned()
                } else {
                    "no".to_owned()
                },
                yes_no(row.serves.embeddings, "yes (`/embeddings`)"),
                if row.serves.text_completion {
                    "`text_completion` (`/completions`)".to_owned()
                } else {
                    "—".to_owned()
                },
                notes(row),
                row.doc.to_owned(),
            ];
            out.push_str("| ");
            out.push_str(&cells.join(" | "));
            out.push_str(" |\n");
        }
        out.push('\n');
        out.push_str("Price-map providers LiteLLM reaches that are not served yet:\n\n| provider | why |\n|---|---|\n");
        for (name, why) in crate::registry::NOT_SUPPORTED {
            out.push_str(&format!("| `{name}` | {why} |\n"));
        }
        out
    }

    /// `docs/providers/index.md`'s generated section is the registry rendered; run with
    /// `LLMRELAY_BLESS=1` to rewrite it.
    #[test]
    fn docs_table_is_generated_from_the_registry() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(INDEX);
        let text = std::fs::read_to_string(&path).unwrap();
        let (head, rest) = text.split_once(BEGIN).expect("begin marker");
        let (current, tail) = rest.split_once(END).expect("end marker");
        let rendered = format!("\n{}", render_compatible_table());
        if std::env::var_os("LLMRELAY_BLESS").is_some() {
            std::fs::write(&path, format!("{head}{BEGIN}{rendered}{END}{tail}")).unwrap();
            return;
        }
        assert!(
            current == rendered,
            "{INDEX} is stale: run LLMRELAY_BLESS=1 cargo test -p llmrelay-providers docs_table"
        );
        // Every provider of the build has a row or its own page.
        let own_pages = [
            "openai",
            "text-completion-openai",
            "anthropic",
            "bedrock",
            "bedrock_converse",
            "gemini",
            "vertex_ai",
            "vertex_ai_beta",
        ];
        for name in names().into_iter().filter(|n| !own_pages.contains(n)) {
            assert!(
                text.contains(&format!("| `{name}` |")),
                "{name} missing from {INDEX}"
            );
        }
        for row in COMPATIBLE {
            assert!(!row.doc.is_empty(), "{}: no documentation page", row.name);
        }
    }

    #[test]
    fn mistral_quirks() {
        let sent = body(
            "mistral",
            json!({"model": "mistral-small", "messages": [{"role": "user", "content": "hi"}],
                   "max_completion_tokens": 10, "tool_choice": "required",
                   "tools": [{"type": "function", "function": {"name": "f"}}]}),
            false,
        )
        .unwrap();
        assert_eq!(sent["max_tokens"], 10);
        assert!(sent.get("max_completion_tokens").is_none());
        assert_eq!(sent["tool_choice"], "any");
    }

    #[test]
    fn fireworks_model_path() {
        let sent = body(
            "fireworks_ai",
            json!({"model": "llama-v3p1-8b-instruct", "messages": [{"role": "user", "content": "hi"}]}),
            false,
        )
        .unwrap();
        assert_eq!(
            sent["model"],
            "accounts/fireworks/models/llama-v3p1-8b-instruct"
        );
        let sent = body(
            "fireworks_ai",
            json!({"model": "accounts/me/models/x", "messages": [{"role": "user", "content": "hi"}]}),
            false,
        )
        .unwrap();
        assert_eq!(sent["model"], "accounts/me/models/x");
    }

    #[test]
    fn perplexity_rejects_tools_unless_dropped() {
        let value = json!({"model": "sonar", "messages": [{"role": "user", "content": "hi"}],
                           "tools": [{"type": "function", "function": {"name": "f"}}], "seed": 3});
        let error = body("perplexity", value.clone(), false).unwrap_err();
        assert!(
            error
                .message()
                .starts_with("perplexity does not support parameters: ['seed', 'tools']")
        );
        let sent = body("perplexity", value, true).unwrap();
        assert!(sent.get("tools").is_none() && sent.get("seed").is_none());
    }

    #[test]
    fn plain_request_passes_unchanged() {
        let value = json!({"model": "llama3", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.2});
        let sent = body("groq", value.clone(), false).unwrap();
        assert_eq!(sent, value);
    }
}
