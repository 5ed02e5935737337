//! `/spend/*`, `/global/spend/*` and `/{user,team,organization,customer}/daily/activity`:
//! reports read the daily aggregate tables (never the raw log) except `/spend/logs`, which
//! reads rows by the `(api_key, startTime)` / `startTime` indexes.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::State;
use serde_json::{Map, Value, json};

use super::{ApiResult, Caller, Query, Shared, json_response, query_int};
use crate::db::{Kind, Param, decimal_to_value, money};
use crate::error::GovernanceError;
use crate::store::Conditions;
use crate::tables;
use crate::time::{parse_time, to_millis};

pub(super) fn date_param(query: &Query, name: &str) -> Result<Option<String>, GovernanceError> {
    match query.get(name) {
        None => Ok(None),
        Some(text) => parse_time(text)
            .map(|t| Some(t.format("%Y-%m-%d").to_string()))
            .ok_or_else(|| {
                GovernanceError::bad_param(format!("{name} must be a date (YYYY-MM-DD)"), name)
            }),
    }
}

pub(super) fn require_global(caller: &Caller) -> Result<(), GovernanceError> {
    let permitted = caller.can_read_all()
        || caller
            .auth
            .permissions
            .get("get_spend_routes")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    if permitted {
        Ok(())
    } else {
        Err(GovernanceError::Authentication(format!(
            "Authentication Error, Only proxy admin can view global spend. Your role={}",
            caller.role_name()
        )))
    }
}

/// One day of `/spend/logs?summarize=true`: total, by model, by user, by key.
type DaySummary = (
    rust_decimal::Decimal,
    BTreeMap<String, rust_decimal::Decimal>,
    BTreeMap<String, rust_decimal::Decimal>,
    BTreeMap<String, rust_decimal::Decimal>,
);

pub(super) async fn spend_logs(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    let mut conditions = Conditions::new();
    let api_key = query.get("api_key").map(|k| crate::keys::token_of(k));
    if let Some(token) = &api_key {
        conditions.equals("api_key", Param::text(token));
    }
    if let Some(user) = query.get("user_id") {
        conditions.equals("user", Param::text(user));
    }
    if let Some(request_id) = query.get("request_id") {
        conditions.equals("request_id", Param::text(request_id));
    }
    if !caller.can_read_all() {
        let own = caller.auth.user_id.clone().unwrap_or_default();
        if api_key.as_deref() != Some(caller.auth.token.as_str()) {
            conditions.equals("user", Param::text(own));
        }
    }
    let start = query
        .get("start_date")
        .map(|s| {
            parse_time(s).ok_or_else(|| {
                GovernanceError::bad_param("start_date must be a date", "start_date")
            })
        })
        .transpose()?;
    let end = query
        .get("end_date")
        .map(|s| {
            parse_time(s)
                .ok_or_else(|| GovernanceError::bad_param("end_date must be a date", "end_date"))
        })
        .transpose()?;
    if let Some(start) = start {
        conditions.clause(
            "\"startTime\" >= {}",
            vec![Param::Time(Some(to_millis(start)))],
        );
    }
    if let Some(end) = end {
        // A bare end date includes that whole day.
        let end = if query.get("end_date").is_some_and(|s| s.len() == 10) {
            end + chrono::Duration::days(1)
        } else {
            end
        };
        conditions.clause(
            "\"startTime\" < {}",
            vec![Param::Time(Some(to_millis(end)))],
        );
    }
    let summarize = query.get("summarize").is_none_or(|v| v != "false");
    if summarize && start.is_some() && end.is_some() {
        let sql = format!(
            "SELECT \"startTime\", \"spend\", \"model\", \"user\", \"api_key\" FROM \"LiteLLM_SpendLogs\"{}",
            conditions.sql()
        );
        let rows = state
            .store
            .fetch(
                &sql,
                &conditions.params,
                &[
                    ("startTime", Kind::Time),
                    ("spend", Kind::Money),
                    ("model", Kind::Text),
                    ("user", Kind::Text),
                    ("api_key", Kind::Text),
                ],
            )
            .await?;
        let mut days: BTreeMap<String, DaySummary> = BTreeMap::new();
        for row in rows {
            let day = row
                .get("startTime")
                .and_then(Value::as_str)
                .map(|t| t[..10].to_owned())
                .unwrap_or_default();
            let spend = money(row.get("spend")).unwrap_or_default();
            let entry = days.entry(day).or_default();
            entry.0 += spend;
            for (map, field) in [
                (&mut entry.1, "model"),
                (&mut entry.2, "user"),
                (&mut entry.3, "api_key"),
            ] {
                let name = row
                    .get(field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                *map.entry(name).or_default() += spend;
            }
        }
        let render = |map: BTreeMap<String, rust_decimal::Decimal>| -> Value {
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, decimal_to_value(v)))
                    .collect(),
            )
        };
        let summary: Vec<Value> = days
            .into_iter()
            .map(|(day, (spend, models, users, keys))| {
                json!({"startTime": day, "spend": decimal_to_value(spend), "models": render(models), "users": render(users), "api_keys": render(keys)})
            })
            .collect();
        return Ok(json_response(Value::Array(summary)));
    }
    let limit = query_int(&query, "limit", 1000)?.clamp(1, 10_000);
    let rows = state
        .store
        .select(
            &tables::SPEND_LOGS,
            &conditions,
            "\"startTime\" DESC",
            Some(limit),
            None,
        )
        .await?;
    Ok(json_response(json!(rows)))
}

