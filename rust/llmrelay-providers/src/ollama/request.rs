//! Canonical requests → Ollama's native bodies (`/api/chat`, `/api/generate`, `/api/embed`).
//!
//! Wire format: <https://github.com/ollama/ollama/blob/main/docs/api.md>. OpenAI sampling
//! parameters go into `options` under Ollama's names (`max_tokens` → `num_predict`,
//! `frequency_penalty` → `repeat_penalty`, as LiteLLM maps them); `response_format` becomes
//! `format` (`"json"` or the JSON schema); `keep_alive`, `think` and Modelfile options given
//! with the call pass through.

use serde_json::{Map, Value, json};

use llmrelay_core::types::{
    ChatMessage, ChatRequest, EmbeddingRequest, MessageContent, Role, TextCompletionRequest,
};
use llmrelay_core::{Error, Result};

use crate::params;

/// LiteLLM's supported OpenAI parameters for `ollama_chat/`.
pub const OLLAMA_CHAT_PARAMS: &[&str] = &[
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "top_p",
    "temperature",
    "seed",
    "frequency_penalty",
    "stop",
    "tools",
    "tool_choice",
    "functions",
    "response_format",
    "reasoning_effort",
];

/// LiteLLM's supported OpenAI parameters for `ollama/` (the generate API: no tools).
pub const OLLAMA_GENERATE_PARAMS: &[&str] = &[
    "max_tokens",
    "stream",
    "top_p",
    "temperature",
    "seed",
    "frequency_penalty",
    "stop",
    "response_format",
    "max_completion_tokens",
    "reasoning_effort",
];

/// Modelfile parameters accepted as call keywords and sent in `options`
/// (<https://github.com/ollama/ollama/blob/main/docs/modelfile.md#valid-parameters-and-values>).
const MODELFILE_OPTIONS: &[&str] = &[
    "mirostat",
    "mirostat_eta",
    "mirostat_tau",
    "num_ctx",
    "num_gpu",
    "num_predict",
    "num_thread",
    "repeat_last_n",
    "repeat_penalty",
    "min_p",
    "tfs_z",
    "top_k",
    "typical_p",
];

/// Top-level fields of Ollama's bodies that a call may set directly.
const PASS_THROUGH: &[&str] = &["keep_alive", "think", "raw", "suffix", "template", "system"];

/// The `options`, `format`, `think` and pass-through fields shared by chat and generate.
fn common(
    body: &Map<String, Value>,
    model: &str,
    out: &mut Map<String, Value>,
) -> Map<String, Value> {
    let mut options = Map::new();
    for (name, value) in body {
        match name.as_str() {
            "max_tokens" | "max_completion_tokens" => {
                options.insert("num_predict".to_owned(), value.clone());
            }
            "temperature" | "top_p" | "seed" | "stop" => {
                options.insert(name.clone(), value.clone());
            }
            "frequency_penalty" => {
                options.insert("repeat_penalty".to_owned(), value.clone());
            }
            "response_format" => match value.get("type").and_then(Value::as_str) {
                Some("json_object") => {
                    out.insert("format".to_owned(), Value::from("json"));
                }
                Some("json_schema") => {
                    if let Some(schema) = value.get("json_schema").and_then(|s| s.get("schema")) {
                        out.insert("format".to_owned(), schema.clone());
                    }
                }
                _ => {}
            },
            "reasoning_effort" => {
                let think = if model.starts_with("gpt-oss") {
                    value.clone()
                } else {
                    Value::Bool(matches!(value.as_str(), Some("low" | "medium" | "high")))
                };
                out.insert("think".to_owned(), think);
            }
            "options" => {
                if let Value::Object(given) = value {
                    options.extend(given.clone());
                }
            }
            other if MODELFILE_OPTIONS.contains(&other) => {
                options.insert(name.clone(), value.clone());
            }
            other if PASS_THROUGH.contains(&other) => {
                out.insert(name.clone(), value.clone());
            }
            _ => {}
        }
    }
    options
}

