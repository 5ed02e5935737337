//! Spend in FOCUS (the FinOps Foundation's FinOps Open Cost and Usage Specification, 1.x): one
//! row per charge period, key, model and provider, with FOCUS's columns, as LiteLLM's FOCUS
//! export maps them (`BilledCost` = `EffectiveCost` = `ListCost` = `ContractedCost` = spend in
//! USD, `BillingAccountId` the key's hash, `SubAccountId` its team, `ServiceName` the model
//! group, `ResourceId` the model, `ProviderName` the provider, `Tags` a JSON object of the
//! key's team, user and model). Two differences, both llmrelay's: `ConsumedQuantity` and
//! `PricingQuantity` are the number of requests (LiteLLM writes 1 on every row), and the token
//! counts are extension columns `x_PromptTokens`, `x_CompletionTokens`, `x_TotalTokens`.
//!
//! Rows come from the daily totals (`LiteLLM_DailyUserSpend`, for a range of days) or from the
//! spend rows themselves (`LiteLLM_SpendLogs`, for an exact window: the scheduled export).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::db::{Kind, Param, Record, money};
use crate::error::GovernanceError;
use crate::store::SqlStore;
use crate::time::{parse_time, to_millis};

/// The FOCUS version the columns follow.
pub const FOCUS_VERSION: &str = "1.0";

/// The columns, in order (CSV header and JSON keys).
pub const COLUMNS: &[&str] = &[
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "InvoiceId",
    "ListCost",
    "ListUnitPrice",
    "AvailabilityZone",
    "PricingCurrency",
    "PricingCategory",
    "PricingQuantity",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceSubcategory",
    "ServiceName",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
    "x_PromptTokens",
    "x_CompletionTokens",
    "x_TotalTokens",
];

/// One charge: a key's use of one model in one period.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub api_key: String,
    pub key_alias: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub team_alias: Option<String>,
    pub model: String,
    pub model_group: Option<String>,
    pub provider: Option<String>,
    pub spend: Decimal,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub requests: i64,
}

fn stamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Charge {
    /// The row's values in [`COLUMNS`] order.
    #[must_use]
    pub fn values(&self) -> Vec<Value> {
        let cost = Value::from(llmrelay_core::cost::to_f64(self.spend));
        let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        let mut tags = Map::new();
        for (name, value) in [
            ("team_id", &self.team_id),
            ("team_alias", &self.team_alias),
            ("user_id", &self.user_id),
            ("api_key_alias", &self.key_alias),
            ("model", &Some(self.model.clone())),
            ("model_group", &self.model_group),
            ("custom_llm_provider", &self.provider),
        ] {
            if let Some(value) = value {
                tags.insert(name.to_owned(), Value::String(value.clone()));
            }
        }
        let start = Value::String(stamp(self.period_start));
        let end = Value::String(stamp(self.period_end));
        let model = Value::String(self.model.clone());
        vec![
            cost.clone(),
            Value::String(self.api_key.clone()),
            text(&self.key_alias),
            Value::from("API Key"),
            Value::from("USD"),
            end.clone(),
            start.clone(),
            Value::from("Usage"),
            Value::Null,
            model.clone(),
            Value::from("Usage-Based"),
            end,
            start,
            Value::from(self.requests),
            Value::from("Requests"),
            cost.clone(),
            Value::Null,
            cost.clone(),
            text(&self.provider),
            Value::Null,
            cost.clone(),
            Value::Null,
            Value::Null,
            Value::from("USD"),
            Value::Null,
            Value::from(self.requests),
            Value::Null,
            cost,
            Value::Null,
            Value::from("Requests"),
            text(&self.provider),
            text(&self.provider),
            Value::Null,
            Value::Null,
            model.clone(),
            model.clone(),
            model,
            Value::from("AI and Machine Learning"),
            Value::from("Generative AI"),
            text(&self.model_group),
            text(&self.team_id),
            text(&self.team_alias),
            Value::Null,
            Value::String(Value::Object(tags).to_string()),
            Value::from(self.prompt_tokens),
            Value::from(self.completion_tokens),
            Value::from(self.prompt_tokens + self.completion_tokens),
        ]
    }

    /// The row as a JSON object keyed by column.
    #[must_use]
    pub fn record(&self) -> Map<String, Value> {
        COLUMNS
            .iter()
            .map(|c| (*c).to_owned())
            .zip(self.values())
            .collect()
    }
}

