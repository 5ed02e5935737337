//! OpenAI's Files and Batches APIs (`/v1/files`, `/v1/batches` and the unversioned paths):
//! files stored on local disk or in S3 ([`storage`]) with their metadata in LiteLLM's
//! `LiteLLM_ManagedFileTable`, per-key ownership (a key sees its own and its team's files; the
//! master key and proxy admins see all), and batches run by the local batch runner
//! ([`runner`]) through the proxy's own pipeline. Shapes follow OpenAI's API reference
//! (platform.openai.com/docs/api-reference/files, …/batch).

pub mod batch;
pub mod runner;
pub mod storage;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use llmrelay_core::{Error, ErrorKind};
use llmrelay_governance::Governance;
use llmrelay_governance::files::{Owner, StoredFile};

use crate::auth::Principal;
use crate::config::ProxyConfig;
use crate::errors::ApiError;
use crate::state::{AppState, principal_of};

pub use storage::BlobStore;

/// `general_settings` keys read here (`max_batch_file_size_mb` is LiteLLM's; the others are
/// llmrelay's).
pub const SETTINGS: &[&str] = &[
    "files_storage",
    "max_file_size_mb",
    "max_batch_file_size_mb",
    "batch_concurrency",
];

/// OpenAI's upload limit per file (512 MB) and per batch input file (200 MB).
const DEFAULT_MAX_FILE_MB: f64 = 512.0;
const DEFAULT_MAX_BATCH_FILE_MB: f64 = 200.0;
const DEFAULT_BATCH_CONCURRENCY: usize = 16;

/// The purposes a file may be uploaded with (OpenAI's; `batch_output` and
/// `assistants_output` are written by the server only).
pub const UPLOAD_PURPOSES: &[&str] = &[
    "assistants",
    "batch",
    "fine-tune",
    "vision",
    "user_data",
    "evals",
];

/// The Files and Batches state: storage, limits, and the running batches.
pub struct Files {
    pub engine: Arc<Governance>,
    pub store: BlobStore,
    pub max_file_bytes: usize,
    pub max_batch_file_bytes: usize,
    /// Lines of one batch in flight at once.
    pub concurrency: usize,
    /// Running batches and the token that cancels each.
    running: Mutex<HashMap<String, CancellationToken>>,
    /// Stops every runner (shutdown): they finish the lines in flight and store them.
    stopping: CancellationToken,
    tasks: TaskTracker,
}

fn megabytes(config: &ProxyConfig, key: &str, default: f64) -> Result<usize, String> {
    match config.general_settings.other.get(key) {
        None | Some(Value::Null) => Ok((default * 1_048_576.0) as usize),
        Some(value) => value
            .as_f64()
            .filter(|mb| mb.is_finite() && *mb > 0.0)
            // Bounded above by the float → integer conversion saturating.
            .map(|mb| (mb * 1_048_576.0) as usize)
            .ok_or_else(|| format!("general_settings.{key}: expected a positive number of MB")),
    }
}

impl Files {
    /// The Files state for `config`, over the governance engine's database.
    ///
    /// # Errors
    /// Invalid `files_storage`, size limits or concurrency (with the field's path).
    pub fn from_config(config: &ProxyConfig, engine: Arc<Governance>) -> Result<Self, String> {
        let directory = config
            .path
            .parent()
            .filter(|_| config.path.is_file())
            .map_or_else(
                || std::path::PathBuf::from("."),
                std::path::Path::to_path_buf,
            );
        let store = BlobStore::from_settings(
            config.general_settings.other.get("files_storage"),
            &directory,
        )?;
        let concurrency = match config.general_settings.other.get("batch_concurrency") {
            None | Some(Value::Null) => DEFAULT_BATCH_CONCURRENCY,
            Some(value) => value
                .as_u64()
                .filter(|n| (1..=1024).contains(n))
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    "general_settings.batch_concurrency: expected an integer from 1 to 1024"
                        .to_owned()
                })?,
        };
        Ok(Self {
            engine,
            store,
            max_file_bytes: megabytes(config, "max_file_size_mb", DEFAULT_MAX_FILE_MB)?,
            max_batch_file_bytes: megabytes(
                config,
                "max_batch_file_size_mb",
                DEFAULT_MAX_BATCH_FILE_MB,
            )?,
            concurrency,
            running: Mutex::new(HashMap::new()),
            stopping: CancellationToken::new(),
            tasks: TaskTracker::new(),
        })
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops the runners: each finishes its lines in flight and stores their results; what is
    /// left resumes at the next start.
    pub async fn shutdown(&self) {
        self.stopping.cancel();
        self.tasks.close();
        if tokio::time::timeout(std::time::Duration::from_secs(30), self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("batch runners still running after 30 s; they resume at the next start");
        }
    }
}

