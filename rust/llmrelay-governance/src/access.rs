//! Model access: the `models` lists of keys, teams, users and organizations (model group
//! names, access groups, wildcards, LiteLLM's special names) plus deny patterns (`!pattern`)
//! that win over every allow, and team/key model aliases.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::GovernanceError;
use crate::identity::KeyAuth;

/// `model_info.access_groups` of the deployments: access group → model groups in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessGroups {
    groups: HashMap<String, Vec<String>>,
}

impl AccessGroups {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a model group to an access group.
    pub fn add(&mut self, access_group: &str, model_group: &str) {
        let members = self.groups.entry(access_group.to_owned()).or_default();
        if !members.iter().any(|m| m == model_group) {
            members.push(model_group.to_owned());
        }
    }

    /// Builds the map from `(model_name, model_info)` pairs of the deployments.
    #[must_use]
    pub fn from_deployments<'a>(
        deployments: impl IntoIterator<Item = (&'a str, &'a Value)>,
    ) -> Self {
        let mut groups = Self::new();
        for (model_name, model_info) in deployments {
            if let Some(names) = model_info.get("access_groups").and_then(Value::as_array) {
                for name in names.iter().filter_map(Value::as_str) {
                    groups.add(name, model_name);
                }
            }
        }
        groups
    }

    #[must_use]
    pub fn members(&self, access_group: &str) -> Option<&[String]> {
        self.groups.get(access_group).map(Vec::as_slice)
    }
}

/// LiteLLM's names that mean "every model".
const ALL_MODELS: &[&str] = &["*", "all-proxy-models"];

/// Glob match with `*` (any run of characters).
#[must_use]
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (index, part) in parts.iter().enumerate() {
        if index == 0 {
            let Some(stripped) = rest.strip_prefix(part) else {
                return false;
            };
            rest = stripped;
        } else if index == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(position) = rest.find(part) {
            rest = &rest[position + part.len()..];
        } else {
            return false;
        }
    }
    true
}

/// One `models` list.
#[derive(Debug, Clone, Copy)]
pub struct ModelList<'a> {
    pub models: &'a [String],
}

/// Whether a list allows `model`: `Some(true)` allowed, `Some(false)` denied by a `!` pattern,
/// `None` not mentioned (denied unless the list is empty).
fn list_decision(list: &[String], model: &str, groups: &AccessGroups) -> Option<bool> {
    let entry_matches = |entry: &str| -> bool {
        if glob_match(entry, model) {
            return true;
        }
        groups
            .members(entry)
            .is_some_and(|members| members.iter().any(|m| glob_match(m, model)))
    };
    if list
        .iter()
        .filter_map(|entry| entry.strip_prefix('!'))
        .any(entry_matches)
    {
        return Some(false);
    }
    let allows: Vec<&String> = list.iter().filter(|e| !e.starts_with('!')).collect();
    if allows.is_empty() || allows.iter().any(|e| ALL_MODELS.contains(&e.as_str())) {
        return Some(true);
    }
    allows
        .iter()
        .any(|entry| entry_matches(entry))
        .then_some(true)
}

impl ModelList<'_> {
    /// Whether the list lets `candidates` (the requested name and its alias target) through.
    #[must_use]
    pub fn allows(&self, candidates: &[&str], groups: &AccessGroups) -> bool {
        let mut allowed = false;
        for candidate in candidates {
            match list_decision(self.models, candidate, groups) {
                Some(false) => return false,
                Some(true) => allowed = true,
                None => {}
            }
        }
        allowed
    }
}

/// The lists that apply to a caller, most specific first, with LiteLLM's error type of each.
fn lists(auth: &KeyAuth) -> Vec<(&[String], &'static str, &'static str)> {
    let mut lists = Vec::new();
    let key_models: &[String] = if auth.models.iter().any(|m| m == "all-team-models") {
        &[]
    } else {
        &auth.models
    };
    lists.push((key_models, "key", "key_model_access_denied"));
    if auth.team_id.is_some() {
        lists.push((
            auth.team_models.as_slice(),
            "team",
            "team_model_access_denied",
        ));
    } else if auth.user_id.is_some() {
        lists.push((
            auth.user_models.as_slice(),
            "user",
            "user_model_access_denied",
        ));
    }
    if auth.org_id.is_some() {
        lists.push((auth.org_models.as_slice(), "org", "org_model_access_denied"));
    }
    lists
}

