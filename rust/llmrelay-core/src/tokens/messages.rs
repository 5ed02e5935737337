//! LiteLLM's `token_counter` rules for messages, content parts and tool calls.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::*;

/// One `count_messages` call: the counter of the model and the options.
pub(super) struct MessageCounting {
    pub(super) counter: Counter,
    pub(super) options: CountOptions,
}

impl MessageCounting {
    pub(super) fn count(&self, text: &str) -> usize {
        self.counter.count(text)
    }

    pub(super) fn count_message(&self, message: &Value) -> Result<usize, TokenError> {
        let Value::Object(message) = message else {
            return Err(invalid(format!(
                "invalid message type: {}; expected an object",
                python_type_name(message)
            )));
        };
        let mut tokens = TOKENS_PER_MESSAGE;
        // Every string field is counted, `role` and `tool_call_id` included.
        for (key, value) in message {
            match value {
                Value::Null => {}
                _ if key == "tool_calls" || key == "function_call" => {
                    tokens += self.count_function_call(key, value)?;
                }
                Value::String(text) => {
                    tokens += self.count(text);
                    if key == "name" {
                        tokens += TOKENS_PER_NAME;
                    }
                }
                Value::Array(parts) if key == "content" => {
                    tokens += self.count_content_list(parts)?;
                }
                Value::Array(results) if key == "search_results" => {
                    let text = search_results_text(results);
                    if !text.is_empty() {
                        tokens += self.count(&text);
                    }
                }
                _ => {}
            }
        }
        Ok(tokens)
    }

    /// Only the arguments of a call are counted; names are priced with the tool definitions.
    pub(super) fn count_function_call(
        &self,
        key: &str,
        value: &Value,
    ) -> Result<usize, TokenError> {
        if key == "function_call" {
            let Value::Object(call) = value else {
                return Err(invalid(format!(
                    "unsupported type {} for key function_call",
                    python_type_name(value)
                )));
            };
            return Ok(self.count(&arguments_text(call)));
        }
        let Value::Array(calls) = value else {
            return Err(invalid(format!(
                "unsupported type {} for key tool_calls",
                python_type_name(value)
            )));
        };
        let mut tokens = 0;
        for call in calls {
            let Some(function) = call.as_object().and_then(|call| call.get("function")) else {
                return Err(invalid(
                    "unsupported tool call: it must contain a function key",
                ));
            };
            let Value::Object(function) = function else {
                return Err(invalid(format!(
                    "unsupported tool call: its function is of type {}",
                    python_type_name(function)
                )));
            };
            tokens += self.count(&arguments_text(function));
        }
        Ok(tokens)
    }

    /// A content list; any error in it gives `default_token_count` for the whole list when set.
    pub(super) fn count_content_list(&self, parts: &[Value]) -> Result<usize, TokenError> {
        self.or_default(parts.iter().try_fold(0, |tokens, part| {
            Ok(tokens + self.count_content_part(part)?)
        }))
    }

    pub(super) fn or_default(
        &self,
        result: Result<usize, TokenError>,
    ) -> Result<usize, TokenError> {
        match (result, self.options.default_token_count) {
            (Err(_), Some(default)) => Ok(default),
            (result, _) => result,
        }
    }

    pub(super) fn count_content_part(&self, part: &Value) -> Result<usize, TokenError> {
        let block = match part {
            Value::String(text) => return Ok(self.count(text)),
            Value::Object(block) => block,
            other => {
                return Err(invalid(format!(
                    "invalid content item type: {}; expected a string or an object with a 'type'",
                    python_type_name(other)
                )));
            }
        };
        let Some(kind) = block.get("type") else {
            return Err(invalid("content block has no 'type'"));
        };
        match kind.as_str() {
            Some("text") => Ok(self.count(&field_text(block, "text"))),
            Some("image_url") => self.count_image_url(block.get("image_url")),
            Some("image") => {
                require_typed_source(block.get("source"))?;
                Ok(self.auto_image_tokens())
            }
            Some("document") => self.count_document(block),
            Some("file") => Ok(self.count_file(block.get("file"))),
            Some("tool_use" | "tool_result") => self.count_anthropic_block(block),
            Some("thinking" | "redacted_thinking") => {
                let thinking = field_text(block, "thinking");
                Ok(if thinking.is_empty() {
                    0
                } else {
                    self.count(&thinking)
                })
            }
            Some("tool_reference") => Ok(match block.get("tool_name") {
                Some(name) if is_truthy(name) => self.count(&python_str(name)),
                _ => 0,
            }),
            _ => Err(invalid(format!(
                "invalid content item type: {}; expected text, image_url, image, document, file, \
                 tool_use, tool_result, thinking, redacted_thinking or tool_reference",
                python_str(kind)
            ))),
        }
    }

