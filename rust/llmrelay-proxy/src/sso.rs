//! Single sign-on with a generic OpenID Connect provider (LiteLLM's `/sso/key/generate` and
//! `/sso/callback`, configured by its `GENERIC_*` variables): the authorization-code flow with
//! PKCE, the ID token verified (signature through the provider's JWKS, issuer, audience,
//! nonce), the user upserted with the role its claims map to, and a signed HttpOnly session
//! cookie that the management API accepts in place of a bearer key (writes need the CSRF
//! header).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use llmrelay_core::{Error, ErrorKind};
use llmrelay_governance::{Governance, SsoLogin, UserRole};

use crate::errors::ApiError;
use crate::jwt::keys::KeyStore;
use crate::jwt::verify::JwtVerifier;

/// The login's state, nonce and PKCE verifier (signed, `/sso` only, ten minutes).
pub const STATE_COOKIE: &str = "llmrelay_sso_state";
/// The session (signed, HttpOnly): the user, the role, the session's key, the CSRF token.
pub const SESSION_COOKIE: &str = "llmrelay_session";
/// The CSRF token, readable by the page so it can send it back as [`CSRF_HEADER`].
pub const CSRF_COOKIE: &str = "llmrelay_csrf";
/// The header a cookie-authenticated write must carry (the [`CSRF_COOKIE`] value).
pub const CSRF_HEADER: &str = "x-csrf-token";

const STATE_LIFETIME: Duration = Duration::from_secs(600);
const DEFAULT_SESSION: Duration = Duration::from_secs(24 * 3600);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The provider, from LiteLLM's environment variables (llmrelay adds `GENERIC_ISSUER` and
/// `GENERIC_JWKS_URL` for the ID token check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSettings {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub scope: String,
    /// `PROXY_BASE_URL`: the callback is `{PROXY_BASE_URL}/sso/callback`.
    pub base_url: String,
    /// The ID token's `iss`.
    pub issuer: String,
    /// The provider's keys; else `jwks_uri` of `{issuer}/.well-known/openid-configuration`.
    pub jwks_url: Option<String>,
    pub user_id_attribute: String,
    pub email_attribute: String,
    pub role_attribute: String,
    /// `PROXY_ADMIN_ID`: this user is always `proxy_admin`.
    pub proxy_admin_id: Option<String>,
    /// `ALLOWED_EMAIL_DOMAINS`, comma separated.
    pub allowed_email_domains: Vec<String>,
    /// `LITELLM_UI_SESSION_DURATION` (default 24h).
    pub session: Duration,
}

