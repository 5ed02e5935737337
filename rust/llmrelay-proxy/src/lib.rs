//! llmrelay-proxy: an OpenAI- and Anthropic-compatible LLM gateway server, configured with
//! LiteLLM's proxy `config.yaml`.
//!
//! Every call runs through the typed call pipeline (`llmrelay-pipeline`: admission, per
//! attempt, around, respond and account layers) and is executed by a [`Dispatch`]
//! ([`RouterDispatch`]: the Router, as LiteLLM's proxy routes every call). Keys are checked
//! by an [`auth::Authenticator`]; user [`hooks::Hooks`] become layers only when some are
//! configured. See `docs/proxy.md`.

pub mod alerting;
pub mod anthropic;
pub mod auth;
pub mod body_safety;
pub mod cache;
pub mod cli;
pub mod config;
pub mod config_keys;
pub mod custom_auth;
pub mod dispatch;
pub mod edge;
pub mod errors;
pub mod files;
pub mod focus_export;
pub mod governance;
pub mod hooks;
mod info;
pub mod jwt;
pub mod limits;
mod llm;
pub mod mcp;
pub mod metrics;
mod not_built;
pub mod observability;
pub mod openapi;
mod passthrough;
pub mod reload;
pub mod responses;
pub mod routed;
mod search;
pub mod secrets;
pub mod server;
pub mod sse;
pub mod sso;
pub mod startup;
pub mod state;
pub mod tls;
pub mod workers;

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
    /// Serve HTTPS with these files.
    pub tls: Option<tls::TlsFiles>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".to_owned(),
            port: 4000,
            drain: Duration::from_secs(30),
            tls: None,
        }
    }
}

/// Bind and serve until Ctrl-C / SIGTERM, then drain. Logs one line when ready.
///
/// # Errors
/// The address cannot be bound, the TLS files are unusable, or the accept loop failed.
pub async fn run(proxy: Proxy, options: &ServeOptions) -> Result<(), String> {
    let address = format!("{}:{}", options.host, options.port);
    let tls = options.tls.as_ref().map(tls::server_config).transpose()?;
    let governed = proxy.state().governance.clone();
    let proxy_files = proxy.state().files.clone();
    if let Some(governed) = &governed {
        governance::start(
            &governed.engine,
            governed.router.as_ref(),
            Some(&governed.limiter),
        )
        .await?;
        crate::files::resume(&proxy.state());
    }
    let socket_address: std::net::SocketAddr = tokio::net::lookup_host(&address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot listen on {address}: no address"))?;
    let listeners = workers::bind(socket_address, workers::worker_count())
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    let local = listeners
        .first()
        .and_then(|l| l.local_addr().ok())
        .ok_or_else(|| format!("cannot listen on {address}"))?;
    // The price map (parsed on first use) is loaded while the first connections arrive, so
    // readiness does not wait for it and the first priced response does not pay for it.
    let warm_up = tokio::task::spawn_blocking(|| {
        let _ = llmrelay_core::catalog::global();
    });
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(target: "llmrelay_proxy::startup", "llmrelay proxy listening on {scheme}://{local}");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let reloading = reload::listen(proxy.state());
    let rotating = secrets::watch(proxy.state());
    let served = workers::serve(proxy, listeners, options, tls, stopped)
        .await
        .map_err(|e| format!("server error: {e}"));
    signal.abort();
    if let Some(reloading) = reloading {
        reloading.abort();
    }
    if let Some(rotating) = rotating {
        rotating.abort();
    }
    let _ = warm_up.await;
    if let Some(files) = proxy_files {
        // Runners store the lines in flight; the rest resumes at the next start.
        files.shutdown().await;
    }
    if let Some(governed) = governed {
        // Every spend row acknowledged to a client reaches the database before exit.
        governed.engine.shutdown().await;
    }
    served
}

/// The crates whose logs `--debug` / `--detailed_debug` raise (LiteLLM raises its own loggers,
/// not those of the libraries under it).
const LOGGING_TARGETS: &[&str] = &[
    "llmrelay_proxy",
    "llmrelay_router",
    "llmrelay_providers",
    "llmrelay_core",
    "llmrelay_python",
    "llmrelay",
];

/// The log filter for the flags, as LiteLLM's: warnings by default (and the line saying where
/// the server listens), `--debug` INFO, `--detailed_debug` DEBUG; with neither flag,
/// `LITELLM_LOG` (`DEBUG`, `INFO`, ...) sets the level.
#[must_use]
pub fn log_filter(debug: bool, detailed_debug: bool) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    let from_environment = || {
        let value = std::env::var("LITELLM_LOG").ok()?;
        match value.trim().to_ascii_uppercase().as_str() {
            "DEBUG" => Some(LevelFilter::DEBUG),
            "INFO" => Some(LevelFilter::INFO),
            "WARNING" | "WARN" => Some(LevelFilter::WARN),
            "ERROR" | "CRITICAL" => Some(LevelFilter::ERROR),
            _ => None,
        }
    };
    let level = if detailed_debug {
        LevelFilter::DEBUG
    } else if debug {
        LevelFilter::INFO
    } else {
        from_environment().unwrap_or(LevelFilter::WARN)
    };
    let mut filter = Targets::new().with_default(LevelFilter::WARN);
    for target in LOGGING_TARGETS {
        filter = filter.with_target(*target, level);
    }
    filter.with_target("llmrelay_proxy::startup", level.max(LevelFilter::INFO))
}

/// Install a log subscriber on stderr with [`log_filter`]. Safe to call twice: later calls
/// are ignored.
pub fn init_logging(debug: bool, detailed_debug: bool) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .with_filter(log_filter(debug, detailed_debug));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    #[test]
    fn debug_flags_raise_llmrelay_logs_only() {
        let default = super::log_filter(false, false);
        assert!(!default.would_enable("llmrelay_router::router", &Level::INFO));
        assert!(default.would_enable("llmrelay_proxy::startup", &Level::INFO));
        assert!(default.would_enable("llmrelay_router::router", &Level::WARN));
        let debug = super::log_filter(true, false);
        assert!(debug.would_enable("llmrelay_router::router", &Level::INFO));
        assert!(!debug.would_enable("llmrelay_proxy::server", &Level::DEBUG));
        let detailed = super::log_filter(false, true);
        assert!(detailed.would_enable("llmrelay_proxy::server", &Level::DEBUG));
        assert!(!detailed.would_enable("hyper::proto", &Level::DEBUG));
    }
}
