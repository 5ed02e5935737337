//! LiteLLM's route groups (`LiteLLMRoutes`) as a key's `allowed_routes` and JWT auth's
//! `admin_allowed_routes` / `team_allowed_routes` name them, and the check of a request path
//! against such a list.

const OPENAI_ROUTES: &[&str] = &[
    "/engines/{model}/chat/completions",
    "/openai/deployments/{model}/chat/completions",
    "/chat/completions",
    "/v1/chat/completions",
    "/engines/{model}/completions",
    "/openai/deployments/{model}/completions",
    "/completions",
    "/v1/completions",
    "/engines/{model}/embeddings",
    "/openai/deployments/{model}/embeddings",
    "/embeddings",
    "/v1/embeddings",
    "/images/generations",
    "/v1/images/generations",
    "/images/edits",
    "/v1/images/edits",
    "/audio/transcriptions",
    "/v1/audio/transcriptions",
    "/audio/speech",
    "/v1/audio/speech",
    "/moderations",
    "/v1/moderations",
    "/v1/batches",
    "/batches",
    "/v1/batches/{batch_id}",
    "/batches/{batch_id}",
    "/v1/files",
    "/files",
    "/v1/files/{file_id}",
    "/files/{file_id}",
    "/v1/files/{file_id}/content",
    "/files/{file_id}/content",
    "/fine_tuning/jobs",
    "/v1/fine_tuning/jobs",
    "/fine_tuning/jobs/{fine_tuning_job_id}/cancel",
    "/v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel",
    "/assistants",
    "/v1/assistants",
    "/v1/assistants/{assistant_id}",
    "/assistants/{assistant_id}",
    "/threads",
    "/v1/threads",
    "/threads/{thread_id}",
    "/v1/threads/{thread_id}",
    "/threads/{thread_id}/messages",
    "/v1/threads/{thread_id}/messages",
    "/threads/{thread_id}/runs",
    "/v1/threads/{thread_id}/runs",
    "/models",
    "/v1/models",
    "/utils/token_counter",
    "/utils/transform_request",
    "/rerank",
    "/v1/rerank",
    "/v2/rerank",
    "/realtime",
    "/v1/realtime",
    "/responses",
    "/v1/responses",
    "/responses/{response_id}",
    "/v1/responses/{response_id}",
    "/responses/{response_id}/input_items",
    "/v1/responses/{response_id}/input_items",
    "/vector_stores",
    "/v1/vector_stores",
    "/vector_stores/{vector_store_id}/search",
    "/v1/vector_stores/{vector_store_id}/search",
];

const ANTHROPIC_ROUTES: &[&str] = &["/v1/messages"];

/// Provider pass-through prefixes (every path under them).
const PASS_THROUGH_PREFIXES: &[&str] = &[
    "/bedrock",
    "/vertex-ai",
    "/vertex_ai",
    "/cohere",
    "/gemini",
    "/anthropic",
    "/langfuse",
    "/azure",
    "/openai",
    "/assemblyai",
    "/eu.assemblyai",
    "/vllm",
    "/mistral",
];

const INFO_ROUTES: &[&str] = &[
    "/key/info",
    "/key/health",
    "/team/info",
    "/team/list",
    "/v2/team/list",
    "/organization/list",
    "/team/available",
    "/user/info",
    "/model/info",
    "/v1/model/info",
    "/v2/model/info",
    "/v2/key/info",
    "/model_group/info",
    "/health",
    "/key/list",
    "/user/filter/ui",
];

const KEY_MANAGEMENT_ROUTES: &[&str] = &[
    "/key/generate",
    "/key/update",
    "/key/delete",
    "/key/info",
    "/key/regenerate",
    "/key/service-account/generate",
    "/key/{key_id}/regenerate",
    "/key/list",
    "/key/block",
    "/key/unblock",
];

const MANAGEMENT_ROUTES: &[&str] = &[
    "/user/new",
    "/user/update",
    "/user/delete",
    "/user/info",
    "/team/new",
    "/team/update",
    "/team/delete",
    "/team/list",
    "/v2/team/list",
    "/team/info",
    "/team/block",
    "/team/unblock",
    "/team/available",
    "/team/permissions_list",
    "/team/permissions_update",
    "/model/new",
    "/model/update",
    "/model/delete",
    "/model/info",
];

const SPEND_TRACKING_ROUTES: &[&str] = &[
    "/spend/keys",
    "/spend/users",
    "/spend/tags",
    "/spend/calculate",
    "/spend/logs",
];

const GLOBAL_SPEND_TRACKING_ROUTES: &[&str] = &[
    "/global/spend/logs",
    "/global/spend",
    "/global/spend/keys",
    "/global/spend/teams",
    "/global/spend/end_users",
    "/global/spend/models",
    "/global/predict/spend/logs",
    "/global/spend/report",
    "/global/spend/provider",
];

const MCP_ROUTES: &[&str] = &[
    "/mcp",
    "/mcp/{rest}",
    "/{server}/mcp",
    "/mcp-rest/tools/list",
    "/mcp-rest/tools/call",
];

