//! Canonical (OpenAI-shaped) chat request → Anthropic Messages request body and beta headers
//! (<https://docs.anthropic.com/en/api/messages>), following LiteLLM's `AnthropicConfig`
//! (`map_openai_params` then `transform_request`).

use serde_json::{Value, json};

use llmrelay_core::types::{ChatMessage, ChatRequest, MessageContent, Role};
use llmrelay_core::{Error, ErrorKind, Result};

use super::messages::{self, Conversation};
use super::model::ModelCapabilities;
use super::schema;
use super::tools::{map_tool_choice, map_tools, tool_name_maps, web_search_tool};
use super::types::{
    AnthropicContentBlock, AnthropicCustomTool, AnthropicMessagesRequest, AnthropicMetadata,
    AnthropicOutputFormat, AnthropicTool, AnthropicToolChoice,
};

/// Name of the tool that emulates JSON mode on models without structured outputs.
pub const RESPONSE_FORMAT_TOOL_NAME: &str = "json_tool_call";

/// `reasoning_effort` → `thinking.budget_tokens` (LiteLLM's `DEFAULT_REASONING_EFFORT_*`).
const EFFORT_BUDGETS: &[(&str, u64)] = &[
    ("minimal", 1024),
    ("low", 1024),
    ("medium", 2048),
    ("high", 4096),
    ("xhigh", 8192),
    ("max", 16384),
];

/// Smallest thinking budget Anthropic accepts.
const MIN_THINKING_BUDGET: u64 = 1024;

/// Added to the thinking budget when the caller sets no `max_tokens` (`DEFAULT_MAX_TOKENS`).
const THINKING_HEADROOM: u64 = 4096;

/// Beta names LiteLLM forwards to the Anthropic API; others are dropped.
const KNOWN_BETAS: &[&str] = &[
    "advisor-tool-2026-03-01",
    "advanced-tool-use-2025-11-20",
    "code-execution-2025-08-25",
    "compact-2026-01-12",
    "compact-2026-09-04",
    "computer-use-2025-01-24",
    "computer-use-2025-11-24",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "dangerous-tool-use-2026-09-03",
    "effort-2025-11-24",
    "fast-mode-2026-02-01",
    "files-api-2025-04-14",
    "fine-grained-tool-streaming-2025-05-14",
    "interleaved-thinking-2025-05-14",
    "mcp-client-2025-11-20",
    "mcp-client-2025-04-04",
    "oauth-2025-04-20",
    "output-128k-2025-02-19",
    "per-turn-control-2026-07-01",
    "prompt-caching-scope-2026-01-05",
    "skills-2025-10-02",
    "structured-outputs-2025-11-13",
    "thinking-binding-controls-2026-08-01",
    "token-efficient-tools-2025-02-19",
    "web-fetch-2025-09-10",
    "web-search-2025-03-05",
];

/// OpenAI parameters the Messages API has no equivalent for, in the order LiteLLM names them
/// (`get_supported_openai_params` leaves them out).
const UNSUPPORTED_OPENAI_PARAMS: &[&str] = &[
    "functions",
    "function_call",
    "n",
    "modalities",
    "prediction",
    "audio",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "seed",
    "logprobs",
    "top_logprobs",
    "verbosity",
    "service_tier",
    "safety_identifier",
    "store",
    "prompt_cache_key",
    "prompt_cache_retention",
];

/// Extra body keys this translation consumes (the rest pass through).
const CONSUMED_EXTRA_KEYS: &[&str] = &[
    "thinking",
    "top_k",
    "web_search_options",
    "context_management",
    "speed",
    "cache_control",
];

/// The OpenAI parameters LiteLLM lists as supported for this model.
#[must_use]
pub fn supported_openai_params(model: &str) -> Vec<&'static str> {
    let mut params = vec![
        "stream",
        "stop",
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "tools",
        "tool_choice",
        "extra_headers",
        "parallel_tool_calls",
        "response_format",
        "user",
        "web_search_options",
        "speed",
        "context_management",
        "cache_control",
    ];
    if ModelCapabilities::of(model).reasoning {
        params.extend(["thinking", "reasoning_effort"]);
    }
    params
}

