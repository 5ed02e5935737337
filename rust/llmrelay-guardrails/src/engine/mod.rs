//! The configured guardrails of a process, and the per-call plan the pipeline runs: which
//! guardrails run in which hook for this caller, in config order.

mod call;
mod selection;
mod stream;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value};

use crate::config::{ConfigError, EventHook, GuardrailKind, GuardrailSpec, GuardrailsConfig};
use crate::guardrail::{CallMetadata, CallState, Guardrail};

pub use call::{GuardrailCall, PreCallOutcome};
pub use selection::{RequestedGuardrail, Selection, SelectionError};
pub use stream::StreamGuard;

/// Builds guardrails of custom classes (`litellm_params.guardrail: module.ClassName`). The Python
/// binding registers one that imports the class relative to the config file.
pub trait CustomGuardrailFactory: Send + Sync {
    /// # Errors
    /// The class cannot be loaded or rejects its parameters.
    fn build(
        &self,
        spec: &GuardrailSpec,
        class_path: &str,
    ) -> Result<Arc<dyn Guardrail>, ConfigError>;
}

/// How guardrails are built.
#[derive(Clone, Default)]
pub struct BuildOptions {
    /// Directory of the config file: relative file paths (`blocked_words_file`, `category_file`)
    /// are resolved against it.
    pub base_dir: Option<PathBuf>,
    /// Builds custom guardrail classes.
    pub custom_factory: Option<Arc<dyn CustomGuardrailFactory>>,
}

impl std::fmt::Debug for BuildOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("BuildOptions")
            .field("base_dir", &self.base_dir)
            .field("custom_factory", &self.custom_factory.is_some())
            .finish()
    }
}

/// One configured guardrail instance.
#[derive(Clone)]
pub(crate) struct Member {
    pub spec: Arc<GuardrailSpec>,
    pub guardrail: Arc<dyn Guardrail>,
}

/// Guardrails sharing a `guardrail_name` (load-balanced round-robin, as LiteLLM's Router does).
struct Slot {
    name: String,
    members: Vec<Member>,
    next: AtomicUsize,
}

impl Slot {
    fn pick(&self) -> Option<&Member> {
        match self.members.len() {
            0 => None,
            1 => self.members.first(),
            count => self
                .members
                .get(self.next.fetch_add(1, Ordering::Relaxed) % count),
        }
    }
}

/// All configured guardrails.
#[derive(Default)]
pub struct Guardrails {
    slots: Vec<Slot>,
    warnings: Vec<String>,
}

impl std::fmt::Debug for Guardrails {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Guardrails")
            .field("names", &self.names())
            .finish_non_exhaustive()
    }
}

/// Builds the guardrail of one spec.
fn build_member(
    spec: &GuardrailSpec,
    options: &BuildOptions,
    warnings: &mut Vec<String>,
) -> Result<Arc<dyn Guardrail>, ConfigError> {
    Ok(match &spec.kind {
        GuardrailKind::Presidio => {
            let presidio: crate::pii::PresidioOptions = spec.parse_options()?;
            if crate::remote::presidio::configured(&presidio) {
                Arc::new(crate::remote::presidio::PresidioRemote::build(
                    spec, &presidio, warnings,
                )?)
            } else {
                for key in presidio.other.keys() {
                    warnings.push(format!(
                        "{}: not a presidio option; ignored",
                        spec.field_path(key)
                    ));
                }
                Arc::new(crate::pii::PiiGuardrail::build(spec, &presidio, warnings)?)
            }
        }
        GuardrailKind::HideSecrets => Arc::new(crate::secrets::HideSecrets::build(spec, warnings)?),
        GuardrailKind::PromptInjection => {
            Arc::new(crate::injection::PromptInjection::build(spec, warnings)?)
        }
        GuardrailKind::ContentFilter => Arc::new(crate::content_filter::ContentFilter::build(
            spec,
            options.base_dir.as_deref(),
            warnings,
        )?),
        GuardrailKind::ToolPermission => Arc::new(crate::tool_permission::ToolPermission::build(
            spec, warnings,
        )?),
        GuardrailKind::OpenAiModeration => Arc::new(
            crate::remote::openai_moderation::OpenAiModeration::build(spec, warnings)?,
        ),
        GuardrailKind::Bedrock => Arc::new(crate::remote::bedrock::BedrockGuardrail::build(
            spec, warnings,
        )?),
        GuardrailKind::LakeraV2 => {
            Arc::new(crate::remote::lakera::LakeraV2::build(spec, warnings)?)
        }
        GuardrailKind::GenericGuardrailApi => Arc::new(
            crate::remote::generic_api::GenericGuardrailApi::build(spec, warnings)?,
        ),
        GuardrailKind::Custom(class_path) => match &options.custom_factory {
            Some(factory) => factory.build(spec, class_path)?,
            None => {
                return Err(ConfigError::new(
                    spec.field_path("guardrail"),
                    format!(
                        "custom guardrail class '{class_path}' needs the Python runtime (`llmrelay --config`); no custom guardrail factory is registered"
                    ),
                ));
            }
        },
    })
}

