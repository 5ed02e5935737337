//! LiteLLM's `generic_api` logger (a webhook): `POST {GENERIC_LOGGER_ENDPOINT}` with the
//! headers of `GENERIC_LOGGER_HEADERS` (`name=value,name=value`) and a JSON array of logging
//! payloads (the `json_array` log format, LiteLLM's default). Contract:
//! <https://docs.litellm.ai/docs/observability/generic_api>.

use std::sync::Arc;

use futures::future::BoxFuture;

use llmrelay_pipeline::delivery::Sink;

use crate::Event;
use crate::settings::Environment;

#[derive(Debug, Clone)]
pub struct GenericApiSettings {
    pub endpoint: String,
    pub headers: Vec<(String, String)>,
}

impl GenericApiSettings {
    /// # Errors
    /// `GENERIC_LOGGER_ENDPOINT` is not set.
    pub fn from_env(environment: &Environment) -> Result<Self, String> {
        let endpoint = environment
            .get("GENERIC_LOGGER_ENDPOINT")
            .ok_or("generic_api: GENERIC_LOGGER_ENDPOINT is not set")?;
        let headers = environment
            .get("GENERIC_LOGGER_HEADERS")
            .map(|h| super::header_list(&h))
            .unwrap_or_default();
        Ok(Self { endpoint, headers })
    }
}

pub struct GenericApi {
    client: reqwest::Client,
    settings: GenericApiSettings,
}

impl GenericApi {
    /// # Errors
    /// No HTTP client.
    pub fn new(settings: GenericApiSettings) -> Result<Self, String> {
        Ok(Self {
            client: crate::http::client()?,
            settings,
        })
    }
}

impl Sink for GenericApi {
    type Item = Arc<Event>;

    fn name(&self) -> &'static str {
        "generic_api"
    }

    fn deliver<'a>(&'a self, batch: &'a [Arc<Event>]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let payloads: Vec<&llmrelay_pipeline::StandardLoggingPayload> =
                batch.iter().map(|e| &*e.payload).collect();
            let mut request = self.client.post(&self.settings.endpoint).json(&payloads);
            for (name, value) in &self.settings.headers {
                request = request.header(name, value);
            }
            crate::http::send(request).await.map(|_| ())
        })
    }
}
