//! LiteLLM's proxy `config.yaml`: loading (YAML, `include:`), `os.environ/NAME` references, and
//! the typed, validated settings the server runs with.
//!
//! Loading happens in two steps because `environment_variables` must be exported before
//! `os.environ/…` references are resolved, and exporting is the host's job (the binary re-execs
//! itself with them, the Python command sets `os.environ`): [`RawConfig::load`] reads the files,
//! [`RawConfig::resolve`] turns them into a [`ProxyConfig`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use llmrelay_core::detect;
use llmrelay_guardrails::{BuildOptions, CustomGuardrailFactory, Guardrails};
use llmrelay_router::RouterConfig;

use crate::config_keys::{Section, litellm_keys, litellm_knows, nearest, unused_key_warning};
use crate::routed::ROUTER_KEYS_IN_LITELLM_SETTINGS;

/// What went wrong while loading the config; the message names the file and the bad field.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// `litellm_params` keys LiteLLM acts on that llmrelay's Router accepts but does not act on yet
/// (it strips them from the call: they never reach the provider).
pub const NOT_YET_DEPLOYMENT_PARAMS: &[&str] = &[
    "max_parallel_requests",
    "max_budget",
    "budget_duration",
    "rpd",
    "tpd",
    "itpm",
    "otpm",
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
        // Absolute, so that `--config config.yaml` names the current directory rather than ''.
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let directory = absolute
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
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
        names.retain(|name| !llmrelay_observe::is_builtin(name));
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
        let (secrets, values) = self.read_secrets(&document)?;
        let unset = resolve_environment_references_with(&mut document, &|name| {
            values
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
        });
        let parsed: ProxyConfigFile = serde_path_to_error::deserialize(&document).map_err(|e| {
            ConfigError::new(format!(
                "invalid config {}: {}: {}",
                self.path.display(),
                e.path(),
                e.inner()
            ))
        })?;
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
        let guardrails = build_guardrails(&document, &self.directory).map_err(|message| {
            ConfigError::new(format!("invalid config {}: {message}", self.path.display()))
        })?;
        let mcp = llmrelay_mcp::config::parse(parsed.mcp_servers.as_ref()).map_err(|message| {
            ConfigError::new(format!("invalid config {}: {message}", self.path.display()))
        })?;
        check_search_tools(&parsed.search_tools).map_err(|message| {
            ConfigError::new(format!("invalid config {}: {message}", self.path.display()))
        })?;
        let settings = &parsed.litellm_settings;
        crate::cache::params(settings.cache, settings.cache_params.as_ref()).map_err(|e| {
            ConfigError::new(format!("invalid config {}: {e}", self.path.display()))
        })?;
        llmrelay_observe::alerting::AlertingSettings::from_general_settings(
            &parsed.general_settings.other,
            &llmrelay_observe::Environment::process(),
        )
        .map_err(|message| {
            ConfigError::new(format!("invalid config {}: {message}", self.path.display()))
        })?;
        let mut warnings = unused_key_warnings(&parsed);
        if let Some(jwt) = &parsed.general_settings.litellm_jwtauth {
            warnings.extend(jwt.check().map_err(|message| {
                ConfigError::new(format!("invalid config {}: {message}", self.path.display()))
            })?);
            if parsed.general_settings.enable_jwt_auth != Some(true) {
                warnings.push(
                    "general_settings.litellm_jwtauth is set but general_settings.enable_jwt_auth is not true: JWTs are not accepted".to_owned(),
                );
            }
        }
        warnings.extend(guardrails.warnings().iter().cloned());
        warnings.extend(mcp.warnings.iter().cloned());
        warnings.extend(unset_variable_warnings(&unset, &parsed.model_list));
        warnings.extend(provider_warnings(&parsed.model_list));
        if parsed.model_list.is_empty() {
            warnings.push(
                "model_list is empty: every model request will fail until deployments are configured"
                    .to_owned(),
            );
        }
        Ok(ProxyConfig {
            model_list: parsed.model_list,
            litellm_settings: parsed.litellm_settings,
            general_settings: parsed.general_settings,
            router_settings: parsed.router_settings.unwrap_or_default(),
            warnings,
            path: self.path.clone(),
            guardrails: Arc::new(guardrails),
            mcp: Arc::new(mcp),
            search_tools: Arc::new(parsed.search_tools),
            secrets,
        })
    }

    /// The secrets the document's `os.environ/` references name, read from its
    /// `key_management_system` (none without one).
    fn read_secrets(
        &self,
        document: &Value,
    ) -> Result<
        (
            Option<crate::secrets::ReadSecrets>,
            BTreeMap<String, String>,
        ),
        ConfigError,
    > {
        let invalid = |message: String| {
            ConfigError::new(format!("invalid config {}: {message}", self.path.display()))
        };
        let Some(manager) =
            crate::secrets::SecretManager::from_document(&self.document, &self.directory)
                .map_err(invalid)?
        else {
            return Ok((None, BTreeMap::new()));
        };
        let names: Vec<String> = crate::secrets::referenced_names(document)
            .into_iter()
            .filter(|name| manager.serves(name))
            .collect();
        let values = manager.fetch_blocking(&names).map_err(|error| {
            ConfigError::new(format!(
                "config {}: general_settings.key_management_system: {error}",
                self.path.display()
            ))
        })?;
        let read = crate::secrets::ReadSecrets {
            fingerprint: crate::secrets::fingerprint(&values),
            manager,
            names,
        };
        Ok((Some(read), values))
    }
}