    pub(super) fn count_image_url(&self, image_url: Option<&Value>) -> Result<usize, TokenError> {
        match image_url {
            Some(Value::Object(image_url)) => {
                let detail = match image_url.get("detail") {
                    None => ImageDetail::Auto,
                    Some(detail) => detail
                        .as_str()
                        .and_then(ImageDetail::from_name)
                        .ok_or_else(|| {
                            invalid(format!(
                                "Invalid detail value: {}. Expected 'low', 'high', or 'auto'.",
                                python_str(detail)
                            ))
                        })?,
                };
                let url = image_url
                    .get("url")
                    .filter(|url| is_truthy(url))
                    .ok_or_else(|| invalid("missing required key 'url' in image_url"))?;
                self.image_tokens(url, detail)
            }
            Some(Value::String(url)) => {
                if python_strip(url).is_empty() {
                    return Err(invalid("empty image_url string is not valid"));
                }
                Ok(self.auto_image_tokens())
            }
            other => Err(invalid(format!(
                "invalid image_url type: {}; expected a string or an object with a 'url'",
                other.map_or("NoneType", python_type_name)
            ))),
        }
    }

    pub(super) fn image_tokens(
        &self,
        data: &Value,
        detail: ImageDetail,
    ) -> Result<usize, TokenError> {
        if self.options.use_default_image_token_count {
            return Ok(DEFAULT_IMAGE_TOKEN_COUNT);
        }
        match detail {
            ImageDetail::Low | ImageDetail::Auto => Ok(IMAGE_BASE_TOKENS),
            ImageDetail::High => {
                let Value::String(data) = data else {
                    return Err(invalid(format!(
                        "invalid image url of type {}",
                        python_type_name(data)
                    )));
                };
                high_detail_image_tokens(data)
            }
        }
    }

    /// Images whose detail LiteLLM takes as `auto`: the size is never read.
    pub(super) fn auto_image_tokens(&self) -> usize {
        if self.options.use_default_image_token_count {
            DEFAULT_IMAGE_TOKEN_COUNT
        } else {
            IMAGE_BASE_TOKENS
        }
    }

    pub(super) fn count_document(
        &self,
        document: &Map<String, Value>,
    ) -> Result<usize, TokenError> {
        let source = document
            .get("source")
            .ok_or_else(|| invalid("document block has no 'source'"))?;
        let mut tokens = 0;
        for key in ["title", "context"] {
            match document.get(key) {
                Some(Value::String(text)) => tokens += self.count(text),
                Some(value) if is_truthy(value) => {
                    return Err(invalid(format!(
                        "document {key} of type {} is not text",
                        python_type_name(value)
                    )));
                }
                _ => {}
            }
        }
        let source_type = require_typed_source(Some(source))?;
        match source_type.as_str() {
            Some("text") => match source.get("data") {
                Some(Value::String(data)) => Ok(tokens + self.count(data)),
                _ => Err(invalid("text document source needs string 'data'")),
            },
            Some("content") => {
                let content_tokens = match source.get("content") {
                    Some(Value::String(text)) => self.count(text),
                    Some(Value::Array(parts)) => self.count_content_list(parts)?,
                    // Iterating a dict yields its keys.
                    Some(Value::Object(map)) => map.keys().map(|key| self.count(key)).sum(),
                    Some(other) => self.or_default(Err(invalid(format!(
                        "document content of type {} is not iterable",
                        python_type_name(other)
                    ))))?,
                    None => return Err(invalid("content document source needs 'content'")),
                };
                Ok(tokens + content_tokens)
            }
            _ => Ok(tokens + self.auto_image_tokens()),
        }
    }