/// The alias target of `model` for this caller (key aliases first, then the team's).
#[must_use]
pub fn alias_target(auth: &KeyAuth, model: &str) -> Option<String> {
    auth.aliases
        .get(model)
        .or_else(|| auth.team_model_aliases.get(model))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Checks that the caller may use `requested_model`; returns the model group an alias
/// resolves to (`None` when the name is not an alias).
///
/// # Errors
/// [`GovernanceError::ModelAccessDenied`] with LiteLLM's message and error type.
pub fn check_model_access(
    auth: &KeyAuth,
    requested_model: &str,
    groups: &AccessGroups,
) -> Result<Option<String>, GovernanceError> {
    let target = alias_target(auth, requested_model);
    if auth.is_master_key {
        return Ok(target);
    }
    let mut candidates = vec![requested_model];
    if let Some(target) = &target {
        candidates.push(target);
    }
    for (models, object_type, error_type) in lists(auth) {
        if !(ModelList { models }).allows(&candidates, groups) {
            tracing::debug!(
                object_type,
                ?models,
                requested_model,
                "{object_type} not allowed to access model"
            );
            return Err(GovernanceError::ModelAccessDenied {
                message: format!(
                    "The requested model '{requested_model}' is not available for this API key, or the model name is invalid. Check the models available to you and try again."
                ),
                error_type,
            });
        }
    }
    Ok(target)
}

/// The models of `available` (model group names) the caller may use, plus its aliases
/// (for `/v1/models` and `/key/info`).
#[must_use]
pub fn filter_models(auth: &KeyAuth, available: &[String], groups: &AccessGroups) -> Vec<String> {
    let mut result: Vec<String> = available
        .iter()
        .filter(|model| check_model_access(auth, model, groups).is_ok())
        .cloned()
        .collect();
    for alias in auth.aliases.keys().chain(auth.team_model_aliases.keys()) {
        if !result.contains(alias) && check_model_access(auth, alias, groups).is_ok() {
            result.push(alias.clone());
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn globs() {
        assert!(glob_match("openai/*", "openai/gpt-4o"));
        assert!(glob_match("gpt-4o*", "gpt-4o-mini"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("a*c*e", "abcde"));
        assert!(!glob_match("gpt-4o*", "gpt-4"));
        assert!(!glob_match("openai/*", "anthropic/claude"));
    }

    #[test]
    fn deny_patterns_win_over_allows() {
        let auth = KeyAuth {
            models: strings(&["gpt-4o*", "!gpt-4o-realtime*"]),
            ..KeyAuth::default()
        };
        let groups = AccessGroups::new();
        assert!(check_model_access(&auth, "gpt-4o-mini", &groups).is_ok());
        let error = check_model_access(&auth, "gpt-4o-realtime-preview", &groups).unwrap_err();
        assert_eq!(error.error_type(), "key_model_access_denied");
        assert_eq!(error.status_code(), 403);
        // A deny alone still allows everything else.
        let deny_only = KeyAuth {
            models: strings(&["!claude*"]),
            ..KeyAuth::default()
        };
        assert!(check_model_access(&deny_only, "gpt-4o", &groups).is_ok());
        assert!(check_model_access(&deny_only, "claude-3", &groups).is_err());
    }

    #[test]
    fn access_groups_and_team_lists() {
        let mut groups = AccessGroups::new();
        groups.add("beta", "gpt-5");
        let auth = KeyAuth {
            models: strings(&["beta"]),
            team_id: Some("t".into()),
            team_models: strings(&["gpt-5", "gpt-4o"]),
            ..KeyAuth::default()
        };
        assert!(check_model_access(&auth, "gpt-5", &groups).is_ok());
        assert!(check_model_access(&auth, "gpt-4o", &groups).is_err());
        let team_only = KeyAuth {
            team_id: Some("t".into()),
            team_models: strings(&["gpt-4o"]),
            ..KeyAuth::default()
        };
        let error = check_model_access(&team_only, "gpt-5", &groups).unwrap_err();
        assert_eq!(error.error_type(), "team_model_access_denied");
    }

    #[test]
    fn aliases_resolve_and_allow_through_their_target() {
        let auth = KeyAuth {
            team_id: Some("t".into()),
            team_models: strings(&["gpt-4o-mini"]),
            team_model_aliases: json!({"fast": "gpt-4o-mini"}).as_object().unwrap().clone(),
            ..KeyAuth::default()
        };
        let groups = AccessGroups::new();
        assert_eq!(
            check_model_access(&auth, "fast", &groups).unwrap(),
            Some("gpt-4o-mini".to_owned())
        );
        assert_eq!(
            filter_models(&auth, &strings(&["gpt-4o-mini", "gpt-4o"]), &groups),
            strings(&["gpt-4o-mini", "fast"])
        );
    }

    #[test]
    fn access_groups_from_deployments() {
        let info = json!({"access_groups": ["beta", "internal"]});
        let groups = AccessGroups::from_deployments([("gpt-5", &info)]);
        assert_eq!(groups.members("internal"), Some(&["gpt-5".to_owned()][..]));
    }
}
