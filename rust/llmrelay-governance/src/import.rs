//! `import-litellm`: copies an existing LiteLLM PostgreSQL database into this engine's database
//! — keys (their SHA-256 `token`s as they are, so every old key keeps working), users, teams,
//! organizations, memberships, end users, budgets, object permissions, team model aliases, DB
//! models and credentials (decrypted with the salt key and encrypted again in llmrelay's
//! format), spend logs and the daily aggregates. Rows whose key exists already are left as they
//! are, so an import can be run again.

use futures::TryStreamExt as _;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Postgres, Row as _};

use crate::crypto::SecretCipher;
use crate::db::{Column, Kind, Record, Table, is_postgres_url, read_record, redact_url};
use crate::engine::Governance;
use crate::error::GovernanceError;
use crate::identity::text;
use crate::tables;
use crate::time::format_time;

/// The tables copied, parents before children.
const IMPORTED: &[&Table] = &[
    &tables::BUDGET_TABLE,
    &tables::OBJECT_PERMISSION_TABLE,
    &tables::ORGANIZATION_TABLE,
    &tables::MODEL_TABLE,
    &tables::TEAM_TABLE,
    &tables::USER_TABLE,
    &tables::TEAM_MEMBERSHIP,
    &tables::ORGANIZATION_MEMBERSHIP,
    &tables::END_USER_TABLE,
    &tables::TAG_TABLE,
    &tables::VERIFICATION_TOKEN,
    &tables::DEPRECATED_VERIFICATION_TOKEN,
    &tables::DELETED_VERIFICATION_TOKEN,
    &tables::DELETED_TEAM_TABLE,
    &tables::CREDENTIALS_TABLE,
    &tables::PROXY_MODEL_TABLE,
    &tables::SPEND_LOGS,
    &tables::DAILY_USER_SPEND,
    &tables::DAILY_TEAM_SPEND,
    &tables::DAILY_ORGANIZATION_SPEND,
    &tables::DAILY_END_USER_SPEND,
    &tables::DAILY_TAG_SPEND,
    &tables::AUDIT_LOG,
];

/// Rows read from the source per write.
const BATCH_ROWS: usize = 2_000;

/// Settings of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The salt key the LiteLLM proxy encrypted its models and credentials with
    /// (`LITELLM_SALT_KEY`, else its master key); default: this engine's.
    pub source_salt_key: Option<String>,
}

/// What one table's import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableImport {
    pub table: &'static str,
    /// Rows read from the LiteLLM database.
    pub read: u64,
    /// Rows written (the others existed already).
    pub inserted: u64,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub tables: Vec<TableImport>,
    /// Tables of llmrelay's schema the source does not have (an older LiteLLM).
    pub missing_tables: Vec<&'static str>,
    /// Models or credentials whose values did not decrypt with the source salt key: copied as
    /// they are (they decrypt once the engine runs with that salt key).
    pub undecryptable_rows: u64,
}

impl ImportReport {
    /// Rows written for a table.
    #[must_use]
    pub fn inserted(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|t| t.table == table)
            .map_or(0, |t| t.inserted)
    }
}

/// Copies the LiteLLM database at `from_url` into `to`'s database (see the module docs).
///
/// # Errors
/// `from_url` is not a PostgreSQL URL or cannot be read; a value does not fit; database errors.
pub async fn import_litellm(
    from_url: &str,
    to: &Governance,
) -> Result<ImportReport, GovernanceError> {
    import_litellm_with(from_url, to, &ImportOptions::default()).await
}

/// [`import_litellm`] with options.
///
/// # Errors
/// As [`import_litellm`].
pub async fn import_litellm_with(
    from_url: &str,
    to: &Governance,
    options: &ImportOptions,
) -> Result<ImportReport, GovernanceError> {
    if !is_postgres_url(from_url) {
        return Err(GovernanceError::Config(format!(
            "--from: a LiteLLM database is PostgreSQL (postgresql://…), got '{}'",
            redact_url(from_url)
        )));
    }
    if !to
        .wait_until_migrated(std::time::Duration::from_secs(30))
        .await
    {
        return Err(GovernanceError::DatabaseUnavailable(
            "the target database is not reachable".to_owned(),
        ));
    }
    let source = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(from_url)
        .await
        .map_err(|e| {
            GovernanceError::DatabaseUnavailable(format!(
                "LiteLLM database {}: {e}",
                redact_url(from_url)
            ))
        })?;
    let ciphers = Ciphers {
        source: options
            .source_salt_key
            .as_deref()
            .map(SecretCipher::new)
            .map_or_else(|| to.cipher(), Ok)
            .ok(),
        target: to.cipher().ok(),
    };
    let mut report = ImportReport::default();
    let result = copy_tables(&source, to, &ciphers, &mut report).await;
    source.close().await;
    result?;
    finish(to, &report).await?;
    Ok(report)
}

struct Ciphers {
    source: Option<SecretCipher>,
    target: Option<SecretCipher>,
}

