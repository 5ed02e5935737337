//! A call through the Router: the requested group, then its fallbacks; within a group,
//! retries on the same or another deployment; every attempt told to the pipeline's
//! per-attempt layers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use llmrelay_core::{Error, ErrorKind, Result};
use llmrelay_limits::{Metric, Permit};
use llmrelay_pipeline::{AttemptInfo, Attempts, Call, Dispatch, Dispatched, Route};
use llmrelay_providers::engine::{
    Attempt, ChatOutcome, Engine, HiddenParams, Outcome, TextOutcome,
};
use llmrelay_providers::http;
use llmrelay_providers::options::CallOptions;

use crate::booking::{InFlight, should_retry};
use crate::config::{DEFAULT_MAX_FALLBACKS, DEFAULT_NUM_RETRIES, FallbackList};
use crate::deployment::{Deployment, now_ms};
use crate::request::RequestOptions;
use crate::router::Router;

/// Where an attempt stands in its call.
#[derive(Debug, Clone, Copy)]
struct Position {
    index: u32,
    retry: u32,
    fallback: u32,
}

/// Why an attempt failed: upstream (it counts against the deployment) or refused by a
/// per-attempt layer (it does not).
enum Failed {
    Upstream(Error),
    Refused(Error),
}

impl Dispatch for Router {
    fn dispatch<'a>(
        &'a self,
        call: &'a Call,
        attempts: Attempts<'a>,
    ) -> BoxFuture<'a, Result<Dispatched>> {
        Box::pin(self.dispatch_call(call, attempts))
    }
}

/// A fallback's failure as the Router's note quotes it: at most this many characters
/// (LiteLLM bounds it the same way, so nested fallbacks cannot grow a message without end).
const FALLBACK_DETAIL_MAX_CHARS: usize = 2_000;

fn truncate_detail(text: String) -> String {
    let chars = text.chars().count();
    if chars <= FALLBACK_DETAIL_MAX_CHARS {
        return text;
    }
    let kept: String = text.chars().take(FALLBACK_DETAIL_MAX_CHARS).collect();
    format!(
        "{kept}... [truncated {} characters]",
        chars - FALLBACK_DETAIL_MAX_CHARS
    )
}

/// LiteLLM's `mock_testing_*fallbacks`: the requested group fails at once, so its fallbacks
/// run (no upstream call, no retries).
fn mock_fallback_error(options: &RequestOptions, group: &str) -> Option<Error> {
    let list = |fallbacks: &Option<FallbackList>| {
        fallbacks
            .as_ref()
            .map_or_else(|| "None".to_owned(), |f| format!("{f:?}"))
    };
    let (kind, name, fallbacks) = if options.mock_fallbacks {
        (
            ErrorKind::InternalServer,
            "Fallbacks",
            list(&options.fallbacks),
        )
    } else if options.mock_context_fallbacks {
        (
            ErrorKind::ContextWindowExceeded,
            "Context_Window_Fallbacks",
            list(&options.context_window_fallbacks),
        )
    } else if options.mock_content_policy_fallbacks {
        (
            ErrorKind::ContentPolicyViolation,
            "Content_Policy_Fallbacks",
            list(&options.content_policy_fallbacks),
        )
    } else {
        return None;
    };
    Some(
        Error::new(
            kind,
            format!("This is a mock exception for model={group}, to trigger a fallback. {name}={fallbacks}"),
        )
        .with_model(group),
    )
}

/// Books an answered attempt's real tokens on the deployment's tpm window (`None` when the
/// provider reported no usage: the reservation's estimate stands).
fn settle(permit: Option<Permit>, tokens: Option<(u64, u64)>) {
    if let Some(permit) = permit {
        permit.settle(tokens.map(|(total, _)| total));
    }
}

/// The deployment's rpm/tpm limits and what is left of them after this call (counted across
/// instances when the Router shares state), as OpenAI's rate-limit headers.
fn rate_limit_headers(permit: Option<&Permit>, hidden: &mut HiddenParams) {
    let Some(permit) = permit else { return };
    for status in &permit.statuses {
        let (limit, remaining) = match status.metric {
            Metric::Requests => (
                "x-ratelimit-limit-requests",
                "x-ratelimit-remaining-requests",
            ),
            Metric::Tokens => ("x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens"),
            Metric::Parallel => continue,
        };
        hidden
            .headers
            .push((limit.to_owned(), status.limit.to_string()));
        hidden
            .headers
            .push((remaining.to_owned(), status.remaining().to_string()));
    }
}

