//! The pooled HTTP client (one per process, or one per worker thread of a server that runs a
//! runtime per core), timeouts, and retry backoff.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::Duration;

use llmrelay_core::{Error, ErrorKind, Result};

/// Per-call time limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The whole request, body included; for a stream, until its response headers arrive.
    pub total: Option<Duration>,
    /// Until response headers arrive, and between chunks of a stream.
    pub read: Option<Duration>,
    /// TCP/TLS connect.
    pub connect: Option<Duration>,
}

impl Default for Timeouts {
    /// No per-call limit unless the caller sets one: LiteLLM's default (6000 s) is effectively
    /// unbounded, and arming a timer on every request costs measurable latency. Connecting is
    /// always bounded by the client's connect timeout.
    fn default() -> Self {
        Self {
            total: None,
            read: None,
            connect: None,
        }
    }
}

static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();

/// Connect timeout of the shared client (the per-call connect limit is applied around the
/// request as a first-byte limit, since connections are pooled).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn build_client() -> reqwest::Client {
    build_client_with(reqwest::redirect::Policy::none())
}

fn build_client_with(redirects: reqwest::redirect::Policy) -> reqwest::Client {
    // rustls needs a process-wide crypto provider; installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Provider APIs answer, they do not redirect: like the SDKs LiteLLM uses (httpx's
    // default), a redirect is returned to the caller, not followed.
    let builder = reqwest::Client::builder()
        .redirect(redirects)
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(1024)
        .user_agent(concat!("llmrelay/", env!("CARGO_PKG_VERSION")));
    match builder.build() {
        Ok(client) => client,
        Err(_) => reqwest::Client::new(),
    }
}

thread_local! {
    /// A worker thread's own client (its connections stay on its runtime).
    static THREAD_CLIENT: RefCell<Option<reqwest::Client>> = const { RefCell::new(None) };
}

/// The pooled client: this thread's own when it has one, else the process-wide one.
#[must_use]
pub fn client() -> reqwest::Client {
    THREAD_CLIENT
        .with(|local| local.borrow().clone())
        .unwrap_or_else(|| CLIENT.get_or_init(build_client).clone())
}

/// Give this thread a client of its own: a server running one single-threaded runtime per core
/// keeps each worker's upstream connections on that worker (no cross-thread wake-ups).
pub fn use_thread_client() {
    THREAD_CLIENT.with(|local| *local.borrow_mut() = Some(build_client()));
    crate::upstream::use_thread_client();
}

/// The client for fetches made on a caller's behalf (image URLs), which follows redirects.
#[must_use]
pub fn fetch_client() -> &'static reqwest::Client {
    static FETCH: OnceLock<reqwest::Client> = OnceLock::new();
    FETCH.get_or_init(|| build_client_with(reqwest::redirect::Policy::limited(10)))
}

/// Map a transport error onto the engine's error kinds.
#[must_use]
pub fn transport_error(error: &reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::timeout(format!("Request timed out: {error}"))
    } else if error.is_connect() {
        // LiteLLM reports a failed connection as InternalServerError (500), "Connection error.".
        Error::new(
            ErrorKind::InternalServer,
            format!("Connection error.: {}", error_chain(error)),
        )
        .with_status(500)
    } else if error.is_body() || error.is_decode() {
        Error::new(
            ErrorKind::ApiConnection,
            format!("Error reading response body: {}", error_chain(error)),
        )
    } else {
        Error::connection(format!("Connection error: {}", error_chain(error)))
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Seconds to wait from `retry-after-ms` / `Retry-After` (delta seconds or HTTP date ignored).
#[must_use]
pub fn retry_after_seconds(headers: &reqwest::header::HeaderMap) -> Option<f64> {
    if let Some(ms) = headers.get("retry-after-ms").and_then(|v| v.to_str().ok()) {
        if let Ok(ms) = ms.trim().parse::<f64>() {
            return Some(ms / 1000.0);
        }
    }
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
}

/// Exponential backoff with jitter: 0.5 s, 1 s, 2 s … capped at 8 s; an upstream
/// `Retry-After` up to 60 s wins.
#[must_use]
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(wait) = retry_after {
        if wait <= Duration::from_secs(60) {
            return wait;
        }
    }
    let base = 0.5_f64 * 2_f64.powi(i32::try_from(attempt.min(8)).unwrap_or(8));
    let capped = base.min(8.0);
    let jitter = 0.75 + rand::random::<f64>() * 0.5;
    Duration::from_secs_f64(capped * jitter)
}

/// Apply an optional time limit to a future.
///
/// # Errors
/// `Timeout` when the limit passes first.
pub async fn with_limit<T>(
    limit: Option<Duration>,
    what: &str,
    future: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match limit {
        None => future.await,
        Some(limit) => match tokio::time::timeout(limit, future).await {
            Ok(result) => result,
            Err(_) => Err(Error::timeout(format!(
                "Request timed out after {:.3} seconds ({what})",
                limit.as_secs_f64()
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_honours_retry_after_and_caps() {
        assert_eq!(
            backoff(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        let first = backoff(0, None);
        assert!(first >= Duration::from_millis(375) && first <= Duration::from_millis(625));
        let late = backoff(10, None);
        assert!(late <= Duration::from_secs(10));
        // An absurd Retry-After is not honoured.
        assert!(backoff(0, Some(Duration::from_secs(3600))) < Duration::from_secs(1));
    }

    #[test]
    fn retry_after_headers() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after_seconds(&headers), Some(3.0));
        headers.insert("retry-after-ms", "1500".parse().unwrap());
        assert_eq!(retry_after_seconds(&headers), Some(1.5));
    }
}
