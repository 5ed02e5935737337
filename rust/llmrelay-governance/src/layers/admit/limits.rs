//! Rate-limit stage: before the call goes upstream it is reserved against every limit of its
//! caller at once (LiteLLM's descriptors and names): the key's `rpm_limit`, `tpm_limit`,
//! `tpd_limit`, `max_parallel_requests` and `model_rpm_limit` / `model_tpm_limit`; the user's,
//! team's, team member's, organization's and end user's `rpm_limit` / `tpm_limit`; the team's
//! `max_parallel_requests` and per-model limits; `general_settings.max_parallel_requests`
//! (each key's default) and `global_max_parallel_requests` (this instance). A call refused by
//! any limit reserves nothing; an admitted one carries a [`LimitHold`] that the limits account
//! layer settles to the real token usage, and LiteLLM's `x-ratelimit-*` headers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use llmrelay_core::{Error, ErrorKind};
use llmrelay_limits::{Check, Denied, Limiter, Metric, Permit, Status};
use llmrelay_pipeline::{
    Admission, Admit, AdmitStage, AttemptInfo, Call, PerAttempt, ResponseHeaders, Step,
};

use crate::db::Record;
use crate::engine::Governance;
use crate::estimate::{estimate_request, requested_output_tokens};
use crate::identity::KeyAuth;
use crate::layers::admit::budget::priced_model;
use crate::layers::admit::key_auth::EndUser;

/// Output tokens a token-limit reservation assumes when the request sets no `max_tokens`.
pub const DEFAULT_ESTIMATED_OUTPUT_TOKENS: u64 = 256;

/// The proxy-wide settings of the stage.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// The rpm/tpm window (LiteLLM's `LITELLM_RATE_LIMIT_WINDOW_SIZE`, default 60 s).
    pub window: Duration,
    /// `general_settings.max_parallel_requests`: every key's default.
    pub default_max_parallel_requests: Option<u64>,
    /// `general_settings.global_max_parallel_requests`: this instance's ceiling.
    pub global_max_parallel_requests: Option<u64>,
    /// Output tokens assumed without `max_tokens` (the key's metadata
    /// `default_estimated_output_tokens` wins).
    pub default_output_tokens: u64,
    /// How long a call that asked for the Router's backpressure (a `priority`) waits for room
    /// before it is refused (`router_settings.max_queue_wait`; a call's own `max_queue_wait`
    /// wins).
    pub max_queue_wait: Duration,
}

/// The Router's default `max_queue_wait`.
pub const DEFAULT_MAX_QUEUE_WAIT: Duration = Duration::from_secs(10);

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            default_max_parallel_requests: None,
            global_max_parallel_requests: None,
            default_output_tokens: DEFAULT_ESTIMATED_OUTPUT_TOKENS,
            max_queue_wait: DEFAULT_MAX_QUEUE_WAIT,
        }
    }
}

/// The call's reservation, settled by accounting.
#[derive(Clone, Default)]
pub struct LimitHold {
    permit: Arc<Mutex<Option<Permit>>>,
    /// Set when the call's first attempt goes upstream: a call refused before that (by a later
    /// stage) gives its reservation back.
    sent: Arc<AtomicBool>,
}

impl LimitHold {
    #[must_use]
    pub fn new(permit: Permit) -> Self {
        Self {
            permit: Arc::new(Mutex::new(Some(permit))),
            sent: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The permit, once (accounting settles it).
    #[must_use]
    pub fn take(&self) -> Option<Permit> {
        self.permit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Whether an attempt of the call went upstream.
    #[must_use]
    pub fn sent(&self) -> bool {
        self.sent.load(Ordering::Relaxed)
    }
}

/// Marks the calls whose reservation was used by an upstream attempt.
#[derive(Debug, Default)]
pub struct MarkSent;

impl PerAttempt for MarkSent {
    fn name(&self) -> &'static str {
        "governance.limits"
    }

    fn before<'a>(
        &'a self,
        call: &'a Call,
        _attempt: &'a AttemptInfo<'a>,
    ) -> Step<'a, llmrelay_core::Result<()>> {
        if let Some(hold) = call.extensions.get::<LimitHold>() {
            hold.sent.store(true, Ordering::Relaxed);
        }
        Step::Ready(Ok(()))
    }
}

