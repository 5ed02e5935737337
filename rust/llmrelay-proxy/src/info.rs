//! Model listings, health probes, metrics and the root page.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use llmrelay_core::clock::now_unix;
use llmrelay_core::{Error, ErrorKind, catalog, detect};

use crate::auth::Principal;
use crate::dispatch::ModelEntry;
use crate::errors::ApiError;
use crate::state::AppState;

/// The LiteLLM release whose proxy API llmrelay matches: what `litellm_version` reports, so
/// that clients checking LiteLLM's version see the API they get. llmrelay's own version is
/// `llmrelay_version`.
pub const LITELLM_COMPATIBLE_VERSION: &str = "1.104.0";

fn model_object(id: &str, created: u64) -> Value {
    json!({"id": id, "object": "model", "created": created, "owned_by": "openai"})
}

/// The price map's entry for a deployment's model string, if it knows it.
fn catalog_entry(entry: &ModelEntry) -> Option<Arc<catalog::ModelEntry>> {
    let text = |key: &str| entry.litellm_params.get(key).and_then(Value::as_str);
    let resolved = detect::resolve(
        text("model")?,
        text("custom_llm_provider"),
        text("api_base"),
    )
    .ok()?;
    catalog::global()
        .lookup(&resolved.model, Some(&resolved.provider))
        .cloned()
}

/// A `/v1/models` entry: LiteLLM adds `mode` and the token limits from the price map.
fn listed_model(entry: &ModelEntry, created: u64) -> Value {
    let mut object = model_object(&entry.model_name, created);
    let known = catalog_entry(entry);
    let mode = entry.model_info.get("mode").cloned().or_else(|| {
        known
            .as_ref()
            .and_then(|k| k.mode.clone())
            .map(Value::String)
    });
    object["mode"] = mode.unwrap_or(Value::Null);
    object["max_input_tokens"] = json!(known.as_ref().and_then(|k| k.max_input_tokens));
    object["max_output_tokens"] = json!(known.as_ref().and_then(|k| k.max_output_tokens));
    object
}

/// Whether the caller may use a model group (a virtual key's model access; everyone else:
/// every group).
fn may_use(state: &AppState, principal: Option<&Principal>, model_group: &str) -> bool {
    let (Some(governed), Some(auth)) = (
        &state.governance,
        principal.and_then(|p| p.details::<llmrelay_governance::KeyAuth>()),
    ) else {
        return true;
    };
    governed
        .engine
        .check_model_access(auth, model_group)
        .is_ok()
}

/// `GET /v1/models`: one entry per model group the caller may use.
pub async fn models(
    State(state): State<Arc<AppState>>,
    principal: Option<Extension<Principal>>,
) -> Json<Value> {
    let created = now_unix();
    let mut seen = BTreeSet::new();
    let principal = principal.map(|Extension(p)| p);
    let data: Vec<Value> = state
        .dispatch
        .model_list()
        .into_iter()
        .filter(|entry| seen.insert(entry.model_name.clone()))
        .filter(|entry| may_use(&state, principal.as_ref(), &entry.model_name))
        .map(|entry| listed_model(&entry, created))
        .collect();
    Json(json!({"data": data, "object": "list"}))
}

/// `GET /v1/models/{model}`.
pub async fn model(State(state): State<Arc<AppState>>, Path(model): Path<String>) -> Response {
    if state
        .dispatch
        .model_list()
        .iter()
        .any(|entry| entry.model_name == model)
    {
        Json(model_object(&model, now_unix())).into_response()
    } else {
        ApiError::openai(Error::new(
            ErrorKind::NotFound,
            format!("The model `{model}` does not exist. Call `/v1/models` to view available models for your key."),
        ))
        .into_response()
    }
}

#[derive(Debug, Deserialize)]
pub struct ModelInfoQuery {
    litellm_model_id: Option<String>,
}

