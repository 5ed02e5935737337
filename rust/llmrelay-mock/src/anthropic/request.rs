//! Reading Anthropic Messages requests: validation like the API's (400 `invalid_request_error`) and a typed view.
//!
//! Messages follow the API's pydantic-style wording (`max_tokens: Field required`,
//! `messages.0.role: Input should be 'user' or 'assistant'`) and its documented rules for tool results
//! and extended thinking.

use serde_json::{Map, Value};

use super::error::invalid_request;
use crate::faults::ErrorSpec;

/// Which endpoint a request is for: token counting takes no `max_tokens`, `stream` or `stop_sequences`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    Messages,
    CountTokens,
}

/// Content block types the Messages API accepts in requests (server tool blocks are accepted unchecked).
const KNOWN_BLOCK_TYPES: &[&str] = &[
    "text",
    "image",
    "document",
    "search_result",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "mcp_tool_use",
    "mcp_tool_result",
    "container_upload",
];

/// A client tool the model may call (`tools` entries without a server tool `type`).
#[derive(Debug, Clone, Copy)]
pub(super) struct CustomTool<'a> {
    pub name: &'a str,
    pub input_schema: &'a Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ToolChoice<'a> {
    Auto { parallel: bool },
    Any { parallel: bool },
    Tool { name: &'a str },
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Thinking {
    Disabled,
    Enabled,
    Adaptive,
}

impl Thinking {
    pub(super) fn is_on(self) -> bool {
        self != Thinking::Disabled
    }
}

/// The fields of a valid request the mock uses.
#[derive(Debug)]
pub(super) struct MessagesRequest<'a> {
    pub model: &'a str,
    /// `None` for token counting.
    pub max_tokens: Option<u64>,
    pub messages: &'a [Value],
    pub system: Option<&'a Value>,
    pub tools: &'a [Value],
    pub custom_tools: Vec<CustomTool<'a>>,
    pub tool_choice: ToolChoice<'a>,
    pub thinking: Thinking,
    pub stop_sequences: Vec<&'a str>,
    pub stream: bool,
    /// Structured outputs: the JSON schema of `output_format` (or `output_config.format`) with
    /// `type: "json_schema"`; the answer text is then a JSON object matching it.
    pub output_schema: Option<&'a Value>,
}

impl<'a> MessagesRequest<'a> {
    /// Validates a request body like the Messages API does.
    ///
    /// `betas` is the `anthropic-beta` header: with `interleaved-thinking-*` the thinking budget may exceed
    /// `max_tokens`, as documented.
    pub(super) fn parse(
        body: Option<&'a Value>,
        endpoint: Endpoint,
        betas: &str,
    ) -> Result<MessagesRequest<'a>, ErrorSpec> {
        let request = match body {
            Some(Value::Object(request)) => request,
            Some(_) => return Err(invalid_request("Input should be a valid dictionary")),
            None => return Err(invalid_request("There was an error parsing the body")),
        };
        let model = match request.get("model") {
            None => return Err(field_required("model")),
            Some(Value::String(model)) => model.as_str(),
            Some(_) => return Err(invalid_type("model", "a valid string")),
        };
        let max_tokens = match endpoint {
            Endpoint::CountTokens => None,
            Endpoint::Messages => Some(max_tokens(request)?),
        };
        let messages = match request.get("messages") {
            None => return Err(field_required("messages")),
            Some(Value::Array(messages)) => messages.as_slice(),
            Some(_) => return Err(invalid_type("messages", "a valid list")),
        };
        validate_messages(messages)?;
        let system = request.get("system").filter(|system| !system.is_null());
        if let Some(system) = system {
            validate_system(system)?;
        }
        let (tools, custom_tools) = tools(request)?;
        let tool_choice = tool_choice(request)?;
        let thinking = thinking(request, max_tokens, betas)?;
        validate_sampling(request, thinking, tool_choice)?;
        let (stop_sequences, stream) = match endpoint {
            Endpoint::Messages => (stop_sequences(request)?, stream(request)?),
            Endpoint::CountTokens => (Vec::new(), false),
        };
        Ok(MessagesRequest {
            model,
            max_tokens,
            messages,
            system,
            tools,
            custom_tools,
            tool_choice,
            thinking,
            stop_sequences,
            stream,
            output_schema: request
                .get("output_format")
                .or_else(|| request.get("output_config").and_then(|c| c.get("format")))
                .filter(|f| f.get("type").and_then(Value::as_str) == Some("json_schema"))
                .and_then(|f| f.get("schema")),
        })
    }

    /// True when the model should answer with tool calls: client tools are offered, `tool_choice` is not
    /// `none`, and the conversation ends with a user turn that is not only tool results (so a tool loop
    /// ends with text).
    pub(super) fn wants_tool_use(&self) -> bool {
        if self.custom_tools.is_empty() && !matches!(self.tool_choice, ToolChoice::Tool { .. }) {
            return false;
        }
        if self.tool_choice == ToolChoice::None {
            return false;
        }
        let Some(last) = self.messages.last() else {
            return false;
        };
        if last.get("role").and_then(Value::as_str) != Some("user") {
            return false;
        }
        match last.get("content") {
            Some(Value::Array(blocks)) => !blocks
                .iter()
                .all(|block| block.get("type").and_then(Value::as_str) == Some("tool_result")),
            _ => true,
        }
    }
}

