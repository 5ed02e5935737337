//! The one error type of the engine: a kind that maps one-to-one to LiteLLM's exception classes.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// What went wrong, at the granularity of LiteLLM's exception classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    BadRequest,
    Authentication,
    PermissionDenied,
    NotFound,
    Timeout,
    UnprocessableEntity,
    RateLimit,
    ContextWindowExceeded,
    ContentPolicyViolation,
    UnsupportedParams,
    InternalServer,
    BadGateway,
    ServiceUnavailable,
    ApiConnection,
    /// Any other upstream status.
    Api,
}

impl ErrorKind {
    /// Low-cardinality label, also the name the Python facade maps to an exception class.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Authentication => "authentication",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::Timeout => "timeout",
            Self::UnprocessableEntity => "unprocessable_entity",
            Self::RateLimit => "rate_limit",
            Self::ContextWindowExceeded => "context_window_exceeded",
            Self::ContentPolicyViolation => "content_policy_violation",
            Self::UnsupportedParams => "unsupported_params",
            Self::InternalServer => "internal_server",
            Self::BadGateway => "bad_gateway",
            Self::ServiceUnavailable => "service_unavailable",
            Self::ApiConnection => "api_connection",
            Self::Api => "api_error",
        }
    }

    /// LiteLLM's exception class for the kind (`RateLimitError`, …).
    #[must_use]
    pub const fn litellm_class(self) -> &'static str {
        match self {
            Self::BadRequest => "BadRequestError",
            Self::Authentication => "AuthenticationError",
            Self::PermissionDenied => "PermissionDeniedError",
            Self::NotFound => "NotFoundError",
            Self::Timeout => "Timeout",
            Self::UnprocessableEntity => "UnprocessableEntityError",
            Self::RateLimit => "RateLimitError",
            Self::ContextWindowExceeded => "ContextWindowExceededError",
            Self::ContentPolicyViolation => "ContentPolicyViolationError",
            Self::UnsupportedParams => "UnsupportedParamsError",
            Self::InternalServer => "InternalServerError",
            Self::BadGateway => "BadGatewayError",
            Self::ServiceUnavailable => "ServiceUnavailableError",
            Self::ApiConnection => "APIConnectionError",
            Self::Api => "APIError",
        }
    }

    /// The status LiteLLM reports for this kind when no upstream status is known.
    #[must_use]
    pub const fn default_status(self) -> u16 {
        match self {
            Self::BadRequest
            | Self::ContextWindowExceeded
            | Self::ContentPolicyViolation
            | Self::UnsupportedParams => 400,
            Self::Authentication => 401,
            Self::PermissionDenied => 403,
            Self::NotFound => 404,
            Self::Timeout => 408,
            Self::UnprocessableEntity => 422,
            Self::RateLimit => 429,
            Self::InternalServer | Self::ApiConnection | Self::Api => 500,
            Self::BadGateway => 502,
            Self::ServiceUnavailable => 503,
        }
    }

    /// The OpenAI error `type` used when rendering this error as JSON.
    #[must_use]
    pub const fn openai_type(self) -> &'static str {
        match self {
            Self::Authentication => "authentication_error",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found_error",
            Self::RateLimit => "rate_limit_error",
            Self::Timeout => "timeout",
            Self::InternalServer
            | Self::BadGateway
            | Self::ServiceUnavailable
            | Self::ApiConnection
            | Self::Api => "api_error",
            Self::BadRequest
            | Self::UnprocessableEntity
            | Self::ContextWindowExceeded
            | Self::ContentPolicyViolation
            | Self::UnsupportedParams => "invalid_request_error",
        }
    }

    /// Whether a retry of the same request may succeed (LiteLLM retries these).
    #[must_use]
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::Timeout
                | Self::RateLimit
                | Self::InternalServer
                | Self::BadGateway
                | Self::ServiceUnavailable
                | Self::ApiConnection
                | Self::Api
        )
    }

    /// Kind for an upstream HTTP status, before any message-based refinement.
    #[must_use]
    pub const fn from_status(status: u16) -> Self {
        match status {
            400 | 413 => Self::BadRequest,
            401 => Self::Authentication,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            408 | 504 => Self::Timeout,
            422 => Self::UnprocessableEntity,
            429 => Self::RateLimit,
            500 | 529 => Self::InternalServer,
            502 => Self::BadGateway,
            503 => Self::ServiceUnavailable,
            _ => Self::Api,
        }
    }
}