/// `GET /model/info`: every deployment, without credentials — with a database, the config's
/// and the stored ones merged by the engine (`?litellm_model_id=` for one).
pub async fn model_info(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ModelInfoQuery>,
) -> Json<Value> {
    if let Some(governed) = &state.governance {
        let config: Vec<llmrelay_governance::ModelDeployment> = state
            .dispatch
            .model_list()
            .into_iter()
            .filter(|entry| entry.model_info.get("db_model").and_then(Value::as_bool) != Some(true))
            .map(|entry| llmrelay_governance::ModelDeployment {
                model_name: entry.model_name,
                litellm_params: entry.litellm_params,
                model_info: entry.model_info,
            })
            .collect();
        return Json(
            governed
                .engine
                .model_info(&config, query.litellm_model_id.as_deref()),
        );
    }
    let data: Vec<Value> = state
        .dispatch
        .model_list()
        .into_iter()
        .filter(|entry| {
            query
                .litellm_model_id
                .as_deref()
                .is_none_or(|id| entry.model_info.get("id").and_then(Value::as_str) == Some(id))
        })
        .map(|entry| {
            // The price map's facts, overridden by the configured `model_info`.
            let mut model_info = catalog_entry(&entry)
                .map(|k| k.raw.clone())
                .unwrap_or_default();
            for (key, value) in &entry.model_info {
                model_info.insert(key.clone(), value.clone());
            }
            json!({
                "model_name": entry.model_name,
                "litellm_params": entry.litellm_params,
                "model_info": model_info,
            })
        })
        .collect();
    Json(json!({"data": data}))
}

#[derive(Debug, Deserialize)]
pub struct HealthQuery {
    model: Option<String>,
}

/// `GET /health`: call every deployment (or those of `?model=`) with a minimal request.
pub async fn health(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HealthQuery>,
) -> Json<Value> {
    let report = state.dispatch.health_check(query.model).await;
    Json(json!({
        "healthy_endpoints": report.healthy,
        "unhealthy_endpoints": report.unhealthy,
        "healthy_count": report.healthy.len(),
        "unhealthy_count": report.unhealthy.len(),
    }))
}

/// `GET /health/liveliness` (and LiteLLM's other spelling, `/health/liveness`).
pub async fn liveliness(State(state): State<Arc<AppState>>) -> Response {
    if state.shutting_down.load(Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "shutting_down"})),
        )
            .into_response();
    }
    Json(json!("I'm alive!")).into_response()
}

