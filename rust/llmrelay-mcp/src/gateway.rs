//! The gateway over every configured server: tools listed with their server's prefix for the
//! servers a caller may use, calls routed to the owning server, each call reported once to a
//! [`ToolCallObserver`] (the proxy writes its spend row).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::join_all;
use rmcp::model::{
    CallToolResult, GetPromptResult, JsonObject, Prompt, ReadResourceResult, Resource, Tool,
};

use llmrelay_core::{Error, ErrorKind};

use crate::access::{Caller, ServerAccess, prefixed, split_prefixed};
use crate::config::McpConfig;
use crate::upstream::Upstream;

/// A tool of one server, as the gateway exposes it.
#[derive(Debug, Clone)]
pub struct GatewayTool {
    pub server: String,
    /// The tool as the server described it (its own name).
    pub tool: Tool,
    /// `{server}{separator}{tool}`.
    pub prefixed_name: String,
}

/// What one server failed with while listing.
#[derive(Debug, Clone)]
pub struct ServerFailure {
    pub server: String,
    pub error: Error,
}

/// One finished tool call, reported to the observer.
pub struct ToolCallRecord<'a> {
    pub caller: &'a Caller,
    pub server: &'a str,
    pub tool: &'a str,
    /// The name the caller used (prefixed, LiteLLM's `mcp_namespaced_tool_name`).
    pub namespaced_tool: String,
    pub arguments: Option<&'a JsonObject>,
    pub started: SystemTime,
    pub ended: SystemTime,
    pub outcome: Result<&'a CallToolResult, &'a Error>,
}

/// Told about every tool call once it finished (succeeded, failed, or was refused by the
/// upstream server).
pub trait ToolCallObserver: Send + Sync + 'static {
    fn record(&self, record: &ToolCallRecord<'_>);
}

/// The configured servers and how their tools are named.
pub struct Gateway {
    servers: Vec<Arc<Upstream>>,
    separator: String,
    observer: Option<Arc<dyn ToolCallObserver>>,
}

