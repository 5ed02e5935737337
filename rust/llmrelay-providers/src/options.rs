//! Splitting a call's keyword arguments into the upstream body and the call's own options.

use std::time::Duration;

use serde_json::{Map, Value};

use llmrelay_core::catalog::decimal_from_json;
use llmrelay_core::cost::PriceOverrides;
use llmrelay_core::{Error, Result};

use crate::http::Timeouts;
use crate::litellm_params::LITELLM_PARAMS;

/// What `mock_response` asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum MockResponse {
    /// Reply with this text.
    Text(String),
    /// Raise the error LiteLLM raises for `"litellm.<ClassName>"` and `"Exception: …"` strings.
    Error {
        class_name: String,
        message: String,
        status: u16,
        mid_stream: bool,
    },
}

/// The mock error the Python facade hands the engine for a `mock_response` *exception*
/// (its class, status and message as JSON after this prefix). A user's string cannot
/// start with the control character.
pub const MOCK_ERROR_PREFIX: &str = "\u{1}llmrelay-mock-error ";

impl MockResponse {
    fn parse(text: String) -> Self {
        if let Some(json) = text.strip_prefix(MOCK_ERROR_PREFIX) {
            if let Ok(Value::Object(error)) = serde_json::from_str::<Value>(json) {
                let field = |name: &str| error.get(name).and_then(Value::as_str);
                return Self::Error {
                    class_name: field("class").unwrap_or("InternalServerError").to_owned(),
                    message: field("message").unwrap_or_default().to_owned(),
                    status: error
                        .get("status")
                        .and_then(Value::as_u64)
                        .and_then(|s| u16::try_from(s).ok())
                        .unwrap_or(500),
                    mid_stream: false,
                };
            }
        }
        // LiteLLM raises for exactly these strings; any other is the answer's text.
        let known = match text.as_str() {
            "litellm.RateLimitError" => {
                Some(("RateLimitError", "this is a mock rate limit error", 429))
            }
            "litellm.ContextWindowExceededError" => Some((
                "ContextWindowExceededError",
                "this is a mock context window exceeded error",
                400,
            )),
            "litellm.InternalServerError" => Some((
                "InternalServerError",
                "this is a mock internal server error",
                500,
            )),
            _ => None,
        };
        if let Some((class_name, message, status)) = known {
            return Self::Error {
                class_name: class_name.to_owned(),
                message: message.to_owned(),
                status,
                mid_stream: false,
            };
        }
        if let Some(rest) = text.strip_prefix("Exception: ") {
            if rest.starts_with("content_filter_policy") {
                return Self::Error {
                    class_name: "ContentPolicyViolationError".to_owned(),
                    message: rest.to_owned(),
                    status: 400,
                    mid_stream: false,
                };
            }
            if rest.starts_with("mock_streaming_error") {
                return Self::Error {
                    class_name: "MockException".to_owned(),
                    message: rest.to_owned(),
                    status: 529,
                    mid_stream: true,
                };
            }
        }
        Self::Text(text)
    }
}

/// Everything about a call that is not part of the upstream request body.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    pub api_key: Option<String>,
    pub api_base: Option<String>,
    pub api_version: Option<String>,
    pub organization: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    pub timeouts: Timeouts,
    /// For streams: the limit between chunks (LiteLLM's `stream_timeout`).
    pub stream_timeout: Option<Duration>,
    pub num_retries: u32,
    pub custom_llm_provider: Option<String>,
    pub mock_response: Option<MockResponse>,
    pub mock_delay: Option<Duration>,
    pub mock_timeout: bool,
    pub mock_tool_calls: Option<Value>,
    /// Mock usage overrides (LiteLLM's `prompt_tokens=` / `completion_tokens=` on mocks).
    pub mock_prompt_tokens: Option<u64>,
    pub mock_completion_tokens: Option<u64>,
    pub drop_params: bool,
    pub price_overrides: PriceOverrides,
    pub metadata: Option<Value>,
    pub model_id: Option<String>,
    /// Cloud credentials (`aws_*`, `vertex_*`, `azure_*`) for the providers that use them.
    pub credentials: Map<String, Value>,
    /// Other LiteLLM-only parameters, kept for logging.
    pub other: Map<String, Value>,
    /// Per-request Router parameters ([`ROUTER_PARAMS`]), read by the Router.
    pub router: Map<String, Value>,
}

