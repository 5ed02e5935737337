//! End-to-end: the router over the engine against the project's mock upstream.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use llmrelay_core::ErrorKind;
use llmrelay_mock::{MockConfig, MockServer};
use llmrelay_pipeline::Dispatched;
use llmrelay_providers::engine::{ChatOutcome, Outcome};
use llmrelay_router::Router;
use serde_json::{Map, Value, json};

async fn server() -> MockServer {
    MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap()
}

/// A deployment of `group` on the mock; `headers` are x-mock-* fault headers it always sends.
fn deployment(server: &MockServer, group: &str, id: &str, extra: Value, headers: Value) -> Value {
    let mut params = json!({
        "model": "openai/gpt-4o-mini",
        "api_base": format!("{}/v1", server.base_url()),
        "api_key": "sk-test",
        "extra_headers": headers,
    });
    if let (Value::Object(params), Value::Object(extra)) = (&mut params, extra) {
        params.extend(extra);
    }
    json!({"model_name": group, "litellm_params": params, "model_info": {"id": id}})
}

fn request(model: &str, extra: Value) -> Map<String, Value> {
    let mut base = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    match base {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// A chat call through the Router (no pipeline layers).
async fn chat_call(
    router: &Router,
    params: Map<String, Value>,
) -> llmrelay_core::Result<Dispatched> {
    router.call(llmrelay_core::CallKind::Chat, params).await
}

fn model_id(dispatched: &Dispatched) -> String {
    dispatched.outcome.hidden().model_id.clone().unwrap()
}

/// What the proxy sends as LiteLLM's `x-litellm-*` routing headers.
fn header(dispatched: &Dispatched, name: &str) -> Option<String> {
    let route = &dispatched.route;
    match name {
        "x-litellm-model-group" => Some(route.model_group.clone()),
        "x-litellm-attempted-retries" => Some(route.retries.to_string()),
        "x-litellm-attempted-fallbacks" => Some(route.fallbacks.to_string()),
        other => dispatched
            .outcome
            .hidden()
            .headers
            .iter()
            .rev()
            .find(|(n, _)| n == other)
            .map(|(_, v)| v.clone()),
    }
}

#[tokio::test]
async fn retry_moves_to_the_healthy_deployment() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "g", "bad", json!({"order": 1}), json!({"x-mock-status": "500"})),
            deployment(&server, "g", "good", json!({"order": 2}), json!({})),
        ],
        "num_retries": 2,
    }))
    .unwrap();
    let outcome = chat_call(&router, request("g", json!({}))).await.unwrap();
    assert_eq!(model_id(&outcome), "good");
    assert_eq!(
        header(&outcome, "x-litellm-attempted-retries").as_deref(),
        Some("1")
    );
    assert_eq!(
        header(&outcome, "x-litellm-model-group").as_deref(),
        Some("g")
    );
    // Exactly two upstream calls: the engine made no retries of its own.
    assert_eq!(server.state().requests().len(), 2);
}

#[tokio::test]
async fn non_retryable_errors_are_not_retried() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [deployment(&server, "g", "a", json!({}), json!({"x-mock-status": "400"}))],
        "num_retries": 3,
    }))
    .unwrap();
    let error = chat_call(&router, request("g", json!({})))
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::BadRequest);
    assert_eq!(server.state().requests().len(), 1);
    // A retry policy can ask for retries of bad requests anyway.
    let router = Router::from_value(json!({
        "model_list": [deployment(&server, "g", "a", json!({}), json!({"x-mock-status": "400"}))],
        "retry_policy": {"BadRequestErrorRetries": 2},
        "retry_after": 0,
    }))
    .unwrap();
    server.state().clear_requests();
    let _ = chat_call(&router, request("g", json!({})))
        .await
        .err()
        .unwrap();
    assert_eq!(server.state().requests().len(), 3);
}

