//! `general_settings.custom_auth: module.function`: LiteLLM's hook that replaces key checks
//! with the user's own. The function gets the request (method, URL, headers, client, body) and
//! the presented key, and returns a `UserAPIKeyAuth`-shaped object (the caller), a string (a
//! key to check as usual: LiteLLM Enterprise's form), or raises (the request is refused).
//!
//! Only the `llmrelay` command (the Python package) can load such a function: the Python
//! binding registers a [`CustomAuthFactory`] before the proxy is built; the Rust binary refuses
//! a config that names one. Without `custom_auth` nothing here runs: the gate is not installed.
//!
//! Settings, as LiteLLM's:
//! - `general_settings.custom_auth_settings.mode`: `on` (the default: the function decides),
//!   `auto` (a raised exception falls back to the proxy's own key checks), `off` (not called);
//! - `general_settings.custom_auth_run_common_checks` (or `litellm_settings.
//!   enable_post_custom_auth_checks`): the returned caller's own limits apply as a virtual
//!   key's do — blocked / expired, `models`, budgets, rpm/tpm limits — through the database
//!   layers. Off by default, as in LiteLLM: the caller is trusted as returned.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use llmrelay_core::{Error, ErrorKind};
use llmrelay_governance::{Governance, KeyAuth};

use crate::auth::{Authenticator, Principal, presented_key};
use crate::config::ProxyConfig;

/// The `general_settings` keys read here.
pub const SETTINGS: &[&str] = &[
    "custom_auth",
    "custom_auth_settings",
    "custom_auth_run_common_checks",
];

/// The `litellm_settings` key read here.
pub const LITELLM_SETTINGS: &[&str] = &["enable_post_custom_auth_checks"];

/// The request as the function sees it (a Starlette `Request` on the Python side).
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub method: String,
    /// Path and query, as received (`/v1/chat/completions?x=1`).
    pub path_and_query: String,
    /// `Host` header value, for the URL's authority (empty when absent).
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub client: Option<SocketAddr>,
    pub body: Bytes,
    /// The key the request carries (`Authorization: Bearer …` without `Bearer`, or the
    /// provider-style headers), as LiteLLM passes `api_key`.
    pub api_key: Option<String>,
}

/// What the function decided.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The caller: `UserAPIKeyAuth`'s fields.
    Caller(Map<String, Value>),
    /// A key to check with the proxy's own authentication.
    Key(String),
}

/// A loaded `custom_auth` function. A refusal is an `Err` carrying the status to answer with.
pub trait CustomAuth: Send + Sync + 'static {
    fn check(&self, request: AuthRequest) -> BoxFuture<'static, Result<Verdict, Refusal>>;
}

/// A refused request: the status, the message and LiteLLM's error `type` (`auth_error` unless
/// the function raised a `ProxyException` with its own).
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
    pub error_type: String,
}

impl Refusal {
    /// A 401 `auth_error`.
    #[must_use]
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            status: 401,
            message: message.into(),
            error_type: "auth_error".to_owned(),
        }
    }

    /// The error answered, with its `type` among LiteLLM's proxy error types.
    #[must_use]
    pub fn into_api_error(self) -> crate::errors::ApiError {
        let kind = llmrelay_governance::layers::gateway_kind(self.status);
        let status = if (400..600).contains(&self.status) {
            self.status
        } else {
            500
        };
        let mut error =
            crate::errors::ApiError::openai(Error::new(kind, self.message).with_status(status));
        error.type_override = Some(proxy_error_type(&self.error_type));
        error
    }
}

/// LiteLLM's `ProxyErrorTypes` (an unknown one is reported as `auth_error`).
fn proxy_error_type(name: &str) -> &'static str {
    const TYPES: &[&str] = &[
        "auth_error",
        "budget_exceeded",
        "key_model_access_denied",
        "team_model_access_denied",
        "user_model_access_denied",
        "org_model_access_denied",
        "expired_key",
        "internal_server_error",
        "bad_request_error",
        "not_found_error",
        "validation_error",
        "cache_ping_error",
        "no_db_connection",
        "token_not_found_in_db",
        "invalid_request_error",
        "rate_limit_error",
    ];
    TYPES
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("auth_error")
}

