//! The deployments of a router, indexed by group, wildcard pattern and id.

use std::collections::HashMap;
use std::sync::Arc;

use crate::deployment::{Deployment, capture};

/// The deployments of a router, indexed for lookups. Replaced whole on `set_model_list`.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub(crate) all: Vec<Arc<Deployment>>,
    pub(crate) groups: HashMap<String, Vec<Arc<Deployment>>>,
    /// Wildcard groups, most specific (longest fixed part) first.
    patterns: Vec<(String, Vec<Arc<Deployment>>)>,
    pub(crate) by_id: HashMap<String, Arc<Deployment>>,
    /// `model_info.team_id` → `model_info.team_public_model_name` → the deployment's group
    /// (looked up without allocating, on every call of a team's key).
    team_models: HashMap<String, HashMap<String, String>>,
}

impl Registry {
    pub(crate) fn build(deployments: Vec<Arc<Deployment>>) -> Self {
        let mut groups: HashMap<String, Vec<Arc<Deployment>>> = HashMap::new();
        let mut by_id = HashMap::new();
        let mut team_models: HashMap<String, HashMap<String, String>> = HashMap::new();
        for deployment in &deployments {
            let info = |name: &str| {
                deployment
                    .model_info
                    .get(name)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            };
            if let (Some(team), Some(public)) = (info("team_id"), info("team_public_model_name")) {
                team_models
                    .entry(team)
                    .or_default()
                    .entry(public)
                    .or_insert_with(|| deployment.model_name.clone());
            }
            groups
                .entry(deployment.model_name.clone())
                .or_default()
                .push(Arc::clone(deployment));
            by_id.insert(deployment.id.clone(), Arc::clone(deployment));
        }
        let mut patterns: Vec<(String, Vec<Arc<Deployment>>)> = groups
            .iter()
            .filter(|(name, _)| name.contains('*'))
            .map(|(name, list)| (name.clone(), list.clone()))
            .collect();
        patterns.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Self {
            all: deployments,
            groups,
            patterns,
            by_id,
            team_models,
        }
    }

    /// The group a team's public model name stands for (LiteLLM's `map_team_model`).
    pub(crate) fn team_model(&self, team_id: &str, public_name: &str) -> Option<&str> {
        self.team_models
            .get(team_id)?
            .get(public_name)
            .map(String::as_str)
    }

    /// The deployments serving `model`: the deployment whose id it is (`model_info.id`, which
    /// LiteLLM checks before group names), its exact group, else the most specific wildcard.
    pub(crate) fn resolve(&self, model: &str) -> Option<&[Arc<Deployment>]> {
        if let Some(deployment) = self.by_id.get(model) {
            return Some(std::slice::from_ref(deployment));
        }
        if let Some(list) = self.groups.get(model) {
            return Some(list);
        }
        self.patterns
            .iter()
            .find(|(pattern, _)| capture(pattern, model).is_some())
            .map(|(_, list)| list.as_slice())
    }
}
