//! `/v1/responses` over any provider: the engine's Responses bridge
//! (`llmrelay_providers::responses`: input items → chat messages, chat answers → output items,
//! the streaming event sequence) around a chat call routed by the proxy's dispatcher, with
//! `previous_response_id` served from the same conversation store the SDK uses.
//!
//! Shapes follow OpenAI's API reference "Responses" (create, the response object, streaming
//! events) and openai-python `types/responses/*`.

use serde_json::{Map, Value, json};

use llmrelay_core::Error;
use llmrelay_core::types::{ChatChunk, ChatResponse};
use llmrelay_providers::engine::now_unix;
use llmrelay_providers::responses::request::Echo;
use llmrelay_providers::responses::{recall, remember, request, response, stream};

/// A Responses request bridged to a chat call.
#[derive(Debug, Clone)]
pub struct Bridged {
    /// The chat call's parameters (`model` = the public model name, `messages` with history).
    pub chat: Map<String, Value>,
    pub echo: Echo,
    /// The conversation sent (stored history + this request's items), for the store.
    pub conversation: Vec<Value>,
}

/// A Responses request → chat parameters.
///
/// # Errors
/// Malformed items or tools, or an unknown `previous_response_id` (400, as OpenAI answers).
pub fn request_to_chat(body: &Map<String, Value>) -> Result<Bridged, Error> {
    if body.get("input").is_none_or(Value::is_null) {
        return Err(Error::bad_request("input is required").with_param("input"));
    }
    let request::Bridged {
        mut chat,
        new_messages,
        echo,
    } = request::bridge(body.clone())?;
    let mut conversation = match &echo.previous_response_id {
        Some(previous) => recall(previous)
            .ok_or_else(|| {
                Error::bad_request(format!("Previous response with id '{previous}' not found."))
                    .with_param("previous_response_id")
            })?
            .as_ref()
            .clone(),
        None => Vec::new(),
    };
    conversation.extend(new_messages);
    chat.insert("messages".to_owned(), Value::Array(conversation.clone()));
    if chat.get("stream").and_then(Value::as_bool) == Some(true) {
        // The final `response.completed` carries usage: ask the upstream for it.
        if let Value::Object(options) = chat.entry("stream_options").or_insert_with(|| json!({})) {
            options.insert("include_usage".to_owned(), Value::Bool(true));
        }
    }
    Ok(Bridged {
        chat,
        echo,
        conversation,
    })
}

/// Store a finished response's conversation for `previous_response_id`.
fn store(id: &str, bridged_conversation: Vec<Value>, output: &Value, echo: &Echo) {
    if !echo.store {
        return;
    }
    let mut conversation = bridged_conversation;
    if let Some(items) = output.as_array() {
        conversation.push(response::assistant_message(items));
    }
    remember(id, conversation);
}

/// A chat response → a Responses API `response` object (and remembered).
#[must_use]
pub fn chat_to_response(chat: &ChatResponse, model: &str, bridged: &Bridged) -> Value {
    let id = response::new_id("resp");
    let object = response::from_chat(chat, &id, model, &bridged.echo);
    store(
        &id,
        bridged.conversation.clone(),
        &object["output"],
        &bridged.echo,
    );
    object
}

/// Writes chat chunks as Responses SSE events (`event: <type>` + `data:`).
pub struct ResponseStreamEncoder {
    id: String,
    builder: stream::EventBuilder,
    started: bool,
    conversation: Option<Vec<Value>>,
    echo_store: Echo,
}

fn write(events: Vec<Value>, out: &mut Vec<u8>) {
    for event in events {
        let kind = event["type"].as_str().unwrap_or("message").to_owned();
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        // Serializing a `Value` into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &event);
        out.extend_from_slice(b"\n\n");
    }
}

impl ResponseStreamEncoder {
    #[must_use]
    pub fn new(model: &str, bridged: Bridged) -> Self {
        let id = response::new_id("resp");
        let echo = bridged.echo.clone();
        let builder =
            stream::EventBuilder::new(id.clone(), model.to_owned(), now_unix(), echo.clone());
        Self {
            id,
            builder,
            started: false,
            conversation: Some(bridged.conversation),
            echo_store: echo,
        }
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            write(self.builder.start(), out);
        }
    }

    pub fn chunk(&mut self, chunk: &ChatChunk, out: &mut Vec<u8>) {
        self.start(out);
        write(self.builder.push(chunk), out);
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.start(out);
        let (events, response) = self.builder.finish();
        if let Some(conversation) = self.conversation.take() {
            store(
                &self.id,
                conversation,
                &response["output"],
                &self.echo_store,
            );
        }
        write(events, out);
    }

    pub fn error(&mut self, error: &Error, out: &mut Vec<u8>) {
        self.start(out);
        write(
            self.builder.fail(error.kind().as_str(), error.message()),
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn items_become_messages_and_history_is_recalled() {
        let first = request_to_chat(&map(
            json!({"model": "m", "input": "hi", "instructions": "brief"}),
        ))
        .unwrap();
        assert_eq!(first.chat["messages"][0]["role"], "system");
        let chat: ChatResponse = serde_json::from_value(json!({
            "id": "c", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}]
        }))
        .unwrap();
        let object = chat_to_response(&chat, "m", &first);
        assert_eq!(object["output"][0]["content"][0]["text"], "hello");
        let id = object["id"].as_str().unwrap();
        let second = request_to_chat(&map(
            json!({"model": "m", "input": "again", "previous_response_id": id}),
        ))
        .unwrap();
        let roles: Vec<&str> = second.chat["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        let error = request_to_chat(&map(
            json!({"model": "m", "input": "x", "previous_response_id": "resp_nope"}),
        ))
        .unwrap_err();
        assert_eq!(error.status_code(), 400);
    }

    #[test]
    fn stream_events_are_named_sse() {
        let bridged =
            request_to_chat(&map(json!({"model": "m", "input": "hi", "stream": true}))).unwrap();
        assert_eq!(bridged.chat["stream_options"]["include_usage"], true);
        let mut encoder = ResponseStreamEncoder::new("m", bridged);
        let chunk: ChatChunk = serde_json::from_value(json!({
            "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": "hey"}, "finish_reason": "stop"}]
        }))
        .unwrap();
        let mut out = Vec::new();
        encoder.chunk(&chunk, &mut out);
        encoder.finish(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("event: response.created\ndata: "));
        assert!(text.contains("event: response.output_text.delta\n"));
        assert!(text.trim_end().ends_with('}'));
        assert!(text.contains("event: response.completed\n"));
    }
}
