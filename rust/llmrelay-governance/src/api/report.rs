//! `/global/spend/report`: spend per day and team (or end user, or key) with a per-model
//! breakdown. Team and end-user reports read llmrelay's daily totals (a few rows per team and
//! day); rows are decoded into typed tuples and serialized straight to JSON, so a month of a
//! thousand teams stays a fast answer.

use axum::Extension;
use axum::extract::State;
use axum::response::IntoResponse as _;
use rust_decimal::Decimal;
use serde::Serialize;
use serde::ser::SerializeMap as _;
use sqlx::Row as _;

use super::spend::{date_param, require_global};
use super::{ApiResult, Caller, Query, Shared};
use crate::db::{Integer, Money, on_db};
use crate::error::GovernanceError;

struct ModelSpend {
    model: String,
    spend: Decimal,
    total_tokens: i64,
}

impl Serialize for ModelSpend {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("model", &self.model)?;
        map.serialize_entry("spend", &llmrelay_core::cost::to_f64(self.spend))?;
        map.serialize_entry("total_tokens", &self.total_tokens)?;
        map.end()
    }
}

struct Group {
    label: &'static str,
    name: String,
    total: Decimal,
    metadata: Vec<ModelSpend>,
}

impl Serialize for Group {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry(self.label, &self.name)?;
        map.serialize_entry("total_spend", &llmrelay_core::cost::to_f64(self.total))?;
        map.serialize_entry("metadata", &self.metadata)?;
        map.end()
    }
}

struct Day {
    date: String,
    key: &'static str,
    groups: Vec<Group>,
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("group_by_day", &self.date)?;
        map.serialize_entry(self.key, &self.groups)?;
        map.end()
    }
}

type ReportRow = (String, Option<String>, Option<String>, Decimal, i64);

