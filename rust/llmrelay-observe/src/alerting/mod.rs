//! Alerting (LiteLLM's `general_settings.alerting`): alerts about calls (slow, failed,
//! deployment outages), budgets (crossed, soft budget, 15 % / 5 % left), the Router's
//! cooldowns, keys about to expire, and scheduled reports (deployment report, spend report),
//! sent to Slack incoming webhooks, LiteLLM's `WebhookEvent` webhook and SMTP mail.
//!
//! ```text
//!  account / per-attempt layers (cheap checks)  ┐
//!  governance: budget level after a settlement  ├─► Alerting::send ─ de-dup (TTL, clock) ─┬─► Queue ─► Slack
//!  router: a deployment cooled down             │                                          ├─► Queue ─► webhook
//!  background jobs (report_check_interval)      ┘                                          └─► Queue ─► SMTP
//! ```
//!
//! Nothing here runs on a call's path but comparisons and, when an alert fires, one push to a
//! delivery queue; formatting for Slack, HTTP and SMTP happen in the queues' workers. Without
//! `alerting` in the config nothing is built.

mod email;
pub mod layers;
pub mod settings;
mod slack;
mod webhook;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::Serialize;

use llmrelay_core::clock::{Clock, SystemClock};
use llmrelay_pipeline::Layers;
use llmrelay_pipeline::delivery::{OnFailure, Queue, QueueConfig, QueueStats};

pub use email::EmailAlert;
pub use settings::{AlertType, AlertingArgs, AlertingSettings, Channel, SETTINGS, SmtpSettings};
pub use slack::SlackMessage;

use crate::settings::Environment;

/// How serious an alert is (LiteLLM's `level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
        }
    }
}

/// LiteLLM's `WebhookEvent` (a `CallInfo` plus the event): the JSON the `webhook` channel posts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WebhookEvent {
    pub spend: f64,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    /// The key's hash.
    pub token: Option<String>,
    pub customer_id: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub team_alias: Option<String>,
    pub user_email: Option<String>,
    pub key_alias: Option<String>,
    pub organization_id: Option<String>,
    pub projected_exceeded_date: Option<String>,
    pub projected_spend: Option<f64>,
    /// `budget_crossed`, `soft_budget_crossed`, `threshold_crossed`.
    pub event: &'static str,
    /// `key`, `user`, `team`, `team_member`, `organization`, `end_user`.
    pub event_group: &'static str,
    pub event_message: String,
}

/// An entity's spend after a call, when it is at or over a threshold (from governance).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BudgetLevel {
    /// `key`, `user`, `team`, `team_member`, `organization`, `end_user`.
    pub entity_type: &'static str,
    pub entity_id: String,
    pub spend: f64,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    /// The caller whose call it was.
    pub token: Option<String>,
    pub key_alias: Option<String>,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub team_id: Option<String>,
    pub team_alias: Option<String>,
    pub organization_id: Option<String>,
    pub customer_id: Option<String>,
}

/// A deployment the Router put into cooldown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cooldown {
    pub deployment_id: String,
    pub model_group: String,
    pub model: String,
    pub api_base: Option<String>,
    pub cooldown: Duration,
    pub status: u16,
    pub error: String,
}

/// A deployment as the reports name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentInfo {
    pub model_group: String,
    pub model: String,
    pub provider: String,
    pub api_base: Option<String>,
}

/// Spend in a window, per team and per tag.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendReport {
    /// `(team alias or id, spend)`, highest first.
    pub teams: Vec<(String, f64)>,
    /// `(tag, spend)`, highest first.
    pub tags: Vec<(String, f64)>,
}

/// A virtual key whose `expires` is near.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringKey {
    pub token: String,
    pub key_alias: Option<String>,
    pub key_name: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub expires: DateTime<Utc>,
}

