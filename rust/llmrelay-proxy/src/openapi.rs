//! `GET /openapi.json`: an OpenAPI 3.1 description of the proxy's routes, assembled by hand
//! (request and response bodies are the OpenAI / Anthropic schemas, referenced by name).

use axum::Json;
use serde_json::{Map, Value, json};

fn operation(summary: &str, tag: &str, body: bool, auth: bool) -> Value {
    let mut op = json!({
        "summary": summary,
        "tags": [tag],
        "responses": {
            "200": {"description": "Success", "content": {"application/json": {}}},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "413": {"$ref": "#/components/responses/Error"},
            "500": {"$ref": "#/components/responses/Error"}
        }
    });
    if body {
        op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}});
    }
    if !auth {
        op["security"] = json!([]);
    }
    op
}

/// The route table as documentation: (path, method, summary, tag, has body, needs auth).
const ROUTES: &[(&str, &str, &str, &str, bool, bool)] = &[
    (
        "/v1/chat/completions",
        "post",
        "Chat completion (OpenAI format; `stream: true` for SSE)",
        "llm",
        true,
        true,
    ),
    (
        "/chat/completions",
        "post",
        "Chat completion (alias)",
        "llm",
        true,
        true,
    ),
    (
        "/openai/deployments/{model}/chat/completions",
        "post",
        "Chat completion (Azure path form)",
        "llm",
        true,
        true,
    ),
    (
        "/engines/{model}/chat/completions",
        "post",
        "Chat completion (engines path form)",
        "llm",
        true,
        true,
    ),
    (
        "/v1/completions",
        "post",
        "Legacy text completion",
        "llm",
        true,
        true,
    ),
    (
        "/completions",
        "post",
        "Legacy text completion (alias)",
        "llm",
        true,
        true,
    ),
    (
        "/openai/deployments/{model}/completions",
        "post",
        "Legacy text completion (Azure path form)",
        "llm",
        true,
        true,
    ),
    ("/v1/embeddings", "post", "Embeddings", "llm", true, true),
    (
        "/embeddings",
        "post",
        "Embeddings (alias)",
        "llm",
        true,
        true,
    ),
    (
        "/openai/deployments/{model}/embeddings",
        "post",
        "Embeddings (Azure path form)",
        "llm",
        true,
        true,
    ),
    (
        "/v1/messages",
        "post",
        "Anthropic Messages API over any provider",
        "anthropic",
        true,
        true,
    ),
    (
        "/v1/messages/count_tokens",
        "post",
        "Count the input tokens of a Messages request",
        "anthropic",
        true,
        true,
    ),
    (
        "/v1/responses",
        "post",
        "OpenAI Responses API, bridged onto chat (whole or streamed)",
        "llm",
        true,
        true,
    ),
    (
        "/responses",
        "post",
        "Responses API (alias)",
        "llm",
        true,
        true,
    ),
    (
        "/v1/files",
        "post",
        "Upload a file (multipart/form-data: file, purpose)",
        "files",
        true,
        true,
    ),
    (
        "/v1/files",
        "get",
        "List the caller's files",
        "files",
        false,
        true,
    ),
    (
        "/v1/files/{file_id}",
        "get",
        "Retrieve a file object",
        "files",
        false,
        true,
    ),
    (
        "/v1/files/{file_id}",
        "delete",
        "Delete a file",
        "files",
        false,
        true,
    ),
    (
        "/v1/files/{file_id}/content",
        "get",
        "A file's bytes",
        "files",
        false,
        true,
    ),
    (
        "/v1/batches",
        "post",
        "Create a batch (run by the local batch runner)",
        "batches",
        true,
        true,
    ),
    (
        "/v1/batches",
        "get",
        "List the caller's batches",
        "batches",
        false,
        true,
    ),
    (
        "/v1/batches/{batch_id}",
        "get",
        "Retrieve a batch",
        "batches",
        false,
        true,
    ),
    (
        "/v1/batches/{batch_id}/cancel",
        "post",
        "Cancel a batch",
        "batches",
        false,
        true,
    ),
    (
        "/v1/models",
        "get",
        "List model groups",
        "models",
        false,
        true,
    ),
    (
        "/models",
        "get",
        "List model groups (alias)",
        "models",
        false,
        true,
    ),
    (
        "/v1/models/{model}",
        "get",
        "One model group",
        "models",
        false,
        true,
    ),
    (
        "/v1/model/info",
        "get",
        "Deployments with their parameters (no keys)",
        "models",
        false,
        true,
    ),
    (
        "/model/info",
        "get",
        "Deployments (alias)",
        "models",
        false,
        true,
    ),
    (
        "/health",
        "get",
        "Probe every deployment (`?model=` for one group)",
        "health",
        false,
        true,
    ),
    (
        "/guardrails/list",
        "get",
        "Configured guardrails (no keys)",
        "guardrails",
        false,
        true,
    ),
    (
        "/alerting/settings",
        "get",
        "Alerting arguments with their values and defaults (proxy admins)",
        "alerting",
        false,
        true,
    ),
    (
        "/health/liveliness",
        "get",
        "Liveness probe",
        "health",
        false,
        false,
    ),
    (
        "/health/liveness",
        "get",
        "Liveness probe (alias)",
        "health",
        false,
        false,
    ),
    (
        "/health/readiness",
        "get",
        "Readiness probe",
        "health",
        false,
        false,
    ),
    (
        "/metrics",
        "get",
        "Prometheus metrics",
        "health",
        false,
        false,
    ),
    (
        "/openapi.json",
        "get",
        "This document",
        "meta",
        false,
        false,
    ),
];

