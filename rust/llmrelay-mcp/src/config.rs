//! LiteLLM's top-level `mcp_servers:` section: raw entries as written, checked into
//! [`McpServerConfig`] values, with errors naming the bad field (`mcp_servers.github.transport`).

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

/// How the proxy reaches one upstream MCP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpTransport {
    /// Streamable HTTP (LiteLLM's `transport: http`).
    Http { url: String },
    /// The legacy HTTP+SSE transport (`transport: sse`): a GET event stream that names the
    /// URL messages are POSTed to.
    Sse { url: String },
    /// A child process spoken to over stdin/stdout (`transport: stdio`).
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
    },
}

impl McpTransport {
    /// LiteLLM's name of the transport.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Http { .. } => "http",
            Self::Sse { .. } => "sse",
            Self::Stdio { .. } => "stdio",
        }
    }
}

/// A header value that is never printed (credentials from `auth_value` or `static_headers`).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHeader {
    pub name: String,
    pub value: String,
}

impl fmt::Debug for SecretHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: <redacted>", self.name)
    }
}

/// One checked `mcp_servers` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpServerConfig {
    /// The entry's key, spaces replaced by underscores (LiteLLM's normalized server name):
    /// the tool-name prefix, the `/{name}/mcp` path segment and what `x-mcp-servers` and
    /// `object_permission.mcp_servers` list.
    pub name: String,
    pub transport: McpTransport,
    /// Headers sent on every HTTP request to the server (authentication, static headers).
    pub headers: Vec<SecretHeader>,
    /// When set and not empty, only these tools are exposed.
    pub allowed_tools: Option<Vec<String>>,
    /// Tools never exposed.
    pub disallowed_tools: Vec<String>,
    pub description: Option<String>,
}

impl McpServerConfig {
    /// Whether `tool` (its name on the upstream server) is exposed through the gateway.
    #[must_use]
    pub fn exposes(&self, tool: &str) -> bool {
        let allowed = match &self.allowed_tools {
            Some(list) if !list.is_empty() => list.iter().any(|t| t == tool),
            _ => true,
        };
        allowed && !self.disallowed_tools.iter().any(|t| t == tool)
    }
}

/// The checked section and what start-up should warn about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpConfig {
    pub servers: Vec<McpServerConfig>,
    pub warnings: Vec<String>,
}

impl McpConfig {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum RawTransport {
    Http,
    #[serde(alias = "streamable_http", alias = "streamable-http")]
    StreamableHttp,
    Sse,
    Stdio,
}

/// LiteLLM's `auth_type` values that a config file can use (`oauth2` needs the interactive
/// flow and the database LiteLLM keeps its tokens in).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum RawAuthType {
    None,
    ApiKey,
    BearerToken,
    Basic,
    Authorization,
}

