//! LiteLLM proxy routes that llmrelay does not have yet (management without a database,
//! assistants, the admin UI): they answer 501 with an OpenAI-shaped error naming the
//! feature, so a client learns what is missing instead of reading a bare 404.
//!
//! Paths are LiteLLM 1.109's (`shared/reference/litellm_proxy_routes.tsv`); each prefix covers
//! the path itself and everything under it. A route built later takes precedence over these:
//! axum prefers a literal path to a wildcard.

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use llmrelay_core::{Error, ErrorKind};

use crate::errors::ApiError;

/// `(path prefix, feature)`.
pub const NOT_BUILT: &[(&str, &str)] = &[
    ("/key", "key management (virtual keys: /key/*)"),
    ("/team", "team management (/team/*)"),
    ("/user", "user management (/user/*)"),
    ("/spend", "spend tracking (/spend/*)"),
    ("/assistants", "the Assistants API (/v1/assistants)"),
    ("/v1/assistants", "the Assistants API (/v1/assistants)"),
    ("/threads", "the Assistants API threads (/v1/threads)"),
    ("/v1/threads", "the Assistants API threads (/v1/threads)"),
    ("/ui", "the admin UI (/ui)"),
];

/// The feature a path belongs to, if it is one of [`NOT_BUILT`].
#[must_use]
pub fn feature_of(path: &str) -> Option<&'static str> {
    NOT_BUILT
        .iter()
        .filter(|(prefix, _)| {
            path == *prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, feature)| *feature)
}

async fn not_built(request: Request) -> Response {
    let path = request.uri().path();
    let feature = feature_of(path).unwrap_or("this route");
    let error = Error::new(
        ErrorKind::BadRequest,
        format!(
            "{} {path} is not built yet in llmrelay: {feature}",
            request.method()
        ),
    )
    .with_status(501);
    let mut api_error = ApiError::openai(error);
    api_error.type_override = Some("not_implemented_error");
    api_error.into_response()
}

/// Prefixes the governance engine serves when a database is configured.
const GOVERNANCE_PREFIXES: &[&str] = &["/key", "/team", "/user", "/spend"];

/// Every prefix of [`NOT_BUILT`], with and without a rest of path, answering 501 (without the
/// management prefixes when `governed`: the engine serves them).
pub fn routes<S: Clone + Send + Sync + 'static>(governed: bool) -> Router<S> {
    NOT_BUILT
        .iter()
        .filter(|(prefix, _)| !(governed && GOVERNANCE_PREFIXES.contains(prefix)))
        .fold(Router::new(), |router, (prefix, _)| {
            router
                .route(prefix, any(not_built))
                .route(&format!("{prefix}/{{*rest}}"), any(not_built))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments() {
        assert_eq!(
            feature_of("/key/generate"),
            Some("key management (virtual keys: /key/*)")
        );
        // Built now: the MCP gateway's routes are served by `crate::mcp`.
        assert_eq!(feature_of("/mcp-rest/tools/list"), None);
        assert_eq!(feature_of("/mcp"), None);
        assert_eq!(feature_of("/ui/login"), Some("the admin UI (/ui)"));
        assert_eq!(feature_of("/keys"), None);
        // Built now: the Files and Batches APIs are served by `crate::files`.
        assert_eq!(feature_of("/v1/files/abc/content"), None);
        assert_eq!(feature_of("/v1/batches"), None);
        assert_eq!(
            feature_of("/v1/threads/t/runs").map(|f| f.contains("Assistants")),
            Some(true)
        );
    }

    #[test]
    fn every_prefix_is_a_litellm_route() {
        let routes = include_str!("../tests/it/fixtures/litellm_proxy_routes.tsv");
        for (prefix, _) in NOT_BUILT {
            assert!(
                routes.lines().any(|line| {
                    let path = line.split('\t').next().unwrap_or_default();
                    path == *prefix || path.starts_with(&format!("{prefix}/"))
                }),
                "{prefix} is not a LiteLLM route"
            );
        }
    }
}
