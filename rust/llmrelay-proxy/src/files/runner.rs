//! The local batch runner: a batch's lines run through the proxy's own route handlers (so the
//! key's access checks, budgets, the Router's retries and fallbacks, and one spend row per line
//! apply) as the key that created the batch, at a bounded concurrency.
//!
//! Progress survives a restart: before a group of lines is sent they are recorded as in flight
//! (one more attempt each), and results are stored as they come, in small transactions. At
//! start every unfinished batch resumes: lines with a result are not sent again; lines that
//! were in flight are sent again (their attempt count shows the retry). Each line's call has a
//! fixed id derived from the batch and the line, which is the spend row's `request_id`, so a
//! line sent twice is booked once. The output and error files are written from the stored
//! results, in input order, when every line has one: each `custom_id` appears exactly once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::extract::State;
use futures::StreamExt;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use llmrelay_core::{Error, ErrorKind};
use llmrelay_governance::files::{LineResult, StoredBatch};
use llmrelay_governance::layers::admit::key_auth::{identity_of, master_identity};

use super::Files;
use super::batch::{BatchLine, parse_lines};
use crate::auth::Principal;
use crate::state::{AppState, RequestContext};

/// Lines recorded as in flight together (one transaction), then run.
const GROUP: usize = 256;
/// Results stored together.
const FLUSH_EVERY: usize = 64;
/// Largest answer body kept per line.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// Starts (or resumes) the runner of `batch_id` unless it is running here already.
pub fn spawn(state: &Arc<AppState>, files: &Arc<Files>, batch_id: &str) {
    let token = {
        let mut running = files.running();
        if running.contains_key(batch_id) {
            return;
        }
        let token = files.stopping.child_token();
        running.insert(batch_id.to_owned(), token.clone());
        token
    };
    let state = Arc::clone(state);
    let task_files = Arc::clone(files);
    let id = batch_id.to_owned();
    let future = async move {
        // A database that fails mid-batch is waited for: the runner starts over from the
        // stored progress (nothing stored is sent again).
        while let Err(error) = run(&state, &task_files, &id, &token).await {
            if task_files.stopping.is_cancelled() {
                tracing::warn!(batch_id = %id, %error, "batch runner stopped; it resumes at the next start");
                break;
            }
            tracing::error!(batch_id = %id, %error, "batch runner failed; retrying in 5 s");
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
                () = task_files.stopping.cancelled() => break,
            }
        }
        task_files.running().remove(&id);
    };
    files.tasks.spawn_on(future, files.engine.runtime());
}

