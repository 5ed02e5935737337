//! LiteLLM's Search API through the engine and the mock, for every search provider: the path,
//! method and credentials the mock checks, the mapped parameters, the parsed results and the
//! price.

use llmrelay_core::{CallKind, ErrorKind};
use llmrelay_providers::Engine;
use serde_json::{Map, Value, json};

fn params(value: Value) -> Map<String, Value> {
    let Value::Object(map) = value else {
        unreachable!()
    };
    map
}

struct Case {
    provider: &'static str,
    /// The mock's prefix plus the provider's documented base path.
    base: &'static str,
    api_key: Option<&'static str>,
    extra: Value,
    method: &'static str,
    path: &'static str,
    /// A field of the body (POST) or the query string (GET) the mapping must set.
    sent: (&'static str, &'static str),
    auth_header: Option<&'static str>,
    cost: Option<f64>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            provider: "perplexity",
            base: "/perplexity",
            api_key: Some("pk"),
            extra: json!({}),
            method: "POST",
            path: "/perplexity/search",
            sent: ("max_results", "3"),
            auth_header: Some("authorization"),
            cost: Some(0.005),
        },
        Case {
            provider: "tavily",
            base: "/tavily",
            api_key: Some("tk"),
            extra: json!({}),
            method: "POST",
            path: "/tavily/search",
            sent: ("country", "\"us\""),
            auth_header: Some("authorization"),
            cost: Some(0.008),
        },
        Case {
            provider: "exa_ai",
            base: "/exa_ai",
            api_key: Some("ek"),
            extra: json!({}),
            method: "POST",
            path: "/exa_ai/search",
            sent: ("numResults", "3"),
            auth_header: Some("x-api-key"),
            cost: Some(0.005),
        },
        Case {
            provider: "serper",
            base: "/serper",
            api_key: Some("sk"),
            extra: json!({}),
            method: "POST",
            path: "/serper/search",
            sent: ("num", "3"),
            auth_header: Some("x-api-key"),
            cost: Some(0.001),
        },
        Case {
            provider: "brave",
            base: "/brave/res/v1/web/search",
            api_key: Some("bk"),
            extra: json!({}),
            method: "GET",
            path: "/brave/res/v1/web/search",
            sent: ("count", "3"),
            auth_header: Some("x-subscription-token"),
            cost: None,
        },
        Case {
            provider: "google_pse",
            base: "/google_pse/customsearch/v1",
            api_key: Some("gk"),
            extra: json!({"search_engine_id": "cx-1"}),
            method: "GET",
            path: "/google_pse/customsearch/v1",
            sent: ("cx", "cx-1"),
            auth_header: None,
            cost: Some(0.005),
        },
        Case {
            provider: "searxng",
            base: "/searxng",
            api_key: None,
            extra: json!({}),
            method: "GET",
            path: "/searxng/search",
            sent: ("format", "json"),
            auth_header: None,
            cost: Some(0.0),
        },
        Case {
            provider: "firecrawl",
            base: "/firecrawl/v2",
            api_key: Some("fk"),
            extra: json!({"max_results": 15}),
            method: "POST",
            path: "/firecrawl/v2/search",
            sent: ("limit", "15"),
            auth_header: Some("authorization"),
            cost: Some(0.00332),
        },
        Case {
            provider: "linkup",
            base: "/linkup/v1",
            api_key: Some("lk"),
            extra: json!({}),
            method: "POST",
            path: "/linkup/v1/search",
            sent: ("maxResults", "3"),
            auth_header: Some("authorization"),
            cost: Some(0.00587),
        },
        Case {
            provider: "parallel_ai",
            base: "/parallel_ai",
            api_key: Some("pak"),
            extra: json!({}),
            method: "POST",
            path: "/parallel_ai/v1/search",
            sent: ("mode", "\"basic\""),
            auth_header: Some("x-api-key"),
            cost: Some(0.005),
        },
        Case {
            provider: "duckduckgo",
            base: "/duckduckgo",
            api_key: None,
            extra: json!({}),
            method: "GET",
            path: "/duckduckgo/",
            sent: ("_max_results", "3"),
            auth_header: None,
            cost: Some(0.0),
        },
        Case {
            provider: "dataforseo",
            base: "/dataforseo/v3/serp/google/organic/live/advanced",
            api_key: Some("login:secret"),
            extra: json!({}),
            method: "POST",
            path: "/dataforseo/v3/serp/google/organic/live/advanced",
            sent: ("depth", "3"),
            auth_header: Some("authorization"),
            cost: Some(0.003),
        },
    ]
}

fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

