//! The LLM routes: each parses its body into a typed call at the edge, runs it through the
//! pipeline and renders the answer in its dialect (OpenAI, Anthropic, Responses).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use llmrelay_core::{CallKind, Error, tokens};
use llmrelay_pipeline::Answer;
use llmrelay_providers::engine::{ChatOutcome, Outcome, Request as CallRequest, TextOutcome};

use crate::anthropic::{self, MessageStreamEncoder};
use crate::edge::{Edge, read_json, to_json, to_json_as};
use crate::errors::Dialect;
use crate::responses::{EventEncoder, ResponseStreamEncoder};
use crate::sse::OpenAiEncoder;
use crate::state::AppState;

fn json_response(value: &Value) -> Response {
    (axum::http::StatusCode::OK, axum::Json(value)).into_response()
}

/// Start a call on a route: the edge and the JSON body with the model named by the path
/// (Azure-style deployment routes), if any.
async fn open(
    state: &Arc<AppState>,
    request: Request,
    kind: CallKind,
    route: &'static str,
    dialect: Dialect,
    path_model: Option<String>,
) -> Result<(Edge, Map<String, Value>, axum::http::HeaderMap), Response> {
    let (parts, body) = request.into_parts();
    let edge = Edge::new(Arc::clone(state), &parts, kind, route, dialect);
    let mut params = match read_json(body, &parts.headers, state.settings.max_request_bytes).await {
        Ok(params) => params,
        Err(error) => return Err(edge.reject(error)),
    };
    if let Some(model) = path_model {
        params.insert("model".to_owned(), Value::String(model));
    }
    Ok((edge, params, parts.headers))
}

/// Parse and run: the answer, or the error response.
async fn run(
    edge: &mut Edge,
    params: Map<String, Value>,
    headers: &axum::http::HeaderMap,
) -> Result<Answer, Response> {
    let call = edge.call(params, headers).map_err(|e| edge.reject(e))?;
    edge.run(call).await.map_err(|e| edge.reject(e))
}

