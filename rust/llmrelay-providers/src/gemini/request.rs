//! OpenAI chat request → `generateContent` body (API reference "Generating content":
//! <https://ai.google.dev/api/generate-content#request-body>; Vertex
//! <https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.publishers.models/generateContent>),
//! mapped as LiteLLM's Gemini / Vertex Gemini config does.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use llmrelay_core::types::{ChatMessage, ChatRequest, ContentPart, MessageContent, Role, ToolCall};
use llmrelay_core::{Error, ErrorKind, Result};

use super::model;
use super::schema;

/// LiteLLM's separator between a tool call id and the thought signature it carries
/// (`call_<hex>__thought__<signature>`), so OpenAI clients that keep only ids round-trip it.
pub const THOUGHT_SIGNATURE_SEPARATOR: &str = "__thought__";

/// The `generateContent` body for a chat request.
///
/// # Errors
/// A tool result without a matching tool call, unparsable tool-call arguments, an unknown
/// `reasoning_effort`, or a malformed `tool_choice`.
pub fn generate_content_body(request: &ChatRequest) -> Result<Value> {
    let model = request.model.as_str();
    let mut body = Map::new();
    let (system, contents) = convert_messages(&request.messages, model)?;
    body.insert("contents".to_owned(), Value::Array(contents));
    if !system.is_empty() {
        body.insert("systemInstruction".to_owned(), json!({ "parts": system }));
    }
    if let Some(tools) = tools(request) {
        body.insert("tools".to_owned(), Value::Array(tools));
    }
    if let Some(choice) = &request.tool_choice {
        if let Some(config) = tool_config(choice)? {
            body.insert("toolConfig".to_owned(), config);
        }
    }
    let generation = generation_config(request)?;
    if !generation.is_empty() {
        body.insert("generationConfig".to_owned(), Value::Object(generation));
    }
    for (openai, gemini) in [
        ("safety_settings", "safetySettings"),
        ("cached_content", "cachedContent"),
        ("labels", "labels"),
    ] {
        if let Some(value) = request.extra.get(openai).filter(|v| !v.is_null()) {
            body.insert(gemini.to_owned(), value.clone());
        }
    }
    Ok(Value::Object(body))
}

/// Append a part to the last turn when it has the same role (Gemini wants turns to alternate).
fn push_part(contents: &mut Vec<Value>, role: &str, part: Value) {
    if let Some(last) = contents.last_mut() {
        if last["role"] == role {
            if let Some(parts) = last["parts"].as_array_mut() {
                parts.push(part);
                return;
            }
        }
    }
    contents.push(json!({"role": role, "parts": [part]}));
}

fn convert_messages(messages: &[ChatMessage], model: &str) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut system = Vec::new();
    let mut contents: Vec<Value> = Vec::with_capacity(messages.len());
    // Tool call id → function name, for the tool results that follow.
    let mut call_names: HashMap<String, String> = HashMap::new();
    let forward_ids = model::is_gemini_3_or_newer(model);
    for (index, message) in messages.iter().enumerate() {
        match message.role {
            Role::System | Role::Developer => {
                if let Some(content) = &message.content {
                    let text = content.text();
                    if !text.is_empty() {
                        system.push(json!({"text": text}));
                    }
                }
            }
            Role::User => {
                for part in user_parts(message.content.as_ref(), index)? {
                    push_part(&mut contents, "user", part);
                }
            }
            Role::Assistant => {
                for part in assistant_parts(message, forward_ids, &mut call_names)? {
                    push_part(&mut contents, "model", part);
                }
            }
            Role::Tool | Role::Function => {
                let part = tool_result_part(message, &call_names, forward_ids, index)?;
                push_part(&mut contents, "user", part);
            }
        }
    }
    Ok((system, contents))
}

fn user_parts(content: Option<&MessageContent>, index: usize) -> Result<Vec<Value>> {
    match content {
        None => Ok(Vec::new()),
        Some(MessageContent::Text(text)) => Ok(vec![json!({"text": text})]),
        Some(MessageContent::Parts(parts)) => parts
            .iter()
            .filter_map(|part| content_part(part, index).transpose())
            .collect(),
    }
}

