//! The audit log (`LiteLLM_AuditLog`): who changed which management object (before and after,
//! secrets masked) and, beyond LiteLLM, every access denial. Rows are queued in memory and
//! written in batches by one background task, so recording never waits on the database; a
//! graceful stop writes what is queued before the pool closes.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::db::{Param, Record};
use crate::error::GovernanceError;
use crate::redact;
use crate::store::SqlStore;
use crate::tables;
use crate::time::{Clock, format_time, to_millis};

/// LiteLLM's `litellm_proxy_admin_name`: `changed_by` when nobody else is named.
pub const DEFAULT_CHANGED_BY: &str = "default_user_id";

/// Rows written per statement at most.
const BATCH_ROWS: usize = 200;
/// How often the retention job deletes expired rows.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// Settings of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditSettings {
    /// LiteLLM's `litellm_settings.store_audit_logs` (`LITELLM_STORE_AUDIT_LOGS`); off by default.
    pub enabled: bool,
    /// llmrelay's `general_settings.maximum_audit_logs_retention_period`: rows older than
    /// this are deleted (hourly). `None` keeps them forever, as LiteLLM does.
    pub retention: Option<Duration>,
}

/// LiteLLM's `AUDIT_ACTIONS`, plus `access_denied`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Created,
    Updated,
    Deleted,
    Blocked,
    Rotated,
    AccessDenied,
}

impl AuditAction {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
            Self::Blocked => "blocked",
            Self::Rotated => "rotated",
            Self::AccessDenied => "access_denied",
        }
    }
}

/// One audit row before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub changed_by: String,
    /// The hash of the key that made the change (or was refused).
    pub changed_by_api_key: String,
    pub action: AuditAction,
    pub table_name: String,
    pub object_id: String,
    pub before_value: Option<Value>,
    pub updated_values: Option<Value>,
}