/// `GET /health/readiness`.
pub async fn readiness(State(state): State<Arc<AppState>>) -> Response {
    if state.shutting_down.load(Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "shutting_down"})),
        )
            .into_response();
    }
    // Redis down is not unreadiness: limits follow their failure policy (docs/limits.md).
    let rate_limits = state.governance.as_ref().map(|governed| {
        let health = governed.limiter.health();
        json!({
            "redis": health.redis_up.map(|up| if up { "connected" } else { "unreachable" }),
            "instances": health.instances,
        })
    });
    Json(json!({
        "status": "healthy",
        "db": if state.governance.is_some() { "connected" } else { "Not connected" },
        "cache": null,
        "rate_limits": rate_limits,
        "litellm_version": LITELLM_COMPATIBLE_VERSION,
        "llmrelay_version": env!("CARGO_PKG_VERSION"),
        "success_callbacks": state.settings.callbacks,
    }))
    .into_response()
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    state.metrics.sync_callbacks(&state.observe.stats());
    let mut text = state.metrics.render();
    if let Some(governed) = &state.governance {
        crate::limits::append_metrics(&mut text, &governed.limiter.health());
    }
    if let Some(cache) = &state.cache {
        crate::cache::append_metrics(&mut text, &cache.stats());
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `GET /`: a pointer to the API description.
pub async fn root() -> Json<Value> {
    Json(json!({
        "name": "llmrelay proxy",
        "version": env!("CARGO_PKG_VERSION"),
        "openapi": "/openapi.json",
    }))
}

/// `GET /guardrails/list`: the configured guardrails in LiteLLM's `ListGuardrailsResponse`
/// shape (`api_key` and AWS credentials left out).
pub async fn guardrails_list(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(state.guardrails.list())
}

#[derive(Debug, Deserialize)]
pub struct ModelGroupQuery {
    model_group: Option<String>,
}

/// One group's LiteLLM `ModelGroupInfo`: its providers, the widest token limits, the first
/// priced deployment's prices and mode, the union of capability flags and supported
/// parameters, the summed `tpm` / `rpm`.
fn model_group_entry(group: &str, deployments: &[&ModelEntry]) -> Value {
    let mut info = serde_json::Map::new();
    let mut providers: Vec<String> = Vec::new();
    let mut params: Vec<&'static str> = Vec::new();
    let (mut tpm, mut rpm) = (0_u64, 0_u64);
    for entry in deployments {
        let text = |key: &str| entry.litellm_params.get(key).and_then(Value::as_str);
        let resolved = text("model").and_then(|model| {
            detect::resolve(model, text("custom_llm_provider"), text("api_base")).ok()
        });
        if let Some(resolved) = &resolved {
            if !providers.contains(&resolved.provider) {
                providers.push(resolved.provider.clone());
            }
            if let Some(provider) = llmrelay_providers::registry::lookup(&resolved.provider) {
                // `None` is every OpenAI parameter (LiteLLM's `OpenAIConfig` list with `user`).
                let supported = provider
                    .supported_openai_params(&resolved.model)
                    .unwrap_or_else(|| {
                        let mut all = llmrelay_providers::compatible::OPENAI_LIKE_PARAMS.to_vec();
                        all.push("user");
                        all
                    });
                for name in supported {
                    if !params.contains(&name) {
                        params.push(name);
                    }
                }
            }
        }
        let mut facts = catalog_entry(entry)
            .map(|k| k.raw.clone())
            .unwrap_or_default();
        for (key, value) in &entry.model_info {
            facts.insert(key.clone(), value.clone());
        }
        for key in ["max_input_tokens", "max_output_tokens"] {
            if let Some(value) = facts.get(key).and_then(Value::as_u64) {
                let widest = info
                    .get(key)
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    .max(value);
                info.insert(key.to_owned(), json!(widest));
            }
        }
        for key in [
            "input_cost_per_token",
            "output_cost_per_token",
            "input_cost_per_pixel",
            "mode",
        ] {
            if !info.contains_key(key) {
                if let Some(value) = facts.get(key).filter(|v| !v.is_null()) {
                    info.insert(key.to_owned(), value.clone());
                }
            }
        }
        for (key, value) in &facts {
            if key.starts_with("supports_") && value.as_bool() == Some(true) {
                info.insert(key.clone(), Value::Bool(true));
            }
        }
        let count = |key: &str| {
            entry
                .litellm_params
                .get(key)
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        tpm += count("tpm");
        rpm += count("rpm");
    }
    // LiteLLM's `ModelGroupInfo` fields, with its defaults for what no deployment says.
    let flag = |info: &serde_json::Map<String, Value>, key: &str| {
        info.get(key).cloned().unwrap_or(Value::Bool(false))
    };
    json!({
        "model_group": group,
        "providers": providers,
        "max_input_tokens": info.get("max_input_tokens"),
        "max_output_tokens": info.get("max_output_tokens"),
        "input_cost_per_token": info.get("input_cost_per_token"),
        "output_cost_per_token": info.get("output_cost_per_token"),
        "input_cost_per_pixel": info.get("input_cost_per_pixel"),
        "mode": info.get("mode").cloned().unwrap_or_else(|| json!("chat")),
        "tpm": (tpm > 0).then_some(tpm),
        "rpm": (rpm > 0).then_some(rpm),
        "supports_parallel_function_calling": flag(&info, "supports_parallel_function_calling"),
        "supports_vision": flag(&info, "supports_vision"),
        "supports_web_search": flag(&info, "supports_web_search"),
        "supports_url_context": flag(&info, "supports_url_context"),
        "supports_reasoning": flag(&info, "supports_reasoning"),
        "supports_function_calling": flag(&info, "supports_function_calling"),
        "supported_openai_params": params,
        "configurable_clientside_auth_params": deployments
            .iter()
            .find_map(|e| e.litellm_params.get("configurable_clientside_auth_params").cloned()),
    })
}

/// `GET /model_group/info` (`?model_group=` for one): the groups the caller's key may use, in
/// LiteLLM's `{"data": [ModelGroupInfo, …]}`.
pub async fn model_group_info(
    State(state): State<Arc<AppState>>,
    principal: Option<Extension<Principal>>,
    Query(query): Query<ModelGroupQuery>,
) -> Json<Value> {
    let principal = principal.map(|Extension(p)| p);
    let entries = state.dispatch.model_list();
    let mut groups: Vec<&str> = Vec::new();
    for entry in &entries {
        if !groups.contains(&entry.model_name.as_str()) {
            groups.push(&entry.model_name);
        }
    }
    let data: Vec<Value> = groups
        .into_iter()
        .filter(|group| {
            query
                .model_group
                .as_deref()
                .is_none_or(|wanted| wanted == *group)
        })
        .filter(|group| may_use(&state, principal.as_ref(), group))
        .map(|group| {
            let deployments: Vec<&ModelEntry> =
                entries.iter().filter(|e| e.model_name == group).collect();
            model_group_entry(group, &deployments)
        })
        .collect();
    Json(json!({"data": data}))
}
