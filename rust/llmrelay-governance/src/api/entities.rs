//! `/user/*` and `/team/*`: users, teams, team members (with per-member budgets), team models.

use axum::Extension;
use axum::extract::State;
use bytes::Bytes;
use serde_json::{Value, json};

use super::keys::{create_key, store_object_permission};
use super::{
    ApiResult, Caller, Query, Shared, json_response, parse_body, query_int, required_text,
    string_list,
};
use crate::db::{Param, Record, decimal_from_value};
use crate::error::GovernanceError;
use crate::identity::{UserRole, list, text};
use crate::store::Conditions;
use crate::tables;
use crate::time::{BudgetDuration, format_time};

const USER_FIELDS: &[&str] = &[
    "user_id",
    "user_email",
    "user_alias",
    "user_role",
    "teams",
    "organization_id",
    "max_budget",
    "budget_duration",
    "models",
    "tpm_limit",
    "rpm_limit",
    "max_parallel_requests",
    "metadata",
    "auto_create_key",
    "send_invite_email",
    "key_alias",
    "duration",
    "aliases",
    "config",
    "allowed_cache_controls",
    "guardrails",
    "spend",
    "sso_user_id",
    "object_permission",
    "prompts",
    "model_max_budget",
    "policies",
    "password",
    "soft_budget",
];

fn now_text(state: &Shared) -> Value {
    Value::String(format_time(state.clock.now()))
}

/// Budget duration → `budget_reset_at`, validated.
fn apply_budget_duration(
    state: &Shared,
    body: &Record,
    record: &mut Record,
) -> Result<(), GovernanceError> {
    if let Some(duration) = body.get("budget_duration").and_then(Value::as_str) {
        let parsed = BudgetDuration::parse(duration)
            .map_err(|m| GovernanceError::bad_param(m, "budget_duration"))?;
        record.insert(
            "budget_reset_at".into(),
            Value::String(format_time(parsed.after(state.clock.now()))),
        );
    }
    Ok(())
}

fn check_amounts(body: &Record, fields: &[&str]) -> Result<(), GovernanceError> {
    for field in fields {
        if let Some(value) = body.get(*field).filter(|v| !v.is_null()) {
            let amount = decimal_from_value(value).ok_or_else(|| {
                GovernanceError::bad_param(format!("{field} must be a number"), *field)
            })?;
            if amount.is_sign_negative() {
                return Err(GovernanceError::bad_param(
                    format!("{field} cannot be negative"),
                    *field,
                ));
            }
        }
    }
    Ok(())
}

fn check_role(body: &Record) -> Result<(), GovernanceError> {
    if let Some(role) = body.get("user_role").and_then(Value::as_str)
        && UserRole::parse(role).is_none()
    {
        return Err(GovernanceError::bad_param(
            format!(
                "Invalid user_role: {role}. Must be one of proxy_admin, proxy_admin_viewer, org_admin, internal_user, internal_user_viewer, team, customer"
            ),
            "user_role",
        ));
    }
    Ok(())
}

async fn user_record(state: &Shared, user_id: &str) -> Result<Option<Record>, GovernanceError> {
    state
        .store
        .get(&tables::USER_TABLE, &[("user_id", Param::text(user_id))])
        .await
}

/// Makes sure a user row exists (members added by id or email get one, as in LiteLLM).
async fn ensure_user(
    state: &Shared,
    user_id: Option<&str>,
    email: Option<&str>,
) -> Result<String, GovernanceError> {
    if let Some(id) = user_id
        && user_record(state, id).await?.is_some()
    {
        return Ok(id.to_owned());
    }
    if user_id.is_none()
        && let Some(email) = email
    {
        let mut conditions = Conditions::new();
        conditions.equals("user_email", Param::text(email));
        if let Some(found) = state
            .store
            .select(&tables::USER_TABLE, &conditions, "", Some(1), None)
            .await?
            .into_iter()
            .next()
        {
            return Ok(text(&found, "user_id").unwrap_or_default());
        }
    }
    let id = user_id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let mut record = Record::new();
    record.insert("user_id".into(), Value::String(id.clone()));
    if let Some(email) = email {
        record.insert("user_email".into(), Value::String(email.to_owned()));
    }
    record.insert("user_role".into(), Value::String("internal_user".into()));
    record.insert("created_at".into(), now_text(state));
    record.insert("updated_at".into(), now_text(state));
    state.store.insert(&tables::USER_TABLE, &record).await?;
    Ok(id)
}

