//! `/model/new`, `/model/update`, `PATCH /model/{model_id}/update`, `/model/delete`: DB
//! deployments (`store_model_in_db`), with LiteLLM's permission rules (proxy admins manage
//! every model; team admins manage models whose `model_info.team_id` is their team).

use axum::Extension;
use axum::extract::{Path, State};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::entities::{is_team_admin, team_record};
use super::{ApiResult, Caller, Shared, json_response, parse_body, required_text};
use crate::db::{Param, Record};
use crate::error::GovernanceError;
use crate::identity::{UserRole, list, text};
use crate::redact::public_params;
use crate::tables;
use crate::time::format_time;

/// `Deployment` / `updateDeployment`.
const DEPLOYMENT_FIELDS: &[&str] = &["model_name", "litellm_params", "model_info", "blocked"];

fn object_field(
    body: &Record,
    field: &str,
    required: bool,
) -> Result<Option<Map<String, Value>>, GovernanceError> {
    match body.get(field) {
        None | Some(Value::Null) if !required => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        None | Some(Value::Null) => Err(GovernanceError::bad_param(
            format!("{field} is required"),
            field,
        )),
        Some(_) => Err(GovernanceError::bad_param(
            format!("{field} must be an object"),
            field,
        )),
    }
}

fn blocked_field(body: &Record, caller: &Caller) -> Result<Option<bool>, GovernanceError> {
    match body.get("blocked") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(blocked)) => {
            if !caller.is_admin() {
                return Err(GovernanceError::Forbidden(
                    "Only proxy admins can change a model's blocked flag.".to_owned(),
                ));
            }
            Ok(Some(*blocked))
        }
        Some(_) => Err(GovernanceError::bad_param(
            "blocked must be a boolean",
            "blocked",
        )),
    }
}

/// LiteLLM's `can_user_make_model_call`.
async fn authorize(
    state: &Shared,
    caller: &Caller,
    model_info: &Map<String, Value>,
    allow_missing_team: bool,
) -> Result<(), GovernanceError> {
    if matches!(
        caller.auth.user_role,
        Some(UserRole::ProxyAdminViewer | UserRole::InternalUserViewer)
    ) && !caller.auth.is_master_key
    {
        return Err(GovernanceError::Forbidden(
            "View-only users cannot manage models.".to_owned(),
        ));
    }
    if let Some(team_id) = model_info.get("team_id").and_then(Value::as_str) {
        let team = match team_record(state, team_id).await {
            Ok(team) => team,
            Err(GovernanceError::NotFound(_)) if allow_missing_team => {
                if caller.is_admin() {
                    return Ok(());
                }
                return Err(GovernanceError::Forbidden(
                    "Only a proxy admin can delete a model whose team has been deleted.".to_owned(),
                ));
            }
            Err(GovernanceError::NotFound(_)) => {
                return Err(GovernanceError::bad_param(
                    format!("Team id={team_id} does not exist in db"),
                    "model_info.team_id",
                ));
            }
            Err(error) => return Err(error),
        };
        if caller.is_admin() || is_team_admin(caller, &team) {
            return Ok(());
        }
        return Err(GovernanceError::Forbidden(format!(
            "Team ID={team_id} does not match the API key's team ID={}, OR you are not the admin for this team. Check `/user/info` to verify your team admin status.",
            caller.auth.team_id.as_deref().unwrap_or("None")
        )));
    }
    if caller.is_admin() {
        return Ok(());
    }
    Err(GovernanceError::Forbidden(format!(
        "User does not have permission to make this model call. Your role={}. You can only make model calls if you are a PROXY_ADMIN or if you are a team admin, by specifying a team_id in the model_info.",
        caller.role_name()
    )))
}

fn require_store_model_in_db(state: &Shared) -> Result<(), GovernanceError> {
    if state.config.store_model_in_db {
        Ok(())
    } else {
        Err(GovernanceError::Internal(
            "Set `'STORE_MODEL_IN_DB='True'` in your env to enable this feature.".to_owned(),
        ))
    }
}