impl SsoSettings {
    /// The settings when `GENERIC_CLIENT_ID` is set.
    ///
    /// # Errors
    /// A required variable missing, or an unreadable session duration.
    pub fn from_env() -> Result<Option<Self>, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Self::from_env`] over any lookup (tests).
    ///
    /// # Errors
    /// As [`Self::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let variable = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(client_id) = variable("GENERIC_CLIENT_ID") else {
            return Ok(None);
        };
        let required = |name: &str| {
            variable(name)
                .ok_or_else(|| format!("GENERIC_CLIENT_ID is set: {name} is required for SSO"))
        };
        let authorization_endpoint = required("GENERIC_AUTHORIZATION_ENDPOINT")?;
        let token_endpoint = required("GENERIC_TOKEN_ENDPOINT")?;
        let base_url = required("PROXY_BASE_URL")?.trim_end_matches('/').to_owned();
        let issuer = required("GENERIC_ISSUER")?;
        let session = match variable("LITELLM_UI_SESSION_DURATION") {
            Some(text) => llmrelay_governance::audit::parse_period(&text)
                .map_err(|reason| format!("LITELLM_UI_SESSION_DURATION: {reason}"))?,
            None => DEFAULT_SESSION,
        };
        Ok(Some(Self {
            client_id,
            client_secret: variable("GENERIC_CLIENT_SECRET"),
            authorization_endpoint,
            token_endpoint,
            userinfo_endpoint: variable("GENERIC_USERINFO_ENDPOINT"),
            scope: variable("GENERIC_SCOPE").unwrap_or_else(|| "openid email profile".to_owned()),
            base_url,
            issuer,
            jwks_url: variable("GENERIC_JWKS_URL"),
            user_id_attribute: variable("GENERIC_USER_ID_ATTRIBUTE")
                .unwrap_or_else(|| "preferred_username".to_owned()),
            email_attribute: variable("GENERIC_USER_EMAIL_ATTRIBUTE")
                .unwrap_or_else(|| "email".to_owned()),
            role_attribute: variable("GENERIC_USER_ROLE_ATTRIBUTE")
                .unwrap_or_else(|| "role".to_owned()),
            proxy_admin_id: variable("PROXY_ADMIN_ID"),
            allowed_email_domains: variable("ALLOWED_EMAIL_DOMAINS")
                .map(|v| {
                    v.split(',')
                        .map(|d| d.trim().to_ascii_lowercase())
                        .filter(|d| !d.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            session,
        }))
    }

    fn redirect_uri(&self) -> String {
        format!("{}/sso/callback", self.base_url)
    }

    fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

/// What the state cookie holds.
#[derive(Debug, Serialize, Deserialize)]
struct LoginState {
    state: String,
    nonce: String,
    verifier: String,
    exp: u64,
}

/// What the session cookie holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub sub: String,
    pub role: String,
    pub key: String,
    pub csrf: String,
    pub exp: u64,
}

/// The configured sign-on.
pub struct Sso {
    settings: SsoSettings,
    engine: Arc<Governance>,
    signing: EncodingKey,
    checking: DecodingKey,
    client: reqwest::Client,
    verifier: tokio::sync::OnceCell<JwtVerifier>,
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// S256: `BASE64URL(SHA256(verifier))`.
#[must_use]
pub fn pkce_challenge(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

fn refused(message: impl Into<String>) -> ApiError {
    let mut error = ApiError::openai(Error::new(ErrorKind::Authentication, message));
    error.type_override = Some("auth_error");
    error
}

fn failed(message: impl Into<String>) -> ApiError {
    ApiError::openai(Error::new(ErrorKind::BadGateway, message).with_status(502))
}

/// The value of cookie `name`.
#[must_use]
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
}

fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
    http_only: bool,
    secure: bool,
) -> String {
    let mut cookie = format!("{name}={value}; Path={path}; Max-Age={max_age}; SameSite=Lax");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

fn equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A claim by name, dots walking into objects (`realm_access.roles`).
fn claim<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

/// The LiteLLM role a claim names (a string, or the first known role in a list).
fn role_of(value: Option<&Value>) -> Option<UserRole> {
    match value? {
        Value::String(text) => UserRole::parse(text.trim()),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .find_map(|text| UserRole::parse(text.trim())),
        _ => None,
    }
}

impl Sso {
    /// The sign-on for these settings; cookies are signed with a key derived from
    /// `LITELLM_SALT_KEY`, else the master key.
    ///
    /// # Errors
    /// No master key to sign with, or no HTTP client.
    pub fn new(settings: SsoSettings, engine: Arc<Governance>) -> Result<Self, String> {
        let secret = std::env::var("LITELLM_SALT_KEY")
            .ok()
            .filter(|s| !s.is_empty())
            .or_else(|| engine.config().master_key.clone())
            .ok_or("SSO needs a master key to sign its cookies")?;
        let derived = Sha256::digest(format!("llmrelay-sso-cookies\0{secret}").as_bytes());
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|error| format!("SSO HTTP client: {error}"))?;
        Ok(Self {
            settings,
            engine,
            signing: EncodingKey::from_secret(&derived),
            checking: DecodingKey::from_secret(&derived),
            client,
            verifier: tokio::sync::OnceCell::new(),
        })
    }

    fn sign<T: Serialize>(&self, payload: &T) -> Result<String, ApiError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), payload, &self.signing).map_err(|e| {
            ApiError::openai(Error::new(
                ErrorKind::InternalServer,
                format!("SSO cookie: {e}"),
            ))
        })
    }

    fn open<T: for<'de> Deserialize<'de>>(&self, token: &str) -> Option<T> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        jsonwebtoken::decode::<T>(token, &self.checking, &validation)
            .ok()
            .map(|data| data.claims)
    }

    /// The session a request's cookie carries, when it is valid and unexpired.
    #[must_use]
    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        self.open(&cookie(headers, SESSION_COOKIE)?)
    }

    async fn id_token_verifier(&self) -> Result<&JwtVerifier, ApiError> {
        self.verifier
            .get_or_try_init(|| async {
                let jwks_url = match &self.settings.jwks_url {
                    Some(url) => url.clone(),
                    None => self.discover_jwks().await?,
                };
                let keys =
                    KeyStore::new(&[jwks_url], None, Duration::from_secs(600)).map_err(failed)?;
                Ok(JwtVerifier::with_keys(
                    keys,
                    Some(self.settings.client_id.clone()),
                    Some(self.settings.issuer.clone()),
                ))
            })
            .await
    }

    async fn discover_jwks(&self) -> Result<String, ApiError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.settings.issuer.trim_end_matches('/')
        );
        let document: Value = self
            .client
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| failed(format!("SSO discovery {url}: {e}")))?
            .json()
            .await
            .map_err(|e| failed(format!("SSO discovery {url}: {e}")))?;
        document
            .get("jwks_uri")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| failed(format!("SSO discovery {url}: no jwks_uri")))
    }

    /// `GET /sso/key/generate`: to the provider, with a fresh state, nonce and PKCE pair.
    fn start(&self) -> Result<Response, ApiError> {
        let login = LoginState {
            state: random_token(),
            nonce: random_token(),
            verifier: random_token(),
            exp: now_seconds() + STATE_LIFETIME.as_secs(),
        };
        let settings = &self.settings;
        let location = reqwest::Url::parse_with_params(
            &settings.authorization_endpoint,
            &[
                ("response_type", "code"),
                ("client_id", settings.client_id.as_str()),
                ("redirect_uri", settings.redirect_uri().as_str()),
                ("scope", settings.scope.as_str()),
                ("state", login.state.as_str()),
                ("nonce", login.nonce.as_str()),
                ("code_challenge", pkce_challenge(&login.verifier).as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
        .map_err(|e| failed(format!("GENERIC_AUTHORIZATION_ENDPOINT: {e}")))?;
        let cookie = set_cookie(
            STATE_COOKIE,
            &self.sign(&login)?,
            "/sso",
            STATE_LIFETIME.as_secs(),
            true,
            settings.secure_cookies(),
        );
        redirect(location.as_str(), &[cookie])
    }

    /// `GET /sso/callback`: the code exchanged, the ID token checked, the user signed in.
    async fn finish(
        &self,
        headers: &HeaderMap,
        query: &HashMap<String, String>,
    ) -> Result<Response, ApiError> {
        if let Some(error) = query.get("error") {
            let detail = query.get("error_description").map_or("", String::as_str);
            return Err(refused(format!(
                "SSO login failed at the provider: {error} {detail}"
            )));
        }
        let login: LoginState = cookie(headers, STATE_COOKIE)
            .and_then(|c| self.open(&c))
            .ok_or_else(|| {
                refused("SSO login state missing or expired: start again at /sso/key/generate")
            })?;
        let state = query.get("state").map_or("", String::as_str);
        if !equal(state, &login.state) {
            return Err(refused(
                "SSO login refused: the state does not match this browser's login",
            ));
        }
        let code = query
            .get("code")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| refused("SSO login refused: no authorization code"))?;
        let tokens = self.exchange(code, &login.verifier).await?;
        let id_token = tokens
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                failed("SSO token endpoint returned no id_token (is `openid` in GENERIC_SCOPE?)")
            })?;
        let verifier = self.id_token_verifier().await?;
        let mut claims = verifier
            .verify(id_token)
            .await
            .map_err(|e| refused(format!("SSO ID token refused: {}", e.message())))?;
        if claims
            .get("nonce")
            .and_then(Value::as_str)
            .is_none_or(|n| !equal(n, &login.nonce))
        {
            return Err(refused(
                "SSO ID token refused: the nonce does not match this login",
            ));
        }
        if let (Some(url), Some(access)) = (
            &self.settings.userinfo_endpoint,
            tokens.get("access_token").and_then(Value::as_str),
        ) {
            let info = self.userinfo(url, access).await?;
            if info.get("sub") != claims.get("sub") {
                return Err(refused(
                    "SSO userinfo refused: its subject is not the ID token's",
                ));
            }
            claims.extend(info);
        }
        self.sign_in(&claims).await
    }

    async fn exchange(&self, code: &str, verifier: &str) -> Result<Map<String, Value>, ApiError> {
        let settings = &self.settings;
        let redirect_uri = settings.redirect_uri();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", settings.client_id.as_str()),
            ("code_verifier", verifier),
        ];
        if let Some(secret) = &settings.client_secret {
            form.push(("client_secret", secret.as_str()));
        }
        let body = reqwest::Url::parse_with_params("http://form.invalid/", &form)
            .ok()
            .and_then(|u| u.query().map(str::to_owned))
            .unwrap_or_default();
        let response = self
            .client
            .post(&settings.token_endpoint)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| failed(format!("SSO token endpoint: {e}")))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| failed(format!("SSO token endpoint: {e}")))?;
        if !status.is_success() {
            return Err(refused(format!(
                "SSO login refused by the token endpoint ({status}): {text}"
            )));
        }
        serde_json::from_str(&text).map_err(|e| failed(format!("SSO token endpoint answer: {e}")))
    }

    async fn userinfo(
        &self,
        url: &str,
        access_token: &str,
    ) -> Result<Map<String, Value>, ApiError> {
        self.client
            .get(url)
            .bearer_auth(access_token)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| failed(format!("SSO userinfo endpoint: {e}")))?
            .json()
            .await
            .map_err(|e| failed(format!("SSO userinfo endpoint answer: {e}")))
    }

    async fn sign_in(&self, claims: &Map<String, Value>) -> Result<Response, ApiError> {
        let settings = &self.settings;
        let text = |name: &str| {
            claim(claims, name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let user_id = text(&settings.user_id_attribute)
            .or_else(|| text("sub"))
            .ok_or_else(|| refused("SSO login refused: the provider named no user"))?;
        let user_email = text(&settings.email_attribute);
        if !settings.allowed_email_domains.is_empty() {
            let domain = user_email
                .as_deref()
                .and_then(|e| e.rsplit_once('@'))
                .map(|(_, d)| d.to_ascii_lowercase())
                .unwrap_or_default();
            if !settings.allowed_email_domains.contains(&domain) {
                return Err(refused(format!(
                    "The email domain={domain}, is not an allowed email domain={}. Contact your admin to change this.",
                    settings.allowed_email_domains.join(",")
                )));
            }
        }
        let role = if settings.proxy_admin_id.as_deref() == Some(user_id.as_str()) {
            Some(UserRole::ProxyAdmin)
        } else {
            role_of(claim(claims, &settings.role_attribute))
        };
        let engine = Arc::clone(&self.engine);
        let login = SsoLogin {
            user_id,
            user_email,
            role,
            session: settings.session,
        };
        let session = self
            .engine
            .runtime()
            .spawn(async move { engine.sso_sign_in(login).await })
            .await
            .map_err(|e| failed(format!("SSO sign-in: {e}")))?
            .map_err(|e| ApiError::openai(llmrelay_governance::layers::to_error(&e)))?;
        let csrf = random_token();
        let max_age = settings.session.as_secs();
        let cookie_value = self.sign(&Session {
            sub: session.user_id.clone(),
            role: session.user_role.as_str().to_owned(),
            key: session.key,
            csrf: csrf.clone(),
            exp: now_seconds() + max_age,
        })?;
        let secure = settings.secure_cookies();
        let cookies = [
            set_cookie(SESSION_COOKIE, &cookie_value, "/", max_age, true, secure),
            set_cookie(CSRF_COOKIE, &csrf, "/", max_age, false, secure),
            set_cookie(STATE_COOKIE, "", "/sso", 0, true, secure),
        ];
        tracing::info!(user_id = %session.user_id, role = session.user_role.as_str(), "SSO sign-in");
        redirect(
            &format!("{}/ui/?login=success", settings.base_url),
            &cookies,
        )
    }
}

fn redirect(location: &str, cookies: &[String]) -> Result<Response, ApiError> {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    let location = HeaderValue::from_str(location)
        .map_err(|_| failed("SSO redirect location is not a valid header"))?;
    headers.insert(header::LOCATION, location);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// LiteLLM's `/sso/*` routes.
pub fn routes(sso: Arc<Sso>) -> Router {
    Router::new()
        .route("/sso/key/generate", get(start))
        .route("/sso/callback", get(callback))
        .with_state(sso)
}

async fn start(State(sso): State<Arc<Sso>>) -> Response {
    sso.start().unwrap_or_else(IntoResponse::into_response)
}

async fn callback(
    State(sso): State<Arc<Sso>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    sso.finish(&headers, &query)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// A management request without a key but with a session cookie: the session's key becomes
/// its bearer key. Writes (anything but GET, HEAD, OPTIONS) must repeat the session's CSRF
/// token in [`CSRF_HEADER`].
///
/// # Errors
/// A session cookie that is invalid or expired (401), or a write without the CSRF token (403).
pub fn session_to_bearer(sso: &Sso, request: &mut Request) -> Result<(), ApiError> {
    let headers = request.headers();
    if crate::auth::presented_key(headers).is_some() || cookie(headers, SESSION_COOKIE).is_none() {
        return Ok(());
    }
    let session = sso
        .session(headers)
        .ok_or_else(|| refused("Authentication Error, the SSO session is invalid or expired: sign in again at /sso/key/generate"))?;
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !equal(sent, &session.csrf) {
            return Err(ApiError::openai(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "CSRF check failed: a request authenticated by the session cookie must send the {CSRF_COOKIE} cookie's value in the {CSRF_HEADER} header"
                ),
            )));
        }
    }
    let bearer = HeaderValue::from_str(&format!("Bearer {}", session.key))
        .map_err(|_| refused("Authentication Error, the SSO session is invalid"))?;
    request.headers_mut().insert(header::AUTHORIZATION, bearer);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pkce_matches_rfc_7636() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn settings_use_litellm_names() {
        let env: HashMap<&str, &str> = [
            ("GENERIC_CLIENT_ID", "llmrelay"),
            ("GENERIC_AUTHORIZATION_ENDPOINT", "https://idp/authorize"),
            ("GENERIC_TOKEN_ENDPOINT", "https://idp/token"),
            ("PROXY_BASE_URL", "https://proxy.example/"),
            ("GENERIC_ISSUER", "https://idp"),
            ("GENERIC_USER_ROLE_ATTRIBUTE", "litellm_role"),
            ("LITELLM_UI_SESSION_DURATION", "8h"),
        ]
        .into_iter()
        .collect();
        let settings = SsoSettings::from_lookup(|name| env.get(name).map(|v| (*v).to_owned()))
            .unwrap()
            .unwrap();
        assert_eq!(
            settings.redirect_uri(),
            "https://proxy.example/sso/callback"
        );
        assert_eq!(settings.scope, "openid email profile");
        assert_eq!(settings.user_id_attribute, "preferred_username");
        assert_eq!(settings.role_attribute, "litellm_role");
        assert_eq!(settings.session, Duration::from_secs(8 * 3600));
        assert!(settings.secure_cookies());
        assert!(SsoSettings::from_lookup(|_| None).unwrap().is_none());
        let missing =
            SsoSettings::from_lookup(|name| (name == "GENERIC_CLIENT_ID").then(|| "x".to_owned()))
                .unwrap_err();
        assert!(
            missing.contains("GENERIC_AUTHORIZATION_ENDPOINT"),
            "{missing}"
        );
    }

    #[test]
    fn roles_come_from_strings_lists_and_nested_claims() {
        let claims = json!({
            "role": "proxy_admin",
            "groups": ["staff", "internal_user"],
            "realm": {"litellm": "proxy_admin_viewer"},
        });
        let claims = claims.as_object().unwrap();
        assert_eq!(role_of(claim(claims, "role")), Some(UserRole::ProxyAdmin));
        assert_eq!(
            role_of(claim(claims, "groups")),
            Some(UserRole::InternalUser)
        );
        assert_eq!(
            role_of(claim(claims, "realm.litellm")),
            Some(UserRole::ProxyAdminViewer)
        );
        assert_eq!(role_of(claim(claims, "missing")), None);
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; llmrelay_session=abc.def; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc.def"));
        assert_eq!(cookie(&headers, "missing"), None);
        let set = set_cookie(SESSION_COOKIE, "v", "/", 60, true, true);
        assert_eq!(
            set,
            "llmrelay_session=v; Path=/; Max-Age=60; SameSite=Lax; HttpOnly; Secure"
        );
    }
}
