//! Provider credentials stored in `LiteLLM_CredentialsTable`, every value encrypted at rest
//! with `LITELLM_SALT_KEY`, and their resolution for deployments that name one in
//! `litellm_credential_name` (values fill the parameters the deployment does not set, as
//! LiteLLM's `load_credentials_from_list`).

use std::sync::{Arc, PoisonError};

use serde_json::{Map, Value};

use crate::db::{Param, Record};
use crate::engine::Governance;
use crate::error::GovernanceError;
use crate::identity::text;
use crate::tables;

/// A stored credential, decrypted.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub credential_name: String,
    pub credential_values: Map<String, Value>,
    pub credential_info: Map<String, Value>,
}

fn object(record: &Record, field: &str) -> Map<String, Value> {
    record
        .get(field)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

impl Governance {
    /// The stored row of a credential (values still encrypted).
    pub(crate) async fn credential_row(
        &self,
        credential_name: &str,
    ) -> Result<Option<Record>, GovernanceError> {
        let mut conditions = crate::store::Conditions::new();
        conditions.equals("credential_name", Param::text(credential_name));
        Ok(self
            .store
            .select(&tables::CREDENTIALS_TABLE, &conditions, "", Some(1), None)
            .await?
            .into_iter()
            .next())
    }

    /// A stored credential with its values decrypted (from memory after the first read;
    /// dropped on every instance when it changes).
    ///
    /// # Errors
    /// Database errors; no salt key.
    pub async fn credential(
        &self,
        credential_name: &str,
    ) -> Result<Option<Arc<Credential>>, GovernanceError> {
        if let Some(found) = self
            .credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(credential_name)
        {
            return Ok(Some(Arc::clone(found)));
        }
        let Some(row) = self.credential_row(credential_name).await? else {
            return Ok(None);
        };
        let cipher = self.cipher()?;
        let credential = Arc::new(Credential {
            credential_name: text(&row, "credential_name").unwrap_or_default(),
            credential_values: cipher.decrypt_map(&object(&row, "credential_values")),
            credential_info: object(&row, "credential_info"),
        });
        self.credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(credential_name.to_owned(), Arc::clone(&credential));
        Ok(Some(credential))
    }

    /// The decrypted values of a stored credential (`litellm_credential_name`), for the
    /// proxy; `None` when there is no credential of that name.
    ///
    /// # Errors
    /// Database errors; no salt key.
    pub async fn resolve_credential(
        &self,
        credential_name: &str,
    ) -> Result<Option<Map<String, Value>>, GovernanceError> {
        Ok(self
            .credential(credential_name)
            .await?
            .map(|c| c.credential_values.clone()))
    }

    /// Fills a deployment's `litellm_params` from the credential it names in
    /// `litellm_credential_name`: every value the parameters do not set already. Returns
    /// whether a credential was found (a name that matches none leaves the parameters as
    /// they are, as LiteLLM).
    ///
    /// # Errors
    /// Database errors; no salt key.
    pub async fn apply_credential(
        &self,
        litellm_params: &mut Map<String, Value>,
    ) -> Result<bool, GovernanceError> {
        let Some(name) = litellm_params
            .get("litellm_credential_name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
        else {
            return Ok(false);
        };
        let Some(credential) = self.credential(&name).await? else {
            tracing::warn!(credential = %name, "litellm_credential_name matches no stored credential");
            return Ok(false);
        };
        for (key, value) in &credential.credential_values {
            if !litellm_params.contains_key(key) {
                litellm_params.insert(key.clone(), value.clone());
            }
        }
        Ok(true)
    }

    /// A credential changed (on this or another instance).
    pub(crate) fn apply_credential_change(&self, credential_name: &str) {
        self.credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(credential_name);
        self.notify_credential_listeners(credential_name);
    }
}
