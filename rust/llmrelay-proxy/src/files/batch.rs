//! `/v1/batches`: create (the input file's lines checked up front), retrieve, list, cancel;
//! OpenAI's Batch object (platform.openai.com/docs/api-reference/batch/object) kept in
//! `LiteLLM_ManagedObjectTable`. The local runner ([`super::runner`]) executes every batch.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use llmrelay_core::{Error, ErrorKind};
use llmrelay_governance::files::StoredBatch;

use super::{Files, db_error, files_of, invalid, new_id, owner_of, visible, visible_file};
use crate::auth::Principal;
use crate::edge::read_json;
use crate::errors::ApiError;
use crate::state::{AppState, principal_of};

/// The endpoints a batch may target (OpenAI's batch endpoints the proxy serves).
pub const ENDPOINTS: &[&str] = &[
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/responses",
];

/// One request of a batch input file.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchLine {
    /// 0-based position among the file's non-empty lines.
    pub index: i64,
    /// 1-based line number in the file (for messages).
    pub line_number: usize,
    pub custom_id: String,
    pub url: String,
    pub body: Map<String, Value>,
}

/// Why an input file is not a valid batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub message: String,
    pub line: Option<usize>,
}

impl LineError {
    fn at(line: usize, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            line: Some(line),
        }
    }

    /// The 400 for it, naming `param`.
    #[must_use]
    pub fn into_api_error(self, param: &str) -> ApiError {
        let message = match self.line {
            Some(line) => format!("Invalid batch input file, line {line}: {}", self.message),
            None => format!("Invalid batch input file: {}", self.message),
        };
        invalid(message, param)
    }
}

/// The lines of a batch input file (JSONL: `custom_id`, `method`, `url`, `body`), each
/// checked; with `endpoint`, every `url` must be it.
///
/// # Errors
/// The first bad line: not UTF-8, not a JSON object, a missing or duplicate `custom_id`, a
/// method other than POST, a URL that is not a batch endpoint (or not `endpoint`), a body
/// without a model, a streamed request, or an empty file.
pub fn parse_lines(bytes: &[u8], endpoint: Option<&str>) -> Result<Vec<BatchLine>, LineError> {
    let text = std::str::from_utf8(bytes).map_err(|e| LineError {
        message: format!("the file is not UTF-8 text: {e}"),
        line: None,
    })?;
    let mut lines = Vec::new();
    let mut seen = HashSet::new();
    for (number, raw) in text.lines().enumerate() {
        let number = number + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(raw)
            .map_err(|e| LineError::at(number, format!("not valid JSON: {e}")))?;
        let Value::Object(mut object) = value else {
            return Err(LineError::at(number, "expected a JSON object"));
        };
        let custom_id = match object.remove("custom_id") {
            Some(Value::String(id)) if !id.is_empty() => id,
            _ => {
                return Err(LineError::at(
                    number,
                    "missing 'custom_id' (a non-empty string)",
                ));
            }
        };
        if !seen.insert(custom_id.clone()) {
            return Err(LineError::at(
                number,
                format!("duplicate custom_id '{custom_id}': each request needs its own"),
            ));
        }
        match object.get("method").and_then(Value::as_str) {
            Some(method) if method.eq_ignore_ascii_case("POST") => {}
            _ => return Err(LineError::at(number, "'method' must be \"POST\"")),
        }
        let url = object
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !ENDPOINTS.contains(&url.as_str()) {
            return Err(LineError::at(
                number,
                format!("'url' must be one of {ENDPOINTS:?}, got {url:?}"),
            ));
        }
        if let Some(endpoint) = endpoint
            && url != endpoint
        {
            return Err(LineError::at(
                number,
                format!("'url' is {url:?} but the batch's endpoint is {endpoint:?}"),
            ));
        }
        let Some(Value::Object(body)) = object.remove("body") else {
            return Err(LineError::at(number, "'body' must be a JSON object"));
        };
        match body.get("model") {
            Some(Value::String(model)) if !model.is_empty() => {}
            _ => return Err(LineError::at(number, "'body.model' is required")),
        }
        if body.get("stream").and_then(Value::as_bool) == Some(true) {
            return Err(LineError::at(
                number,
                "streaming is not available in a batch",
            ));
        }
        lines.push(BatchLine {
            index: i64::try_from(lines.len()).unwrap_or(i64::MAX),
            line_number: number,
            custom_id,
            url,
            body,
        });
    }
    if lines.is_empty() {
        return Err(LineError {
            message: "the file has no requests".to_owned(),
            line: None,
        });
    }
    Ok(lines)
}