/// Request parameters the Router reads (never sent upstream).
pub const ROUTER_PARAMS: &[&str] = &[
    "content_policy_fallbacks",
    "context_window_fallbacks",
    "fallbacks",
    "max_queue_wait",
    "max_retries",
    "mock_testing_content_policy_fallbacks",
    "mock_testing_context_fallbacks",
    "mock_testing_fallbacks",
    "mock_testing_rate_limit_error",
    "model_list",
    "num_retries",
    "priority",
    "specific_deployment",
];

impl CallOptions {
    /// These options over `base` (a deployment's, the Router's defaults): every option this
    /// call sets wins; lists and maps are merged, this call's entries last.
    #[must_use]
    pub fn over(&self, base: &Self) -> Self {
        let pick =
            |top: &Option<String>, bottom: &Option<String>| top.clone().or_else(|| bottom.clone());
        let mut extra_headers = base.extra_headers.clone();
        for (name, value) in &self.extra_headers {
            extra_headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            extra_headers.push((name.clone(), value.clone()));
        }
        let mut credentials = base.credentials.clone();
        credentials.extend(self.credentials.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut other = base.other.clone();
        other.extend(self.other.iter().map(|(k, v)| (k.clone(), v.clone())));
        Self {
            api_key: pick(&self.api_key, &base.api_key),
            api_base: pick(&self.api_base, &base.api_base),
            api_version: pick(&self.api_version, &base.api_version),
            organization: pick(&self.organization, &base.organization),
            extra_headers,
            timeouts: Timeouts {
                total: self.timeouts.total.or(base.timeouts.total),
                read: self.timeouts.read.or(base.timeouts.read),
                connect: self.timeouts.connect.or(base.timeouts.connect),
            },
            stream_timeout: self.stream_timeout.or(base.stream_timeout),
            num_retries: self.num_retries,
            custom_llm_provider: pick(&self.custom_llm_provider, &base.custom_llm_provider),
            mock_response: self
                .mock_response
                .clone()
                .or_else(|| base.mock_response.clone()),
            mock_delay: self.mock_delay.or(base.mock_delay),
            mock_timeout: self.mock_timeout || base.mock_timeout,
            mock_tool_calls: self
                .mock_tool_calls
                .clone()
                .or_else(|| base.mock_tool_calls.clone()),
            mock_prompt_tokens: self.mock_prompt_tokens.or(base.mock_prompt_tokens),
            mock_completion_tokens: self.mock_completion_tokens.or(base.mock_completion_tokens),
            drop_params: self.drop_params || base.drop_params,
            price_overrides: PriceOverrides {
                input_cost_per_token: self
                    .price_overrides
                    .input_cost_per_token
                    .or(base.price_overrides.input_cost_per_token),
                output_cost_per_token: self
                    .price_overrides
                    .output_cost_per_token
                    .or(base.price_overrides.output_cost_per_token),
            },
            metadata: self.metadata.clone().or_else(|| base.metadata.clone()),
            model_id: pick(&self.model_id, &base.model_id),
            credentials,
            other,
            router: self.router.clone(),
        }
    }
}

fn string(value: &Value, name: &str) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(Error::bad_request(format!("{name} must be a string")).with_param(name)),
    }
}

fn seconds(value: &Value, name: &str) -> Result<Option<Duration>> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => {
            let secs = n.as_f64().unwrap_or(-1.0);
            if secs.is_finite() && secs > 0.0 {
                Ok(Some(Duration::from_secs_f64(secs)))
            } else {
                Err(
                    Error::bad_request(format!("{name} must be a positive number of seconds"))
                        .with_param(name),
                )
            }
        }
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(Duration::from_secs_f64)
            .map(Some)
            .ok_or_else(|| {
                Error::bad_request(format!("{name} must be a number of seconds")).with_param(name)
            }),
        _ => {
            Err(Error::bad_request(format!("{name} must be a number of seconds")).with_param(name))
        }
    }
}

fn count(value: &Value, name: &str) -> Result<Option<u64>> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_u64().map(Some).ok_or_else(|| {
            Error::bad_request(format!("{name} must be a non-negative integer")).with_param(name)
        }),
        _ => Err(
            Error::bad_request(format!("{name} must be a non-negative integer")).with_param(name),
        ),
    }
}