/// `temperature` in [0, 1], and what thinking forbids: a temperature other than 1, forced tool use.
/// Follows: "Building with extended thinking" ("Feature compatibility").
fn validate_sampling(
    request: &Map<String, Value>,
    thinking: Thinking,
    tool_choice: ToolChoice<'_>,
) -> Result<(), ErrorSpec> {
    let temperature = match request.get("temperature") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_f64()
                .ok_or_else(|| invalid_type("temperature", "a valid number"))?,
        ),
    };
    if thinking.is_on() {
        if matches!(
            tool_choice,
            ToolChoice::Any { .. } | ToolChoice::Tool { .. }
        ) {
            return Err(invalid_request(
                "Thinking may not be enabled when tool_choice forces tool use.",
            ));
        }
        if temperature.is_some_and(|temperature| (temperature - 1.0).abs() > f64::EPSILON) {
            return Err(invalid_request(
                "`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation \
                 at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#important-considerations-when-using-extended-thinking",
            ));
        }
    }
    match temperature {
        Some(value) if value < 0.0 => Err(invalid_request(
            "temperature: Input should be greater than or equal to 0",
        )),
        Some(value) if value > 1.0 => Err(invalid_request(
            "temperature: Input should be less than or equal to 1",
        )),
        _ => Ok(()),
    }
}

/// `stop_sequences`: a list of strings.
fn stop_sequences(request: &Map<String, Value>) -> Result<Vec<&str>, ErrorSpec> {
    match request.get("stop_sequences") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(stops)) => stops
            .iter()
            .enumerate()
            .map(|(index, stop)| {
                stop.as_str().ok_or_else(|| {
                    invalid_type(&format!("stop_sequences.{index}"), "a valid string")
                })
            })
            .collect(),
        Some(_) => Err(invalid_type("stop_sequences", "a valid list")),
    }
}

fn stream(request: &Map<String, Value>) -> Result<bool, ErrorSpec> {
    match request.get("stream") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(stream)) => Ok(*stream),
        Some(_) => Err(invalid_type("stream", "a valid boolean")),
    }
}

fn max_tokens(request: &Map<String, Value>) -> Result<u64, ErrorSpec> {
    match request.get("max_tokens") {
        None | Some(Value::Null) => Err(field_required("max_tokens")),
        Some(Value::Number(number)) => match (number.as_u64(), number.as_i64()) {
            (Some(tokens @ 1..), _) => Ok(tokens),
            (Some(0), _) | (None, Some(_)) => Err(invalid_request(
                "max_tokens: Input should be greater than or equal to 1",
            )),
            _ => Err(invalid_type("max_tokens", "a valid integer")),
        },
        Some(_) => Err(invalid_type("max_tokens", "a valid integer")),
    }
}