pub(super) async fn user_new(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, USER_FIELDS)?;
    check_role(&body)?;
    check_amounts(&body, &["max_budget", "spend", "soft_budget"])?;
    if !caller.is_admin() && body.get("user_role").and_then(Value::as_str) == Some("proxy_admin") {
        return Err(GovernanceError::Forbidden(
            "Only proxy admins can create proxy admins".into(),
        ));
    }
    let user_id = body
        .get("user_id")
        .and_then(Value::as_str)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    if user_record(&state, &user_id).await?.is_some() {
        return Err(GovernanceError::bad_param(
            format!("User with id={user_id} already exists"),
            "user_id",
        ));
    }
    let mut record = Record::new();
    for (field, value) in &body {
        match field.as_str() {
            "auto_create_key" | "send_invite_email" | "key_alias" | "duration" | "aliases"
            | "config" | "object_permission" | "guardrails" | "prompts" | "soft_budget" => {}
            _ => {
                record.insert(field.clone(), value.clone());
            }
        }
    }
    record.insert("user_id".into(), Value::String(user_id.clone()));
    record
        .entry("user_role")
        .or_insert_with(|| Value::String("internal_user".into()));
    apply_budget_duration(&state, &body, &mut record)?;
    if let Some(permission) = body.get("object_permission")
        && let Some(id) = store_object_permission(&state, permission, None).await?
    {
        record.insert("object_permission_id".into(), Value::String(id));
    }
    record.insert("created_at".into(), now_text(&state));
    record.insert("updated_at".into(), now_text(&state));
    state.store.insert(&tables::USER_TABLE, &record).await?;
    for team in string_list(&body, "teams")? {
        add_member(&state, &team, &user_id, "user", None).await?;
    }
    let mut response = user_record(&state, &user_id).await?.unwrap_or(record);
    if body.get("auto_create_key").and_then(Value::as_bool) != Some(false) {
        let mut key_body = Record::new();
        key_body.insert("user_id".into(), Value::String(user_id.clone()));
        for field in [
            "key_alias",
            "duration",
            "models",
            "aliases",
            "config",
            "guardrails",
            "tpm_limit",
            "rpm_limit",
            "max_parallel_requests",
        ] {
            if let Some(value) = body.get(field) {
                key_body.insert(field.into(), value.clone());
            }
        }
        let (raw_key, key_record) = create_key(&state, &caller, key_body).await?;
        response.insert("key".into(), Value::String(raw_key));
        response.insert(
            "token".into(),
            key_record.get("token").cloned().unwrap_or(Value::Null),
        );
        response.insert(
            "key_name".into(),
            key_record.get("key_name").cloned().unwrap_or(Value::Null),
        );
        response.insert(
            "expires".into(),
            key_record.get("expires").cloned().unwrap_or(Value::Null),
        );
    }
    Ok(json_response(Value::Object(response)))
}

pub(super) async fn user_info(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    let user_id = query
        .get("user_id")
        .cloned()
        .or_else(|| caller.auth.user_id.clone())
        .ok_or_else(|| GovernanceError::bad_param("user_id is required", "user_id"))?;
    if !caller.can_read_all() && Some(&user_id) != caller.auth.user_id.as_ref() {
        return Err(GovernanceError::Forbidden(format!(
            "key not allowed to access this user's info. user_id={user_id}, key's user_id={}",
            caller.auth.user_id.as_deref().unwrap_or("None")
        )));
    }
    let user = user_record(&state, &user_id).await?;
    let mut conditions = Conditions::new();
    conditions.equals("user_id", Param::text(&user_id));
    let keys = state
        .store
        .select(
            &tables::VERIFICATION_TOKEN,
            &conditions,
            "\"created_at\"",
            None,
            None,
        )
        .await?;
    let team_ids = user.as_ref().map(|u| list(u, "teams")).unwrap_or_default();
    let mut teams = Vec::new();
    for team in team_ids {
        if let Some(record) = state
            .store
            .get(&tables::TEAM_TABLE, &[("team_id", Param::text(team))])
            .await?
        {
            teams.push(Value::Object(record));
        }
    }
    Ok(json_response(json!({
        "user_id": user_id, "user_info": user.map_or(Value::Null, Value::Object),
        "keys": keys, "teams": teams,
    })))
}

pub(super) async fn user_update(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, USER_FIELDS)?;
    check_role(&body)?;
    check_amounts(&body, &["max_budget", "spend"])?;
    let user_id = match (
        body.get("user_id").and_then(Value::as_str),
        body.get("user_email").and_then(Value::as_str),
    ) {
        (Some(id), _) => id.to_owned(),
        (None, Some(email)) => {
            let mut conditions = Conditions::new();
            conditions.equals("user_email", Param::text(email));
            let found = state
                .store
                .select(&tables::USER_TABLE, &conditions, "", Some(1), None)
                .await?;
            found
                .first()
                .and_then(|u| text(u, "user_id"))
                .ok_or_else(|| {
                    GovernanceError::NotFound(format!("User with email={email} not found"))
                })?
        }
        _ => {
            return Err(GovernanceError::bad_param(
                "user_id or user_email is required",
                "user_id",
            ));
        }
    };
    if !caller.is_admin() && Some(&user_id) != caller.auth.user_id.as_ref() {
        return Err(GovernanceError::Forbidden(
            "Only proxy admins can update other users".into(),
        ));
    }
    let existing = user_record(&state, &user_id).await?.ok_or_else(|| {
        GovernanceError::NotFound(format!("User not found, passed user_id={user_id}"))
    })?;
    let mut changes = body.clone();
    changes.remove("user_id");
    apply_budget_duration(&state, &body, &mut changes)?;
    if let Some(permission) = body.get("object_permission")
        && let Some(id) =
            store_object_permission(&state, permission, text(&existing, "object_permission_id"))
                .await?
    {
        changes.insert("object_permission_id".into(), Value::String(id));
    }
    changes.insert("updated_at".into(), now_text(&state));
    state
        .store
        .update(
            &tables::USER_TABLE,
            &[("user_id", Param::text(&user_id))],
            &changes,
        )
        .await?;
    state.changed("user", &user_id).await?;
    let updated = user_record(&state, &user_id).await?;
    Ok(json_response(json!({"user_id": user_id, "data": updated})))
}