/// One OpenAI content part as a Gemini part; `None` for parts with nothing to send.
fn content_part(part: &ContentPart, index: usize) -> Result<Option<Value>> {
    match part.kind.as_str() {
        "text" => Ok(part
            .text
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| json!({"text": t}))),
        "image_url" => {
            let url = part
                .image_url
                .as_ref()
                .map(|i| i.url.as_str())
                .ok_or_else(|| {
                    Error::bad_request(format!("messages[{index}]: image_url part without a url"))
                        .with_param("messages")
                })?;
            let format = part
                .image_url
                .as_ref()
                .and_then(|i| i.extra.get("format"))
                .and_then(Value::as_str);
            media_part(url, format, index).map(Some)
        }
        "input_audio" => {
            let audio = part.extra.get("input_audio");
            let data = audio.and_then(|a| a.get("data")).and_then(Value::as_str);
            let format = audio
                .and_then(|a| a.get("format"))
                .and_then(Value::as_str)
                .unwrap_or("wav");
            let Some(data) = data else {
                return Err(Error::bad_request(format!(
                    "messages[{index}]: input_audio part without data"
                ))
                .with_param("messages"));
            };
            Ok(Some(
                json!({"inlineData": {"mimeType": format!("audio/{format}"), "data": data}}),
            ))
        }
        "file" => {
            let file = part.extra.get("file");
            let format = file.and_then(|f| f.get("format")).and_then(Value::as_str);
            let source = file
                .and_then(|f| f.get("file_data").or_else(|| f.get("file_id")))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Error::bad_request(format!(
                        "messages[{index}]: file part needs file_data or file_id"
                    ))
                    .with_param("messages")
                })?;
            media_part(source, format, index).map(Some)
        }
        other => Err(Error::new(
            ErrorKind::BadRequest,
            format!("messages[{index}]: content part type '{other}' is not supported by Gemini"),
        )
        .with_param("messages")),
    }
}

/// A data URL becomes `inlineData`; any other URI becomes `fileData` (Vertex reads `gs://`
/// itself; `http(s)` URIs are fetched and inlined before sending, see `images.rs`).
fn media_part(url: &str, format: Option<&str>, index: usize) -> Result<Value> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (mime, data) = rest.split_once(";base64,").ok_or_else(|| {
            Error::bad_request(format!(
                "messages[{index}]: data URLs must be base64 (data:<mime>;base64,<data>)"
            ))
            .with_param("messages")
        })?;
        let mime = format.unwrap_or(mime);
        return Ok(json!({"inlineData": {"mimeType": mime, "data": data}}));
    }
    let mime = format.map_or_else(|| guess_mime_type(url).to_owned(), str::to_owned);
    Ok(json!({"fileData": {"mimeType": mime, "fileUri": url}}))
}

/// A MIME type from a URL's extension (Vertex requires one on `fileData`).
#[must_use]
pub fn guess_mime_type(url: &str) -> &'static str {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match extension {
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "mov" => "video/mov",
        "mpeg" | "mpg" => "video/mpeg",
        "webm" => "video/webm",
        "mp3" => "audio/mp3",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "txt" => "text/plain",
        _ => "image/jpeg",
    }
}

/// The thought signature a tool call carries: `provider_specific_fields.thought_signature`,
/// else the part of its id after [`THOUGHT_SIGNATURE_SEPARATOR`].
fn tool_call_signature(call: &ToolCall) -> Option<&str> {
    call.extra
        .get("provider_specific_fields")
        .and_then(|f| f.get("thought_signature"))
        .and_then(Value::as_str)
        .or_else(|| {
            call.id
                .split_once(THOUGHT_SIGNATURE_SEPARATOR)
                .map(|(_, signature)| signature)
        })
        .filter(|s| !s.is_empty())
}

fn clean_call_id(id: &str) -> &str {
    id.split_once(THOUGHT_SIGNATURE_SEPARATOR)
        .map_or(id, |(clean, _)| clean)
}

