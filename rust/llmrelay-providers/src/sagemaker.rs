//! Amazon SageMaker endpoints serving Hugging Face TGI containers, as LiteLLM 1.104 calls them
//! (`sagemaker/<endpoint name>`).
//!
//! Wire format (AWS SageMaker Runtime API reference, "InvokeEndpoint" and
//! "InvokeEndpointWithResponseStream", <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html>;
//! TGI's generate parameters, <https://huggingface.github.io/text-generation-inference/>):
//! - `POST https://runtime.sagemaker.<region>.amazonaws.com/endpoints/<endpoint>/invocations`
//!   (`/invocations-response-stream` streamed), signed with SigV4 for the service `sagemaker`
//!   (the Bedrock signer and credential chain: `aws_access_key_id` / `aws_secret_access_key` /
//!   `aws_session_token` / `aws_profile_name` / `aws_region_name` or the AWS environment);
//!   `sagemaker_base_url=` replaces the whole URL, as in LiteLLM;
//! - body `{"inputs": <prompt>, "parameters": {…}, "stream": true?}`: the messages become one
//!   prompt (Llama-2 chat models get Llama-2's `[INST]` template, every other model the contents
//!   joined with spaces, which is what LiteLLM falls back to without the Hugging Face Hub);
//!   `max_tokens` → `max_new_tokens`, `n` → `best_of` + `do_sample`, `temperature: 0` → `0.01`
//!   (unless `aws_sagemaker_allow_zero_temp`);
//! - answer `[{"generated_text"}]` (or `{"generation"}`); usage counted from the prompt and the
//!   text, as LiteLLM counts it;
//! - the stream is AWS event-stream `PayloadPart` frames whose bytes carry TGI's server-sent
//!   `data:{"token": {"text"}, "generated_text", "details"}` items, possibly split across frames;
//!   the item with `generated_text` set ends it.

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use llmrelay_core::types::{ChatChunk, ChatRequest, ChatResponse};
use llmrelay_core::{Error, Result};

use crate::bedrock::auth;
use crate::openai::chat_body;
use crate::params;
use crate::provider::{ChunkDecoder, Endpoint, Framing, HttpRequest, Provider};
use crate::sse::RawEvent;

/// SageMaker TGI endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sagemaker;

/// LiteLLM 1.104's `SagemakerConfig.get_supported_openai_params`.
pub const PARAMS: &[&str] = &[
    "stream",
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "stop",
    "n",
];

const SIGNING_SERVICE: &str = "sagemaker";
/// The body keys of an OpenAI chat request that are not generation parameters.
const NOT_PARAMETERS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "user",
    "sagemaker_base_url",
];

fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// LiteLLM's `llama_2_chat_pt`: `<s>[INST] <<SYS>>\n…\n<</SYS>>\n [/INST]\n[INST] … [/INST]\n…\n</s>`.
fn llama_2_chat_prompt(messages: &[Value]) -> String {
    let mut prompt = String::from("<s>");
    let mut bos_open = true;
    for message in messages {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user");
        if matches!(role, "system" | "human") && !bos_open {
            prompt.push_str("<s>");
            bos_open = true;
        }
        let (pre, post) = match role {
            "system" => ("[INST] <<SYS>>\n", "\n<</SYS>>\n [/INST]\n"),
            "user" => ("[INST] ", " [/INST]\n"),
            "assistant" => ("", "\n"),
            _ => ("", ""),
        };
        prompt.push_str(pre);
        prompt.push_str(&text_of(message.get("content")));
        prompt.push_str(post);
        if role == "assistant" {
            prompt.push_str("</s>");
            bos_open = false;
        }
    }
    prompt
}

