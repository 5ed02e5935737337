//! AWS Bedrock Runtime behind the canonical OpenAI-shaped interface: chat through the Converse
//! API (`POST /model/{modelId}/converse`, `/converse-stream`), embeddings through InvokeModel
//! (`POST /model/{modelId}/invoke`), requests signed with SigV4 (or a Bedrock API key).
//!
//! `request` / `response` / `stream` translate (pure), `auth` resolves credentials and signs,
//! `images` inlines image URLs before signing, `embedding` covers Titan and Cohere, `error`
//! classifies failures, `types` holds the wire shapes.

pub mod auth;
pub mod embedding;
pub mod error;
pub mod request;
pub mod response;
pub mod stream;
pub mod types;

use std::time::SystemTime;

use futures::future::BoxFuture;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
};
use llmrelay_core::{Error, Result};

use crate::provider::{ChunkDecoder, Endpoint, Framing, HttpRequest, Provider};

pub use auth::{AwsCredentials, BedrockAuth};
pub use request::{converse_body, json_mode, supported_openai_params};
pub use response::parse_response;
pub use stream::BedrockChatDecoder;

/// Characters kept as is in a path segment (RFC 3986 unreserved); everything else, `:` and `/`
/// included, is percent-encoded as the AWS SDKs encode a model id or ARN.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Bedrock Runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bedrock;

/// The Bedrock model id of a routed model: LiteLLM's `converse/` route prefix removed.
#[must_use]
pub fn model_id(model: &str) -> &str {
    model.strip_prefix("converse/").unwrap_or(model)
}

/// `{api_base}/model/{url-encoded model id}/{action}`.
#[must_use]
pub fn model_url(api_base: &str, model: &str, action: &str) -> String {
    format!(
        "{}/model/{}/{action}",
        api_base.trim_end_matches('/'),
        utf8_percent_encode(model_id(model), PATH_SEGMENT)
    )
}

/// The regional runtime endpoint.
#[must_use]
pub fn runtime_endpoint(region: &str) -> String {
    format!("https://bedrock-runtime.{region}.amazonaws.com")
}

fn json_request(url: String, body: Vec<u8>, extra_headers: &[(String, String)]) -> HttpRequest {
    let mut headers = Vec::with_capacity(2 + extra_headers.len());
    headers.extend(extra_headers.iter().cloned());
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    headers.push(("accept".to_owned(), "application/json".to_owned()));
    HttpRequest { url, headers, body }
}

/// Authenticate a built request: inline image URLs, then a bearer header or a SigV4 signature.
///
/// # Errors
/// Missing credentials (`AuthenticationError`), an image that cannot be fetched, a bad region.
pub async fn authorize_request(
    request: &mut HttpRequest,
    api_key: Option<&str>,
    credentials: &Map<String, Value>,
) -> Result<()> {
    // Credentials first: a call that cannot authenticate fails before any network I/O.
    let auth = auth::resolve(api_key, credentials)?;
    let region = auth::region(credentials)?;
    match auth {
        BedrockAuth::Bearer(token) => {
            request
                .headers
                .push(("authorization".to_owned(), format!("Bearer {token}")));
        }
        BedrockAuth::SigV4(credentials) => {
            let added = auth::signature_headers(
                "POST",
                &request.url,
                &request.headers,
                &request.body,
                &credentials,
                auth::SigningScope {
                    region: &region,
                    service: auth::SIGNING_SERVICE,
                    time: SystemTime::now(),
                },
            )?;
            request.headers.extend(added);
        }
    }
    Ok(())
}

impl Provider for Bedrock {
    fn name(&self) -> &str {
        "bedrock"
    }

    fn default_api_base(&self) -> Option<&str> {
        None
    }

    fn api_key_env(&self) -> &[&'static str] {
        &["AWS_BEARER_TOKEN_BEDROCK"]
    }

    fn api_base_env(&self) -> &[&'static str] {
        &["AWS_BEDROCK_RUNTIME_ENDPOINT"]
    }

    fn requires_api_key(&self) -> bool {
        // SigV4 credentials are checked in `authorize`.
        false
    }

    fn derived_api_base(&self, credentials: &Map<String, Value>) -> Option<String> {
        if let Some(endpoint) = credentials
            .get("aws_bedrock_runtime_endpoint")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
        {
            return Some(endpoint.to_owned());
        }
        let region = auth::region(credentials).unwrap_or_else(|_| auth::DEFAULT_REGION.to_owned());
        Some(runtime_endpoint(&region))
    }

    fn framing(&self) -> Framing {
        Framing::AwsEventStream
    }

    /// Bedrock's `ImageSource` takes bytes, never a URL: the engine downloads and inlines them.
    fn inlines_image_url(&self, url: &str) -> bool {
        url.starts_with("http://") || url.starts_with("https://")
    }

    fn authorize<'a>(
        &'a self,
        request: &'a mut HttpRequest,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(authorize_request(
            request,
            endpoint.api_key.as_deref(),
            &endpoint.credentials,
        ))
    }

    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        let model = model_id(&request.model);
        let body = converse_body(request, model, endpoint.drop_params)?;
        let action = if request.stream {
            "converse-stream"
        } else {
            "converse"
        };
        Ok(json_request(
            model_url(&endpoint.api_base, model, action),
            serde_json::to_vec(&body)?,
            &endpoint.extra_headers,
        ))
    }

    fn chat_response(&self, body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
        parse_response(body, model_id(&request.model), json_mode(request))
    }

    fn chat_decoder(&self, request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(BedrockChatDecoder::new(
            model_id(&request.model),
            json_mode(request),
        ))
    }

    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let model = model_id(&request.model);
        let body = embedding::embedding_body(request, model)?;
        Ok(json_request(
            model_url(&endpoint.api_base, model, "invoke"),
            serde_json::to_vec(&body)?,
            &endpoint.extra_headers,
        ))
    }

    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        embedding::parse_embedding(body)
    }

    fn embedding_batch_size(&self, model: &str) -> Option<usize> {
        (embedding::EmbeddingFamily::of(model_id(model)) == Some(embedding::EmbeddingFamily::Titan))
            .then_some(1)
    }

    fn error(&self, status: u16, body: &[u8]) -> Error {
        error::parse_error(status, &[], body)
    }

    fn classify_error(&self, status: u16, headers: &[(String, String)], body: &[u8]) -> Error {
        error::parse_error(status, headers, body)
    }

    fn supported_openai_params(&self, model: &str) -> Option<Vec<&'static str>> {
        Some(supported_openai_params(model_id(model)))
    }
}

#[cfg(test)]
mod tests;