impl AuditEntry {
    /// The row as stored: a fresh id, the time, secrets masked in both values.
    #[must_use]
    pub fn into_record(self, now: DateTime<Utc>) -> Record {
        let mut record = Record::new();
        record.insert("id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
        record.insert("updated_at".into(), Value::String(format_time(now)));
        record.insert("changed_by".into(), Value::String(self.changed_by));
        record.insert(
            "changed_by_api_key".into(),
            Value::String(self.changed_by_api_key),
        );
        record.insert("action".into(), Value::String(self.action.as_str().into()));
        record.insert("table_name".into(), Value::String(self.table_name));
        record.insert("object_id".into(), Value::String(self.object_id));
        record.insert(
            "before_value".into(),
            self.before_value
                .map_or(Value::Null, |v| redact_secrets(&v)),
        );
        record.insert(
            "updated_values".into(),
            self.updated_values
                .map_or(Value::Null, |v| redact_secrets(&v)),
        );
        record
    }
}

/// An access denial: the key (hashed), the route, the model when known, and why.
#[derive(Debug, Clone, Default)]
pub struct Denial {
    /// The key as presented (raw or a JWT); only its hash is stored.
    pub presented_key: Option<String>,
    pub route: String,
    pub model: Option<String>,
    pub reason: String,
    pub status: u16,
    /// `litellm-changed-by`, else the caller's user id when it is known.
    pub changed_by: Option<String>,
}

impl Denial {
    #[must_use]
    pub fn into_entry(self) -> AuditEntry {
        let key_hash = self
            .presented_key
            .as_deref()
            .map(crate::keys::token_of)
            .unwrap_or_default();
        AuditEntry {
            changed_by: self.changed_by.unwrap_or_default(),
            changed_by_api_key: key_hash.clone(),
            action: AuditAction::AccessDenied,
            table_name: tables::VERIFICATION_TOKEN.name.to_owned(),
            object_id: key_hash,
            before_value: None,
            updated_values: Some(json!({
                "route": self.route,
                "model": self.model,
                "reason": self.reason,
                "status_code": self.status,
            })),
        }
    }
}

/// Fields whose values never reach the audit log in clear.
const SECRET_FIELDS: &[&str] = &[
    "key",
    "new_key",
    "api_key",
    "master_key",
    "client_secret",
    "password",
    "aws_secret_access_key",
    "aws_session_token",
    "vertex_credentials",
    "vertex_ai_credentials",
];

/// The value with secrets masked: raw keys and provider credentials (anywhere), deployment
/// parameters as `/model/info` shows them, credential values as `/credentials` does.
#[must_use]
pub fn redact_secrets(value: &Value) -> Value {
    fn walk(value: &Value, depth: usize) -> Value {
        if depth > 16 {
            return Value::String("[redacted: too deep]".into());
        }
        match value {
            Value::Object(map) => {
                let mut out = Map::new();
                for (name, item) in map {
                    let masked = if SECRET_FIELDS.contains(&name.as_str()) && !item.is_null() {
                        Value::String(mask(item))
                    } else if name == "litellm_params" {
                        match item {
                            Value::Object(params) => Value::Object(redact::public_params(params)),
                            other => walk(other, depth + 1),
                        }
                    } else if name == "credential_values" {
                        match item {
                            Value::Object(values) => {
                                Value::Object(redact::masked_credential_values(values))
                            }
                            other => walk(other, depth + 1),
                        }
                    } else {
                        walk(item, depth + 1)
                    };
                    out.insert(name.clone(), masked);
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|i| walk(i, depth + 1)).collect()),
            other => other.clone(),
        }
    }
    walk(value, 0)
}

/// `sk-…` keys keep their prefix and last four characters (LiteLLM's abbreviation); other
/// secrets are stars.
fn mask(value: &Value) -> String {
    match value.as_str() {
        Some(text) if text.starts_with("sk-") && text.len() > 8 => crate::keys::abbreviate(text),
        _ => "*****".to_owned(),
    }
}

/// Parses `30s`, `15m`, `24h`, `7d` (the format of LiteLLM's retention settings).
///
/// # Errors
/// A message naming the expected format.
pub fn parse_period(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let count: u64 = digits
        .parse()
        .map_err(|_| format!("invalid period '{text}': expected e.g. 30s, 15m, 24h, 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "invalid period '{text}': expected e.g. 30s, 15m, 24h, 7d"
            ));
        }
    };
    if count == 0 {
        return Err(format!("invalid period '{text}': must be more than zero"));
    }
    Ok(Duration::from_secs(count.saturating_mul(seconds)))
}

/// The queue and its writer task.
pub struct AuditLog {
    settings: AuditSettings,
    sender: Mutex<Option<mpsc::UnboundedSender<Record>>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    clock: std::sync::Arc<dyn Clock>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Starts the writer (when enabled) on the current runtime.
    #[must_use]
    pub fn start(
        settings: AuditSettings,
        store: std::sync::Arc<SqlStore>,
        clock: std::sync::Arc<dyn Clock>,
    ) -> Self {
        let (sender, task) = if settings.enabled {
            let (sender, receiver) = mpsc::unbounded_channel();
            let task = tokio::spawn(write_loop(
                receiver,
                store,
                std::sync::Arc::clone(&clock),
                settings.retention,
            ));
            (Some(sender), Some(task))
        } else {
            (None, None)
        };
        Self {
            settings,
            sender: Mutex::new(sender),
            task: Mutex::new(task),
            clock,
        }
    }

    #[must_use]
    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// Queues a row (never waits; a no-op when the audit log is off or stopped).
    pub fn record(&self, entry: AuditEntry) {
        let guard = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = guard.as_ref() {
            let record = entry.into_record(self.clock.now());
            if sender.send(record).is_err() {
                tracing::warn!("audit log writer stopped; row not recorded");
            }
        }
    }

