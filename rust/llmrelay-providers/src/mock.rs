//! `mock_response`: LiteLLM's canned replies and errors, produced without any network call,
//! with usage and cost accounted like a real call.

use std::time::{Duration, Instant};

use serde_json::Value;

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Delta, EmbeddingData,
    EmbeddingRequest, EmbeddingResponse, FunctionCallDelta, ResponseMessage, TextChoice,
    TextCompletionRequest, TextCompletionResponse, ToolCall, ToolCallDelta, Usage,
};
use llmrelay_core::{Error, ErrorKind, Result};

use llmrelay_core::clock::now_unix;

use crate::engine::{ChatOutcome, CompletionResult, HiddenParams, StreamResult, TextOutcome};
use crate::options::{CallOptions, MockResponse};
use crate::stream::{AccountedStream, Finisher, StreamSummary};

/// LiteLLM's mock usage defaults (overridable by env, as LiteLLM's are).
fn default_tokens(options: &CallOptions) -> (u64, u64) {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    (
        options
            .mock_prompt_tokens
            .unwrap_or_else(|| env("DEFAULT_MOCK_RESPONSE_PROMPT_TOKEN_COUNT", 10)),
        options
            .mock_completion_tokens
            .unwrap_or_else(|| env("DEFAULT_MOCK_RESPONSE_COMPLETION_TOKEN_COUNT", 20)),
    )
}

/// Whether the caller fixed the mock's completion tokens (`completion_tokens=` or LiteLLM's
/// environment variable).
fn completion_tokens_set(options: &CallOptions) -> bool {
    options.mock_completion_tokens.is_some()
        || std::env::var_os("DEFAULT_MOCK_RESPONSE_COMPLETION_TOKEN_COUNT").is_some()
}

fn mock_error(class_name: &str, message: &str, status: u16, provider: &str, model: &str) -> Error {
    let kind = match class_name {
        "RateLimitError" => ErrorKind::RateLimit,
        "ContextWindowExceededError" => ErrorKind::ContextWindowExceeded,
        "ContentPolicyViolationError" => ErrorKind::ContentPolicyViolation,
        "InternalServerError" => ErrorKind::InternalServer,
        "AuthenticationError" => ErrorKind::Authentication,
        "Timeout" => ErrorKind::Timeout,
        "ServiceUnavailableError" => ErrorKind::ServiceUnavailable,
        "NotFoundError" => ErrorKind::NotFound,
        "PermissionDeniedError" => ErrorKind::PermissionDenied,
        "BadGatewayError" => ErrorKind::BadGateway,
        "APIConnectionError" => ErrorKind::ApiConnection,
        "UnprocessableEntityError" => ErrorKind::UnprocessableEntity,
        "BadRequestError" => ErrorKind::BadRequest,
        _ => ErrorKind::Api,
    };
    Error::new(kind, message)
        .with_status(status)
        .with_provider(provider)
        .with_model(model)
}

async fn sleep(duration: Option<Duration>) {
    if let Some(duration) = duration {
        tokio::time::sleep(duration).await;
    }
}

async fn before_reply(options: &CallOptions, model: &str, provider: &str) -> Result<()> {
    if options.mock_timeout {
        let wait = options.timeouts.total.unwrap_or(Duration::from_secs(1));
        tokio::time::sleep(wait).await;
        return Err(Error::timeout(format!(
            "Request timed out after {:.3} seconds (mock_timeout)",
            wait.as_secs_f64()
        ))
        .with_provider(provider)
        .with_model(model));
    }
    sleep(options.mock_delay).await;
    Ok(())
}

fn hidden(provider: &str, model: &str, started: Instant, options: &CallOptions) -> HiddenParams {
    HiddenParams {
        custom_llm_provider: provider.to_owned(),
        model: model.to_owned(),
        api_base: None,
        response_cost: None,
        response_ms: started.elapsed().as_secs_f64() * 1000.0,
        model_id: options.model_id.clone(),
        headers: Vec::new(),
        num_retries: 0,
        cache_hit: false,
        cache_key: None,
    }
}

fn price(model: &str, provider: &str, usage: &Usage, options: &CallOptions) -> Option<f64> {
    llmrelay_core::cost::for_model(
        model,
        Some(provider),
        usage.into(),
        options.price_overrides,
        None,
    )
    .ok()
    .map(|c| llmrelay_core::cost::to_f64(c.total()))
}