/// Roles, content shapes and block types of every message, then tool-use / tool-result pairing.
fn validate_messages(messages: &[Value]) -> Result<(), ErrorSpec> {
    if messages.is_empty() {
        return Err(invalid_request(
            "messages: at least one message is required",
        ));
    }
    for (index, message) in messages.iter().enumerate() {
        let Value::Object(message) = message else {
            return Err(invalid_type(
                &format!("messages.{index}"),
                "a valid dictionary",
            ));
        };
        match message.get("role") {
            None => return Err(field_required(&format!("messages.{index}.role"))),
            Some(Value::String(role)) if role == "user" || role == "assistant" => {}
            Some(_) => {
                return Err(invalid_request(format!(
                    "messages.{index}.role: Input should be 'user' or 'assistant'"
                )));
            }
        }
        match message.get("content") {
            None => return Err(field_required(&format!("messages.{index}.content"))),
            Some(Value::String(_)) => {}
            Some(Value::Array(blocks)) => {
                for (position, block) in blocks.iter().enumerate() {
                    validate_block(block, &format!("messages.{index}.content.{position}"))?;
                }
            }
            Some(_) => {
                return Err(invalid_type(
                    &format!("messages.{index}.content"),
                    "a valid list",
                ));
            }
        }
    }
    if messages[0].get("role").and_then(Value::as_str) != Some("user") {
        return Err(invalid_request(
            "messages: first message must use the \"user\" role",
        ));
    }
    validate_tool_pairing(messages)
}

/// A field a block type requires: its name, the check of its value and the expected kind of value.
type RequiredField = (&'static str, fn(&Value) -> bool, &'static str);

fn validate_block(block: &Value, path: &str) -> Result<(), ErrorSpec> {
    let Value::Object(block) = block else {
        return Err(invalid_type(path, "a valid dictionary"));
    };
    let kind = match block.get("type") {
        None => {
            return Err(invalid_request(format!(
                "{path}: Unable to extract tag using discriminator 'type'"
            )));
        }
        Some(Value::String(kind)) if KNOWN_BLOCK_TYPES.contains(&kind.as_str()) => kind.as_str(),
        Some(other) => {
            let tag = other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_owned);
            let expected = KNOWN_BLOCK_TYPES
                .iter()
                .map(|kind| format!("'{kind}'"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(invalid_request(format!(
                "{path}: Input tag '{tag}' found using 'type' does not match any of the expected tags: {expected}"
            )));
        }
    };
    let required: &[RequiredField] = match kind {
        "text" => &[("text", Value::is_string, "a valid string")],
        "image" | "document" => &[("source", Value::is_object, "a valid dictionary")],
        "tool_use" => &[
            ("id", Value::is_string, "a valid string"),
            ("name", Value::is_string, "a valid string"),
            ("input", Value::is_object, "a valid dictionary"),
        ],
        "tool_result" => &[("tool_use_id", Value::is_string, "a valid string")],
        "thinking" => &[
            ("thinking", Value::is_string, "a valid string"),
            ("signature", Value::is_string, "a valid string"),
        ],
        "redacted_thinking" => &[("data", Value::is_string, "a valid string")],
        _ => &[],
    };
    for (field, check, expected) in required {
        match block.get(*field) {
            None => return Err(field_required(&format!("{path}.{kind}.{field}"))),
            Some(value) if check(value) => {}
            Some(_) => return Err(invalid_type(&format!("{path}.{kind}.{field}"), expected)),
        }
    }
    Ok(())
}

/// One conversational turn: consecutive messages of the same role are combined, as the API does.
struct Turn<'a> {
    role: &'a str,
    first_message: usize,
    /// (message index, block index, block)
    blocks: Vec<(usize, usize, &'a Value)>,
}

fn turns(messages: &[Value]) -> Vec<Turn<'_>> {
    let mut turns: Vec<Turn<'_>> = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        let blocks = match message.get("content") {
            Some(Value::Array(blocks)) => blocks
                .iter()
                .enumerate()
                .map(|(position, block)| (index, position, block))
                .collect(),
            _ => Vec::new(),
        };
        match turns.last_mut() {
            Some(turn) if turn.role == role => turn.blocks.extend(blocks),
            _ => turns.push(Turn {
                role,
                first_message: index,
                blocks,
            }),
        }
    }
    turns
}

fn block_ids<'a>(turn: &Turn<'a>, kind: &str, field: &str) -> Vec<(usize, usize, &'a str)> {
    turn.blocks
        .iter()
        .filter(|(_, _, block)| block.get("type").and_then(Value::as_str) == Some(kind))
        .filter_map(|&(message, position, block)| {
            Some((message, position, block.get(field)?.as_str()?))
        })
        .collect()
}

