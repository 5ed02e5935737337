//! LiteLLM's proxy `config.yaml`: loading (YAML, `include:`), `os.environ/NAME` references, and
//! the typed, validated settings the server runs with.
//!
//! Loading happens in two steps because `environment_variables` must be exported before
//! `os.environ/…` references are resolved, and exporting is the host's job (the binary re-execs
//! itself with them, the Python command sets `os.environ`): [`RawConfig::load`] reads the files,
//! [`RawConfig::resolve`] turns them into a [`ProxyConfig`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

/// What went wrong while loading the config; the message names the file and the bad field.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Top-level keys LiteLLM reads; others are reported as unknown.
const KNOWN_TOP_LEVEL: &[&str] = &[
    "model_list",
    "litellm_settings",
    "general_settings",
    "router_settings",
    "environment_variables",
    "include",
    "guardrails",
    "callback_settings",
    "credential_list",
    "mcp_servers",
    "mcp_tools",
    "search_tools",
    "vector_store_registry",
    "prompts",
    "policies",
    "policy_attachments",
    "files_settings",
    "finetune_settings",
    "default_vertex_config",
    "plugins",
    "worker_registry",
    "assistant_settings",
];

/// Top-level keys llmrelay acts on; the other known ones are accepted and reported as ignored.
const USED_TOP_LEVEL: &[&str] = &[
    "model_list",
    "litellm_settings",
    "general_settings",
    "router_settings",
    "environment_variables",
    "include",
];

/// `litellm_settings` keys the proxy acts on.
const USED_LITELLM_SETTINGS: &[&str] = &[
    "callbacks",
    "success_callback",
    "failure_callback",
    "drop_params",
    "num_retries",
    "request_timeout",
    "set_verbose",
    "json_logs",
];

/// `general_settings` keys the proxy acts on.
const USED_GENERAL_SETTINGS: &[&str] = &[
    "master_key",
    "max_request_size_mb",
    "dangerously_permit_weak_or_unset_master_key",
    "database_url",
];

/// The config as read from disk: `include:` files merged, nothing resolved yet.
#[derive(Debug, Clone)]
pub struct RawConfig {
    document: Map<String, Value>,
    /// Directory of the main file (callback modules are imported relative to it).
    pub directory: PathBuf,
    /// Path of the main file, for messages.
    pub path: PathBuf,
}

