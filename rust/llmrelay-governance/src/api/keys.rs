//! `/key/*`: generate, update, delete, info, list, regenerate (with a grace period), block,
//! unblock, reset spend.

use axum::Extension;
use axum::extract::{Path, State};
use bytes::Bytes;
use serde_json::{Value, json};

use super::{ApiResult, Caller, Query, Shared, json_response, parse_body, query_int, string_list};
use crate::budget::Entity;
use crate::db::{Param, Record, decimal_from_value};
use crate::error::GovernanceError;
use crate::identity::text;
use crate::keys::{abbreviate, generate_key, hash_key, new_key_record, token_of};
use crate::store::Conditions;
use crate::tables;
use crate::time::{BudgetDuration, format_time};

/// Fields of `GenerateKeyRequest` (and `UpdateKeyRequest` without `key` semantics).
const KEY_FIELDS: &[&str] = &[
    "key_alias",
    "key",
    "duration",
    "max_budget",
    "budget_duration",
    "budget_id",
    "soft_budget",
    "spend",
    "model_max_budget",
    "models",
    "aliases",
    "team_id",
    "user_id",
    "organization_id",
    "project_id",
    "agent_id",
    "rpm_limit",
    "tpm_limit",
    "tpd_limit",
    "max_parallel_requests",
    "model_rpm_limit",
    "model_tpm_limit",
    "rpm_limit_type",
    "tpm_limit_type",
    "allowed_routes",
    "key_type",
    "metadata",
    "tags",
    "config",
    "permissions",
    "router_settings",
    "guardrails",
    "policies",
    "prompts",
    "disable_global_guardrails",
    "enforced_params",
    "object_permission",
    "allowed_cache_controls",
    "blocked",
    "send_invite_email",
    "auto_rotate",
    "rotation_interval",
    "access_group_ids",
    "allowed_passthrough_routes",
    "budget_limits",
    "budget_fallbacks",
    "temp_budget_increase",
    "temp_budget_expiry",
    "end_user_budget_id",
    "enable_prompt_caching",
    "throttle_on_budget_exceeded",
];

/// Request fields LiteLLM keeps inside the key's `metadata`.
const METADATA_FIELDS: &[&str] = &[
    "tags",
    "guardrails",
    "prompts",
    "model_rpm_limit",
    "model_tpm_limit",
    "enforced_params",
    "disable_global_guardrails",
    "allowed_passthrough_routes",
    "temp_budget_increase",
    "temp_budget_expiry",
    "rpm_limit_type",
    "tpm_limit_type",
    "send_invite_email",
    "end_user_budget_id",
    "enable_prompt_caching",
    "throttle_on_budget_exceeded",
];

const KEY_TYPES: &[&str] = &["llm_api", "management", "read_only", "default"];

