//! The S3 store (LiteLLM's `type: s3`): one object per answer at `<s3_path>/<key>` in a bucket
//! of Amazon S3 or any S3-compatible server (`s3_endpoint_url`: MinIO, Ceph, R2, moto, …),
//! requests signed with SigV4 (`aws-sigv4`, through the Bedrock signer in S3's mode).
//!
//! Objects follow Amazon S3's REST API (docs.aws.amazon.com/AmazonS3/latest/API):
//! `PutObject` (`PUT /{bucket}/{key}`), `GetObject`, `DeleteObject` and `ListObjectsV2`
//! (`GET /{bucket}?list-type=2&prefix=…`, answered in XML). As LiteLLM's `S3Cache` writes
//! them, an object carries `Cache-Control: immutable, max-age=<ttl>, s-maxage=<ttl>`; ours
//! also carries its expiry as `x-amz-meta-llmrelay-expires` (unix seconds), which a lookup
//! checks (S3 itself does not remove an object when its `Expires` passes).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use llmrelay_core::redis_target::percent_encode;
use llmrelay_providers::bedrock::auth::{AwsCredentials, SigningScope, signature_headers};

use crate::CacheError;
use crate::entry::Entry;

/// The metadata header holding an object's expiry.
const EXPIRES_HEADER: &str = "x-amz-meta-llmrelay-expires";

fn failed(error: impl std::fmt::Display) -> CacheError {
    CacheError::Backend(format!("s3 cache: {error}"))
}

/// Answers kept in an S3 bucket.
pub struct S3Store {
    client: reqwest::Client,
    /// The bucket's URL, without a trailing slash: `{endpoint}/{bucket}` (path style, for any
    /// endpoint given) or `https://{bucket}.s3.{region}.amazonaws.com` (Amazon's).
    bucket_url: String,
    bucket: String,
    /// `s3_path` with one trailing slash, or empty.
    prefix: String,
    region: String,
    credentials: Option<AwsCredentials>,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket_url", &self.bucket_url)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// LiteLLM's `S3Cache` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub use_ssl: bool,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub path: Option<String>,
}

