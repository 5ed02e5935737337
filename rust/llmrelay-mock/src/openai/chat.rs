//! Chat completions: the answer plan (text, JSON mode or tool calls) and its whole and streamed renderings.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::{invalid_type, missing};
use super::request::{
    choice_count, estimate_tokens, includes_stream_usage, is_streaming, message_characters,
    mock_object, request_object, required_model, shape_text, split_even, stop_sequences,
};
use super::{SERVICE_TIER, SYSTEM_FINGERPRINT};
use crate::exchange::{Exchange, new_id};
use crate::faults::ErrorSpec;
use crate::sse::{SseEvents, SseWriter};

/// Tool-call arguments are streamed in at least this many pieces, so clients must join deltas.
pub(super) const MIN_ARGUMENT_PIECES: usize = 3;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub(super) struct ChatUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    prompt_tokens_details: PromptTokensDetails,
    completion_tokens_details: CompletionTokensDetails,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub(super) struct PromptTokensDetails {
    cached_tokens: u64,
    audio_tokens: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub(super) struct CompletionTokensDetails {
    reasoning_tokens: u64,
    audio_tokens: u64,
    accepted_prediction_tokens: u64,
    rejected_prediction_tokens: u64,
}

impl ChatUsage {
    fn new(prompt_tokens: u64, completion_tokens: u64) -> ChatUsage {
        ChatUsage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
            prompt_tokens_details: PromptTokensDetails::default(),
            completion_tokens_details: CompletionTokensDetails::default(),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PlannedToolCall<'a> {
    pub(crate) name: &'a str,
    pub(crate) arguments: String,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Reply<'a> {
    Text(Cow<'a, str>),
    ToolCalls(Vec<PlannedToolCall<'a>>),
}

/// Everything a chat answer needs, decided from the request and the controls before any rendering.
#[derive(Debug)]
pub(crate) struct ChatPlan<'a> {
    model: &'a str,
    choices: usize,
    reply: Reply<'a>,
    finish_reason: &'static str,
    usage: ChatUsage,
    pub(super) stream: bool,
    include_usage: bool,
}

impl<'a> ChatPlan<'a> {
    /// Validates the request like OpenAI does and picks the answer: a tool call, JSON, or text.
    pub(crate) fn new(
        body: Option<&'a Value>,
        exchange: &'a Exchange,
    ) -> Result<ChatPlan<'a>, ErrorSpec> {
        let request = request_object(body)?;
        let model = required_model(request)?;
        let messages = match request.get("messages") {
            None | Some(Value::Null) => return Err(missing("messages")),
            Some(Value::Array(messages)) if messages.is_empty() => {
                return Err(ErrorSpec::invalid_request(
                    "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty \
                     array instead.",
                    Some("messages"),
                    Some("empty_array"),
                ));
            }
            Some(Value::Array(messages)) => messages,
            Some(other) => return Err(invalid_type("messages", "an array of objects", other)),
        };
        let choices = choice_count(request)?;
        let prompt_tokens = exchange
            .prompt_tokens()
            .unwrap_or_else(|| estimate_tokens(message_characters(messages)).max(1));
        let configured_completion_tokens = exchange.completion_tokens();
        let (reply, finish_reason, completion_tokens) =
            if let Some(calls) = plan_tool_calls(request, messages) {
                let arguments_characters = calls
                    .iter()
                    .map(|call| call.arguments.chars().count())
                    .sum();
                let tokens = configured_completion_tokens
                    .unwrap_or_else(|| estimate_tokens(arguments_characters));
                (Reply::ToolCalls(calls), "tool_calls", tokens)
            } else {
                let content = if exchange.has_content_override() {
                    Cow::Borrowed(exchange.content())
                } else if let Some(json) = json_mode_content(request) {
                    Cow::Owned(json)
                } else {
                    Cow::Borrowed(exchange.content())
                };
                let max_tokens = request
                    .get("max_completion_tokens")
                    .or_else(|| request.get("max_tokens"))
                    .and_then(Value::as_u64);
                let (content, finish_reason, tokens) = shape_text(
                    content,
                    &stop_sequences(request),
                    max_tokens,
                    configured_completion_tokens,
                );
                (Reply::Text(content), finish_reason, tokens)
            };
        let choices_u64 = u64::try_from(choices).unwrap_or(1);
        Ok(ChatPlan {
            model,
            choices,
            reply,
            finish_reason,
            usage: ChatUsage::new(prompt_tokens, completion_tokens.saturating_mul(choices_u64)),
            stream: is_streaming(request),
            include_usage: includes_stream_usage(request),
        })
    }
}

/// The tool calls to answer with, if the request offers tools and the model should use them now.
///
/// Only when the last message is the user's (not a tool result), so a tool loop ends with text.
pub(crate) fn plan_tool_calls<'a>(
    request: &'a Map<String, Value>,
    messages: &'a [Value],
) -> Option<Vec<PlannedToolCall<'a>>> {
    let tools = request.get("tools")?.as_array()?;
    let functions: Vec<(&str, Option<&Value>)> = tools
        .iter()
        .filter_map(|tool| {
            let function = tool.get("function")?;
            Some((function.get("name")?.as_str()?, function.get("parameters")))
        })
        .collect();
    if functions.is_empty() || messages.last()?.get("role")?.as_str()? != "user" {
        return None;
    }
    let tool_choice = request.get("tool_choice");
    if let Some(Value::String(choice)) = tool_choice
        && choice == "none"
    {
        return None;
    }
    let named = tool_choice
        .and_then(|choice| choice.get("function"))
        .and_then(|function| function.get("name"))
        .and_then(Value::as_str);
    if let Some(name) = named {
        let parameters = functions
            .iter()
            .find(|(candidate, _)| *candidate == name)
            .and_then(|(_, parameters)| *parameters);
        return Some(vec![PlannedToolCall {
            name,
            arguments: mock_object(parameters),
        }]);
    }
    let parallel = request.get("parallel_tool_calls").and_then(Value::as_bool) != Some(false);
    let count = if parallel && functions.len() >= 2 {
        2
    } else {
        1
    };
    Some(
        functions
            .iter()
            .take(count)
            .map(|(name, parameters)| PlannedToolCall {
                name,
                arguments: mock_object(*parameters),
            })
            .collect(),
    )
}

