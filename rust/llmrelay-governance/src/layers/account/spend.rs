//! One spend row per call (LiteLLM's `LiteLLM_SpendLogs`), whole or streamed, succeeded,
//! failed or cut off: the budget reservation is settled with the real cost and the row goes to
//! the spend writer (its write-ahead file, then the database in batches, where the spend of
//! the key, user, team, team member, organization and end user is added up).

use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive as _;
use serde_json::{Map, Value, json};

use llmrelay_pipeline::{Account, Call, CallRecord, Origin, Status};

use crate::engine::Governance;
use crate::layers::admit::budget::BudgetHold;
use crate::spend::SpendRow;

/// A budget level with the call's caller.
pub(crate) fn budget_alert(
    call: &Call,
    level: crate::budget::BudgetLevel,
) -> crate::budget::BudgetAlert {
    let identity = &call.identity;
    crate::budget::BudgetAlert {
        level,
        token: identity.key_hash.clone(),
        key_alias: identity.key_alias.clone(),
        user_id: identity.user_id.clone(),
        user_email: identity.user_email.clone(),
        team_id: identity.team_id.clone(),
        team_alias: identity.team_alias.clone(),
        organization_id: identity.org_id.clone(),
        end_user_id: identity.end_user_id.clone(),
    }
}

/// Writes the spend row of every call.
pub struct SpendAccount {
    engine: Arc<Governance>,
}

impl SpendAccount {
    #[must_use]
    pub fn new(engine: &Arc<Governance>) -> Self {
        Self {
            engine: Arc::clone(engine),
        }
    }
}

fn utc(time: SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(time)
}

fn tokens(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// LiteLLM's spend-log metadata: who called, and why a failed call failed.
fn metadata(call: &Call, record: &CallRecord) -> Value {
    let identity = &call.identity;
    let mut metadata = Map::new();
    let mut put = |key: &str, value: Option<&String>| {
        metadata.insert(
            key.to_owned(),
            value.map_or(Value::Null, |v| Value::String(v.clone())),
        );
    };
    put("user_api_key_alias", identity.key_alias.as_ref());
    put("user_api_key_user_id", identity.user_id.as_ref());
    put("user_api_key_team_id", identity.team_id.as_ref());
    put("user_api_key_team_alias", identity.team_alias.as_ref());
    put("user_api_key_org_id", identity.org_id.as_ref());
    put("user_api_key_end_user_id", identity.end_user_id.as_ref());
    if let Some(extra) = call
        .metadata()
        .and_then(|m| m.get("spend_logs_metadata"))
        .filter(|v| v.is_object())
    {
        metadata.insert("spend_logs_metadata".to_owned(), extra.clone());
    }
    metadata.insert(
        "status".to_owned(),
        Value::String(record.status.as_str().to_owned()),
    );
    if let Some(error) = &record.error {
        metadata.insert(
            "error_information".to_owned(),
            json!({
                "error_code": error.status_code().to_string(),
                "error_class": error.kind().litellm_class(),
                "error_message": error.message(),
            }),
        );
    }
    Value::Object(metadata)
}

/// The row of a finished call.
#[must_use]
pub fn spend_row(call: &Call, record: &CallRecord, cost: Decimal) -> SpendRow {
    let identity = &call.identity;
    let usage = record.usage.as_ref();
    let hidden = record.hidden.as_ref();
    let cached = usage
        .and_then(|u| u.prompt_tokens_details.as_ref())
        .and_then(|d| d.cached_tokens)
        .unwrap_or(0);
    let start_time = utc(call.started_wall);
    let end_time = utc(record.end_time);
    let model_group = if record.route.model_group.is_empty() {
        call.model_group.clone()
    } else {
        record.route.model_group.clone()
    };
    SpendRow {
        request_id: call.id.to_string(),
        call_type: call.call_type().to_owned(),
        api_key: identity.key_hash.clone().unwrap_or_default(),
        key_alias: identity.key_alias.clone(),
        spend: cost,
        prompt_tokens: tokens(usage.map_or(0, |u| u.prompt_tokens)),
        completion_tokens: tokens(usage.map_or(0, |u| u.completion_tokens)),
        total_tokens: tokens(usage.map_or(0, |u| u.prompt_tokens + u.completion_tokens)),
        cache_read_input_tokens: tokens(cached),
        cache_creation_input_tokens: tokens(usage.map_or(0, |u| u.cache_creation_tokens())),
        start_time,
        end_time,
        completion_start_time: record.completion_start_time.map(utc),
        request_duration_ms: Some((end_time - start_time).num_milliseconds()),
        model: hidden
            .map(|h| h.model.clone())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| call.model_group.clone()),
        model_id: hidden
            .and_then(|h| h.model_id.clone())
            .or_else(|| record.route.deployment_id.clone()),
        model_group: Some(model_group),
        custom_llm_provider: hidden
            .map(|h| h.custom_llm_provider.clone())
            .filter(|p| !p.is_empty()),
        api_base: hidden.and_then(|h| h.api_base.clone()),
        user: identity.user_id.clone(),
        team_id: identity.team_id.clone(),
        organization_id: identity.org_id.clone(),
        end_user: identity.end_user_id.clone(),
        session_id: call
            .metadata()
            .and_then(|m| m.get("session_id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        status: Some(record.status.as_str().to_owned()),
        litellm_call_id: Some(call.id.to_string()),
        endpoint: match call.origin {
            Origin::Proxy(route) => Some(route.to_owned()),
            Origin::Sdk => None,
        },
        cache_hit: Some(if record.cache_hit { "True" } else { "False" }.to_owned()),
        request_tags: call.tags.as_slice().to_vec(),
        metadata: metadata(call, record),
        ..SpendRow::default()
    }
}

impl Account for SpendAccount {
    fn name(&self) -> &'static str {
        "governance.spend"
    }

    fn account(&self, call: &Call, record: &CallRecord) {
        let cost = match record.status {
            _ if record.cache_hit => Decimal::ZERO,
            Status::Success | Status::Failure | Status::Cancelled => record
                .cost
                .and_then(Decimal::from_f64)
                .unwrap_or_default()
                .max(Decimal::ZERO),
        };
        if let Some(reservation) = call
            .extensions
            .get::<BudgetHold>()
            .and_then(BudgetHold::take)
        {
            let settlement = reservation.settle(cost);
            if !settlement.levels.is_empty()
                && let Some(listener) = self.engine.budget_listener()
            {
                for level in settlement.levels {
                    listener(&budget_alert(call, level));
                }
            }
        }
        let row = spend_row(call, record, cost);
        if let Err(error) = self.engine.record_spend(row) {
            tracing::error!(%error, request_id = %call.id, "spend row not recorded");
        }
    }
}
