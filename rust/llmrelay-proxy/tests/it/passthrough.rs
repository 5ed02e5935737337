//! Pass-through routes are calls of the pipeline: admission layers see them (and may refuse
//! them before anything goes upstream), and accounting books each once with the usage and
//! cost read from the provider's own answer, whole or streamed, and upstream errors as
//! failures.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use llmrelay_core::{CallKind, Error, ErrorKind};
use llmrelay_mock::{MockConfig, MockServer};
use llmrelay_pipeline::{
    Account, Admission, Admit, AdmitStage, Call, CallRecord, Layers, Status, Step,
};
use llmrelay_providers::engine::Request;
use llmrelay_proxy::Proxy;
use llmrelay_proxy::config::{RawConfig, parse_yaml};
use serde_json::{Value, json};

use crate::support::serve;

const KEY: &str = "sk-test-master-0123456789";

/// What accounting saw of one call.
#[derive(Debug, Clone)]
struct Booked {
    kind: CallKind,
    status: Status,
    model_group: String,
    tokens: Option<(u64, u64)>,
    cost: Option<f64>,
    stream: bool,
    call_type: &'static str,
    error_status: Option<u16>,
}

#[derive(Default)]
struct Books(Mutex<Vec<Booked>>);

struct BooksLayer(Arc<Books>);

impl Account for BooksLayer {
    fn name(&self) -> &'static str {
        "test_books"
    }
    fn account(&self, call: &Call, record: &CallRecord) {
        let payload = record.payload(call);
        self.0.0.lock().unwrap().push(Booked {
            kind: call.kind,
            status: record.status,
            model_group: call.model_group.clone(),
            tokens: record
                .usage
                .as_ref()
                .map(|u| (u.prompt_tokens, u.completion_tokens)),
            cost: record.cost,
            stream: record.stream,
            call_type: payload.call_type,
            error_status: record.error.as_ref().map(Error::status_code),
        });
    }
}

/// Refuses pass-through bodies naming a model the caller may not use.
struct NoSecretModel;

impl Admit for NoSecretModel {
    fn name(&self) -> &'static str {
        "test_no_secret_model"
    }
    fn stage(&self) -> AdmitStage {
        AdmitStage::Access
    }
    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        let refused =
            matches!(&call.request, Request::PassThrough(pass) if pass.model == "secret-model");
        Step::Ready(if refused {
            Admission::Reject(
                Error::new(
                    ErrorKind::PermissionDenied,
                    "secret-model is not for this key",
                )
                .with_status(403),
            )
        } else {
            Admission::Continue
        })
    }
}

async fn books_settle(books: &Books, count: usize) -> Vec<Booked> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let booked = books.0.lock().unwrap().clone();
        if booked.len() >= count || std::time::Instant::now() > deadline {
            return booked;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn pass_through_calls_run_the_pipeline_and_are_booked_with_usage_and_cost() {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let yaml = format!(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params: {{model: openai/gpt-4o-mini, api_key: sk-upstream, api_base: '{base}/v1'}}\n  - model_name: claude\n    litellm_params: {{model: anthropic/claude-sonnet-4-20250514, api_key: sk-ant-upstream, api_base: '{base}'}}\ngeneral_settings:\n  master_key: {KEY}\n",
        base = mock.base_url()
    );
    let config = RawConfig::from_document(parse_yaml(&yaml).unwrap())
        .resolve()
        .unwrap();
    let books = Arc::new(Books::default());
    let mut layers = Layers::new();
    layers.admit(Arc::new(NoSecretModel));
    layers.account(Arc::new(BooksLayer(Arc::clone(&books))));
    let served = serve(Proxy::from_config_with_layers(&config, None, &layers).unwrap()).await;
    let client = llmrelay_providers::http::client();
    let post = |path: &str, body: &Value| {
        client
            .post(format!("{}{path}", served.base))
            .bearer_auth(KEY)
            .json(body)
    };

    // Whole: OpenAI's chat completion, byte for byte, booked with its usage and cost.
    let response = post(
        "/openai/v1/chat/completions",
        &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .header("x-mock-prompt-tokens", "1000")
    .header("x-mock-completion-tokens", "500")
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["usage"]["prompt_tokens"], 1000);
    let booked = books_settle(&books, 1).await;
    let first = &booked[0];
    assert_eq!(first.kind, CallKind::PassThrough);
    assert_eq!(first.status, Status::Success);
    assert_eq!(first.model_group, "gpt-4o-mini");
    assert_eq!(first.tokens, Some((1000, 500)));
    assert_eq!(first.call_type, "pass_through_endpoint");
    // gpt-4o-mini: $0.15 / M input, $0.60 / M output.
    let cost = first.cost.expect("priced from the map");
    assert!(
        (cost - (1000.0 * 0.15e-6 + 500.0 * 0.6e-6)).abs() < 1e-9,
        "{cost}"
    );

    // Streamed: Anthropic's events pass through unchanged; usage from message_start and
    // message_delta.
    let response = post(
        "/anthropic/v1/messages",
        &json!({"model": "claude-sonnet-4-5-20250929", "max_tokens": 50, "stream": true,
                "messages": [{"role": "user", "content": "hi"}]}),
    )
    .header("x-mock-prompt-tokens", "40")
    .header("x-mock-completion-tokens", "12")
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let mut text = String::new();
    let mut body = response.bytes_stream();
    while let Some(piece) = body.next().await {
        text.push_str(std::str::from_utf8(&piece.unwrap()).unwrap());
    }
    assert!(text.contains("event: message_start") && text.contains("event: message_stop"));
    let booked = books_settle(&books, 2).await;
    let streamed = &booked[1];
    assert_eq!(streamed.status, Status::Success);
    assert_eq!(streamed.tokens, Some((40, 12)));
    assert!(streamed.stream);
    assert!(streamed.cost.is_some_and(|c| c > 0.0));

    // Refused by an admission layer: nothing goes upstream.
    mock.state().clear_requests();
    let response = post(
        "/openai/v1/chat/completions",
        &json!({"model": "secret-model", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["message"], "secret-model is not for this key");
    assert!(mock.state().requests().is_empty());

    // An upstream error: the upstream's status, LiteLLM's error shape, booked as a failure.
    let response = post(
        "/openai/v1/chat/completions",
        &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .header("x-mock-status", "429")
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 429);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "429");
    let booked = books_settle(&books, 4).await;
    assert_eq!(booked[2].status, Status::Failure);
    assert_eq!(booked[2].error_status, Some(403));
    assert_eq!(booked[3].status, Status::Failure);
    assert_eq!(booked[3].error_status, Some(429));
    assert_eq!(booked.len(), 4, "each call booked once: {booked:?}");
}