fn mock_tool_calls(options: &CallOptions) -> Option<Vec<ToolCall>> {
    let value = options.mock_tool_calls.clone()?;
    serde_json::from_value(value).ok()
}

fn chat_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::new_v4())
}

/// Split into pieces of three characters, as LiteLLM's mock stream does.
fn three_char_pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(3).map(|c| c.iter().collect()).collect()
}

/// # Errors
/// The error the mock asked for.
pub async fn chat(
    request: &ChatRequest,
    options: &CallOptions,
    mock: &MockResponse,
    provider: &str,
    started: Instant,
) -> Result<ChatOutcome> {
    let model = request.model.as_str();
    before_reply(options, model, provider).await?;
    let (content, mid_stream_error) = match mock {
        MockResponse::Text(text) => (text.clone(), None),
        MockResponse::Error {
            class_name,
            message,
            status,
            mid_stream,
        } => {
            let error = mock_error(class_name, message, *status, provider, model);
            if *mid_stream && request.stream {
                (String::new(), Some(error))
            } else {
                return Err(error);
            }
        }
    };
    let (prompt_tokens, mut completion_tokens) = default_tokens(options);
    if request.stream && !completion_tokens_set(options) {
        // A mocked stream's usage counts the streamed text, as LiteLLM's stream wrapper does.
        completion_tokens = llmrelay_core::tokens::count_text_for_model(model, &content) as u64;
    }
    let usage = Usage::new(prompt_tokens, completion_tokens);
    let n = request.n.unwrap_or(1).max(1);
    let id = chat_id();
    let created = now_unix();
    let mut hidden = hidden(provider, model, started, options);
    let response_cost = price(model, provider, &usage, options);
    let tool_calls = mock_tool_calls(options);

    if !request.stream {
        let choices = (0..n)
            .map(|index| {
                let mut message = ResponseMessage::assistant(Some(content.clone()));
                message.tool_calls.clone_from(&tool_calls);
                Choice {
                    index,
                    message,
                    finish_reason: Some("stop".to_owned()),
                    logprobs: None,
                    extra: serde_json::Map::new(),
                }
            })
            .collect();
        hidden.response_cost = response_cost;
        let response = ChatResponse {
            id,
            object: "chat.completion".to_owned(),
            created,
            model: model.to_owned(),
            system_fingerprint: None,
            choices,
            usage: Some(usage),
            extra: serde_json::Map::new(),
        };
        return Ok(ChatOutcome::Whole(CompletionResult { response, hidden }));
    }

    let chunk = |delta: Delta, finish_reason: Option<&str>| ChatChunk {
        id: id.clone(),
        object: "chat.completion.chunk".to_owned(),
        created,
        model: model.to_owned(),
        system_fingerprint: None,
        choices: (0..n)
            .map(|index| ChunkChoice {
                index,
                delta: delta.clone(),
                finish_reason: finish_reason.map(str::to_owned),
                logprobs: None,
            })
            .collect(),
        usage: None,
        extra: serde_json::Map::new(),
    };
    let mut chunks: Vec<Result<ChatChunk>> = Vec::new();
    let pieces = three_char_pieces(&content);
    for (i, piece) in pieces.iter().enumerate() {
        let delta = Delta {
            role: (i == 0).then(|| "assistant".to_owned()),
            content: Some(piece.clone()),
            ..Delta::default()
        };
        chunks.push(Ok(chunk(delta, None)));
    }
    if let Some(calls) = &tool_calls {
        let deltas = calls
            .iter()
            .enumerate()
            .map(|(index, call)| ToolCallDelta {
                index: u32::try_from(index).unwrap_or(0),
                id: Some(call.id.clone()),
                kind: Some("function".to_owned()),
                function: Some(FunctionCallDelta {
                    name: Some(call.function.name.clone()),
                    arguments: Some(call.function.arguments.clone()),
                }),
            })
            .collect();
        chunks.push(Ok(chunk(
            Delta {
                tool_calls: Some(deltas),
                ..Delta::default()
            },
            None,
        )));
    }
    if let Some(error) = mid_stream_error {
        chunks.push(Ok(chunk(
            Delta {
                role: Some("assistant".to_owned()),
                content: Some(String::new()),
                ..Delta::default()
            },
            None,
        )));
        chunks.push(Err(error));
    } else {
        chunks.push(Ok(chunk(Delta::default(), Some("stop"))));
        if request.include_usage() {
            let mut last = chunk(Delta::default(), None);
            last.choices.clear();
            last.usage = Some(usage.clone());
            chunks.push(Ok(last));
        }
    }
    let finisher: Finisher = Box::new(move |summary: &mut StreamSummary, _text: &str| {
        summary.usage = Some(usage);
        summary.response_cost = response_cost;
    });
    let inner = futures::stream::iter(chunks);
    let stream = AccountedStream::new(Box::pin(inner), false, model.to_owned(), finisher);
    Ok(ChatOutcome::Stream(StreamResult { stream, hidden }))
}