/// The serialized request with unsupported OpenAI parameters rejected or dropped.
fn checked(
    request: &impl serde::Serialize,
    supported: &[&str],
    provider: &str,
    model: &str,
    drop_params: bool,
) -> Result<Map<String, Value>> {
    let mut body = match serde_json::to_value(request)? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    params::enforce(&mut body, supported, provider, model, drop_params)?;
    Ok(body)
}

/// An image part's base64 payload: Ollama takes bare base64, not data URLs or links.
fn image_base64(url: &str) -> Result<String> {
    if let Some(rest) = url.strip_prefix("data:") {
        return rest
            .split_once(";base64,")
            .map(|(_, data)| data.to_owned())
            .ok_or_else(|| {
                Error::bad_request("Ollama images must be base64 data URLs").with_param("messages")
            });
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        return Err(Error::bad_request(
            "Ollama takes images as base64: links are downloaded by the engine before translation",
        )
        .with_param("messages"));
    }
    // Already bare base64.
    Ok(url.to_owned())
}

/// Text and images of a message's content.
fn text_and_images(message: &ChatMessage) -> Result<(String, Vec<String>)> {
    match &message.content {
        None => Ok((String::new(), Vec::new())),
        Some(MessageContent::Text(text)) => Ok((text.clone(), Vec::new())),
        Some(MessageContent::Parts(parts)) => {
            let mut text = String::new();
            let mut images = Vec::new();
            for part in parts {
                match part.kind.as_str() {
                    "text" => text.push_str(part.text.as_deref().unwrap_or_default()),
                    "image_url" => {
                        if let Some(image) = &part.image_url {
                            images.push(image_base64(&image.url)?);
                        }
                    }
                    _ => {}
                }
            }
            Ok((text, images))
        }
    }
}

fn role_name(role: &Role) -> String {
    role.as_str().to_owned()
}

/// One OpenAI message as an Ollama chat message (tool-call arguments as objects).
fn chat_message(message: &ChatMessage) -> Result<Value> {
    let (content, images) = text_and_images(message)?;
    let mut out = Map::new();
    let role = match role_name(&message.role).as_str() {
        "developer" => "system".to_owned(),
        "function" => "tool".to_owned(),
        other => other.to_owned(),
    };
    out.insert("role".to_owned(), Value::from(role));
    out.insert("content".to_owned(), Value::from(content));
    if !images.is_empty() {
        out.insert("images".to_owned(), json!(images));
    }
    if let Some(reasoning) = &message.reasoning_content {
        out.insert("thinking".to_owned(), Value::from(reasoning.clone()));
    }
    if let Some(calls) = &message.tool_calls {
        let calls: Vec<Value> = calls
            .iter()
            .map(|call| {
                let arguments: Value = serde_json::from_str(&call.function.arguments)
                    .unwrap_or_else(|_| Value::Object(Map::new()));
                json!({"function": {"name": call.function.name, "arguments": arguments}})
            })
            .collect();
        out.insert("tool_calls".to_owned(), Value::Array(calls));
    }
    if let Some(name) = &message.name {
        if out.get("role").and_then(Value::as_str) == Some("tool") {
            out.insert("tool_name".to_owned(), Value::from(name.clone()));
        }
    }
    Ok(Value::Object(out))
}

/// The `/api/chat` body (`ollama_chat/`).
///
/// # Errors
/// Unsupported parameters (without `drop_params`) or images given as links.
pub fn chat_body(request: &ChatRequest, drop_params: bool) -> Result<Vec<u8>> {
    let body = checked(
        request,
        OLLAMA_CHAT_PARAMS,
        "ollama_chat",
        &request.model,
        drop_params,
    )?;
    let mut out = Map::new();
    out.insert("model".to_owned(), Value::from(request.model.clone()));
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(chat_message)
        .collect::<Result<_>>()?;
    out.insert("messages".to_owned(), Value::Array(messages));
    let options = common(&body, &request.model, &mut out);
    out.insert("options".to_owned(), Value::Object(options));
    // Ollama streams unless told otherwise.
    out.insert("stream".to_owned(), Value::Bool(request.stream));
    // `tool_choice` is not sent: Ollama has no such field (LiteLLM drops it too).
    if let Some(tools) = body.get("tools").or_else(|| body.get("functions")) {
        out.insert("tools".to_owned(), tools.clone());
    }
    Ok(serde_json::to_vec(&out)?)
}

