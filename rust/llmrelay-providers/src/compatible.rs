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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quirks {
    /// The server reads `max_tokens` only: `max_completion_tokens` is sent under that name.
    pub max_tokens_only: bool,
    /// `tool_choice: "required"` is spelled `"any"` (Mistral).
    pub required_tool_choice_is_any: bool,
    /// Model ids are sent with this prefix when they lack it (Fireworks' `accounts/…` paths).
    pub model_prefix: Option<&'static str>,
}

impl Quirks {
    pub(crate) const NONE: Quirks = Quirks {
        max_tokens_only: false,
        required_tool_choice_is_any: false,
        model_prefix: None,
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
    }
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
}

impl OpenAiCompatible {
    /// The Chat Completions body for this provider: unsupported parameters rejected (or dropped
    /// with `drop_params`), then the provider's quirks applied.
    ///
    /// # Errors
    /// `UnsupportedParams`, or a body that cannot be serialized.
    pub fn chat_body(&self, request: &ChatRequest, drop_params: bool) -> Result<Vec<u8>> {
        let bytes = chat_body(request)?;
        let mut body: Map<String, Value> = serde_json::from_slice(&bytes)?;
        let before = body.len();
        params::enforce(
            &mut body,
            self.params,
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
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        let body = self.chat_body(request, endpoint.drop_params)?;
        Ok(post(endpoint, "/chat/completions", body))
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
        Ok(post(
            endpoint,
            "/completions",
            text_completion_body(request)?,
        ))
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
        Ok(post(endpoint, "/embeddings", embedding_body(request)?))
    }
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        parse_embedding(body)
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }
    fn supported_openai_params(&self, _model: &str) -> Option<Vec<&'static str>> {
        Some(self.params.to_vec())
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

/// OpenAI's own chat parameters (LiteLLM's `OpenAIConfig` list): what a provider whose
/// `supported_openai_params` is `None` accepts; the generic list plus `user`.
pub const OPENAI_CHAT_PARAMS: &[&str] = &[
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
    "user",
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
    }
}

pub(crate) const fn with(
    base: OpenAiCompatible,
    params: &'static [&'static str],
    quirks: Quirks,
) -> OpenAiCompatible {
    OpenAiCompatible {
        params,
        quirks,
        ..base
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
    fn table_has_twenty_distinct_providers_known_to_litellm() {
        assert!(COMPATIBLE.len() >= 20);
        let mut names: Vec<_> = COMPATIBLE.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COMPATIBLE.len());
        for name in names {
            assert!(llmrelay_core::detect::is_known_provider(name), "{name}");
        }
    }

    /// The providers table of `docs/providers/index.md`, row cells by provider name.
    fn docs_rows() -> Vec<Vec<String>> {
        include_str!("../../../docs/providers/index.md")
            .lines()
            .filter(|line| line.starts_with("| `"))
            .map(|line| {
                line.trim_matches('|')
                    .split(" | ")
                    .map(|cell| cell.trim().to_owned())
                    .collect()
            })
            .collect()
    }

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

    #[test]
    fn docs_table_matches_the_rows() {
        let rows = docs_rows();
        for provider in COMPATIBLE {
            let row = rows
                .iter()
                .find(|r| r[0] == format!("`{}`", provider.name))
                .unwrap_or_else(|| {
                    panic!("{} missing from docs/providers/index.md", provider.name)
                });
            assert_eq!(
                row[2],
                code_list(provider.key_env),
                "{}: key env",
                provider.name
            );
            assert_eq!(
                row[3],
                code_list(provider.base_env),
                "{}: base env",
                provider.name
            );
            let base = provider
                .default_base
                .map_or("— (`api_base=` required)".to_owned(), |b| {
                    format!("`{b}`")
                });
            assert_eq!(row[4], base, "{}: default base", provider.name);
        }
        // The Providers I entry points have their own pages (docs/providers.md).
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
                rows.iter().any(|r| r[0] == format!("`{name}`")),
                "{name} missing from docs/providers/index.md"
            );
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
