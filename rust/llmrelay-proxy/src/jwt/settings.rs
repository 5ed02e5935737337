//! `general_settings.litellm_jwtauth` (LiteLLM's `LiteLLM_JWTAuth`) and the environment that
//! goes with it (`JWT_PUBLIC_KEY_URL`, `JWT_AUDIENCE`, `JWT_ISSUER`), checked at start-up.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

/// `role_mappings` entry: a role in the token → the internal role it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMapping {
    pub role: String,
    /// `proxy_admin`, `team` or `internal_user`.
    pub internal_role: String,
}

/// `jwt_litellm_role_map` entry: a glob over the token's roles → a LiteLLM user role.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMap {
    pub jwt_role: String,
    pub litellm_role: String,
}

fn default_admin_scope() -> String {
    "litellm_proxy_admin".to_owned()
}

fn default_admin_routes() -> Vec<String> {
    [
        "management_routes",
        "spend_tracking_routes",
        "global_spend_tracking_routes",
        "info_routes",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn default_team_routes() -> Vec<String> {
    ["openai_routes", "info_routes"].map(str::to_owned).to_vec()
}

fn default_public_key_ttl() -> f64 {
    600.0
}

/// LiteLLM's `litellm_jwtauth` with its defaults.
#[derive(Debug, Clone, Deserialize)]
pub struct JwtAuthSettings {
    #[serde(default = "default_admin_scope")]
    pub admin_jwt_scope: String,
    #[serde(default = "default_admin_routes")]
    pub admin_allowed_routes: Vec<String>,
    #[serde(default)]
    pub team_id_jwt_field: Option<String>,
    #[serde(default)]
    pub team_ids_jwt_field: Option<String>,
    #[serde(default)]
    pub team_id_default: Option<String>,
    #[serde(default)]
    pub team_id_upsert: bool,
    #[serde(default = "default_team_routes")]
    pub team_allowed_routes: Vec<String>,
    #[serde(default)]
    pub org_id_jwt_field: Option<String>,
    #[serde(default)]
    pub user_id_jwt_field: Option<String>,
    #[serde(default)]
    pub user_email_jwt_field: Option<String>,
    #[serde(default)]
    pub user_allowed_email_domain: Option<String>,
    #[serde(default)]
    pub user_roles_jwt_field: Option<String>,
    #[serde(default)]
    pub user_allowed_roles: Option<Vec<String>>,
    #[serde(default)]
    pub user_id_upsert: bool,
    #[serde(default)]
    pub end_user_id_jwt_field: Option<String>,
    /// Seconds a fetched JWKS is used before it is fetched again.
    #[serde(default = "default_public_key_ttl")]
    pub public_key_ttl: f64,
    #[serde(default)]
    pub enforce_rbac: bool,
    #[serde(default)]
    pub roles_jwt_field: Option<String>,
    #[serde(default)]
    pub role_mappings: Option<Vec<RoleMapping>>,
    #[serde(default)]
    pub jwt_litellm_role_map: Option<Vec<RoleMap>>,
    #[serde(default)]
    pub enforce_team_based_model_access: bool,
    /// llmrelay's extension: a PEM public key (SPKI or PKCS#1 RSA, SPKI EC or Ed25519) or an
    /// X.509 certificate, used instead of (or beside) `JWT_PUBLIC_KEY_URL`.
    #[serde(default)]
    pub public_key: Option<String>,
    /// Keys of LiteLLM's `LiteLLM_JWTAuth` that llmrelay does not implement (warned about).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Default for JwtAuthSettings {
    fn default() -> Self {
        Self {
            admin_jwt_scope: default_admin_scope(),
            admin_allowed_routes: default_admin_routes(),
            team_id_jwt_field: None,
            team_ids_jwt_field: None,
            team_id_default: None,
            team_id_upsert: false,
            team_allowed_routes: default_team_routes(),
            org_id_jwt_field: None,
            user_id_jwt_field: None,
            user_email_jwt_field: None,
            user_allowed_email_domain: None,
            user_roles_jwt_field: None,
            user_allowed_roles: None,
            user_id_upsert: false,
            end_user_id_jwt_field: None,
            public_key_ttl: default_public_key_ttl(),
            enforce_rbac: false,
            roles_jwt_field: None,
            role_mappings: None,
            jwt_litellm_role_map: None,
            enforce_team_based_model_access: false,
            public_key: None,
            other: Map::new(),
        }
    }
}

/// `LiteLLM_JWTAuth` keys llmrelay accepts without acting on them (a start-up warning each).
pub const NOT_BUILT: &[&str] = &[
    "team_jwt_scope",
    "upsert_sso_user_to_team",
    "public_allowed_routes",
    "object_id_jwt_field",
    "scope_mappings",
    "enforce_scope_based_access",
    "custom_validate",
    "sync_user_role_and_teams",
    "team_alias_jwt_field",
    "org_alias_jwt_field",
    "team_claim_fallback",
    "fallback_to_db_teams",
    "issuers",
    "public_key_stale_ttl",
    "oidc_userinfo_enabled",
    "oidc_userinfo_endpoint",
    "oidc_userinfo_cache_ttl",
    "virtual_key_claim_field",
    "virtual_key_mapping_cache_ttl",
    "agent_id_jwt_field",
    "user_allowed_email_subdomain",
];

/// Route groups LiteLLM's `*_allowed_routes` may name.
pub const ROUTE_GROUPS: &[&str] = &[
    "openai_routes",
    "info_routes",
    "management_routes",
    "spend_tracking_routes",
    "global_spend_tracking_routes",
    "public_routes",
    "llm_api_routes",
    "anthropic_routes",
];

const ROLES: &[&str] = &["proxy_admin", "team", "internal_user"];

impl JwtAuthSettings {
    /// LiteLLM's own consistency checks, plus types and values; errors name the field.
    ///
    /// # Errors
    /// `general_settings.litellm_jwtauth.<field>: <reason>`.
    pub fn check(&self) -> Result<Vec<String>, String> {
        let path = "general_settings.litellm_jwtauth";
        let mut warnings = Vec::new();
        for key in self.other.keys() {
            if NOT_BUILT.contains(&key.as_str()) {
                warnings.push(format!(
                    "{path}.{key} is a LiteLLM setting that llmrelay does not implement; it is ignored"
                ));
            } else {
                return Err(format!(
                    "{path}.{key}: unknown field (LiteLLM refuses it too)"
                ));
            }
        }
        if self.user_roles_jwt_field.is_some() != self.user_allowed_roles.is_some() {
            return Err(format!(
                "{path}.user_allowed_roles: must be set together with user_roles_jwt_field"
            ));
        }
        if !self.public_key_ttl.is_finite() || self.public_key_ttl < 0.0 {
            return Err(format!(
                "{path}.public_key_ttl: must be a number of seconds >= 0"
            ));
        }
        if self.admin_jwt_scope.trim().is_empty() {
            return Err(format!("{path}.admin_jwt_scope: must not be empty"));
        }
        for (field, routes) in [
            ("admin_allowed_routes", &self.admin_allowed_routes),
            ("team_allowed_routes", &self.team_allowed_routes),
        ] {
            for (index, route) in routes.iter().enumerate() {
                if !route.starts_with('/') && !ROUTE_GROUPS.contains(&route.as_str()) {
                    return Err(format!(
                        "{path}.{field}[{index}]: '{route}' is neither a route (starting with '/') nor one of {ROUTE_GROUPS:?}"
                    ));
                }
            }
        }
        for (index, mapping) in self.role_mappings.iter().flatten().enumerate() {
            if !ROLES.contains(&mapping.internal_role.as_str()) {
                return Err(format!(
                    "{path}.role_mappings[{index}].internal_role: '{}' is not one of {ROLES:?}",
                    mapping.internal_role
                ));
            }
        }
        for (index, mapping) in self.jwt_litellm_role_map.iter().flatten().enumerate() {
            if llmrelay_governance::UserRole::parse(&mapping.litellm_role).is_none() {
                return Err(format!(
                    "{path}.jwt_litellm_role_map[{index}].litellm_role: '{}' is not a LiteLLM user role",
                    mapping.litellm_role
                ));
            }
        }
        if let Some(pem) = &self.public_key {
            super::keys::parse_pem(pem).map_err(|error| format!("{path}.public_key: {error}"))?;
        }
        Ok(warnings)
    }

    #[must_use]
    pub fn key_ttl(&self) -> Duration {
        Duration::from_secs_f64(self.public_key_ttl)
    }
}

/// Where keys come from and what tokens must say, from the environment (LiteLLM's names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwtEnvironment {
    /// `JWT_PUBLIC_KEY_URL`, split on commas.
    pub public_key_urls: Vec<String>,
    /// `JWT_AUDIENCE`: checked when set.
    pub audience: Option<String>,
    /// `JWT_ISSUER`: checked when set.
    pub issuer: Option<String>,
}

impl JwtEnvironment {
    #[must_use]
    pub fn from_env() -> Self {
        let variable = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Self {
            public_key_urls: variable("JWT_PUBLIC_KEY_URL")
                .map(|urls| {
                    urls.split(',')
                        .map(str::trim)
                        .filter(|url| !url.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            audience: variable("JWT_AUDIENCE"),
            issuer: variable("JWT_ISSUER"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: serde_json::Value) -> JwtAuthSettings {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn defaults_are_litellms() {
        let settings = parse(serde_json::json!({}));
        assert_eq!(settings.admin_jwt_scope, "litellm_proxy_admin");
        assert_eq!(
            settings.team_allowed_routes,
            ["openai_routes", "info_routes"]
        );
        assert_eq!(settings.admin_allowed_routes.len(), 4);
        assert_eq!(settings.key_ttl(), Duration::from_secs(600));
        assert!(settings.check().unwrap().is_empty());
    }

    #[test]
    fn bad_fields_are_named() {
        let error = parse(serde_json::json!({"user_roles_jwt_field": "roles"}))
            .check()
            .unwrap_err();
        assert!(
            error.contains("litellm_jwtauth.user_allowed_roles"),
            "{error}"
        );
        let error = parse(serde_json::json!({"bogus": 1})).check().unwrap_err();
        assert!(error.contains("litellm_jwtauth.bogus"), "{error}");
        let error = parse(serde_json::json!({"team_allowed_routes": ["chat"]}))
            .check()
            .unwrap_err();
        assert!(error.contains("team_allowed_routes[0]"), "{error}");
        let error = parse(serde_json::json!({"public_key": "not a key"}))
            .check()
            .unwrap_err();
        assert!(error.contains("litellm_jwtauth.public_key"), "{error}");
        let warnings = parse(serde_json::json!({"scope_mappings": []}))
            .check()
            .unwrap();
        assert!(warnings[0].contains("scope_mappings"));
    }
}
