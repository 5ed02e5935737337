//! Who a Bedrock call authenticates as, and SigV4 request signing (AWS's own `aws-sigv4`).
//!
//! Order, as LiteLLM resolves it: an API key given to the call (Bedrock API keys are bearer
//! tokens), `aws_access_key_id` / `aws_secret_access_key` / `aws_session_token` given to the
//! call, `AWS_BEARER_TOKEN_BEDROCK`, the `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
//! `AWS_SESSION_TOKEN` environment, then a named profile (`aws_profile_name` or `AWS_PROFILE`)
//! in the shared credentials file. No credentials is an `AuthenticationError` before any I/O.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::{Map, Value};

use llmrelay_core::{Error, ErrorKind, Result};

/// The service name Bedrock Runtime signs with.
pub const SIGNING_SERVICE: &str = "bedrock";

/// LiteLLM's region when neither the call nor the environment names one.
pub const DEFAULT_REGION: &str = "us-west-2";

/// Static AWS credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// How one request authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BedrockAuth {
    /// `Authorization: Bearer <Bedrock API key>`.
    Bearer(String),
    /// SigV4 with these credentials.
    SigV4(AwsCredentials),
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn param<'a>(credentials: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    credentials
        .get(name)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
}

/// The region: `aws_region_name`, then `AWS_REGION_NAME`, `AWS_REGION`, `AWS_DEFAULT_REGION`,
/// then LiteLLM's default (`us-west-2`).
///
/// # Errors
/// A region name that is not lowercase letters, digits and dashes (it becomes a hostname).
pub fn region(credentials: &Map<String, Value>) -> Result<String> {
    let region = param(credentials, "aws_region_name")
        .map(str::to_owned)
        .or_else(|| env("AWS_REGION_NAME"))
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    if region
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Ok(region)
    } else {
        Err(
            Error::bad_request(format!("Invalid AWS region name: {region:?}"))
                .with_param("aws_region_name"),
        )
    }
}

/// Resolve the credentials of a call (`api_key` is the endpoint's key: the call's, or
/// `AWS_BEARER_TOKEN_BEDROCK`).
///
/// # Errors
/// `AuthenticationError` when nothing usable is found, or a named profile is missing.
pub fn resolve(api_key: Option<&str>, credentials: &Map<String, Value>) -> Result<BedrockAuth> {
    let from_env_token = env("AWS_BEARER_TOKEN_BEDROCK");
    let call_key = api_key.filter(|k| !k.is_empty() && Some(*k) != from_env_token.as_deref());
    if let Some(key) = call_key {
        return Ok(BedrockAuth::Bearer(key.to_owned()));
    }
    if let (Some(id), Some(secret)) = (
        param(credentials, "aws_access_key_id"),
        param(credentials, "aws_secret_access_key"),
    ) {
        return Ok(BedrockAuth::SigV4(AwsCredentials {
            access_key_id: id.to_owned(),
            secret_access_key: secret.to_owned(),
            session_token: param(credentials, "aws_session_token").map(str::to_owned),
        }));
    }
    if let Some(token) = api_key.filter(|k| !k.is_empty()) {
        return Ok(BedrockAuth::Bearer(token.to_owned()));
    }
    let profile = param(credentials, "aws_profile_name").map(str::to_owned);
    if profile.is_none() {
        if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            return Ok(BedrockAuth::SigV4(AwsCredentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: env("AWS_SESSION_TOKEN"),
            }));
        }
    }
    let profile_name = profile.or_else(|| env("AWS_PROFILE"));
    if let Some(found) = profile_credentials(profile_name.as_deref().unwrap_or("default"))? {
        return Ok(BedrockAuth::SigV4(found));
    }
    if let Some(name) = profile_name {
        return Err(missing(&format!(
            "profile '{name}' has no credentials in the shared credentials file"
        )));
    }
    Err(missing(
        "Unable to locate credentials: pass aws_access_key_id / aws_secret_access_key (or \
         api_key for a Bedrock API key), or set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or \
         AWS_BEARER_TOKEN_BEDROCK",
    ))
}

