//! Building the observe layers from [`ObserveSettings`]: one account layer that makes the
//! call's [`Event`] once and hands it to a delivery queue per configured integration.

pub mod account;
pub mod admit;

use std::sync::Arc;
use std::time::Duration;

use llmrelay_pipeline::Layers;
use llmrelay_pipeline::delivery::{OnFailure, Queue, QueueConfig, QueueStats, Sink};

use crate::Event;
use crate::event::Redaction;
use crate::integrations::request_log::RequestLine;
use crate::integrations::{
    datadog, file, generic_api, langfuse, langsmith, otel, request_log, sentry,
};
use crate::settings::{ObserveSettings, request_log_level};

/// A configuration the observe layers cannot start with (missing credentials, an
/// unsupported exporter protocol).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ObserveError(pub String);

/// The request log's queue: its lines are made from the call and record, without the
/// logging payload.
pub(crate) struct LineRoute {
    pub queue: Arc<Queue<RequestLine>>,
    /// `LITELLM_LOG=WARNING`: failures only.
    pub failures_only: bool,
    /// `redact_user_api_key_info`.
    pub redact_key_info: bool,
}

/// A queue of either kind, for flushing and counters.
#[derive(Clone)]
enum AnyQueue {
    Events(Arc<Queue<Arc<Event>>>),
    Lines(Arc<Queue<RequestLine>>),
}

impl AnyQueue {
    fn stats(&self) -> QueueStats {
        match self {
            Self::Events(queue) => queue.stats(),
            Self::Lines(queue) => queue.stats(),
        }
    }

    async fn flush(&self) {
        match self {
            Self::Events(queue) => queue.flush().await,
            Self::Lines(queue) => queue.flush().await,
        }
    }

    async fn shutdown(&self) {
        match self {
            Self::Events(queue) => queue.shutdown().await,
            Self::Lines(queue) => queue.shutdown().await,
        }
    }
}

/// One integration's queue and when it is fed.
pub(crate) struct Route {
    pub queue: Arc<Queue<Arc<Event>>>,
    pub on_success: bool,
    pub on_failure: bool,
}

/// The observe layers and their queues (for flushing on shutdown and for the drop counters).
#[derive(Default)]
pub struct Observe {
    layers: Layers,
    queues: Vec<(&'static str, AnyQueue)>,
}

/// Queue sizes and batching per integration: a bound on memory, batches the vendors accept.
fn queue_config(name: &str) -> QueueConfig {
    let (batch_size, linger) = match name {
        "request_log" => (256, Duration::from_millis(50)),
        "datadog" => (datadog::MAX_BATCH, Duration::from_millis(500)),
        // Langfuse limits a batch to 3.5 MB: two events per call, payloads of a few KB.
        "langfuse" => (100, Duration::from_millis(500)),
        _ => (200, Duration::from_millis(500)),
    };
    QueueConfig {
        capacity: 10_000,
        batch_size,
        linger,
        max_retries: 3,
        backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(5),
        on_failure: OnFailure::Drop,
    }
}

impl Observe {
    /// The layers for `settings`; nothing is registered when nothing is configured. Must run
    /// inside a Tokio runtime (the queues' workers start on it).
    ///
    /// # Errors
    /// An integration's settings are incomplete (e.g. `langfuse` without its keys).
    pub fn build(settings: &ObserveSettings) -> Result<Self, ObserveError> {
        Self::build_tuned(settings, |_| {})
    }

    /// Check that every integration of `settings` has what it needs, starting nothing.
    ///
    /// # Errors
    /// As [`Observe::build`].
    pub fn check(settings: &ObserveSettings) -> Result<(), ObserveError> {
        let environment = &settings.environment;
        for wanted in settings.wanted() {
            let checked = match wanted.name {
                "langfuse" => langfuse::LangfuseSettings::from_env(environment).map(drop),
                "datadog" => datadog::DatadogSettings::from_env(environment).map(drop),
                "langsmith" => langsmith::LangsmithSettings::from_env(environment).map(drop),
                "sentry" => sentry::SentrySettings::from_env(environment).map(drop),
                "generic_api" => generic_api::GenericApiSettings::from_env(environment).map(drop),
                "otel" => otel::OtelSettings::from_env(environment).map(drop),
                _ => Ok(()),
            };
            checked.map_err(ObserveError)?;
        }
        Ok(())
    }