/// Every `tool_result` answers a `tool_use` of the previous assistant turn, and every `tool_use` followed by a
/// user turn is answered there.
/// Follows: "How to implement tool use" ("Handling tool use and tool result content blocks") and the API's
/// 400 messages for unmatched ids.
fn validate_tool_pairing(messages: &[Value]) -> Result<(), ErrorSpec> {
    let turns = turns(messages);
    for (position, turn) in turns
        .iter()
        .enumerate()
        .filter(|(_, turn)| turn.role == "user")
    {
        let offered: Vec<&str> = position
            .checked_sub(1)
            .map(|previous| &turns[previous])
            .filter(|previous| previous.role == "assistant")
            .map(|previous| {
                block_ids(previous, "tool_use", "id")
                    .into_iter()
                    .map(|(_, _, id)| id)
                    .collect()
            })
            .unwrap_or_default();
        for (message, block, id) in block_ids(turn, "tool_result", "tool_use_id") {
            if !offered.contains(&id) {
                return Err(invalid_request(format!(
                    "messages.{message}.content.{block}: unexpected `tool_use_id` found in `tool_result` blocks: \
                     {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous \
                     message."
                )));
            }
        }
    }
    for pair in turns.windows(2) {
        let [turn, next] = pair else { continue };
        if turn.role != "assistant" {
            continue;
        }
        let answered: Vec<&str> = block_ids(next, "tool_result", "tool_use_id")
            .into_iter()
            .map(|(_, _, id)| id)
            .collect();
        let unanswered: Vec<&str> = block_ids(turn, "tool_use", "id")
            .into_iter()
            .map(|(_, _, id)| id)
            .filter(|id| !answered.contains(id))
            .collect();
        if !unanswered.is_empty() {
            return Err(invalid_request(format!(
                "messages.{}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. \
                 Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                // The index of the assistant message: the one before the next turn.
                next.first_message.saturating_sub(1),
                unanswered.join(", ")
            )));
        }
    }
    Ok(())
}

/// `system`: a string or a list of text blocks.
fn validate_system(system: &Value) -> Result<(), ErrorSpec> {
    match system {
        Value::String(_) => Ok(()),
        Value::Array(blocks) => {
            for (index, block) in blocks.iter().enumerate() {
                let path = format!("system.{index}");
                if !block.is_object() {
                    return Err(invalid_type(&path, "a valid dictionary"));
                }
                if block.get("type").and_then(Value::as_str) != Some("text") {
                    return Err(invalid_request(format!(
                        "{path}.type: Input should be 'text'"
                    )));
                }
                validate_block(block, &path)?;
            }
            Ok(())
        }
        _ => Err(invalid_type("system", "a valid list")),
    }
}

/// `tools`: client tools need `name` and `input_schema`; server tools (a versioned `type`) are accepted as is.
type Tools<'a> = (&'a [Value], Vec<CustomTool<'a>>);

fn tools(request: &Map<String, Value>) -> Result<Tools<'_>, ErrorSpec> {
    let tools = match request.get("tools") {
        None | Some(Value::Null) => return Ok((&[], Vec::new())),
        Some(Value::Array(tools)) => tools.as_slice(),
        Some(_) => return Err(invalid_type("tools", "a valid list")),
    };
    let mut custom = Vec::with_capacity(tools.len());
    for (index, tool) in tools.iter().enumerate() {
        let Value::Object(tool) = tool else {
            return Err(invalid_type(
                &format!("tools.{index}"),
                "a valid dictionary",
            ));
        };
        let kind = tool.get("type").and_then(Value::as_str);
        if kind.is_some_and(|kind| kind != "custom") {
            continue;
        }
        let name = match tool.get("name") {
            None => return Err(field_required(&format!("tools.{index}.custom.name"))),
            Some(Value::String(name)) => name.as_str(),
            Some(_) => {
                return Err(invalid_type(
                    &format!("tools.{index}.custom.name"),
                    "a valid string",
                ));
            }
        };
        let input_schema = match tool.get("input_schema") {
            None => {
                return Err(field_required(&format!(
                    "tools.{index}.custom.input_schema"
                )));
            }
            Some(schema @ Value::Object(_)) => schema,
            Some(_) => {
                return Err(invalid_type(
                    &format!("tools.{index}.custom.input_schema"),
                    "a valid dictionary",
                ));
            }
        };
        custom.push(CustomTool { name, input_schema });
    }
    Ok((tools, custom))
}

