//! Prometheus metrics (`GET /metrics`), named like LiteLLM's so existing dashboards work.
//! Label values are bounded: the model group is one of the configured groups or `other`, the
//! route one of the proxy's routes, the error one of the engine's error kinds.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use llmrelay_core::ErrorKind;
use llmrelay_core::types::Usage;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    model_group: String,
    route: &'static str,
    status_code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupLabels {
    model_group: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    model_group: String,
    route: &'static str,
    exception_class: &'static str,
}

/// LiteLLM's per-caller labels (`litellm_requests_metric`, `litellm_llm_api_failed_requests_metric`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallerLabels {
    end_user: String,
    hashed_api_key: String,
    api_key_alias: String,
    model: String,
    team: String,
    team_alias: String,
    user: String,
}

/// LiteLLM's labels of the response-cache metrics (`_cache_metric_labels`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    model: String,
    hashed_api_key: String,
    api_key_alias: String,
    team: String,
    team_alias: String,
    end_user: String,
    user: String,
    model_id: String,
    api_provider: String,
}

/// The response-cache series, registered only when the proxy has a cache (LiteLLM counts
/// hits and misses only when caching is on).
struct CacheSeries {
    hits: Family<CacheLabels, Counter>,
    misses: Family<CacheLabels, Counter>,
    tokens: Family<CacheLabels, Counter>,
    /// Ours: what the hits would have cost upstream, per model group.
    savings: Family<GroupLabels, FloatCounter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallbackLabels {
    callback_name: &'static str,
}

/// Distinct values kept per caller label; later ones are counted as `other`, so a client
/// sending a new `user` on every request cannot grow the exposition without bound.
const CALLER_LABEL_VALUES: usize = 500;

/// The values seen so far per caller label.
#[derive(Default)]
struct CallerValues {
    seen: [HashSet<String>; 6],
}

impl CallerValues {
    fn bound(&mut self, dimension: usize, value: Option<&str>) -> String {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return String::new();
        };
        let seen = &mut self.seen[dimension];
        if seen.contains(value) {
            return value.to_owned();
        }
        if seen.len() < CALLER_LABEL_VALUES {
            seen.insert(value.to_owned());
            return value.to_owned();
        }
        "other".to_owned()
    }
}

type FloatCounter = Counter<f64, std::sync::atomic::AtomicU64>;

fn latency_histogram() -> Histogram {
    // 1 ms … ~65 s: LLM calls span that range; proxy overhead sits in the first buckets.
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        60.0, 120.0,
    ])
}

/// One model group's series, resolved once so a call records without label lookups.
struct GroupSeries {
    total_latency: Histogram,
    api_latency: Histogram,
    overhead: Histogram,
    time_to_first_token: Histogram,
    input_tokens: Counter,
    output_tokens: Counter,
    total_tokens: Counter,
    spend: FloatCounter,
}

/// The proxy's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    groups: HashSet<String>,
    /// Per configured group, plus `other`.
    series: HashMap<String, GroupSeries>,
    requests: Family<RequestLabels, Counter>,
    failures: Family<ErrorLabels, Counter>,
    in_flight: Gauge,
    caller_requests: Family<CallerLabels, Counter>,
    caller_failures: Family<CallerLabels, Counter>,
    caller_values: std::sync::Mutex<CallerValues>,
    callback_failures: Family<CallbackLabels, Counter>,
    callback_dropped: Family<CallbackLabels, Counter>,
    cache: Option<CacheSeries>,
}

impl Metrics {
    /// Metrics for these model groups (others are counted as `other`).
    #[must_use]
    pub fn new(groups: impl IntoIterator<Item = String>) -> Arc<Self> {
        Self::with_cache(groups, false)
    }

