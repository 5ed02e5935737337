//! Secret managers: `general_settings.key_management_system` makes the config's `os.environ/NAME`
//! references read `NAME` from a secret store instead of the process environment, so provider
//! keys stay out of config files and environments.
//!
//! - `aws_secret_manager` (LiteLLM's): AWS Secrets Manager's `GetSecretValue` over its JSON
//!   protocol (`POST /`, `X-Amz-Target: secretsmanager.GetSecretValue`,
//!   `Content-Type: application/x-amz-json-1.1`, body `{"SecretId": NAME}`, answer
//!   `{"SecretString": ...}`; the API reference's "GetSecretValue"), signed with SigV4 for the
//!   service `secretsmanager` by the Bedrock signer. Credentials and region as Bedrock's:
//!   `key_management_settings.aws_*`, else `AWS_*` variables or the shared credentials file.
//!   With `primary_secret_name` (LiteLLM's) every name is a key of that one JSON secret.
//! - `file` (llmrelay's): a directory of files named as the secrets (`secrets_dir`, as
//!   Kubernetes and Docker mount secrets) and/or a `KEY=VALUE` file (`secrets_file`, `.env`
//!   form).
//!
//! `key_management_settings.hosted_keys` (LiteLLM's) limits the store to those names; the
//! others, and names the store does not have, come from the environment as before.
//!
//! Secrets are read when the config is resolved (at start and on every reload) and again every
//! `refresh_interval` seconds (llmrelay's; default 60): when one changed, the config is
//! reloaded, so a rotated provider key is used without a restart (see [`watch`]). Values are
//! never logged: errors name the secret, not its value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use llmrelay_providers::bedrock::auth::{self, BedrockAuth, SigningScope, signature_headers};

use crate::state::AppState;

/// The `general_settings` keys read here.
pub const SETTINGS: &[&str] = &["key_management_system", "key_management_settings"];

/// The config's `os.environ/` prefix.
const ENV_PREFIX: &str = "os.environ/";

/// Names the store never serves: the store's own credentials (LiteLLM's list).
const OWN_CREDENTIALS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION_NAME",
    "AWS_REGION",
    "AWS_BEDROCK_RUNTIME_ENDPOINT",
];

const DEFAULT_REFRESH: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where secrets are read from.
#[derive(Debug, Clone)]
enum Backend {
    Aws(AwsSecrets),
    Files {
        dir: Option<PathBuf>,
        file: Option<PathBuf>,
    },
}

/// AWS Secrets Manager in one region.
#[derive(Debug, Clone)]
struct AwsSecrets {
    endpoint: String,
    region: String,
    /// `key_management_settings`' `aws_*` values (credentials resolved per request batch,
    /// so rotated environment credentials are picked up too).
    params: Map<String, Value>,
}