#[derive(Debug, Deserialize)]
struct RawServer {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    transport: Option<RawTransport>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    auth_type: Option<RawAuthType>,
    #[serde(default)]
    auth_value: Option<String>,
    #[serde(default)]
    static_headers: BTreeMap<String, String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    allowed_tools: Option<Vec<String>>,
    #[serde(default)]
    disallowed_tools: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// Keys of LiteLLM's entries that llmrelay accepts but does not act on (no warning needed:
/// they describe the server for the UI).
const DESCRIPTIVE_KEYS: &[&str] = &["alias", "server_name", "mcp_info", "spec_version"];

/// Normalizes a configured name as LiteLLM does (spaces become underscores).
#[must_use]
pub fn normalize_server_name(name: &str) -> String {
    name.trim().replace(' ', "_")
}

/// Parses the `mcp_servers` value of a config (`None` or `null`: no servers).
///
/// # Errors
/// The first invalid entry, as `mcp_servers.<name>.<field>: <reason>`.
pub fn parse(value: Option<&Value>) -> Result<McpConfig, String> {
    let entries = match value {
        None | Some(Value::Null) => return Ok(McpConfig::default()),
        Some(Value::Object(entries)) => entries,
        Some(_) => {
            return Err("mcp_servers: expected a map of server name to server settings".into());
        }
    };
    let mut config = McpConfig::default();
    for (key, entry) in entries {
        let name = normalize_server_name(key);
        let path = format!("mcp_servers.{key}");
        if name.is_empty() {
            return Err(format!("{path}: the server name must not be empty"));
        }
        if name.contains('/') {
            return Err(format!(
                "{path}: the server name must not contain '/' (it is a path segment of /{{server_name}}/mcp)"
            ));
        }
        if config.servers.iter().any(|s| s.name == name) {
            return Err(format!(
                "{path}: a server named {name:?} is configured twice"
            ));
        }
        let raw: RawServer = serde_path_to_error::deserialize(entry)
            .map_err(|e| format!("{path}.{}: {}", e.path(), e.inner()))?;
        for unknown in raw.other.keys() {
            if !DESCRIPTIVE_KEYS.contains(&unknown.as_str()) {
                config.warnings.push(format!(
                    "{path}.{unknown} is not used by llmrelay's MCP gateway"
                ));
            }
        }
        config.servers.push(check(name, &path, raw)?);
    }
    Ok(config)
}

fn check(name: String, path: &str, raw: RawServer) -> Result<McpServerConfig, String> {
    let transport = match raw.transport {
        Some(transport) => transport,
        None if raw.command.is_some() => RawTransport::Stdio,
        None if raw
            .url
            .as_deref()
            .is_some_and(|url| url.trim_end_matches('/').ends_with("/sse")) =>
        {
            RawTransport::Sse
        }
        None => RawTransport::Http,
    };
    let url = |raw: &RawServer| -> Result<String, String> {
        let url = raw
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                format!(
                    "{path}.url: required for transport {}",
                    transport_name(transport)
                )
            })?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "{path}.url: must be an http:// or https:// URL, got {url:?}"
            ));
        }
        url.parse::<http::Uri>()
            .map_err(|e| format!("{path}.url: {e}"))?;
        Ok(url.to_owned())
    };
    let transport = match transport {
        RawTransport::Http | RawTransport::StreamableHttp => McpTransport::Http { url: url(&raw)? },
        RawTransport::Sse => McpTransport::Sse { url: url(&raw)? },
        RawTransport::Stdio => {
            let command = raw
                .command
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| format!("{path}.command: required for transport stdio"))?
                .to_owned();
            McpTransport::Stdio {
                command,
                args: raw.args.clone(),
                env: raw.env.clone(),
            }
        }
    };
    let mut headers = Vec::new();
    match (raw.auth_type, raw.auth_value.as_deref()) {
        (None | Some(RawAuthType::None), _) => {}
        (Some(_), None | Some("")) => {
            return Err(format!("{path}.auth_value: required when auth_type is set"));
        }
        (Some(kind), Some(value)) => {
            let (header, value) = match kind {
                RawAuthType::ApiKey => ("X-API-Key", value.to_owned()),
                RawAuthType::BearerToken => ("Authorization", format!("Bearer {value}")),
                RawAuthType::Basic => ("Authorization", format!("Basic {value}")),
                RawAuthType::Authorization | RawAuthType::None => {
                    ("Authorization", value.to_owned())
                }
            };
            headers.push(SecretHeader {
                name: header.to_owned(),
                value,
            });
        }
    }
    for (field, map) in [
        ("static_headers", &raw.static_headers),
        ("headers", &raw.headers),
    ] {
        for (header, value) in map {
            http::HeaderName::try_from(header.as_str())
                .map_err(|_| format!("{path}.{field}.{header}: not a valid header name"))?;
            http::HeaderValue::try_from(value.as_str())
                .map_err(|_| format!("{path}.{field}.{header}: not a valid header value"))?;
            headers.retain(|h: &SecretHeader| !h.name.eq_ignore_ascii_case(header));
            headers.push(SecretHeader {
                name: header.clone(),
                value: value.clone(),
            });
        }
    }
    if matches!(transport, McpTransport::Stdio { .. }) && !headers.is_empty() {
        return Err(format!(
            "{path}: auth_type and headers apply to http and sse servers, not stdio (use env)"
        ));
    }
    Ok(McpServerConfig {
        name,
        transport,
        headers,
        allowed_tools: raw.allowed_tools,
        disallowed_tools: raw.disallowed_tools,
        description: raw.description,
    })
}