pub(super) async fn user_delete(
    State(state): State<Shared>,
    Extension(_caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, &["user_ids"])?;
    let user_ids = string_list(&body, "user_ids")?;
    for user_id in &user_ids {
        state
            .store
            .execute(
                "DELETE FROM \"LiteLLM_VerificationToken\" WHERE \"user_id\" = $1",
                &[Param::text(user_id)],
            )
            .await?;
        state
            .store
            .execute(
                "DELETE FROM \"LiteLLM_TeamMembership\" WHERE \"user_id\" = $1",
                &[Param::text(user_id)],
            )
            .await?;
        state
            .store
            .execute(
                "DELETE FROM \"LiteLLM_OrganizationMembership\" WHERE \"user_id\" = $1",
                &[Param::text(user_id)],
            )
            .await?;
        if let Some(user) = user_record(&state, user_id).await? {
            for team in list(&user, "teams") {
                remove_member(&state, &team, user_id).await?;
            }
        }
        state
            .store
            .delete(&tables::USER_TABLE, &[("user_id", Param::text(user_id))])
            .await?;
        state.changed("user", user_id).await?;
    }
    Ok(json_response(json!({"deleted_users": user_ids})))
}

pub(super) async fn user_list(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    if !caller.can_read_all() && caller.auth.org_role.as_deref() != Some("org_admin") {
        return Err(GovernanceError::Forbidden(
            "Only proxy admins and organization admins can list users".into(),
        ));
    }
    let page = query_int(&query, "page", 1)?.max(1);
    let page_size = query_int(&query, "page_size", 25)?.clamp(1, 100);
    let mut conditions = Conditions::new();
    if let Some(role) = query.get("role") {
        conditions.equals("user_role", Param::text(role));
    }
    if let Some(email) = query.get("user_email") {
        conditions.equals("user_email", Param::text(email));
    }
    if let Some(ids) = query.get("user_ids") {
        let ids: Vec<Param> = ids.split(',').map(|id| Param::text(id.trim())).collect();
        let placeholders = vec!["{}"; ids.len()].join(", ");
        conditions.clause(&format!("\"user_id\" IN ({placeholders})"), ids);
    }
    if !caller.can_read_all()
        && let Some(org) = &caller.auth.org_id
    {
        conditions.equals("organization_id", Param::text(org));
    }
    let total = state
        .store
        .count_where(&tables::USER_TABLE, &conditions)
        .await?;
    let users = state
        .store
        .select(
            &tables::USER_TABLE,
            &conditions,
            "\"created_at\" DESC, \"user_id\"",
            Some(page_size),
            Some((page - 1) * page_size),
        )
        .await?;
    Ok(json_response(json!({
        "users": users, "total": total, "page": page, "page_size": page_size,
        "total_pages": (total + page_size - 1) / page_size,
    })))
}

const TEAM_FIELDS: &[&str] = &[
    "team_alias",
    "team_id",
    "organization_id",
    "members_with_roles",
    "members",
    "admins",
    "models",
    "max_budget",
    "soft_budget",
    "budget_duration",
    "tpm_limit",
    "rpm_limit",
    "tpd_limit",
    "max_parallel_requests",
    "metadata",
    "tags",
    "guardrails",
    "model_aliases",
    "team_member_budget",
    "team_member_rpm_limit",
    "team_member_tpm_limit",
    "blocked",
    "object_permission",
    "model_rpm_limit",
    "model_tpm_limit",
    "team_member_permissions",
    "prompts",
    "policies",
    "router_settings",
    "model_max_budget",
    "default_team_member_models",
    "allowed_cache_controls",
    "secret_manager_settings",
    "access_group_ids",
    "allow_team_guardrail_config",
    "disable_global_guardrails",
];

/// Team request fields LiteLLM keeps in the team's `metadata`.
const TEAM_METADATA_FIELDS: &[&str] = &[
    "tags",
    "guardrails",
    "model_rpm_limit",
    "model_tpm_limit",
    "prompts",
    "team_member_rpm_limit",
    "team_member_tpm_limit",
    "secret_manager_settings",
    "allowed_cache_controls",
    "disable_global_guardrails",
];

