//! LiteLLM's management API as an axum router: who is calling (master key, a proxy-provided
//! [`Caller`], or a virtual key), which routes each role may call, and the shared helpers of
//! the handlers (strict bodies, money rendered as numbers, LiteLLM's error shapes).

mod audit;
mod credentials;
mod entities;
mod keys;
mod models;
mod organizations;
mod report;
mod spend;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use bytes::Bytes;
use serde_json::Value;

use crate::db::{Record, render_money};
use crate::engine::Governance;
use crate::error::GovernanceError;
use crate::identity::{KeyAuth, UserRole};

/// The authenticated caller of a management route. The proxy may insert it as a request
/// extension (after its own authentication); otherwise the router authenticates the request's
/// key itself (master key → proxy admin, else a virtual key).
#[derive(Debug, Clone)]
pub struct Caller {
    pub auth: Arc<KeyAuth>,
}

impl Caller {
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.auth.is_proxy_admin()
    }

    /// Proxy admin or proxy admin viewer (may read everything).
    #[must_use]
    pub fn can_read_all(&self) -> bool {
        self.is_admin() || self.auth.user_role == Some(UserRole::ProxyAdminViewer)
    }

    #[must_use]
    pub fn role_name(&self) -> &'static str {
        if self.auth.is_master_key {
            return "proxy_admin";
        }
        self.auth.user_role.map_or("unknown", UserRole::as_str)
    }
}

pub(crate) type Shared = Arc<Governance>;
pub(crate) type ApiResult = Result<Response, GovernanceError>;

/// The management routes, with LiteLLM's paths and methods.
pub fn management_router(state: Arc<Governance>) -> Router {
    Router::new()
        .route("/key/generate", post(keys::generate))
        .route("/key/update", post(keys::update))
        .route("/key/delete", post(keys::delete))
        .route("/key/info", get(keys::info))
        .route("/v2/key/info", post(keys::info_v2))
        .route("/key/list", get(keys::list))
        .route("/key/regenerate", post(keys::regenerate))
        .route("/key/{key}/regenerate", post(keys::regenerate_path))
        .route("/key/block", post(keys::block))
        .route("/key/unblock", post(keys::unblock))
        .route("/key/{key}/reset_spend", post(keys::reset_spend))
        .route("/user/new", post(entities::user_new))
        .route("/user/info", get(entities::user_info))
        .route("/user/update", post(entities::user_update))
        .route("/user/delete", post(entities::user_delete))
        .route("/user/list", get(entities::user_list))
        .route("/team/new", post(entities::team_new))
        .route("/team/info", get(entities::team_info))
        .route("/team/update", post(entities::team_update))
        .route("/team/delete", post(entities::team_delete))
        .route("/team/list", get(entities::team_list))
        .route("/team/member_add", post(entities::team_member_add))
        .route("/team/member_delete", post(entities::team_member_delete))
        .route("/team/member_update", post(entities::team_member_update))
        .route("/team/block", post(entities::team_block))
        .route("/team/unblock", post(entities::team_unblock))
        .route("/team/model/add", post(entities::team_model_add))
        .route("/team/model/delete", post(entities::team_model_delete))
        .route("/organization/new", post(organizations::organization_new))
        .route(
            "/organization/info",
            get(organizations::organization_info).post(organizations::organization_info_post),
        )
        .route(
            "/organization/update",
            patch(organizations::organization_update),
        )
        .route(
            "/organization/delete",
            delete(organizations::organization_delete),
        )
        .route("/organization/list", get(organizations::organization_list))
        .route(
            "/organization/member_add",
            post(organizations::organization_member_add),
        )
        .route(
            "/organization/member_delete",
            delete(organizations::organization_member_delete),
        )
        .route("/budget/new", post(organizations::budget_new))
        .route("/budget/info", post(organizations::budget_info))
        .route("/budget/update", post(organizations::budget_update))
        .route("/budget/delete", post(organizations::budget_delete))
        .route("/budget/list", get(organizations::budget_list))
        .route(
            "/credentials",
            get(credentials::credential_list).post(credentials::credential_new),
        )
        .route(
            "/credentials/by_name/{*credential_name}",
            get(credentials::credential_by_name),
        )
        .route(
            "/credentials/by_model/{model_id}",
            get(credentials::credential_by_model),
        )
        .route(
            "/credentials/{*credential_name}",
            delete(credentials::credential_delete).patch(credentials::credential_update),
        )
        .route("/model/new", post(models::model_new))
        .route("/model/update", post(models::model_update))
        .route("/model/{model_id}/update", patch(models::model_patch))
        .route("/model/delete", post(models::model_delete))
        .nest("/customer", organizations::customer_routes())
        .nest("/end_user", organizations::customer_routes())
        .route("/spend/logs", get(spend::spend_logs))
        .route("/spend/keys", get(spend::spend_keys))
        .route("/spend/users", get(spend::spend_users))
        .route("/spend/tags", get(spend::spend_tags))
        .route("/global/spend", get(spend::global_spend))
        .route("/global/spend/logs", get(spend::global_spend_logs))
        .route("/global/spend/keys", get(spend::global_spend_keys))
        .route("/global/spend/teams", get(spend::global_spend_teams))
        .route("/global/spend/models", get(spend::global_spend_models))
        .route("/global/spend/tags", get(spend::global_spend_tags))
        .route("/global/spend/provider", get(spend::global_spend_provider))
        .route("/global/spend/report", get(report::global_spend_report))
        .route("/audit", get(audit::list))
        .route("/audit/{id}", get(audit::get))
        .route("/user/daily/activity", get(spend::user_daily_activity))
        .route("/team/daily/activity", get(spend::team_daily_activity))
        .route(
            "/organization/daily/activity",
            get(spend::organization_daily_activity),
        )
        .route(
            "/customer/daily/activity",
            get(spend::customer_daily_activity),
        )
        .route(
            "/end_user/daily/activity",
            get(spend::customer_daily_activity),
        )
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            authorize,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            audit::record,
        ))
        .with_state(state)
}