/// Turns request fields into key columns (metadata fields merged into `metadata`).
pub(crate) fn key_columns(
    body: &Record,
    existing_metadata: Option<&Value>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Record, GovernanceError> {
    let mut columns = Record::new();
    let mut metadata = match body.get("metadata").or(existing_metadata) {
        Some(Value::Object(map)) => map.clone(),
        _ => serde_json::Map::new(),
    };
    let mut metadata_touched = body.contains_key("metadata");
    for (field, value) in body {
        match field.as_str() {
            "key" | "duration" | "object_permission" | "send_invite_email" | "metadata" => {}
            name if METADATA_FIELDS.contains(&name) => {
                metadata.insert(name.to_owned(), value.clone());
                metadata_touched = true;
            }
            "key_type" => {
                let kind = value.as_str().unwrap_or_default();
                if !value.is_null() && !KEY_TYPES.contains(&kind) {
                    return Err(GovernanceError::bad_param(
                        format!("Invalid key_type: {kind}. Must be one of {KEY_TYPES:?}"),
                        "key_type",
                    ));
                }
                columns.insert(field.clone(), value.clone());
            }
            "budget_duration" => {
                if let Some(duration) = value.as_str() {
                    let parsed = BudgetDuration::parse(duration)
                        .map_err(|m| GovernanceError::bad_param(m, "budget_duration"))?;
                    columns.insert(
                        "budget_reset_at".into(),
                        Value::String(format_time(parsed.after(now))),
                    );
                }
                columns.insert(field.clone(), value.clone());
            }
            "max_budget" | "soft_budget" | "spend" => {
                if !value.is_null() {
                    let amount = decimal_from_value(value).ok_or_else(|| {
                        GovernanceError::bad_param(
                            format!("{field} must be a number"),
                            field.clone(),
                        )
                    })?;
                    if amount.is_sign_negative() {
                        return Err(GovernanceError::bad_param(
                            format!("{field} cannot be negative"),
                            field.clone(),
                        ));
                    }
                }
                if field == "soft_budget" {
                    metadata.insert(field.clone(), value.clone());
                    metadata_touched = true;
                } else {
                    columns.insert(field.clone(), value.clone());
                }
            }
            _ => {
                columns.insert(field.clone(), value.clone());
            }
        }
    }
    if let Some(duration) = body.get("duration") {
        match duration.as_str() {
            Some(text) => {
                let parsed = BudgetDuration::parse(text)
                    .map_err(|m| GovernanceError::bad_param(m, "duration"))?;
                columns.insert(
                    "expires".into(),
                    Value::String(format_time(parsed.after(now))),
                );
            }
            None => {
                columns.insert("expires".into(), Value::Null);
            }
        }
    }
    if metadata_touched {
        columns.insert("metadata".into(), Value::Object(metadata));
    }
    Ok(columns)
}

/// Stores an `object_permission` object; its id.
pub(crate) async fn store_object_permission(
    state: &Shared,
    permission: &Value,
    existing_id: Option<String>,
) -> Result<Option<String>, GovernanceError> {
    let Value::Object(fields) = permission else {
        return Ok(None);
    };
    const PERMISSION_FIELDS: &[&str] = &[
        "mcp_servers",
        "mcp_access_groups",
        "mcp_tool_permissions",
        "vector_stores",
        "agents",
        "agent_access_groups",
        "models",
        "blocked_tools",
        "mcp_toolsets",
        "search_tools",
        "skills",
        "mcp_tool_search_enabled",
    ];
    if let Some(unknown) = fields
        .keys()
        .find(|k| !PERMISSION_FIELDS.contains(&k.as_str()))
    {
        return Err(GovernanceError::bad_param(
            format!("Unknown field(s) in object_permission: {unknown}"),
            "object_permission",
        ));
    }
    let mut record = fields.clone();
    let id = existing_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    record.insert("object_permission_id".into(), Value::String(id.clone()));
    let key = [("object_permission_id", Param::text(&id))];
    if state
        .store
        .get(&tables::OBJECT_PERMISSION_TABLE, &key)
        .await?
        .is_some()
    {
        state
            .store
            .update(&tables::OBJECT_PERMISSION_TABLE, &key, &record)
            .await?;
    } else {
        state
            .store
            .insert(&tables::OBJECT_PERMISSION_TABLE, &record)
            .await?;
    }
    Ok(Some(id))
}

/// A key's row by raw key or hash.
async fn key_record(state: &Shared, key: &str) -> Result<Record, GovernanceError> {
    let token = token_of(key);
    state
        .store
        .get(
            &tables::VERIFICATION_TOKEN,
            &[("token", Param::text(&token))],
        )
        .await?
        .ok_or_else(|| {
            GovernanceError::NotFound(format!("Key not found: {}", abbreviate_key_or_hash(key)))
        })
}

fn abbreviate_key_or_hash(key: &str) -> String {
    if key.starts_with("sk-") {
        abbreviate(key)
    } else {
        key.to_owned()
    }
}

/// A non-admin may act on keys it owns (its user id) or of teams it administers.
fn check_key_owner(caller: &Caller, record: &Record) -> Result<(), GovernanceError> {
    if caller.can_read_all() && caller.is_admin() {
        return Ok(());
    }
    let owner = text(record, "user_id");
    let is_own = owner.is_some() && owner == caller.auth.user_id;
    let team_admin = text(record, "team_id").is_some()
        && text(record, "team_id") == caller.auth.team_id
        && caller.auth.team_member_role.as_deref() == Some("admin");
    if is_own || team_admin || text(record, "token") == Some(caller.auth.token.clone()) {
        Ok(())
    } else {
        Err(GovernanceError::Forbidden(format!(
            "User={} is not allowed to access key={}",
            caller.auth.user_id.as_deref().unwrap_or("unknown"),
            text(record, "token").unwrap_or_default()
        )))
    }
}

async fn object_permission_of(state: &Shared, record: &Record) -> Result<Value, GovernanceError> {
    match text(record, "object_permission_id") {
        Some(id) => Ok(state
            .store
            .get(
                &tables::OBJECT_PERMISSION_TABLE,
                &[("object_permission_id", Param::text(id))],
            )
            .await?
            .map_or(Value::Null, Value::Object)),
        None => Ok(Value::Null),
    }
}

/// The key object as LiteLLM returns it: the row, `object_permission`, and metadata fields
/// surfaced at the top level.
async fn key_object(state: &Shared, mut record: Record) -> Result<Record, GovernanceError> {
    let permission = object_permission_of(state, &record).await?;
    record.insert("object_permission".into(), permission);
    if let Some(Value::Object(metadata)) = record.get("metadata").cloned() {
        for field in [
            "tags",
            "guardrails",
            "enforced_params",
            "model_rpm_limit",
            "model_tpm_limit",
            "disable_global_guardrails",
            "soft_budget",
        ] {
            if let Some(value) = metadata.get(field) {
                record
                    .entry(field.to_owned())
                    .or_insert_with(|| value.clone());
            }
        }
    }
    if let Some(token) = text(&record, "token") {
        record.insert("token_id".into(), Value::String(token));
    }
    Ok(record)
}

pub(super) async fn generate(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, KEY_FIELDS)?;
    let (raw_key, record) = create_key(&state, &caller, body).await?;
    let mut object = key_object(&state, record).await?;
    object.insert("key".into(), Value::String(raw_key));
    Ok(json_response(Value::Object(object)))
}