const fn transport_name(transport: RawTransport) -> &'static str {
    match transport {
        RawTransport::Http | RawTransport::StreamableHttp => "http",
        RawTransport::Sse => "sse",
        RawTransport::Stdio => "stdio",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_value(value: &Value) -> Result<McpConfig, String> {
        parse(Some(value))
    }

    #[test]
    fn parses_every_transport() {
        let config = parse_value(&json!({
            "github": {
                "url": "https://api.example.com/mcp",
                "transport": "http",
                "auth_type": "bearer_token",
                "auth_value": "ghp_x",
                "allowed_tools": ["create_issue"],
                "description": "GitHub"
            },
            "zapier": {"url": "https://actions.example.com/mcp/sse"},
            "local tools": {
                "transport": "stdio",
                "command": "python",
                "args": ["server.py"],
                "env": {"TOKEN": "t"},
                "disallowed_tools": ["rm"]
            }
        }))
        .unwrap();
        assert_eq!(config.servers.len(), 3);
        let github = &config.servers[0];
        assert_eq!(github.name, "github");
        assert_eq!(
            github.transport,
            McpTransport::Http {
                url: "https://api.example.com/mcp".into()
            }
        );
        assert_eq!(github.headers[0].name, "Authorization");
        assert_eq!(github.headers[0].value, "Bearer ghp_x");
        assert!(!format!("{github:?}").contains("ghp_x"));
        assert!(github.exposes("create_issue"));
        assert!(!github.exposes("delete_repo"));
        assert_eq!(config.servers[1].transport.name(), "sse");
        let local = &config.servers[2];
        assert_eq!(local.name, "local_tools");
        assert!(
            matches!(&local.transport, McpTransport::Stdio { command, args, .. }
            if command == "python" && args == &["server.py"])
        );
        assert!(local.exposes("ls"));
        assert!(!local.exposes("rm"));
        assert!(config.warnings.is_empty());
    }

    #[test]
    fn invalid_entries_name_the_field() {
        let error =
            parse_value(&json!({"github": {"url": "https://x", "transport": "carrier-pigeon"}}))
                .unwrap_err();
        assert!(
            error.starts_with("mcp_servers.github.transport: "),
            "{error}"
        );
        assert!(error.contains("carrier-pigeon"), "{error}");
        let error = parse_value(&json!({"fs": {"transport": "stdio"}})).unwrap_err();
        assert_eq!(
            error,
            "mcp_servers.fs.command: required for transport stdio"
        );
        let error = parse_value(&json!({"web": {"transport": "http"}})).unwrap_err();
        assert_eq!(error, "mcp_servers.web.url: required for transport http");
        let error = parse_value(&json!({"web": {"url": "ftp://x"}})).unwrap_err();
        assert!(error.starts_with("mcp_servers.web.url: "), "{error}");
        let error =
            parse_value(&json!({"web": {"url": "http://x", "auth_type": "api_key"}})).unwrap_err();
        assert_eq!(
            error,
            "mcp_servers.web.auth_value: required when auth_type is set"
        );
        let error =
            parse_value(&json!({"web": {"url": "http://x", "allowed_tools": "a"}})).unwrap_err();
        assert!(
            error.starts_with("mcp_servers.web.allowed_tools: "),
            "{error}"
        );
        let error = parse_value(
            &json!({"web": {"url": "http://x", "auth_type": "oauth2", "auth_value": "v"}}),
        )
        .unwrap_err();
        assert!(error.starts_with("mcp_servers.web.auth_type: "), "{error}");
        let error = parse_value(&json!(["a"])).unwrap_err();
        assert!(error.starts_with("mcp_servers: "), "{error}");
        let error = parse_value(&json!({"a b": {"url": "http://x"}, "a_b": {"url": "http://y"}}))
            .unwrap_err();
        assert!(error.contains("configured twice"), "{error}");
    }

    #[test]
    fn auth_types_map_to_headers_and_unknown_keys_warn() {
        let config = parse_value(&json!({
            "a": {"url": "http://a", "auth_type": "api_key", "auth_value": "k", "static_headers": {"X-Team": "t"}},
            "b": {"url": "http://b", "auth_type": "authorization", "auth_value": "Token z", "surprise": 1, "alias": "B"}
        }))
        .unwrap();
        let a: Vec<_> = config.servers[0]
            .headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect();
        assert_eq!(a, [("X-API-Key", "k"), ("X-Team", "t")]);
        assert_eq!(config.servers[1].headers[0].value, "Token z");
        assert_eq!(
            config.warnings,
            ["mcp_servers.b.surprise is not used by llmrelay's MCP gateway"]
        );
        assert!(parse(None).unwrap().is_empty());
        assert!(parse(Some(&Value::Null)).unwrap().is_empty());
    }
}
