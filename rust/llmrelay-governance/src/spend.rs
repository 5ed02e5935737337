//! Spend rows (LiteLLM's `LiteLLM_SpendLogs`) and the batch write: rows inserted idempotently
//! by `request_id`, daily aggregates and entity spend updated in the same transaction, summed
//! in memory per batch (no per-request UPDATE on hot rows).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::budget::Entity;
use crate::db::{Backend, Db, Kind, MAX_PARAMS, Param, bind_params, on_db, read_record};
use crate::error::GovernanceError;
use crate::store::SqlStore;
use crate::time::to_millis;

/// One call, as LiteLLM writes it to `LiteLLM_SpendLogs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SpendRow {
    pub request_id: String,
    /// `acompletion`, `aembedding`, `pass_through_endpoint`, …
    pub call_type: String,
    /// SHA-256 of the key (empty for master-key or open-proxy calls).
    pub api_key: String,
    pub key_alias: Option<String>,
    pub spend: Decimal,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    pub cache_read_input_tokens: i64,
    pub cache_creation_input_tokens: i64,
    #[serde(rename = "startTime")]
    pub start_time: DateTime<Utc>,
    #[serde(rename = "endTime")]
    pub end_time: DateTime<Utc>,
    #[serde(rename = "completionStartTime")]
    pub completion_start_time: Option<DateTime<Utc>>,
    pub request_duration_ms: Option<i64>,
    pub model: String,
    pub model_id: Option<String>,
    pub model_group: Option<String>,
    pub custom_llm_provider: Option<String>,
    pub api_base: Option<String>,
    pub user: Option<String>,
    pub team_id: Option<String>,
    pub organization_id: Option<String>,
    pub end_user: Option<String>,
    pub requester_ip_address: Option<String>,
    pub session_id: Option<String>,
    /// `success` or `failure`.
    pub status: Option<String>,
    pub litellm_call_id: Option<String>,
    pub mcp_namespaced_tool_name: Option<String>,
    pub agent_id: Option<String>,
    /// The route (`/chat/completions`), kept in the daily tables' `endpoint`.
    pub endpoint: Option<String>,
    /// `True` / `False` as LiteLLM writes it.
    pub cache_hit: Option<String>,
    pub cache_key: Option<String>,
    pub request_tags: Vec<String>,
    pub metadata: Value,
    pub messages: Option<Value>,
    pub response: Option<Value>,
    pub proxy_server_request: Option<Value>,
}

impl SpendRow {
    fn succeeded(&self) -> bool {
        self.status.as_deref() != Some("failure")
    }

    fn date(&self) -> String {
        self.start_time.format("%Y-%m-%d").to_string()
    }

    /// The metadata column: the row's metadata plus LiteLLM's key and usage fields.
    fn metadata_value(&self) -> Value {
        let mut metadata = match &self.metadata {
            Value::Object(map) => map.clone(),
            _ => serde_json::Map::new(),
        };
        metadata
            .entry("user_api_key")
            .or_insert_with(|| Value::String(self.api_key.clone()));
        if let Some(alias) = &self.key_alias {
            metadata
                .entry("user_api_key_alias")
                .or_insert_with(|| Value::String(alias.clone()));
        }
        if self.cache_read_input_tokens > 0 || self.cache_creation_input_tokens > 0 {
            metadata.entry("usage_object").or_insert_with(|| {
                json!({
                    "prompt_tokens": self.prompt_tokens,
                    "completion_tokens": self.completion_tokens,
                    "total_tokens": self.total_tokens,
                    "cache_read_input_tokens": self.cache_read_input_tokens,
                    "cache_creation_input_tokens": self.cache_creation_input_tokens,
                })
            });
        }
        Value::Object(metadata)
    }

    /// The entities whose `spend` column this row adds to.
    #[must_use]
    pub fn entities(&self) -> Vec<Entity> {
        let mut entities = Vec::new();
        if !self.api_key.is_empty() {
            entities.push(Entity::Key(self.api_key.clone()));
        }
        if let Some(user) = &self.user {
            entities.push(Entity::User(user.clone()));
        }
        if let Some(team) = &self.team_id {
            entities.push(Entity::Team(team.clone()));
            if let Some(user) = &self.user {
                entities.push(Entity::TeamMember(team.clone(), user.clone()));
            }
        }
        if let Some(org) = &self.organization_id {
            entities.push(Entity::Organization(org.clone()));
        }
        if let Some(end_user) = &self.end_user {
            entities.push(Entity::EndUser(end_user.clone()));
        }
        entities
    }
}