impl Gateway {
    /// A gateway over `config`'s servers; nothing connects until first use.
    ///
    /// # Errors
    /// The HTTP client for the http/sse transports cannot be built.
    pub fn new(config: &McpConfig, separator: &str, timeout: Duration) -> Result<Self, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("MCP gateway HTTP client: {e}"))?;
        Ok(Self {
            servers: config
                .servers
                .iter()
                .map(|server| Arc::new(Upstream::new(server.clone(), timeout, http.clone())))
                .collect(),
            separator: separator.to_owned(),
            observer: None,
        })
    }

    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn ToolCallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    #[must_use]
    pub fn separator(&self) -> &str {
        &self.separator
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// The servers `access` allows, in config order.
    pub fn servers<'a>(&'a self, access: &'a ServerAccess) -> impl Iterator<Item = &'a Upstream> {
        self.servers
            .iter()
            .map(AsRef::as_ref)
            .filter(move |server| access.allows(server.name()))
    }

    /// Whether a server of that name is configured.
    #[must_use]
    pub fn has_server(&self, name: &str) -> bool {
        self.servers.iter().any(|s| s.name() == name)
    }

    /// The exposed tools of every server `access` allows (queried concurrently), and the
    /// servers that failed.
    pub async fn list_tools(
        &self,
        access: &ServerAccess,
    ) -> (Vec<GatewayTool>, Vec<ServerFailure>) {
        let listed = join_all(
            self.servers(access)
                .map(|server| async move { (server, server.list_tools().await) }),
        )
        .await;
        let mut tools = Vec::new();
        let mut failures = Vec::new();
        for (server, result) in listed {
            match result {
                Ok(listed) => tools.extend(
                    listed
                        .into_iter()
                        .filter(|tool| server.config().exposes(&tool.name))
                        .map(|tool| GatewayTool {
                            server: server.name().to_owned(),
                            prefixed_name: prefixed(server.name(), &self.separator, &tool.name),
                            tool,
                        }),
                ),
                Err(error) => {
                    tracing::warn!(server = server.name(), %error, "MCP tools/list failed");
                    failures.push(ServerFailure {
                        server: server.name().to_owned(),
                        error,
                    });
                }
            }
        }
        (tools, failures)
    }

    /// The server and tool a name stands for: a prefixed name, or (when `server_hint` names
    /// the server, or exactly one allowed server has it) the tool's own name.
    async fn resolve<'a>(
        &'a self,
        access: &ServerAccess,
        name: &'a str,
        server_hint: Option<&str>,
    ) -> Result<(&'a Upstream, String), Error> {
        if let Some(hint) = server_hint {
            let hint = crate::config::normalize_server_name(hint);
            let server = self.allowed_server(access, &hint)?;
            let tool = split_prefixed(name, &self.separator, [server.name()])
                .map_or(name, |(_, tool)| tool);
            return Ok((server, tool.to_owned()));
        }
        let names = self.servers.iter().map(|s| s.name());
        if let Some((server, tool)) = split_prefixed(name, &self.separator, names) {
            let server = self.allowed_server(access, server)?;
            return Ok((server, tool.to_owned()));
        }
        // An unprefixed name: the allowed servers that expose it.
        let (tools, _) = self.list_tools(access).await;
        let mut owners = tools.iter().filter(|t| t.tool.name == name);
        match (owners.next(), owners.next()) {
            (Some(owner), None) => {
                let server = self.allowed_server(access, &owner.server)?;
                Ok((server, name.to_owned()))
            }
            (Some(_), Some(_)) => Err(Error::new(
                ErrorKind::BadRequest,
                format!(
                    "MCP tool {name:?} is offered by more than one server: use its prefixed name ({{server}}{}{name})",
                    self.separator
                ),
            )
            .with_param("name")),
            (None, _) => Err(Error::new(
                ErrorKind::NotFound,
                format!("MCP tool {name:?} not found on any MCP server this key may use"),
            )
            .with_param("name")),
        }
    }

    fn allowed_server(&self, access: &ServerAccess, name: &str) -> Result<&Upstream, Error> {
        let Some(server) = self.servers.iter().find(|s| s.name() == name) else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("MCP server {name:?} is not configured"),
            )
            .with_param("server_name"));
        };
        if !access.allows(name) {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!("this key is not allowed to use MCP server {name:?}"),
            )
            .with_status(403));
        }
        Ok(server)
    }

    /// Calls the tool `name` stands for on its server and reports the call to the observer.
    ///
    /// # Errors
    /// Unknown tool or server (404), a server the caller may not use (403), a tool the config
    /// does not expose (403), connection or upstream failures (502/504).
    pub async fn call_tool(
        &self,
        caller: &Caller,
        name: &str,
        arguments: Option<JsonObject>,
        server_hint: Option<&str>,
    ) -> Result<CallToolResult, Error> {
        let (server, tool) = self.resolve(&caller.access, name, server_hint).await?;
        if !server.config().exposes(&tool) {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "MCP tool {tool:?} of server {:?} is not allowed by the config (allowed_tools / disallowed_tools)",
                    server.name()
                ),
            )
            .with_status(403));
        }
        let started = SystemTime::now();
        let result = server.call_tool(&tool, arguments.clone()).await;
        if let Some(observer) = &self.observer {
            observer.record(&ToolCallRecord {
                caller,
                server: server.name(),
                tool: &tool,
                namespaced_tool: prefixed(server.name(), &self.separator, &tool),
                arguments: arguments.as_ref(),
                started,
                ended: SystemTime::now(),
                outcome: result.as_ref(),
            });
        }
        result
    }

    /// The prompts of every server `access` allows, named `{server}{separator}{prompt}`.
    pub async fn list_prompts(&self, access: &ServerAccess) -> (Vec<Prompt>, Vec<ServerFailure>) {
        let listed = join_all(
            self.servers(access)
                .map(|server| async move { (server, server.list_prompts().await) }),
        )
        .await;
        let mut prompts = Vec::new();
        let mut failures = Vec::new();
        for (server, result) in listed {
            match result {
                Ok(listed) => prompts.extend(listed.into_iter().map(|mut prompt| {
                    prompt.name = prefixed(server.name(), &self.separator, &prompt.name);
                    prompt
                })),
                Err(error) => failures.push(ServerFailure {
                    server: server.name().to_owned(),
                    error,
                }),
            }
        }
        (prompts, failures)
    }

    /// Gets a prompt by its prefixed name from its server.
    ///
    /// # Errors
    /// As [`Self::call_tool`].
    pub async fn get_prompt(
        &self,
        access: &ServerAccess,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<GetPromptResult, Error> {
        let names = self.servers.iter().map(|s| s.name());
        let Some((server, prompt)) = split_prefixed(name, &self.separator, names) else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "MCP prompt {name:?} not found: prompts are named {{server}}{}{{prompt}}",
                    self.separator
                ),
            )
            .with_param("name"));
        };
        self.allowed_server(access, server)?
            .get_prompt(prompt, arguments)
            .await
    }

    /// The resources of every server `access` allows, with the server that has each.
    pub async fn list_resources(
        &self,
        access: &ServerAccess,
    ) -> (Vec<(String, Resource)>, Vec<ServerFailure>) {
        let listed = join_all(
            self.servers(access)
                .map(|server| async move { (server, server.list_resources().await) }),
        )
        .await;
        let mut resources = Vec::new();
        let mut failures = Vec::new();
        for (server, result) in listed {
            match result {
                Ok(listed) => resources.extend(
                    listed
                        .into_iter()
                        .map(|resource| (server.name().to_owned(), resource)),
                ),
                Err(error) => failures.push(ServerFailure {
                    server: server.name().to_owned(),
                    error,
                }),
            }
        }
        (resources, failures)
    }

    /// Reads `uri` from the first allowed server that lists it (resource URIs are the
    /// servers' own, not prefixed).
    ///
    /// # Errors
    /// No allowed server lists `uri` (404), or the read failed.
    pub async fn read_resource(
        &self,
        access: &ServerAccess,
        uri: &str,
    ) -> Result<ReadResourceResult, Error> {
        let (resources, _) = self.list_resources(access).await;
        let Some((server, _)) = resources.iter().find(|(_, resource)| resource.uri == uri) else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("MCP resource {uri:?} is not listed by any MCP server this key may use"),
            )
            .with_param("uri"));
        };
        self.allowed_server(access, server)?
            .read_resource(uri)
            .await
    }
}
