//! Wire types of Anthropic's Messages API, named after anthropic-sdk-python `src/anthropic/types/`.
//!
//! Request: <https://docs.anthropic.com/en/api/messages> (`message_create_params.py`).
//! Response: `message.py`, `usage.py`, `content_block.py`.
//! Stream: <https://docs.anthropic.com/en/docs/build-with-claude/streaming>
//! (`raw_message_stream_event.py`, `raw_content_block_delta_event.py`).
//! Errors: <https://docs.anthropic.com/en/api/errors>.
//!
//! Blocks this engine does not model (documents, server tools, compaction, …) travel as raw JSON
//! in the `Raw` / `Other` variants, so nothing the caller or the upstream sends is lost.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use llmrelay_core::types::JsonMap;

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

/// `POST /v1/messages` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicMessagesRequest {
    pub model: String,
    pub messages: Vec<AnthropicMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<Vec<AnthropicContentBlock>>,
    pub max_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<AnthropicMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<AnthropicTool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<AnthropicToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Vec<Value>>,
    /// `{"type": "enabled", "budget_tokens"}`, `{"type": "adaptive", …}` or `{"type": "disabled"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<AnthropicOutputFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Provider-specific parameters passed through unchanged.
    #[serde(flatten)]
    pub extra: JsonMap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnthropicRole {
    User,
    Assistant,
    /// Mid-conversation system turns, accepted by the models the catalog flags with
    /// `supports_mid_conversation_system`.
    System,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicMessage {
    pub role: AnthropicRole,
    pub content: Vec<AnthropicContentBlock>,
}

/// A content block of a request (`MessageParam.content`, `system`, `tool_result.content`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicContentBlock {
    Text(AnthropicTextBlock),
    Image(AnthropicSourceBlock),
    Document(AnthropicSourceBlock),
    ToolUse(AnthropicToolUseBlock),
    ToolResult(AnthropicToolResultBlock),
    /// Blocks passed through as the caller wrote them: thinking blocks (their signature must
    /// round-trip byte for byte), documents, server tool blocks, compaction blocks.
    #[serde(untagged)]
    Raw(Value),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicTextBlock {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
}

/// `image` / `document` blocks: a source plus optional `cache_control`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicSourceBlock {
    pub source: AnthropicSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
}

