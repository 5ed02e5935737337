//! Amazon SageMaker Runtime with a Hugging Face TGI container, as AWS documents it
//! (<https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html>,
//! `API_runtime_InvokeEndpointWithResponseStream.html`) and TGI answers
//! (<https://huggingface.github.io/text-generation-inference/>):
//! - `POST /endpoints/{name}/invocations`, SigV4-signed (checked like Bedrock's, for the
//!   service in the credential scope), body `{"inputs", "parameters"}` → `[{"generated_text"}]`,
//!   cut to `parameters.max_new_tokens` words;
//! - `POST /endpoints/{name}/invocations-response-stream` → event-stream `PayloadPart` frames
//!   whose bytes are TGI's `data:{"token": {"id", "text", "logprob", "special"},
//!   "generated_text", "details"}` items; the last one has `generated_text` set. Items are cut
//!   in two across frames now and then, as a real stream may.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

use crate::MockState;
use crate::bedrock::{encode_event, rejection, validation};
use crate::exchange::{Dialect, Exchange, Rendered};
use crate::shaping::split_even;
use crate::sse::SseWriter;

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/endpoints/{name}/invocations", post(invocations))
        .route(
            "/endpoints/{name}/invocations-response-stream",
            post(invocations_stream),
        )
}

async fn invocations(
    state: State<Arc<MockState>>,
    path: Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&state, &path, &method, &uri, &headers, &body, false).await
}

async fn invocations_stream(
    state: State<Arc<MockState>>,
    path: Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&state, &path, &method, &uri, &headers, &body, true).await
}

/// The answer text: the configured content, cut to `max_new_tokens` words.
fn answer_text(content: &str, request: &Value) -> String {
    match request
        .pointer("/parameters/max_new_tokens")
        .and_then(Value::as_u64)
        .and_then(|max| usize::try_from(max).ok())
    {
        Some(max) => content
            .split_inclusive(' ')
            .take(max.max(1))
            .collect::<String>()
            .trim_end()
            .to_owned(),
        None => content.to_owned(),
    }
}

async fn serve(
    state: &MockState,
    _name: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    stream: bool,
) -> Response {
    if let Some(response) = rejection(state, method, uri, headers, body) {
        return response;
    }
    let mut exchange =
        match Exchange::open(state, Dialect::Bedrock, method, uri, headers, body).await {
            Ok(exchange) => exchange,
            Err(response) => return response,
        };
    let request = exchange.body.take().unwrap_or(Value::Null);
    let rendered = match request.get("inputs") {
        Some(Value::String(_)) => {
            let text = answer_text(exchange.content(), &request);
            if stream {
                let mut writer = SseWriter::with_capacity(256 * (exchange.chunk_count() + 2));
                let pieces = split_even(&text, exchange.chunk_count().max(1));
                for (id, piece) in pieces.iter().enumerate() {
                    let item = json!({"token": {"id": id, "text": piece, "logprob": -0.25,
                                                "special": false},
                                      "generated_text": null, "details": null});
                    let line = format!("data:{item}\n\n");
                    // Every other item is split across two frames.
                    if id % 2 == 1 && line.len() > 8 {
                        let cut = line
                            .char_indices()
                            .map(|(i, _)| i)
                            .find(|i| *i >= line.len() / 2)
                            .unwrap_or(0);
                        writer.frame(&encode_event("PayloadPart", &line[..cut]));
                        writer.frame(&encode_event("PayloadPart", &line[cut..]));
                    } else {
                        writer.frame(&encode_event("PayloadPart", &line));
                    }
                }
                let last = json!({"token": {"id": pieces.len(), "text": "</s>", "logprob": 0.0,
                                            "special": true},
                                  "generated_text": text,
                                  "details": {"finish_reason": "eos_token",
                                              "generated_tokens": pieces.len() + 1}});
                writer.frame(&encode_event("PayloadPart", &format!("data:{last}\n\n")));
                Rendered::Stream(writer.finish())
            } else {
                Rendered::Whole(
                    serde_json::to_vec(&json!([{ "generated_text": text }])).unwrap_or_default(),
                )
            }
        }
        _ => Rendered::Error(validation(
            "Received client error (422) from primary with message \"Failed to deserialize the \
             JSON body into the target type: missing field `inputs`\"",
        )),
    };
    rendered.respond(exchange).await
}
