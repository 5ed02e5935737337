//! Verifying a token with `jsonwebtoken`: an asymmetric algorithm LiteLLM accepts, a signature
//! by one of the issuer's keys, `exp` and `nbf` (no leeway, as LiteLLM), and the audience and
//! issuer when `JWT_AUDIENCE` / `JWT_ISSUER` are set.

use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, Validation};
use serde_json::{Map, Value};

use llmrelay_core::{Error, ErrorKind};
use llmrelay_governance::GovernanceError;
use llmrelay_governance::layers::to_error;

use super::keys::{KeyError, KeyStore};
use super::settings::{JwtAuthSettings, JwtEnvironment};

/// LiteLLM's `SUPPORTED_JWT_ALGORITHMS` that `jsonwebtoken` implements (no HMAC: a shared
/// secret would let any holder of the JWKS mint tokens).
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Checks tokens against the configured keys and claims.
pub struct JwtVerifier {
    keys: KeyStore,
    audience: Option<String>,
    issuer: Option<String>,
}

fn family(algorithm: Algorithm) -> AlgorithmFamily {
    match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => AlgorithmFamily::Hmac,
        Algorithm::ES256 | Algorithm::ES384 => AlgorithmFamily::Ec,
        Algorithm::EdDSA => AlgorithmFamily::Ed,
        _ => AlgorithmFamily::Rsa,
    }
}

fn invalid(reason: impl std::fmt::Display) -> Error {
    to_error(&GovernanceError::Authentication(format!(
        "Authentication Error, Validation fails: {reason}"
    )))
}

impl JwtVerifier {
    /// A verifier for the settings and environment.
    ///
    /// # Errors
    /// No key source at all, or an unusable static key.
    pub fn new(settings: &JwtAuthSettings, environment: &JwtEnvironment) -> Result<Self, String> {
        let keys = KeyStore::new(
            &environment.public_key_urls,
            settings.public_key.as_deref(),
            settings.key_ttl(),
        )?;
        if keys.is_empty() {
            return Err(
                "general_settings.enable_jwt_auth is on but no public key is configured: set JWT_PUBLIC_KEY_URL (a JWKS URL, or several separated by commas) or general_settings.litellm_jwtauth.public_key".to_owned(),
            );
        }
        Ok(Self::with_keys(
            keys,
            environment.audience.clone(),
            environment.issuer.clone(),
        ))
    }