async fn copy_tables(
    source: &sqlx::Pool<Postgres>,
    to: &Governance,
    ciphers: &Ciphers,
    report: &mut ImportReport,
) -> Result<(), GovernanceError> {
    for table in IMPORTED {
        let available = source_columns(source, table.name).await?;
        if available.is_empty() {
            report.missing_tables.push(table.name);
            continue;
        }
        let columns: Vec<&'static Column> = table
            .columns
            .iter()
            .filter(|c| available.iter().any(|(name, _)| name == c.name))
            .collect();
        let selected: Vec<String> = columns
            .iter()
            .map(|column| {
                let with_zone = available
                    .iter()
                    .any(|(name, kind)| name == column.name && kind == "timestamp with time zone");
                if with_zone {
                    format!("(\"{0}\" AT TIME ZONE 'UTC') AS \"{0}\"", column.name)
                } else {
                    format!("\"{}\"", column.name)
                }
            })
            .collect();
        let sql = format!("SELECT {} FROM \"{}\"", selected.join(", "), table.name);
        let kinds: Vec<(&str, Kind)> = columns.iter().map(|c| (c.name, c.kind)).collect();
        let mut rows = sqlx::query(&sql).fetch(source);
        let mut batch = Vec::with_capacity(BATCH_ROWS);
        let mut counts = TableImport {
            table: table.name,
            read: 0,
            inserted: 0,
        };
        let now = format_time(to.clock().now());
        while let Some(row) = rows.try_next().await? {
            counts.read += 1;
            let mut record = read_record(&row, &kinds)?;
            if table
                .primary_key
                .iter()
                .any(|k| record.get(*k).is_none_or(Value::is_null))
            {
                continue;
            }
            fill_required(&columns, &mut record, &now);
            if !reencrypt(table, &mut record, ciphers) {
                report.undecryptable_rows += 1;
            }
            batch.push(record);
            if batch.len() >= BATCH_ROWS {
                counts.inserted += to
                    .store()
                    .insert_many_ignore(table, &columns, &batch)
                    .await?;
                batch.clear();
            }
        }
        counts.inserted += to
            .store()
            .insert_many_ignore(table, &columns, &batch)
            .await?;
        tracing::info!(
            table = table.name,
            read = counts.read,
            inserted = counts.inserted,
            "imported"
        );
        report.tables.push(counts);
    }
    Ok(())
}

