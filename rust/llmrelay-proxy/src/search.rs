//! LiteLLM's search routes over the config's `search_tools:`: `POST /v1/search/{search_tool_name}`
//! and `/search/{…}`, the tool-less `POST /v1/search` and `/search` (the tool named in the
//! body's `search_tool_name`), and `GET /v1/search/tools` / `/search/tools`. A call runs
//! through the pipeline (key, limits, budget, spend row with the search's price) straight to
//! the engine: the tool names its provider and credentials.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use llmrelay_core::{CallKind, Error};
use llmrelay_pipeline::Answer;
use llmrelay_providers::engine::Outcome;

use crate::config::SearchToolConfig;
use crate::edge::{Edge, read_json, to_json};
use crate::errors::Dialect;
use crate::state::AppState;

/// The tool's settings a request body cannot override: where the call goes and as whom.
const PROTECTED: &[&str] = &["search_provider", "api_key", "api_base"];

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/search", post(search_in_body))
        .route("/search", post(search_in_body))
        .route("/v1/search/tools", get(list_tools))
        .route("/search/tools", get(list_tools))
        .route("/v1/search/{search_tool_name}", post(search_in_path))
        .route("/search/{search_tool_name}", post(search_in_path))
}

async fn search_in_path(
    State(state): State<Arc<AppState>>,
    Path(search_tool_name): Path<String>,
    request: Request,
) -> Response {
    search(state, request, Some(search_tool_name)).await
}

async fn search_in_body(State(state): State<Arc<AppState>>, request: Request) -> Response {
    search(state, request, None).await
}

/// The engine's parameters for a call to `tool`: its `litellm_params` under the body's (the
/// body may not name the provider, the key or the base).
fn call_params(tool: &SearchToolConfig, body: Map<String, Value>) -> Map<String, Value> {
    let mut params = Map::new();
    for (key, value) in tool.litellm_params.iter().chain(body.iter()) {
        if PROTECTED.contains(&key.as_str()) || value.is_null() || key == "search_tool_name" {
            continue;
        }
        params.insert(key.clone(), value.clone());
    }
    for key in PROTECTED {
        if let Some(value) = tool.litellm_params.get(*key).filter(|v| !v.is_null()) {
            params.insert((*key).to_owned(), value.clone());
        }
    }
    params
}

async fn search(state: Arc<AppState>, request: Request, path_tool: Option<String>) -> Response {
    let (parts, body) = request.into_parts();
    let mut edge = Edge::new(
        Arc::clone(&state),
        &parts,
        CallKind::Search,
        "/v1/search",
        Dialect::OpenAi,
    );
    let mut body = match read_json(body, &parts.headers, state.settings.max_request_bytes).await {
        Ok(body) => body,
        Err(error) => return edge.reject(error),
    };
    let name = match path_tool.or_else(|| {
        body.get("search_tool_name")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
    }) {
        Some(name) => name,
        None => {
            return edge.reject(
                Error::bad_request(
                    "search_tool_name is required: name a configured search tool in the path \
                     (/v1/search/{search_tool_name}) or in the body",
                )
                .with_param("search_tool_name"),
            );
        }
    };
    let Some(tool) = state
        .search_tools
        .iter()
        .find(|tool| tool.search_tool_name == name)
    else {
        let known: Vec<&str> = state
            .search_tools
            .iter()
            .map(|tool| tool.search_tool_name.as_str())
            .collect();
        return edge.reject(
            Error::bad_request(format!(
                "Search tool '{name}' not found in router.search_tools. Configured: [{}]",
                known.join(", ")
            ))
            .with_param("search_tool_name"),
        );
    };
    body.remove("model");
    let params = call_params(tool, body);
    let call = match edge.direct_call(params, &name, &parts.headers) {
        Ok(call) => call,
        Err(error) => return edge.reject(error),
    };
    match edge.run_direct(call).await {
        Ok(Answer::Whole(whole)) => edge.whole(whole, |outcome, _| match outcome {
            Outcome::Json(result) => to_json(&result.response),
            _ => Err(Error::bad_request("not a search answer")),
        }),
        Ok(_) => edge.unexpected("not a search answer"),
        Err(error) => edge.reject(error),
    }
}

/// `GET /v1/search/tools`: the configured tools, without their credentials.
async fn list_tools(State(state): State<Arc<AppState>>) -> Response {
    let data: Vec<Value> = state
        .search_tools
        .iter()
        .map(|tool| {
            let mut entry = json!({
                "search_tool_name": tool.search_tool_name,
                "search_provider": tool.search_provider(),
            });
            if let Some(description) = tool
                .search_tool_info
                .as_ref()
                .and_then(|info| info.get("description"))
                .filter(|d| !d.is_null())
            {
                entry["description"] = description.clone();
            }
            entry
        })
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}