/// The columns of `LiteLLM_SpendLogs` written per row, in order.
const SPEND_COLUMNS: &[&str] = &[
    "request_id",
    "call_type",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "request_duration_ms",
    "completionStartTime",
    "model",
    "model_id",
    "model_group",
    "custom_llm_provider",
    "api_base",
    "user",
    "metadata",
    "cache_hit",
    "cache_key",
    "request_tags",
    "team_id",
    "organization_id",
    "end_user",
    "requester_ip_address",
    "messages",
    "response",
    "session_id",
    "status",
    "mcp_namespaced_tool_name",
    "agent_id",
    "proxy_server_request",
    "litellm_call_id",
    "created_at",
    "updated_at",
];

fn spend_params(row: &SpendRow, now: DateTime<Utc>) -> Vec<Param> {
    let text = |v: &Option<String>| Param::Text(v.clone());
    let time = |t: DateTime<Utc>| Param::Time(Some(to_millis(t)));
    vec![
        Param::text(&row.request_id),
        Param::text(&row.call_type),
        Param::text(&row.api_key),
        Param::Money(Some(row.spend)),
        Param::Int(Some(row.total_tokens)),
        Param::Int(Some(row.prompt_tokens)),
        Param::Int(Some(row.completion_tokens)),
        time(row.start_time),
        time(row.end_time),
        Param::Int(
            row.request_duration_ms
                .or_else(|| Some((row.end_time - row.start_time).num_milliseconds())),
        ),
        Param::Time(row.completion_start_time.map(to_millis)),
        Param::text(&row.model),
        text(&row.model_id),
        text(&row.model_group),
        text(&row.custom_llm_provider),
        text(&row.api_base),
        text(&row.user),
        Param::Json(Some(row.metadata_value())),
        Param::Text(Some(
            row.cache_hit.clone().unwrap_or_else(|| "False".to_owned()),
        )),
        text(&row.cache_key),
        Param::Json(Some(json!(row.request_tags))),
        text(&row.team_id),
        text(&row.organization_id),
        text(&row.end_user),
        text(&row.requester_ip_address),
        Param::Json(row.messages.clone()),
        Param::Json(row.response.clone()),
        text(&row.session_id),
        Param::Text(Some(
            row.status.clone().unwrap_or_else(|| "success".to_owned()),
        )),
        text(&row.mcp_namespaced_tool_name),
        text(&row.agent_id),
        Param::Json(row.proxy_server_request.clone()),
        text(&row.litellm_call_id),
        time(now),
        time(now),
    ]
}

/// The daily table of an aggregate and its entity column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Daily {
    User,
    Team,
    Organization,
    EndUser,
    Tag,
    /// llmrelay's per-team totals (no `api_key` dimension) for month reports.
    TeamTotal,
    /// llmrelay's per-end-user totals.
    EndUserTotal,
}

impl Daily {
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Self::User => ("LiteLLM_DailyUserSpend", "user_id"),
            Self::Team => ("LiteLLM_DailyTeamSpend", "team_id"),
            Self::Organization => ("LiteLLM_DailyOrganizationSpend", "organization_id"),
            Self::EndUser => ("LiteLLM_DailyEndUserSpend", "end_user_id"),
            Self::Tag => ("LiteLLM_DailyTagSpend", "tag"),
            Self::TeamTotal => ("llmrelay_daily_team_spend", "team_id"),
            Self::EndUserTotal => ("llmrelay_daily_end_user_spend", "end_user_id"),
        }
    }
}

/// The unique key of a daily row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct DailyKey {
    table: Daily,
    entity: Option<String>,
    date: String,
    api_key: String,
    model: Option<String>,
    custom_llm_provider: Option<String>,
    mcp_namespaced_tool_name: Option<String>,
    endpoint: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct DailySums {
    model_group: Option<String>,
    prompt_tokens: i64,
    completion_tokens: i64,
    cache_read_input_tokens: i64,
    cache_creation_input_tokens: i64,
    spend: Decimal,
    api_requests: i64,
    successful_requests: i64,
    failed_requests: i64,
    total_response_time_ms: i64,
}

