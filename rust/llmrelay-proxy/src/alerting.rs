//! LiteLLM's alerting in the proxy (`general_settings.alerting: ["slack", "webhook", "email"]`
//! with `alert_types`, `alerting_threshold`, `alert_to_webhook_url`, `alerting_args`,
//! `spend_report_frequency`): the settings from the config and the environment, the
//! `llmrelay_observe::alerting` layers, and what connects it to the rest of the proxy — the
//! Router's cooldowns, governance's budget levels after each call, and the reports' sources
//! (deployments, the spend log, the keys). `GET /alerting/settings` shows `alerting_args`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use rust_decimal::prelude::ToPrimitive as _;
use serde_json::{Value, json};

use llmrelay_core::{Error, ErrorKind};
use llmrelay_governance::Governance;
use llmrelay_observe::Environment;
use llmrelay_observe::alerting::{
    AlertSources, Alerting, AlertingSettings, BudgetLevel, Cooldown, DeploymentInfo, ExpiringKey,
    SpendReport,
};

use crate::config::ProxyConfig;
use crate::errors::ApiError;
use crate::state::{AppState, principal_of};

/// `litellm_settings` keys alerting reads.
pub const LITELLM_SETTINGS: &[&str] = &["redact_messages_in_exceptions"];

fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(on)) => *on,
        Some(Value::String(text)) => text.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// The alerting settings of `config` (`None` without `general_settings.alerting`).
///
/// # Errors
/// A bad value, named by its path.
pub fn settings(config: &ProxyConfig) -> Result<Option<AlertingSettings>, String> {
    let settings = AlertingSettings::from_general_settings(
        &config.general_settings.other,
        &Environment::process(),
    )?;
    Ok(settings.map(|mut settings| {
        let litellm = &config.litellm_settings;
        settings.redact_messages = litellm.turn_off_message_logging == Some(true)
            || flag(litellm.other.get("redact_messages_in_exceptions"));
        settings
    }))
}

/// Whether the channels have what they need (start-up refuses the config otherwise).
///
/// # Errors
/// A bad value or a missing variable (`SLACK_WEBHOOK_URL`, `WEBHOOK_URL`, `SMTP_HOST`, …).
pub fn check(config: &ProxyConfig) -> Result<(), String> {
    match settings(config)? {
        Some(settings) => settings.check_environment(&Environment::process()),
        None => Ok(()),
    }
}

/// The alerting of `config`, started (its queues run on the current runtime); `None` when it
/// is off or cannot start (start-up refused such a config through [`check`]).
#[must_use]
pub fn build(config: &ProxyConfig) -> Option<Alerting> {
    if tokio::runtime::Handle::try_current().is_err() {
        return None;
    }
    let settings = match settings(config) {
        Ok(Some(settings)) => settings,
        Ok(None) => return None,
        Err(error) => {
            tracing::error!("alerting: {error}");
            return None;
        }
    };
    match Alerting::start(settings, &Environment::process()) {
        Ok(alerting) => Some(alerting),
        Err(error) => {
            tracing::error!("alerting: {error}");
            None
        }
    }
}

fn decimal(value: rust_decimal::Decimal) -> f64 {
    value.to_f64().unwrap_or_default()
}

/// Connects alerting to the Router (cooldowns) and governance (budget levels), gives the
/// reports their sources, and starts the background jobs.
pub fn connect(
    alerting: &Alerting,
    router: Option<&llmrelay_router::Router>,
    engine: Option<&Arc<Governance>>,
) {
    if let Some(router) = router {
        let to = alerting.clone();
        router.on_cooldown(move |event| {
            let deployment = event.deployment;
            to.cooldown(&Cooldown {
                deployment_id: deployment.id.clone(),
                model_group: deployment.model_name.clone(),
                model: deployment.model.clone(),
                api_base: deployment
                    .litellm_params
                    .get("api_base")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                cooldown: event.cooldown,
                status: event.error.status_code(),
                error: event.error.message().to_owned(),
            });
        });
    }
    if let Some(engine) = engine {
        let to = alerting.clone();
        engine.on_budget_level(move |alert| {
            let level = &alert.level;
            to.budget(&BudgetLevel {
                entity_type: level.entity.type_name(),
                entity_id: llmrelay_governance::budget::entity_id(&level.entity),
                spend: decimal(level.spend),
                max_budget: level.max_budget.map(decimal),
                soft_budget: level.soft_budget.map(decimal),
                token: alert.token.clone(),
                key_alias: alert.key_alias.clone(),
                user_id: alert.user_id.clone(),
                user_email: alert.user_email.clone(),
                team_id: alert.team_id.clone(),
                team_alias: alert.team_alias.clone(),
                organization_id: alert.organization_id.clone(),
                customer_id: alert.end_user_id.clone(),
            });
        });
    }
    alerting.set_sources(Arc::new(Sources {
        router: router.cloned(),
        engine: engine.cloned(),
    }));
    alerting.start_jobs();
}

/// The reports' view of the proxy.
struct Sources {
    router: Option<llmrelay_router::Router>,
    engine: Option<Arc<Governance>>,
}

impl Sources {
    /// Runs database work on the engine's runtime (its pool lives there).
    async fn on_engine<T: Send + 'static>(
        &self,
        work: impl FnOnce(
            Arc<Governance>,
        )
            -> BoxFuture<'static, Result<T, llmrelay_governance::GovernanceError>>
        + Send
        + 'static,
    ) -> Result<T, String> {
        let Some(engine) = self.engine.clone() else {
            return Err("no database: reports need one".to_owned());
        };
        let runtime = engine.runtime().clone();
        runtime
            .spawn(work(engine))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }
}

