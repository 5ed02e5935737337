//! The HTTP server: the route table, per-request context (call id, tracing span, timing,
//! metrics), authentication, and serving with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Map, Value, json};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use llmrelay_core::{Error, ErrorKind};

use llmrelay_pipeline::{Layers, Pipeline};

use crate::auth::{self, Authenticator};
use crate::config::ProxyConfig;
use crate::dispatch::Dispatch;
use crate::errors::{ApiError, Dialect, ErrorLabel};
use crate::hooks::Hooks;
use crate::metrics::{CallMetrics, Metrics};
use crate::passthrough::PassthroughCredentials;
use crate::routed::RouterDispatch;
use crate::state::{AppState, DEFAULT_MAX_REQUEST_BYTES, RequestContext, RouteLabel, Settings};
use crate::{info, llm, openapi, passthrough};

/// A configured proxy, ready to serve.
#[derive(Clone)]
pub struct Proxy {
    state: Arc<AppState>,
}

/// The master key: `general_settings.master_key`, else `LITELLM_MASTER_KEY`.
fn master_key(config: &ProxyConfig) -> Option<String> {
    config
        .general_settings
        .master_key
        .clone()
        .or_else(|| std::env::var("LITELLM_MASTER_KEY").ok())
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

impl Proxy {
    /// A proxy routing through the Router (as LiteLLM's proxy does).
    ///
    /// # Errors
    /// An unsafe master key (see [`auth::authenticator_for`]) or an invalid router config.
    pub fn from_config(
        config: &ProxyConfig,
        hooks: Option<Arc<dyn Hooks>>,
    ) -> Result<Self, String> {
        Self::from_config_with_layers(config, hooks, &Layers::new())
    }

    /// A proxy routing through the Router whose calls also run `extra` layers.
    ///
    /// # Errors
    /// As [`Proxy::from_config`].
    pub fn from_config_with_layers(
        config: &ProxyConfig,
        hooks: Option<Arc<dyn Hooks>>,
        extra: &Layers,
    ) -> Result<Self, String> {
        crate::alerting::check(config).map_err(|e| format!("general_settings.alerting: {e}"))?;
        let routed = RouterDispatch::from_config(config)?;
        let router = routed.router().clone();
        let dispatch: Arc<dyn Dispatch> = Arc::new(routed);
        let authenticator = Self::authenticator(config)?;
        let mut proxy = Self::with_layers(config, dispatch, authenticator, hooks, extra);
        if config.path.is_file() {
            if let Some(state) = Arc::get_mut(&mut proxy.state) {
                state.reload = Some(
                    crate::reload::Reloader::new(&config.path, router.clone())
                        .with_secrets(config.secrets.clone()),
                );
            }
        }
        let proxy = proxy
            .with_mcp(config)?
            .governed(config, router.clone())?
            .with_custom_auth(config)?;
        if let Some(alerting) = &proxy.state.alerting {
            let engine = proxy.state.governance.as_ref().map(|g| &g.engine);
            crate::alerting::connect(alerting, Some(&router), engine);
        }
        Ok(proxy)
    }

    /// With `general_settings.custom_auth` in front of the key checks, when configured.
    ///
    /// # Errors
    /// Bad settings, or a function the process cannot load (see [`crate::custom_auth`]).
    pub fn with_custom_auth(self, config: &ProxyConfig) -> Result<Self, String> {
        match crate::custom_auth::Gate::from_config(config)? {
            Some(gate) => self.with_custom_auth_gate(gate),
            None => Ok(self),
        }
    }

    /// With this custom-auth gate (tests install their own hook).
    ///
    /// # Errors
    /// The proxy is already shared (serving).
    pub fn with_custom_auth_gate(self, mut gate: crate::custom_auth::Gate) -> Result<Self, String> {
        let Ok(mut state) = Arc::try_unwrap(self.state) else {
            return Err("the proxy is shared already".to_owned());
        };
        gate.engine = state.governance.as_ref().map(|g| Arc::clone(&g.engine));
        state.custom_auth = Some(gate);
        Ok(Self {
            state: Arc::new(state),
        })
    }

    /// With the MCP gateway when the config has `mcp_servers`.
    fn with_mcp(self, config: &ProxyConfig) -> Result<Self, String> {
        if config.mcp.is_empty() {
            return Ok(self);
        }
        let Ok(mut state) = Arc::try_unwrap(self.state) else {
            return Err("the proxy is shared already".to_owned());
        };
        state.mcp = crate::mcp::McpState::build(config, state.settings.keep_alive)?;
        Ok(Self {
            state: Arc::new(state),
        })
    }

    /// With virtual keys, budgets and spend when the config asks for them
    /// ([`crate::governance`]).
    fn governed(
        self,
        config: &ProxyConfig,
        router: llmrelay_router::Router,
    ) -> Result<Self, String> {
        let Some(engine) = crate::governance::open(config, master_key(config).as_deref())? else {
            if crate::focus_export::FocusExport::from_config(config, &|name| {
                std::env::var(name).ok()
            })?
            .is_some()
            {
                return Err(
                    "litellm_settings.callbacks: focus exports spend rows, which need the database (a master key, and database_url or the default SQLite file)"
                        .to_owned(),
                );
            }
            return Ok(self);
        };
        let limits = crate::limits::configure(config)?;
        let Ok(mut state) = Arc::try_unwrap(self.state) else {
            return Err("the proxy is shared already".to_owned());
        };
        crate::governance::attach(&mut state, engine, Some(router), limits);
        if let Some(governed) = &state.governance {
            state.files = Some(Arc::new(crate::files::Files::from_config(
                config,
                Arc::clone(&governed.engine),
            )?));
        }
        if let Some(export) =
            crate::focus_export::FocusExport::from_config(config, &|name| std::env::var(name).ok())?
            && let Some(governed) = state.governance.as_mut()
        {
            let task = crate::focus_export::start(export, Arc::clone(&governed.engine));
            governed.focus_export = Some(Arc::new(crate::governance::AbortOnDrop(
                task.abort_handle(),
            )));
        }
        if let (Some(mcp), Some(governed)) = (&state.mcp, &state.governance) {
            mcp.record_spend_with(Arc::clone(&governed.engine));
        }
        state.auth = crate::jwt::JwtAuth::wrap(
            config,
            Arc::clone(&state.auth),
            state.governance.as_ref().map(|g| Arc::clone(&g.engine)),
        )?;
        if config.general_settings.enable_jwt_auth == Some(true)
            && let Some(governed) = state.governance.as_mut()
        {
            governed.jwt = Some(Arc::clone(&state.auth));
        }
        if let Some(sso) = crate::sso::SsoSettings::from_env()?
            && let Some(governed) = state.governance.as_mut()
        {
            governed.sso = Some(Arc::new(crate::sso::Sso::new(
                sso,
                Arc::clone(&governed.engine),
            )?));
        }
        Ok(Self {
            state: Arc::new(state),
        })
    }

    fn authenticator(config: &ProxyConfig) -> Result<Arc<dyn Authenticator>, String> {
        let permit_weak = env_flag(auth::PERMIT_WEAK_ENV)
            || config
                .general_settings
                .dangerously_permit_weak_or_unset_master_key
                == Some(true);
        let key = master_key(config);
        let inner = auth::authenticator_for(key.as_deref(), permit_weak)?;
        crate::jwt::JwtAuth::wrap(config, inner, None)
    }

    /// A proxy over any [`Dispatch`] (the Router).
    ///
    /// # Errors
    /// An unsafe master key.
    pub fn with_dispatch(
        config: &ProxyConfig,
        dispatch: Arc<dyn Dispatch>,
        hooks: Option<Arc<dyn Hooks>>,
    ) -> Result<Self, String> {
        let authenticator = Self::authenticator(config)?;
        Self::with_parts(config, dispatch, authenticator, hooks).with_mcp(config)
    }

    /// A proxy with an explicit authenticator (virtual keys, tests).
    #[must_use]
    pub fn with_parts(
        config: &ProxyConfig,
        dispatch: Arc<dyn Dispatch>,
        authenticator: Arc<dyn Authenticator>,
        hooks: Option<Arc<dyn Hooks>>,
    ) -> Self {
        Self::with_layers(config, dispatch, authenticator, hooks, &Layers::new())
    }

    /// A proxy whose calls also run `extra` layers (after the proxy's own and the hooks').
    #[must_use]
    pub fn with_layers(
        config: &ProxyConfig,
        dispatch: Arc<dyn Dispatch>,
        authenticator: Arc<dyn Authenticator>,
        hooks: Option<Arc<dyn Hooks>>,
        extra: &Layers,
    ) -> Self {
        let mut call_defaults = Map::new();
        let litellm = &config.litellm_settings;
        if let Some(drop) = litellm.drop_params {
            call_defaults.insert("drop_params".to_owned(), Value::Bool(drop));
        }
        let retries = litellm.num_retries.or_else(|| {
            config
                .router_settings
                .get("num_retries")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
        });
        if let Some(retries) = retries {
            call_defaults.insert("num_retries".to_owned(), json!(retries));
        }
        let timeout = litellm.request_timeout.or_else(|| {
            config
                .router_settings
                .get("timeout")
                .and_then(Value::as_f64)
        });
        if let Some(timeout) = timeout.filter(|t| t.is_finite() && *t > 0.0) {
            call_defaults.insert("timeout".to_owned(), json!(timeout));
        }
        let max_request_bytes = config
            .general_settings
            .max_request_size_mb
            .filter(|mb| mb.is_finite() && *mb > 0.0)
            .map_or(DEFAULT_MAX_REQUEST_BYTES, |mb| {
                // Bounded above by the float → integer conversion saturating.
                (mb * 1024.0 * 1024.0) as usize
            });
        let tasks = TaskTracker::new();
        let mut layers = Layers::new();
        layers.extend(&llmrelay_guardrails::layers::layers(&config.guardrails));
        if let Some(hooks) = hooks {
            layers.extend(&crate::hooks::layers(hooks, tasks.clone()));
        }
        layers.extend(extra);
        let observe = crate::observability::build(config);
        layers.extend(observe.layers());
        let alerting = crate::alerting::build(config);
        if let Some(alerting) = &alerting {
            layers.extend(&alerting.layers());
        }
        let cache = crate::cache::register(config, &mut layers);
        if let Some(cache) = &cache {
            crate::cache::embed_through(cache, &dispatch);
        }
        let metrics = Metrics::with_cache(config.model_group_names(), cache.is_some());
        layers.account(Arc::new(CallMetrics(Arc::clone(&metrics))));
        let state = AppState {
            dispatch,
            pipeline: Pipeline::new(layers),
            auth: authenticator,
            metrics,
            settings: Settings {
                max_request_bytes,
                call_defaults,
                keep_alive: Duration::from_secs(15),
                callbacks: config.python_callbacks(),
                enforced_params: crate::edge::enforced_params_setting(config),
                allow_client_side_credentials: config
                    .general_settings
                    .other
                    .get("allow_client_side_credentials")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            },
            shutting_down: AtomicBool::new(false),
            passthrough: PassthroughCredentials::from_config(config),
            governance: None,
            tasks,
            guardrails: Arc::clone(&config.guardrails),
            observe,
            alerting,
            cache,
            reload: None,
            mcp: None,
            custom_auth: None,
            files: None,
            search_tools: Arc::clone(&config.search_tools),
        };
        Self {
            state: Arc::new(state),
        }
    }

    /// Change the SSE keep-alive interval (tests use a short one).
    #[must_use]
    pub fn with_keep_alive(self, keep_alive: Duration) -> Self {
        let mut state = match Arc::try_unwrap(self.state) {
            Ok(state) => state,
            Err(shared) => return Self { state: shared },
        };
        state.settings.keep_alive = keep_alive;
        Self {
            state: Arc::new(state),
        }
    }

    #[must_use]
    pub fn state(&self) -> Arc<AppState> {
        Arc::clone(&self.state)
    }

    /// The route table with every layer.
    pub fn router(&self) -> Router {
        let state = Arc::clone(&self.state);
        let protected = Router::new()
            .route("/v1/chat/completions", post(llm::chat))
            .route("/chat/completions", post(llm::chat))
            .route(
                "/openai/deployments/{model}/chat/completions",
                post(llm::chat_for_deployment),
            )
            .route(
                "/engines/{model}/chat/completions",
                post(llm::chat_for_deployment),
            )
            .route("/v1/completions", post(llm::text_completion))
            .route("/completions", post(llm::text_completion))
            .route(
                "/openai/deployments/{model}/completions",
                post(llm::text_completion_for_deployment),
            )
            .route("/v1/embeddings", post(llm::embeddings))
            .route("/embeddings", post(llm::embeddings))
            .route(
                "/openai/deployments/{model}/embeddings",
                post(llm::embeddings_for_deployment),
            )
            .route("/v1/messages", post(llm::messages))
            .route("/v1/messages/count_tokens", post(llm::count_tokens))
            .merge(crate::search::routes())
            .route("/v1/images/generations", post(llm::image_generation))
            .route("/images/generations", post(llm::image_generation))
            .route("/v1/moderations", post(llm::moderation))
            .route("/moderations", post(llm::moderation))
            .route("/v1/rerank", post(llm::rerank))
            .route("/rerank", post(llm::rerank))
            .route("/v2/rerank", post(llm::rerank))
            // Multipart uploads read through axum's extractor: bounded by the proxy's limit.
            .route(
                "/v1/audio/transcriptions",
                post(llm::transcription).layer(axum::extract::DefaultBodyLimit::max(
                    state.settings.max_request_bytes,
                )),
            )
            .route(
                "/audio/transcriptions",
                post(llm::transcription).layer(axum::extract::DefaultBodyLimit::max(
                    state.settings.max_request_bytes,
                )),
            )
            .route("/v1/audio/speech", post(llm::speech))
            .route("/audio/speech", post(llm::speech))
            .route("/utils/token_counter", post(llm::token_counter))
            .route("/v1/responses", post(llm::responses))
            .route("/responses", post(llm::responses))
            .route("/v1/models", get(info::models))
            .route("/models", get(info::models))
            .route("/v1/models/{*model}", get(info::model))
            .route("/models/{*model}", get(info::model))
            .route("/v1/model/info", get(info::model_info))
            .route("/model/info", get(info::model_info))
            .route("/model_group/info", get(info::model_group_info))
            .route("/health", get(info::health))
            .route("/guardrails/list", get(info::guardrails_list))
            .route("/alerting/settings", get(crate::alerting::settings_route))
            .route("/openai/{*endpoint}", any(passthrough::openai))
            .route("/anthropic/{*endpoint}", any(passthrough::anthropic))
            .route("/gemini/{*endpoint}", any(passthrough::gemini))
            .route("/vertex_ai/{*endpoint}", any(passthrough::vertex_ai))
            .route("/bedrock/{*endpoint}", any(passthrough::bedrock))
            .route("/cohere/{*endpoint}", any(passthrough::cohere))
            .merge(crate::cache::routes())
            .merge(crate::mcp::routes())
            .merge(crate::files::routes(&state))
            .route_layer(middleware::from_fn_with_state(
                Arc::clone(&state),
                authenticate,
            ));
        let open = Router::new()
            .route("/health/liveliness", get(info::liveliness))
            .route("/health/liveness", get(info::liveliness))
            .route("/health/readiness", get(info::readiness))
            .route("/metrics", get(info::metrics))
            .route("/openapi.json", get(openapi::spec))
            .route("/", get(info::root))
            .merge(crate::not_built::routes(state.governance.is_some()));
        let app = protected.merge(open).with_state(Arc::clone(&state));
        let app = match &state.governance {
            Some(governed) => {
                let app = app.merge(crate::governance::management(governed, &state));
                match &governed.sso {
                    Some(sso) => app.merge(crate::sso::routes(Arc::clone(sso))),
                    None => app,
                }
            }
            None => app,
        };
        app.fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(middleware::from_fn_with_state(
                Arc::clone(&state),
                request_context,
            ))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                panic_response,
            ))
    }

    /// Serve on `listener` until `shutdown` resolves, then stop accepting, let in-flight
    /// requests (streams included) finish for up to `drain`, and wait for logging hooks.
    ///
    /// # Errors
    /// Accept-loop I/O errors.
    pub async fn serve<L>(
        self,
        listener: L,
        shutdown: impl Future<Output = ()> + Send + 'static,
        drain: Duration,
    ) -> std::io::Result<()>
    where
        L: axum::serve::Listener<Addr = SocketAddr>,
    {
        let state = Arc::clone(&self.state);
        let app = self.router();
        let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
        let marker = Arc::clone(&state);
        let graceful = async move {
            shutdown.await;
            marker.shutting_down.store(true, Ordering::SeqCst);
            tracing::info!("shutting down: no new connections, draining in-flight requests");
            let _ = signalled_tx.send(());
        };
        // axum gives any listener's address as connect info once it is wrapped by `tap_io`
        // (a no-op here): plain TCP and TLS listeners serve through the same code.
        let listener = axum::serve::ListenerExt::tap_io(listener, |_| {});
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(graceful);
        let server = std::pin::pin!(server.into_future());
        let mut server = server;
        tokio::select! {
            result = &mut server => result?,
            () = async {
                let _ = signalled_rx.await;
                tokio::time::sleep(drain).await;
            } => {
                tracing::warn!(seconds = drain.as_secs(), "drain time over; closing remaining connections");
            }
        }
        state.tasks.close();
        if tokio::time::timeout(Duration::from_secs(10), state.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("logging hooks still running after 10 s; exiting anyway");
        }
        // Deliver what the integrations still hold (request log, Langfuse, OTLP, ...).
        if tokio::time::timeout(Duration::from_secs(10), state.observe.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("logging integrations still delivering after 10 s; exiting anyway");
        }
        if let Some(alerting) = &state.alerting
            && tokio::time::timeout(Duration::from_secs(10), alerting.shutdown())
                .await
                .is_err()
        {
            tracing::warn!("alerts still delivering after 10 s; exiting anyway");
        }
        Ok(())
    }
}

