//! `generateContent` / `streamGenerateContent` answers: request checks, the answer plan (thoughts, text,
//! JSON, function calls) and its whole and SSE renderings.
//! Follows: Gemini API reference "Generating content" (`GenerateContentRequest`, `GenerateContentResponse`,
//! `Candidate`, `UsageMetadata`), "Function calling" and "Thought signatures" guides, "Structured output".

use serde_json::{Map, Value, json};

use super::error::invalid_argument;
use crate::exchange::{Exchange, new_id};
use crate::faults::ErrorSpec;
use crate::shaping::estimate_tokens;
use crate::sse::{SseEvents, SseWriter};

const THOUGHT_TEXT: &str =
    "**Planning the answer**\n\nThe user asked a question; I will answer it directly.";
/// Text Gemini writes before function calls when it chooses them itself.
const TOOL_PREAMBLE: &str = "Let me look that up.";

/// Schema keywords Gemini's `Schema` proto knows (anything else is "Unknown name").
/// Follows: API reference "Schema" fields.
const SCHEMA_FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// Everything an answer needs, decided before rendering it whole or streamed.
#[derive(Debug)]
pub(crate) struct Plan {
    pub model: String,
    pub thought: Option<String>,
    pub text: Option<String>,
    pub calls: Vec<Value>,
    pub finish_reason: &'static str,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub thought_tokens: u64,
    pub cached_tokens: Option<u64>,
    pub candidates: usize,
}