/// Asks the runner of `batch_id` to stop (cancel); whether one runs here.
pub fn cancel(files: &Files, batch_id: &str) -> bool {
    match files.running().get(batch_id) {
        Some(token) => {
            token.cancel();
            true
        }
        None => false,
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn db(error: &llmrelay_governance::GovernanceError) -> Error {
    Error::new(ErrorKind::ServiceUnavailable, format!("database: {error}"))
}

/// 24 hex digits of SHA-256 over `parts`.
fn digest(parts: &[&str]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().into()
}

fn hex24(bytes: &[u8; 32]) -> String {
    bytes[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// The fixed call id of a line (the spend row's `request_id`): a UUID from the batch and line.
fn line_call_id(batch_id: &str, index: i64) -> String {
    let bytes = digest(&[batch_id, &index.to_string()]);
    let mut uuid = [0u8; 16];
    uuid.copy_from_slice(&bytes[..16]);
    uuid::Builder::from_random_bytes(uuid)
        .into_uuid()
        .to_string()
}

/// The caller the batch runs as: the key that created it (as it is now).
async fn identity(files: &Files, batch: &StoredBatch) -> Result<Principal, String> {
    let Some(token) = batch.owner_key.as_deref() else {
        return Ok(Principal::anonymous());
    };
    if files.engine.is_master_key_hash(token) {
        return Ok(master_identity(token));
    }
    match files.engine.key_by_token(token).await {
        Ok(Some(auth)) => {
            files
                .engine
                .check_key_state(&auth)
                .map_err(|e| e.to_string())?;
            Ok(identity_of(auth))
        }
        Ok(None) => Err("the API key that created this batch no longer exists".to_owned()),
        Err(error) => Err(format!("database: {error}")),
    }
}

async fn save(files: &Files, id: &str, object: &Value, processed: bool) -> Result<(), Error> {
    files
        .engine
        .store()
        .update_batch(id, object, processed)
        .await
        .map_err(|e| db(&e))
}

/// Marks the batch failed (validation could not be redone: the input file or the key is gone).
async fn fail(
    files: &Files,
    batch: &StoredBatch,
    code: &str,
    message: String,
) -> Result<(), Error> {
    let mut object = batch.object.clone();
    // What was done before stays available.
    write_result_files(files, batch, &mut object).await?;
    object["status"] = json!("failed");
    object["failed_at"] = json!(now());
    object["errors"] = json!({"object": "list", "data": [{"code": code, "message": message, "param": null, "line": null}]});
    save(files, &batch.id, &object, true).await
}

async fn run(
    state: &Arc<AppState>,
    files: &Arc<Files>,
    batch_id: &str,
    token: &CancellationToken,
) -> Result<(), Error> {
    let store = files.engine.store();
    let Some(batch) = store.batch(batch_id).await.map_err(|e| db(&e))? else {
        return Ok(());
    };
    if batch.processed {
        return Ok(());
    }
    let mut object = batch.object.clone();
    let endpoint = object["endpoint"].as_str().unwrap_or_default().to_owned();
    let input_file_id = object["input_file_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let lines = match store.file(&input_file_id).await.map_err(|e| db(&e))? {
        Some(file) => match files
            .store
            .get(&file.storage_backend, &file.storage_url)
            .await
        {
            Ok(bytes) => parse_lines(&bytes, Some(&endpoint)).map_err(|e| e.message),
            Err(error) => Err(error.message().to_owned()),
        },
        None => Err(format!("the input file {input_file_id} was deleted")),
    };
    let lines = match lines {
        Ok(lines) => lines,
        Err(message) => return fail(files, &batch, "invalid_input_file", message).await,
    };
    // Who the lines run as: read again before each group (a key blocked, expired or deleted
    // since gets its remaining lines refused; what was done is kept).
    let mut principal = Principal::default();
    let progress = store
        .batch_line_progress(batch_id)
        .await
        .map_err(|e| db(&e))?;
    let mut completed = progress.finished.iter().filter(|(_, ok)| *ok).count();
    let mut failed = progress.finished.len() - completed;
    let finished: HashSet<i64> = progress.finished.iter().map(|(index, _)| *index).collect();
    let attempts: HashMap<i64, i64> = progress.in_flight.into_iter().collect();
    let resent = attempts.values().filter(|n| **n > 0).count();
    if resent > 0 {
        tracing::warn!(
            batch_id,
            lines = resent,
            "lines in flight at the last stop are sent again (retries)"
        );
    }
    // A cancel asked for here (the token), not the shutdown every token also hears.
    let cancel_asked = || token.is_cancelled() && !files.stopping.is_cancelled();
    if object["status"] == "validating" {
        object["status"] = json!("in_progress");
        object["in_progress_at"] = json!(now());
        save(files, batch_id, &object, false).await?;
    }
    let pending: Vec<&BatchLine> = lines
        .iter()
        .filter(|line| !finished.contains(&line.index))
        .collect();
    let mut stopped = false;
    for group in pending.chunks(GROUP) {
        if files.stopping.is_cancelled() {
            // Shutting down: the rest runs after the restart.
            return Ok(());
        }
        if cancel_asked() || object["status"] == "cancelling" {
            stopped = true;
            break;
        }
        // Another instance (or route) may have asked for a cancel.
        if let Some(current) = store.batch(batch_id).await.map_err(|e| db(&e))?
            && current.status() == "cancelling"
        {
            object["status"] = json!("cancelling");
            object["cancelling_at"] = current.object["cancelling_at"].clone();
            stopped = true;
            break;
        }
        // The key as it is now (blocked, expired or deleted since: its lines are refused).
        let refused = match identity(files, &batch).await {
            Ok(current) => {
                principal = current;
                None
            }
            Err(message) => Some(message),
        };
        let started: Vec<(i64, String)> = group
            .iter()
            .map(|line| (line.index, line.custom_id.clone()))
            .collect();
        store
            .start_batch_lines(batch_id, &started)
            .await
            .map_err(|e| db(&e))?;
        let calls: Vec<futures::future::BoxFuture<'static, Result<LineResult, i64>>> = group
            .iter()
            .map(|line| {
                let attempt = attempts.get(&line.index).copied().unwrap_or(0) + 1;
                let (state, principal, batch_id, line, token, refused) = (
                    Arc::clone(state),
                    principal.clone(),
                    batch_id.to_owned(),
                    (*line).clone(),
                    token.clone(),
                    refused.clone(),
                );
                let call: futures::future::BoxFuture<'static, Result<LineResult, i64>> =
                    Box::pin(async move {
                        // Cancelled (or shutting down) before its turn: not sent.
                        if token.is_cancelled() {
                            return Err(line.index);
                        }
                        if let Some(message) = refused {
                            let error = Error::new(
                                ErrorKind::Authentication,
                                format!("Authentication Error, {message}"),
                            );
                            return Ok(refused_line(&batch_id, &line, &error));
                        }
                        Ok(run_line(&state, &principal, &batch_id, &line, attempt).await)
                    });
                call
            })
            .collect();
        let mut results = futures::stream::iter(calls).buffer_unordered(files.concurrency);
        let mut buffer = Vec::with_capacity(FLUSH_EVERY);
        let mut skipped = Vec::new();
        while let Some(result) = results.next().await {
            let result = match result {
                Ok(result) => result,
                Err(index) => {
                    skipped.push(index);
                    continue;
                }
            };
            if result.succeeded {
                completed += 1;
            } else {
                failed += 1;
            }
            buffer.push(result);
            if buffer.len() >= FLUSH_EVERY {
                store
                    .finish_batch_lines(batch_id, &buffer)
                    .await
                    .map_err(|e| db(&e))?;
                buffer.clear();
            }
        }
        store
            .finish_batch_lines(batch_id, &buffer)
            .await
            .map_err(|e| db(&e))?;
        // Never sent: not an attempt (a resume sends them as first attempts).
        store
            .release_batch_lines(batch_id, &skipped)
            .await
            .map_err(|e| db(&e))?;
        object["request_counts"] =
            json!({"total": lines.len(), "completed": completed, "failed": failed});
        if cancel_asked() {
            object["status"] = json!("cancelling");
            if object["cancelling_at"].is_null() {
                object["cancelling_at"] = json!(now());
            }
        } else if let Some(current) = store.batch(batch_id).await.map_err(|e| db(&e))?
            && current.status() == "cancelling"
        {
            // Cancelled through another instance meanwhile: kept, not overwritten.
            object["status"] = json!("cancelling");
            object["cancelling_at"] = current.object["cancelling_at"].clone();
        }
        save(files, batch_id, &object, false).await?;
    }
    if files.stopping.is_cancelled() && !finished_all(&lines, store, batch_id).await? {
        return Ok(());
    }
    if stopped || object["status"] == "cancelling" {
        if object["cancelling_at"].is_null() {
            object["cancelling_at"] = json!(now());
        }
        object["status"] = json!("cancelling");
    } else {
        object["status"] = json!("finalizing");
        object["finalizing_at"] = json!(now());
    }
    save(files, batch_id, &object, false).await?;
    finalize(files, &batch, &mut object).await?;
    let retries = store
        .batch_line_retries(batch_id)
        .await
        .map_err(|e| db(&e))?;
    if retries > 0 {
        tracing::info!(
            batch_id,
            retries,
            "batch finished; some lines were sent again after a restart"
        );
    }
    Ok(())
}

/// Whether every line has a stored result.
async fn finished_all(
    lines: &[BatchLine],
    store: &llmrelay_governance::store::SqlStore,
    batch_id: &str,
) -> Result<bool, Error> {
    let progress = store
        .batch_line_progress(batch_id)
        .await
        .map_err(|e| db(&e))?;
    Ok(progress.finished.len() >= lines.len())
}

/// Writes the output and error files from the stored results and closes the batch.
async fn finalize(files: &Files, batch: &StoredBatch, object: &mut Value) -> Result<(), Error> {
    write_result_files(files, batch, object).await?;
    let at = now();
    if object["status"] == "cancelling" {
        object["status"] = json!("cancelled");
        object["cancelled_at"] = json!(at);
    } else {
        object["status"] = json!("completed");
        object["completed_at"] = json!(at);
    }
    save(files, &batch.id, object, true).await
}

/// The output and error files of the stored results (input order), named in `object`.
async fn write_result_files(
    files: &Files,
    batch: &StoredBatch,
    object: &mut Value,
) -> Result<(), Error> {
    let store = files.engine.store();
    let owner = (batch.owner_key.clone(), batch.team_id.clone());
    for (succeeded, field, kind) in [
        (true, "output_file_id", "output"),
        (false, "error_file_id", "error"),
    ] {
        let lines = store
            .batch_line_outputs(&batch.id, succeeded)
            .await
            .map_err(|e| db(&e))?;
        if lines.is_empty() {
            continue;
        }
        // A fixed id: finalizing again after a crash finds the file written the first time.
        let id = format!("file-{}", hex24(&digest(&[&batch.id, kind])));
        if store.file(&id).await.map_err(|e| db(&e))?.is_none() {
            let mut bytes = lines.join("\n").into_bytes();
            bytes.push(b'\n');
            let filename = format!("{}_{kind}.jsonl", batch.id);
            super::store_file(files, &id, bytes, &filename, "batch_output", owner.clone())
                .await
                .map_err(|e| e.error)?;
        }
        object[field] = json!(id);
    }
    Ok(())
}

/// The output line of a line the proxy refused without calling the route.
fn refused_line(batch_id: &str, line: &BatchLine, error: &Error) -> LineResult {
    let api = crate::errors::ApiError::openai(error.clone());
    let output = json!({
        "id": format!("batch_req_{}", hex24(&digest(&[batch_id, &line.custom_id]))),
        "custom_id": line.custom_id,
        "response": {
            "status_code": api.status().as_u16(),
            "request_id": line_call_id(batch_id, line.index),
            "body": api.body(),
        },
        "error": null,
    });
    LineResult {
        index: line.index,
        custom_id: line.custom_id.clone(),
        output: output.to_string(),
        succeeded: false,
    }
}

/// One line through the route's handler, as the batch's key; its output line.
async fn run_line(
    state: &Arc<AppState>,
    principal: &Principal,
    batch_id: &str,
    line: &BatchLine,
    attempt: i64,
) -> LineResult {
    let call_id = line_call_id(batch_id, line.index);
    let mut body = line.body.clone();
    let metadata = body
        .entry("metadata".to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(metadata) = metadata {
        metadata.insert("batch_id".to_owned(), json!(batch_id));
        metadata.insert("batch_custom_id".to_owned(), json!(line.custom_id));
        metadata.insert("batch_line_attempt".to_owned(), json!(attempt));
    }
    let (status, answer) = match call_route(state, principal, &line.url, &call_id, &body).await {
        Ok(answer) => answer,
        Err(error) => {
            let api = crate::errors::ApiError::openai(error);
            (api.status().as_u16(), api.body())
        }
    };
    let output = json!({
        "id": format!("batch_req_{}", hex24(&digest(&[batch_id, &line.custom_id]))),
        "custom_id": line.custom_id,
        "response": {"status_code": status, "request_id": call_id, "body": answer},
        "error": null,
    });
    LineResult {
        index: line.index,
        custom_id: line.custom_id.clone(),
        output: output.to_string(),
        succeeded: (200..300).contains(&status),
    }
}

async fn call_route(
    state: &Arc<AppState>,
    principal: &Principal,
    url: &str,
    call_id: &str,
    body: &Map<String, Value>,
) -> Result<(u16, Value), Error> {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| Error::new(ErrorKind::InternalServer, format!("encoding the line: {e}")))?;
    let mut request = axum::http::Request::builder()
        .method("POST")
        .uri(url)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(bytes))
        .map_err(|e| Error::new(ErrorKind::InternalServer, format!("building the call: {e}")))?;
    request.extensions_mut().insert(principal.clone());
    request.extensions_mut().insert(RequestContext {
        call_id: Arc::from(call_id),
        received: Instant::now(),
        received_wall: SystemTime::now(),
    });
    let state = State(Arc::clone(state));
    let response = match url {
        "/v1/chat/completions" => crate::llm::chat(state, request).await,
        "/v1/embeddings" => crate::llm::embeddings(state, request).await,
        "/v1/completions" => crate::llm::text_completion(state, request).await,
        "/v1/responses" => crate::llm::responses(state, request).await,
        other => {
            return Err(Error::bad_request(format!(
                "{other} is not a batch endpoint"
            )));
        }
    };
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES)
        .await
        .map_err(|e| Error::new(ErrorKind::ApiConnection, format!("reading the answer: {e}")))?;
    let answer = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Ok((status, answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ids_are_fixed_per_batch_and_line() {
        assert_eq!(line_call_id("batch_a", 3), line_call_id("batch_a", 3));
        assert_ne!(line_call_id("batch_a", 3), line_call_id("batch_a", 4));
        assert_ne!(line_call_id("batch_a", 3), line_call_id("batch_b", 3));
        assert_eq!(hex24(&digest(&["x"])).len(), 24);
    }
}