/// Every request: a call id, a tracing span carrying it, timing, security headers, and the
/// request counters (LLM routes tag their response with a [`RouteLabel`]).
async fn request_context(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let call_id: Arc<str> = Arc::from(uuid::Uuid::new_v4().to_string());
    let context = RequestContext {
        call_id: Arc::clone(&call_id),
        received: Instant::now(),
        received_wall: SystemTime::now(),
    };
    // Only the id rides on the span (every log line of the request shows it); formatting more
    // fields costs on every request.
    let span = tracing::info_span!("request", call_id = %call_id);
    let (method, path) = if tracing::enabled!(tracing::Level::DEBUG) {
        (
            request.method().to_string(),
            request.uri().path().to_owned(),
        )
    } else {
        (String::new(), String::new())
    };
    request.extensions_mut().insert(context.clone());
    // Refusals go to the audit log; the key is kept only while the audit log is on.
    let audit = state
        .governance
        .as_ref()
        .filter(|g| g.engine.audit().enabled())
        .map(|g| {
            (
                Arc::clone(&g.engine),
                auth::presented_key(request.headers()),
                request.uri().path().to_owned(),
            )
        });
    let mut response = next.run(request).instrument(span.clone()).await;
    if let Some((engine, presented_key, route)) = audit
        && let Some(denial) = response.extensions().get::<crate::errors::AccessDenial>()
    {
        engine.record_denial(llmrelay_governance::Denial {
            presented_key,
            route,
            model: response
                .extensions()
                .get::<RouteLabel>()
                .map(|label| label.model_group.clone())
                .filter(|model| !model.is_empty()),
            reason: denial.reason.clone(),
            status: response.status().as_u16(),
            changed_by: None,
        });
    }
    let status = response.status();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&call_id) {
        headers.insert("x-litellm-call-id", value);
    }
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if let Some(label) = response.extensions().get::<RouteLabel>() {
        state
            .metrics
            .request(&label.model_group, label.route, status.as_u16());
        if let Some(ErrorLabel(kind)) = response.extensions().get::<ErrorLabel>() {
            state
                .metrics
                .failure(&label.model_group, label.route, *kind);
        }
    }
    span.in_scope(|| {
        tracing::debug!(
            %method,
            %path,
            status = status.as_u16(),
            elapsed_ms = context.received.elapsed().as_secs_f64() * 1000.0,
            "response"
        );
    });
    response
}

