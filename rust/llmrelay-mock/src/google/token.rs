//! The OAuth token endpoint (`POST /token`): a JWT-bearer grant whose RS256 signature is verified against
//! the public key of the test service account, answered with an access token Vertex routes then accept.
//! Follows: Google "Using OAuth 2.0 for Server to Server Applications" (HTTP/REST: the assertion's header and
//! claim set, the access-token response, `invalid_grant` errors) and RFC 7523.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// TEST-ONLY public key (PKCS#1 PEM) of `rust/llmrelay-providers/tests/fixtures/gemini/test_service_account.json`.
const TEST_PUBLIC_KEY_PEM: &str = include_str!("test_service_account_public_key.pem");

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Tokens this process issued (all mock instances share them, like one Google).
static ISSUED: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Mutex::default);

pub(crate) fn is_issued(token: &str) -> bool {
    ISSUED
        .lock()
        .map(|set| set.contains(token))
        .unwrap_or(false)
}

fn public_key_der() -> Option<Vec<u8>> {
    let body: String = TEST_PUBLIC_KEY_PEM
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("-----") && !line.starts_with('#'))
        .collect();
    STANDARD.decode(body).ok()
}

/// `application/x-www-form-urlencoded` fields, percent-decoded.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match (decoded, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, other) => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An `invalid_grant`-style failure: (status, body).
fn denied(error: &str, description: &str) -> (u16, Value) {
    (
        400,
        json!({"error": error, "error_description": description}),
    )
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Check a token request; the status and JSON body to answer with.
pub(crate) fn exchange(body: &[u8], token_url: &str) -> (u16, Value) {
    match form_field(body, "grant_type").as_deref() {
        Some(JWT_BEARER) => {}
        Some(other) => {
            return denied(
                "unsupported_grant_type",
                &format!("Invalid grant_type: {other}"),
            );
        }
        None => return denied("invalid_request", "Missing required parameter: grant_type"),
    }
    let Some(assertion) = form_field(body, "assertion") else {
        return denied("invalid_request", "Missing required parameter: assertion");
    };
    let pieces: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = pieces.as_slice() else {
        return denied(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe",
        );
    };
    let decode_json = |piece: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(piece).ok()?).ok()
    };
    let (Some(header), Some(claims), Ok(signature)) = (
        decode_json(header),
        decode_json(claims),
        URL_SAFE_NO_PAD.decode(signature),
    ) else {
        return denied("invalid_grant", "Invalid JWT: malformed segments");
    };
    if header["alg"] != "RS256" {
        return denied("invalid_grant", "Invalid JWT: only RS256 is accepted");
    }
    let Some(der) = public_key_der() else {
        return (
            500,
            json!({"error": "internal_failure", "error_description": "mock public key unreadable"}),
        );
    };
    let signing_input = assertion.rsplit_once('.').map_or("", |(input, _)| input);
    let key =
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, der);
    if key.verify(signing_input.as_bytes(), &signature).is_err() {
        return denied("invalid_grant", "Invalid JWT Signature.");
    }
    let now = unix_now();
    let exp = claims["exp"].as_u64().unwrap_or(0);
    let iat = claims["iat"].as_u64().unwrap_or(0);
    if exp <= now || iat > now + 300 || exp.saturating_sub(iat) > 3600 {
        return denied(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        );
    }
    if claims["aud"].as_str() != Some(token_url) {
        return denied(
            "invalid_grant",
            &format!("Invalid JWT: audience must be {token_url}"),
        );
    }
    if !claims["scope"]
        .as_str()
        .is_some_and(|s| s.split(' ').any(|s| s == CLOUD_PLATFORM))
    {
        return denied(
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        );
    }
    if claims["iss"].as_str().is_none_or(str::is_empty) {
        return denied("invalid_grant", "Invalid JWT: iss is required");
    }
    let mut buffer = [0_u8; 32];
    let token = format!(
        "ya29.mock-{}",
        uuid::Uuid::new_v4().simple().encode_lower(&mut buffer)
    );
    if let Ok(mut issued) = ISSUED.lock() {
        issued.insert(token.clone());
    }
    (
        200,
        json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_and_rejections() {
        assert_eq!(percent_decode("urn%3Aietf%3Aa+b"), "urn:ietf:a b");
        let (status, body) = exchange(b"grant_type=password", "http://x/token");
        assert_eq!(status, 400);
        assert_eq!(body["error"], "unsupported_grant_type");
        let forged = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={}.{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"iss":"a"}"#),
            URL_SAFE_NO_PAD.encode([0_u8; 256]),
        );
        let (status, body) = exchange(forged.as_bytes(), "http://x/token");
        assert_eq!(status, 400);
        assert_eq!(body["error_description"], "Invalid JWT Signature.");
    }
}