/// Loads `module.function` names (registered by the Python binding).
pub trait CustomAuthFactory: Send + Sync + 'static {
    /// # Errors
    /// The function cannot be imported (the message names it).
    fn load(&self, function: &str) -> Result<Arc<dyn CustomAuth>, String>;
}

static FACTORY: OnceLock<Arc<dyn CustomAuthFactory>> = OnceLock::new();

/// Registers the loader of `custom_auth` functions (once per process; later calls are ignored
/// and return `false`).
pub fn set_factory(factory: Arc<dyn CustomAuthFactory>) -> bool {
    FACTORY.set(factory).is_ok()
}

/// `custom_auth_settings.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    On,
    Auto,
    Off,
}

/// The parsed settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomAuthSettings {
    pub function: String,
    pub mode: Mode,
    pub common_checks: bool,
}

impl CustomAuthSettings {
    /// `None` when no function is configured.
    ///
    /// # Errors
    /// A malformed `custom_auth`, `custom_auth_settings` or flag (the message names the key).
    pub fn from_config(config: &ProxyConfig) -> Result<Option<Self>, String> {
        let general = &config.general_settings.other;
        let Some(function) = general.get("custom_auth").filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let function = function
            .as_str()
            .map(str::trim)
            .filter(|name| name.contains('.'))
            .ok_or_else(|| {
                format!(
                    "general_settings.custom_auth must be a `module.function` path, got {function}"
                )
            })?
            .to_owned();
        let mode = match general.get("custom_auth_settings") {
            None | Some(Value::Null) => Mode::On,
            Some(Value::Object(settings)) => match settings.get("mode") {
                None | Some(Value::Null) => Mode::On,
                Some(Value::String(mode)) => match mode.as_str() {
                    "on" => Mode::On,
                    "auto" => Mode::Auto,
                    "off" => Mode::Off,
                    other => {
                        return Err(format!(
                            "general_settings.custom_auth_settings.mode: Invalid mode: {other} (one of on, auto, off)"
                        ));
                    }
                },
                Some(other) => {
                    return Err(format!(
                        "general_settings.custom_auth_settings.mode must be a string, got {other}"
                    ));
                }
            },
            Some(other) => {
                return Err(format!(
                    "general_settings.custom_auth_settings must be a mapping, got {other}"
                ));
            }
        };
        let flag = |value: Option<&Value>, path: &str| -> Result<bool, String> {
            match value {
                None | Some(Value::Null) => Ok(false),
                Some(Value::Bool(flag)) => Ok(*flag),
                Some(other) => Err(format!("{path} must be true or false, got {other}")),
            }
        };
        let common_checks = flag(
            general.get("custom_auth_run_common_checks"),
            "general_settings.custom_auth_run_common_checks",
        )? | flag(
            config
                .litellm_settings
                .other
                .get("enable_post_custom_auth_checks"),
            "litellm_settings.enable_post_custom_auth_checks",
        )?;
        Ok(Some(Self {
            function,
            mode,
            common_checks,
        }))
    }
}

/// The installed hook, in front of the proxy's own authentication.
#[derive(Clone)]
pub struct Gate {
    pub settings: CustomAuthSettings,
    pub hook: Arc<dyn CustomAuth>,
    /// The database, for the common checks (and the management API's callers).
    pub engine: Option<Arc<Governance>>,
}

