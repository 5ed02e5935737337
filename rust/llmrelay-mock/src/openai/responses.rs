//! `POST /v1/responses`: the Responses API object and its streaming events.
//!
//! Follows the API reference "Responses" (create, "The response object") and "Streaming
//! events" (`response.created`, `response.in_progress`, `response.output_item.added`,
//! `response.content_part.added`, `response.output_text.delta`, `response.output_text.done`,
//! `response.content_part.done`, `response.function_call_arguments.delta` / `.done`,
//! `response.output_item.done`, `response.completed`), and openai-python
//! `types/responses/response.py`, `response_stream_event.py`.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use super::error::{invalid_type, missing};
use super::request::{
    estimate_tokens, mock_object, request_object, required_model, shape_text, split_even,
};
use crate::exchange::{Exchange, new_id};
use crate::faults::ErrorSpec;
use crate::sse::{SseEvents, SseWriter};

enum Answer {
    Text(String, &'static str),
    Calls(Vec<(String, String)>),
}

/// The request's decided answer, usage and echo.
pub(super) struct ResponsesPlan {
    model: String,
    answer: Answer,
    input_tokens: u64,
    output_tokens: u64,
    pub(super) stream: bool,
    echo: Map<String, Value>,
}

fn input_characters(input: &Value) -> usize {
    match input {
        Value::String(text) => text.chars().count(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item.get("content") {
                Some(Value::String(text)) => text.chars().count(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .map(|t| t.chars().count())
                    .sum(),
                _ => item
                    .get("output")
                    .and_then(Value::as_str)
                    .map_or(0, |t| t.chars().count()),
            })
            .sum(),
        _ => 0,
    }
}

/// Whether the model should call a tool now: the last input item is the user's.
fn user_turn(input: &Value) -> bool {
    match input {
        Value::String(_) => true,
        Value::Array(items) => items.last().is_some_and(|item| {
            item.get("role").and_then(Value::as_str) == Some("user")
                && item
                    .get("type")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t == "message")
        }),
        _ => false,
    }
}

fn planned_calls(request: &Map<String, Value>, input: &Value) -> Option<Vec<(String, String)>> {
    let tools: Vec<(&str, Option<&Value>)> = request
        .get("tools")?
        .as_array()?
        .iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
        .filter_map(|t| Some((t.get("name")?.as_str()?, t.get("parameters"))))
        .collect();
    if tools.is_empty() || !user_turn(input) {
        return None;
    }
    let choice = request.get("tool_choice");
    if choice.and_then(Value::as_str) == Some("none") {
        return None;
    }
    if let Some(name) = choice
        .filter(|c| c.get("type").and_then(Value::as_str) == Some("function"))
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
    {
        let parameters = tools.iter().find(|(n, _)| *n == name).and_then(|(_, p)| *p);
        return Some(vec![(name.to_owned(), mock_object(parameters))]);
    }
    let parallel = request.get("parallel_tool_calls").and_then(Value::as_bool) != Some(false);
    let count = if parallel && tools.len() >= 2 { 2 } else { 1 };
    Some(
        tools
            .iter()
            .take(count)
            .map(|(name, parameters)| ((*name).to_owned(), mock_object(*parameters)))
            .collect(),
    )
}

fn json_text(request: &Map<String, Value>) -> Option<String> {
    let format = request.get("text")?.get("format")?;
    match format.get("type")?.as_str()? {
        "json_object" => Some(r#"{"mock": true}"#.to_owned()),
        "json_schema" => Some(mock_object(format.get("schema"))),
        _ => None,
    }
}

/// Echoed request fields, with the defaults OpenAI reports.
fn echo(request: &Map<String, Value>) -> Map<String, Value> {
    let mut echo = Map::new();
    let defaults: [(&str, Value); 13] = [
        ("instructions", Value::Null),
        ("max_output_tokens", Value::Null),
        ("parallel_tool_calls", json!(true)),
        ("previous_response_id", Value::Null),
        ("reasoning", json!({"effort": null, "summary": null})),
        ("store", json!(true)),
        ("temperature", json!(1.0)),
        ("text", json!({"format": {"type": "text"}})),
        ("tool_choice", json!("auto")),
        ("tools", json!([])),
        ("top_p", json!(1.0)),
        ("truncation", json!("disabled")),
        ("metadata", json!({})),
    ];
    for (key, default) in defaults {
        let value = request
            .get(key)
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or(default);
        echo.insert(key.to_owned(), value);
    }
    echo.insert(
        "user".to_owned(),
        request.get("user").cloned().unwrap_or(Value::Null),
    );
    echo
}

impl ResponsesPlan {
    pub(super) fn new(
        body: Option<&Value>,
        exchange: &Exchange,
    ) -> Result<ResponsesPlan, ErrorSpec> {
        let request = request_object(body)?;
        let model = required_model(request)?.to_owned();
        let input = match request.get("input") {
            None | Some(Value::Null) => return Err(missing("input")),
            Some(input @ (Value::String(_) | Value::Array(_))) => input,
            Some(other) => return Err(invalid_type("input", "a string or an array", other)),
        };
        let input_tokens = exchange
            .prompt_tokens()
            .unwrap_or_else(|| estimate_tokens(input_characters(input)).max(1));
        let (answer, output_tokens) = match planned_calls(request, input) {
            Some(calls) => {
                let characters = calls.iter().map(|(_, a)| a.chars().count()).sum();
                let tokens = exchange
                    .completion_tokens()
                    .unwrap_or_else(|| estimate_tokens(characters));
                (Answer::Calls(calls), tokens)
            }
            None => {
                let content = if exchange.has_content_override() {
                    Cow::Borrowed(exchange.content())
                } else if let Some(json) = json_text(request) {
                    Cow::Owned(json)
                } else {
                    Cow::Borrowed(exchange.content())
                };
                let limit = request.get("max_output_tokens").and_then(Value::as_u64);
                let (text, finish, tokens) =
                    shape_text(content, &[], limit, exchange.completion_tokens());
                (Answer::Text(text.into_owned(), finish), tokens)
            }
        };
        Ok(ResponsesPlan {
            model,
            answer,
            input_tokens,
            output_tokens,
            stream: request.get("stream").and_then(Value::as_bool) == Some(true),
            echo: echo(request),
        })
    }

    fn usage(&self) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": self.input_tokens + self.output_tokens,
        })
    }

    fn items(&self, ids: &[String]) -> Vec<Value> {
        match &self.answer {
            Answer::Text(text, _) => vec![json!({
                "type": "message", "id": ids[0], "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            })],
            Answer::Calls(calls) => calls
                .iter()
                .zip(ids)
                .map(|((name, arguments), id)| {
                    json!({"type": "function_call", "id": id, "call_id": id.replacen("fc_", "call_", 1),
                           "name": name, "arguments": arguments, "status": "completed"})
                })
                .collect(),
        }
    }

    fn object(
        &self,
        id: &str,
        created: u64,
        status: &str,
        output: Vec<Value>,
        usage: Value,
    ) -> Value {
        let incomplete = match (&self.answer, status) {
            (Answer::Text(_, "length"), "incomplete") => json!({"reason": "max_output_tokens"}),
            _ => Value::Null,
        };
        let mut object = json!({
            "id": id, "object": "response", "created_at": created, "status": status,
            "background": false, "error": null, "incomplete_details": incomplete,
            "model": self.model, "output": output, "usage": usage, "service_tier": "default",
        });
        if let Value::Object(map) = &mut object {
            for (key, value) in &self.echo {
                map.insert(key.clone(), value.clone());
            }
        }
        object
    }

    fn final_status(&self) -> &'static str {
        match self.answer {
            Answer::Text(_, "length") => "incomplete",
            _ => "completed",
        }
    }

    fn ids(&self) -> Vec<String> {
        match &self.answer {
            Answer::Text(..) => vec![new_id("msg_")],
            Answer::Calls(calls) => calls.iter().map(|_| new_id("fc_")).collect(),
        }
    }
}

/// The whole response object.
pub(super) fn render_response(plan: &ResponsesPlan, id: &str, created: u64) -> Vec<u8> {
    let output = plan.items(&plan.ids());
    let object = plan.object(id, created, plan.final_status(), output, plan.usage());
    serde_json::to_vec(&object).unwrap_or_default()
}

/// The event stream: named SSE events (`event: <type>` + `data:`), no `[DONE]`.
pub(super) fn render_response_stream(
    plan: &ResponsesPlan,
    id: &str,
    created: u64,
    chunk_count: usize,
) -> SseEvents {
    let mut writer = SseWriter::with_capacity(4096);
    let mut sequence = 0_u64;
    let mut emit = |writer: &mut SseWriter, kind: &str, mut body: Value| {
        body["type"] = Value::String(kind.to_owned());
        body["sequence_number"] = json!(sequence);
        sequence += 1;
        writer.named_json(kind, &body);
    };
    let in_progress = plan.object(id, created, "in_progress", Vec::new(), Value::Null);
    emit(
        &mut writer,
        "response.created",
        json!({"response": in_progress}),
    );
    emit(
        &mut writer,
        "response.in_progress",
        json!({"response": in_progress}),
    );
    let ids = plan.ids();
    let items = plan.items(&ids);
    match &plan.answer {
        Answer::Text(text, _) => {
            let item_id = &ids[0];
            emit(
                &mut writer,
                "response.output_item.added",
                json!({"output_index": 0, "item":
                {"type": "message", "id": item_id, "status": "in_progress", "role": "assistant", "content": []}}),
            );
            let empty =
                json!({"type": "output_text", "text": "", "annotations": [], "logprobs": []});
            emit(
                &mut writer,
                "response.content_part.added",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": empty}),
            );
            for piece in split_even(text, chunk_count.max(1)) {
                emit(
                    &mut writer,
                    "response.output_text.delta",
                    json!({"item_id": item_id, "output_index": 0,
                     "content_index": 0, "delta": piece, "logprobs": []}),
                );
            }
            emit(
                &mut writer,
                "response.output_text.done",
                json!({"item_id": item_id, "output_index": 0,
                 "content_index": 0, "text": text, "logprobs": []}),
            );
            emit(
                &mut writer,
                "response.content_part.done",
                json!({"item_id": item_id, "output_index": 0,
                 "content_index": 0, "part": items[0]["content"][0]}),
            );
            emit(
                &mut writer,
                "response.output_item.done",
                json!({"output_index": 0, "item": items[0]}),
            );
        }
        Answer::Calls(calls) => {
            for (index, ((_, arguments), item)) in calls.iter().zip(&items).enumerate() {
                let mut added = item.clone();
                added["arguments"] = json!("");
                added["status"] = json!("in_progress");
                emit(
                    &mut writer,
                    "response.output_item.added",
                    json!({"output_index": index, "item": added}),
                );
                for piece in split_even(arguments, 3) {
                    emit(
                        &mut writer,
                        "response.function_call_arguments.delta",
                        json!({"item_id": item["id"], "output_index": index, "delta": piece}),
                    );
                }
                emit(
                    &mut writer,
                    "response.function_call_arguments.done",
                    json!({"item_id": item["id"], "output_index": index, "name": item["name"], "arguments": arguments}),
                );
                emit(
                    &mut writer,
                    "response.output_item.done",
                    json!({"output_index": index, "item": item}),
                );
            }
        }
    }
    let status = plan.final_status();
    let done = plan.object(id, created, status, items, plan.usage());
    writer.terminal();
    let kind = if status == "completed" {
        "response.completed"
    } else {
        "response.incomplete"
    };
    emit(&mut writer, kind, json!({"response": done}));
    writer.finish()
}
