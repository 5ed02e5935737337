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

/// Loads a key and everything its [`KeyAuth`](crate::KeyAuth) needs; follows a regenerated
/// key's grace period to its successor.
///
/// # Errors
/// Database errors.
pub async fn load_key_rows(
    store: &SqlStore,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<KeyRows>, GovernanceError> {
    let mut key = store
        .get(
            &tables::VERIFICATION_TOKEN,
            &[("token", Param::text(token))],
        )
        .await?;
    if key.is_none() {
        let deprecated = store
            .fetch(
                "SELECT \"active_token_id\" FROM \"LiteLLM_DeprecatedVerificationToken\" WHERE \"token\" = $1 AND \"revoke_at\" > $2",
                &[Param::text(token), Param::Time(Some(crate::time::to_millis(now)))],
                &[("active_token_id", crate::db::Kind::Text)],
            )
            .await?;
        if let Some(active) = deprecated.first().and_then(|r| text(r, "active_token_id")) {
            key = store
                .get(
                    &tables::VERIFICATION_TOKEN,
                    &[("token", Param::text(active))],
                )
                .await?;
        }
    }
    let Some(key) = key else {
        return Ok(None);
    };
    let user_id = text(&key, "user_id");
    let team_id = text(&key, "team_id");
    let key_budget_id = text(&key, "budget_id");
    let permission_id = text(&key, "object_permission_id");
    let by_id = |table: &'static crate::db::Table, column: &'static str, id: Option<String>| async move {
        match id {
            Some(id) => store.get(table, &[(column, Param::text(id))]).await,
            None => Ok(None),
        }
    };
    let membership = async {
        match (&user_id, &team_id) {
            (Some(user), Some(team)) => {
                store
                    .get(
                        &tables::TEAM_MEMBERSHIP,
                        &[
                            ("user_id", Param::text(user)),
                            ("team_id", Param::text(team)),
                        ],
                    )
                    .await
            }
            _ => Ok(None),
        }
    };
    let (user, team, membership, key_budget, object_permission) = futures::join!(
        by_id(&tables::USER_TABLE, "user_id", user_id.clone()),
        by_id(&tables::TEAM_TABLE, "team_id", team_id.clone()),
        membership,
        by_id(&tables::BUDGET_TABLE, "budget_id", key_budget_id),
        by_id(
            &tables::OBJECT_PERMISSION_TABLE,
            "object_permission_id",
            permission_id
        ),
    );
    let (user, mut team, membership) = (user?, team?, membership?);
    let organization_id = text(&key, "organization_id")
        .or_else(|| team.as_ref().and_then(|t| text(t, "organization_id")));
    let team_model_id = team
        .as_ref()
        .and_then(|t| t.get("model_id"))
        .and_then(Value::as_i64);
    let membership_budget_id = membership.as_ref().and_then(|m| text(m, "budget_id"));
    let organization_membership = async {
        match (&user_id, &organization_id) {
            (Some(user), Some(org)) => {
                store
                    .get(
                        &tables::ORGANIZATION_MEMBERSHIP,
                        &[
                            ("user_id", Param::text(user)),
                            ("organization_id", Param::text(org)),
                        ],
                    )
                    .await
            }
            _ => Ok(None),
        }
    };
    let team_aliases = async {
        match team_model_id {
            Some(id) => {
                store
                    .get(&tables::MODEL_TABLE, &[("id", Param::Int(Some(id)))])
                    .await
            }
            None => Ok(None),
        }
    };
    let (organization, membership_budget, organization_membership, team_aliases) = futures::join!(
        by_id(
            &tables::ORGANIZATION_TABLE,
            "organization_id",
            organization_id.clone()
        ),
        by_id(&tables::BUDGET_TABLE, "budget_id", membership_budget_id),
        organization_membership,
        team_aliases,
    );
    let organization = organization?;
    let organization_budget = match organization.as_ref().and_then(|o| text(o, "budget_id")) {
        Some(id) => {
            store
                .get(&tables::BUDGET_TABLE, &[("budget_id", Param::text(id))])
                .await?
        }
        None => None,
    };
    if let (Some(team), Some(aliases)) = (team.as_mut(), team_aliases?) {
        team.insert(
            "model_aliases".to_owned(),
            aliases.get("model_aliases").cloned().unwrap_or(Value::Null),
        );
    }
    Ok(Some(KeyRows {
        key,
        key_budget: key_budget?,
        user,
        team,
        membership,
        membership_budget: membership_budget?,
        organization,
        organization_budget,
        organization_membership: organization_membership?,
        object_permission: object_permission?,
    }))
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
