//! Verifies the SigV4 signature of a request, as AWS does: recompute the signature from the
//! signed headers, the method, the path as sent, the body and the secret the mock knows for the
//! access key, then compare. Signing uses AWS's `aws-sigv4`, the crate the AWS SDK for Rust signs
//! with. AWS's answers on failure (403): `UnrecognizedClientException` for an unknown key,
//! `InvalidSignatureException` for a signature that does not match or has expired.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, Method, Uri};

use crate::MockConfig;

/// Why a request was rejected: the exception type and AWS's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthFailure {
    pub exception: &'static str,
    pub message: String,
}

fn failure(exception: &'static str, message: impl Into<String>) -> AuthFailure {
    AuthFailure {
        exception,
        message: message.into(),
    }
}

const BAD_SIGNATURE: &str = "The request signature we calculated does not match the signature you \
     provided. Check your AWS Secret Access Key and signing method. Consult the service documentation \
     for details.";
const BAD_TOKEN: &str = "The security token included in the request is invalid.";

/// How far a request's `x-amz-date` may be from the server clock (AWS allows 5 minutes).
const MAX_SKEW: Duration = Duration::from_secs(300);

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `20150830T123600Z` → a time.
pub(crate) fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let days = days_from_civil(number(0..4)?, number(4..6)?, number(6..8)?);
    let seconds = days * 86_400 + number(9..11)? * 3600 + number(11..13)? * 60 + number(13..15)?;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).ok()?))
}

struct Authorization<'a> {
    access_key_id: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        match key {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let mut scope = credential?.split('/');
    let access_key_id = scope.next()?;
    let _date = scope.next()?;
    let region = scope.next()?;
    let service = scope.next()?;
    Some(Authorization {
        access_key_id,
        region,
        service,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    })
}

/// Checks a Bedrock request's credentials: a Bedrock API key (`Authorization: Bearer`) equal to
/// the configured one, or a SigV4 signature made with the configured key pair.
pub(crate) fn verify(
    config: &MockConfig,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), AuthFailure> {
    let Some(authorization) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Err(failure(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    if let Some(token) = authorization.strip_prefix("Bearer ") {
        return if token == config.bedrock_api_key {
            Ok(())
        } else {
            Err(failure("UnrecognizedClientException", BAD_TOKEN))
        };
    }
    let parsed = parse_authorization(authorization).ok_or_else(|| {
        failure(
            "IncompleteSignatureException",
            format!("Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization={authorization}"),
        )
    })?;
    if parsed.access_key_id != config.aws_access_key_id {
        return Err(failure("UnrecognizedClientException", BAD_TOKEN));
    }
    let date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_amz_date)
        .ok_or_else(|| {
            failure(
                "IncompleteSignatureException",
                "x-amz-date header is missing or malformed",
            )
        })?;
    let skew = SystemTime::now()
        .duration_since(date)
        .unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(failure("InvalidSignatureException", "Signature expired"));
    }
    if !parsed.signed_headers.contains(&"host") {
        return Err(failure("InvalidSignatureException", BAD_SIGNATURE));
    }
    // The signer adds x-amz-date and the session token itself, and takes host from the URL.
    let mut signed: Vec<(&str, &str)> = Vec::new();
    for name in &parsed.signed_headers {
        if matches!(*name, "host" | "x-amz-date" | "x-amz-security-token") {
            continue;
        }
        let value = headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| failure("InvalidSignatureException", BAD_SIGNATURE))?;
        signed.push((name, value));
    }
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| failure("InvalidSignatureException", BAD_SIGNATURE))?;
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("http://{host}{path_and_query}");
    let session_token = headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let expected = signature(
        &Credentials::new(
            config.aws_access_key_id.clone(),
            config.aws_secret_access_key.clone(),
            session_token,
            None,
            "llmrelay-mock",
        )
        .into(),
        (parsed.region, parsed.service, date),
        method.as_str(),
        &url,
        &signed,
        body,
    )
    .ok_or_else(|| failure("InvalidSignatureException", BAD_SIGNATURE))?;
    if expected == parsed.signature {
        Ok(())
    } else {
        Err(failure("InvalidSignatureException", BAD_SIGNATURE))
    }
}

fn signature(
    identity: &Identity,
    (region, service, time): (&str, &str, SystemTime),
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<String> {
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .ok()?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .ok()?;
    let (_, signature) = sign(signable, &params).ok()?.into_parts();
    Some(signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_parse() {
        assert_eq!(
            parse_amz_date("20150830T123600Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_440_938_160))
        );
        assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
    }

    #[test]
    fn authorization_parses() {
        let parsed = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc",
        )
        .unwrap();
        assert_eq!(parsed.access_key_id, "AKID");
        assert_eq!(parsed.region, "us-east-1");
        assert_eq!(parsed.service, "bedrock");
        assert_eq!(
            parsed.signed_headers,
            ["content-type", "host", "x-amz-date"]
        );
        assert_eq!(parsed.signature, "abc");
    }
}