fn headers(value: &Value, name: &str, out: &mut Vec<(String, String)>) -> Result<()> {
    match value {
        Value::Null => Ok(()),
        Value::Object(map) => {
            for (key, value) in map {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Null => continue,
                    other => other.to_string(),
                };
                out.push((key.clone(), text));
            }
            Ok(())
        }
        _ => Err(
            Error::bad_request(format!("{name} must be a dict of header names to values"))
                .with_param(name),
        ),
    }
}

/// Apply a `timeout` value: seconds, or `{"connect","read","write","pool","timeout"}` as an
/// `httpx.Timeout` is converted by the facade.
fn timeout(value: &Value, timeouts: &mut Timeouts) -> Result<()> {
    match value {
        Value::Object(parts) => {
            if let Some(total) = parts.get("timeout") {
                timeouts.total = seconds(total, "timeout")?;
            }
            if let Some(read) = parts.get("read") {
                timeouts.read = seconds(read, "timeout.read")?;
            }
            if let Some(connect) = parts.get("connect") {
                timeouts.connect = seconds(connect, "timeout.connect")?;
            }
            Ok(())
        }
        other => {
            if let Some(total) = seconds(other, "timeout")? {
                timeouts.total = Some(total);
            }
            Ok(())
        }
    }
}

/// Split keyword arguments into `(body, options)`. Body fields are the upstream request;
/// LiteLLM's own parameters configure the call; unknown keys pass through in the body.
///
/// # Errors
/// `BadRequest` naming the parameter whose value has the wrong type.
pub fn split(params: Map<String, Value>) -> Result<(Map<String, Value>, CallOptions)> {
    let mut body = Map::with_capacity(params.len());
    let mut options = CallOptions::default();
    let mut extra_body: Option<Map<String, Value>> = None;
    for (key, value) in params {
        match key.as_str() {
            "api_key" => options.api_key = string(&value, "api_key")?,
            "api_base" | "base_url" => {
                if let Some(base) = string(&value, &key)? {
                    options.api_base = Some(base);
                }
            }
            "api_version" => options.api_version = string(&value, "api_version")?,
            "organization" => options.organization = string(&value, "organization")?,
            "extra_headers" | "headers" => headers(&value, &key, &mut options.extra_headers)?,
            "timeout" | "request_timeout" => timeout(&value, &mut options.timeouts)?,
            "stream_timeout" => options.stream_timeout = seconds(&value, "stream_timeout")?,
            "num_retries" | "max_retries" => {
                if let Some(n) = count(&value, &key)? {
                    options.num_retries = u32::try_from(n.min(100)).unwrap_or(100);
                }
                options.router.insert(key, value);
            }
            "custom_llm_provider" => {
                options.custom_llm_provider = string(&value, "custom_llm_provider")?
            }
            "mock_response" => match value {
                Value::Null => {}
                Value::String(text) => options.mock_response = Some(MockResponse::parse(text)),
                other => options.mock_response = Some(MockResponse::Text(other.to_string())),
            },
            "mock_delay" => options.mock_delay = seconds(&value, "mock_delay")?,
            "mock_timeout" => options.mock_timeout = value.as_bool().unwrap_or(false),
            "mock_tool_calls" => options.mock_tool_calls = Some(value).filter(|v| !v.is_null()),
            "prompt_tokens" => options.mock_prompt_tokens = count(&value, "prompt_tokens")?,
            "completion_tokens" => {
                options.mock_completion_tokens = count(&value, "completion_tokens")?
            }
            "drop_params" => options.drop_params = value.as_bool().unwrap_or(false),
            "input_cost_per_token" => {
                options.price_overrides.input_cost_per_token = decimal_from_json(&value)
            }
            "output_cost_per_token" => {
                options.price_overrides.output_cost_per_token = decimal_from_json(&value)
            }
            "metadata" | "litellm_metadata" => {
                if !value.is_null() {
                    options.metadata = Some(value);
                }
            }
            "model_id" => options.model_id = string(&value, "model_id")?,
            "extra_body" => match value {
                Value::Object(map) => extra_body = Some(map),
                Value::Null => {}
                _ => {
                    return Err(
                        Error::bad_request("extra_body must be a dict").with_param("extra_body")
                    );
                }
            },
            // A prompt-template hint the SageMaker provider reads with the call's placement.
            "hf_model_name" => {
                options.credentials.insert(key, value);
            }
            k if k.starts_with("aws_")
                || k.starts_with("vertex_")
                || k.starts_with("azure_")
                || k.starts_with("watsonx_")
                || k.starts_with("gigachat_") =>
            {
                options.credentials.insert(key, value);
            }
            k if ROUTER_PARAMS.binary_search(&k).is_ok() => {
                options.router.insert(key, value);
            }
            k if LITELLM_PARAMS.binary_search(&k).is_ok() => {
                options.other.insert(key, value);
            }
            _ => {
                // `None` for an optional OpenAI parameter means "not set".
                if !value.is_null() {
                    body.insert(key, value);
                }
            }
        }
    }
    if let Some(extra) = extra_body {
        for (key, value) in extra {
            body.insert(key, value);
        }
    }
    Ok((body, options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn litellm_params_are_sorted() {
        assert!(LITELLM_PARAMS.windows(2).all(|w| w[0] < w[1]));
        assert!(ROUTER_PARAMS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn splits_body_from_options() {
        let (body, options) = split(map(json!({
            "model": "gpt-4o", "messages": [], "temperature": 0.1, "top_k": 5, "seed": null,
            "api_key": "k", "base_url": "http://x", "timeout": 3, "num_retries": 2,
            "metadata": {"a": 1}, "extra_headers": {"x-a": "1"}, "extra_body": {"foo": "bar"},
            "aws_region_name": "us-east-1", "litellm_call_id": "abc", "input_cost_per_token": 1e-6
        })))
        .unwrap();
        assert_eq!(body.len(), 5, "{body:?}");
        assert_eq!(body["top_k"], 5);
        assert_eq!(body["foo"], "bar");
        assert!(!body.contains_key("seed"));
        assert_eq!(options.api_key.as_deref(), Some("k"));
        assert_eq!(options.api_base.as_deref(), Some("http://x"));
        assert_eq!(options.timeouts.total, Some(Duration::from_secs(3)));
        assert_eq!(options.num_retries, 2);
        assert_eq!(
            options.extra_headers,
            vec![("x-a".to_owned(), "1".to_owned())]
        );
        assert!(options.credentials.contains_key("aws_region_name"));
        assert!(options.other.contains_key("litellm_call_id"));
        assert!(options.price_overrides.input_cost_per_token.is_some());
    }

    #[test]
    fn bad_option_types_are_named() {
        let error = split(map(json!({"timeout": "soon"}))).unwrap_err();
        assert!(error.message().contains("timeout"));
        let error = split(map(json!({"num_retries": -1}))).unwrap_err();
        assert!(error.message().contains("num_retries"));
        let error = split(map(json!({"extra_headers": [1]}))).unwrap_err();
        assert!(error.message().contains("extra_headers"));
    }

    #[test]
    fn mock_response_strings() {
        assert_eq!(
            MockResponse::parse("hi".into()),
            MockResponse::Text("hi".into())
        );
        match MockResponse::parse("litellm.RateLimitError".into()) {
            MockResponse::Error {
                status, message, ..
            } => {
                assert_eq!(status, 429);
                assert_eq!(message, "this is a mock rate limit error");
            }
            MockResponse::Text(_) => unreachable!(),
        }
        // LiteLLM raises only for three class strings; any other is text.
        assert_eq!(
            MockResponse::parse("litellm.BadRequestError".into()),
            MockResponse::Text("litellm.BadRequestError".into())
        );
        let internal = format!(
            "{MOCK_ERROR_PREFIX}{}",
            json!({"class": "NotFoundError", "status": 404, "message": "gone"})
        );
        assert_eq!(
            MockResponse::parse(internal),
            MockResponse::Error {
                class_name: "NotFoundError".into(),
                message: "gone".into(),
                status: 404,
                mid_stream: false
            }
        );
        match MockResponse::parse("Exception: mock_streaming_error boom".into()) {
            MockResponse::Error {
                status, mid_stream, ..
            } => assert_eq!((status, mid_stream), (529, true)),
            MockResponse::Text(_) => unreachable!(),
        }
    }

    #[test]
    fn httpx_timeout_dict() {
        let (_, options) = split(map(
            json!({"timeout": {"connect": 1.5, "read": 2, "timeout": 10}}),
        ))
        .unwrap();
        assert_eq!(options.timeouts.connect, Some(Duration::from_millis(1500)));
        assert_eq!(options.timeouts.read, Some(Duration::from_secs(2)));
        assert_eq!(options.timeouts.total, Some(Duration::from_secs(10)));
    }
}
