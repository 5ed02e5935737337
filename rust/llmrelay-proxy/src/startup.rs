//! The proxy's start-up, shared by the `llmrelay-proxy` binary and the `llmrelay` Python command:
//! config, warnings, the Router and the key check, then serving (plain HTTP or TLS), and the
//! one-shot commands `--validate_config`, `--health` and `--test` as LiteLLM's CLI has them.

use std::io::Write;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::cli::CliOptions;
use crate::config::{ProxyConfig, RawConfig};
use crate::hooks::Hooks;
use crate::{Proxy, ServeOptions};

/// Why the command stopped; [`StartupError::exit_code`] is LiteLLM's for the same failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartupError {
    /// Bad flags (click's usage error in LiteLLM: exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The config cannot start a proxy, or the server failed (exit code 1).
    #[error("{0}")]
    Failed(String),
}

impl StartupError {
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Failed(_) => 1,
        }
    }
}

/// Who hosts Python callbacks: the binary has no interpreter, the `llmrelay` command does.
#[derive(Clone, Default)]
pub enum Callbacks {
    /// `module.instance` callbacks in the config are an error.
    #[default]
    Unavailable,
    /// The host imported the config's callbacks (`None`: none to call).
    Python(Option<Arc<dyn Hooks>>),
}

/// A proxy ready to serve, with the config it was built from.
pub struct Prepared {
    pub config: ProxyConfig,
    pub proxy: Proxy,
    pub serve: ServeOptions,
}

/// Every check start-up makes, in start-up's order: the config, the listening address and TLS
/// files, the Router (strategies, Redis, limits), the master key. `--validate_config` runs
/// exactly this. Must run inside a tokio runtime context: the Router starts its Redis sync and
/// health-check tasks on it.
///
/// # Errors
/// The first check that fails, with the message start-up would print.
pub fn prepare(
    options: &CliOptions,
    raw: Option<&RawConfig>,
    callbacks: Callbacks,
) -> Result<Prepared, StartupError> {
    let config = options.proxy_config(raw).map_err(StartupError::Failed)?;
    for warning in &config.warnings {
        tracing::warn!("config: {warning}");
    }
    if !config.model_list.is_empty() {
        tracing::info!(
            target: "llmrelay_proxy::config",
            "model groups: {}",
            config.model_group_names().join(", ")
        );
    }
    let hooks = match callbacks {
        Callbacks::Python(hooks) => hooks,
        Callbacks::Unavailable => {
            let python: Vec<String> = config
                .python_callbacks()
                .into_iter()
                .filter(|name| name.contains('.'))
                .collect();
            if !python.is_empty() {
                return Err(StartupError::Failed(format!(
                    "litellm_settings callbacks {} are Python objects: start the proxy with the `llmrelay` command (pip package) to load them",
                    python.join(", ")
                )));
            }
            None
        }
    };
    crate::observability::check(&config)
        .map_err(|e| StartupError::Failed(format!("litellm_settings callbacks: {e}")))?;
    crate::alerting::check(&config)
        .map_err(|e| StartupError::Failed(format!("general_settings.alerting: {e}")))?;
    let serve = options.serve_options().map_err(StartupError::Failed)?;
    if let Some(tls) = &serve.tls {
        crate::tls::server_config(tls).map_err(StartupError::Failed)?;
    }
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(StartupError::Failed(
            "the proxy must be prepared inside a tokio runtime".to_owned(),
        ));
    }
    let proxy = Proxy::from_config(&config, hooks).map_err(StartupError::Failed)?;
    Ok(Prepared {
        config,
        proxy,
        serve,
    })
}

/// The database the one-shot database commands work on: as the proxy would open it.
fn database_settings(
    raw: Option<&RawConfig>,
) -> Result<llmrelay_governance::GovernanceConfig, StartupError> {
    let config = match raw {
        Some(raw) => raw
            .resolve()
            .map_err(|e| StartupError::Failed(e.to_string()))?,
        None => ProxyConfig::single_model("none", None, serde_json::Map::new()),
    };
    let master_key = config
        .general_settings
        .master_key
        .clone()
        .or_else(|| std::env::var("LITELLM_MASTER_KEY").ok())
        // The commands need a database, not authentication: any key selects it.
        .unwrap_or_else(|| "llmrelay-database-command".to_owned());
    crate::governance::settings(&config, Some(&master_key)).ok_or_else(|| {
        StartupError::Failed(
            "llmrelay: no database: set DATABASE_URL, general_settings.database_url, or pass --config (llmrelay.db next to it)"
                .to_owned(),
        )
    })
}

