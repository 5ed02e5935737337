//! LangSmith, through its batch run ingestion: `POST {LANGSMITH_BASE_URL}/runs/batch` with the
//! `x-api-key` header and `{"post": [run, ...]}`, one root `llm` run per call with `id`,
//! `trace_id`, `dotted_order` (`{start %Y%m%dT%H%M%S%fZ}{id}`), `name`, `run_type`, `inputs`,
//! `outputs`, `start_time`, `end_time`, `session_name` (the project), `extra.metadata`,
//! `extra.invocation_params`, `error`, `tags`. Wire format: LangSmith's API reference
//! (<https://docs.langchain.com/langsmith/smith-api/run/create-runs-batch-proxy>) and its
//! tracing-with-the-API guide (<https://docs.langchain.com/langsmith/trace-with-api>).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};

use llmrelay_pipeline::delivery::Sink;

use crate::Event;
use crate::settings::Environment;

#[derive(Debug, Clone)]
pub struct LangsmithSettings {
    pub base_url: String,
    pub api_key: String,
    pub project: String,
}

impl LangsmithSettings {
    /// `LANGSMITH_API_KEY`, `LANGSMITH_PROJECT` (default `litellm-completion`),
    /// `LANGSMITH_BASE_URL` / `LANGSMITH_ENDPOINT` (default `https://api.smith.langchain.com`).
    ///
    /// # Errors
    /// `LANGSMITH_API_KEY` is not set.
    pub fn from_env(environment: &Environment) -> Result<Self, String> {
        let api_key = environment
            .get("LANGSMITH_API_KEY")
            .ok_or("langsmith: LANGSMITH_API_KEY is not set")?;
        Ok(Self {
            base_url: environment
                .first(&["LANGSMITH_BASE_URL", "LANGSMITH_ENDPOINT"])
                .unwrap_or_else(|| "https://api.smith.langchain.com".to_owned())
                .trim_end_matches('/')
                .to_owned(),
            api_key,
            project: environment
                .get("LANGSMITH_PROJECT")
                .unwrap_or_else(|| "litellm-completion".to_owned()),
        })
    }
}

pub struct Langsmith {
    client: reqwest::Client,
    settings: LangsmithSettings,
}

impl Langsmith {
    /// # Errors
    /// No HTTP client.
    pub fn new(settings: LangsmithSettings) -> Result<Self, String> {
        Ok(Self {
            client: crate::http::client()?,
            settings,
        })
    }

    /// The run of one call.
    #[must_use]
    pub fn run(&self, event: &Event) -> Value {
        let payload = &event.payload;
        let id = uuid::Uuid::parse_str(&payload.id)
            .map_or_else(|_| uuid::Uuid::new_v4().to_string(), |id| id.to_string());
        let start = DateTime::<Utc>::from_timestamp_micros((payload.start_time * 1e6) as i64)
            .unwrap_or_default();
        let dotted_order = format!("{}{id}", start.format("%Y%m%dT%H%M%S%6fZ"));
        let metadata: serde_json::Map<String, Value> = payload
            .metadata
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        json!({
            "id": id,
            "trace_id": id,
            "dotted_order": dotted_order,
            "name": format!("litellm-{}", payload.call_type),
            "run_type": "llm",
            "inputs": {"messages": payload.messages, "model": payload.model},
            "outputs": payload.response,
            "start_time": super::iso8601(payload.start_time),
            "end_time": super::iso8601(payload.end_time),
            "session_name": self.settings.project,
            "error": payload.error_str,
            "tags": payload.request_tags,
            "extra": {
                "metadata": metadata,
                "invocation_params": payload.model_parameters,
                "usage": {
                    "prompt_tokens": payload.prompt_tokens,
                    "completion_tokens": payload.completion_tokens,
                    "total_tokens": payload.total_tokens,
                },
                "response_cost": payload.response_cost,
            },
        })
    }
}

impl Sink for Langsmith {
    type Item = Arc<Event>;

    fn name(&self) -> &'static str {
        "langsmith"
    }

    fn deliver<'a>(&'a self, batch: &'a [Arc<Event>]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let runs: Vec<Value> = batch.iter().map(|e| self.run(e)).collect();
            crate::http::send(
                self.client
                    .post(format!("{}/runs/batch", self.settings.base_url))
                    .header("x-api-key", &self.settings.api_key)
                    .json(&json!({"post": runs, "patch": []})),
            )
            .await
            .map(|_| ())
        })
    }
}