/// Every model the lines name must be served and allowed for the caller's key.
fn check_models(
    state: &AppState,
    principal: &Principal,
    lines: &[BatchLine],
) -> Result<(), ApiError> {
    let models: BTreeSet<&str> = lines
        .iter()
        .filter_map(|line| line.body.get("model").and_then(Value::as_str))
        .collect();
    for model in models {
        let line = lines
            .iter()
            .find(|l| l.body.get("model").and_then(Value::as_str) == Some(model))
            .map_or(0, |l| l.line_number);
        let mut group = principal.alias_target(model).unwrap_or(model).to_owned();
        if let Some(team) = principal.team_id.as_deref()
            && let Some(team_group) = state.dispatch.team_model(team, &group)
        {
            group = team_group;
        }
        if !state.dispatch.has_model(&group) {
            return Err(invalid(
                format!(
                    "Invalid batch input file, line {line}: Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key."
                ),
                "input_file_id",
            ));
        }
        if let (Some(key), Some(governed)) = (
            principal.details::<llmrelay_governance::KeyAuth>(),
            state.governance.as_ref(),
        ) && let Err(error) = governed.engine.check_model_access(key, model)
        {
            let error = llmrelay_governance::layers::to_error(&error);
            return Err(ApiError::openai(
                Error::new(
                    error.kind(),
                    format!("Invalid batch input file, line {line}: {}", error.message()),
                )
                .with_status(error.status_code())
                .with_param("input_file_id"),
            ));
        }
    }
    Ok(())
}

/// OpenAI's Batch object for a new batch.
fn new_batch_object(
    id: &str,
    endpoint: &str,
    input_file_id: &str,
    completion_window: &str,
    total: usize,
    metadata: Option<Value>,
) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "id": id,
        "object": "batch",
        "endpoint": endpoint,
        "errors": null,
        "input_file_id": input_file_id,
        "completion_window": completion_window,
        "status": "validating",
        "output_file_id": null,
        "error_file_id": null,
        "created_at": now,
        "in_progress_at": null,
        "expires_at": now + 24 * 3600,
        "finalizing_at": null,
        "completed_at": null,
        "failed_at": null,
        "expired_at": null,
        "cancelling_at": null,
        "cancelled_at": null,
        "request_counts": {"total": total, "completed": 0, "failed": 0},
        "metadata": metadata,
    })
}

fn json_ok(value: &Value) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

/// `POST /v1/batches`.
pub async fn create_batch(State(state): State<Arc<AppState>>, request: Request) -> Response {
    match create_inner(&state, request).await {
        Ok(object) => json_ok(&object),
        Err(error) => error.into_response(),
    }
}

async fn create_inner(state: &Arc<AppState>, request: Request) -> Result<Value, ApiError> {
    let files = files_of(state)?;
    let principal = principal_of(request.extensions());
    let (parts, body) = request.into_parts();
    let body = read_json(body, &parts.headers, state.settings.max_request_bytes)
        .await
        .map_err(ApiError::openai)?;
    let text = |name: &str| -> Result<String, ApiError> {
        match body.get(name) {
            Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
            None | Some(Value::Null) => Err(invalid(
                format!("Missing required parameter: '{name}'."),
                name,
            )),
            Some(_) => Err(invalid(format!("'{name}' must be a string"), name)),
        }
    };
    let input_file_id = text("input_file_id")?;
    let endpoint = text("endpoint")?;
    let completion_window = text("completion_window")?;
    if !ENDPOINTS.contains(&endpoint.as_str()) {
        return Err(invalid(
            format!("'{endpoint}' is not one of {ENDPOINTS:?} - 'endpoint'"),
            "endpoint",
        ));
    }
    if completion_window != "24h" {
        return Err(invalid(
            format!("'{completion_window}' is not one of ['24h'] - 'completion_window'"),
            "completion_window",
        ));
    }
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) if map.len() <= 16 && map.values().all(Value::is_string) => {
            Some(Value::Object(map.clone()))
        }
        Some(_) => {
            return Err(invalid(
                "'metadata' must be an object of at most 16 string values",
                "metadata",
            ));
        }
    };
    let file = visible_file(&files, &principal, &input_file_id).await?;
    let purpose = file
        .object
        .get("purpose")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if purpose != "batch" {
        return Err(invalid(
            format!(
                "The input file {input_file_id} has purpose '{purpose}'; a batch needs a file uploaded with purpose 'batch'"
            ),
            "input_file_id",
        ));
    }
    let bytes = files
        .store
        .get(&file.storage_backend, &file.storage_url)
        .await
        .map_err(ApiError::openai)?;
    let lines =
        parse_lines(&bytes, Some(&endpoint)).map_err(|e| e.into_api_error("input_file_id"))?;
    check_models(state, &principal, &lines)?;
    let id = new_id("batch_");
    let object = new_batch_object(
        &id,
        &endpoint,
        &input_file_id,
        &completion_window,
        lines.len(),
        metadata,
    );
    let stored = StoredBatch {
        id: id.clone(),
        object: object.clone(),
        processed: false,
        user_id: principal.user_id.clone(),
        team_id: principal.team_id.clone(),
        org_id: principal.org_id.clone(),
        owner_key: principal.key_hash.clone(),
        end_user_id: None,
    };
    files
        .engine
        .store()
        .insert_batch(&stored)
        .await
        .map_err(|e| db_error(&e))?;
    super::runner::spawn(state, &files, &id);
    Ok(object)
}