/// The key a request carries (`Authorization: Bearer`, then LiteLLM's other headers).
fn presented_key(request: &Request) -> Option<String> {
    let headers = request.headers();
    if let Some(value) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        let key = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value)
            .trim();
        if !key.is_empty() {
            return Some(key.to_owned());
        }
    }
    ["x-litellm-api-key", "x-api-key", "api-key"]
        .iter()
        .find_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

async fn authorize(State(state): State<Shared>, mut request: Request, next: Next) -> Response {
    let caller = match request.extensions().get::<Caller>() {
        Some(caller) => caller.clone(),
        None => match presented_key(&request) {
            None => {
                return GovernanceError::Authentication(
                    "Authentication Error, No api key passed in.".to_owned(),
                )
                .into_response();
            }
            Some(key) if state.is_master_key(&key) => Caller {
                auth: Arc::new(KeyAuth::master_key(&crate::keys::hash_key(&key))),
            },
            Some(key) => match state.authenticate(&key).await {
                Ok(auth) => Caller { auth },
                Err(error) => return error.into_response(),
            },
        },
    };
    let route = matched_route(&request);
    if let Err(error) = check_route(&caller, &route, request.method()) {
        return error.into_response();
    }
    request.extensions_mut().insert(caller.clone());
    let mut response = next.run(request).await;
    // The audit layer (outside this one) attributes the change to the caller.
    response.extensions_mut().insert(caller);
    response
}

fn matched_route(request: &Request) -> String {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(
            || request.uri().path().to_owned(),
            |p| p.as_str().to_owned(),
        )
}

