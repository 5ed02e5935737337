//! The integrations end to end: calls through the pipeline against the mock upstream, each
//! integration sending to the mock's recording receiver (Langfuse ingestion, Datadog logs
//! intake, a webhook, an OTLP/HTTP receiver decoded with `opentelemetry-proto`), a JSONL file,
//! the request log; redaction; success/failure lists; a slow or failing receiver never slows
//! or fails a call.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prost::Message;
use serde_json::{Map, Value, json};

use llmrelay_core::CallKind;
use llmrelay_mock::{MockConfig, MockServer, RecordedRequest, ScriptedResponse};
use llmrelay_observe::integrations::request_log::RequestLog;
use llmrelay_observe::{
    Environment, Observe, ObserveSettings, Redaction, RequestLogFormat, TraceParent,
};
use llmrelay_pipeline::delivery::QueueConfig;
use llmrelay_pipeline::{Answer, Call, Direct, Origin, Pipeline};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;

async fn server() -> MockServer {
    MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap()
}

fn params(api_base: &str, extra: Value) -> Map<String, Value> {
    let mut base = json!({
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hello there"}],
        "api_base": api_base,
        "api_key": "sk-test",
        "temperature": 0.5,
        "metadata": {"tags": ["team-a"]},
    });
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    match base {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn settings(names: &[&str], environment: &[(&str, &str)]) -> ObserveSettings {
    ObserveSettings {
        callbacks: names.iter().map(|n| (*n).to_owned()).collect(),
        environment: Environment::from_pairs(environment.iter().copied()),
        ..ObserveSettings::default()
    }
}

/// Run one call to the end (a whole answer settled, a failure accounted) and return its id.
async fn call(
    pipeline: &Pipeline,
    params: Map<String, Value>,
    prepare: impl FnOnce(&mut Call),
) -> (String, bool) {
    let mut call = Call::parse(CallKind::Chat, params, Origin::Proxy("/chat/completions")).unwrap();
    prepare(&mut call);
    let id = call.id.to_string();
    match pipeline.run(Box::new(call), &Direct).await {
        Ok(Answer::Whole(whole)) => {
            let _ = whole.settle();
            (id, true)
        }
        Ok(_) => panic!("whole answer expected"),
        Err(_) => (id, false),
    }
}

fn recorded(server: &MockServer, path: &str) -> Vec<RecordedRequest> {
    server
        .state()
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
}

#[tokio::test]
async fn langfuse_gets_a_trace_and_a_generation_with_usage_and_cost() {
    let mock = server().await;
    let base = mock.base_url();
    let observe = Observe::build(&settings(
        &["langfuse"],
        &[
            ("LANGFUSE_PUBLIC_KEY", "pk-lf-test"),
            ("LANGFUSE_SECRET_KEY", "sk-lf-test"),
            ("LANGFUSE_HOST", &base),
        ],
    ))
    .unwrap();
    let pipeline = Pipeline::new(observe.layers().clone());
    let (id, ok) = call(&pipeline, params(&format!("{base}/v1"), json!({})), |_| {}).await;
    assert!(ok);
    observe.flush().await;
    let sent = recorded(&mock, "/api/public/ingestion");
    assert_eq!(sent.len(), 1);
    assert!(sent[0].headers["authorization"].starts_with("Basic "));
    let batch = sent[0].body["batch"].as_array().unwrap();
    let kinds: Vec<&str> = batch.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["trace-create", "generation-create"]);
    let trace = &batch[0]["body"];
    let generation = &batch[1]["body"];
    assert_eq!(trace["id"], id);
    assert_eq!(generation["id"], id);
    assert_eq!(generation["traceId"], id);
    assert_eq!(trace["tags"], json!(["team-a"]));
    assert_eq!(generation["input"][0]["content"], "hello there");
    assert_eq!(generation["output"]["role"], "assistant");
    assert!(
        generation["output"]["content"]
            .as_str()
            .unwrap()
            .contains("mock")
    );
    let usage = &generation["usage"];
    assert!(usage["input"].as_u64().unwrap() > 0);
    assert!(usage["output"].as_u64().unwrap() > 0);
    assert_eq!(
        usage["total"].as_u64().unwrap(),
        usage["input"].as_u64().unwrap() + usage["output"].as_u64().unwrap()
    );
    assert_eq!(usage["unit"], "TOKENS");
    assert!(generation["costDetails"]["total"].as_f64().unwrap() > 0.0);
    assert_eq!(generation["modelParameters"]["temperature"], 0.5);
    assert_eq!(generation["level"], "DEFAULT");
    assert!(generation["startTime"].as_str().unwrap().ends_with('Z'));
    let stats = observe.stats();
    assert_eq!(stats[0].0, "langfuse");
    assert_eq!(stats[0].1.delivered, 1);
    assert_eq!(stats[0].1.dropped, 0);
    observe.shutdown().await;
}

#[tokio::test]
async fn datadog_gets_log_items_whose_message_is_the_payload() {
    let mock = server().await;
    let base = mock.base_url();
    let observe = Observe::build(&settings(
        &["datadog"],
        &[
            ("DD_API_KEY", "dd-test"),
            ("DD_BASE_URL", &base),
            ("DD_SERVICE", "gateway"),
        ],
    ))
    .unwrap();
    let pipeline = Pipeline::new(observe.layers().clone());
    let (id, _) = call(&pipeline, params(&format!("{base}/v1"), json!({})), |_| {}).await;
    observe.flush().await;
    let sent = recorded(&mock, "/api/v2/logs");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].headers["dd-api-key"], "dd-test");
    let item = &sent[0].body[0];
    assert_eq!(item["ddsource"], "litellm");
    assert_eq!(item["service"], "gateway");
    assert_eq!(item["status"], "info");
    assert!(item["ddtags"].as_str().unwrap().contains("service:gateway"));
    let message: Value = serde_json::from_str(item["message"].as_str().unwrap()).unwrap();
    assert_eq!(message["id"], id);
    assert_eq!(message["status"], "success");
    assert_eq!(message["model"], "openai/gpt-4o-mini");
    assert_eq!(observe.stats()[0].1.delivered, 1);
}

