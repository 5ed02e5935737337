//! `/organization/*`, `/customer/*` (and `/end_user/*`), `/budget/*`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::Bytes;
use serde_json::{Value, json};

use super::entities::create_budget;
use super::{
    ApiResult, Caller, Query, Shared, json_response, parse_body, required_text, string_list,
};
use crate::db::{Param, Record, decimal_from_value};
use crate::error::GovernanceError;
use crate::identity::text;
use crate::store::Conditions;
use crate::tables;
use crate::time::{BudgetDuration, format_time};

const BUDGET_FIELDS: &[&str] = &[
    "max_budget",
    "soft_budget",
    "max_parallel_requests",
    "tpm_limit",
    "rpm_limit",
    "tpd_limit",
    "model_max_budget",
    "budget_duration",
    "budget_reset_at",
    "allowed_models",
];

/// The budget fields present in a body.
fn budget_values(body: &Record) -> Result<Record, GovernanceError> {
    let mut values = Record::new();
    for field in BUDGET_FIELDS {
        if let Some(value) = body.get(*field) {
            if matches!(*field, "max_budget" | "soft_budget") && !value.is_null() {
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
            values.insert((*field).to_owned(), value.clone());
        }
    }
    Ok(values)
}

async fn budget_record(
    state: &Shared,
    budget_id: Option<String>,
) -> Result<Value, GovernanceError> {
    Ok(match budget_id {
        Some(id) => state
            .store
            .get(&tables::BUDGET_TABLE, &[("budget_id", Param::text(id))])
            .await?
            .map_or(Value::Null, Value::Object),
        None => Value::Null,
    })
}

async fn update_budget(
    state: &Shared,
    budget_id: &str,
    values: &Record,
) -> Result<(), GovernanceError> {
    let mut changes = values.clone();
    if let Some(duration) = values.get("budget_duration").and_then(Value::as_str) {
        let parsed = BudgetDuration::parse(duration)
            .map_err(|m| GovernanceError::bad_param(m, "budget_duration"))?;
        changes.insert(
            "budget_reset_at".into(),
            Value::String(format_time(parsed.after(state.clock.now()))),
        );
    }
    changes.insert(
        "updated_at".into(),
        Value::String(format_time(state.clock.now())),
    );
    state
        .store
        .update(
            &tables::BUDGET_TABLE,
            &[("budget_id", Param::text(budget_id))],
            &changes,
        )
        .await?;
    state.changed("budget", budget_id).await
}

const ORGANIZATION_FIELDS: &[&str] = &[
    "organization_id",
    "organization_alias",
    "models",
    "budget_id",
    "metadata",
    "object_permission",
    "max_budget",
    "soft_budget",
    "max_parallel_requests",
    "tpm_limit",
    "rpm_limit",
    "tpd_limit",
    "model_max_budget",
    "budget_duration",
    "allowed_models",
];

async fn organization_object(
    state: &Shared,
    organization_id: &str,
) -> Result<Record, GovernanceError> {
    let mut record = state
        .store
        .get(
            &tables::ORGANIZATION_TABLE,
            &[("organization_id", Param::text(organization_id))],
        )
        .await?
        .ok_or_else(|| {
            GovernanceError::NotFound(format!(
                "Organization not found, passed organization_id={organization_id}"
            ))
        })?;
    record.insert(
        "litellm_budget_table".into(),
        budget_record(state, text(&record, "budget_id")).await?,
    );
    let mut conditions = Conditions::new();
    conditions.equals("organization_id", Param::text(organization_id));
    let members = state
        .store
        .select(
            &tables::ORGANIZATION_MEMBERSHIP,
            &conditions,
            "\"user_id\"",
            None,
            None,
        )
        .await?;
    let teams = state
        .store
        .select(&tables::TEAM_TABLE, &conditions, "\"team_id\"", None, None)
        .await?;
    record.insert("members".into(), json!(members));
    record.insert("teams".into(), json!(teams));
    Ok(record)
}

pub(super) async fn organization_new(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, ORGANIZATION_FIELDS)?;
    let alias = required_text(&body, "organization_alias")?;
    let organization_id = body
        .get("organization_id")
        .and_then(Value::as_str)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    if state
        .store
        .get(
            &tables::ORGANIZATION_TABLE,
            &[("organization_id", Param::text(&organization_id))],
        )
        .await?
        .is_some()
    {
        return Err(GovernanceError::bad_param(
            format!(
                "Organization id = {organization_id} already exists. Please use a different organization id."
            ),
            "organization_id",
        ));
    }
    let budget_id = match body.get("budget_id").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => create_budget(&state, &Value::Object(budget_values(&body)?), &caller).await?,
    };
    let now = Value::String(format_time(state.clock.now()));
    let by = Value::String(caller.auth.user_id.clone().unwrap_or_default());
    let mut record = Record::new();
    record.insert(
        "organization_id".into(),
        Value::String(organization_id.clone()),
    );
    record.insert("organization_alias".into(), Value::String(alias));
    record.insert("budget_id".into(), Value::String(budget_id));
    record.insert(
        "models".into(),
        body.get("models").cloned().unwrap_or(json!([])),
    );
    record.insert(
        "metadata".into(),
        body.get("metadata").cloned().unwrap_or(json!({})),
    );
    if let Some(permission) = body.get("object_permission")
        && let Some(id) = super::keys::store_object_permission(&state, permission, None).await?
    {
        record.insert("object_permission_id".into(), Value::String(id));
    }
    for field in ["created_at", "updated_at"] {
        record.insert(field.into(), now.clone());
    }
    for field in ["created_by", "updated_by"] {
        record.insert(field.into(), by.clone());
    }
    state
        .store
        .insert(&tables::ORGANIZATION_TABLE, &record)
        .await?;
    Ok(json_response(Value::Object(
        organization_object(&state, &organization_id).await?,
    )))
}