pub(super) async fn team_record(state: &Shared, team_id: &str) -> Result<Record, GovernanceError> {
    let mut record = state
        .store
        .get(&tables::TEAM_TABLE, &[("team_id", Param::text(team_id))])
        .await?
        .ok_or_else(|| {
            GovernanceError::NotFound(format!("Team not found, passed team_id={team_id}"))
        })?;
    let aliases = match record.get("model_id").and_then(Value::as_i64) {
        Some(id) => state
            .store
            .get(&tables::MODEL_TABLE, &[("id", Param::Int(Some(id)))])
            .await?
            .and_then(|m| m.get("model_aliases").cloned())
            .unwrap_or(Value::Null),
        None => Value::Null,
    };
    record.insert("model_aliases".into(), aliases);
    Ok(record)
}

/// Whether the caller administers the team (proxy admin, team admin, or its org admin).
pub(super) fn is_team_admin(caller: &Caller, team: &Record) -> bool {
    if caller.is_admin() {
        return true;
    }
    let user = caller.auth.user_id.as_deref();
    let team_admin = team
        .get("members_with_roles")
        .and_then(Value::as_array)
        .is_some_and(|members| {
            members.iter().any(|m| {
                m.get("user_id").and_then(Value::as_str) == user
                    && m.get("role").and_then(Value::as_str) == Some("admin")
            })
        });
    let org_admin = caller.auth.org_role.as_deref() == Some("org_admin")
        && text(team, "organization_id").is_some()
        && text(team, "organization_id") == caller.auth.org_id;
    team_admin || org_admin
}

fn team_columns(
    state: &Shared,
    body: &Record,
    existing_metadata: Option<&Value>,
) -> Result<Record, GovernanceError> {
    let mut columns = Record::new();
    let mut metadata = match body.get("metadata").or(existing_metadata) {
        Some(Value::Object(map)) => map.clone(),
        _ => serde_json::Map::new(),
    };
    let mut touched = body.contains_key("metadata");
    for (field, value) in body {
        match field.as_str() {
            "metadata" | "model_aliases" | "object_permission" | "team_member_budget"
            | "members" => {}
            name if TEAM_METADATA_FIELDS.contains(&name) => {
                metadata.insert(name.to_owned(), value.clone());
                touched = true;
            }
            _ => {
                columns.insert(field.clone(), value.clone());
            }
        }
    }
    apply_budget_duration(state, body, &mut columns)?;
    if touched {
        columns.insert("metadata".into(), Value::Object(metadata));
    }
    Ok(columns)
}

async fn set_team_aliases(
    state: &Shared,
    team: &Record,
    aliases: &Value,
) -> Result<Option<i64>, GovernanceError> {
    let now = now_text(state);
    if let Some(id) = team.get("model_id").and_then(Value::as_i64) {
        let mut changes = Record::new();
        changes.insert("model_aliases".into(), aliases.clone());
        changes.insert("updated_at".into(), now);
        state
            .store
            .update(
                &tables::MODEL_TABLE,
                &[("id", Param::Int(Some(id)))],
                &changes,
            )
            .await?;
        return Ok(Some(id));
    }
    let rows = state
        .store
        .fetch(
            "INSERT INTO \"LiteLLM_ModelTable\" (\"model_aliases\", \"created_at\", \"created_by\", \"updated_at\", \"updated_by\") VALUES ($1, $2, '', $2, '') RETURNING \"id\"",
            &[Param::Json(Some(aliases.clone())), Param::Time(Some(crate::time::to_millis(state.clock.now())))],
            &[("id", crate::db::Kind::Int)],
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|r| r.get("id"))
        .and_then(Value::as_i64))
}

pub(super) async fn team_new(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, TEAM_FIELDS)?;
    check_amounts(&body, &["max_budget", "soft_budget", "team_member_budget"])?;
    let team_id = body
        .get("team_id")
        .and_then(Value::as_str)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    if state
        .store
        .get(&tables::TEAM_TABLE, &[("team_id", Param::text(&team_id))])
        .await?
        .is_some()
    {
        return Err(GovernanceError::bad_param(
            format!("Team id = {team_id} already exists. Please use a different team id."),
            "team_id",
        ));
    }
    if !caller.is_admin() {
        match body.get("organization_id").and_then(Value::as_str) {
            Some(org) if Some(org) == caller.auth.org_id.as_deref() => {}
            _ => {
                return Err(GovernanceError::Forbidden(
                    "Organization admins can only create teams in their own organization (organization_id required)".into(),
                ));
            }
        }
    }
    if let Some(org) = body.get("organization_id").and_then(Value::as_str)
        && state
            .store
            .get(
                &tables::ORGANIZATION_TABLE,
                &[("organization_id", Param::text(org))],
            )
            .await?
            .is_none()
    {
        return Err(GovernanceError::bad_param(
            format!("Organization not found, passed organization_id={org}"),
            "organization_id",
        ));
    }
    let mut record = team_columns(&state, &body, None)?;
    record.insert("team_id".into(), Value::String(team_id.clone()));
    record.insert("members_with_roles".into(), json!([]));
    if let Some(budget) = body.get("team_member_budget").filter(|v| !v.is_null()) {
        let budget_id = create_budget(&state, &json!({"max_budget": budget}), &caller).await?;
        let metadata = record.entry("metadata").or_insert_with(|| json!({}));
        if let Value::Object(map) = metadata {
            map.insert("team_member_budget_id".into(), Value::String(budget_id));
        }
    }
    if let Some(permission) = body.get("object_permission")
        && let Some(id) = store_object_permission(&state, permission, None).await?
    {
        record.insert("object_permission_id".into(), Value::String(id));
    }
    record.insert("created_at".into(), now_text(&state));
    record.insert("updated_at".into(), now_text(&state));
    state.store.insert(&tables::TEAM_TABLE, &record).await?;
    if let Some(aliases) = body.get("model_aliases").filter(|v| v.is_object()) {
        let stored = team_record(&state, &team_id).await?;
        if let Some(id) = set_team_aliases(&state, &stored, aliases).await? {
            let mut changes = Record::new();
            changes.insert("model_id".into(), json!(id));
            state
                .store
                .update(
                    &tables::TEAM_TABLE,
                    &[("team_id", Param::text(&team_id))],
                    &changes,
                )
                .await?;
        }
    }
    let members = body
        .get("members_with_roles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for member in members {
        let role = member.get("role").and_then(Value::as_str).unwrap_or("user");
        let user_id = ensure_user(
            &state,
            member.get("user_id").and_then(Value::as_str),
            member.get("user_email").and_then(Value::as_str),
        )
        .await?;
        add_member(&state, &team_id, &user_id, role, None).await?;
    }
    Ok(json_response(Value::Object(
        team_record(&state, &team_id).await?,
    )))
}