/// The OpenAI parameters of `request` this model does not support.
fn unsupported_params(
    request: &ChatRequest,
    capabilities: &ModelCapabilities,
) -> Vec<&'static str> {
    let present = |name: &str| -> bool {
        match name {
            "n" => request.n.is_some_and(|n| n != 1),
            "presence_penalty" => request.presence_penalty.is_some(),
            "frequency_penalty" => request.frequency_penalty.is_some(),
            "logit_bias" => request.logit_bias.is_some(),
            "seed" => request.seed.is_some(),
            "logprobs" => request.logprobs.is_some(),
            "top_logprobs" => request.top_logprobs.is_some(),
            other => request.extra.get(other).is_some_and(|v| !v.is_null()),
        }
    };
    let mut names: Vec<&'static str> = UNSUPPORTED_OPENAI_PARAMS
        .iter()
        .copied()
        .filter(|name| present(name))
        .collect();
    if !capabilities.reasoning {
        if request.reasoning_effort.is_some() {
            names.push("reasoning_effort");
        }
        if request.extra.get("thinking").is_some_and(|v| !v.is_null()) {
            names.push("thinking");
        }
    }
    names
}

/// The Messages API body for `request`.
///
/// `drop_params` is LiteLLM's flag: unsupported parameters are dropped instead of rejected.
///
/// # Errors
/// Unsupported parameters (without `drop_params`), an invalid `reasoning_effort`, or messages
/// that cannot be expressed (see [`messages::convert`]).
pub fn messages_body(request: &ChatRequest, drop_params: bool) -> Result<AnthropicMessagesRequest> {
    Translation::new(request, drop_params).run()
}

fn python_repr_float(value: f64) -> String {
    if value.fract() == 0.0 && value.is_finite() && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// A value as Python's `repr` prints it in LiteLLM's messages.
fn python_repr(value: &Value) -> String {
    match value {
        Value::String(text) => format!("'{text}'"),
        other => python_str(other),
    }
}

/// A value as Python's `str` prints it.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Null => "None".to_owned(),
        other => other.to_string(),
    }
}

pub(super) fn unsupported(message: String) -> Error {
    Error::new(ErrorKind::UnsupportedParams, message).with_status(400)
}

/// Anthropic rejects e-mail addresses and phone numbers as `metadata.user_id`.
fn valid_user_id(user: &str) -> bool {
    let is_email = user.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
            && domain.rsplit_once('.').is_some_and(|(host, tld)| {
                !host.is_empty()
                    && host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
                    && tld.len() >= 2
                    && tld.chars().all(|c| c.is_ascii_alphabetic())
            })
    });
    let digits = user.strip_prefix('+').unwrap_or(user);
    let is_phone = digits.chars().count() >= 7
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace() || "()-".contains(c));
    !is_email && !is_phone
}

/// Whether a `json_tool_call` tool use in the response is the answer (JSON mode).
#[must_use]
pub fn json_mode(request: &ChatRequest) -> bool {
    let Some(format @ Value::Object(_)) = &request.response_format else {
        return false;
    };
    if ModelCapabilities::of(&request.model).native_structured_output {
        return true;
    }
    format.get("type").and_then(Value::as_str) != Some("text")
        && response_format_schema(format).is_some()
}

fn response_format_schema(format: &Value) -> Option<&Value> {
    format
        .get("response_schema")
        .or_else(|| format.get("json_schema").and_then(|s| s.get("schema")))
        .filter(|v| !v.is_null())
}

struct Translation<'a> {
    request: &'a ChatRequest,
    model: &'a str,
    capabilities: ModelCapabilities,
    drop_params: bool,
    max_tokens: Option<u64>,
    stop_sequences: Option<Value>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    metadata: Option<AnthropicMetadata>,
    tools: Option<Vec<AnthropicTool>>,
    mcp_servers: Vec<Value>,
    tool_choice: Option<AnthropicToolChoice>,
    thinking: Option<Value>,
    output_format: Option<AnthropicOutputFormat>,
    output_config: Option<Value>,
    extra: serde_json::Map<String, Value>,
}

impl<'a> Translation<'a> {
    fn new(request: &'a ChatRequest, drop_params: bool) -> Self {
        Self {
            request,
            model: &request.model,
            capabilities: ModelCapabilities::of(&request.model),
            drop_params,
            max_tokens: None,
            stop_sequences: None,
            temperature: None,
            top_p: None,
            metadata: None,
            tools: None,
            mcp_servers: Vec::new(),
            tool_choice: None,
            thinking: None,
            output_format: None,
            output_config: None,
            extra: serde_json::Map::new(),
        }
    }

