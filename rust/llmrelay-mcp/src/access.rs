//! Who may use which server, and the names tools carry through the gateway
//! (`{server}{separator}{tool}`, LiteLLM's `MCP_TOOL_PREFIX_FORMAT`).

use std::any::Any;
use std::collections::BTreeSet;
use std::sync::Arc;

/// LiteLLM's default separator between the server name and the tool name
/// (`MCP_TOOL_PREFIX_SEPARATOR`).
pub const DEFAULT_SEPARATOR: &str = "-";

/// The header a client narrows the servers with (comma-separated server names).
pub const SERVERS_HEADER: &str = "x-mcp-servers";

/// The servers a caller may list and call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAccess {
    All,
    Only(BTreeSet<String>),
}

impl ServerAccess {
    #[must_use]
    pub fn allows(&self, server: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(names) => names.contains(server),
        }
    }

    /// This access restricted to `names` (never widened).
    #[must_use]
    pub fn narrowed_to(self, names: impl IntoIterator<Item = String>) -> Self {
        let names: BTreeSet<String> = names.into_iter().collect();
        match self {
            Self::All => Self::Only(names),
            Self::Only(current) => Self::Only(current.intersection(&names).cloned().collect()),
        }
    }

    /// What a caller may use: `permitted` (see [`permitted_servers`]; LiteLLM applies it to
    /// admin keys too), or everything when `None` (the master key, keys without lists). Then
    /// narrowed by the `x-mcp-servers` header and by the
    /// `/{server}/mcp` path, which select and never grant.
    #[must_use]
    pub fn for_caller(
        permitted: Option<&[String]>,
        header: Option<&str>,
        path_server: Option<&str>,
    ) -> Self {
        let mut access = match permitted {
            Some(servers) => Self::Only(
                servers
                    .iter()
                    .map(|s| crate::config::normalize_server_name(s))
                    .collect(),
            ),
            _ => Self::All,
        };
        if let Some(header) = header.filter(|h| !h.trim().is_empty()) {
            access = access.narrowed_to(parse_servers_header(header));
        }
        if let Some(server) = path_server {
            access = access.narrowed_to([crate::config::normalize_server_name(server)]);
        }
        access
    }
}

/// The servers a key may use from its own and its team's `object_permission.mcp_servers`
/// (least privilege, as LiteLLM): both set, the servers in both; one set, that one; neither
/// (or empty lists), `None`: every server.
#[must_use]
pub fn permitted_servers(key: Option<&[String]>, team: Option<&[String]>) -> Option<Vec<String>> {
    let key = key.filter(|k| !k.is_empty());
    let team = team.filter(|t| !t.is_empty());
    match (key, team) {
        (Some(key), Some(team)) => Some(
            key.iter()
                .filter(|server| team.contains(server))
                .cloned()
                .collect(),
        ),
        (Some(only), None) | (None, Some(only)) => Some(only.to_vec()),
        (None, None) => None,
    }
}