/// Adds (or updates) a member: `members_with_roles`, the user's `teams`, a membership row and,
/// with `max_budget_in_team`, a budget row.
async fn add_member(
    state: &Shared,
    team_id: &str,
    user_id: &str,
    role: &str,
    max_budget_in_team: Option<&Value>,
) -> Result<Record, GovernanceError> {
    if role != "admin" && role != "user" {
        return Err(GovernanceError::bad_param(
            format!("Invalid member role: {role}. Must be 'admin' or 'user'"),
            "role",
        ));
    }
    let team = team_record(state, team_id).await?;
    let user = user_record(state, user_id).await?;
    let email = user.as_ref().and_then(|u| text(u, "user_email"));
    let mut members = team
        .get("members_with_roles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    members.retain(|m| m.get("user_id").and_then(Value::as_str) != Some(user_id));
    members.push(json!({"user_id": user_id, "user_email": email, "role": role}));
    let mut changes = Record::new();
    changes.insert("members_with_roles".into(), Value::Array(members));
    changes.insert("updated_at".into(), now_text(state));
    state
        .store
        .update(
            &tables::TEAM_TABLE,
            &[("team_id", Param::text(team_id))],
            &changes,
        )
        .await?;
    if let Some(user) = &user {
        let mut teams = list(user, "teams");
        if !teams.iter().any(|t| t == team_id) {
            teams.push(team_id.to_owned());
            let mut changes = Record::new();
            changes.insert("teams".into(), json!(teams));
            state
                .store
                .update(
                    &tables::USER_TABLE,
                    &[("user_id", Param::text(user_id))],
                    &changes,
                )
                .await?;
        }
    }
    let key = [
        ("user_id", Param::text(user_id)),
        ("team_id", Param::text(team_id)),
    ];
    let mut membership = state
        .store
        .get(&tables::TEAM_MEMBERSHIP, &key)
        .await?
        .unwrap_or_default();
    let budget = max_budget_in_team.cloned().or_else(|| {
        crate::identity::object(&team, "metadata")
            .get("team_member_budget_id")
            .map(|id| json!({"budget_id": id}))
    });
    let budget_id = match budget {
        Some(Value::Object(reference)) if reference.contains_key("budget_id") => reference
            .get("budget_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        Some(amount) if !amount.is_null() => {
            let existing = text(&membership, "budget_id");
            let mut values = Record::new();
            values.insert("max_budget".into(), amount);
            match existing {
                Some(id) => {
                    values.insert("updated_at".into(), now_text(state));
                    state
                        .store
                        .update(
                            &tables::BUDGET_TABLE,
                            &[("budget_id", Param::text(&id))],
                            &values,
                        )
                        .await?;
                    Some(id)
                }
                None => {
                    let id = uuid::Uuid::new_v4().to_string();
                    values.insert("budget_id".into(), Value::String(id.clone()));
                    values.insert("created_at".into(), now_text(state));
                    values.insert("updated_at".into(), now_text(state));
                    state.store.insert(&tables::BUDGET_TABLE, &values).await?;
                    Some(id)
                }
            }
        }
        _ => text(&membership, "budget_id"),
    };
    if membership.is_empty() {
        membership.insert("user_id".into(), Value::String(user_id.to_owned()));
        membership.insert("team_id".into(), Value::String(team_id.to_owned()));
        membership.insert(
            "budget_id".into(),
            budget_id.map_or(Value::Null, Value::String),
        );
        state
            .store
            .insert(&tables::TEAM_MEMBERSHIP, &membership)
            .await?;
    } else {
        let mut changes = Record::new();
        changes.insert(
            "budget_id".into(),
            budget_id.map_or(Value::Null, Value::String),
        );
        state
            .store
            .update(&tables::TEAM_MEMBERSHIP, &key, &changes)
            .await?;
    }
    state.changed("team", team_id).await?;
    Ok(state
        .store
        .get(&tables::TEAM_MEMBERSHIP, &key)
        .await?
        .unwrap_or_default())
}

async fn remove_member(
    state: &Shared,
    team_id: &str,
    user_id: &str,
) -> Result<(), GovernanceError> {
    if let Ok(team) = team_record(state, team_id).await {
        let mut members = team
            .get("members_with_roles")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        members.retain(|m| m.get("user_id").and_then(Value::as_str) != Some(user_id));
        let mut changes = Record::new();
        changes.insert("members_with_roles".into(), Value::Array(members));
        state
            .store
            .update(
                &tables::TEAM_TABLE,
                &[("team_id", Param::text(team_id))],
                &changes,
            )
            .await?;
    }
    if let Some(user) = user_record(state, user_id).await? {
        let teams: Vec<String> = list(&user, "teams")
            .into_iter()
            .filter(|t| t != team_id)
            .collect();
        let mut changes = Record::new();
        changes.insert("teams".into(), json!(teams));
        state
            .store
            .update(
                &tables::USER_TABLE,
                &[("user_id", Param::text(user_id))],
                &changes,
            )
            .await?;
    }
    state
        .store
        .delete(
            &tables::TEAM_MEMBERSHIP,
            &[
                ("user_id", Param::text(user_id)),
                ("team_id", Param::text(team_id)),
            ],
        )
        .await?;
    state.changed("team", team_id).await
}

pub(super) async fn team_info(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    let team_id = query
        .get("team_id")
        .cloned()
        .or_else(|| caller.auth.team_id.clone())
        .ok_or_else(|| GovernanceError::bad_param("team_id is required", "team_id"))?;
    let team = team_record(&state, &team_id).await?;
    let is_member = team
        .get("members_with_roles")
        .and_then(Value::as_array)
        .is_some_and(|m| {
            m.iter()
                .any(|m| m.get("user_id").and_then(Value::as_str) == caller.auth.user_id.as_deref())
        });
    if !caller.can_read_all()
        && !is_member
        && caller.auth.team_id.as_deref() != Some(&team_id)
        && !is_team_admin(&caller, &team)
    {
        return Err(GovernanceError::Forbidden(format!(
            "User={} not authorized to access this team={team_id}",
            caller.auth.user_id.as_deref().unwrap_or("unknown")
        )));
    }
    let mut conditions = Conditions::new();
    conditions.equals("team_id", Param::text(&team_id));
    let keys = state
        .store
        .select(
            &tables::VERIFICATION_TOKEN,
            &conditions,
            "\"created_at\"",
            None,
            None,
        )
        .await?;
    let memberships = state
        .store
        .select(
            &tables::TEAM_MEMBERSHIP,
            &conditions,
            "\"user_id\"",
            None,
            None,
        )
        .await?;
    Ok(json_response(json!({
        "team_id": team_id, "team_info": team, "keys": keys, "team_memberships": memberships,
    })))
}

pub(super) async fn team_update(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, TEAM_FIELDS)?;
    check_amounts(&body, &["max_budget", "soft_budget", "team_member_budget"])?;
    let team_id = required_text(&body, "team_id")?;
    let team = team_record(&state, &team_id).await?;
    if !is_team_admin(&caller, &team) {
        return Err(GovernanceError::Forbidden(format!(
            "User={} is not an admin of team={team_id}",
            caller.auth.user_id.as_deref().unwrap_or("unknown")
        )));
    }
    let mut changes = team_columns(&state, &body, team.get("metadata"))?;
    changes.remove("team_id");
    if let Some(aliases) = body.get("model_aliases").filter(|v| v.is_object())
        && let Some(id) = set_team_aliases(&state, &team, aliases).await?
    {
        changes.insert("model_id".into(), json!(id));
    }
    if let Some(permission) = body.get("object_permission")
        && let Some(id) =
            store_object_permission(&state, permission, text(&team, "object_permission_id")).await?
    {
        changes.insert("object_permission_id".into(), Value::String(id));
    }
    changes.insert("updated_at".into(), now_text(&state));
    state
        .store
        .update(
            &tables::TEAM_TABLE,
            &[("team_id", Param::text(&team_id))],
            &changes,
        )
        .await?;
    state.changed("team", &team_id).await?;
    Ok(json_response(
        json!({"team_id": team_id, "data": team_record(&state, &team_id).await?}),
    ))
}