impl Router {
    async fn dispatch_call(&self, call: &Call, attempts: Attempts<'_>) -> Result<Dispatched> {
        let prefix = self
            .inner
            .config
            .tag_routing_prefix
            .as_deref()
            .unwrap_or("");
        let options = RequestOptions::of(call, prefix)?;
        let requested = options.model.clone();
        let mut count = 0;
        let first = self
            .call_group(call, attempts, &requested, &options, 0, &mut count)
            .await;
        let error = match first {
            Ok(dispatched) => return Ok(dispatched),
            Err(error) => error,
        };
        let mut error = error;
        let notes = self.inner.config.expose_router_debug_in_errors != Some(false);
        let fallbacks = self.fallbacks_for(&requested, &error, &options);
        if fallbacks.is_empty() {
            if notes {
                error.append_message(&self.no_fallback_note(&requested, &options));
            }
            return Err(error);
        }
        let max = self
            .inner
            .config
            .max_fallbacks
            .unwrap_or(DEFAULT_MAX_FALLBACKS) as usize;
        let mut last = None;
        for (hop, group) in fallbacks.iter().take(max).enumerate() {
            tracing::debug!(from = %requested, to = %group, "router: falling back");
            let hop = u32::try_from(hop + 1).unwrap_or(u32::MAX);
            match self
                .call_group(call, attempts, group, &options, hop, &mut count)
                .await
            {
                Ok(dispatched) => return Ok(dispatched),
                Err(failed) => last = Some(failed),
            }
        }
        // As LiteLLM's Router: the requested group's error is raised, saying what the
        // fallbacks did (with `expose_router_debug_in_errors`, LiteLLM's default).
        if !notes {
            return Err(error);
        }
        let detail = last.map_or_else(String::new, |failed| {
            let text = format!(
                "litellm.{}: {}",
                failed.kind().litellm_class(),
                failed.message()
            );
            truncate_detail(text)
        });
        error.append_message(&format!(
            "\n\nLiteLLM: model group '{requested}' failed with the error above. Fallback to {} also failed: {detail}",
            fallbacks.join(", ")
        ));
        Err(error)
    }

    /// LiteLLM's note on a failure no fallback was tried for: none configured, or none for
    /// this group.
    fn no_fallback_note(&self, group: &str, options: &RequestOptions) -> String {
        let configured: Vec<&str> = options
            .fallbacks
            .as_ref()
            .filter(|list| !list.is_empty())
            .unwrap_or(&self.inner.config.fallbacks)
            .iter()
            .flat_map(|entry| entry.keys().map(String::as_str))
            .fold(Vec::new(), |mut keys, key| {
                if !keys.contains(&key) {
                    keys.push(key);
                }
                keys
            });
        if configured.is_empty() {
            return format!(
                "\n\nLiteLLM: model group '{group}' failed with the error above. No fallback was attempted."
            );
        }
        format!(
            "\n\nLiteLLM: model group '{group}' failed with the error above and no fallback model group was found for it, so the request was not retried on another model. Fallbacks are configured for: {}. Add a fallbacks entry for that model group (Router fallbacks or proxy router_settings.fallbacks) to retry on another model.",
            configured.join(", ")
        )
    }

