//! Access stage: the caller may use the model it asked for — its key's, team's, user's and
//! organization's `models` (model groups, access groups, wildcards, deny patterns). An alias
//! (the key's `aliases`, the team's `model_aliases`) was resolved to its model group at the
//! edge; it grants what its name grants. Then the key's `allowed_cache_controls`.

use std::sync::Arc;

use llmrelay_pipeline::{Admission, Admit, AdmitStage, Call, Step};

use crate::access::alias_target;
use crate::engine::Governance;
use crate::error::GovernanceError;
use crate::identity::KeyAuth;
use crate::layers::to_error;

/// LiteLLM's model access check, before routing.
pub struct ModelAccess {
    engine: Arc<Governance>,
}

impl ModelAccess {
    #[must_use]
    pub fn new(engine: &Arc<Governance>) -> Self {
        Self {
            engine: Arc::clone(engine),
        }
    }

    fn check(&self, auth: &KeyAuth, model: &str) -> Admission {
        let Err(error) = self.engine.check_model_access(auth, model) else {
            return Admission::Continue;
        };
        // The caller named an alias of this model group: the alias's own name may be allowed.
        let via_alias = auth
            .aliases
            .iter()
            .chain(auth.team_model_aliases.iter())
            .filter(|(_, target)| target.as_str() == Some(model))
            .any(|(alias, _)| {
                alias_target(auth, alias).as_deref() == Some(model)
                    && self.engine.check_model_access(auth, alias).is_ok()
            });
        // A team's own deployment, reached by its public name (`team_public_model_name`):
        // the public name is what the team's models grant.
        let via_team_model = !via_alias
            && auth.team_id.as_deref().is_some_and(|team| {
                self.engine.db_deployments().iter().any(|deployment| {
                    let info = |name: &str| {
                        deployment
                            .model_info
                            .get(name)
                            .and_then(serde_json::Value::as_str)
                    };
                    deployment.model_name == model
                        && info("team_id") == Some(team)
                        && info("team_public_model_name").is_some_and(|public| {
                            self.engine.check_model_access(auth, public).is_ok()
                        })
                })
            });
        if via_alias || via_team_model {
            Admission::Continue
        } else {
            Admission::Reject(to_error(&error))
        }
    }
}

impl Admit for ModelAccess {
    fn name(&self) -> &'static str {
        "governance.model_access"
    }

    fn stage(&self) -> AdmitStage {
        AdmitStage::Access
    }

    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        let Some(auth) = call.identity.details::<KeyAuth>() else {
            return Step::Ready(Admission::Continue);
        };
        if auth.is_master_key || auth.db_unavailable_fallback {
            return Step::Ready(Admission::Continue);
        }
        match self.check(auth, &call.model_group) {
            Admission::Continue => Step::Ready(cache_controls(auth, call)),
            refused => Step::Ready(refused),
        }
    }
}

/// LiteLLM's cache-control check: a key with `allowed_cache_controls` may only send those
/// `cache` controls (an empty list allows all).
fn cache_controls(auth: &KeyAuth, call: &Call) -> Admission {
    if auth.allowed_cache_controls.is_empty() {
        return Admission::Continue;
    }
    let Some(cache) = call.options.other.get("cache").and_then(|c| c.as_object()) else {
        return Admission::Continue;
    };
    match cache
        .keys()
        .find(|control| !auth.allowed_cache_controls.iter().any(|a| a == *control))
    {
        Some(control) => Admission::Reject(to_error(&GovernanceError::Forbidden(format!(
            "Not allowed to set {control} as a cache control. Contact admin to change \
             permissions."
        )))),
        None => Admission::Continue,
    }
}