/// What the background jobs read: the Router's deployments, the spend log, the keys.
pub trait AlertSources: Send + Sync + 'static {
    /// Whether spend and keys can be read (the spend report and the expiring-key check run
    /// only then).
    fn has_spend_and_keys(&self) -> bool {
        true
    }

    /// A deployment by id.
    fn deployment(&self, id: &str) -> Option<DeploymentInfo>;

    /// Spend per team and tag from `start` to `end`.
    fn spend_report(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<SpendReport, String>>;

    /// Keys that expire after `after` and before `before`.
    fn expiring_keys(
        &self,
        after: DateTime<Utc>,
        before: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<ExpiringKey>, String>>;
}

/// A deployment's errors in the current outage window.
#[derive(Debug, Clone)]
struct Outage {
    opened: SystemTime,
    errors: Vec<u16>,
    minor_sent: bool,
    major_sent: bool,
}

/// What the deployment report accumulates between two reports.
#[derive(Debug, Clone, Default)]
struct DeploymentDay {
    failed: u64,
    /// Seconds per output token (or per call without output tokens), summed.
    latency: f64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Inner {
    settings: AlertingSettings,
    clock: Arc<dyn Clock>,
    slack: Option<Arc<Queue<SlackMessage>>>,
    webhook: Option<Arc<Queue<WebhookEvent>>>,
    email: Option<Arc<Queue<EmailAlert>>>,
    /// De-duplication: key → until when it is not sent again.
    sent: Mutex<HashMap<String, SystemTime>>,
    outages: Mutex<HashMap<String, Outage>>,
    days: Mutex<HashMap<String, DeploymentDay>>,
    sources: OnceLock<Arc<dyn AlertSources>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// The alerting of one proxy: its settings, de-duplication state and delivery queues.
#[derive(Clone)]
pub struct Alerting {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Alerting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerting")
            .field("channels", &self.inner.settings.channels)
            .finish_non_exhaustive()
    }
}

fn queue_config() -> QueueConfig {
    QueueConfig {
        capacity: 1_000,
        batch_size: 50,
        // LiteLLM sends its alert batch every 10 s; a second is enough to gather a burst.
        linger: Duration::from_secs(1),
        max_retries: 3,
        backoff: Duration::from_millis(500),
        max_backoff: Duration::from_secs(10),
        on_failure: OnFailure::Drop,
    }
}

impl Alerting {
    /// Start the channels' queues (inside a Tokio runtime).
    ///
    /// # Errors
    /// A channel's variables are missing, or no HTTP client.
    pub fn start(settings: AlertingSettings, environment: &Environment) -> Result<Self, String> {
        Self::start_with(settings, environment, Arc::new(SystemClock), |_| {})
    }

    /// As [`Alerting::start`], with a clock (tests move it) and the queues' config changed by
    /// `tune`.
    ///
    /// # Errors
    /// As [`Alerting::start`].
    pub fn start_with(
        settings: AlertingSettings,
        environment: &Environment,
        clock: Arc<dyn Clock>,
        tune: impl Fn(&mut QueueConfig),
    ) -> Result<Self, String> {
        settings.check_environment(environment)?;
        let config = || {
            let mut config = queue_config();
            tune(&mut config);
            config
        };
        let slack = if settings.has(Channel::Slack) {
            let sink = slack::Slack::new(settings.args.log_to_console)?;
            Some(Arc::new(Queue::start(Arc::new(sink), config())))
        } else {
            None
        };
        let webhook = match (&settings.webhook_url, settings.has(Channel::Webhook)) {
            (Some(url), true) => {
                let sink = webhook::Webhook::new(url.clone())?;
                Some(Arc::new(Queue::start(Arc::new(sink), config())))
            }
            _ => None,
        };
        let email = match (&settings.smtp, settings.has(Channel::Email)) {
            (Some(smtp), true) => {
                let sink = email::Email::new(smtp)?;
                Some(Arc::new(Queue::start(Arc::new(sink), config())))
            }
            _ => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                clock,
                slack,
                webhook,
                email,
                sent: Mutex::new(HashMap::new()),
                outages: Mutex::new(HashMap::new()),
                days: Mutex::new(HashMap::new()),
                sources: OnceLock::new(),
                tasks: Mutex::new(Vec::new()),
            }),
        })
    }

    #[must_use]
    pub fn settings(&self) -> &AlertingSettings {
        &self.inner.settings
    }

    /// The pipeline layers: slow and failed calls, outages, the deployment report's counts.
    #[must_use]
    pub fn layers(&self) -> Layers {
        layers::layers(self)
    }

    /// Whether alerts of `kind` are sent at all.
    #[must_use]
    pub fn wants(&self, kind: AlertType) -> bool {
        self.inner.settings.wants(kind)
    }

    fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    /// `true` (and remembered for `ttl`) the first time `key` is seen within `ttl`.
    fn first_within(&self, key: String, ttl: Duration) -> bool {
        let now = self.now();
        let mut sent = lock(&self.inner.sent);
        if sent.len() > 10_000 {
            sent.retain(|_, until| *until > now);
        }
        match sent.get(&key) {
            Some(until) if *until > now => false,
            _ => {
                sent.insert(key, now + ttl);
                true
            }
        }
    }

    /// Send a Slack alert of `kind` (when that type is on and Slack is a channel).
    pub fn send(&self, kind: AlertType, level: Level, message: &str) {
        let Some(queue) = &self.inner.slack else {
            return;
        };
        if !self.wants(kind) {
            return;
        }
        let text = self.format(kind, level, message);
        for url in self.inner.settings.slack_urls(kind) {
            queue.push(SlackMessage {
                url,
                text: text.clone(),
            });
        }
    }

    /// The Slack text: level and time in front (reports go as they are), metadata after.
    fn format(&self, kind: AlertType, level: Level, message: &str) -> String {
        let mut text = if matches!(kind, AlertType::DailyReports | AlertType::SpendReports) {
            message.to_owned()
        } else {
            let time = DateTime::<Utc>::from(self.now()).format("%H:%M:%S");
            format!(
                "Level: `{}`\nTimestamp: `{time}`\n\nMessage: {message}",
                level.as_str()
            )
        };
        if let Some(base) = &self.inner.settings.proxy_base_url {
            text.push_str(&format!("\n\nProxy URL: `{base}`"));
        }
        text
    }

    /// An entity's budget after a call: LiteLLM's budget alert (`soft_budget_crossed`,
    /// `budget_crossed`, `threshold_crossed` at 15 % and 5 % left), once per entity and event
    /// within `budget_alert_ttl`, to Slack, the webhook and mail.
    pub fn budget(&self, level: &BudgetLevel) {
        if !self.wants(AlertType::BudgetAlerts) {
            return;
        }
        let Some((event, message)) = budget_event(level) else {
            return;
        };
        let key = format!(
            "budget_alerts:{event}:{}:{}",
            level.entity_type, level.entity_id
        );
        if !self.first_within(key, self.inner.settings.args.budget_alert_ttl) {
            return;
        }
        let webhook_event = WebhookEvent {
            spend: level.spend,
            max_budget: level.max_budget,
            soft_budget: level.soft_budget,
            token: level.token.clone(),
            customer_id: level.customer_id.clone(),
            user_id: level.user_id.clone(),
            team_id: level.team_id.clone(),
            team_alias: level.team_alias.clone(),
            user_email: level.user_email.clone(),
            key_alias: level.key_alias.clone(),
            organization_id: level.organization_id.clone(),
            projected_exceeded_date: None,
            projected_spend: None,
            event,
            event_group: level.entity_type,
            event_message: message.clone(),
        };
        let details = budget_details(&webhook_event);
        self.send(
            AlertType::BudgetAlerts,
            Level::High,
            &format!("{message}\n\n{details}"),
        );
        if let Some(queue) = &self.inner.webhook {
            queue.push(webhook_event.clone());
        }
        if let Some(queue) = &self.inner.email
            && let Some(alert) = EmailAlert::budget(&webhook_event)
        {
            queue.push(alert);
        }
    }

    /// The Router cooled a deployment down (`cooldown_deployment`).
    pub fn cooldown(&self, cooldown: &Cooldown) {
        if !self.wants(AlertType::CooldownDeployment) {
            return;
        }
        let key = format!("cooldown_deployment:{}", cooldown.deployment_id);
        if !self.first_within(key, cooldown.cooldown.max(Duration::from_secs(1))) {
            return;
        }
        let mut message = format!(
            "Deployment cooling down for `{}s`\nModel Group: `{}`\nModel: `{}`\nModel ID: `{}`",
            cooldown.cooldown.as_secs_f64(),
            cooldown.model_group,
            cooldown.model,
            cooldown.deployment_id
        );
        if let Some(base) = &cooldown.api_base {
            message.push_str(&format!("\nAPI Base: `{base}`"));
        }
        message.push_str(&format!(
            "\nException Status: `{}`\nError: `{}`",
            cooldown.status,
            truncate(&cooldown.error, 500)
        ));
        self.send(AlertType::CooldownDeployment, Level::Medium, &message);
    }

    /// A failed attempt on a deployment: outages (408 and 5xx within `outage_alert_ttl`:
    /// minor at `minor_outage_alert_threshold`, major at `major_outage_alert_threshold`) and
    /// the deployment report's failure count.
    pub(crate) fn attempt_failed(&self, deployment_id: &str, model: &str, status: u16) {
        if self.wants(AlertType::DailyReports) {
            lock(&self.inner.days)
                .entry(deployment_id.to_owned())
                .or_default()
                .failed += 1;
        }
        if !self.wants(AlertType::OutageAlerts) || (status != 408 && status < 500) {
            return;
        }
        let args = &self.inner.settings.args;
        let now = self.now();
        let alert = {
            let mut outages = lock(&self.inner.outages);
            let outage = outages
                .entry(deployment_id.to_owned())
                .or_insert_with(|| Outage {
                    opened: now,
                    errors: Vec::new(),
                    minor_sent: false,
                    major_sent: false,
                });
            if now.duration_since(outage.opened).unwrap_or_default() >= args.outage_alert_ttl {
                *outage = Outage {
                    opened: now,
                    errors: Vec::new(),
                    minor_sent: false,
                    major_sent: false,
                };
            }
            if outage.errors.len() < args.max_outage_alert_list_size.max(1) {
                outage.errors.push(status);
            }
            let count = outage.errors.len();
            if !outage.major_sent && count >= args.major_outage_alert_threshold {
                outage.major_sent = true;
                outage.minor_sent = true;
                Some(("Major", Level::High, outage.errors.clone()))
            } else if !outage.minor_sent && count >= args.minor_outage_alert_threshold {
                outage.minor_sent = true;
                Some(("Minor", Level::Medium, outage.errors.clone()))
            } else {
                None
            }
        };
        let Some((severity, level, errors)) = alert else {
            return;
        };
        let info = self
            .inner
            .sources
            .get()
            .and_then(|sources| sources.deployment(deployment_id));
        let mut message = format!("*⚠️ {severity} Service Outage*\n\n");
        match &info {
            Some(info) => {
                message.push_str(&format!(
                    "*Model Name:* `{}`\n*Provider:* `{}`\n",
                    info.model, info.provider
                ));
                if let Some(base) = &info.api_base {
                    message.push_str(&format!("*API Base:* `{base}`\n"));
                }
            }
            None => message.push_str(&format!("*Model Name:* `{model}`\n")),
        }
        message.push_str(&format!("*Model ID:* `{deployment_id}`\n\n*Errors:*\n"));
        let timeouts = errors.iter().filter(|s| **s == 408).count();
        let api = errors.iter().filter(|s| **s >= 500).count();
        if timeouts > 0 {
            message.push_str(&format!("Timeout Errors: {timeouts}\n"));
        }
        if api > 0 {
            message.push_str(&format!("API Errors: {api}\n"));
        }
        self.send(AlertType::OutageAlerts, level, &message);
    }

    /// A successful call's latency for the deployment report.
    pub(crate) fn record_latency(&self, deployment_id: &str, latency: f64) {
        lock(&self.inner.days)
            .entry(deployment_id.to_owned())
            .or_default()
            .latency += latency;
    }

    /// Where the background jobs read deployments, spend and keys (set once).
    pub fn set_sources(&self, sources: Arc<dyn AlertSources>) {
        let _ = self.inner.sources.set(sources);
    }

    /// Start the background jobs: the deployment report, the spend report and the expiring
    /// keys check, as the alert types ask.
    pub fn start_jobs(&self) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let mut tasks = lock(&self.inner.tasks);
        if !tasks.is_empty() {
            return;
        }
        let check_every = self.inner.settings.args.report_check_interval;
        let report_every = self.inner.settings.args.daily_report_frequency;
        if self.wants(AlertType::DailyReports) {
            let alerting = self.clone();
            tasks.push(tokio::spawn(async move {
                let mut last = alerting.now();
                loop {
                    tokio::time::sleep(check_every).await;
                    let now = alerting.now();
                    if now.duration_since(last).unwrap_or_default() >= report_every {
                        last = now;
                        alerting.send_deployment_report();
                    }
                }
            }));
        }
        let readable = self
            .inner
            .sources
            .get()
            .is_some_and(|sources| sources.has_spend_and_keys());
        if self.wants(AlertType::SpendReports) && readable {
            let alerting = self.clone();
            let every = self.inner.settings.spend_report_frequency;
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    alerting.send_spend_report(every).await;
                }
            }));
        }
        if self.wants(AlertType::VirtualKeyExpiring) && readable {
            let alerting = self.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    alerting.check_expiring_keys().await;
                    tokio::time::sleep(check_every).await;
                }
            }));
        }
    }

    /// The deployment report (`daily_reports`): the deployments with the most failed calls and
    /// the slowest ones since the last report; nothing is sent when nothing was counted.
    pub fn send_deployment_report(&self) -> bool {
        let days: Vec<(String, DeploymentDay)> = lock(&self.inner.days).drain().collect();
        let mut failed: Vec<(&String, u64)> = days
            .iter()
            .filter(|(_, d)| d.failed > 0)
            .map(|(id, d)| (id, d.failed))
            .collect();
        let mut slow: Vec<(&String, f64)> = days
            .iter()
            .filter(|(_, d)| d.latency > 0.0)
            .map(|(id, d)| (id, d.latency))
            .collect();
        if failed.is_empty() && slow.is_empty() {
            return false;
        }
        failed.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        slow.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let describe = |id: &str| {
            let info = self
                .inner
                .sources
                .get()
                .and_then(|sources| sources.deployment(id));
            match info {
                Some(info) => (info.model, info.api_base.unwrap_or_default()),
                None => (id.to_owned(), String::new()),
            }
        };
        let now = DateTime::<Utc>::from(self.now());
        let mut message = format!(
            "\n\nTime: `{}`\nHere are today's key metrics 📈: \n\n\n\n*❗️ Top Deployments with Most Failed Requests:*\n\n",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        if failed.is_empty() {
            message.push_str("\tNone\n");
        }
        for (rank, (id, count)) in failed.iter().take(5).enumerate() {
            let (model, base) = describe(id);
            message.push_str(&format!(
                "\t{}. Deployment: `{model}`, Failed Requests: `{count}`,  API Base: `{base}`\n",
                rank + 1
            ));
        }
        message.push_str("\n\n*😅 Top Slowest Deployments:*\n\n");
        if slow.is_empty() {
            message.push_str("\tNone\n");
        }
        for (rank, (id, latency)) in slow.iter().take(5).enumerate() {
            let (model, base) = describe(id);
            message.push_str(&format!(
                "\t{}. Deployment: `{model}`, Latency per output token: `{latency:.3}s/token`,  API Base: `{base}`\n\n",
                rank + 1
            ));
        }
        self.send(AlertType::DailyReports, Level::Low, &message);
        true
    }

    /// The spend report (`spend_reports`) for the last `window`: spend per team and per tag.
    pub async fn send_spend_report(&self, window: Duration) {
        let Some(sources) = self.inner.sources.get() else {
            return;
        };
        let end = DateTime::<Utc>::from(self.now());
        let start = end - chrono::Duration::from_std(window).unwrap_or_default();
        let report = match sources.spend_report(start, end).await {
            Ok(report) => report,
            Err(error) => {
                tracing::warn!(%error, "alerting: spend report not built");
                return;
            }
        };
        let days = window.as_secs().div_ceil(86_400).max(1);
        let mut message = format!(
            "*💸 Spend Report for `{} - {}` ({days} days)*\n",
            start.format("%m-%d-%Y"),
            end.format("%m-%d-%Y")
        );
        message.push_str("\n*Team Spend Report:*\n");
        for (team, spend) in &report.teams {
            message.push_str(&format!("Team: `{team}` | Spend: `${}`\n", round4(*spend)));
        }
        message.push_str("\n*Tag Spend Report:*\n");
        for (tag, spend) in &report.tags {
            message.push_str(&format!("Tag: `{tag}` | Spend: `${}`\n", round4(*spend)));
        }
        self.send(AlertType::SpendReports, Level::Low, &message);
    }

    /// Keys that expire within `key_expiry_warning` (`virtual_key_expiring`), each once.
    pub async fn check_expiring_keys(&self) {
        let Some(sources) = self.inner.sources.get() else {
            return;
        };
        let warning = self.inner.settings.args.key_expiry_warning;
        let now = DateTime::<Utc>::from(self.now());
        let until = now + chrono::Duration::from_std(warning).unwrap_or_default();
        let keys = match sources.expiring_keys(now, until).await {
            Ok(keys) => keys,
            Err(error) => {
                tracing::warn!(%error, "alerting: expiring keys not read");
                return;
            }
        };
        for key in keys {
            let left = (key.expires - now).to_std().unwrap_or_default();
            if !self.first_within(
                format!("virtual_key_expiring:{}", key.token),
                left + Duration::from_secs(1),
            ) {
                continue;
            }
            let mut message = format!(
                "Virtual key expires in `{}`\nExpires: `{}`\nKey Hash: `{}`",
                human(left),
                key.expires
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                key.token
            );
            for (label, value) in [
                ("Key Alias", &key.key_alias),
                ("Key Name", &key.key_name),
                ("User ID", &key.user_id),
                ("Team ID", &key.team_id),
            ] {
                if let Some(value) = value {
                    message.push_str(&format!("\n{label}: `{value}`"));
                }
            }
            self.send(AlertType::VirtualKeyExpiring, Level::Medium, &message);
        }
    }

    /// Each channel's queue counters.
    #[must_use]
    pub fn stats(&self) -> Vec<(&'static str, QueueStats)> {
        let mut stats = Vec::new();
        if let Some(queue) = &self.inner.slack {
            stats.push(("slack", queue.stats()));
        }
        if let Some(queue) = &self.inner.webhook {
            stats.push(("webhook", queue.stats()));
        }
        if let Some(queue) = &self.inner.email {
            stats.push(("email", queue.stats()));
        }
        stats
    }

    /// Deliver everything queued so far.
    pub async fn flush(&self) {
        if let Some(queue) = &self.inner.slack {
            queue.flush().await;
        }
        if let Some(queue) = &self.inner.webhook {
            queue.flush().await;
        }
        if let Some(queue) = &self.inner.email {
            queue.flush().await;
        }
    }

    /// Stop the jobs, deliver what is queued and stop the queues.
    pub async fn shutdown(&self) {
        let tasks: Vec<_> = lock(&self.inner.tasks).drain(..).collect();
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
        if let Some(queue) = &self.inner.slack {
            queue.shutdown().await;
        }
        if let Some(queue) = &self.inner.webhook {
            queue.shutdown().await;
        }
        if let Some(queue) = &self.inner.email {
            queue.shutdown().await;
        }
    }
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// `3d 4h`, `2h 5m`, `40s`.
fn human(left: Duration) -> String {
    let seconds = left.as_secs();
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m {}s", seconds % 60)
    } else {
        format!("{seconds}s")
    }
}