fn missing(detail: &str) -> Error {
    Error::new(
        ErrorKind::Authentication,
        format!("BedrockException Invalid Authentication - {detail}"),
    )
    .with_provider("bedrock")
}

/// The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
fn credentials_file() -> Option<std::path::PathBuf> {
    env("AWS_SHARED_CREDENTIALS_FILE")
        .map(std::path::PathBuf::from)
        .or_else(|| env("HOME").map(|home| std::path::Path::new(&home).join(".aws/credentials")))
}

fn profile_credentials(profile: &str) -> Result<Option<AwsCredentials>> {
    let Some(path) = credentials_file() else {
        return Ok(None);
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(parse_profile(&text, profile)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(missing(&format!("cannot read {}: {error}", path.display()))),
    }
}

/// Reads one `[profile]` section of an INI credentials file.
#[must_use]
pub fn parse_profile(text: &str, profile: &str) -> Option<AwsCredentials> {
    let mut in_section = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_section = name.trim() == profile;
            continue;
        }
        if !in_section {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().to_owned();
            match key.trim() {
                "aws_access_key_id" => id = Some(value),
                "aws_secret_access_key" => secret = Some(value),
                "aws_session_token" => token = Some(value),
                _ => {}
            }
        }
    }
    Some(AwsCredentials {
        access_key_id: id?,
        secret_access_key: secret?,
        session_token: token,
    })
}

/// Where and when a signature applies.
#[derive(Debug, Clone, Copy)]
pub struct SigningScope<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub time: SystemTime,
}

impl SigningScope<'_> {
    /// Whether this is S3's signing: the path encoded once, not normalized, and the payload's
    /// SHA-256 sent as `x-amz-content-sha256` (S3 requires it).
    fn is_s3(&self) -> bool {
        self.service == "s3"
    }
}