/// LiteLLM's FOCUS JSON export: `{focus_version, export_timestamp, record_count, records}`.
#[must_use]
pub fn to_json(charges: &[Charge], now: DateTime<Utc>) -> Value {
    json!({
        "focus_version": FOCUS_VERSION,
        "export_timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "record_count": charges.len(),
        "records": charges.iter().map(|c| Value::Object(c.record())).collect::<Vec<_>>(),
    })
}

/// CSV (RFC 4180: a header line, fields quoted when they hold a comma, quote or line break).
#[must_use]
pub fn to_csv(charges: &[Charge]) -> String {
    fn field(value: &Value) -> String {
        let text = match value {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text
        }
    }
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for charge in charges {
        let line: Vec<String> = charge.values().iter().map(field).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

const KINDS: &[(&str, Kind)] = &[
    ("period", Kind::Text),
    ("api_key", Kind::Text),
    ("user_id", Kind::Text),
    ("model", Kind::Text),
    ("model_group", Kind::Text),
    ("custom_llm_provider", Kind::Text),
    ("spend", Kind::Money),
    ("prompt_tokens", Kind::Int),
    ("completion_tokens", Kind::Int),
    ("requests", Kind::Int),
    ("key_alias", Kind::Text),
    ("team_id", Kind::Text),
    ("team_alias", Kind::Text),
];

fn text(record: &Record, field: &str) -> Option<String> {
    record
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn int(record: &Record, field: &str) -> i64 {
    record.get(field).and_then(Value::as_i64).unwrap_or(0)
}

fn charge(record: &Record, start: DateTime<Utc>, end: DateTime<Utc>) -> Charge {
    Charge {
        period_start: start,
        period_end: end,
        api_key: text(record, "api_key").unwrap_or_default(),
        key_alias: text(record, "key_alias"),
        user_id: text(record, "user_id"),
        team_id: text(record, "team_id"),
        team_alias: text(record, "team_alias"),
        model: text(record, "model").unwrap_or_default(),
        model_group: text(record, "model_group"),
        provider: text(record, "custom_llm_provider"),
        spend: money(record.get("spend")).unwrap_or_default(),
        prompt_tokens: int(record, "prompt_tokens"),
        completion_tokens: int(record, "completion_tokens"),
        requests: int(record, "requests"),
    }
}

/// One charge per day, key and model from the daily totals, `start` to `end` inclusive.
///
/// # Errors
/// Database errors.
pub async fn daily_charges(
    store: &SqlStore,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<Charge>, GovernanceError> {
    let sql = "SELECT d.\"date\" AS \"period\", d.\"api_key\", d.\"user_id\", d.\"model\", \
        d.\"model_group\", d.\"custom_llm_provider\", SUM(d.\"spend\") AS \"spend\", \
        CAST(SUM(d.\"prompt_tokens\") AS BIGINT) AS \"prompt_tokens\", \
        CAST(SUM(d.\"completion_tokens\") AS BIGINT) AS \"completion_tokens\", \
        CAST(SUM(d.\"api_requests\") AS BIGINT) AS \"requests\", \
        k.\"key_alias\", k.\"team_id\", t.\"team_alias\" \
        FROM \"LiteLLM_DailyUserSpend\" d \
        LEFT JOIN \"LiteLLM_VerificationToken\" k ON k.\"token\" = d.\"api_key\" \
        LEFT JOIN \"LiteLLM_TeamTable\" t ON t.\"team_id\" = k.\"team_id\" \
        WHERE d.\"date\" >= $1 AND d.\"date\" <= $2 \
        GROUP BY d.\"date\", d.\"api_key\", d.\"user_id\", d.\"model\", d.\"model_group\", \
        d.\"custom_llm_provider\", k.\"key_alias\", k.\"team_id\", t.\"team_alias\" \
        ORDER BY d.\"date\", d.\"api_key\", d.\"model\"";
    let records = store
        .fetch(
            sql,
            &[
                Param::text(start.format("%Y-%m-%d").to_string()),
                Param::text(end.format("%Y-%m-%d").to_string()),
            ],
            KINDS,
        )
        .await?;
    Ok(records
        .iter()
        .filter_map(|record| {
            let day = NaiveDate::parse_from_str(&text(record, "period")?, "%Y-%m-%d").ok()?;
            let start = day.and_hms_opt(0, 0, 0)?.and_utc();
            Some(charge(record, start, start + Duration::days(1)))
        })
        .collect())
}

/// One charge per key, model and provider for the spend rows that started in `[start, end)`
/// (the scheduled export's window), with the window as the charge period.
///
/// # Errors
/// Database errors.
pub async fn window_charges(
    store: &SqlStore,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Charge>, GovernanceError> {
    let sql = "SELECT '' AS \"period\", s.\"api_key\", s.\"user\" AS \"user_id\", s.\"model\", \
        s.\"model_group\", s.\"custom_llm_provider\", SUM(s.\"spend\") AS \"spend\", \
        CAST(SUM(s.\"prompt_tokens\") AS BIGINT) AS \"prompt_tokens\", \
        CAST(SUM(s.\"completion_tokens\") AS BIGINT) AS \"completion_tokens\", \
        CAST(COUNT(*) AS BIGINT) AS \"requests\", \
        k.\"key_alias\", s.\"team_id\", t.\"team_alias\" \
        FROM \"LiteLLM_SpendLogs\" s \
        LEFT JOIN \"LiteLLM_VerificationToken\" k ON k.\"token\" = s.\"api_key\" \
        LEFT JOIN \"LiteLLM_TeamTable\" t ON t.\"team_id\" = s.\"team_id\" \
        WHERE s.\"startTime\" >= $1 AND s.\"startTime\" < $2 \
        GROUP BY s.\"api_key\", s.\"user\", s.\"model\", s.\"model_group\", \
        s.\"custom_llm_provider\", k.\"key_alias\", s.\"team_id\", t.\"team_alias\" \
        ORDER BY s.\"api_key\", s.\"model\"";
    let records = store
        .fetch(
            sql,
            &[
                Param::Time(Some(to_millis(start))),
                Param::Time(Some(to_millis(end))),
            ],
            KINDS,
        )
        .await?;
    Ok(records
        .iter()
        .map(|record| charge(record, start, end))
        .collect())
}

/// A date parameter (`YYYY-MM-DD`, or a timestamp whose day is taken).
#[must_use]
pub fn day_of(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .or_else(|| parse_time(text).map(|t| t.date_naive()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Charge {
        let start = NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        Charge {
            period_start: start,
            period_end: start + Duration::days(1),
            api_key: "88dc28".into(),
            key_alias: Some("prod, eu".into()),
            user_id: Some("alice".into()),
            team_id: Some("team-a".into()),
            team_alias: Some("Team \"A\"".into()),
            model: "gpt-4o-mini".into(),
            model_group: Some("gpt-4o".into()),
            provider: Some("openai".into()),
            spend: Decimal::new(125, 4),
            prompt_tokens: 10,
            completion_tokens: 5,
            requests: 3,
        }
    }

    #[test]
    fn a_charge_has_every_focus_column() {
        let record = sample().record();
        assert_eq!(record.len(), COLUMNS.len());
        assert_eq!(record["BilledCost"], json!(0.0125));
        assert_eq!(record["EffectiveCost"], json!(0.0125));
        assert_eq!(record["BillingAccountId"], "88dc28");
        assert_eq!(record["ChargePeriodStart"], "2026-12-01T00:00:00Z");
        assert_eq!(record["ChargePeriodEnd"], "2026-12-02T00:00:00Z");
        assert_eq!(record["ConsumedQuantity"], 3);
        assert_eq!(record["ServiceName"], "gpt-4o");
        assert_eq!(record["ResourceId"], "gpt-4o-mini");
        assert_eq!(record["ProviderName"], "openai");
        assert_eq!(record["SubAccountId"], "team-a");
        assert_eq!(record["x_TotalTokens"], 15);
        let tags: Value = serde_json::from_str(record["Tags"].as_str().unwrap()).unwrap();
        assert_eq!(tags["team_id"], "team-a");
        assert_eq!(tags["model_group"], "gpt-4o");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let csv = to_csv(&[sample()]);
        let mut lines = csv.split("\r\n");
        assert_eq!(lines.next().unwrap(), COLUMNS.join(","));
        let row = lines.next().unwrap();
        assert!(
            row.starts_with("0.0125,88dc28,\"prod, eu\",API Key,USD,"),
            "{row}"
        );
        assert!(row.contains(",\"Team \"\"A\"\"\","), "{row}");
        assert_eq!(lines.next(), Some(""));
        let json = to_json(&[sample()], Utc::now());
        assert_eq!(json["record_count"], 1);
        assert_eq!(json["focus_version"], FOCUS_VERSION);
    }
}