/// The server names of an `x-mcp-servers` value (`"Zapier_Gmail, github"`).
#[must_use]
pub fn parse_servers_header(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(crate::config::normalize_server_name)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The authenticated caller of an MCP request, set by the proxy in the HTTP request's
/// extensions before the MCP service sees it.
#[derive(Clone)]
pub struct Caller {
    pub access: ServerAccess,
    /// The proxy's identity of the caller (for spend rows), opaque to this crate.
    pub identity: Option<Arc<dyn Any + Send + Sync>>,
    /// The proxy's call id of the HTTP request.
    pub request_id: Option<String>,
}

impl Caller {
    #[must_use]
    pub fn new(access: ServerAccess) -> Self {
        Self {
            access,
            identity: None,
            request_id: None,
        }
    }
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("access", &self.access)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// `server` + separator + `tool`.
#[must_use]
pub fn prefixed(server: &str, separator: &str, tool: &str) -> String {
    format!("{server}{separator}{tool}")
}

/// The `(server, tool)` a prefixed name stands for among `servers`: the longest server name
/// that, followed by the separator, starts `name` (server names may contain the separator).
#[must_use]
pub fn split_prefixed<'a>(
    name: &'a str,
    separator: &str,
    servers: impl IntoIterator<Item = &'a str>,
) -> Option<(&'a str, &'a str)> {
    servers
        .into_iter()
        .filter_map(|server| {
            let rest = name.strip_prefix(server)?.strip_prefix(separator)?;
            (!rest.is_empty()).then_some((server, rest))
        })
        .max_by_key(|(server, _)| server.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(access: &ServerAccess) -> Vec<String> {
        match access {
            ServerAccess::All => vec!["*".into()],
            ServerAccess::Only(names) => names.iter().cloned().collect(),
        }
    }

    #[test]
    fn prefixes_and_splits() {
        assert_eq!(
            prefixed("github", "-", "create_issue"),
            "github-create_issue"
        );
        let servers = ["github", "git", "my-server"];
        assert_eq!(
            split_prefixed("github-create_issue", "-", servers),
            Some(("github", "create_issue"))
        );
        assert_eq!(
            split_prefixed("git-log", "-", servers),
            Some(("git", "log"))
        );
        assert_eq!(
            split_prefixed("my-server-do-it", "-", servers),
            Some(("my-server", "do-it"))
        );
        assert_eq!(split_prefixed("gitlab-x", "-", servers), None);
        assert_eq!(split_prefixed("github-", "-", servers), None);
        assert_eq!(
            split_prefixed("github/x", "/", servers),
            Some(("github", "x"))
        );
    }

    #[test]
    fn key_and_team_permissions_combine_to_the_least() {
        let key = vec!["github".to_owned(), "jira".to_owned()];
        let team = vec!["jira".to_owned(), "slack".to_owned()];
        assert_eq!(
            permitted_servers(Some(&key), Some(&team)),
            Some(vec!["jira".to_owned()])
        );
        assert_eq!(permitted_servers(Some(&key), None), Some(key.clone()));
        assert_eq!(
            permitted_servers(Some(&[]), Some(&team)),
            Some(team.clone())
        );
        assert_eq!(permitted_servers(None, Some(&[])), None);
        let disjoint = permitted_servers(Some(&["a".to_owned()]), Some(&team)).unwrap();
        assert!(disjoint.is_empty());
        // An empty intersection allows nothing (not everything).
        let access = ServerAccess::for_caller(Some(&disjoint), None, None);
        assert_eq!(access, ServerAccess::Only(BTreeSet::new()));
    }

    #[test]
    fn permissions_header_and_path_only_narrow() {
        let keyed = vec!["github".to_owned(), "jira".to_owned()];
        assert_eq!(
            ServerAccess::for_caller(None, None, None),
            ServerAccess::All
        );
        assert_eq!(
            ServerAccess::for_caller(Some(&[]), None, None),
            ServerAccess::Only(BTreeSet::new())
        );
        let access = ServerAccess::for_caller(Some(&keyed), None, None);
        assert_eq!(names(&access), ["github", "jira"]);
        assert!(access.allows("github"));
        assert!(!access.allows("slack"));
        // The header selects among what the key may use, never adds.
        let access = ServerAccess::for_caller(Some(&keyed), Some("jira, slack"), None);
        assert_eq!(names(&access), ["jira"]);
        let access = ServerAccess::for_caller(None, Some("Zapier Gmail,github"), None);
        assert_eq!(names(&access), ["Zapier_Gmail", "github"]);
        let access = ServerAccess::for_caller(Some(&keyed), None, Some("slack"));
        assert_eq!(names(&access), Vec::<String>::new());
        let access = ServerAccess::for_caller(None, Some("a,b"), Some("b"));
        assert_eq!(names(&access), ["b"]);
        assert_eq!(
            ServerAccess::for_caller(None, Some(" "), None),
            ServerAccess::All
        );
    }
}
