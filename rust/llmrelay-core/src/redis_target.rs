//! Where a Redis is, read from LiteLLM's settings blocks: a cache's `cache_params`, the
//! Router's `router_settings` (`redis_host`, …) and our `general_settings.rate_limits` name
//! it the same ways — a URL, host/port/password/username/ssl/db, Cluster startup nodes, or
//! Sentinel nodes with a service name. One reader, so the response cache, the rate limiter
//! and the Router agree on what a block means.

use serde_json::{Map, Value};

/// Where Redis is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// `redis://` or `rediss://` (TLS), with password and db in the URL.
    Single(String),
    /// Redis Cluster: startup nodes, as URLs.
    Cluster(Vec<String>),
    /// Sentinel: the sentinels' URLs, the service (master) name, and the master's password.
    Sentinel {
        nodes: Vec<String>,
        service_name: String,
        password: Option<String>,
    },
}

/// Where a setting's value may also come from: the block only (the rate limiter's and the
/// Router's blocks), or the block then LiteLLM's `REDIS_*` variables (a cache: LiteLLM's
/// `RedisCache` reads them when the block names no host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    BlockOnly,
    Environment,
}

impl RedisTarget {
    /// The Redis a settings block names, `None` when it names none (and, with
    /// [`Fallback::Environment`], neither do `REDIS_URL`, `REDIS_HOST`,
    /// `REDIS_CLUSTER_NODES` or `REDIS_SENTINEL_NODES`).
    ///
    /// Names read, first match wins: `redis_startup_nodes` / `startup_nodes` (a list of
    /// `{host, port}` or `"host:port"`), `sentinel_nodes` (`[[host, port], …]`) with
    /// `service_name` (default `mymaster`) and `sentinel_password`, `url` / `redis_url`, and
    /// `host` / `redis_host` with `port` / `redis_port` (6379), `password` / `redis_password`,
    /// `username` / `redis_username`, `ssl`, `db` / `redis_db`. Values may be
    /// `os.environ/NAME`.
    #[must_use]
    pub fn from_settings(block: &Map<String, Value>, fallback: Fallback) -> Option<Self> {
        let env = |name: &str| {
            (fallback == Fallback::Environment)
                .then(|| std::env::var(name).ok())
                .flatten()
                .filter(|v| !v.is_empty())
        };
        let get = |names: &[&str], variable: &str| {
            names
                .iter()
                .find_map(|name| block.get(*name).and_then(text))
                .or_else(|| env(variable))
        };
        let password = get(&["password", "redis_password"], "REDIS_PASSWORD");
        let username = get(&["username", "redis_username"], "REDIS_USERNAME");
        let tls = get(&["ssl", "redis_ssl"], "REDIS_SSL").is_some_and(|s| truthy(&s));
        let scheme = if tls { "rediss" } else { "redis" };
        let auth = user_info(username.as_deref(), password.as_deref());

        let listed = |names: &[&str], variable: &str| -> Option<Vec<Value>> {
            names
                .iter()
                .find_map(|name| match block.get(*name).map(resolved) {
                    Some(Value::Array(items)) => Some(items),
                    // LiteLLM's environment form: the list as JSON.
                    Some(Value::String(json)) => serde_json::from_str(&json).ok(),
                    _ => None,
                })
                .or_else(|| env(variable).and_then(|json| serde_json::from_str(&json).ok()))
                .filter(|items: &Vec<Value>| !items.is_empty())
        };

        if let Some(nodes) = listed(
            &["redis_startup_nodes", "startup_nodes"],
            "REDIS_CLUSTER_NODES",
        ) {
            let nodes: Vec<String> = nodes
                .iter()
                .filter_map(|n| node_url(n, scheme, &auth, "6379"))
                .collect();
            if !nodes.is_empty() {
                return Some(Self::Cluster(nodes));
            }
        }
        if let Some(nodes) = listed(&["sentinel_nodes"], "REDIS_SENTINEL_NODES") {
            let sentinel_password = get(&["sentinel_password"], "REDIS_SENTINEL_PASSWORD");
            let sentinel_auth = user_info(None, sentinel_password.as_deref());
            let nodes: Vec<String> = nodes
                .iter()
                .filter_map(|n| node_url(n, scheme, &sentinel_auth, "26379"))
                .collect();
            if !nodes.is_empty() {
                return Some(Self::Sentinel {
                    nodes,
                    service_name: get(&["service_name"], "REDIS_SERVICE_NAME")
                        .unwrap_or_else(|| "mymaster".to_owned()),
                    password,
                });
            }
        }
        if let Some(url) = names_text(block, &["url", "redis_url"]) {
            return Some(Self::Single(url));
        }
        let host = match names_text(block, &["host", "redis_host"]) {
            Some(host) => host,
            None => {
                if let Some(url) = env("REDIS_URL") {
                    return Some(Self::Single(url));
                }
                env("REDIS_HOST")?
            }
        };
        let port = get(&["port", "redis_port"], "REDIS_PORT").unwrap_or_else(|| "6379".into());
        let db = get(&["db", "redis_db"], "REDIS_DB")
            .map(|db| format!("/{db}"))
            .unwrap_or_default();
        Some(Self::Single(format!("{scheme}://{auth}{host}:{port}{db}")))
    }