/// Who may see what: `None` for admins (everything), else the caller's key and team.
#[must_use]
pub fn owner_of(principal: &Principal) -> Option<Owner> {
    if principal.is_admin {
        return None;
    }
    Some(Owner {
        key_hash: principal.key_hash.clone(),
        team_id: principal.team_id.clone(),
    })
}

fn visible(owner: Option<&Owner>, key_hash: Option<&str>, team_id: Option<&str>) -> bool {
    owner.is_none_or(|owner| owner.sees(key_hash, team_id))
}

fn db_error(error: &llmrelay_governance::GovernanceError) -> ApiError {
    ApiError::openai(llmrelay_governance::layers::to_error(error))
}

/// The Files state, or the error a proxy without a database answers.
fn files_of(state: &AppState) -> Result<Arc<Files>, ApiError> {
    state.files.clone().ok_or_else(|| {
        ApiError::openai(Error::bad_request(
            "The Files and Batches APIs store their objects in the proxy's database: set a master key, and database_url or run from a config file (SQLite next to it)",
        ))
    })
}

pub(crate) fn invalid(message: impl Into<String>, param: &str) -> ApiError {
    ApiError::openai(Error::bad_request(message).with_param(param.to_owned()))
}

fn file_not_found(id: &str) -> ApiError {
    ApiError::openai(Error::new(
        ErrorKind::NotFound,
        format!("No such File object: {id}"),
    ))
}

fn file_forbidden(id: &str) -> ApiError {
    ApiError::openai(Error::new(
        ErrorKind::PermissionDenied,
        format!(
            "This API key does not have access to the file {id}: it belongs to another key or team"
        ),
    ))
}

/// A file the caller may use: 404 when unknown, 403 when it is another key's.
///
/// # Errors
/// As above, and database errors.
pub async fn visible_file(
    files: &Files,
    principal: &Principal,
    id: &str,
) -> Result<StoredFile, ApiError> {
    let file = files
        .engine
        .store()
        .file(id)
        .await
        .map_err(|e| db_error(&e))?
        .ok_or_else(|| file_not_found(id))?;
    if !visible(
        owner_of(principal).as_ref(),
        file.owner_key.as_deref(),
        file.team_id.as_deref(),
    ) {
        return Err(file_forbidden(id));
    }
    Ok(file)
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A new object id: `file-…` or `batch_…` with 24 random hex digits.
#[must_use]
pub fn new_id(prefix: &str) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &hex[..24])
}

/// OpenAI's file object.
#[must_use]
pub fn file_object(
    id: &str,
    bytes: usize,
    filename: &str,
    purpose: &str,
    created_at: i64,
) -> Value {
    json!({
        "id": id,
        "object": "file",
        "bytes": bytes,
        "created_at": created_at,
        "expires_at": null,
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "status_details": null,
    })
}

/// Stores bytes and their row: the new file's object.
///
/// # Errors
/// Storage or database errors (the bytes are removed when the row cannot be written).
pub async fn store_file(
    files: &Files,
    id: &str,
    bytes: Vec<u8>,
    filename: &str,
    purpose: &str,
    owner: (Option<String>, Option<String>),
) -> Result<Value, ApiError> {
    let object = file_object(id, bytes.len(), filename, purpose, unix_now());
    let location = files.store.put(id, bytes).await.map_err(ApiError::openai)?;
    let row = StoredFile {
        id: id.to_owned(),
        object: object.clone(),
        storage_backend: files.store.backend().to_owned(),
        storage_url: location.clone(),
        owner_key: owner.0,
        team_id: owner.1,
    };
    if let Err(error) = files.engine.store().insert_file(&row).await {
        let _ = files.store.remove(files.store.backend(), &location).await;
        return Err(db_error(&error));
    }
    Ok(object)
}

fn json_ok(value: &Value) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