/// Builds the config's guardrails (`guardrails:` and `litellm_settings.guardrails`); file paths
/// and custom classes are relative to the config's directory.
fn build_guardrails(document: &Value, directory: &Path) -> Result<Guardrails, String> {
    let options = BuildOptions {
        base_dir: Some(directory.to_path_buf()),
        custom_factory: CUSTOM_GUARDRAILS.get().cloned(),
    };
    Guardrails::from_proxy_config(document, &options)
        .map_err(|error| format!("{}: {}", error.path, error.message))
}

/// Builds custom guardrail classes (`litellm_params.guardrail: module.ClassName`): the Python
/// binding registers one before the config is resolved; without it such a config is an error.
static CUSTOM_GUARDRAILS: std::sync::OnceLock<Arc<dyn CustomGuardrailFactory>> =
    std::sync::OnceLock::new();

/// Registers the builder of custom guardrail classes (once per process; later calls are
/// ignored and return `false`).
pub fn set_custom_guardrail_factory(factory: Arc<dyn CustomGuardrailFactory>) -> bool {
    CUSTOM_GUARDRAILS.set(factory).is_ok()
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
/// (as LiteLLM does: the field then counts as absent). Returns `(field path, NAME)` of each
/// unset variable.
pub fn resolve_environment_references(value: &mut Value) -> Vec<(String, String)> {
    resolve_environment_references_with(value, &|name| std::env::var(name).ok())
}

/// [`resolve_environment_references`] with `lookup` in place of the environment (a secret
/// manager's values first, then the environment).
pub fn resolve_environment_references_with(
    value: &mut Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let mut unset = Vec::new();
    resolve_at(value, &mut String::new(), &mut unset, lookup);
    unset
}

fn resolve_at(
    value: &mut Value,
    path: &mut String,
    unset: &mut Vec<(String, String)>,
    lookup: &dyn Fn(&str) -> Option<String>,
) {
    match value {
        Value::String(text) => {
            if let Some(name) = text.strip_prefix(ENV_PREFIX) {
                match lookup(name) {
                    Some(found) => *value = Value::String(found),
                    None => {
                        unset.push((path.clone(), name.to_owned()));
                        *value = Value::Null;
                    }
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                let length = path.len();
                path.push_str(&format!("[{index}]"));
                resolve_at(item, path, unset, lookup);
                path.truncate(length);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                resolve_at(item, path, unset, lookup);
                path.truncate(length);
            }
        }
        _ => {}
    }
}

/// One warning per key that nothing in llmrelay read (see [`crate::config_keys`]).
fn unused_key_warnings(parsed: &ProxyConfigFile) -> Vec<String> {
    let mut warnings = Vec::new();
    for key in parsed.other.keys() {
        warnings.push(unused_key_warning(Section::TopLevel, key, key, &[]));
    }
    for key in parsed.litellm_settings.other.keys() {
        if !ROUTER_KEYS_IN_LITELLM_SETTINGS.contains(&key.as_str())
            && key != "guardrails"
            && !crate::governance::LITELLM_SETTINGS.contains(&key.as_str())
            && !crate::custom_auth::LITELLM_SETTINGS.contains(&key.as_str())
            && !crate::alerting::LITELLM_SETTINGS.contains(&key.as_str())
        {
            let path = format!("litellm_settings.{key}");
            warnings.push(unused_key_warning(
                Section::LitellmSettings,
                key,
                &path,
                &[],
            ));
        }
    }
    for key in parsed.general_settings.other.keys() {
        if crate::governance::SETTINGS.contains(&key.as_str())
            || crate::limits::SETTINGS.contains(&key.as_str())
            || crate::custom_auth::SETTINGS.contains(&key.as_str())
            || crate::secrets::SETTINGS.contains(&key.as_str())
            || crate::edge::SETTINGS.contains(&key.as_str())
            || crate::body_safety::SETTINGS.contains(&key.as_str())
            || crate::files::SETTINGS.contains(&key.as_str())
            || llmrelay_observe::alerting::SETTINGS.contains(&key.as_str())
        {
            continue;
        }
        let path = format!("general_settings.{key}");
        warnings.push(unused_key_warning(
            Section::GeneralSettings,
            key,
            &path,
            &[],
        ));
    }
    if let Some(settings) = &parsed.router_settings {
        // The Router keeps what it does not read in `extra`; a settings error is reported by
        // the Router when it is built.
        if let Ok(router) = RouterConfig::from_value(Value::Object(settings.clone())) {
            for key in router.extra.keys() {
                let path = format!("router_settings.{key}");
                warnings.push(unused_key_warning(Section::RouterSettings, key, &path, &[]));
            }
        }
    }
    for (index, deployment) in parsed.model_list.iter().enumerate() {
        for key in deployment.litellm_params.other.keys() {
            if let Some(warning) = deployment_param_warning(index, key) {
                warnings.push(warning);
            }
        }
    }
    warnings
}

/// A `litellm_params` key is LiteLLM's (the call or the Router reads it), or a request field
/// passed to the provider as LiteLLM passes it; only a near miss of a LiteLLM name is flagged.
fn deployment_param_warning(index: usize, key: &str) -> Option<String> {
    let path = format!("model_list[{index}].litellm_params.{key}");
    if NOT_YET_DEPLOYMENT_PARAMS.contains(&key) {
        return Some(format!("{path} is not supported by llmrelay yet; ignored"));
    }
    let engine_params = llmrelay_providers::litellm_params::LITELLM_PARAMS;
    let openai_params = llmrelay_providers::params::CHECKED_CHAT_PARAMS;
    if litellm_knows(Section::LitellmParams, key)
        || engine_params.binary_search(&key).is_ok()
        || openai_params.contains(&key)
    {
        return None;
    }
    let candidates = litellm_keys(Section::LitellmParams)
        .iter()
        .chain(openai_params)
        .copied();
    nearest(key, candidates).map(|suggestion| {
        format!(
            "unknown key {path}: did you mean '{suggestion}'? (as it is, it is sent to the provider as a request field)"
        )
    })
}

/// Unset `os.environ/NAME` references, naming the deployment they belong to.
fn unset_variable_warnings(
    unset: &[(String, String)],
    model_list: &[DeploymentConfig],
) -> Vec<String> {
    unset
        .iter()
        .map(|(path, name)| {
            let deployment = path
                .strip_prefix("model_list[")
                .and_then(|rest| rest.split_once(']'))
                .and_then(|(index, rest)| Some((index.parse::<usize>().ok()?, rest)));
            match deployment {
                Some((index, field)) => {
                    let model_name = model_list
                        .get(index)
                        .map_or("", |d| d.model_name.as_str());
                    format!(
                        "model_list[{index}] (model_name '{model_name}'): {} is os.environ/{name}, which is not set; calls to this deployment will fail until it is",
                        field.trim_start_matches('.')
                    )
                }
                None => format!("{path} is os.environ/{name}, which is not set; treated as absent"),
            }
        })
        .collect()
}

/// Deployments whose provider cannot be told from their `model` (the call would fail).
fn provider_warnings(model_list: &[DeploymentConfig]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (index, deployment) in model_list.iter().enumerate() {
        let params = &deployment.litellm_params;
        if params.model.contains('*') {
            continue;
        }
        let text = |key: &str| params.other.get(key).and_then(Value::as_str);
        if detect::resolve(&params.model, text("custom_llm_provider"), text("api_base")).is_err() {
            let hint = params.model.split_once('/').map_or_else(
                || "add a provider prefix such as 'openai/'".to_owned(),
                |(prefix, _)| format!("'{prefix}' is not a provider llmrelay knows"),
            );
            warnings.push(format!(
                "model_list[{index}] (model_name '{}'): litellm_params.model '{}' names no known provider ({hint}); calls to this deployment will fail",
                deployment.model_name, params.model
            ));
        }
    }
    warnings
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
    /// Read (with `litellm_settings.guardrails`) by `llmrelay_guardrails` in `resolve`.
    #[serde(default)]
    #[expect(dead_code, reason = "parsed from the document by the guardrails crate")]
    guardrails: Option<Value>,
    /// LiteLLM's MCP servers (checked by `llmrelay_mcp::config` in `resolve`).
    #[serde(default)]
    mcp_servers: Option<Value>,
    /// LiteLLM's search tools (`/v1/search/{search_tool_name}`), checked in `resolve`.
    #[serde(default, deserialize_with = "null_as_default")]
    search_tools: Vec<SearchToolConfig>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// One `search_tools:` entry: a named search provider with its credentials.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct SearchToolConfig {
    pub search_tool_name: String,
    /// `search_provider`, `api_key`, `api_base` and the provider's own default parameters.
    #[serde(default)]
    pub litellm_params: Map<String, Value>,
    /// `description` and the like, listed by `/v1/search/tools`.
    #[serde(default)]
    pub search_tool_info: Option<Map<String, Value>>,
}

impl SearchToolConfig {
    /// The tool's `search_provider`.
    #[must_use]
    pub fn search_provider(&self) -> &str {
        self.litellm_params
            .get("search_provider")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

fn check_search_tools(tools: &[SearchToolConfig]) -> Result<(), String> {
    for (index, tool) in tools.iter().enumerate() {
        if tool.search_tool_name.is_empty() {
            return Err(format!(
                "search_tools[{index}].search_tool_name: must not be empty"
            ));
        }
        let provider = tool.search_provider();
        if provider.is_empty() {
            return Err(format!(
                "search_tools[{index}].litellm_params.search_provider: required (search tool '{}')",
                tool.search_tool_name
            ));
        }
        llmrelay_providers::search::lookup(provider).map_err(|error| {
            format!(
                "search_tools[{index}].litellm_params.search_provider: {}",
                error.message()
            )
        })?;
    }
    Ok(())
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
#[serde(try_from = "Map<String, Value>")]
pub struct LitellmParams {
    pub model: String,
    pub other: Map<String, Value>,
    /// Where `model` stood among the keys: the deployment id hashes the params in config order,
    /// as LiteLLM does.
    model_position: usize,
}

impl TryFrom<Map<String, Value>> for LitellmParams {
    type Error = String;

    fn try_from(mut other: Map<String, Value>) -> Result<Self, Self::Error> {
        let Some(model_position) = other.keys().position(|key| key == "model") else {
            return Err("missing field `model`".to_owned());
        };
        let model = match other.shift_remove("model") {
            Some(Value::String(model)) => model,
            Some(other) => return Err(format!("model: expected a string, got {other}")),
            None => return Err("missing field `model`".to_owned()),
        };
        Ok(Self {
            model,
            other,
            model_position,
        })
    }
}

impl LitellmParams {
    /// `model` first, then the other parameters (one-model mode, tests).
    #[must_use]
    pub fn new(model: String, other: Map<String, Value>) -> Self {
        Self {
            model,
            other,
            model_position: 0,
        }
    }

    /// Every parameter, `model` included, in the order of the config file.
    #[must_use]
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = Map::with_capacity(self.other.len() + 1);
        let position = self.model_position.min(self.other.len());
        for (index, (key, value)) in self.other.iter().enumerate() {
            if index == position {
                map.insert("model".to_owned(), Value::String(self.model.clone()));
            }
            map.insert(key.clone(), value.clone());
        }
        if position == self.other.len() {
            map.insert("model".to_owned(), Value::String(self.model.clone()));
        }
        map
    }
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
    /// Request log lines (and the server's log lines) as JSON.
    #[serde(default)]
    pub json_logs: Option<bool>,
    /// Integrations get no messages or answers.
    #[serde(default)]
    pub turn_off_message_logging: Option<bool>,
    /// Integrations get no key, user, team or org of the caller.
    #[serde(default)]
    pub redact_user_api_key_info: Option<bool>,
    /// `cache: true` turns the response cache on (`llmrelay-cache`), set up by `cache_params`.
    #[serde(default)]
    pub cache: Option<bool>,
    #[serde(default)]
    pub cache_params: Option<Map<String, Value>>,
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
    /// JWTs are accepted as bearer tokens ([`crate::jwt`]).
    #[serde(default)]
    pub enable_jwt_auth: Option<bool>,
    /// LiteLLM's `LiteLLM_JWTAuth` settings.
    #[serde(default)]
    pub litellm_jwtauth: Option<crate::jwt::JwtAuthSettings>,
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
    /// The configured guardrails (`guardrails:`, `litellm_settings.guardrails`), built and
    /// checked when the config is resolved.
    pub guardrails: Arc<Guardrails>,
    /// The upstream MCP servers of the gateway (`mcp_servers:`), checked.
    pub mcp: Arc<llmrelay_mcp::McpConfig>,
    /// LiteLLM's `search_tools:` (the search routes' tools), checked.
    pub search_tools: Arc<Vec<SearchToolConfig>>,
    /// What was read from `key_management_system` (to re-read it, see [`crate::secrets`]).
    pub secrets: Option<crate::secrets::ReadSecrets>,
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

    /// Python callbacks named in `litellm_settings` (all three lists; built-in integration
    /// names such as `langfuse` are Rust integrations, see `llmrelay_observe`).
    #[must_use]
    pub fn python_callbacks(&self) -> Vec<String> {
        let settings = &self.litellm_settings;
        let mut names: Vec<String> = settings
            .callbacks
            .iter()
            .chain(&settings.success_callback)
            .chain(&settings.failure_callback)
            .filter(|name| !llmrelay_observe::is_builtin(name))
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
                litellm_params: LitellmParams::new(model.to_owned(), other),
                model_info: Map::new(),
            }],
            litellm_settings: LitellmSettings::default(),
            general_settings: GeneralSettings::default(),
            router_settings: Map::new(),
            warnings: Vec::new(),
            path: PathBuf::from("<command line>"),
            guardrails: Arc::new(Guardrails::empty()),
            mcp: Arc::new(llmrelay_mcp::McpConfig::default()),
            search_tools: Arc::new(Vec::new()),
            secrets: None,
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
        assert_eq!(config.litellm_settings.cache, Some(true));
        assert!(
            !config
                .warnings
                .iter()
                .any(|w| w.contains("litellm_settings.cache"))
        );
        assert!(config.warnings.iter().any(|w| w.contains("set_verbose")));
        assert!(
            config.warnings.iter().any(|w| w
                .contains("api_key is os.environ/LLMRELAY_TEST_UNSET_KEY, which is not set")
                && w.contains("model_name 'gpt-4o'")),
            "{:?}",
            config.warnings
        );
    }

    fn warnings_of(text: &str) -> Vec<String> {
        raw(text).resolve().unwrap().warnings
    }

    #[test]
    fn alerting_settings_are_read_not_warned_about_and_checked() {
        let warnings = warnings_of(
            "general_settings:\n  alerting: [slack]\n  alerting_threshold: 10\n  alert_types: [budget_alerts]\n  alerting_args: {budget_alert_ttl: 60}\n  spend_report_frequency: 1d\nlitellm_settings:\n  redact_messages_in_exceptions: true\n",
        );
        assert!(
            warnings
                .iter()
                .all(|w| !w.contains("alert") && !w.contains("spend_report")),
            "{warnings:?}"
        );
        let error = raw("general_settings:\n  alerting: [slack]\n  alerting_threshold: soon\n")
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("general_settings.alerting_threshold"),
            "{error}"
        );
    }

    #[test]
    fn jwt_settings_are_typed_and_checked_at_start() {
        let config = raw(r"
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    team_id_jwt_field: client_id
    user_id_upsert: true
    scope_mappings: []
")
        .resolve()
        .unwrap();
        let jwt = config.general_settings.litellm_jwtauth.unwrap();
        assert_eq!(jwt.team_id_jwt_field.as_deref(), Some("client_id"));
        assert!(jwt.user_id_upsert);
        assert_eq!(config.general_settings.enable_jwt_auth, Some(true));
        assert!(config.warnings.iter().any(|w| w.contains("scope_mappings")));
        assert!(
            !config
                .warnings
                .iter()
                .any(|w| w.contains("enable_jwt_auth"))
        );
        for (text, path) in [
            (
                "general_settings:\n  litellm_jwtauth:\n    user_id_upsert: maybe\n",
                "general_settings.litellm_jwtauth.user_id_upsert",
            ),
            (
                "general_settings:\n  litellm_jwtauth:\n    team_allowed_routes: [chat]\n",
                "general_settings.litellm_jwtauth.team_allowed_routes[0]",
            ),
            (
                "general_settings:\n  litellm_jwtauth:\n    user_id_jwt_fld: sub\n",
                "general_settings.litellm_jwtauth.user_id_jwt_fld",
            ),
        ] {
            let error = raw(text).resolve().unwrap_err().to_string();
            assert!(error.contains(path), "{error}");
        }
    }

    #[test]
    fn every_key_is_used_or_warned_about_by_name() {
        let warnings = warnings_of(
            r"
model_list:
  - model_name: a
    litellm_params:
      model: openai/gpt-4o
      api_key: k
      rmp: 10
      rpm: 5
      tags: [free]
      max_budget: 5
      temperature: 0.2
      top_k: 3
litellm_settings:
  fallbacks: [{a: [b]}]
  context_window_fallbacks: [{a: [b]}]
  num_retries: 2
  num_retires: 3
  cache: true
router_settings:
  routing_stratgy: simple-shuffle
  routing_strategy: simple-shuffle
  provider_budget_config: {openai: {budget_limit: 1}}
  redis_sync_interval_ms: 50
general_settings:
  master_key: sk-0123456789abcdef
  max_parallel_requests: 10
  mystery_setting: 1
",
        );
        let expected = [
            "unknown key model_list[0].litellm_params.rmp: did you mean 'rpm'? (as it is, it is sent to the provider as a request field)",
            "model_list[0].litellm_params.max_budget is not supported by llmrelay yet; ignored",
            "unknown key litellm_settings.num_retires ignored; did you mean 'num_retries'?",
            "unknown key router_settings.routing_stratgy ignored; did you mean 'routing_strategy'?",
            "router_settings.provider_budget_config is not supported by llmrelay yet; ignored",
            "unknown key general_settings.mystery_setting ignored",
        ];
        for line in expected {
            assert!(
                warnings.iter().any(|w| w == line),
                "missing {line:?} in {warnings:#?}"
            );
        }
        // Keys that work are never warned about.
        for used in [
            "fallbacks",
            "context_window_fallbacks",
            "litellm_settings.num_retries ",
            "temperature",
            "top_k",
            "'rpm'?)",
            "redis_sync_interval_ms",
            "litellm_settings.cache",
            "master_key",
            "max_parallel_requests",
            "routing_strategy ",
            "litellm_params.tags",
        ] {
            assert!(
                !warnings
                    .iter()
                    .any(|w| w.contains(used) && !w.contains("did you mean")),
                "{used} warned: {warnings:#?}"
            );
        }
        assert_eq!(warnings.len(), expected.len(), "{warnings:#?}");
    }

    #[test]
    fn start_up_warns_about_what_would_fail_per_request() {
        let warnings = warnings_of(
            "model_list:\n  - model_name: x\n    litellm_params: {model: nosuchprovider/m}\n  - model_name: w\n    litellm_params: {model: 'anthropic/*'}\n",
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("model_list[0] (model_name 'x')"),
            "{warnings:?}"
        );
        assert!(warnings[0].contains("'nosuchprovider' is not a provider llmrelay knows"));
        let warnings =
            warnings_of("general_settings: {master_key: os.environ/LLMRELAY_UNSET_MASTER}\n");
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("model_list is empty")),
            "{warnings:?}"
        );
        assert!(warnings.iter().any(|w| w == "general_settings.master_key is os.environ/LLMRELAY_UNSET_MASTER, which is not set; treated as absent"), "{warnings:?}");
    }

    #[test]
    fn params_keep_their_config_order() {
        let config = raw("model_list:\n  - model_name: a\n    litellm_params: {api_key: k, model: openai/x, rpm: 1}\n")
            .resolve()
            .unwrap();
        let keys: Vec<String> = config.model_list[0]
            .litellm_params
            .to_map()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["api_key", "model", "rpm"]);
        let single = ProxyConfig::single_model("m", None, Map::new());
        assert_eq!(
            single.model_list[0]
                .litellm_params
                .to_map()
                .keys()
                .next()
                .map(String::as_str),
            Some("model")
        );
    }

    #[test]
    fn a_relative_config_path_has_an_absolute_directory() {
        let directory =
            std::env::temp_dir().join(format!("llmrelay-relative-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        std::fs::write(directory.join("config.yaml"), "model_list: []\n").unwrap();
        // `Path::parent` of a bare file name is "": the directory must still be usable.
        let relative = std::path::Path::new("config.yaml");
        assert_eq!(relative.parent(), Some(std::path::Path::new("")));
        let loaded = RawConfig::load(&directory.join(".").join("config.yaml")).unwrap();
        assert!(loaded.directory.is_absolute());
        std::fs::remove_dir_all(directory).unwrap();
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

    #[test]
    fn search_tools_are_typed_and_checked_at_start_up() {
        let config = raw(r"
search_tools:
  - search_tool_name: web
    litellm_params:
      search_provider: tavily
      api_key: tk
    search_tool_info:
      description: Tavily
")
        .resolve()
        .unwrap();
        assert_eq!(config.search_tools.len(), 1);
        assert_eq!(config.search_tools[0].search_provider(), "tavily");
        assert!(
            !config.warnings.iter().any(|w| w.contains("search_tools")),
            "{:?}",
            config.warnings
        );
        let error = raw("search_tools:\n  - search_tool_name: web\n    litellm_params: {}\n")
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("search_tools[0].litellm_params.search_provider: required"),
            "{error}"
        );
        let error = raw(
            "search_tools:\n  - search_tool_name: web\n    litellm_params:\n      search_provider: altavista\n",
        )
        .resolve()
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("'altavista' is not a search provider"),
            "{error}"
        );
        let error = raw("search_tools:\n  - search_tool_name: ''\n    litellm_params: {}\n")
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("search_tools[0].search_tool_name"),
            "{error}"
        );
    }

    #[test]
    fn mcp_servers_are_typed_and_checked_at_start_up() {
        let config = raw(r"
mcp_servers:
  github:
    url: https://api.example.com/mcp
    transport: http
    auth_type: bearer_token
    auth_value: ghp_test
    allowed_tools: [create_issue]
  local fs:
    transport: stdio
    command: python
    args: [server.py]
")
        .resolve()
        .unwrap();
        let names: Vec<&str> = config.mcp.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["github", "local_fs"]);
        assert_eq!(config.mcp.servers[0].transport.name(), "http");
        assert!(
            !config.warnings.iter().any(|w| w.contains("mcp_servers")),
            "{:?}",
            config.warnings
        );
        let error = raw("mcp_servers:\n  github:\n    url: https://x\n    transport: pigeon\n")
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(error.contains("mcp_servers.github.transport: "), "{error}");
        let error = raw("mcp_servers:\n  fs:\n    transport: stdio\n")
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("mcp_servers.fs.command: required"),
            "{error}"
        );
        assert!(
            ProxyConfig::single_model("gpt-4o", None, Map::new())
                .mcp
                .is_empty()
        );
    }
}