    pub(super) fn count_file(&self, file: Option<&Value>) -> usize {
        let Some(Value::Object(file)) = file else {
            return 0;
        };
        let name_tokens = match file.get("filename") {
            Some(Value::String(name)) if !name.is_empty() => self.count(name),
            _ => 0,
        };
        match file.get("file_data") {
            Some(Value::String(data)) if !data.is_empty() => name_tokens + self.auto_image_tokens(),
            _ => name_tokens,
        }
    }

    /// Anthropic `tool_use` / `tool_result` blocks: the fields that reach the prompt.
    pub(super) fn count_anthropic_block(
        &self,
        block: &Map<String, Value>,
    ) -> Result<usize, TokenError> {
        let fields: &[&str] = if block.get("type").and_then(Value::as_str) == Some("tool_use") {
            &["name", "input", "caller"]
        } else {
            if !block.contains_key("tool_use_id") {
                return Err(invalid(
                    "missing required fields in tool_result block: tool_use_id",
                ));
            }
            &["content"]
        };
        let mut tokens = 0;
        for field in fields {
            tokens += match block.get(*field) {
                Some(Value::String(text)) => self.count(text),
                Some(Value::Array(parts)) => self.count_content_list(parts)?,
                Some(object @ Value::Object(_)) => self.count(&python_str(object)),
                _ => 0,
            };
        }
        Ok(tokens)
    }

    /// Reply priming, tool definitions and tool choice.
    pub(super) fn count_extra(
        &self,
        tools: Option<&[Value]>,
        tool_choice: Option<&Value>,
        includes_system_message: bool,
    ) -> Result<usize, TokenError> {
        let mut tokens = REPLY_PRIMING_TOKENS;
        if let Some(tools) = tools.filter(|tools| !tools.is_empty()) {
            tokens += self.count(&format_function_definitions(tools)?) + TOOL_DEFINITIONS_TOKENS;
            if includes_system_message {
                tokens -= SYSTEM_MESSAGE_WITH_TOOLS_DISCOUNT;
            }
        }
        match tool_choice {
            Some(Value::String(choice)) if choice == "none" => tokens += TOOL_CHOICE_NONE_TOKENS,
            Some(Value::Object(choice)) => {
                let name = choice
                    .get("function")
                    .and_then(Value::as_object)
                    .and_then(|function| function.get("name"))
                    .ok_or_else(|| invalid("tool_choice needs function.name"))?;
                tokens += TOOL_CHOICE_FUNCTION_TOKENS + self.count(&python_str(name));
            }
            _ => {}
        }
        Ok(tokens)
    }
}

pub(super) fn invalid(message: impl Into<String>) -> TokenError {
    TokenError::InvalidInput(message.into())
}

/// `str(call.get("arguments", ""))`.
pub(super) fn arguments_text(call: &Map<String, Value>) -> Cow<'_, str> {
    call.get("arguments").map_or(Cow::Borrowed(""), python_str)
}

/// `str(block.get(key, ""))`.
pub(super) fn field_text<'a>(block: &'a Map<String, Value>, key: &str) -> Cow<'a, str> {
    block.get(key).map_or(Cow::Borrowed(""), python_str)
}

/// An Anthropic `source` must be an object with a `type`; returns that type.
pub(super) fn require_typed_source(source: Option<&Value>) -> Result<&Value, TokenError> {
    source
        .and_then(Value::as_object)
        .and_then(|source| source.get("type"))
        .ok_or_else(|| invalid("content block needs a 'source' object with a 'type'"))
}

/// The model-visible text of a tool message's `search_results`.
pub(super) fn search_results_text(results: &[Value]) -> String {
    let mut text = String::new();
    for result in results.iter().filter_map(Value::as_object) {
        for key in ["source", "title"] {
            if let Some(Value::String(value)) = result.get(key) {
                text.push_str(value);
            }
        }
        if let Some(Value::Array(blocks)) = result.get("content") {
            for block in blocks.iter().filter_map(Value::as_object) {
                if let Some(Value::String(value)) = block.get("text") {
                    text.push_str(value);
                }
            }
        }
        match result.get("citations") {
            None | Some(Value::Null) => {}
            Some(citations) => write_python_json(&mut text, citations),
        }
    }
    text
}

// Tool definitions are counted as a TypeScript-style `namespace functions { .. }` listing, the
// shape OpenAI's hidden prompt is understood to give them.
