//! [`ChatAssembler`]: `chat.completion.chunk`s into a whole `chat.completion`.

use serde::Serialize;
use serde_json::Value;

use super::{CountTokens, Header, append, set_once, set_string};
use crate::ids;
use crate::types::{
    ChatChunk, ChatResponse, Choice, CompletionTokensDetails, Delta, FunctionCall, JsonMap,
    ResponseMessage, ToolCall, ToolCallDelta, Usage,
};

#[derive(Debug, Clone)]
struct ToolCallState {
    index: u32,
    id: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    arguments: String,
}

#[derive(Debug, Clone, Default)]
struct FunctionCallState {
    name: Option<String>,
    arguments: String,
}

#[derive(Debug, Clone, Default)]
struct ChoiceState {
    index: u32,
    role: Option<String>,
    content: Option<String>,
    reasoning: Option<String>,
    thinking_blocks: Vec<Value>,
    /// In the order the calls first appeared.
    tool_calls: Vec<ToolCallState>,
    function_call: Option<FunctionCallState>,
    finish_reason: Option<String>,
    annotations: Vec<Value>,
    images: Vec<Value>,
    audio: Option<JsonMap>,
}

impl ChoiceState {
    fn new(index: u32) -> Self {
        Self {
            index,
            ..Self::default()
        }
    }

    fn add_delta(&mut self, delta: &Delta) {
        set_once(&mut self.role, delta.role.as_deref());
        if let Some(content) = &delta.content {
            append(&mut self.content, content);
        }
        if let Some(reasoning) = &delta.reasoning_content {
            append(&mut self.reasoning, reasoning);
        }
        if let Some(blocks) = &delta.thinking_blocks {
            for block in blocks {
                self.add_thinking_block(block);
            }
        }
        if let Some(tool_calls) = &delta.tool_calls {
            for fragment in tool_calls {
                self.add_tool_call(fragment);
            }
        }
        if let Some(function_call) = &delta.function_call
            && !function_call.is_null()
        {
            let state = self.function_call.get_or_insert_with(Default::default);
            set_once(
                &mut state.name,
                function_call.get("name").and_then(Value::as_str),
            );
            match function_call.get("arguments") {
                Some(Value::String(arguments)) => state.arguments.push_str(arguments),
                Some(other) if is_truthy(other) => state.arguments.push_str(&other.to_string()),
                _ => {}
            }
        }
        extend_list(&mut self.annotations, delta.extra.get("annotations"));
        extend_list(&mut self.images, delta.extra.get("images"));
        if let Some(Value::Object(audio)) = delta.extra.get("audio")
            && !audio.is_empty()
        {
            self.add_audio(audio);
        }
    }

    fn add_thinking_block(&mut self, block: &Value) {
        let is_thinking = |b: &Value| b.get("type").and_then(Value::as_str) == Some("thinking");
        if is_thinking(block)
            && let Some(Value::Object(last)) = self.thinking_blocks.last_mut()
            && last.get("type").and_then(Value::as_str) == Some("thinking")
        {
            let text = block.get("thinking").and_then(Value::as_str).unwrap_or("");
            match last.get_mut("thinking") {
                Some(Value::String(joined)) => joined.push_str(text),
                _ => {
                    last.insert("thinking".to_owned(), Value::String(text.to_owned()));
                }
            }
            if let Some(signature) = block.get("signature").filter(|s| is_truthy(s)) {
                last.insert("signature".to_owned(), signature.clone());
            }
        } else {
            self.thinking_blocks.push(block.clone());
        }
    }

    fn add_tool_call(&mut self, fragment: &ToolCallDelta) {
        let position = match self
            .tool_calls
            .iter()
            .rposition(|call| call.index == fragment.index)
        {
            Some(position) => position,
            None => {
                self.tool_calls.push(ToolCallState {
                    index: fragment.index,
                    id: None,
                    kind: None,
                    name: None,
                    arguments: String::new(),
                });
                self.tool_calls.len() - 1
            }
        };
        let Some(call) = self.tool_calls.get_mut(position) else {
            return;
        };
        set_once(&mut call.id, fragment.id.as_deref());
        set_once(&mut call.kind, fragment.kind.as_deref());
        if let Some(function) = &fragment.function {
            set_once(&mut call.name, function.name.as_deref());
            if let Some(arguments) = &function.arguments {
                call.arguments.push_str(arguments);
            }
        }
    }

