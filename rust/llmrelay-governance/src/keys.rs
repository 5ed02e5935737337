//! Virtual keys: LiteLLM's format (`sk-` + 22 URL-safe characters), SHA-256 storage, and
//! loading a key's rows (with its grace-period predecessor after `/key/regenerate`).

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::{Param, Record};
use crate::error::GovernanceError;
use crate::identity::{KeyRows, text};
use crate::store::SqlStore;
use crate::tables;

/// A new raw key: `sk-` + `secrets.token_urlsafe(16)` (LiteLLM's format).
#[must_use]
pub fn generate_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "sk-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// SHA-256 hex of a key (LiteLLM's `token`).
#[must_use]
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The hash of a key given either raw (`sk-…`) or already hashed (64 hex characters).
#[must_use]
pub fn token_of(key_or_hash: &str) -> String {
    let is_hash = key_or_hash.len() == 64 && key_or_hash.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hash && !key_or_hash.starts_with("sk-") {
        key_or_hash.to_ascii_lowercase()
    } else {
        hash_key(key_or_hash)
    }
}

/// LiteLLM's `key_name`: `sk-...` and the last four characters.
#[must_use]
pub fn abbreviate(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("sk-...{tail}")
}

/// The tables a key's verification reads, with their aliases in [`key_rows_sql`].
const KEY_PARTS: [(&str, &crate::db::Table); 12] = [
    ("k", &tables::VERIFICATION_TOKEN),
    ("kb", &tables::BUDGET_TABLE),
    ("u", &tables::USER_TABLE),
    ("t", &tables::TEAM_TABLE),
    ("m", &tables::TEAM_MEMBERSHIP),
    ("mb", &tables::BUDGET_TABLE),
    ("op", &tables::OBJECT_PERMISSION_TABLE),
    ("o", &tables::ORGANIZATION_TABLE),
    ("ob", &tables::BUDGET_TABLE),
    ("om", &tables::ORGANIZATION_MEMBERSHIP),
    ("mt", &tables::MODEL_TABLE),
    ("top", &tables::OBJECT_PERMISSION_TABLE),
];

/// One statement for a key and every row its verification needs (one round trip: the rows
/// are found by primary key or unique index).
fn key_rows_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let columns: Vec<String> = KEY_PARTS
            .iter()
            .flat_map(|(alias, table)| {
                table
                    .columns
                    .iter()
                    .map(move |c| format!("{alias}.\"{}\"", c.name))
            })
            .collect();
        format!(
            "SELECT {} FROM \"LiteLLM_VerificationToken\" k \
             LEFT JOIN \"LiteLLM_BudgetTable\" kb ON kb.\"budget_id\" = k.\"budget_id\" \
             LEFT JOIN \"LiteLLM_UserTable\" u ON u.\"user_id\" = k.\"user_id\" \
             LEFT JOIN \"LiteLLM_TeamTable\" t ON t.\"team_id\" = k.\"team_id\" \
             LEFT JOIN \"LiteLLM_TeamMembership\" m ON m.\"user_id\" = k.\"user_id\" AND m.\"team_id\" = k.\"team_id\" \
             LEFT JOIN \"LiteLLM_BudgetTable\" mb ON mb.\"budget_id\" = m.\"budget_id\" \
             LEFT JOIN \"LiteLLM_ObjectPermissionTable\" op ON op.\"object_permission_id\" = k.\"object_permission_id\" \
             LEFT JOIN \"LiteLLM_OrganizationTable\" o ON o.\"organization_id\" = COALESCE(k.\"organization_id\", t.\"organization_id\") \
             LEFT JOIN \"LiteLLM_BudgetTable\" ob ON ob.\"budget_id\" = o.\"budget_id\" \
             LEFT JOIN \"LiteLLM_OrganizationMembership\" om ON om.\"user_id\" = k.\"user_id\" AND om.\"organization_id\" = COALESCE(k.\"organization_id\", t.\"organization_id\") \
             LEFT JOIN \"LiteLLM_ModelTable\" mt ON mt.\"id\" = t.\"model_id\" \
             LEFT JOIN \"LiteLLM_ObjectPermissionTable\" top ON top.\"object_permission_id\" = t.\"object_permission_id\" \
             WHERE k.\"token\" = $1 LIMIT 1",
            columns.join(", ")
        )
    })
}

