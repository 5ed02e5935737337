//! What the Router keeps about each deployment after an attempt: tokens and latency on
//! success, failures and cooldowns (LiteLLM's rules), requests in flight.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use llmrelay_core::{Error, ErrorKind};

use crate::config::RoutingStrategy;
use crate::deployment::{Deployment, LatencySample, minute_of, now_ms};
use crate::router::Router;
use crate::shared::SharedWrite;

impl Router {
    /// Record a success: tokens for tpm and a latency sample (seconds per output token when
    /// known, as LiteLLM's lowest-latency strategy ranks them).
    pub(crate) fn book(
        &self,
        deployment: &Deployment,
        seconds: f64,
        ttft: Option<f64>,
        usage: Option<(u64, u64)>,
    ) {
        let now = now_ms();
        let (total_tokens, completion_tokens) = usage.unwrap_or((0, 0));
        if total_tokens > 0 {
            deployment.state.add_tokens(total_tokens, now);
        }
        let latency = if completion_tokens > 0 {
            seconds / completion_tokens as f64
        } else {
            seconds
        };
        let args = &self.inner.config.routing_strategy_args;
        let ttl_ms = (args.ttl * 1000.0) as u64;
        let sample = LatencySample {
            at_ms: now,
            latency,
            ttft,
        };
        deployment
            .state
            .add_latency(sample, args.max_latency_list_size, ttl_ms);
        if let Some(shared) = &self.inner.shared {
            if total_tokens > 0 {
                shared.push(SharedWrite::Tokens {
                    id: deployment.id.clone(),
                    minute: minute_of(now),
                    tokens: total_tokens,
                });
            }
            if self.inner.config.routing_strategy == RoutingStrategy::LatencyBased {
                shared.push(SharedWrite::Latency {
                    id: deployment.id.clone(),
                    sample,
                    max: args.max_latency_list_size,
                    ttl_ms,
                });
            }
        }
    }

    /// A failed call: count it and cool the deployment down when LiteLLM's rules say so.
    pub(crate) async fn record_failure(
        &self,
        deployment: &Deployment,
        error: &Error,
        group_size: usize,
    ) {
        let now = now_ms();
        let (successes, failures) = deployment.state.record_outcome(false, now);
        let Some(duration) = self
            .cooldown_for(deployment, error, group_size, successes, failures)
            .await
        else {
            return;
        };
        let until = now + u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 4);
        tracing::info!(id = %deployment.id, model = %deployment.model, seconds = duration.as_secs_f64(),
            error = %error, "router: deployment cooling down");
        deployment.state.cool_down_until(until);
        if let Some(listener) = self.inner.cooldown_listener.get() {
            listener(&crate::router::CooldownEvent {
                deployment,
                cooldown: duration,
                error,
            });
        }
        if let Some(shared) = &self.inner.shared {
            shared.push(SharedWrite::Cooldown {
                id: deployment.id.clone(),
                until_ms: until,
            });
        }
    }

    /// LiteLLM's cooldown decision (`router_utils/cooldown_handlers.py`).
    async fn cooldown_for(
        &self,
        deployment: &Deployment,
        error: &Error,
        group_size: usize,
        successes: u64,
        failures: u64,
    ) -> Option<Duration> {
        let config = &self.inner.config;
        if config.disable_cooldowns {
            return None;
        }
        let kind = error.kind();
        let status = error.status_code();
        let required = kind != ErrorKind::ApiConnection
            && match status {
                429 | 401 | 402 | 404 | 408 => true,
                400..=499 => false,
                _ => true,
            };
        let deployment_policy = deployment
            .allowed_fails_policy
            .as_ref()
            .and_then(|p| p.for_kind(kind));
        if !required && deployment_policy.is_none() {
            return None;
        }
        let duration = deployment
            .cooldown_time
            .unwrap_or_else(|| config.cooldown_time());
        if duration.is_zero() {
            return None;
        }
        let single = group_size <= 1;
        if deployment.allowed_fails_policy.is_some() || deployment.allowed_fails.is_some() {
            if deployment_policy.is_none() && deployment.allowed_fails.is_some() && single {
                return None;
            }
            let (allowed, suffix) = match deployment_policy {
                Some((allowed, suffix)) => (allowed, suffix),
                None => match deployment.allowed_fails {
                    Some(allowed) => (allowed, "generic"),
                    None => return None,
                },
            };
            let count = self.count_fail(deployment, suffix, duration).await;
            return (count > u64::from(allowed)).then_some(duration);
        }
        if config.allowed_fails_policy.is_none() && config.allowed_fails.is_none() {
            let total = successes + failures;
            let failure_rate = if total > 0 {
                failures as f64 / total as f64
            } else {
                0.0
            };
            let cool = (status == 429 && !single)
                || (failure_rate >= 1.0 && total >= 1000)
                || (failure_rate > 0.5 && total >= 5 && !single)
                || !should_retry_status(status);
            return cool.then_some(duration);
        }
        let from_policy = config
            .allowed_fails_policy
            .as_ref()
            .and_then(|p| p.for_kind(kind));
        let allowed = from_policy
            .map(|(n, _)| n)
            .or(config.allowed_fails)
            .unwrap_or(3);
        let count = self.count_fail(deployment, "", duration).await;
        (count > u64::from(allowed)).then_some(duration)
    }

    async fn count_fail(&self, deployment: &Deployment, suffix: &str, ttl: Duration) -> u64 {
        let now = now_ms();
        let local = deployment.state.increment_fails(suffix, ttl, now);
        if let Some(shared) = &self.inner.shared {
            if let Some(count) = shared.increment_fails(&deployment.id, suffix, ttl).await {
                return count;
            }
        }
        local
    }
}

/// LiteLLM's `_should_retry(status)`: 408, 409, 429 and 5xx.
fn should_retry_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

pub(crate) fn should_retry(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::ContextWindowExceeded | ErrorKind::ContentPolicyViolation => false,
        ErrorKind::Timeout | ErrorKind::ApiConnection => true,
        _ => should_retry_status(error.status_code()),
    }
}

/// Counts a request in flight on a deployment (least-busy) until dropped.
pub(crate) struct InFlight {
    deployment: Option<Arc<Deployment>>,
}

impl InFlight {
    pub(crate) fn new(deployment: Arc<Deployment>) -> Self {
        deployment.state.active.fetch_add(1, Ordering::Relaxed);
        Self {
            deployment: Some(deployment),
        }
    }

    /// Move the count into a longer-lived owner (a stream's finish hook).
    pub(crate) fn keep(mut self) -> Self {
        Self {
            deployment: self.deployment.take(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(deployment) = self.deployment.take() {
            deployment.state.active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