pub(super) async fn spend_keys(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    let limit = query_int(&query, "limit", 100)?.clamp(1, 10_000);
    let mut conditions = Conditions::new();
    if !caller.can_read_all() {
        conditions.equals(
            "user_id",
            Param::text(caller.auth.user_id.clone().unwrap_or_default()),
        );
    }
    let rows = state
        .store
        .select(
            &tables::VERIFICATION_TOKEN,
            &conditions,
            "\"created_at\" DESC",
            Some(limit),
            None,
        )
        .await?;
    Ok(json_response(json!(rows)))
}

pub(super) async fn spend_users(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    let mut conditions = Conditions::new();
    let user = query.get("user_id").cloned();
    if !caller.can_read_all() {
        conditions.equals(
            "user_id",
            Param::text(caller.auth.user_id.clone().unwrap_or_default()),
        );
    } else if let Some(user) = user {
        conditions.equals("user_id", Param::text(user));
    }
    let rows = state
        .store
        .select(
            &tables::USER_TABLE,
            &conditions,
            "\"user_id\"",
            Some(10_000),
            None,
        )
        .await?;
    Ok(json_response(json!(rows)))
}

/// Sums of a daily table grouped by `group` columns, between optional dates.
async fn daily_groups(
    state: &Shared,
    table: &str,
    group: &[&str],
    mut conditions: Conditions,
    start: Option<String>,
    end: Option<String>,
    order_by_spend: Option<i64>,
) -> Result<Vec<crate::db::Record>, GovernanceError> {
    if let Some(start) = start {
        conditions.clause("\"date\" >= {}", vec![Param::text(start)]);
    }
    if let Some(end) = end {
        conditions.clause("\"date\" <= {}", vec![Param::text(end)]);
    }
    let columns: Vec<String> = group.iter().map(|c| format!("\"{c}\"")).collect();
    let mut sql = format!(
        "SELECT {}, SUM(\"spend\") AS \"spend\", CAST(SUM(\"prompt_tokens\") AS BIGINT) AS \"prompt_tokens\", CAST(SUM(\"completion_tokens\") AS BIGINT) AS \"completion_tokens\", CAST(SUM(\"cache_read_input_tokens\") AS BIGINT) AS \"cache_read_input_tokens\", CAST(SUM(\"cache_creation_input_tokens\") AS BIGINT) AS \"cache_creation_input_tokens\", CAST(SUM(\"api_requests\") AS BIGINT) AS \"api_requests\", CAST(SUM(\"successful_requests\") AS BIGINT) AS \"successful_requests\", CAST(SUM(\"failed_requests\") AS BIGINT) AS \"failed_requests\" FROM \"{table}\"{} GROUP BY {}",
        columns.join(", "),
        conditions.sql(),
        columns.join(", ")
    );
    match order_by_spend {
        Some(limit) => sql.push_str(&format!(" ORDER BY SUM(\"spend\") DESC LIMIT {limit}")),
        None => sql.push_str(&format!(" ORDER BY {}", columns.join(", "))),
    }
    let mut kinds: Vec<(&str, Kind)> = group.iter().map(|c| (*c, Kind::Text)).collect();
    kinds.push(("spend", Kind::Money));
    for column in [
        "prompt_tokens",
        "completion_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "api_requests",
        "successful_requests",
        "failed_requests",
    ] {
        kinds.push((column, Kind::Int));
    }
    state.store.fetch(&sql, &conditions.params, &kinds).await
}