async fn chat_inner(
    state: Arc<AppState>,
    request: Request,
    path_model: Option<String>,
) -> Response {
    let (mut edge, params, headers) = match open(
        &state,
        request,
        CallKind::Chat,
        "/chat/completions",
        Dialect::OpenAi,
        path_model,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let model = edge.model_group_of(&params);
    match run(&mut edge, params, &headers).await {
        Ok(Answer::Whole(whole)) => edge.whole(whole, |outcome, _| match outcome {
            Outcome::Chat(ChatOutcome::Whole(result)) => {
                to_json_as(&mut result.response, |r| &mut r.model, &model)
            }
            _ => Err(Error::bad_request("not a chat answer")),
        }),
        Ok(Answer::Chat(stream)) => edge.stream(stream, OpenAiEncoder { model }),
        Ok(_) => edge.unexpected("not a chat answer"),
        Err(response) => response,
    }
}

/// `POST /v1/chat/completions`, `/chat/completions`.
pub async fn chat(State(state): State<Arc<AppState>>, request: Request) -> Response {
    chat_inner(state, request, None).await
}

/// `POST /openai/deployments/{model}/chat/completions` (Azure clients), `/engines/{model}/…`.
pub async fn chat_for_deployment(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    request: Request,
) -> Response {
    chat_inner(state, request, Some(model)).await
}

async fn text_inner(
    state: Arc<AppState>,
    request: Request,
    path_model: Option<String>,
) -> Response {
    let (mut edge, params, headers) = match open(
        &state,
        request,
        CallKind::TextCompletion,
        "/completions",
        Dialect::OpenAi,
        path_model,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let model = edge.model_group_of(&params);
    match run(&mut edge, params, &headers).await {
        Ok(Answer::Whole(whole)) => edge.whole(whole, |outcome, _| match outcome {
            Outcome::Text(TextOutcome::Whole(result)) => {
                to_json_as(&mut result.response, |r| &mut r.model, &model)
            }
            _ => Err(Error::bad_request("not a text completion")),
        }),
        Ok(Answer::Text(stream)) => edge.stream(stream, OpenAiEncoder { model }),
        Ok(_) => edge.unexpected("not a text completion"),
        Err(response) => response,
    }
}

/// `POST /v1/completions`, `/completions`.
pub async fn text_completion(State(state): State<Arc<AppState>>, request: Request) -> Response {
    text_inner(state, request, None).await
}

/// `POST /openai/deployments/{model}/completions`.
pub async fn text_completion_for_deployment(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    request: Request,
) -> Response {
    text_inner(state, request, Some(model)).await
}

async fn embeddings_inner(
    state: Arc<AppState>,
    request: Request,
    path_model: Option<String>,
) -> Response {
    let (mut edge, params, headers) = match open(
        &state,
        request,
        CallKind::Embedding,
        "/embeddings",
        Dialect::OpenAi,
        path_model,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let model = edge.model_group_of(&params);
    match run(&mut edge, params, &headers).await {
        Ok(Answer::Whole(whole)) => edge.whole(whole, |outcome, _| match outcome {
            Outcome::Embedding(result) => {
                to_json_as(&mut result.response, |r| &mut r.model, &model)
            }
            _ => Err(Error::bad_request("not an embedding answer")),
        }),
        Ok(_) => edge.unexpected("not an embedding answer"),
        Err(response) => response,
    }
}

/// `POST /v1/embeddings`, `/embeddings`.
pub async fn embeddings(State(state): State<Arc<AppState>>, request: Request) -> Response {
    embeddings_inner(state, request, None).await
}

/// `POST /openai/deployments/{model}/embeddings`.
pub async fn embeddings_for_deployment(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    request: Request,
) -> Response {
    embeddings_inner(state, request, Some(model)).await
}

/// `POST /v1/messages`: Anthropic's Messages API over any provider.
pub async fn messages(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (mut edge, body, headers) = match open(
        &state,
        request,
        CallKind::AnthropicMessages,
        "/v1/messages",
        Dialect::Anthropic,
        None,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let params = match anthropic::request_to_chat(&body) {
        Ok(params) => params,
        Err(error) => return edge.reject(error),
    };
    let model = edge.model_group_of(&params);
    match run(&mut edge, params, &headers).await {
        Ok(Answer::Whole(whole)) => edge.whole(whole, |outcome, _| match outcome {
            Outcome::Chat(ChatOutcome::Whole(result)) => {
                to_json(&anthropic::response_to_message(&result.response, &model))
            }
            _ => Err(Error::bad_request("not a chat answer")),
        }),
        Ok(Answer::Chat(stream)) => edge.stream(stream, MessageStreamEncoder::new(&model)),
        Ok(_) => edge.unexpected("not a chat answer"),
        Err(response) => response,
    }
}

/// `POST /v1/messages/count_tokens`: counted locally with the deployment model's tokenizer.
pub async fn count_tokens(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut call = Edge::new(
        Arc::clone(&state),
        &parts,
        CallKind::CountTokens,
        "/v1/messages/count_tokens",
        Dialect::Anthropic,
    );
    let body = match read_json(body, &parts.headers, state.settings.max_request_bytes).await {
        Ok(body) => body,
        Err(error) => return call.reject(error),
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    call.model_group.clone_from(&model);
    let Some(underlying) = state.dispatch.underlying_model(&model) else {
        return call.reject(Error::bad_request(format!(
            "anthropic_messages: Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key."
        )).with_param("model"));
    };
    let (messages, tools) = match anthropic::count_tokens_input(&body) {
        Ok(input) => input,
        Err(error) => return call.reject(error),
    };
    let options = tokens::CountOptions {
        use_default_image_token_count: true,
        ..tokens::CountOptions::default()
    };
    let bare_model = underlying
        .rsplit('/')
        .next()
        .unwrap_or(&underlying)
        .to_owned();
    match tokens::count_messages(&bare_model, &messages, tools.as_deref(), None, &options) {
        Ok(count) => call.label(json_response(&json!({"input_tokens": count}))),
        Err(error) => call.reject(Error::bad_request(format!(
            "could not count tokens: {error}"
        ))),
    }
}

/// `POST /v1/responses`: OpenAI's Responses API — passed through to providers that have it,
/// bridged onto chat for every other.
pub async fn responses(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (mut edge, params, headers) = match open(
        &state,
        request,
        CallKind::Responses,
        "/responses",
        Dialect::OpenAi,
        None,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let model = edge.model_group_of(&params);
    match run(&mut edge, params, &headers).await {
        Ok(Answer::Whole(whole)) => {
            edge.whole(whole, |outcome, call| match (outcome, &call.request) {
                (Outcome::Chat(ChatOutcome::Whole(result)), CallRequest::Responses(bridge)) => {
                    to_json(&bridge.render_whole(&result.response, &model))
                }
                (Outcome::Json(result), _) => {
                    let Some(object) = result.response.as_object_mut() else {
                        return to_json(&result.response);
                    };
                    let upstream = object.insert("model".to_owned(), Value::String(model.clone()));
                    let bytes = to_json(&result.response);
                    if let Some(object) = result.response.as_object_mut() {
                        match upstream {
                            Some(value) => object.insert("model".to_owned(), value),
                            None => object.remove("model"),
                        };
                    }
                    bytes
                }
                _ => Err(Error::bad_request("not a Responses answer")),
            })
        }
        Ok(Answer::Chat(stream)) => {
            let encoder = match &stream.call().request {
                CallRequest::Responses(bridge) => ResponseStreamEncoder::new(bridge, &model),
                _ => return edge.unexpected("a Responses stream without its request"),
            };
            edge.stream(stream, encoder)
        }
        Ok(Answer::Events(stream)) => edge.stream(stream, EventEncoder),
        Ok(_) => edge.unexpected("not a Responses answer"),
        Err(response) => response,
    }
}

/// The content type OpenAI answers a `response_format` of `/audio/speech` with.
fn speech_content_type(format: &str) -> &'static str {
    match format {
        "opus" => "audio/opus",
        "aac" => "audio/aac",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "pcm" => "audio/pcm",
        _ => "audio/mpeg",
    }
}

/// Image generation, moderation, rerank and speech: a JSON body in, the engine's answer out,
/// through the same edge, pipeline and accounting as chat.
async fn operation_inner(
    state: Arc<AppState>,
    request: Request,
    kind: CallKind,
    route: &'static str,
) -> Response {
    let (mut edge, params, headers) =
        match open(&state, request, kind, route, Dialect::OpenAi, None).await {
            Ok(opened) => opened,
            Err(response) => return response,
        };
    let audio_format = std::cell::Cell::new("mp3".to_owned());
    let response = match run(&mut edge, params, &headers).await {
        Ok(Answer::Whole(whole)) => edge.whole(whole, |outcome, _| match outcome {
            Outcome::Json(result) if kind == CallKind::Speech => {
                use base64::Engine as _;
                let answer = &result.response;
                if let Some(format) = answer.get("response_format").and_then(Value::as_str) {
                    audio_format.set(format.to_owned());
                }
                let encoded = answer
                    .get("audio_base64")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|e| Error::bad_request(format!("speech answer is not audio: {e}")))
            }
            Outcome::Json(result) => to_json(&result.response),
            _ => Err(Error::bad_request("not an answer of this route")),
        }),
        Ok(_) => edge.unexpected("not an answer of this route"),
        Err(response) => response,
    };
    if kind == CallKind::Speech && response.status().is_success() {
        let mut response = response;
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static(speech_content_type(&audio_format.take())),
        );
        return response;
    }
    response
}

/// `POST /v1/images/generations`, `/images/generations`.
pub async fn image_generation(State(state): State<Arc<AppState>>, request: Request) -> Response {
    operation_inner(
        state,
        request,
        CallKind::ImageGeneration,
        "/images/generations",
    )
    .await
}

/// `POST /v1/moderations`, `/moderations`.
pub async fn moderation(State(state): State<Arc<AppState>>, request: Request) -> Response {
    operation_inner(state, request, CallKind::Moderation, "/moderations").await
}

/// `POST /v1/rerank`, `/rerank`, `/v2/rerank`.
pub async fn rerank(State(state): State<Arc<AppState>>, request: Request) -> Response {
    operation_inner(state, request, CallKind::Rerank, "/rerank").await
}

/// `POST /v1/audio/speech`, `/audio/speech`: the audio bytes, as OpenAI answers.
pub async fn speech(State(state): State<Arc<AppState>>, request: Request) -> Response {
    operation_inner(state, request, CallKind::Speech, "/audio/speech").await
}

/// `POST /utils/token_counter`: LiteLLM's `TokenCountResponse` for a prompt or messages, counted
/// with the tokenizer of the group's deployment model.
pub async fn token_counter(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut call = Edge::new(
        Arc::clone(&state),
        &parts,
        CallKind::CountTokens,
        "/utils/token_counter",
        Dialect::OpenAi,
    );
    let body = match read_json(body, &parts.headers, state.settings.max_request_bytes).await {
        Ok(body) => body,
        Err(error) => return call.reject(error),
    };
    let Some(model) = body.get("model").and_then(Value::as_str).map(str::to_owned) else {
        return call.reject(Error::bad_request("Field required: model").with_param("model"));
    };
    call.model_group.clone_from(&model);
    let prompt = body.get("prompt").and_then(Value::as_str);
    let messages = body.get("messages").and_then(Value::as_array);
    if prompt.is_none() && messages.is_none() && body.get("contents").is_none() {
        return call.reject(Error::bad_request(
            "prompt or messages or contents must be provided",
        ));
    }
    // LiteLLM counts with the deployment's model, its provider prefix removed.
    let model_used = state
        .dispatch
        .underlying_model(&model)
        .map(|m| {
            m.split_once('/')
                .map_or(m.clone(), |(_, rest)| rest.to_owned())
        })
        .unwrap_or_else(|| model.clone());
    let total = match (prompt, messages) {
        (Some(text), _) => Ok(tokens::count_text_for_model(&model_used, text)),
        (None, Some(messages)) => {
            let mut counted = messages.clone();
            if let Some(system) = body.get("system").filter(|s| !s.is_null()) {
                counted.insert(0, json!({"role": "system", "content": system}));
            }
            let tools = body.get("tools").and_then(Value::as_array);
            tokens::count_messages(
                &model_used,
                &counted,
                tools.map(Vec::as_slice),
                None,
                &tokens::CountOptions::default(),
            )
            .map_err(|e| Error::bad_request(format!("could not count tokens: {e}")))
        }
        (None, None) => Err(Error::bad_request(
            "counting Google `contents` needs `call_endpoint=true`, which llmrelay does not serve yet",
        )),
    };
    match total {
        Ok(total) => call.label(json_response(&json!({
            "total_tokens": total,
            "request_model": model,
            "model_used": model_used,
            "tokenizer_type": "openai_tokenizer",
            "original_response": null,
            "error": false,
            "error_message": null,
            "status_code": null,
        }))),
        Err(error) => call.reject(error),
    }
}

/// The multipart transcription form as the call's JSON body: every text field by name
/// (`timestamp_granularities[]` as a list), `file` as `{"filename", "content_type", "data"}`
/// with the bytes in base64, the shape the engine's transcription request reads.
async fn transcription_body(
    request: Request,
    limit: usize,
) -> Result<(http::request::Parts, Map<String, Value>), (http::request::Parts, Error)> {
    use axum::extract::{FromRequest, Multipart};
    use base64::Engine as _;
    let (parts, body) = request.into_parts();
    let is_multipart = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err((
            parts,
            Error::bad_request("Transcriptions take multipart/form-data with a 'file' field")
                .with_param("file"),
        ));
    }
    let rebuilt = Request::from_parts(parts.clone(), body);
    let mut form = match Multipart::from_request(rebuilt, &()).await {
        Ok(form) => form,
        Err(e) => {
            return Err((
                parts,
                Error::bad_request(format!("Invalid multipart body: {}", e.body_text())),
            ));
        }
    };
    let mut params = Map::new();
    let mut size = 0_usize;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                return Err((
                    parts,
                    Error::bad_request(format!("Invalid multipart body: {}", e.body_text())),
                ));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let filename = field.file_name().unwrap_or("audio").to_owned();
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let bytes = match field.bytes().await {
                Ok(bytes) => bytes,
                Err(e) => {
                    return Err((
                        parts,
                        Error::bad_request(format!("Could not read the file: {}", e.body_text()))
                            .with_param("file"),
                    ));
                }
            };
            size += bytes.len();
            if size > limit {
                return Err((
                    parts,
                    Error::bad_request(format!(
                        "Request size is too large. Request size is {} MB. Max size is {} MB",
                        size / 1_048_576,
                        limit / 1_048_576
                    ))
                    .with_status(413),
                ));
            }
            params.insert(
                "file".to_owned(),
                json!({
                    "filename": filename,
                    "content_type": content_type,
                    "data": base64::engine::general_purpose::STANDARD.encode(&bytes),
                }),
            );
            continue;
        }
        let text = match field.text().await {
            Ok(text) => text,
            Err(e) => {
                return Err((
                    parts,
                    Error::bad_request(format!("Invalid field {name}: {}", e.body_text())),
                ));
            }
        };
        if let Some(list) = name.strip_suffix("[]") {
            let entry = params
                .entry(list.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = entry {
                items.push(Value::String(text));
            }
        } else {
            let value = match name.as_str() {
                // Numbers and flags as JSON, as the SDK sends them.
                "temperature" => text
                    .parse::<f64>()
                    .map_or(Value::String(text), |n| json!(n)),
                "stream" => Value::Bool(text.eq_ignore_ascii_case("true")),
                _ => Value::String(text),
            };
            params.insert(name, value);
        }
    }
    if !params.contains_key("file") {
        return Err((
            parts,
            Error::bad_request("Missing required parameter: 'file'.").with_param("file"),
        ));
    }
    Ok((parts, params))
}

/// `POST /v1/audio/transcriptions`, `/audio/transcriptions`: a multipart upload, answered as
/// OpenAI answers (`{"text"}` or the verbose JSON).
pub async fn transcription(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let limit = state.settings.max_request_bytes;
    let (parts, params) = match transcription_body(request, limit).await {
        Ok(read) => read,
        Err((parts, error)) => {
            let edge = Edge::new(
                Arc::clone(&state),
                &parts,
                CallKind::Transcription,
                "/audio/transcriptions",
                Dialect::OpenAi,
            );
            return edge.reject(error);
        }
    };
    let mut edge = Edge::new(
        Arc::clone(&state),
        &parts,
        CallKind::Transcription,
        "/audio/transcriptions",
        Dialect::OpenAi,
    );
    match run(&mut edge, params, &parts.headers).await {
        Ok(Answer::Whole(whole)) => edge.whole(whole, |outcome, _| match outcome {
            Outcome::Json(result) => to_json(&result.response),
            _ => Err(Error::bad_request("not a transcription answer")),
        }),
        Ok(_) => edge.unexpected("not a transcription answer"),
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::HeaderMap;

    use super::*;

    #[tokio::test]
    async fn body_limits_and_json_errors() {
        let headers = HeaderMap::new();
        let error = read_json(Body::from("{\"a\": 1"), &headers, 100)
            .await
            .unwrap_err();
        assert_eq!(error.status_code(), 400);
        assert!(error.message().starts_with("Invalid JSON payload"));
        let error = read_json(Body::from("[1]"), &headers, 100)
            .await
            .unwrap_err();
        assert!(error.message().contains("JSON object"));
        let error = read_json(Body::from(vec![b' '; 200]), &headers, 100)
            .await
            .unwrap_err();
        assert_eq!(error.status_code(), 413);
        assert!(
            read_json(Body::from("{\"a\": 1}"), &headers, 100)
                .await
                .is_ok()
        );
    }
}
