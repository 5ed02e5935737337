//! Chat completion chunks → the Responses streaming event sequence
//! (<https://platform.openai.com/docs/api-reference/responses-streaming>): `response.created`,
//! `response.in_progress`, per output item `response.output_item.added` … deltas …
//! `response.output_item.done`, then `response.completed` (or `response.incomplete`).
//!
//! Every tool-call argument delta becomes a `response.function_call_arguments.delta` event of
//! its own item, interleaved calls included (LiteLLM #20711 lost some).

use serde_json::{Value, json};

use llmrelay_core::types::{ChatChunk, Usage};

use super::request::Echo;
use super::response::{
    function_call_item, message_item, new_id, output_text_part, reasoning_item, response_object,
    status_for, usage_value,
};

enum ItemState {
    Reasoning {
        id: String,
        text: String,
        signature: Option<String>,
    },
    Message {
        id: String,
        text: String,
    },
    Call {
        id: String,
        call_id: String,
        name: String,
        arguments: String,
    },
}

struct Item {
    state: ItemState,
    done: bool,
}

/// Builds the event sequence of one response as chunks arrive.
pub struct EventBuilder {
    id: String,
    model: String,
    created_at: u64,
    echo: Echo,
    sequence: u64,
    items: Vec<Item>,
    /// Output index of each chat tool-call index.
    calls: Vec<(u32, usize)>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

impl EventBuilder {
    #[must_use]
    pub fn new(id: String, model: String, created_at: u64, echo: Echo) -> Self {
        Self {
            id,
            model,
            created_at,
            echo,
            sequence: 0,
            items: Vec::new(),
            calls: Vec::new(),
            finish_reason: None,
            usage: None,
        }
    }