    #[must_use]
    pub fn with_keys(keys: KeyStore, audience: Option<String>, issuer: Option<String>) -> Self {
        Self {
            keys,
            audience,
            issuer,
        }
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = 0;
        validation.validate_nbf = true;
        // PyJWT (LiteLLM) checks `exp` when the token has one; it does not require it.
        validation.required_spec_claims.clear();
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                validation.required_spec_claims.insert("aud".to_owned());
            }
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".to_owned());
        }
        validation
    }

    /// The token's claims, once it checks out.
    ///
    /// # Errors
    /// LiteLLM's 401s (`Token Expired` as `expired_key`, else `Validation fails: …`), or a
    /// 503 when the identity provider cannot be reached and no key is cached.
    pub async fn verify(&self, token: &str) -> Result<Map<String, Value>, Error> {
        let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(invalid(format!(
                "the algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let candidates = match self.keys.candidates(header.kid.as_deref()).await {
            Ok(candidates) => candidates,
            Err(error @ KeyError::Unreachable(_)) => {
                return Err(Error::new(ErrorKind::ServiceUnavailable, error.to_string()));
            }
            Err(error) => return Err(invalid(error)),
        };
        let validation = self.validation(header.alg);
        let mut last_error = None;
        for candidate in candidates {
            if candidate.algorithm.is_some_and(|alg| alg != header.alg)
                || candidate.key.family() != family(header.alg)
            {
                last_error = Some("the key does not match the token's algorithm".to_owned());
                continue;
            }
            match jsonwebtoken::decode::<Map<String, Value>>(token, &candidate.key, &validation) {
                Ok(data) => return Ok(data.claims),
                Err(error) if *error.kind() == JwtErrorKind::ExpiredSignature => {
                    return Err(to_error(&GovernanceError::ExpiredKey(
                        "Token Expired".to_owned(),
                    )));
                }
                Err(error) => last_error = Some(error.to_string()),
            }
        }
        Err(invalid(
            last_error.unwrap_or_else(|| "no key to verify the token".to_owned()),
        ))
    }
}

#[cfg(test)]
mod tests {
    //! Keys are the PEM fixtures in `tests/fixtures/jwt` (see its README for how they were made).
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    use super::*;

    const RSA_A: &str = include_str!("../../tests/fixtures/jwt/rsa_a.pem");
    const RSA_B: &str = include_str!("../../tests/fixtures/jwt/rsa_b.pem");
    const EC_P256: &str = include_str!("../../tests/fixtures/jwt/ec_p256.pem");

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn rsa(pem: &str) -> EncodingKey {
        EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()
    }

    fn jwk(key: &EncodingKey, algorithm: Algorithm, kid: &str) -> Value {
        let mut jwk = Jwk::from_encoding_key(key, algorithm).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        serde_json::to_value(jwk).unwrap()
    }

    fn sign(key: &EncodingKey, algorithm: Algorithm, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(algorithm);
        header.kid = Some(kid.to_owned());
        encode(&header, claims, key).unwrap()
    }

    /// A JWKS server whose document the test can change, counting fetches.
    struct Issuer {
        url: String,
        document: Arc<Mutex<Value>>,
        fetches: Arc<Mutex<usize>>,
    }

    async fn issuer(document: Value) -> Issuer {
        let document = Arc::new(Mutex::new(document));
        let fetches = Arc::new(Mutex::new(0));
        let (served, counted) = (Arc::clone(&document), Arc::clone(&fetches));
        let app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let (served, counted) = (Arc::clone(&served), Arc::clone(&counted));
                async move {
                    *counted.lock().unwrap() += 1;
                    axum::Json(served.lock().unwrap().clone())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Issuer {
            url: format!("http://{address}/jwks"),
            document,
            fetches,
        }
    }

    fn verifier(url: &str, audience: Option<&str>, issuer: Option<&str>) -> JwtVerifier {
        let keys = KeyStore::new(&[url.to_owned()], None, Duration::from_secs(600))
            .unwrap()
            .with_refetch_interval(Duration::ZERO);
        JwtVerifier::with_keys(keys, audience.map(str::to_owned), issuer.map(str::to_owned))
    }

    #[tokio::test]
    async fn checks_signature_expiry_audience_and_issuer() {
        let key_a = rsa(RSA_A);
        let key_b = rsa(RSA_B);
        let jwks = issuer(json!({"keys": [jwk(&key_a, Algorithm::RS256, "a")]})).await;
        let verifier = verifier(&jwks.url, Some("llmrelay"), Some("https://idp"));
        let good =
            json!({"sub": "u1", "aud": "llmrelay", "iss": "https://idp", "exp": now() + 300});
        let claims = verifier
            .verify(&sign(&key_a, Algorithm::RS256, "a", &good))
            .await
            .unwrap();
        assert_eq!(claims["sub"], "u1");

        let expired = json!({"aud": "llmrelay", "iss": "https://idp", "exp": now() - 5});
        let error = verifier
            .verify(&sign(&key_a, Algorithm::RS256, "a", &expired))
            .await
            .unwrap_err();
        assert_eq!(error.message(), "Token Expired");
        assert_eq!(error.status_code(), 401);

        let not_yet = json!({"aud": "llmrelay", "iss": "https://idp", "exp": now() + 300, "nbf": now() + 120});
        assert!(
            verifier
                .verify(&sign(&key_a, Algorithm::RS256, "a", &not_yet))
                .await
                .is_err()
        );

        let wrong_audience = json!({"aud": "other", "iss": "https://idp", "exp": now() + 300});
        let error = verifier
            .verify(&sign(&key_a, Algorithm::RS256, "a", &wrong_audience))
            .await
            .unwrap_err();
        assert_eq!(error.status_code(), 401);
        assert!(
            error.message().contains("Validation fails"),
            "{}",
            error.message()
        );

        let no_audience = json!({"iss": "https://idp", "exp": now() + 300});
        assert!(
            verifier
                .verify(&sign(&key_a, Algorithm::RS256, "a", &no_audience))
                .await
                .is_err()
        );

        let wrong_issuer = json!({"aud": "llmrelay", "iss": "https://evil", "exp": now() + 300});
        let error = verifier
            .verify(&sign(&key_a, Algorithm::RS256, "a", &wrong_issuer))
            .await
            .unwrap_err();
        assert_eq!(error.status_code(), 401);

        // Signed by another key under the same kid.
        let forged = sign(&key_b, Algorithm::RS256, "a", &good);
        let error = verifier.verify(&forged).await.unwrap_err();
        assert!(
            error.message().contains("InvalidSignature"),
            "{}",
            error.message()
        );

        // A tampered payload.
        let token = sign(&key_a, Algorithm::RS256, "a", &good);
        let mut parts: Vec<&str> = token.split('.').collect();
        let other = sign(
            &key_a,
            Algorithm::RS256,
            "a",
            &json!({"sub": "admin", "aud": "llmrelay", "iss": "https://idp", "exp": now() + 300}),
        );
        parts[1] = other.split('.').nth(1).unwrap();
        assert!(verifier.verify(&parts.join(".")).await.is_err());

        // HMAC is refused outright.
        let hmac = encode(
            &Header::new(Algorithm::HS256),
            &good,
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert!(verifier.verify(&hmac).await.is_err());
        assert_eq!(
            *jwks.fetches.lock().unwrap(),
            1,
            "one fetch, then the cache"
        );
    }

    #[tokio::test]
    async fn rotation_is_picked_up_when_an_unknown_kid_arrives() {
        let key_a = rsa(RSA_A);
        let key_b = rsa(RSA_B);
        let jwks = issuer(json!({"keys": [jwk(&key_a, Algorithm::RS256, "a")]})).await;
        let verifier = verifier(&jwks.url, None, None);
        let claims = json!({"sub": "u1", "exp": now() + 300});
        verifier
            .verify(&sign(&key_a, Algorithm::RS256, "a", &claims))
            .await
            .unwrap();
        let rotated = sign(&key_b, Algorithm::RS256, "b", &claims);
        // The issuer has not published "b" yet: unknown kid, refused.
        let error = verifier.verify(&rotated).await.unwrap_err();
        assert!(
            error.to_string().contains("No matching public key"),
            "{error}"
        );
        assert_eq!(*jwks.fetches.lock().unwrap(), 2);
        // The issuer rotates: the next token with "b" triggers a refetch and passes.
        *jwks.document.lock().unwrap() = json!({"keys": [jwk(&key_b, Algorithm::RS256, "b")]});
        verifier.verify(&rotated).await.unwrap();
        assert_eq!(*jwks.fetches.lock().unwrap(), 3);
        // Known kids are served from the cache.
        verifier.verify(&rotated).await.unwrap();
        assert_eq!(*jwks.fetches.lock().unwrap(), 3);
    }

    #[tokio::test]
    async fn unknown_kid_refetches_are_rate_limited() {
        let key_a = rsa(RSA_A);
        let jwks = issuer(json!({"keys": [jwk(&key_a, Algorithm::RS256, "a")]})).await;
        let keys = KeyStore::new(
            std::slice::from_ref(&jwks.url),
            None,
            Duration::from_secs(600),
        )
        .unwrap()
        .with_refetch_interval(Duration::from_secs(60));
        let verifier = JwtVerifier::with_keys(keys, None, None);
        let claims = json!({"exp": now() + 300});
        verifier
            .verify(&sign(&key_a, Algorithm::RS256, "a", &claims))
            .await
            .unwrap();
        for kid in ["x", "y", "z"] {
            assert!(
                verifier
                    .verify(&sign(&key_a, Algorithm::RS256, kid, &claims))
                    .await
                    .is_err()
            );
        }
        assert_eq!(*jwks.fetches.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn es256_and_a_static_key() {
        let ec = EncodingKey::from_ec_pem(EC_P256.as_bytes()).unwrap();
        let jwks = issuer(json!({"keys": [jwk(&ec, Algorithm::ES256, "ec")]})).await;
        let verifier = verifier(&jwks.url, None, None);
        let claims = json!({"sub": "u1", "exp": now() + 300});
        verifier
            .verify(&sign(&ec, Algorithm::ES256, "ec", &claims))
            .await
            .unwrap();

        let public = include_str!("../../tests/fixtures/jwt/rsa_a.pub.pem");
        let keys = KeyStore::new(&[], Some(public), Duration::from_secs(600)).unwrap();
        let verifier = JwtVerifier::with_keys(keys, None, None);
        let token = sign(&rsa(RSA_A), Algorithm::RS256, "any", &claims);
        assert_eq!(verifier.verify(&token).await.unwrap()["sub"], "u1");
        assert!(
            verifier
                .verify(&sign(&rsa(RSA_B), Algorithm::RS256, "any", &claims))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn an_unreachable_issuer_is_a_503() {
        let verifier = verifier("http://127.0.0.1:9/jwks", None, None);
        let token = sign(
            &rsa(RSA_A),
            Algorithm::RS256,
            "a",
            &json!({"exp": now() + 300}),
        );
        let error = verifier.verify(&token).await.unwrap_err();
        assert_eq!(error.status_code(), 503, "{}", error.message());
    }
}
