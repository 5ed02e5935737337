//! Choosing a deployment: the routing decision, waiting for a cooldown to end or in the
//! backpressure queue, and reserving the deployment's request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use llmrelay_core::types::ChatRequest;
use llmrelay_core::{Error, ErrorKind, Result, tokens};
use llmrelay_limits::{Denied, Metric, Permit, Status};
use llmrelay_providers::engine::Request;

use crate::deployment::{Deployment, minute_of, now_ms};
use crate::request::RequestOptions;
use crate::router::{DEFAULT_PRIORITY, Router};
use crate::shared::SharedWrite;
use crate::strategy::{self, Decision, NoDeployment, RequestShape};
use crate::tags::{self, TagPolicy, TagQuery};

impl Router {
    /// Pick a deployment for `model` without calling it (`get_available_deployment`).
    ///
    /// # Errors
    /// As a call would fail before reaching an upstream (unknown model, all cooling down …).
    pub fn get_available_deployment(
        &self,
        model: &str,
        params: serde_json::Map<String, Value>,
    ) -> Result<Value> {
        self.route_params(model, params)
            .map(|deployment| deployment.to_json())
    }

    /// One routing decision for a chat request on `model` (alias and wildcards resolved),
    /// without reserving capacity or calling: what the benchmark measures.
    ///
    /// # Errors
    /// Unknown model, every deployment cooling down or at its limit, context window.
    pub fn route(&self, model: &str, request: &Request) -> Result<Arc<Deployment>> {
        self.route_tagged(model, request, &TagQuery::default())
    }

    /// [`Router::route`] for a request with tags.
    pub(crate) fn route_tagged(
        &self,
        model: &str,
        request: &Request,
        tags: &TagQuery,
    ) -> Result<Arc<Deployment>> {
        let group = self.group_for(model);
        let registry = self.registry();
        let candidates = registry
            .resolve(&group)
            .ok_or_else(|| unknown_model(model))?;
        let allowed = tags::allowed(candidates, tags, self.tag_policy(), model)?;
        let candidates: &[Arc<Deployment>] = &allowed;
        let shape = self.shape(request, candidates);
        let decision = self.decision(now_ms());
        match strategy::choose(candidates, &[], shape, &decision, &mut rand::rng()) {
            Ok(deployment) => Ok(Arc::clone(deployment)),
            Err(reason) => Err(self.no_deployment_error(model, reason, candidates)),
        }
    }

    pub(crate) fn tag_policy(&self) -> TagPolicy {
        let config = &self.inner.config;
        TagPolicy {
            enabled: config.enable_tag_filtering,
            match_any: config.tag_filtering_match_any.unwrap_or(true),
        }
    }