pub(crate) fn truncate(text: &str, limit: usize) -> &str {
    match text.char_indices().nth(limit) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// LiteLLM's budget event for a level: a crossed soft budget, then the max budget (crossed,
/// 5 % left, 15 % left) which takes precedence. `None` below every threshold.
fn budget_event(level: &BudgetLevel) -> Option<(&'static str, String)> {
    let prefix = match level.entity_type {
        "key" => "Key Budget: ",
        "user" => "User Budget: ",
        "team" => "Team Budget: ",
        "team_member" => "Team Member Budget: ",
        "organization" => "Organization Budget: ",
        "end_user" => "Customer Budget: ",
        _ => "Budget: ",
    };
    let mut event = None;
    let mut message = String::new();
    if let Some(soft) = level.soft_budget
        && level.spend >= soft
    {
        event = Some("soft_budget_crossed");
        message = format!("Soft Budget Crossed: Total Soft Budget:`{soft}`");
    }
    if let Some(max) = level.max_budget {
        let left = if max > 0.0 {
            (max - level.spend) / max
        } else {
            0.0
        };
        let crossed = if level.spend >= max {
            Some((
                "budget_crossed",
                format!("Budget Crossed\n Total Budget:`{max}`"),
            ))
        } else if left <= 0.05 {
            Some(("threshold_crossed", "5% Threshold Crossed ".to_owned()))
        } else if left <= 0.15 {
            Some(("threshold_crossed", "15% Threshold Crossed".to_owned()))
        } else {
            None
        };
        if let Some((name, text)) = crossed {
            event = Some(name);
            message = format!("{prefix}{text}");
        }
    }
    event.map(|event| (event, message))
}

/// The event's fields as `name: value` lines (the Slack text's details).
fn budget_details(event: &WebhookEvent) -> String {
    let mut lines = vec![format!("spend: {}", event.spend)];
    let mut add = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            lines.push(format!("{name}: {value}"));
        }
    };
    add("max_budget", event.max_budget.map(|v| v.to_string()));
    add("soft_budget", event.soft_budget.map(|v| v.to_string()));
    add("token", event.token.clone());
    add("customer_id", event.customer_id.clone());
    add("user_id", event.user_id.clone());
    add("team_id", event.team_id.clone());
    add("team_alias", event.team_alias.clone());
    add("user_email", event.user_email.clone());
    add("key_alias", event.key_alias.clone());
    add("organization_id", event.organization_id.clone());
    lines.push(format!("event_group: {}", event.event_group));
    lines.join("\n")
}