    fn add_audio(&mut self, audio: &JsonMap) {
        let Some(current) = &mut self.audio else {
            self.audio = Some(audio.clone());
            return;
        };
        for key in ["data", "transcript"] {
            if let Some(Value::String(more)) = audio.get(key)
                && !more.is_empty()
            {
                match current.get_mut(key) {
                    Some(Value::String(joined)) => joined.push_str(more),
                    _ => {
                        current.insert(key.to_owned(), Value::String(more.clone()));
                    }
                }
            }
        }
        for key in ["id", "expires_at"] {
            if let Some(value) = audio.get(key).filter(|v| !v.is_null()) {
                current.insert(key.to_owned(), value.clone());
            }
        }
    }

    fn has_tools(&self) -> bool {
        !self.tool_calls.is_empty() || self.function_call.is_some()
    }

    fn into_choice(self) -> Choice {
        let tool_calls = (!self.tool_calls.is_empty()).then(|| {
            self.tool_calls
                .into_iter()
                .map(|call| ToolCall {
                    id: call.id.unwrap_or_else(ids::uuid),
                    kind: call.kind.unwrap_or_else(|| "function".to_owned()),
                    function: FunctionCall {
                        name: call.name.unwrap_or_default(),
                        arguments: call.arguments,
                    },
                    extra: JsonMap::new(),
                })
                .collect()
        });
        let function_call = self.function_call.map(|call| {
            let mut object = JsonMap::with_capacity(2);
            object.insert("arguments".to_owned(), Value::String(call.arguments));
            object.insert(
                "name".to_owned(),
                call.name.map_or(Value::Null, Value::String),
            );
            Value::Object(object)
        });
        let mut extra = JsonMap::new();
        if !self.annotations.is_empty() {
            extra.insert("annotations".to_owned(), Value::Array(self.annotations));
        }
        if let Some(audio) = self.audio {
            extra.insert("audio".to_owned(), Value::Object(audio));
        }
        if !self.images.is_empty() {
            extra.insert("images".to_owned(), Value::Array(self.images));
        }
        let finish_reason = match self.finish_reason {
            Some(reason) if !reason.is_empty() => reason,
            _ => "stop".to_owned(),
        };
        Choice {
            index: self.index,
            message: ResponseMessage {
                role: self.role.unwrap_or_else(|| "assistant".to_owned()),
                content: self.content,
                tool_calls,
                function_call,
                reasoning_content: self.reasoning,
                thinking_blocks: (!self.thinking_blocks.is_empty()).then_some(self.thinking_blocks),
                extra,
            },
            finish_reason: Some(finish_reason),
            logprobs: None,
            extra: JsonMap::new(),
        }
    }
}

/// Python's truthiness for the JSON values a delta carries.
fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn extend_list(list: &mut Vec<Value>, more: Option<&Value>) {
    if let Some(Value::Array(more)) = more {
        list.extend(more.iter().cloned());
    }
}

/// Builds a [`ChatResponse`] from `chat.completion.chunk`s pushed in stream order.
#[derive(Debug, Clone, Default)]
pub struct ChatAssembler {
    header: Option<Header>,
    system_fingerprint: Option<String>,
    /// In the order the indexes first appeared (sorted by [`finish`](Self::finish)).
    choices: Vec<ChoiceState>,
    usage: Option<Usage>,
}