    /// The target with passwords hidden, for logs.
    #[must_use]
    pub fn describe(&self) -> String {
        let list = |nodes: &[String]| nodes.iter().map(|n| redact(n)).collect::<Vec<_>>();
        match self {
            Self::Single(url) => redact(url),
            Self::Cluster(nodes) => format!("cluster [{}]", list(nodes).join(", ")),
            Self::Sentinel {
                nodes,
                service_name,
                ..
            } => format!("sentinel {service_name} [{}]", list(nodes).join(", ")),
        }
    }

    #[must_use]
    pub const fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

/// The URL without its password.
#[must_use]
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// `os.environ/NAME` → the variable's value.
fn resolved(value: &Value) -> Value {
    match value.as_str().and_then(|s| s.strip_prefix("os.environ/")) {
        Some(name) => std::env::var(name).map_or(Value::Null, Value::String),
        None => value.clone(),
    }
}

/// A scalar setting as text (`None` for null, empty, lists and maps).
fn text(value: &Value) -> Option<String> {
    match resolved(value) {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn names_text(block: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| block.get(*name).and_then(text))
}

fn truthy(text: &str) -> bool {
    matches!(text.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

/// `user:password@`, percent-encoded, or nothing.
fn user_info(username: Option<&str>, password: Option<&str>) -> String {
    match (username, password) {
        (Some(user), Some(password)) => {
            format!("{}:{}@", percent_encode(user), percent_encode(password))
        }
        (None, Some(password)) => format!(":{}@", percent_encode(password)),
        (Some(user), None) => format!("{}@", percent_encode(user)),
        (None, None) => String::new(),
    }
}

/// A node as a URL: a URL as it is, `"host:port"`, `{host, port}` or `[host, port]`.
fn node_url(node: &Value, scheme: &str, auth: &str, default_port: &str) -> Option<String> {
    let (host, port) = match resolved(node) {
        Value::String(s) if s.contains("://") => return Some(s),
        Value::String(s) => match s.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), port.to_owned()),
            None => (s, default_port.to_owned()),
        },
        Value::Object(map) => (
            map.get("host").and_then(text)?,
            map.get("port")
                .and_then(text)
                .unwrap_or_else(|| default_port.to_owned()),
        ),
        Value::Array(pair) => (
            pair.first().and_then(text)?,
            pair.get(1)
                .and_then(text)
                .unwrap_or_else(|| default_port.to_owned()),
        ),
        _ => return None,
    };
    Some(format!("{scheme}://{auth}{host}:{port}"))
}

/// Percent-encode everything but RFC 3986's unreserved characters (what a URL's user info, a
/// path segment or a query value can hold as it is).
#[must_use]
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn target(block: &Value) -> Option<RedisTarget> {
        RedisTarget::from_settings(
            block.as_object().unwrap_or(&Map::new()),
            Fallback::BlockOnly,
        )
    }

    #[test]
    fn every_form_litellm_names() {
        assert_eq!(
            target(&json!({"host": "h", "port": 7000, "password": "p@ss", "db": 2})),
            Some(RedisTarget::Single("redis://:p%40ss@h:7000/2".into()))
        );
        assert_eq!(
            target(&json!({"redis_host": "r", "redis_password": "p", "ssl": true})),
            Some(RedisTarget::Single("rediss://:p@r:6379".into()))
        );
        assert_eq!(
            target(&json!({"redis_url": "redis://u:1"})),
            Some(RedisTarget::Single("redis://u:1".into()))
        );
        assert_eq!(
            target(
                &json!({"redis_startup_nodes": [{"host": "a", "port": "7001"}, "b:7002"],
                           "password": "p"})
            ),
            Some(RedisTarget::Cluster(vec![
                "redis://:p@a:7001".into(),
                "redis://:p@b:7002".into()
            ]))
        );
        assert_eq!(
            target(
                &json!({"sentinel_nodes": [["s1", 26380], ["s2"]], "service_name": "m1",
                           "sentinel_password": "sp", "password": "mp"})
            ),
            Some(RedisTarget::Sentinel {
                nodes: vec!["redis://:sp@s1:26380".into(), "redis://:sp@s2:26379".into()],
                service_name: "m1".into(),
                password: Some("mp".into()),
            })
        );
        assert_eq!(target(&json!({"port": 1})), None);
    }

    #[test]
    fn descriptions_hide_passwords() {
        let cluster = RedisTarget::Cluster(vec!["redis://:secret@a:1".into()]);
        assert_eq!(cluster.describe(), "cluster [redis://***@a:1]");
        assert_eq!(redact("redis://h:1"), "redis://h:1");
    }
}
