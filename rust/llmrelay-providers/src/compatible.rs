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
    const NONE: Quirks = Quirks {
        max_tokens_only: false,
        required_tool_choice_is_any: false,
        model_prefix: None,
    };
    const MAX_TOKENS: Quirks = Quirks {
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

/// The generic list plus the reasoning controls (vLLM, DeepSeek).
const REASONING_PARAMS: &[&str] = &[
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

const GROQ_PARAMS: &[&str] = &[
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

const MISTRAL_PARAMS: &[&str] = &[
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

const FIREWORKS_PARAMS: &[&str] = &[
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

const XAI_PARAMS: &[&str] = &[
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

const PERPLEXITY_PARAMS: &[&str] = &[
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

const DEEPINFRA_PARAMS: &[&str] = &[
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

const CEREBRAS_PARAMS: &[&str] = &[
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

const SAMBANOVA_PARAMS: &[&str] = &[
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

const NVIDIA_NIM_PARAMS: &[&str] = &[
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

const FEATHERLESS_PARAMS: &[&str] = &[
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

const NSCALE_PARAMS: &[&str] = &[
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
const fn row(
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

const fn with(
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

/// Every OpenAI-compatible provider this build serves.
pub static COMPATIBLE: &[OpenAiCompatible] = &[
    row("custom_openai", None, &[], &[], false),
    row("openai_like", None, &[], &[], false),
    with(
        row(
            "hosted_vllm",
            None,
            &["HOSTED_VLLM_API_KEY"],
            &["HOSTED_VLLM_API_BASE"],
            false,
        ),
        REASONING_PARAMS,
        Quirks::NONE,
    ),
    with(
        row("vllm", None, &["VLLM_API_KEY"], &["VLLM_API_BASE"], false),
        REASONING_PARAMS,
        Quirks::NONE,
    ),
    row(
        "lm_studio",
        Some("http://localhost:1234/v1"),
        &["LM_STUDIO_API_KEY"],
        &["LM_STUDIO_API_BASE"],
        false,
    ),
    row(
        "litellm_proxy",
        None,
        &["LITELLM_PROXY_API_KEY"],
        &["LITELLM_PROXY_API_BASE"],
        false,
    ),
    row(
        "llamafile",
        Some("http://127.0.0.1:8080/v1"),
        &["LLAMAFILE_API_KEY"],
        &["LLAMAFILE_API_BASE"],
        false,
    ),
    with(
        row(
            "groq",
            Some("https://api.groq.com/openai/v1"),
            &["GROQ_API_KEY"],
            &["GROQ_API_BASE"],
            true,
        ),
        GROQ_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "mistral",
            Some("https://api.mistral.ai/v1"),
            &["MISTRAL_AZURE_API_KEY", "MISTRAL_API_KEY"],
            &["MISTRAL_AZURE_API_BASE"],
            true,
        ),
        MISTRAL_PARAMS,
        Quirks {
            max_tokens_only: true,
            required_tool_choice_is_any: true,
            model_prefix: None,
        },
    ),
    with(
        row(
            "codestral",
            Some("https://codestral.mistral.ai/v1"),
            &["CODESTRAL_API_KEY"],
            &["CODESTRAL_API_BASE"],
            true,
        ),
        MISTRAL_PARAMS,
        Quirks {
            max_tokens_only: true,
            required_tool_choice_is_any: true,
            model_prefix: None,
        },
    ),
    with(
        row(
            "deepseek",
            Some("https://api.deepseek.com/beta"),
            &["DEEPSEEK_API_KEY"],
            &["DEEPSEEK_API_BASE"],
            true,
        ),
        REASONING_PARAMS,
        Quirks::NONE,
    ),
    row(
        "together_ai",
        Some("https://api.together.ai/v1"),
        &[
            "TOGETHER_API_KEY",
            "TOGETHER_AI_API_KEY",
            "TOGETHERAI_API_KEY",
            "TOGETHER_AI_TOKEN",
        ],
        &["TOGETHER_AI_API_BASE"],
        true,
    ),
    with(
        row(
            "fireworks_ai",
            Some("https://api.fireworks.ai/inference/v1"),
            &[
                "FIREWORKS_API_KEY",
                "FIREWORKS_AI_API_KEY",
                "FIREWORKSAI_API_KEY",
            ],
            &["FIREWORKS_API_BASE"],
            true,
        ),
        FIREWORKS_PARAMS,
        Quirks {
            max_tokens_only: true,
            required_tool_choice_is_any: false,
            model_prefix: Some("accounts/fireworks/models/"),
        },
    ),
    row(
        "openrouter",
        Some("https://openrouter.ai/api/v1"),
        &["OPENROUTER_API_KEY", "OR_API_KEY"],
        &["OPENROUTER_API_BASE"],
        true,
    ),
    with(
        row(
            "xai",
            Some("https://api.x.ai/v1"),
            &["XAI_API_KEY"],
            &["XAI_API_BASE"],
            true,
        ),
        XAI_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "perplexity",
            Some("https://api.perplexity.ai"),
            &["PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"],
            &["PERPLEXITY_API_BASE"],
            true,
        ),
        PERPLEXITY_PARAMS,
        Quirks::NONE,
    ),
    with(
        row(
            "deepinfra",
            Some("https://api.deepinfra.com/v1/openai"),
            &["DEEPINFRA_API_KEY"],
            &["DEEPINFRA_API_BASE"],
            true,
        ),
        DEEPINFRA_PARAMS,
        Quirks::NONE,
    ),
    with(
        row(
            "cerebras",
            Some("https://api.cerebras.ai/v1"),
            &["CEREBRAS_API_KEY"],
            &["CEREBRAS_API_BASE"],
            true,
        ),
        CEREBRAS_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "sambanova",
            Some("https://api.sambanova.ai/v1"),
            &["SAMBANOVA_API_KEY"],
            &["SAMBANOVA_API_BASE"],
            true,
        ),
        SAMBANOVA_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "nvidia_nim",
            Some("https://integrate.api.nvidia.com/v1"),
            &["NVIDIA_NIM_API_KEY"],
            &["NVIDIA_NIM_API_BASE"],
            true,
        ),
        NVIDIA_NIM_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "github",
            Some("https://models.inference.ai.azure.com"),
            &["GITHUB_API_KEY"],
            &["GITHUB_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "nebius",
            Some("https://api.studio.nebius.ai/v1"),
            &["NEBIUS_API_KEY"],
            &["NEBIUS_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    row(
        "novita",
        Some("https://api.novita.ai/v3/openai"),
        &["NOVITA_API_KEY"],
        &["NOVITA_API_BASE"],
        true,
    ),
    with(
        row(
            "friendliai",
            Some("https://api.friendli.ai/serverless/v1"),
            &["FRIENDLIAI_API_KEY", "FRIENDLI_TOKEN"],
            &["FRIENDLI_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "galadriel",
            Some("https://api.galadriel.com/v1"),
            &["GALADRIEL_API_KEY"],
            &["GALADRIEL_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "featherless_ai",
            Some("https://api.featherless.ai/v1"),
            &["FEATHERLESS_AI_API_KEY", "FEATHERLESS_API_KEY"],
            &["FEATHERLESS_AI_API_BASE", "FEATHERLESS_API_BASE"],
            true,
        ),
        FEATHERLESS_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "lambda_ai",
            Some("https://api.lambda.ai/v1"),
            &["LAMBDA_API_KEY"],
            &["LAMBDA_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "moonshot",
            Some("https://api.moonshot.ai/v1"),
            &["MOONSHOT_API_KEY"],
            &["MOONSHOT_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "nscale",
            Some("https://inference.api.nscale.com/v1"),
            &["NSCALE_API_KEY"],
            &["NSCALE_API_BASE"],
            true,
        ),
        NSCALE_PARAMS,
        Quirks::NONE,
    ),
    with(
        row(
            "wandb",
            Some("https://api.inference.wandb.ai/v1"),
            &["WANDB_API_KEY"],
            &["WANDB_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
];

/// The providers this module and its siblings add beyond OpenAI and Anthropic: the compatible
/// rows, then the dedicated implementations (Azure, Ollama, Cohere, Hugging Face).
#[must_use]
pub fn lookup(name: &str) -> Option<&'static dyn Provider> {
    dedicated(name).or_else(|| {
        COMPATIBLE
            .iter()
            .find(|p| p.name == name)
            .map(|p| p as &dyn Provider)
    })
}

/// Every provider name [`lookup`] serves.
#[must_use]
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = COMPATIBLE.iter().map(|p| p.name).collect();
    names.extend_from_slice(DEDICATED);
    names
}

static OLLAMA_GENERATE: crate::ollama::Ollama = crate::ollama::Ollama {
    api: crate::ollama::Api::Generate,
};
static OLLAMA_CHAT: crate::ollama::Ollama = crate::ollama::Ollama {
    api: crate::ollama::Api::Chat,
};

static COHERE: crate::cohere::Cohere = crate::cohere::Cohere { name: "cohere" };
static COHERE_CHAT: crate::cohere::Cohere = crate::cohere::Cohere {
    name: "cohere_chat",
};

/// Providers with their own implementation, served through [`lookup`].
const DEDICATED: &[&str] = &[
    "azure",
    "azure_ai",
    "ollama",
    "ollama_chat",
    "cohere",
    "cohere_chat",
    "huggingface",
];

fn dedicated(name: &str) -> Option<&'static dyn Provider> {
    match name {
        "azure" => Some(&crate::azure::Azure),
        "azure_ai" => Some(&crate::azure::AzureAi),
        "ollama" => Some(&OLLAMA_GENERATE),
        "ollama_chat" => Some(&OLLAMA_CHAT),
        "cohere" => Some(&COHERE),
        "cohere_chat" => Some(&COHERE_CHAT),
        "huggingface" => Some(&crate::huggingface::HuggingFace),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        for name in names() {
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