    /// As [`Observe::build`], with every queue's config changed by `tune` (tests: a tiny
    /// capacity).
    ///
    /// # Errors
    /// As [`Observe::build`].
    pub fn build_tuned(
        settings: &ObserveSettings,
        tune: impl Fn(&mut QueueConfig),
    ) -> Result<Self, ObserveError> {
        let config = |name: &str| {
            let mut config = queue_config(name);
            tune(&mut config);
            config
        };
        let mut observe = Self::default();
        let redaction = Redaction {
            messages: settings.turn_off_message_logging,
            user_api_key_info: settings.redact_user_api_key_info,
        };
        let mut lines = None;
        if let Some(format) = settings.request_log
            && let Some(level) =
                request_log_level(settings.environment.get("LITELLM_LOG").as_deref())
        {
            let failures_only = level == tracing::Level::WARN;
            let sink = request_log::RequestLog::stderr(format, failures_only);
            let queue = Arc::new(Queue::start(Arc::new(sink), config("request_log")));
            observe
                .queues
                .push(("request_log", AnyQueue::Lines(Arc::clone(&queue))));
            lines = Some(LineRoute {
                queue,
                failures_only,
                redact_key_info: redaction.user_api_key_info,
            });
        }
        let mut routes = Vec::new();
        for wanted in settings.wanted() {
            if wanted.name == "request_log" {
                continue;
            }
            let Some(queue) = Self::start(wanted.name, settings, config(wanted.name))? else {
                continue;
            };
            let queue = Arc::new(queue);
            observe
                .queues
                .push((wanted.name, AnyQueue::Events(Arc::clone(&queue))));
            routes.push(Route {
                queue,
                // Sentry is for errors, whichever list names it.
                on_success: wanted.on_success && wanted.name != "sentry",
                on_failure: wanted.on_failure,
            });
        }
        if observe.queues.iter().any(|(name, _)| *name == "otel") {
            observe
                .layers
                .admit(Arc::new(admit::trace_context::PropagateTraceContext));
        }
        if !routes.is_empty() || lines.is_some() {
            observe
                .layers
                .account(Arc::new(account::observe::Integrations {
                    wants_response: !routes.is_empty(),
                    routes,
                    lines,
                    redaction,
                }));
        }
        Ok(observe)
    }

    /// Start the queue of the integration `name` (`None`: built in elsewhere, e.g.
    /// `prometheus` is the proxy's `/metrics`).
    fn start(
        name: &'static str,
        settings: &ObserveSettings,
        config: QueueConfig,
    ) -> Result<Option<Queue<Arc<Event>>>, ObserveError> {
        let environment = &settings.environment;
        fn queue<S: Sink<Item = Arc<Event>>>(
            sink: Result<S, String>,
            config: QueueConfig,
        ) -> Result<Option<Queue<Arc<Event>>>, ObserveError> {
            let sink = sink.map_err(ObserveError)?;
            Ok(Some(Queue::start(Arc::new(sink), config)))
        }
        match name {
            "langfuse" => queue(
                langfuse::LangfuseSettings::from_env(environment)
                    .and_then(|s| langfuse::Langfuse::new(&s)),
                config,
            ),
            "sentry" => queue(
                sentry::SentrySettings::from_env(environment).and_then(sentry::Sentry::new),
                config,
            ),
            "langsmith" => queue(
                langsmith::LangsmithSettings::from_env(environment)
                    .and_then(langsmith::Langsmith::new),
                config,
            ),
            "datadog" => queue(
                datadog::DatadogSettings::from_env(environment).and_then(datadog::Datadog::new),
                config,
            ),
            "generic_api" => queue(
                generic_api::GenericApiSettings::from_env(environment)
                    .and_then(generic_api::GenericApi::new),
                config,
            ),
            "file" => queue(Ok(file::JsonlFile::from_env(environment)), config),
            "otel" => queue(
                otel::OtelSettings::from_env(environment).and_then(|s| otel::Otel::new(&s)),
                config,
            ),
            _ => Ok(None),
        }
    }

    /// Add a queue in front of any sink, fed on success and failure (tests, embedders with
    /// their own receiver).
    pub fn add_sink<S: Sink<Item = Arc<Event>>>(
        &mut self,
        sink: Arc<S>,
        config: QueueConfig,
        redaction: Redaction,
    ) {
        let name = sink.name();
        let queue = Arc::new(Queue::start(sink, config));
        self.queues
            .push((name, AnyQueue::Events(Arc::clone(&queue))));
        self.layers
            .account(Arc::new(account::observe::Integrations {
                routes: vec![Route {
                    queue,
                    on_success: true,
                    on_failure: true,
                }],
                lines: None,
                redaction,
                wants_response: true,
            }));
    }

    /// Add a request log writing to `sink` (tests: a buffer instead of stderr).
    pub fn add_request_log(
        &mut self,
        sink: Arc<request_log::RequestLog>,
        config: QueueConfig,
        redaction: Redaction,
    ) {
        let queue = Arc::new(Queue::start(Arc::clone(&sink), config));
        self.queues
            .push(("request_log", AnyQueue::Lines(Arc::clone(&queue))));
        self.layers
            .account(Arc::new(account::observe::Integrations {
                routes: Vec::new(),
                lines: Some(LineRoute {
                    queue,
                    failures_only: sink.failures_only(),
                    redact_key_info: redaction.user_api_key_info,
                }),
                redaction,
                wants_response: false,
            }));
    }

    /// The layers to register (empty when nothing is configured).
    #[must_use]
    pub fn layers(&self) -> &Layers {
        &self.layers
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Each integration's counters (accepted, delivered, dropped, failures).
    #[must_use]
    pub fn stats(&self) -> Vec<(&'static str, QueueStats)> {
        self.queues
            .iter()
            .map(|(name, queue)| (*name, queue.stats()))
            .collect()
    }

    /// Deliver everything queued so far.
    pub async fn flush(&self) {
        futures::future::join_all(self.queues.iter().map(|(_, q)| q.flush())).await;
    }

    /// Deliver what is queued and stop the workers (shutdown).
    pub async fn shutdown(&self) {
        futures::future::join_all(self.queues.iter().map(|(_, q)| q.shutdown())).await;
    }
}