pub(super) async fn global_spend_report(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    require_global(&caller)?;
    if let Some(format) = query.get("format").filter(|f| f.starts_with("focus")) {
        return focus_report(&state, &query, format).await;
    }
    let (Some(start), Some(end)) = (
        date_param(&query, "start_date")?,
        date_param(&query, "end_date")?,
    ) else {
        return Err(GovernanceError::bad_request(
            "start_date and end_date are required (YYYY-MM-DD)",
        ));
    };
    let (table, entity, label, key) = match query.get("group_by").map_or("team", String::as_str) {
        // llmrelay's totals without the key dimension: a few rows per team and day.
        "team" => ("llmrelay_daily_team_spend", "team_id", "team_name", "teams"),
        "customer" => (
            "llmrelay_daily_end_user_spend",
            "end_user_id",
            "customer",
            "customers",
        ),
        "api_key" => ("LiteLLM_DailyUserSpend", "api_key", "api_key", "customers"),
        other => {
            return Err(GovernanceError::bad_param(
                format!("Invalid group_by: {other}. Must be team, customer or api_key"),
                "group_by",
            ));
        }
    };
    // llmrelay's totals hold one row per entity, day and model; LiteLLM's per-key table is
    // grouped.
    let sql = if table.starts_with("llmrelay_") {
        format!(
            "SELECT \"date\", \"{entity}\", \"model\", \"spend\", \
             CAST(\"prompt_tokens\" + \"completion_tokens\" AS BIGINT) AS \"tokens\" \
             FROM \"{table}\" WHERE \"date\" >= $1 AND \"date\" <= $2"
        )
    } else {
        format!(
            "SELECT \"date\", \"{entity}\", \"model\", SUM(\"spend\") AS \"spend\", \
             CAST(SUM(\"prompt_tokens\") + SUM(\"completion_tokens\") AS BIGINT) AS \"tokens\" \
             FROM \"{table}\" WHERE \"date\" >= $1 AND \"date\" <= $2 \
             GROUP BY \"date\", \"{entity}\", \"model\""
        )
    };
    let rows: Vec<ReportRow> = on_db!(state.store.db(), pool => {
        let fetched = sqlx::query(&sql).bind(&start).bind(&end).fetch_all(pool).await?;
        fetched
            .iter()
            .map(|row| {
                Ok((
                    row.try_get::<String, _>(0)?,
                    row.try_get::<Option<String>, _>(1)?,
                    row.try_get::<Option<String>, _>(2)?,
                    row.try_get::<Option<Money>, _>(3)?.map_or(Decimal::ZERO, |m| m.0),
                    row.try_get::<Option<Integer>, _>(4)?.map_or(0, |i| i.0),
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    });
    // Sorted here rather than by the database (a month of every team is most of the table, where
    // PostgreSQL would sort on disk): by day, group and model, then folded in one pass.
    let mut rows = rows;
    rows.sort_unstable_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    let mut days: Vec<Day> = Vec::new();
    for (date, name, model, spend, total_tokens) in rows {
        if days.last().is_none_or(|day| day.date != date) {
            days.push(Day {
                date: date.clone(),
                key,
                groups: Vec::new(),
            });
        }
        let Some(day) = days.last_mut() else { continue };
        let name = name.unwrap_or_default();
        if day.groups.last().is_none_or(|group| group.name != name) {
            day.groups.push(Group {
                label,
                name,
                total: Decimal::ZERO,
                metadata: Vec::new(),
            });
        }
        if let Some(group) = day.groups.last_mut() {
            group.total += spend;
            let model = model.unwrap_or_default();
            match group.metadata.last_mut() {
                // Rows of one model (another provider, a row written before the totals' key
                // was narrowed) come next to each other: one entry.
                Some(last) if last.model == model => {
                    last.spend += spend;
                    last.total_tokens += total_tokens;
                }
                _ => group.metadata.push(ModelSpend {
                    model,
                    spend,
                    total_tokens,
                }),
            }
        }
    }
    Ok(axum::Json(days).into_response())
}

/// `format=focus` (JSON, LiteLLM's FOCUS export shape) or `format=focus_csv` (CSV; also
/// `format=focus&file_format=csv`): one FOCUS row per day, key and model from the daily
/// totals.
async fn focus_report(state: &Shared, query: &Query, format: &str) -> ApiResult {
    let csv = match (format, query.get("file_format").map(String::as_str)) {
        ("focus", None | Some("json")) => false,
        ("focus_csv", None | Some("csv")) | ("focus", Some("csv")) => true,
        (_, Some(other)) if !matches!(other, "json" | "csv") => {
            return Err(GovernanceError::bad_param(
                format!("Invalid file_format: {other}. Must be json or csv"),
                "file_format",
            ));
        }
        _ => {
            return Err(GovernanceError::bad_param(
                format!("Invalid format: {format}. Must be focus or focus_csv"),
                "format",
            ));
        }
    };
    let day = |name: &str| -> Result<chrono::NaiveDate, GovernanceError> {
        query
            .get(name)
            .and_then(|text| crate::focus::day_of(text))
            .ok_or_else(|| {
                GovernanceError::bad_param(format!("{name} is required (YYYY-MM-DD)"), name)
            })
    };
    let (start, end) = (day("start_date")?, day("end_date")?);
    let charges = crate::focus::daily_charges(&state.store, start, end).await?;
    if csv {
        let disposition = format!("attachment; filename=\"focus-{start}-{end}.csv\"");
        return Ok((
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/csv; charset=utf-8".to_owned(),
                ),
                (axum::http::header::CONTENT_DISPOSITION, disposition),
            ],
            crate::focus::to_csv(&charges),
        )
            .into_response());
    }
    Ok(axum::Json(crate::focus::to_json(&charges, chrono::Utc::now())).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_serialize_in_litellm_shape() {
        let day = Day {
            date: "2026-03-01".into(),
            key: "teams",
            groups: vec![Group {
                label: "team_name",
                name: "t".into(),
                total: Decimal::new(5, 1),
                metadata: vec![ModelSpend {
                    model: "gpt-4o".into(),
                    spend: Decimal::new(5, 1),
                    total_tokens: 30,
                }],
            }],
        };
        assert_eq!(
            serde_json::to_value(&day).unwrap(),
            serde_json::json!({"group_by_day": "2026-03-01", "teams": [
                {"team_name": "t", "total_spend": 0.5, "metadata": [{"model": "gpt-4o", "spend": 0.5, "total_tokens": 30}]}
            ]})
        );
    }
}