    pub(crate) fn decision(&self, now: u64) -> Decision<'_> {
        let config = &self.inner.config;
        Decision {
            strategy: config.routing_strategy,
            args: &config.routing_strategy_args,
            pre_call_checks: config.enable_pre_call_checks,
            health_routing: config.enable_health_check_routing,
            now_ms: now,
        }
    }

    /// Input tokens are counted only when something needs them (a tpm limit or pre-call checks).
    pub(crate) fn shape(&self, request: &Request, candidates: &[Arc<Deployment>]) -> RequestShape {
        let stream = request.stream();
        let needed =
            self.inner.config.enable_pre_call_checks || candidates.iter().any(|d| d.tpm.is_some());
        if !needed {
            return RequestShape {
                stream,
                input_tokens: 0,
            };
        }
        let model = candidates.first().map_or("gpt-4o", |d| d.model.as_str());
        let input_tokens = match request {
            Request::Chat(chat) => chat_tokens(model, chat),
            Request::Responses(call) => chat_tokens(model, &call.chat),
            Request::Text(text) => text_tokens(model, Some(&text.prompt)),
            Request::Embedding(embedding) => text_tokens(model, Some(&embedding.input)),
            Request::Operation { body, .. } => {
                text_tokens(model, body.get("input").or_else(|| body.get("prompt")))
            }
            // Never routed (the proxy forwards it); counted like an operation if it were.
            Request::PassThrough(pass) => text_tokens(
                model,
                pass.body
                    .as_ref()
                    .and_then(|body| body.get("messages").or_else(|| body.get("input"))),
            ),
        };
        RequestShape {
            stream,
            input_tokens: input_tokens as u64,
        }
    }

    pub(crate) fn no_deployment_error(
        &self,
        model: &str,
        reason: NoDeployment,
        candidates: &[Arc<Deployment>],
    ) -> Error {
        let now = now_ms();
        match reason {
            NoDeployment::Empty => unknown_model(model),
            NoDeployment::AllCoolingDown { earliest_ms, ids } => {
                let wait = earliest_ms.saturating_sub(now) as f64 / 1000.0;
                let cooldown = self.inner.config.cooldown_time().as_secs_f64();
                Error::new(
                    ErrorKind::RateLimit,
                    format!(
                        "No deployments available for selected model, Try again in {cooldown} seconds. \
                         All deployments are in cooldown. Passed model={model}. pre-call-checks={}, cooldown_list={ids:?}",
                        python_bool(self.inner.config.enable_pre_call_checks),
                    ),
                )
                .with_model(model)
                .with_retry_after(Some(wait.max(0.001)))
                .with_headers(vec![("retry-after".to_owned(), format!("{}", wait.ceil().max(1.0)))])
            }
            NoDeployment::ContextWindow { input_tokens, largest } => Error::new(
                ErrorKind::ContextWindowExceeded,
                format!(
                    "No deployment of model={model} has a context window large enough for this request: \
                     {input_tokens} input tokens, the largest allows {}",
                    largest.map_or_else(|| "unknown".to_owned(), |n| n.to_string())
                ),
            )
            .with_model(model),
            NoDeployment::AtLimit => {
                // When the first deployment has room: the limiter's word for a full window,
                // else the next minute (this minute's usage, as LiteLLM counts it).
                let next_minute = (minute_of(now) + 1) * 60_000;
                let free_at = candidates
                    .iter()
                    .map(|d| d.state.limited_until(now).unwrap_or(next_minute))
                    .min()
                    .unwrap_or(next_minute);
                let wait = free_at.saturating_sub(now) as f64 / 1000.0;
                let limits: Vec<String> = candidates
                    .iter()
                    .map(|d| {
                        let usage = d.state.usage(now);
                        format!(
                            "{}: rpm {}/{}, tpm {}/{}",
                            d.id,
                            usage.rpm,
                            d.rpm.map_or_else(|| "-".to_owned(), |v| v.to_string()),
                            usage.tpm,
                            d.tpm.map_or_else(|| "-".to_owned(), |v| v.to_string())
                        )
                    })
                    .collect();
                Error::new(
                    ErrorKind::RateLimit,
                    format!(
                        "No deployments available for selected model, Try again in {wait:.1} seconds. \
                         Every deployment is at its rpm/tpm limit. Passed model={model}. Deployments={limits:?}"
                    ),
                )
                .with_model(model)
                .with_retry_after(Some(wait.ceil().max(1.0)))
                .with_headers(vec![("retry-after".to_owned(), format!("{}", wait.ceil().max(1.0)))])
            }
        }
    }

    /// Choose a deployment and reserve its request, waiting for a cooldown to end (bounded)
    /// or, when every deployment is at its rpm/tpm limit, in the priority queue.
    pub(crate) async fn pick(
        &self,
        request: &Request,
        requested: &str,
        group: &str,
        tried: &[String],
        options: &RequestOptions,
    ) -> Result<(Arc<Deployment>, Option<Permit>)> {
        let config = &self.inner.config;
        let started = Instant::now();
        let cooldown_bound = Duration::from_secs_f64(
            config
                .max_cooldown_wait
                .unwrap_or_else(|| config.cooldown_time().as_secs_f64().min(10.0)),
        );
        let queue_bound = Duration::from_secs_f64(
            options
                .max_queue_wait
                .or(config.max_queue_wait)
                .unwrap_or(10.0)
                .max(0.0),
        );
        let mut ticket: Option<crate::queue::Ticket> = None;
        let mut shape: Option<RequestShape> = None;
        loop {
            let registry = self.registry();
            let candidates = registry
                .resolve(group)
                .ok_or_else(|| unknown_model(requested))?;
            // Tags first: cooldowns, limits and the strategy choose among what they allow.
            let allowed = tags::allowed(candidates, &options.tags, self.tag_policy(), requested)?;
            let candidates: &[Arc<Deployment>] = &allowed;
            let shape = *shape.get_or_insert_with(|| self.shape(request, candidates));
            let now = now_ms();
            let decision = self.decision(now);
            if ticket.as_ref().is_some_and(|t| !t.is_head()) {
                // Someone earlier or more urgent is first in line.
                if started.elapsed() >= queue_bound {
                    return Err(self.no_deployment_error(
                        requested,
                        NoDeployment::AtLimit,
                        candidates,
                    ));
                }
                self.inner.queue.changed(Duration::from_millis(50)).await;
                continue;
            }
            let chosen = strategy::choose(candidates, tried, shape, &decision, &mut rand::rng())
                .map(Arc::clone);
            match chosen {
                Ok(deployment) => match self.reserve(request, &deployment, now, shape).await {
                    Reserved::Refused => {
                        // Lost a race for the last room in a window: choose again.
                    }
                    reserved => return Ok((deployment, reserved.into_permit())),
                },
                Err(NoDeployment::AllCoolingDown { earliest_ms, ids }) => {
                    let wait = Duration::from_millis(earliest_ms.saturating_sub(now));
                    // A little slack: a cooldown as long as the bound itself, set a moment
                    // ago, still counts as within it.
                    if started.elapsed() + wait > cooldown_bound + Duration::from_millis(50) {
                        return Err(self.no_deployment_error(
                            requested,
                            NoDeployment::AllCoolingDown { earliest_ms, ids },
                            candidates,
                        ));
                    }
                    tracing::debug!(model = %requested, wait_ms = wait.as_millis() as u64,
                        "router: every deployment is cooling down; waiting for the first to return");
                    tokio::time::sleep(wait + Duration::from_millis(1)).await;
                }
                Err(NoDeployment::AtLimit) => {
                    if queue_bound.is_zero() || started.elapsed() >= queue_bound {
                        return Err(self.no_deployment_error(
                            requested,
                            NoDeployment::AtLimit,
                            candidates,
                        ));
                    }
                    if ticket.is_none() {
                        let priority = options
                            .priority
                            .or(config.default_priority)
                            .unwrap_or(DEFAULT_PRIORITY);
                        match self.inner.queue.join(group, priority) {
                            Some(joined) => ticket = Some(joined),
                            None => {
                                let mut error = self.no_deployment_error(
                                    requested,
                                    NoDeployment::AtLimit,
                                    candidates,
                                );
                                error = Error::new(
                                    ErrorKind::RateLimit,
                                    format!(
                                        "{} The router's request queue is full.",
                                        error.message()
                                    ),
                                )
                                .with_model(requested)
                                .with_retry_after(error.inner().retry_after)
                                .with_headers(error.inner().headers.clone());
                                return Err(error);
                            }
                        }
                        // Re-check at once as head of the line.
                        continue;
                    }
                    let left = queue_bound.saturating_sub(started.elapsed());
                    self.inner
                        .queue
                        .changed(left.min(Duration::from_millis(50)))
                        .await;
                }
                Err(reason) => return Err(self.no_deployment_error(requested, reason, candidates)),
            }
        }
    }

    /// Reserve one request (and its estimated tokens: input counted, output from
    /// `max_tokens` or [`DEFAULT_OUTPUT_ESTIMATE`]) on the deployment's rpm/tpm limits in the
    /// limiter: in Redis when the Router shares state (one script call checks and books
    /// both), else in this process. `Refused` when a window is full meanwhile: the deployment
    /// is skipped until the limiter says it has room again.
    pub(crate) async fn reserve(
        &self,
        request: &Request,
        deployment: &Deployment,
        now: u64,
        shape: RequestShape,
    ) -> Reserved {
        if deployment.limits.is_empty() {
            self.count_request(deployment, now);
            return Reserved::Free;
        }
        let limiter = &self.inner.limiter;
        let tokens = if deployment.tpm.is_some() {
            shape.input_tokens + output_estimate(request)
        } else {
            0
        };
        match limiter.acquire(&deployment.limits, tokens).await {
            Ok(permit) => {
                self.count_request(deployment, now);
                if limiter.is_shared() {
                    self.share_view(deployment, now, &permit.statuses);
                }
                Reserved::Held(permit)
            }
            Err(Denied::Limit(status)) => {
                if limiter.is_shared() {
                    self.share_view(deployment, now, std::slice::from_ref(&status));
                }
                deployment
                    .state
                    .set_limited_until(now + status.reset_ms.max(1));
                Reserved::Refused
            }
            Err(Denied::Unavailable { .. }) => {
                // Only with a fail-closed policy, which the Router does not set; retried a
                // second later like a full window.
                deployment.state.set_limited_until(now + 1000);
                Reserved::Refused
            }
        }
    }

    /// This instance's minute counters (usage-based routing, `deployment_stats`), shared
    /// through the next sync.
    fn count_request(&self, deployment: &Deployment, now: u64) {
        deployment.state.try_reserve_request(None, now);
        if let Some(shared) = &self.inner.shared {
            shared.push(SharedWrite::Request {
                id: deployment.id.clone(),
                minute: minute_of(now),
            });
        }
    }

    /// What the limiter counted across instances, as the shared view of this minute (the
    /// sync refreshes it from the minute counters).
    fn share_view(&self, deployment: &Deployment, now: u64, statuses: &[Status]) {
        let of = |metric: Metric| statuses.iter().find(|s| s.metric == metric).map(|s| s.used);
        deployment
            .state
            .set_shared_usage(minute_of(now), of(Metric::Requests), of(Metric::Tokens));
    }
}