fn check_org_access(caller: &Caller, organization_id: &str) -> Result<(), GovernanceError> {
    if caller.can_read_all() || caller.auth.org_id.as_deref() == Some(organization_id) {
        Ok(())
    } else {
        Err(GovernanceError::Forbidden(format!(
            "User={} is not a member of organization={organization_id}",
            caller.auth.user_id.as_deref().unwrap_or("unknown")
        )))
    }
}

pub(super) async fn organization_info(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    let organization_id = query.get("organization_id").cloned().ok_or_else(|| {
        GovernanceError::bad_param("organization_id is required", "organization_id")
    })?;
    check_org_access(&caller, &organization_id)?;
    Ok(json_response(Value::Object(
        organization_object(&state, &organization_id).await?,
    )))
}

pub(super) async fn organization_info_post(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, &["organizations"])?;
    let mut result = Vec::new();
    for organization_id in string_list(&body, "organizations")? {
        check_org_access(&caller, &organization_id)?;
        result.push(Value::Object(
            organization_object(&state, &organization_id).await?,
        ));
    }
    Ok(json_response(Value::Array(result)))
}

pub(super) async fn organization_update(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, ORGANIZATION_FIELDS)?;
    let organization_id = required_text(&body, "organization_id")?;
    check_org_access(&caller, &organization_id)?;
    let existing = organization_object(&state, &organization_id).await?;
    let mut changes = Record::new();
    for field in ["organization_alias", "models", "metadata"] {
        if let Some(value) = body.get(field) {
            changes.insert(field.into(), value.clone());
        }
    }
    changes.insert(
        "updated_at".into(),
        Value::String(format_time(state.clock.now())),
    );
    state
        .store
        .update(
            &tables::ORGANIZATION_TABLE,
            &[("organization_id", Param::text(&organization_id))],
            &changes,
        )
        .await?;
    let budget = budget_values(&body)?;
    if !budget.is_empty()
        && let Some(budget_id) = text(&existing, "budget_id")
    {
        update_budget(&state, &budget_id, &budget).await?;
    }
    state.changed("organization", &organization_id).await?;
    Ok(json_response(Value::Object(
        organization_object(&state, &organization_id).await?,
    )))
}