#[tokio::test]
async fn rate_limited_deployment_cools_down_at_once() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "g", "limited", json!({"weight": 1000}), json!({"x-mock-status": "429", "x-mock-retry-after": "0"})),
            deployment(&server, "g", "ok", json!({"weight": 1}), json!({})),
        ],
        "cooldown_time": 30,
    }))
    .unwrap();
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let told = std::sync::Arc::clone(&heard);
    router.on_cooldown(move |event| {
        told.lock().unwrap().push((
            event.deployment.id.clone(),
            event.cooldown,
            event.error.status_code(),
        ));
    });
    // The heavy weight makes the limited deployment the first pick; its 429 cools it down
    // and the retry lands on the other one.
    let outcome = chat_call(&router, request("g", json!({}))).await.unwrap();
    assert_eq!(model_id(&outcome), "ok");
    assert_eq!(router.cooldown_list(), vec!["limited".to_owned()]);
    assert_eq!(
        *heard.lock().unwrap(),
        [("limited".to_owned(), Duration::from_secs(30), 429)],
        "the listener hears the cooldown once"
    );
    server.state().clear_requests();
    for _ in 0..10 {
        let outcome = chat_call(&router, request("g", json!({}))).await.unwrap();
        assert_eq!(model_id(&outcome), "ok");
    }
    assert_eq!(server.state().requests().len(), 10);
    let stats = router.deployment_stats();
    let limited = stats.iter().find(|s| s.model_id == "limited").unwrap();
    assert!(limited.cooldown_until_ms.is_some());
}

#[tokio::test]
async fn allowed_fails_delays_the_cooldown() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "g", "flaky", json!({"order": 1}), json!({"x-mock-status": "503"})),
            deployment(&server, "g", "backup", json!({"order": 2}), json!({})),
        ],
        "allowed_fails": 2,
        "num_retries": 1,
        "cooldown_time": 60,
    }))
    .unwrap();
    for round in 1..=3 {
        let outcome = chat_call(&router, request("g", json!({}))).await.unwrap();
        assert_eq!(model_id(&outcome), "backup");
        let cooling = router.cooldown_list().contains(&"flaky".to_owned());
        // Cooled down once its fails exceed allowed_fails (the third failure).
        assert_eq!(cooling, round == 3, "round {round}");
    }
}

#[tokio::test]
async fn fallbacks_after_retries_and_per_request() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "primary", "p", json!({}), json!({"x-mock-status": "500"})),
            deployment(&server, "secondary", "s", json!({}), json!({})),
            deployment(&server, "other", "o", json!({}), json!({})),
        ],
        "num_retries": 1,
        "retry_after": 0,
        "fallbacks": [{"primary": ["secondary"]}],
    }))
    .unwrap();
    let started = Instant::now();
    let outcome = chat_call(&router, request("primary", json!({})))
        .await
        .unwrap();
    assert_eq!(model_id(&outcome), "s");
    assert_eq!(
        header(&outcome, "x-litellm-attempted-fallbacks").as_deref(),
        Some("1")
    );
    assert_eq!(
        header(&outcome, "x-litellm-model-group").as_deref(),
        Some("secondary")
    );
    // One retry on the single primary deployment (with backoff), then the fallback.
    assert_eq!(server.state().requests().len(), 3);
    assert!(started.elapsed() < Duration::from_secs(5));
    // A per-request list wins over the router's.
    let outcome = chat_call(
        &router,
        request(
            "primary",
            json!({"fallbacks": [{"primary": ["other"]}], "num_retries": 0}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(model_id(&outcome), "o");
    // Without any fallback the error comes back.
    let error = chat_call(
        &router,
        request(
            "primary",
            json!({"fallbacks": [{"primary": []}], "num_retries": 0}),
        ),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(error.kind(), ErrorKind::InternalServer);
}

#[tokio::test]
async fn a_failed_fallback_raises_the_requested_groups_error_with_litellms_note() {
    let server = server().await;
    let model_list = json!([
        deployment(
            &server,
            "primary",
            "p",
            json!({}),
            json!({"x-mock-status": "429"})
        ),
        deployment(
            &server,
            "secondary",
            "s",
            json!({}),
            json!({"x-mock-status": "500"})
        ),
    ]);
    let router = Router::from_value(json!({
        "model_list": model_list, "num_retries": 0,
        "fallbacks": [{"primary": ["secondary"]}],
    }))
    .unwrap();
    let error = chat_call(&router, request("primary", json!({})))
        .await
        .err()
        .unwrap();
    assert_eq!(
        error.kind(),
        ErrorKind::RateLimit,
        "the requested group's error"
    );
    let note = "\n\nLiteLLM: model group 'primary' failed with the error above. Fallback to secondary also failed: litellm.InternalServerError: ";
    assert!(error.message().contains(note), "{}", error.message());
    let quiet = Router::from_value(json!({
        "model_list": model_list, "num_retries": 0,
        "expose_router_debug_in_errors": false,
    }))
    .unwrap();
    let error = chat_call(&quiet, request("primary", json!({})))
        .await
        .err()
        .unwrap();
    assert!(
        !error.message().contains("LiteLLM: model group"),
        "{}",
        error.message()
    );
}

#[tokio::test]
async fn context_window_and_content_policy_fallbacks() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "small", "sm", json!({}), json!({"x-mock-status": "400",
                "x-mock-error-message": "This model's maximum context length is 8192 tokens"})),
            deployment(&server, "filtered", "f", json!({}), json!({"x-mock-status": "400",
                "x-mock-error-code": "content_policy_violation", "x-mock-error-message": "content policy"})),
            deployment(&server, "large", "lg", json!({}), json!({})),
            deployment(&server, "safe", "sf", json!({}), json!({})),
            deployment(&server, "generic", "gn", json!({}), json!({})),
        ],
        "context_window_fallbacks": [{"small": ["large"]}],
        "content_policy_fallbacks": [{"filtered": ["safe"]}],
        "fallbacks": [{"*": ["generic"]}],
    }))
    .unwrap();
    let outcome = chat_call(&router, request("small", json!({})))
        .await
        .unwrap();
    assert_eq!(model_id(&outcome), "lg");
    let outcome = chat_call(&router, request("filtered", json!({})))
        .await
        .unwrap();
    assert_eq!(model_id(&outcome), "sf");
    // Neither error is retried within its group.
    let calls = server.state().requests();
    assert_eq!(calls.len(), 4);
}

