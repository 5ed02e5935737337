//! The keys tokens are checked against: JWKS documents fetched from `JWT_PUBLIC_KEY_URL`
//! (each URL a JWKS or an OIDC discovery document), kept for `public_key_ttl` and fetched again
//! early when a token names a `kid` the cached set does not have (a key rotated at the issuer
//! works at once; such refetches are rate-limited per URL), plus an optional static PEM key.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// Shortest time between two fetches of one URL caused by unknown `kid`s (bounds the load a
/// caller sending made-up `kid`s can put on the identity provider).
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(2);
/// After a failed fetch, how long the old keys are served before the URL is tried again.
pub const UNREACHABLE_BACKOFF: Duration = Duration::from_secs(30);
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A key a token may be verified with.
#[derive(Clone)]
pub struct CandidateKey {
    pub key: DecodingKey,
    /// The JWK's `alg`, when it names one (the token's header must then match).
    pub algorithm: Option<Algorithm>,
}

/// Why no key could be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No configured source has a key for the token's `kid`.
    #[error("No matching public key found. keys={urls:?}, kid={kid:?}")]
    NoMatchingKey {
        urls: Vec<String>,
        kid: Option<String>,
    },
    /// The identity provider could not be reached and nothing is cached.
    #[error(
        "Service Unavailable, the identity provider's JWKS endpoint is temporarily unreachable, so the JWT signature could not be verified. Please retry shortly. Error: {0}"
    )]
    Unreachable(String),
}

/// A PEM public key or certificate as a decoding key.
///
/// # Errors
/// Not PEM, or not an RSA, EC or Ed25519 public key.
pub fn parse_pem(pem: &str) -> Result<DecodingKey, String> {
    let bytes = pem.trim().as_bytes();
    DecodingKey::from_rsa_pem(bytes)
        .or_else(|_| DecodingKey::from_ec_pem(bytes))
        .or_else(|_| DecodingKey::from_ed_pem(bytes))
        .map_err(|error| format!("not a PEM RSA, EC or Ed25519 public key or certificate: {error}"))
}

#[derive(Default)]
struct Cached {
    keys: Vec<(Option<String>, CandidateKey)>,
    fetched_at: Option<Instant>,
    failed_at: Option<Instant>,
    last_error: Option<String>,
}

struct Source {
    url: String,
    cached: Mutex<Cached>,
    /// One fetch per URL at a time; callers that waited use its result.
    fetching: tokio::sync::Mutex<()>,
}

/// Every configured key source.
pub struct KeyStore {
    sources: Vec<Source>,
    static_key: Option<CandidateKey>,
    ttl: Duration,
    refetch_interval: Duration,
    client: reqwest::Client,
}

impl KeyStore {
    /// Keys from `urls` (fetched on first use) and `static_pem`.
    ///
    /// # Errors
    /// An unusable static key or HTTP client.
    pub fn new(urls: &[String], static_pem: Option<&str>, ttl: Duration) -> Result<Self, String> {
        let static_key = static_pem
            .map(parse_pem)
            .transpose()?
            .map(|key| CandidateKey {
                key,
                algorithm: None,
            });
        // rustls needs a process-wide crypto provider; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|error| format!("JWKS HTTP client: {error}"))?;
        Ok(Self {
            sources: urls
                .iter()
                .map(|url| Source {
                    url: url.clone(),
                    cached: Mutex::new(Cached::default()),
                    fetching: tokio::sync::Mutex::new(()),
                })
                .collect(),
            static_key,
            ttl,
            refetch_interval: MIN_REFETCH_INTERVAL,
            client,
        })
    }

