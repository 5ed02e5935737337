//! Who is calling: the key is read from the headers LiteLLM accepts and checked by an
//! [`Authenticator`]. [`MasterKeyAuth`] knows one admin key; virtual keys (stored hashed in a
//! database) implement the same trait later.

use std::sync::Arc;

use futures::future::BoxFuture;
use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use llmrelay_core::{Error, ErrorKind};

/// Header names a client key may come in, in LiteLLM's order of preference.
const KEY_HEADERS: &[&str] = &[
    "x-litellm-api-key",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "ocp-apim-subscription-key",
];

/// The key a request carries: `Authorization: Bearer <key>` (or a bare value) first, then the
/// provider-style headers (Anthropic's `x-api-key`, Azure's `api-key`, Google's
/// `x-goog-api-key`, …).
#[must_use]
pub fn presented_key(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        let key = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ if value.eq_ignore_ascii_case("bearer") => "",
            _ => value,
        };
        if !key.is_empty() {
            return Some(key.to_owned());
        }
    }
    KEY_HEADERS.iter().find_map(|name| {
        headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    })
}

/// The authenticated caller, handed to handlers, layers and hooks (LiteLLM's
/// `UserAPIKeyAuth`): the pipeline's [`llmrelay_pipeline::Identity`].
pub type Principal = llmrelay_pipeline::Identity;

/// Checks a presented key. Asynchronous so implementations can look keys up in a store.
pub trait Authenticator: Send + Sync + 'static {
    /// `Ok(principal)` or an `Authentication` error rendered as LiteLLM's 401.
    fn authenticate(&self, key: Option<String>) -> BoxFuture<'static, Result<Principal, Error>>;

    /// [`Self::authenticate`] for a request to `route` (its path), for authenticators whose
    /// answer depends on the route (JWT roles have allowed routes).
    fn authenticate_route(
        &self,
        key: Option<String>,
        route: Option<&str>,
    ) -> BoxFuture<'static, Result<Principal, Error>> {
        let _ = route;
        self.authenticate(key)
    }
}

/// SHA-256 hex of a key (never log or store the key itself).
#[must_use]
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// One admin key, compared in constant time (over digests, so the length does not leak either).
pub struct MasterKeyAuth {
    digest: [u8; 32],
    hash_hex: String,
}

impl MasterKeyAuth {
    #[must_use]
    pub fn new(master_key: &str) -> Self {
        Self {
            digest: Sha256::digest(master_key.as_bytes()).into(),
            hash_hex: hash_key(master_key),
        }
    }
}

impl Authenticator for MasterKeyAuth {
    fn authenticate(&self, key: Option<String>) -> BoxFuture<'static, Result<Principal, Error>> {
        let result = match key {
            None => Err(Error::new(
                ErrorKind::Authentication,
                "Authentication Error, No api key passed in.",
            )),
            Some(key) => {
                let presented: [u8; 32] = Sha256::digest(key.as_bytes()).into();
                if bool::from(presented.ct_eq(&self.digest)) {
                    Ok(Principal {
                        key_hash: Some(self.hash_hex.clone()),
                        is_admin: true,
                        user_id: Some("default_user_id".to_owned()),
                        ..Principal::default()
                    })
                } else {
                    Err(Error::new(
                        ErrorKind::Authentication,
                        format!(
                            "Authentication Error, Invalid proxy server token passed. Received API Key = {}",
                            abbreviate(&key)
                        ),
                    ))
                }
            }
        };
        Box::pin(async move { result })
    }
}

/// Every request is let in (no master key configured and the development override is on).
pub struct OpenAuth;

impl Authenticator for OpenAuth {
    fn authenticate(&self, _key: Option<String>) -> BoxFuture<'static, Result<Principal, Error>> {
        Box::pin(async { Ok(Principal::anonymous()) })
    }
}

/// `sk-...abcd`: enough to recognise a key in an error, not enough to use it.
fn abbreviate(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let head: String = key.chars().take(3).collect();
    format!("{head}...{tail}")
}

/// Master keys that are published in documentation and examples.
const PUBLICLY_KNOWN_KEYS: &[&str] = &[
    "sk-1234",
    "sk-12345",
    "sk-123456",
    "sk-1234567890",
    "sk-master-key",
    "sk-litellm",
    "sk-admin",
    "changeme",
    "password",
];

/// Shortest master key accepted without the development override (LiteLLM itself only refuses
/// unset, empty and publicly known keys; a short key is guessable over HTTP).
pub const MIN_MASTER_KEY_LENGTH: usize = 16;