/// A batch sent one item at a time: it counts as failed (and is retried whole) only when
/// nothing of it went out, so a receiver never gets an alert twice.
#[derive(Default)]
pub(crate) struct Sends {
    sent: usize,
    last_error: Option<String>,
}

impl Sends {
    /// One send's result (a failure is logged as `"{channel} alert not delivered"`).
    pub(crate) fn record<T, E: std::fmt::Display>(&mut self, channel: &str, result: Result<T, E>) {
        match result {
            Ok(_) => self.sent += 1,
            Err(error) => {
                tracing::warn!(%error, "{channel} alert not delivered");
                self.last_error = Some(error.to_string());
            }
        }
    }

    /// `Err` when something failed and nothing was sent.
    pub(crate) fn outcome(self) -> Result<(), String> {
        match self.last_error {
            Some(error) if self.sent == 0 => Err(error),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmrelay_core::clock::ManualClock;
    use serde_json::json;

    fn settings(extra: serde_json::Value) -> AlertingSettings {
        let mut general = json!({"alerting": ["slack"]});
        if let (Some(general), Some(extra)) = (general.as_object_mut(), extra.as_object()) {
            general.extend(extra.clone());
        }
        let Some(map) = general.as_object() else {
            unreachable!()
        };
        AlertingSettings::from_general_settings(
            map,
            &Environment::from_pairs([("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/x")]),
        )
        .unwrap()
        .unwrap()
    }

    fn level(spend: f64, max: Option<f64>, soft: Option<f64>) -> BudgetLevel {
        BudgetLevel {
            entity_type: "key",
            entity_id: "hash".into(),
            spend,
            max_budget: max,
            soft_budget: soft,
            ..BudgetLevel::default()
        }
    }

    #[test]
    fn budget_events_follow_litellm() {
        assert_eq!(budget_event(&level(0.5, Some(1.0), None)), None);
        assert_eq!(
            budget_event(&level(0.86, Some(1.0), None)).unwrap().0,
            "threshold_crossed"
        );
        let (event, message) = budget_event(&level(0.96, Some(1.0), None)).unwrap();
        assert_eq!(
            (event, message.as_str()),
            ("threshold_crossed", "Key Budget: 5% Threshold Crossed ")
        );
        let (event, message) = budget_event(&level(1.0, Some(1.0), Some(0.5))).unwrap();
        assert_eq!(event, "budget_crossed");
        assert!(
            message.starts_with("Key Budget: Budget Crossed"),
            "{message}"
        );
        let (event, message) = budget_event(&level(0.6, Some(10.0), Some(0.5))).unwrap();
        assert_eq!(event, "soft_budget_crossed");
        assert!(message.contains("Total Soft Budget:`0.5`"), "{message}");
        assert_eq!(budget_event(&level(0.4, None, Some(0.5))), None);
    }

    #[tokio::test]
    async fn budget_alerts_are_sent_once_per_ttl_of_the_clock() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000));
        let alerting = Alerting::start_with(
            settings(json!({"alerting_args": {"budget_alert_ttl": 60}})),
            &Environment::from_pairs([]),
            Arc::new(clock.clone()),
            |c| c.linger = Duration::from_secs(3600),
        )
        .unwrap();
        let crossed = level(2.0, Some(1.0), None);
        alerting.budget(&crossed);
        alerting.budget(&crossed);
        assert_eq!(alerting.stats()[0].1.accepted, 1, "de-duplicated");
        clock.advance(Duration::from_secs(59));
        alerting.budget(&crossed);
        assert_eq!(alerting.stats()[0].1.accepted, 1);
        clock.advance(Duration::from_secs(2));
        alerting.budget(&crossed);
        assert_eq!(alerting.stats()[0].1.accepted, 2, "again after the TTL");
        // Another event of the same key is its own alert.
        alerting.budget(&level(0.9, Some(1.0), None));
        assert_eq!(alerting.stats()[0].1.accepted, 3);
    }

    #[tokio::test]
    async fn outages_alert_at_the_minor_then_major_threshold_within_the_window() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000));
        let alerting = Alerting::start_with(
            settings(json!({"alerting_args": {"minor_outage_alert_threshold": 2, "major_outage_alert_threshold": 3, "outage_alert_ttl": 60}})),
            &Environment::from_pairs([]),
            Arc::new(clock.clone()),
            |c| c.linger = Duration::from_secs(3600),
        )
        .unwrap();
        let accepted = || alerting.stats()[0].1.accepted;
        alerting.attempt_failed("d1", "openai/gpt-4o", 400);
        alerting.attempt_failed("d1", "openai/gpt-4o", 500);
        assert_eq!(accepted(), 0, "a 400 does not count");
        alerting.attempt_failed("d1", "openai/gpt-4o", 503);
        assert_eq!(accepted(), 1, "minor");
        alerting.attempt_failed("d1", "openai/gpt-4o", 408);
        assert_eq!(accepted(), 2, "major");
        alerting.attempt_failed("d1", "openai/gpt-4o", 500);
        assert_eq!(accepted(), 2, "each once per window");
        clock.advance(Duration::from_secs(61));
        alerting.attempt_failed("d1", "openai/gpt-4o", 500);
        alerting.attempt_failed("d1", "openai/gpt-4o", 500);
        assert_eq!(accepted(), 3, "a new window");
    }

    #[tokio::test]
    async fn the_deployment_report_lists_failures_and_latency_then_resets() {
        let alerting = Alerting::start_with(
            settings(json!({})),
            &Environment::from_pairs([]),
            Arc::new(SystemClock),
            |c| c.linger = Duration::from_secs(3600),
        )
        .unwrap();
        assert!(!alerting.send_deployment_report(), "nothing counted");
        alerting.attempt_failed("d1", "m", 401);
        alerting.record_latency("d2", 0.25);
        assert!(alerting.send_deployment_report());
        assert!(!alerting.send_deployment_report(), "reset after a report");
        assert_eq!(human(Duration::from_secs(3 * 86_400 + 7200)), "3d 2h");
        assert_eq!(human(Duration::from_secs(59)), "59s");
    }
}