/// `(column, data_type)` of a source table (empty when it does not exist).
async fn source_columns(
    source: &sqlx::Pool<Postgres>,
    table: &str,
) -> Result<Vec<(String, String)>, GovernanceError> {
    let rows = sqlx::query(
        "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(source)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(GovernanceError::from)
}

/// A NULL in a column llmrelay keeps NOT NULL (an older LiteLLM allowed it) gets the column's
/// empty value.
fn fill_required(columns: &[&'static Column], record: &mut Record, now: &str) {
    for column in columns {
        if column.nullable || record.get(column.name).is_some_and(|v| !v.is_null()) {
            continue;
        }
        let empty = match column.kind {
            Kind::Text => Value::String(String::new()),
            Kind::Int => Value::from(0),
            Kind::Money => Value::String("0".to_owned()),
            Kind::Bool => Value::Bool(false),
            Kind::Time => Value::String(now.to_owned()),
            Kind::Json => Value::Object(Map::new()),
            Kind::List => Value::Array(Vec::new()),
        };
        record.insert(column.name.to_owned(), empty);
    }
}

/// Whether a stored string looks like a ciphertext (so a failed decryption is not mistaken
/// for a plain value and encrypted twice).
fn looks_encrypted(value: &str) -> bool {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    value.starts_with(crate::crypto::AES_GCM_PREFIX)
        || URL_SAFE
            .decode(value)
            .or_else(|_| STANDARD.decode(value))
            .is_ok_and(|bytes| bytes.len() >= 40)
}

/// Re-encrypts a model's `litellm_params` or a credential's values from the source salt key to
/// this engine's; false when a value does not decrypt (the row is then copied as it is).
fn reencrypt(table: &Table, record: &mut Record, ciphers: &Ciphers) -> bool {
    let field = match table.name {
        "LiteLLM_ProxyModelTable" => "litellm_params",
        "LiteLLM_CredentialsTable" => "credential_values",
        _ => return true,
    };
    // Prisma may hand back a JSON string for a Json column written as text.
    let stored = match record.get(field) {
        Some(Value::Object(map)) => map.clone(),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            _ => return true,
        },
        _ => return true,
    };
    let (Some(source), Some(target)) = (&ciphers.source, &ciphers.target) else {
        return false;
    };
    let mut plain = Map::new();
    for (key, value) in &stored {
        let decrypted = match value {
            Value::String(text) => match source.decrypt_text(text) {
                Ok(value) => value,
                Err(_) if looks_encrypted(text) => {
                    tracing::warn!(table = table.name, id = ?text_id(record), "a stored value does not decrypt with the source salt key; copied as it is");
                    return false;
                }
                Err(_) => value.clone(),
            },
            other => other.clone(),
        };
        plain.insert(key.clone(), decrypted);
    }
    let encrypted = if field == "litellm_params" {
        target.encrypt_params(&plain)
    } else {
        target.encrypt_map(&plain)
    };
    match encrypted {
        Ok(map) => {
            record.insert(field.to_owned(), Value::Object(map));
            true
        }
        Err(_) => false,
    }
}

/// Recomputes llmrelay's per-team and per-end-user daily totals from LiteLLM's daily tables
/// (the statements of migration 2). Run before the proxy serves traffic.
async fn rebuild_daily_totals(to: &Governance) -> Result<(), GovernanceError> {
    const CLEAR: &str =
        "DELETE FROM \"llmrelay_daily_team_spend\"; DELETE FROM \"llmrelay_daily_end_user_spend\";";
    match to.store().db() {
        crate::db::Db::Postgres(pool) => {
            let mut transaction = pool.begin().await?;
            sqlx::raw_sql(CLEAR).execute(&mut *transaction).await?;
            sqlx::raw_sql(include_str!("../migrations/postgres/0002_daily_totals.sql"))
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
        }
        crate::db::Db::Sqlite(pool) => {
            let mut transaction = pool.begin().await?;
            sqlx::raw_sql(CLEAR).execute(&mut *transaction).await?;
            sqlx::raw_sql(include_str!("../migrations/sqlite/0002_daily_totals.sql"))
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
        }
    }
    Ok(())
}

fn text_id(record: &Record) -> Option<String> {
    text(record, "model_id").or_else(|| text(record, "credential_name"))
}

/// After the copy: serial ids continue after the imported ones, caches are dropped, and the
/// imported models and credentials are published on the change feed.
async fn finish(to: &Governance, report: &ImportReport) -> Result<(), GovernanceError> {
    if to.store().backend() == crate::db::Backend::Postgres {
        to.store()
            .execute(
                "SELECT setval(pg_get_serial_sequence('\"LiteLLM_ModelTable\"', 'id'), COALESCE((SELECT MAX(\"id\") FROM \"LiteLLM_ModelTable\"), 0) + 1, false)",
                &[],
            )
            .await?;
    }
    if report.inserted("LiteLLM_DailyTeamSpend") > 0
        || report.inserted("LiteLLM_DailyEndUserSpend") > 0
    {
        rebuild_daily_totals(to).await?;
    }
    to.changed("all", "import").await?;
    if report.inserted("LiteLLM_ProxyModelTable") > 0 {
        for deployment in to.load_db_models().await? {
            if let Some(id) = deployment.id() {
                to.changed("model", id).await?;
            }
        }
    }
    if report.inserted("LiteLLM_CredentialsTable") > 0 {
        let rows = to
            .store()
            .fetch(
                "SELECT \"credential_name\" FROM \"LiteLLM_CredentialsTable\"",
                &[],
                &[("credential_name", Kind::Text)],
            )
            .await?;
        for row in rows {
            if let Some(name) = text(&row, "credential_name") {
                to.changed("credential", &name).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphertexts_are_told_from_plain_values() {
        assert!(looks_encrypted("v2:gcm:abc"));
        assert!(looks_encrypted(
            "a8u0safDMLMToT-Cdk_PAAA92164w5l8Avadgq1TjXSTIledXlKTr-YtGzBVPGU_q_OBG614BToqJb42PTQ="
        ));
        assert!(!looks_encrypted("openai/gpt-4o"));
        assert!(!looks_encrypted("https://api.openai.com/v1"));
    }

    #[test]
    fn models_are_encrypted_again_with_the_target_key() {
        let ciphers = Ciphers {
            source: Some(SecretCipher::new("sk-salt-test")),
            target: Some(SecretCipher::new("new-salt")),
        };
        let mut record: Record = serde_json::from_value(serde_json::json!({
            "model_id": "m",
            "litellm_params": {
                "model": "openai/gpt-4o",
                "api_key": "a8u0safDMLMToT-Cdk_PAAA92164w5l8Avadgq1TjXSTIledXlKTr-YtGzBVPGU_q_OBG614BToqJb42PTQ=",
                "rpm": 5
            }
        }))
        .unwrap();
        assert!(reencrypt(&tables::PROXY_MODEL_TABLE, &mut record, &ciphers));
        let params = record["litellm_params"].as_object().unwrap();
        let target = SecretCipher::new("new-salt");
        assert_eq!(
            target.decrypt_or_keep(&params["api_key"]),
            "sk-provider-secret-123"
        );
        assert_eq!(target.decrypt_or_keep(&params["model"]), "openai/gpt-4o");
        assert_eq!(params["rpm"], 5);
        // A value under another key is kept as it is, never encrypted twice.
        let wrong = Ciphers {
            source: Some(SecretCipher::new("other")),
            target: Some(SecretCipher::new("new-salt")),
        };
        let mut again = record.clone();
        assert!(!reencrypt(&tables::PROXY_MODEL_TABLE, &mut again, &wrong));
        assert_eq!(again, record);
    }
}