/// A configured secret store.
#[derive(Debug, Clone)]
pub struct SecretManager {
    backend: Backend,
    hosted_keys: Option<Vec<String>>,
    primary_secret_name: Option<String>,
    pub refresh: Duration,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A settings value, itself possibly an `os.environ/` reference (read from the environment).
fn setting(settings: &Map<String, Value>, name: &str) -> Option<String> {
    let value = settings.get(name)?.as_str()?;
    match value.strip_prefix(ENV_PREFIX) {
        Some(var) => env(var),
        None => Some(value.to_owned()).filter(|v| !v.is_empty()),
    }
}

impl SecretManager {
    /// The store a raw (unresolved) config names, `None` without `key_management_system`.
    ///
    /// # Errors
    /// An unknown system or malformed settings, naming the key.
    pub fn from_document(
        document: &Map<String, Value>,
        directory: &Path,
    ) -> Result<Option<Self>, String> {
        let Some(general) = document.get("general_settings").and_then(Value::as_object) else {
            return Ok(None);
        };
        let system = match general.get("key_management_system") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(system)) => system.as_str(),
            Some(other) => {
                return Err(format!(
                    "general_settings.key_management_system must be a string, got {other}"
                ));
            }
        };
        let settings = match general.get("key_management_settings") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(settings)) => settings.clone(),
            Some(other) => {
                return Err(format!(
                    "general_settings.key_management_settings must be a mapping, got {other}"
                ));
            }
        };
        let backend = match system {
            "aws_secret_manager" => {
                let mut params = Map::new();
                for (name, value) in &settings {
                    if name.starts_with("aws_") {
                        if let Some(text) = setting(&settings, name) {
                            params.insert(name.clone(), Value::String(text));
                        } else if !value.is_string() {
                            return Err(format!(
                                "general_settings.key_management_settings.{name} must be a string"
                            ));
                        }
                    }
                }
                let region = auth::region(&params).map_err(|e| {
                    format!(
                        "general_settings.key_management_settings.aws_region_name: {}",
                        e.message()
                    )
                })?;
                let endpoint = setting(&settings, "endpoint_url")
                    .or_else(|| env("AWS_ENDPOINT_URL_SECRETS_MANAGER"))
                    .or_else(|| env("AWS_ENDPOINT_URL"))
                    .or_else(|| {
                        env("AWS_BEDROCK_RUNTIME_ENDPOINT")
                            .map(|url| url.replace("bedrock-runtime", "secretsmanager"))
                    })
                    .unwrap_or_else(|| format!("https://secretsmanager.{region}.amazonaws.com"));
                Backend::Aws(AwsSecrets {
                    endpoint: endpoint.trim_end_matches('/').to_owned(),
                    region,
                    params,
                })
            }
            "file" => {
                let path = |name: &str| {
                    setting(&settings, name).map(|p| {
                        let p = PathBuf::from(p);
                        if p.is_absolute() {
                            p
                        } else {
                            directory.join(p)
                        }
                    })
                };
                let dir = path("secrets_dir");
                let file = path("secrets_file");
                if dir.is_none() && file.is_none() {
                    return Err(
                        "general_settings.key_management_settings: the file store needs secrets_dir (a directory of files named as the secrets) or secrets_file (KEY=VALUE lines)"
                            .to_owned(),
                    );
                }
                Backend::Files { dir, file }
            }
            "azure_key_vault"
            | "google_kms"
            | "google_secret_manager"
            | "hashicorp_vault"
            | "aws_kms"
            | "cyberark"
            | "custom" => {
                return Err(format!(
                    "general_settings.key_management_system: {system} is not built in llmrelay; use aws_secret_manager or file"
                ));
            }
            other => {
                return Err(format!(
                    "general_settings.key_management_system: Invalid Key Management System selected: {other} (llmrelay has aws_secret_manager and file)"
                ));
            }
        };
        let hosted_keys = match settings.get("hosted_keys") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_owned).ok_or_else(|| {
                            "general_settings.key_management_settings.hosted_keys must be a list of names".to_owned()
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => {
                return Err(
                    "general_settings.key_management_settings.hosted_keys must be a list of names"
                        .to_owned(),
                );
            }
        };
        let refresh = match settings.get("refresh_interval") {
            None | Some(Value::Null) => DEFAULT_REFRESH,
            Some(value) => value
                .as_f64()
                .filter(|s| *s > 0.0 && s.is_finite())
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    format!(
                        "general_settings.key_management_settings.refresh_interval must be a positive number of seconds, got {value}"
                    )
                })?,
        };
        Ok(Some(Self {
            backend,
            hosted_keys,
            primary_secret_name: setting(&settings, "primary_secret_name"),
            refresh,
        }))
    }

    /// Whether `name` is read from the store.
    #[must_use]
    pub fn serves(&self, name: &str) -> bool {
        !OWN_CREDENTIALS.contains(&name)
            && self
                .hosted_keys
                .as_ref()
                .is_none_or(|hosted| hosted.iter().any(|h| h == name))
    }

    /// The values of those of `names` the store has (absent names are left out).
    ///
    /// # Errors
    /// The store cannot be read (unreachable, refused, malformed answer).
    pub async fn fetch(&self, names: &[String]) -> Result<BTreeMap<String, String>, String> {
        let names: Vec<&String> = names.iter().filter(|n| self.serves(n)).collect();
        let mut found = BTreeMap::new();
        if names.is_empty() {
            return Ok(found);
        }
        match &self.backend {
            Backend::Aws(aws) => {
                let client = llmrelay_providers::http::client();
                if let Some(primary) = &self.primary_secret_name {
                    let Some(text) = aws.get(&client, primary).await? else {
                        return Err(format!(
                            "AWS Secrets Manager has no primary secret '{primary}'"
                        ));
                    };
                    let object: Map<String, Value> = serde_json::from_str(&text).map_err(|_| {
                        format!("the primary secret '{primary}' is not a JSON object")
                    })?;
                    for name in names {
                        if let Some(value) = object.get(name.as_str()) {
                            let text = value
                                .as_str()
                                .map_or_else(|| value.to_string(), str::to_owned);
                            found.insert(name.clone(), text);
                        }
                    }
                } else {
                    for name in names {
                        if let Some(value) = aws.get(&client, name).await? {
                            found.insert(name.clone(), value);
                        }
                    }
                }
            }
            Backend::Files { dir, file } => {
                let lines = match file {
                    Some(path) => Some(read_env_file(path)?),
                    None => None,
                };
                for name in names {
                    if let Some(dir) = dir {
                        let path = dir.join(name.as_str());
                        match std::fs::read_to_string(&path) {
                            Ok(text) => {
                                found.insert(
                                    name.clone(),
                                    text.trim_end_matches(['\n', '\r']).to_owned(),
                                );
                                continue;
                            }
                            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                            Err(error) => {
                                return Err(format!(
                                    "cannot read secret file {}: {error}",
                                    path.display()
                                ));
                            }
                        }
                    }
                    if let Some(value) = lines.as_ref().and_then(|l| l.get(name.as_str())) {
                        found.insert(name.clone(), value.clone());
                    }
                }
            }
        }
        Ok(found)
    }

    /// [`Self::fetch`] from synchronous code (config resolution), on a thread of its own so it
    /// works inside and outside a runtime.
    ///
    /// # Errors
    /// As [`Self::fetch`].
    pub fn fetch_blocking(&self, names: &[String]) -> Result<BTreeMap<String, String>, String> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| format!("cannot start the secret reader: {e}"))?;
                    runtime.block_on(self.fetch(names))
                })
                .join()
                .unwrap_or_else(|_| Err("the secret reader panicked".to_owned()))
        })
    }
}