/// Routes LiteLLM lets internal users call (key management, spend, info; handlers then limit
/// them to their own objects).
const INTERNAL_USER_ROUTES: &[&str] = &[
    "/key/generate",
    "/key/update",
    "/key/delete",
    "/key/info",
    "/v2/key/info",
    "/key/list",
    "/key/regenerate",
    "/key/{key}/regenerate",
    "/key/block",
    "/key/unblock",
    "/key/{key}/reset_spend",
    "/spend/keys",
    "/spend/users",
    "/spend/tags",
    "/spend/logs",
    "/team/daily/activity",
];
/// Read routes every role may call (handlers scope the answer).
const INFO_ROUTES: &[&str] = &[
    "/key/info",
    "/v2/key/info",
    "/key/list",
    "/team/info",
    "/team/list",
    "/user/info",
    "/organization/list",
    "/spend/logs",
    "/spend/keys",
    "/spend/users",
    "/spend/tags",
];
/// Routes whose handlers check team/organization admin rights themselves.
const SELF_MANAGED_ROUTES: &[&str] = &[
    "/team/update",
    "/team/member_add",
    "/team/member_delete",
    "/team/member_update",
    "/team/daily/activity",
    "/user/daily/activity",
    "/organization/daily/activity",
    "/user/list",
    "/model/new",
    "/model/update",
    "/model/delete",
    "/model/{model_id}/update",
];
const ORG_ADMIN_ROUTES: &[&str] = &[
    "/organization/info",
    "/organization/update",
    "/organization/member_add",
    "/organization/member_delete",
    "/team/new",
    "/team/block",
    "/team/unblock",
    "/team/model/add",
    "/team/model/delete",
    "/user/new",
    "/user/update",
    "/user/delete",
];
const MASTER_KEY_ONLY_ROUTES: &[&str] = &["/global/spend/reset"];
/// Writes a proxy admin viewer may never make.
const VIEWER_READ_POSTS: &[&str] = &["/v2/key/info", "/budget/info"];

/// LiteLLM's role checks (`route_checks.py`): which routes a caller may call at all.
///
/// # Errors
/// LiteLLM's 401 (admin-only route) or 403 (viewer write) with its message.
pub fn check_route(caller: &Caller, route: &str, method: &Method) -> Result<(), GovernanceError> {
    if caller.is_admin() && (caller.auth.is_master_key || !MASTER_KEY_ONLY_ROUTES.contains(&route))
    {
        return Ok(());
    }
    let auth = &caller.auth;
    if let Some(allowed) = (!auth.allowed_routes.is_empty()).then_some(&auth.allowed_routes)
        && !crate::routes::allowed(route, allowed)
    {
        return Err(GovernanceError::Forbidden(format!(
            "Virtual key is not allowed to call this route. Only allowed to call routes: {allowed:?}. Tried to call route: {route}"
        )));
    }
    let role = auth.user_role;
    let allowed = INFO_ROUTES.contains(&route)
        || SELF_MANAGED_ROUTES.contains(&route)
        || match role {
            Some(UserRole::ProxyAdminViewer) => {
                if *method == Method::GET
                    || VIEWER_READ_POSTS.contains(&route)
                    || route.starts_with("/global/spend")
                {
                    true
                } else {
                    return Err(GovernanceError::Forbidden(format!(
                        "user not allowed to access this route, role= {}. Trying to access: {route}",
                        caller.role_name()
                    )));
                }
            }
            Some(UserRole::InternalUser) => INTERNAL_USER_ROUTES.contains(&route),
            Some(UserRole::InternalUserViewer) => route.starts_with("/spend/"),
            _ => false,
        }
        || (auth.org_role.as_deref() == Some("org_admin") || role == Some(UserRole::OrgAdmin))
            && ORG_ADMIN_ROUTES.contains(&route);
    if allowed {
        return Ok(());
    }
    Err(GovernanceError::Authentication(format!(
        "Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route={route}. Your role={}. Your user_id={}",
        caller.role_name(),
        mask_user_id(auth.user_id.as_deref().unwrap_or("unknown"))
    )))
}

/// LiteLLM masks the user id in role errors: six characters, stars, the last two.
fn mask_user_id(user_id: &str) -> String {
    let characters: Vec<char> = user_id.chars().collect();
    if characters.len() <= 4 {
        return "***".to_owned();
    }
    if characters.len() <= 8 {
        return user_id.to_owned();
    }
    let head: String = characters[..6].iter().collect();
    let tail: String = characters[characters.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(characters.len() - 8))
}