/// The key check in front of every protected route; the [`Principal`] goes into the request.
async fn authenticate(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let dialect = if path.starts_with("/v1/messages") {
        Dialect::Anthropic
    } else {
        Dialect::OpenAi
    };
    if let Some(gate) = &state.custom_auth {
        return match gate
            .authenticate(request, state.settings.max_request_bytes, &*state.auth)
            .await
        {
            Ok((mut request, caller)) => {
                if let Err(error) = allowed_route(&caller.principal, request.uri().path()) {
                    return ApiError::new(error, dialect).into_response();
                }
                request.extensions_mut().insert(caller.principal);
                next.run(request).await
            }
            Err(api_error) => ApiError {
                dialect,
                ..api_error
            }
            .into_response(),
        };
    }
    let mut key = auth::presented_key(request.headers());
    if key.is_none() && path.starts_with("/gemini/") {
        // Google's SDKs send the key as `?key=`.
        key = request.uri().query().and_then(|q| {
            q.split('&')
                .find_map(|pair| pair.strip_prefix("key="))
                .map(str::to_owned)
        });
    }
    let route = path.to_owned();
    match state.auth.authenticate_route(key, Some(&route)).await {
        Ok(principal) => {
            if let Err(error) = allowed_route(&principal, &route) {
                return ApiError::new(error, dialect).into_response();
            }
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(error) => {
            let mut api_error = ApiError::new(error, dialect);
            if api_error.error.kind() == ErrorKind::Authentication && dialect == Dialect::OpenAi {
                api_error.type_override = Some("auth_error");
            }
            api_error.into_response()
        }
    }
}

/// A virtual key's `allowed_routes` (LiteLLM's route groups, paths, patterns) on the routes
/// behind [`authenticate`]; the management API checks its own.
fn allowed_route(principal: &auth::Principal, route: &str) -> Result<(), Error> {
    let Some(key) = principal.details::<llmrelay_governance::KeyAuth>() else {
        return Ok(());
    };
    if key.is_master_key
        || key.allowed_routes.is_empty()
        || llmrelay_governance::routes::allowed(route, &key.allowed_routes)
    {
        return Ok(());
    }
    let error = llmrelay_governance::GovernanceError::Forbidden(format!(
        "Virtual key is not allowed to call this route. Only allowed to call routes: {:?}. Tried to call route: {route}",
        key.allowed_routes
    ));
    Err(llmrelay_governance::layers::to_error(&error))
}

async fn not_found(request: Request) -> Response {
    ApiError::openai(Error::new(
        ErrorKind::NotFound,
        format!("Not Found: {} {}", request.method(), request.uri().path()),
    ))
    .into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    let error = Error::new(
        ErrorKind::BadRequest,
        format!(
            "Method Not Allowed: {} {}",
            request.method(),
            request.uri().path()
        ),
    )
    .with_status(405);
    ApiError::openai(error).into_response()
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked; answered 500");
    let error = Error::new(
        ErrorKind::InternalServer,
        "Internal Server Error: the proxy hit an unexpected condition",
    );
    let mut response = ApiError::openai(error).into_response();
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// Resolve on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
