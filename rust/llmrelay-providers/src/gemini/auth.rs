//! Google OAuth access tokens for Vertex AI from service-account keys (signed JWT bearer grant,
//! RFC 7523; Google's "Using OAuth 2.0 for Server to Server Applications":
//! <https://developers.google.com/identity/protocols/oauth2/service-account#httprest>) or
//! `authorized_user` refresh tokens, cached per account until shortly before they expire.
//!
//! The cache is one per process. Each account has its own async lock, taken only around its
//! own exchange: concurrent calls for an account wait for one exchange instead of each
//! starting their own, and no lock of the map is held across an await.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use llmrelay_core::{Error, ErrorKind, Result};

/// The scope LiteLLM asks for.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const JWT_BEARER_GRANT: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// Lifetime asked for an assertion (Google's maximum).
const ASSERTION_LIFETIME_SECONDS: u64 = 3600;
/// A token is renewed this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Credentials read from a key file (`type` `service_account` or `authorized_user`).
#[derive(Debug, Clone, Deserialize)]
pub struct GoogleCredentials {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub project_id: Option<String>,
    #[serde(default)]
    pub private_key_id: Option<String>,
    #[serde(default)]
    pub private_key: Option<String>,
    #[serde(default)]
    pub client_email: Option<String>,
    #[serde(default)]
    pub token_uri: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub quota_project_id: Option<String>,
}

fn auth_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Authentication, message.into()).with_provider("vertex_ai")
}

impl GoogleCredentials {
    fn token_uri(&self) -> &str {
        self.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI)
    }

    /// The key the token cache files this account under.
    fn cache_key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.kind,
            self.client_email.as_deref().unwrap_or_default(),
            self.client_id.as_deref().unwrap_or_default(),
            self.token_uri()
        )
    }
}

/// Read credentials given as a dict, a JSON string, or a path to a key file.
///
/// # Errors
/// Unreadable or malformed credentials.
pub fn parse_credentials(value: &Value) -> Result<GoogleCredentials> {
    let parsed = match value {
        Value::Object(_) => serde_json::from_value(value.clone()).map_err(|e| {
            auth_error(format!(
                "vertex_credentials is not a service account key: {e}"
            ))
        })?,
        Value::String(text) if text.trim_start().starts_with('{') => serde_json::from_str(text)
            .map_err(|e| auth_error(format!("vertex_credentials is not valid JSON: {e}")))?,
        Value::String(path) => read_key_file(path)?,
        _ => {
            return Err(auth_error(
                "vertex_credentials must be a dict, a JSON string or a file path",
            ));
        }
    };
    Ok(parsed)
}

fn read_key_file(path: &str) -> Result<GoogleCredentials> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| auth_error(format!("cannot read Google credentials file {path}: {e}")))?;
    serde_json::from_str(&text)
        .map_err(|e| auth_error(format!("Google credentials file {path} is not valid: {e}")))
}

/// The call's credentials: `vertex_credentials`, else `GOOGLE_APPLICATION_CREDENTIALS`.
///
/// # Errors
/// None found, or unusable.
pub fn resolve_credentials(call: &Map<String, Value>) -> Result<GoogleCredentials> {
    if let Some(value) = call.get("vertex_credentials").filter(|v| !v.is_null()) {
        return parse_credentials(value);
    }
    if let Some(path) = std::env::var("GOOGLE_APPLICATION_CREDENTIALS")
        .ok()
        .filter(|p| !p.is_empty())
    {
        return read_key_file(&path);
    }
    Err(auth_error(
        "No Google credentials for Vertex AI: pass vertex_credentials (service account JSON as a \
         dict, a JSON string or a file path) or set GOOGLE_APPLICATION_CREDENTIALS",
    ))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A signed RS256 assertion asking `token_uri` for a cloud-platform token.
///
/// # Errors
/// A missing or unusable private key.
pub fn signed_assertion(credentials: &GoogleCredentials, now: u64) -> Result<String> {
    let email = credentials
        .client_email
        .as_deref()
        .ok_or_else(|| auth_error("service account key has no client_email"))?;
    let pem = credentials
        .private_key
        .as_deref()
        .ok_or_else(|| auth_error("service account key has no private_key"))?;
    // PKCS#8 (`PRIVATE KEY`, what Google issues) or PKCS#1 (`RSA PRIVATE KEY`).
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| {
        auth_error(format!(
            "service account private_key is not an RSA key in PEM: {e}"
        ))
    })?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid.clone_from(&credentials.private_key_id);
    let claims = json!({
        "iss": email,
        "scope": CLOUD_PLATFORM_SCOPE,
        "aud": credentials.token_uri(),
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECONDS,
    });
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| auth_error(format!("signing the service account assertion failed: {e}")))
}