fn field_text(record: &crate::db::Record, field: &str) -> String {
    record
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

pub(super) async fn spend_tags(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    let mut conditions = Conditions::new();
    if !caller.can_read_all() {
        conditions.equals("api_key", Param::text(&caller.auth.token));
    }
    let rows = daily_groups(
        &state,
        "LiteLLM_DailyTagSpend",
        &["tag"],
        conditions,
        date_param(&query, "start_date")?,
        date_param(&query, "end_date")?,
        Some(1000),
    )
    .await?;
    let result: Vec<Value> = rows
        .iter()
        .map(|r| json!({"individual_request_tag": field_text(r, "tag"), "log_count": r.get("api_requests"), "total_spend": r.get("spend")}))
        .collect();
    Ok(json_response(Value::Array(result)))
}

pub(super) async fn global_spend(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> ApiResult {
    require_global(&caller)?;
    let rows = state
        .store
        .fetch(
            "SELECT SUM(\"spend\") AS \"spend\" FROM \"LiteLLM_DailyUserSpend\"",
            &[],
            &[("spend", Kind::Money)],
        )
        .await?;
    let spend = rows
        .first()
        .and_then(|r| r.get("spend").cloned())
        .unwrap_or(json!(0.0));
    Ok(json_response(
        json!({"spend": if spend.is_null() { json!(0.0) } else { spend }, "max_budget": null}),
    ))
}

pub(super) async fn global_spend_logs(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    require_global(&caller)?;
    let mut conditions = Conditions::new();
    if let Some(key) = query.get("api_key") {
        conditions.equals("api_key", Param::text(crate::keys::token_of(key)));
    }
    let rows = daily_groups(
        &state,
        "LiteLLM_DailyUserSpend",
        &["date"],
        conditions,
        date_param(&query, "start_date")?,
        date_param(&query, "end_date")?,
        None,
    )
    .await?;
    let result: Vec<Value> = rows
        .iter()
        .map(|r| json!({"date": field_text(r, "date"), "spend": r.get("spend")}))
        .collect();
    Ok(json_response(Value::Array(result)))
}

pub(super) async fn global_spend_keys(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    require_global(&caller)?;
    let limit = query_int(&query, "limit", 5)?.clamp(1, 1000);
    let rows = daily_groups(
        &state,
        "LiteLLM_DailyUserSpend",
        &["api_key"],
        Conditions::new(),
        date_param(&query, "start_date")?,
        date_param(&query, "end_date")?,
        Some(limit),
    )
    .await?;
    let mut result = Vec::new();
    for row in rows {
        let token = field_text(&row, "api_key");
        let alias = state
            .store
            .get(
                &tables::VERIFICATION_TOKEN,
                &[("token", Param::text(&token))],
            )
            .await?
            .and_then(|k| k.get("key_alias").cloned())
            .unwrap_or(Value::Null);
        result.push(json!({"api_key": token, "key_alias": alias, "total_spend": row.get("spend")}));
    }
    Ok(json_response(Value::Array(result)))
}

pub(super) async fn global_spend_teams(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    require_global(&caller)?;
    let (start, end) = (
        date_param(&query, "start_date")?,
        date_param(&query, "end_date")?,
    );
    let totals = daily_groups(
        &state,
        "llmrelay_daily_team_spend",
        &["team_id"],
        Conditions::new(),
        start.clone(),
        end.clone(),
        Some(1000),
    )
    .await?;
    let daily = daily_groups(
        &state,
        "llmrelay_daily_team_spend",
        &["date", "team_id"],
        Conditions::new(),
        start,
        end,
        None,
    )
    .await?;
    let mut days: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for row in &daily {
        days.entry(field_text(row, "date")).or_default().insert(
            field_text(row, "team_id"),
            row.get("spend").cloned().unwrap_or(Value::Null),
        );
    }
    let daily_spend: Vec<Value> = days
        .into_iter()
        .map(|(date, teams)| {
            let mut entry = teams;
            entry.insert("date".into(), Value::String(date));
            Value::Object(entry)
        })
        .collect();
    let teams: Vec<String> = totals.iter().map(|r| field_text(r, "team_id")).collect();
    let per_team: Vec<Value> = totals
        .iter()
        .map(|r| json!({"team_id": field_text(r, "team_id"), "total_spend": r.get("spend")}))
        .collect();
    Ok(json_response(
        json!({"daily_spend": daily_spend, "teams": teams, "total_spend_per_team": per_team}),
    ))
}

pub(super) async fn global_spend_models(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    require_global(&caller)?;
    let limit = query_int(&query, "limit", 10)?.clamp(1, 1000);
    let rows = daily_groups(
        &state,
        "LiteLLM_DailyUserSpend",
        &["model"],
        Conditions::new(),
        date_param(&query, "start_date")?,
        date_param(&query, "end_date")?,
        Some(limit),
    )
    .await?;
    let result: Vec<Value> = rows
        .iter()
        .map(|r| json!({"model": field_text(r, "model"), "total_spend": r.get("spend")}))
        .collect();
    Ok(json_response(Value::Array(result)))
}

pub(super) async fn global_spend_tags(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    require_global(&caller)?;
    let rows = daily_groups(
        &state,
        "LiteLLM_DailyTagSpend",
        &["tag"],
        Conditions::new(),
        date_param(&query, "start_date")?,
        date_param(&query, "end_date")?,
        Some(1000),
    )
    .await?;
    let result: Vec<Value> = rows
        .iter()
        .map(|r| json!({"name": field_text(r, "tag"), "value": r.get("spend"), "log_count": r.get("api_requests")}))
        .collect();
    Ok(json_response(json!({"spend_per_tag": result})))
}

pub(super) async fn global_spend_provider(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    require_global(&caller)?;
    let rows = daily_groups(
        &state,
        "LiteLLM_DailyUserSpend",
        &["custom_llm_provider"],
        Conditions::new(),
        date_param(&query, "start_date")?,
        date_param(&query, "end_date")?,
        Some(1000),
    )
    .await?;
    let result: Vec<Value> = rows
        .iter()
        .map(|r| json!({"provider": field_text(r, "custom_llm_provider"), "spend": r.get("spend")}))
        .collect();
    Ok(json_response(Value::Array(result)))
}

/// LiteLLM's `SpendMetrics` from a grouped row.
fn metrics(row: &crate::db::Record) -> Value {
    let int = |name: &str| row.get(name).and_then(Value::as_i64).unwrap_or(0);
    json!({
        "spend": row.get("spend").cloned().unwrap_or(json!(0.0)),
        "prompt_tokens": int("prompt_tokens"),
        "completion_tokens": int("completion_tokens"),
        "cache_read_input_tokens": int("cache_read_input_tokens"),
        "cache_creation_input_tokens": int("cache_creation_input_tokens"),
        "total_tokens": int("prompt_tokens") + int("completion_tokens"),
        "api_requests": int("api_requests"),
        "successful_requests": int("successful_requests"),
        "failed_requests": int("failed_requests"),
    })
}

async fn daily_activity(
    state: &Shared,
    caller: &Caller,
    query: &Query,
    table: &str,
    entity: &str,
    parameter: &str,
) -> ApiResult {
    let (start, end) = (
        date_param(query, "start_date")?,
        date_param(query, "end_date")?,
    );
    if start.is_none() || end.is_none() {
        return Err(GovernanceError::bad_request(
            "start_date and end_date are required (YYYY-MM-DD)",
        ));
    }
    let mut conditions = Conditions::new();
    let requested = query.get(parameter).cloned();
    let scoped = if caller.can_read_all() {
        requested
    } else {
        let own = match entity {
            "user_id" => caller.auth.user_id.clone(),
            "team_id" => caller.auth.team_id.clone(),
            "organization_id" => caller.auth.org_id.clone(),
            _ => None,
        };
        match (requested, own) {
            (Some(requested), Some(own)) if requested != own => {
                return Err(GovernanceError::Forbidden(format!(
                    "Not allowed to view activity of {parameter}={requested}"
                )));
            }
            (_, Some(own)) => Some(own),
            _ => {
                return Err(GovernanceError::Forbidden(
                    "Only proxy admins can view this activity".into(),
                ));
            }
        }
    };
    if let Some(id) = scoped {
        let ids: Vec<Param> = id.split(',').map(|i| Param::text(i.trim())).collect();
        let placeholders = vec!["{}"; ids.len()].join(", ");
        conditions.clause(&format!("\"{entity}\" IN ({placeholders})"), ids);
    }
    if let Some(model) = query.get("model") {
        conditions.equals("model", Param::text(model));
    }
    if let Some(key) = query.get("api_key") {
        conditions.equals("api_key", Param::text(crate::keys::token_of(key)));
    }
    let by_day = daily_groups(
        state,
        table,
        &["date"],
        conditions.clone(),
        start.clone(),
        end.clone(),
        None,
    )
    .await?;
    let by_model = daily_groups(
        state,
        table,
        &["date", "model"],
        conditions.clone(),
        start.clone(),
        end.clone(),
        None,
    )
    .await?;
    let by_key = daily_groups(
        state,
        table,
        &["date", "api_key"],
        conditions.clone(),
        start.clone(),
        end.clone(),
        None,
    )
    .await?;
    let by_entity = daily_groups(
        state,
        table,
        &["date", entity],
        conditions,
        start,
        end,
        None,
    )
    .await?;
    let mut totals = json!({"total_spend": 0.0});
    let mut total_spend = rust_decimal::Decimal::ZERO;
    let (mut prompt, mut completion, mut requests, mut ok, mut failed) =
        (0i64, 0i64, 0i64, 0i64, 0i64);
    let results: Vec<Value> = by_day
        .iter()
        .map(|day| {
            let date = field_text(day, "date");
            total_spend += money(day.get("spend")).unwrap_or_default();
            let int = |name: &str| day.get(name).and_then(Value::as_i64).unwrap_or(0);
            prompt += int("prompt_tokens");
            completion += int("completion_tokens");
            requests += int("api_requests");
            ok += int("successful_requests");
            failed += int("failed_requests");
            let breakdown = |rows: &[crate::db::Record], field: &str| -> Value {
                Value::Object(
                    rows.iter()
                        .filter(|r| field_text(r, "date") == date)
                        .map(|r| (field_text(r, field), json!({"metrics": metrics(r)})))
                        .collect(),
                )
            };
            json!({
                "date": date,
                "metrics": metrics(day),
                "breakdown": {
                    "models": breakdown(&by_model, "model"),
                    "api_keys": breakdown(&by_key, "api_key"),
                    "entities": breakdown(&by_entity, entity),
                },
            })
        })
        .collect();
    if let Value::Object(map) = &mut totals {
        map.insert("total_spend".into(), decimal_to_value(total_spend));
        map.insert("total_prompt_tokens".into(), json!(prompt));
        map.insert("total_completion_tokens".into(), json!(completion));
        map.insert("total_tokens".into(), json!(prompt + completion));
        map.insert("total_api_requests".into(), json!(requests));
        map.insert("total_successful_requests".into(), json!(ok));
        map.insert("total_failed_requests".into(), json!(failed));
        map.insert("page".into(), json!(1));
        map.insert("total_pages".into(), json!(1));
        map.insert("has_more".into(), json!(false));
    }
    Ok(json_response(
        json!({"results": results, "metadata": totals}),
    ))
}

pub(super) async fn user_daily_activity(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    daily_activity(
        &state,
        &caller,
        &query,
        "LiteLLM_DailyUserSpend",
        "user_id",
        "user_id",
    )
    .await
}

pub(super) async fn team_daily_activity(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    daily_activity(
        &state,
        &caller,
        &query,
        "LiteLLM_DailyTeamSpend",
        "team_id",
        "team_ids",
    )
    .await
}

pub(super) async fn organization_daily_activity(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    daily_activity(
        &state,
        &caller,
        &query,
        "LiteLLM_DailyOrganizationSpend",
        "organization_id",
        "organization_ids",
    )
    .await
}

pub(super) async fn customer_daily_activity(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    daily_activity(
        &state,
        &caller,
        &query,
        "LiteLLM_DailyEndUserSpend",
        "end_user_id",
        "end_user_ids",
    )
    .await
}
