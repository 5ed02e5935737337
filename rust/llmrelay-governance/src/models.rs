//! Deployments in the database (`store_model_in_db`): the rows of `LiteLLM_ProxyModelTable`
//! with their `litellm_params` encrypted at rest, the in-memory view every instance keeps
//! current through the change feed, and `/model/info` merging them with the config's.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::access::AccessGroups;
use crate::db::{Param, Record};
use crate::engine::{Governance, ModelChange};
use crate::error::GovernanceError;
use crate::identity::text;
use crate::redact::public_params;
use crate::tables;

/// One deployment (an entry of LiteLLM's `model_list`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ModelDeployment {
    pub model_name: String,
    #[serde(default)]
    pub litellm_params: Map<String, Value>,
    #[serde(default)]
    pub model_info: Map<String, Value>,
}

impl ModelDeployment {
    /// `model_info.id`.
    #[must_use]
    pub fn id(&self) -> Option<&str> {
        self.model_info.get("id").and_then(Value::as_str)
    }

    /// Whether the deployment came from the database (`model_info.db_model`).
    #[must_use]
    pub fn is_db_model(&self) -> bool {
        self.model_info.get("db_model").and_then(Value::as_bool) == Some(true)
    }

    /// `model_info.access_groups`.
    #[must_use]
    pub fn access_groups(&self) -> Vec<String> {
        self.model_info
            .get("access_groups")
            .and_then(Value::as_array)
            .map(|groups| {
                groups
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The deployment of a decrypted `LiteLLM_ProxyModelTable` row (`model_info.id` is the
    /// row's `model_id`, `db_model: true`).
    #[must_use]
    pub fn from_row(row: &Record) -> Self {
        let mut model_info = row
            .get("model_info")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        model_info.insert(
            "id".into(),
            Value::String(text(row, "model_id").unwrap_or_default()),
        );
        model_info.insert("db_model".into(), Value::Bool(true));
        if row.get("blocked").and_then(Value::as_bool) == Some(true) {
            model_info.insert("blocked".into(), Value::Bool(true));
        }
        Self {
            model_name: text(row, "model_name").unwrap_or_default(),
            litellm_params: row
                .get("litellm_params")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            model_info,
        }
    }
}

/// Adds the access groups of `deployments` to `groups`.
pub(crate) fn add_access_groups<'a>(
    groups: &mut AccessGroups,
    deployments: impl IntoIterator<Item = &'a ModelDeployment>,
) {
    for deployment in deployments {
        for group in deployment.access_groups() {
            groups.add(&group, &deployment.model_name);
        }
    }
}

/// The price map's facts for a deployment's model (`/model/info` shows them under the
/// deployment's own `model_info`).
fn catalog_info(params: &Map<String, Value>) -> Map<String, Value> {
    let text = |key: &str| params.get(key).and_then(Value::as_str);
    let Some(model) = text("model") else {
        return Map::new();
    };
    llmrelay_core::detect::resolve(model, text("custom_llm_provider"), text("api_base"))
        .ok()
        .and_then(|resolved| {
            llmrelay_core::catalog::global()
                .lookup(&resolved.model, Some(&resolved.provider))
                .map(|entry| entry.raw.clone())
        })
        .unwrap_or_default()
}

/// A deployment as `/model/info` shows it.
#[must_use]
pub fn model_info_entry(deployment: &ModelDeployment) -> Value {
    let mut model_info = catalog_info(&deployment.litellm_params);
    for (key, value) in &deployment.model_info {
        model_info.insert(key.clone(), value.clone());
    }
    model_info.entry("db_model").or_insert(Value::Bool(false));
    json!({
        "model_name": deployment.model_name,
        "litellm_params": public_params(&deployment.litellm_params),
        "model_info": model_info,
    })
}

impl Governance {
    /// Decrypts a stored `LiteLLM_ProxyModelTable` row's `litellm_params`.
    pub(crate) fn decrypt_model_row(&self, mut row: Record) -> Record {
        if let (Some(cipher), Some(Value::Object(params))) =
            (self.cipher().ok(), row.get("litellm_params"))
        {
            let decrypted = cipher.decrypt_map(params);
            row.insert("litellm_params".into(), Value::Object(decrypted));
        }
        row
    }

    /// The stored deployment with this id, decrypted.
    ///
    /// # Errors
    /// Database errors.
    pub async fn db_model(&self, model_id: &str) -> Result<Option<Record>, GovernanceError> {
        Ok(self
            .store
            .get(
                &tables::PROXY_MODEL_TABLE,
                &[("model_id", Param::text(model_id))],
            )
            .await?
            .map(|row| self.decrypt_model_row(row)))
    }

    /// Reads every deployment stored in the database (decrypted), makes it this instance's
    /// view, and returns it. The proxy calls it at start, after registering
    /// [`Governance::on_model_change`], to build its router; later changes arrive through the
    /// callback.
    ///
    /// # Errors
    /// Database errors.
    pub async fn load_db_models(&self) -> Result<Vec<ModelDeployment>, GovernanceError> {
        let rows = self
            .store
            .select(
                &tables::PROXY_MODEL_TABLE,
                &crate::store::Conditions::new(),
                "\"created_at\", \"model_id\"",
                None,
                None,
            )
            .await?;
        let deployments: BTreeMap<String, ModelDeployment> = rows
            .into_iter()
            .map(|row| {
                let row = self.decrypt_model_row(row);
                (
                    text(&row, "model_id").unwrap_or_default(),
                    ModelDeployment::from_row(&row),
                )
            })
            .collect();
        let list = deployments.values().cloned().collect();
        *self
            .db_models
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(deployments);
        self.rebuild_access_groups();
        Ok(list)
    }

    /// This instance's view of the DB deployments (kept current by the change feed).
    #[must_use]
    pub fn db_deployments(&self) -> Vec<ModelDeployment> {
        self.db_models
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// Sets the proxy's config deployments (for `/model/info`, access groups, effective
    /// models, and refusing to edit a config model through `/model/update`).
    pub fn set_config_deployments(&self, deployments: Vec<ModelDeployment>) {
        let mut groups = AccessGroups::new();
        add_access_groups(&mut groups, &deployments);
        let mut names: Vec<String> = Vec::new();
        for deployment in &deployments {
            if !names.contains(&deployment.model_name) {
                names.push(deployment.model_name.clone());
            }
        }
        *self
            .config_deployments
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(deployments);
        self.set_config_models(names, groups);
    }

    /// The proxy's config deployments as last set.
    #[must_use]
    pub fn config_deployments_snapshot(&self) -> Arc<Vec<ModelDeployment>> {
        Arc::clone(
            &self
                .config_deployments
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Whether a config deployment has this id.
    pub(crate) fn is_config_model(&self, model_id: &str) -> bool {
        self.config_deployments
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|d| d.id() == Some(model_id))
    }

    /// Config access groups plus those of the DB deployments.
    pub(crate) fn rebuild_access_groups(&self) {
        let mut groups = self
            .config_access_groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .clone();
        let db_models = Arc::clone(
            &self
                .db_models
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        add_access_groups(&mut groups, db_models.values());
        *self
            .access_groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(groups);
    }

    /// `GET /model/info`'s body: the config deployments the proxy passes plus the DB
    /// deployments (a DB deployment replaces a config one with the same id), credentials
    /// removed, price-map facts merged into `model_info`, `db_model` set. With
    /// `litellm_model_id`, only that deployment.
    #[must_use]
    pub fn model_info(
        &self,
        config_deployments: &[ModelDeployment],
        litellm_model_id: Option<&str>,
    ) -> Value {
        let db_models = Arc::clone(
            &self
                .db_models
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let data: Vec<Value> = config_deployments
            .iter()
            .filter(|d| d.id().is_none_or(|id| !db_models.contains_key(id)))
            .chain(db_models.values())
            .filter(|d| litellm_model_id.is_none_or(|wanted| d.id() == Some(wanted)))
            .map(model_info_entry)
            .collect();
        json!({"data": data})
    }

    /// Applies a changed DB deployment to this instance's view and tells the listeners.
    pub(crate) async fn apply_model_change(&self, model_id: &str) {
        let change = match self.db_model(model_id).await {
            Ok(Some(record)) => ModelChange::Upsert(record),
            Ok(None) => ModelChange::Delete(model_id.to_owned()),
            Err(error) => {
                tracing::warn!(%error, model_id, "could not load changed model");
                return;
            }
        };
        {
            let mut guard = self
                .db_models
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let mut models = guard.as_ref().clone();
            match &change {
                ModelChange::Upsert(record) => {
                    models.insert(model_id.to_owned(), ModelDeployment::from_row(record));
                }
                ModelChange::Delete(id) => {
                    models.remove(id);
                }
            }
            *guard = Arc::new(models);
        }
        self.rebuild_access_groups();
        self.notify_model_listeners(&change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_db_deployments() {
        let row: Record = serde_json::from_value(json!({
            "model_id": "m1", "model_name": "gpt-4o", "blocked": false,
            "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-x"},
            "model_info": {"access_groups": ["beta"]}
        }))
        .unwrap();
        let deployment = ModelDeployment::from_row(&row);
        assert_eq!(deployment.id(), Some("m1"));
        assert!(deployment.is_db_model());
        assert_eq!(deployment.access_groups(), vec!["beta".to_owned()]);
        let entry = model_info_entry(&deployment);
        assert!(entry["litellm_params"].get("api_key").is_none());
        assert_eq!(entry["model_info"]["db_model"], json!(true));
        assert_eq!(entry["model_info"]["id"], "m1");
    }
}