/// Environment variable and `general_settings` key that let a weak or missing master key
/// through (LiteLLM's names, so existing deployments keep working).
pub const PERMIT_WEAK_ENV: &str = "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY";
pub const PERMIT_WEAK_SETTING: &str = "dangerously_permit_weak_or_unset_master_key";

/// Why a master key is unsafe, or `None` when it is fine.
#[must_use]
pub fn master_key_problem(master_key: Option<&str>) -> Option<String> {
    let Some(key) = master_key else {
        return Some(
            "no master key is set (general_settings.master_key or LITELLM_MASTER_KEY), so every request would be accepted without authentication".to_owned(),
        );
    };
    let key = key.trim();
    if key.is_empty() {
        return Some("the master key is empty".to_owned());
    }
    if PUBLICLY_KNOWN_KEYS.contains(&key) {
        return Some("the master key is a publicly known default".to_owned());
    }
    if key.chars().count() < MIN_MASTER_KEY_LENGTH {
        return Some(format!(
            "the master key is shorter than {MIN_MASTER_KEY_LENGTH} characters"
        ));
    }
    None
}

/// Pick the authenticator for a master key, refusing an unsafe one unless `permit_weak`.
///
/// # Errors
/// The reason and how to fix it, for the start-up message.
pub fn authenticator_for(
    master_key: Option<&str>,
    permit_weak: bool,
) -> Result<Arc<dyn Authenticator>, String> {
    match (master_key_problem(master_key), master_key) {
        (None, Some(key)) => Ok(Arc::new(MasterKeyAuth::new(key.trim()))),
        (Some(problem), key) => {
            if !permit_weak {
                return Err(format!(
                    "llmrelay proxy refused to start: {problem}.\n\
                     Set a strong key, e.g. `export LITELLM_MASTER_KEY=sk-$(openssl rand -hex 32)`, \
                     and reference it from the config as `general_settings.master_key: os.environ/LITELLM_MASTER_KEY`.\n\
                     Local development only: set {PERMIT_WEAK_ENV}=true or general_settings.{PERMIT_WEAK_SETTING}: true to start anyway."
                ));
            }
            match key.map(str::trim).filter(|k| !k.is_empty()) {
                Some(key) => {
                    tracing::warn!(
                        "{PERMIT_WEAK_SETTING} is on: starting with a weak master key ({problem}); never run this outside local development"
                    );
                    Ok(Arc::new(MasterKeyAuth::new(key)))
                }
                None => {
                    tracing::warn!(
                        "{PERMIT_WEAK_SETTING} is on: starting WITHOUT authentication ({problem}); never run this outside local development"
                    );
                    Ok(Arc::new(OpenAuth))
                }
            }
        }
        (None, None) => Ok(Arc::new(OpenAuth)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn key_from_any_supported_header() {
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearer sk-a")])).as_deref(),
            Some("sk-a")
        );
        assert_eq!(
            presented_key(&headers(&[("x-api-key", "sk-b")])).as_deref(),
            Some("sk-b")
        );
        assert_eq!(
            presented_key(&headers(&[("api-key", "sk-c")])).as_deref(),
            Some("sk-c")
        );
        assert_eq!(
            presented_key(&headers(&[
                ("authorization", "Bearer  "),
                ("x-goog-api-key", "g")
            ]))
            .as_deref(),
            Some("g")
        );
        assert_eq!(presented_key(&headers(&[])), None);
    }

    #[tokio::test]
    async fn master_key_checks() {
        let auth = MasterKeyAuth::new("sk-0123456789abcdef");
        assert!(
            auth.authenticate(Some("sk-0123456789abcdef".into()))
                .await
                .unwrap()
                .is_admin
        );
        let wrong = auth
            .authenticate(Some("sk-0123456789abcdeX".into()))
            .await
            .unwrap_err();
        assert_eq!(wrong.status_code(), 401);
        assert!(!wrong.message().contains("0123456789abcdeX"));
        let missing = auth.authenticate(None).await.unwrap_err();
        assert_eq!(
            missing.message(),
            "Authentication Error, No api key passed in."
        );
    }

    #[test]
    fn weak_keys_are_refused_unless_permitted() {
        assert!(master_key_problem(Some("sk-1234")).is_some());
        assert!(master_key_problem(Some("sk-short")).is_some());
        assert!(master_key_problem(Some("  ")).is_some());
        assert!(master_key_problem(None).is_some());
        assert!(master_key_problem(Some("sk-0123456789abcdef")).is_none());
        assert!(authenticator_for(Some("sk-1234"), false).is_err());
        assert!(authenticator_for(None, false).is_err());
        assert!(authenticator_for(None, true).is_ok());
        assert!(authenticator_for(Some("sk-0123456789abcdef"), false).is_ok());
    }
}
