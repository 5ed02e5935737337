//! LiteLLM's alerting settings in `general_settings`: `alerting` (the channels: `slack`,
//! `webhook`, `email`), `alert_types`, `alerting_threshold`, `alert_to_webhook_url`,
//! `alerting_args` (`SlackAlertingArgs`) and `spend_report_frequency`; the channels' variables
//! (`SLACK_WEBHOOK_URL`, `WEBHOOK_URL`, `SMTP_*`) come from an [`Environment`].

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::settings::Environment;

/// The `general_settings` keys alerting reads.
pub const SETTINGS: &[&str] = &[
    "alerting",
    "alert_types",
    "alerting_threshold",
    "alert_to_webhook_url",
    "alerting_args",
    "spend_report_frequency",
];

/// LiteLLM's `AlertType` values this gateway sends, plus `virtual_key_expiring` (llmrelay's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertType {
    LlmExceptions,
    LlmTooSlow,
    LlmRequestsHanging,
    BudgetAlerts,
    SpendReports,
    FailedTrackingSpend,
    DbExceptions,
    DailyReports,
    CooldownDeployment,
    NewModelAdded,
    ModelDeprecationWarnings,
    OutageAlerts,
    RegionOutageAlerts,
    FallbackReports,
    /// llmrelay's: a virtual key expires within `alerting_args.key_expiry_warning`.
    VirtualKeyExpiring,
}

/// Every alert type, with its name.
const NAMES: &[(AlertType, &str)] = &[
    (AlertType::LlmExceptions, "llm_exceptions"),
    (AlertType::LlmTooSlow, "llm_too_slow"),
    (AlertType::LlmRequestsHanging, "llm_requests_hanging"),
    (AlertType::BudgetAlerts, "budget_alerts"),
    (AlertType::SpendReports, "spend_reports"),
    (AlertType::FailedTrackingSpend, "failed_tracking_spend"),
    (AlertType::DbExceptions, "db_exceptions"),
    (AlertType::DailyReports, "daily_reports"),
    (AlertType::CooldownDeployment, "cooldown_deployment"),
    (AlertType::NewModelAdded, "new_model_added"),
    (
        AlertType::ModelDeprecationWarnings,
        "model_deprecation_warnings",
    ),
    (AlertType::OutageAlerts, "outage_alerts"),
    (AlertType::RegionOutageAlerts, "region_outage_alerts"),
    (AlertType::FallbackReports, "fallback_reports"),
    (AlertType::VirtualKeyExpiring, "virtual_key_expiring"),
];

/// LiteLLM's management-event alert types (`new_virtual_key_created`, …): accepted in
/// `alert_types`, not sent yet.
const MANAGEMENT_EVENTS: &[&str] = &[
    "new_virtual_key_created",
    "virtual_key_updated",
    "virtual_key_deleted",
    "new_team_created",
    "team_updated",
    "team_deleted",
    "new_internal_user_created",
    "internal_user_updated",
    "internal_user_deleted",
];

impl AlertType {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        NAMES
            .iter()
            .find(|(kind, _)| *kind == self)
            .map_or("", |(_, name)| name)
    }

    /// The alert type called `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        NAMES
            .iter()
            .find(|(_, known)| *known == name.trim())
            .map(|(kind, _)| *kind)
    }

    /// LiteLLM's `DEFAULT_ALERT_TYPES` (used when `alert_types` is not set), and
    /// `virtual_key_expiring`.
    #[must_use]
    pub fn defaults() -> Vec<Self> {
        NAMES.iter().map(|(kind, _)| *kind).collect()
    }
}

/// Where alerts go (`general_settings.alerting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Slack incoming webhooks (and Slack-compatible ones: Discord's `/slack`, Teams).
    Slack,
    /// LiteLLM's `WebhookEvent` JSON to `WEBHOOK_URL` (budget alerts).
    Webhook,
    /// SMTP mail to the user of the key (budget alerts).
    Email,
}