impl Guardrails {
    /// No guardrails (every call plan is empty).
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// Builds the guardrails of a parsed config.
    ///
    /// # Errors
    /// An entry whose options are invalid, with its path.
    pub fn from_config(
        config: GuardrailsConfig,
        options: &BuildOptions,
    ) -> Result<Self, ConfigError> {
        let mut guardrails = Self {
            slots: Vec::new(),
            warnings: config.warnings,
        };
        for spec in config.guardrails {
            let guardrail = build_member(&spec, options, &mut guardrails.warnings)?;
            guardrails.insert(spec, guardrail);
        }
        Ok(guardrails)
    }

    /// Parses and builds the guardrail sections of a whole proxy config.
    ///
    /// # Errors
    /// A malformed entry, with its path.
    pub fn from_proxy_config(config: &Value, options: &BuildOptions) -> Result<Self, ConfigError> {
        Self::from_config(GuardrailsConfig::from_proxy_config(config)?, options)
    }

    /// Adds a guardrail built elsewhere (after the configured ones). Entries with the same name
    /// are load-balanced.
    pub fn insert(&mut self, spec: GuardrailSpec, guardrail: Arc<dyn Guardrail>) {
        let member = Member {
            spec: Arc::new(spec),
            guardrail,
        };
        if let Some(slot) = self
            .slots
            .iter_mut()
            .find(|slot| slot.name == member.spec.name)
        {
            slot.members.push(member);
        } else {
            self.slots.push(Slot {
                name: member.spec.name.clone(),
                members: vec![member],
                next: AtomicUsize::new(0),
            });
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Configured guardrail names, in order.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        self.slots.iter().map(|slot| slot.name.as_str()).collect()
    }

    /// Keys that were accepted and ignored while building (log them at start-up).
    #[must_use]
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The body of `GET /guardrails/list` (LiteLLM's `ListGuardrailsResponse`); `api_key` and
    /// AWS secrets are left out.
    #[must_use]
    pub fn list(&self) -> Value {
        const SECRET_KEYS: [&str; 4] = [
            "api_key",
            "aws_secret_access_key",
            "aws_session_token",
            "aws_access_key_id",
        ];
        let entries: Vec<Value> = self
            .slots
            .iter()
            .flat_map(|slot| slot.members.iter())
            .map(|member| {
                let mut params: Map<String, Value> = member.spec.litellm_params.clone();
                for key in SECRET_KEYS {
                    params.remove(key);
                }
                params.insert("default_on".to_owned(), Value::from(member.spec.default_on));
                serde_json::json!({
                    "guardrail_id": null,
                    "guardrail_name": member.spec.name,
                    "litellm_params": params,
                    "guardrail_info": member.spec.guardrail_info,
                    "created_at": null,
                    "updated_at": null,
                    "guardrail_definition_location": "config",
                })
            })
            .collect();
        serde_json::json!({ "guardrails": entries })
    }

    /// The plan of one call: which guardrails run in which hook for this selection. `None` when
    /// nothing runs in any hook (the call pays nothing further).
    #[must_use]
    pub fn begin_call(
        &self,
        selection: &Selection,
        metadata: CallMetadata,
    ) -> Option<GuardrailCall> {
        if self.slots.is_empty() {
            return None;
        }
        let mut tags = selection.tags.clone();
        tags.extend(metadata.tags.iter().cloned());
        let mut plan: [Vec<call::Planned>; 4] = Default::default();
        for slot in &self.slots {
            let Some(member) = slot.pick() else { continue };
            let spec = &member.spec;
            let group = spec.legacy_group.as_deref();
            if spec.default_on && selection.turns_off(&spec.name, group) {
                continue;
            }
            let asked = spec.default_on || selection.names(&spec.name, group);
            for (index, hook) in call::PHASES.iter().enumerate() {
                if (asked || *hook == EventHook::LoggingOnly) && spec.mode.runs_in(*hook, &tags) {
                    plan[index].push(call::Planned {
                        name: slot.name.clone(),
                        member: member.clone(),
                    });
                }
            }
        }
        let unknown: Vec<String> = selection
            .requested
            .iter()
            .map(|requested| requested.name.clone())
            .chain(selection.key_guardrails.iter().cloned())
            .chain(selection.team_guardrails.iter().cloned())
            .filter(|name| {
                !self.slots.iter().any(|slot| {
                    slot.name == *name
                        || slot
                            .members
                            .iter()
                            .any(|m| m.spec.legacy_group.as_deref() == Some(name))
                })
            })
            .collect();
        if plan.iter().all(Vec::is_empty) {
            return None;
        }
        let dynamic = selection
            .requested
            .iter()
            .filter_map(|requested| {
                requested
                    .extra_body
                    .clone()
                    .map(|body| (requested.name.clone(), body))
            })
            .collect();
        let state = Arc::new(CallState::new(metadata, dynamic));
        Some(GuardrailCall::new(plan, state, unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn guardrails(entries: Value) -> Guardrails {
        Guardrails::from_config(
            GuardrailsConfig::from_sections(Some(&entries), None).unwrap(),
            &BuildOptions::default(),
        )
        .unwrap()
    }

    fn hooks_of(call: &GuardrailCall, hook: EventHook) -> Vec<String> {
        call.planned_names(hook)
    }

    #[test]
    fn selection_resolves_like_litellm() {
        let set = guardrails(json!([
            {"guardrail_name": "global", "litellm_params": {"guardrail": "hide-secrets", "mode": "pre_call", "default_on": true}},
            {"guardrail_name": "optin", "litellm_params": {"guardrail": "presidio", "mode": ["pre_call", "post_call"]}},
            {"guardrail_name": "logger", "litellm_params": {"guardrail": "presidio", "mode": "logging_only"}},
            {"guardrail_name": "tagged", "litellm_params": {"guardrail": "litellm_content_filter", "default_on": true,
                "mode": {"tags": {"prod": ["pre_call", "post_call"]}, "default": "during_call"}}}
        ]));
        let call = set
            .begin_call(&Selection::default(), CallMetadata::default())
            .unwrap();
        assert_eq!(hooks_of(&call, EventHook::PreCall), ["global"]);
        assert_eq!(hooks_of(&call, EventHook::DuringCall), ["tagged"]);
        assert_eq!(hooks_of(&call, EventHook::LoggingOnly), ["logger"]);

        let body = json!({"guardrails": ["optin", "nope"], "metadata": {"tags": ["prod"]}});
        let selection = Selection::from_request(body.as_object().unwrap()).unwrap();
        let call = set.begin_call(&selection, CallMetadata::default()).unwrap();
        assert_eq!(
            hooks_of(&call, EventHook::PreCall),
            ["global", "optin", "tagged"]
        );
        assert_eq!(hooks_of(&call, EventHook::PostCall), ["optin", "tagged"]);
        assert_eq!(call.unknown_requested(), ["nope"]);

        let key = json!({"disable_global_guardrails": true});
        let selection = Selection::default().with_admin_metadata(key.as_object(), None);
        let call = set.begin_call(&selection, CallMetadata::default()).unwrap();
        assert!(hooks_of(&call, EventHook::PreCall).is_empty());
        assert_eq!(hooks_of(&call, EventHook::LoggingOnly), ["logger"]);

        assert!(
            Guardrails::empty()
                .begin_call(&Selection::default(), CallMetadata::default())
                .is_none()
        );
    }

    #[test]
    fn list_hides_keys_and_custom_classes_need_a_factory() {
        let set = guardrails(json!([
            {"guardrail_name": "mod", "litellm_params": {"guardrail": "openai_moderation", "mode": "pre_call", "api_key": "sk-secret"}}
        ]));
        let listed = set.list();
        assert_eq!(listed["guardrails"][0]["guardrail_name"], "mod");
        assert!(
            listed["guardrails"][0]["litellm_params"]
                .get("api_key")
                .is_none()
        );
        assert_eq!(
            listed["guardrails"][0]["guardrail_definition_location"],
            "config"
        );
        let error = Guardrails::from_config(
            GuardrailsConfig::from_sections(
                Some(&json!([{"guardrail_name": "c", "litellm_params": {"guardrail": "my_module.MyGuard", "mode": "pre_call"}}])),
                None,
            )
            .unwrap(),
            &BuildOptions::default(),
        )
        .unwrap_err();
        assert_eq!(error.path, "guardrails[0].litellm_params.guardrail");
    }
}
