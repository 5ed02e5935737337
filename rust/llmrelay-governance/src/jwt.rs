//! Callers who present a verified JWT instead of a virtual key: the proxy maps the token's
//! claims to a [`JwtSubject`], and [`authenticate_jwt`] turns it into the same [`KeyAuth`] a
//! key gets — the team's models, budgets and limits, the user's and organization's — from the
//! database rows named by the claims (a user created when `user_id_upsert` asks for it).

use std::sync::Arc;

use serde_json::Value;

use llmrelay_core::Error;
use llmrelay_pipeline::Identity;

use crate::budget::{Entity, key_limits};
use crate::cache::Lookup;
use crate::db::{Param, Record};
use crate::engine::Governance;
use crate::error::GovernanceError;
use crate::identity::{KeyAuth, KeyRows, UserRole, text};
use crate::layers::admit::key_auth::identity_of;
use crate::layers::on_engine;
use crate::tables;
use crate::time::format_time;

/// Who a verified JWT says the caller is (after the proxy's claim mapping and role checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSubject {
    /// SHA-256 hex of the token (the spend rows' `api_key`, as LiteLLM's).
    pub token: String,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    /// The team of `team_id_jwt_field` (or `team_id_default`).
    pub team_id: Option<String>,
    /// Teams of `team_ids_jwt_field`, tried in order when `team_id` is not set.
    pub team_ids: Vec<String>,
    pub org_id: Option<String>,
    pub end_user_id: Option<String>,
    /// `proxy_admin` for the admin scope, else `team` or `internal_user`.
    pub role: UserRole,
    /// Create the user row when it does not exist (`user_id_upsert`).
    pub user_id_upsert: bool,
    /// Create the team row when it does not exist (`team_id_upsert`).
    pub team_id_upsert: bool,
    /// Refuse a token that names no known team (`enforce_team_based_model_access`).
    pub require_team: bool,
}

impl JwtSubject {
    /// A subject with only the token hash and a role (tests, admins).
    #[must_use]
    pub fn new(token: impl Into<String>, role: UserRole) -> Self {
        Self {
            token: token.into(),
            user_id: None,
            user_email: None,
            team_id: None,
            team_ids: Vec::new(),
            org_id: None,
            end_user_id: None,
            role,
            user_id_upsert: false,
            team_id_upsert: false,
            require_team: false,
        }
    }

    fn cache_key(&self) -> String {
        format!("jwt:{}", self.token)
    }
}

/// The pipeline identity of a verified JWT (its [`KeyAuth`] in `details`), the database work
/// run on the engine's runtime.
///
/// # Errors
/// LiteLLM's errors: an unknown team (404), a blocked team (401), no team when one is required
/// (403), the database being unavailable (503).
pub async fn authenticate_jwt(
    engine: &Arc<Governance>,
    subject: JwtSubject,
) -> Result<Identity, Error> {
    let end_user_id = subject.end_user_id.clone();
    let auth = match engine.cached_jwt(&subject) {
        Some(auth) => auth.map_err(|e| crate::layers::to_error(&e))?,
        None => {
            let worker = Arc::clone(engine);
            on_engine(engine, async move { worker.jwt_auth(&subject).await }).await?
        }
    };
    let mut identity = identity_of(auth);
    identity.end_user_id = end_user_id;
    Ok(identity)
}

impl Governance {
    /// A JWT caller verified recently, from memory only.
    fn cached_jwt(&self, subject: &JwtSubject) -> Option<Result<Arc<KeyAuth>, GovernanceError>> {
        match self.keys.get(&subject.cache_key()) {
            Lookup::Fresh(auth) => Some(team_state(&auth).map(|()| auth)),
            _ => None,
        }
    }

