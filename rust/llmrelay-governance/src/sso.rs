//! A single sign-on login in the database: the user row upserted with the role the identity
//! provider's claims map to, and the session's virtual key (LiteLLM hands the UI a key owned
//! by the user, valid for the session).

use std::time::Duration;

use serde_json::{Value, json};

use crate::audit::{AuditAction, AuditEntry};
use crate::db::{Param, Record};
use crate::engine::Governance;
use crate::error::GovernanceError;
use crate::identity::{UserRole, text};
use crate::keys::{generate_key, hash_key, new_key_record};
use crate::tables;
use crate::time::format_time;

/// Who signed in, as the identity provider's claims say.
#[derive(Debug, Clone)]
pub struct SsoLogin {
    pub user_id: String,
    pub user_email: Option<String>,
    /// The mapped role; `None` keeps an existing user's role (a new user gets
    /// `internal_user_viewer`).
    pub role: Option<UserRole>,
    /// How long the session's key is valid (`LITELLM_UI_SESSION_DURATION`).
    pub session: Duration,
}

/// The signed-in session.
#[derive(Debug, Clone)]
pub struct SsoSession {
    pub user_id: String,
    pub user_role: UserRole,
    pub user_email: Option<String>,
    /// The session's virtual key (raw: only the session cookie holds it).
    pub key: String,
    pub expires: chrono::DateTime<chrono::Utc>,
}

/// The role of a user signing in for the first time without a role claim.
pub const DEFAULT_SSO_ROLE: UserRole = UserRole::InternalUserViewer;

impl Governance {
    /// Upserts the user and issues the session's key.
    ///
    /// # Errors
    /// Database errors.
    pub async fn sso_sign_in(&self, login: SsoLogin) -> Result<SsoSession, GovernanceError> {
        let now = self.clock.now();
        let stamp = format_time(now);
        let key = [("user_id", Param::text(&login.user_id))];
        let existing = self.store.get(&tables::USER_TABLE, &key).await?;
        let role = match (&existing, login.role) {
            (_, Some(role)) => role,
            (Some(user), None) => text(user, "user_role")
                .as_deref()
                .and_then(UserRole::parse)
                .unwrap_or(DEFAULT_SSO_ROLE),
            (None, None) => DEFAULT_SSO_ROLE,
        };
        let mut changes = Record::new();
        changes.insert("user_role".into(), Value::String(role.as_str().to_owned()));
        if let Some(email) = &login.user_email {
            changes.insert("user_email".into(), Value::String(email.clone()));
        }
        changes.insert("updated_at".into(), Value::String(stamp.clone()));
        let action = if existing.is_some() {
            self.store
                .update(&tables::USER_TABLE, &key, &changes)
                .await?;
            AuditAction::Updated
        } else {
            let mut record = changes;
            record.insert("user_id".into(), Value::String(login.user_id.clone()));
            record.insert("created_at".into(), Value::String(stamp.clone()));
            self.store
                .insert_ignore(&tables::USER_TABLE, &record)
                .await?;
            AuditAction::Created
        };
        self.changed("user", &login.user_id).await?;
        let after = self.store.get(&tables::USER_TABLE, &key).await?;
        let raw_key = generate_key();
        let expires = now
            + chrono::Duration::from_std(login.session)
                .unwrap_or_else(|_| chrono::Duration::hours(24));
        let mut record = new_key_record(&raw_key, now);
        record.insert("user_id".into(), Value::String(login.user_id.clone()));
        record.insert("expires".into(), Value::String(format_time(expires)));
        record.insert("key_alias".into(), Value::Null);
        record.insert("metadata".into(), json!({"login_method": "sso"}));
        record.insert("created_by".into(), Value::String(login.user_id.clone()));
        record.insert("updated_by".into(), Value::String(login.user_id.clone()));
        self.store
            .insert(&tables::VERIFICATION_TOKEN, &record)
            .await?;
        if self.audit.enabled() {
            let token = hash_key(&raw_key);
            let before = existing.map(Value::Object);
            self.audit.record(AuditEntry {
                changed_by: login.user_id.clone(),
                changed_by_api_key: token.clone(),
                action,
                table_name: tables::USER_TABLE.name.to_owned(),
                object_id: login.user_id.clone(),
                before_value: before,
                updated_values: after.map(Value::Object),
            });
            self.audit.record(AuditEntry {
                changed_by: login.user_id.clone(),
                changed_by_api_key: token.clone(),
                action: AuditAction::Created,
                table_name: tables::VERIFICATION_TOKEN.name.to_owned(),
                object_id: token,
                before_value: None,
                updated_values: Some(Value::Object(record)),
            });
        }
        Ok(SsoSession {
            user_id: login.user_id,
            user_role: role,
            user_email: login.user_email,
            key: raw_key,
            expires,
        })
    }
}
