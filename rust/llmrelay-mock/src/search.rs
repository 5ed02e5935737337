//! The search providers of LiteLLM's Search API, each under `/<provider>` followed by its
//! documented path (several document `/search` or `/v1/search`, so the prefix keeps them
//! apart): method and credentials checked, the query required, and an answer in the provider's
//! documented response shape whose first result's title echoes the query it was given.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Rendered};

#[derive(Clone, Copy)]
enum Credential {
    Bearer,
    Header(&'static str),
    QueryParameter,
    Basic,
    None,
}

#[derive(Clone, Copy)]
struct Row {
    provider: &'static str,
    key: Credential,
    /// The request field (or query parameter) holding the query.
    query_field: &'static str,
}

const ROWS: &[(&str, bool, Row)] = &[
    (
        "/perplexity/search",
        false,
        Row {
            provider: "perplexity",
            key: Credential::Bearer,
            query_field: "query",
        },
    ),
    (
        "/tavily/search",
        false,
        Row {
            provider: "tavily",
            key: Credential::Bearer,
            query_field: "query",
        },
    ),
    (
        "/exa_ai/search",
        false,
        Row {
            provider: "exa_ai",
            key: Credential::Header("x-api-key"),
            query_field: "query",
        },
    ),
    (
        "/serper/search",
        false,
        Row {
            provider: "serper",
            key: Credential::Header("x-api-key"),
            query_field: "q",
        },
    ),
    (
        "/brave/res/v1/web/search",
        true,
        Row {
            provider: "brave",
            key: Credential::Header("x-subscription-token"),
            query_field: "q",
        },
    ),
    (
        "/google_pse/customsearch/v1",
        true,
        Row {
            provider: "google_pse",
            key: Credential::QueryParameter,
            query_field: "q",
        },
    ),
    (
        "/searxng/search",
        true,
        Row {
            provider: "searxng",
            key: Credential::None,
            query_field: "q",
        },
    ),
    (
        "/firecrawl/v2/search",
        false,
        Row {
            provider: "firecrawl",
            key: Credential::Bearer,
            query_field: "query",
        },
    ),
    (
        "/linkup/v1/search",
        false,
        Row {
            provider: "linkup",
            key: Credential::Bearer,
            query_field: "q",
        },
    ),
    (
        "/parallel_ai/v1/search",
        false,
        Row {
            provider: "parallel_ai",
            key: Credential::Header("x-api-key"),
            query_field: "search_queries",
        },
    ),
    (
        "/duckduckgo/",
        true,
        Row {
            provider: "duckduckgo",
            key: Credential::None,
            query_field: "q",
        },
    ),
    (
        "/dataforseo/v3/serp/google/organic/live/advanced",
        false,
        Row {
            provider: "dataforseo",
            key: Credential::Basic,
            query_field: "keyword",
        },
    ),
];

pub(crate) fn routes() -> Router<Arc<MockState>> {
    let mut router = Router::new();
    for (path, is_get, row) in ROWS {
        let row = *row;
        let handler = move |state: State<Arc<MockState>>,
                            method: Method,
                            uri: Uri,
                            headers: HeaderMap,
                            body: Bytes| async move {
            search(state, row, method, uri, headers, body).await
        };
        router = if *is_get {
            router.route(path, get(handler))
        } else {
            router.route(path, post(handler))
        };
    }
    router
}

fn query_params(uri: &Uri) -> serde_json::Map<String, Value> {
    let mut params = serde_json::Map::new();
    for pair in uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(&text.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        params.insert(decode(key), Value::String(decode(value)));
    }
    params
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
}

fn authorized(row: Row, headers: &HeaderMap, params: &serde_json::Map<String, Value>) -> bool {
    match row.key {
        Credential::Bearer => header(headers, "authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|key| !key.trim().is_empty()),
        Credential::Header(name) => header(headers, name).is_some(),
        Credential::QueryParameter => params
            .get("key")
            .and_then(Value::as_str)
            .is_some_and(|k| !k.is_empty()),
        Credential::Basic => header(headers, "authorization")
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|encoded| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .ok()
            })
            .and_then(|decoded| String::from_utf8(decoded).ok())
            .is_some_and(|pair| {
                pair.split_once(':')
                    .is_some_and(|(l, p)| !l.is_empty() && !p.is_empty())
            }),
        Credential::None => true,
    }
}