/// The prompt for an endpoint (LiteLLM's `_transform_prompt` without custom templates).
#[must_use]
pub fn prompt(model: &str, hf_model_name: Option<&str>, messages: &[Value]) -> String {
    let template_model = hf_model_name.map_or_else(|| model.to_lowercase(), str::to_lowercase);
    let llama_2_chat = template_model.contains("llama-2") && template_model.contains("chat");
    if llama_2_chat {
        llama_2_chat_prompt(messages)
    } else {
        messages
            .iter()
            .map(|m| text_of(m.get("content")))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The TGI body.
///
/// # Errors
/// `UnsupportedParams` (unless dropped), or an unserializable body.
pub fn invocation_body(
    request: &ChatRequest,
    credentials: &Map<String, Value>,
    drop_params: bool,
) -> Result<Vec<u8>> {
    let mut body: Map<String, Value> = serde_json::from_slice(&chat_body(request)?)?;
    params::enforce(&mut body, PARAMS, "sagemaker", &request.model, drop_params)?;
    let allow_zero = credentials
        .get("aws_sagemaker_allow_zero_temp")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let hf_model_name = credentials
        .get("hf_model_name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut parameters = Map::new();
    for (key, value) in body {
        if NOT_PARAMETERS.contains(&key.as_str()) {
            continue;
        }
        match key.as_str() {
            "temperature" if value.as_f64() == Some(0.0) && !allow_zero => {
                parameters.insert(key, json!(0.01));
            }
            "n" => {
                parameters.insert("best_of".to_owned(), value);
                parameters.insert("do_sample".to_owned(), Value::Bool(true));
            }
            "max_tokens" => {
                let value = if value.as_u64() == Some(0) {
                    json!(1)
                } else {
                    value
                };
                parameters.entry("max_new_tokens").or_insert(value);
            }
            "max_completion_tokens" => {
                parameters.insert("max_new_tokens".to_owned(), value);
            }
            _ => {
                parameters.insert(key, value);
            }
        }
    }
    let mut out = Map::new();
    out.insert("parameters".to_owned(), Value::Object(parameters));
    if request.stream {
        out.insert("stream".to_owned(), Value::Bool(true));
    }
    out.insert(
        "inputs".to_owned(),
        Value::String(prompt(&request.model, hf_model_name.as_deref(), &messages)),
    );
    Ok(serde_json::to_vec(&out)?)
}

/// The endpoint URL: `sagemaker_base_url`, an `api_base` that already names an invocation
/// path, or `{base}/endpoints/{endpoint}/invocations[-response-stream]`.
fn url(request: &ChatRequest, endpoint: &Endpoint) -> String {
    if let Some(full) = request
        .extra
        .get("sagemaker_base_url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
    {
        return full.to_owned();
    }
    let base = endpoint.api_base.trim_end_matches('/');
    if base.ends_with("/invocations") || base.ends_with("/invocations-response-stream") {
        return base.to_owned();
    }
    let action = if request.stream {
        "invocations-response-stream"
    } else {
        "invocations"
    };
    format!("{base}/endpoints/{}/{action}", request.model)
}

fn chat_response_value(model: &str, content: String, prompt_tokens: u64) -> Value {
    let completion_tokens = count(&content);
    json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        "object": "chat.completion",
        "created": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    })
}

/// LiteLLM's `token_counter(text=…)`: the default tokenizer.
fn count(text: &str) -> u64 {
    u64::try_from(llmrelay_core::tokens::count_text_for_model("", text)).unwrap_or(u64::MAX)
}

/// Parse TGI's answer for `prompt`.
///
/// # Errors
/// A body that is neither `[{"generated_text"}]` nor `{"generation"}`.
pub fn parse_answer(body: &[u8], model: &str, prompt: &str) -> Result<ChatResponse> {
    let parsed: Value = serde_json::from_slice(body)?;
    let first = match &parsed {
        Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    let mut content = first
        .get("generation")
        .or_else(|| first.get("generated_text"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::new(
                llmrelay_core::ErrorKind::Api,
                format!("Unable to parse sagemaker RAW RESPONSE {parsed}"),
            )
            .with_status(500)
            .with_provider("sagemaker")
        })?;
    if prompt.contains("<s>") {
        if let Some(rest) = content.strip_prefix(prompt) {
            content = rest.to_owned();
        }
    }
    Ok(serde_json::from_value(chat_response_value(
        model,
        content,
        count(prompt),
    ))?)
}

/// SageMaker's error body (`{"message"}` or `{"Message"}`, `ModelError` with
/// `OriginalMessage`).
#[must_use]
pub fn parse_error(status: u16, body: &[u8]) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| {
            ["OriginalMessage", "message", "Message"]
                .iter()
                .find_map(|key| v.get(*key).and_then(Value::as_str))
        })
        .map_or_else(
            || String::from_utf8_lossy(body).trim().to_owned(),
            str::to_owned,
        );
    Error::from_upstream(status, format!("SagemakerException - {message}"), parsed)
}

/// TGI's items out of `PayloadPart` frames (an item may span frames).
struct TgiDecoder {
    model: String,
    pending: String,
}

impl TgiDecoder {
    fn chunk(&self, content: &str, finish: Option<&str>) -> Result<ChatChunk> {
        Ok(serde_json::from_value(json!({
            "id": "chatcmpl-sagemaker",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": self.model,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": content},
                         "finish_reason": finish}],
        }))?)
    }
}

