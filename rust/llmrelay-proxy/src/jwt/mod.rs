//! JWT auth (LiteLLM's `enable_jwt_auth` + `litellm_jwtauth`): a bearer token that looks like
//! a JWT is verified ([`verify`]: signature against the issuer's JWKS or a static key,
//! `exp`/`nbf`, `JWT_AUDIENCE`, `JWT_ISSUER`), its claims are mapped to a user, team,
//! organization, end user and role, the role's allowed routes are checked, and the caller is
//! looked up in the database like a key's owner (team models, budgets and limits apply). Every
//! other key goes to the authenticator it wraps.

pub mod keys;
pub use llmrelay_governance::routes;
pub mod settings;
pub mod verify;

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use llmrelay_core::Error;
use llmrelay_governance::jwt::JwtSubject;
use llmrelay_governance::{Governance, GovernanceError, KeyAuth, UserRole};

use crate::auth::{Authenticator, Principal};
use crate::config::ProxyConfig;

pub use settings::{JwtAuthSettings, JwtEnvironment};
pub use verify::JwtVerifier;

/// Whether a presented key is a JWT rather than a virtual key: three non-empty base64url
/// segments (virtual keys start with `sk-` and have no dots).
#[must_use]
pub fn looks_like_jwt(key: &str) -> bool {
    if key.starts_with("sk-") {
        return false;
    }
    let mut segments = 0;
    for segment in key.split('.') {
        segments += 1;
        if segment.is_empty()
            || !segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
        {
            return false;
        }
    }
    segments == 3
}

/// The authenticator in front of another: JWTs here, everything else there.
pub struct JwtAuth {
    inner: Arc<dyn Authenticator>,
    verifier: Arc<JwtVerifier>,
    settings: Arc<JwtAuthSettings>,
    engine: Option<Arc<Governance>>,
}

impl JwtAuth {
    #[must_use]
    pub fn new(
        inner: Arc<dyn Authenticator>,
        verifier: Arc<JwtVerifier>,
        settings: Arc<JwtAuthSettings>,
        engine: Option<Arc<Governance>>,
    ) -> Self {
        Self {
            inner,
            verifier,
            settings,
            engine,
        }
    }

    /// `inner` wrapped when the config turns JWT auth on (`general_settings.enable_jwt_auth`),
    /// else `inner` itself.
    ///
    /// # Errors
    /// JWT auth on without any key source, or an unusable static key.
    pub fn wrap(
        config: &ProxyConfig,
        inner: Arc<dyn Authenticator>,
        engine: Option<Arc<Governance>>,
    ) -> Result<Arc<dyn Authenticator>, String> {
        if config.general_settings.enable_jwt_auth != Some(true) {
            return Ok(inner);
        }
        let settings = config
            .general_settings
            .litellm_jwtauth
            .clone()
            .unwrap_or_default();
        let environment = JwtEnvironment::from_env();
        let verifier = JwtVerifier::new(&settings, &environment)?;
        // Once per process (the proxy wraps its authenticator again when it opens the database).
        static UNSCOPED_WARNING: std::sync::Once = std::sync::Once::new();
        if environment.audience.is_none() && environment.issuer.is_none() {
            UNSCOPED_WARNING.call_once(|| tracing::warn!(
                "JWT auth is on without JWT_AUDIENCE or JWT_ISSUER: tokens minted by any application of the same identity provider are accepted; set JWT_AUDIENCE (and JWT_ISSUER) to scope this proxy"
            ));
        }
        Ok(Arc::new(Self::new(
            inner,
            Arc::new(verifier),
            Arc::new(settings),
            engine,
        )))
    }

    fn is_jwt(&self, key: Option<&str>) -> bool {
        key.is_some_and(|key| {
            looks_like_jwt(key)
                && !self
                    .engine
                    .as_ref()
                    .is_some_and(|engine| engine.is_master_key(key))
        })
    }

    async fn authenticate_jwt(
        &self,
        token: String,
        route: Option<String>,
    ) -> Result<Principal, Error> {
        let claims = self.verifier.verify(&token).await?;
        let subject = subject_of(&self.settings, &claims, &token, route.as_deref())
            .map_err(|e| to_error(&e))?;
        match &self.engine {
            Some(engine) => llmrelay_governance::jwt::authenticate_jwt(engine, subject).await,
            None => Ok(identity_without_database(&subject)),
        }
    }
}

