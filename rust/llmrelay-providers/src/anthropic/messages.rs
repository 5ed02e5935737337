//! OpenAI chat messages → Anthropic's top-level `system` plus alternating `messages`
//! (<https://docs.anthropic.com/en/api/messages>), as LiteLLM's `anthropic_messages_pt` builds
//! them: consecutive user-side turns (user, tool, function) merge into one user message,
//! consecutive assistant turns into one assistant message; tool results become `tool_result`
//! blocks, tool calls `tool_use` blocks, and thinking blocks lead their assistant message with
//! their signatures intact.
//!
//! Only the leading run of system messages becomes `system`. A later system message stays where
//! it is: hoisting it would rewrite the cached prompt prefix. Models that accept system turns
//! inside `messages` keep it as one (placed after a user turn, as the API requires); other models
//! get it as a user turn prefixed with an operator note.

use serde_json::Value;

use llmrelay_core::types::{ChatMessage, ContentPart, JsonMap, MessageContent, Role, ToolCall};
use llmrelay_core::{Error, Result};

use super::model::ModelCapabilities;
use super::types::{
    AnthropicContentBlock, AnthropicMessage, AnthropicRole, AnthropicSource, AnthropicSourceBlock,
    AnthropicTextBlock, AnthropicToolResultBlock, AnthropicToolResultContent,
    AnthropicToolUseBlock,
};

/// Replaces empty text, which Anthropic rejects ("text content blocks must be non-empty").
pub const EMPTY_TEXT_PLACEHOLDER: &str =
    "[System: Empty message content sanitised to satisfy protocol]";

/// Prefix of a mid-conversation system message turned into a user turn.
pub const CONVERTED_SYSTEM_NOTE: &str = "Operator note (not from the user): the following was originally a mid-conversation system-role reminder.";

/// Another provider's encrypted reasoning carried in a thinking block: Anthropic cannot verify it.
const ENCRYPTED_REASONING_PREFIX: &str = "litellm_encrypted_reasoning:";

/// The translated conversation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conversation {
    pub system: Vec<AnthropicContentBlock>,
    pub messages: Vec<AnthropicMessage>,
}