/// Reserves the call against the caller's rate limits.
pub struct RateLimits {
    engine: Arc<Governance>,
    limiter: Limiter,
    settings: LimitSettings,
}

impl RateLimits {
    #[must_use]
    pub fn new(engine: &Arc<Governance>, limiter: Limiter, settings: LimitSettings) -> Self {
        Self {
            engine: Arc::clone(engine),
            limiter,
            settings,
        }
    }
}

fn positive(limit: Option<i64>) -> Option<u64> {
    limit.and_then(|l| u64::try_from(l).ok())
}

fn model_limit(map: Option<&Map<String, Value>>, model: &str) -> Option<u64> {
    map?.get(model)?.as_u64()
}

/// Every limit that applies to a call of `model` by `auth` (and `end_user`).
#[must_use]
pub fn checks_for(
    auth: Option<&KeyAuth>,
    end_user: Option<&Record>,
    model: &str,
    settings: &LimitSettings,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let window = settings.window;
    let day = Duration::from_secs(86_400);
    let mut add = |descriptor: &'static str,
                   value: &str,
                   metric: Metric,
                   limit: Option<u64>,
                   window: Duration| {
        if let Some(limit) = limit {
            checks.push(Check::new(descriptor, value, metric, limit, window));
        }
    };
    if let Some(auth) = auth.filter(|a| !a.is_master_key) {
        let key = auth.token.as_str();
        add(
            "api_key",
            key,
            Metric::Requests,
            positive(auth.rpm_limit),
            window,
        );
        add(
            "api_key",
            key,
            Metric::Tokens,
            positive(auth.tpm_limit),
            window,
        );
        add(
            "api_key",
            key,
            Metric::Parallel,
            positive(auth.max_parallel_requests).or(settings.default_max_parallel_requests),
            window,
        );
        add(
            "api_key_daily",
            key,
            Metric::Tokens,
            positive(auth.tpd_limit),
            day,
        );
        let key_model_rpm = model_limit(auth.model_rpm_limit.as_ref(), model);
        let key_model_tpm = model_limit(auth.model_tpm_limit.as_ref(), model);
        if key_model_rpm.is_some() || key_model_tpm.is_some() {
            let per_model = format!("{key}:{model}");
            add(
                "model_per_key",
                &per_model,
                Metric::Requests,
                key_model_rpm,
                window,
            );
            add(
                "model_per_key",
                &per_model,
                Metric::Tokens,
                key_model_tpm,
                window,
            );
        }
        if let Some(user) = auth.user_id.as_deref() {
            add(
                "user",
                user,
                Metric::Requests,
                positive(auth.user_rpm_limit),
                window,
            );
            add(
                "user",
                user,
                Metric::Tokens,
                positive(auth.user_tpm_limit),
                window,
            );
        }
        if let Some(team) = auth.team_id.as_deref() {
            add(
                "team",
                team,
                Metric::Requests,
                positive(auth.team_rpm_limit),
                window,
            );
            add(
                "team",
                team,
                Metric::Tokens,
                positive(auth.team_tpm_limit),
                window,
            );
            add(
                "team",
                team,
                Metric::Parallel,
                positive(auth.team_max_parallel_requests),
                window,
            );
            let team_model_rpm = model_limit(auth.team_model_rpm_limit.as_ref(), model);
            let team_model_tpm = model_limit(auth.team_model_tpm_limit.as_ref(), model);
            if team_model_rpm.is_some() || team_model_tpm.is_some() {
                let per_model = format!("{team}:{model}");
                add(
                    "model_per_team",
                    &per_model,
                    Metric::Requests,
                    team_model_rpm,
                    window,
                );
                add(
                    "model_per_team",
                    &per_model,
                    Metric::Tokens,
                    team_model_tpm,
                    window,
                );
            }
            let member_limits = (auth.team_member_rpm_limit, auth.team_member_tpm_limit);
            if let (Some(user), true) = (
                auth.user_id.as_deref(),
                member_limits.0.is_some() || member_limits.1.is_some(),
            ) {
                let member = format!("{team}:{user}");
                add(
                    "team_member",
                    &member,
                    Metric::Requests,
                    positive(auth.team_member_rpm_limit),
                    window,
                );
                add(
                    "team_member",
                    &member,
                    Metric::Tokens,
                    positive(auth.team_member_tpm_limit),
                    window,
                );
            }
        }
        if let Some(org) = auth.org_id.as_deref() {
            add(
                "organization",
                org,
                Metric::Requests,
                positive(auth.org_rpm_limit),
                window,
            );
            add(
                "organization",
                org,
                Metric::Tokens,
                positive(auth.org_tpm_limit),
                window,
            );
        }
    }
    if let Some(record) = end_user {
        let id = record.get("user_id").and_then(Value::as_str);
        let budget = record.get("litellm_budget_table");
        let limit = |field: &str| {
            budget
                .and_then(|b| b.get(field))
                .and_then(Value::as_i64)
                .and_then(|l| u64::try_from(l).ok())
        };
        if let Some(id) = id {
            add("end_user", id, Metric::Requests, limit("rpm_limit"), window);
            add("end_user", id, Metric::Tokens, limit("tpm_limit"), window);
        }
    }
    if let Some(limit) = settings.global_max_parallel_requests {
        let mut global = Check::new("global", "proxy", Metric::Parallel, limit, window);
        global.local_only = true;
        checks.push(global);
    }
    checks
}

