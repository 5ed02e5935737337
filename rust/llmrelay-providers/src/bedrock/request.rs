//! OpenAI chat request → Bedrock `ConverseRequest`, as LiteLLM's `bedrock/converse` route maps
//! it (`AmazonConverseConfig`): pure, no I/O. http(s) image URLs never get here: the engine
//! downloads them first (`Provider::inlines_image_url`).

use serde_json::{Map, Value, json};

use llmrelay_core::types::{ChatMessage, ChatRequest, ContentPart, MessageContent, Role, Tool};
use llmrelay_core::{Error, ErrorKind, Result};

use super::types::{
    BedrockCachePoint, BedrockContentBlock, BedrockConverseRequest, BedrockImageBlock,
    BedrockImageSource, BedrockInferenceConfig, BedrockMessage, BedrockReasoningContent,
    BedrockReasoningText, BedrockSystemBlock, BedrockTool, BedrockToolConfig, BedrockToolResult,
    BedrockToolSpec, BedrockToolUse,
};

/// The tool LiteLLM adds to emulate `response_format` with a JSON schema.
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

/// Bedrock rejects thinking budgets below this (LiteLLM clamps up to it).
const MIN_THINKING_BUDGET: u64 = 1024;

/// Added to the thinking budget when the caller sets no `max_tokens` (`DEFAULT_MAX_TOKENS`).
const THINKING_HEADROOM: u64 = 4096;

/// Body keys of the Converse API a caller may pass straight through.
const PASSTHROUGH_KEYS: &[&str] = &[
    "guardrailConfig",
    "performanceConfig",
    "requestMetadata",
    "promptVariables",
    "additionalModelResponseFieldPaths",
];

/// OpenAI parameters the Converse route accepts (LiteLLM's `get_supported_openai_params`).
#[must_use]
pub fn supported_openai_params(model: &str) -> Vec<&'static str> {
    let mut params = vec![
        "max_tokens",
        "max_completion_tokens",
        "stream",
        "stream_options",
        "stop",
        "temperature",
        "top_p",
        "extra_headers",
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
    ];
    if is_anthropic(model) {
        params.extend(["thinking", "reasoning_effort"]);
    } else if model.contains("nova-2") || model.contains("gpt-oss") || model.contains("deepseek") {
        params.push("reasoning_effort");
    }
    params
}

/// Whether the model is served by Anthropic (thinking, cache points, `top_k` naming).
#[must_use]
pub fn is_anthropic(model: &str) -> bool {
    model.contains("anthropic.") || model.contains("claude")
}

/// Whether the call asked for JSON output (the response then unwraps `json_tool_call`).
#[must_use]
pub fn json_mode(request: &ChatRequest) -> bool {
    request
        .response_format
        .as_ref()
        .and_then(|f| f.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t != "text")
}

fn unsupported(message: String) -> Error {
    Error::new(ErrorKind::UnsupportedParams, message)
}