    /// Calls one model group with retries (another deployment of the group when there is
    /// one).
    async fn call_group(
        &self,
        call: &Call,
        attempts: Attempts<'_>,
        requested: &str,
        options: &RequestOptions,
        fallback: u32,
        count: &mut u32,
    ) -> Result<Dispatched> {
        if fallback == 0 {
            if let Some(error) = mock_fallback_error(options, requested) {
                return Err(error);
            }
        }
        let group = self.group_for(requested);
        let mut tried: Vec<String> = Vec::new();
        let mut retry: u32 = 0;
        loop {
            let (deployment, permit) = self
                .pick(&call.request, requested, &group, &tried, options)
                .await?;
            if !tried.contains(&deployment.id) {
                tried.push(deployment.id.clone());
            }
            let position = Position {
                index: *count,
                retry,
                fallback,
            };
            *count += 1;
            let result = self
                .attempt(
                    call,
                    attempts,
                    &deployment,
                    permit,
                    requested,
                    &group,
                    position,
                )
                .await;
            let error = match result {
                Ok(mut outcome) => {
                    outcome.hidden_mut().num_retries = retry;
                    return Ok(Dispatched {
                        outcome,
                        route: Route {
                            model_group: group,
                            deployment_id: Some(deployment.id.clone()),
                            retries: retry,
                            fallbacks: fallback,
                            attempts: *count,
                        },
                    });
                }
                Err(Failed::Upstream(error)) => {
                    let group_size = self.registry().resolve(&group).map_or(1, <[_]>::len);
                    self.record_failure(&deployment, &error, group_size).await;
                    error
                }
                Err(Failed::Refused(error)) => error,
            };
            let allowed = self.retries_for(&group, &error, options);
            if retry >= allowed {
                let mut error = error;
                error.set_num_retries(retry);
                return Err(error);
            }
            let registry = self.registry();
            let now = now_ms();
            // Another deployment the request's tags allow (others do not count).
            let has_alternative = registry.resolve(&group).is_some_and(|list| {
                crate::tags::allowed(list, &options.tags, self.tag_policy(), requested).is_ok_and(
                    |allowed| {
                        allowed.iter().any(|d| {
                            !tried.contains(&d.id) && d.state.cooldown_until(now).is_none()
                        })
                    },
                )
            });
            let wait = self.retry_wait(&error, retry, has_alternative);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            retry += 1;
        }
    }

    /// The options of one attempt on `deployment`: the Router's `default_litellm_params` <
    /// the deployment's < the caller's; the Router owns retries, so the engine makes none.
    pub(crate) fn attempt_options(
        &self,
        deployment: &Deployment,
        options: &CallOptions,
        stream: bool,
    ) -> CallOptions {
        let config = &self.inner.config;
        let mut merged = options.over(&deployment.options);
        merged.num_retries = 0;
        merged.model_id = Some(deployment.id.clone());
        if merged.timeouts.total.is_none() && merged.timeouts.read.is_none() {
            if let Some(timeout) = config.timeout.filter(|t| t.is_finite() && *t > 0.0) {
                merged.timeouts.total = Some(Duration::from_secs_f64(timeout));
            }
        }
        if stream && merged.stream_timeout.is_none() {
            if let Some(timeout) = config.stream_timeout.filter(|t| t.is_finite() && *t > 0.0) {
                merged.stream_timeout = Some(Duration::from_secs_f64(timeout));
            }
        }
        merged
    }