#[tokio::test]
async fn pre_call_checks_skip_small_context_windows() {
    let server = server().await;
    let long_text = "hello ".repeat(300);
    let router = Router::from_value(json!({
        "model_list": [
            {"model_name": "g", "litellm_params": {"model": "openai/gpt-4o-mini", "api_base": format!("{}/v1", server.base_url()), "api_key": "k"},
             "model_info": {"id": "tiny", "max_input_tokens": 100}},
            {"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_base": format!("{}/v1", server.base_url()), "api_key": "k"},
             "model_info": {"id": "roomy"}},
        ],
        "enable_pre_call_checks": true,
    }))
    .unwrap();
    for _ in 0..5 {
        let params = request(
            "g",
            json!({"messages": [{"role": "user", "content": long_text}]}),
        );
        let outcome = chat_call(&router, params).await.unwrap();
        assert_eq!(model_id(&outcome), "roomy");
    }
}

#[tokio::test]
async fn all_cooling_down_waits_for_the_first_to_return() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "g", "a", json!({}), json!({"x-mock-fail-times": "2", "x-mock-fail-key": "cool-wait", "x-mock-status": "401"})),
        ],
        "cooldown_time": 0.3,
        "num_retries": 0,
    }))
    .unwrap();
    // A 401 cools down even a single deployment (LiteLLM: non-retryable status).
    let error = chat_call(&router, request("g", json!({})))
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert_eq!(router.cooldown_list().len(), 1);
    // The next request waits for the cooldown to end rather than failing at once.
    let started = Instant::now();
    let error = chat_call(&router, request("g", json!({})))
        .await
        .err()
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?} {error}",
        started.elapsed()
    );
    assert_eq!(error.kind(), ErrorKind::Authentication);
    // With a wait bound below the cooldown it fails clearly, in LiteLLM's words.
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "g", "a", json!({}), json!({"x-mock-status": "401"})),
        ],
        "cooldown_time": 30,
        "max_cooldown_wait": 0.1,
        "num_retries": 0,
    }))
    .unwrap();
    let _ = chat_call(&router, request("g", json!({})))
        .await
        .err()
        .unwrap();
    let started = Instant::now();
    let error = chat_call(&router, request("g", json!({})))
        .await
        .err()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(error.kind(), ErrorKind::RateLimit);
    assert!(
        error
            .message()
            .starts_with("No deployments available for selected model"),
        "{}",
        error.message()
    );
    assert!(error.retry_after().unwrap() > Duration::from_secs(20));
}