    fn extra(&self, key: &str) -> Option<&'a Value> {
        self.request.extra.get(key).filter(|v| !v.is_null())
    }

    fn run(mut self) -> Result<AnthropicMessagesRequest> {
        let rejected = unsupported_params(self.request, &self.capabilities);
        if !rejected.is_empty() && !self.drop_params {
            let names = format!("['{}']", rejected.join("', '"));
            return Err(unsupported(format!(
                "anthropic does not support parameters: {names}, for model={}. To drop these, set \
                 `litellm.drop_params=True` or for proxy:\n\n`litellm_settings:\n drop_params: true`\n. \n \
                 If you want to use these params dynamically send allowed_openai_params={names} in your request.",
                self.model
            )));
        }
        self.map_openai_params()?;
        self.merge_provider_params();
        self.finish()
    }

    /// `thinking` is on: `{"type": "enabled"}` (or `true`) or any `reasoning_effort`.
    fn thinking_requested(&self) -> bool {
        let thinking = self.extra("thinking");
        thinking == Some(&Value::Bool(true))
            || thinking.and_then(|t| t.get("type")).and_then(Value::as_str) == Some("enabled")
            || self.request.reasoning_effort.is_some()
    }

    fn sampling(&self, param: &str, value: f64) -> Result<Option<f64>> {
        if self.capabilities.sampling_params || (param == "temperature" && value == 1.0) {
            return Ok(Some(value));
        }
        if self.drop_params {
            return Ok(None);
        }
        let hint = if param == "temperature" {
            "Only temperature=1 is supported. "
        } else {
            ""
        };
        Err(unsupported(format!(
            "{} does not support {param}={}. {hint}To drop unsupported params, set `litellm.drop_params = True`.",
            self.model,
            python_repr_float(value)
        )))
    }

    /// `map_openai_params`, in the order LiteLLM visits the parameters.
    fn map_openai_params(&mut self) -> Result<()> {
        let request = self.request;
        if let Some(value) = request.temperature {
            self.temperature = self.sampling("temperature", value)?;
        }
        if let Some(value) = request.top_p {
            self.top_p = self.sampling("top_p", value)?;
        }
        if let Some(stop) = &request.stop {
            self.stop_sequences = Self::map_stop(stop);
        }
        if let Some(max_tokens) = request.max_tokens {
            self.max_tokens = Some(max_tokens.max(1));
        }
        if let Some(max_tokens) = request.max_completion_tokens {
            self.max_tokens = Some(max_tokens.max(1));
        }
        if let Some(user) = request.user.as_deref() {
            if valid_user_id(user) {
                self.metadata = Some(AnthropicMetadata {
                    user_id: user.to_owned(),
                });
            }
        }
        if let Some(format @ Value::Object(_)) = &request.response_format {
            self.map_response_format(format)?;
        }
        if let Some(tools) = &request.tools {
            let (mapped, servers) = map_tools(tools)?;
            self.tools.get_or_insert_with(Vec::new).extend(mapped);
            self.mcp_servers.extend(servers);
        }
        if request.tool_choice.is_some() || request.parallel_tool_calls.is_some() {
            if let Some(choice) =
                map_tool_choice(request.tool_choice.as_ref(), request.parallel_tool_calls)
            {
                self.tool_choice = Some(self.forced_tool_choice(choice)?);
            }
        }
        // On a model without reasoning these were rejected, or are dropped (`drop_params`).
        if self.capabilities.reasoning {
            if let Some(effort) = request.reasoning_effort.as_deref() {
                self.map_reasoning_effort(effort)?;
            }
            if let Some(thinking) = self.extra("thinking") {
                self.map_thinking(thinking);
            }
        }
        if let Some(Value::Object(options)) = self.extra("web_search_options") {
            self.tools
                .get_or_insert_with(Vec::new)
                .push(AnthropicTool::Raw(web_search_tool(options)));
        }
        if let Some(management) = self.extra("context_management") {
            if let Some(mapped) = map_context_management(management) {
                self.extra.insert("context_management".to_owned(), mapped);
            }
        }
        if let Some(Value::String(speed)) = self.extra("speed") {
            if self.capabilities.speed {
                self.extra
                    .insert("speed".to_owned(), Value::from(speed.clone()));
            } else if !self.drop_params {
                return Err(unsupported(format!(
                    "{} does not support speed='{speed}'. To drop unsupported params, set `litellm.drop_params = True`.",
                    self.model
                )));
            }
        }
        if let Some(cache_control @ Value::Object(_)) = self.extra("cache_control") {
            self.extra
                .insert("cache_control".to_owned(), cache_control.clone());
        }
        // Anthropic needs `max_tokens` above the thinking budget.
        let budget = self
            .thinking
            .as_ref()
            .filter(|t| t.get("type").and_then(Value::as_str) == Some("enabled"))
            .and_then(|t| t.get("budget_tokens"))
            .and_then(Value::as_u64);
        if let Some(budget) = budget {
            if request.max_tokens.is_none() && request.max_completion_tokens.is_none() {
                self.max_tokens = Some(budget + THINKING_HEADROOM);
            }
        }
        Ok(())
    }

    /// `stop` → `stop_sequences` (a string becomes a one-item list).
    ///
    /// Whitespace-only sequences, which Anthropic rejects, are kept: LiteLLM drops them only
    /// under the global `litellm.drop_params`, not a call's `drop_params`, and the two are one
    /// flag here.
    fn map_stop(stop: &Value) -> Option<Value> {
        match stop {
            Value::String(s) => Some(json!([s])),
            Value::Array(items) => (!items.is_empty()).then(|| Value::Array(items.clone())),
            _ => None,
        }
    }

    fn map_response_format(&mut self, format: &Value) -> Result<()> {
        if self.capabilities.native_structured_output {
            if let Some(schema) = response_format_schema(format) {
                self.output_format = Some(AnthropicOutputFormat {
                    kind: "json_schema",
                    schema: schema::output_schema(schema)?,
                });
            }
            return Ok(());
        }
        if format.get("type").and_then(Value::as_str) == Some("text") {
            return Ok(());
        }
        let Some(json_schema) = response_format_schema(format) else {
            return Ok(());
        };
        let mut input_schema = serde_json::Map::new();
        input_schema.insert("type".to_owned(), Value::from("object"));
        if let Value::Object(map) = json_schema {
            input_schema.extend(map.clone());
        }
        if !self.thinking_requested() && self.capabilities.forced_tool_use {
            self.tool_choice = Some(AnthropicToolChoice {
                kind: "tool".to_owned(),
                name: Some(RESPONSE_FORMAT_TOOL_NAME.to_owned()),
                disable_parallel_tool_use: None,
            });
        }
        self.tools
            .get_or_insert_with(Vec::new)
            .push(AnthropicTool::Custom(AnthropicCustomTool {
                name: RESPONSE_FORMAT_TOOL_NAME.to_owned(),
                input_schema: Value::Object(input_schema),
                kind: None,
                eager_input_streaming: None,
                description: None,
                cache_control: None,
                defer_loading: None,
                allowed_callers: None,
                input_examples: None,
            }));
        Ok(())
    }

    /// Models without forced tool use get `auto` with `drop_params`, an error without.
    fn forced_tool_choice(&self, choice: AnthropicToolChoice) -> Result<AnthropicToolChoice> {
        if !matches!(choice.kind.as_str(), "any" | "tool") || self.capabilities.forced_tool_use {
            return Ok(choice);
        }
        if !self.drop_params {
            return Err(unsupported(format!(
                "{} does not support forced tool use (tool_choice='required' or a named tool). Use \
                 tool_choice='auto' and tell the model in the prompt when to call the tool, or set \
                 `litellm.drop_params = True` to downgrade to 'auto' automatically.",
                self.model
            )));
        }
        Ok(AnthropicToolChoice {
            kind: "auto".to_owned(),
            name: None,
            disable_parallel_tool_use: choice.disable_parallel_tool_use,
        })
    }

    fn map_reasoning_effort(&mut self, effort: &str) -> Result<()> {
        let Some(thinking) = self.effort_thinking(effort)? else {
            self.thinking = None;
            self.output_config = None;
            return Ok(());
        };
        self.thinking = Some(thinking);
        if self.capabilities.adaptive_thinking {
            let mapped = match effort {
                "minimal" | "low" => "low",
                "medium" | "high" | "xhigh" | "max" => effort,
                other => {
                    return Err(Error::bad_request(format!(
                        "Invalid reasoning_effort: '{other}'. Must be one of: 'minimal', 'low', \
                         'medium', 'high', 'xhigh', 'max', 'none'"
                    )));
                }
            };
            self.output_config = Some(json!({"effort": mapped}));
        }
        Ok(())
    }

    /// `reasoning_effort` → `thinking` (`None` for `"none"`).
    fn effort_thinking(&self, effort: &str) -> Result<Option<Value>> {
        if effort == "none" {
            return Ok(None);
        }
        if self.capabilities.adaptive_thinking {
            // Without `display`, adaptive thinking is returned as a blank block.
            return Ok(Some(json!({"type": "adaptive", "display": "summarized"})));
        }
        let budget = EFFORT_BUDGETS
            .iter()
            .find(|(name, _)| *name == effort)
            .map(|(_, budget)| (*budget).max(MIN_THINKING_BUDGET))
            .ok_or_else(|| {
                Error::bad_request(format!(
                    "Unmapped reasoning effort: '{effort}'. Must be one of: 'minimal', 'low', \
                     'medium', 'high', 'xhigh', 'max', 'none'."
                ))
            })?;
        Ok(Some(json!({"type": "enabled", "budget_tokens": budget})))
    }

    fn map_thinking(&mut self, thinking: &Value) {
        let thinking = if thinking == &Value::Bool(true) {
            json!({"type": "enabled", "budget_tokens": 2048})
        } else {
            thinking.clone()
        };
        let kind = thinking.get("type").and_then(Value::as_str);
        if kind == Some("adaptive") && !self.capabilities.adaptive_thinking {
            // Adaptive thinking on a pre-4.6 model: the legacy interface at the medium budget,
            // kept below `max_tokens` (or dropped when even the minimum budget does not fit).
            let max_tokens = self
                .request
                .max_completion_tokens
                .filter(|n| *n != 0)
                .or(self.request.max_tokens);
            let budget = 2048;
            self.thinking = match max_tokens {
                Some(max) if max <= MIN_THINKING_BUDGET => None,
                Some(max) if budget >= max => {
                    Some(json!({"type": "enabled", "budget_tokens": max - 1}))
                }
                _ => Some(json!({"type": "enabled", "budget_tokens": budget})),
            };
            return;
        }
        if kind == Some("enabled")
            && self.capabilities.adaptive_thinking
            && !self.capabilities.legacy_thinking
        {
            // 4.7+ rejects budgets: the same intent as an effort level.
            let budget = thinking
                .get("budget_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let effort = if budget >= 8192 && self.capabilities.xhigh_effort {
                "xhigh"
            } else if budget >= 4096 {
                "high"
            } else if budget >= 2048 {
                "medium"
            } else {
                "low"
            };
            let mut config = serde_json::Map::new();
            config.insert("effort".to_owned(), Value::from(effort));
            if let Some(Value::Object(existing)) = &self.output_config {
                config.extend(existing.clone());
            }
            self.thinking = Some(json!({"type": "adaptive"}));
            self.output_config = Some(Value::Object(config));
            return;
        }
        self.thinking = Some(thinking);
    }

    /// Provider-specific body keys the caller passed: they override the mapped values.
    fn merge_provider_params(&mut self) {
        for (key, value) in &self.request.extra {
            if value.is_null()
                || CONSUMED_EXTRA_KEYS.contains(&key.as_str())
                || UNSUPPORTED_OPENAI_PARAMS.contains(&key.as_str())
            {
                continue;
            }
            match key.as_str() {
                "stop_sequences" => self.stop_sequences = Some(value.clone()),
                "output_config" => self.output_config = Some(value.clone()),
                "mcp_servers" => {
                    self.mcp_servers = value.as_array().cloned().unwrap_or_default();
                }
                "metadata" => {
                    // Only `user_id` is a documented metadata field.
                    self.metadata = value.get("user_id").and_then(Value::as_str).map(|user_id| {
                        AnthropicMetadata {
                            user_id: user_id.to_owned(),
                        }
                    });
                }
                "output_format" => {
                    self.output_format = None;
                    self.extra.insert(key.clone(), value.clone());
                }
                // Typed fields of the canonical request: never extra.
                "model" | "messages" | "stream" | "max_tokens" | "tools" | "tool_choice"
                | "temperature" | "top_p" => {}
                _ => {
                    self.extra.insert(key.clone(), value.clone());
                }
            }
        }
    }

    /// `transform_request`: messages, tool names, defaults, final checks.
    fn finish(mut self) -> Result<AnthropicMessagesRequest> {
        let request = self.request;
        let mut conversation_messages = normalized_roles(&request.messages);
        if self.tools.is_none() && conversation_messages.iter().any(|m| m.tool_calls.is_some()) {
            // Anthropic rejects tool_use blocks in a request without tools.
            self.tools = Some(vec![AnthropicTool::Custom(AnthropicCustomTool {
                name: "dummy_tool".to_owned(),
                input_schema: json!({"type": "object", "properties": {}}),
                kind: Some("custom"),
                eager_input_streaming: None,
                description: Some("This is a dummy tool call".to_owned()),
                cache_control: None,
                defer_loading: None,
                allowed_callers: None,
                input_examples: None,
            })]);
        }
        if self.capabilities.thinking_always_on
            && self
                .thinking
                .as_ref()
                .and_then(|t| t.get("type"))
                .and_then(Value::as_str)
                == Some("disabled")
        {
            self.thinking = None;
        }
        self.sanitize_tool_names(&mut conversation_messages);
        let Conversation { system, messages } =
            messages::convert(&conversation_messages, &self.capabilities)?;
        if let Some(tools) = &mut self.tools {
            let uploads = messages.iter().flat_map(|m| &m.content).any(|b| {
                matches!(b, AnthropicContentBlock::Raw(v) if v.get("type").and_then(Value::as_str) == Some("container_upload"))
            });
            let has_code_execution = tools
                .iter()
                .any(|t| t.kind().is_some_and(|k| k.starts_with("code_execution")));
            // LiteLLM adds the tool only next to other tools.
            if uploads && !has_code_execution && !tools.is_empty() {
                tools.push(AnthropicTool::Raw(
                    json!({"name": "code_execution", "type": "code_execution_20250522"}),
                ));
            }
        }
        let system = if system.is_empty() {
            None
        } else {
            self.extra.remove("system");
            Some(system)
        };
        let top_k = match self.extra("top_k") {
            Some(value) if !self.capabilities.sampling_params => {
                if !self.drop_params {
                    return Err(unsupported(format!(
                        "{} does not support top_k={}. To drop unsupported params, set `litellm.drop_params = True`.",
                        self.model,
                        python_str(value)
                    )));
                }
                None
            }
            other => other.cloned(),
        };
        self.validate_output_config()?;
        Ok(AnthropicMessagesRequest {
            model: self.model.to_owned(),
            messages,
            system,
            max_tokens: self
                .max_tokens
                .unwrap_or_else(|| self.capabilities.default_max_tokens()),
            stop_sequences: self
                .stop_sequences
                .and_then(|v| serde_json::from_value(v).ok()),
            temperature: self.temperature,
            top_p: self.top_p,
            top_k,
            metadata: self.metadata,
            tools: self.tools,
            tool_choice: self.tool_choice,
            mcp_servers: (!self.mcp_servers.is_empty()).then_some(self.mcp_servers),
            thinking: self.thinking,
            output_format: self.output_format,
            output_config: self.output_config,
            stream: request.stream.then_some(true),
            extra: self.extra,
        })
    }

    /// Rewrite tool names Anthropic rejects, in tools, `tool_choice` and the history.
    fn sanitize_tool_names(&mut self, history: &mut [ChatMessage]) {
        let Some(tools) = &mut self.tools else {
            return;
        };
        let names: Vec<String> = tools
            .iter()
            .filter_map(|t| match t {
                AnthropicTool::Custom(tool) if tool.kind == Some("custom") => {
                    Some(tool.name.clone())
                }
                _ => None,
            })
            .collect();
        let (forward, _) = tool_name_maps(&names);
        if forward.is_empty() {
            return;
        }
        for tool in tools.iter_mut() {
            if let AnthropicTool::Custom(tool) = tool {
                if tool.kind == Some("custom") {
                    if let Some(new) = forward.get(&tool.name) {
                        tool.name.clone_from(new);
                    }
                }
            }
        }
        if let Some(choice) = &mut self.tool_choice {
            if choice.kind == "tool" {
                if let Some(new) = choice.name.as_ref().and_then(|n| forward.get(n)) {
                    choice.name = Some(new.clone());
                }
            }
        }
        for message in history {
            for call in message.tool_calls.iter_mut().flatten() {
                if let Some(new) = forward.get(&call.function.name) {
                    call.function.name.clone_from(new);
                }
            }
            if let Some(Value::Object(call)) = &mut message.function_call {
                if let Some(new) = call
                    .get("name")
                    .and_then(Value::as_str)
                    .and_then(|n| forward.get(n))
                {
                    call.insert("name".to_owned(), Value::from(new.clone()));
                }
            }
        }
    }

    fn validate_output_config(&mut self) -> Result<()> {
        let Some(Value::Object(config)) = &self.output_config else {
            return Ok(());
        };
        if self.drop_params && config.keys().any(|k| k != "format") && !self.capabilities.effort {
            self.output_config = config.get("format").map(|format| json!({"format": format}));
            return Ok(());
        }
        let Some(effort) = config.get("effort").filter(|e| !e.is_null()) else {
            return Ok(());
        };
        let effort_text = effort.as_str().unwrap_or_default();
        if !matches!(effort_text, "high" | "medium" | "low" | "xhigh" | "max") {
            return Err(Error::bad_request(format!(
                "Invalid effort value: {}. Must be one of: 'high', 'medium', 'low', 'xhigh', 'max'",
                python_repr(effort)
            )));
        }
        let allowed = match effort_text {
            "max" => self.capabilities.adaptive_thinking || self.capabilities.max_effort,
            "xhigh" => self.capabilities.xhigh_effort,
            _ => true,
        };
        if !allowed {
            return Err(Error::bad_request(format!(
                "effort='{effort_text}' is not supported by this model. Got model: {}",
                self.model
            )));
        }
        Ok(())
    }
}