/// LiteLLM's `SlackAlertingArgs` (`general_settings.alerting_args`), in seconds there.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertingArgs {
    /// How often the deployment report (`daily_reports`) is sent (default 12 h;
    /// `SLACK_DAILY_REPORT_FREQUENCY`).
    pub daily_report_frequency: Duration,
    /// How often the background job checks whether a report is due (default 5 min); also
    /// how often expiring keys are looked for.
    pub report_check_interval: Duration,
    /// A budget alert is sent once per entity and event within this time (default 24 h).
    pub budget_alert_ttl: Duration,
    /// The window in which a deployment's errors count toward an outage (default 60 s).
    pub outage_alert_ttl: Duration,
    pub region_outage_alert_ttl: Duration,
    /// Errors (408 or 5xx) within the window that make a minor outage (default 5).
    pub minor_outage_alert_threshold: usize,
    /// … and a major one (default 10).
    pub major_outage_alert_threshold: usize,
    /// Errors kept per deployment (default 10).
    pub max_outage_alert_list_size: usize,
    /// Log every alert payload as a warning too.
    pub log_to_console: bool,
    /// llmrelay's: how long before a key's `expires` it is reported (default 7 days).
    pub key_expiry_warning: Duration,
}

impl Default for AlertingArgs {
    fn default() -> Self {
        Self {
            daily_report_frequency: Duration::from_secs(12 * 3600),
            report_check_interval: Duration::from_secs(5 * 60),
            budget_alert_ttl: Duration::from_secs(24 * 3600),
            outage_alert_ttl: Duration::from_secs(60),
            region_outage_alert_ttl: Duration::from_secs(60),
            minor_outage_alert_threshold: 5,
            major_outage_alert_threshold: 10,
            max_outage_alert_list_size: 10,
            log_to_console: false,
            key_expiry_warning: Duration::from_secs(7 * 86_400),
        }
    }
}

/// The checked alerting settings.
#[derive(Debug, Clone)]
pub struct AlertingSettings {
    pub channels: Vec<Channel>,
    pub alert_types: Vec<AlertType>,
    /// `alerting_threshold`: a response slower than this is `llm_too_slow` (default 300 s).
    pub threshold: Duration,
    /// `alert_to_webhook_url`: Slack URLs per alert type (a string or a list).
    pub webhook_urls: HashMap<AlertType, Vec<String>>,
    /// `SLACK_WEBHOOK_URL`: for alert types without their own URL.
    pub default_slack_url: Option<String>,
    /// `WEBHOOK_URL` (`webhook` channel).
    pub webhook_url: Option<String>,
    pub smtp: Option<SmtpSettings>,
    pub args: AlertingArgs,
    /// `spend_report_frequency` (`1d`, `7d`; llmrelay also takes `s`, `m`, `h`): default 7 days.
    pub spend_report_frequency: Duration,
    /// Messages are left out of slow and failed request alerts (`turn_off_message_logging`,
    /// `redact_messages_in_exceptions`).
    pub redact_messages: bool,
    /// `PROXY_BASE_URL`: added to every Slack message.
    pub proxy_base_url: Option<String>,
}

/// LiteLLM's SMTP variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    /// `SMTP_PORT` (default 587).
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub sender: String,
    /// `SMTP_TLS` (default true): STARTTLS before authenticating.
    pub tls: bool,
}

impl SmtpSettings {
    /// # Errors
    /// `SMTP_HOST` or `SMTP_SENDER_EMAIL` is not set, or `SMTP_PORT` is not a port.
    pub fn from_env(environment: &Environment) -> Result<Self, String> {
        let host = environment
            .get("SMTP_HOST")
            .ok_or("email alerting: SMTP_HOST is not set")?;
        let sender = environment
            .get("SMTP_SENDER_EMAIL")
            .ok_or("email alerting: SMTP_SENDER_EMAIL is not set")?;
        let port = match environment.get("SMTP_PORT") {
            Some(port) => port
                .trim()
                .parse()
                .map_err(|_| format!("email alerting: SMTP_PORT {port:?} is not a port"))?,
            None => 587,
        };
        let tls = environment
            .get("SMTP_TLS")
            .is_none_or(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
        Ok(Self {
            host,
            port,
            username: environment.get("SMTP_USERNAME"),
            password: environment.get("SMTP_PASSWORD"),
            sender,
            tls,
        })
    }
}

fn seconds(value: &Value, path: &str) -> Result<Duration, String> {
    value
        .as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{path}: expected a number of seconds, got {value}"))
}

fn count(value: &Value, path: &str) -> Result<usize, String> {
    value
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("{path}: expected a whole number, got {value}"))
}