impl Gate {
    /// The gate for `config`: `None` without `custom_auth` or in mode `off`.
    ///
    /// # Errors
    /// Bad settings, or a function that cannot be loaded here (the Rust binary has no Python).
    pub fn from_config(config: &ProxyConfig) -> Result<Option<Self>, String> {
        let Some(settings) = CustomAuthSettings::from_config(config)? else {
            return Ok(None);
        };
        if settings.mode == Mode::Off {
            return Ok(None);
        }
        let factory = FACTORY.get().ok_or_else(|| {
            format!(
                "general_settings.custom_auth '{}' is a Python function: start the proxy with the `llmrelay` command (pip package) to load it",
                settings.function
            )
        })?;
        let hook = factory.load(&settings.function)?;
        if settings.common_checks {
            tracing::info!(
                "custom_auth: the returned callers' limits (models, budgets, rpm/tpm, expiry) are enforced"
            );
        }
        Ok(Some(Self {
            settings,
            hook,
            engine: None,
        }))
    }

    /// Run the function on `request` (its body read and put back), then decide the caller.
    /// `fallback` is the proxy's own authentication, for a returned key and for mode `auto`.
    ///
    /// # Errors
    /// The refusal to answer with.
    pub async fn authenticate(
        &self,
        request: Request,
        max_body: usize,
        fallback: &dyn Authenticator,
    ) -> Result<(Request, Caller), crate::errors::ApiError> {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, max_body).await.map_err(|_| {
            crate::errors::ApiError::openai(
                Error::new(
                    ErrorKind::BadRequest,
                    format!("Request body is too large: more than {max_body} bytes"),
                )
                .with_status(413),
            )
        })?;
        let key = presented_key(&parts.headers);
        let route = parts.uri.path().to_owned();
        let auth_request = AuthRequest {
            method: parts.method.as_str().to_owned(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or_else(|| route.clone(), |pq| pq.as_str().to_owned()),
            host: parts
                .headers
                .get(http::header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            headers: parts
                .headers
                .iter()
                .filter_map(|(name, value)| {
                    value
                        .to_str()
                        .ok()
                        .map(|value| (name.as_str().to_owned(), value.to_owned()))
                })
                .collect(),
            client: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
            body: body.clone(),
            api_key: key.clone(),
        };
        let request = Request::from_parts(parts, Body::from(body));
        let verdict = match self.hook.check(auth_request).await {
            Ok(verdict) => verdict,
            Err(refusal) if self.settings.mode == Mode::Auto => {
                tracing::debug!(message = %refusal.message, "custom_auth refused; checking the proxy's own auth (mode auto)");
                return own_auth(fallback, key, &route)
                    .await
                    .map(|caller| (request, caller));
            }
            Err(refusal) => return Err(refusal.into_api_error()),
        };
        let caller = match verdict {
            Verdict::Key(key) => Caller {
                key: Some(key.clone()),
                ..own_auth(fallback, Some(key), &route).await?
            },
            Verdict::Caller(fields) => self.caller(&fields)?,
        };
        Ok((request, caller))
    }

    /// The principal of a returned `UserAPIKeyAuth`.
    fn caller(&self, fields: &Map<String, Value>) -> Result<Caller, crate::errors::ApiError> {
        let auth = KeyAuth::from_user_api_key_auth(fields);
        if self.settings.common_checks
            && let Some(engine) = &self.engine
        {
            engine.check_key_state(&auth).map_err(|error| {
                crate::errors::ApiError::openai(llmrelay_governance::layers::to_error(&error))
            })?;
        }
        let auth = Arc::new(auth);
        let mut principal =
            llmrelay_governance::layers::admit::key_auth::identity_of(Arc::clone(&auth));
        principal.end_user_id = auth.end_user_id.clone();
        if !self.settings.common_checks {
            // Trusted as returned (LiteLLM's default): no limits of its own apply.
            principal.details = None;
        }
        if let Some(api_key) = fields.get("api_key").and_then(Value::as_str)
            && principal.key_hash.as_deref() == Some("")
        {
            principal.key_hash = Some(crate::auth::hash_key(api_key));
        }
        if principal.key_hash.as_deref() == Some("") {
            principal.key_hash = None;
        }
        Ok(Caller {
            principal,
            auth: Some(auth),
            key: None,
        })
    }
}

/// Who the gate let in: the principal for the LLM routes and, when the function returned the
/// caller, its [`KeyAuth`] for the management API.
#[derive(Clone)]
pub struct Caller {
    pub principal: Principal,
    pub auth: Option<Arc<KeyAuth>>,
    /// The key the function returned, checked in place of the presented one.
    pub key: Option<String>,
}

async fn own_auth(
    fallback: &dyn Authenticator,
    key: Option<String>,
    route: &str,
) -> Result<Caller, crate::errors::ApiError> {
    let principal = fallback
        .authenticate_route(key, Some(route))
        .await
        .map_err(|error| {
            let mut api_error = crate::errors::ApiError::openai(error);
            if api_error.error.kind() == ErrorKind::Authentication {
                api_error.type_override = Some("auth_error");
            }
            api_error
        })?;
    Ok(Caller {
        principal,
        auth: None,
        key: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(general: Value, litellm: Value) -> ProxyConfig {
        let document = serde_json::json!({
            "model_list": [],
            "general_settings": general,
            "litellm_settings": litellm,
        });
        let Value::Object(document) = document else {
            unreachable!()
        };
        crate::config::RawConfig::from_document(document)
            .resolve()
            .expect("config")
    }

    #[test]
    fn settings_follow_litellms_names() {
        let none = config(serde_json::json!({}), serde_json::json!({}));
        assert_eq!(CustomAuthSettings::from_config(&none).unwrap(), None);
        let on = config(
            serde_json::json!({"custom_auth": "auth.user_api_key_auth"}),
            serde_json::json!({}),
        );
        assert_eq!(
            CustomAuthSettings::from_config(&on).unwrap(),
            Some(CustomAuthSettings {
                function: "auth.user_api_key_auth".into(),
                mode: Mode::On,
                common_checks: false,
            })
        );
        let auto = config(
            serde_json::json!({"custom_auth": "auth.fn", "custom_auth_settings": {"mode": "auto"}, "custom_auth_run_common_checks": true}),
            serde_json::json!({}),
        );
        let auto = CustomAuthSettings::from_config(&auto).unwrap().unwrap();
        assert_eq!((auto.mode, auto.common_checks), (Mode::Auto, true));
        let post = config(
            serde_json::json!({"custom_auth": "auth.fn"}),
            serde_json::json!({"enable_post_custom_auth_checks": true}),
        );
        assert!(
            CustomAuthSettings::from_config(&post)
                .unwrap()
                .unwrap()
                .common_checks
        );
        for (general, expected) in [
            (
                serde_json::json!({"custom_auth": "nodot"}),
                "module.function",
            ),
            (
                serde_json::json!({"custom_auth": "a.b", "custom_auth_settings": {"mode": "sometimes"}}),
                "Invalid mode: sometimes",
            ),
            (
                serde_json::json!({"custom_auth": "a.b", "custom_auth_run_common_checks": "yes"}),
                "true or false",
            ),
        ] {
            let error = CustomAuthSettings::from_config(&config(general, serde_json::json!({})))
                .unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn the_binary_refuses_a_python_function_and_mode_off_installs_nothing() {
        let off = config(
            serde_json::json!({"custom_auth": "auth.fn", "custom_auth_settings": {"mode": "off"}}),
            serde_json::json!({}),
        );
        assert!(Gate::from_config(&off).unwrap().is_none());
        if FACTORY.get().is_none() {
            let on = config(
                serde_json::json!({"custom_auth": "auth.fn"}),
                serde_json::json!({}),
            );
            let error = Gate::from_config(&on).err().unwrap();
            assert!(error.contains("`llmrelay` command"), "{error}");
        }
    }

    #[test]
    fn unknown_proxy_error_types_are_auth_errors() {
        assert_eq!(proxy_error_type("budget_exceeded"), "budget_exceeded");
        assert_eq!(proxy_error_type("made_up"), "auth_error");
        let error = Refusal {
            status: 403,
            message: "no".into(),
            error_type: "key_model_access_denied".into(),
        }
        .into_api_error();
        assert_eq!(error.status().as_u16(), 403);
        assert_eq!(error.body()["error"]["type"], "key_model_access_denied");
    }
}
