//! One Responses API call, as both OpenAI's own body and the same request bridged to chat;
//! renders chat answers (whole or streamed) as Responses objects and events, and keeps the
//! conversation for `previous_response_id`. The SDK and the proxy both use it.

use std::collections::VecDeque;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Map, Value, json};

use llmrelay_core::types::{ChatChunk, ChatRequest, ChatResponse};
use llmrelay_core::{Error, Result};

use super::request::{self, Echo};
use super::{recall, remember, response, stream};
use crate::engine::request::parse_chat_request;
use crate::options::{self, CallOptions};
use crate::stream::ChunkStream;

/// A Responses request, parsed once.
#[derive(Debug, Clone)]
pub struct ResponsesCall {
    /// The body for a provider with a native `/responses` (LiteLLM's options removed).
    pub native_body: Map<String, Value>,
    /// The request bridged to chat, the stored history of `previous_response_id` first.
    pub chat: ChatRequest,
    pub echo: Echo,
    /// The conversation sent (history + this request's items), for the store.
    pub conversation: Vec<Value>,
    /// A `previous_response_id` this process does not have: a provider with its own
    /// Responses API may know it; bridging through chat cannot.
    pub unknown_previous: Option<String>,
}

impl ResponsesCall {
    /// Parse keyword arguments or a JSON body.
    ///
    /// # Errors
    /// A missing `model` or `input`, malformed items or tools, or an unknown
    /// `previous_response_id` (400, as OpenAI answers).
    pub fn parse(params: Map<String, Value>) -> Result<(Self, CallOptions)> {
        match params.get("model") {
            Some(Value::String(model)) if !model.is_empty() => {}
            _ => return Err(Error::bad_request("model is required").with_param("model")),
        }
        if params.get("input").is_none_or(Value::is_null) {
            return Err(Error::bad_request("input is required").with_param("input"));
        }
        let (native_body, options) = options::split(params.clone())?;
        let request::Bridged {
            mut chat,
            new_messages,
            echo,
        } = request::bridge(params)?;
        let mut unknown_previous = None;
        let mut conversation = match &echo.previous_response_id {
            Some(previous) => match recall(previous) {
                Some(history) => history.as_ref().clone(),
                None => {
                    unknown_previous = Some(previous.clone());
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        conversation.extend(new_messages);
        chat.insert("messages".to_owned(), Value::Array(conversation.clone()));
        if chat.get("stream").and_then(Value::as_bool) == Some(true) {
            // The final `response.completed` carries usage: ask the upstream for it.
            if let Value::Object(stream_options) =
                chat.entry("stream_options").or_insert_with(|| json!({}))
            {
                stream_options.insert("include_usage".to_owned(), Value::Bool(true));
            }
        }
        let (chat_body, _) = options::split(chat)?;
        let chat = parse_chat_request(chat_body)?;
        Ok((
            Self {
                native_body,
                chat,
                echo,
                conversation,
                unknown_previous,
            },
            options,
        ))
    }

    /// Bridging through chat needs the stored conversation of `previous_response_id`.
    ///
    /// # Errors
    /// 400 (as OpenAI answers) when this process does not have it.
    pub fn check_bridgeable(&self) -> Result<()> {
        match &self.unknown_previous {
            Some(previous) => Err(Error::bad_request(format!(
                "Previous response with id '{previous}' not found."
            ))
            .with_param("previous_response_id")),
            None => Ok(()),
        }
    }

    /// Name another model (fallback group, deployment model).
    pub fn set_model(&mut self, model: &str) {
        self.native_body
            .insert("model".to_owned(), Value::String(model.to_owned()));
        model.clone_into(&mut self.chat.model);
    }

    /// Whether OpenAI's own body asks for a stream.
    #[must_use]
    pub fn stream(&self) -> bool {
        self.chat.stream
    }

    /// A chat answer as a Responses `response` object (remembered for the next turn).
    #[must_use]
    pub fn render_whole(&self, chat: &ChatResponse, model: &str) -> Value {
        let id = response::new_id("resp");
        let object = response::from_chat(chat, &id, model, &self.echo);
        if self.echo.store {
            store(&id, self.conversation.clone(), &object["output"]);
        }
        object
    }

    /// An event builder for a streamed answer, and what the end of the stream stores.
    #[must_use]
    pub fn stream_renderer(&self, model: &str) -> StreamRenderer {
        let id = response::new_id("resp");
        let builder = stream::EventBuilder::new(
            id.clone(),
            model.to_owned(),
            llmrelay_core::clock::now_unix(),
            self.echo.clone(),
        );
        StreamRenderer {
            id,
            builder,
            started: false,
            store: self.echo.store.then(|| self.conversation.clone()),
        }
    }

    /// A streamed chat answer as Responses events.
    #[must_use]
    pub fn render_stream(
        &self,
        chunks: ChunkStream<ChatChunk>,
        model: &str,
    ) -> BoxStream<'static, Result<Value>> {
        struct State {
            chunks: ChunkStream<ChatChunk>,
            renderer: StreamRenderer,
            pending: VecDeque<Value>,
            done: bool,
        }
        let state = State {
            chunks,
            renderer: self.stream_renderer(model),
            pending: VecDeque::new(),
            done: false,
        };
        futures::stream::unfold(state, |mut state| async move {
            loop {
                if let Some(event) = state.pending.pop_front() {
                    return Some((Ok(event), state));
                }
                if state.done {
                    return None;
                }
                match state.chunks.next().await {
                    Some(Ok(chunk)) => state.pending.extend(state.renderer.chunk(&chunk)),
                    Some(Err(error)) => {
                        state.done = true;
                        return Some((Err(error), state));
                    }
                    None => {
                        state.done = true;
                        state.pending.extend(state.renderer.finish());
                    }
                }
            }
        })
        .boxed()
    }
}

/// Turns chat chunks into Responses events, storing the conversation at the end.
pub struct StreamRenderer {
    id: String,
    builder: stream::EventBuilder,
    started: bool,
    /// The conversation to remember when the stream completes (`store: true`).
    store: Option<Vec<Value>>,
}

/// Remember a finished response's conversation (its answer appended).
fn store(id: &str, mut conversation: Vec<Value>, output: &Value) {
    if let Some(items) = output.as_array() {
        conversation.push(response::assistant_message(items));
    }
    remember(id, conversation);
}

impl StreamRenderer {
    fn start(&mut self) -> Vec<Value> {
        if self.started {
            Vec::new()
        } else {
            self.started = true;
            self.builder.start()
        }
    }

    /// Events for one chunk (the opening events before the first).
    pub fn chunk(&mut self, chunk: &ChatChunk) -> Vec<Value> {
        let mut events = self.start();
        events.extend(self.builder.push(chunk));
        events
    }

    /// The closing events; stores the conversation.
    pub fn finish(&mut self) -> Vec<Value> {
        let mut events = self.start();
        let (tail, response) = self.builder.finish();
        if let Some(conversation) = self.store.take() {
            store(&self.id, conversation, &response["output"]);
        }
        events.extend(tail);
        events
    }

    /// The events of a failure mid-stream.
    pub fn fail(&mut self, code: &str, message: &str) -> Vec<Value> {
        let mut events = self.start();
        events.extend(self.builder.fail(code, message));
        events
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
        let (first, _) = ResponsesCall::parse(map(
            json!({"model": "m", "input": "hi", "instructions": "brief"}),
        ))
        .unwrap();
        assert_eq!(
            first.chat.messages[0].role,
            llmrelay_core::types::Role::System
        );
        let chat: ChatResponse = serde_json::from_value(json!({
            "id": "c", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}]
        }))
        .unwrap();
        let object = first.render_whole(&chat, "m");
        assert_eq!(object["output"][0]["content"][0]["text"], "hello");
        let id = object["id"].as_str().unwrap();
        let (second, _) = ResponsesCall::parse(map(
            json!({"model": "m", "input": "again", "previous_response_id": id}),
        ))
        .unwrap();
        let roles: Vec<String> = second
            .chat
            .messages
            .iter()
            .map(|m| {
                serde_json::to_value(m.role)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        let (unknown, _) = ResponsesCall::parse(map(
            json!({"model": "m", "input": "x", "previous_response_id": "resp_nope"}),
        ))
        .unwrap();
        assert_eq!(unknown.check_bridgeable().unwrap_err().status_code(), 400);
    }
}