#[tokio::test]
async fn every_search_provider_end_to_end() {
    let server = crate::server().await;
    let state = server.state();
    for case in cases() {
        state.clear_requests();
        let mut call = params(json!({
            "query": "rust release",
            "search_provider": case.provider,
            "max_results": 3,
            "country": "US",
            "api_base": format!("{}{}", server.base_url(), case.base),
        }));
        if let Some(key) = case.api_key {
            call.insert("api_key".into(), key.into());
        }
        if let Value::Object(extra) = &case.extra {
            call.extend(extra.clone());
        }
        let outcome = Engine.run(CallKind::Search, call).await;
        let result = match outcome {
            Ok(outcome) => outcome.into_json().unwrap(),
            Err(error) => panic!("{}: {error:?}", case.provider),
        };
        let response = &result.response;
        assert_eq!(response["object"], "search", "{}", case.provider);
        let results = response["results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "{}: {response}", case.provider);
        let title = results[0]["title"].as_str().unwrap();
        assert!(
            title.starts_with("Result for rust release"),
            "{}: {title}",
            case.provider
        );
        assert_eq!(
            results[0]["url"], "https://example.com/1",
            "{}",
            case.provider
        );
        assert!(
            !results[0]["snippet"].as_str().unwrap().is_empty(),
            "{}",
            case.provider
        );
        assert_eq!(result.hidden.response_cost, case.cost, "{}", case.provider);
        assert_eq!(result.hidden.custom_llm_provider, case.provider);
        assert_eq!(result.hidden.model, format!("{}/search", case.provider));

        let requests = state.requests();
        assert_eq!(requests.len(), 1, "{}", case.provider);
        let request = &requests[0];
        assert_eq!(request.method, case.method, "{}", case.provider);
        assert_eq!(request.path, case.path, "{}", case.provider);
        if let Some(header) = case.auth_header {
            assert!(
                request.headers.contains_key(header),
                "{}: {:?}",
                case.provider,
                request.headers
            );
        }
        let (field, expected) = case.sent;
        let sent = if case.method == "GET" {
            query_value(request.query.as_deref().unwrap_or_default(), field)
        } else {
            let body = if request.body.is_array() {
                &request.body[0]
            } else {
                &request.body
            };
            body.get(field).map(Value::to_string)
        };
        assert_eq!(
            sent.as_deref(),
            Some(expected),
            "{}: {field}",
            case.provider
        );
        // Nothing LiteLLM-internal goes upstream.
        let raw = format!(
            "{}{}",
            request.body,
            request.query.clone().unwrap_or_default()
        );
        assert!(
            !raw.contains("search_provider") && !raw.contains("api_base"),
            "{}: {raw}",
            case.provider
        );
    }
}

#[tokio::test]
async fn upstream_errors_are_classified_and_the_callers_headers_cannot_replace_the_key() {
    let server = crate::server().await;
    let call = params(json!({
        "query": "q", "search_provider": "tavily", "api_key": "k",
        "api_base": format!("{}/tavily", server.base_url()),
        "extra_headers": {"x-mock-status": "429"},
    }));
    let error = Engine.run(CallKind::Search, call).await.err().unwrap();
    assert_eq!(error.kind(), ErrorKind::RateLimit);
    assert_eq!(error.inner().provider.as_deref(), Some("tavily"));
    // A caller's `Authorization` header does not replace the key the engine sends.
    let call = params(json!({
        "query": "q", "search_provider": "tavily", "api_key": "k",
        "api_base": format!("{}/tavily", server.base_url()),
        "extra_headers": {"Authorization": "Bearer "},
    }));
    let result = Engine.run(CallKind::Search, call).await;
    assert!(
        result.is_ok(),
        "the engine's own key wins over a caller's header"
    );
}

#[tokio::test]
async fn bad_inputs_fail_before_any_request() {
    let server = crate::server().await;
    let state = server.state();
    state.clear_requests();
    for (call, kind, param) in [
        (
            json!({"query": "q", "search_provider": "nope"}),
            ErrorKind::BadRequest,
            Some("search_provider"),
        ),
        (
            json!({"query": 1, "search_provider": "tavily"}),
            ErrorKind::BadRequest,
            Some("query"),
        ),
        (
            json!({"query": "q", "search_provider": "tavily", "max_results": -1}),
            ErrorKind::BadRequest,
            Some("max_results"),
        ),
        (
            json!({"query": "q", "search_provider": "exa_ai", "api_base": "http://127.0.0.1:9"}),
            ErrorKind::Authentication,
            None,
        ),
    ] {
        let error = Engine
            .run(CallKind::Search, params(call.clone()))
            .await
            .err()
            .unwrap();
        assert_eq!(error.kind(), kind, "{call}");
        assert_eq!(error.inner().param.as_deref(), param, "{call}");
    }
    assert!(state.requests().is_empty());
}