/// `developer` messages are system messages for every provider but OpenAI.
fn normalized_roles(messages: &[ChatMessage]) -> Vec<ChatMessage> {
    messages
        .iter()
        .cloned()
        .map(|mut m| {
            if m.role == Role::Developer {
                m.role = Role::System;
            }
            m
        })
        .collect()
}

/// OpenAI `context_management` (`[{"type": "compaction", "compact_threshold"}]`) → Anthropic's
/// `{"edits": [...]}`; the Anthropic shape passes through.
fn map_context_management(value: &Value) -> Option<Value> {
    if value.get("edits").is_some() {
        return Some(value.clone());
    }
    let edits: Vec<Value> = value
        .as_array()?
        .iter()
        .filter_map(Value::as_object)
        .filter(|entry| entry.get("type").and_then(Value::as_str) == Some("compaction"))
        .map(|entry| {
            let mut edit = serde_json::Map::new();
            edit.insert("type".to_owned(), Value::from("compact_20260112"));
            if let Some(threshold) = entry.get("compact_threshold").and_then(Value::as_f64) {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "a token count, truncated as Python's int() does"
                )]
                let threshold = threshold as i64;
                edit.insert(
                    "trigger".to_owned(),
                    json!({"type": "input_tokens", "value": threshold}),
                );
            }
            for (key, field) in entry {
                if key != "type" && key != "compact_threshold" {
                    edit.insert(key.clone(), field.clone());
                }
            }
            Value::Object(edit)
        })
        .collect();
    (!edits.is_empty()).then(|| json!({"edits": edits}))
}