impl DailySums {
    fn add(&mut self, row: &SpendRow) {
        if self.model_group.is_none() {
            self.model_group.clone_from(&row.model_group);
        }
        self.prompt_tokens += row.prompt_tokens;
        self.completion_tokens += row.completion_tokens;
        self.cache_read_input_tokens += row.cache_read_input_tokens;
        self.cache_creation_input_tokens += row.cache_creation_input_tokens;
        self.spend += row.spend;
        self.api_requests += 1;
        if row.succeeded() {
            self.successful_requests += 1;
        } else {
            self.failed_requests += 1;
        }
        self.total_response_time_ms += (row.end_time - row.start_time).num_milliseconds().max(0);
    }
}

/// What one batch adds, summed in memory.
#[derive(Debug, Default)]
pub struct BatchTotals {
    daily: BTreeMap<DailyKey, DailySums>,
    /// Entity → spend added (sorted, so concurrent writers lock rows in the same order).
    pub entities: BTreeMap<Entity, Decimal>,
}

impl BatchTotals {
    /// Sums `rows` (those actually inserted).
    #[must_use]
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a SpendRow>) -> Self {
        let mut totals = Self::default();
        for row in rows {
            let base = DailyKey {
                table: Daily::User,
                entity: None,
                date: row.date(),
                api_key: row.api_key.clone(),
                model: Some(row.model.clone()),
                custom_llm_provider: row.custom_llm_provider.clone(),
                mcp_namespaced_tool_name: row.mcp_namespaced_tool_name.clone(),
                endpoint: row.endpoint.clone(),
            };
            // Every row has a user-table row (user may be null): the global reports read it.
            let mut targets = vec![(Daily::User, row.user.clone())];
            if row.team_id.is_some() {
                targets.push((Daily::Team, row.team_id.clone()));
            }
            if row.organization_id.is_some() {
                targets.push((Daily::Organization, row.organization_id.clone()));
            }
            if row.end_user.is_some() {
                targets.push((Daily::EndUser, row.end_user.clone()));
            }
            for tag in &row.request_tags {
                targets.push((Daily::Tag, Some(tag.clone())));
            }
            for (table, entity) in targets {
                let key = DailyKey {
                    table,
                    entity,
                    ..base.clone()
                };
                totals.daily.entry(key).or_default().add(row);
            }
            let totals_targets = [
                (Daily::TeamTotal, &row.team_id),
                (Daily::EndUserTotal, &row.end_user),
            ];
            for (table, entity) in totals_targets {
                if entity.is_some() {
                    let key = DailyKey {
                        table,
                        entity: entity.clone(),
                        api_key: String::new(),
                        custom_llm_provider: None,
                        mcp_namespaced_tool_name: None,
                        endpoint: None,
                        ..base.clone()
                    };
                    totals.daily.entry(key).or_default().add(row);
                }
            }
            for entity in row.entities() {
                *totals.entities.entry(entity).or_default() += row.spend;
            }
        }
        totals
    }
}

fn entity_target(entity: &Entity) -> (&'static str, Vec<(&'static str, String)>) {
    match entity {
        Entity::Key(id) => ("LiteLLM_VerificationToken", vec![("token", id.clone())]),
        Entity::User(id) => ("LiteLLM_UserTable", vec![("user_id", id.clone())]),
        Entity::Team(id) => ("LiteLLM_TeamTable", vec![("team_id", id.clone())]),
        Entity::TeamMember(team, user) => (
            "LiteLLM_TeamMembership",
            vec![("team_id", team.clone()), ("user_id", user.clone())],
        ),
        Entity::Organization(id) => (
            "LiteLLM_OrganizationTable",
            vec![("organization_id", id.clone())],
        ),
        Entity::EndUser(id) => ("LiteLLM_EndUserTable", vec![("user_id", id.clone())]),
        Entity::KeyModel(key, _) => ("LiteLLM_VerificationToken", vec![("token", key.clone())]),
    }
}