/// `2026-12-02 14:40:00 UTC`, `reset_ms` from now.
fn reset_at(reset_ms: u64) -> String {
    let at = chrono::Utc::now()
        + chrono::Duration::milliseconds(i64::try_from(reset_ms).unwrap_or(i64::MAX / 2));
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `x-ratelimit-{descriptor}-{remaining|limit}-{type}`, made once per name: descriptors and
/// types are a small fixed set, so the names are interned instead of formatted on every call.
fn descriptor_header(descriptor: &'static str, metric: Metric, remaining: bool) -> &'static str {
    type Names = HashMap<(&'static str, Metric, bool), &'static str>;
    static NAMES: OnceLock<Mutex<Names>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    names
        .entry((descriptor, metric, remaining))
        .or_insert_with(|| {
            let part = if remaining { "remaining" } else { "limit" };
            Box::leak(
                format!("x-ratelimit-{descriptor}-{part}-{}", metric.as_str()).into_boxed_str(),
            )
        })
}

fn header(name: &'static str, value: u64) -> (Cow<'static, str>, String) {
    (Cow::Borrowed(name), value.to_string())
}

/// LiteLLM's `x-ratelimit-{descriptor}-{remaining|limit}-{type}` for every limit, plus
/// OpenAI's `x-ratelimit-{limit|remaining|reset}-{requests|tokens}` for the most restrictive
/// request and token limits.
#[must_use]
pub fn rate_limit_headers(statuses: &[Status]) -> Vec<(Cow<'static, str>, String)> {
    let mut headers = Vec::with_capacity(statuses.len() * 2 + 6);
    for status in statuses {
        headers.push(header(
            descriptor_header(status.descriptor, status.metric, true),
            status.remaining(),
        ));
        headers.push(header(
            descriptor_header(status.descriptor, status.metric, false),
            status.limit,
        ));
    }
    let openai = [
        (
            Metric::Requests,
            [
                "x-ratelimit-limit-requests",
                "x-ratelimit-remaining-requests",
                "x-ratelimit-reset-requests",
            ],
        ),
        (
            Metric::Tokens,
            [
                "x-ratelimit-limit-tokens",
                "x-ratelimit-remaining-tokens",
                "x-ratelimit-reset-tokens",
            ],
        ),
    ];
    for (metric, [limit, remaining, reset]) in openai {
        let tightest = statuses
            .iter()
            .filter(|s| s.metric == metric)
            .min_by_key(|s| s.remaining());
        if let Some(status) = tightest {
            headers.push(header(limit, status.limit));
            headers.push(header(remaining, status.remaining()));
            headers.push((
                Cow::Borrowed(reset),
                format!("{}s", status.reset_ms.div_ceil(1000)),
            ));
        }
    }
    headers
}

/// LiteLLM's 429 for a limit without room (its message, `throttling_error`), with
/// `retry-after` (seconds until the window frees room) and the limit's headers.
#[must_use]
pub fn limit_error(status: &Status) -> Error {
    let reset_ms = if status.reset_ms == 0 {
        // Parallel requests free up when a call ends; a second is a fair wait.
        1000
    } else {
        status.reset_ms
    };
    let resets_at = reset_at(reset_ms);
    let message = format!(
        "Rate limit exceeded for {}: {}. Limit type: {}. Current limit: {}, Remaining: {}. Limit resets at: {resets_at}",
        status.descriptor,
        status.value,
        status.metric.as_str(),
        status.limit,
        status.remaining(),
    );
    let retry_after = reset_ms.div_ceil(1000).max(1);
    let mut headers: Vec<(String, String)> = vec![
        ("retry-after".to_owned(), retry_after.to_string()),
        (
            "rate_limit_type".to_owned(),
            status.metric.as_str().to_owned(),
        ),
        ("reset_at".to_owned(), resets_at),
    ];
    headers.extend(
        rate_limit_headers(std::slice::from_ref(status))
            .into_iter()
            .map(|(name, value)| (name.into_owned(), value)),
    );
    let body = json!({"error": {
        "message": message,
        "type": "throttling_error",
        "param": null,
        "code": "429",
    }});
    Error::from_upstream(429, message, Some(body))
        .with_kind(ErrorKind::RateLimit)
        .with_status(429)
        .with_retry_after(Some(retry_after as f64))
        .with_headers(headers)
}

/// The 503 of a `fail_closed` limit while Redis is unreachable.
#[must_use]
pub fn unavailable_error(metric: Metric, reason: &str) -> Error {
    let message = format!(
        "Rate limits cannot be checked: {reason}, and {} limits are fail_closed. Retry shortly.",
        metric.as_str()
    );
    let body = json!({"error": {
        "message": message,
        "type": "service_unavailable",
        "param": null,
        "code": "503",
    }});
    Error::from_upstream(503, message, Some(body))
        .with_kind(ErrorKind::ServiceUnavailable)
        .with_status(503)
        .with_retry_after(Some(1.0))
        .with_headers(vec![("retry-after".to_owned(), "1".to_owned())])
}

impl RateLimits {
    /// The call's token estimate: prompt tokens counted as LiteLLM counts them, plus
    /// `max_tokens` or the default output estimate.
    fn estimate_tokens(&self, call: &Call, auth: Option<&KeyAuth>) -> u64 {
        let (model, provider) = priced_model(&self.engine, &call.model_group)
            .unwrap_or_else(|| (call.model_group.clone(), String::new()));
        let body = Value::Object(call.request.to_map());
        let requested = requested_output_tokens(&body);
        let default_output = auth
            .and_then(|a| {
                a.metadata
                    .get("default_estimated_output_tokens_per_model")
                    .and_then(|m| m.get(&call.model_group))
                    .or_else(|| a.metadata.get("default_estimated_output_tokens"))
                    .and_then(Value::as_u64)
            })
            .unwrap_or(self.settings.default_output_tokens);
        let provider = (!provider.is_empty()).then_some(provider.as_str());
        let prompt = estimate_request(&model, provider, &body).prompt_tokens;
        prompt + requested.unwrap_or(default_output)
    }

    /// Reserve the call's limits. A call that asked for the Router's backpressure (a
    /// `priority`) waits for room instead of being refused, as the Router queues calls when
    /// its deployments are at their limits: it tries again when the refusing window frees
    /// room (a call ending frees a parallel slot: it polls), until its `max_queue_wait`.
    async fn reserve(&self, call: &mut Call, checks: Vec<Check>, tokens: u64) -> Admission {
        let bound = queue_bound(call, &self.settings);
        let started = Instant::now();
        loop {
            match self.limiter.acquire(&checks, tokens).await {
                Ok(permit) => {
                    ResponseHeaders::add(
                        &mut call.extensions,
                        rate_limit_headers(&permit.statuses),
                    );
                    call.extensions.insert(LimitHold::new(permit));
                    return Admission::Continue;
                }
                Err(Denied::Limit(status)) => {
                    let until_room = Duration::from_millis(status.reset_ms);
                    match bound {
                        Some(bound) if started.elapsed() + until_room <= bound => {
                            tokio::time::sleep(until_room.clamp(QUEUE_POLL, QUEUE_RECHECK)).await;
                        }
                        _ => return Admission::Reject(limit_error(&status)),
                    }
                }
                Err(Denied::Unavailable { metric, reason }) => {
                    return Admission::Reject(unavailable_error(metric, &reason));
                }
            }
        }
    }
}

/// How often a queued call looks for a free parallel slot, and the longest it sleeps before
/// trying again (another instance's calls may settle below their estimate meanwhile).
const QUEUE_POLL: Duration = Duration::from_millis(50);
const QUEUE_RECHECK: Duration = Duration::from_secs(1);

/// How long `call` may wait for room in its limits: only a call with a `priority` (the
/// Router's scheduler), for its own `max_queue_wait` or the configured one; `None`: refuse
/// at once, as LiteLLM does.
fn queue_bound(call: &Call, settings: &LimitSettings) -> Option<Duration> {
    let router = &call.options.router;
    router.get("priority").and_then(number_of)?;
    let seconds = router
        .get("max_queue_wait")
        .and_then(number_of)
        .unwrap_or(settings.max_queue_wait.as_secs_f64());
    (seconds.is_finite() && seconds > 0.0).then(|| Duration::from_secs_f64(seconds.min(3_600.0)))
}

fn number_of(value: &Value) -> Option<f64> {
    value
        .as_f64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

impl Admit for RateLimits {
    fn name(&self) -> &'static str {
        "governance.limits"
    }

    fn stage(&self) -> AdmitStage {
        AdmitStage::Limits
    }

    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        let auth = call
            .identity
            .details
            .clone()
            .and_then(|details| details.downcast::<KeyAuth>().ok());
        let end_user = call.extensions.get::<EndUser>().map(|e| Arc::clone(&e.0));
        let checks = checks_for(
            auth.as_deref(),
            end_user.as_deref(),
            &call.model_group,
            &self.settings,
        );
        if checks.is_empty() {
            return Step::Ready(Admission::Continue);
        }
        let tokens = if checks.iter().any(|c| c.metric == Metric::Tokens) {
            self.estimate_tokens(call, auth.as_deref())
        } else {
            0
        };
        Step::wait(self.reserve(call, checks, tokens))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_descriptor_of_a_key_applies() {
        let mut rpm = Map::new();
        rpm.insert("gpt-4o".into(), json!(5));
        let auth = KeyAuth {
            token: "hash".into(),
            user_id: Some("u".into()),
            team_id: Some("t".into()),
            org_id: Some("o".into()),
            rpm_limit: Some(10),
            tpm_limit: Some(1000),
            tpd_limit: Some(100_000),
            model_rpm_limit: Some(rpm),
            user_rpm_limit: Some(20),
            team_tpm_limit: Some(5000),
            team_max_parallel_requests: Some(3),
            team_member_rpm_limit: Some(7),
            org_rpm_limit: Some(50),
            ..KeyAuth::default()
        };
        let settings = LimitSettings {
            default_max_parallel_requests: Some(4),
            global_max_parallel_requests: Some(100),
            ..LimitSettings::default()
        };
        let end_user: Record = serde_json::from_value(
            json!({"user_id": "e", "litellm_budget_table": {"rpm_limit": 2}}),
        )
        .unwrap();
        let checks = checks_for(Some(&auth), Some(&end_user), "gpt-4o", &settings);
        let names: Vec<(&str, &str, Metric, u64)> = checks
            .iter()
            .map(|c| (c.descriptor, c.value.as_str(), c.metric, c.limit))
            .collect();
        assert_eq!(
            names,
            vec![
                ("api_key", "hash", Metric::Requests, 10),
                ("api_key", "hash", Metric::Tokens, 1000),
                ("api_key", "hash", Metric::Parallel, 4),
                ("api_key_daily", "hash", Metric::Tokens, 100_000),
                ("model_per_key", "hash:gpt-4o", Metric::Requests, 5),
                ("user", "u", Metric::Requests, 20),
                ("team", "t", Metric::Tokens, 5000),
                ("team", "t", Metric::Parallel, 3),
                ("team_member", "t:u", Metric::Requests, 7),
                ("organization", "o", Metric::Requests, 50),
                ("end_user", "e", Metric::Requests, 2),
                ("global", "proxy", Metric::Parallel, 100),
            ]
        );
        assert!(checks.last().unwrap().local_only);
        assert_eq!(checks[3].window, Duration::from_secs(86_400));
        // The master key has none but the instance's ceiling.
        let master = KeyAuth::master_key("m");
        assert_eq!(
            checks_for(Some(&master), None, "gpt-4o", &settings).len(),
            1
        );
        assert!(checks_for(Some(&master), None, "gpt-4o", &LimitSettings::default()).is_empty());
    }

    #[test]
    fn only_a_call_with_a_priority_waits_and_for_its_max_queue_wait() {
        let call = |extra: Value| {
            let mut params = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
            if let (Some(params), Value::Object(extra)) = (params.as_object_mut(), extra) {
                params.extend(extra);
            }
            let Value::Object(params) = params else {
                unreachable!()
            };
            Call::parse(
                llmrelay_core::CallKind::Chat,
                params,
                llmrelay_pipeline::Origin::Sdk,
            )
            .unwrap()
        };
        let settings = LimitSettings::default();
        assert_eq!(queue_bound(&call(json!({})), &settings), None);
        assert_eq!(
            queue_bound(&call(json!({"priority": 0})), &settings),
            Some(DEFAULT_MAX_QUEUE_WAIT)
        );
        assert_eq!(
            queue_bound(
                &call(json!({"priority": 3, "max_queue_wait": 0.5})),
                &settings
            ),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            queue_bound(
                &call(json!({"priority": 3, "max_queue_wait": 0})),
                &settings
            ),
            None
        );
    }

    #[test]
    fn a_refusal_reads_as_litellm_429() {
        let status = Status {
            descriptor: "api_key",
            value: "hash".into(),
            metric: Metric::Requests,
            limit: 100,
            used: 100,
            reset_ms: 2500,
        };
        let error = limit_error(&status);
        assert_eq!(error.status_code(), 429);
        assert_eq!(error.kind(), ErrorKind::RateLimit);
        assert!(error.message().starts_with(
            "Rate limit exceeded for api_key: hash. Limit type: requests. Current limit: 100, Remaining: 0. Limit resets at: "
        ));
        let headers = &error.inner().headers;
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("retry-after"), Some("3"));
        assert_eq!(get("x-ratelimit-limit-requests"), Some("100"));
        assert_eq!(get("x-ratelimit-remaining-requests"), Some("0"));
        assert_eq!(get("x-ratelimit-api_key-remaining-requests"), Some("0"));
        assert_eq!(get("rate_limit_type"), Some("requests"));
        assert_eq!(
            error.inner().body.as_ref().unwrap()["error"]["type"],
            "throttling_error"
        );
    }

    #[test]
    fn the_most_restrictive_limit_names_the_openai_headers() {
        let status = |descriptor, metric, limit, used| Status {
            descriptor,
            value: "v".into(),
            metric,
            limit,
            used,
            reset_ms: 10_000,
        };
        let headers = rate_limit_headers(&[
            status("api_key", Metric::Requests, 100, 10),
            status("team", Metric::Requests, 20, 15),
            status("api_key", Metric::Tokens, 1000, 100),
        ]);
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("x-ratelimit-limit-requests"), Some("20"));
        assert_eq!(get("x-ratelimit-remaining-requests"), Some("5"));
        assert_eq!(get("x-ratelimit-remaining-tokens"), Some("900"));
        assert_eq!(get("x-ratelimit-reset-tokens"), Some("10s"));
        assert_eq!(get("x-ratelimit-team-limit-requests"), Some("20"));
    }
}