/// Creates a key from a `GenerateKeyRequest` body; the raw key and the stored row.
pub(crate) async fn create_key(
    state: &Shared,
    caller: &Caller,
    mut body: Record,
) -> Result<(String, Record), GovernanceError> {
    if !caller.is_admin() {
        match body.get("user_id").and_then(Value::as_str) {
            Some(user) if Some(user) != caller.auth.user_id.as_deref() => {
                return Err(GovernanceError::Forbidden(format!(
                    "User can only create keys for themselves. Got user_id={user}, Your ID={}",
                    caller.auth.user_id.as_deref().unwrap_or("unknown")
                )));
            }
            _ => {
                if let Some(user) = &caller.auth.user_id {
                    body.insert("user_id".into(), Value::String(user.clone()));
                }
            }
        }
        if let Some(team) = body.get("team_id").and_then(Value::as_str) {
            let team_record = state
                .store
                .get(&tables::TEAM_TABLE, &[("team_id", Param::text(team))])
                .await?;
            let is_member = team_record.as_ref().is_some_and(|t| {
                t.get("members_with_roles")
                    .and_then(Value::as_array)
                    .is_some_and(|members| {
                        members.iter().any(|m| {
                            m.get("user_id").and_then(Value::as_str)
                                == caller.auth.user_id.as_deref()
                                && m.get("role").and_then(Value::as_str) == Some("admin")
                        })
                    })
            });
            if !is_member {
                return Err(GovernanceError::Forbidden(format!(
                    "User={} is not an admin of team={team}. Only team admins can create keys for the team.",
                    caller.auth.user_id.as_deref().unwrap_or("unknown")
                )));
            }
        }
    }
    let raw_key = match body.get("key") {
        Some(Value::String(key)) => {
            if !key.starts_with("sk-") || key.len() < 16 {
                return Err(GovernanceError::bad_param(
                    "Invalid key format. LiteLLM Virtual Key must start with 'sk-' and be at least 16 characters long.",
                    "key",
                ));
            }
            key.clone()
        }
        Some(Value::Null) | None => generate_key(),
        Some(_) => return Err(GovernanceError::bad_param("key must be a string", "key")),
    };
    if let Some(team) = body.get("team_id").and_then(Value::as_str)
        && state
            .store
            .get(&tables::TEAM_TABLE, &[("team_id", Param::text(team))])
            .await?
            .is_none()
    {
        return Err(GovernanceError::bad_param(
            format!("Team not found, passed team_id={team}"),
            "team_id",
        ));
    }
    let now = state.clock.now();
    let mut record = new_key_record(&raw_key, now);
    record.extend(key_columns(&body, None, now)?);
    // LiteLLM's `key_type` gives a new key its route group unless `allowed_routes` is given.
    let no_routes = record
        .get("allowed_routes")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if no_routes
        && let Some(group) = body
            .get("key_type")
            .and_then(Value::as_str)
            .and_then(crate::routes::key_type_routes)
    {
        record.insert("allowed_routes".into(), serde_json::json!([group]));
    }
    if let Some(permission) = body.get("object_permission") {
        if let Some(id) = store_object_permission(state, permission, None).await? {
            record.insert("object_permission_id".into(), Value::String(id));
        }
    }
    record.insert(
        "created_by".into(),
        caller
            .auth
            .user_id
            .clone()
            .map_or(Value::Null, Value::String),
    );
    record.insert("updated_by".into(), record["created_by"].clone());
    let token = hash_key(&raw_key);
    if state
        .store
        .get(
            &tables::VERIFICATION_TOKEN,
            &[("token", Param::text(&token))],
        )
        .await?
        .is_some()
    {
        return Err(GovernanceError::bad_param(
            "Key with this value already exists",
            "key",
        ));
    }
    state
        .store
        .insert(&tables::VERIFICATION_TOKEN, &record)
        .await?;
    let stored = state
        .store
        .get(
            &tables::VERIFICATION_TOKEN,
            &[("token", Param::text(&token))],
        )
        .await?
        .unwrap_or(record);
    Ok((raw_key, stored))
}