#[tokio::test]
async fn rpm_limits_queue_then_fail_with_retry_after() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [deployment(&server, "g", "a", json!({"rpm": 2}), json!({}))],
        "max_queue_wait": 0.2,
        "max_queue_size": 1,
    }))
    .unwrap();
    // The window slides (a minute boundary frees nothing), so no retry across minutes.
    chat_call(&router, request("g", json!({}))).await.unwrap();
    chat_call(&router, request("g", json!({}))).await.unwrap();
    let started = Instant::now();
    let waiting = chat_call(&router, request("g", json!({})));
    let overflow = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        chat_call(&router, request("g", json!({}))).await
    };
    let (waited, overflowed) = tokio::join!(waiting, overflow);
    let error = waited.err().unwrap();
    assert_eq!(error.kind(), ErrorKind::RateLimit);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(error.retry_after().unwrap() >= Duration::from_secs(1));
    let overflow = overflowed.err().unwrap();
    assert!(
        overflow.message().contains("queue is full"),
        "{}",
        overflow.message()
    );
    assert_eq!(server.state().requests().len(), 2);
}

#[tokio::test]
async fn tpm_limit_holds_under_concurrency_with_real_tokens_settled() {
    let server = server().await;
    // 40 concurrent calls against a tpm that fits only a few: the limiter reserves input plus
    // `max_tokens` before each call and settles to the real total after, so admitted tokens
    // stay within the limit plus one call's tokens.
    let router = Router::from_value(json!({
        "model_list": [deployment(&server, "g", "a", json!({"tpm": 200}), json!({}))],
        "max_queue_wait": 0,
    }))
    .unwrap();
    let calls = (0..40).map(|_| chat_call(&router, request("g", json!({"max_tokens": 12}))));
    let results = futures::future::join_all(calls).await;
    let served: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let refused = results
        .iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.kind() == ErrorKind::RateLimit))
        .count();
    assert_eq!(served.len() + refused, 40);
    let per_call = served[0]
        .outcome
        .usage()
        .map(|u| u.total_tokens)
        .expect("usage");
    let admitted: u64 = served.len() as u64 * per_call;
    assert!(admitted <= 200 + per_call, "{admitted} tokens admitted");
    assert!(served.len() >= 2, "{} served", served.len());
    // The limit's headers come from the limiter.
    let headers = &served[0].outcome.hidden().headers;
    assert!(
        headers
            .iter()
            .any(|(name, value)| name == "x-ratelimit-limit-tokens" && value == "200"),
        "{headers:?}"
    );
}

#[tokio::test]
async fn streams_fall_back_before_the_first_chunk() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "a", "broken", json!({}), json!({"x-mock-error-after": "0"})),
            deployment(&server, "b", "fine", json!({}), json!({})),
        ],
        "fallbacks": [{"a": ["b"]}],
        "num_retries": 0,
    }))
    .unwrap();
    let outcome = chat_call(&router, request("a", json!({"stream": true})))
        .await
        .unwrap();
    assert_eq!(model_id(&outcome), "fine");
    let Outcome::Chat(ChatOutcome::Stream(mut stream)) = outcome.outcome else {
        panic!("stream expected")
    };
    let mut chunks = 0;
    while let Some(chunk) = stream.stream.next().await {
        chunk.unwrap();
        chunks += 1;
    }
    assert!(chunks > 2);
    drop(stream);
    // The stream's tokens were booked on its deployment when it ended.
    let stats = router.deployment_stats();
    let fine = stats.iter().find(|s| s.model_id == "fine").unwrap();
    assert!(fine.usage.tpm > 0, "{fine:?}");
    assert_eq!(fine.in_flight, 0);
    assert!(fine.average_ttft.is_some());
}