async fn search(
    State(state): State<Arc<MockState>>,
    row: Row,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut exchange =
        match Exchange::open(&state, Dialect::Ollama, &method, &uri, &headers, &body).await {
            Ok(exchange) => exchange,
            Err(response) => return response,
        };
    let params = match exchange.body.take() {
        Some(Value::Object(map)) => map,
        // DataForSEO posts a list of tasks.
        Some(Value::Array(tasks)) => tasks
            .first()
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        _ => query_params(&uri),
    };
    if !authorized(row, &headers, &params) {
        let message = format!("{}: missing or invalid API key", row.provider);
        let body = serde_json::to_vec(&json!({"error": message})).unwrap_or_default();
        return exchange.whole(StatusCode::UNAUTHORIZED, body).await;
    }
    let query = match params.get(row.query_field) {
        Some(Value::String(text)) if !text.is_empty() => text.clone(),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => {
            let message = format!("{} is required", row.query_field);
            let body = serde_json::to_vec(&json!({"error": message})).unwrap_or_default();
            return exchange.whole(StatusCode::BAD_REQUEST, body).await;
        }
    };
    let answer = answer(row.provider, &query);
    Rendered::Whole(serde_json::to_vec(&answer).unwrap_or_default())
        .respond(exchange)
        .await
}

/// Two results in the provider's documented shape.
fn answer(provider: &str, query: &str) -> Value {
    let title = format!("Result for {query}");
    match provider {
        "perplexity" => json!({"id": "mock-search", "results": [
            {"title": title, "url": "https://example.com/1", "snippet": "first snippet", "date": "2024-07-25", "last_updated": "2024-07-26"},
            {"title": "Second", "url": "https://example.com/2", "snippet": "second snippet"}]}),
        "tavily" => {
            json!({"query": query, "answer": null, "images": [], "response_time": 0.1, "results": [
            {"title": title, "url": "https://example.com/1", "content": "first snippet", "score": 0.9},
            {"title": "Second", "url": "https://example.com/2", "content": "second snippet", "score": 0.5}]})
        }
        "exa_ai" => json!({"requestId": "mock", "results": [
            {"title": title, "url": "https://example.com/1", "text": "first snippet", "publishedDate": "2024-07-25T00:00:00.000Z", "id": "1"},
            {"title": "Second", "url": "https://example.com/2", "text": "second snippet", "id": "2"}]}),
        "serper" => json!({"searchParameters": {"q": query}, "organic": [
            {"title": title, "link": "https://example.com/1", "snippet": "first snippet", "date": "Jul 25, 2024", "position": 1},
            {"title": "Second", "link": "https://example.com/2", "snippet": "second snippet", "position": 2}]}),
        "brave" => {
            json!({"type": "search", "query": {"original": query}, "web": {"type": "search", "results": [
            {"title": title, "url": "https://example.com/1", "description": "first snippet", "page_age": "2024-07-25T10:00:00"},
            {"title": "Second", "url": "https://example.com/2", "description": "second snippet", "age": "July 20, 2024"}]}})
        }
        "google_pse" => json!({"kind": "customsearch#search", "items": [
            {"title": title, "link": "https://example.com/1", "snippet": "first snippet"},
            {"title": "Second", "link": "https://example.com/2", "snippet": "second snippet"}]}),
        "searxng" => json!({"query": query, "results": [
            {"title": title, "url": "https://example.com/1", "content": "first snippet", "publishedDate": "2024-07-25T00:00:00"},
            {"title": "Second", "url": "https://example.com/2", "content": "second snippet"}]}),
        "firecrawl" => json!({"success": true, "data": {"web": [
            {"title": title, "url": "https://example.com/1", "description": "first snippet"},
            {"title": "Second", "url": "https://example.com/2", "description": "second snippet", "markdown": "# Second"}]}}),
        "linkup" => json!({"results": [
            {"type": "text", "name": title, "url": "https://example.com/1", "content": "first snippet"},
            {"type": "text", "name": "Second", "url": "https://example.com/2", "content": "second snippet"}]}),
        "parallel_ai" => json!({"search_id": "search_mock", "results": [
            {"title": title, "url": "https://example.com/1", "publish_date": "2024-07-25", "excerpts": ["first", "snippet"]},
            {"title": "Second", "url": "https://example.com/2", "excerpts": ["second snippet"]}],
            "usage": [{"name": "sku_search", "count": 1}]}),
        "duckduckgo" => {
            json!({"Heading": title, "AbstractText": "first snippet", "AbstractURL": "https://example.com/1",
            "RelatedTopics": [{"FirstURL": "https://example.com/2", "Text": "Second - second snippet"}]})
        }
        "dataforseo" => {
            json!({"status_code": 20000, "tasks": [{"status_code": 20000, "result": [{"keyword": query, "items": [
            {"type": "organic", "title": title, "url": "https://example.com/1", "description": "first snippet"},
            {"type": "organic", "title": "Second", "url": "https://example.com/2", "description": "second snippet"}]}]}]})
        }
        _ => json!({"results": []}),
    }
}