impl ChatAssembler {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no chunk was pushed yet.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.header.is_none()
    }

    /// The model of the first chunk (`None` before any chunk).
    #[must_use]
    pub fn model(&self) -> Option<&str> {
        self.header.as_ref().map(|h| h.model.as_str())
    }

    /// Whether some chunk carried usage, so [`finish`](Self::finish) will not count tokens
    /// (except reasoning, for `completion_tokens_details`).
    #[must_use]
    pub const fn has_usage(&self) -> bool {
        self.usage.is_some()
    }

    /// Adds the next chunk of the stream.
    pub fn push(&mut self, chunk: &ChatChunk) {
        if self.header.is_none() {
            self.header = Some(Header::new(&chunk.id, chunk.created, &chunk.model));
        }
        if self.system_fingerprint.is_none() {
            self.system_fingerprint
                .clone_from(&chunk.system_fingerprint);
        }
        for choice in &chunk.choices {
            let state = self.choice_mut(choice.index);
            state.add_delta(&choice.delta);
            if let Some(reason) = &choice.finish_reason {
                set_string(&mut state.finish_reason, reason);
            }
        }
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
        }
    }

    fn choice_mut(&mut self, index: u32) -> &mut ChoiceState {
        let position = match self.choices.iter().position(|c| c.index == index) {
            Some(position) => position,
            None => {
                self.choices.push(ChoiceState::new(index));
                self.choices.len() - 1
            }
        };
        &mut self.choices[position]
    }

    /// The whole response, `None` when no chunk was pushed. `counter` counts the usage when no
    /// chunk carried one (without a counter it stays unset), and the reasoning tokens of a
    /// usage chunk lacking `completion_tokens_details` (without a counter they are 0).
    #[must_use]
    pub fn finish(self, counter: Option<&mut dyn CountTokens>) -> Option<ChatResponse> {
        let header = self.header?;
        let mut states = self.choices;
        if states.is_empty() {
            states.push(ChoiceState::new(0));
        }
        states.sort_by_key(|state| state.index);
        let only_text = !states.iter().any(ChoiceState::has_tools);
        let choices: Vec<Choice> = states.into_iter().map(ChoiceState::into_choice).collect();

        let usage = match (self.usage, counter) {
            (Some(mut usage), counter) => {
                if usage.completion_tokens_details.is_none() && only_text {
                    let reasoning = counter.map_or(0, |counter| {
                        reasoning_tokens(&choices, &header.model, counter)
                    });
                    usage.completion_tokens_details =
                        Some(completion_details(usage.completion_tokens, reasoning));
                }
                Some(usage)
            }
            (None, Some(counter)) => {
                let reasoning = reasoning_tokens(&choices, &header.model, counter);
                let (prompt, completion) =
                    counter.count_usage(&header.model, &completion_text(&choices));
                let mut usage = Usage::new(prompt, completion + reasoning);
                if only_text {
                    usage.completion_tokens_details =
                        Some(completion_details(usage.completion_tokens, reasoning));
                }
                Some(usage)
            }
            (None, None) => None,
        };
        Some(ChatResponse {
            id: header.id,
            object: "chat.completion".to_owned(),
            created: header.created,
            model: header.model,
            system_fingerprint: self.system_fingerprint,
            choices,
            usage,
            extra: JsonMap::new(),
        })
    }
}

fn reasoning_tokens(choices: &[Choice], model: &str, counter: &mut dyn CountTokens) -> u64 {
    choices
        .iter()
        .filter_map(|choice| choice.message.reasoning_content.as_deref())
        .filter(|reasoning| !reasoning.is_empty())
        .map(|reasoning| counter.count_reasoning(model, reasoning))
        .sum()
}

fn completion_details(completion_tokens: u64, reasoning_tokens: u64) -> CompletionTokensDetails {
    CompletionTokensDetails {
        reasoning_tokens: Some(reasoning_tokens),
        text_tokens: Some(completion_tokens.saturating_sub(reasoning_tokens)),
        ..CompletionTokensDetails::default()
    }
}

/// A tool call as LiteLLM's `model_dump_json()` writes it (`name` is `null` when unknown).
#[derive(Serialize)]
struct ToolCallJson<'a> {
    function: FunctionJson<'a>,
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct FunctionJson<'a> {
    arguments: &'a str,
    name: Option<&'a str>,
}