fn assistant_parts(
    message: &ChatMessage,
    forward_ids: bool,
    call_names: &mut HashMap<String, String>,
) -> Result<Vec<Value>> {
    let mut parts = Vec::new();
    if let Some(content) = &message.content {
        let text = content.text();
        if !text.is_empty() {
            parts.push(json!({"text": text}));
        }
    }
    let mut signed_call = false;
    for call in message.tool_calls.iter().flatten() {
        let arguments = call.function.arguments.trim();
        let args: Value = if arguments.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_str(arguments).map_err(|e| {
                Error::bad_request(format!(
                    "tool call '{}' has arguments that are not JSON: {e}",
                    call.function.name
                ))
                .with_param("messages")
            })?
        };
        let mut function_call = json!({"name": call.function.name, "args": args});
        let clean_id = clean_call_id(&call.id);
        if forward_ids && !clean_id.is_empty() {
            function_call["id"] = Value::String(clean_id.to_owned());
        }
        let mut part = json!({ "functionCall": function_call });
        if let Some(signature) = tool_call_signature(call) {
            part["thoughtSignature"] = Value::String(signature.to_owned());
            signed_call = true;
        }
        parts.push(part);
        call_names.insert(call.id.clone(), call.function.name.clone());
        call_names.insert(clean_id.to_owned(), call.function.name.clone());
    }
    // A signature returned on a text-only answer comes back on its first part.
    if !signed_call {
        let signature = message
            .extra
            .get("provider_specific_fields")
            .and_then(|f| f.get("thought_signatures"))
            .and_then(|s| s.get(0))
            .and_then(Value::as_str);
        if let (Some(signature), Some(first)) = (signature, parts.first_mut()) {
            first["thoughtSignature"] = Value::String(signature.to_owned());
        }
    }
    Ok(parts)
}

fn tool_result_part(
    message: &ChatMessage,
    call_names: &HashMap<String, String>,
    forward_ids: bool,
    index: usize,
) -> Result<Value> {
    let id = message.tool_call_id.as_deref().unwrap_or("");
    let name = call_names
        .get(id)
        .or_else(|| call_names.get(clean_call_id(id)))
        .cloned()
        .or_else(|| message.name.clone())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            Error::bad_request(format!(
                "Missing corresponding tool call for tool response message messages[{index}] \
                 (tool_call_id={id:?})"
            ))
            .with_param("messages")
        })?;
    let text = message
        .content
        .as_ref()
        .map(|c| c.text().into_owned())
        .unwrap_or_default();
    let trimmed = text.trim_start();
    let response = if trimmed.starts_with('{') {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(object)) => Value::Object(object),
            _ => json!({ "content": text }),
        }
    } else {
        json!({ "content": text })
    };
    let mut function_response = json!({"name": name, "response": response});
    if forward_ids && !id.is_empty() {
        function_response["id"] = Value::String(clean_call_id(id).to_owned());
    }
    Ok(json!({ "functionResponse": function_response }))
}

/// Gemini's built-in tools, by the names LiteLLM accepts for them.
fn builtin_tool(key: &str) -> Option<&'static str> {
    match key {
        "googleSearch" | "google_search" => Some("googleSearch"),
        "googleSearchRetrieval" | "google_search_retrieval" => Some("googleSearchRetrieval"),
        "codeExecution" | "code_execution" => Some("codeExecution"),
        "urlContext" | "url_context" => Some("urlContext"),
        _ => None,
    }
}

fn tools(request: &ChatRequest) -> Option<Vec<Value>> {
    let tools = request.tools.as_ref().filter(|t| !t.is_empty())?;
    let mut declarations = Vec::new();
    let mut out = Vec::new();
    for tool in tools {
        if let Some(function) = &tool.function {
            let mut declaration = json!({"name": function.name});
            if let Some(description) = function.description.as_deref().filter(|d| !d.is_empty()) {
                declaration["description"] = Value::String(description.to_owned());
            }
            if let Some(parameters) = schema::function_parameters(function.parameters.as_ref()) {
                declaration["parameters"] = parameters;
            }
            declarations.push(declaration);
            continue;
        }
        for (key, value) in &tool.extra {
            if let Some(name) = builtin_tool(key) {
                out.push(json!({ name: value }));
            }
        }
    }
    if !declarations.is_empty() {
        out.insert(0, json!({ "functionDeclarations": declarations }));
    }
    (!out.is_empty()).then_some(out)
}