/// The `anthropic-beta` values the body needs, with the caller's own, filtered to the names
/// Anthropic knows (as LiteLLM's beta-header manager does).
#[must_use]
pub fn beta_headers(
    request: &ChatRequest,
    body: &AnthropicMessagesRequest,
    caller_betas: &[String],
    oauth: bool,
) -> Vec<String> {
    let mut betas: Vec<String> = Vec::new();
    let mut add = |beta: &str| {
        let beta = beta.trim();
        if !beta.is_empty() && !betas.iter().any(|b| b == beta) {
            betas.push(beta.to_owned());
        }
    };
    let tools = body.tools.as_deref().unwrap_or_default();
    let tool_kinds: Vec<&str> = tools.iter().filter_map(AnthropicTool::kind).collect();
    for kind in &tool_kinds {
        match *kind {
            "computer_20250124" => add("computer-use-2025-01-24"),
            k if k.starts_with("computer_") => add("computer-use-2024-10-22"),
            _ => {}
        }
    }
    let file_ids = request.messages.iter().any(|m| {
        m.role == Role::User
            && matches!(&m.content, Some(MessageContent::Parts(parts)) if parts.iter().any(|p| {
                p.kind == "file" && p.extra.get("file").and_then(|f| f.get("file_id")).is_some_and(|id| !id.is_null())
            }))
    });
    if file_ids {
        add("files-api-2025-04-14");
        add("code-execution-2025-05-22");
    }
    if body.mcp_servers.is_some() {
        add("mcp-client-2025-04-04");
    }
    let tool_search = tool_kinds.iter().any(|k| k.starts_with("tool_search_tool"));
    let tool_json = |key: &str| {
        tools.iter().any(|t| match t {
            AnthropicTool::Custom(tool) => match key {
                "allowed_callers" => tool.allowed_callers.is_some(),
                _ => tool.input_examples.is_some(),
            },
            AnthropicTool::Raw(value) => value.get(key).is_some(),
        })
    };
    if tool_search || tool_json("allowed_callers") || tool_json("input_examples") {
        add("advanced-tool-use-2025-11-20");
    }
    let capabilities = ModelCapabilities::of(&body.model);
    let effort_beta = !capabilities.adaptive_thinking
        && body
            .output_config
            .as_ref()
            .and_then(|c| c.get("effort"))
            .is_some_and(Value::is_string);
    if effort_beta {
        add("effort-2025-11-24");
    }
    if tool_kinds.contains(&"code_execution_20250825") {
        add("code-execution-2025-08-25");
    }
    let skills = body
        .extra
        .get("container")
        .and_then(|c| c.get("skills"))
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    if skills {
        add("skills-2025-10-02");
    }
    if oauth {
        add("oauth-2025-04-20");
    }
    for beta in caller_betas {
        add(beta);
    }
    for kind in &tool_kinds {
        if kind.starts_with("web_fetch") {
            add("web-fetch-2025-09-10");
        } else if kind.starts_with("memory") {
            add("context-management-2025-06-27");
        }
    }
    if let Some(management) = body.extra.get("context_management") {
        let edits = management.get("edits").and_then(Value::as_array);
        for edit in edits.into_iter().flatten() {
            match edit.get("type").and_then(Value::as_str) {
                Some("compact_20260112" | "compaction") => add("compact-2026-01-12"),
                _ => add("context-management-2025-06-27"),
            }
        }
    }
    let output_config_format = body
        .output_config
        .as_ref()
        .and_then(|c| c.get("format"))
        .is_some_and(|f| !f.is_null());
    if body.output_format.is_some()
        || body.extra.contains_key("output_format")
        || output_config_format
    {
        add("structured-outputs-2025-11-13");
    }
    if body.extra.get("speed").and_then(Value::as_str) == Some("fast") {
        add("fast-mode-2026-02-01");
    }
    betas.retain(|b| KNOWN_BETAS.contains(&b.as_str()));
    betas
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    fn body(value: Value) -> Value {
        serde_json::to_value(messages_body(&request(value), false).unwrap()).unwrap()
    }

    #[test]
    fn defaults_and_simple_params() {
        let out = body(json!({
            "model": "claude-sonnet-4-5",
            "messages": [{"role": "user", "content": "hi"}],
            "stop": "x", "user": "u1", "temperature": 0.3, "top_k": 5, "foo_bar": 1
        }));
        assert_eq!(
            out,
            json!({
                "model": "claude-sonnet-4-5",
                "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
                "max_tokens": 64000, "stop_sequences": ["x"], "temperature": 0.3, "top_k": 5,
                "metadata": {"user_id": "u1"}, "foo_bar": 1
            })
        );
    }

    #[test]
    fn unsupported_params_are_rejected_as_litellm_does() {
        let error = messages_body(
            &request(json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}], "seed": 1, "n": 2})),
            false,
        )
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnsupportedParams);
        assert!(error.message().starts_with(
            "anthropic does not support parameters: ['n', 'seed'], for model=claude-sonnet-4-5."
        ));
        let dropped = messages_body(
            &request(
                json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}], "seed": 1, "n": 1}),
            ),
            true,
        );
        assert!(dropped.is_ok());
    }

    #[test]
    fn user_ids_that_look_personal_are_not_sent() {
        assert!(!valid_user_id("a@b.com"));
        assert!(!valid_user_id("+1 555 123 4567"));
        assert!(valid_user_id("user-123"));
        assert!(valid_user_id("a@b"));
    }
}
