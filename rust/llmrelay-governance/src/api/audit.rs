//! The audit log in the management API: a middleware that records each management change
//! (the object's row before and after the handler ran) and each refused call, and LiteLLM's
//! read routes `GET /audit` (filtered, paged) and `GET /audit/{id}`.

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, RawPathParams, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Value, json};

use super::{ApiResult, Caller, Query, Shared, json_response, query_int};
use crate::audit::{AuditAction, AuditEntry, DEFAULT_CHANGED_BY, Denial};
use crate::db::{Param, Record, Table};
use crate::error::GovernanceError;
use crate::keys::token_of;
use crate::store::Conditions;
use crate::tables;
use crate::time::{parse_time, to_millis};

/// Management bodies and answers are small; larger ones are not audited (still served).
const MAX_AUDITED_BYTES: usize = 8 * 1024 * 1024;

/// Where the ids of the changed objects are found.
#[derive(Debug, Clone, Copy)]
enum Locate {
    /// A string field of the request body.
    Body(&'static str),
    /// A list of strings in the request body.
    BodyList(&'static str),
    /// A field of an object field of the request body (`model_info.id`).
    BodyNested(&'static str, &'static str),
    /// The request body's `key` (raw or hashed).
    BodyKey,
    /// `keys` (raw or hashed) and `key_aliases` of `/key/delete`.
    KeyDelete,
    /// The route's path parameter.
    PathParam,
    /// The route's path parameter, a key (raw or hashed).
    PathKey,
    /// A field of the JSON answer (objects the handler created).
    Response(&'static str),
}

/// One audited route.
#[derive(Debug, Clone, Copy)]
struct Audited {
    table: &'static Table,
    /// The column the ids are looked up by.
    column: &'static str,
    action: AuditAction,
    /// The ids of the objects (before the change; created objects: from the answer).
    object: Locate,
    /// Where the object is after the change, when its id changes (a rotated key, a renamed
    /// credential).
    after: Option<Locate>,
}

const fn audited(
    table: &'static Table,
    column: &'static str,
    action: AuditAction,
    object: Locate,
) -> Audited {
    Audited {
        table,
        column,
        action,
        object,
        after: None,
    }
}

/// The management changes LiteLLM audits (and the other writes of the same objects).
fn audited_route(method: &Method, route: &str) -> Option<Audited> {
    use AuditAction::{Blocked, Created, Deleted, Rotated, Updated};
    use Locate::{Body, BodyKey, BodyList, BodyNested, KeyDelete, PathKey, PathParam, Response};
    let key = &tables::VERIFICATION_TOKEN;
    let team = &tables::TEAM_TABLE;
    let user = &tables::USER_TABLE;
    let organization = &tables::ORGANIZATION_TABLE;
    let customer = &tables::END_USER_TABLE;
    let model = &tables::PROXY_MODEL_TABLE;
    let credential = &tables::CREDENTIALS_TABLE;
    let customer_route = route
        .strip_prefix("/customer")
        .or_else(|| route.strip_prefix("/end_user"));
    let found = match (method.as_str(), route) {
        ("POST", "/key/generate") => audited(key, "token", Created, Response("token")),
        ("POST", "/key/update" | "/key/unblock") => audited(key, "token", Updated, BodyKey),
        ("POST", "/key/block") => audited(key, "token", Blocked, BodyKey),
        ("POST", "/key/delete") => audited(key, "token", Deleted, KeyDelete),
        ("POST", "/key/regenerate") => Audited {
            after: Some(Response("token")),
            ..audited(key, "token", Rotated, BodyKey)
        },
        ("POST", "/key/{key}/regenerate") => Audited {
            after: Some(Response("token")),
            ..audited(key, "token", Rotated, PathKey)
        },
        ("POST", "/key/{key}/reset_spend") => audited(key, "token", Updated, PathKey),
        ("POST", "/user/new") => audited(user, "user_id", Created, Response("user_id")),
        ("POST", "/user/update") => Audited {
            after: Some(Response("user_id")),
            ..audited(user, "user_id", Updated, Body("user_id"))
        },
        ("POST", "/user/delete") => audited(user, "user_id", Deleted, BodyList("user_ids")),
        ("POST", "/team/new") => audited(team, "team_id", Created, Response("team_id")),
        (
            "POST",
            "/team/update"
            | "/team/member_add"
            | "/team/member_delete"
            | "/team/member_update"
            | "/team/unblock"
            | "/team/model/add"
            | "/team/model/delete",
        ) => audited(team, "team_id", Updated, Body("team_id")),
        ("POST", "/team/block") => audited(team, "team_id", Blocked, Body("team_id")),
        ("POST", "/team/delete") => audited(team, "team_id", Deleted, BodyList("team_ids")),
        ("POST", "/organization/new") => audited(
            organization,
            "organization_id",
            Created,
            Response("organization_id"),
        ),
        ("PATCH", "/organization/update")
        | ("POST", "/organization/member_add")
        | ("DELETE", "/organization/member_delete") => audited(
            organization,
            "organization_id",
            Updated,
            Body("organization_id"),
        ),
        ("DELETE", "/organization/delete") => audited(
            organization,
            "organization_id",
            Deleted,
            BodyList("organization_ids"),
        ),
        ("POST", "/model/new") => audited(model, "model_id", Created, Response("model_id")),
        ("POST", "/model/update") => {
            audited(model, "model_id", Updated, BodyNested("model_info", "id"))
        }
        ("PATCH", "/model/{model_id}/update") => audited(model, "model_id", Updated, PathParam),
        ("POST", "/model/delete") => audited(model, "model_id", Deleted, Body("id")),
        ("POST", "/credentials") => audited(
            credential,
            "credential_name",
            Created,
            Body("credential_name"),
        ),
        ("PATCH", "/credentials/{*credential_name}") => Audited {
            after: Some(Body("credential_name")),
            ..audited(credential, "credential_name", Updated, PathParam)
        },
        ("DELETE", "/credentials/{*credential_name}") => {
            audited(credential, "credential_name", Deleted, PathParam)
        }
        ("POST", _) => match customer_route? {
            "/new" => audited(customer, "user_id", Created, Body("user_id")),
            "/update" | "/unblock" => audited(customer, "user_id", Updated, Body("user_id")),
            "/delete" => audited(customer, "user_id", Deleted, BodyList("user_ids")),
            "/block" => audited(customer, "user_id", Blocked, BodyList("user_ids")),
            _ => return None,
        },
        _ => return None,
    };
    Some(found)
}

/// What the middleware knows of a request when it locates objects.
struct Located<'a> {
    body: &'a Value,
    path: Option<&'a str>,
    answer: Option<&'a Value>,
}

async fn locate(
    state: &Shared,
    how: Locate,
    at: &Located<'_>,
) -> Result<Vec<String>, GovernanceError> {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    Ok(match how {
        Locate::Body(field) => text(at.body.get(field)).into_iter().collect(),
        Locate::BodyList(field) => at
            .body
            .get(field)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        Locate::BodyNested(object, field) => text(at.body.get(object).and_then(|o| o.get(field)))
            .into_iter()
            .collect(),
        Locate::BodyKey => text(at.body.get("key"))
            .map(|k| token_of(&k))
            .into_iter()
            .collect(),
        Locate::KeyDelete => {
            let mut tokens: Vec<String> = at
                .body
                .get("keys")
                .and_then(Value::as_array)
                .map(|keys| {
                    keys.iter()
                        .filter_map(Value::as_str)
                        .map(token_of)
                        .collect()
                })
                .unwrap_or_default();
            for alias in at
                .body
                .get("key_aliases")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let mut conditions = Conditions::new();
                conditions.equals("key_alias", Param::text(alias));
                let found = state
                    .store
                    .select(&tables::VERIFICATION_TOKEN, &conditions, "", Some(1), None)
                    .await?;
                tokens.extend(
                    found
                        .iter()
                        .filter_map(|r| crate::identity::text(r, "token")),
                );
            }
            tokens
        }
        Locate::PathParam => at.path.map(str::to_owned).into_iter().collect(),
        Locate::PathKey => at.path.map(token_of).into_iter().collect(),
        Locate::Response(field) => text(at.answer.and_then(|a| a.get(field)))
            .into_iter()
            .collect(),
    })
}

/// The object's row, secrets decrypted (the log masks them; ciphertext would hide the
/// values that are not secret, such as `api_base`).
async fn row(state: &Shared, spec: &Audited, id: &str) -> Option<Value> {
    let mut record = state
        .store
        .get(spec.table, &[(spec.column, Param::text(id))])
        .await
        .ok()
        .flatten()?;
    if let Ok(cipher) = state.cipher() {
        for field in ["credential_values", "litellm_params"] {
            if let Some(Value::Object(stored)) = record.get(field) {
                let decrypted = cipher.decrypt_map(stored);
                record.insert(field.to_owned(), Value::Object(decrypted));
            }
        }
    }
    Some(Value::Object(record))
}

/// `litellm-changed-by` (LiteLLM's header naming the person a change is made for).
fn changed_by_header(request: &Request) -> Option<String> {
    request
        .headers()
        .get("litellm-changed-by")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("detail"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned())
}

/// Records the management changes and refusals of the API (outermost layer of the router:
/// it sees the refusals of the role checks too). Costs nothing when the audit log is off.
pub(super) async fn record(State(state): State<Shared>, request: Request, next: Next) -> Response {
    if !state.audit.enabled() {
        return next.run(request).await;
    }
    let route = super::matched_route(&request);
    let changed_by = changed_by_header(&request);
    let presented = super::presented_key(&request);
    let Some(spec) = audited_route(request.method(), &route) else {
        let response = next.run(request).await;
        return refused(&state, response, presented, route, changed_by).await;
    };
    let (mut parts, body) = request.into_parts();
    let path = RawPathParams::from_request_parts(&mut parts, &state)
        .await
        .ok()
        .and_then(|params| params.iter().next().map(|(_, v)| v.to_owned()));
    let Ok(bytes) = axum::body::to_bytes(body, MAX_AUDITED_BYTES).await else {
        return GovernanceError::bad_request("Request body too large").into_response_value();
    };
    let body_json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let located = Located {
        body: &body_json,
        path: path.as_deref(),
        answer: None,
    };
    let before_ids = locate(&state, spec.object, &located)
        .await
        .unwrap_or_default();
    let mut before = Vec::with_capacity(before_ids.len());
    for id in &before_ids {
        before.push(row(&state, &spec, id).await);
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if !response.status().is_success() {
        return refused(&state, response, presented, route, changed_by).await;
    }
    let caller = response.extensions().get::<Caller>().cloned();
    let (response_parts, response_body) = response.into_parts();
    let Ok(answer_bytes) = axum::body::to_bytes(response_body, MAX_AUDITED_BYTES).await else {
        return Response::from_parts(response_parts, Body::empty());
    };
    let answer: Value = serde_json::from_slice(&answer_bytes).unwrap_or(Value::Null);
    let located = Located {
        body: &body_json,
        path: path.as_deref(),
        answer: Some(&answer),
    };
    let (object_ids, before) = if matches!(spec.object, Locate::Response(_)) {
        let ids = locate(&state, spec.object, &located)
            .await
            .unwrap_or_default();
        let empty = vec![None; ids.len()];
        (ids, empty)
    } else {
        (before_ids, before)
    };
    let after_ids = match spec.after {
        Some(how) => locate(&state, how, &located).await.unwrap_or_default(),
        None => object_ids.clone(),
    };
    let (changed_by_default, api_key) = caller.as_ref().map_or_else(
        || (DEFAULT_CHANGED_BY.to_owned(), String::new()),
        |c| {
            (
                c.auth
                    .user_id
                    .clone()
                    .unwrap_or_else(|| DEFAULT_CHANGED_BY.to_owned()),
                c.auth.token.clone(),
            )
        },
    );
    for (index, object_id) in object_ids.iter().enumerate() {
        let updated = if spec.action == AuditAction::Deleted {
            None
        } else {
            let after_id = after_ids
                .get(index)
                .or(after_ids.first())
                .unwrap_or(object_id);
            row(&state, &spec, after_id).await
        };
        state.audit.record(AuditEntry {
            changed_by: changed_by
                .clone()
                .unwrap_or_else(|| changed_by_default.clone()),
            changed_by_api_key: api_key.clone(),
            action: spec.action,
            table_name: spec.table.name.to_owned(),
            object_id: object_id.clone(),
            before_value: before.get(index).cloned().flatten(),
            updated_values: updated,
        });
    }
    Response::from_parts(response_parts, Body::from(answer_bytes))
}

/// A 401/403 answer becomes an `access_denied` row.
async fn refused(
    state: &Shared,
    response: Response,
    presented: Option<String>,
    route: String,
    changed_by: Option<String>,
) -> Response {
    let status = response.status();
    if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
        return response;
    }
    let caller_user = response
        .extensions()
        .get::<Caller>()
        .and_then(|c| c.auth.user_id.clone());
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_AUDITED_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    state.record_denial(Denial {
        presented_key: presented,
        route,
        model: None,
        reason: error_message(&bytes),
        status: status.as_u16(),
        changed_by: changed_by.or(caller_user),
    });
    Response::from_parts(parts, Body::from(bytes))
}

impl GovernanceError {
    fn into_response_value(self) -> Response {
        axum::response::IntoResponse::into_response(self)
    }
}

/// `GET /audit`: LiteLLM's filters (`changed_by`, `changed_by_api_key`, `action`,
/// `table_name`, `object_id`, `start_date`, `end_date`), newest first, paged
/// (`page`, `page_size`), as `{audit_logs, total, page, page_size, total_pages}`.
pub(super) async fn list(State(state): State<Shared>, query: Query) -> ApiResult {
    let page = query_int(&query, "page", 1)?;
    if page < 1 {
        return Err(GovernanceError::bad_param(
            "page must be at least 1",
            "page",
        ));
    }
    let page_size = query_int(&query, "page_size", 10)?;
    if !(1..=100).contains(&page_size) {
        return Err(GovernanceError::bad_param(
            "page_size must be between 1 and 100",
            "page_size",
        ));
    }
    let mut conditions = Conditions::new();
    for field in [
        "changed_by",
        "changed_by_api_key",
        "action",
        "table_name",
        "object_id",
    ] {
        if let Some(value) = query.get(field).filter(|v| !v.is_empty()) {
            conditions.equals(field, Param::text(value));
        }
    }
    for (field, operator) in [("start_date", ">="), ("end_date", "<=")] {
        let Some(text) = query.get(field).filter(|v| !v.is_empty()) else {
            continue;
        };
        let mut time = parse_time(text).ok_or_else(|| {
            GovernanceError::bad_param(format!("{field} must be a date or a timestamp"), field)
        })?;
        if field == "end_date" && text.trim().len() == 10 {
            // A bare end date includes that whole day.
            time += chrono::Duration::days(1) - chrono::Duration::milliseconds(1);
        }
        conditions.clause(
            &format!("\"updated_at\" {operator} {{}}"),
            vec![Param::Time(Some(to_millis(time)))],
        );
    }
    let total = state
        .store
        .count_where(&tables::AUDIT_LOG, &conditions)
        .await?;
    let rows = state
        .store
        .select(
            &tables::AUDIT_LOG,
            &conditions,
            "\"updated_at\" DESC, \"id\" DESC",
            Some(page_size),
            Some((page - 1) * page_size),
        )
        .await?;
    let total_pages = (total + page_size - 1) / page_size;
    Ok(json_response(json!({
        "audit_logs": rows.into_iter().map(render).collect::<Vec<_>>(),
        "total": total,
        "page": page,
        "page_size": page_size,
        "total_pages": total_pages,
    })))
}

/// `GET /audit/{id}`.
pub(super) async fn get(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let found = state
        .store
        .get(&tables::AUDIT_LOG, &[("id", Param::text(&id))])
        .await?
        .ok_or_else(|| GovernanceError::NotFound(format!("Audit log with ID {id} not found")))?;
    Ok(json_response(render(found)))
}

fn render(record: Record) -> Value {
    Value::Object(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn management_writes_are_audited_and_reads_are_not() {
        let generate = audited_route(&Method::POST, "/key/generate").unwrap();
        assert_eq!(generate.action, AuditAction::Created);
        assert_eq!(generate.table.name, "LiteLLM_VerificationToken");
        let block = audited_route(&Method::POST, "/team/block").unwrap();
        assert_eq!(block.action, AuditAction::Blocked);
        assert_eq!(block.table.name, "LiteLLM_TeamTable");
        let rotate = audited_route(&Method::POST, "/key/{key}/regenerate").unwrap();
        assert_eq!(rotate.action, AuditAction::Rotated);
        let customer = audited_route(&Method::POST, "/end_user/delete").unwrap();
        assert_eq!(customer.table.name, "LiteLLM_EndUserTable");
        assert_eq!(
            audited_route(&Method::DELETE, "/credentials/{*credential_name}")
                .unwrap()
                .action,
            AuditAction::Deleted
        );
        assert!(audited_route(&Method::GET, "/key/info").is_none());
        assert!(audited_route(&Method::POST, "/customer/info").is_none());
        assert!(audited_route(&Method::POST, "/v2/key/info").is_none());
    }

    #[test]
    fn refusal_reasons_come_from_the_error_body() {
        assert_eq!(
            error_message(br#"{"error":{"message":"nope","type":"auth_error"}}"#),
            "nope"
        );
        assert_eq!(error_message(b"plain"), "plain");
    }
}