    /// Metrics for these model groups, with the response-cache series when `cache` is on.
    #[must_use]
    pub fn with_cache(groups: impl IntoIterator<Item = String>, cache: bool) -> Arc<Self> {
        let mut registry = Registry::default();
        let cache = cache.then(|| {
            let series = CacheSeries {
                hits: Family::default(),
                misses: Family::default(),
                tokens: Family::default(),
                savings: Family::default(),
            };
            registry.register(
                "litellm_cache_hits_metric",
                "Total number of LiteLLM cache hits",
                series.hits.clone(),
            );
            registry.register(
                "litellm_cache_misses_metric",
                "Total number of LiteLLM cache misses",
                series.misses.clone(),
            );
            registry.register(
                "litellm_cached_tokens_metric",
                "Total tokens served from LiteLLM cache",
                series.tokens.clone(),
            );
            registry.register(
                "llmrelay_cache_savings_usd",
                "What the answers served from the response cache would have cost upstream (USD, at the price map's prices)",
                series.savings.clone(),
            );
            series
        });
        let requests = Family::<RequestLabels, Counter>::default();
        let failures = Family::<ErrorLabels, Counter>::default();
        let total_latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let api_latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let overhead = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let time_to_first_token =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let input_tokens = Family::<GroupLabels, Counter>::default();
        let output_tokens = Family::<GroupLabels, Counter>::default();
        let total_tokens = Family::<GroupLabels, Counter>::default();
        let spend = Family::<GroupLabels, FloatCounter>::default();
        let in_flight = Gauge::default();
        let caller_requests = Family::<CallerLabels, Counter>::default();
        let caller_failures = Family::<CallerLabels, Counter>::default();
        let callback_failures = Family::<CallbackLabels, Counter>::default();
        let callback_dropped = Family::<CallbackLabels, Counter>::default();
        registry.register(
            "litellm_callback_logging_failures_metric",
            "Failed deliveries of a logging integration (each retried or given up)",
            callback_failures.clone(),
        );
        registry.register(
            "llmrelay_callback_dropped_events",
            "Events a logging integration dropped (its queue was full, or delivery gave up)",
            callback_dropped.clone(),
        );
        registry.register(
            "litellm_requests_metric",
            "LLM calls, by caller (key, team, user, end user) and model group",
            caller_requests.clone(),
        );
        registry.register(
            "litellm_llm_api_failed_requests_metric",
            "Failed LLM calls, by caller (key, team, user, end user) and model group",
            caller_failures.clone(),
        );
        registry.register(
            "litellm_proxy_total_requests_metric",
            "Requests answered by the proxy, by model group, route and status",
            requests.clone(),
        );
        registry.register(
            "litellm_proxy_failed_requests_metric",
            "Failed requests, by model group, route and error class",
            failures.clone(),
        );
        registry.register(
            "litellm_request_total_latency_metric",
            "Seconds from request received to response finished (streams: last byte)",
            total_latency.clone(),
        );
        registry.register(
            "litellm_llm_api_latency_metric",
            "Seconds spent waiting on the upstream provider (streams: until headers)",
            api_latency.clone(),
        );
        registry.register(
            "litellm_overhead_latency_metric",
            "Seconds the proxy added on top of the upstream call",
            overhead.clone(),
        );
        registry.register(
            "litellm_llm_api_time_to_first_token_metric",
            "Seconds to the first streamed chunk",
            time_to_first_token.clone(),
        );
        registry.register(
            "litellm_input_tokens_metric",
            "Prompt tokens, by model group",
            input_tokens.clone(),
        );
        registry.register(
            "litellm_output_tokens_metric",
            "Completion tokens, by model group",
            output_tokens.clone(),
        );
        registry.register(
            "litellm_total_tokens_metric",
            "Prompt + completion tokens, by model group",
            total_tokens.clone(),
        );
        registry.register(
            "litellm_spend_metric",
            "Spend in USD, by model group",
            spend.clone(),
        );
        registry.register(
            "litellm_in_flight_requests",
            "Requests being served right now (streams until they end)",
            in_flight.clone(),
        );
        let groups: HashSet<String> = groups.into_iter().collect();
        let series = groups
            .iter()
            .map(String::as_str)
            .chain(["other"])
            .map(|group| {
                let labels = GroupLabels {
                    model_group: group.to_owned(),
                };
                let handles = GroupSeries {
                    total_latency: total_latency.get_or_create(&labels).clone(),
                    api_latency: api_latency.get_or_create(&labels).clone(),
                    overhead: overhead.get_or_create(&labels).clone(),
                    time_to_first_token: time_to_first_token.get_or_create(&labels).clone(),
                    input_tokens: input_tokens.get_or_create(&labels).clone(),
                    output_tokens: output_tokens.get_or_create(&labels).clone(),
                    total_tokens: total_tokens.get_or_create(&labels).clone(),
                    spend: spend.get_or_create(&labels).clone(),
                };
                (group.to_owned(), handles)
            })
            .collect();
        Arc::new(Self {
            registry,
            groups,
            series,
            requests,
            failures,
            in_flight,
            caller_requests,
            caller_failures,
            caller_values: std::sync::Mutex::default(),
            callback_failures,
            callback_dropped,
            cache,
        })
    }

