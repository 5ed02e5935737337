//! Config reload without a restart: on SIGHUP the proxy reads its config file again and
//! replaces the Router's config deployments with the file's `model_list` (deployments stored
//! in the database stay; unchanged deployments keep their state: cooldowns, usage, latency).
//! Other sections (`general_settings`, `litellm_settings`, guardrails, callbacks) take effect
//! at the next start; a reload that finds them changed says so in the log.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::config::RawConfig;
use crate::state::AppState;

/// The config file and the Router it feeds.
#[derive(Clone)]
pub struct Reloader {
    path: PathBuf,
    router: llmrelay_router::Router,
    /// The config's secret manager and what it read (re-read by [`crate::secrets::watch`]).
    secrets: Option<crate::secrets::ReadSecrets>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Reloader {
    #[must_use]
    pub fn new(path: &Path, router: llmrelay_router::Router) -> Self {
        Self {
            path: path.to_path_buf(),
            router,
            secrets: None,
        }
    }

    /// With the secrets the config read from its secret manager.
    #[must_use]
    pub fn with_secrets(mut self, secrets: Option<crate::secrets::ReadSecrets>) -> Self {
        self.secrets = secrets;
        self
    }

    /// The secrets the config read from its secret manager, if it has one.
    #[must_use]
    pub fn secrets(&self) -> Option<crate::secrets::ReadSecrets> {
        self.secrets.clone()
    }

    /// Reads the file again and applies its `model_list`. Returns the number of config
    /// deployments now served.
    ///
    /// # Errors
    /// The file cannot be read or is invalid (the running config stays as it was).
    pub async fn reload(&self, state: &AppState) -> Result<usize, String> {
        // Resolving reads the secret manager: off the async workers.
        let path = self.path.clone();
        let config = tokio::task::spawn_blocking(move || {
            RawConfig::load(&path).and_then(|raw| raw.resolve())
        })
        .await
        .map_err(|e| format!("config reload failed: {e}"))?
        .map_err(|e| e.to_string())?;
        let router_config = crate::routed::router_config(&config);
        let model_list = router_config
            .get("model_list")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        let count = model_list.as_array().map_or(0, Vec::len);
        self.router
            .set_model_list(model_list)
            .map_err(|e| e.message().to_owned())?;
        if let Some(governed) = &state.governance {
            // The DB deployments were replaced with the rest: put them back.
            for deployment in governed.engine.db_deployments() {
                crate::governance::apply_model(&governed.engine, &self.router, &deployment).await;
            }
            crate::governance::share_config_models(&governed.engine, &*state.dispatch);
        }
        Ok(count)
    }
}

/// Reloads on every SIGHUP until the proxy stops (unix; a no-op elsewhere).
#[must_use]
pub fn listen(state: Arc<AppState>) -> Option<tokio::task::JoinHandle<()>> {
    let reloader = state.reload.clone()?;
    #[cfg(unix)]
    {
        let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "config reload on SIGHUP unavailable");
                return None;
            }
        };
        Some(tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                match reloader.reload(&state).await {
                    Ok(count) => tracing::info!(
                        target: "llmrelay_proxy::startup",
                        path = %reloader.path.display(),
                        deployments = count,
                        "config reloaded (model_list applied; other sections apply at the next start)"
                    ),
                    Err(error) => tracing::warn!(
                        path = %reloader.path.display(),
                        %error,
                        "config reload failed; the running config stays"
                    ),
                }
            }
        }))
    }
    #[cfg(not(unix))]
    {
        let _ = (reloader, state);
        None
    }
}