pub(super) async fn update(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, KEY_FIELDS)?;
    let key = super::required_text(&body, "key")?;
    let existing = key_record(&state, &key).await?;
    check_key_owner(&caller, &existing)?;
    if !caller.is_admin() {
        for field in [
            "max_budget",
            "spend",
            "user_id",
            "team_id",
            "organization_id",
            "models",
        ] {
            if body.contains_key(field) {
                return Err(GovernanceError::Forbidden(format!(
                    "Only proxy admins can update '{field}' of a key"
                )));
            }
        }
    }
    let token = text(&existing, "token").unwrap_or_default();
    let now = state.clock.now();
    let mut changes = key_columns(&body, existing.get("metadata"), now)?;
    if let Some(permission) = body.get("object_permission")
        && let Some(id) =
            store_object_permission(&state, permission, text(&existing, "object_permission_id"))
                .await?
    {
        changes.insert("object_permission_id".into(), Value::String(id));
    }
    changes.insert("updated_at".into(), Value::String(format_time(now)));
    state
        .store
        .update(
            &tables::VERIFICATION_TOKEN,
            &[("token", Param::text(&token))],
            &changes,
        )
        .await?;
    state.changed("key", &token).await?;
    let updated = key_record(&state, &token).await?;
    let mut object = key_object(&state, updated).await?;
    object.insert("key".into(), Value::String(key));
    Ok(json_response(Value::Object(object)))
}

pub(super) async fn delete(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, &["keys", "key_aliases"])?;
    let keys = string_list(&body, "keys")?;
    let aliases = string_list(&body, "key_aliases")?;
    if keys.is_empty() && aliases.is_empty() {
        return Err(GovernanceError::bad_request(
            "Either 'keys' or 'key_aliases' must be provided",
        ));
    }
    let mut records = Vec::new();
    for key in &keys {
        records.push((key.clone(), key_record(&state, key).await?));
    }
    for alias in &aliases {
        let mut conditions = Conditions::new();
        conditions.equals("key_alias", Param::text(alias));
        let found = state
            .store
            .select(&tables::VERIFICATION_TOKEN, &conditions, "", Some(1), None)
            .await?;
        let record = found.into_iter().next().ok_or_else(|| {
            GovernanceError::NotFound(format!("Key with alias '{alias}' not found"))
        })?;
        records.push((alias.clone(), record));
    }
    for (_, record) in &records {
        check_key_owner(&caller, record)?;
    }
    for (_, record) in &records {
        let token = text(record, "token").unwrap_or_default();
        let mut archived = record.clone();
        archived.insert("id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
        archived.insert(
            "deleted_at".into(),
            Value::String(format_time(state.clock.now())),
        );
        archived.insert(
            "deleted_by".into(),
            caller
                .auth
                .user_id
                .clone()
                .map_or(Value::Null, Value::String),
        );
        state
            .store
            .insert(&tables::DELETED_VERIFICATION_TOKEN, &archived)
            .await?;
        state
            .store
            .delete(
                &tables::VERIFICATION_TOKEN,
                &[("token", Param::text(&token))],
            )
            .await?;
        state
            .store
            .execute(
                "DELETE FROM \"LiteLLM_DeprecatedVerificationToken\" WHERE \"active_token_id\" = $1",
                &[Param::text(&token)],
            )
            .await?;
        state.changed("key", &token).await?;
        state.ledger.forget(&Entity::Key(token));
    }
    let deleted: Vec<String> = records.into_iter().map(|(given, _)| given).collect();
    Ok(json_response(json!({"deleted_keys": deleted})))
}

