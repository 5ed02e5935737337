//! The one HTTP client every integration sends with (pooled, rustls), and its use as the
//! OTLP exporter's transport.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;

/// How long one delivery may take before it counts as failed (and is retried).
const TIMEOUT: Duration = Duration::from_secs(10);

/// The shared client.
///
/// # Errors
/// When the TLS backend cannot start (reported by every integration at build time).
pub fn client() -> Result<reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                .pool_idle_timeout(Duration::from_secs(60))
                .build()
                .map_err(|e| format!("cannot build the integrations' HTTP client: {e}"))
        })
        .clone()
}

/// Send a request; a non-2xx answer is an error carrying the status and the start of the body.
///
/// # Errors
/// Transport failures and non-success statuses (the queue retries them).
pub async fn send(request: reqwest::RequestBuilder) -> Result<Bytes, String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(body)
    } else {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        Err(format!("HTTP {status}: {text}"))
    }
}

/// The shared client as `opentelemetry-http`'s transport (so the OTLP exporter needs no
/// second HTTP stack).
#[derive(Debug, Clone)]
pub struct OtelHttpClient(pub reqwest::Client);

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for OtelHttpClient {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, opentelemetry_http::HttpError> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let response = self
            .0
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        let mut out = http::Response::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }
}