/// `POST /v1/files`: a multipart upload with `file` and `purpose`.
async fn create_file(State(state): State<Arc<AppState>>, request: Request) -> Response {
    match create_file_inner(&state, request).await {
        Ok(object) => json_ok(&object),
        Err(error) => error.into_response(),
    }
}

async fn create_file_inner(state: &AppState, request: Request) -> Result<Value, ApiError> {
    let files = files_of(state)?;
    let principal = principal_of(request.extensions());
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(invalid(
            "Uploads must be multipart/form-data with the fields 'file' and 'purpose'",
            "file",
        ));
    }
    let mut multipart = <Multipart as axum::extract::FromRequest<()>>::from_request(request, &())
        .await
        .map_err(|e| invalid(format!("Invalid multipart body: {}", e.body_text()), "file"))?;
    let mut purpose: Option<String> = None;
    let mut upload: Option<(String, Vec<u8>)> = None;
    let too_large = |limit: usize| {
        ApiError::openai(
            Error::bad_request(format!(
                "File too large: the limit is {:.0} MB",
                limit as f64 / 1_048_576.0
            ))
            .with_param("file")
            .with_status(413),
        )
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    return Err(too_large(files.max_file_bytes));
                }
                return Err(invalid(
                    format!("Invalid multipart body: {}", error.body_text()),
                    "file",
                ));
            }
        };
        match field.name() {
            Some("purpose") => {
                purpose = Some(field.text().await.map_err(|e| {
                    invalid(
                        format!("Invalid purpose field: {}", e.body_text()),
                        "purpose",
                    )
                })?);
            }
            Some("file") => {
                let filename = field.file_name().unwrap_or("upload").to_owned();
                let mut field = field;
                let mut bytes = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            if bytes.len() + chunk.len() > files.max_file_bytes {
                                return Err(too_large(files.max_file_bytes));
                            }
                            bytes.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(error) => {
                            if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
                                return Err(too_large(files.max_file_bytes));
                            }
                            return Err(invalid(
                                format!("Could not read the file: {}", error.body_text()),
                                "file",
                            ));
                        }
                    }
                }
                upload = Some((filename, bytes));
            }
            // Other fields (LiteLLM's `custom_llm_provider`, `target_model_names`, OpenAI's
            // `expires_after[...]`) do not change where a file is kept.
            _ => {}
        }
    }
    let purpose =
        purpose.ok_or_else(|| invalid("Missing required parameter: 'purpose'.", "purpose"))?;
    if !UPLOAD_PURPOSES.contains(&purpose.as_str()) {
        return Err(invalid(
            format!("'{purpose}' is not one of {UPLOAD_PURPOSES:?} - 'purpose'"),
            "purpose",
        ));
    }
    let (filename, bytes) =
        upload.ok_or_else(|| invalid("Missing required parameter: 'file'.", "file"))?;
    if purpose == "batch" {
        if bytes.len() > files.max_batch_file_bytes {
            return Err(too_large(files.max_batch_file_bytes));
        }
        batch::parse_lines(&bytes, None).map_err(|e| e.into_api_error("file"))?;
    }
    let id = new_id("file-");
    store_file(
        &files,
        &id,
        bytes,
        &filename,
        &purpose,
        (principal.key_hash.clone(), principal.team_id.clone()),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    purpose: Option<String>,
    limit: Option<i64>,
    after: Option<String>,
    order: Option<String>,
}

/// `GET /v1/files`: the caller's files, newest first (`order`, `after`, `limit`, `purpose`).
async fn list_files(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
    request: Request,
) -> Response {
    let principal = principal_of(request.extensions());
    drop(request);
    let result = async {
        let files = files_of(&state)?;
        let limit = query.limit.unwrap_or(10_000);
        if !(1..=10_000).contains(&limit) {
            return Err(invalid("limit must be between 1 and 10000", "limit"));
        }
        let order = query.order.as_deref().unwrap_or("desc");
        if !matches!(order, "asc" | "desc") {
            return Err(invalid("order must be 'asc' or 'desc'", "order"));
        }
        let rows = files
            .engine
            .store()
            .list_files(
                owner_of(&principal).as_ref(),
                query.purpose.as_deref(),
                query.after.as_deref(),
                limit + 1,
                order,
            )
            .await
            .map_err(|e| db_error(&e))?;
        Ok(list_object(
            rows.into_iter().map(|f| f.object).collect(),
            limit,
        ))
    }
    .await;
    match result {
        Ok(body) => json_ok(&body),
        Err(error) => error.into_response(),
    }
}

