//! The MCP gateway routes (LiteLLM's names): `/mcp` and `/{server_name}/mcp` serve MCP over
//! streamable HTTP (rmcp's service over [`llmrelay_mcp::Gateway`]); `/mcp-rest/tools/list`
//! and `/mcp-rest/tools/call` are the plain-JSON equivalents. Each caller sees and calls only
//! the servers its key allows (`object_permission.mcp_servers`; the master key: all),
//! narrowed by `x-mcp-servers` and by the path; each tool call writes a `call_mcp_tool`
//! spend row when governance is on.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tower::ServiceExt as _;

use llmrelay_core::{Error, ErrorKind};
use llmrelay_governance::{Governance, KeyAuth, SpendRow};
use llmrelay_mcp::{Caller, Gateway, GatewayServer, GatewayService, ServerAccess, ToolCallRecord};

use crate::auth::Principal;
use crate::config::ProxyConfig;
use crate::errors::ApiError;
use crate::state::{AppState, RequestContext, principal_of};

/// Environment variable that changes the separator of prefixed tool names (LiteLLM's).
pub const SEPARATOR_ENV: &str = "MCP_TOOL_PREFIX_SEPARATOR";

/// The gateway and its MCP service, when `mcp_servers` is configured.
pub struct McpState {
    pub gateway: Arc<Gateway>,
    service: GatewayService,
    spend: Arc<McpSpend>,
}

impl McpState {
    /// The gateway for `config`'s `mcp_servers`, or `None` when there are none.
    ///
    /// # Errors
    /// The gateway's HTTP client cannot be built.
    pub fn build(config: &ProxyConfig, keep_alive: Duration) -> Result<Option<Self>, String> {
        if config.mcp.is_empty() {
            return Ok(None);
        }
        let separator = std::env::var(SEPARATOR_ENV)
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| llmrelay_mcp::DEFAULT_SEPARATOR.to_owned());
        let spend = Arc::new(McpSpend::default());
        let gateway = Arc::new(
            Gateway::new(&config.mcp, &separator, llmrelay_mcp::DEFAULT_TIMEOUT)?
                .with_observer(Arc::clone(&spend) as Arc<dyn llmrelay_mcp::ToolCallObserver>),
        );
        let service = GatewayServer::service(Arc::clone(&gateway), keep_alive);
        Ok(Some(Self {
            gateway,
            service,
            spend,
        }))
    }

    /// Tool calls write spend rows through `engine` from now on.
    pub fn record_spend_with(&self, engine: Arc<Governance>) {
        let _ = self.spend.engine.set(engine);
    }
}

/// What the spend writer needs of a tool call's HTTP request.
struct CallContext {
    principal: Principal,
    route: String,
}

/// Writes one `call_mcp_tool` spend row per tool call (LiteLLM's `call_type`).
#[derive(Default)]
struct McpSpend {
    engine: OnceLock<Arc<Governance>>,
}

impl llmrelay_mcp::ToolCallObserver for McpSpend {
    fn record(&self, record: &ToolCallRecord<'_>) {
        let Some(engine) = self.engine.get() else {
            return;
        };
        let context = record
            .caller
            .identity
            .as_ref()
            .and_then(|identity| identity.downcast_ref::<CallContext>());
        let principal = context.map(|c| &c.principal);
        let key = principal.and_then(|p| p.details::<KeyAuth>());
        let start_time: chrono::DateTime<chrono::Utc> = record.started.into();
        let end_time: chrono::DateTime<chrono::Utc> = record.ended.into();
        let (status, error) = match record.outcome {
            Ok(result) if result.is_error == Some(true) => ("failure", None),
            Ok(_) => ("success", None),
            Err(error) => ("failure", Some(error.message().to_owned())),
        };
        let row = SpendRow {
            request_id: uuid::Uuid::new_v4().to_string(),
            call_type: "call_mcp_tool".to_owned(),
            api_key: key.map(|k| k.token.clone()).unwrap_or_default(),
            key_alias: principal.and_then(|p| p.key_alias.clone()),
            start_time,
            end_time,
            request_duration_ms: Some((end_time - start_time).num_milliseconds()),
            model: record.namespaced_tool.clone(),
            user: principal.and_then(|p| p.user_id.clone()),
            team_id: principal.and_then(|p| p.team_id.clone()),
            organization_id: principal.and_then(|p| p.org_id.clone()),
            status: Some(status.to_owned()),
            litellm_call_id: record.caller.request_id.clone(),
            mcp_namespaced_tool_name: Some(record.namespaced_tool.clone()),
            endpoint: context.map(|c| c.route.clone()),
            metadata: json!({
                "mcp_tool_call_metadata": {
                    "name": record.tool,
                    "mcp_server_name": record.server,
                    "namespaced_tool_name": record.namespaced_tool,
                },
                "error_information": error.map(|message| json!({"error_message": message})),
            }),
            ..SpendRow::default()
        };
        if let Err(error) = engine.record_spend(row) {
            tracing::error!(%error, "MCP tool call: the spend row could not be written");
        }
    }
}

/// The caller of an MCP request: the servers its key may use (its
/// `object_permission.mcp_servers`, even for an admin key, as LiteLLM; the master key and keys
/// without the list: every server), narrowed by `x-mcp-servers` and the `/{server_name}/mcp`
/// path.
fn caller(request: &Request, path_server: Option<&str>) -> Caller {
    let principal = principal_of(request.extensions());
    let permitted = principal.details::<KeyAuth>().and_then(|key| {
        llmrelay_mcp::access::permitted_servers(
            key.object_permission
                .as_ref()
                .map(|p| p.mcp_servers.as_slice()),
            key.team_object_permission
                .as_ref()
                .map(|p| p.mcp_servers.as_slice()),
        )
    });
    let header = request
        .headers()
        .get(llmrelay_mcp::SERVERS_HEADER)
        .and_then(|v| v.to_str().ok());
    let access = ServerAccess::for_caller(permitted.as_deref(), header, path_server);
    let request_id = request
        .extensions()
        .get::<RequestContext>()
        .map(|c| c.call_id.to_string());
    Caller {
        access,
        identity: Some(Arc::new(CallContext {
            principal,
            route: request.uri().path().to_owned(),
        })),
        request_id,
    }
}