pub(super) async fn team_delete(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, &["team_ids"])?;
    let team_ids = string_list(&body, "team_ids")?;
    for team_id in &team_ids {
        let team = team_record(&state, team_id).await?;
        if !is_team_admin(&caller, &team) {
            return Err(GovernanceError::Forbidden(format!(
                "Not allowed to delete team={team_id}"
            )));
        }
    }
    for team_id in &team_ids {
        let team = team_record(&state, team_id).await?;
        for member in team
            .get("members_with_roles")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            if let Some(user) = member.get("user_id").and_then(Value::as_str) {
                remove_member(&state, team_id, user).await?;
            }
        }
        let mut archived = team.clone();
        archived.remove("model_aliases");
        archived.insert("id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
        archived.insert("deleted_at".into(), now_text(&state));
        state
            .store
            .insert(&tables::DELETED_TEAM_TABLE, &archived)
            .await?;
        state
            .store
            .execute(
                "DELETE FROM \"LiteLLM_VerificationToken\" WHERE \"team_id\" = $1",
                &[Param::text(team_id)],
            )
            .await?;
        state
            .store
            .delete(&tables::TEAM_TABLE, &[("team_id", Param::text(team_id))])
            .await?;
        state.changed("team", team_id).await?;
    }
    Ok(json_response(json!({"deleted_teams": team_ids})))
}