impl S3Settings {
    /// From `cache_params`: `s3_bucket_name` (required), `s3_region_name`, `s3_endpoint_url`,
    /// `s3_use_ssl`, `s3_aws_access_key_id`, `s3_aws_secret_access_key`,
    /// `s3_aws_session_token`, `s3_path` (`os.environ/…` already resolved).
    ///
    /// # Errors
    /// `Config` without a bucket name.
    pub fn from_params(params: &Map<String, Value>) -> Result<Self, CacheError> {
        let text = |name: &str| {
            params.get(name).and_then(|v| match v {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let Some(bucket) = text("s3_bucket_name") else {
            return Err(CacheError::Config(
                "cache_params.s3_bucket_name: an s3 cache needs a bucket name".to_owned(),
            ));
        };
        let use_ssl = match params.get("s3_use_ssl") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => !s.eq_ignore_ascii_case("false"),
            _ => true,
        };
        Ok(Self {
            bucket,
            region: text("s3_region_name"),
            endpoint_url: text("s3_endpoint_url"),
            use_ssl,
            access_key_id: text("s3_aws_access_key_id"),
            secret_access_key: text("s3_aws_secret_access_key"),
            session_token: text("s3_aws_session_token"),
            path: text("s3_path"),
        })
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Percent-encode a key for a URL path (each segment; the `/` between them stay), as S3
/// signs it.
fn encode_path(key: &str) -> String {
    key.split('/')
        .map(percent_encode)
        .collect::<Vec<_>>()
        .join("/")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The text of every `<tag>…</tag>` in `xml`, entities decoded (S3's XML answers are flat
/// enough for this: `Key`, `IsTruncated`, `NextContinuationToken`).
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut values = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else {
            break;
        };
        values.push(
            after[..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &after[end + close.len()..];
    }
    values
}

impl S3Store {
    /// A store for `settings`; credentials from the settings, else `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` (no credentials: unsigned requests, for
    /// a public or local bucket); the region from the settings, else `AWS_REGION` /
    /// `AWS_DEFAULT_REGION`, else `us-east-1`.
    #[must_use]
    pub fn new(settings: &S3Settings) -> Self {
        let region = settings
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let bucket_url = match &settings.endpoint_url {
            Some(endpoint) => format!("{}/{}", endpoint.trim_end_matches('/'), settings.bucket),
            None => {
                let scheme = if settings.use_ssl { "https" } else { "http" };
                format!("{scheme}://{}.s3.{region}.amazonaws.com", settings.bucket)
            }
        };
        let access = settings
            .access_key_id
            .clone()
            .or_else(|| env("AWS_ACCESS_KEY_ID"));
        let secret = settings
            .secret_access_key
            .clone()
            .or_else(|| env("AWS_SECRET_ACCESS_KEY"));
        let credentials = match (access, secret) {
            (Some(access_key_id), Some(secret_access_key)) => Some(AwsCredentials {
                access_key_id,
                secret_access_key,
                session_token: settings
                    .session_token
                    .clone()
                    .or_else(|| env("AWS_SESSION_TOKEN")),
            }),
            _ => None,
        };
        let prefix = settings
            .path
            .as_deref()
            .map(|p| p.trim_end_matches('/'))
            .filter(|p| !p.is_empty())
            .map(|p| format!("{p}/"))
            .unwrap_or_default();
        Self {
            client: llmrelay_providers::http::client(),
            bucket_url,
            bucket: settings.bucket.clone(),
            prefix,
            region,
            credentials,
        }
    }

    /// Where the store is: `s3://bucket/prefix` and the endpoint.
    #[must_use]
    pub fn location(&self) -> String {
        format!("s3://{}/{} ({})", self.bucket, self.prefix, self.bucket_url)
    }

    /// Send a signed request; the response whatever its status.
    async fn send(
        &self,
        method: reqwest::Method,
        url: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, CacheError> {
        let mut headers = headers;
        if let Some(credentials) = &self.credentials {
            let signed = signature_headers(
                method.as_str(),
                &url,
                &headers,
                &body,
                credentials,
                SigningScope {
                    region: &self.region,
                    service: "s3",
                    time: SystemTime::now(),
                },
            )
            .map_err(failed)?;
            headers.extend(signed);
        }
        let mut request = self
            .client
            .request(method, &url)
            .timeout(Duration::from_secs(if body.len() > 1 << 20 {
                120
            } else {
                5
            }));
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        request.body(body).send().await.map_err(failed)
    }

    fn object_url(&self, key: &str) -> String {
        format!(
            "{}/{}",
            self.bucket_url,
            encode_path(&format!("{}{key}", self.prefix))
        )
    }

    /// Store `body` as the object `key` (under the store's path) as it is: no entry framing,
    /// no compression, no expiry (exports written to a bucket).
    ///
    /// # Errors
    /// S3 refused or did not answer.
    pub async fn put_object(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), CacheError> {
        let headers = vec![("content-type".to_owned(), content_type.to_owned())];
        let response = self
            .send(reqwest::Method::PUT, self.object_url(key), headers, body)
            .await?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(failed(format!("PutObject answered {status}")))
        }
    }

    /// The bytes of the object `key` (under the store's path) as stored, `None` when absent.
    ///
    /// # Errors
    /// S3 did not answer, or answered with an error other than "no such key".
    pub async fn get_object(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let response = self
            .send(
                reqwest::Method::GET,
                self.object_url(key),
                Vec::new(),
                Vec::new(),
            )
            .await?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(failed(format!("GetObject answered {status}")));
        }
        Ok(Some(response.bytes().await.map_err(failed)?.to_vec()))
    }

    /// Remove the object `key` (under the store's path); absent is not an error.
    ///
    /// # Errors
    /// S3 refused or did not answer.
    pub async fn remove_object(&self, key: &str) -> Result<(), CacheError> {
        self.delete_object(&format!("{}{key}", self.prefix)).await
    }

    /// The entry under `key` (`None` when absent or past its expiry).
    ///
    /// # Errors
    /// S3 did not answer, or answered with an error other than "no such key".
    pub async fn get(&self, key: &str) -> Result<Option<Entry>, CacheError> {
        let response = self
            .send(
                reqwest::Method::GET,
                self.object_url(key),
                Vec::new(),
                Vec::new(),
            )
            .await?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(failed(format!("GetObject answered {status}")));
        }
        let expires = response
            .headers()
            .get(EXPIRES_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let bytes = response.bytes().await.map_err(failed)?;
        if expires.is_some_and(|at| at <= unix_now()) {
            return Ok(None);
        }
        let json = super::compress::unpack(&bytes).map_err(failed)?;
        serde_json::from_slice(&json).map(Some).map_err(failed)
    }

    /// Store a batch: `(key, entry JSON, ttl)`, one `PutObject` each, sent together.
    ///
    /// # Errors
    /// S3 refused or did not answer one of them.
    pub async fn set_many(
        &self,
        items: &[(String, Vec<u8>, Option<Duration>)],
    ) -> Result<(), CacheError> {
        let puts = items.iter().map(|(key, json, ttl)| async move {
            let body = super::compress::pack(json);
            let compressed = matches!(body, std::borrow::Cow::Owned(_));
            let max_age = ttl.map_or(31_536_000, |ttl| ttl.as_secs().max(1));
            let mut headers = vec![
                (
                    "content-type".to_owned(),
                    if compressed {
                        "application/octet-stream"
                    } else {
                        "application/json"
                    }
                    .to_owned(),
                ),
                (
                    "cache-control".to_owned(),
                    format!("immutable, max-age={max_age}, s-maxage={max_age}"),
                ),
            ];
            if let Some(ttl) = ttl {
                let at = unix_now() + ttl.as_secs().max(1);
                headers.push((EXPIRES_HEADER.to_owned(), at.to_string()));
            }
            let response = self
                .send(
                    reqwest::Method::PUT,
                    self.object_url(key),
                    headers,
                    body.into_owned(),
                )
                .await?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(failed(format!("PutObject answered {}", response.status())))
            }
        });
        for put in futures::future::join_all(puts).await {
            put?;
        }
        Ok(())
    }

    /// Remove `keys`; how many were there.
    ///
    /// # Errors
    /// S3 did not answer.
    pub async fn delete(&self, keys: &[String]) -> Result<usize, CacheError> {
        let mut removed = 0;
        for key in keys {
            // DeleteObject answers 204 whether or not the object existed: ask first.
            let head = self
                .send(
                    reqwest::Method::HEAD,
                    self.object_url(key),
                    Vec::new(),
                    Vec::new(),
                )
                .await?;
            if !head.status().is_success() {
                continue;
            }
            self.delete_object(&format!("{}{key}", self.prefix)).await?;
            removed += 1;
        }
        Ok(removed)
    }

    async fn delete_object(&self, name: &str) -> Result<(), CacheError> {
        let url = format!("{}/{}", self.bucket_url, encode_path(name));
        let response = self
            .send(reqwest::Method::DELETE, url, Vec::new(), Vec::new())
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(failed(format!(
                "DeleteObject answered {}",
                response.status()
            )))
        }
    }

    /// Remove every object under `s3_path` (the whole bucket when there is none; LiteLLM's
    /// `flush_cache` removes nothing); how many.
    ///
    /// # Errors
    /// S3 did not answer.
    pub async fn clear(&self) -> Result<usize, CacheError> {
        let mut removed = 0;
        let mut token: Option<String> = None;
        loop {
            let mut url = format!(
                "{}?list-type=2&prefix={}",
                self.bucket_url,
                percent_encode(&self.prefix)
            );
            if let Some(token) = &token {
                url.push_str("&continuation-token=");
                url.push_str(&percent_encode(token));
            }
            let response = self
                .send(reqwest::Method::GET, url, Vec::new(), Vec::new())
                .await?;
            if !response.status().is_success() {
                return Err(failed(format!(
                    "ListObjectsV2 answered {}",
                    response.status()
                )));
            }
            let xml = response.text().await.map_err(failed)?;
            for name in xml_values(&xml, "Key") {
                self.delete_object(&name).await?;
                removed += 1;
            }
            let truncated = xml_values(&xml, "IsTruncated")
                .first()
                .is_some_and(|v| v == "true");
            token = xml_values(&xml, "NextContinuationToken").into_iter().next();
            if !truncated || token.is_none() {
                return Ok(removed);
            }
        }
    }

    /// Whether the bucket answers (`HeadBucket`).
    ///
    /// # Errors
    /// It does not exist, access is denied, or S3 did not answer.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let response = self
            .send(
                reqwest::Method::HEAD,
                format!("{}/", self.bucket_url),
                Vec::new(),
                Vec::new(),
            )
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(failed(format!("HeadBucket answered {}", response.status())))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn settings_and_urls() {
        let Value::Object(params) = json!({"s3_bucket_name": "b", "s3_region_name": "eu-west-1",
                                           "s3_path": "cache/", "s3_aws_access_key_id": "AK",
                                           "s3_aws_secret_access_key": "SK"})
        else {
            unreachable!()
        };
        let settings = S3Settings::from_params(&params).unwrap_or_else(|e| unreachable!("{e}"));
        let store = S3Store::new(&settings);
        assert_eq!(store.bucket_url, "https://b.s3.eu-west-1.amazonaws.com");
        assert_eq!(
            store.object_url("ns:ab"),
            "https://b.s3.eu-west-1.amazonaws.com/cache/ns%3Aab"
        );
        let Value::Object(local) = json!({"s3_bucket_name": "b",
                                          "s3_endpoint_url": "http://127.0.0.1:9000/"})
        else {
            unreachable!()
        };
        let local =
            S3Store::new(&S3Settings::from_params(&local).unwrap_or_else(|e| unreachable!("{e}")));
        assert_eq!(local.object_url("k"), "http://127.0.0.1:9000/b/k");
        assert!(S3Settings::from_params(&Map::new()).is_err());
    }

    #[test]
    fn list_answers_are_read() {
        let xml = "<ListBucketResult><Contents><Key>a/1</Key></Contents><Contents><Key>a/x&amp;y</Key></Contents><IsTruncated>false</IsTruncated></ListBucketResult>";
        assert_eq!(xml_values(xml, "Key"), ["a/1", "a/x&y"]);
        assert_eq!(xml_values(xml, "IsTruncated"), ["false"]);
    }
}
