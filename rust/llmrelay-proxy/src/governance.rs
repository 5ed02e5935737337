//! Virtual keys, teams, budgets and spend (`llmrelay-governance`) in the proxy: when it is
//! on, how keys are verified at the edge, how DB deployments reach the Router, and the start
//! (migrations) and stop (spend rows flushed) of the engine.
//!
//! On when a master key is set and a database is named (`DATABASE_URL`,
//! `general_settings.database_url`) or the proxy runs from a config file (then SQLite
//! `llmrelay.db` next to it), unless `general_settings.disable_database: true` (or
//! `LLMRELAY_DISABLE_DATABASE=true`). Without a master key the proxy is open and has no keys
//! to manage, as LiteLLM's.

use std::sync::Arc;

use axum::response::IntoResponse as _;
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use llmrelay_core::Error;
use llmrelay_governance::{Governance, GovernanceConfig, ModelChange, ModelDeployment};

use crate::auth::{Authenticator, Principal};
use crate::config::ProxyConfig;
use crate::dispatch::Dispatch;
use crate::state::AppState;

/// `general_settings` keys the governance engine reads (not warned about as unknown).
pub const SETTINGS: &[&str] = &[
    "database_url",
    "allow_requests_on_db_unavailable",
    "user_api_key_cache_max_size",
    "database_connection_pool_limit",
    "store_model_in_db",
    "disable_database",
    llmrelay_governance::engine::AUDIT_RETENTION_SETTING,
];

/// `litellm_settings` keys the governance engine reads.
pub const LITELLM_SETTINGS: &[&str] = &["store_audit_logs", "budget_exceeded_status_code"];

/// LiteLLM's `store_audit_logs`: the config's value, else `LITELLM_STORE_AUDIT_LOGS`
/// (read when the config leaves it unset), else off.
fn store_audit_logs(config: &ProxyConfig) -> bool {
    match config.litellm_settings.other.get("store_audit_logs") {
        Some(Value::Bool(on)) => *on,
        Some(Value::String(text)) => text.trim().eq_ignore_ascii_case("true"),
        _ => env_flag("LITELLM_STORE_AUDIT_LOGS"),
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

/// The engine's settings for this config, or `None` when governance is off.
#[must_use]
pub fn settings(config: &ProxyConfig, master_key: Option<&str>) -> Option<GovernanceConfig> {
    let general = &config.general_settings;
    let master_key = master_key.map(str::trim).filter(|k| !k.is_empty())?;
    let disabled = general
        .other
        .get("disable_database")
        .and_then(Value::as_bool)
        == Some(true)
        || env_flag("LLMRELAY_DISABLE_DATABASE");
    if disabled {
        return None;
    }
    let named = std::env::var("DATABASE_URL").is_ok_and(|url| !url.is_empty())
        || general
            .other
            .get("database_url")
            .and_then(Value::as_str)
            .is_some_and(|url| !url.is_empty());
    let from_file = config.path.is_file();
    if !named && !from_file {
        return None;
    }
    let directory = config.path.parent().filter(|_| from_file).map_or_else(
        || std::path::PathBuf::from("."),
        std::path::Path::to_path_buf,
    );
    let mut values: Map<String, Value> = general.other.clone();
    values.insert(
        "master_key".to_owned(),
        Value::String(master_key.to_owned()),
    );
    let mut settings = GovernanceConfig::from_settings(&Value::Object(values), &directory);
    settings.audit.enabled = store_audit_logs(config);
    match config
        .litellm_settings
        .other
        .get("budget_exceeded_status_code")
    {
        None | Some(Value::Null) => {}
        Some(value) => match value
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (400..600).contains(s))
        {
            Some(status) => settings.budget_exceeded_status_code = status,
            None => tracing::warn!(
                "litellm_settings.budget_exceeded_status_code must be an HTTP error status (400-599), got {value}; 422 is used"
            ),
        },
    }
    Some(settings)
}

/// Opens the engine for this config (lazily: migrations run when the proxy starts serving).
///
/// # Errors
/// An invalid database URL or write-ahead folder, or no tokio runtime to run it on.
pub fn open(
    config: &ProxyConfig,
    master_key: Option<&str>,
) -> Result<Option<Arc<Governance>>, String> {
    let Some(settings) = settings(config, master_key) else {
        return Ok(None);
    };
    let retention_setting = llmrelay_governance::engine::AUDIT_RETENTION_SETTING;
    if let Some(value) = config.general_settings.other.get(retention_setting) {
        let text = value.as_str().unwrap_or_default();
        llmrelay_governance::audit::parse_period(text)
            .map_err(|reason| format!("general_settings.{retention_setting}: {reason}"))?;
    }
    if tokio::runtime::Handle::try_current().is_err() {
        return Err("the database (virtual keys, spend) needs a tokio runtime to open".to_owned());
    }
    let engine = Governance::open_deferred(settings).map_err(|e| format!("database: {e}"))?;
    Ok(Some(engine))
}

/// Keys checked by the engine: the master key, else virtual keys (cached in memory).
pub struct GovernanceAuth {
    pub engine: Arc<Governance>,
}

impl Authenticator for GovernanceAuth {
    fn authenticate(&self, key: Option<String>) -> BoxFuture<'static, Result<Principal, Error>> {
        let engine = Arc::clone(&self.engine);
        Box::pin(async move {
            llmrelay_governance::layers::admit::key_auth::authenticate(&engine, key).await
        })
    }
}

