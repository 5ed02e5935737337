//! One upstream MCP server: an rmcp client connected on first use (a child process for
//! stdio, rmcp's streamable HTTP client, or the legacy SSE transport), reconnected when the
//! connection is found closed or fails, every operation bounded by a timeout.

use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, GetPromptRequestParams, GetPromptResult, JsonObject,
    Prompt, ReadResourceRequestParams, ReadResourceResult, Resource, Tool,
};
use rmcp::service::{Peer, RunningService, ServiceError};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{ConfigureCommandExt, StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use tokio::sync::Mutex;

use llmrelay_core::{Error, ErrorKind};

use crate::config::{McpServerConfig, McpTransport};
use crate::sse::SseClientTransport;

/// How long connecting (spawn + initialize) and each operation may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

type Connection = RunningService<RoleClient, ()>;

/// A configured server and its connection, if one is open.
pub struct Upstream {
    config: McpServerConfig,
    connection: Mutex<Option<Connection>>,
    timeout: Duration,
    http: reqwest::Client,
}

impl Upstream {
    #[must_use]
    pub fn new(config: McpServerConfig, timeout: Duration, http: reqwest::Client) -> Self {
        Self {
            config,
            connection: Mutex::new(None),
            timeout,
            http,
        }
    }

    #[must_use]
    pub fn config(&self) -> &McpServerConfig {
        &self.config
    }

    #[must_use]
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Whether a connection is open now (for health output; never connects).
    pub async fn is_connected(&self) -> bool {
        self.connection
            .lock()
            .await
            .as_ref()
            .is_some_and(|c| !c.is_closed())
    }

    fn error(&self, kind: ErrorKind, status: u16, message: impl std::fmt::Display) -> Error {
        Error::new(
            kind,
            format!("MCP server {:?}: {message}", self.config.name),
        )
        .with_status(status)
    }

    async fn connect(&self) -> Result<Connection, Error> {
        let connecting = async {
            match &self.config.transport {
                McpTransport::Stdio { command, args, env } => {
                    let command = tokio::process::Command::new(command).configure(|cmd| {
                        cmd.args(args).envs(env).kill_on_drop(true);
                    });
                    let (process, _stderr) = TokioChildProcess::builder(command)
                        .stderr(std::process::Stdio::inherit())
                        .spawn()
                        .map_err(|e| format!("cannot start {:?}: {e}", self.config.name))?;
                    ().serve(process).await.map_err(|e| e.to_string())
                }
                McpTransport::Http { url } => {
                    let headers = self
                        .header_map()?
                        .into_iter()
                        .filter_map(|(name, value)| Some((name?, value)))
                        .collect();
                    let transport = StreamableHttpClientTransport::with_client(
                        self.http.clone(),
                        StreamableHttpClientTransportConfig::with_uri(url.as_str())
                            .custom_headers(headers),
                    );
                    ().serve(transport).await.map_err(|e| e.to_string())
                }
                McpTransport::Sse { url } => {
                    let transport =
                        SseClientTransport::connect(self.http.clone(), url, self.header_map()?)
                            .await
                            .map_err(|e| e.to_string())?;
                    ().serve(transport).await.map_err(|e| e.to_string())
                }
            }
        };
        match tokio::time::timeout(self.timeout, connecting).await {
            Ok(Ok(connection)) => {
                tracing::info!(server = %self.config.name, transport = self.config.transport.name(), "MCP server connected");
                Ok(connection)
            }
            Ok(Err(message)) => Err(self.error(
                ErrorKind::ApiConnection,
                502,
                format_args!("cannot connect: {message}"),
            )),
            Err(_) => Err(self.error(
                ErrorKind::Timeout,
                504,
                format_args!("connecting timed out after {:?}", self.timeout),
            )),
        }
    }

    fn header_map(&self) -> Result<http::HeaderMap, String> {
        let mut map = http::HeaderMap::new();
        for header in &self.config.headers {
            let name = http::HeaderName::try_from(header.name.as_str())
                .map_err(|e| format!("header {}: {e}", header.name))?;
            let value = http::HeaderValue::try_from(header.value.as_str())
                .map_err(|e| format!("header {}: {e}", header.name))?;
            map.insert(name, value);
        }
        Ok(map)
    }

    /// The open connection's peer, connecting (again) when there is none or it closed.
    async fn peer(&self) -> Result<Peer<RoleClient>, Error> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref()
            && !connection.is_closed()
        {
            return Ok(connection.peer().clone());
        }
        if let Some(stale) = slot.take() {
            tracing::warn!(server = %self.config.name, "MCP server connection closed; reconnecting");
            drop(stale);
        }
        let connection = self.connect().await?;
        let peer = connection.peer().clone();
        *slot = Some(connection);
        Ok(peer)
    }

    /// Drops the connection (the next operation reconnects).
    async fn invalidate(&self) {
        if let Some(connection) = self.connection.lock().await.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), connection.cancel()).await;
        }
    }

    /// Runs `operation` on the connection with the timeout; a broken connection is dropped
    /// and, when `retry` (idempotent operations), the operation runs once more on a new one.
    async fn run<T, F, Fut>(&self, what: &str, retry: bool, operation: F) -> Result<T, Error>
    where
        F: Fn(Peer<RoleClient>) -> Fut,
        Fut: Future<Output = Result<T, ServiceError>>,
    {
        let mut attempts = if retry { 2 } else { 1 };
        loop {
            attempts -= 1;
            let peer = self.peer().await?;
            match tokio::time::timeout(self.timeout, operation(peer)).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(ServiceError::McpError(error))) => {
                    return Err(self.error(
                        ErrorKind::BadRequest,
                        400,
                        format_args!("{what} failed: {}", error.message),
                    ));
                }
                Ok(Err(error)) => {
                    self.invalidate().await;
                    if attempts == 0 {
                        return Err(self.error(
                            ErrorKind::BadGateway,
                            502,
                            format_args!("{what} failed: {error}"),
                        ));
                    }
                    tracing::warn!(server = %self.config.name, %error, "{what} failed; reconnecting once");
                }
                Err(_) => {
                    self.invalidate().await;
                    return Err(self.error(
                        ErrorKind::Timeout,
                        504,
                        format_args!("{what} timed out after {:?}", self.timeout),
                    ));
                }
            }
        }
    }

    /// Every tool of the server (all pages), before the config's tool filters.
    ///
    /// # Errors
    /// Connecting or listing failed (OpenAI-shaped, status 502/504).
    pub async fn list_tools(&self) -> Result<Vec<Tool>, Error> {
        self.run("tools/list", true, |peer| async move {
            peer.list_all_tools().await
        })
        .await
    }

    /// # Errors
    /// As [`Self::list_tools`].
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, Error> {
        self.run("prompts/list", true, |peer| async move {
            // A server that does not offer prompts has none (asking it is an error).
            if peer
                .peer_info()
                .is_some_and(|info| info.capabilities.prompts.is_none())
            {
                return Ok(Vec::new());
            }
            peer.list_all_prompts().await
        })
        .await
    }

    /// # Errors
    /// As [`Self::list_tools`].
    pub async fn list_resources(&self) -> Result<Vec<Resource>, Error> {
        self.run("resources/list", true, |peer| async move {
            if peer
                .peer_info()
                .is_some_and(|info| info.capabilities.resources.is_none())
            {
                return Ok(Vec::new());
            }
            peer.list_all_resources().await
        })
        .await
    }

    /// Gets the prompt `name` (its name on this server).
    ///
    /// # Errors
    /// As [`Self::list_tools`].
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<GetPromptResult, Error> {
        let mut params = GetPromptRequestParams::new(name.to_owned());
        params.arguments = arguments;
        self.run("prompts/get", true, |peer| {
            let params = params.clone();
            async move { peer.get_prompt(params).await }
        })
        .await
    }

    /// Reads the resource at `uri`.
    ///
    /// # Errors
    /// As [`Self::list_tools`].
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, Error> {
        let params = ReadResourceRequestParams::new(uri.to_owned());
        self.run("resources/read", true, |peer| {
            let params = params.clone();
            async move { peer.read_resource(params).await }
        })
        .await
    }

    /// Calls `tool` (its name on this server). Not retried on a new connection once sent: a
    /// tool call may not be idempotent.
    ///
    /// # Errors
    /// Connecting or the call failed; a tool's own failure is a result with `isError`.
    pub async fn call_tool(
        &self,
        tool: &str,
        arguments: Option<JsonObject>,
    ) -> Result<CallToolResult, Error> {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = arguments;
        self.run("tools/call", false, |peer| {
            let params = params.clone();
            async move { peer.call_tool(params).await }
        })
        .await
    }
}