/// Translate the messages (roles already normalized: `developer` is `system`).
///
/// # Errors
/// No non-system message, a malformed image URL, tool-call arguments that are not JSON, or a
/// tool message without `tool_call_id`.
pub fn convert(messages: &[ChatMessage], capabilities: &ModelCapabilities) -> Result<Conversation> {
    let leading = messages
        .iter()
        .take_while(|m| m.role == Role::System)
        .count();
    let system = system_blocks(&messages[..leading]);
    let later = &messages[leading..];
    let placed = if !later.iter().any(|m| m.role == Role::System) {
        later.to_vec()
    } else if capabilities.mid_conversation_system {
        placement::for_flagged_model(later)
    } else {
        placement::for_unflagged_model(later)
    };
    if placed.is_empty() {
        return Err(Error::bad_request(
            "AnthropicException - litellm.BadRequestError: Anthropic requires at least one non-system message. \
             Either provide one, or set `litellm.modify_params = True` // `litellm_settings::modify_params: True` \
             to add the dummy user message - {'role': 'user', 'content': 'Please continue.'}.",
        )
        .with_param("messages"));
    }
    let sanitized: Vec<ChatMessage> = placed.into_iter().map(sanitize_empty_text).collect();
    Ok(Conversation {
        system,
        messages: merge_turns(&sanitized)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Small accessors
// ---------------------------------------------------------------------------------------------

fn non_null(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

/// A `cache_control` that is a dict is copied as is (LiteLLM's `add_cache_control_to_content`).
fn dict_cache_control(value: Option<&Value>) -> Option<Value> {
    value.filter(|v| v.is_object()).cloned()
}

fn message_cache_control(message: &ChatMessage) -> Option<&Value> {
    non_null(message.extra.get("cache_control"))
}

fn part_cache_control(part: &ContentPart) -> Option<&Value> {
    non_null(part.extra.get("cache_control"))
}

fn part_value(part: &ContentPart) -> Value {
    serde_json::to_value(part).unwrap_or(Value::Null)
}

fn text_block(text: impl Into<String>, cache_control: Option<Value>) -> AnthropicContentBlock {
    AnthropicContentBlock::Text(AnthropicTextBlock {
        text: text.into(),
        cache_control,
    })
}

fn text_part(text: &str, cache_control: Option<Value>) -> ContentPart {
    let mut extra = JsonMap::new();
    if let Some(cache_control) = cache_control {
        extra.insert("cache_control".to_owned(), cache_control);
    }
    ContentPart {
        kind: "text".to_owned(),
        text: Some(text.to_owned()),
        image_url: None,
        extra,
    }
}

fn message(role: Role, content: Option<MessageContent>) -> ChatMessage {
    ChatMessage {
        role,
        content,
        name: None,
        tool_calls: None,
        tool_call_id: None,
        function_call: None,
        reasoning_content: None,
        thinking_blocks: None,
        extra: JsonMap::new(),
    }
}

fn is_user_side(message: &ChatMessage) -> bool {
    matches!(message.role, Role::User | Role::Tool | Role::Function)
}

fn is_system(message: &ChatMessage) -> bool {
    matches!(message.role, Role::System | Role::Developer)
}

fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null | Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

/// A thinking block Anthropic cannot accept back: unsigned, or another provider's encrypted
/// reasoning. `redacted_thinking` blocks Anthropic minted are always kept.
pub(crate) fn is_unsignable(block: &Value) -> bool {
    let kind = block.get("type").and_then(Value::as_str);
    let carried = match kind {
        Some("thinking") => block.get("signature"),
        Some("redacted_thinking") => block.get("data"),
        _ => None,
    };
    if carried
        .and_then(Value::as_str)
        .is_some_and(|s| s.starts_with(ENCRYPTED_REASONING_PREFIX))
    {
        return true;
    }
    kind == Some("thinking")
        && block
            .get("signature")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
}

// ---------------------------------------------------------------------------------------------
// Leading system run → `system`
// ---------------------------------------------------------------------------------------------

fn system_blocks(run: &[ChatMessage]) -> Vec<AnthropicContentBlock> {
    let mut blocks = Vec::new();
    for message in run {
        match &message.content {
            Some(MessageContent::Text(text)) if !text.is_empty() => {
                blocks.push(text_block(
                    text.clone(),
                    message_cache_control(message).cloned(),
                ));
            }
            Some(MessageContent::Parts(parts)) => {
                for part in parts {
                    match part.text.as_deref() {
                        Some(text) if part.kind == "text" && !text.is_empty() => {
                            blocks.push(text_block(text, part_cache_control(part).cloned()))
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    blocks
}

// ---------------------------------------------------------------------------------------------
// Later system messages
// ---------------------------------------------------------------------------------------------

mod placement;

// ---------------------------------------------------------------------------------------------
// Turn merging (`anthropic_messages_pt`)
// ---------------------------------------------------------------------------------------------

/// Empty or blank text of a user / assistant message becomes the placeholder.
fn sanitize_empty_text(mut message: ChatMessage) -> ChatMessage {
    if !matches!(message.role, Role::User | Role::Assistant) {
        return message;
    }
    match &mut message.content {
        Some(MessageContent::Text(text)) if text.trim().is_empty() => {
            EMPTY_TEXT_PLACEHOLDER.clone_into(text);
        }
        Some(MessageContent::Parts(parts)) => {
            for part in parts.iter_mut().filter(|p| p.kind == "text") {
                if part.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
                    part.text = Some(EMPTY_TEXT_PLACEHOLDER.to_owned());
                }
            }
        }
        _ => {}
    }
    message
}

fn merge_turns(messages: &[ChatMessage]) -> Result<Vec<AnthropicMessage>> {
    let mut out: Vec<AnthropicMessage> = Vec::new();
    let mut index = 0;
    while index < messages.len() {
        let start = index;
        let mut user_content = Vec::new();
        while index < messages.len() && is_user_side(&messages[index]) {
            let m = &messages[index];
            if m.role == Role::User {
                user_blocks(m, &mut user_content)?;
            } else {
                user_content.push(tool_result(m)?);
            }
            index += 1;
        }
        if !user_content.is_empty() {
            out.push(AnthropicMessage {
                role: AnthropicRole::User,
                content: user_content,
            });
        }
        let mut assistant_content = Vec::new();
        let mut seen_tool_ids: Vec<String> = Vec::new();
        while index < messages.len() && messages[index].role == Role::Assistant {
            assistant_blocks(&messages[index], &mut assistant_content, &mut seen_tool_ids)?;
            index += 1;
        }
        if !assistant_content.is_empty() {
            out.push(AnthropicMessage {
                role: AnthropicRole::Assistant,
                content: assistant_content,
            });
        }
        while index < messages.len() && is_system(&messages[index]) {
            let blocks: Vec<AnthropicContentBlock> = placement::text_parts(&messages[index])
                .into_iter()
                .map(|(text, cache)| text_block(text, cache))
                .collect();
            if !blocks.is_empty() {
                out.push(AnthropicMessage {
                    role: AnthropicRole::System,
                    content: blocks,
                });
            }
            index += 1;
        }
        if index == start {
            return Err(Error::bad_request(format!(
                "AnthropicException - Invalid Message passed in {:?}",
                messages[index].role
            )));
        }
    }
    // The final assistant turn may not end with whitespace.
    if let Some(last) = out.last_mut() {
        if last.role == AnthropicRole::Assistant {
            for block in &mut last.content {
                if let AnthropicContentBlock::Text(text) = block {
                    let trimmed = text.text.trim_end().len();
                    text.text.truncate(trimmed);
                }
            }
        }
    }
    Ok(out)
}

fn user_blocks(message: &ChatMessage, out: &mut Vec<AnthropicContentBlock>) -> Result<()> {
    match &message.content {
        Some(MessageContent::Text(text)) => out.push(text_block(
            text.clone(),
            dict_cache_control(message.extra.get("cache_control")),
        )),
        Some(MessageContent::Parts(parts)) => {
            for part in parts {
                let cache_control = dict_cache_control(part.extra.get("cache_control"));
                match part.kind.as_str() {
                    "image_url" => {
                        let mut block = image_block(part)?;
                        if let AnthropicContentBlock::Image(image) = &mut block {
                            image.cache_control = cache_control;
                        }
                        out.push(block);
                    }
                    "text" => out.push(text_block(
                        part.text.clone().unwrap_or_default(),
                        cache_control,
                    )),
                    "document" => out.push(AnthropicContentBlock::Raw(part_value(part))),
                    "file" => out.push(with_cache_control(file_block(part)?, cache_control)),
                    _ => {}
                }
            }
        }
        None => {}
    }
    Ok(())
}

fn with_cache_control(
    mut block: AnthropicContentBlock,
    cache_control: Option<Value>,
) -> AnthropicContentBlock {
    let Some(cache_control) = cache_control else {
        return block;
    };
    match &mut block {
        AnthropicContentBlock::Text(b) => b.cache_control = Some(cache_control),
        AnthropicContentBlock::Image(b) | AnthropicContentBlock::Document(b) => {
            b.cache_control = Some(cache_control);
        }
        AnthropicContentBlock::ToolUse(b) => b.cache_control = Some(cache_control),
        AnthropicContentBlock::ToolResult(b) => b.cache_control = Some(cache_control),
        AnthropicContentBlock::Raw(Value::Object(map)) => {
            map.insert("cache_control".to_owned(), cache_control);
        }
        AnthropicContentBlock::Raw(_) => {}
    }
    block
}

fn image_format(part: &ContentPart) -> Option<String> {
    part.image_url
        .as_ref()
        .and_then(|i| i.extra.get("format"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `image_url` → `image`: URLs by reference, data URLs inline. (The engine has already
/// replaced plain-`http` URLs by their bytes, as LiteLLM downloads those.)
fn image_block(part: &ContentPart) -> Result<AnthropicContentBlock> {
    let url = part.image_url.as_ref().map_or("", |i| i.url.as_str());
    let format = image_format(part);
    let source = if url.starts_with("http://") || url.starts_with("https://") {
        AnthropicSource::Url {
            url: url.to_owned(),
        }
    } else {
        base64_source(url, format.as_deref())?
    };
    Ok(AnthropicContentBlock::Image(AnthropicSourceBlock {
        source,
        cache_control: None,
    }))
}

/// `data:<media type>;base64,<data>` → a base64 source; `format` overrides the media type.
fn base64_source(url: &str, format: Option<&str>) -> Result<AnthropicSource> {
    let parsed = url
        .split_once("data:")
        .map(|(_, rest)| rest.split("data:").next().unwrap_or(rest))
        .and_then(|rest| rest.split_once(";base64,"))
        .filter(|(_, data)| !data.contains(";base64,"));
    let Some((media_type, data)) = parsed else {
        return Err(Error::bad_request(
            "AnthropicException - Image url not in expected format. Example Expected input - \
             \"image_url\": \"data:image/jpeg;base64,{base64_image}\". Supported formats - \
             ['image/jpeg', 'image/png', 'image/gif', 'image/webp'].",
        ));
    };
    Ok(AnthropicSource::Base64 {
        media_type: format.map_or_else(|| media_type.replace("\\/", "/"), str::to_owned),
        data: data.to_owned(),
    })
}

/// A `file` part: inline data → `document`; a file id → document / image / container upload by
/// its format (or by its shape when no format is given).
fn file_block(part: &ContentPart) -> Result<AnthropicContentBlock> {
    let file = part.extra.get("file").unwrap_or(&Value::Null);
    let format = file.get("format").and_then(Value::as_str);
    if let Some(data) = file
        .get("file_data")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
    {
        return Ok(AnthropicContentBlock::Document(AnthropicSourceBlock {
            source: base64_source(data, format)?,
            cache_control: None,
        }));
    }
    if let Some(file_id) = file
        .get("file_id")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
    {
        let kind = match format {
            Some("application/pdf" | "text/plain") => "document",
            Some("image/jpeg" | "image/png" | "image/gif" | "image/webp") => "image",
            Some(_) => "container_upload",
            None if file_id.starts_with("http") => "document_url",
            None => "container_upload",
        };
        let id_source = || AnthropicSource::File {
            file_id: file_id.to_owned(),
        };
        return Ok(match kind {
            "document" => AnthropicContentBlock::Document(AnthropicSourceBlock {
                source: id_source(),
                cache_control: None,
            }),
            "image" => AnthropicContentBlock::Image(AnthropicSourceBlock {
                source: id_source(),
                cache_control: None,
            }),
            "document_url" => AnthropicContentBlock::Document(AnthropicSourceBlock {
                source: AnthropicSource::Url {
                    url: file_id.to_owned(),
                },
                cache_control: None,
            }),
            _ => AnthropicContentBlock::Raw(
                serde_json::json!({"type": "container_upload", "file_id": file_id}),
            ),
        });
    }
    if file.is_null() {
        return Err(Error::bad_request(
            "AnthropicException - Content block has type='file' but is missing the required 'file' field",
        ));
    }
    Err(Error::bad_request(
        "AnthropicException - Either file_data or file_id must be present in the file message",
    ))
}

/// Anthropic requires tool ids to match `^[a-zA-Z0-9_-]+$`.
#[must_use]
pub fn sanitize_tool_use_id(id: &str) -> String {
    let sanitized: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if sanitized.is_empty() {
        "tool_use_id".to_owned()
    } else {
        sanitized
    }
}

/// A `tool` / `function` message → `tool_result`.
fn tool_result(message: &ChatMessage) -> Result<AnthropicContentBlock> {
    let content = match &message.content {
        Some(MessageContent::Text(text)) => AnthropicToolResultContent::Text(text.clone()),
        Some(MessageContent::Parts(parts)) => {
            let mut blocks = Vec::new();
            for part in parts {
                match part.kind.as_str() {
                    "text" => blocks.push(text_block(
                        part.text.clone().unwrap_or_default(),
                        part_cache_control(part).cloned(),
                    )),
                    "image_url" => {
                        let url = part.image_url.as_ref().map_or("", |i| i.url.as_str());
                        let block = if is_document_data_url(url) {
                            let file = serde_json::json!({"type": "file", "file": {"file_data": url}});
                            let file: ContentPart = serde_json::from_value(file)?;
                            file_block(&file)?
                        } else {
                            image_block(part)?
                        };
                        blocks.push(with_cache_control(
                            block,
                            dict_cache_control(part.extra.get("cache_control")),
                        ));
                    }
                    "tool_reference" => blocks.push(AnthropicContentBlock::Raw(
                        serde_json::json!({"type": "tool_reference", "tool_name": part.extra.get("tool_name")}),
                    )),
                    "file" => blocks.push(with_cache_control(
                        file_block(part)?,
                        dict_cache_control(part.extra.get("cache_control")),
                    )),
                    _ => {}
                }
            }
            AnthropicToolResultContent::Blocks(blocks)
        }
        None => AnthropicToolResultContent::Text(String::new()),
    };
    let id = match (message.role, message.tool_call_id.as_deref()) {
        (_, Some(id)) => id.to_owned(),
        (Role::Function, None) => uuid::Uuid::new_v4().to_string(),
        _ => {
            return Err(Error::bad_request(
                "AnthropicException - a tool message needs a tool_call_id",
            )
            .with_param("messages"));
        }
    };
    Ok(AnthropicContentBlock::ToolResult(
        AnthropicToolResultBlock {
            tool_use_id: sanitize_tool_use_id(&id),
            content,
            cache_control: message_cache_control(message).cloned(),
        },
    ))
}

/// Data URLs Anthropic takes as documents rather than images.
fn is_document_data_url(url: &str) -> bool {
    url.strip_prefix("data:")
        .and_then(|rest| rest.split([';', ',']).next())
        .is_some_and(|media| matches!(media, "application/pdf" | "text/plain"))
}

/// Tool-call arguments as the `input` object: empty means `{}`; JSON cut short is closed.
///
/// # Errors
/// Arguments that are not JSON even after closing open brackets.
pub fn parse_arguments(arguments: &str, tool_name: &str) -> Result<Value> {
    if arguments.trim().is_empty() {
        return Ok(Value::Object(JsonMap::new()));
    }
    match serde_json::from_str(arguments) {
        Ok(value) => Ok(value),
        Err(error) => repair_truncated_json(arguments).ok_or_else(|| {
            Error::bad_request(format!(
                "AnthropicException - Failed to parse tool call arguments for tool '{tool_name}' \
                 (Anthropic tool invoke). Error: {error}. Arguments: {arguments}"
            ))
        }),
    }
}

/// Close the brackets a truncated JSON text left open.
fn repair_truncated_json(text: &str) -> Option<Value> {
    let stripped = text.trim_end();
    let mut openers = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for ch in stripped.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match ch {
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            _ if in_string => {}
            '{' => openers.push('}'),
            '[' => openers.push(']'),
            '}' | ']' if openers.last() == Some(&ch) => {
                openers.pop();
            }
            _ => {}
        }
    }
    if openers.is_empty() {
        return None;
    }
    let mut candidate = stripped.trim_end_matches(',').to_owned();
    candidate.extend(openers.iter().rev());
    serde_json::from_str(&candidate).ok()
}

/// A server tool result matching `tool_use_id`, from `provider_specific_fields`.
fn server_tool_result(message: &ChatMessage, tool_use_id: &str) -> Option<Value> {
    let fields = message.extra.get("provider_specific_fields")?;
    ["web_search_results", "tool_results"]
        .iter()
        .filter_map(|key| fields.get(*key).and_then(Value::as_array))
        .flatten()
        .find(|r| r.get("tool_use_id").and_then(Value::as_str) == Some(tool_use_id))
        .cloned()
}

/// Tool calls → `tool_use` blocks (server tool calls with their result → `server_tool_use`
/// followed by the result block).
fn tool_uses(message: &ChatMessage, calls: &[ToolCall]) -> Result<Vec<AnthropicContentBlock>> {
    let mut out = Vec::with_capacity(calls.len());
    for call in calls.iter().filter(|c| c.kind == "function") {
        let input = parse_arguments(&call.function.arguments, &call.function.name)?;
        let server_result = call
            .id
            .starts_with("srvtoolu_")
            .then(|| server_tool_result(message, &call.id))
            .flatten();
        if let Some(result) = server_result {
            out.push(AnthropicContentBlock::Raw(serde_json::json!({
                "type": "server_tool_use", "id": call.id, "name": call.function.name, "input": input
            })));
            out.push(AnthropicContentBlock::Raw(result));
        } else {
            out.push(AnthropicContentBlock::ToolUse(AnthropicToolUseBlock {
                id: sanitize_tool_use_id(&call.id),
                name: call.function.name.clone(),
                input,
                cache_control: dict_cache_control(call.extra.get("cache_control")),
            }));
        }
    }
    Ok(out)
}

fn block_id(block: &AnthropicContentBlock) -> Option<&str> {
    match block {
        AnthropicContentBlock::ToolUse(tool_use) => Some(&tool_use.id),
        AnthropicContentBlock::Raw(value) => value.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// Append unless a block with the same id is already in this assistant turn (Anthropic rejects
/// duplicate `tool_use` ids, which replayed histories can contain).
fn push_unique(
    out: &mut Vec<AnthropicContentBlock>,
    seen: &mut Vec<String>,
    block: AnthropicContentBlock,
) {
    if let Some(id) = block_id(&block) {
        if seen.iter().any(|s| s == id) {
            return;
        }
        seen.push(id.to_owned());
    }
    out.push(block);
}

fn block_type(block: &AnthropicContentBlock) -> &str {
    match block {
        AnthropicContentBlock::ToolUse(_) => "tool_use",
        AnthropicContentBlock::Raw(value) => {
            value.get("type").and_then(Value::as_str).unwrap_or("")
        }
        _ => "",
    }
}

fn assistant_blocks(
    message: &ChatMessage,
    out: &mut Vec<AnthropicContentBlock>,
    seen: &mut Vec<String>,
) -> Result<()> {
    if let Some(Value::Array(compaction)) = message
        .extra
        .get("provider_specific_fields")
        .and_then(|f| f.get("compaction_blocks"))
    {
        out.extend(compaction.iter().cloned().map(AnthropicContentBlock::Raw));
    }
    let thinking: Option<Vec<Value>> = message.thinking_blocks.as_ref().map(|blocks| {
        blocks
            .iter()
            .filter(|b| !is_unsignable(b))
            .cloned()
            .collect()
    });
    let calls = message.tool_calls.as_deref();
    let has_server_calls = calls
        .into_iter()
        .flatten()
        .any(|c| c.id.starts_with("srvtoolu_"));
    let string_or_none = !matches!(message.content, Some(MessageContent::Parts(_)));
    let mut calls_done = false;
    if let (Some(thinking), true, true) = (&thinking, has_server_calls, string_or_none) {
        // Thinking signatures are verified by position: re-interleave each thinking block with
        // the server tool call (and result) that followed it.
        let invoked = tool_uses(message, calls.unwrap_or_default())?;
        let mut groups: Vec<Vec<AnthropicContentBlock>> = Vec::new();
        let mut current: Vec<AnthropicContentBlock> = Vec::new();
        let mut regular = Vec::new();
        for block in invoked {
            match block_type(&block) {
                "server_tool_use" => {
                    if !current.is_empty() {
                        groups.push(std::mem::take(&mut current));
                    }
                    current.push(block);
                }
                "tool_use" => regular.push(block),
                _ => current.push(block),
            }
        }
        if !current.is_empty() {
            groups.push(current);
        }
        let mut groups = groups.into_iter();
        for block in thinking {
            out.push(AnthropicContentBlock::Raw(block.clone()));
            if let Some(group) = groups.next() {
                for item in group {
                    push_unique(out, seen, item);
                }
            }
        }
        for group in groups {
            for item in group {
                push_unique(out, seen, item);
            }
        }
        if let Some(MessageContent::Text(text)) = &message.content {
            if !text.is_empty() {
                out.push(text_block(
                    text.clone(),
                    dict_cache_control(message.extra.get("cache_control")),
                ));
            }
        }
        for item in regular {
            push_unique(out, seen, item);
        }
        calls_done = true;
    } else {
        let parts = match &message.content {
            Some(MessageContent::Parts(parts)) => Some(parts),
            _ => None,
        };
        let inline_thinking = parts
            .into_iter()
            .flatten()
            .any(|p| p.kind == "thinking" || p.kind == "redacted_thinking");
        if let Some(thinking) = &thinking {
            if !inline_thinking {
                out.extend(thinking.iter().cloned().map(AnthropicContentBlock::Raw));
            }
        }
        match &message.content {
            Some(MessageContent::Parts(parts)) => {
                for part in parts {
                    match part.kind.as_str() {
                        "thinking" => {
                            let value = part_value(part);
                            let has_text = value
                                .get("thinking")
                                .and_then(Value::as_str)
                                .is_some_and(|t| !t.is_empty());
                            if has_text && !is_unsignable(&value) {
                                out.push(AnthropicContentBlock::Raw(value));
                            }
                        }
                        "text" => {
                            if let Some(text) = part.text.as_deref().filter(|t| !t.is_empty()) {
                                out.push(text_block(
                                    text,
                                    dict_cache_control(part.extra.get("cache_control")),
                                ));
                            }
                        }
                        kind if kind == "server_tool_use" || kind.ends_with("_tool_result") => {
                            out.push(AnthropicContentBlock::Raw(part_value(part)));
                        }
                        _ => {}
                    }
                }
            }
            Some(MessageContent::Text(text)) if !text.is_empty() => out.push(text_block(
                text.clone(),
                dict_cache_control(message.extra.get("cache_control")),
            )),
            _ => {}
        }
    }
    if !calls_done {
        if let Some(calls) = calls {
            for block in tool_uses(message, calls)? {
                push_unique(out, seen, block);
            }
        }
    }
    if let Some(function_call) = message.function_call.as_ref().filter(|f| !f.is_null()) {
        let name = function_call
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let arguments = function_call
            .get("arguments")
            .and_then(Value::as_str)
            .unwrap_or_default();
        out.push(AnthropicContentBlock::ToolUse(AnthropicToolUseBlock {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
            input: parse_arguments(arguments, name)?,
            cache_control: None,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(value: Value) -> Vec<ChatMessage> {
        serde_json::from_value(value).unwrap()
    }

    fn convert_json(value: Value, model: &str) -> Value {
        let converted = convert(&messages(value), &ModelCapabilities::of(model)).unwrap();
        json!({"system": converted.system, "messages": converted.messages})
    }

    #[test]
    fn later_system_messages_become_user_turns_for_unflagged_models() {
        let out = convert_json(
            json!([
                {"role": "user", "content": "x"},
                {"role": "system", "content": "later"},
                {"role": "assistant", "content": "y"},
                {"role": "user", "content": "z"}
            ]),
            "claude-sonnet-4-5",
        );
        assert_eq!(
            out["messages"][0]["content"],
            json!([
                {"type": "text", "text": "x"},
                {"type": "text", "text": CONVERTED_SYSTEM_NOTE},
                {"type": "text", "text": "later"}
            ])
        );
    }

    #[test]
    fn later_system_messages_stay_for_flagged_models() {
        let out = convert_json(
            json!([
                {"role": "user", "content": "x"},
                {"role": "system", "content": "later"},
                {"role": "assistant", "content": "y"},
                {"role": "user", "content": "z"}
            ]),
            "claude-sonnet-5",
        );
        assert_eq!(
            out["messages"][1],
            json!({"role": "system", "content": [{"type": "text", "text": "later"}]})
        );
        assert_eq!(out["messages"][2]["role"], "assistant");
    }

    #[test]
    fn system_before_tool_results_moves_after_them() {
        let out = convert_json(
            json!([
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "system", "content": "note"},
                {"role": "tool", "tool_call_id": "t1", "content": "r"}
            ]),
            "claude-sonnet-4-5",
        );
        assert_eq!(out["messages"][2]["content"][0]["type"], "tool_result");
        assert_eq!(out["messages"][2]["content"][2]["text"], "note");
    }

    #[test]
    fn unsigned_thinking_is_dropped_and_signed_leads() {
        let out = convert_json(
            json!([
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "a ", "thinking_blocks": [
                    {"type": "thinking", "thinking": "unsigned"},
                    {"type": "thinking", "thinking": "signed", "signature": "sig"}
                ]}
            ]),
            "claude-sonnet-4-5",
        );
        assert_eq!(
            out["messages"][1]["content"],
            json!([
                {"type": "thinking", "thinking": "signed", "signature": "sig"},
                {"type": "text", "text": "a"}
            ])
        );
    }

    #[test]
    fn only_system_messages_is_an_error() {
        let error = convert(
            &messages(json!([{"role": "system", "content": "s"}])),
            &ModelCapabilities::of("claude-sonnet-4-5"),
        )
        .unwrap_err();
        assert!(error.message().contains("at least one non-system message"));
    }

    #[test]
    fn truncated_arguments_are_closed() {
        assert_eq!(
            parse_arguments("{\"a\": [1, 2", "f").unwrap(),
            json!({"a": [1, 2]})
        );
        assert!(parse_arguments("not json", "f").is_err());
        assert_eq!(sanitize_tool_use_id("call.2/x"), "call_2_x");
    }
}