#[tokio::test]
async fn generic_api_posts_payload_arrays_with_its_headers_and_only_failures_when_asked() {
    let mock = server().await;
    let base = mock.base_url();
    let environment = [
        ("GENERIC_LOGGER_ENDPOINT", format!("{base}/webhook")),
        (
            "GENERIC_LOGGER_HEADERS",
            "Authorization=Bearer hook-token,X-Team=a".to_owned(),
        ),
    ];
    let environment: Vec<(&str, &str)> =
        environment.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut only_failures = settings(&[], &environment);
    only_failures.failure_callback = vec!["generic_api".to_owned()];
    let observe = Observe::build(&only_failures).unwrap();
    let pipeline = Pipeline::new(observe.layers().clone());
    let (_, ok) = call(&pipeline, params(&format!("{base}/v1"), json!({})), |_| {}).await;
    assert!(ok);
    // Nothing listens on port 9: the call fails.
    let (failed_id, ok) = call(
        &pipeline,
        params("http://127.0.0.1:9/v1", json!({"num_retries": 0})),
        |_| {},
    )
    .await;
    assert!(!ok);
    observe.flush().await;
    let sent = recorded(&mock, "/webhook");
    assert_eq!(
        sent.len(),
        1,
        "the success is not sent to a failure callback"
    );
    assert_eq!(sent[0].headers["authorization"], "Bearer hook-token");
    assert_eq!(sent[0].headers["x-team"], "a");
    let payloads = sent[0].body.as_array().unwrap();
    assert_eq!(payloads.len(), 1);
    assert_eq!(payloads[0]["id"], failed_id);
    assert_eq!(payloads[0]["status"], "failure");
    assert!(payloads[0]["error_information"]["error_class"].is_string());
}

