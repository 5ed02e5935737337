//! `/credentials`: create, list, read (`by_name`, `by_model`), update and delete stored
//! provider credentials, with LiteLLM's paths, bodies and messages. Values are encrypted before
//! they reach the database and are only ever returned masked.

use axum::Extension;
use axum::extract::{Path, State};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::{ApiResult, Caller, Shared, json_response, parse_body, required_text};
use crate::db::{Param, Record};
use crate::error::GovernanceError;
use crate::identity::text;
use crate::models::ModelDeployment;
use crate::redact::masked_credential_values;
use crate::tables;
use crate::time::format_time;

/// `CreateCredentialItem` / `UpdateCredentialItem`.
const CREDENTIAL_FIELDS: &[&str] = &[
    "credential_name",
    "credential_info",
    "credential_values",
    "model_id",
];

/// The `litellm_params` a deployment's credential is made of (`CredentialLiteLLMParams`).
const CREDENTIAL_PARAMS: &[&str] = &[
    "api_key",
    "api_base",
    "api_version",
    "azure_ad_token",
    "tenant_id",
    "client_id",
    "client_secret",
    "azure_scope",
    "azure_username",
    "azure_password",
    "vertex_project",
    "vertex_location",
    "vertex_credentials",
    "region_name",
    "gcs_bucket_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_region_name",
    "aws_session_name",
    "aws_profile_name",
    "aws_role_name",
    "aws_web_identity_token",
    "aws_sts_endpoint",
    "aws_external_id",
    "aws_session_tags",
    "aws_bedrock_runtime_endpoint",
    "aws_bedrock_project_id",
    "s3_bucket_name",
    "s3_endpoint_url",
    "s3_region_name",
    "s3_access_key_id",
    "s3_secret_access_key",
    "s3_encryption_key_id",
    "s3_bucket_owner",
    "aws_batch_role_arn",
    "s3_output_bucket_name",
    "bedrock_tags",
    "watsonx_region_name",
];