    /// Bound the label: a configured group keeps its name, anything else is `other`.
    fn group(&self, model_group: &str) -> String {
        if self.groups.contains(model_group) {
            model_group.to_owned()
        } else {
            "other".to_owned()
        }
    }

    pub fn request(&self, model_group: &str, route: &'static str, status_code: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                model_group: self.group(model_group),
                route,
                status_code,
            })
            .inc();
    }

    pub fn failure(&self, model_group: &str, route: &'static str, kind: ErrorKind) {
        self.failures
            .get_or_create(&ErrorLabels {
                model_group: self.group(model_group),
                route,
                exception_class: kind.as_str(),
            })
            .inc();
    }

    /// A finished LLM call: total time, upstream time, tokens and spend.
    pub fn call(
        &self,
        model_group: &str,
        total: Duration,
        upstream: Duration,
        usage: Option<&Usage>,
        cost: Option<f64>,
    ) {
        let Some(series) = self.series_for(model_group) else {
            return;
        };
        series.total_latency.observe(total.as_secs_f64());
        series.api_latency.observe(upstream.as_secs_f64());
        series
            .overhead
            .observe(total.saturating_sub(upstream).as_secs_f64());
        if let Some(usage) = usage {
            series.input_tokens.inc_by(usage.prompt_tokens);
            series.output_tokens.inc_by(usage.completion_tokens);
            series
                .total_tokens
                .inc_by(usage.prompt_tokens + usage.completion_tokens);
        }
        if let Some(cost) = cost.filter(|c| c.is_finite() && *c > 0.0) {
            series.spend.inc_by(cost);
        }
    }

    fn series_for(&self, model_group: &str) -> Option<&GroupSeries> {
        self.series
            .get(model_group)
            .or_else(|| self.series.get("other"))
    }

    pub fn first_token(&self, model_group: &str, after: Duration) {
        if let Some(series) = self.series_for(model_group) {
            series.time_to_first_token.observe(after.as_secs_f64());
        }
    }

    /// A finished LLM call, by caller: `litellm_requests_metric` and, when it failed,
    /// `litellm_llm_api_failed_requests_metric` (LiteLLM's label names).
    pub fn caller_call(
        &self,
        model_group: &str,
        caller: &llmrelay_pipeline::Identity,
        failed: bool,
    ) {
        let labels = {
            let mut values = self
                .caller_values
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            CallerLabels {
                end_user: values.bound(0, caller.end_user_id.as_deref()),
                hashed_api_key: values.bound(1, caller.key_hash.as_deref()),
                api_key_alias: values.bound(5, caller.key_alias.as_deref()),
                model: self.group(model_group),
                team: values.bound(2, caller.team_id.as_deref()),
                team_alias: values.bound(3, caller.team_alias.as_deref()),
                user: values.bound(4, caller.user_id.as_deref()),
            }
        };
        if failed {
            self.caller_failures.get_or_create(&labels).inc();
        }
        self.caller_requests.get_or_create(&labels).inc();
    }

    /// A finished call of a proxy with a response cache: a hit (and the tokens it served) or
    /// a miss, by caller, model group, deployment and provider.
    pub fn cache_outcome(
        &self,
        model_group: &str,
        record: &llmrelay_pipeline::CallRecord,
        caller: &llmrelay_pipeline::Identity,
    ) {
        let Some(cache) = &self.cache else {
            return;
        };
        let hidden = record.hidden.as_ref();
        let labels = {
            let mut values = self
                .caller_values
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            CacheLabels {
                model: self.group(model_group),
                hashed_api_key: values.bound(1, caller.key_hash.as_deref()),
                api_key_alias: values.bound(5, caller.key_alias.as_deref()),
                team: values.bound(2, caller.team_id.as_deref()),
                team_alias: values.bound(3, caller.team_alias.as_deref()),
                end_user: values.bound(0, caller.end_user_id.as_deref()),
                user: values.bound(4, caller.user_id.as_deref()),
                model_id: hidden.and_then(|h| h.model_id.clone()).unwrap_or_default(),
                api_provider: hidden
                    .map(|h| h.custom_llm_provider.clone())
                    .unwrap_or_default(),
            }
        };
        if record.cache_hit {
            cache.hits.get_or_create(&labels).inc();
            let tokens = record.usage.as_ref().map_or(0, |u| u.total_tokens);
            if tokens > 0 {
                cache.tokens.get_or_create(&labels).inc_by(tokens);
            }
            let saved = match (record.usage.as_ref(), hidden) {
                (Some(usage), Some(hidden)) if !hidden.model.is_empty() => {
                    llmrelay_core::cost::for_model(
                        &hidden.model,
                        Some(hidden.custom_llm_provider.as_str()).filter(|p| !p.is_empty()),
                        usage.into(),
                        llmrelay_core::cost::PriceOverrides::default(),
                        None,
                    )
                    .ok()
                    .map(|cost| llmrelay_core::cost::to_f64(cost.total()))
                }
                _ => None,
            };
            if let Some(saved) = saved.filter(|s| *s > 0.0) {
                let group = GroupLabels {
                    model_group: self.group(model_group),
                };
                cache.savings.get_or_create(&group).inc_by(saved);
            }
        } else {
            cache.misses.get_or_create(&labels).inc();
        }
    }

    /// Bring the logging integrations' counters up to their queues' (before a render).
    pub fn sync_callbacks(
        &self,
        stats: &[(&'static str, llmrelay_pipeline::delivery::QueueStats)],
    ) {
        // Two renders at once must not both add the same difference.
        let _one_at_a_time = self
            .caller_values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, stats) in stats {
            let labels = CallbackLabels {
                callback_name: name,
            };
            let failures = self.callback_failures.get_or_create(&labels);
            failures.inc_by(stats.failures.saturating_sub(failures.get()));
            let dropped = self.callback_dropped.get_or_create(&labels);
            dropped.inc_by(stats.dropped.saturating_sub(dropped.get()));
        }
    }

    /// Count a request in flight until the guard drops.
    #[must_use]
    pub fn in_flight(self: &Arc<Self>) -> InFlight {
        self.in_flight.inc();
        InFlight(Arc::clone(self))
    }

    /// The text exposition format.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Decrements the in-flight gauge when dropped.
pub struct InFlight(Arc<Metrics>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.dec();
    }
}

