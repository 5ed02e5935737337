//! llmrelay's MCP gateway: LiteLLM's `mcp_servers` config, rmcp clients to the upstream
//! servers, and the aggregating MCP server (streamable HTTP) the proxy mounts at `/mcp`.

pub mod access;
pub mod config;
pub mod gateway;
pub mod server;
pub mod sse;
pub mod upstream;

pub use access::{Caller, DEFAULT_SEPARATOR, SERVERS_HEADER, ServerAccess};
pub use config::{McpConfig, McpServerConfig, McpTransport};
pub use gateway::{Gateway, GatewayTool, ServerFailure, ToolCallObserver, ToolCallRecord};
/// The rmcp model types the gateway's API uses.
pub use rmcp::model;
pub use server::{GatewayServer, GatewayService};
pub use upstream::{DEFAULT_TIMEOUT, Upstream};
