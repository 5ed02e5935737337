//! The proxy's own MCP server (rmcp's streamable HTTP service): `tools/list` aggregates the
//! tools of the servers the caller may use, named `{server}{separator}{tool}`, and
//! `tools/call` forwards to the owning server. The caller ([`Caller`]) is read from the HTTP
//! request's extensions, where the proxy's auth layer put it.

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData,
    GetPromptRequestParams, GetPromptResponse, Implementation, InitializeResult, ListPromptsResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ResultType, ServerCapabilities,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{RoleServer, ServerHandler};
use serde_json::json;

use llmrelay_core::{Error, ErrorKind};

use crate::access::Caller;
use crate::gateway::Gateway;

/// The MCP server handler over a [`Gateway`] (one per MCP session; cheap to clone).
#[derive(Clone)]
pub struct GatewayServer {
    gateway: Arc<Gateway>,
}

/// The HTTP service to mount at `/mcp` and `/{server_name}/mcp`.
pub type GatewayService = StreamableHttpService<GatewayServer, LocalSessionManager>;

impl GatewayServer {
    #[must_use]
    pub fn new(gateway: Arc<Gateway>) -> Self {
        Self { gateway }
    }

    /// rmcp's streamable HTTP service for this gateway. Host checks are off: the proxy
    /// authenticates every request and is deployed under its own names.
    #[must_use]
    pub fn service(gateway: Arc<Gateway>, keep_alive: Duration) -> GatewayService {
        let config = StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .with_sse_keep_alive(Some(keep_alive));
        StreamableHttpService::new(
            move || Ok(Self::new(Arc::clone(&gateway))),
            Arc::new(LocalSessionManager::default()),
            config,
        )
    }
}

fn caller_of(context: &RequestContext<RoleServer>) -> Result<Caller, ErrorData> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>())
        .cloned()
        .ok_or_else(|| {
            ErrorData::invalid_request("the request was not authenticated by the proxy", None)
        })
}

/// A gateway error as a JSON-RPC error, its OpenAI error fields in `data`.
fn protocol_error(error: &Error) -> ErrorData {
    let data = Some(json!({
        "type": error.kind().as_str(),
        "code": error.status_code(),
        "param": error.inner().param,
    }));
    match error.kind() {
        ErrorKind::NotFound | ErrorKind::BadRequest | ErrorKind::PermissionDenied => {
            ErrorData::invalid_params(error.message().to_owned(), data)
        }
        _ => ErrorData::internal_error(error.message().to_owned(), data),
    }
}

impl ServerHandler for GatewayServer {
    fn get_info(&self) -> InitializeResult {
        InitializeResult::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new(
            "llmrelay-mcp-gateway",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(format!(
            "Tools of every MCP server this key may use, named {{server}}{}{{tool}}.",
            self.gateway.separator()
        ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = caller_of(&context)?;
        let (tools, failures) = self.gateway.list_tools(&caller.access).await;
        if tools.is_empty()
            && let Some(failure) = failures.first()
        {
            return Err(protocol_error(&failure.error));
        }
        Ok(ListToolsResult::with_all_items(
            tools
                .into_iter()
                .map(|listed| {
                    let mut tool = listed.tool;
                    tool.name = listed.prefixed_name.into();
                    tool
                })
                .collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = caller_of(&context)?;
        match self
            .gateway
            .call_tool(&caller, &request.name, request.arguments, None)
            .await
        {
            Ok(mut result) => {
                // The upstream may speak an older protocol than this caller: the result is
                // complete either way (rmcp drops the field again for older callers).
                result.result_type = Some(ResultType::COMPLETE);
                Ok(result.into())
            }
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::NotFound | ErrorKind::BadRequest | ErrorKind::PermissionDenied
                ) =>
            {
                Err(protocol_error(&error))
            }
            // The server was reached or tried: an execution failure the model can read.
            Err(error) => Ok(CallToolResult::error(vec![ContentBlock::text(
                error.message().to_owned(),
            )])
            .into()),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let caller = caller_of(&context)?;
        let (prompts, failures) = self.gateway.list_prompts(&caller.access).await;
        for failure in &failures {
            tracing::warn!(server = %failure.server, error = %failure.error, "MCP prompts/list failed");
        }
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let caller = caller_of(&context)?;
        let mut result = self
            .gateway
            .get_prompt(&caller.access, &request.name, request.arguments)
            .await
            .map_err(|e| protocol_error(&e))?;
        result.result_type = Some(ResultType::COMPLETE);
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let caller = caller_of(&context)?;
        let (resources, failures) = self.gateway.list_resources(&caller.access).await;
        for failure in &failures {
            tracing::warn!(server = %failure.server, error = %failure.error, "MCP resources/list failed");
        }
        Ok(ListResourcesResult::with_all_items(
            resources
                .into_iter()
                .map(|(_, resource)| resource)
                .collect(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let caller = caller_of(&context)?;
        let mut result = self
            .gateway
            .read_resource(&caller.access, &request.uri)
            .await
            .map_err(|e| protocol_error(&e))?;
        result.result_type = Some(ResultType::COMPLETE);
        Ok(result.into())
    }
}