#[tokio::test]
async fn otel_exports_a_genai_span_per_call_under_the_callers_traceparent() {
    let mock = server().await;
    let base = mock.base_url();
    let observe = Observe::build(&settings(
        &["otel"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &base),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-collector-token=abc"),
            ("OTEL_SERVICE_NAME", "gateway-under-test"),
        ],
    ))
    .unwrap();
    let pipeline = Pipeline::new(observe.layers().clone());
    let parent =
        TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    call(
        &pipeline,
        params(&format!("{base}/v1"), json!({})),
        |call| {
            call.extensions.insert(parent);
        },
    )
    .await;
    let (second_id, _) = call(&pipeline, params(&format!("{base}/v1"), json!({})), |_| {}).await;
    observe.flush().await;
    let sent = recorded(&mock, "/v1/traces");
    assert!(!sent.is_empty());
    assert_eq!(sent[0].headers["x-collector-token"], "abc");
    let spans: Vec<_> = mock
        .state()
        .otlp_exports()
        .iter()
        .flat_map(|bytes| {
            let request = ExportTraceServiceRequest::decode(bytes.as_ref()).unwrap();
            request.resource_spans
        })
        .flat_map(|resource_spans| {
            let service = resource_spans
                .resource
                .as_ref()
                .unwrap()
                .attributes
                .iter()
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref())
                .and_then(|v| v.value.clone());
            assert_eq!(
                service,
                Some(any_value::Value::StringValue(
                    "gateway-under-test".to_owned()
                ))
            );
            resource_spans.scope_spans.into_iter().flat_map(|s| s.spans)
        })
        .collect();
    assert_eq!(spans.len(), 2);
    let attribute = |span: &opentelemetry_proto::tonic::trace::v1::Span, key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.clone())
    };
    let first = &spans[0];
    assert_eq!(first.name, "chat openai/gpt-4o-mini");
    assert_eq!(hex(&first.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(hex(&first.parent_span_id), "00f067aa0ba902b7");
    assert_eq!(first.kind, 2, "SPAN_KIND_SERVER");
    assert_eq!(
        attribute(first, "gen_ai.operation.name"),
        Some(any_value::Value::StringValue("chat".to_owned()))
    );
    assert_eq!(
        attribute(first, "gen_ai.provider.name"),
        Some(any_value::Value::StringValue("openai".to_owned()))
    );
    assert_eq!(
        attribute(first, "gen_ai.request.temperature"),
        Some(any_value::Value::DoubleValue(0.5))
    );
    let Some(any_value::Value::IntValue(input)) = attribute(first, "gen_ai.usage.input_tokens")
    else {
        panic!("input tokens")
    };
    assert!(input > 0);
    assert!(matches!(
        attribute(first, "gen_ai.usage.output_tokens"),
        Some(any_value::Value::IntValue(n)) if n > 0
    ));
    assert!(matches!(
        attribute(first, "gen_ai.response.finish_reasons"),
        Some(any_value::Value::ArrayValue(_))
    ));
    assert!(first.end_time_unix_nano >= first.start_time_unix_nano);
    assert_eq!(first.status.as_ref().unwrap().code, 1, "STATUS_CODE_OK");
    // The upstream got the gateway's span as its parent.
    let upstream = recorded(&mock, "/v1/chat/completions");
    let sent = TraceParent::parse(&upstream[0].headers["traceparent"]).unwrap();
    assert_eq!(format!("{:032x}", sent.trace_id), hex(&first.trace_id));
    assert_eq!(format!("{:016x}", sent.parent_span_id), hex(&first.span_id));
    let sent = TraceParent::parse(&upstream[1].headers["traceparent"]).unwrap();
    assert_eq!(
        format!("{:016x}", sent.parent_span_id),
        hex(&spans[1].span_id)
    );
    // Without a traceparent, the trace id is the call's id.
    let second = &spans[1];
    assert_eq!(hex(&second.trace_id), second_id.replace('-', ""));
    assert!(second.parent_span_id.is_empty());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_jsonl_file_gets_one_payload_per_line() {
    let mock = server().await;
    let base = mock.base_url();
    let path =
        std::env::temp_dir().join(format!("llmrelay-observe-{}.jsonl", uuid::Uuid::new_v4()));
    let observe = Observe::build(&settings(
        &["file"],
        &[("LLMRELAY_LOG_FILE", path.to_str().unwrap())],
    ))
    .unwrap();
    let pipeline = Pipeline::new(observe.layers().clone());
    let (a, _) = call(&pipeline, params(&format!("{base}/v1"), json!({})), |_| {}).await;
    let (b, _) = call(&pipeline, params(&format!("{base}/v1"), json!({})), |_| {}).await;
    observe.flush().await;
    let text = std::fs::read_to_string(&path).unwrap();
    let ids: Vec<String> = text
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, [a, b]);
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn redaction_keeps_messages_and_key_info_out_of_every_integration() {
    let mock = server().await;
    let base = mock.base_url();
    let endpoint = format!("{base}/webhook");
    let mut redacting = settings(&["generic_api"], &[("GENERIC_LOGGER_ENDPOINT", &endpoint)]);
    redacting.turn_off_message_logging = true;
    redacting.redact_user_api_key_info = true;
    let observe = Observe::build(&redacting).unwrap();
    let pipeline = Pipeline::new(observe.layers().clone());
    call(
        &pipeline,
        params(&format!("{base}/v1"), json!({})),
        |call| {
            call.identity.key_alias = Some("alice-key".to_owned());
            call.identity.team_id = Some("team-1".to_owned());
        },
    )
    .await;
    observe.flush().await;
    let sent = recorded(&mock, "/webhook");
    let payload = &sent[0].body[0];
    let text = payload.to_string();
    assert!(!text.contains("hello there"), "{text}");
    assert!(
        !text.contains("alice-key") && !text.contains("team-1"),
        "{text}"
    );
    assert_eq!(payload["messages"][0]["content"], "redacted-by-litellm");
    assert_eq!(
        payload["response"]["choices"][0]["message"]["content"],
        "redacted-by-litellm"
    );
    assert!(payload["metadata"].get("user_api_key_alias").is_none());
    // Usage and cost are still there.
    assert!(payload["total_tokens"].as_u64().unwrap() > 0);
}

/// A writer tests can read back.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_request_log_writes_one_line_per_call_as_text_or_json() {
    let mock = server().await;
    let base = mock.base_url();
    for format in [RequestLogFormat::Text, RequestLogFormat::Json] {
        let buffer = Buffer::default();
        let mut observe = Observe::default();
        observe.add_request_log(
            Arc::new(RequestLog::new(format, false, Box::new(buffer.clone()))),
            QueueConfig::default(),
            Redaction::default(),
        );
        let pipeline = Pipeline::new(observe.layers().clone());
        let (id, _) = call(
            &pipeline,
            params(&format!("{base}/v1"), json!({})),
            |call| {
                call.identity.key_alias = Some("alice-key".to_owned());
                call.identity.team_alias = Some("search team".to_owned());
            },
        )
        .await;
        let (failed, _) = call(
            &pipeline,
            params("http://127.0.0.1:9/v1", json!({"num_retries": 0})),
            |_| {},
        )
        .await;
        observe.flush().await;
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        match format {
            RequestLogFormat::Text => {
                assert!(lines[0].contains(" INFO request "), "{}", lines[0]);
                for part in [
                    format!("request_id={id}"),
                    "key_alias=alice-key".to_owned(),
                    "team=\"search team\"".to_owned(),
                    "model_group=openai/gpt-4o-mini".to_owned(),
                    "status_code=200".to_owned(),
                    "cache_hit=false".to_owned(),
                    "latency_ms=".to_owned(),
                    "cost=".to_owned(),
                    "prompt_tokens=".to_owned(),
                ] {
                    assert!(lines[0].contains(&part), "{part} in {}", lines[0]);
                }
                assert!(lines[1].contains(" WARNING request ") && lines[1].contains(&failed));
                assert!(lines[1].contains("error="), "{}", lines[1]);
            }
            RequestLogFormat::Json => {
                let line: Value = serde_json::from_str(lines[0]).unwrap();
                assert_eq!(line["request_id"], id);
                assert_eq!(line["key_alias"], "alice-key");
                assert_eq!(line["team"], "search team");
                assert_eq!(line["status_code"], 200);
                assert_eq!(line["level"], "INFO");
                assert!(line["total_tokens"].as_u64().unwrap() > 0);
                assert!(line["latency_ms"].as_f64().unwrap() > 0.0);
                assert!(line.get("ttft_ms").is_some());
                let failure: Value = serde_json::from_str(lines[1]).unwrap();
                assert_eq!(failure["status"], "failure");
                assert_eq!(failure["level"], "WARNING");
            }
        }
    }
}

#[tokio::test]
async fn a_slow_receiver_never_slows_calls_and_a_full_queue_counts_drops() {
    let upstream = server().await;
    let slow = MockServer::start(
        "127.0.0.1:0".parse().unwrap(),
        MockConfig {
            latency_ms: 5_000,
            ..MockConfig::default()
        },
    )
    .await
    .unwrap();
    let endpoint = format!("{}/webhook", slow.base_url());
    let observe = Observe::build_tuned(
        &settings(&["generic_api"], &[("GENERIC_LOGGER_ENDPOINT", &endpoint)]),
        |config| {
            config.capacity = 4;
            config.batch_size = 1;
            config.linger = Duration::ZERO;
        },
    )
    .unwrap();
    let pipeline = Pipeline::new(observe.layers().clone());
    let api_base = format!("{}/v1", upstream.base_url());
    let started = Instant::now();
    for _ in 0..20 {
        let (_, ok) = call(&pipeline, params(&api_base, json!({})), |_| {}).await;
        assert!(ok);
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(3),
        "20 calls took {elapsed:?} behind a 5 s receiver"
    );
    let stats = observe.stats()[0].1;
    // One batch is at the receiver, four wait: the rest were dropped and counted.
    assert!(stats.dropped >= 15, "{stats:?}");
    assert_eq!(stats.accepted + stats.dropped, 20, "{stats:?}");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_then_dropped_and_calls_still_succeed() {
    let mock = server().await;
    let base = mock.base_url();
    mock.state().push_scripts(
        (0..3).map(|_| ScriptedResponse::json(503, json!({"error": "down"})).with_path("/webhook")),
    );
    let endpoint = format!("{base}/webhook");
    let observe = Observe::build_tuned(
        &settings(&["generic_api"], &[("GENERIC_LOGGER_ENDPOINT", &endpoint)]),
        |config| {
            config.max_retries = 2;
            config.backoff = Duration::from_millis(1);
            config.max_backoff = Duration::from_millis(2);
        },
    )
    .unwrap();
    let pipeline = Pipeline::new(observe.layers().clone());
    let (_, ok) = call(&pipeline, params(&format!("{base}/v1"), json!({})), |_| {}).await;
    assert!(ok, "the receiver's failure is not the call's");
    observe.flush().await;
    let stats = observe.stats()[0].1;
    assert_eq!(stats.failures, 3, "{stats:?}");
    assert_eq!(stats.dropped, 1, "{stats:?}");
    assert_eq!(stats.delivered, 0, "{stats:?}");
    // The next call goes through once the receiver is back.
    call(&pipeline, params(&format!("{base}/v1"), json!({})), |_| {}).await;
    observe.flush().await;
    assert_eq!(observe.stats()[0].1.delivered, 1);
}

#[tokio::test]
async fn missing_credentials_are_a_start_up_error_and_nothing_configured_registers_nothing() {
    let error = Observe::build(&settings(&["langfuse"], &[])).err().unwrap();
    assert!(error.0.contains("LANGFUSE_PUBLIC_KEY"), "{error}");
    let error = Observe::build(&settings(&["datadog"], &[])).err().unwrap();
    assert!(error.0.contains("DD_API_KEY"));
    let error = Observe::build(&settings(
        &["otel"],
        &[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")],
    ))
    .err()
    .unwrap();
    assert!(error.0.contains("grpc"));
    let nothing = Observe::build(&settings(&["custom.handler", "prometheus"], &[])).unwrap();
    assert!(nothing.layers().is_empty() && nothing.is_empty());
}

#[tokio::test]
async fn langsmith_gets_one_llm_run_per_call() {
    let mock = server().await;
    let base = mock.base_url();
    let observe = Observe::build(&settings(
        &["langsmith"],
        &[
            ("LANGSMITH_API_KEY", "ls-test"),
            ("LANGSMITH_BASE_URL", &base),
            ("LANGSMITH_PROJECT", "gateway"),
        ],
    ))
    .unwrap();
    let pipeline = Pipeline::new(observe.layers().clone());
    let (id, _) = call(&pipeline, params(&format!("{base}/v1"), json!({})), |_| {}).await;
    observe.flush().await;
    let sent = recorded(&mock, "/runs/batch");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].headers["x-api-key"], "ls-test");
    let run = &sent[0].body["post"][0];
    assert_eq!(run["id"], id);
    assert_eq!(run["trace_id"], id);
    assert_eq!(run["run_type"], "llm");
    assert_eq!(run["session_name"], "gateway");
    let dotted = run["dotted_order"].as_str().unwrap();
    assert!(
        dotted.ends_with(&id) && dotted.len() == id.len() + 22,
        "{dotted}"
    );
    assert_eq!(run["inputs"]["messages"][0]["content"], "hello there");
    assert!(run["outputs"]["choices"][0]["message"]["content"].is_string());
    assert!(run["extra"]["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(observe.stats()[0].1.delivered, 1);
}

#[tokio::test]
async fn sentry_gets_an_error_event_envelope_for_failures_only() {
    let mock = server().await;
    let base = mock.base_url();
    let host = base.trim_start_matches("http://");
    let dsn = format!("http://public-key@{host}/42");
    let observe = Observe::build(&settings(
        &["sentry"],
        &[("SENTRY_DSN", &dsn), ("SENTRY_ENVIRONMENT", "test")],
    ))
    .unwrap();
    let pipeline = Pipeline::new(observe.layers().clone());
    call(&pipeline, params(&format!("{base}/v1"), json!({})), |_| {}).await;
    let (failed, ok) = call(
        &pipeline,
        params("http://127.0.0.1:9/v1", json!({"num_retries": 0})),
        |_| {},
    )
    .await;
    assert!(!ok);
    observe.flush().await;
    let sent = recorded(&mock, "/api/42/envelope/");
    assert_eq!(sent.len(), 1, "the success is not sent");
    assert!(sent[0].headers["x-sentry-auth"].contains("sentry_key=public-key"));
    let text = sent[0].body.as_str().unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["dsn"], dsn);
    assert_eq!(lines[1]["type"], "event");
    let event = &lines[2];
    assert_eq!(event["event_id"], lines[0]["event_id"]);
    assert_eq!(event["event_id"], failed.replace('-', ""));
    assert_eq!(event["level"], "error");
    assert_eq!(event["environment"], "test");
    assert!(
        event["exception"]["values"][0]["type"]
            .as_str()
            .unwrap()
            .len()
            > 3
    );
    assert_eq!(event["extra"]["litellm_call_id"], failed);
}