/// `1d`, `7d` (LiteLLM), and `30s`, `15m`, `2h`.
fn frequency(text: &str, path: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{path}: expected e.g. 1d or 7d, got {text:?}"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{path}: expected e.g. 1d or 7d, got {text:?}")),
    };
    Ok(Duration::from_secs(number.saturating_mul(unit)))
}

fn strings(value: &Value, path: &str) -> Result<Vec<String>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(one) => Ok(vec![one.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{path}[{index}]: expected a string, got {item}"))
            })
            .collect(),
        other => Err(format!("{path}: expected a list of strings, got {other}")),
    }
}

impl AlertingArgs {
    fn from_value(value: &Value, environment: &Environment) -> Result<Self, String> {
        let mut args = Self::default();
        if let Some(frequency) = environment
            .get("SLACK_DAILY_REPORT_FREQUENCY")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
        {
            args.daily_report_frequency = Duration::from_secs_f64(frequency);
        }
        let Some(map) = value.as_object() else {
            return match value {
                Value::Null => Ok(args),
                other => Err(format!(
                    "general_settings.alerting_args: expected a mapping, got {other}"
                )),
            };
        };
        for (key, value) in map {
            let path = format!("general_settings.alerting_args.{key}");
            match key.as_str() {
                "daily_report_frequency" => args.daily_report_frequency = seconds(value, &path)?,
                "report_check_interval" => args.report_check_interval = seconds(value, &path)?,
                "budget_alert_ttl" => args.budget_alert_ttl = seconds(value, &path)?,
                "outage_alert_ttl" => args.outage_alert_ttl = seconds(value, &path)?,
                "region_outage_alert_ttl" => args.region_outage_alert_ttl = seconds(value, &path)?,
                "minor_outage_alert_threshold" => {
                    args.minor_outage_alert_threshold = count(value, &path)?;
                }
                "major_outage_alert_threshold" => {
                    args.major_outage_alert_threshold = count(value, &path)?;
                }
                "max_outage_alert_list_size" => {
                    args.max_outage_alert_list_size = count(value, &path)?;
                }
                "log_to_console" => {
                    args.log_to_console = value
                        .as_bool()
                        .ok_or_else(|| format!("{path}: expected true or false, got {value}"))?;
                }
                "key_expiry_warning" => args.key_expiry_warning = seconds(value, &path)?,
                _ => return Err(format!("{path}: unknown alerting argument")),
            }
        }
        // A zero interval would spin the background job.
        args.report_check_interval = args.report_check_interval.max(Duration::from_millis(50));
        Ok(args)
    }
}