pub(super) async fn organization_delete(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, &["organization_ids"])?;
    let mut deleted = Vec::new();
    for organization_id in string_list(&body, "organization_ids")? {
        check_org_access(&caller, &organization_id)?;
        let object = organization_object(&state, &organization_id).await?;
        state
            .store
            .execute(
                "DELETE FROM \"LiteLLM_OrganizationMembership\" WHERE \"organization_id\" = $1",
                &[Param::text(&organization_id)],
            )
            .await?;
        state
            .store
            .delete(
                &tables::ORGANIZATION_TABLE,
                &[("organization_id", Param::text(&organization_id))],
            )
            .await?;
        state.changed("organization", &organization_id).await?;
        deleted.push(Value::Object(object));
    }
    Ok(json_response(Value::Array(deleted)))
}

pub(super) async fn organization_list(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> ApiResult {
    let mut conditions = Conditions::new();
    if !caller.can_read_all() {
        match &caller.auth.org_id {
            Some(org) => {
                conditions.equals("organization_id", Param::text(org));
            }
            None => return Ok(json_response(json!([]))),
        }
    }
    let rows = state
        .store
        .select(
            &tables::ORGANIZATION_TABLE,
            &conditions,
            "\"created_at\", \"organization_id\"",
            None,
            None,
        )
        .await?;
    let mut result = Vec::with_capacity(rows.len());
    for row in rows {
        let id = text(&row, "organization_id").unwrap_or_default();
        result.push(Value::Object(organization_object(&state, &id).await?));
    }
    Ok(json_response(Value::Array(result)))
}

const ORGANIZATION_ROLES: &[&str] = &["org_admin", "internal_user", "internal_user_viewer"];

pub(super) async fn organization_member_add(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(
        &body,
        &["organization_id", "member", "max_budget_in_organization"],
    )?;
    let organization_id = required_text(&body, "organization_id")?;
    check_org_access(&caller, &organization_id)?;
    if !caller.is_admin() && caller.auth.org_role.as_deref() != Some("org_admin") {
        return Err(GovernanceError::Forbidden(
            "Only proxy admins and organization admins can add members".into(),
        ));
    }
    organization_object(&state, &organization_id).await?;
    let members = match body.get("member") {
        Some(Value::Array(items)) => items.clone(),
        Some(member @ Value::Object(_)) => vec![member.clone()],
        _ => return Err(GovernanceError::bad_param("member is required", "member")),
    };
    let now = Value::String(format_time(state.clock.now()));
    let mut updated = Vec::new();
    for member in members {
        let role = member
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("internal_user");
        if !ORGANIZATION_ROLES.contains(&role) {
            return Err(GovernanceError::bad_param(
                format!("Invalid organization role: {role}"),
                "role",
            ));
        }
        let user_id = match (
            member.get("user_id").and_then(Value::as_str),
            member.get("user_email").and_then(Value::as_str),
        ) {
            (Some(id), _) => id.to_owned(),
            (None, Some(email)) => {
                let mut conditions = Conditions::new();
                conditions.equals("user_email", Param::text(email));
                state
                    .store
                    .select(&tables::USER_TABLE, &conditions, "", Some(1), None)
                    .await?
                    .first()
                    .and_then(|u| text(u, "user_id"))
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
            }
            _ => {
                return Err(GovernanceError::bad_param(
                    "member needs user_id or user_email",
                    "member",
                ));
            }
        };
        if state
            .store
            .get(&tables::USER_TABLE, &[("user_id", Param::text(&user_id))])
            .await?
            .is_none()
        {
            let mut user = Record::new();
            user.insert("user_id".into(), Value::String(user_id.clone()));
            user.insert(
                "user_email".into(),
                member.get("user_email").cloned().unwrap_or(Value::Null),
            );
            user.insert("user_role".into(), Value::String("internal_user".into()));
            user.insert(
                "organization_id".into(),
                Value::String(organization_id.clone()),
            );
            state.store.insert(&tables::USER_TABLE, &user).await?;
        }
        let mut membership = Record::new();
        membership.insert("user_id".into(), Value::String(user_id.clone()));
        membership.insert(
            "organization_id".into(),
            Value::String(organization_id.clone()),
        );
        membership.insert("user_role".into(), Value::String(role.to_owned()));
        membership.insert("created_at".into(), now.clone());
        membership.insert("updated_at".into(), now.clone());
        if let Some(budget) = body
            .get("max_budget_in_organization")
            .filter(|v| !v.is_null())
        {
            let id = create_budget(&state, &json!({"max_budget": budget}), &caller).await?;
            membership.insert("budget_id".into(), Value::String(id));
        }
        let key = [
            ("user_id", Param::text(&user_id)),
            ("organization_id", Param::text(&organization_id)),
        ];
        if state
            .store
            .get(&tables::ORGANIZATION_MEMBERSHIP, &key)
            .await?
            .is_some()
        {
            state
                .store
                .update(&tables::ORGANIZATION_MEMBERSHIP, &key, &membership)
                .await?;
        } else {
            state
                .store
                .insert(&tables::ORGANIZATION_MEMBERSHIP, &membership)
                .await?;
        }
        state.changed("user", &user_id).await?;
        updated.push(Value::Object(
            state
                .store
                .get(&tables::ORGANIZATION_MEMBERSHIP, &key)
                .await?
                .unwrap_or_default(),
        ));
    }
    Ok(json_response(
        json!({"organization_id": organization_id, "updated_organization_memberships": updated}),
    ))
}

pub(super) async fn organization_member_delete(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, &["organization_id", "user_id", "user_email"])?;
    let organization_id = required_text(&body, "organization_id")?;
    check_org_access(&caller, &organization_id)?;
    if !caller.is_admin() && caller.auth.org_role.as_deref() != Some("org_admin") {
        return Err(GovernanceError::Forbidden(
            "Only proxy admins and organization admins can remove members".into(),
        ));
    }
    let user_id = required_text(&body, "user_id")?;
    state
        .store
        .delete(
            &tables::ORGANIZATION_MEMBERSHIP,
            &[
                ("user_id", Param::text(&user_id)),
                ("organization_id", Param::text(&organization_id)),
            ],
        )
        .await?;
    state.changed("user", &user_id).await?;
    Ok(json_response(
        json!({"organization_id": organization_id, "user_id": user_id}),
    ))
}