fn batch_not_found(id: &str) -> ApiError {
    ApiError::openai(
        Error::new(
            ErrorKind::NotFound,
            format!("No batch found with id '{id}'"),
        )
        .with_param("batch_id"),
    )
}

async fn visible_batch(
    files: &Files,
    principal: &Principal,
    id: &str,
) -> Result<StoredBatch, ApiError> {
    let batch = files
        .engine
        .store()
        .batch(id)
        .await
        .map_err(|e| db_error(&e))?
        .ok_or_else(|| batch_not_found(id))?;
    if !visible(
        owner_of(principal).as_ref(),
        batch.owner_key.as_deref(),
        batch.team_id.as_deref(),
    ) {
        return Err(ApiError::openai(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "This API key does not have access to the batch {id}: it belongs to another key or team"
            ),
        )));
    }
    Ok(batch)
}

/// `GET /v1/batches/{batch_id}`.
pub async fn retrieve_batch(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let principal = principal_of(request.extensions());
    drop(request);
    let result = async {
        let files = files_of(&state)?;
        visible_batch(&files, &principal, &id).await
    }
    .await;
    match result {
        Ok(batch) => json_ok(&batch.object),
        Err(error) => error.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    limit: Option<i64>,
    after: Option<String>,
}

/// `GET /v1/batches`: newest first, `after` and `limit` (1–100, default 20).
pub async fn list_batches(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
    request: Request,
) -> Response {
    let principal = principal_of(request.extensions());
    drop(request);
    let result = async {
        let files = files_of(&state)?;
        let limit = query.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(invalid("limit must be between 1 and 100", "limit"));
        }
        let owner = owner_of(&principal);
        let rows = files
            .engine
            .store()
            .list_batches(owner.as_ref(), query.after.as_deref(), limit + 1)
            .await
            .map_err(|e| db_error(&e))?;
        Ok(super::list_object(
            rows.into_iter().map(|b| b.object).collect(),
            limit,
        ))
    }
    .await;
    match result {
        Ok(body) => json_ok(&body),
        Err(error) => error.into_response(),
    }
}

/// `POST /v1/batches/{batch_id}/cancel`: `cancelling` at once, `cancelled` when the lines in
/// flight are done (their results are kept in the output file).
pub async fn cancel_batch(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let principal = principal_of(request.extensions());
    drop(request);
    let result = async {
        let files = files_of(&state)?;
        let batch = visible_batch(&files, &principal, &id).await?;
        match batch.status() {
            "validating" | "in_progress" | "finalizing" => {}
            "cancelling" | "cancelled" => return Ok(batch.object),
            status => {
                return Err(ApiError::openai(
                    Error::bad_request(format!("Cannot cancel a batch with status '{status}'"))
                        .with_status(409),
                ));
            }
        }
        let mut object = batch.object.clone();
        object["status"] = json!("cancelling");
        object["cancelling_at"] = json!(chrono::Utc::now().timestamp());
        files
            .engine
            .store()
            .update_batch(&id, &object, false)
            .await
            .map_err(|e| db_error(&e))?;
        if !super::runner::cancel(&files, &id) {
            // No runner here (another instance, or it finished in between): start one to
            // settle it.
            super::runner::spawn(&state, &files, &id);
        }
        Ok(object)
    }
    .await;
    match result {
        Ok(object) => json_ok(&object),
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_checked_one_by_one() {
        let good = b"{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":[]}}\n\n{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\"}}\n";
        let lines = parse_lines(good, Some("/v1/chat/completions")).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[1].index, lines[1].line_number), (1, 3));
        let error = parse_lines(good, Some("/v1/embeddings")).unwrap_err();
        assert_eq!(error.line, Some(1));
        let error = parse_lines(b"{\"custom_id\":\"a\"\n", None).unwrap_err();
        assert!(error.message.starts_with("not valid JSON"), "{error:?}");
        let duplicate = b"{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"m\"}}\n{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"m\"}}";
        assert_eq!(parse_lines(duplicate, None).unwrap_err().line, Some(2));
        let streamed = b"{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"m\",\"stream\":true}}";
        assert!(
            parse_lines(streamed, None)
                .unwrap_err()
                .message
                .contains("stream")
        );
        assert!(parse_lines(b"\n\n", None).is_err());
        let get = b"{\"custom_id\":\"a\",\"method\":\"GET\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"m\"}}";
        assert!(parse_lines(get, None).unwrap_err().message.contains("POST"));
    }
}