impl AlertingSettings {
    /// The alerting settings of `general_settings`, `None` when `alerting` names no channel.
    /// Shapes are checked here; the channels' variables by [`Self::check_environment`].
    ///
    /// # Errors
    /// A bad value, named by its path (`general_settings.alert_types[1]: unknown alert type`).
    pub fn from_general_settings(
        general: &Map<String, Value>,
        environment: &Environment,
    ) -> Result<Option<Self>, String> {
        let channels = strings(
            general.get("alerting").unwrap_or(&Value::Null),
            "general_settings.alerting",
        )?;
        let mut parsed = Vec::new();
        for (index, name) in channels.iter().enumerate() {
            let channel = match name.trim().to_ascii_lowercase().as_str() {
                "slack" => Channel::Slack,
                "webhook" => Channel::Webhook,
                "email" => Channel::Email,
                other => {
                    return Err(format!(
                        "general_settings.alerting[{index}]: {other:?} is not an alerting channel llmrelay has (slack, webhook, email)"
                    ));
                }
            };
            if !parsed.contains(&channel) {
                parsed.push(channel);
            }
        }
        if parsed.is_empty() {
            return Ok(None);
        }
        let alert_types = match general.get("alert_types") {
            None | Some(Value::Null) => AlertType::defaults(),
            Some(value) => {
                let names = strings(value, "general_settings.alert_types")?;
                let mut types = Vec::new();
                for (index, name) in names.iter().enumerate() {
                    match AlertType::parse(name) {
                        Some(kind) => types.push(kind),
                        None if MANAGEMENT_EVENTS.contains(&name.trim()) => {}
                        None => {
                            return Err(format!(
                                "general_settings.alert_types[{index}]: unknown alert type {name:?}"
                            ));
                        }
                    }
                }
                types
            }
        };
        let threshold = match general.get("alerting_threshold") {
            None | Some(Value::Null) => Duration::from_secs(300),
            Some(value) => seconds(value, "general_settings.alerting_threshold")?,
        };
        let mut webhook_urls = HashMap::new();
        match general.get("alert_to_webhook_url") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (name, urls) in map {
                    let path = format!("general_settings.alert_to_webhook_url.{name}");
                    let urls = strings(urls, &path)?;
                    match AlertType::parse(name) {
                        Some(kind) => {
                            webhook_urls.insert(kind, urls);
                        }
                        None if MANAGEMENT_EVENTS.contains(&name.trim()) => {}
                        None => return Err(format!("{path}: unknown alert type")),
                    }
                }
            }
            Some(other) => {
                return Err(format!(
                    "general_settings.alert_to_webhook_url: expected a mapping of alert types to URLs, got {other}"
                ));
            }
        }
        let args = AlertingArgs::from_value(
            general.get("alerting_args").unwrap_or(&Value::Null),
            environment,
        )?;
        let spend_report_frequency = match general.get("spend_report_frequency") {
            None | Some(Value::Null) => Duration::from_secs(7 * 86_400),
            Some(Value::String(text)) => {
                frequency(text, "general_settings.spend_report_frequency")?
            }
            Some(other) => {
                return Err(format!(
                    "general_settings.spend_report_frequency: expected e.g. \"7d\", got {other}"
                ));
            }
        }
        .max(Duration::from_secs(1));
        let smtp = if parsed.contains(&Channel::Email) {
            SmtpSettings::from_env(environment).ok()
        } else {
            None
        };
        Ok(Some(Self {
            channels: parsed,
            alert_types,
            threshold,
            webhook_urls,
            default_slack_url: environment.get("SLACK_WEBHOOK_URL"),
            webhook_url: environment.get("WEBHOOK_URL"),
            smtp,
            args,
            spend_report_frequency,
            redact_messages: false,
            proxy_base_url: environment.get("PROXY_BASE_URL"),
        }))
    }

    /// Whether the channel's variables are there: Slack needs `SLACK_WEBHOOK_URL` or
    /// `alert_to_webhook_url`, `webhook` needs `WEBHOOK_URL`, `email` `SMTP_HOST` and
    /// `SMTP_SENDER_EMAIL`.
    ///
    /// # Errors
    /// What is missing.
    pub fn check_environment(&self, environment: &Environment) -> Result<(), String> {
        if self.has(Channel::Slack) && self.default_slack_url.is_none() {
            let uncovered: Vec<&str> = self
                .alert_types
                .iter()
                .filter(|kind| self.webhook_urls.get(kind).is_none_or(Vec::is_empty))
                .map(|kind| kind.as_str())
                .collect();
            if !uncovered.is_empty() {
                return Err(format!(
                    "slack alerting: SLACK_WEBHOOK_URL is not set and alert_to_webhook_url has no URL for {}",
                    uncovered.join(", ")
                ));
            }
        }
        if self.has(Channel::Webhook) && self.webhook_url.is_none() {
            return Err("webhook alerting: WEBHOOK_URL is not set".to_owned());
        }
        if self.has(Channel::Email) {
            SmtpSettings::from_env(environment)?;
        }
        Ok(())
    }

    #[must_use]
    pub fn has(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }

    #[must_use]
    pub fn wants(&self, kind: AlertType) -> bool {
        self.alert_types.contains(&kind)
    }

    /// The Slack URLs an alert of `kind` goes to.
    #[must_use]
    pub fn slack_urls(&self, kind: AlertType) -> Vec<String> {
        match self.webhook_urls.get(&kind).filter(|urls| !urls.is_empty()) {
            Some(urls) => urls.clone(),
            None => self.default_slack_url.iter().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value, env: &[(&str, &str)]) -> Result<Option<AlertingSettings>, String> {
        let Value::Object(map) = value else {
            unreachable!()
        };
        AlertingSettings::from_general_settings(&map, &Environment::from_pairs(env.iter().copied()))
    }

    #[test]
    fn reads_litellm_settings_with_defaults() {
        assert!(parse(json!({}), &[]).unwrap().is_none());
        let settings = parse(
            json!({"alerting": ["slack", "webhook"], "alert_types": ["budget_alerts", "llm_too_slow", "new_team_created"],
                   "alerting_threshold": 10, "alert_to_webhook_url": {"llm_too_slow": ["https://a", "https://b"], "budget_alerts": "https://c"},
                   "alerting_args": {"budget_alert_ttl": 5, "minor_outage_alert_threshold": 2}, "spend_report_frequency": "1d"}),
            &[("SLACK_WEBHOOK_URL", "https://default"), ("WEBHOOK_URL", "https://hook")],
        )
        .unwrap()
        .unwrap();
        assert_eq!(settings.channels, [Channel::Slack, Channel::Webhook]);
        assert_eq!(
            settings.alert_types,
            [AlertType::BudgetAlerts, AlertType::LlmTooSlow]
        );
        assert_eq!(settings.threshold, Duration::from_secs(10));
        assert_eq!(
            settings.slack_urls(AlertType::LlmTooSlow),
            ["https://a", "https://b"]
        );
        assert_eq!(settings.slack_urls(AlertType::BudgetAlerts), ["https://c"]);
        assert_eq!(
            settings.slack_urls(AlertType::DailyReports),
            ["https://default"]
        );
        assert_eq!(settings.args.budget_alert_ttl, Duration::from_secs(5));
        assert_eq!(settings.args.minor_outage_alert_threshold, 2);
        assert_eq!(settings.args.major_outage_alert_threshold, 10);
        assert_eq!(settings.spend_report_frequency, Duration::from_secs(86_400));
        assert!(
            settings
                .check_environment(&Environment::from_pairs([]))
                .is_ok()
        );
        let defaults = parse(json!({"alerting": "slack"}), &[]).unwrap().unwrap();
        assert_eq!(defaults.threshold, Duration::from_secs(300));
        assert!(defaults.wants(AlertType::CooldownDeployment));
        assert_eq!(defaults.args, AlertingArgs::default());
    }

    #[test]
    fn bad_values_name_their_path_and_missing_variables_are_reported() {
        let error = parse(
            json!({"alerting": ["slack"], "alert_types": ["budget_alerts", "nope"]}),
            &[],
        )
        .unwrap_err();
        assert!(
            error.starts_with("general_settings.alert_types[1]"),
            "{error}"
        );
        let error = parse(json!({"alerting": ["pager"]}), &[]).unwrap_err();
        assert!(error.starts_with("general_settings.alerting[0]"), "{error}");
        let error = parse(
            json!({"alerting": ["slack"], "alerting_args": {"budget_alert_ttl": "x"}}),
            &[],
        )
        .unwrap_err();
        assert!(error.contains("alerting_args.budget_alert_ttl"), "{error}");
        let error = parse(
            json!({"alerting": ["slack"], "spend_report_frequency": "weekly"}),
            &[],
        )
        .unwrap_err();
        assert!(error.contains("spend_report_frequency"), "{error}");
        let settings = parse(json!({"alerting": ["slack", "email"]}), &[])
            .unwrap()
            .unwrap();
        let error = settings
            .check_environment(&Environment::from_pairs([]))
            .unwrap_err();
        assert!(error.contains("SLACK_WEBHOOK_URL"), "{error}");
        let env = Environment::from_pairs([("SLACK_WEBHOOK_URL", "https://s")]);
        let settings = parse(
            json!({"alerting": ["slack", "email"]}),
            &[("SLACK_WEBHOOK_URL", "https://s")],
        )
        .unwrap()
        .unwrap();
        assert!(
            settings
                .check_environment(&env)
                .unwrap_err()
                .contains("SMTP_HOST")
        );
        let smtp = SmtpSettings::from_env(&Environment::from_pairs([
            ("SMTP_HOST", "mail"),
            ("SMTP_SENDER_EMAIL", "a@b.c"),
            ("SMTP_TLS", "False"),
            ("SMTP_PORT", "2525"),
        ]))
        .unwrap();
        assert_eq!((smtp.port, smtp.tls), (2525, false));
    }
}