pub(super) async fn info(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    let key = query.get("key").cloned();
    let record = match &key {
        Some(key) => key_record(&state, key).await?,
        None => key_record(&state, &caller.auth.token).await?,
    };
    if !caller.can_read_all() {
        check_key_owner(&caller, &record)?;
    }
    let info = info_object(&state, record).await?;
    Ok(json_response(
        json!({"key": key.unwrap_or_else(|| caller.auth.token.clone()), "info": info}),
    ))
}

/// `/key/info`'s `info`: the key object plus the effective model list (beyond LiteLLM).
async fn info_object(state: &Shared, record: Record) -> Result<Value, GovernanceError> {
    let token = text(&record, "token").unwrap_or_default();
    let mut object = key_object(state, record).await?;
    if let Some(rows) = crate::keys::load_key_rows(&state.store, &token, state.clock.now()).await? {
        let auth = rows.into_auth();
        let db_models = state.db_model_names().await.unwrap_or_default();
        object.insert(
            "effective_models".into(),
            json!(state.effective_models(&auth, &db_models)),
        );
        object.insert(
            "spend".into(),
            crate::db::decimal_to_value(state.fresh_key_spend(&auth)),
        );
    }
    object.remove("token");
    Ok(Value::Object(object))
}

pub(super) async fn info_v2(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, &["keys"])?;
    let keys = string_list(&body, "keys")?;
    let mut infos = Vec::new();
    for key in &keys {
        let record = key_record(&state, key).await?;
        if !caller.can_read_all() {
            check_key_owner(&caller, &record)?;
        }
        infos.push(info_object(&state, record).await?);
    }
    Ok(json_response(json!({"key": keys, "info": infos})))
}

pub(super) async fn list(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    let page = query_int(&query, "page", 1)?.max(1);
    let size = query_int(&query, "size", 10)?.clamp(1, 100);
    let mut conditions = Conditions::new();
    for (parameter, column) in [
        ("user_id", "user_id"),
        ("team_id", "team_id"),
        ("organization_id", "organization_id"),
        ("key_alias", "key_alias"),
        ("key_hash", "token"),
    ] {
        if let Some(value) = query.get(parameter) {
            conditions.equals(column, Param::text(value));
        }
    }
    if !caller.can_read_all() {
        let user = caller.auth.user_id.clone().unwrap_or_default();
        let include_team = query.get("include_team_keys").is_some_and(|v| v == "true");
        match (
            &caller.auth.team_id,
            include_team,
            caller.auth.team_member_role.as_deref(),
        ) {
            (Some(team), true, Some("admin")) => {
                conditions.clause(
                    "(\"user_id\" = {} OR \"team_id\" = {})",
                    vec![Param::text(&user), Param::text(team)],
                );
            }
            _ => {
                conditions.equals("user_id", Param::text(&user));
            }
        }
    }
    let sort_by = match query.get("sort_by").map(String::as_str) {
        None | Some("created_at") => "\"created_at\"",
        Some("key_alias") => "\"key_alias\"",
        Some("expires") => "\"expires\"",
        Some("spend") => "\"spend\"",
        Some(other) => {
            return Err(GovernanceError::bad_param(
                format!("Invalid sort_by: {other}"),
                "sort_by",
            ));
        }
    };
    let order = match query.get("sort_order").map(String::as_str) {
        None | Some("desc") => "DESC",
        Some("asc") => "ASC",
        Some(other) => {
            return Err(GovernanceError::bad_param(
                format!("Invalid sort_order: {other}"),
                "sort_order",
            ));
        }
    };
    let total = state
        .store
        .count_where(&tables::VERIFICATION_TOKEN, &conditions)
        .await?;
    let rows = state
        .store
        .select(
            &tables::VERIFICATION_TOKEN,
            &conditions,
            &format!("{sort_by} {order}, \"token\""),
            Some(size),
            Some((page - 1) * size),
        )
        .await?;
    let full = query.get("return_full_object").is_some_and(|v| v == "true");
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        if full {
            keys.push(Value::Object(key_object(&state, row).await?));
        } else {
            keys.push(row.get("token").cloned().unwrap_or(Value::Null));
        }
    }
    let total_pages = (total + size - 1) / size;
    Ok(json_response(json!({
        "keys": keys, "total_count": total, "current_page": page, "total_pages": total_pages,
    })))
}