pub(super) async fn team_list(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    let mut conditions = Conditions::new();
    if let Some(org) = query.get("organization_id") {
        conditions.equals("organization_id", Param::text(org));
    }
    let teams = state
        .store
        .select(
            &tables::TEAM_TABLE,
            &conditions,
            "\"created_at\", \"team_id\"",
            None,
            None,
        )
        .await?;
    let filter_user = query.get("user_id").cloned().or_else(|| {
        (!caller.can_read_all()).then(|| caller.auth.user_id.clone().unwrap_or_default())
    });
    let teams: Vec<Record> = teams
        .into_iter()
        .filter(|team| match &filter_user {
            None => true,
            Some(user) => team
                .get("members_with_roles")
                .and_then(Value::as_array)
                .is_some_and(|m| {
                    m.iter()
                        .any(|m| m.get("user_id").and_then(Value::as_str) == Some(user))
                }),
        })
        .collect();
    Ok(json_response(json!(teams)))
}

fn members_of(body: &Record) -> Result<Vec<Value>, GovernanceError> {
    match body.get("member") {
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(member @ Value::Object(_)) => Ok(vec![member.clone()]),
        _ => Err(GovernanceError::bad_param(
            "member is required (an object or a list)",
            "member",
        )),
    }
}

pub(super) async fn team_member_add(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(
        &body,
        &[
            "team_id",
            "member",
            "max_budget_in_team",
            "budget_duration",
            "allowed_models",
        ],
    )?;
    check_amounts(&body, &["max_budget_in_team"])?;
    let team_id = required_text(&body, "team_id")?;
    let team = team_record(&state, &team_id).await?;
    if !is_team_admin(&caller, &team) {
        return Err(GovernanceError::Forbidden(format!(
            "User={} is not an admin of team={team_id}. Only proxy admins and team admins can add members.",
            caller.auth.user_id.as_deref().unwrap_or("unknown")
        )));
    }
    let mut updated_users = Vec::new();
    let mut memberships = Vec::new();
    for member in members_of(&body)? {
        let user_id = ensure_user(
            &state,
            member.get("user_id").and_then(Value::as_str),
            member.get("user_email").and_then(Value::as_str),
        )
        .await?;
        let role = member.get("role").and_then(Value::as_str).unwrap_or("user");
        memberships.push(Value::Object(
            add_member(
                &state,
                &team_id,
                &user_id,
                role,
                body.get("max_budget_in_team"),
            )
            .await?,
        ));
        updated_users.push(
            user_record(&state, &user_id)
                .await?
                .map_or(Value::Null, Value::Object),
        );
    }
    let mut response = team_record(&state, &team_id).await?;
    response.insert("updated_users".into(), Value::Array(updated_users));
    response.insert("updated_team_memberships".into(), Value::Array(memberships));
    Ok(json_response(Value::Object(response)))
}

async fn member_user_id(state: &Shared, body: &Record) -> Result<String, GovernanceError> {
    match (
        body.get("user_id").and_then(Value::as_str),
        body.get("user_email").and_then(Value::as_str),
    ) {
        (Some(id), _) => Ok(id.to_owned()),
        (None, Some(email)) => {
            let mut conditions = Conditions::new();
            conditions.equals("user_email", Param::text(email));
            state
                .store
                .select(&tables::USER_TABLE, &conditions, "", Some(1), None)
                .await?
                .first()
                .and_then(|u| text(u, "user_id"))
                .ok_or_else(|| {
                    GovernanceError::NotFound(format!("User with email={email} not found"))
                })
        }
        _ => Err(GovernanceError::bad_param(
            "user_id or user_email is required",
            "user_id",
        )),
    }
}

pub(super) async fn team_member_delete(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, &["team_id", "user_id", "user_email"])?;
    let team_id = required_text(&body, "team_id")?;
    let team = team_record(&state, &team_id).await?;
    if !is_team_admin(&caller, &team) {
        return Err(GovernanceError::Forbidden(format!(
            "User is not an admin of team={team_id}"
        )));
    }
    let user_id = member_user_id(&state, &body).await?;
    remove_member(&state, &team_id, &user_id).await?;
    Ok(json_response(Value::Object(
        team_record(&state, &team_id).await?,
    )))
}

