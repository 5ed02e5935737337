//! Spend and key queries the engine itself needs (outside the management API): a key's
//! model spend, and what alerting reports (spend per team and tag, keys about to expire).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::db::{Kind, Param, money};
use crate::error::GovernanceError;
use crate::identity::{text, time};
use crate::store::SqlStore;
use crate::time::to_millis;

/// A key's spend on one model group since `since` (by the `(api_key, startTime)` index).
///
/// # Errors
/// Database errors.
pub async fn key_model_spend(
    store: &SqlStore,
    token: &str,
    model: &str,
    since: DateTime<Utc>,
) -> Result<Decimal, GovernanceError> {
    let rows = store
        .fetch(
            "SELECT SUM(\"spend\") AS \"spend\" FROM \"LiteLLM_SpendLogs\" WHERE \"api_key\" = $1 AND \"startTime\" >= $2 AND (\"model_group\" = $3 OR \"model\" = $3)",
            &[Param::text(token), Param::Time(Some(to_millis(since))), Param::text(model)],
            &[("spend", Kind::Money)],
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|r| money(r.get("spend")))
        .unwrap_or_default())
}

/// Spend per team (`(team alias or id, spend)`) and per tag (`(tag, spend)`) on the days from
/// `start` to `end` (llmrelay's daily team totals and LiteLLM's daily tag table), highest
/// first.
///
/// # Errors
/// Database errors.
pub async fn spend_per_team_and_tag(
    store: &SqlStore,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<(Vec<(String, Decimal)>, Vec<(String, Decimal)>), GovernanceError> {
    let dates = [
        Param::text(start.format("%Y-%m-%d").to_string()),
        Param::text(end.format("%Y-%m-%d").to_string()),
    ];
    let teams = store
        .fetch(
            "SELECT d.\"team_id\" AS \"team_id\", MAX(t.\"team_alias\") AS \"team_alias\", SUM(d.\"spend\") AS \"spend\" FROM \"llmrelay_daily_team_spend\" d LEFT JOIN \"LiteLLM_TeamTable\" t ON t.\"team_id\" = d.\"team_id\" WHERE d.\"date\" >= $1 AND d.\"date\" <= $2 GROUP BY d.\"team_id\"",
            &dates,
            &[("team_id", Kind::Text), ("team_alias", Kind::Text), ("spend", Kind::Money)],
        )
        .await?;
    let tags = store
        .fetch(
            "SELECT \"tag\" AS \"tag\", SUM(\"spend\") AS \"spend\" FROM \"LiteLLM_DailyTagSpend\" WHERE \"date\" >= $1 AND \"date\" <= $2 GROUP BY \"tag\"",
            &dates,
            &[("tag", Kind::Text), ("spend", Kind::Money)],
        )
        .await?;
    let mut teams: Vec<(String, Decimal)> = teams
        .iter()
        .filter_map(|row| {
            let name = text(row, "team_alias").or_else(|| text(row, "team_id"))?;
            Some((name, money(row.get("spend")).unwrap_or_default()))
        })
        .collect();
    let mut tags: Vec<(String, Decimal)> = tags
        .iter()
        .filter_map(|row| {
            Some((
                text(row, "tag")?,
                money(row.get("spend")).unwrap_or_default(),
            ))
        })
        .collect();
    teams.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    tags.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok((teams, tags))
}

/// A key that expires soon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringKey {
    pub token: String,
    pub key_alias: Option<String>,
    pub key_name: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub expires: DateTime<Utc>,
}

/// Unblocked keys whose `expires` is after `after` and before `before`, soonest first.
///
/// # Errors
/// Database errors.
pub async fn keys_expiring(
    store: &SqlStore,
    after: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Result<Vec<ExpiringKey>, GovernanceError> {
    let rows = store
        .fetch(
            "SELECT \"token\", \"key_alias\", \"key_name\", \"user_id\", \"team_id\", \"expires\" FROM \"LiteLLM_VerificationToken\" WHERE \"expires\" > $1 AND \"expires\" <= $2 AND (\"blocked\" IS NULL OR \"blocked\" = $3) ORDER BY \"expires\" LIMIT 1000",
            &[
                Param::Time(Some(to_millis(after))),
                Param::Time(Some(to_millis(before))),
                Param::Bool(Some(false)),
            ],
            &[
                ("token", Kind::Text),
                ("key_alias", Kind::Text),
                ("key_name", Kind::Text),
                ("user_id", Kind::Text),
                ("team_id", Kind::Text),
                ("expires", Kind::Time),
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(ExpiringKey {
                token: text(row, "token")?,
                key_alias: text(row, "key_alias"),
                key_name: text(row, "key_name"),
                user_id: text(row, "user_id"),
                team_id: text(row, "team_id"),
                expires: time(row, "expires")?,
            })
        })
        .collect())
}