/// Error of any stage of the pipeline. Small on the stack: the details are boxed.
#[derive(Debug, Clone)]
pub struct Error(Box<ErrorInner>);

#[derive(Debug, Clone)]
pub struct ErrorInner {
    pub kind: ErrorKind,
    pub message: String,
    /// Upstream HTTP status when there was one (else the kind's default).
    pub status: Option<u16>,
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Seconds the upstream asked us to wait (Retry-After / retry-after-ms).
    pub retry_after: Option<f64>,
    /// Selected upstream response headers (rate-limit headers, request id).
    pub headers: Vec<(String, String)>,
    /// The upstream error body when it was JSON.
    pub body: Option<Value>,
    /// How many retries were made before giving up.
    pub num_retries: u32,
    /// For a provider-error param: the OpenAI `param` field.
    pub param: Option<String>,
    /// Extra detail the error JSON carries as `error.provider_specific_fields` (a guardrail's
    /// verdict, as LiteLLM's proxy reports it).
    pub provider_specific_fields: Option<Value>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    #[must_use]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorInner {
            kind,
            message: message.into(),
            status: None,
            provider: None,
            model: None,
            retry_after: None,
            headers: Vec::new(),
            body: None,
            num_retries: 0,
            param: None,
            provider_specific_fields: None,
        }))
    }

    #[must_use]
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    #[must_use]
    pub fn connection(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ApiConnection, message)
    }

    #[must_use]
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }

    /// Classify an upstream error response: status first, then the message text for the
    /// context-window and content-policy cases, as LiteLLM's exception mapping does.
    #[must_use]
    pub fn from_upstream(status: u16, message: impl Into<String>, body: Option<Value>) -> Self {
        let message = message.into();
        let code = body
            .as_ref()
            .and_then(|b| {
                b.get("error")
                    .and_then(|e| e.get("code"))
                    .or_else(|| b.get("code"))
            })
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut kind = ErrorKind::from_status(status);
        if status < 500 || status == 529 {
            if is_context_window_message(&message) || code == "context_length_exceeded" {
                kind = ErrorKind::ContextWindowExceeded;
            } else if is_content_policy_message(&message)
                || code == "content_policy_violation"
                || code == "content_filter"
            {
                kind = ErrorKind::ContentPolicyViolation;
            }
        }
        let mut error = Self::new(kind, message);
        error.0.status = Some(status);
        error.0.body = body;
        error
    }

    #[must_use]
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        if self.0.provider.is_none() {
            self.0.provider = Some(provider.into());
        }
        self
    }

    #[must_use]
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        if self.0.model.is_none() {
            self.0.model = Some(model.into());
        }
        self
    }

    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }

    #[must_use]
    pub fn with_retry_after(mut self, seconds: Option<f64>) -> Self {
        self.0.retry_after = seconds;
        self
    }

    #[must_use]
    pub fn with_headers(mut self, headers: Vec<(String, String)>) -> Self {
        self.0.headers = headers;
        self
    }

    #[must_use]
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.0.param = Some(param.into());
        self
    }

    /// Reclassify: a provider that recognizes an error by a field of its own body (Azure's
    /// `innererror.code`) refines the status-based kind.
    /// Adds `error.provider_specific_fields` to the error JSON.
    #[must_use]
    pub fn with_provider_specific_fields(mut self, fields: Value) -> Self {
        self.0.provider_specific_fields = Some(fields);
        self
    }

    #[must_use]
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.0.kind = kind;
        self
    }

    /// Add `text` to the end of the message (the Router's note on what its fallbacks did).
    pub fn append_message(&mut self, text: &str) {
        self.0.message.push_str(text);
    }

    pub fn set_num_retries(&mut self, n: u32) {
        self.0.num_retries = n;
    }

    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    #[must_use]
    pub fn message(&self) -> &str {
        &self.0.message
    }

    #[must_use]
    pub fn inner(&self) -> &ErrorInner {
        &self.0
    }

    /// The status to report: the upstream's, else the kind's default.
    #[must_use]
    pub fn status_code(&self) -> u16 {
        self.0
            .status
            .unwrap_or_else(|| self.0.kind.default_status())
    }

    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.0.kind.is_retryable()
    }

    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.0
            .retry_after
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
    }

    /// OpenAI error JSON: `{"error":{"message","type","param","code"}}`.
    #[must_use]
    pub fn to_openai_json(&self) -> Value {
        let mut body = serde_json::json!({
            "error": {
                "message": self.0.message,
                "type": self.0.kind.openai_type(),
                "param": self.0.param,
                "code": self.status_code().to_string(),
            }
        });
        if let Some(fields) = &self.0.provider_specific_fields {
            body["error"]["provider_specific_fields"] = fields.clone();
        }
        body
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.kind.as_str(), self.0.message)
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Self::bad_request(format!("invalid JSON: {error}"))
    }
}

