//! Datadog, through its logs intake: `POST https://http-intake.logs.{DD_SITE}/api/v2/logs` with
//! the `DD-API-KEY` header and a JSON array of log items `{ddsource, ddtags, hostname, message,
//! service, status}` (at most 1000 per request, 5 MB uncompressed); answered 202. The message
//! is the call's logging payload as JSON, as LiteLLM's Datadog logger sends it. Wire format:
//! <https://docs.datadoghq.com/api/latest/logs/#send-logs>.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use llmrelay_pipeline::delivery::Sink;

use crate::Event;
use crate::settings::Environment;

/// Items per request at most (the intake's limit).
pub const MAX_BATCH: usize = 1000;

#[derive(Debug, Clone)]
pub struct DatadogSettings {
    /// The intake URL (`…/api/v2/logs`).
    pub url: String,
    pub api_key: String,
    pub service: String,
    pub source: String,
    pub hostname: String,
    pub tags: String,
}

impl DatadogSettings {
    /// `DD_API_KEY`, `DD_SITE` (default `datadoghq.com`), `DD_SERVICE`, `DD_SOURCE`, `DD_ENV`,
    /// `DD_VERSION`, `HOSTNAME`; `DD_BASE_URL` replaces the intake host (an agent or a test
    /// receiver).
    ///
    /// # Errors
    /// `DD_API_KEY` is not set.
    pub fn from_env(environment: &Environment) -> Result<Self, String> {
        let api_key = environment
            .get("DD_API_KEY")
            .ok_or("datadog: DD_API_KEY is not set")?;
        let base = match environment.get("DD_BASE_URL") {
            Some(base) => base.trim_end_matches('/').to_owned(),
            None => {
                let site = environment
                    .get("DD_SITE")
                    .unwrap_or_else(|| "datadoghq.com".to_owned());
                format!("https://http-intake.logs.{}", site.trim())
            }
        };
        let service = environment
            .get("DD_SERVICE")
            .unwrap_or_else(|| "litellm-server".to_owned());
        let hostname = environment.get("HOSTNAME").unwrap_or_default();
        let env = environment
            .get("DD_ENV")
            .unwrap_or_else(|| "unknown".to_owned());
        let version = environment
            .get("DD_VERSION")
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(Self {
            url: format!("{base}/api/v2/logs"),
            api_key,
            tags: format!("env:{env},service:{service},version:{version},HOSTNAME:{hostname}"),
            source: environment
                .get("DD_SOURCE")
                .unwrap_or_else(|| "litellm".to_owned()),
            service,
            hostname,
        })
    }
}

pub struct Datadog {
    client: reqwest::Client,
    settings: DatadogSettings,
}

impl Datadog {
    /// # Errors
    /// No HTTP client.
    pub fn new(settings: DatadogSettings) -> Result<Self, String> {
        Ok(Self {
            client: crate::http::client()?,
            settings,
        })
    }

    /// One intake item.
    #[must_use]
    pub fn item(&self, event: &Event) -> Value {
        let message = serde_json::to_string(&*event.payload).unwrap_or_default();
        json!({
            "ddsource": self.settings.source,
            "ddtags": self.settings.tags,
            "hostname": self.settings.hostname,
            "message": message,
            "service": self.settings.service,
            "status": if event.is_success() { "info" } else { "error" },
        })
    }
}

impl Sink for Datadog {
    type Item = Arc<Event>;

    fn name(&self) -> &'static str {
        "datadog"
    }

    fn deliver<'a>(&'a self, batch: &'a [Arc<Event>]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let items: Vec<Value> = batch.iter().map(|e| self.item(e)).collect();
            crate::http::send(
                self.client
                    .post(&self.settings.url)
                    .header("DD-API-KEY", &self.settings.api_key)
                    .json(&items),
            )
            .await
            .map(|_| ())
        })
    }
}