/// The pipeline's account layer that feeds the per-group series: latency (total, upstream,
/// overhead), tokens and spend of every finished call.
pub struct CallMetrics(pub Arc<Metrics>);

impl llmrelay_pipeline::Account for CallMetrics {
    fn name(&self) -> &'static str {
        "prometheus"
    }

    fn account(&self, call: &llmrelay_pipeline::Call, record: &llmrelay_pipeline::CallRecord) {
        let total = call.started.elapsed();
        let upstream_open = record.hidden.as_ref().map_or(Duration::ZERO, |h| {
            Duration::from_secs_f64(h.response_ms.max(0.0) / 1000.0)
        });
        // A stream's upstream time goes on after it opened: until its last chunk.
        let upstream = match (record.stream, record.served_after) {
            (true, Some(opened)) => upstream_open + total.saturating_sub(opened),
            _ => upstream_open,
        };
        self.0.call(
            &call.model_group,
            total,
            upstream,
            record.usage.as_ref(),
            record.cost,
        );
        self.0.caller_call(
            &call.model_group,
            &call.identity,
            record.status == llmrelay_pipeline::Status::Failure,
        );
        self.0
            .cache_outcome(&call.model_group, record, &call.identity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_bounds_labels() {
        let metrics = Metrics::new(["gpt-4o".to_owned()]);
        metrics.request("gpt-4o", "/chat/completions", 200);
        metrics.request("made-up", "/chat/completions", 400);
        metrics.failure("gpt-4o", "/chat/completions", ErrorKind::RateLimit);
        metrics.call(
            "gpt-4o",
            Duration::from_millis(20),
            Duration::from_millis(15),
            Some(&Usage::new(10, 5)),
            Some(0.25),
        );
        {
            let _guard = metrics.in_flight();
        }
        let text = metrics.render();
        assert!(text.contains("litellm_proxy_total_requests_metric_total{model_group=\"gpt-4o\",route=\"/chat/completions\",status_code=\"200\"} 1"), "{text}");
        assert!(text.contains("model_group=\"other\""));
        assert!(!text.contains("made-up"));
        assert!(text.contains("litellm_total_tokens_metric_total{model_group=\"gpt-4o\"} 15"));
        assert!(text.contains("litellm_spend_metric_total{model_group=\"gpt-4o\"} 0.25"));
        assert!(text.contains("exception_class=\"rate_limit\""));
        assert!(text.contains("litellm_in_flight_requests 0"));
    }

    #[test]
    fn cache_hits_misses_and_tokens_only_with_a_cache() {
        let record = |cache_hit: bool| {
            let mut record = llmrelay_pipeline::CallRecord::new(llmrelay_pipeline::Status::Success);
            record.cache_hit = cache_hit;
            record.usage = Some(Usage::new(10, 5));
            record.hidden = Some(llmrelay_providers::engine::HiddenParams {
                model: "gpt-4o".to_owned(),
                custom_llm_provider: "openai".to_owned(),
                ..Default::default()
            });
            record
        };
        let caller = llmrelay_pipeline::Identity {
            team_id: Some("t1".to_owned()),
            ..llmrelay_pipeline::Identity::default()
        };
        let plain = Metrics::new(["gpt-4o".to_owned()]);
        plain.cache_outcome("gpt-4o", &record(false), &caller);
        assert!(!plain.render().contains("litellm_cache"));
        let cached = Metrics::with_cache(["gpt-4o".to_owned()], true);
        cached.cache_outcome("gpt-4o", &record(false), &caller);
        cached.cache_outcome("gpt-4o", &record(true), &caller);
        cached.cache_outcome("gpt-4o", &record(true), &caller);
        let text = cached.render();
        let line = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .map(str::to_owned)
                .unwrap_or_default()
        };
        assert!(
            line("litellm_cache_hits_metric_total{").ends_with(" 2"),
            "{text}"
        );
        assert!(line("litellm_cache_misses_metric_total{").ends_with(" 1"));
        assert!(line("litellm_cached_tokens_metric_total{").ends_with(" 30"));
        assert!(line("litellm_cache_hits_metric_total{").contains("team=\"t1\""));
        assert!(line("litellm_cache_hits_metric_total{").contains("model=\"gpt-4o\""));
        // gpt-4o at $2.50 / $10 per million tokens: two hits of 10 + 5 tokens.
        let saved = line("llmrelay_cache_savings_usd_total{model_group=\"gpt-4o\"}");
        let value: f64 = saved
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .parse()
            .unwrap_or(0.0);
        assert!(
            (value - 2.0 * (10.0 * 2.5e-6 + 5.0 * 1e-5)).abs() < 1e-12,
            "{text}"
        );
    }

    #[test]
    fn caller_labels_are_litellms_and_bounded() {
        let metrics = Metrics::new(["gpt-4o".to_owned()]);
        let mut caller = llmrelay_pipeline::Identity {
            key_alias: Some("alice-key".to_owned()),
            team_alias: Some("search".to_owned()),
            ..llmrelay_pipeline::Identity::default()
        };
        metrics.caller_call("gpt-4o", &caller, false);
        metrics.caller_call("gpt-4o", &caller, true);
        for n in 0..(CALLER_LABEL_VALUES + 10) {
            caller.end_user_id = Some(format!("user-{n}"));
            metrics.caller_call("gpt-4o", &caller, false);
        }
        let text = metrics.render();
        assert!(text.contains("litellm_requests_metric_total{end_user=\"\",hashed_api_key=\"\",api_key_alias=\"alice-key\",model=\"gpt-4o\",team=\"\",team_alias=\"search\",user=\"\"} 2"), "{text}");
        assert!(text.contains("litellm_llm_api_failed_requests_metric_total{end_user=\"\",hashed_api_key=\"\",api_key_alias=\"alice-key\""));
        assert!(text.contains("end_user=\"other\""));
        let series = text
            .lines()
            .filter(|l| l.starts_with("litellm_requests_metric_total"))
            .count();
        assert!(series <= CALLER_LABEL_VALUES + 2, "{series}");
        let stats = llmrelay_pipeline::delivery::QueueStats {
            failures: 3,
            dropped: 2,
            ..Default::default()
        };
        metrics.sync_callbacks(&[("langfuse", stats)]);
        metrics.sync_callbacks(&[("langfuse", stats)]);
        let text = metrics.render();
        assert!(text.contains(
            "litellm_callback_logging_failures_metric_total{callback_name=\"langfuse\"} 3"
        ));
        assert!(
            text.contains("llmrelay_callback_dropped_events_total{callback_name=\"langfuse\"} 2")
        );
    }
}