    /// The caller a JWT names, from the rows of its team, user, membership and organization
    /// (cached like a key, invalidated by changes to any of them).
    ///
    /// # Errors
    /// See [`authenticate_jwt`].
    pub async fn jwt_auth(&self, subject: &JwtSubject) -> Result<Arc<KeyAuth>, GovernanceError> {
        let cache_key = subject.cache_key();
        let stale = match self.keys.get(&cache_key) {
            Lookup::Fresh(auth) => {
                team_state(&auth)?;
                return Ok(auth);
            }
            Lookup::Stale(auth) => Some(auth),
            Lookup::Missing => None,
        };
        let auth = match (self.load_jwt_auth(subject).await, stale) {
            (Ok(auth), _) => auth,
            // The database is down: the caller verified a minute ago keeps its rights.
            (Err(GovernanceError::DatabaseUnavailable(_)), Some(stale)) => stale,
            (Err(error), _) => return Err(error),
        };
        team_state(&auth)?;
        Ok(auth)
    }

    async fn load_jwt_auth(&self, subject: &JwtSubject) -> Result<Arc<KeyAuth>, GovernanceError> {
        let store = &self.store;
        let now = format_time(self.clock.now());
        let team = match &subject.team_id {
            Some(team_id) => Some(self.jwt_team(team_id, subject.team_id_upsert, &now).await?),
            None => {
                let mut found = None;
                for team_id in &subject.team_ids {
                    if let Some(team) = store
                        .get(&tables::TEAM_TABLE, &[("team_id", Param::text(team_id))])
                        .await?
                    {
                        found = Some(team);
                        break;
                    }
                }
                found
            }
        };
        if team.is_none() && subject.require_team {
            return Err(GovernanceError::Forbidden(if subject.team_ids.is_empty() {
                "No teams found in token. `enforce_team_based_model_access` is set to True. Token must belong to a team.".to_owned()
            } else {
                format!(
                    "No team found in the database for the teams in the token. `enforce_team_based_model_access` is set to True. Checked teams={:?}",
                    subject.team_ids
                )
            }));
        }
        let team_id = team.as_ref().and_then(|t| text(t, "team_id"));
        let user = match &subject.user_id {
            Some(user_id) => self.jwt_user(subject, user_id, &now).await?,
            None => None,
        };
        let membership = match (&subject.user_id, &team_id) {
            (Some(user_id), Some(team_id)) => {
                store
                    .get(
                        &tables::TEAM_MEMBERSHIP,
                        &[
                            ("user_id", Param::text(user_id)),
                            ("team_id", Param::text(team_id)),
                        ],
                    )
                    .await?
            }
            _ => None,
        };
        let membership_budget = self.budget_of(membership.as_ref()).await?;
        let org_id = subject
            .org_id
            .clone()
            .or_else(|| team.as_ref().and_then(|t| text(t, "organization_id")));
        let organization = match &org_id {
            Some(org_id) => {
                store
                    .get(
                        &tables::ORGANIZATION_TABLE,
                        &[("organization_id", Param::text(org_id))],
                    )
                    .await?
            }
            None => None,
        };
        let organization_budget = self.budget_of(organization.as_ref()).await?;
        let organization_membership = match (&subject.user_id, &org_id) {
            (Some(user_id), Some(org_id)) => {
                store
                    .get(
                        &tables::ORGANIZATION_MEMBERSHIP,
                        &[
                            ("user_id", Param::text(user_id)),
                            ("organization_id", Param::text(org_id)),
                        ],
                    )
                    .await?
            }
            _ => None,
        };
        let mut team = team;
        if let Some(team) = team.as_mut()
            && let Some(model_id) = text(team, "model_id")
            && let Some(aliases) = store
                .get(&tables::MODEL_TABLE, &[("id", Param::text(model_id))])
                .await?
        {
            team.insert(
                "model_aliases".to_owned(),
                aliases.get("model_aliases").cloned().unwrap_or(Value::Null),
            );
        }
        let mut key = Record::new();
        key.insert("token".into(), Value::String(subject.token.clone()));
        for (field, value) in [
            ("user_id", &subject.user_id),
            ("team_id", &team_id),
            ("organization_id", &subject.org_id),
        ] {
            if let Some(value) = value {
                key.insert(field.into(), Value::String(value.clone()));
            }
        }
        let entities = [Entity::Key(subject.token.clone())];
        let mark = self.ledger.mark(&entities);
        let mut auth = KeyRows {
            key,
            user,
            team,
            membership,
            membership_budget,
            organization,
            organization_budget,
            organization_membership,
            ..KeyRows::default()
        }
        .into_auth();
        // The token's role decides for admins; otherwise the stored user's role, if any.
        if subject.role == UserRole::ProxyAdmin || auth.user_role.is_none() {
            auth.user_role = Some(subject.role);
        }
        if auth.user_email.is_none() {
            auth.user_email.clone_from(&subject.user_email);
        }
        auth.key_type = Some("jwt".to_owned());
        let limits = key_limits(&auth);
        let limit_entities: Vec<Entity> = limits.iter().map(|l| l.entity.clone()).collect();
        let mut mark_all = self.ledger.mark(&limit_entities);
        mark_all.merge_from(mark);
        self.ledger.observe(&mark_all, &limits);
        let auth = Arc::new(auth);
        self.keys.insert(subject.cache_key(), Arc::clone(&auth));
        Ok(auth)
    }