/// `llmrelay migrate`, `llmrelay import-litellm --from URL`.
async fn database_command(
    command: &crate::cli::Command,
    raw: Option<&RawConfig>,
) -> Result<(), StartupError> {
    let settings = database_settings(raw)?;
    let target = llmrelay_governance::db::redact_url(&settings.database_url);
    match command {
        crate::cli::Command::Migrate => {
            llmrelay_governance::migrate(&settings.database_url)
                .await
                .map_err(|e| StartupError::Failed(format!("llmrelay: migrate {target}: {e}")))?;
            say(&format!("llmrelay: migrations applied to {target}"));
            Ok(())
        }
        crate::cli::Command::ImportLitellm { from } => {
            let engine = llmrelay_governance::Governance::open(settings)
                .await
                .map_err(|e| StartupError::Failed(format!("llmrelay: {target}: {e}")))?;
            let result = llmrelay_governance::import_litellm(from, &engine).await;
            engine.shutdown().await;
            let report = result.map_err(|e| {
                StartupError::Failed(format!("llmrelay: import-litellm into {target}: {e}"))
            })?;
            for table in &report.tables {
                say(&format!(
                    "{:<40} read {:>10}  inserted {:>10}",
                    table.table, table.read, table.inserted
                ));
            }
            if !report.missing_tables.is_empty() {
                say(&format!(
                    "not in the source (an older LiteLLM): {}",
                    report.missing_tables.join(", ")
                ));
            }
            if report.undecryptable_rows > 0 {
                say(&format!(
                    "{} model/credential rows did not decrypt with LITELLM_SALT_KEY and were copied as they are",
                    report.undecryptable_rows
                ));
            }
            say(&format!(
                "llmrelay: imported {} into {target}",
                llmrelay_governance::db::redact_url(from)
            ));
            Ok(())
        }
    }
}

fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Run what the flags ask for: `--validate_config`, `--health`, `--test`, or the server until
/// Ctrl-C / SIGTERM. `raw` is the config file, its `environment_variables` already exported.
///
/// # Errors
/// See [`StartupError`].
pub fn run_command(
    options: &CliOptions,
    raw: Option<&RawConfig>,
    callbacks: Callbacks,
    runtime: &tokio::runtime::Runtime,
) -> Result<(), StartupError> {
    if let Some(command) = &options.command {
        return runtime.block_on(database_command(command, raw));
    }
    if options.health {
        return runtime.block_on(health(options, raw));
    }
    if options.test {
        return runtime.block_on(test(options, raw));
    }
    if options.validate_config && options.config.is_none() {
        return Err(StartupError::Usage(
            "--validate_config requires --config <path>".to_owned(),
        ));
    }
    let prepared = {
        let _context = runtime.enter();
        prepare(options, raw, callbacks)
    };
    if options.validate_config {
        let prepared = prepared.map_err(|error| {
            StartupError::Failed(format!("llmrelay: config validation failed: {error}"))
        })?;
        say(&format!(
            "llmrelay: config OK ({} models)",
            prepared.config.model_list.len()
        ));
        // The Router's background tasks end with the runtime; nothing was served.
        drop(prepared);
        return Ok(());
    }
    let prepared = prepared?;
    if let Some(workers) = options.num_workers.filter(|n| *n > 1) {
        tracing::info!(
            "--num_workers {workers} accepted: one llmrelay process already uses every core"
        );
    }
    runtime
        .block_on(crate::run(prepared.proxy, &prepared.serve))
        .map_err(StartupError::Failed)
}

/// Where the one-shot commands find the proxy: `--host`/`--port` (or `HOST`/`PORT`), with a
/// wildcard address replaced by the loopback one.
fn proxy_url(options: &CliOptions) -> Result<String, StartupError> {
    let serve = options.serve_options().map_err(StartupError::Failed)?;
    let host = match serve.host.as_str() {
        "0.0.0.0" | "" => "127.0.0.1".to_owned(),
        "::" | "[::]" => "[::1]".to_owned(),
        host if host.contains(':') && !host.starts_with('[') => format!("[{host}]"),
        host => host.to_owned(),
    };
    let scheme = if serve.tls.is_some() { "https" } else { "http" };
    Ok(format!("{scheme}://{host}:{}", serve.port))
}

/// The key the one-shot commands present: the config's master key, else `LITELLM_MASTER_KEY`.
fn client_key(raw: Option<&RawConfig>) -> Option<String> {
    raw.and_then(|raw| raw.resolve().ok())
        .and_then(|config| config.general_settings.master_key)
        .or_else(|| std::env::var("LITELLM_MASTER_KEY").ok())
        .filter(|key| !key.is_empty())
}