impl AlertSources for Sources {
    fn has_spend_and_keys(&self) -> bool {
        self.engine.is_some()
    }

    fn deployment(&self, id: &str) -> Option<DeploymentInfo> {
        let deployment = self.router.as_ref()?.deployment(id)?;
        let text = |key: &str| deployment.litellm_params.get(key).and_then(Value::as_str);
        let provider = llmrelay_core::detect::resolve(
            &deployment.model,
            text("custom_llm_provider"),
            text("api_base"),
        )
        .map(|resolved| resolved.provider)
        .unwrap_or_default();
        Some(DeploymentInfo {
            model_group: deployment.model_name.clone(),
            model: deployment.model.clone(),
            provider,
            api_base: text("api_base").map(str::to_owned),
        })
    }

    fn spend_report(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<SpendReport, String>> {
        Box::pin(async move {
            let (teams, tags) = self
                .on_engine(move |engine| {
                    Box::pin(async move {
                        llmrelay_governance::reports::spend_per_team_and_tag(
                            engine.store(),
                            start,
                            end,
                        )
                        .await
                    })
                })
                .await?;
            let money = |rows: Vec<(String, rust_decimal::Decimal)>| {
                rows.into_iter()
                    .map(|(name, spend)| (name, decimal(spend)))
                    .collect()
            };
            Ok(SpendReport {
                teams: money(teams),
                tags: money(tags),
            })
        })
    }

    fn expiring_keys(
        &self,
        after: DateTime<Utc>,
        before: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<ExpiringKey>, String>> {
        Box::pin(async move {
            let keys = self
                .on_engine(move |engine| {
                    Box::pin(async move {
                        llmrelay_governance::reports::keys_expiring(engine.store(), after, before)
                            .await
                    })
                })
                .await?;
            Ok(keys
                .into_iter()
                .map(|key| ExpiringKey {
                    token: key.token,
                    key_alias: key.key_alias,
                    key_name: key.key_name,
                    user_id: key.user_id,
                    team_id: key.team_id,
                    expires: key.expires,
                })
                .collect())
        })
    }
}

/// `GET /alerting/settings` (proxy admins): LiteLLM's list of `alerting_args` fields with
/// their values and defaults.
pub async fn settings_route(State(state): State<Arc<AppState>>, request: Request) -> Response {
    if !principal_of(request.extensions()).is_admin {
        return ApiError::openai(
            Error::new(
                ErrorKind::Authentication,
                "Authentication Error, only proxy admins can read the alerting settings",
            )
            .with_status(401),
        )
        .into_response();
    }
    let defaults = llmrelay_observe::alerting::AlertingArgs::default();
    let current = state
        .alerting
        .as_ref()
        .map_or_else(|| defaults.clone(), |a| a.settings().args.clone());
    let seconds = |d: std::time::Duration| json!(d.as_secs_f64());
    let fields = [
        (
            "daily_report_frequency",
            "Integer",
            seconds(current.daily_report_frequency),
            seconds(defaults.daily_report_frequency),
            "Frequency of receiving deployment latency/failure reports, in seconds.",
        ),
        (
            "report_check_interval",
            "Integer",
            seconds(current.report_check_interval),
            seconds(defaults.report_check_interval),
            "How often the background job checks whether a report is due, in seconds.",
        ),
        (
            "budget_alert_ttl",
            "Integer",
            seconds(current.budget_alert_ttl),
            seconds(defaults.budget_alert_ttl),
            "A budget alert is sent once per entity and event within this many seconds.",
        ),
        (
            "outage_alert_ttl",
            "Integer",
            seconds(current.outage_alert_ttl),
            seconds(defaults.outage_alert_ttl),
            "The window in seconds in which a deployment's errors count toward an outage.",
        ),
        (
            "region_outage_alert_ttl",
            "Integer",
            seconds(current.region_outage_alert_ttl),
            seconds(defaults.region_outage_alert_ttl),
            "The window in seconds for provider-region outages.",
        ),
        (
            "minor_outage_alert_threshold",
            "Integer",
            json!(current.minor_outage_alert_threshold),
            json!(defaults.minor_outage_alert_threshold),
            "Errors (408 or 5xx) in the window that count as a minor outage.",
        ),
        (
            "major_outage_alert_threshold",
            "Integer",
            json!(current.major_outage_alert_threshold),
            json!(defaults.major_outage_alert_threshold),
            "Errors (408 or 5xx) in the window that count as a major outage.",
        ),
        (
            "max_outage_alert_list_size",
            "Integer",
            json!(current.max_outage_alert_list_size),
            json!(defaults.max_outage_alert_list_size),
            "Errors kept per deployment.",
        ),
        (
            "log_to_console",
            "Boolean",
            json!(current.log_to_console),
            json!(defaults.log_to_console),
            "If true, alert payloads are logged as warnings too.",
        ),
        (
            "key_expiry_warning",
            "Integer",
            seconds(current.key_expiry_warning),
            seconds(defaults.key_expiry_warning),
            "llmrelay: how many seconds before a key expires it is reported.",
        ),
    ];
    Json(Value::Array(
        fields
            .into_iter()
            .map(|(name, kind, value, default, description)| {
                json!({
                    "field_name": name,
                    "field_type": kind,
                    "field_value": value,
                    "field_description": description,
                    "field_default_value": default,
                    "stored_in_db": false,
                })
            })
            .collect(),
    ))
    .into_response()
}