/// The Router's deployments as the engine sees them (for `/model/info`, access groups,
/// `/key/info`'s effective models).
pub fn share_config_models(engine: &Governance, dispatch: &dyn Dispatch) {
    let deployments = dispatch
        .model_list()
        .into_iter()
        .filter(|entry| entry.model_info.get("db_model").and_then(Value::as_bool) != Some(true))
        .map(|entry| ModelDeployment {
            model_name: entry.model_name,
            litellm_params: entry.litellm_params,
            model_info: entry.model_info,
        })
        .collect();
    engine.set_config_deployments(deployments);
}

/// A DB deployment as the Router takes it (stored credentials filled in).
async fn router_deployment(engine: &Governance, deployment: &ModelDeployment) -> Value {
    let mut params = deployment.litellm_params.clone();
    if let Err(error) = engine.apply_credential(&mut params).await {
        tracing::warn!(%error, model = %deployment.model_name, "credential of a DB deployment not applied");
    }
    params.remove("litellm_credential_name");
    params.retain(|_, value| !value.is_null());
    serde_json::json!({
        "model_name": deployment.model_name,
        "litellm_params": params,
        "model_info": deployment.model_info,
    })
}

/// Adds (or replaces) a DB deployment in the Router.
pub async fn apply_model(
    engine: &Governance,
    router: &llmrelay_router::Router,
    deployment: &ModelDeployment,
) {
    let Some(id) = deployment.id() else { return };
    router.delete_deployment(id);
    if deployment
        .model_info
        .get("blocked")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return;
    }
    if let Err(error) = router.add_deployment(router_deployment(engine, deployment).await) {
        tracing::warn!(%error, model_id = id, "DB deployment not added to the router");
    }
}

/// Keeps the Router in step with the DB deployments of every instance.
pub fn follow_models(engine: &Arc<Governance>, router: &llmrelay_router::Router) {
    let weak = Arc::downgrade(engine);
    let router_handle = router.clone();
    engine.on_model_change(move |change| {
        let Some(engine) = weak.upgrade() else { return };
        match change {
            ModelChange::Upsert(record) => {
                let router = router_handle.clone();
                let runtime = engine.runtime().clone();
                runtime.spawn(async move {
                    apply_model(&engine, &router, &ModelDeployment::from_row(&record)).await;
                });
            }
            ModelChange::Delete(id) => {
                router_handle.delete_deployment(&id);
            }
        }
    });
    // A stored credential changed: the DB deployments naming it take its new values.
    let weak = Arc::downgrade(engine);
    let router_handle = router.clone();
    engine.on_credential_change(move |name| {
        let Some(engine) = weak.upgrade() else { return };
        let affected: Vec<ModelDeployment> = engine
            .db_deployments()
            .into_iter()
            .filter(|d| {
                d.litellm_params
                    .get("litellm_credential_name")
                    .and_then(Value::as_str)
                    == Some(name)
            })
            .collect();
        if affected.is_empty() {
            return;
        }
        let router = router_handle.clone();
        let runtime = engine.runtime().clone();
        runtime.spawn(async move {
            for deployment in &affected {
                apply_model(&engine, &router, deployment).await;
            }
        });
    });
}

/// Start-up: migrations applied (a database that is down is retried in the background), the
/// DB deployments loaded into the Router.
///
/// # Errors
/// A migration that failed for another reason than the database being unreachable.
pub async fn start(
    engine: &Arc<Governance>,
    router: Option<&llmrelay_router::Router>,
    limiter: Option<&llmrelay_limits::Limiter>,
) -> Result<(), String> {
    if let Some(limiter) = limiter {
        // On the engine's runtime, which outlives every worker: the Redis connections and
        // the limiter's background task live there.
        let limiter = limiter.clone();
        let _ = engine
            .runtime()
            .spawn(async move { limiter.start().await })
            .await;
    }
    match engine.ensure_migrated().await {
        Ok(()) => {}
        Err(llmrelay_governance::GovernanceError::DatabaseUnavailable(reason)) => {
            tracing::warn!(%reason, "database unavailable at start; verified keys are served from memory until it is back");
            return Ok(());
        }
        Err(error) => return Err(format!("database migrations failed: {error}")),
    }
    if let Some(router) = router {
        match engine.load_db_models().await {
            Ok(deployments) => {
                for deployment in &deployments {
                    apply_model(engine, router, deployment).await;
                }
            }
            Err(error) => tracing::warn!(%error, "DB deployments not loaded"),
        }
    }
    Ok(())
}