/// An access token for these credentials, from the cache while it is fresh.
///
/// # Errors
/// A failed exchange (`AuthenticationError` with the token endpoint's reason).
pub async fn access_token(credentials: &GoogleCredentials) -> Result<String> {
    let key = format!("{TOKEN_CACHE_PREFIX}{}", credentials.cache_key());
    crate::token_cache::cached(&key, REFRESH_MARGIN, || exchange(credentials)).await
}

/// Forget every cached token (tests; credential rotation).
pub fn clear_token_cache() {
    crate::token_cache::clear(TOKEN_CACHE_PREFIX);
}

const TOKEN_CACHE_PREFIX: &str = "google:";

async fn exchange(credentials: &GoogleCredentials) -> Result<(String, Duration)> {
    let form = match credentials.kind.as_str() {
        "authorized_user" => {
            let field = |value: &Option<String>, name: &str| {
                value.clone().ok_or_else(|| {
                    auth_error(format!("authorized_user credentials have no {name}"))
                })
            };
            format!(
                "grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={}",
                crate::token_cache::form_encode(&field(&credentials.client_id, "client_id")?),
                crate::token_cache::form_encode(&field(
                    &credentials.client_secret,
                    "client_secret"
                )?),
                crate::token_cache::form_encode(&field(
                    &credentials.refresh_token,
                    "refresh_token"
                )?),
            )
        }
        "service_account" | "" => format!(
            "grant_type={JWT_BEARER_GRANT}&assertion={}",
            signed_assertion(credentials, unix_now())?
        ),
        other => {
            return Err(auth_error(format!(
                "Google credentials of type '{other}' are not supported: use a service_account or authorized_user key"
            )));
        }
    };
    let response = crate::http::client()
        .post(credentials.token_uri())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(|e| auth_error(format!("Google token request failed: {e}")))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| auth_error(format!("Google token response unreadable: {e}")))?;
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if status >= 400 {
        let reason = parsed
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("error");
        let description = parsed
            .get("error_description")
            .and_then(Value::as_str)
            .map_or_else(
                || String::from_utf8_lossy(&body).into_owned(),
                str::to_owned,
            );
        return Err(auth_error(format!(
            "Google token exchange failed ({status}): {reason}: {description}"
        ))
        .with_status(401));
    }
    let token = parsed
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| auth_error("Google token response has no access_token"))?;
    let lifetime = parsed
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(3600);
    Ok((token.to_owned(), Duration::from_secs(lifetime)))
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn test_account() -> GoogleCredentials {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/gemini/test_service_account.json");
        parse_credentials(&Value::String(path.display().to_string())).unwrap()
    }

    #[test]
    fn assertion_is_a_signed_jwt_for_the_token_uri() {
        let account = test_account();
        let jwt = signed_assertion(&account, 1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "test-key-0001");
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], account.token_uri());
        assert_eq!(claims["scope"], CLOUD_PLATFORM_SCOPE);
        assert_eq!(claims["exp"], 1_700_003_600);
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(), 256);
    }

    #[test]
    fn credentials_from_dict_string_and_errors() {
        let account = test_account();
        let text = serde_json::json!({"type": "service_account", "client_email": "a@b", "private_key": account.private_key}).to_string();
        let parsed = parse_credentials(&Value::String(text)).unwrap();
        assert_eq!(parsed.client_email.as_deref(), Some("a@b"));
        let error =
            parse_credentials(&Value::String("/nonexistent/key.json".to_owned())).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Authentication);
        let broken = GoogleCredentials {
            private_key: Some(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".to_owned(),
            ),
            ..parsed
        };
        assert_eq!(
            signed_assertion(&broken, 0).unwrap_err().kind(),
            ErrorKind::Authentication
        );
        assert_eq!(crate::token_cache::form_encode("a b/c"), "a%20b%2Fc");
    }
}