const REGENERATE_FIELDS: &[&str] = &[
    "key",
    "new_key",
    "grace_period",
    "key_alias",
    "max_budget",
    "budget_duration",
    "models",
    "metadata",
    "tpm_limit",
    "rpm_limit",
    "duration",
    "new_master_key",
];

pub(super) async fn regenerate(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, REGENERATE_FIELDS)?;
    let key = super::required_text(&body, "key")?;
    regenerate_key(&state, &caller, &key, body).await
}

pub(super) async fn regenerate_path(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, REGENERATE_FIELDS)?;
    regenerate_key(&state, &caller, &key, body).await
}

/// A new secret for the same key row; the old one keeps working for `grace_period`.
async fn regenerate_key(state: &Shared, caller: &Caller, key: &str, mut body: Record) -> ApiResult {
    let existing = key_record(state, key).await?;
    check_key_owner(caller, &existing)?;
    let old_token = text(&existing, "token").unwrap_or_default();
    let new_key = match body.remove("new_key") {
        Some(Value::String(key)) if key.starts_with("sk-") => key,
        Some(Value::String(_)) => {
            return Err(GovernanceError::bad_param(
                "new_key must start with 'sk-'",
                "new_key",
            ));
        }
        _ => generate_key(),
    };
    let grace = body.remove("grace_period");
    body.remove("key");
    body.remove("new_master_key");
    let now = state.clock.now();
    let new_token = hash_key(&new_key);
    let mut changes = key_columns(&body, existing.get("metadata"), now)?;
    changes.insert("token".into(), Value::String(new_token.clone()));
    changes.insert("key_name".into(), Value::String(abbreviate(&new_key)));
    changes.insert("updated_at".into(), Value::String(format_time(now)));
    changes.insert("last_rotation_at".into(), Value::String(format_time(now)));
    let rotations = existing
        .get("rotation_count")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        + 1;
    changes.insert("rotation_count".into(), json!(rotations));
    // The primary key changes: update it explicitly (update_statement skips key columns).
    let mut statement = crate::store::update_statement(
        &tables::VERIFICATION_TOKEN,
        &[("token", Param::text(&old_token))],
        &changes,
    )?;
    statement.params.insert(0, Param::text(&new_token));
    statement.sql = renumber_with_token(&statement.sql);
    let mut statements = vec![statement];
    if let Some(grace) = grace.as_ref().and_then(Value::as_str) {
        let duration = BudgetDuration::parse(grace)
            .map_err(|m| GovernanceError::bad_param(m, "grace_period"))?;
        statements.push(crate::store::Statement {
            sql: "INSERT INTO \"LiteLLM_DeprecatedVerificationToken\" (\"id\", \"token\", \"active_token_id\", \"revoke_at\", \"created_at\") VALUES ($1, $2, $3, $4, $5)".into(),
            params: vec![
                Param::text(uuid::Uuid::new_v4().to_string()),
                Param::text(&old_token),
                Param::text(&new_token),
                Param::Time(Some(crate::time::to_millis(duration.after(now)))),
                Param::Time(Some(crate::time::to_millis(now))),
            ],
        });
    }
    statements.push(crate::store::Statement {
        sql: "UPDATE \"LiteLLM_DeprecatedVerificationToken\" SET \"active_token_id\" = $1 WHERE \"active_token_id\" = $2".into(),
        params: vec![Param::text(&new_token), Param::text(&old_token)],
    });
    state.store.transaction(&statements).await?;
    state.changed("key", &old_token).await?;
    let updated = key_record(state, &new_token).await?;
    let mut object = key_object(state, updated).await?;
    object.insert("key".into(), Value::String(new_key));
    Ok(json_response(Value::Object(object)))
}