#[tokio::test]
async fn wildcards_aliases_and_model_list_management() {
    let server = server().await;
    let base = format!("{}/v1", server.base_url());
    let router = Router::from_value(json!({
        "model_list": [
            {"model_name": "openai/*", "litellm_params": {"model": "openai/*", "api_base": base, "api_key": "k"}},
            {"model_name": "*", "litellm_params": {"model": "openai/*", "api_base": base, "api_key": "k"}, "model_info": {"id": "catch-all"}},
            {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "api_base": base, "api_key": "k"}, "model_info": {"id": "exact"}},
        ],
        "model_group_alias": {"gpt4": "gpt-4o"},
    }))
    .unwrap();
    chat_call(&router, request("openai/gpt-4.1-mini", json!({})))
        .await
        .unwrap();
    assert_eq!(
        server.state().requests().last().unwrap().body["model"],
        "gpt-4.1-mini"
    );
    let outcome = chat_call(&router, request("my-model", json!({})))
        .await
        .unwrap();
    assert_eq!(model_id(&outcome), "catch-all");
    assert_eq!(
        server.state().requests().last().unwrap().body["model"],
        "my-model"
    );
    let outcome = chat_call(&router, request("gpt4", json!({})))
        .await
        .unwrap();
    assert_eq!(model_id(&outcome), "exact");
    // The same resolution, without a call (the proxy's model check).
    assert!(router.serves("gpt4") && router.serves("openai/o3") && router.serves("anything"));
    let group = router.group_deployments("openai/o3").unwrap();
    assert_eq!(group[0].upstream_model("openai/o3"), "openai/o3");
    assert_eq!(
        router.group_deployments("gpt4").unwrap()[0].model_info["id"],
        "exact"
    );
    assert_eq!(router.get_model_list(None).len(), 4); // three + the visible alias
    assert_eq!(
        router.get_model_ids(Some("gpt-4o")),
        vec!["exact".to_owned()]
    );
    // Ids are LiteLLM's hash when not given.
    let generated = &router.get_model_ids(Some("openai/*"))[0];
    assert_eq!(generated.len(), 64);
    assert!(router.get_model_info("exact").is_some());
    let added = router
        .add_deployment(json!({"model_name": "new", "litellm_params": {"model": "openai/gpt-4o", "api_base": base, "api_key": "k"}, "model_info": {"id": "n1"}}))
        .unwrap();
    assert!(added.is_some());
    assert!(router.add_deployment(json!({"model_name": "new", "litellm_params": {"model": "openai/x"}, "model_info": {"id": "n1"}})).unwrap().is_none());
    assert!(router.delete_deployment("n1").is_some());
    assert!(router.delete_deployment("n1").is_none());
    let error = router
        .set_model_list(json!([{"model_name": "x", "litellm_params": {"model": 1}}]))
        .unwrap_err();
    assert!(
        error
            .message()
            .contains("model_list[0].litellm_params.model"),
        "{}",
        error.message()
    );
    router
        .set_model_list(json!([{"model_name": "only", "litellm_params": {"model": "openai/gpt-4o", "api_base": base, "api_key": "k"}}]))
        .unwrap();
    assert_eq!(router.get_model_names(), vec!["only".to_owned()]);
}

#[tokio::test]
async fn unknown_model_is_a_bad_request() {
    let router = Router::from_value(json!({"model_list": []})).unwrap();
    let error = chat_call(&router, request("nope", json!({})))
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::BadRequest);
    assert!(
        error
            .message()
            .contains("There are no healthy deployments for this model")
    );
}