/// `litellm_credential_name` must name a stored credential (LiteLLM's
/// `_raise_on_invalid_credential_name`); `null` detaches it.
async fn check_credential_name(
    state: &Shared,
    params: &Map<String, Value>,
    existing: Option<&Map<String, Value>>,
) -> Result<(), GovernanceError> {
    const FIELD: &str = "litellm_credential_name";
    match params.get(FIELD) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(name)) if name.is_empty() => Err(GovernanceError::bad_param(
            "litellm_credential_name cannot be an empty string. Send null to detach the stored credential or omit the field to leave it unchanged.",
            FIELD,
        )),
        Some(Value::String(name)) => {
            if existing.and_then(|e| e.get(FIELD)).and_then(Value::as_str) == Some(name.as_str())
                || state.credential_row(name).await?.is_some()
            {
                return Ok(());
            }
            Err(GovernanceError::bad_param(
                format!(
                    "Credential '{name}' not found. Create it via /credentials before attaching it to a model."
                ),
                FIELD,
            ))
        }
        Some(_) => Err(GovernanceError::bad_param(
            "litellm_credential_name must be a string",
            FIELD,
        )),
    }
}

fn check_model_param(params: &Map<String, Value>) -> Result<(), GovernanceError> {
    match params.get("model") {
        Some(Value::String(model)) if !model.is_empty() => Ok(()),
        _ => Err(GovernanceError::bad_param(
            "litellm_params.model is required",
            "litellm_params.model",
        )),
    }
}

fn changed_by(caller: &Caller) -> Value {
    Value::String(
        caller
            .auth
            .user_id
            .clone()
            .unwrap_or_else(|| "default_user_id".to_owned()),
    )
}

/// A stored row as the API returns it: `litellm_params` decrypted, then without secrets.
fn public_row(mut row: Record) -> Value {
    if let Some(Value::Object(params)) = row.get("litellm_params") {
        let public = public_params(params);
        row.insert("litellm_params".into(), Value::Object(public));
    }
    Value::Object(row)
}

/// Adds or removes a public model name in a team's `models`.
async fn change_team_model(
    state: &Shared,
    team_id: &str,
    model_name: &str,
    add: bool,
) -> Result<(), GovernanceError> {
    let team = team_record(state, team_id).await?;
    let mut models = list(&team, "models");
    let present = models.iter().any(|m| m == model_name);
    if add == present {
        return Ok(());
    }
    if add {
        models.push(model_name.to_owned());
    } else {
        models.retain(|m| m != model_name);
    }
    let mut changes = Record::new();
    changes.insert("models".into(), json!(models));
    state
        .store
        .update(
            &tables::TEAM_TABLE,
            &[("team_id", Param::text(team_id))],
            &changes,
        )
        .await?;
    state.changed("team", team_id).await
}

/// The stored, decrypted row of a DB deployment being edited (LiteLLM's errors otherwise).
async fn editable_model(
    state: &Shared,
    model_id: &str,
    config_message: &str,
) -> Result<Record, GovernanceError> {
    if let Some(row) = state.db_model(model_id).await? {
        return Ok(row);
    }
    if state.is_config_model(model_id) {
        return Err(GovernanceError::bad_request(config_message));
    }
    Err(GovernanceError::NotFound(format!(
        "Model {model_id} not found on proxy."
    )))
}