    /// One attempt on one deployment: the per-attempt layers around the engine, then the
    /// deployment's books (tokens, latency, in-flight count, the limiter's reservation settled
    /// to the real tokens; for a stream when it ends).
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        call: &Call,
        attempts: Attempts<'_>,
        deployment: &Arc<Deployment>,
        permit: Option<Permit>,
        requested: &str,
        group: &str,
        position: Position,
    ) -> std::result::Result<Outcome, Failed> {
        let model = deployment.upstream_model(requested);
        let options = self.attempt_options(deployment, &call.options, call.request.stream());
        let info = AttemptInfo {
            index: position.index,
            retry: position.retry,
            fallback: position.fallback,
            model_group: group,
            deployment_id: Some(&deployment.id),
            model: &model,
        };
        if !attempts.is_empty() {
            if let Err(error) = attempts.before(&info).await {
                // Never sent: the deployment's windows get the reservation back.
                if let Some(permit) = permit {
                    permit.rollback();
                }
                return Err(Failed::Refused(error));
            }
        }
        let engine_attempt = Attempt {
            request: &call.request,
            model: &model,
            options: &options,
            images: &call.images,
            body_defaults: Some(&deployment.body_defaults),
        };
        let started = Instant::now();
        let in_flight = InFlight::new(Arc::clone(deployment));
        let result = Engine.attempt(&engine_attempt).await;
        if !attempts.is_empty() {
            attempts.after(&info, result.as_ref());
        }
        let mut outcome = match result {
            Ok(outcome) => outcome,
            Err(error) => {
                // The request counts against rpm; a failed call used no tokens (LiteLLM books
                // tpm on success only).
                if let Some(permit) = permit {
                    permit.settle(Some(0));
                }
                return Err(Failed::Upstream(error));
            }
        };
        let elapsed = started.elapsed().as_secs_f64();
        let now = now_ms();
        let _ = deployment.state.record_outcome(true, now);
        rate_limit_headers(permit.as_ref(), outcome.hidden_mut());
        let usage = |u: &llmrelay_core::types::Usage| (u.total_tokens, u.completion_tokens);
        match &mut outcome {
            Outcome::Chat(ChatOutcome::Stream(stream)) => {
                // The engine returns a stream once its first chunk arrived: this is the time
                // to first token. Tokens and the in-flight count settle when it ends.
                let router = self.clone();
                let deployment = Arc::clone(deployment);
                let in_flight = in_flight.keep();
                stream.stream.on_finish(move |summary| {
                    let total = started.elapsed().as_secs_f64();
                    let tokens = summary.usage.as_ref().map(usage);
                    router.book(&deployment, total, Some(elapsed), tokens);
                    settle(permit, tokens);
                    drop(in_flight);
                });
            }
            Outcome::Text(TextOutcome::Stream(stream)) => {
                let router = self.clone();
                let deployment = Arc::clone(deployment);
                let in_flight = in_flight.keep();
                stream.stream.on_finish(move |summary| {
                    let total = started.elapsed().as_secs_f64();
                    let tokens = summary.usage.as_ref().map(usage);
                    router.book(&deployment, total, Some(elapsed), tokens);
                    settle(permit, tokens);
                    drop(in_flight);
                });
            }
            Outcome::Embedding(result) => {
                let tokens = result.response.usage.as_ref().map(|u| (u.total_tokens, 0));
                self.book(deployment, elapsed, None, tokens);
                settle(permit, tokens);
            }
            other => {
                let tokens = other.usage().map(usage);
                self.book(deployment, elapsed, None, tokens);
                settle(permit, tokens);
            }
        }
        Ok(outcome)
    }

    /// The fallback groups for a failure of `group`: the context-window or content-policy
    /// list for those errors when one is configured for the group, else the generic one (the
    /// request's, else the router's, else `"*"` / `default_fallbacks`).
    pub(crate) fn fallbacks_for(
        &self,
        group: &str,
        error: &Error,
        options: &RequestOptions,
    ) -> Vec<String> {
        let config = &self.inner.config;
        let lookup = |list: &FallbackList| -> Option<Vec<String>> {
            list.iter()
                .find_map(|entry| entry.get(group).cloned())
                .or_else(|| list.iter().find_map(|entry| entry.get("*").cloned()))
        };
        let specific = match error.kind() {
            ErrorKind::ContextWindowExceeded => options
                .context_window_fallbacks
                .as_ref()
                .and_then(&lookup)
                .or_else(|| lookup(&config.context_window_fallbacks)),
            ErrorKind::ContentPolicyViolation => options
                .content_policy_fallbacks
                .as_ref()
                .and_then(&lookup)
                .or_else(|| lookup(&config.content_policy_fallbacks)),
            _ => None,
        };
        if let Some(list) = specific {
            return list;
        }
        if let Some(list) = options.fallbacks.as_ref().and_then(&lookup) {
            return list;
        }
        if let Some(list) = lookup(&config.fallbacks) {
            return list;
        }
        config.default_fallbacks.clone()
    }

    /// Retries allowed for an error: the retry policy's count for its class when set, else
    /// `num_retries` for retryable errors, else none.
    pub(crate) fn retries_for(&self, group: &str, error: &Error, options: &RequestOptions) -> u32 {
        let config = &self.inner.config;
        let policy = config
            .model_group_retry_policy
            .get(group)
            .and_then(|p| p.for_kind(error.kind()))
            .or_else(|| {
                config
                    .retry_policy
                    .as_ref()
                    .and_then(|p| p.for_kind(error.kind()))
            });
        if let Some(count) = policy {
            return count;
        }
        if should_retry(error) {
            options
                .num_retries
                .or(config.num_retries)
                .unwrap_or(DEFAULT_NUM_RETRIES)
        } else {
            0
        }
    }

    /// LiteLLM retries at once when another healthy deployment can take the request; else it
    /// backs off exponentially, honouring the upstream's Retry-After, never below
    /// `retry_after`.
    fn retry_wait(&self, error: &Error, attempt: u32, has_alternative: bool) -> Duration {
        let minimum = Duration::from_secs_f64(self.inner.config.retry_after);
        if has_alternative {
            return minimum;
        }
        http::backoff(attempt, error.retry_after()).max(minimum)
    }
}