const PASSTHROUGH: &[&str] = &[
    "openai",
    "anthropic",
    "gemini",
    "vertex_ai",
    "bedrock",
    "cohere",
];

/// The OpenAPI document.
#[must_use]
pub fn document() -> Value {
    let mut paths = Map::new();
    for (path, method, summary, tag, body, auth) in ROUTES {
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        entry[*method] = operation(summary, tag, *body, *auth);
        if *path == "/v1/files" && *method == "post" {
            entry[*method]["requestBody"] = json!({"required": true, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file", "purpose"],
                "properties": {"file": {"type": "string", "format": "binary"}, "purpose": {"type": "string"}}
            }}}});
        }
        for name in ["model", "file_id", "batch_id"] {
            if path.contains(&format!("{{{name}}}")) {
                entry["parameters"] = json!([{"name": name, "in": "path", "required": true, "schema": {"type": "string"}}]);
            }
        }
    }
    for provider in PASSTHROUGH {
        let mut entry = json!({
            "parameters": [{"name": "endpoint", "in": "path", "required": true, "schema": {"type": "string"}}]
        });
        for method in ["get", "post", "put", "patch", "delete"] {
            entry[method] = operation(
                &format!("Pass-through to the {provider} API (provider credential injected)"),
                "pass-through",
                method != "get" && method != "delete",
                true,
            );
        }
        paths.insert(format!("/{provider}/{{endpoint}}"), entry);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "llmrelay proxy",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "OpenAI- and Anthropic-compatible LLM gateway, configured with LiteLLM's config.yaml."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "x-api-key": {"type": "apiKey", "in": "header", "name": "x-api-key"}
            },
            "responses": {
                "Error": {
                    "description": "OpenAI error body (Anthropic's on /v1/messages)",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"error": {"type": "object", "properties": {
                            "message": {"type": "string"}, "type": {"type": "string"},
                            "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}
                        }}}
                    }}}
                }
            }
        },
        "security": [{"bearer": []}, {"x-api-key": []}]
    })
}

/// `GET /openapi.json`.
pub async fn spec() -> Json<Value> {
    Json(document())
}