// ---------------------------------------------------------------- customers (end users)

const CUSTOMER_FIELDS: &[&str] = &[
    "user_id",
    "alias",
    "blocked",
    "max_budget",
    "budget_id",
    "allowed_model_region",
    "default_model",
    "budget_duration",
    "tpm_limit",
    "rpm_limit",
    "model_max_budget",
    "soft_budget",
    "max_parallel_requests",
    "object_permission",
    "spend",
    "models",
];

/// `/customer/*` routes (also mounted under `/end_user`).
pub(super) fn customer_routes() -> Router<Shared> {
    Router::new()
        .route("/new", post(customer_new))
        .route("/info", get(customer_info))
        .route("/update", post(customer_update))
        .route("/delete", post(customer_delete))
        .route("/list", get(customer_list))
        .route("/block", post(customer_block))
        .route("/unblock", post(customer_unblock))
}

async fn customer_object(state: &Shared, user_id: &str) -> Result<Record, GovernanceError> {
    crate::entities::load_end_user(&state.store, user_id)
        .await?
        .ok_or_else(|| {
            GovernanceError::NotFound(format!("End User Id={user_id} does not exist in db"))
        })
}

fn require_admin(caller: &Caller) -> Result<(), GovernanceError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(GovernanceError::Authentication(format!(
            "Authentication Error, Only proxy admin can manage customers. Your role={}",
            caller.role_name()
        )))
    }
}