/// Content for `response_format` JSON modes: `{"mock": true}`, or an object built from the JSON schema.
pub(crate) fn json_mode_content(request: &Map<String, Value>) -> Option<String> {
    let format = request.get("response_format")?;
    match format.get("type")?.as_str()? {
        "json_object" => Some(r#"{"mock": true}"#.to_owned()),
        "json_schema" => Some(mock_object(
            format
                .get("json_schema")
                .and_then(|json_schema| json_schema.get("schema")),
        )),
        _ => None,
    }
}

#[derive(Serialize)]
pub(super) struct ChatCompletion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: Vec<ChatChoice<'a>>,
    usage: &'a ChatUsage,
    service_tier: &'static str,
    system_fingerprint: &'static str,
}

#[derive(Serialize)]
pub(super) struct ChatChoice<'a> {
    index: usize,
    message: AssistantMessage<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
pub(super) struct AssistantMessage<'a> {
    role: &'static str,
    content: Option<&'a str>,
    refusal: Option<()>,
    annotations: [(); 0],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall<'a>>,
}

#[derive(Serialize)]
pub(super) struct ToolCall<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionCall<'a>,
}

#[derive(Serialize)]
pub(super) struct FunctionCall<'a> {
    name: &'a str,
    arguments: &'a str,
}