fn object_field(
    body: &Record,
    field: &str,
    required: bool,
) -> Result<Option<Map<String, Value>>, GovernanceError> {
    match body.get(field) {
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        None | Some(Value::Null) if !required => Ok(None),
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

/// The deployment with this id: DB deployments, then the config deployments the proxy set.
fn deployment(state: &Shared, model_id: &str) -> Option<ModelDeployment> {
    state
        .db_deployments()
        .into_iter()
        .chain(
            state
                .config_deployments
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .cloned(),
        )
        .find(|d| d.id() == Some(model_id))
}

/// A deployment's credential parameters (LiteLLM's `get_deployment_credentials`; a blocked
/// deployment has none).
fn deployment_credentials(
    state: &Shared,
    model_id: &str,
) -> Result<(String, Map<String, Value>), GovernanceError> {
    let found = deployment(state, model_id)
        .filter(|d| d.model_info.get("blocked").and_then(Value::as_bool) != Some(true))
        .ok_or_else(|| GovernanceError::NotFound("Model not found".to_owned()))?;
    let values = found
        .litellm_params
        .iter()
        .filter(|(k, v)| CREDENTIAL_PARAMS.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok((found.model_name, values))
}

fn masked(name: &str, values: &Map<String, Value>, info: &Map<String, Value>) -> Value {
    json!({
        "credential_name": name,
        "credential_values": masked_credential_values(values),
        "credential_info": info,
    })
}

/// `POST /credentials`.
pub(super) async fn credential_new(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, CREDENTIAL_FIELDS)?;
    let name = required_text(&body, "credential_name")?;
    let info = object_field(&body, "credential_info", true)?.unwrap_or_default();
    let values = match (
        object_field(&body, "credential_values", false)?.filter(|v| !v.is_empty()),
        body.get("model_id").and_then(Value::as_str),
    ) {
        (_, Some(model_id)) => deployment_credentials(&state, model_id)?.1,
        (Some(values), None) => values,
        (None, None) => {
            return Err(GovernanceError::bad_param(
                "Either credential_values or model_id must be set",
                "credential_values",
            ));
        }
    };
    let cipher = state.cipher()?;
    if state.credential_row(&name).await?.is_some() {
        return Err(GovernanceError::Conflict(format!(
            "Credential '{name}' already exists. Update it with PATCH /credentials/{name}, or delete it first."
        )));
    }
    let now = Value::String(format_time(state.clock.now()));
    let by = Value::String(caller.auth.user_id.clone().unwrap_or_default());
    let mut row = Record::new();
    row.insert(
        "credential_id".into(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    row.insert("credential_name".into(), Value::String(name.clone()));
    row.insert(
        "credential_values".into(),
        Value::Object(cipher.encrypt_map(&values)?),
    );
    row.insert("credential_info".into(), Value::Object(info));
    row.insert("created_at".into(), now.clone());
    row.insert("updated_at".into(), now);
    row.insert("created_by".into(), by.clone());
    row.insert("updated_by".into(), by);
    match state.store.insert(&tables::CREDENTIALS_TABLE, &row).await {
        Ok(()) => {}
        // A create racing another with the same name.
        Err(GovernanceError::Database(reason))
            if reason.to_ascii_lowercase().contains("unique") =>
        {
            return Err(GovernanceError::Conflict(format!(
                "Credential '{name}' already exists. Update it with PATCH /credentials/{name}, or delete it first."
            )));
        }
        Err(error) => return Err(error),
    }
    state.changed("credential", &name).await?;
    Ok(json_response(
        json!({"success": true, "message": "Credential created successfully"}),
    ))
}

/// `GET /credentials`: every stored credential, values masked.
pub(super) async fn credential_list(State(state): State<Shared>) -> ApiResult {
    let rows = state
        .store
        .select(
            &tables::CREDENTIALS_TABLE,
            &crate::store::Conditions::new(),
            "\"credential_name\"",
            None,
            None,
        )
        .await?;
    let mut credentials = Vec::with_capacity(rows.len());
    for row in rows {
        let name = text(&row, "credential_name").unwrap_or_default();
        if let Some(credential) = state.credential(&name).await? {
            credentials.push(masked(
                &credential.credential_name,
                &credential.credential_values,
                &credential.credential_info,
            ));
        }
    }
    Ok(json_response(
        json!({"success": true, "credentials": credentials}),
    ))
}

fn credential_not_found(name: &str) -> GovernanceError {
    GovernanceError::NotFound(format!("Credential not found. Got credential name: {name}"))
}

/// `GET /credentials/by_name/{credential_name}`.
pub(super) async fn credential_by_name(
    State(state): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult {
    let credential = state
        .credential(&name)
        .await?
        .ok_or_else(|| credential_not_found(&name))?;
    Ok(json_response(masked(
        &credential.credential_name,
        &credential.credential_values,
        &credential.credential_info,
    )))
}

/// `GET /credentials/by_model/{model_id}`: the credential a deployment carries, masked.
pub(super) async fn credential_by_model(
    State(state): State<Shared>,
    Path(model_id): Path<String>,
) -> ApiResult {
    let (model_name, values) = deployment_credentials(&state, &model_id)?;
    Ok(json_response(masked(
        &format!("{model_name}-credential-{model_id}"),
        &values,
        &Map::new(),
    )))
}

/// `DELETE /credentials/{credential_name}`.
pub(super) async fn credential_delete(
    State(state): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult {
    let removed = state
        .store
        .execute(
            "DELETE FROM \"LiteLLM_CredentialsTable\" WHERE \"credential_name\" = $1",
            &[Param::text(&name)],
        )
        .await?;
    if removed == 0 {
        return Err(credential_not_found(&name));
    }
    state.changed("credential", &name).await?;
    Ok(json_response(
        json!({"success": true, "message": "Credential deleted successfully"}),
    ))
}

/// `PATCH /credentials/{credential_name}`: values and info are merged into the stored ones;
/// `credential_name` renames it.
pub(super) async fn credential_update(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body, CREDENTIAL_FIELDS)?;
    let new_name = required_text(&body, "credential_name")?;
    let info_patch = object_field(&body, "credential_info", true)?.unwrap_or_default();
    let values_patch = match body.get("model_id").and_then(Value::as_str) {
        Some(model_id) => deployment_credentials(&state, model_id)?.1,
        None => object_field(&body, "credential_values", false)?.unwrap_or_default(),
    };
    let row = state
        .credential_row(&name)
        .await?
        .ok_or_else(|| GovernanceError::NotFound("Credential not found in DB.".to_owned()))?;
    let cipher = state.cipher()?;
    if new_name != name && state.credential_row(&new_name).await?.is_some() {
        return Err(GovernanceError::Conflict(format!(
            "Credential '{new_name}' already exists. Update it with PATCH /credentials/{new_name}, or delete it first."
        )));
    }
    let mut values = row
        .get("credential_values")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    values.extend(cipher.encrypt_map(&values_patch)?);
    let mut info = row
        .get("credential_info")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    info.extend(info_patch);
    let mut changes = Record::new();
    changes.insert("credential_name".into(), Value::String(new_name.clone()));
    changes.insert("credential_values".into(), Value::Object(values));
    changes.insert("credential_info".into(), Value::Object(info));
    changes.insert(
        "updated_at".into(),
        Value::String(format_time(state.clock.now())),
    );
    changes.insert(
        "updated_by".into(),
        Value::String(caller.auth.user_id.clone().unwrap_or_default()),
    );
    let id = text(&row, "credential_id").unwrap_or_default();
    state
        .store
        .update(
            &tables::CREDENTIALS_TABLE,
            &[("credential_id", Param::text(&id))],
            &changes,
        )
        .await?;
    state.changed("credential", &name).await?;
    if new_name != name {
        state.changed("credential", &new_name).await?;
    }
    Ok(json_response(
        json!({"success": true, "message": "Credential updated successfully"}),
    ))
}
