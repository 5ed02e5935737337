//! The gateway against a real rmcp upstream over streamable HTTP, and the gateway's own MCP
//! server driven by an rmcp client: prefixed names, tool filters, permissions, the observer.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use llmrelay_core::ErrorKind;
use llmrelay_mcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData,
    InitializeResult, ListToolsResult, PaginatedRequestParams, ServerCapabilities, Tool,
};
use llmrelay_mcp::{
    Caller, Gateway, GatewayServer, ServerAccess, ToolCallObserver, ToolCallRecord,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{
    StreamableHttpClientTransport, StreamableHttpServerConfig, StreamableHttpService,
};
use rmcp::{RoleServer, ServerHandler, ServiceExt};
use serde_json::json;

/// An upstream with two tools: `echo` and `shout`.
#[derive(Clone)]
struct Upstream;

impl ServerHandler for Upstream {
    fn get_info(&self) -> InitializeResult {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema = json!({"type": "object", "properties": {"text": {"type": "string"}}});
        let schema = schema.as_object().cloned().unwrap_or_default();
        Ok(ListToolsResult::with_all_items(vec![
            Tool::new("echo", "Echo the text", schema.clone()),
            Tool::new("shout", "Upper-case the text", schema),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let text = request
            .arguments
            .as_ref()
            .and_then(|a| a.get("text"))
            .and_then(|t| t.as_str())
            .unwrap_or_default()
            .to_owned();
        let text = match &*request.name {
            "echo" => text,
            "shout" => text.to_uppercase(),
            other => return Err(ErrorData::invalid_params(format!("no tool {other}"), None)),
        };
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
    }
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

async fn upstream() -> String {
    let service = StreamableHttpService::new(
        || Ok(Upstream),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    format!(
        "{}/mcp",
        serve(axum::Router::new().nest_service("/mcp", service)).await
    )
}

#[derive(Default)]
struct Recorded(Mutex<Vec<(String, String, bool)>>);

impl ToolCallObserver for Recorded {
    fn record(&self, record: &ToolCallRecord<'_>) {
        self.0.lock().unwrap().push((
            record.server.to_owned(),
            record.namespaced_tool.clone(),
            record.outcome.is_ok(),
        ));
    }
}

fn gateway(url: &str, observer: Arc<Recorded>) -> Gateway {
    let config = llmrelay_mcp::config::parse(Some(&json!({
        "alpha": {"url": url, "transport": "http", "allowed_tools": ["echo"]},
        "beta": {"url": url}
    })))
    .unwrap();
    Gateway::new(&config, "-", Duration::from_secs(10))
        .unwrap()
        .with_observer(observer)
}

fn only(names: &[&str]) -> ServerAccess {
    ServerAccess::Only(names.iter().map(|n| (*n).to_owned()).collect())
}

fn text(result: &CallToolResult) -> String {
    serde_json::to_value(result).unwrap()["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn gateway_prefixes_filters_and_checks_permissions() {
    let url = upstream().await;
    let recorded = Arc::new(Recorded::default());
    let gateway = gateway(&url, Arc::clone(&recorded));

    let (tools, failures) = gateway.list_tools(&ServerAccess::All).await;
    assert!(failures.is_empty(), "{failures:?}");
    let mut names: Vec<_> = tools.iter().map(|t| t.prefixed_name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["alpha-echo", "beta-echo", "beta-shout"]);
    let (tools, _) = gateway.list_tools(&only(&["beta"])).await;
    assert!(tools.iter().all(|t| t.server == "beta"));

    let caller = Caller::new(only(&["alpha"]));
    let arguments = json!({"text": "hi"}).as_object().cloned();
    let result = gateway
        .call_tool(&caller, "alpha-echo", arguments.clone(), None)
        .await
        .unwrap();
    assert_eq!(text(&result), "hi");
    let denied = gateway
        .call_tool(&caller, "beta-shout", arguments.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::PermissionDenied);
    assert_eq!(denied.status_code(), 403);
    let hidden = gateway
        .call_tool(&caller, "alpha-shout", arguments.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(hidden.status_code(), 403);
    assert!(
        hidden.message().contains("allowed_tools"),
        "{}",
        hidden.message()
    );
    let unknown = gateway
        .call_tool(&caller, "gamma-x", arguments.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(unknown.status_code(), 404);
    // The tool's own name with the server named, and alone when one allowed server has it.
    let everyone = Caller::new(ServerAccess::All);
    let result = gateway
        .call_tool(&everyone, "shout", arguments.clone(), Some("beta"))
        .await
        .unwrap();
    assert_eq!(text(&result), "HI");
    let result = gateway
        .call_tool(&everyone, "shout", arguments.clone(), None)
        .await
        .unwrap();
    assert_eq!(text(&result), "HI");
    let ambiguous = gateway
        .call_tool(&everyone, "echo", arguments, None)
        .await
        .unwrap_err();
    assert_eq!(ambiguous.status_code(), 400);

    // Only calls that reached a server are recorded, once each.
    let recorded = recorded.0.lock().unwrap().clone();
    assert_eq!(
        recorded,
        [
            ("alpha".to_owned(), "alpha-echo".to_owned(), true),
            ("beta".to_owned(), "beta-shout".to_owned(), true),
            ("beta".to_owned(), "beta-shout".to_owned(), true),
        ]
    );
}

#[tokio::test]
async fn the_gateway_server_serves_prefixed_tools_to_an_mcp_client() {
    let url = upstream().await;
    let gateway = Arc::new(gateway(&url, Arc::new(Recorded::default())));
    let service = GatewayServer::service(gateway, Duration::from_secs(15));
    // What the proxy's auth layer does: the caller in the request's extensions.
    let app = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn(
            |mut request: axum::extract::Request, next: axum::middleware::Next| async move {
                request
                    .extensions_mut()
                    .insert(Caller::new(ServerAccess::Only(["beta".to_owned()].into())));
                next.run(request).await
            },
        ));
    let base = serve(app).await;
    let client = ()
        .serve(StreamableHttpClientTransport::from_uri(format!(
            "{base}/mcp"
        )))
        .await
        .unwrap();
    let mut names: Vec<String> = client
        .peer()
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.into_owned())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["beta-echo", "beta-shout"]);
    let mut params = CallToolRequestParams::new("beta-shout");
    params.arguments = json!({"text": "loud"}).as_object().cloned();
    let result = client.peer().call_tool(params).await.unwrap();
    assert_eq!(text(&result), "LOUD");
    let refused = client
        .peer()
        .call_tool(CallToolRequestParams::new("alpha-echo"))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not allowed"), "{refused}");
    client.cancel().await.unwrap();
}