fn gateway_of(state: &AppState) -> Result<&McpState, ApiError> {
    state.mcp.as_ref().ok_or_else(|| {
        ApiError::openai(Error::new(
            ErrorKind::NotFound,
            "no MCP servers are configured (mcp_servers in the config)",
        ))
    })
}

async fn serve(state: &AppState, mut request: Request, path_server: Option<&str>) -> Response {
    let mcp = match gateway_of(state) {
        Ok(mcp) => mcp,
        Err(error) => return error.into_response(),
    };
    if let Some(server) = path_server
        && !mcp
            .gateway
            .has_server(&llmrelay_mcp::config::normalize_server_name(server))
    {
        return ApiError::openai(Error::new(
            ErrorKind::NotFound,
            format!("MCP server {server:?} is not configured"),
        ))
        .into_response();
    }
    let caller = caller(&request, path_server);
    request.extensions_mut().insert(caller);
    match mcp.service.clone().oneshot(request).await {
        Ok(response) => response.map(axum::body::Body::new),
        Err(never) => match never {},
    }
}

async fn all_servers(State(state): State<Arc<AppState>>, request: Request) -> Response {
    serve(&state, request, None).await
}

async fn one_server(
    State(state): State<Arc<AppState>>,
    Path(server): Path<String>,
    request: Request,
) -> Response {
    serve(&state, request, Some(&server)).await
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    server_id: Option<String>,
}

/// `GET /mcp-rest/tools/list[?server_id=]`: LiteLLM's shape, tools under their own names
/// with `mcp_info.server_name`.
async fn rest_list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
    request: Request,
) -> Response {
    let mcp = match gateway_of(&state) {
        Ok(mcp) => mcp,
        Err(error) => return error.into_response(),
    };
    let mut caller = caller(&request, None);
    if let Some(server) = query.server_id.as_deref() {
        let server = llmrelay_mcp::config::normalize_server_name(server);
        if !mcp.gateway.has_server(&server) || !caller.access.allows(&server) {
            return Json(json!({
                "tools": [],
                "error": "server_not_found",
                "message": format!("Server with id {server} not found"),
            }))
            .into_response();
        }
        caller.access = caller.access.narrowed_to([server]);
    }
    let (tools, failures) = mcp.gateway.list_tools(&caller.access).await;
    let descriptions: Map<String, Value> = mcp
        .gateway
        .servers(&caller.access)
        .map(|s| {
            (
                s.name().to_owned(),
                s.config()
                    .description
                    .clone()
                    .map_or(Value::Null, Value::String),
            )
        })
        .collect();
    let listed: Vec<Value> = tools
        .iter()
        .map(|listed| {
            json!({
                "name": listed.tool.name,
                "description": listed.tool.description,
                "inputSchema": listed.tool.input_schema,
                "mcp_info": {
                    "server_name": listed.server,
                    "description": descriptions.get(&listed.server),
                },
            })
        })
        .collect();
    let (error, message) = if failures.is_empty() {
        (Value::Null, "Successfully retrieved tools".to_owned())
    } else {
        let reasons: Vec<String> = failures
            .iter()
            .map(|f| format!("{}: {}", f.server, f.error.message()))
            .collect();
        (
            json!("partial_failure"),
            format!("Failed to get tools from servers: {}", reasons.join("; ")),
        )
    };
    Json(json!({"tools": listed, "error": error, "message": message})).into_response()
}

#[derive(Debug, Deserialize)]
struct CallBody {
    name: String,
    #[serde(default)]
    arguments: Option<Map<String, Value>>,
    /// The server, when `name` is the tool's own name.
    #[serde(default)]
    server_name: Option<String>,
}

/// `POST /mcp-rest/tools/call` `{"name", "arguments", "server_name"?}`: the tool's
/// `CallToolResult`, or an OpenAI-shaped error.
async fn rest_call(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let mcp = match gateway_of(&state) {
        Ok(mcp) => mcp,
        Err(error) => return error.into_response(),
    };
    let caller = caller(&request, None);
    let bytes =
        match axum::body::to_bytes(request.into_body(), state.settings.max_request_bytes).await {
            Ok(bytes) => bytes,
            Err(error) => {
                return ApiError::openai(Error::new(
                    ErrorKind::BadRequest,
                    format!("cannot read the request body: {error}"),
                ))
                .into_response();
            }
        };
    let body: CallBody = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(error) => {
            return ApiError::openai(Error::new(
                ErrorKind::BadRequest,
                format!("invalid body for /mcp-rest/tools/call: {error}"),
            ))
            .into_response();
        }
    };
    match mcp
        .gateway
        .call_tool(
            &caller,
            &body.name,
            body.arguments,
            body.server_name.as_deref(),
        )
        .await
    {
        Ok(result) => Json(result).into_response(),
        Err(error) => ApiError::openai(error).into_response(),
    }
}

/// The MCP routes (behind the proxy's auth layer).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/mcp", any(all_servers))
        .route("/mcp/", any(all_servers))
        .route("/{server_name}/mcp", any(one_server))
        .route("/{server_name}/mcp/", any(one_server))
        .route("/mcp-rest/tools/list", get(rest_list))
        .route("/mcp-rest/tools/call", post(rest_call))
}