/// The engine, the Router it feeds and the rate limiter (kept in the proxy's state).
#[derive(Clone)]
pub struct Governed {
    pub engine: Arc<Governance>,
    pub router: Option<llmrelay_router::Router>,
    pub limiter: llmrelay_limits::Limiter,
    /// The JWT authenticator when `enable_jwt_auth` is on: the management routes take JWTs
    /// through it (with their route checks), and every other key themselves.
    pub jwt: Option<Arc<dyn Authenticator>>,
    /// SSO (`GENERIC_CLIENT_ID`…): its session cookie stands in for a key on these routes.
    pub sso: Option<Arc<crate::sso::Sso>>,
    /// The scheduled FOCUS export (`callbacks: ["focus"]`), stopped with the proxy.
    pub focus_export: Option<Arc<AbortOnDrop>>,
}

/// Aborts a background task when the last handle goes.
#[derive(Debug)]
pub struct AbortOnDrop(pub tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Puts the engine in a proxy's state: its key check, its layers, the Router following the
/// DB deployments.
pub fn attach(
    state: &mut crate::state::AppState,
    engine: Arc<Governance>,
    router: Option<llmrelay_router::Router>,
    limits: (
        llmrelay_limits::Limiter,
        llmrelay_governance::layers::admit::limits::LimitSettings,
    ),
) {
    let (limiter, limit_settings) = limits;
    engine.share_budgets(limiter.clone());
    share_config_models(&engine, &*state.dispatch);
    if let Some(router) = &router {
        follow_models(&engine, router);
    }
    state.auth = Arc::new(GovernanceAuth {
        engine: Arc::clone(&engine),
    });
    let mut layers = state.pipeline.layers().clone();
    layers.extend(&llmrelay_governance::layers::layers(
        &engine,
        limiter.clone(),
        limit_settings,
    ));
    state.pipeline = llmrelay_pipeline::Pipeline::new(layers);
    state.governance = Some(Governed {
        engine,
        router,
        limiter,
        jwt: None,
        sso: None,
        focus_export: None,
    });
}

/// LiteLLM's management API (`/key/*`, `/team/*`, `/spend/*`, …): it authenticates and
/// checks roles itself; its handlers run on the engine's runtime, where the database pool is.
pub fn management(governed: &Governed, state: &AppState) -> axum::Router {
    let runtime = governed.engine.runtime().clone();
    let jwt = governed.jwt.clone();
    let sso = governed.sso.clone();
    let custom_auth = state.custom_auth.clone();
    let fallback = Arc::clone(&state.auth);
    let max_body = state.settings.max_request_bytes;
    llmrelay_governance::management_router(Arc::clone(&governed.engine)).layer(
        axum::middleware::from_fn(
            move |mut request: axum::extract::Request, next: axum::middleware::Next| {
                let runtime = runtime.clone();
                let jwt = jwt.clone();
                let sso = sso.clone();
                let custom_auth = custom_auth.clone();
                let fallback = Arc::clone(&fallback);
                async move {
                    if let Some(gate) = &custom_auth {
                        match gate.authenticate(request, max_body, &*fallback).await {
                            Ok((checked, caller)) => {
                                request = checked;
                                if let Some(auth) = caller.auth {
                                    request
                                        .extensions_mut()
                                        .insert(llmrelay_governance::Caller { auth });
                                } else if let Some(key) = caller.key
                                    && let Ok(value) =
                                        http::HeaderValue::from_str(&format!("Bearer {key}"))
                                {
                                    request
                                        .headers_mut()
                                        .insert(http::header::AUTHORIZATION, value);
                                }
                            }
                            Err(error) => return error.into_response(),
                        }
                    }
                    if let Some(sso) = &sso
                        && let Err(error) = crate::sso::session_to_bearer(sso, &mut request)
                    {
                        return error.into_response();
                    }
                    if let Some(jwt) = jwt
                        && let Some(token) = crate::auth::presented_key(request.headers())
                            .filter(|key| crate::jwt::looks_like_jwt(key))
                    {
                        let route = request.uri().path().to_owned();
                        match jwt_caller(&*jwt, token, &route).await {
                            Ok(caller) => {
                                request.extensions_mut().insert(caller);
                            }
                            Err(error) => {
                                return crate::errors::ApiError::openai(error).into_response();
                            }
                        }
                    }
                    match runtime.spawn(next.run(request)).await {
                        Ok(response) => response,
                        Err(error) => crate::errors::ApiError::openai(Error::new(
                            llmrelay_core::ErrorKind::InternalServer,
                            format!("management request failed: {error}"),
                        ))
                        .into_response(),
                    }
                }
            },
        ),
    )
}

/// The management API's caller for a JWT (the API checks its role's routes as for a key).
async fn jwt_caller(
    jwt: &dyn Authenticator,
    token: String,
    route: &str,
) -> Result<llmrelay_governance::Caller, Error> {
    let identity = jwt.authenticate_route(Some(token), Some(route)).await?;
    let auth = identity
        .details
        .and_then(|details| Arc::downcast::<llmrelay_governance::KeyAuth>(details).ok())
        .ok_or_else(|| {
            Error::new(
                llmrelay_core::ErrorKind::Authentication,
                "Authentication Error, the JWT was not mapped to a caller",
            )
        })?;
    Ok(llmrelay_governance::Caller { auth })
}
