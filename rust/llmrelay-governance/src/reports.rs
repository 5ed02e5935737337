//! Spend queries the engine itself needs (outside the management API).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::db::{Kind, Param, money};
use crate::error::GovernanceError;
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