/// The headers SigV4 adds (`authorization`, `x-amz-date`, `x-amz-security-token`) for a
/// request with these method, URL, headers and body, signed at `time`.
///
/// The canonical URI double-encodes the path, as every AWS service but S3 expects: a model id
/// sent as `anthropic.claude-v2%3A1` is signed as `anthropic.claude-v2%253A1`. With the
/// service `s3` the path is encoded once and `x-amz-content-sha256` is added, as S3 expects.
///
/// # Errors
/// A URL without a host, or a signer failure.
pub fn signature_headers(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    credentials: &AwsCredentials,
    scope: SigningScope<'_>,
) -> Result<Vec<(String, String)>> {
    let has_host = url
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.starts_with('/') && !rest.is_empty());
    if !has_host {
        return Err(Error::bad_request(format!(
            "cannot sign a request to {url}: no host"
        )));
    }
    let identity: Identity = Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.clone(),
        credentials.session_token.clone(),
        None,
        "llmrelay",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(scope.time)
        .settings(settings(&scope))
        .build()
        .map_err(|e| Error::bad_request(format!("SigV4 signing parameters: {e}")))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| Error::bad_request(format!("cannot sign request: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| Error::bad_request(format!("SigV4 signing failed: {e}")))?
        .into_parts();
    let (added, _query) = instructions.into_parts();
    Ok(added
        .into_iter()
        .map(|h| (h.name().to_owned(), h.value().to_owned()))
        .collect())
}

fn settings(scope: &SigningScope<'_>) -> SigningSettings {
    let mut settings = SigningSettings::default();
    if scope.is_s3() {
        settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
        settings.uri_path_normalization_mode =
            aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// AWS's SigV4 test suite vectors (see the fixture's `_source`).
    /// Amazon S3's documented example ("Signature Calculations for the Authorization Header:
    /// Transferring Payload in a Single Chunk", the GET Object example).
    #[test]
    fn s3_signing_matches_amazons_get_object_example() {
        let credentials = AwsCredentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
            session_token: None,
        };
        // 2013-05-24T00:00:00Z
        let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600);
        let added = signature_headers(
            "GET",
            "https://examplebucket.s3.amazonaws.com/test.txt",
            &[("range".to_owned(), "bytes=0-9".to_owned())],
            b"",
            &credentials,
            SigningScope {
                region: "us-east-1",
                service: "s3",
                time,
            },
        )
        .unwrap();
        let header = |name: &str| {
            added
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            header("x-amz-content-sha256"),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(
            header("authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
                 SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
                 Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            )
        );
    }

    #[test]
    fn signer_matches_aws_test_suite() {
        let suite: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/bedrock/sigv4_test_suite.json"
        ))
        .unwrap();
        let credentials = AwsCredentials {
            access_key_id: suite["credentials"]["access_key_id"]
                .as_str()
                .unwrap()
                .to_owned(),
            secret_access_key: suite["credentials"]["secret_access_key"]
                .as_str()
                .unwrap()
                .to_owned(),
            session_token: None,
        };
        let time = UNIX_EPOCH + Duration::from_secs(suite["epoch_seconds"].as_u64().unwrap());
        let cases = suite["cases"].as_array().unwrap();
        assert!(cases.len() >= 5);
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let headers: Vec<(String, String)> = case["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h[0].as_str().unwrap().to_owned(),
                        h[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let added = signature_headers(
                case["method"].as_str().unwrap(),
                case["url"].as_str().unwrap(),
                &headers,
                case["body"].as_str().unwrap().as_bytes(),
                &credentials,
                SigningScope {
                    region: suite["region"].as_str().unwrap(),
                    service: suite["service"].as_str().unwrap(),
                    time,
                },
            )
            .unwrap();
            let authorization = added
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.as_str())
                .unwrap();
            assert_eq!(
                authorization,
                case["authorization"].as_str().unwrap(),
                "{name}"
            );
            assert!(added.contains(&("x-amz-date".to_owned(), "20150830T123600Z".to_owned())));
        }
    }

    #[test]
    fn session_token_is_sent_and_signed() {
        let credentials = AwsCredentials {
            access_key_id: "AKID".to_owned(),
            secret_access_key: "secret".to_owned(),
            session_token: Some("token".to_owned()),
        };
        let added = signature_headers(
            "POST",
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/a%3A0/converse",
            &[("content-type".to_owned(), "application/json".to_owned())],
            b"{}",
            &credentials,
            SigningScope {
                region: "us-east-1",
                service: SIGNING_SERVICE,
                time: SystemTime::now(),
            },
        )
        .unwrap();
        assert!(added.contains(&("x-amz-security-token".to_owned(), "token".to_owned())));
        let authorization = &added.iter().find(|(k, _)| k == "authorization").unwrap().1;
        assert!(authorization.contains("/us-east-1/bedrock/aws4_request"));
        assert!(authorization.contains("x-amz-security-token"));
    }

    #[test]
    fn profiles_parse() {
        let text = "[default]\naws_access_key_id = A\naws_secret_access_key=B\n\n[dev]\n\
                    aws_access_key_id=C\naws_secret_access_key = D\naws_session_token=E\n";
        assert_eq!(parse_profile(text, "default").unwrap().access_key_id, "A");
        let dev = parse_profile(text, "dev").unwrap();
        assert_eq!(dev.secret_access_key, "D");
        assert_eq!(dev.session_token.as_deref(), Some("E"));
        assert!(parse_profile(text, "nope").is_none());
    }

    #[test]
    fn call_credentials_win_and_missing_is_an_auth_error() {
        let mut params = Map::new();
        params.insert("aws_access_key_id".to_owned(), Value::from("AK"));
        params.insert("aws_secret_access_key".to_owned(), Value::from("SK"));
        params.insert("aws_session_token".to_owned(), Value::from("ST"));
        let BedrockAuth::SigV4(found) = resolve(None, &params).unwrap() else {
            panic!("expected sigv4");
        };
        assert_eq!(found.session_token.as_deref(), Some("ST"));
        assert_eq!(
            resolve(Some("bedrock-api-key"), &params).unwrap(),
            BedrockAuth::Bearer("bedrock-api-key".to_owned())
        );
        let mut profile = Map::new();
        profile.insert(
            "aws_profile_name".to_owned(),
            Value::from("no-such-profile-llmrelay"),
        );
        let error = resolve(None, &profile).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Authentication);
    }
}