#[tokio::test]
async fn health_check_reports_endpoints() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "g", "up", json!({}), json!({})),
            deployment(&server, "g", "down", json!({}), json!({"x-mock-status": "401"})),
            {"model_name": "emb", "litellm_params": {"model": "openai/text-embedding-3-small", "api_base": format!("{}/v1", server.base_url()), "api_key": "k"}, "model_info": {"id": "e"}},
        ],
        "enable_health_check_routing": true,
    }))
    .unwrap();
    let report = router.health_check(None).await;
    assert_eq!(report.healthy_count, 2);
    assert_eq!(report.unhealthy_count, 1);
    assert_eq!(report.unhealthy_endpoints[0].model_id, "down");
    assert!(
        report.unhealthy_endpoints[0]
            .error
            .as_deref()
            .unwrap()
            .contains("authentication")
    );
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["healthy_endpoints"][0].get("api_key").is_none());
    assert!(json["healthy_endpoints"][0]["model"].is_string());
    // The probes were cheap: max_tokens 1 for chat, one input for embeddings.
    let requests = server.state().requests();
    let embedding = requests
        .iter()
        .find(|r| r.path.ends_with("/embeddings"))
        .unwrap();
    assert_eq!(embedding.body["input"], "ping");
    let chat = requests
        .iter()
        .find(|r| r.path.ends_with("/chat/completions"))
        .unwrap();
    assert_eq!(chat.body["max_tokens"], 1);
    // Health-check routing avoids the unhealthy deployment.
    for _ in 0..10 {
        let outcome = chat_call(&router, request("g", json!({}))).await.unwrap();
        assert_eq!(model_id(&outcome), "up");
    }
    let stats = router.deployment_stats();
    assert!(
        !stats
            .iter()
            .find(|s| s.model_id == "down")
            .unwrap()
            .health
            .as_ref()
            .unwrap()
            .healthy
    );
}

#[tokio::test]
async fn background_health_checks_run() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [deployment(&server, "g", "up", json!({}), json!({}))],
        "background_health_checks": true,
        "health_check_interval": 0.1,
    }))
    .unwrap();
    tokio::time::sleep(Duration::from_millis(350)).await;
    let probes = server.state().requests().len();
    assert!(probes >= 2, "{probes}");
    assert!(
        router.deployment_stats()[0]
            .health
            .as_ref()
            .unwrap()
            .healthy
    );
    router.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = server.state().requests().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.state().requests().len(), after);
}

#[tokio::test]
async fn queued_requests_are_served_by_priority_when_capacity_returns() {
    let server = server().await;
    let list = |timeout: u64| {
        json!([deployment(
            &server,
            "g",
            "a",
            json!({"rpm": 1, "timeout": timeout}),
            json!({})
        )])
    };
    let router = Router::from_value(json!({"model_list": list(30), "max_queue_wait": 3})).unwrap();
    let minute = llmrelay_router::deployment::minute_of(llmrelay_router::deployment::now_ms());
    chat_call(&router, request("g", json!({}))).await.unwrap();
    let low = {
        let router = router.clone();
        tokio::spawn(async move {
            let result = chat_call(
                &router,
                request("g", json!({"priority": 9, "max_queue_wait": 1})),
            )
            .await;
            (result.is_ok(), Instant::now())
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let high = {
        let router = router.clone();
        tokio::spawn(async move {
            let result = chat_call(&router, request("g", json!({"priority": 0}))).await;
            (result.is_ok(), Instant::now())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(router.queue_len(), 2);
    // A changed deployment starts a fresh budget of one request: the urgent request, though it came
    // later, takes it; the other waits out its max_queue_wait.
    router.set_model_list(list(31)).unwrap();
    let (high_ok, _) = high.await.unwrap();
    let (low_ok, _) = low.await.unwrap();
    if llmrelay_router::deployment::minute_of(llmrelay_router::deployment::now_ms()) != minute {
        return; // a new minute freed capacity for both; ordering is not observable
    }
    assert!(high_ok);
    assert!(!low_ok);
    assert_eq!(router.queue_len(), 0);
}

#[tokio::test]
async fn allowed_fails_policy_and_default_fallbacks() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "g", "strict", json!({"order": 1}), json!({"x-mock-status": "500"})),
            deployment(&server, "g", "spare", json!({"order": 2}), json!({"x-mock-status": "500"})),
            deployment(&server, "last-resort", "lr", json!({}), json!({})),
        ],
        // No tolerance for server errors; rate limits would get 10.
        "allowed_fails_policy": {"InternalServerErrorAllowedFails": 0, "RateLimitErrorAllowedFails": 10},
        "num_retries": 1,
        "retry_after": 0,
        "default_fallbacks": ["last-resort"],
    }))
    .unwrap();
    let outcome = chat_call(&router, request("g", json!({}))).await.unwrap();
    // Both deployments failed once, each cooled down at its first server error, and the
    // default fallback answered.
    assert_eq!(model_id(&outcome), "lr");
    let mut cooling = router.cooldown_list();
    cooling.sort();
    assert_eq!(cooling, vec!["spare".to_owned(), "strict".to_owned()]);
    // A deployment-level policy overrides the router's.
    let router = Router::from_value(json!({
        "model_list": [
            {"model_name": "g", "litellm_params": {"model": "openai/gpt-4o-mini", "api_base": format!("{}/v1", server.base_url()),
              "api_key": "k", "extra_headers": {"x-mock-status": "500"}, "order": 1},
             "model_info": {"id": "tolerant", "allowed_fails_policy": {"InternalServerErrorAllowedFails": 5}}},
            deployment(&server, "g", "ok", json!({"order": 2}), json!({})),
        ],
        "allowed_fails_policy": {"InternalServerErrorAllowedFails": 0},
        "num_retries": 1,
    }))
    .unwrap();
    chat_call(&router, request("g", json!({}))).await.unwrap();
    assert!(router.cooldown_list().is_empty());
}

