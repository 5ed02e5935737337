//! Sentry, for failures: each failed call is an error event sent as an envelope to
//! `{dsn scheme}://{dsn host}/api/{project}/envelope/` with `X-Sentry-Auth` naming the DSN's
//! public key. An envelope is a header line (`event_id`, `dsn`, `sent_at`), an item header line
//! (`type: event`) and the event (`event_id`, `timestamp`, `platform`, `level`, `logger`,
//! `exception.values[{type, value}]`, `tags`, `extra`). Wire format: Sentry's envelope and
//! event payload docs (<https://develop.sentry.dev/sdk/data-model/envelopes/>,
//! <https://develop.sentry.dev/sdk/data-model/event-payloads/>). Settings: `SENTRY_DSN`,
//! `SENTRY_ENVIRONMENT`.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use llmrelay_pipeline::delivery::Sink;

use crate::Event;
use crate::settings::Environment;

#[derive(Debug, Clone)]
pub struct SentrySettings {
    pub dsn: String,
    /// `…/api/{project}/envelope/`.
    pub envelope_url: String,
    pub public_key: String,
    pub environment: Option<String>,
}

impl SentrySettings {
    /// # Errors
    /// `SENTRY_DSN` is not set or not a DSN (`scheme://key@host[/path]/project`).
    pub fn from_env(environment: &Environment) -> Result<Self, String> {
        let dsn = environment
            .get("SENTRY_DSN")
            .ok_or("sentry: SENTRY_DSN is not set")?;
        let invalid =
            || format!("sentry: SENTRY_DSN {dsn:?} is not a DSN (scheme://key@host/project)");
        let (scheme, rest) = dsn.split_once("://").ok_or_else(invalid)?;
        let (key, location) = rest.split_once('@').ok_or_else(invalid)?;
        let public_key = key.split(':').next().unwrap_or_default().to_owned();
        let (host_and_path, project) = location
            .trim_end_matches('/')
            .rsplit_once('/')
            .ok_or_else(invalid)?;
        if public_key.is_empty() || project.is_empty() || host_and_path.is_empty() {
            return Err(invalid());
        }
        Ok(Self {
            envelope_url: format!("{scheme}://{host_and_path}/api/{project}/envelope/"),
            public_key,
            environment: environment.get("SENTRY_ENVIRONMENT"),
            dsn,
        })
    }
}

pub struct Sentry {
    client: reqwest::Client,
    settings: SentrySettings,
    auth: String,
}

impl Sentry {
    /// # Errors
    /// No HTTP client.
    pub fn new(settings: SentrySettings) -> Result<Self, String> {
        let auth = format!(
            "Sentry sentry_version=7, sentry_key={}, sentry_client=llmrelay/{}",
            settings.public_key,
            env!("CARGO_PKG_VERSION")
        );
        Ok(Self {
            client: crate::http::client()?,
            settings,
            auth,
        })
    }

    /// The envelope of one failed call.
    #[must_use]
    pub fn envelope(&self, event: &Event) -> String {
        let payload = &event.payload;
        // The call's id: a retried delivery repeats the same event, which Sentry keeps once.
        let event_id = uuid::Uuid::parse_str(&payload.id)
            .unwrap_or_else(|_| uuid::Uuid::new_v4())
            .simple()
            .to_string();
        let (kind, value) = payload.error_information.as_ref().map_or_else(
            || {
                (
                    "Exception".to_owned(),
                    payload.error_str.clone().unwrap_or_default(),
                )
            },
            |e| (e.error_class.clone(), e.error_message.clone()),
        );
        let mut tags = serde_json::Map::new();
        tags.insert("model".to_owned(), Value::String(payload.model.clone()));
        tags.insert(
            "call_type".to_owned(),
            Value::String(payload.call_type.to_owned()),
        );
        tags.insert(
            "status_code".to_owned(),
            Value::String(event.status_code().to_string()),
        );
        if let Some(group) = &payload.model_group {
            tags.insert("model_group".to_owned(), Value::String(group.clone()));
        }
        if let Some(provider) = &payload.custom_llm_provider {
            tags.insert(
                "custom_llm_provider".to_owned(),
                Value::String(provider.clone()),
            );
        }
        let body = json!({
            "event_id": event_id,
            "timestamp": super::iso8601(payload.end_time),
            "platform": "other",
            "level": "error",
            "logger": "litellm",
            "environment": self.settings.environment,
            "exception": {"values": [{"type": kind, "value": value}]},
            "tags": tags,
            "extra": {
                "litellm_call_id": payload.litellm_call_id,
                "api_base": payload.api_base,
                "model_id": payload.model_id,
            },
        });
        let header = json!({
            "event_id": event_id,
            "dsn": self.settings.dsn,
            "sent_at": super::iso8601(payload.end_time),
        });
        let item = json!({"type": "event", "content_type": "application/json"});
        format!("{header}\n{item}\n{body}\n")
    }
}

impl Sink for Sentry {
    type Item = Arc<Event>;

    fn name(&self) -> &'static str {
        "sentry"
    }

    fn deliver<'a>(&'a self, batch: &'a [Arc<Event>]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            // One event per envelope.
            for event in batch.iter().filter(|e| !e.is_success()) {
                crate::http::send(
                    self.client
                        .post(&self.settings.envelope_url)
                        .header("x-sentry-auth", &self.auth)
                        .header("content-type", "application/x-sentry-envelope")
                        .body(self.envelope(event)),
                )
                .await?;
            }
            Ok(())
        })
    }
}