pub(super) async fn model_new(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, DEPLOYMENT_FIELDS)?;
    let public_name = required_text(&body, "model_name")?;
    let params = object_field(&body, "litellm_params", true)?.unwrap_or_default();
    check_model_param(&params)?;
    let mut model_info = object_field(&body, "model_info", false)?.unwrap_or_default();
    authorize(&state, &caller, &model_info, false).await?;
    let blocked = blocked_field(&body, &caller)?.unwrap_or(false);
    require_store_model_in_db(&state)?;
    check_credential_name(&state, &params, None).await?;
    let cipher = state.cipher()?;
    let model_id = match model_info.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(_) => {
            return Err(GovernanceError::bad_param(
                "model_info.id must be a non-empty string",
                "model_info.id",
            ));
        }
    };
    if state.db_model(&model_id).await?.is_some() {
        return Err(GovernanceError::Conflict(format!(
            "Model with id={model_id} already exists in db. Update it with /model/{model_id}/update."
        )));
    }
    model_info.insert("id".into(), Value::String(model_id.clone()));
    model_info.remove("db_model");
    let team_id = text(&model_info, "team_id");
    // A team model gets a unique internal name; the team calls it by its public name.
    let stored_name = match &team_id {
        Some(team_id) => {
            model_info.insert(
                "team_public_model_name".into(),
                Value::String(public_name.clone()),
            );
            format!("model_name_{team_id}_{}", uuid::Uuid::new_v4())
        }
        None => public_name.clone(),
    };
    let now = Value::String(format_time(state.clock.now()));
    let mut row = Record::new();
    row.insert("model_id".into(), Value::String(model_id.clone()));
    row.insert("model_name".into(), Value::String(stored_name));
    row.insert(
        "litellm_params".into(),
        Value::Object(cipher.encrypt_params(&params)?),
    );
    row.insert("model_info".into(), Value::Object(model_info));
    row.insert("blocked".into(), Value::Bool(blocked));
    row.insert("created_at".into(), now.clone());
    row.insert("updated_at".into(), now);
    row.insert("created_by".into(), changed_by(&caller));
    row.insert("updated_by".into(), changed_by(&caller));
    state.store.insert(&tables::PROXY_MODEL_TABLE, &row).await?;
    if let Some(team_id) = &team_id {
        change_team_model(&state, team_id, &public_name, true).await?;
    }
    state.changed("model", &model_id).await?;
    let stored = state
        .db_model(&model_id)
        .await?
        .ok_or_else(|| GovernanceError::Internal("Failed to add model to db.".to_owned()))?;
    Ok(json_response(public_row(stored)))
}

/// Writes the merged row of an edited deployment and publishes the change.
async fn write_model(
    state: &Shared,
    caller: &Caller,
    model_id: &str,
    changes: Record,
) -> ApiResult {
    let mut changes = changes;
    changes.insert(
        "updated_at".into(),
        Value::String(format_time(state.clock.now())),
    );
    changes.insert("updated_by".into(), changed_by(caller));
    state
        .store
        .update(
            &tables::PROXY_MODEL_TABLE,
            &[("model_id", Param::text(model_id))],
            &changes,
        )
        .await?;
    state.changed("model", model_id).await?;
    let stored = state.db_model(model_id).await?.ok_or_else(|| {
        GovernanceError::NotFound(format!("Model {model_id} not found on proxy."))
    })?;
    Ok(json_response(public_row(stored)))
}

fn stored_object(row: &Record, field: &str) -> Map<String, Value> {
    row.get(field)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// `POST /model/update`: `litellm_params` values replace the stored ones (`null` keeps
/// them), `model_name` renames a non-team model; `model_info.id` names the model.
pub(super) async fn model_update(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, DEPLOYMENT_FIELDS)?;
    let incoming_info = object_field(&body, "model_info", false)?
        .ok_or_else(|| GovernanceError::bad_param("model_info not provided", "model_info"))?;
    let model_id = text(&incoming_info, "id")
        .ok_or_else(|| GovernanceError::bad_param("model_info.id not provided", "model_info.id"))?;
    let existing = editable_model(
        &state,
        &model_id,
        "Can't edit model. Model in config. Store model in db via `/model/new`. to edit.",
    )
    .await?;
    let existing_info = stored_object(&existing, "model_info");
    authorize(&state, &caller, &existing_info, false).await?;
    let blocked = blocked_field(&body, &caller)?;
    require_store_model_in_db(&state)?;
    let incoming = object_field(&body, "litellm_params", true)?.unwrap_or_default();
    let mut params = stored_object(&existing, "litellm_params");
    check_credential_name(&state, &incoming, Some(&params)).await?;
    for (key, value) in incoming {
        if !value.is_null() {
            params.insert(key, value);
        }
    }
    check_model_param(&params)?;
    let mut changes = Record::new();
    changes.insert(
        "litellm_params".into(),
        Value::Object(state.cipher()?.encrypt_params(&params)?),
    );
    if let Some(name) = body.get("model_name").and_then(Value::as_str)
        && !name.is_empty()
        && existing_info.get("team_id").is_none_or(Value::is_null)
    {
        changes.insert("model_name".into(), Value::String(name.to_owned()));
    }
    if let Some(blocked) = blocked {
        changes.insert("blocked".into(), Value::Bool(blocked));
    }
    write_model(&state, &caller, &model_id, changes).await
}