    async fn jwt_team(
        &self,
        team_id: &str,
        upsert: bool,
        now: &str,
    ) -> Result<Record, GovernanceError> {
        let key = [("team_id", Param::text(team_id))];
        if let Some(team) = self.store.get(&tables::TEAM_TABLE, &key).await? {
            return Ok(team);
        }
        if upsert {
            let mut record = Record::new();
            record.insert("team_id".into(), Value::String(team_id.to_owned()));
            record.insert("created_at".into(), Value::String(now.to_owned()));
            record.insert("updated_at".into(), Value::String(now.to_owned()));
            self.store
                .insert_ignore(&tables::TEAM_TABLE, &record)
                .await?;
            if let Some(team) = self.store.get(&tables::TEAM_TABLE, &key).await? {
                return Ok(team);
            }
        }
        Err(GovernanceError::NotFound(format!(
            "Team doesn't exist in db. Team={team_id}. Create team via `/team/new` call."
        )))
    }

    async fn jwt_user(
        &self,
        subject: &JwtSubject,
        user_id: &str,
        now: &str,
    ) -> Result<Option<Record>, GovernanceError> {
        let key = [("user_id", Param::text(user_id))];
        if let Some(user) = self.store.get(&tables::USER_TABLE, &key).await? {
            return Ok(Some(user));
        }
        if !subject.user_id_upsert {
            return Ok(None);
        }
        let mut record = Record::new();
        record.insert("user_id".into(), Value::String(user_id.to_owned()));
        if let Some(email) = &subject.user_email {
            record.insert("user_email".into(), Value::String(email.clone()));
        }
        // An admin token's user is stored as an internal user: the scope, not the row, makes
        // it an admin (a token without the scope must not inherit admin rights).
        let role = match subject.role {
            UserRole::ProxyAdmin | UserRole::Team => UserRole::InternalUser,
            other => other,
        };
        record.insert("user_role".into(), Value::String(role.as_str().to_owned()));
        record.insert("created_at".into(), Value::String(now.to_owned()));
        record.insert("updated_at".into(), Value::String(now.to_owned()));
        self.store
            .insert_ignore(&tables::USER_TABLE, &record)
            .await?;
        self.store.get(&tables::USER_TABLE, &key).await
    }

    async fn budget_of(&self, owner: Option<&Record>) -> Result<Option<Record>, GovernanceError> {
        match owner.and_then(|record| text(record, "budget_id")) {
            Some(budget_id) => {
                self.store
                    .get(
                        &tables::BUDGET_TABLE,
                        &[("budget_id", Param::text(budget_id))],
                    )
                    .await
            }
            None => Ok(None),
        }
    }
}

/// A blocked team refuses its JWT callers as it refuses its keys.
fn team_state(auth: &KeyAuth) -> Result<(), GovernanceError> {
    if auth.team_blocked {
        return Err(GovernanceError::Authentication(format!(
            "Authentication Error, Team={} is blocked. Update via `/team/unblock` if you're an admin.",
            auth.team_id.as_deref().unwrap_or_default()
        )));
    }
    Ok(())
}