/// `UPDATE T SET a = $1 … WHERE token = $n` → `UPDATE T SET "token" = $1, a = $2 … WHERE token = $n+1`.
fn renumber_with_token(sql: &str) -> String {
    let mut output = String::with_capacity(sql.len() + 16);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' {
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            let number: usize = digits.parse().unwrap_or(0);
            output.push_str(&format!("${}", number + 1));
        } else {
            output.push(c);
        }
    }
    output.replacen(" SET ", " SET \"token\" = $1, ", 1)
}

async fn set_blocked(state: &Shared, caller: &Caller, body: Bytes, blocked: bool) -> ApiResult {
    let body = parse_body(&body, &["key"])?;
    let key = super::required_text(&body, "key")?;
    let existing = key_record(state, &key).await?;
    check_key_owner(caller, &existing)?;
    let token = text(&existing, "token").unwrap_or_default();
    let mut changes = Record::new();
    changes.insert("blocked".into(), Value::Bool(blocked));
    changes.insert(
        "updated_at".into(),
        Value::String(format_time(state.clock.now())),
    );
    state
        .store
        .update(
            &tables::VERIFICATION_TOKEN,
            &[("token", Param::text(&token))],
            &changes,
        )
        .await?;
    state.changed("key", &token).await?;
    let updated = key_record(state, &token).await?;
    Ok(json_response(Value::Object(
        key_object(state, updated).await?,
    )))
}

pub(super) async fn block(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    set_blocked(&state, &caller, body, true).await
}

pub(super) async fn unblock(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    set_blocked(&state, &caller, body, false).await
}

pub(super) async fn reset_spend(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, &["reset_to"])?;
    let reset_to = match body.get("reset_to") {
        None => rust_decimal::Decimal::ZERO,
        Some(value) => decimal_from_value(value)
            .ok_or_else(|| GovernanceError::bad_param("reset_to must be a number", "reset_to"))?,
    };
    let existing = key_record(&state, &key).await?;
    check_key_owner(&caller, &existing)?;
    let current = crate::identity::amount(&existing, "spend").unwrap_or_default();
    if reset_to.is_sign_negative() {
        return Err(GovernanceError::bad_param(
            "reset_to must be >= 0",
            "reset_to",
        ));
    }
    if reset_to > current {
        return Err(GovernanceError::bad_param(
            format!(
                "reset_to ({reset_to}) must be <= current spend ({})",
                current.normalize()
            ),
            "reset_to",
        ));
    }
    let token = text(&existing, "token").unwrap_or_default();
    let _guard = state.store.money_write_guard().await;
    state
        .store
        .execute(
            "UPDATE \"LiteLLM_VerificationToken\" SET \"spend\" = $1 WHERE \"token\" = $2",
            &[Param::Money(Some(reset_to)), Param::text(&token)],
        )
        .await?;
    drop(_guard);
    state.ledger.reset(&Entity::Key(token.clone()), None);
    state.changed("key", &token).await?;
    Ok(json_response(json!({
        "key": key, "spend": crate::db::decimal_to_value(reset_to),
        "max_budget": existing.get("max_budget").cloned().unwrap_or(Value::Null),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_fields_go_to_metadata_and_durations_to_times() {
        let body: Record = serde_json::from_value(json!({
            "tags": ["a"], "guardrails": ["g"], "budget_duration": "1d", "duration": "30s",
            "max_budget": 1.5, "key_type": "llm_api"
        }))
        .unwrap();
        let now = crate::time::parse_time("2026-01-01T00:00:00Z").unwrap();
        let columns = key_columns(&body, None, now).unwrap();
        assert_eq!(
            columns["metadata"],
            json!({"tags": ["a"], "guardrails": ["g"]})
        );
        assert_eq!(
            columns["budget_reset_at"],
            json!("2026-01-02T00:00:00.000Z")
        );
        assert_eq!(columns["expires"], json!("2026-01-01T00:00:30.000Z"));
        let bad: Record = serde_json::from_value(json!({"key_type": "root"})).unwrap();
        assert!(key_columns(&bad, None, now).is_err());
        let negative: Record = serde_json::from_value(json!({"max_budget": -1})).unwrap();
        assert!(key_columns(&negative, None, now).is_err());
    }

    #[test]
    fn regenerate_sql_moves_the_token() {
        assert_eq!(
            renumber_with_token("UPDATE \"T\" SET \"a\" = $1 WHERE \"token\" = $2"),
            "UPDATE \"T\" SET \"token\" = $1, \"a\" = $2 WHERE \"token\" = $3"
        );
    }
}