/// `Base64ImageSourceParam`, `URLImageSourceParam`, `FileSourceParam`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicSource {
    Base64 { media_type: String, data: String },
    Url { url: String },
    File { file_id: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicToolUseBlock {
    pub id: String,
    pub name: String,
    pub input: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicToolResultBlock {
    pub tool_use_id: String,
    pub content: AnthropicToolResultContent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnthropicToolResultContent {
    Text(String),
    Blocks(Vec<AnthropicContentBlock>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnthropicMetadata {
    pub user_id: String,
}

/// A tool: a custom (function) tool built from an OpenAI tool, or a tool passed through as is
/// (already in Anthropic's shape, or a hosted tool such as `web_search_20250305`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnthropicTool {
    Custom(AnthropicCustomTool),
    Raw(Value),
}

impl AnthropicTool {
    /// The `type` field, when the tool has one.
    #[must_use]
    pub fn kind(&self) -> Option<&str> {
        match self {
            Self::Custom(tool) => tool.kind,
            Self::Raw(value) => value.get("type").and_then(Value::as_str),
        }
    }
}

/// `ToolParam`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicCustomTool {
    pub name: String,
    pub input_schema: Value,
    /// `"custom"` for tools mapped from OpenAI functions; absent on the JSON-mode tool.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eager_input_streaming: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defer_loading: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_callers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_examples: Option<Vec<Value>>,
}

/// `ToolChoiceParam`: `auto`, `any`, `tool` (named) or `none`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnthropicToolChoice {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_use: Option<bool>,
}

impl AnthropicToolChoice {
    #[must_use]
    pub fn of_kind(kind: &str) -> Self {
        Self {
            kind: kind.to_owned(),
            name: None,
            disable_parallel_tool_use: None,
        }
    }
}

/// Native structured output (`output_format`), for the models that support it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicOutputFormat {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub schema: Value,
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

/// `Message`: the whole (non-streamed) response.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AnthropicMessagesResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub content: Vec<AnthropicResponseBlock>,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
    #[serde(default)]
    pub usage: JsonMap,
    #[serde(default)]
    pub container: Option<Value>,
    #[serde(default)]
    pub context_management: Option<Value>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `ContentBlock` of a response (and of `content_block_start` events).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicResponseBlock {
    Text(AnthropicResponseText),
    ToolUse(AnthropicResponseToolUse),
    ServerToolUse(AnthropicResponseToolUse),
    Thinking(AnthropicThinkingBlock),
    RedactedThinking(AnthropicRedactedThinkingBlock),
    /// Tool results of server tools, compaction blocks, and blocks newer than this engine.
    #[serde(untagged)]
    Other(Value),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AnthropicResponseText {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub citations: Option<Vec<Value>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AnthropicResponseToolUse {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub input: Value,
    /// Programmatic tool calling: who called the tool.
    #[serde(default)]
    pub caller: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AnthropicThinkingBlock {
    #[serde(default)]
    pub thinking: String,
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AnthropicRedactedThinkingBlock {
    #[serde(default)]
    pub data: String,
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl AnthropicThinkingBlock {
    /// The block as LiteLLM exposes it in `thinking_blocks`.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let mut map = JsonMap::new();
        map.insert("type".to_owned(), Value::from("thinking"));
        map.insert("thinking".to_owned(), Value::from(self.thinking.clone()));
        if let Some(signature) = &self.signature {
            map.insert("signature".to_owned(), Value::from(signature.clone()));
        }
        for (key, value) in &self.extra {
            map.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(map)
    }
}

impl AnthropicRedactedThinkingBlock {
    /// The block as LiteLLM exposes it in `thinking_blocks`.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let mut map = JsonMap::new();
        map.insert("type".to_owned(), Value::from("redacted_thinking"));
        map.insert("data".to_owned(), Value::from(self.data.clone()));
        for (key, value) in &self.extra {
            map.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(map)
    }
}

// ---------------------------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------------------------

/// `RawMessageStreamEvent`, plus `ping` and `error`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicStreamEvent {
    MessageStart {
        message: AnthropicStreamMessage,
    },
    ContentBlockStart {
        #[serde(default)]
        index: u32,
        content_block: AnthropicResponseBlock,
    },
    ContentBlockDelta {
        #[serde(default)]
        index: u32,
        delta: AnthropicContentDelta,
    },
    ContentBlockStop {
        #[serde(default)]
        index: u32,
    },
    MessageDelta {
        delta: AnthropicMessageDelta,
        #[serde(default)]
        usage: Option<JsonMap>,
    },
    MessageStop,
    Ping,
    Error {
        #[serde(default)]
        error: AnthropicErrorBody,
    },
    /// Event types newer than this engine are skipped, as the SDKs do.
    #[serde(other)]
    Unknown,
}

/// The `message` of `message_start`: content empty, usage holding the input tokens.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AnthropicStreamMessage {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub usage: Option<JsonMap>,
}

/// `RawContentBlockDelta`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicContentDelta {
    TextDelta {
        #[serde(default)]
        text: String,
    },
    InputJsonDelta {
        #[serde(default)]
        partial_json: String,
    },
    ThinkingDelta {
        #[serde(default)]
        thinking: String,
    },
    SignatureDelta {
        #[serde(default)]
        signature: String,
    },
    CitationsDelta {
        #[serde(default)]
        citation: Value,
    },
    CompactionDelta {
        #[serde(default)]
        content: Value,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AnthropicMessageDelta {
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
    #[serde(default)]
    pub container: Option<Value>,
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// `{"type": "error", "error": {"type", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AnthropicErrorEnvelope {
    #[serde(default)]
    pub error: AnthropicErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct AnthropicErrorBody {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blocks_serialize_with_their_type_first() {
        let block = AnthropicContentBlock::Text(AnthropicTextBlock {
            text: "hi".to_owned(),
            cache_control: Some(json!({"type": "ephemeral"})),
        });
        assert_eq!(
            serde_json::to_string(&block).unwrap(),
            r#"{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}"#
        );
        let image = AnthropicContentBlock::Image(AnthropicSourceBlock {
            source: AnthropicSource::Url {
                url: "https://x/y.png".to_owned(),
            },
            cache_control: None,
        });
        assert_eq!(
            serde_json::to_value(&image).unwrap(),
            json!({"type": "image", "source": {"type": "url", "url": "https://x/y.png"}})
        );
        let raw = AnthropicContentBlock::Raw(
            json!({"type": "thinking", "thinking": "t", "signature": "s"}),
        );
        assert_eq!(
            serde_json::to_value(&raw).unwrap(),
            json!({"type": "thinking", "thinking": "t", "signature": "s"})
        );
    }

    #[test]
    fn unknown_blocks_and_events_are_kept_or_skipped() {
        let block: AnthropicResponseBlock = serde_json::from_value(
            json!({"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}),
        )
        .unwrap();
        assert!(matches!(block, AnthropicResponseBlock::Other(_)));
        let event: AnthropicStreamEvent =
            serde_json::from_value(json!({"type": "brand_new_event", "x": 1})).unwrap();
        assert_eq!(event, AnthropicStreamEvent::Unknown);
        let delta: AnthropicContentDelta =
            serde_json::from_value(json!({"type": "brand_new_delta"})).unwrap();
        assert_eq!(delta, AnthropicContentDelta::Unknown);
    }
}