/// Parses a JSON object body and refuses fields outside `allowed` (400 naming them).
pub(crate) fn parse_body(body: &Bytes, allowed: &[&str]) -> Result<Record, GovernanceError> {
    let value: Value = if body.is_empty() {
        Value::Object(Record::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| GovernanceError::bad_request(format!("Invalid JSON body: {e}")))?
    };
    let Value::Object(record) = value else {
        return Err(GovernanceError::bad_request(
            "Request body must be a JSON object",
        ));
    };
    let unknown: Vec<&String> = record
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .collect();
    if let Some(first) = unknown.first() {
        let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        return Err(GovernanceError::bad_param(
            format!("Unknown field(s) in request body: {}", names.join(", ")),
            first.as_str(),
        ));
    }
    Ok(record)
}

/// A JSON response with money rendered as numbers.
pub(crate) fn json_response(mut value: Value) -> Response {
    render_money(&mut value);
    axum::Json(value).into_response()
}

pub(crate) fn required_text(record: &Record, field: &str) -> Result<String, GovernanceError> {
    match record.get(field) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        _ => Err(GovernanceError::bad_param(
            format!("{field} is required"),
            field,
        )),
    }
}

/// A list of strings from a body field (absent → empty).
pub(crate) fn string_list(record: &Record, field: &str) -> Result<Vec<String>, GovernanceError> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    GovernanceError::bad_param(format!("{field} must be a list of strings"), field)
                })
            })
            .collect(),
        Some(_) => Err(GovernanceError::bad_param(
            format!("{field} must be a list of strings"),
            field,
        )),
    }
}

/// Query parameters as a map.
pub(crate) type Query = axum::extract::Query<std::collections::HashMap<String, String>>;

pub(crate) fn query_int(query: &Query, name: &str, default: i64) -> Result<i64, GovernanceError> {
    match query.get(name) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| GovernanceError::bad_param(format!("{name} must be an integer"), name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Option<UserRole>) -> Caller {
        Caller {
            auth: Arc::new(KeyAuth {
                token: "t".into(),
                user_id: Some("user-1234567890".into()),
                user_role: role,
                ..KeyAuth::default()
            }),
        }
    }

    #[test]
    fn internal_users_cannot_create_teams() {
        let error = check_route(
            &caller(Some(UserRole::InternalUser)),
            "/team/new",
            &Method::POST,
        )
        .unwrap_err();
        assert_eq!(error.status_code(), 401);
        assert_eq!(
            error.to_string(),
            "Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=/team/new. Your role=internal_user. Your user_id=user-1*******90"
        );
        assert!(
            check_route(
                &caller(Some(UserRole::InternalUser)),
                "/key/generate",
                &Method::POST
            )
            .is_ok()
        );
    }

    #[test]
    fn viewers_read_but_do_not_write() {
        let viewer = caller(Some(UserRole::ProxyAdminViewer));
        assert!(check_route(&viewer, "/global/spend/report", &Method::GET).is_ok());
        let error = check_route(&viewer, "/key/generate", &Method::POST).unwrap_err();
        assert_eq!(error.status_code(), 403);
        assert_eq!(
            error.to_string(),
            "user not allowed to access this route, role= proxy_admin_viewer. Trying to access: /key/generate"
        );
        let internal_viewer = caller(Some(UserRole::InternalUserViewer));
        assert!(check_route(&internal_viewer, "/key/generate", &Method::POST).is_err());
        assert!(check_route(&internal_viewer, "/spend/logs", &Method::GET).is_ok());
    }

    #[test]
    fn unknown_body_fields_are_named() {
        let error = parse_body(
            &Bytes::from_static(br#"{"key_alias": "a", "bogus": 1}"#),
            &["key_alias"],
        )
        .unwrap_err();
        assert_eq!(error.status_code(), 400);
        assert!(error.to_string().contains("bogus"));
    }
}