/// The Converse body for `request` sent to `model` (the Bedrock model id).
///
/// # Errors
/// Parameters Bedrock does not take (unless `drop_params`), malformed messages or tool
/// arguments, unsupported image URLs.
pub fn converse_body(
    request: &ChatRequest,
    model: &str,
    drop_params: bool,
) -> Result<BedrockConverseRequest> {
    check_unsupported(request, model, drop_params)?;
    let (system, messages) = convert_messages(&request.messages, model)?;
    let mut body = BedrockConverseRequest {
        messages,
        system,
        ..BedrockConverseRequest::default()
    };
    let mut additional: Map<String, Value> = Map::new();
    let mut inference = BedrockInferenceConfig {
        max_tokens: request.max_completion_tokens.or(request.max_tokens),
        temperature: request.temperature,
        top_p: request.top_p,
        stop_sequences: stop_sequences(request.stop.as_ref()),
    };

    // Reasoning: `thinking` as given, or `reasoning_effort` mapped as LiteLLM maps it.
    if let Some(thinking) = request.extra.get("thinking").filter(|t| !t.is_null()) {
        let mut thinking = thinking.clone();
        if let Some(budget) = thinking.get_mut("budget_tokens") {
            if budget.as_u64().is_some_and(|b| b < MIN_THINKING_BUDGET) {
                *budget = Value::from(MIN_THINKING_BUDGET);
            }
        }
        additional.insert("thinking".to_owned(), thinking);
    } else if let Some(effort) = request.reasoning_effort.as_deref() {
        map_reasoning_effort(effort, model, &mut additional)?;
    }
    let thinking_budget = additional
        .get("thinking")
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("enabled"))
        .and_then(|t| t.get("budget_tokens"))
        .and_then(Value::as_u64);
    let thinking_enabled = additional.get("thinking").is_some_and(|t| {
        matches!(
            t.get("type").and_then(Value::as_str),
            Some("enabled" | "adaptive")
        )
    });
    if let (Some(budget), None) = (thinking_budget, inference.max_tokens) {
        inference.max_tokens = Some(budget + THINKING_HEADROOM);
    }
    if let Some(top_k) = request.extra.get("top_k").filter(|v| !v.is_null()) {
        additional.insert("top_k".to_owned(), top_k.clone());
    }

    // Tools, then the JSON-mode tool LiteLLM adds for a schema'd response_format.
    let mut tools: Vec<BedrockTool> = Vec::new();
    for tool in request.tools.iter().flatten() {
        push_tool(tool, model, &mut tools)?;
    }
    let mut tool_choice = match &request.tool_choice {
        None | Some(Value::Null) => None,
        Some(choice) => map_tool_choice(choice, drop_params)?,
    };
    if let Some(schema) = request.response_format.as_ref().and_then(response_schema) {
        let description = request
            .response_format
            .as_ref()
            .and_then(|f| f.pointer("/json_schema/description"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        tools.push(BedrockTool {
            tool_spec: Some(BedrockToolSpec {
                name: RESPONSE_FORMAT_TOOL_NAME.to_owned(),
                description,
                input_schema: json!({"json": schema}),
            }),
            cache_point: None,
        });
        if !thinking_enabled {
            tool_choice = Some(json!({"tool": {"name": RESPONSE_FORMAT_TOOL_NAME}}));
        }
    }
    // Forced tool use is rejected while thinking: LiteLLM falls back to `auto`.
    if thinking_enabled
        && tool_choice
            .as_ref()
            .is_some_and(|c| c.get("any").is_some() || c.get("tool").is_some())
    {
        tool_choice = Some(json!({"auto": {}}));
    }
    if !tools.is_empty() {
        body.tool_config = Some(BedrockToolConfig { tools, tool_choice });
    }
    if request.parallel_tool_calls == Some(false) && is_anthropic(model) {
        additional.insert(
            "tool_choice".to_owned(),
            json!({"type": "auto", "disable_parallel_tool_use": true}),
        );
    }

    // The caller's own Converse fields win over what was mapped.
    if let Some(Value::Object(extra)) = request.extra.get("additionalModelRequestFields") {
        for (key, value) in extra {
            additional.insert(key.clone(), value.clone());
        }
    }
    for key in PASSTHROUGH_KEYS {
        if let Some(value) = request.extra.get(*key).filter(|v| !v.is_null()) {
            let value = Some(value.clone());
            match *key {
                "guardrailConfig" => body.guardrail_config = value,
                "performanceConfig" => body.performance_config = value,
                "requestMetadata" => body.request_metadata = value,
                "promptVariables" => body.prompt_variables = value,
                _ => body.additional_model_response_field_paths = value,
            }
        }
    }
    if let Some(tier) = request.extra.get("serviceTier").filter(|v| !v.is_null()) {
        body.service_tier = Some(tier.clone());
    }
    body.inference_config = inference.non_empty();
    if !additional.is_empty() {
        body.additional_model_request_fields = Some(additional);
    }
    Ok(body)
}

fn check_unsupported(request: &ChatRequest, model: &str, drop_params: bool) -> Result<()> {
    if drop_params {
        return Ok(());
    }
    let mut names: Vec<&str> = Vec::new();
    if request.presence_penalty.is_some() {
        names.push("presence_penalty");
    }
    if request.frequency_penalty.is_some() {
        names.push("frequency_penalty");
    }
    if request.logit_bias.is_some() {
        names.push("logit_bias");
    }
    if request.logprobs.is_some() {
        names.push("logprobs");
    }
    if request.top_logprobs.is_some() {
        names.push("top_logprobs");
    }
    if request.seed.is_some() {
        names.push("seed");
    }
    if request.n.is_some_and(|n| n > 1) {
        names.push("n");
    }
    if names.is_empty() {
        return Ok(());
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    Err(unsupported(format!(
        "bedrock does not support parameters: [{}], for model={model}. To drop these, set \
         `litellm.drop_params=True` or for proxy:\n\n`litellm_settings:\n drop_params: true`\n",
        quoted.join(", ")
    ))
    .with_param(names[0]))
}

fn map_reasoning_effort(
    effort: &str,
    model: &str,
    additional: &mut Map<String, Value>,
) -> Result<()> {
    if model.contains("gpt-oss") || model.contains("deepseek") {
        additional.insert("reasoning_effort".to_owned(), Value::from(effort));
        return Ok(());
    }
    if model.contains("nova-2") {
        if !matches!(effort, "low" | "medium" | "high") {
            return Err(Error::bad_request(format!(
                "Invalid reasoning_effort value '{effort}' for Nova 2 models. Supported values: \
                 ['low', 'medium', 'high']"
            )));
        }
        additional.insert(
            "reasoningConfig".to_owned(),
            json!({"type": "enabled", "maxReasoningEffort": effort}),
        );
        return Ok(());
    }
    if effort == "none" {
        return Ok(());
    }
    let budget = EFFORT_BUDGETS
        .iter()
        .find(|(name, _)| *name == effort)
        .map(|(_, budget)| *budget)
        .ok_or_else(|| {
            Error::bad_request(format!(
                "Unmapped reasoning effort: '{effort}'. Must be one of: 'minimal', 'low', \
                 'medium', 'high', 'xhigh', 'max', 'none'."
            ))
            .with_param("reasoning_effort")
        })?;
    additional.insert(
        "thinking".to_owned(),
        json!({"type": "enabled", "budget_tokens": budget}),
    );
    Ok(())
}

fn stop_sequences(stop: Option<&Value>) -> Vec<String> {
    match stop {
        // Converse rejects empty strings.
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The schema of a `json_schema` (or LiteLLM's `response_schema`) response format.
fn response_schema(format: &Value) -> Option<Value> {
    if format.get("type").and_then(Value::as_str) == Some("text") {
        return None;
    }
    format
        .get("response_schema")
        .or_else(|| format.pointer("/json_schema/schema"))
        .filter(|s| !s.is_null())
        .cloned()
}

fn map_tool_choice(choice: &Value, drop_params: bool) -> Result<Option<Value>> {
    match choice {
        Value::String(s) if s == "auto" => Ok(Some(json!({"auto": {}}))),
        Value::String(s) if s == "required" => Ok(Some(json!({"any": {}}))),
        Value::String(s) if s == "none" && drop_params => Ok(None),
        Value::Object(object) => {
            let name = object
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            Ok(Some(json!({"tool": {"name": name}})))
        }
        other => {
            let shown = other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_owned);
            Err(unsupported(format!(
                "Bedrock doesn't support tool_choice={shown}. To drop it from the call, set \
                 `litellm.drop_params = True."
            ))
            .with_param("tool_choice"))
        }
    }
}

fn push_tool(tool: &Tool, model: &str, out: &mut Vec<BedrockTool>) -> Result<()> {
    let Some(function) = &tool.function else {
        return Err(Error::bad_request(format!(
            "bedrock tools must be function tools, got type '{}'",
            tool.kind
        ))
        .with_param("tools"));
    };
    let schema = match &function.parameters {
        Some(parameters) if !parameters.is_null() => parameters.clone(),
        _ => json!({"type": "object", "properties": {}}),
    };
    out.push(BedrockTool {
        tool_spec: Some(BedrockToolSpec {
            name: function.name.clone(),
            description: function.description.clone().filter(|d| !d.is_empty()),
            input_schema: json!({"json": schema}),
        }),
        cache_point: None,
    });
    let control = tool
        .extra
        .get("cache_control")
        .or_else(|| function.extra.get("cache_control"));
    if let Some(control) = control.filter(|c| !c.is_null()) {
        out.push(BedrockTool {
            tool_spec: None,
            cache_point: Some(cache_point(control, model)),
        });
    }
    Ok(())
}

/// Claude 4.5 models take a cache `ttl` on Bedrock; others reject it (LiteLLM keeps it only there).
fn accepts_cache_ttl(model: &str) -> bool {
    ["sonnet-4-5", "haiku-4-5", "opus-4-5"]
        .iter()
        .any(|family| model.contains(family))
}

/// `cache_control` → `cachePoint` (`type` is always `default`; a `ttl` of 5m/1h is kept on the
/// models that take one).
fn cache_point(control: &Value, model: &str) -> BedrockCachePoint {
    let ttl = control
        .get("ttl")
        .and_then(Value::as_str)
        .filter(|t| matches!(*t, "5m" | "1h") && accepts_cache_ttl(model))
        .map(str::to_owned);
    BedrockCachePoint {
        kind: "default".to_owned(),
        ttl,
    }
}

fn message_cache_point(message: &ChatMessage, model: &str) -> Option<BedrockCachePoint> {
    message
        .extra
        .get("cache_control")
        .filter(|c| !c.is_null())
        .map(|c| cache_point(c, model))
}

/// Messages → (system blocks, alternating user/assistant messages).
///
/// # Errors
/// Malformed content or tool arguments.
pub fn convert_messages(
    messages: &[ChatMessage],
    model: &str,
) -> Result<(Vec<BedrockSystemBlock>, Vec<BedrockMessage>)> {
    let mut system = Vec::new();
    let mut out: Vec<BedrockMessage> = Vec::with_capacity(messages.len());
    for (index, message) in messages.iter().enumerate() {
        let (role, blocks) = match message.role {
            Role::System | Role::Developer => {
                system_blocks(message, model, &mut system);
                continue;
            }
            Role::User => ("user", user_blocks(message, index, model)?),
            Role::Assistant => ("assistant", assistant_blocks(message, index, model)?),
            Role::Tool | Role::Function => ("user", vec![tool_result(message)?]),
        };
        if blocks.is_empty() {
            continue;
        }
        // Bedrock requires alternating roles: consecutive same-role turns are merged.
        match out.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => out.push(BedrockMessage {
                role: role.to_owned(),
                content: blocks,
            }),
        }
    }
    Ok((system, out))
}

fn system_blocks(message: &ChatMessage, model: &str, system: &mut Vec<BedrockSystemBlock>) {
    match &message.content {
        Some(MessageContent::Text(text)) if !text.is_empty() => system.push(BedrockSystemBlock {
            text: Some(text.clone()),
            ..BedrockSystemBlock::default()
        }),
        Some(MessageContent::Parts(parts)) => {
            for part in parts {
                if let Some(text) = part.text.as_ref().filter(|t| !t.is_empty()) {
                    system.push(BedrockSystemBlock {
                        text: Some(text.clone()),
                        ..BedrockSystemBlock::default()
                    });
                }
                if let Some(control) = part.extra.get("cache_control").filter(|c| !c.is_null()) {
                    system.push(BedrockSystemBlock {
                        cache_point: Some(cache_point(control, model)),
                        ..BedrockSystemBlock::default()
                    });
                }
            }
        }
        _ => {}
    }
    if let Some(point) = message_cache_point(message, model) {
        system.push(BedrockSystemBlock {
            cache_point: Some(point),
            ..BedrockSystemBlock::default()
        });
    }
}

fn user_blocks(
    message: &ChatMessage,
    index: usize,
    model: &str,
) -> Result<Vec<BedrockContentBlock>> {
    let mut blocks = Vec::new();
    match &message.content {
        Some(MessageContent::Text(text)) if !text.is_empty() => {
            blocks.push(BedrockContentBlock::text(text.clone()));
        }
        Some(MessageContent::Parts(parts)) => {
            for part in parts {
                push_part(part, index, model, &mut blocks)?;
            }
        }
        _ => {}
    }
    if let Some(point) = message_cache_point(message, model) {
        blocks.push(BedrockContentBlock::cache_point(point));
    }
    Ok(blocks)
}

fn push_part(
    part: &ContentPart,
    index: usize,
    model: &str,
    blocks: &mut Vec<BedrockContentBlock>,
) -> Result<()> {
    match part.kind.as_str() {
        "text" => {
            if let Some(text) = part.text.as_ref().filter(|t| !t.is_empty()) {
                blocks.push(BedrockContentBlock::text(text.clone()));
            }
        }
        "image_url" => {
            let Some(image) = &part.image_url else {
                return Err(Error::bad_request(format!(
                    "messages[{index}]: image_url part without a url"
                ))
                .with_param("messages"));
            };
            blocks.push(BedrockContentBlock {
                image: Some(image_block(&image.url, index)?),
                ..BedrockContentBlock::default()
            });
        }
        other => {
            return Err(Error::bad_request(format!(
                "messages[{index}]: content part type '{other}' is not supported by bedrock \
                 converse in llmrelay (text and image_url are)"
            ))
            .with_param("messages"));
        }
    }
    if let Some(control) = part.extra.get("cache_control").filter(|c| !c.is_null()) {
        blocks.push(BedrockContentBlock::cache_point(cache_point(
            control, model,
        )));
    }
    Ok(())
}

/// `image/png` → `png`; Bedrock's `ImageFormat` has png, jpeg, gif, webp.
#[must_use]
pub fn image_format(mime: &str) -> Option<&'static str> {
    match mime.trim().to_ascii_lowercase().as_str() {
        "image/png" => Some("png"),
        "image/jpeg" | "image/jpg" => Some("jpeg"),
        "image/gif" => Some("gif"),
        "image/webp" => Some("webp"),
        _ => None,
    }
}

fn image_block(url: &str, index: usize) -> Result<BedrockImageBlock> {
    if let Some(rest) = url.strip_prefix("data:") {
        let Some((meta, data)) = rest.split_once(',') else {
            return Err(
                Error::bad_request(format!("messages[{index}]: malformed data URL"))
                    .with_param("messages"),
            );
        };
        let mime = meta.split(';').next().unwrap_or_default();
        if !meta.ends_with(";base64") {
            return Err(Error::bad_request(format!(
                "messages[{index}]: image data URLs must be base64-encoded"
            ))
            .with_param("messages"));
        }
        let format = image_format(mime).ok_or_else(|| {
            Error::bad_request(format!(
                "messages[{index}]: image type '{mime}' is not supported by bedrock (png, jpeg, \
                 gif, webp)"
            ))
            .with_param("messages")
        })?;
        return Ok(BedrockImageBlock {
            format: format.to_owned(),
            source: BedrockImageSource {
                bytes: Some(data.to_owned()),
                ..BedrockImageSource::default()
            },
        });
    }
    Err(Error::bad_request(format!(
        "messages[{index}]: image_url must be a data: URL (http(s) URLs are downloaded by the \
         engine before translation)"
    ))
    .with_param("messages"))
}

fn assistant_blocks(
    message: &ChatMessage,
    index: usize,
    model: &str,
) -> Result<Vec<BedrockContentBlock>> {
    let mut blocks = Vec::new();
    // Thinking blocks come first and go back with their signatures (required with tool use).
    for block in message.thinking_blocks.iter().flatten() {
        let reasoning = match block.get("type").and_then(Value::as_str) {
            Some("thinking") => BedrockReasoningContent {
                reasoning_text: Some(BedrockReasoningText {
                    text: block
                        .get("thinking")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    signature: block
                        .get("signature")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                }),
                redacted_content: None,
            },
            Some("redacted_thinking") => BedrockReasoningContent {
                reasoning_text: None,
                redacted_content: block.get("data").and_then(Value::as_str).map(str::to_owned),
            },
            _ => continue,
        };
        blocks.push(BedrockContentBlock {
            reasoning_content: Some(reasoning),
            ..BedrockContentBlock::default()
        });
    }
    match &message.content {
        Some(MessageContent::Text(text)) if !text.is_empty() => {
            blocks.push(BedrockContentBlock::text(text.clone()));
        }
        Some(MessageContent::Parts(parts)) => {
            for part in parts {
                push_part(part, index, model, &mut blocks)?;
            }
        }
        _ => {}
    }
    for call in message.tool_calls.iter().flatten() {
        let arguments = call.function.arguments.trim();
        let input = if arguments.is_empty() {
            json!({})
        } else {
            serde_json::from_str(arguments).map_err(|e| {
                Error::bad_request(format!(
                    "messages[{index}]: tool call '{}' has arguments that are not JSON: {e}",
                    call.function.name
                ))
                .with_param("messages")
            })?
        };
        blocks.push(BedrockContentBlock {
            tool_use: Some(BedrockToolUse {
                tool_use_id: call.id.clone(),
                name: call.function.name.clone(),
                input,
            }),
            ..BedrockContentBlock::default()
        });
    }
    if let Some(point) = message_cache_point(message, model) {
        blocks.push(BedrockContentBlock::cache_point(point));
    }
    Ok(blocks)
}

fn tool_result(message: &ChatMessage) -> Result<BedrockContentBlock> {
    let id = message
        .tool_call_id
        .clone()
        .or_else(|| message.name.clone())
        .unwrap_or_default();
    let mut content: Vec<Value> = Vec::new();
    match &message.content {
        Some(MessageContent::Text(text)) => content.push(json!({"text": text})),
        Some(MessageContent::Parts(parts)) => {
            for part in parts {
                match part.kind.as_str() {
                    "text" => content.push(json!({"text": part.text.clone().unwrap_or_default()})),
                    "image_url" => {
                        if let Some(image) = &part.image_url {
                            content.push(json!({"image": image_block(&image.url, 0)?}));
                        }
                    }
                    _ => {}
                }
            }
        }
        None => {}
    }
    Ok(BedrockContentBlock {
        tool_result: Some(BedrockToolResult {
            tool_use_id: id,
            content,
            status: None,
        }),
        ..BedrockContentBlock::default()
    })
}
