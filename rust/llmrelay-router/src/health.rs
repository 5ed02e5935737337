//! Health checks: a cheap probe per deployment (a one-token chat or a one-input embedding),
//! its status and latency kept on the deployment and reported in the proxy's `/health` shape.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::deployment::{HealthStatus, now_ms};
use llmrelay_core::CallKind;

use crate::router::Router;

/// Probes running at once.
const CONCURRENCY: usize = 16;

/// One deployment's result: its public `litellm_params` (no secrets) plus `model_id`, and for
/// failures `error`, as LiteLLM's proxy reports them.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointHealth {
    #[serde(flatten)]
    pub params: Map<String, Value>,
    pub model_id: String,
    pub model_name: String,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `/health` report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HealthReport {
    pub healthy_endpoints: Vec<EndpointHealth>,
    pub unhealthy_endpoints: Vec<EndpointHealth>,
    pub healthy_count: usize,
    pub unhealthy_count: usize,
}

impl Router {
    /// Probe every deployment (or those of `model`, aliases resolved) and record the results.
    /// Wildcard deployments are skipped: there is no concrete model to probe.
    pub async fn health_check(&self, model: Option<&str>) -> HealthReport {
        let deployments = match model {
            Some(name) => {
                let group = self
                    .config()
                    .model_group_alias
                    .get(name)
                    .map_or(name, |t| t.group())
                    .to_owned();
                self.deployments()
                    .into_iter()
                    .filter(|d| d.model_name == group)
                    .collect::<Vec<_>>()
            }
            None => self.deployments(),
        };
        let timeout = Duration::from_secs_f64(
            self.config()
                .health_check_timeout
                .unwrap_or(30.0)
                .max(0.001),
        );
        let probes = deployments
            .into_iter()
            .filter(|d| !d.is_wildcard())
            .map(|deployment| {
                let router = self.clone();
                async move {
                    let embedding = deployment.mode.as_deref() == Some("embedding");
                    let (kind, params) = if embedding {
                        (CallKind::Embedding, json!({"input": "ping"}))
                    } else {
                        (
                            CallKind::Chat,
                            json!({"messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}),
                        )
                    };
                    let Value::Object(mut params) = params else {
                        return (deployment, Err("internal: probe params".to_owned()), 0.0);
                    };
                    params.insert("timeout".to_owned(), Value::from(timeout.as_secs_f64()));
                    let started = Instant::now();
                    let result = match tokio::time::timeout(timeout, router.probe(&deployment, kind, params)).await {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(error)) => Err(error.to_string()),
                        Err(_) => Err(format!("health check timed out after {:.1}s", timeout.as_secs_f64())),
                    };
                    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
                    (deployment, result, latency_ms)
                }
            });
        let results: Vec<_> = futures::stream::iter(probes)
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut report = HealthReport::default();
        for (deployment, result, latency_ms) in results {
            let error = result.err();
            deployment.state.set_health(HealthStatus {
                healthy: error.is_none(),
                latency_ms,
                error: error.clone(),
                checked_at_ms: now_ms(),
            });
            let endpoint = EndpointHealth {
                params: deployment.public_params(),
                model_id: deployment.id.clone(),
                model_name: deployment.model_name.clone(),
                latency_ms,
                error: error.clone(),
            };
            if error.is_none() {
                report.healthy_endpoints.push(endpoint);
            } else {
                report.unhealthy_endpoints.push(endpoint);
            }
        }
        report.healthy_count = report.healthy_endpoints.len();
        report.unhealthy_count = report.unhealthy_endpoints.len();
        report
    }
}
