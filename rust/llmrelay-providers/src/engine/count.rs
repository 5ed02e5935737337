//! `acount_tokens`: the provider's token-counting endpoint when it has one, else the local
//! count, as LiteLLM's.

use serde_json::{Map, Value};

use llmrelay_core::types::ChatRequest;
use llmrelay_core::{Error, Result};

use super::exchange::Exchange;
use super::request::parse_chat_request;
use super::target::{self, Target};
use super::usage::count_prompt_tokens;
use crate::http::Timeouts;
use crate::options;

/// What `acount_tokens` returns (LiteLLM's `TokenCountResponse`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenCount {
    pub total_tokens: u64,
    pub request_model: String,
    pub model_used: String,
    /// `"<provider>_api"` when the provider's endpoint counted, else `"local_tokenizer"`.
    pub tokenizer_type: String,
    pub original_response: Option<Value>,
}

impl super::Engine {
    /// `acount_tokens`: the provider's token-counting endpoint when it has one and a key is
    /// available, else (and, as in LiteLLM, when that call fails) the local count.
    ///
    /// # Errors
    /// Malformed messages or tools.
    pub async fn count_tokens(&self, params: Map<String, Value>) -> Result<TokenCount> {
        let (mut body, options) = options::split(params)?;
        let request_model = match body.get("model") {
            Some(Value::String(model)) if !model.is_empty() => model.clone(),
            _ => return Err(Error::bad_request("model parameter is required").with_param("model")),
        };
        if let Some(system) = body.remove("system").filter(|s| !s.is_null()) {
            let messages = body
                .entry("messages")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = messages {
                list.insert(0, serde_json::json!({"role": "system", "content": system}));
            }
        }
        body.entry("messages")
            .or_insert_with(|| Value::Array(Vec::new()));
        let request = parse_chat_request(body)?;
        let target = target::resolve(&request_model, &options).ok();
        let model_used = target
            .as_ref()
            .map_or_else(|| request_model.clone(), |t| t.model.clone());
        if let Some(target) = target.filter(|_| !request.messages.is_empty()) {
            let mut upstream = request.clone();
            upstream.model.clone_from(&target.model);
            if let Some(counted) = count_with_provider(&target, &upstream, options.timeouts).await {
                return Ok(TokenCount {
                    total_tokens: counted.0,
                    request_model,
                    model_used,
                    tokenizer_type: format!("{}_api", target.provider_name),
                    original_response: Some(counted.1),
                });
            }
        }
        Ok(TokenCount {
            total_tokens: count_prompt_tokens(&request),
            request_model,
            model_used,
            tokenizer_type: "local_tokenizer".to_owned(),
            original_response: None,
        })
    }
}

/// One call to the provider's token-counting endpoint; `None` when it has none or it failed.
async fn count_with_provider(
    target: &Target,
    request: &ChatRequest,
    timeouts: Timeouts,
) -> Option<(u64, Value)> {
    let mut http_request = target
        .provider
        .count_tokens_request(request, &target.endpoint)?
        .ok()?;
    target
        .provider
        .authorize(&mut http_request, &target.endpoint)
        .await
        .ok()?;
    let exchange = Exchange {
        target,
        timeouts,
        model_for_errors: &request.model,
        stream: false,
    };
    let (bytes, _) = exchange.whole(http_request).await.ok()?;
    let total = target.provider.count_tokens_response(&bytes).ok()?;
    let original = serde_json::from_slice(&bytes).ok()?;
    Some((total, original))
}
