//! llmrelay-proxy: an OpenAI- and Anthropic-compatible LLM gateway server, configured with
//! LiteLLM's proxy `config.yaml`.
//!
//! Every call runs through the typed call pipeline (`llmrelay-pipeline`: admission, per
//! attempt, around, respond and account layers) and is executed by a [`Dispatch`]
//! ([`RouterDispatch`]: the Router, as LiteLLM's proxy routes every call). Keys are checked
//! by an [`auth::Authenticator`]; user [`hooks::Hooks`] become layers only when some are
//! configured. See `docs/proxy.md`.

pub mod anthropic;
pub mod auth;
pub mod cli;
pub mod config;
pub mod dispatch;
pub mod edge;
pub mod errors;
pub mod hooks;
mod info;
mod llm;
pub mod metrics;
pub mod openapi;
mod passthrough;
pub mod responses;
pub mod routed;
pub mod server;
pub mod sse;
pub mod state;

pub use config::{ConfigError, ProxyConfig, RawConfig};
pub use dispatch::{Dispatch, HealthReport, ModelEntry};
pub use routed::RouterDispatch;
pub use server::{Proxy, shutdown_signal};

use std::time::Duration;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub host: String,
    pub port: u16,
    /// How long in-flight requests may run after a shutdown signal.
    pub drain: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".to_owned(),
            port: 4000,
            drain: Duration::from_secs(30),
        }
    }
}

/// Bind and serve until Ctrl-C / SIGTERM, then drain. Logs one line when ready.
///
/// # Errors
/// The address cannot be bound, or the accept loop failed.
pub async fn run(proxy: Proxy, options: &ServeOptions) -> Result<(), String> {
    let address = format!("{}:{}", options.host, options.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    // The price map (parsed on first use) is loaded while the first connections arrive, so
    // readiness does not wait for it and the first priced response does not pay for it.
    let warm_up = tokio::task::spawn_blocking(|| {
        let _ = llmrelay_core::catalog::global();
    });
    tracing::info!("llmrelay proxy listening on http://{local}");
    let served = proxy
        .serve(listener, shutdown_signal(), options.drain)
        .await
        .map_err(|e| format!("server error: {e}"));
    let _ = warm_up.await;
    served
}

/// Install a log subscriber on stderr (`debug`/`detailed_debug` raise the level). Safe to call
/// twice: later calls are ignored.
pub fn init_logging(debug: bool, detailed_debug: bool) {
    // `--debug` is LiteLLM's "show request logs" (INFO, the default here too);
    // `--detailed_debug` adds per-request DEBUG lines.
    let _ = debug;
    let level = if detailed_debug {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