fn tool_config(choice: &Value) -> Result<Option<Value>> {
    let config = match choice {
        Value::Null => return Ok(None),
        Value::String(mode) => match mode.as_str() {
            "auto" => json!({"mode": "AUTO"}),
            "none" => json!({"mode": "NONE"}),
            "required" | "any" => json!({"mode": "ANY"}),
            other => {
                return Err(Error::bad_request(format!(
                    "tool_choice '{other}' is not supported; use auto, none, required or a named function"
                ))
                .with_param("tool_choice"));
            }
        },
        Value::Object(object) => {
            let name = object
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Error::bad_request("tool_choice must name a function: {\"type\": \"function\", \"function\": {\"name\": ...}}")
                        .with_param("tool_choice")
                })?;
            json!({"mode": "ANY", "allowedFunctionNames": [name]})
        }
        _ => {
            return Err(Error::bad_request("tool_choice must be a string or a dict")
                .with_param("tool_choice"));
        }
    };
    Ok(Some(json!({ "functionCallingConfig": config })))
}

fn number(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

fn generation_config(request: &ChatRequest) -> Result<Map<String, Value>> {
    let model = request.model.as_str();
    let mut config = Map::new();
    if let Some(t) = request.temperature {
        config.insert("temperature".to_owned(), number(t));
    }
    if let Some(p) = request.top_p {
        config.insert("topP".to_owned(), number(p));
    }
    if let Some(k) = request.extra.get("top_k").filter(|v| v.is_number()) {
        config.insert("topK".to_owned(), k.clone());
    }
    if let Some(max) = request.max_completion_tokens.or(request.max_tokens) {
        config.insert("maxOutputTokens".to_owned(), Value::from(max));
    }
    match &request.stop {
        Some(Value::String(stop)) => {
            config.insert("stopSequences".to_owned(), json!([stop]));
        }
        Some(Value::Array(stops)) if !stops.is_empty() => {
            config.insert("stopSequences".to_owned(), Value::Array(stops.clone()));
        }
        _ => {}
    }
    if let Some(n) = request.n {
        config.insert("candidateCount".to_owned(), Value::from(n));
    }
    if let Some(p) = request.presence_penalty {
        config.insert("presencePenalty".to_owned(), number(p));
    }
    if let Some(p) = request.frequency_penalty {
        config.insert("frequencyPenalty".to_owned(), number(p));
    }
    if let Some(seed) = request.seed {
        config.insert("seed".to_owned(), Value::from(seed));
    }
    if request.logprobs == Some(true) {
        config.insert("responseLogprobs".to_owned(), Value::Bool(true));
        if let Some(top) = request.top_logprobs {
            config.insert("logprobs".to_owned(), Value::from(top));
        }
    }
    if let Some(format) = &request.response_format {
        response_format(format, model, &mut config);
    }
    if let Some(modalities) = request.extra.get("modalities").and_then(Value::as_array) {
        let mapped: Vec<Value> = modalities
            .iter()
            .filter_map(Value::as_str)
            .map(|m| Value::String(m.to_ascii_uppercase()))
            .collect();
        config.insert("responseModalities".to_owned(), Value::Array(mapped));
    }
    let mut thinking = Map::new();
    if let Some(effort) = request.reasoning_effort.as_deref() {
        thinking = reasoning_effort(effort, model)?;
    }
    if let Some(explicit) = request.extra.get("thinking").filter(|v| v.is_object()) {
        thinking = thinking_param(explicit, model);
    }
    if !thinking.is_empty() {
        config.insert("thinkingConfig".to_owned(), Value::Object(thinking));
    }
    Ok(config)
}

fn response_format(format: &Value, model: &str, config: &mut Map<String, Value>) {
    let kind = format.get("type").and_then(Value::as_str);
    let schema = format.get("response_schema").or_else(|| {
        (kind == Some("json_schema"))
            .then(|| format.get("json_schema")?.get("schema"))
            .flatten()
    });
    match (kind, schema) {
        (_, Some(schema)) if schema.is_object() => {
            config.insert(
                "responseMimeType".to_owned(),
                Value::String("application/json".to_owned()),
            );
            if model::supports_response_json_schema(model) {
                config.insert("responseJsonSchema".to_owned(), schema.clone());
            } else {
                config.insert("responseSchema".to_owned(), schema::response_schema(schema));
            }
        }
        (Some("json_object" | "json_schema"), _) => {
            config.insert(
                "responseMimeType".to_owned(),
                Value::String("application/json".to_owned()),
            );
        }
        (Some("text"), _) => {
            config.insert(
                "responseMimeType".to_owned(),
                Value::String("text/plain".to_owned()),
            );
        }
        _ => {}
    }
}

/// LiteLLM's `reasoning_effort` mapping: a `thinkingLevel` for Gemini 3+, a `thinkingBudget`
/// before that (minimal → the model's smallest budget, low 1024, medium 2048, high 4096).
///
/// # Errors
/// An effort LiteLLM does not know.
pub fn reasoning_effort(effort: &str, model: &str) -> Result<Map<String, Value>> {
    let unsupported = || {
        Error::new(
            ErrorKind::BadRequest,
            format!(
                "Invalid reasoning_effort '{effort}' for Gemini: use minimal, low, medium, high, disable or none"
            ),
        )
        .with_param("reasoning_effort")
    };
    let mut config = Map::new();
    if model::is_gemini_3_or_newer(model) {
        let minimal = if model::supports_minimal_thinking_level(model) {
            "minimal"
        } else {
            "low"
        };
        let (level, include) = match effort {
            "minimal" => (minimal, true),
            "low" => ("low", true),
            "medium" => ("medium", true),
            "high" => ("high", true),
            "disable" | "none" => (minimal, false),
            _ => return Err(unsupported()),
        };
        config.insert("thinkingLevel".to_owned(), Value::String(level.to_owned()));
        config.insert("includeThoughts".to_owned(), Value::Bool(include));
        return Ok(config);
    }
    let lower = model.to_ascii_lowercase();
    let (budget, include) = match effort {
        "minimal" => {
            let budget = if lower.contains("gemini-2.5-flash-lite") {
                512
            } else if lower.contains("gemini-2.5-pro") {
                128
            } else if lower.contains("gemini-2.5-flash") {
                1
            } else {
                128
            };
            (budget, true)
        }
        "low" => (1024, true),
        "medium" => (2048, true),
        "high" => (4096, true),
        "disable" | "none" => (0, false),
        _ => return Err(unsupported()),
    };
    config.insert("thinkingBudget".to_owned(), Value::from(budget));
    config.insert("includeThoughts".to_owned(), Value::Bool(include));
    Ok(config)
}

/// Anthropic-style `thinking={"type": "enabled", "budget_tokens": N}`, as LiteLLM maps it.
#[must_use]
pub fn thinking_param(thinking: &Value, model: &str) -> Map<String, Value> {
    let enabled = thinking.get("type").and_then(Value::as_str) == Some("enabled");
    let budget = thinking.get("budget_tokens").and_then(Value::as_i64);
    let mut config = Map::new();
    if model::is_gemini_3_or_newer(model) {
        config.insert(
            "includeThoughts".to_owned(),
            Value::Bool(enabled && budget != Some(0)),
        );
        return config;
    }
    if enabled && budget != Some(0) {
        config.insert("includeThoughts".to_owned(), Value::Bool(true));
    }
    if let Some(budget) = budget {
        config.insert("thinkingBudget".to_owned(), Value::from(budget));
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn reasoning_effort_follows_model_generation() {
        let flash = reasoning_effort("minimal", "gemini-2.5-flash").unwrap();
        assert_eq!(
            Value::Object(flash),
            json!({"thinkingBudget": 1, "includeThoughts": true})
        );
        let pro = reasoning_effort("high", "gemini-2.5-pro").unwrap();
        assert_eq!(pro["thinkingBudget"], 4096);
        let none = reasoning_effort("none", "gemini-2.5-flash").unwrap();
        assert_eq!(
            Value::Object(none),
            json!({"thinkingBudget": 0, "includeThoughts": false})
        );
        let three = reasoning_effort("medium", "gemini-3-pro-preview").unwrap();
        assert_eq!(
            Value::Object(three),
            json!({"thinkingLevel": "medium", "includeThoughts": true})
        );
        let flash3 = reasoning_effort("minimal", "gemini-3-flash-preview").unwrap();
        assert_eq!(flash3["thinkingLevel"], "minimal");
        let pro3 = reasoning_effort("minimal", "gemini-3-pro-preview").unwrap();
        assert_eq!(pro3["thinkingLevel"], "low");
        assert!(reasoning_effort("extreme", "gemini-2.5-flash").is_err());
    }

    #[test]
    fn explicit_thinking_budget() {
        let config = thinking_param(
            &json!({"type": "enabled", "budget_tokens": 2000}),
            "gemini-2.5-pro",
        );
        assert_eq!(
            Value::Object(config),
            json!({"includeThoughts": true, "thinkingBudget": 2000})
        );
        let config = thinking_param(
            &json!({"type": "enabled", "budget_tokens": 2000}),
            "gemini-3-pro-preview",
        );
        assert_eq!(Value::Object(config), json!({"includeThoughts": true}));
    }

    #[test]
    fn tool_choice_modes() {
        assert_eq!(
            tool_config(&json!("auto")).unwrap().unwrap(),
            json!({"functionCallingConfig": {"mode": "AUTO"}})
        );
        assert_eq!(
            tool_config(&json!("none")).unwrap().unwrap()["functionCallingConfig"]["mode"],
            "NONE"
        );
        assert_eq!(
            tool_config(&json!("required")).unwrap().unwrap()["functionCallingConfig"]["mode"],
            "ANY"
        );
        assert_eq!(
            tool_config(&json!({"type": "function", "function": {"name": "f"}}))
                .unwrap()
                .unwrap(),
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}})
        );
        assert!(tool_config(&json!("sometimes")).is_err());
    }

    #[test]
    fn missing_tool_call_for_result_is_an_error() {
        let r = request(json!({"model": "gemini-2.5-flash", "messages": [
            {"role": "user", "content": "hi"},
            {"role": "tool", "tool_call_id": "nope", "content": "42"}
        ]}));
        let error = generate_content_body(&r).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BadRequest);
        assert!(error.message().contains("Missing corresponding tool call"));
    }

    #[test]
    fn signatures_round_trip_from_ids_and_fields() {
        let r = request(json!({"model": "gemini-2.5-flash", "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_a__thought__c2lnQQ==", "type": "function", "function": {"name": "f", "arguments": "{\"x\": 1}"}},
                {"id": "call_b", "type": "function", "function": {"name": "g", "arguments": ""},
                 "provider_specific_fields": {"thought_signature": "c2lnQg=="}}
            ]},
            {"role": "tool", "tool_call_id": "call_a__thought__c2lnQQ==", "content": "{\"temp\": 20}"},
            {"role": "tool", "tool_call_id": "call_b", "content": "ok"}
        ]}));
        let body = generate_content_body(&r).unwrap();
        let model_parts = &body["contents"][1]["parts"];
        assert_eq!(model_parts[0]["thoughtSignature"], "c2lnQQ==");
        assert_eq!(
            model_parts[0]["functionCall"],
            json!({"name": "f", "args": {"x": 1}})
        );
        assert_eq!(model_parts[1]["thoughtSignature"], "c2lnQg==");
        let results = &body["contents"][2];
        assert_eq!(results["role"], "user");
        assert_eq!(
            results["parts"][0]["functionResponse"],
            json!({"name": "f", "response": {"temp": 20}})
        );
        assert_eq!(
            results["parts"][1]["functionResponse"]["response"],
            json!({"content": "ok"})
        );
    }
}