pub(super) async fn team_member_update(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(
        &body,
        &[
            "team_id",
            "user_id",
            "user_email",
            "role",
            "max_budget_in_team",
            "rpm_limit",
            "tpm_limit",
        ],
    )?;
    check_amounts(&body, &["max_budget_in_team"])?;
    let team_id = required_text(&body, "team_id")?;
    let team = team_record(&state, &team_id).await?;
    if !is_team_admin(&caller, &team) {
        return Err(GovernanceError::Forbidden(format!(
            "User is not an admin of team={team_id}"
        )));
    }
    let user_id = member_user_id(&state, &body).await?;
    let current_role = team
        .get("members_with_roles")
        .and_then(Value::as_array)
        .and_then(|m| {
            m.iter()
                .find(|m| m.get("user_id").and_then(Value::as_str) == Some(user_id.as_str()))
        })
        .and_then(|m| m.get("role").and_then(Value::as_str))
        .map(str::to_owned)
        .ok_or_else(|| {
            GovernanceError::NotFound(format!("User={user_id} is not a member of team={team_id}"))
        })?;
    let role = body
        .get("role")
        .and_then(Value::as_str)
        .map_or(current_role, str::to_owned);
    add_member(
        &state,
        &team_id,
        &user_id,
        &role,
        body.get("max_budget_in_team"),
    )
    .await?;
    Ok(json_response(json!({
        "team_id": team_id, "user_id": user_id,
        "user_email": body.get("user_email").cloned().unwrap_or(Value::Null),
        "max_budget_in_team": body.get("max_budget_in_team").cloned().unwrap_or(Value::Null),
        "role": role,
    })))
}

async fn set_team_blocked(state: &Shared, body: Bytes, blocked: bool) -> ApiResult {
    let body = parse_body(&body, &["team_id"])?;
    let team_id = required_text(&body, "team_id")?;
    team_record(state, &team_id).await?;
    let mut changes = Record::new();
    changes.insert("blocked".into(), Value::Bool(blocked));
    state
        .store
        .update(
            &tables::TEAM_TABLE,
            &[("team_id", Param::text(&team_id))],
            &changes,
        )
        .await?;
    state.changed("team", &team_id).await?;
    Ok(json_response(Value::Object(
        team_record(state, &team_id).await?,
    )))
}

pub(super) async fn team_block(State(state): State<Shared>, body: Bytes) -> ApiResult {
    set_team_blocked(&state, body, true).await
}

pub(super) async fn team_unblock(State(state): State<Shared>, body: Bytes) -> ApiResult {
    set_team_blocked(&state, body, false).await
}

async fn change_team_models(state: &Shared, body: Bytes, add: bool) -> ApiResult {
    let body = parse_body(&body, &["team_id", "models"])?;
    let team_id = required_text(&body, "team_id")?;
    let models = string_list(&body, "models")?;
    let team = team_record(state, &team_id).await?;
    let mut current = list(&team, "models");
    if add {
        for model in models {
            if !current.contains(&model) {
                current.push(model);
            }
        }
    } else {
        current.retain(|m| !models.contains(m));
    }
    let mut changes = Record::new();
    changes.insert("models".into(), json!(current));
    state
        .store
        .update(
            &tables::TEAM_TABLE,
            &[("team_id", Param::text(&team_id))],
            &changes,
        )
        .await?;
    state.changed("team", &team_id).await?;
    Ok(json_response(Value::Object(
        team_record(state, &team_id).await?,
    )))
}

pub(super) async fn team_model_add(State(state): State<Shared>, body: Bytes) -> ApiResult {
    change_team_models(&state, body, true).await
}

pub(super) async fn team_model_delete(State(state): State<Shared>, body: Bytes) -> ApiResult {
    change_team_models(&state, body, false).await
}

/// Creates a budget row from `{max_budget, soft_budget, budget_duration, …}`; its id.
pub(crate) async fn create_budget(
    state: &Shared,
    values: &Value,
    caller: &Caller,
) -> Result<String, GovernanceError> {
    let mut record: Record = values.as_object().cloned().unwrap_or_default();
    let id = record
        .get("budget_id")
        .and_then(Value::as_str)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    record.insert("budget_id".into(), Value::String(id.clone()));
    if let Some(duration) = record.get("budget_duration").and_then(Value::as_str) {
        let parsed = BudgetDuration::parse(duration)
            .map_err(|m| GovernanceError::bad_param(m, "budget_duration"))?;
        record.insert(
            "budget_reset_at".into(),
            Value::String(format_time(parsed.after(state.clock.now()))),
        );
    }
    let by = Value::String(caller.auth.user_id.clone().unwrap_or_default());
    record.insert("created_by".into(), by.clone());
    record.insert("updated_by".into(), by);
    record.insert("created_at".into(), now_text(state));
    record.insert("updated_at".into(), now_text(state));
    state.store.insert(&tables::BUDGET_TABLE, &record).await?;
    Ok(id)
}