/// `tool_choice`: `{"type": "auto" | "any" | "tool" | "none"}`, `name` for `tool`.
fn tool_choice(request: &Map<String, Value>) -> Result<ToolChoice<'_>, ErrorSpec> {
    let choice = match request.get("tool_choice") {
        None | Some(Value::Null) => return Ok(ToolChoice::Auto { parallel: true }),
        Some(Value::Object(choice)) => choice,
        Some(_) => return Err(invalid_type("tool_choice", "a valid dictionary")),
    };
    let parallel = choice
        .get("disable_parallel_tool_use")
        .and_then(Value::as_bool)
        != Some(true);
    match choice.get("type").and_then(Value::as_str) {
        Some("auto") => Ok(ToolChoice::Auto { parallel }),
        Some("any") => Ok(ToolChoice::Any { parallel }),
        Some("none") => Ok(ToolChoice::None),
        Some("tool") => match choice.get("name") {
            Some(Value::String(name)) => Ok(ToolChoice::Tool { name }),
            None => Err(field_required("tool_choice.tool.name")),
            Some(_) => Err(invalid_type("tool_choice.tool.name", "a valid string")),
        },
        None if !choice.contains_key("type") => Err(invalid_request(
            "tool_choice: Unable to extract tag using discriminator 'type'",
        )),
        _ => Err(invalid_request(format!(
            "tool_choice: Input tag '{}' found using 'type' does not match any of the expected tags: 'auto', \
             'any', 'tool', 'none'",
            choice.get("type").map(Value::to_string).unwrap_or_default()
        ))),
    }
}

/// `thinking`: `{"type": "enabled", "budget_tokens": N}` with 1024 ≤ N < `max_tokens`, `disabled` or `adaptive`.
/// Follows: "Building with extended thinking" (minimum budget 1,024; `budget_tokens` must be below
/// `max_tokens` except with interleaved thinking).
fn thinking(
    request: &Map<String, Value>,
    max_tokens: Option<u64>,
    betas: &str,
) -> Result<Thinking, ErrorSpec> {
    let thinking = match request.get("thinking") {
        None | Some(Value::Null) => return Ok(Thinking::Disabled),
        Some(Value::Object(thinking)) => thinking,
        Some(_) => return Err(invalid_type("thinking", "a valid dictionary")),
    };
    match thinking.get("type").and_then(Value::as_str) {
        Some("disabled") => Ok(Thinking::Disabled),
        Some("adaptive") => Ok(Thinking::Adaptive),
        Some("enabled") => {
            let budget = match thinking.get("budget_tokens") {
                None => return Err(field_required("thinking.enabled.budget_tokens")),
                Some(budget) => budget.as_u64().ok_or_else(|| {
                    invalid_type("thinking.enabled.budget_tokens", "a valid integer")
                })?,
            };
            if budget < 1024 {
                return Err(invalid_request(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
                ));
            }
            let interleaved = betas
                .split(',')
                .any(|beta| beta.trim().starts_with("interleaved-thinking-"));
            if let Some(max_tokens) = max_tokens
                && budget >= max_tokens
                && !interleaved
            {
                return Err(invalid_request(
                    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at \
                     https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size",
                ));
            }
            Ok(Thinking::Enabled)
        }
        _ => Err(invalid_request(
            "thinking: Input tag found using 'type' does not match any of the expected tags: 'enabled', 'disabled', \
             'adaptive'",
        )),
    }
}

fn field_required(path: &str) -> ErrorSpec {
    invalid_request(format!("{path}: Field required"))
}