    fn event(&mut self, kind: &str, mut body: Value) -> Value {
        body["type"] = Value::String(kind.to_owned());
        body["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        body
    }

    fn snapshot(&self, status: &str, incomplete: Value, usage: Option<Value>) -> Value {
        let output = self
            .items
            .iter()
            .map(|i| item_value(&i.state, i.done))
            .collect();
        response_object(
            &self.id,
            self.created_at,
            &self.model,
            (status, incomplete),
            output,
            usage,
            &self.echo,
        )
    }

    /// `response.created` and `response.in_progress`.
    pub fn start(&mut self) -> Vec<Value> {
        let snapshot = self.snapshot("in_progress", Value::Null, None);
        let created = self.event("response.created", json!({"response": snapshot.clone()}));
        let in_progress = self.event("response.in_progress", json!({"response": snapshot}));
        vec![created, in_progress]
    }

    fn open(&mut self, state: ItemState, out: &mut Vec<Value>) -> usize {
        let index = self.items.len();
        let item = item_value(&state, false);
        self.items.push(Item { state, done: false });
        let added = self.event(
            "response.output_item.added",
            json!({"output_index": index, "item": item}),
        );
        out.push(added);
        match &self.items[index].state {
            ItemState::Message { id, .. } => {
                let id = id.clone();
                let part = self.event(
                    "response.content_part.added",
                    json!({"item_id": id, "output_index": index, "content_index": 0,
                           "part": output_text_part("")}),
                );
                out.push(part);
            }
            ItemState::Reasoning { id, .. } => {
                let id = id.clone();
                let part = self.event(
                    "response.reasoning_summary_part.added",
                    json!({"item_id": id, "output_index": index, "summary_index": 0,
                           "part": {"type": "summary_text", "text": ""}}),
                );
                out.push(part);
            }
            ItemState::Call { .. } => {}
        }
        index
    }

    fn close(&mut self, index: usize, out: &mut Vec<Value>) {
        if self.items[index].done {
            return;
        }
        self.items[index].done = true;
        let events: Vec<(&str, Value)> = match &self.items[index].state {
            ItemState::Message { id, text } => vec![
                (
                    "response.output_text.done",
                    json!({"item_id": id, "output_index": index, "content_index": 0,
                           "text": text, "logprobs": []}),
                ),
                (
                    "response.content_part.done",
                    json!({"item_id": id, "output_index": index, "content_index": 0,
                           "part": output_text_part(text)}),
                ),
            ],
            ItemState::Reasoning { id, text, .. } => vec![
                (
                    "response.reasoning_summary_text.done",
                    json!({"item_id": id, "output_index": index, "summary_index": 0, "text": text}),
                ),
                (
                    "response.reasoning_summary_part.done",
                    json!({"item_id": id, "output_index": index, "summary_index": 0,
                           "part": {"type": "summary_text", "text": text}}),
                ),
            ],
            ItemState::Call {
                id,
                name,
                arguments,
                ..
            } => vec![(
                "response.function_call_arguments.done",
                json!({"item_id": id, "output_index": index, "name": name, "arguments": arguments}),
            )],
        };
        let item = item_value(&self.items[index].state, true);
        for (kind, body) in events {
            let event = self.event(kind, body);
            out.push(event);
        }
        let done = self.event(
            "response.output_item.done",
            json!({"output_index": index, "item": item}),
        );
        out.push(done);
    }

    /// The open reasoning or message item at the end, if `want` says it is of that kind.
    fn current(&self, want: fn(&ItemState) -> bool) -> Option<usize> {
        let last = self.items.len().checked_sub(1)?;
        let item = &self.items[last];
        (!item.done && want(&item.state)).then_some(last)
    }

    /// Close an open reasoning/message item before another kind of output starts.
    fn close_current_text(&mut self, out: &mut Vec<Value>) {
        if let Some(last) = self.current(|s| !matches!(s, ItemState::Call { .. })) {
            self.close(last, out);
        }
    }

    /// Events for one chat chunk.
    pub fn push(&mut self, chunk: &ChatChunk) -> Vec<Value> {
        let mut out = Vec::new();
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
        }
        let Some(choice) = chunk.choices.iter().find(|c| c.index == 0) else {
            return out;
        };
        let delta = &choice.delta;
        if let Some(reasoning) = delta.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
            let index = match self.current(|s| matches!(s, ItemState::Reasoning { .. })) {
                Some(index) => index,
                None => {
                    self.close_current_text(&mut out);
                    let state = ItemState::Reasoning {
                        id: new_id("rs"),
                        text: String::new(),
                        signature: None,
                    };
                    self.open(state, &mut out)
                }
            };
            if let ItemState::Reasoning { id, text, .. } = &mut self.items[index].state {
                text.push_str(reasoning);
                let id = id.clone();
                let event = self.event(
                    "response.reasoning_summary_text.delta",
                    json!({"item_id": id, "output_index": index, "summary_index": 0, "delta": reasoning}),
                );
                out.push(event);
            }
        }
        if let Some(signature) = delta
            .thinking_blocks
            .iter()
            .flatten()
            .find_map(|b| b.get("signature").and_then(Value::as_str))
        {
            if let Some(item) = self
                .items
                .iter_mut()
                .rev()
                .find(|i| matches!(i.state, ItemState::Reasoning { .. }))
            {
                if let ItemState::Reasoning {
                    signature: slot, ..
                } = &mut item.state
                {
                    *slot = Some(signature.to_owned());
                }
            }
        }
        if let Some(content) = delta.content.as_deref().filter(|c| !c.is_empty()) {
            let index = match self.current(|s| matches!(s, ItemState::Message { .. })) {
                Some(index) => index,
                None => {
                    self.close_current_text(&mut out);
                    let state = ItemState::Message {
                        id: new_id("msg"),
                        text: String::new(),
                    };
                    self.open(state, &mut out)
                }
            };
            if let ItemState::Message { id, text } = &mut self.items[index].state {
                text.push_str(content);
                let id = id.clone();
                let event = self.event(
                    "response.output_text.delta",
                    json!({"item_id": id, "output_index": index, "content_index": 0,
                           "delta": content, "logprobs": []}),
                );
                out.push(event);
            }
        }
        for call in delta.tool_calls.iter().flatten() {
            let known = self
                .calls
                .iter()
                .find(|(i, _)| *i == call.index)
                .map(|(_, o)| *o);
            let index = match known {
                Some(index) => index,
                None => {
                    self.close_current_text(&mut out);
                    let function = call.function.as_ref();
                    let state = ItemState::Call {
                        id: new_id("fc"),
                        call_id: call.id.clone().unwrap_or_else(|| new_id("call")),
                        name: function.and_then(|f| f.name.clone()).unwrap_or_default(),
                        arguments: String::new(),
                    };
                    let index = self.open(state, &mut out);
                    self.calls.push((call.index, index));
                    index
                }
            };
            let piece = call
                .function
                .as_ref()
                .and_then(|f| f.arguments.as_deref())
                .filter(|a| !a.is_empty());
            if let Some(piece) = piece {
                if let ItemState::Call { id, arguments, .. } = &mut self.items[index].state {
                    arguments.push_str(piece);
                    let id = id.clone();
                    let event = self.event(
                        "response.function_call_arguments.delta",
                        json!({"item_id": id, "output_index": index, "delta": piece}),
                    );
                    out.push(event);
                }
            }
        }
        if let Some(reason) = &choice.finish_reason {
            self.finish_reason = Some(reason.clone());
        }
        out
    }

    /// `response.failed` for a stream that broke (the proxy's answer to an error mid-stream).
    pub fn fail(&mut self, code: &str, message: &str) -> Vec<Value> {
        let mut response = self.snapshot("failed", Value::Null, None);
        response["error"] = json!({"code": code, "message": message});
        vec![self.event("response.failed", json!({"response": response}))]
    }