    /// Stops accepting rows and waits (up to 10 s) for the queued ones to be written.
    pub async fn shutdown(&self) {
        drop(
            self.sender
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task
            && tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .is_err()
        {
            tracing::warn!("audit log rows still unwritten after 10 s at shutdown");
        }
    }
}

async fn write_loop(
    mut receiver: mpsc::UnboundedReceiver<Record>,
    store: std::sync::Arc<SqlStore>,
    clock: std::sync::Arc<dyn Clock>,
    retention: Option<Duration>,
) {
    let mut pending: Vec<Record> = Vec::new();
    let mut retention_tick = tokio::time::interval(RETENTION_INTERVAL);
    let mut open = true;
    while open || !pending.is_empty() {
        if pending.is_empty() {
            tokio::select! {
                received = receiver.recv() => match received {
                    Some(record) => pending.push(record),
                    None => open = false,
                },
                _ = retention_tick.tick(), if retention.is_some() => {
                    if let Some(period) = retention {
                        prune(&store, &*clock, period).await;
                    }
                    continue;
                }
            }
        }
        while pending.len() < BATCH_ROWS {
            match receiver.try_recv() {
                Ok(record) => pending.push(record),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        if pending.is_empty() {
            continue;
        }
        match write_batch(&store, &pending).await {
            Ok(()) => pending.clear(),
            Err(error) if open => {
                // Kept and retried: the rows are only dropped when the process stops.
                tracing::warn!(%error, rows = pending.len(), "audit log write failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(error) => {
                tracing::error!(%error, rows = pending.len(), "audit log rows lost at shutdown: the database is unavailable");
                pending.clear();
            }
        }
    }
}

async fn write_batch(store: &SqlStore, rows: &[Record]) -> Result<(), GovernanceError> {
    let columns: Vec<&'static crate::db::Column> = tables::AUDIT_LOG.columns.iter().collect();
    store
        .insert_many_ignore(&tables::AUDIT_LOG, &columns, rows)
        .await?;
    Ok(())
}

async fn prune(store: &SqlStore, clock: &dyn Clock, period: Duration) {
    let Ok(period) = chrono::Duration::from_std(period) else {
        return;
    };
    let before = to_millis(clock.now() - period);
    match store
        .execute(
            "DELETE FROM \"LiteLLM_AuditLog\" WHERE \"updated_at\" < $1",
            &[Param::Time(Some(before))],
        )
        .await
    {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "audit log rows past retention deleted"),
        Err(error) => tracing::debug!(%error, "audit log retention job failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_everywhere() {
        let value = json!({
            "token": "abc123",
            "key": "sk-1234567890abcdef",
            "metadata": {"api_key": "secret-value"},
            "litellm_params": {"model": "gpt-4o", "api_key": "sk-upstream"},
            "credential_values": {"api_key": "sk-abcdefgh", "api_base": "https://x"},
        });
        let masked = redact_secrets(&value);
        assert_eq!(masked["token"], "abc123");
        assert_ne!(masked["key"], "sk-1234567890abcdef");
        assert!(masked["key"].as_str().unwrap().starts_with("sk-"));
        assert_eq!(masked["metadata"]["api_key"], "*****");
        assert_eq!(masked["litellm_params"]["model"], "gpt-4o");
        assert!(masked["litellm_params"].get("api_key").is_none());
        assert_ne!(masked["credential_values"]["api_key"], "sk-abcdefgh");
        assert_eq!(masked["credential_values"]["api_base"], "https://x");
    }

    #[test]
    fn periods_parse() {
        assert_eq!(parse_period("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(parse_period("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_period("60m").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_period("3600s").unwrap(), Duration::from_secs(3600));
        assert!(parse_period("7w").is_err());
        assert!(parse_period("0d").is_err());
        assert!(parse_period("d").is_err());
    }

    #[test]
    fn denials_store_the_key_hash_only() {
        let entry = Denial {
            presented_key: Some("sk-raw-key-value".into()),
            route: "/chat/completions".into(),
            model: Some("gpt-4o".into()),
            reason: "no access".into(),
            status: 403,
            changed_by: None,
        }
        .into_entry();
        assert_eq!(entry.action, AuditAction::AccessDenied);
        assert_eq!(entry.object_id, crate::keys::hash_key("sk-raw-key-value"));
        let record = entry.into_record(Utc::now());
        assert!(
            !serde_json::to_string(&record)
                .unwrap()
                .contains("sk-raw-key-value")
        );
        assert_eq!(record["updated_values"]["model"], "gpt-4o");
    }
}