    /// Changes the rate limit of `kid`-miss refetches (tests).
    #[must_use]
    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty() && self.static_key.is_none()
    }

    /// The keys that may have signed a token with this `kid`: the matching JWK of the first
    /// URL that has one (LiteLLM's order), else the static key.
    ///
    /// # Errors
    /// [`KeyError`].
    pub async fn candidates(&self, kid: Option<&str>) -> Result<Vec<CandidateKey>, KeyError> {
        let mut unreachable = None;
        for source in &self.sources {
            match self.lookup_in(source, kid).await {
                Ok(Some(key)) => return Ok(vec![key]),
                Ok(None) => {}
                Err(error) => unreachable = Some(error),
            }
        }
        if let Some(key) = &self.static_key {
            return Ok(vec![key.clone()]);
        }
        if let Some(error) = unreachable {
            return Err(error);
        }
        Err(KeyError::NoMatchingKey {
            urls: self.sources.iter().map(|s| s.url.clone()).collect(),
            kid: kid.map(str::to_owned),
        })
    }

    async fn lookup_in(
        &self,
        source: &Source,
        kid: Option<&str>,
    ) -> Result<Option<CandidateKey>, KeyError> {
        let (found, fetch) = self.lookup(source, kid);
        if !fetch {
            return found.map_or_else(|| self.cached_or_unreachable(source), |key| Ok(Some(key)));
        }
        let _fetching = source.fetching.lock().await;
        // Someone else may have fetched while this caller waited.
        let (found, fetch) = self.lookup(source, kid);
        if !fetch {
            return found.map_or_else(|| self.cached_or_unreachable(source), |key| Ok(Some(key)));
        }
        match fetch_keys(&self.client, &source.url).await {
            Ok(keys) => {
                tracing::debug!(url = %source.url, keys = keys.len(), "JWKS fetched");
                let mut cached = lock(&source.cached);
                cached.keys = keys;
                cached.fetched_at = Some(Instant::now());
                cached.failed_at = None;
                cached.last_error = None;
            }
            Err(error) => {
                tracing::warn!(url = %source.url, %error, "JWKS fetch failed; serving the keys fetched before, if any");
                let mut cached = lock(&source.cached);
                cached.failed_at = Some(Instant::now());
                cached.last_error = Some(error);
            }
        }
        let (found, _) = self.lookup(source, kid);
        found.map_or_else(|| self.cached_or_unreachable(source), |key| Ok(Some(key)))
    }

    /// The cached key for `kid`, and whether the URL should be fetched now.
    fn lookup(&self, source: &Source, kid: Option<&str>) -> (Option<CandidateKey>, bool) {
        let cached = lock(&source.cached);
        let found = select(&cached.keys, kid);
        let backing_off = cached
            .failed_at
            .is_some_and(|at| at.elapsed() < UNREACHABLE_BACKOFF);
        if backing_off {
            return (found, false);
        }
        let fetch = match cached.fetched_at {
            None => true,
            Some(at) if at.elapsed() >= self.ttl => true,
            // A kid the set does not know: maybe a key rotated in; fetch early, not too often.
            Some(at) => found.is_none() && kid.is_some() && at.elapsed() >= self.refetch_interval,
        };
        (found, fetch)
    }

    /// No key for the token here: fine when the URL answered, an outage when it never did.
    fn cached_or_unreachable(&self, source: &Source) -> Result<Option<CandidateKey>, KeyError> {
        let cached = lock(&source.cached);
        match (&cached.fetched_at, &cached.last_error) {
            (None, Some(error)) => Err(KeyError::Unreachable(error.clone())),
            _ => Ok(None),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// LiteLLM's choice: the key with this `kid`, or the only key when the token names none or the
/// set has one key without a `kid`.
fn select(keys: &[(Option<String>, CandidateKey)], kid: Option<&str>) -> Option<CandidateKey> {
    if let Some(kid) = kid
        && let Some((_, key)) = keys.iter().find(|(id, _)| id.as_deref() == Some(kid))
    {
        return Some(key.clone());
    }
    match keys {
        [(id, key)] if kid.is_none() || id.is_none() => Some(key.clone()),
        _ => None,
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, String> {
    let response = client
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|error| format!("fetching {url}: {error}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url} returned status {}", status.as_u16()));
    }
    response
        .json::<Value>()
        .await
        .map_err(|error| format!("{url} is not JSON: {error}"))
}

/// The signing keys at `url` (a JWKS, a bare list or a single JWK; an OIDC discovery document
/// is followed to its `jwks_uri`).
async fn fetch_keys(
    client: &reqwest::Client,
    url: &str,
) -> Result<Vec<(Option<String>, CandidateKey)>, String> {
    let mut document = get_json(client, url).await?;
    if url.contains(".well-known/openid-configuration") {
        let jwks_uri = document
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the OIDC discovery document at {url} has no jwks_uri"))?
            .to_owned();
        document = get_json(client, &jwks_uri).await?;
    }
    parse_jwks(document)
}

/// The usable signing keys of a JWKS document (encryption keys and unsupported ones skipped),
/// or of a map of `kid` to PEM certificate.
///
/// # Errors
/// A document that is not a JWKS.
pub fn parse_jwks(document: Value) -> Result<Vec<(Option<String>, CandidateKey)>, String> {
    if let Value::Object(object) = &document
        && !object.is_empty()
        && object
            .values()
            .all(|v| v.as_str().is_some_and(|pem| pem.contains("-----BEGIN")))
    {
        // `{kid: PEM certificate}` (Google's x509 endpoints; LiteLLM decodes such values too).
        return Ok(object
            .iter()
            .filter_map(|(kid, pem)| {
                let key = parse_pem(pem.as_str()?).ok()?;
                Some((
                    Some(kid.clone()),
                    CandidateKey {
                        key,
                        algorithm: None,
                    },
                ))
            })
            .collect());
    }
    let items = match document {
        Value::Object(mut object) if object.contains_key("keys") => match object.remove("keys") {
            Some(Value::Array(items)) => items,
            _ => return Err("JWKS `keys` is not a list".to_owned()),
        },
        Value::Array(items) => items,
        single @ Value::Object(_) => vec![single],
        _ => return Err("not a JWKS document".to_owned()),
    };
    let mut keys = Vec::new();
    for item in items {
        let jwk: Jwk = match serde_json::from_value(item) {
            Ok(jwk) => jwk,
            Err(error) => {
                tracing::debug!(%error, "JWKS entry skipped");
                continue;
            }
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let algorithm = jwk
            .common
            .key_algorithm
            .and_then(|alg| alg.to_string().parse::<Algorithm>().ok());
        match DecodingKey::from_jwk(&jwk) {
            Ok(key) => keys.push((jwk.common.key_id.clone(), CandidateKey { key, algorithm })),
            Err(error) => tracing::debug!(%error, "JWKS entry skipped"),
        }
    }
    Ok(keys)
}

/// A shared store.
pub type SharedKeys = Arc<KeyStore>;

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = include_str!("../../tests/fixtures/jwt/rsa_a.pub.pem");

    #[test]
    fn jwks_shapes() {
        let keys = parse_jwks(serde_json::json!({"k1": PUBLIC})).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].0.as_deref(), Some("k1"));
        let jwk = serde_json::json!({"kty": "RSA", "kid": "r", "n": "sXch", "e": "AQAB"});
        let encryption =
            serde_json::json!({"kty": "RSA", "kid": "x", "use": "enc", "n": "sXch", "e": "AQAB"});
        let set = serde_json::json!({"keys": [jwk.clone(), encryption, {"kty": "weird"}]});
        assert_eq!(parse_jwks(set).unwrap().len(), 1);
        assert_eq!(
            parse_jwks(serde_json::json!([jwk.clone()])).unwrap().len(),
            1
        );
        assert_eq!(parse_jwks(jwk).unwrap().len(), 1);
        assert!(parse_jwks(serde_json::json!("nope")).is_err());
        assert!(parse_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
    }
}