/// # Errors
/// The error the mock asked for.
pub async fn text(
    request: &TextCompletionRequest,
    options: &CallOptions,
    mock: &MockResponse,
    provider: &str,
    started: Instant,
) -> Result<TextOutcome> {
    let model = request.model.as_str();
    before_reply(options, model, provider).await?;
    let content = match mock {
        MockResponse::Text(text) => text.clone(),
        MockResponse::Error {
            class_name,
            message,
            status,
            ..
        } => {
            return Err(mock_error(class_name, message, *status, provider, model));
        }
    };
    let (prompt_tokens, completion_tokens) = default_tokens(options);
    let usage = Usage::new(prompt_tokens, completion_tokens);
    let mut hidden = hidden(provider, model, started, options);
    let response_cost = price(model, provider, &usage, options);
    let id = format!("cmpl-{}", uuid::Uuid::new_v4());
    let created = now_unix();
    let response =
        |text: String, finish: Option<&str>, usage: Option<Usage>| TextCompletionResponse {
            id: id.clone(),
            object: "text_completion".to_owned(),
            created,
            model: model.to_owned(),
            system_fingerprint: None,
            choices: vec![TextChoice {
                index: 0,
                text,
                logprobs: None,
                finish_reason: finish.map(str::to_owned),
            }],
            usage,
            extra: serde_json::Map::new(),
        };
    if !request.stream {
        hidden.response_cost = response_cost;
        let whole = response(content, Some("stop"), Some(usage));
        return Ok(TextOutcome::Whole(CompletionResult {
            response: whole,
            hidden,
        }));
    }
    let mut chunks: Vec<Result<TextCompletionResponse>> = three_char_pieces(&content)
        .into_iter()
        .map(|p| Ok(response(p, None, None)))
        .collect();
    chunks.push(Ok(response(String::new(), Some("stop"), None)));
    let finisher: Finisher = Box::new(move |summary: &mut StreamSummary, _text: &str| {
        summary.usage = Some(usage);
        summary.response_cost = response_cost;
    });
    let stream = AccountedStream::new(
        Box::pin(futures::stream::iter(chunks)),
        false,
        model.to_owned(),
        finisher,
    );
    Ok(TextOutcome::Stream(StreamResult { stream, hidden }))
}

/// # Errors
/// The error the mock asked for.
pub async fn embedding(
    request: &EmbeddingRequest,
    options: &CallOptions,
    mock: &MockResponse,
    started: Instant,
) -> Result<CompletionResult<EmbeddingResponse>> {
    let model = request.model.as_str();
    let provider =
        llmrelay_core::detect::resolve(model, options.custom_llm_provider.as_deref(), None)
            .map_or_else(|_| "openai".to_owned(), |r| r.provider);
    before_reply(options, model, &provider).await?;
    let vector: Value = match mock {
        MockResponse::Text(text) => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::Array(Vec::new()))
        }
        MockResponse::Error {
            class_name,
            message,
            status,
            ..
        } => {
            return Err(mock_error(class_name, message, *status, &provider, model));
        }
    };
    // LiteLLM's mock embedding usage: prompt 10, total 0.
    let usage = Usage {
        prompt_tokens: 10,
        total_tokens: 0,
        ..Usage::default()
    };
    let response = EmbeddingResponse {
        object: "list".to_owned(),
        data: vec![EmbeddingData {
            object: "embedding".to_owned(),
            index: 0,
            embedding: vector,
        }],
        model: model.to_owned(),
        usage: Some(usage),
    };
    let hidden = hidden(&provider, model, started, options);
    Ok(CompletionResult { response, hidden })
}