/// The text whose token count is the completion size: message content, then the compact JSON
/// of `function_call` and of each tool call.
fn completion_text(choices: &[Choice]) -> String {
    let mut text = String::new();
    for choice in choices {
        let message = &choice.message;
        if let Some(content) = &message.content {
            text.push_str(content);
        }
        if let Some(function_call) = &message.function_call {
            text.push_str(&function_call.to_string());
        }
        for call in message.tool_calls.iter().flatten() {
            let json = ToolCallJson {
                function: FunctionJson {
                    arguments: &call.function.arguments,
                    name: Some(call.function.name.as_str()).filter(|n| !n.is_empty()),
                },
                id: &call.id,
                kind: &call.kind,
            };
            // Serializing borrowed strings into a String cannot fail.
            if let Ok(json) = serde_json::to_string(&json) {
                text.push_str(&json);
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::TextAssembler;
    use crate::assemble::test_support::WordCounter;
    use serde_json::json;

    fn chunk(body: Value) -> ChatChunk {
        let mut object = json!({"id": "chatcmpl-x", "created": 1_700_000_000, "model": "gpt-4o"});
        if let (Value::Object(object), Value::Object(body)) = (&mut object, body) {
            object.extend(body);
        }
        serde_json::from_value(object).unwrap()
    }

    /// One choice's delta.
    fn delta(index: u32, delta: Value, finish_reason: Option<&str>) -> ChatChunk {
        chunk(
            json!({"choices": [{"index": index, "delta": delta, "finish_reason": finish_reason}]}),
        )
    }

    fn assemble(chunks: &[ChatChunk], counter: Option<&mut dyn CountTokens>) -> ChatResponse {
        let mut assembler = ChatAssembler::new();
        for chunk in chunks {
            assembler.push(chunk);
        }
        assembler.finish(counter).unwrap()
    }

    fn details(usage: &Usage) -> (Option<u64>, Option<u64>) {
        let details = usage.completion_tokens_details.as_ref().unwrap();
        (details.reasoning_tokens, details.text_tokens)
    }

    #[test]
    fn content_is_joined_and_usage_counted_with_details() {
        let chunks = [
            delta(0, json!({"role": "assistant", "content": "Hel"}), None),
            delta(0, json!({"content": "lo world"}), None),
            delta(0, json!({}), Some("stop")),
        ];
        let mut counter = WordCounter {
            with_messages: true,
            ..WordCounter::default()
        };
        let response = assemble(&chunks, Some(&mut counter));
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({
                "id": "chatcmpl-x", "object": "chat.completion", "created": 1_700_000_000,
                "model": "gpt-4o", "system_fingerprint": null,
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": null,
                    "message": {"role": "assistant", "content": "Hello world"}}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11,
                    "completion_tokens_details": {"reasoning_tokens": 0, "text_tokens": 2}}
            })
        );
        assert_eq!(counter.calls, [("usage", "Hello world".to_owned())]);
        assert_eq!(counter.models, ["gpt-4o"]);
    }

    #[test]
    fn tool_call_split_across_chunks() {
        let chunks = [
            delta(
                0,
                json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1",
                    "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
                None,
            ),
            delta(
                0,
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"ci"}}]}),
                None,
            ),
            delta(
                0,
                json!({"tool_calls": [{"index": 0, "id": "", "function": {"arguments": "ty\":\"Paris\"}"}}]}),
                None,
            ),
            delta(0, json!({}), Some("tool_calls")),
        ];
        let mut counter = WordCounter::default();
        let response = assemble(&chunks, Some(&mut counter));
        let choice = &response.choices[0];
        assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(choice.message.content, None);
        assert_eq!(
            serde_json::to_value(choice.message.tool_calls.as_ref().unwrap()).unwrap(),
            json!([{"id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}])
        );
        // The compact JSON of the call is what gets counted; no details with tool calls.
        assert_eq!(
            counter.calls,
            [(
                "usage",
                r#"{"function":{"arguments":"{\"city\":\"Paris\"}","name":"get_weather"},"id":"call_1","type":"function"}"#
                    .to_owned()
            )]
        );
        let usage = response.usage.unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (0, 1));
        assert!(usage.completion_tokens_details.is_none());
    }

    #[test]
    fn parallel_tool_calls_interleaved_keep_first_seen_order() {
        let chunks = [
            delta(0, json!({"content": "Checking. "}), None),
            delta(
                0,
                json!({"tool_calls": [{"index": 1, "id": "call_b", "function": {"name": "f2", "arguments": "{\"y\""}}]}),
                None,
            ),
            delta(
                0,
                json!({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "f1"}},
                                      {"index": 1, "function": {"arguments": ":2}"}}]}),
                None,
            ),
            delta(
                0,
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
                None,
            ),
            delta(0, json!({}), Some("tool_calls")),
        ];
        let mut counter = WordCounter::default();
        let response = assemble(&chunks, Some(&mut counter));
        let message = &response.choices[0].message;
        assert_eq!(message.content.as_deref(), Some("Checking. "));
        let calls: Vec<_> = message
            .tool_calls
            .iter()
            .flatten()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.kind.as_str(),
                    c.function.name.as_str(),
                    c.function.arguments.as_str(),
                )
            })
            .collect();
        assert_eq!(
            calls,
            [
                ("call_b", "function", "f2", "{\"y\":2}"),
                ("call_a", "function", "f1", "{}")
            ]
        );
        assert_eq!(
            counter.calls[0].1,
            concat!(
                "Checking. ",
                r#"{"function":{"arguments":"{\"y\":2}","name":"f2"},"id":"call_b","type":"function"}"#,
                r#"{"function":{"arguments":"{}","name":"f1"},"id":"call_a","type":"function"}"#
            )
        );
    }

    #[test]
    fn tool_call_without_id_gets_a_uuid_and_unknown_name_counts_as_null() {
        let chunks = [delta(
            0,
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
            None,
        )];
        let mut counter = WordCounter::default();
        let response = assemble(&chunks, Some(&mut counter));
        let call = &response.choices[0].message.tool_calls.as_ref().unwrap()[0];
        assert_eq!(call.id.len(), 36);
        assert_eq!(call.function.name, "");
        assert_eq!(
            counter.calls[0].1,
            format!(
                r#"{{"function":{{"arguments":"{{}}","name":null}},"id":"{}","type":"function"}}"#,
                call.id
            )
        );
    }

    #[test]
    fn several_choices_are_kept_apart_and_sorted() {
        let chunks = [
            delta(1, json!({"role": "assistant", "content": "B"}), None),
            delta(0, json!({"role": "assistant", "content": "A"}), None),
            delta(0, json!({"content": "a"}), None),
            delta(1, json!({"content": "b"}), None),
            delta(0, json!({}), Some("stop")),
            delta(1, json!({}), Some("length")),
            delta(1, json!({}), None),
        ];
        let response = assemble(&chunks, None);
        let choices: Vec<_> = response
            .choices
            .iter()
            .map(|c| {
                (
                    c.index,
                    c.message.content.as_deref(),
                    c.finish_reason.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            choices,
            [
                (0, Some("Aa"), Some("stop")),
                (1, Some("Bb"), Some("length"))
            ]
        );
        assert!(response.usage.is_none());
    }

    #[test]
    fn reasoning_is_counted_apart_and_thinking_blocks_merge() {
        let chunks = [
            delta(
                0,
                json!({"role": "assistant", "reasoning_content": "I ",
                    "thinking_blocks": [{"type": "thinking", "thinking": "I ", "signature": ""}]}),
                None,
            ),
            delta(
                0,
                json!({"reasoning_content": "think",
                    "thinking_blocks": [{"type": "thinking", "thinking": "think", "signature": "sig"}]}),
                None,
            ),
            delta(
                0,
                json!({"thinking_blocks": [{"type": "redacted_thinking", "data": "xyz"}]}),
                None,
            ),
            delta(0, json!({"content": "ok"}), Some("stop")),
        ];
        let mut counter = WordCounter {
            with_messages: true,
            ..WordCounter::default()
        };
        let response = assemble(&chunks, Some(&mut counter));
        let message = &response.choices[0].message;
        assert_eq!(message.reasoning_content.as_deref(), Some("I think"));
        assert_eq!(
            message.thinking_blocks,
            Some(vec![
                json!({"type": "thinking", "thinking": "I think", "signature": "sig"}),
                json!({"type": "redacted_thinking", "data": "xyz"}),
            ])
        );
        assert_eq!(
            counter.calls,
            [
                ("reasoning", "I think".to_owned()),
                ("usage", "ok".to_owned())
            ]
        );
        let usage = response.usage.unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens
            ),
            (9, 3, 12)
        );
        assert_eq!(details(&usage), (Some(2), Some(1)));
    }

    #[test]
    fn usage_chunk_wins_and_gets_details_when_it_has_none() {
        let chunks = [
            delta(
                0,
                json!({"role": "assistant", "reasoning_content": "hmm yes", "content": "Hi"}),
                Some("stop"),
            ),
            chunk(
                json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 5,
                "total_tokens": 8, "cache_read_input_tokens": 1}}),
            ),
        ];
        let mut counter = WordCounter::default();
        let usage = assemble(&chunks, Some(&mut counter)).usage.unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens
            ),
            (3, 5, 8)
        );
        assert_eq!(usage.extra["cache_read_input_tokens"], 1);
        assert_eq!(details(&usage), (Some(2), Some(3)));
        assert_eq!(counter.calls, [("reasoning", "hmm yes".to_owned())]);

        // Without a counter the reasoning is 0; details the chunk had are kept as they are.
        let usage = assemble(&chunks, None).usage.unwrap();
        assert_eq!(details(&usage), (Some(0), Some(5)));
        let with_details = [
            chunks[0].clone(),
            chunk(
                json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 5,
                "total_tokens": 8, "completion_tokens_details": {"reasoning_tokens": 4}}}),
            ),
        ];
        let usage = assemble(&with_details, Some(&mut WordCounter::default()))
            .usage
            .unwrap();
        assert_eq!(details(&usage), (Some(4), None));

        // The last usage chunk wins.
        let twice = [
            chunks[1].clone(),
            chunk(
                json!({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
            ),
        ];
        assert_eq!(assemble(&twice, None).usage.unwrap().total_tokens, 2);
    }

    #[test]
    fn function_call_is_joined_and_counted_as_json() {
        let chunks = [
            delta(
                0,
                json!({"role": "assistant", "function_call": {"name": "fn", "arguments": ""}}),
                None,
            ),
            delta(0, json!({"function_call": {"arguments": "{\"a\":"}}), None),
            delta(0, json!({"function_call": {"arguments": "1}"}}), None),
            delta(0, json!({}), Some("function_call")),
        ];
        let mut counter = WordCounter::default();
        let response = assemble(&chunks, Some(&mut counter));
        let message = &response.choices[0].message;
        assert_eq!(
            message.function_call,
            Some(json!({"arguments": "{\"a\":1}", "name": "fn"}))
        );
        assert!(message.tool_calls.is_none() && message.content.is_none());
        assert_eq!(
            counter.calls,
            [(
                "usage",
                r#"{"arguments":"{\"a\":1}","name":"fn"}"#.to_owned()
            )]
        );
        assert!(response.usage.unwrap().completion_tokens_details.is_none());
    }

    #[test]
    fn annotations_images_audio_and_header_fields() {
        let chunks = [
            chunk(
                json!({"id": "first", "choices": [{"index": 0, "delta": {"role": "assistant",
                "content": "", "audio": {"id": "a1", "data": "AAA", "transcript": "he"}}}]}),
            ),
            chunk(
                json!({"id": "second", "system_fingerprint": "fp_1", "model": "other",
                "choices": [{"index": 0, "delta": {"audio": {"data": "BBB", "transcript": "llo",
                    "expires_at": 99}, "annotations": [{"type": "url_citation"}],
                    "images": [{"type": "image_url"}], "provider_specific_fields": {"x": 1}}}]}),
            ),
            chunk(
                json!({"system_fingerprint": "fp_2", "choices": [{"index": 0, "delta": {
                "annotations": [{"type": "file_citation"}], "images": [], "audio": null},
                "finish_reason": ""}]}),
            ),
        ];
        let response = assemble(&chunks, None);
        assert_eq!(
            (response.id.as_str(), response.model.as_str()),
            ("first", "gpt-4o")
        );
        assert_eq!(response.system_fingerprint.as_deref(), Some("fp_1"));
        let choice = &response.choices[0];
        // "" is kept as content; an empty finish reason becomes "stop".
        assert_eq!(choice.message.content.as_deref(), Some(""));
        assert_eq!(choice.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            Value::Object(choice.message.extra.clone()),
            json!({
                "annotations": [{"type": "url_citation"}, {"type": "file_citation"}],
                "audio": {"id": "a1", "data": "AAABBB", "transcript": "hello", "expires_at": 99},
                "images": [{"type": "image_url"}]
            })
        );
    }

    #[test]
    fn empty_streams() {
        assert!(ChatAssembler::new().finish(None).is_none());
        assert!(TextAssembler::new().finish(None).is_none());
        // A chunk without choices still gives one empty choice.
        let response = assemble(&[chunk(json!({"choices": []}))], None);
        assert_eq!(response.choices.len(), 1);
        let choice = &response.choices[0];
        assert_eq!(
            (choice.index, choice.message.role.as_str()),
            (0, "assistant")
        );
        assert_eq!(
            (
                choice.message.content.as_deref(),
                choice.finish_reason.as_deref()
            ),
            (None, Some("stop"))
        );
    }
}