    /// Close every item and emit `response.completed` / `response.incomplete`; returns the
    /// events and the final response object.
    pub fn finish(&mut self) -> (Vec<Value>, Value) {
        let mut out = Vec::new();
        for index in 0..self.items.len() {
            self.close(index, &mut out);
        }
        let (status, incomplete) = status_for(self.finish_reason.as_deref());
        let usage = self.usage.as_ref().map(usage_value);
        let response = self.snapshot(status, incomplete, usage);
        let kind = if status == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        let event = self.event(kind, json!({"response": response.clone()}));
        out.push(event);
        (out, response)
    }
}

fn item_value(state: &ItemState, done: bool) -> Value {
    let status = if done { "completed" } else { "in_progress" };
    match state {
        ItemState::Reasoning {
            id,
            text,
            signature,
        } => {
            if done {
                reasoning_item(id, text, signature.as_deref())
            } else {
                json!({"type": "reasoning", "id": id, "summary": []})
            }
        }
        ItemState::Message { id, text } => {
            if done {
                message_item(id, text, status)
            } else {
                json!({"type": "message", "id": id, "status": status, "role": "assistant", "content": []})
            }
        }
        ItemState::Call {
            id,
            call_id,
            name,
            arguments,
        } => function_call_item(id, call_id, name, if done { arguments } else { "" }, status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(delta: Value, finish: Option<&str>) -> ChatChunk {
        serde_json::from_value(json!({
            "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
        }))
        .unwrap()
    }

    fn kinds(events: &[Value]) -> Vec<&str> {
        events.iter().map(|e| e["type"].as_str().unwrap()).collect()
    }

    #[test]
    fn text_stream_sequence() {
        let mut builder = EventBuilder::new("resp_1".into(), "m".into(), 1, Echo::default());
        let mut events = builder.start();
        events.extend(builder.push(&chunk(json!({"role": "assistant", "content": "Hel"}), None)));
        events.extend(builder.push(&chunk(json!({"content": "lo"}), None)));
        events.extend(builder.push(&chunk(json!({}), Some("stop"))));
        let (tail, response) = builder.finish();
        events.extend(tail);
        assert_eq!(
            kinds(&events),
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed"
            ]
        );
        let numbers: Vec<u64> = events
            .iter()
            .map(|e| e["sequence_number"].as_u64().unwrap())
            .collect();
        assert_eq!(numbers, (0..10).collect::<Vec<u64>>());
        assert_eq!(response["output"][0]["content"][0]["text"], "Hello");
    }

    /// Interleaved argument deltas of two calls (as some providers send them) reach their own
    /// items, none dropped.
    #[test]
    fn interleaved_tool_calls_keep_every_delta() {
        let mut builder = EventBuilder::new("resp_1".into(), "m".into(), 1, Echo::default());
        let mut events = builder.start();
        events.extend(builder.push(&chunk(json!({"tool_calls": [
            {"index": 0, "id": "call_a", "type": "function", "function": {"name": "a", "arguments": ""}},
            {"index": 1, "id": "call_b", "type": "function", "function": {"name": "b", "arguments": ""}}]}), None)));
        for (index, piece) in [(0, "{\"x\""), (1, "{\"y\""), (0, ":1}"), (1, ":2}")] {
            events.extend(builder.push(&chunk(
                json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                None,
            )));
        }
        events.extend(builder.push(&chunk(json!({}), Some("tool_calls"))));
        let (tail, response) = builder.finish();
        events.extend(tail);
        let deltas = events
            .iter()
            .filter(|e| e["type"] == "response.function_call_arguments.delta")
            .count();
        assert_eq!(deltas, 4);
        assert_eq!(response["output"][0]["arguments"], "{\"x\":1}");
        assert_eq!(response["output"][1]["arguments"], "{\"y\":2}");
        assert_eq!(response["output"][1]["call_id"], "call_b");
    }

    #[test]
    fn reasoning_then_text_closes_reasoning_first() {
        let mut builder = EventBuilder::new("resp_1".into(), "m".into(), 1, Echo::default());
        builder.start();
        let mut events = builder.push(&chunk(json!({"reasoning_content": "think"}), None));
        events.extend(builder.push(&chunk(
            json!({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "sig"}]}),
            None,
        )));
        events.extend(builder.push(&chunk(json!({"content": "answer"}), Some("length"))));
        let (tail, response) = builder.finish();
        events.extend(tail);
        let first_done = events
            .iter()
            .position(|e| e["type"] == "response.output_item.done")
            .unwrap();
        let text_added = events
            .iter()
            .position(|e| e["type"] == "response.content_part.added")
            .unwrap();
        assert!(first_done < text_added);
        assert_eq!(response["status"], "incomplete");
        assert_eq!(response["output"][0]["encrypted_content"], "sig");
        assert_eq!(events.last().unwrap()["type"], "response.incomplete");
    }
}
