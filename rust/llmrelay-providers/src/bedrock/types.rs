//! Bedrock Converse wire types, named after the shapes of the AWS Bedrock Runtime API reference
//! (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html>,
//! botocore `bedrock-runtime/2023-09-30/service-2.json`).
//!
//! Smithy unions (`ContentBlock`, `SystemContentBlock`, `Tool`, …) are structs of optional
//! members: exactly one is set, which serializes to the one-key object AWS expects.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `ConverseRequest` / `ConverseStreamRequest` (the model id travels in the path).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockConverseRequest {
    pub messages: Vec<BedrockMessage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<BedrockSystemBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_config: Option<BedrockInferenceConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<BedrockToolConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_model_request_fields: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_model_response_field_paths: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_variables: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<Value>,
}

/// `Message`: role `user` or `assistant`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BedrockMessage {
    pub role: String,
    pub content: Vec<BedrockContentBlock>,
}

/// `ContentBlock` (union).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockContentBlock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<BedrockImageBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use: Option<BedrockToolUse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_result: Option<BedrockToolResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<BedrockReasoningContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_point: Option<BedrockCachePoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_content: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations_content: Option<Value>,
}

impl BedrockContentBlock {
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    #[must_use]
    pub fn cache_point(point: BedrockCachePoint) -> Self {
        Self {
            cache_point: Some(point),
            ..Self::default()
        }
    }
}

/// `ImageBlock`: `format` is png | jpeg | gif | webp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BedrockImageBlock {
    pub format: String,
    pub source: BedrockImageSource,
}

/// `ImageSource` (union): base64 `bytes` on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BedrockImageSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_location: Option<Value>,
}

/// `ToolUseBlock`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockToolUse {
    pub tool_use_id: String,
    pub name: String,
    pub input: Value,
}

/// `ToolResultBlock`: `content` is a list of `ToolResultContentBlock` unions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockToolResult {
    pub tool_use_id: String,
    pub content: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// `ReasoningContentBlock` (union): `reasoningText` or base64 `redactedContent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockReasoningContent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_text: Option<BedrockReasoningText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted_content: Option<String>,
}

/// `ReasoningTextBlock`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BedrockReasoningText {
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// `CachePointBlock`: `type` is always `default`; `ttl` 5m | 1h.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BedrockCachePoint {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

impl Default for BedrockCachePoint {
    fn default() -> Self {
        Self {
            kind: "default".to_owned(),
            ttl: None,
        }
    }
}

/// `SystemContentBlock` (union).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockSystemBlock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_point: Option<BedrockCachePoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_content: Option<Value>,
}

/// `InferenceConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockInferenceConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
}

impl BedrockInferenceConfig {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// `None` when nothing is set (AWS accepts an absent config, not an empty one needlessly).
    #[must_use]
    pub fn non_empty(self) -> Option<Self> {
        (!self.is_empty()).then_some(self)
    }
}

/// `ToolConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockToolConfig {
    pub tools: Vec<BedrockTool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
}

/// `Tool` (union): a `toolSpec` or a `cachePoint`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockTool {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_spec: Option<BedrockToolSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_point: Option<BedrockCachePoint>,
}

/// `ToolSpecification`; `inputSchema` is the `ToolInputSchema` union (`{"json": …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockToolSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub input_schema: Value,
}

/// `ConverseResponse`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockConverseResponse {
    pub output: BedrockConverseOutput,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub usage: Option<BedrockTokenUsage>,
    #[serde(default)]
    pub metrics: Option<Value>,
    #[serde(default)]
    pub additional_model_response_fields: Option<Value>,
    #[serde(default)]
    pub trace: Option<Value>,
    #[serde(default)]
    pub performance_config: Option<Value>,
}

/// `ConverseOutput` (union): only `message` is defined.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BedrockConverseOutput {
    #[serde(default)]
    pub message: Option<BedrockMessage>,
}

/// `TokenUsage`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockTokenUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub total_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_write_input_tokens: Option<u64>,
}