const PUBLIC_ROUTES: &[&str] = &[
    "/routes",
    "/",
    "/health/liveliness",
    "/health/liveness",
    "/health/readiness",
    "/test",
    "/config/yaml",
    "/metrics",
];

/// The routes of a group (`None`: not a group name).
fn group(name: &str) -> Option<Vec<&'static str>> {
    Some(match name {
        "openai_routes" => OPENAI_ROUTES.to_vec(),
        "anthropic_routes" => ANTHROPIC_ROUTES.to_vec(),
        "info_routes" => INFO_ROUTES.to_vec(),
        "management_routes" => [MANAGEMENT_ROUTES, KEY_MANAGEMENT_ROUTES].concat(),
        "spend_tracking_routes" => SPEND_TRACKING_ROUTES.to_vec(),
        "global_spend_tracking_routes" => GLOBAL_SPEND_TRACKING_ROUTES.to_vec(),
        "public_routes" => PUBLIC_ROUTES.to_vec(),
        "llm_api_routes" => [OPENAI_ROUTES, ANTHROPIC_ROUTES, MCP_ROUTES].concat(),
        "mcp_routes" => MCP_ROUTES.to_vec(),
        "mapped_pass_through_routes" => Vec::new(),
        _ => return None,
    })
}

/// `/key/{key_id}/regenerate` matches `/key/abc/regenerate`.
fn template_matches(template: &str, path: &str) -> bool {
    if !template.contains('{') {
        return template == path;
    }
    let mut template_parts = template.split('/');
    let mut path_parts = path.split('/');
    loop {
        match (template_parts.next(), path_parts.next()) {
            (None, None) => return true,
            (Some(expected), Some(actual)) => {
                let placeholder = expected.starts_with('{') && expected.ends_with('}');
                if !(placeholder && !actual.is_empty() || expected == actual) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Whether `path` is allowed by a list of route groups and literal routes: a group's routes
/// (`llm_api_routes` and `mapped_pass_through_routes` also every provider pass-through path),
/// a literal route or a path under it (`/a` allows `/a/b`, not `/ab`), a `*` pattern
/// (`/scim/v2/*`), a `{name}` template.
#[must_use]
pub fn allowed(path: &str, allowed_routes: &[String]) -> bool {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    allowed_routes.iter().any(|entry| {
        if let Some(routes) = group(entry) {
            routes.iter().any(|route| template_matches(route, path))
                || (matches!(
                    entry.as_str(),
                    "llm_api_routes" | "mapped_pass_through_routes"
                ) && PASS_THROUGH_PREFIXES
                    .iter()
                    .any(|prefix| path.starts_with(&format!("{prefix}/"))))
        } else if let Some(prefix) = entry.strip_suffix('*') {
            path.starts_with(prefix)
        } else {
            template_matches(entry, path)
                || path
                    .strip_prefix(entry.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        }
    })
}

/// What LiteLLM's `key_type` sets as a new key's `allowed_routes`.
#[must_use]
pub fn key_type_routes(key_type: &str) -> Option<&'static str> {
    match key_type {
        "llm_api" => Some("llm_api_routes"),
        "management" => Some("management_routes"),
        "read_only" => Some("info_routes"),
        _ => None,
    }
}

/// The literal routes a list allows (for error messages, as LiteLLM lists them).
#[must_use]
pub fn expand(allowed_routes: &[String]) -> Vec<String> {
    allowed_routes
        .iter()
        .flat_map(|entry| {
            group(entry).map_or_else(
                || vec![entry.clone()],
                |routes| routes.iter().map(|r| (*r).to_owned()).collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn groups_and_literals() {
        let team = list(&["openai_routes", "info_routes"]);
        assert!(allowed("/chat/completions", &team));
        assert!(allowed("/v1/chat/completions/", &team));
        assert!(allowed("/key/info", &team));
        assert!(!allowed("/key/generate", &team));
        let admin = list(&["management_routes"]);
        assert!(allowed("/key/generate", &admin));
        assert!(allowed("/key/abc/regenerate", &admin));
        assert!(!allowed("/chat/completions", &admin));
        assert!(allowed("/v1/embeddings", &list(&["/v1/embeddings"])));
        assert!(!allowed("/embeddings", &list(&["/v1/embeddings"])));
        assert!(allowed("/gemini/v1/models", &list(&["llm_api_routes"])));
        assert!(expand(&list(&["spend_tracking_routes"])).contains(&"/spend/logs".to_owned()));
        // A key's own entries: paths under a literal route, `*` patterns.
        let explicit = list(&["/fake-proxy", "/scim/v2/*"]);
        assert!(allowed("/fake-proxy/v1/x", &explicit));
        assert!(!allowed("/fake-proxy-600", &explicit));
        assert!(allowed("/scim/v2/Users/1", &explicit));
        assert!(!allowed("/v1/chat/completions", &explicit));
        assert!(allowed("/mcp", &list(&["llm_api_routes"])));
        assert_eq!(key_type_routes("llm_api"), Some("llm_api_routes"));
        assert_eq!(key_type_routes("default"), None);
    }
}