/// A deployment's reservation for one attempt.
pub(crate) enum Reserved {
    /// The deployment has no rpm/tpm limit.
    Free,
    /// Settled when the attempt is over (real tokens), given back if it never went out.
    Held(Permit),
    /// A window is full: choose again.
    Refused,
}

impl Reserved {
    pub(crate) fn into_permit(self) -> Option<Permit> {
        match self {
            Self::Held(permit) => Some(permit),
            Self::Free | Self::Refused => None,
        }
    }
}

/// Output tokens reserved on a tpm window when the request names no `max_tokens` (settled to
/// the real usage when the call ends); the proxy's key limits use the same default.
pub const DEFAULT_OUTPUT_ESTIMATE: u64 = 256;

fn output_estimate(request: &Request) -> u64 {
    let chat = |chat: &ChatRequest| chat.max_completion_tokens.or(chat.max_tokens);
    match request {
        Request::Chat(call) => chat(call),
        Request::Responses(call) => chat(&call.chat),
        Request::Text(text) => text.max_tokens,
        Request::Embedding(_) | Request::Operation { .. } | Request::PassThrough(_) => Some(0),
    }
    .unwrap_or(DEFAULT_OUTPUT_ESTIMATE)
}

fn python_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

pub(crate) fn unknown_model(model: &str) -> Error {
    Error::bad_request(format!(
        "You passed in model={model}. There are no healthy deployments for this model"
    ))
    .with_model(model)
    .with_param("model")
}

fn text_tokens(model: &str, value: Option<&Value>) -> usize {
    match value {
        Some(Value::String(text)) => tokens::count_text_for_model(model, text),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => tokens::count_text_for_model(model, text),
                Value::Array(ids) => ids.len(),
                _ => 1,
            })
            .sum(),
        _ => 0,
    }
}

fn chat_tokens(model: &str, chat: &ChatRequest) -> usize {
    let messages: Vec<Value> = chat
        .messages
        .iter()
        .filter_map(|m| serde_json::to_value(m).ok())
        .collect();
    tokens::count_messages(
        model,
        &messages,
        None,
        None,
        &tokens::CountOptions::default(),
    )
    .unwrap_or(0)
}