impl Authenticator for JwtAuth {
    fn authenticate(&self, key: Option<String>) -> BoxFuture<'static, Result<Principal, Error>> {
        self.authenticate_route(key, None)
    }

    fn authenticate_route(
        &self,
        key: Option<String>,
        route: Option<&str>,
    ) -> BoxFuture<'static, Result<Principal, Error>> {
        if !self.is_jwt(key.as_deref()) {
            return self.inner.authenticate_route(key, route);
        }
        let this = Self {
            inner: Arc::clone(&self.inner),
            verifier: Arc::clone(&self.verifier),
            settings: Arc::clone(&self.settings),
            engine: self.engine.clone(),
        };
        let route = route.map(str::to_owned);
        let token = key.unwrap_or_default();
        Box::pin(async move { this.authenticate_jwt(token, route).await })
    }
}

fn to_error(error: &GovernanceError) -> Error {
    llmrelay_governance::layers::to_error(error)
}

/// A claim by LiteLLM's dotted path (`resource_access.app.roles`).
fn claim<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    (!value.is_null()).then_some(value)
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A claim as one id: a string, a number, or the first element of a list.
fn claim_text(claims: &Map<String, Value>, field: Option<&str>) -> Option<String> {
    match claim(claims, field?)? {
        Value::Array(items) => items.first().and_then(as_text),
        other => as_text(other),
    }
}

/// A claim as a list: a list, or a space-separated string.
fn claim_list(claims: &Map<String, Value>, field: Option<&str>) -> Option<Vec<String>> {
    match claim(claims, field?)? {
        Value::Array(items) => Some(items.iter().filter_map(as_text).collect()),
        Value::String(text) => Some(text.split_whitespace().map(str::to_owned).collect()),
        other => as_text(other).map(|one| vec![one]),
    }
}

/// `*` and `?` globs (LiteLLM matches `jwt_litellm_role_map` with `fnmatch`).
fn glob(pattern: &str, text: &str) -> bool {
    fn matches(pattern: &[u8], text: &[u8]) -> bool {
        match (pattern.first(), text.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                matches(&pattern[1..], text) || (!text.is_empty() && matches(pattern, &text[1..]))
            }
            (Some(b'?'), Some(_)) => matches(&pattern[1..], &text[1..]),
            (Some(p), Some(t)) if p == t => matches(&pattern[1..], &text[1..]),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), text.as_bytes())
}

fn route_error(who: &str, route: &str, allowed: &[String]) -> GovernanceError {
    GovernanceError::Authentication(format!(
        "Authentication Error, {who} not allowed to access this route. Route={route}, Allowed Routes={:?}",
        routes::expand(allowed)
    ))
}