impl RawConfig {
    /// Read a config file and merge its `include:` files (paths relative to the including file;
    /// lists are appended, other keys must not collide).
    ///
    /// # Errors
    /// Unreadable files, invalid YAML, a document that is not a mapping, a bad `include`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let document = read_yaml(path)?;
        let directory = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let mut config = Self {
            document,
            directory,
            path: path.to_path_buf(),
        };
        config.merge_includes()?;
        Ok(config)
    }

    /// An in-memory config (tests, one-model mode).
    #[must_use]
    pub fn from_document(document: Map<String, Value>) -> Self {
        Self {
            document,
            directory: PathBuf::from("."),
            path: PathBuf::from("<memory>"),
        }
    }

    fn merge_includes(&mut self) -> Result<(), ConfigError> {
        let Some(include) = self.document.remove("include") else {
            return Ok(());
        };
        let files = match include {
            Value::Array(items) => items,
            Value::String(one) => vec![Value::String(one)],
            Value::Null => Vec::new(),
            _ => {
                return Err(ConfigError::new(format!(
                    "{}: include: expected a list of file paths",
                    self.path.display()
                )));
            }
        };
        for (index, file) in files.into_iter().enumerate() {
            let Value::String(file) = file else {
                return Err(ConfigError::new(format!(
                    "{}: include[{index}]: expected a file path",
                    self.path.display()
                )));
            };
            let included_path = self.directory.join(&file);
            let included = Self::load(&included_path)?;
            for (key, value) in included.document {
                match (self.document.get_mut(&key), value) {
                    (None, value) => {
                        self.document.insert(key, value);
                    }
                    (Some(Value::Array(existing)), Value::Array(more)) => existing.extend(more),
                    (Some(Value::Object(existing)), Value::Object(more)) => {
                        for (inner_key, inner_value) in more {
                            existing.insert(inner_key, inner_value);
                        }
                    }
                    (Some(_), _) => {
                        return Err(ConfigError::new(format!(
                            "{}: key '{key}' from include file {} collides with a value of another type",
                            self.path.display(),
                            included_path.display()
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// `environment_variables` as strings (numbers and booleans are stringified), to be exported
    /// into the process environment before [`RawConfig::resolve`].
    ///
    /// # Errors
    /// When `environment_variables` is not a mapping of scalars.
    pub fn environment_variables(&self) -> Result<Vec<(String, String)>, ConfigError> {
        let Some(value) = self.document.get("environment_variables") else {
            return Ok(Vec::new());
        };
        let Value::Object(map) = value else {
            if value.is_null() {
                return Ok(Vec::new());
            }
            return Err(ConfigError::new(format!(
                "{}: environment_variables: expected a mapping of names to values",
                self.path.display()
            )));
        };
        let mut out = Vec::with_capacity(map.len());
        for (name, value) in map {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                Value::Null => continue,
                _ => {
                    return Err(ConfigError::new(format!(
                        "{}: environment_variables.{name}: expected a string",
                        self.path.display()
                    )));
                }
            };
            out.push((name.clone(), text));
        }
        Ok(out)
    }

    /// Python callback paths (`module.instance`) named in `litellm_settings`.
    #[must_use]
    pub fn callback_names(&self) -> Vec<String> {
        let Some(Value::Object(settings)) = self.document.get("litellm_settings") else {
            return Vec::new();
        };
        let mut names = Vec::new();
        for key in ["callbacks", "success_callback", "failure_callback"] {
            match settings.get(key) {
                Some(Value::String(name)) => names.push(name.clone()),
                Some(Value::Array(items)) => {
                    names.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
                }
                _ => {}
            }
        }
        names.dedup();
        names
    }

    /// Resolve `os.environ/NAME` references (against the current process environment), check
    /// every field, and report unknown keys as warnings.
    ///
    /// # Errors
    /// A field of the wrong type or a missing required field, named by its path
    /// (e.g. `model_list[1].litellm_params.model`).
    pub fn resolve(&self) -> Result<ProxyConfig, ConfigError> {
        let mut document = Value::Object(self.document.clone());
        resolve_environment_references(&mut document);
        let parsed: ProxyConfigFile = serde_path_to_error::deserialize(document).map_err(|e| {
            ConfigError::new(format!(
                "invalid config {}: {}: {}",
                self.path.display(),
                e.path(),
                e.inner()
            ))
        })?;
        let mut warnings = Vec::new();
        for key in parsed.other.keys() {
            if KNOWN_TOP_LEVEL.contains(&key.as_str()) {
                if !USED_TOP_LEVEL.contains(&key.as_str()) {
                    warnings.push(format!("'{key}' is accepted but not used by llmrelay yet"));
                }
            } else {
                warnings.push(format!("unknown top-level key '{key}' ignored"));
            }
        }
        for key in parsed.litellm_settings.other.keys() {
            if !USED_LITELLM_SETTINGS.contains(&key.as_str()) {
                warnings.push(format!(
                    "litellm_settings.{key} is not used by the llmrelay proxy yet"
                ));
            }
        }
        for key in parsed.general_settings.other.keys() {
            if !USED_GENERAL_SETTINGS.contains(&key.as_str()) {
                warnings.push(format!(
                    "general_settings.{key} is not used by the llmrelay proxy yet"
                ));
            }
        }
        for (index, deployment) in parsed.model_list.iter().enumerate() {
            if deployment.model_name.is_empty() {
                return Err(ConfigError::new(format!(
                    "invalid config {}: model_list[{index}].model_name: must not be empty",
                    self.path.display()
                )));
            }
            if deployment.litellm_params.model.is_empty() {
                return Err(ConfigError::new(format!(
                    "invalid config {}: model_list[{index}].litellm_params.model: must not be empty",
                    self.path.display()
                )));
            }
        }
        Ok(ProxyConfig {
            model_list: parsed.model_list,
            litellm_settings: parsed.litellm_settings,
            general_settings: parsed.general_settings,
            router_settings: parsed.router_settings.unwrap_or_default(),
            warnings,
            path: self.path.clone(),
        })
    }
}

fn read_yaml(path: &Path) -> Result<Map<String, Value>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(format!("cannot read config {}: {e}", path.display())))?;
    parse_yaml(&text).map_err(|message| {
        ConfigError::new(format!("invalid config {}: {message}", path.display()))
    })
}

/// Parse a YAML document into a JSON mapping (an empty document is an empty mapping).
///
/// # Errors
/// The parser's message (with line and column) or "not a mapping".
pub fn parse_yaml(text: &str) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_saphyr::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err("the document must be a mapping of sections".to_owned()),
        Err(error) => Err(error.to_string()),
    }
}

/// The prefix LiteLLM uses for values read from the environment.
const ENV_PREFIX: &str = "os.environ/";

/// Replace every `"os.environ/NAME"` string by the variable's value, or `null` when it is unset
/// (as LiteLLM does: the field then counts as absent).
pub fn resolve_environment_references(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Some(name) = text.strip_prefix(ENV_PREFIX) {
                *value = std::env::var(name).map_or(Value::Null, Value::String);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(resolve_environment_references),
        Value::Object(map) => map.values_mut().for_each(resolve_environment_references),
        _ => {}
    }
}

#[derive(Debug, Deserialize)]
struct ProxyConfigFile {
    #[serde(default, deserialize_with = "null_as_default")]
    model_list: Vec<DeploymentConfig>,
    #[serde(default, deserialize_with = "null_as_default")]
    litellm_settings: LitellmSettings,
    #[serde(default, deserialize_with = "null_as_default")]
    general_settings: GeneralSettings,
    #[serde(default)]
    router_settings: Option<Map<String, Value>>,
    #[serde(default)]
    #[expect(dead_code, reason = "exported by the host before resolve")]
    environment_variables: Option<Value>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// One `model_list` entry: a deployment of the public model group `model_name`.
#[derive(Debug, Clone, Deserialize)]
pub struct DeploymentConfig {
    pub model_name: String,
    pub litellm_params: LitellmParams,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model_info: Map<String, Value>,
}

/// A deployment's `litellm_params`: the model string plus every other call parameter, merged
/// into each call routed to it.
#[derive(Debug, Clone, Deserialize)]
pub struct LitellmParams {
    pub model: String,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `litellm_settings`: module-level SDK settings in LiteLLM.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LitellmSettings {
    #[serde(default, deserialize_with = "string_or_list")]
    pub callbacks: Vec<String>,
    #[serde(default, deserialize_with = "string_or_list")]
    pub success_callback: Vec<String>,
    #[serde(default, deserialize_with = "string_or_list")]
    pub failure_callback: Vec<String>,
    #[serde(default)]
    pub drop_params: Option<bool>,
    #[serde(default)]
    pub num_retries: Option<u32>,
    /// Seconds; the upstream call's timeout when the request sets none.
    #[serde(default)]
    pub request_timeout: Option<f64>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `general_settings`: the proxy's own settings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GeneralSettings {
    #[serde(default)]
    pub master_key: Option<String>,
    /// Largest accepted request body, in megabytes.
    #[serde(default)]
    pub max_request_size_mb: Option<f64>,
    #[serde(default)]
    pub dangerously_permit_weak_or_unset_master_key: Option<bool>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn string_or_list<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(OneOrMany::One(one)) => vec![one],
        Some(OneOrMany::Many(many)) => many,
    })
}

/// The resolved, checked config.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub model_list: Vec<DeploymentConfig>,
    pub litellm_settings: LitellmSettings,
    pub general_settings: GeneralSettings,
    pub router_settings: Map<String, Value>,
    /// Unknown or unused keys, to be logged at start.
    pub warnings: Vec<String>,
    pub path: PathBuf,
}

impl ProxyConfig {
    /// Public model group names, in config order, without duplicates.
    #[must_use]
    pub fn model_group_names(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        self.model_list
            .iter()
            .filter(|d| seen.insert(d.model_name.clone()))
            .map(|d| d.model_name.clone())
            .collect()
    }

    /// Python callbacks named in `litellm_settings` (all three lists).
    #[must_use]
    pub fn python_callbacks(&self) -> Vec<String> {
        let settings = &self.litellm_settings;
        let mut names: Vec<String> = settings
            .callbacks
            .iter()
            .chain(&settings.success_callback)
            .chain(&settings.failure_callback)
            .cloned()
            .collect();
        names.dedup();
        names
    }

    /// The one-model config `llmrelay --model X [--alias A] [--api_base B] [--api_key K]` builds.
    #[must_use]
    pub fn single_model(
        model: &str,
        alias: Option<&str>,
        extra_params: Map<String, Value>,
    ) -> Self {
        let mut other = extra_params;
        other.remove("model");
        Self {
            model_list: vec![DeploymentConfig {
                model_name: alias.unwrap_or(model).to_owned(),
                litellm_params: LitellmParams {
                    model: model.to_owned(),
                    other,
                },
                model_info: Map::new(),
            }],
            litellm_settings: LitellmSettings::default(),
            general_settings: GeneralSettings::default(),
            router_settings: Map::new(),
            warnings: Vec::new(),
            path: PathBuf::from("<command line>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> RawConfig {
        RawConfig::from_document(parse_yaml(text).unwrap())
    }

    #[test]
    fn parses_litellm_config() {
        let config = raw(r"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/LLMRELAY_TEST_UNSET_KEY
      rpm: 100
    model_info:
      id: my-id
litellm_settings:
  drop_params: true
  callbacks: custom.handler
  set_verbose: false
  cache: true
general_settings:
  master_key: sk-abcdefghijklmnop
  max_request_size_mb: 2
router_settings:
  routing_strategy: simple-shuffle
surprise: 1
")
        .resolve()
        .unwrap();
        assert_eq!(config.model_list.len(), 1);
        let deployment = &config.model_list[0];
        assert_eq!(deployment.litellm_params.model, "openai/gpt-4o");
        // An unset os.environ/ reference counts as absent.
        assert_eq!(deployment.litellm_params.other["api_key"], Value::Null);
        assert_eq!(deployment.model_info["id"], "my-id");
        assert_eq!(config.litellm_settings.callbacks, vec!["custom.handler"]);
        assert_eq!(config.general_settings.max_request_size_mb, Some(2.0));
        assert!(config.warnings.iter().any(|w| w.contains("surprise")));
        assert!(
            config
                .warnings
                .iter()
                .any(|w| w.contains("litellm_settings.cache"))
        );
        assert!(!config.warnings.iter().any(|w| w.contains("set_verbose")));
    }

    #[test]
    fn bad_field_is_named_by_path() {
        let error = raw("model_list:\n  - model_name: a\n    litellm_params: {model: x}\n  - model_name: b\n    litellm_params: {api_key: k}\n")
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(error.contains("model_list[1].litellm_params"), "{error}");
        assert!(error.contains("model"), "{error}");
        let error = raw("general_settings:\n  max_request_size_mb: lots\n")
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("general_settings.max_request_size_mb"),
            "{error}"
        );
    }

    #[test]
    fn invalid_yaml_is_an_error() {
        assert!(parse_yaml("model_list: [\n").is_err());
        assert!(parse_yaml("- a\n- b\n").is_err());
        assert!(parse_yaml("").unwrap().is_empty());
    }

    #[test]
    fn includes_are_merged_relative_to_the_file() {
        let directory =
            std::env::temp_dir().join(format!("llmrelay-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(directory.join("sub")).unwrap();
        std::fs::write(
            directory.join("main.yaml"),
            "include:\n  - sub/models.yaml\nmodel_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n",
        )
        .unwrap();
        std::fs::write(
            directory.join("sub/models.yaml"),
            "model_list:\n  - model_name: b\n    litellm_params: {model: openai/b}\nenvironment_variables:\n  X_TEST: 1\n",
        )
        .unwrap();
        let raw = RawConfig::load(&directory.join("main.yaml")).unwrap();
        assert_eq!(
            raw.environment_variables().unwrap(),
            vec![("X_TEST".to_owned(), "1".to_owned())]
        );
        let config = raw.resolve().unwrap();
        assert_eq!(config.model_group_names(), vec!["a", "b"]);
        std::fs::remove_dir_all(directory).unwrap();
    }
}