/// Messages as one prompt for the generate API, in LiteLLM's `ollama_pt` layout
/// (`### User:` / `### System:` / `### Assistant:` sections, consecutive roles merged).
fn generate_prompt(messages: &[ChatMessage]) -> Result<(String, Vec<String>)> {
    let mut prompt = String::new();
    let mut images = Vec::new();
    let mut index = 0;
    let role_at = |i: usize| role_name(&messages[i].role);
    while index < messages.len() {
        let start = index;
        let mut user = String::new();
        while index < messages.len()
            && matches!(role_at(index).as_str(), "user" | "tool" | "function")
        {
            let (text, more) = text_and_images(&messages[index])?;
            user.push_str(&text);
            images.extend(more);
            index += 1;
        }
        if !user.is_empty() {
            prompt.push_str(&format!("### User:\n{user}\n\n"));
        }
        let mut system = String::new();
        while index < messages.len() && matches!(role_at(index).as_str(), "system" | "developer") {
            system.push_str(&text_and_images(&messages[index])?.0);
            index += 1;
        }
        if !system.is_empty() {
            prompt.push_str(&format!("### System:\n{system}\n\n"));
        }
        let mut assistant = String::new();
        while index < messages.len() && role_at(index) == "assistant" {
            assistant.push_str(&text_and_images(&messages[index])?.0);
            if let Some(calls) = &messages[index].tool_calls {
                let calls: Vec<Value> = calls
                    .iter()
                    .map(|call| {
                        let arguments: Value =
                            serde_json::from_str(&call.function.arguments).unwrap_or(Value::Null);
                        json!({"id": call.id, "type": "function",
                               "function": {"name": call.function.name, "arguments": arguments}})
                    })
                    .collect();
                let rendered = serde_json::to_string_pretty(&calls)?;
                assistant.push_str(&format!("Tool Calls: {rendered}"));
            }
            index += 1;
        }
        if !assistant.is_empty() {
            prompt.push_str(&format!("### Assistant:\n{assistant}\n\n"));
        }
        if index == start {
            return Err(Error::bad_request(format!(
                "Invalid message for Ollama's generate API: role {}",
                role_at(index)
            ))
            .with_param("messages"));
        }
    }
    Ok((prompt, images))
}

/// The `/api/generate` body for a chat call (`ollama/`).
///
/// # Errors
/// Unsupported parameters (without `drop_params`) or images given as links.
pub fn generate_body(request: &ChatRequest, drop_params: bool) -> Result<Vec<u8>> {
    let body = checked(
        request,
        OLLAMA_GENERATE_PARAMS,
        "ollama",
        &request.model,
        drop_params,
    )?;
    let (prompt, images) = generate_prompt(&request.messages)?;
    let mut out = Map::new();
    out.insert("model".to_owned(), Value::from(request.model.clone()));
    out.insert("prompt".to_owned(), Value::from(prompt));
    let options = common(&body, &request.model, &mut out);
    out.insert("options".to_owned(), Value::Object(options));
    out.insert("stream".to_owned(), Value::Bool(request.stream));
    if !images.is_empty() {
        out.insert("images".to_owned(), json!(images));
    }
    Ok(serde_json::to_vec(&out)?)
}

/// The `/api/generate` body for `text_completion` (the prompt is sent as given).
///
/// # Errors
/// A prompt that is not a string or a list of strings.
pub fn completion_body(request: &TextCompletionRequest) -> Result<Vec<u8>> {
    let prompt = match &request.prompt {
        Value::String(text) => text.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n"),
        _ => {
            return Err(Error::bad_request(
                "Ollama's generate API takes a text prompt (a string or a list of strings)",
            )
            .with_param("prompt"));
        }
    };
    let body = match serde_json::to_value(request)? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let mut out = Map::new();
    out.insert("model".to_owned(), Value::from(request.model.clone()));
    out.insert("prompt".to_owned(), Value::from(prompt));
    let options = common(&body, &request.model, &mut out);
    out.insert("options".to_owned(), Value::Object(options));
    out.insert("stream".to_owned(), Value::Bool(request.stream));
    Ok(serde_json::to_vec(&out)?)
}