impl ChunkDecoder<ChatChunk> for TgiDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<ChatChunk>) -> Result<bool> {
        if let Some(kind) = event
            .event
            .strip_prefix(crate::aws_eventstream::EXCEPTION_PREFIX)
        {
            return Err(parse_error(500, event.data.as_bytes()).with_param(kind));
        }
        for line in event.data.split_inclusive('\n') {
            let line = line.trim_end_matches(['\n', '\r']);
            let line = line.strip_prefix("data:").unwrap_or(line);
            self.pending.push_str(line);
            let Ok(item) = serde_json::from_str::<Value>(self.pending.trim()) else {
                continue;
            };
            self.pending.clear();
            let text = item
                .pointer("/token/text")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let special = item
                .pointer("/token/special")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let last =
                item.get("generated_text").is_some_and(|g| !g.is_null()) || text == "<|endoftext|>";
            let content = if special || text == "<|endoftext|>" {
                ""
            } else {
                text
            };
            if last {
                if !content.is_empty() {
                    out.push(self.chunk(content, None)?);
                }
                out.push(self.chunk("", Some("stop"))?);
                return Ok(true);
            }
            if !content.is_empty() {
                out.push(self.chunk(content, None)?);
            }
        }
        Ok(false)
    }
}

impl Provider for Sagemaker {
    fn name(&self) -> &str {
        "sagemaker"
    }
    fn default_api_base(&self) -> Option<&str> {
        None
    }
    fn derived_api_base(&self, credentials: &Map<String, Value>) -> Option<String> {
        let region = auth::region(credentials).ok()?;
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        Some(format!("https://runtime.sagemaker.{region}.{suffix}"))
    }
    fn api_key_env(&self) -> &[&'static str] {
        &[]
    }
    fn api_base_env(&self) -> &[&'static str] {
        &[]
    }
    fn requires_api_key(&self) -> bool {
        false
    }
    fn framing(&self) -> Framing {
        Framing::AwsEventStream
    }
    fn authorize<'a>(
        &'a self,
        request: &'a mut HttpRequest,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            // SageMaker takes SigV4 only: an `api_key` is not a credential here.
            let auth::BedrockAuth::SigV4(credentials) = auth::resolve(None, &endpoint.credentials)?
            else {
                return Err(Error::new(
                    llmrelay_core::ErrorKind::Authentication,
                    "SageMaker needs AWS credentials (SigV4)",
                )
                .with_provider("sagemaker"));
            };
            let region = auth::region(&endpoint.credentials)?;
            let added = auth::signature_headers(
                "POST",
                &request.url,
                &request.headers,
                &request.body,
                &credentials,
                auth::SigningScope {
                    region: &region,
                    service: SIGNING_SERVICE,
                    time: std::time::SystemTime::now(),
                },
            )?;
            request.headers.extend(added);
            Ok(())
        })
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        headers.extend(endpoint.extra_headers.iter().cloned());
        Ok(HttpRequest {
            url: url(request, endpoint),
            headers,
            body: invocation_body(request, &endpoint.credentials, endpoint.drop_params)?,
        })
    }
    fn chat_response(&self, body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
        // The prompt again (without the call's template hint, which only the request path
        // sees) to strip an echoed prompt and count its tokens.
        let messages = match serde_json::to_value(&request.messages)? {
            Value::Array(messages) => messages,
            _ => Vec::new(),
        };
        parse_answer(
            body,
            &request.model,
            &prompt(&request.model, None, &messages),
        )
    }
    fn chat_decoder(&self, request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(TgiDecoder {
            model: request.model.clone(),
            pending: String::new(),
        })
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }
    fn supported_openai_params(&self, _model: &str) -> Option<Vec<&'static str>> {
        Some(PARAMS.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn llama_2_chat_models_get_the_inst_template() {
        let messages = vec![
            json!({"role": "system", "content": "Be brief."}),
            json!({"role": "user", "content": "Hi"}),
            json!({"role": "assistant", "content": "Hello"}),
            json!({"role": "user", "content": "Bye"}),
        ];
        assert_eq!(
            prompt("jumpstart-llama-2-7b-chat", None, &messages),
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n [/INST]\n[INST] Hi [/INST]\nHello\n</s>[INST] Bye [/INST]\n"
        );
        assert_eq!(
            prompt("meta-textgeneration-llama-2-7b-f", None, &messages),
            "Be brief. Hi Hello Bye"
        );
        assert!(
            prompt(
                "my-endpoint",
                Some("meta-llama/Llama-2-7b-chat-hf"),
                &messages
            )
            .starts_with("<s>[INST] <<SYS>>")
        );
    }

    #[test]
    fn parameters_follow_litellm() {
        let r = request(
            json!({"model": "ep", "messages": [{"role": "user", "content": "x"}],
            "temperature": 0, "max_tokens": 0, "n": 2, "stop": ["\n"], "top_p": 0.9,
            "return_full_text": false, "stream": true}),
        );
        let body: Value =
            serde_json::from_slice(&invocation_body(&r, &Map::new(), false).unwrap()).unwrap();
        let p = &body["parameters"];
        assert_eq!(p["temperature"], 0.01);
        assert_eq!(p["max_new_tokens"], 1);
        assert_eq!(p["best_of"], 2);
        assert_eq!(p["do_sample"], true);
        assert_eq!(p["stop"], json!(["\n"]));
        assert_eq!(p["return_full_text"], false);
        assert_eq!(body["stream"], true);
        assert_eq!(body["inputs"], "x");
        let r = request(json!({"model": "ep", "messages": [], "seed": 1}));
        assert_eq!(
            invocation_body(&r, &Map::new(), false).unwrap_err().kind(),
            llmrelay_core::ErrorKind::UnsupportedParams
        );
    }

    #[test]
    fn urls() {
        let endpoint = Endpoint {
            api_base: "https://runtime.sagemaker.us-east-1.amazonaws.com".to_owned(),
            ..Endpoint::default()
        };
        let r = request(json!({"model": "my-ep", "messages": [], "stream": true}));
        assert_eq!(
            url(&r, &endpoint),
            "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/my-ep/invocations-response-stream"
        );
        let r = request(json!({"model": "my-ep", "messages": [],
                               "sagemaker_base_url": "https://vpce.example/x/invocations"}));
        assert_eq!(url(&r, &endpoint), "https://vpce.example/x/invocations");
        let mut credentials = Map::new();
        credentials.insert("aws_region_name".to_owned(), "cn-north-1".into());
        assert_eq!(
            Sagemaker.derived_api_base(&credentials).unwrap(),
            "https://runtime.sagemaker.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn answers_and_split_stream_items() {
        let answer = parse_answer(br#"[{"generated_text": " Paris."}]"#, "ep", "Capital?").unwrap();
        assert_eq!(
            answer.choices[0].message.content.as_deref(),
            Some(" Paris.")
        );
        assert!(answer.usage.unwrap().prompt_tokens > 0);
        let echoed = parse_answer(
            br#"{"generation": "<s>[INST] hi [/INST]\nHello"}"#,
            "ep",
            "<s>[INST] hi [/INST]\n",
        )
        .unwrap();
        assert_eq!(echoed.choices[0].message.content.as_deref(), Some("Hello"));
        assert!(parse_answer(br#"{"x": 1}"#, "ep", "p").is_err());

        let mut decoder = TgiDecoder {
            model: "ep".to_owned(),
            pending: String::new(),
        };
        let event = |data: &str| RawEvent {
            event: "PayloadPart".to_owned(),
            data: data.to_owned(),
        };
        let mut out = Vec::new();
        assert!(
            !decoder
                .decode(&event("data:{\"token\": {\"text\": \"Hel"), &mut out)
                .unwrap()
        );
        assert!(
            !decoder
                .decode(
                    &event("lo\", \"special\": false}, \"generated_text\": null}\n\n"),
                    &mut out
                )
                .unwrap()
        );
        assert!(
            decoder
                .decode(
                    &event("data:{\"token\": {\"text\": \"</s>\", \"special\": true}, \"generated_text\": \"Hello\"}\n\n"),
                    &mut out
                )
                .unwrap()
        );
        let texts: Vec<_> = out
            .iter()
            .map(|c| c.choices[0].delta.content.clone().unwrap_or_default())
            .collect();
        assert_eq!(texts, ["Hello", ""]);
        assert_eq!(out[1].choices[0].finish_reason.as_deref(), Some("stop"));
    }
}
