//! The engine's client for provider calls: hyper-util's pooled client over rustls (HTTP/1.1, and
//! HTTP/2 where the server offers it by ALPN), verified by the platform's trust store as
//! reqwest does. A request goes out as `http` types built once from the provider's
//! [`HttpRequest`]: no URL parsing beyond the `Uri`, no middleware stack, no boxing per request.
//!
//! When the environment names an HTTP proxy (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, any case)
//! calls go through reqwest instead, which implements proxies, tunnels and `NO_PROXY`.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use llmrelay_core::{Error, ErrorKind, Result};

use crate::http as transport;
use crate::provider::HttpRequest;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
type Hyper = HyperClient<Connector, Full<Bytes>>;

const USER_AGENT: HeaderValue =
    HeaderValue::from_static(concat!("llmrelay/", env!("CARGO_PKG_VERSION")));

/// The client calls go through (cheap to clone: one reference count).
#[derive(Clone)]
pub struct Client(Arc<Inner>);

#[expect(
    clippy::large_enum_variant,
    reason = "one per client, behind the client's Arc"
)]
enum Inner {
    Direct(Hyper),
    /// The environment configures a proxy.
    Proxied(reqwest::Client),
}

/// Whether the environment configures an HTTP proxy (read once).
fn proxy_configured() -> bool {
    static CONFIGURED: OnceLock<bool> = OnceLock::new();
    *CONFIGURED.get_or_init(|| {
        [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
    })
}

fn build_hyper() -> Option<Hyper> {
    // rustls needs a process-wide crypto provider; installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = {
        use rustls_platform_verifier::BuilderVerifierExt;
        rustls::ClientConfig::builder()
            .with_platform_verifier()
            .ok()?
            .with_no_client_auth()
    };
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(transport::CONNECT_TIMEOUT));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(http);
    Some(
        HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(1024)
            .build(connector),
    )
}

fn build() -> Client {
    let inner = if proxy_configured() {
        Inner::Proxied(transport::client())
    } else {
        match build_hyper() {
            Some(hyper) => Inner::Direct(hyper),
            // No usable trust store: reqwest reports the problem on the first call.
            None => Inner::Proxied(transport::client()),
        }
    };
    Client(Arc::new(inner))
}

static SHARED: OnceLock<Client> = OnceLock::new();

thread_local! {
    /// A worker thread's own client (its connections stay on its runtime).
    static THREAD: RefCell<Option<Client>> = const { RefCell::new(None) };
}

/// This thread's client when it has one, else the process-wide one.
#[must_use]
pub fn client() -> Client {
    THREAD
        .with(|local| local.borrow().clone())
        .unwrap_or_else(|| SHARED.get_or_init(build).clone())
}

/// Give this thread a client of its own (a server with one single-threaded runtime per core).
pub fn use_thread_client() {
    THREAD.with(|local| *local.borrow_mut() = Some(build()));
}

/// An upstream response: status and headers read, body not yet.
pub enum Response {
    Direct(http::Response<hyper::body::Incoming>),
    Proxied(reqwest::Response),
}

impl Response {
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Direct(response) => response.status().as_u16(),
            Self::Proxied(response) => response.status().as_u16(),
        }
    }

    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        match self {
            Self::Direct(response) => response.headers(),
            Self::Proxied(response) => response.headers(),
        }
    }

    /// The whole body.
    ///
    /// # Errors
    /// The connection broke while the body was read.
    pub async fn bytes(self) -> Result<Bytes> {
        match self {
            Self::Direct(response) => response
                .into_body()
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes)
                .map_err(|e| body_error(&e)),
            Self::Proxied(response) => response
                .bytes()
                .await
                .map_err(|e| transport::transport_error(&e)),
        }
    }

    /// The body as it arrives.
    #[must_use]
    pub fn bytes_stream(self) -> BoxStream<'static, std::result::Result<Bytes, Error>> {
        match self {
            Self::Direct(response) => response
                .into_body()
                .into_data_stream()
                .map_err(|e| body_error(&e))
                .boxed(),
            Self::Proxied(response) => response
                .bytes_stream()
                .map_err(|e| transport::transport_error(&e))
                .boxed(),
        }
    }
}

fn body_error(error: &hyper::Error) -> Error {
    if error.is_timeout() {
        return Error::timeout(format!("Request timed out: {}", chain(error)));
    }
    Error::new(
        ErrorKind::ApiConnection,
        format!("Error reading response body: {}", chain(error)),
    )
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn send_error(error: &hyper_util::client::legacy::Error) -> Error {
    if error.is_connect() {
        // LiteLLM reports a failed connection as InternalServerError (500), "Connection error.".
        return Error::new(
            ErrorKind::InternalServer,
            format!("Connection error.: {}", chain(error)),
        )
        .with_status(500);
    }
    Error::connection(format!("Connection error: {}", chain(error)))
}

impl Client {
    /// POST a provider request; the response's status is not checked here.
    ///
    /// # Errors
    /// A malformed URL or header, or a transport failure.
    pub async fn post(&self, request: HttpRequest) -> Result<Response> {
        self.send(Method::POST, request).await
    }

    /// Send a provider request with `method` (a GET carries no body); the status is not
    /// checked here.
    ///
    /// # Errors
    /// A malformed URL or header, or a transport failure.
    pub async fn send(&self, method: Method, request: HttpRequest) -> Result<Response> {
        match &*self.0 {
            Inner::Direct(hyper) => {
                let uri: Uri = request.url.parse().map_err(|e| {
                    Error::bad_request(format!("invalid upstream URL '{}': {e}", request.url))
                })?;
                let mut builder = http::Request::builder().method(method).uri(uri);
                if let Some(headers) = builder.headers_mut() {
                    headers.reserve(request.headers.len() + 1);
                    for (name, value) in &request.headers {
                        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
                            Error::bad_request(format!("invalid header name '{name}': {e}"))
                        })?;
                        let value = HeaderValue::from_str(value).map_err(|e| {
                            Error::bad_request(format!("invalid value for header '{name}': {e}"))
                        })?;
                        headers.append(name, value);
                    }
                    if !headers.contains_key(http::header::USER_AGENT) {
                        headers.insert(http::header::USER_AGENT, USER_AGENT);
                    }
                }
                let outgoing = builder
                    .body(Full::new(Bytes::from(request.body)))
                    .map_err(|e| Error::bad_request(format!("invalid upstream request: {e}")))?;
                hyper
                    .request(outgoing)
                    .await
                    .map(Response::Direct)
                    .map_err(|e| send_error(&e))
            }
            Inner::Proxied(client) => {
                let mut builder = client.request(method, &request.url).body(request.body);
                for (name, value) in &request.headers {
                    builder = builder.header(name.as_str(), value.as_str());
                }
                builder
                    .send()
                    .await
                    .map(Response::Proxied)
                    .map_err(|e| transport::transport_error(&e))
            }
        }
    }
}