const DAILY_SUM_COLUMNS: &[&str] = &[
    "prompt_tokens",
    "completion_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "spend",
    "api_requests",
    "successful_requests",
    "failed_requests",
    "total_response_time_ms",
];

fn sum_params(sums: &DailySums) -> Vec<Param> {
    vec![
        Param::Int(Some(sums.prompt_tokens)),
        Param::Int(Some(sums.completion_tokens)),
        Param::Int(Some(sums.cache_read_input_tokens)),
        Param::Int(Some(sums.cache_creation_input_tokens)),
        Param::Money(Some(sums.spend)),
        Param::Int(Some(sums.api_requests)),
        Param::Int(Some(sums.successful_requests)),
        Param::Int(Some(sums.failed_requests)),
        Param::Int(Some(sums.total_response_time_ms)),
    ]
}

fn key_params(key: &DailyKey) -> Vec<Param> {
    vec![
        Param::Text(key.entity.clone()),
        Param::text(&key.date),
        Param::text(&key.api_key),
        Param::Text(key.model.clone()),
        Param::Text(key.custom_llm_provider.clone()),
        Param::Text(key.mcp_namespaced_tool_name.clone()),
        Param::Text(key.endpoint.clone()),
    ]
}

/// Writes a batch in one transaction; returns the totals of the rows that were new (rows whose
/// `request_id` is already stored are skipped, so a replay adds nothing twice).
///
/// # Errors
/// Database errors (nothing of the batch is written).
pub async fn write_batch(
    store: &SqlStore,
    rows: &[SpendRow],
) -> Result<BatchTotals, GovernanceError> {
    if rows.is_empty() {
        return Ok(BatchTotals::default());
    }
    let now = Utc::now();
    let _guard = store.money_write_guard().await;
    let backend = store.backend();
    let db: &Db = store.db();
    let columns: Vec<String> = SPEND_COLUMNS.iter().map(|c| format!("\"{c}\"")).collect();
    let rows_per_statement = (MAX_PARAMS / SPEND_COLUMNS.len()).max(1);
    on_db!(db, pool => {
        let mut transaction = pool.begin().await?;
        let mut inserted = std::collections::HashSet::new();
        for chunk in rows.chunks(rows_per_statement) {
            let mut params = Vec::with_capacity(chunk.len() * SPEND_COLUMNS.len());
            let mut tuples = Vec::with_capacity(chunk.len());
            for row in chunk {
                let start = params.len();
                params.extend(spend_params(row, now));
                let placeholders = crate::db::placeholders(backend, start + 1, params.len());
                tuples.push(format!("({})", placeholders.join(", ")));
            }
            let sql = format!(
                "INSERT INTO \"LiteLLM_SpendLogs\" ({}) VALUES {} ON CONFLICT (\"request_id\") DO NOTHING RETURNING \"request_id\"",
                columns.join(", "),
                tuples.join(", ")
            );
            let returned = bind_params(sqlx::query(&sql), &params).fetch_all(&mut *transaction).await?;
            for row in &returned {
                let record = read_record(row, &[("request_id", Kind::Text)])?;
                if let Some(Value::String(id)) = record.get("request_id") {
                    inserted.insert(id.clone());
                }
            }
        }
        let totals = BatchTotals::of(rows.iter().filter(|row| inserted.remove(&row.request_id)));
        let stamp = Param::Time(Some(to_millis(now)));
        for (key, sums) in &totals.daily {
            let (table, entity_column) = key.table.table();
            let key_columns = [entity_column, "date", "api_key", "model", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint"];
            match backend {
                Backend::Postgres => {
                    let mut all_columns: Vec<&str> = key_columns.to_vec();
                    all_columns.extend(DAILY_SUM_COLUMNS);
                    all_columns.extend(["model_group", "id", "created_at", "updated_at"]);
                    let mut params = key_params(key);
                    params.extend(sum_params(sums));
                    params.push(Param::Text(sums.model_group.clone()));
                    params.push(Param::text(uuid::Uuid::new_v4().to_string()));
                    params.push(stamp.clone());
                    params.push(stamp.clone());
                    let placeholders: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
                    let updates: Vec<String> = DAILY_SUM_COLUMNS
                        .iter()
                        .map(|c| format!("\"{c}\" = \"{table}\".\"{c}\" + excluded.\"{c}\""))
                        .chain(std::iter::once("\"updated_at\" = excluded.\"updated_at\"".to_owned()))
                        .collect();
                    let sql = format!(
                        "INSERT INTO \"{table}\" ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
                        all_columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", "),
                        placeholders.join(", "),
                        key_columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", "),
                        updates.join(", ")
                    );
                    bind_params(sqlx::query(&sql), &params).execute(&mut *transaction).await?;
                }
                Backend::Sqlite => {
                    // Decimal text cannot be added in SQL: read, add exactly, write.
                    let condition: Vec<String> = key_columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| format!("\"{c}\" IS ${}", i + 1))
                        .collect();
                    let select = format!(
                        "SELECT \"id\", {} FROM \"{table}\" WHERE {} LIMIT 1",
                        DAILY_SUM_COLUMNS.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", "),
                        condition.join(" AND ")
                    );
                    let mut kinds: Vec<(&str, Kind)> = DAILY_SUM_COLUMNS
                        .iter()
                        .map(|c| (*c, if *c == "spend" { Kind::Money } else { Kind::Int }))
                        .collect();
                    kinds.push(("id", Kind::Text));
                    let existing = bind_params(sqlx::query(&select), &key_params(key))
                        .fetch_optional(&mut *transaction)
                        .await?
                        .map(|row| read_record(&row, &kinds))
                        .transpose()?;
                    match existing {
                        Some(existing) => {
                            let mut merged = sums.clone();
                            let int = |name: &str| existing.get(name).and_then(Value::as_i64).unwrap_or(0);
                            merged.prompt_tokens += int("prompt_tokens");
                            merged.completion_tokens += int("completion_tokens");
                            merged.cache_read_input_tokens += int("cache_read_input_tokens");
                            merged.cache_creation_input_tokens += int("cache_creation_input_tokens");
                            merged.spend += crate::db::money(existing.get("spend")).unwrap_or_default();
                            merged.api_requests += int("api_requests");
                            merged.successful_requests += int("successful_requests");
                            merged.failed_requests += int("failed_requests");
                            merged.total_response_time_ms += int("total_response_time_ms");
                            let sets: Vec<String> = DAILY_SUM_COLUMNS
                                .iter()
                                .enumerate()
                                .map(|(i, c)| format!("\"{c}\" = ${}", i + 1))
                                .collect();
                            let mut params = sum_params(&merged);
                            params.push(stamp.clone());
                            params.push(Param::Text(existing.get("id").and_then(Value::as_str).map(str::to_owned)));
                            let sql = format!(
                                "UPDATE \"{table}\" SET {}, \"updated_at\" = ${} WHERE \"id\" = ${}",
                                sets.join(", "),
                                params.len() - 1,
                                params.len()
                            );
                            bind_params(sqlx::query(&sql), &params).execute(&mut *transaction).await?;
                        }
                        None => {
                            let mut all_columns: Vec<&str> = key_columns.to_vec();
                            all_columns.extend(DAILY_SUM_COLUMNS);
                            all_columns.extend(["model_group", "id", "created_at", "updated_at"]);
                            let mut params = key_params(key);
                            params.extend(sum_params(sums));
                            params.push(Param::Text(sums.model_group.clone()));
                            params.push(Param::text(uuid::Uuid::new_v4().to_string()));
                            params.push(stamp.clone());
                            params.push(stamp.clone());
                            let placeholders: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
                            let sql = format!(
                                "INSERT INTO \"{table}\" ({}) VALUES ({})",
                                all_columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", "),
                                placeholders.join(", ")
                            );
                            bind_params(sqlx::query(&sql), &params).execute(&mut *transaction).await?;
                        }
                    }
                }
            }
        }
        for (entity, amount) in &totals.entities {
            let (table, key) = entity_target(entity);
            let condition: Vec<String> = key
                .iter()
                .enumerate()
                .map(|(i, (column, _))| format!("\"{column}\" = ${}", i + 2))
                .collect();
            let mut params = vec![Param::Money(Some(*amount))];
            params.extend(key.iter().map(|(_, value)| Param::text(value)));
            let total_spend = matches!(entity, Entity::Key(_) | Entity::TeamMember(..));
            match backend {
                Backend::Postgres => {
                    let sql = format!(
                        "UPDATE \"{table}\" SET \"spend\" = \"spend\" + $1{} WHERE {}",
                        if total_spend { ", \"total_spend\" = \"total_spend\" + $1" } else { "" },
                        condition.join(" AND ")
                    );
                    bind_params(sqlx::query(&sql), &params).execute(&mut *transaction).await?;
                }
                Backend::Sqlite => {
                    let select = format!(
                        "SELECT \"spend\"{} FROM \"{table}\" WHERE {}",
                        if total_spend { ", \"total_spend\"" } else { "" },
                        condition.iter().enumerate().map(|(i, c)| c.replace(&format!("${}", i + 2), &format!("${}", i + 1))).collect::<Vec<_>>().join(" AND ")
                    );
                    let current = bind_params(sqlx::query(&select), &params[1..])
                        .fetch_optional(&mut *transaction)
                        .await?
                        .map(|row| read_record(&row, &[("spend", Kind::Money), ("total_spend", Kind::Money)]))
                        .transpose()?;
                    if let Some(current) = current {
                        let spend = crate::db::money(current.get("spend")).unwrap_or_default() + *amount;
                        let total = crate::db::money(current.get("total_spend")).unwrap_or_default() + *amount;
                        let mut params = vec![Param::Money(Some(spend))];
                        params.extend(key.iter().map(|(_, value)| Param::text(value)));
                        let sql = if total_spend {
                            params.push(Param::Money(Some(total)));
                            format!(
                                "UPDATE \"{table}\" SET \"spend\" = $1, \"total_spend\" = ${} WHERE {}",
                                params.len(),
                                condition.join(" AND ")
                            )
                        } else {
                            format!("UPDATE \"{table}\" SET \"spend\" = $1 WHERE {}", condition.join(" AND "))
                        };
                        bind_params(sqlx::query(&sql), &params).execute(&mut *transaction).await?;
                    }
                }
            }
        }
        transaction.commit().await?;
        Ok(totals)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, spend: &str, tags: &[&str]) -> SpendRow {
        SpendRow {
            request_id: id.into(),
            api_key: "k".into(),
            user: Some("u".into()),
            team_id: Some("t".into()),
            spend: spend.parse().unwrap(),
            model: "gpt-4o".into(),
            start_time: "2026-01-02T03:04:05Z".parse().unwrap(),
            end_time: "2026-01-02T03:04:06Z".parse().unwrap(),
            request_tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            ..SpendRow::default()
        }
    }

    #[test]
    fn batches_sum_per_entity_and_day() {
        let rows = [row("a", "0.1", &["x"]), row("b", "0.2", &["x", "y"])];
        let totals = BatchTotals::of(&rows);
        assert_eq!(
            totals.entities[&Entity::Key("k".into())],
            "0.3".parse().unwrap()
        );
        assert_eq!(
            totals.entities[&Entity::TeamMember("t".into(), "u".into())],
            "0.3".parse().unwrap()
        );
        // user, team, tag x, tag y, and the team's total (no key dimension)
        assert_eq!(totals.daily.len(), 5);
        let team_total = totals
            .daily
            .iter()
            .find(|(k, _)| k.table == Daily::TeamTotal)
            .unwrap();
        assert_eq!(team_total.0.api_key, "");
        assert_eq!(team_total.1.spend, "0.3".parse().unwrap());
        let tag_x = totals
            .daily
            .iter()
            .find(|(k, _)| k.table == Daily::Tag && k.entity.as_deref() == Some("x"))
            .unwrap()
            .1;
        assert_eq!(tag_x.api_requests, 2);
        assert_eq!(tag_x.total_response_time_ms, 2000);
    }

    #[test]
    fn rows_round_trip_through_json() {
        let original = row("a", "0.000000123", &[]);
        let text = serde_json::to_string(&original).unwrap();
        assert!(text.contains("\"startTime\""));
        let back: SpendRow = serde_json::from_str(&text).unwrap();
        assert_eq!(back, original);
    }
}