/// A whole `chat.completion` object.
/// Follows: API reference "The chat completion object"; openai-python `types/chat/chat_completion.py`
/// (`ChatCompletion`, `Choice`, `ChatCompletionMessage`, `ChatCompletionMessageToolCall`) and
/// `types/completion_usage.py` (`CompletionUsage` with token details).
pub(crate) fn render_chat_completion(plan: &ChatPlan<'_>, id: &str, created: u64) -> Vec<u8> {
    let choices = (0..plan.choices)
        .map(|index| {
            let (content, tool_calls) = match &plan.reply {
                Reply::Text(content) => (Some(content.as_ref()), Vec::new()),
                Reply::ToolCalls(calls) => (
                    None,
                    calls
                        .iter()
                        .map(|call| ToolCall {
                            id: new_id("call_"),
                            kind: "function",
                            function: FunctionCall {
                                name: call.name,
                                arguments: &call.arguments,
                            },
                        })
                        .collect(),
                ),
            };
            ChatChoice {
                index,
                message: AssistantMessage {
                    role: "assistant",
                    content,
                    refusal: None,
                    annotations: [],
                    tool_calls,
                },
                logprobs: None,
                finish_reason: plan.finish_reason,
            }
        })
        .collect();
    let completion = ChatCompletion {
        id,
        object: "chat.completion",
        created,
        model: plan.model,
        choices,
        usage: &plan.usage,
        service_tier: SERVICE_TIER,
        system_fingerprint: SYSTEM_FINGERPRINT,
    };
    serde_json::to_vec(&completion).unwrap_or_default()
}

#[derive(Serialize)]
pub(super) struct ChatChunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    service_tier: &'static str,
    system_fingerprint: &'static str,
    choices: &'a [ChunkChoice<'a>],
    /// Absent unless `stream_options.include_usage`; then `null` on every chunk but the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<&'a ChatUsage>>,
}

#[derive(Serialize)]
pub(super) struct ChunkChoice<'a> {
    index: usize,
    delta: Delta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
}

#[derive(Serialize, Default)]
pub(super) struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<Option<()>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCallDelta<'a>; 1]>,
}

#[derive(Serialize)]
pub(super) struct ToolCallDelta<'a> {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: FunctionDelta<'a>,
}

#[derive(Serialize)]
pub(super) struct FunctionDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

/// Writes `chat.completion.chunk` events that share id, created, model and fingerprint.
pub(super) struct ChatChunkWriter<'a> {
    writer: SseWriter,
    id: &'a str,
    created: u64,
    model: &'a str,
    usage: Option<Option<&'a ChatUsage>>,
}

impl ChatChunkWriter<'_> {
    fn chunk(&mut self, choices: &[ChunkChoice<'_>], usage: Option<Option<&ChatUsage>>) {
        self.writer.json(&ChatChunk {
            id: self.id,
            object: "chat.completion.chunk",
            created: self.created,
            model: self.model,
            service_tier: SERVICE_TIER,
            system_fingerprint: SYSTEM_FINGERPRINT,
            choices,
            usage,
        });
    }

    fn delta(&mut self, index: usize, delta: Delta<'_>, finish_reason: Option<&'static str>) {
        let choice = [ChunkChoice {
            index,
            delta,
            logprobs: None,
            finish_reason,
        }];
        self.chunk(&choice, self.usage);
    }
}