/// The `/api/embed` body: `input` (a string or strings), `dimensions` when given, options.
///
/// # Errors
/// Token-id input, which Ollama does not take.
pub fn embed_body(request: &EmbeddingRequest) -> Result<Vec<u8>> {
    let input_ok = match &request.input {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    };
    if !input_ok {
        return Err(
            Error::bad_request("Ollama embeddings take a string or a list of strings")
                .with_param("input"),
        );
    }
    let mut out = Map::new();
    out.insert("model".to_owned(), Value::from(request.model.clone()));
    out.insert("input".to_owned(), request.input.clone());
    if let Some(dimensions) = request.dimensions {
        out.insert("dimensions".to_owned(), Value::from(dimensions));
    }
    for name in ["keep_alive", "truncate", "options"] {
        if let Some(value) = request.extra.get(name) {
            out.insert(name.to_owned(), value.clone());
        }
    }
    Ok(serde_json::to_vec(&out)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    fn sent(bytes: Vec<u8>) -> Value {
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn chat_options_format_tools_and_images() {
        let request = chat(json!({
            "model": "llama3.2",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "22C"}
            ],
            "max_tokens": 50, "temperature": 0.2, "top_p": 0.9, "seed": 7, "stop": ["END"],
            "frequency_penalty": 1.1, "top_k": 20, "keep_alive": "5m", "stream": true,
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            "tool_choice": "auto"
        }));
        let body = sent(chat_body(&request, false).unwrap());
        assert_eq!(
            body["options"],
            json!({"num_predict": 50, "temperature": 0.2, "top_p": 0.9, "seed": 7,
                   "stop": ["END"], "repeat_penalty": 1.1, "top_k": 20})
        );
        assert_eq!(body["format"], json!({"type": "object"}));
        assert_eq!(body["keep_alive"], "5m");
        assert_eq!(body["stream"], true);
        assert!(body.get("tool_choice").is_none());
        assert_eq!(body["tools"][0]["function"]["name"], "get_weather");
        assert_eq!(body["messages"][1]["images"], json!(["iVBORw0KGgo="]));
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["arguments"],
            json!({"city": "Paris"})
        );
        assert_eq!(body["messages"][3]["role"], "tool");
    }

    #[test]
    fn json_mode_and_unsupported() {
        let request = chat(
            json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}],
                                  "response_format": {"type": "json_object"}}),
        );
        let body = sent(chat_body(&request, false).unwrap());
        assert_eq!(body["format"], "json");
        assert_eq!(body["stream"], false);
        let request = chat(
            json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}],
                                  "presence_penalty": 0.5}),
        );
        let error = chat_body(&request, false).unwrap_err();
        assert!(
            error
                .message()
                .starts_with("ollama_chat does not support parameters: ['presence_penalty']")
        );
        assert!(chat_body(&request, true).is_ok());
    }

    #[test]
    fn image_links_are_refused() {
        let request = chat(
            json!({"model": "llava", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}),
        );
        assert!(chat_body(&request, false).is_err());
    }

    #[test]
    fn generate_prompt_layout() {
        let request = chat(json!({"model": "llama3", "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "bye"}
        ], "max_tokens": 5}));
        let body = sent(generate_body(&request, false).unwrap());
        assert_eq!(
            body["prompt"],
            "### System:\nbe brief\n\n### User:\nhi\n\n### Assistant:\nhello\n\n### User:\nbye\n\n"
        );
        assert_eq!(body["options"]["num_predict"], 5);
        let request = chat(
            json!({"model": "llama3", "messages": [{"role": "user", "content": "hi"}],
                                  "tools": [{"type": "function", "function": {"name": "f"}}]}),
        );
        assert!(generate_body(&request, false).is_err());
    }
}