/// LiteLLM's mapping of verified claims to a caller, with its role and route checks.
///
/// # Errors
/// LiteLLM's 401/403s: no role under `enforce_rbac`, an email outside
/// `user_allowed_email_domain`, a route the role may not call.
pub fn subject_of(
    settings: &JwtAuthSettings,
    claims: &Map<String, Value>,
    token: &str,
    route: Option<&str>,
) -> Result<JwtSubject, GovernanceError> {
    let scopes = claim_list(claims, Some("scope")).unwrap_or_default();
    let is_admin = scopes.contains(&settings.admin_jwt_scope);
    let user_email = claim_text(claims, settings.user_email_jwt_field.as_deref());
    // LiteLLM falls back to the email when the user id claim is absent.
    let user_id =
        claim_text(claims, settings.user_id_jwt_field.as_deref()).or_else(|| user_email.clone());
    let team_id = claim_text(claims, settings.team_id_jwt_field.as_deref())
        .or_else(|| settings.team_id_default.clone());
    let team_ids = claim_list(claims, settings.team_ids_jwt_field.as_deref()).unwrap_or_default();
    let org_id = claim_text(claims, settings.org_id_jwt_field.as_deref());
    let end_user_id = claim_text(claims, settings.end_user_id_jwt_field.as_deref());
    let user_roles = claim_list(claims, settings.user_roles_jwt_field.as_deref());
    let jwt_roles = claim_list(claims, settings.roles_jwt_field.as_deref()).unwrap_or_default();
    let allowed_user_role = match (&user_roles, &settings.user_allowed_roles) {
        (Some(roles), Some(allowed)) => roles.iter().any(|r| allowed.contains(r)),
        _ => false,
    };
    let mapped = settings.role_mappings.iter().flatten().find_map(|mapping| {
        jwt_roles
            .contains(&mapping.role)
            .then_some(mapping.internal_role.as_str())
    });
    let rbac_role = if is_admin {
        Some(UserRole::ProxyAdmin)
    } else if team_id.is_some() {
        Some(UserRole::Team)
    } else if user_id.is_some() || allowed_user_role {
        Some(UserRole::InternalUser)
    } else {
        mapped.and_then(UserRole::parse)
    };
    if settings.enforce_rbac && rbac_role.is_none() {
        return Err(GovernanceError::Forbidden(
            "Unmatched token passed in. enforce_rbac is set to True. Token must belong to a proxy admin, team, or user.".to_owned(),
        ));
    }
    if let Some(domain) = &settings.user_allowed_email_domain {
        let allowed = user_email
            .as_deref()
            .is_some_and(|email| email.rsplit('@').next() == Some(domain.as_str()));
        if !allowed {
            return Err(GovernanceError::Forbidden(format!(
                "Email domain not allowed. User email: {}. Allowed domain: {domain}",
                user_email.as_deref().unwrap_or("None")
            )));
        }
    }
    let token_hash = llmrelay_governance::keys::hash_key(token);
    if is_admin {
        if let Some(route) = route
            && !routes::allowed(route, &settings.admin_allowed_routes)
        {
            return Err(route_error("Admin", route, &settings.admin_allowed_routes));
        }
        let mut subject = JwtSubject::new(token_hash, UserRole::ProxyAdmin);
        subject.user_id = user_id;
        subject.user_email = user_email;
        subject.org_id = org_id;
        return Ok(subject);
    }
    let has_team = team_id.is_some() || !team_ids.is_empty();
    if has_team
        && let Some(route) = route
        && !routes::allowed(route, &settings.team_allowed_routes)
    {
        return Err(route_error("Team", route, &settings.team_allowed_routes));
    }
    // `jwt_litellm_role_map` (fnmatch globs over the roles claim) names the user's role.
    let mapped_user_role = settings
        .jwt_litellm_role_map
        .iter()
        .flatten()
        .find(|mapping| jwt_roles.iter().any(|role| glob(&mapping.jwt_role, role)))
        .and_then(|mapping| UserRole::parse(&mapping.litellm_role));
    let role = mapped_user_role
        .or(rbac_role)
        .unwrap_or(UserRole::InternalUser);
    Ok(JwtSubject {
        token: token_hash,
        user_id,
        user_email,
        team_id,
        team_ids,
        org_id,
        end_user_id,
        role,
        user_id_upsert: settings.user_id_upsert,
        team_id_upsert: settings.team_id_upsert,
        require_team: settings.enforce_team_based_model_access,
    })
}