/// `PATCH /model/{model_id}/update`: only the given fields change; a `null` in
/// `litellm_params` removes that parameter (`litellm_credential_name: null` detaches the
/// credential).
pub(super) async fn model_patch(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(model_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, DEPLOYMENT_FIELDS)?;
    if !state.config.store_model_in_db {
        return Err(GovernanceError::bad_request(
            "Model updates only supported for DB-stored models",
        ));
    }
    let existing = editable_model(
        &state,
        &model_id,
        "Cannot edit config-based model. Store model in DB via /model/new first.",
    )
    .await?;
    let mut model_info = stored_object(&existing, "model_info");
    authorize(&state, &caller, &model_info, false).await?;
    let blocked = blocked_field(&body, &caller)?;
    let incoming_params = object_field(&body, "litellm_params", false)?.unwrap_or_default();
    let incoming_info = object_field(&body, "model_info", false)?.unwrap_or_default();
    let mut params = stored_object(&existing, "litellm_params");
    check_credential_name(&state, &incoming_params, Some(&params)).await?;
    for (key, value) in incoming_params {
        if value.is_null() {
            params.remove(&key);
        } else {
            params.insert(key, value);
        }
    }
    check_model_param(&params)?;
    let old_team = text(&model_info, "team_id");
    for (key, value) in incoming_info {
        if key == "id" || key == "db_model" || value.is_null() {
            continue;
        }
        model_info.insert(key, value);
    }
    let new_team = text(&model_info, "team_id");
    if new_team != old_team {
        // Moving a model into a team needs the rights on that team too.
        authorize(&state, &caller, &model_info, false).await?;
    }
    let mut changes = Record::new();
    changes.insert(
        "litellm_params".into(),
        Value::Object(state.cipher()?.encrypt_params(&params)?),
    );
    if let Some(name) = body.get("model_name").and_then(Value::as_str)
        && !name.is_empty()
    {
        if new_team.is_some() {
            model_info.insert(
                "team_public_model_name".into(),
                Value::String(name.to_owned()),
            );
        } else {
            changes.insert("model_name".into(), Value::String(name.to_owned()));
        }
    }
    changes.insert("model_info".into(), Value::Object(model_info));
    if let Some(blocked) = blocked {
        changes.insert("blocked".into(), Value::Bool(blocked));
    }
    write_model(&state, &caller, &model_id, changes).await
}

pub(super) async fn model_delete(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, &["id"])?;
    let model_id = required_text(&body, "id")?;
    let existing = state.db_model(&model_id).await?.ok_or_else(|| {
        GovernanceError::bad_param(format!("Model with id={model_id} not found in db"), "id")
    })?;
    let model_info = stored_object(&existing, "model_info");
    authorize(&state, &caller, &model_info, true).await?;
    require_store_model_in_db(&state)?;
    state
        .store
        .delete(
            &tables::PROXY_MODEL_TABLE,
            &[("model_id", Param::text(&model_id))],
        )
        .await?;
    // A team's public name stays in its models while another of its deployments backs it.
    if let (Some(team_id), Some(public_name)) = (
        text(&model_info, "team_id"),
        text(&model_info, "team_public_model_name"),
    ) {
        let still_backed = state.db_deployments().iter().any(|d| {
            d.id() != Some(model_id.as_str())
                && d.model_info.get("team_id").and_then(Value::as_str) == Some(team_id.as_str())
                && d.model_info
                    .get("team_public_model_name")
                    .and_then(Value::as_str)
                    == Some(public_name.as_str())
        });
        if !still_backed {
            match change_team_model(&state, &team_id, &public_name, false).await {
                Ok(()) | Err(GovernanceError::NotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
    }
    state.changed("model", &model_id).await?;
    Ok(json_response(json!({
        "message": format!("Model: {model_id} deleted successfully")
    })))
}