impl AwsSecrets {
    /// `GetSecretValue`: the `SecretString`, `None` when there is no such secret.
    async fn get(&self, client: &reqwest::Client, name: &str) -> Result<Option<String>, String> {
        let credentials = match auth::resolve(None, &self.params) {
            Ok(BedrockAuth::SigV4(credentials)) => credentials,
            Ok(BedrockAuth::Bearer(_)) | Err(_) => {
                return Err(
                    "AWS Secrets Manager: no AWS credentials (key_management_settings aws_access_key_id / aws_secret_access_key, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or a profile)"
                        .to_owned(),
                );
            }
        };
        let url = format!("{}/", self.endpoint);
        let body = serde_json::to_vec(&json!({ "SecretId": name })).unwrap_or_default();
        let headers = vec![
            (
                "content-type".to_owned(),
                "application/x-amz-json-1.1".to_owned(),
            ),
            (
                "x-amz-target".to_owned(),
                "secretsmanager.GetSecretValue".to_owned(),
            ),
        ];
        let signed = signature_headers(
            "POST",
            &url,
            &headers,
            &body,
            &credentials,
            SigningScope {
                region: &self.region,
                service: "secretsmanager",
                time: SystemTime::now(),
            },
        )
        .map_err(|e| format!("AWS Secrets Manager: {}", e.message()))?;
        let mut request = client.post(&url).timeout(REQUEST_TIMEOUT).body(body);
        for (name, value) in headers.iter().chain(signed.iter()) {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("AWS Secrets Manager at {} unreachable: {e}", self.endpoint))?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .map_err(|e| format!("AWS Secrets Manager answered {status} with no JSON: {e}"))?;
        if status.is_success() {
            return match answer.get("SecretString").and_then(Value::as_str) {
                Some(text) => Ok(Some(text.to_owned())),
                None => Err(format!(
                    "AWS Secrets Manager: secret '{name}' has no SecretString (binary secrets are not read)"
                )),
            };
        }
        let kind = answer
            .get("__type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if kind.ends_with("ResourceNotFoundException") {
            return Ok(None);
        }
        let message = answer
            .get("message")
            .or_else(|| answer.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        Err(format!(
            "AWS Secrets Manager refused reading '{name}': {status} {kind} {message}"
        ))
    }
}

/// `KEY=VALUE` lines (`.env` form: `#` comments, optional `export `, optional quotes).
fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read secrets file {}: {e}", path.display()))?;
    let mut values = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        values.insert(name.trim().to_owned(), value.to_owned());
    }
    Ok(values)
}