const CONTEXT_WINDOW_PATTERNS: &[&str] = &[
    "maximum context length",
    "context length exceeded",
    "context_length_exceeded",
    "context window",
    "prompt is too long",
    "input is too long",
    "too many tokens",
    "exceeds the maximum number of tokens",
    "maximum number of tokens",
    "reduce the length of the messages",
    "input too long",
];

const CONTENT_POLICY_PATTERNS: &[&str] = &[
    "content_policy_violation",
    "content policy",
    "content management policy",
    "content_filter",
    "safety system",
    "responsibleaipolicyviolation",
];

fn contains_any(message: &str, patterns: &[&str]) -> bool {
    let lower = message.to_ascii_lowercase();
    patterns.iter().any(|p| lower.contains(p))
}

#[must_use]
pub fn is_context_window_message(message: &str) -> bool {
    contains_any(message, CONTEXT_WINDOW_PATTERNS)
}

#[must_use]
pub fn is_content_policy_message(message: &str) -> bool {
    contains_any(message, CONTENT_POLICY_PATTERNS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping_follows_litellm() {
        let cases = [
            (400, ErrorKind::BadRequest),
            (401, ErrorKind::Authentication),
            (403, ErrorKind::PermissionDenied),
            (404, ErrorKind::NotFound),
            (408, ErrorKind::Timeout),
            (422, ErrorKind::UnprocessableEntity),
            (429, ErrorKind::RateLimit),
            (500, ErrorKind::InternalServer),
            (502, ErrorKind::BadGateway),
            (503, ErrorKind::ServiceUnavailable),
            (504, ErrorKind::Timeout),
            (529, ErrorKind::InternalServer),
            (418, ErrorKind::Api),
        ];
        for (status, kind) in cases {
            assert_eq!(
                Error::from_upstream(status, "x", None).kind(),
                kind,
                "{status}"
            );
            assert_eq!(
                Error::from_upstream(status, "x", None).status_code(),
                status
            );
        }
    }

    #[test]
    fn message_refines_bad_request() {
        let e = Error::from_upstream(
            400,
            "This model's maximum context length is 8192 tokens",
            None,
        );
        assert_eq!(e.kind(), ErrorKind::ContextWindowExceeded);
        let body =
            serde_json::json!({"error": {"code": "content_policy_violation", "message": "no"}});
        let e = Error::from_upstream(400, "no", Some(body));
        assert_eq!(e.kind(), ErrorKind::ContentPolicyViolation);
        // A 500 mentioning context is still a server error.
        let e = Error::from_upstream(500, "context window", None);
        assert_eq!(e.kind(), ErrorKind::InternalServer);
    }

    #[test]
    fn openai_json_shape() {
        let e = Error::bad_request("missing messages").with_param("messages");
        let json = e.to_openai_json();
        assert_eq!(json["error"]["type"], "invalid_request_error");
        assert_eq!(json["error"]["param"], "messages");
        assert_eq!(json["error"]["code"], "400");
    }

    #[test]
    fn retry_after_is_validated() {
        let e = Error::new(ErrorKind::RateLimit, "slow down").with_retry_after(Some(1.5));
        assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
        let e = Error::new(ErrorKind::RateLimit, "x").with_retry_after(Some(f64::NAN));
        assert_eq!(e.retry_after(), None);
    }
}