fn check_schema(schema: &Value, at: &str) -> Result<(), ErrorSpec> {
    let Value::Object(map) = schema else {
        return Err(invalid_argument(format!(
            "Invalid value at '{at}' (google.ai.generativelanguage.v1beta.Schema)"
        )));
    };
    for (key, value) in map {
        if !SCHEMA_FIELDS.contains(&key.as_str()) {
            return Err(invalid_argument(format!(
                "Invalid JSON payload received. Unknown name \"{key}\" at '{at}': Cannot find field."
            )));
        }
        match key.as_str() {
            "properties" => {
                for (name, property) in value.as_object().into_iter().flatten() {
                    check_schema(property, &format!("{at}.properties[{name}].value"))?;
                }
            }
            "items" => check_schema(value, &format!("{at}.items"))?,
            "anyOf" => {
                for member in value.as_array().into_iter().flatten() {
                    check_schema(member, &format!("{at}.any_of"))?;
                }
            }
            "enum" if map.get("type").and_then(Value::as_str) != Some("string") => {
                return Err(invalid_argument(format!(
                    "{at}: only allowed for STRING type"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

fn declarations(body: &Value) -> Result<Vec<&Value>, ErrorSpec> {
    let mut out = Vec::new();
    for (t, tool) in body["tools"].as_array().into_iter().flatten().enumerate() {
        for (d, declaration) in tool["functionDeclarations"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let name = declaration["name"].as_str().unwrap_or("");
            if let Some(parameters) = declaration.get("parameters") {
                let kind = parameters["type"]
                    .as_str()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if kind != "object" {
                    return Err(invalid_argument(format!(
                        "Unable to submit request because `{name}` functionDeclaration parameters schema should be of type OBJECT."
                    )));
                }
                check_schema(
                    parameters,
                    &format!("tools[{t}].function_declarations[{d}].parameters"),
                )?;
            }
            out.push(declaration);
        }
    }
    Ok(out)
}

/// Prompt size in characters (text, function calls and responses, inline data at a flat rate).
fn prompt_characters(body: &Value) -> usize {
    let mut characters = 0;
    for content in body["contents"].as_array().into_iter().flatten() {
        for part in content["parts"].as_array().into_iter().flatten() {
            if let Some(text) = part["text"].as_str() {
                characters += text.len();
            } else if part.get("inlineData").is_some() {
                characters += 1032; // 258 tokens per image, as Gemini counts them.
            } else {
                characters += part.to_string().len();
            }
        }
    }
    for part in body["systemInstruction"]["parts"]
        .as_array()
        .into_iter()
        .flatten()
    {
        characters += part["text"].as_str().map_or(0, str::len);
    }
    characters
}

fn check_contents(body: &Value, vertex: bool, model: &str) -> Result<(), ErrorSpec> {
    let Some(contents) = body["contents"].as_array().filter(|c| !c.is_empty()) else {
        return Err(invalid_argument(
            "* GenerateContentRequest.contents: contents is not specified",
        ));
    };
    let gemini_3 = model.starts_with("gemini-3");
    for (index, content) in contents.iter().enumerate() {
        let role = content["role"].as_str().unwrap_or("user");
        if role != "user" && role != "model" {
            return Err(invalid_argument(format!(
                "Please use a valid role: user, model. (contents[{index}].role = {role})"
            )));
        }
        let Some(parts) = content["parts"].as_array().filter(|p| !p.is_empty()) else {
            return Err(invalid_argument(format!(
                "* GenerateContentRequest.contents[{index}].parts: contents.parts must not be empty."
            )));
        };
        for part in parts {
            if let Some(uri) = part["fileData"]["fileUri"].as_str() {
                let remote = uri.starts_with("http://") || uri.starts_with("https://");
                if remote || (!vertex && uri.starts_with("gs://")) {
                    return Err(invalid_argument(format!(
                        "Invalid or unsupported file uri: {uri}"
                    )));
                }
            }
            if let Some(inline) = part.get("inlineData") {
                if inline["mimeType"].as_str().is_none() || inline["data"].as_str().is_none() {
                    return Err(invalid_argument("inlineData needs mimeType and data"));
                }
            }
            if gemini_3
                && role == "model"
                && part.get("functionCall").is_some()
                && part.get("thoughtSignature").is_none()
            {
                return Err(invalid_argument(format!(
                    "Function call is missing a thought_signature in functionCall parts. contents[{index}]"
                )));
            }
        }
    }
    Ok(())
}

/// Sample arguments for a declaration: every property filled by its type.
fn sample(schema: &Value) -> Value {
    match schema["type"]
        .as_str()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("object") => {
            let properties: Map<String, Value> = schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, property)| (name.clone(), sample(property)))
                .collect();
            Value::Object(properties)
        }
        Some("array") => json!([sample(&schema["items"])]),
        Some("integer") => json!(1),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        _ => match schema["enum"].get(0) {
            Some(first) => first.clone(),
            None => json!("San Francisco"),
        },
    }
}

/// Whether the last user turn only returns function results (the model then answers in text).
fn answering_function_results(body: &Value) -> bool {
    body["contents"]
        .as_array()
        .and_then(|c| c.last())
        .and_then(|c| c["parts"].as_array())
        .is_some_and(|parts| parts.iter().all(|p| p.get("functionResponse").is_some()))
}

impl Plan {
    pub(crate) fn new(
        body: Option<&Value>,
        model: &str,
        vertex: bool,
        exchange: &Exchange,
    ) -> Result<Plan, ErrorSpec> {
        let Some(body) = body.filter(|b| b.is_object()) else {
            return Err(invalid_argument("Invalid JSON payload received."));
        };
        check_contents(body, vertex, model)?;
        let declared = declarations(body)?;
        let config = &body["generationConfig"];
        if let Some(schema) = config.get("responseSchema") {
            check_schema(schema, "generation_config.response_schema")?;
        }
        let mode = body["toolConfig"]["functionCallingConfig"]["mode"]
            .as_str()
            .unwrap_or("AUTO");
        let allowed: Vec<&str> =
            body["toolConfig"]["functionCallingConfig"]["allowedFunctionNames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
        let thinking = config["thinkingConfig"]["includeThoughts"].as_bool() == Some(true);
        let mut calls = Vec::new();
        if !declared.is_empty() && mode != "NONE" && !answering_function_results(body) {
            for declaration in &declared {
                let name = declaration["name"].as_str().unwrap_or("");
                if !allowed.is_empty() && !allowed.contains(&name) {
                    continue;
                }
                let args = declaration
                    .get("parameters")
                    .map_or_else(|| json!({}), sample);
                calls.push(json!({"name": name, "args": args}));
            }
        }
        let mut text = if calls.is_empty() {
            Some(exchange.content().to_owned())
        } else if mode == "AUTO" {
            Some(TOOL_PREAMBLE.to_owned())
        } else {
            None
        };
        let json_mode = config["responseMimeType"] == "application/json";
        if json_mode && calls.is_empty() {
            let schema = config
                .get("responseJsonSchema")
                .or_else(|| config.get("responseSchema"));
            let answer = match schema {
                Some(schema) => sample(schema),
                None => json!({"answer": exchange.content()}),
            };
            text = Some(answer.to_string());
        }
        let mut finish_reason = "STOP";
        if let Some(current) = text.as_mut() {
            for stop in config["stopSequences"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if let Some(at) = current.find(stop).filter(|_| !stop.is_empty()) {
                    current.truncate(at);
                }
            }
            if let Some(max) = config["maxOutputTokens"].as_u64() {
                let limit = usize::try_from(max.saturating_mul(4)).unwrap_or(usize::MAX);
                if current.len() > limit {
                    let mut end = limit;
                    while !current.is_char_boundary(end) {
                        end -= 1;
                    }
                    current.truncate(end);
                    finish_reason = "MAX_TOKENS";
                    calls.clear();
                }
            }
        }
        let thought = thinking.then(|| THOUGHT_TEXT.to_owned());
        let output_characters = text.as_ref().map_or(0, String::len)
            + calls.iter().map(|c| c.to_string().len()).sum::<usize>();
        let prompt_tokens = exchange
            .prompt_tokens()
            .unwrap_or_else(|| estimate_tokens(prompt_characters(body)));
        Ok(Plan {
            model: model.to_owned(),
            thought_tokens: thought.as_ref().map_or(0, |t| estimate_tokens(t.len())),
            thought,
            text,
            calls,
            finish_reason,
            prompt_tokens,
            output_tokens: exchange
                .completion_tokens()
                .unwrap_or_else(|| estimate_tokens(output_characters).max(1)),
            cached_tokens: exchange
                .controls
                .cache_read_tokens
                .map(|c| c.min(prompt_tokens)),
            candidates: config["candidateCount"]
                .as_u64()
                .map_or(1, |n| usize::try_from(n.max(1)).unwrap_or(1)),
        })
    }

    /// Signatures are opaque bytes tied to the answer (base64, as the API sends them).
    fn signature(&self, salt: &str) -> String {
        use base64::Engine as _;
        let seed = format!("{}|{salt}|{}", self.model, self.calls.len());
        base64::engine::general_purpose::STANDARD.encode(seed.as_bytes())
    }

    fn usage(&self) -> Value {
        let mut usage = json!({
            "promptTokenCount": self.prompt_tokens,
            "candidatesTokenCount": self.output_tokens,
            "totalTokenCount": self.prompt_tokens + self.output_tokens + self.thought_tokens,
        });
        if self.thought_tokens > 0 {
            usage["thoughtsTokenCount"] = json!(self.thought_tokens);
        }
        if let Some(cached) = self.cached_tokens {
            usage["cachedContentTokenCount"] = json!(cached);
        }
        usage
    }

    fn thought_part(&self) -> Option<Value> {
        let thought = self.thought.as_ref()?;
        let mut part = json!({"text": thought, "thought": true});
        // With function calls the signature rides on the first call; otherwise on the thought.
        if self.calls.is_empty() {
            part["thoughtSignature"] = json!(self.signature("thought"));
        }
        Some(part)
    }

    fn call_parts(&self) -> Vec<Value> {
        self.calls
            .iter()
            .enumerate()
            .map(|(index, call)| {
                let mut part = json!({"functionCall": call});
                if index == 0 && self.thought.is_some() {
                    part["thoughtSignature"] = json!(self.signature("call"));
                }
                part
            })
            .collect()
    }

    /// A whole `GenerateContentResponse`.
    pub(crate) fn render(&self) -> Vec<u8> {
        let mut parts = Vec::new();
        parts.extend(self.thought_part());
        if let Some(text) = &self.text {
            parts.push(json!({"text": text}));
        }
        parts.extend(self.call_parts());
        let candidates: Vec<Value> = (0..self.candidates)
            .map(|index| {
                json!({
                    "content": {"role": "model", "parts": parts},
                    "finishReason": self.finish_reason,
                    "index": index,
                })
            })
            .collect();
        let body = json!({
            "candidates": candidates,
            "usageMetadata": self.usage(),
            "modelVersion": self.model,
            "responseId": new_id("mock-"),
        });
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// SSE chunks: the thought, the text in `chunk_count` pieces, the function calls, then a last chunk with
    /// the finish reason and usage (the stream's terminator).
    pub(crate) fn render_stream(&self, chunk_count: usize) -> SseEvents {
        let id = new_id("mock-");
        let mut writer = SseWriter::with_capacity(512 + chunk_count * 160);
        let chunk = |parts: Vec<Value>, last: bool| {
            let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
            let mut chunk = json!({"modelVersion": self.model, "responseId": id});
            if last {
                candidate["finishReason"] = json!(self.finish_reason);
                chunk["usageMetadata"] = self.usage();
            }
            chunk["candidates"] = json!([candidate]);
            chunk
        };
        if let Some(thought) = self.thought_part() {
            writer.json(&chunk(vec![thought], false));
        }
        let mut pieces: Vec<Value> = Vec::new();
        if let Some(text) = &self.text {
            let characters: Vec<char> = text.chars().collect();
            let size = characters.len().div_ceil(chunk_count.max(1)).max(1);
            for piece in characters.chunks(size) {
                pieces.push(json!({"text": piece.iter().collect::<String>()}));
            }
        }
        let calls = self.call_parts();
        let last_text = if calls.is_empty() { pieces.pop() } else { None };
        for piece in pieces {
            writer.json(&chunk(vec![piece], false));
        }
        writer.terminal();
        let mut last_parts: Vec<Value> = last_text.into_iter().collect();
        last_parts.extend(calls);
        if last_parts.is_empty() {
            last_parts.push(json!({"text": ""}));
        }
        writer.json(&chunk(last_parts, true));
        writer.finish()
    }
}