/// Every `NAME` the document references as `os.environ/NAME`, once each, in order.
#[must_use]
pub fn referenced_names(document: &Value) -> Vec<String> {
    fn walk(value: &Value, names: &mut Vec<String>) {
        match value {
            Value::String(text) => {
                if let Some(name) = text.strip_prefix(ENV_PREFIX)
                    && !names.iter().any(|n| n == name)
                {
                    names.push(name.to_owned());
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, names)),
            Value::Object(map) => map.values().for_each(|item| walk(item, names)),
            _ => {}
        }
    }
    let mut names = Vec::new();
    walk(document, &mut names);
    names
}

/// A digest of read secrets, to tell a change without keeping a second copy of the values.
#[must_use]
pub fn fingerprint(secrets: &BTreeMap<String, String>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for (name, value) in secrets {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().into()
}

/// What a resolved config read from its store: the digest, the interval, the manager.
#[derive(Debug, Clone)]
pub struct ReadSecrets {
    pub manager: SecretManager,
    pub names: Vec<String>,
    pub fingerprint: [u8; 32],
}

/// Re-reads the secrets every `refresh_interval` and reloads the config when one changed
/// (a no-op without a secret manager or a config file).
#[must_use]
pub fn watch(state: Arc<AppState>) -> Option<tokio::task::JoinHandle<()>> {
    let reloader = state.reload.clone()?;
    let read = reloader.secrets()?;
    Some(tokio::spawn(async move {
        let mut last = read.fingerprint;
        let mut ticks = tokio::time::interval(read.manager.refresh);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if state
                .shutting_down
                .load(std::sync::atomic::Ordering::Relaxed)
            {
                return;
            }
            let now = match read.manager.fetch(&read.names).await {
                Ok(secrets) => fingerprint(&secrets),
                Err(error) => {
                    tracing::warn!(%error, "secrets not re-read; the current ones stay in use");
                    continue;
                }
            };
            if now == last {
                continue;
            }
            match reloader.reload(&state).await {
                Ok(count) => {
                    last = now;
                    tracing::info!(
                        deployments = count,
                        "a secret changed in the secret manager: config reloaded"
                    );
                }
                Err(error) => {
                    tracing::warn!(%error, "a secret changed but the config did not reload");
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager(settings: Value) -> Result<Option<SecretManager>, String> {
        let document = json!({"general_settings": settings});
        SecretManager::from_document(document.as_object().unwrap(), Path::new("/cfg"))
    }

    #[test]
    fn settings_are_checked() {
        assert!(manager(json!({})).unwrap().is_none());
        let aws = manager(json!({"key_management_system": "aws_secret_manager",
            "key_management_settings": {"hosted_keys": ["OPENAI_API_KEY"], "aws_region_name": "eu-west-1"}}))
        .unwrap()
        .unwrap();
        assert!(aws.serves("OPENAI_API_KEY"));
        assert!(!aws.serves("OTHER"));
        assert_eq!(aws.refresh, DEFAULT_REFRESH);
        let Backend::Aws(backend) = &aws.backend else {
            panic!("aws")
        };
        if env("AWS_ENDPOINT_URL_SECRETS_MANAGER").is_none()
            && env("AWS_ENDPOINT_URL").is_none()
            && env("AWS_BEDROCK_RUNTIME_ENDPOINT").is_none()
        {
            assert_eq!(
                backend.endpoint,
                "https://secretsmanager.eu-west-1.amazonaws.com"
            );
        }
        let all = manager(json!({"key_management_system": "aws_secret_manager"}))
            .unwrap()
            .unwrap();
        assert!(all.serves("ANYTHING"));
        assert!(!all.serves("AWS_SECRET_ACCESS_KEY"));
        for (settings, expected) in [
            (
                json!({"key_management_system": "vault9000"}),
                "Invalid Key Management System",
            ),
            (
                json!({"key_management_system": "azure_key_vault"}),
                "not built",
            ),
            (json!({"key_management_system": "file"}), "secrets_dir"),
            (
                json!({"key_management_system": "file", "key_management_settings": {"secrets_dir": "s", "refresh_interval": -1}}),
                "refresh_interval",
            ),
            (
                json!({"key_management_system": "aws_secret_manager", "key_management_settings": {"hosted_keys": "A"}}),
                "hosted_keys",
            ),
        ] {
            let error = manager(settings).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
        let files = manager(json!({"key_management_system": "file",
            "key_management_settings": {"secrets_dir": "secrets", "refresh_interval": 0.5}}))
        .unwrap()
        .unwrap();
        assert_eq!(files.refresh, Duration::from_millis(500));
        let Backend::Files { dir, .. } = &files.backend else {
            panic!("files")
        };
        assert_eq!(dir.as_deref(), Some(Path::new("/cfg/secrets")));
    }

    #[test]
    fn the_file_store_reads_a_directory_and_an_env_file() {
        let root = std::env::temp_dir().join(format!("llmrelay-secrets-{}", std::process::id()));
        std::fs::create_dir_all(root.join("dir")).unwrap();
        std::fs::write(root.join("dir/FROM_DIR"), "dir-value\n").unwrap();
        std::fs::write(
            root.join("secrets.env"),
            "# comment\nexport FROM_FILE=\"file value\"\nFROM_DIR=loses\nPLAIN=x=y\n",
        )
        .unwrap();
        let store = manager(
            json!({"key_management_system": "file", "key_management_settings": {
            "secrets_dir": root.join("dir").display().to_string(),
            "secrets_file": root.join("secrets.env").display().to_string()}}),
        )
        .unwrap()
        .unwrap();
        let names: Vec<String> = ["FROM_DIR", "FROM_FILE", "PLAIN", "ABSENT"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let found = store.fetch_blocking(&names).unwrap();
        assert_eq!(found["FROM_DIR"], "dir-value");
        assert_eq!(found["FROM_FILE"], "file value");
        assert_eq!(found["PLAIN"], "x=y");
        assert!(!found.contains_key("ABSENT"));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn references_are_collected_once() {
        let document = json!({"a": "os.environ/ONE", "b": ["os.environ/TWO", {"c": "os.environ/ONE"}], "d": "plain"});
        assert_eq!(referenced_names(&document), vec!["ONE", "TWO"]);
    }
}