/// OpenAI's list object over `limit + 1` fetched rows.
#[must_use]
pub fn list_object(mut data: Vec<Value>, limit: i64) -> Value {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_more = data.len() > limit;
    data.truncate(limit);
    let first = data
        .first()
        .and_then(|o| o.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    let last = data
        .last()
        .and_then(|o| o.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    json!({"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": has_more})
}

/// `GET /v1/files/{file_id}`.
async fn retrieve_file(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let principal = principal_of(request.extensions());
    drop(request);
    let result = async {
        let files = files_of(&state)?;
        visible_file(&files, &principal, &id).await
    }
    .await;
    match result {
        Ok(file) => json_ok(&file.object),
        Err(error) => error.into_response(),
    }
}

/// `GET /v1/files/{file_id}/content`: the bytes.
async fn file_content(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let principal = principal_of(request.extensions());
    drop(request);
    let result = async {
        let files = files_of(&state)?;
        let file = visible_file(&files, &principal, &id).await?;
        files
            .store
            .get(&file.storage_backend, &file.storage_url)
            .await
            .map_err(ApiError::openai)
    }
    .await;
    match result {
        Ok(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            bytes,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// `DELETE /v1/files/{file_id}`.
async fn delete_file(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let principal = principal_of(request.extensions());
    drop(request);
    let result = async {
        let files = files_of(&state)?;
        let file = visible_file(&files, &principal, &id).await?;
        let removed = files
            .engine
            .store()
            .delete_file(&id)
            .await
            .map_err(|e| db_error(&e))?;
        if !removed {
            return Err(file_not_found(&id));
        }
        files
            .store
            .remove(&file.storage_backend, &file.storage_url)
            .await
            .map_err(ApiError::openai)?;
        Ok(json!({"id": id, "object": "file", "deleted": true}))
    }
    .await;
    match result {
        Ok(body) => json_ok(&body),
        Err(error) => error.into_response(),
    }
}

/// Runs the request on the engine's runtime (where the database pool and the runners are),
/// as the management API does.
async fn on_engine_runtime(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(files) = state.files.clone() else {
        return next.run(request).await;
    };
    match files.engine.runtime().spawn(next.run(request)).await {
        Ok(response) => response,
        Err(error) => ApiError::openai(Error::new(
            ErrorKind::InternalServer,
            format!("files request failed: {error}"),
        ))
        .into_response(),
    }
}

/// The Files and Batches routes (behind the key check).
pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    let upload_limit = state
        .files
        .as_ref()
        .map_or(DEFAULT_MAX_FILE_MB as usize * 1_048_576, |f| {
            f.max_file_bytes
        })
        .saturating_add(1 << 20);
    let mut router = Router::new();
    for prefix in ["/v1", ""] {
        router = router
            .route(
                &format!("{prefix}/files"),
                post(create_file)
                    .layer(DefaultBodyLimit::max(upload_limit))
                    .get(list_files),
            )
            .route(
                &format!("{prefix}/files/{{file_id}}"),
                get(retrieve_file).delete(delete_file),
            )
            .route(
                &format!("{prefix}/files/{{file_id}}/content"),
                get(file_content),
            )
            .route(
                &format!("{prefix}/batches"),
                post(batch::create_batch).get(batch::list_batches),
            )
            .route(
                &format!("{prefix}/batches/{{batch_id}}"),
                get(batch::retrieve_batch),
            )
            .route(
                &format!("{prefix}/batches/{{batch_id}}/cancel"),
                post(batch::cancel_batch),
            );
    }
    router.route_layer(middleware::from_fn_with_state(
        Arc::clone(state),
        on_engine_runtime,
    ))
}

/// Resumes every batch a previous run left unfinished (called once the database is migrated).
pub fn resume(state: &Arc<AppState>) {
    let Some(files) = state.files.clone() else {
        return;
    };
    let state = Arc::clone(state);
    let runtime = files.engine.runtime().clone();
    runtime.spawn(async move {
        match files.engine.store().unfinished_batches().await {
            Ok(batches) => {
                for stored in batches {
                    tracing::info!(batch_id = %stored.id, status = stored.status(), "resuming batch");
                    runner::spawn(&state, &files, &stored.id);
                }
            }
            Err(error) => tracing::warn!(%error, "unfinished batches not resumed"),
        }
    });
}