/// The key with this hash and its related rows, in one statement.
async fn joined_key_rows(
    store: &SqlStore,
    token: &str,
) -> Result<Option<KeyRows>, GovernanceError> {
    let tables: Vec<&crate::db::Table> = KEY_PARTS.iter().map(|(_, table)| *table).collect();
    let Some(parts) = store
        .fetch_joined(key_rows_sql(), &[Param::text(token)], &tables)
        .await?
    else {
        return Ok(None);
    };
    // A table the join found no row of comes back with a NULL primary key.
    let mut found = parts
        .into_iter()
        .zip(KEY_PARTS)
        .map(|(record, (_, table))| {
            let present = table
                .primary_key
                .iter()
                .all(|k| record.get(*k).is_some_and(|v| !v.is_null()));
            present.then_some(record)
        });
    let mut next = || found.next().flatten();
    let Some(key) = next() else {
        return Ok(None);
    };
    let key_budget = next();
    let user = next();
    let mut team = next();
    let membership = next();
    let membership_budget = next();
    let object_permission = next();
    let organization = next();
    let organization_budget = next();
    let organization_membership = next();
    let team_aliases = next();
    let team_object_permission = next();
    if let (Some(team), Some(aliases)) = (team.as_mut(), team_aliases) {
        team.insert(
            "model_aliases".to_owned(),
            aliases.get("model_aliases").cloned().unwrap_or(Value::Null),
        );
    }
    Ok(Some(KeyRows {
        key,
        key_budget,
        user,
        team,
        membership,
        membership_budget,
        organization,
        organization_budget,
        organization_membership,
        object_permission,
        team_object_permission,
    }))
}

/// Loads a key and everything its [`KeyAuth`](crate::KeyAuth) needs (one statement); follows a
/// regenerated key's grace period to its successor.
///
/// # Errors
/// Database errors.
pub async fn load_key_rows(
    store: &SqlStore,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<KeyRows>, GovernanceError> {
    if let Some(rows) = joined_key_rows(store, token).await? {
        return Ok(Some(rows));
    }
    let deprecated = store
        .fetch(
            "SELECT \"active_token_id\" FROM \"LiteLLM_DeprecatedVerificationToken\" WHERE \"token\" = $1 AND \"revoke_at\" > $2",
            &[Param::text(token), Param::Time(Some(crate::time::to_millis(now)))],
            &[("active_token_id", crate::db::Kind::Text)],
        )
        .await?;
    match deprecated.first().and_then(|r| text(r, "active_token_id")) {
        Some(active) => joined_key_rows(store, &active).await,
        None => Ok(None),
    }
}

/// The record with the key's hash under `token` and LiteLLM's derived fields.
#[must_use]
pub fn new_key_record(raw_key: &str, now: DateTime<Utc>) -> Record {
    let mut record = Record::new();
    record.insert("token".into(), Value::String(hash_key(raw_key)));
    record.insert("key_name".into(), Value::String(abbreviate(raw_key)));
    let stamp = Value::String(crate::time::format_time(now));
    record.insert("created_at".into(), stamp.clone());
    record.insert("updated_at".into(), stamp);
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_litellm_format() {
        let key = generate_key();
        assert!(key.starts_with("sk-"));
        assert_eq!(key.len(), 3 + 22);
        assert_ne!(generate_key(), key);
        assert_eq!(abbreviate("sk-abcdefgh1234"), "sk-...1234");
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash_key("sk-1234"),
            "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
        );
        let hash = hash_key("sk-1234");
        assert_eq!(token_of(&hash), hash);
        assert_eq!(token_of("sk-1234"), hash);
    }
}