fn invalid_type(path: &str, expected: &str) -> ErrorSpec {
    invalid_request(format!("{path}: Input should be {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: &Value) -> Result<MessagesRequest<'_>, String> {
        MessagesRequest::parse(Some(body), Endpoint::Messages, "").map_err(|error| error.message)
    }

    fn base() -> Value {
        json!({"model": "claude-x", "max_tokens": 2048, "messages": [{"role": "user", "content": "hi"}]})
    }

    fn with(extra: Value) -> Value {
        let mut body = base();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    }

    #[test]
    fn required_fields_and_types() {
        assert!(parse(&base()).is_ok());
        assert_eq!(
            parse(&json!({"model": "m", "messages": []})).unwrap_err(),
            "max_tokens: Field required"
        );
        assert_eq!(
            parse(&with(json!({"max_tokens": 0}))).unwrap_err(),
            "max_tokens: Input should be greater than or equal to 1"
        );
        assert_eq!(
            parse(&with(json!({"max_tokens": "10"}))).unwrap_err(),
            "max_tokens: Input should be a valid integer"
        );
        assert_eq!(
            parse(&with(json!({"messages": []}))).unwrap_err(),
            "messages: at least one message is required"
        );
        assert_eq!(
            parse(&with(
                json!({"messages": [{"role": "system", "content": "x"}]})
            ))
            .unwrap_err(),
            "messages.0.role: Input should be 'user' or 'assistant'"
        );
        assert_eq!(
            parse(&with(
                json!({"messages": [{"role": "assistant", "content": "x"}]})
            ))
            .unwrap_err(),
            "messages: first message must use the \"user\" role"
        );
        assert!(
            parse(&with(
                json!({"messages": [{"role": "user", "content": [{"type": "video"}]}]})
            ))
            .unwrap_err()
            .starts_with("messages.0.content.0: Input tag 'video'")
        );
        assert_eq!(
            parse(&with(json!({"system": 3}))).unwrap_err(),
            "system: Input should be a valid list"
        );
        assert!(
            parse(&with(
                json!({"system": [{"type": "text", "text": "be brief"}]})
            ))
            .is_ok()
        );
        let counted = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
        assert!(MessagesRequest::parse(Some(&counted), Endpoint::CountTokens, "").is_ok());
    }

    #[test]
    fn tool_results_must_answer_the_previous_tool_uses() {
        let call = json!({"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}]});
        let ok = with(json!({"messages": [
            {"role": "user", "content": "go"},
            call,
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}]}
        ]}));
        assert!(parse(&ok).is_ok());
        let unexpected = with(json!({"messages": [
            {"role": "user", "content": "go"},
            call,
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": "42"}]}
        ]}));
        assert!(
            parse(&unexpected)
                .unwrap_err()
                .starts_with("messages.2.content.0: unexpected `tool_use_id`")
        );
        let unanswered = with(json!({"messages": [
            {"role": "user", "content": "go"},
            call,
            {"role": "user", "content": "and?"}
        ]}));
        assert!(
            parse(&unanswered)
                .unwrap_err()
                .starts_with("messages.1: `tool_use` ids were found without `tool_result` blocks")
        );
    }

    #[test]
    fn thinking_rules() {
        let enabled =
            |budget: u64| json!({"thinking": {"type": "enabled", "budget_tokens": budget}});
        assert_eq!(
            parse(&with(enabled(1024))).unwrap().thinking,
            Thinking::Enabled
        );
        assert!(parse(&with(enabled(1000))).unwrap_err().contains("1024"));
        assert!(
            parse(&with(enabled(4096)))
                .unwrap_err()
                .starts_with("`max_tokens` must be greater than `thinking.budget_tokens`")
        );
        let body = with(enabled(4096));
        assert!(
            MessagesRequest::parse(
                Some(&body),
                Endpoint::Messages,
                "interleaved-thinking-2025-05-14"
            )
            .is_ok()
        );
        let mut hot = with(enabled(1024));
        hot["temperature"] = json!(0.5);
        assert!(
            parse(&hot)
                .unwrap_err()
                .starts_with("`temperature` may only be set to 1")
        );
        hot["temperature"] = json!(1);
        assert!(parse(&hot).is_ok());
        let mut forced = with(enabled(1024));
        forced["tools"] = json!([{"name": "t", "input_schema": {"type": "object"}}]);
        forced["tool_choice"] = json!({"type": "any"});
        assert!(
            parse(&forced)
                .unwrap_err()
                .starts_with("Thinking may not be enabled")
        );
    }

    #[test]
    fn tool_use_is_wanted_after_a_user_turn_that_is_not_only_tool_results() {
        let tools = json!([{"name": "t", "input_schema": {"type": "object"}}]);
        let body = with(json!({"tools": tools}));
        assert!(parse(&body).unwrap().wants_tool_use());
        let mut none = body.clone();
        none["tool_choice"] = json!({"type": "none"});
        assert!(!parse(&none).unwrap().wants_tool_use());
        let after_result = with(json!({"tools": tools, "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}]}
        ]}));
        assert!(!parse(&after_result).unwrap().wants_tool_use());
        let server_only =
            with(json!({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}));
        assert!(!parse(&server_only).unwrap().wants_tool_use());
        assert_eq!(
            parse(&with(json!({"tools": [{"name": "t"}]}))).unwrap_err(),
            "tools.0.custom.input_schema: Field required"
        );
    }
}