async fn customer_new(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, CUSTOMER_FIELDS)?;
    let user_id = required_text(&body, "user_id")?;
    if state
        .store
        .get(
            &tables::END_USER_TABLE,
            &[("user_id", Param::text(&user_id))],
        )
        .await?
        .is_some()
    {
        return Err(GovernanceError::bad_param(
            format!("Customer already exists, passed user_id={user_id}"),
            "user_id",
        ));
    }
    let mut record = Record::new();
    for field in [
        "user_id",
        "alias",
        "blocked",
        "allowed_model_region",
        "default_model",
        "spend",
        "models",
    ] {
        if let Some(value) = body.get(field) {
            record.insert(field.into(), value.clone());
        }
    }
    let budget = budget_values(&body)?;
    let budget_id = match body.get("budget_id").and_then(Value::as_str) {
        Some(id) => Some(id.to_owned()),
        None if !budget.is_empty() => {
            Some(create_budget(&state, &Value::Object(budget), &caller).await?)
        }
        None => None,
    };
    record.insert(
        "budget_id".into(),
        budget_id.map_or(Value::Null, Value::String),
    );
    if let Some(permission) = body.get("object_permission")
        && let Some(id) = super::keys::store_object_permission(&state, permission, None).await?
    {
        record.insert("object_permission_id".into(), Value::String(id));
    }
    state.store.insert(&tables::END_USER_TABLE, &record).await?;
    Ok(json_response(Value::Object(
        customer_object(&state, &user_id).await?,
    )))
}

async fn customer_info(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    query: Query,
) -> ApiResult {
    require_admin(&caller)?;
    let user_id = query
        .get("end_user_id")
        .cloned()
        .ok_or_else(|| GovernanceError::bad_param("end_user_id is required", "end_user_id"))?;
    Ok(json_response(Value::Object(
        customer_object(&state, &user_id).await?,
    )))
}

async fn customer_update(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    require_admin(&caller)?;
    let body = parse_body(&body, CUSTOMER_FIELDS)?;
    let user_id = required_text(&body, "user_id")?;
    let existing = customer_object(&state, &user_id).await?;
    let mut changes = Record::new();
    for field in [
        "alias",
        "blocked",
        "allowed_model_region",
        "default_model",
        "models",
    ] {
        if let Some(value) = body.get(field) {
            changes.insert(field.into(), value.clone());
        }
    }
    let budget = budget_values(&body)?;
    if !budget.is_empty() {
        match text(&existing, "budget_id") {
            Some(id) => update_budget(&state, &id, &budget).await?,
            None => {
                let id = create_budget(&state, &Value::Object(budget), &caller).await?;
                changes.insert("budget_id".into(), Value::String(id));
            }
        }
    }
    state
        .store
        .update(
            &tables::END_USER_TABLE,
            &[("user_id", Param::text(&user_id))],
            &changes,
        )
        .await?;
    state.changed("end_user", &user_id).await?;
    Ok(json_response(Value::Object(
        customer_object(&state, &user_id).await?,
    )))
}

async fn customer_delete(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    require_admin(&caller)?;
    let body = parse_body(&body, &["user_ids"])?;
    let user_ids = string_list(&body, "user_ids")?;
    for user_id in &user_ids {
        customer_object(&state, user_id).await?;
    }
    for user_id in &user_ids {
        state
            .store
            .delete(
                &tables::END_USER_TABLE,
                &[("user_id", Param::text(user_id))],
            )
            .await?;
        state.changed("end_user", user_id).await?;
    }
    Ok(json_response(json!({"deleted_customers": user_ids})))
}