/// Without a database the claims are the whole identity (no team models or budgets to read).
fn identity_without_database(subject: &JwtSubject) -> Principal {
    let team_id = subject
        .team_id
        .clone()
        .or_else(|| subject.team_ids.first().cloned());
    let auth = KeyAuth {
        token: subject.token.clone(),
        key_type: Some("jwt".to_owned()),
        user_id: subject.user_id.clone(),
        user_email: subject.user_email.clone(),
        team_id,
        org_id: subject.org_id.clone(),
        user_role: Some(subject.role),
        ..KeyAuth::default()
    };
    let mut identity = llmrelay_governance::layers::admit::key_auth::identity_of(Arc::new(auth));
    identity.end_user_id.clone_from(&subject.end_user_id);
    identity
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    fn settings(value: Value) -> JwtAuthSettings {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn recognises_jwts() {
        assert!(looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"));
        assert!(!looks_like_jwt("sk-abc.def.ghi"));
        assert!(!looks_like_jwt("sk-1234"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a..c"));
        assert!(!looks_like_jwt("a.b c.d"));
    }

    #[test]
    fn claims_map_to_a_team_caller() {
        let settings = settings(json!({
            "user_id_jwt_field": "sub", "team_id_jwt_field": "client_id",
            "org_id_jwt_field": "org.id", "end_user_id_jwt_field": "customer",
            "user_email_jwt_field": "email", "user_id_upsert": true
        }));
        let subject = subject_of(
            &settings,
            &claims(
                json!({"sub": "u1", "client_id": ["t1", "t2"], "org": {"id": "o1"},
                           "customer": "c1", "email": "u1@x.com", "scope": "read"}),
            ),
            "token",
            Some("/chat/completions"),
        )
        .unwrap();
        assert_eq!(subject.user_id.as_deref(), Some("u1"));
        assert_eq!(subject.team_id.as_deref(), Some("t1"));
        assert_eq!(subject.org_id.as_deref(), Some("o1"));
        assert_eq!(subject.end_user_id.as_deref(), Some("c1"));
        assert_eq!(subject.role, UserRole::Team);
        assert!(subject.user_id_upsert);
        assert_eq!(subject.token, llmrelay_governance::keys::hash_key("token"));
        // A team may not call management routes by default.
        let error = subject_of(
            &settings,
            &claims(json!({"client_id": "t1"})),
            "token",
            Some("/key/generate"),
        )
        .unwrap_err();
        assert_eq!(error.status_code(), 401);
        assert!(error.to_string().contains("Team not allowed"), "{error}");
    }

    #[test]
    fn admin_scope_and_its_routes() {
        let settings = settings(json!({"user_id_jwt_field": "sub"}));
        let admin = claims(json!({"sub": "boss", "scope": ["openid", "litellm_proxy_admin"]}));
        let subject = subject_of(&settings, &admin, "t", Some("/key/generate")).unwrap();
        assert_eq!(subject.role, UserRole::ProxyAdmin);
        assert!(!subject.user_id_upsert);
        // LiteLLM's default admin routes leave out the LLM routes.
        let error = subject_of(&settings, &admin, "t", Some("/chat/completions")).unwrap_err();
        assert!(error.to_string().contains("Admin not allowed"), "{error}");
        let custom = settings_with_scope("my-admin");
        let subject = subject_of(
            &custom,
            &claims(json!({"scope": "a my-admin b"})),
            "t",
            None,
        )
        .unwrap();
        assert_eq!(subject.role, UserRole::ProxyAdmin);
    }

    fn settings_with_scope(scope: &str) -> JwtAuthSettings {
        settings(json!({"admin_jwt_scope": scope}))
    }

    #[test]
    fn rbac_roles_and_email_domains() {
        let strict = settings(json!({"enforce_rbac": true}));
        let error = subject_of(&strict, &claims(json!({"sub": "x"})), "t", None).unwrap_err();
        assert_eq!(error.status_code(), 403);
        let mapped = settings(json!({
            "enforce_rbac": true, "roles_jwt_field": "roles",
            "role_mappings": [{"role": "api.consumer", "internal_role": "internal_user"}],
            "jwt_litellm_role_map": [{"jwt_role": "viewer-*", "litellm_role": "internal_user_viewer"}]
        }));
        let subject = subject_of(
            &mapped,
            &claims(json!({"roles": ["api.consumer"]})),
            "t",
            None,
        )
        .unwrap();
        assert_eq!(subject.role, UserRole::InternalUser);
        let subject = subject_of(
            &mapped,
            &claims(json!({"roles": ["api.consumer", "viewer-eu"]})),
            "t",
            None,
        )
        .unwrap();
        assert_eq!(subject.role, UserRole::InternalUserViewer);
        let domain = settings(json!({
            "user_email_jwt_field": "email", "user_allowed_email_domain": "my-co.com"
        }));
        assert!(subject_of(&domain, &claims(json!({"email": "a@my-co.com"})), "t", None).is_ok());
        let error =
            subject_of(&domain, &claims(json!({"email": "a@other.com"})), "t", None).unwrap_err();
        assert!(error.to_string().contains("Email domain not allowed"));
    }

    #[test]
    fn team_default_and_list_claims() {
        let settings = settings(json!({
            "team_id_jwt_field": "team", "team_id_default": "fallback",
            "team_ids_jwt_field": "groups", "enforce_team_based_model_access": true
        }));
        let subject =
            subject_of(&settings, &claims(json!({"groups": "g1 g2"})), "t", None).unwrap();
        assert_eq!(subject.team_id.as_deref(), Some("fallback"));
        assert_eq!(subject.team_ids, ["g1", "g2"]);
        assert!(subject.require_team);
        assert!(glob("a*c?", "abbbcd"));
        assert!(!glob("a*c", "abbbcd"));
    }
}