fn client() -> Result<reqwest::Client, StartupError> {
    // The one-shot commands talk to a local proxy, often with a self-signed certificate.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .map_err(|e| StartupError::Failed(format!("cannot build an HTTP client: {e}")))
}

async fn send(request: reqwest::RequestBuilder, what: &str) -> Result<Value, StartupError> {
    let response = request
        .send()
        .await
        .map_err(|e| StartupError::Failed(format!("llmrelay: {what}: {e}")))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| StartupError::Failed(format!("llmrelay: {what}: unreadable response: {e}")))?;
    if !status.is_success() {
        return Err(StartupError::Failed(format!(
            "llmrelay: {what}: HTTP {}: {body}",
            status.as_u16()
        )));
    }
    Ok(body)
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// `--health`: `GET /health` of the running proxy (every deployment probed), printed as JSON.
async fn health(options: &CliOptions, raw: Option<&RawConfig>) -> Result<(), StartupError> {
    let url = format!("{}/health", proxy_url(options)?);
    say("\nllmrelay: Health Testing models in config");
    let mut request = client()?.get(&url);
    if let Some(key) = client_key(raw) {
        request = request.bearer_auth(key);
    }
    let report = send(request, "GET /health").await?;
    say(&pretty(&report));
    Ok(())
}

/// `--test`: a chat completion, the same streamed, and a text completion through the running
/// proxy, as LiteLLM's `--test` makes them.
async fn test(options: &CliOptions, raw: Option<&RawConfig>) -> Result<(), StartupError> {
    let base = proxy_url(options)?;
    let model = options
        .model
        .clone()
        .unwrap_or_else(|| "gpt-3.5-turbo".to_owned());
    let key = client_key(raw).unwrap_or_else(|| "My API Key".to_owned());
    let client = client()?;
    let prompt = "this is a test request, write a short poem";
    say(&format!(
        "\nllmrelay: Making a test ChatCompletions request to your proxy. Model={model}"
    ));
    let body = json!({"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": 256});
    let response = send(
        client
            .post(format!("{base}/chat/completions"))
            .bearer_auth(&key)
            .json(&body),
        "POST /chat/completions",
    )
    .await?;
    say(&format!("\nllmrelay: response from proxy {response}"));
    say(&format!(
        "\nllmrelay: Making a test ChatCompletions + streaming request to proxy. Model={model}"
    ));
    let body =
        json!({"model": model, "messages": [{"role": "user", "content": prompt}], "stream": true});
    let response = client
        .post(format!("{base}/chat/completions"))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await
        .map_err(|e| StartupError::Failed(format!("llmrelay: streaming request: {e}")))?;
    if !response.status().is_success() {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        return Err(StartupError::Failed(format!(
            "llmrelay: streaming request: HTTP {status}: {text}"
        )));
    }
    let text = response
        .text()
        .await
        .map_err(|e| StartupError::Failed(format!("llmrelay: streaming request: {e}")))?;
    for line in text.lines() {
        if let Some(data) = line.strip_prefix("data: ") {
            if data != "[DONE]" {
                say(&format!("llmrelay: streaming response from proxy {data}"));
            }
        }
    }
    say("\nllmrelay: making completion request to proxy");
    let body = json!({"model": model, "prompt": prompt});
    let response = send(
        client
            .post(format!("{base}/completions"))
            .bearer_auth(&key)
            .json(&body),
        "POST /completions",
    )
    .await?;
    say(&response.to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[&str]) -> CliOptions {
        CliOptions::parse(args.iter().map(|s| (*s).to_owned())).unwrap()
    }

    #[test]
    fn one_shot_commands_reach_the_loopback_address() {
        assert_eq!(
            proxy_url(&options(&["--port", "4100"])).unwrap(),
            "http://127.0.0.1:4100"
        );
        assert_eq!(
            proxy_url(&options(&["--host", "::", "--port", "1"])).unwrap(),
            "http://[::1]:1"
        );
        assert_eq!(StartupError::Usage(String::new()).exit_code(), 2);
        assert_eq!(StartupError::Failed(String::new()).exit_code(), 1);
    }

    #[test]
    fn prepare_needs_a_runtime_and_reports_router_errors() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let raw = RawConfig::from_document(
            crate::config::parse_yaml(
                "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_key: k}\nrouter_settings:\n  routing_strategy: bogus\ngeneral_settings:\n  master_key: sk-0123456789abcdefgh\n",
            )
            .unwrap(),
        );
        let cli = options(&["--config", "x.yaml"]);
        let _context = runtime.enter();
        let error = prepare(&cli, Some(&raw), Callbacks::Unavailable)
            .err()
            .unwrap();
        assert!(error.to_string().contains("routing_strategy"), "{error}");
    }
}