#[tokio::test]
async fn deployment_params_merge_under_request_params() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [deployment(&server, "g", "a", json!({"temperature": 0.3, "max_retries": 7, "rpm": 100}), json!({}))],
        "default_litellm_params": {"top_p": 0.5, "temperature": 1.0},
    }))
    .unwrap();
    chat_call(
        &router,
        request("g", json!({"temperature": 0.9, "metadata": {"k": "v"}})),
    )
    .await
    .unwrap();
    let body = server.state().requests().last().unwrap().body.clone();
    assert_eq!(body["temperature"], 0.9);
    assert_eq!(body["top_p"], 0.5);
    assert_eq!(body["model"], "gpt-4o-mini");
    // Routing fields and router options stay out of the upstream body.
    for key in ["rpm", "max_retries", "num_retries", "model_id", "metadata"] {
        assert!(body.get(key).is_none(), "{key} leaked: {body}");
    }
}

/// The pipeline's probe layers on Router calls: every attempt of a retried and fallen-back
/// call is seen with its group and deployment, mock_testing_fallbacks makes the first group
/// fail at once, and the call is booked once, as the group that answered.
#[tokio::test]
async fn pipeline_layers_see_every_router_attempt() {
    use llmrelay_pipeline::probes::{self, Journal};
    use llmrelay_pipeline::{Call, Origin, Pipeline};
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "primary", "p1", json!({"order": 1}), json!({"x-mock-status": "500"})),
            deployment(&server, "primary", "p2", json!({"order": 2}), json!({"x-mock-status": "500"})),
            deployment(&server, "backup", "b1", json!({}), json!({})),
        ],
        "num_retries": 1,
        "retry_after": 0,
        "fallbacks": [{"primary": ["backup"]}],
    }))
    .unwrap();
    let journal = std::sync::Arc::new(Journal::default());
    let pipeline = Pipeline::new(probes::all(&journal));
    let params = request(
        "primary",
        json!({"metadata": {"probe": {"attempts": true, "reserve": 1.5}}}),
    );
    let call = Call::parse(llmrelay_core::CallKind::Chat, params, Origin::Sdk).unwrap();
    let answer = pipeline.run(Box::new(call), &router).await.unwrap();
    assert_eq!(answer.route().model_group, "backup");
    assert_eq!(answer.route().fallbacks, 1);
    let llmrelay_pipeline::Answer::Whole(whole) = answer else {
        panic!("whole expected")
    };
    whole.settle();
    let attempts = journal.matching("attempt");
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert!(attempts[0].starts_with("attempt 0 retry=0 fallback=0 group=primary deployment=p"));
    assert!(attempts[0].ends_with("internal_server"));
    assert!(attempts[1].starts_with("attempt 1 retry=1 fallback=0 group=primary deployment=p"));
    assert_eq!(
        attempts[2],
        "attempt 2 retry=0 fallback=1 group=backup deployment=b1 → ok"
    );
    let books = journal.matching("books");
    assert_eq!(books.len(), 1);
    assert!(books[0].starts_with("books success") && books[0].contains("reserved=1.5"));
    // LiteLLM's mock_testing_fallbacks: the requested group fails at once, with no attempt.
    let params = request(
        "backup",
        json!({"mock_testing_fallbacks": true, "fallbacks": ["primary", "backup"], "metadata": {"probe": {"attempts": true}}}),
    );
    let call = Call::parse(llmrelay_core::CallKind::Chat, params, Origin::Sdk).unwrap();
    let answer = pipeline.run(Box::new(call), &router).await;
    let served = answer.unwrap();
    assert_eq!(served.route().model_group, "backup");
    assert_eq!(served.route().fallbacks, 2);
}

