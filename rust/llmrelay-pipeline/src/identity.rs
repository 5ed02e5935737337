//! Who is calling: LiteLLM's `UserAPIKeyAuth` fields that layers, hooks and logging read. The
//! identity layer fills it; an open proxy and SDK calls have the anonymous admin.

use std::any::Any;
use std::sync::Arc;

use serde_json::{Map, Value};

/// The caller of a call.
#[derive(Clone, Default)]
pub struct Identity {
    /// SHA-256 of the key, hex (LiteLLM's `token`); `None` for SDK calls and open proxies.
    pub key_hash: Option<String>,
    pub key_alias: Option<String>,
    /// Admin (master key, no auth configured, or an SDK call).
    pub is_admin: bool,
    /// LiteLLM's `user_role` (`proxy_admin`, `internal_user`, …).
    pub role: Option<String>,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub team_id: Option<String>,
    pub team_alias: Option<String>,
    pub org_id: Option<String>,
    /// The end user the request is for (`user` in the body, LiteLLM's `end_user_id`).
    pub end_user_id: Option<String>,
    /// Key metadata (LiteLLM's `metadata` on the key).
    pub metadata: Map<String, Value>,
    /// The key's team's metadata (its `guardrails`, `disable_global_guardrails`, …), when the
    /// caller belongs to a team that has some.
    pub team_metadata: Option<Arc<Map<String, Value>>>,
    /// Model names this caller may use as aliases of a model group (a key's `aliases`, its
    /// team's `model_aliases`): the edge resolves them before it checks the model.
    pub model_aliases: Option<Arc<Map<String, Value>>>,
    /// The richer record the identity layer looked up (a virtual key with its team and
    /// budgets), for the layers that know its type.
    pub details: Option<Arc<dyn Any + Send + Sync>>,
}

impl Identity {
    /// The caller of an open proxy or an SDK call: anonymous and unrestricted.
    #[must_use]
    pub fn anonymous() -> Self {
        Self {
            is_admin: true,
            ..Self::default()
        }
    }

    /// The model group `model` is an alias of for this caller.
    #[must_use]
    pub fn alias_target(&self, model: &str) -> Option<&str> {
        self.model_aliases.as_deref()?.get(model)?.as_str()
    }

    /// The richer record, when it is of type `T`.
    #[must_use]
    pub fn details<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.details.as_deref()?.downcast_ref::<T>()
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("key_hash", &self.key_hash)
            .field("key_alias", &self.key_alias)
            .field("is_admin", &self.is_admin)
            .field("role", &self.role)
            .field("user_id", &self.user_id)
            .field("team_id", &self.team_id)
            .field("org_id", &self.org_id)
            .field("end_user_id", &self.end_user_id)
            .finish_non_exhaustive()
    }
}