/// A `chat.completion.chunk` stream: role chunk, content (or tool-call) deltas, finish chunk, usage chunk,
/// `[DONE]`.
/// Follows: API reference "The chat completion chunk object" and "Streaming"; openai-python
/// `types/chat/chat_completion_chunk.py` (`ChatCompletionChunk`, `ChoiceDelta`, `ChoiceDeltaToolCall`).
pub(crate) fn render_chat_stream(
    plan: &ChatPlan<'_>,
    id: &str,
    created: u64,
    chunk_count: usize,
) -> SseEvents {
    let mut out = ChatChunkWriter {
        writer: SseWriter::with_capacity(400 * (chunk_count + 4) * plan.choices),
        id,
        created,
        model: plan.model,
        usage: plan.include_usage.then_some(None),
    };
    match &plan.reply {
        Reply::Text(content) => {
            for index in 0..plan.choices {
                let delta = Delta {
                    role: Some("assistant"),
                    content: Some(Some("")),
                    refusal: Some(None),
                    tool_calls: None,
                };
                out.delta(index, delta, None);
            }
            for piece in split_even(content, chunk_count) {
                for index in 0..plan.choices {
                    let delta = Delta {
                        content: Some(Some(piece)),
                        ..Delta::default()
                    };
                    out.delta(index, delta, None);
                }
            }
        }
        Reply::ToolCalls(calls) => {
            let pieces: Vec<Vec<&str>> = calls
                .iter()
                .map(|call| split_even(&call.arguments, chunk_count.max(MIN_ARGUMENT_PIECES)))
                .collect();
            for index in 0..plan.choices {
                for (call_index, call) in calls.iter().enumerate() {
                    let call_id = new_id("call_");
                    let header = ToolCallDelta {
                        index: call_index,
                        id: Some(&call_id),
                        kind: Some("function"),
                        function: FunctionDelta {
                            name: Some(call.name),
                            arguments: "",
                        },
                    };
                    // OpenAI puts the role on the first tool-call chunk of a choice.
                    let delta = if call_index == 0 {
                        Delta {
                            role: Some("assistant"),
                            content: Some(None),
                            refusal: Some(None),
                            tool_calls: Some([header]),
                        }
                    } else {
                        Delta {
                            tool_calls: Some([header]),
                            ..Delta::default()
                        }
                    };
                    out.delta(index, delta, None);
                }
            }
            // Argument pieces of parallel calls are interleaved (call 0, call 1, call 0, ...) so that a
            // client merging deltas by position instead of by `index` produces broken JSON.
            let rounds = pieces.iter().map(Vec::len).max().unwrap_or(0);
            for round in 0..rounds {
                for (call_index, call_pieces) in pieces.iter().enumerate() {
                    let Some(piece) = call_pieces.get(round) else {
                        continue;
                    };
                    for index in 0..plan.choices {
                        let argument = ToolCallDelta {
                            index: call_index,
                            id: None,
                            kind: None,
                            function: FunctionDelta {
                                name: None,
                                arguments: piece,
                            },
                        };
                        let delta = Delta {
                            tool_calls: Some([argument]),
                            ..Delta::default()
                        };
                        out.delta(index, delta, None);
                    }
                }
            }
        }
    }
    for index in 0..plan.choices {
        out.delta(index, Delta::default(), Some(plan.finish_reason));
    }
    if plan.include_usage {
        out.chunk(&[], Some(Some(&plan.usage)));
    }
    out.writer.done();
    out.writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[test]
    fn tool_calls_follow_tool_choice_and_parallel_flag() {
        let tools = json!([
            {"type": "function", "function": {"name": "a", "parameters": {"properties": {"x": {"type": "string"}}}}},
            {"type": "function", "function": {"name": "b"}}
        ]);
        let messages = vec![json!({"role": "user", "content": "hi"})];
        let request = |extra: Value| {
            let mut object = json!({"tools": tools}).as_object().unwrap().clone();
            object.extend(extra.as_object().unwrap().clone());
            object
        };
        let names = |request: &Map<String, Value>| -> Option<Vec<String>> {
            plan_tool_calls(request, &messages)
                .map(|calls| calls.iter().map(|call| call.name.to_owned()).collect())
        };
        assert_eq!(
            names(&request(json!({}))),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(
            names(&request(json!({"parallel_tool_calls": false}))),
            Some(vec!["a".to_owned()])
        );
        assert_eq!(names(&request(json!({"tool_choice": "none"}))), None);
        assert_eq!(
            names(&request(
                json!({"tool_choice": {"type": "function", "function": {"name": "b"}}})
            )),
            Some(vec!["b".to_owned()])
        );
        let auto = request(json!({}));
        let first = &plan_tool_calls(&auto, &messages).unwrap()[0];
        assert_eq!(first.arguments, r#"{"x":"mock"}"#);
        let after_tool = vec![json!({"role": "tool", "content": "42", "tool_call_id": "call_1"})];
        assert_eq!(plan_tool_calls(&request(json!({})), &after_tool), None);
    }
}