async fn customer_list(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> ApiResult {
    require_admin(&caller)?;
    let rows = state
        .store
        .select(
            &tables::END_USER_TABLE,
            &Conditions::new(),
            "\"user_id\"",
            None,
            None,
        )
        .await?;
    let mut result = Vec::with_capacity(rows.len());
    for row in rows {
        let id = text(&row, "user_id").unwrap_or_default();
        result.push(Value::Object(customer_object(&state, &id).await?));
    }
    Ok(json_response(Value::Array(result)))
}

async fn set_customers_blocked(
    state: &Shared,
    caller: &Caller,
    body: Bytes,
    blocked: bool,
) -> ApiResult {
    require_admin(caller)?;
    let body = parse_body(&body, &["user_ids"])?;
    let user_ids = string_list(&body, "user_ids")?;
    let mut changes = Record::new();
    changes.insert("blocked".into(), Value::Bool(blocked));
    for user_id in &user_ids {
        customer_object(state, user_id).await?;
        state
            .store
            .update(
                &tables::END_USER_TABLE,
                &[("user_id", Param::text(user_id))],
                &changes,
            )
            .await?;
        state.changed("end_user", user_id).await?;
    }
    Ok(json_response(
        json!({"blocked_users": if blocked { user_ids.clone() } else { Vec::new() }, "user_ids": user_ids}),
    ))
}

async fn customer_block(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    set_customers_blocked(&state, &caller, body, true).await
}

async fn customer_unblock(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    set_customers_blocked(&state, &caller, body, false).await
}

// ---------------------------------------------------------------- budgets

pub(super) async fn budget_new(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let mut allowed = BUDGET_FIELDS.to_vec();
    allowed.push("budget_id");
    let body = parse_body(&body, &allowed)?;
    let mut values = budget_values(&body)?;
    if let Some(id) = body.get("budget_id") {
        if state
            .store
            .get(
                &tables::BUDGET_TABLE,
                &[("budget_id", Param::text(id.as_str().unwrap_or_default()))],
            )
            .await?
            .is_some()
        {
            return Err(GovernanceError::bad_param(
                "Budget with this budget_id already exists",
                "budget_id",
            ));
        }
        values.insert("budget_id".into(), id.clone());
    }
    let id = create_budget(&state, &Value::Object(values), &caller).await?;
    Ok(json_response(budget_record(&state, Some(id)).await?))
}

pub(super) async fn budget_info(State(state): State<Shared>, body: Bytes) -> ApiResult {
    let body = parse_body(&body, &["budgets"])?;
    let mut result = Vec::new();
    for id in string_list(&body, "budgets")? {
        let record = budget_record(&state, Some(id.clone())).await?;
        if record.is_null() {
            return Err(GovernanceError::NotFound(format!(
                "Budget id={id} not found"
            )));
        }
        result.push(record);
    }
    Ok(json_response(Value::Array(result)))
}

pub(super) async fn budget_update(State(state): State<Shared>, body: Bytes) -> ApiResult {
    let mut allowed = BUDGET_FIELDS.to_vec();
    allowed.push("budget_id");
    let body = parse_body(&body, &allowed)?;
    let budget_id = required_text(&body, "budget_id")?;
    if budget_record(&state, Some(budget_id.clone()))
        .await?
        .is_null()
    {
        return Err(GovernanceError::NotFound(format!(
            "Budget id={budget_id} not found"
        )));
    }
    update_budget(&state, &budget_id, &budget_values(&body)?).await?;
    Ok(json_response(budget_record(&state, Some(budget_id)).await?))
}

pub(super) async fn budget_delete(State(state): State<Shared>, body: Bytes) -> ApiResult {
    let body = parse_body(&body, &["id"])?;
    let budget_id = required_text(&body, "id")?;
    let record = budget_record(&state, Some(budget_id.clone())).await?;
    if record.is_null() {
        return Err(GovernanceError::NotFound(format!(
            "Budget id={budget_id} not found"
        )));
    }
    state
        .store
        .delete(
            &tables::BUDGET_TABLE,
            &[("budget_id", Param::text(&budget_id))],
        )
        .await?;
    state.changed("budget", &budget_id).await?;
    Ok(json_response(record))
}

pub(super) async fn budget_list(State(state): State<Shared>) -> ApiResult {
    let rows = state
        .store
        .select(
            &tables::BUDGET_TABLE,
            &Conditions::new(),
            "\"created_at\", \"budget_id\"",
            None,
            None,
        )
        .await?;
    Ok(json_response(json!(rows)))
}