#[test]
fn a_teams_public_model_name_maps_to_its_deployment() {
    // LiteLLM's `map_team_model`.
    let router = Router::from_value(json!({
        "model_list": [
            {"model_name": "model_name_t1_abc", "litellm_params": {"model": "openai/gpt-4o-mini"},
             "model_info": {"team_id": "t1", "team_public_model_name": "test-model"}},
            {"model_name": "test-model", "litellm_params": {"model": "openai/gpt-4o"}},
        ],
    }))
    .unwrap();
    assert_eq!(
        router.map_team_model("test-model", "t1").as_deref(),
        Some("model_name_t1_abc")
    );
    assert_eq!(router.map_team_model("test-model", "t2"), None);
    assert_eq!(router.map_team_model("other", "t1"), None);
}

#[tokio::test]
async fn tag_routing_chooses_the_tagged_deployment() {
    let server = server().await;
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "g", "free", json!({"tags": ["free"]}), json!({})),
            deployment(&server, "g", "paid", json!({"tags": ["paid"]}), json!({})),
            deployment(&server, "g", "fallback", json!({"tags": ["default"]}), json!({})),
        ],
        "enable_tag_filtering": true,
    }))
    .unwrap();
    for _ in 0..5 {
        let paid = request("g", json!({"metadata": {"tags": ["paid"]}}));
        assert_eq!(model_id(&chat_call(&router, paid).await.unwrap()), "paid");
        let untagged = request("g", json!({}));
        assert_eq!(
            model_id(&chat_call(&router, untagged).await.unwrap()),
            "fallback"
        );
    }
    // `get_available_deployment` reads the same tags.
    let chosen = router
        .get_available_deployment("g", request("g", json!({"metadata": {"tags": ["free"]}})))
        .unwrap();
    assert_eq!(chosen["model_info"]["id"], "free");
    // A tag the group knows but cannot serve is refused before any upstream call.
    let before = server.state().requests().len();
    let error = chat_call(
        &router,
        request("g", json!({"metadata": {"tags": ["paid", "!paid"]}})),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(error.status_code(), 401);
    assert!(
        error
            .message()
            .starts_with("Not allowed to access model due to tags configuration. Passed model=g and tags=['paid', '!paid']"),
        "{error}"
    );
    assert_eq!(server.state().requests().len(), before);

    // Retries stay among the tagged deployments: the other one is never tried.
    let router = Router::from_value(json!({
        "model_list": [
            deployment(&server, "h", "broken", json!({"tags": ["eu"]}), json!({"x-mock-status": "500"})),
            deployment(&server, "h", "other", json!({"tags": ["us"]}), json!({})),
        ],
        "enable_tag_filtering": true,
        "num_retries": 1,
        "tag_routing_prefix": "route:",
    }))
    .unwrap();
    let before = server.state().requests().len();
    let started = Instant::now();
    let error = chat_call(
        &router,
        request("h", json!({"metadata": {"tags": ["route:eu"]}})),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(error.kind(), ErrorKind::InternalServer, "{error}");
    assert_eq!(server.state().requests().len(), before + 2);
    // With no other deployment the tags allow, the retry backs off (0.5 s, jittered).
    assert!(
        started.elapsed() >= Duration::from_millis(350),
        "{:?}",
        started.elapsed()
    );
    let us = chat_call(
        &router,
        request("h", json!({"metadata": {"tags": ["route:us"]}})),
    )
    .await
    .unwrap();
    assert_eq!(model_id(&us), "other");
}
