//! Every failure leaves the proxy as JSON in the caller's dialect: OpenAI's
//! `{"error":{"message","type","param","code"}}` or, on `/v1/messages`, Anthropic's
//! `{"type":"error","error":{"type","message"}}`, with the status of the error's kind.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use llmrelay_core::{Error, ErrorKind};

/// Which wire format an error is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenAi,
    Anthropic,
}

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    pub error: Error,
    pub dialect: Dialect,
    /// Replaces the OpenAI `type` (the proxy's own auth failures are `auth_error` in LiteLLM).
    pub type_override: Option<&'static str>,
}

impl ApiError {
    #[must_use]
    pub fn new(error: Error, dialect: Dialect) -> Self {
        Self {
            error: gateway_credential_error(error),
            dialect,
            type_override: None,
        }
    }

    #[must_use]
    pub fn openai(error: Error) -> Self {
        Self::new(error, Dialect::OpenAi)
    }

    /// A 400 naming the offending parameter.
    #[must_use]
    pub fn bad_request(message: impl Into<String>, dialect: Dialect) -> Self {
        Self::new(Error::bad_request(message), dialect)
    }

    /// The status the client receives (a valid HTTP status, else 500).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.error.status_code())
            .ok()
            .filter(|s| s.is_client_error() || s.is_server_error())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body.
    #[must_use]
    pub fn body(&self) -> Value {
        match self.dialect {
            Dialect::OpenAi => {
                let mut body = self.error.to_openai_json();
                if let Some(kind) = self.type_override {
                    body["error"]["type"] = Value::String(kind.to_owned());
                }
                if let Some(kind) = gateway_error_type(&self.error) {
                    body["error"]["type"] = Value::String(kind);
                }
                body["error"]["code"] = Value::String(self.status().as_u16().to_string());
                body
            }
            Dialect::Anthropic => json!({
                "type": "error",
                "error": {
                    "type": anthropic_error_type(self.error.kind(), self.status().as_u16()),
                    "message": self.error.message(),
                },
            }),
        }
    }
}

/// The `type` of an error the gateway raised itself with a LiteLLM body (budget, key and
/// model-access errors: `budget_exceeded`, `expired_key`, `key_model_access_denied`, …): the
/// body's message is the error's own, which an upstream error's is not (it is prefixed).
fn gateway_error_type(error: &Error) -> Option<String> {
    let inner = error.inner();
    if inner.provider.is_some() {
        return None;
    }
    let body = inner.body.as_ref()?.get("error")?;
    if body.get("message").and_then(Value::as_str) != Some(inner.message.as_str()) {
        return None;
    }
    body.get("type").and_then(Value::as_str).map(str::to_owned)
}

/// A provider credential missing from the proxy's own config is the gateway's fault, not the
/// client's: it leaves as a 500 that says so, never as a 401 that reads as "your key is wrong".
/// (The engine raises it before any request is sent: an authentication error with a provider
/// and no upstream status. An upstream 401 and the proxy's own key check are left alone.)
fn gateway_credential_error(error: Error) -> Error {
    let inner = error.inner();
    if error.kind() != ErrorKind::Authentication
        || inner.status.is_some()
        || (inner.provider.is_none() && inner.model.is_none())
    {
        return error;
    }
    let deployment = match (&inner.provider, &inner.model) {
        (Some(provider), Some(model)) => format!(" ({provider}/{model})"),
        (Some(provider), None) => format!(" ({provider})"),
        (None, Some(model)) => format!(" ({model})"),
        (None, None) => String::new(),
    };
    let message = format!(
        "The proxy has no upstream credential for this deployment{deployment}: set it in the proxy's config (litellm_params.api_key or the provider's environment variable). This is the gateway's configuration, not the API key of this request. Upstream error: {}",
        inner.message
    );
    let mut replaced = Error::new(ErrorKind::InternalServer, message).with_status(500);
    if let Some(provider) = &inner.provider {
        replaced = replaced.with_provider(provider.clone());
    }
    if let Some(model) = &inner.model {
        replaced = replaced.with_model(model.clone());
    }
    replaced
}

/// Anthropic's error types (API reference "Errors").
#[must_use]
pub fn anthropic_error_type(kind: ErrorKind, status: u16) -> &'static str {
    match (kind, status) {
        (_, 413) => "request_too_large",
        (_, 529) => "overloaded_error",
        (ErrorKind::Authentication, _) => "authentication_error",
        (ErrorKind::PermissionDenied, _) => "permission_error",
        (ErrorKind::NotFound, _) => "not_found_error",
        (ErrorKind::RateLimit, _) => "rate_limit_error",
        (ErrorKind::Timeout, _) => "timeout_error",
        (
            ErrorKind::BadRequest
            | ErrorKind::UnprocessableEntity
            | ErrorKind::ContextWindowExceeded
            | ErrorKind::ContentPolicyViolation
            | ErrorKind::UnsupportedParams,
            _,
        ) => "invalid_request_error",
        (ErrorKind::ServiceUnavailable, _) => "overloaded_error",
        _ => "api_error",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = self.body();
        let mut response = (status, axum::Json(body)).into_response();
        // Upstream rate-limit and retry headers help the client back off.
        for (name, value) in &self.error.inner().headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
        response
            .extensions_mut()
            .insert(ErrorLabel(self.error.kind()));
        if let Some(denial) = AccessDenial::of(&self.error) {
            response.extensions_mut().insert(denial);
        }
        response
    }
}

/// The proxy refused the caller (a key, route or model check, not an upstream's answer): the
/// reason, for the audit log's `access_denied` rows.
#[derive(Debug, Clone)]
pub struct AccessDenial {
    pub reason: String,
}

impl AccessDenial {
    fn of(error: &Error) -> Option<Self> {
        let refused = matches!(
            error.kind(),
            ErrorKind::Authentication | ErrorKind::PermissionDenied
        );
        let inner = error.inner();
        // Upstream answers carry their provider; the proxy's own refusals do not.
        (refused && inner.provider.is_none()).then(|| Self {
            reason: inner.message.clone(),
        })
    }
}

/// Error kind recorded on a response, for metrics and logs.
#[derive(Debug, Clone, Copy)]
pub struct ErrorLabel(pub ErrorKind);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self::openai(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_and_anthropic_shapes() {
        let error = Error::bad_request("bad").with_param("messages");
        let openai = ApiError::openai(error.clone()).body();
        assert_eq!(openai["error"]["type"], "invalid_request_error");
        assert_eq!(openai["error"]["param"], "messages");
        assert_eq!(openai["error"]["code"], "400");
        let anthropic = ApiError::new(error, Dialect::Anthropic).body();
        assert_eq!(anthropic["type"], "error");
        assert_eq!(anthropic["error"]["type"], "invalid_request_error");
        let mut auth = ApiError::openai(Error::new(ErrorKind::Authentication, "no"));
        auth.type_override = Some("auth_error");
        assert_eq!(auth.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(auth.body()["error"]["type"], "auth_error");
    }

    #[test]
    fn missing_upstream_credential_is_the_gateway_s_error() {
        let missing = Error::new(
            ErrorKind::Authentication,
            "Missing API key for provider 'openai'",
        )
        .with_provider("openai")
        .with_model("gpt-4o");
        let api_error = ApiError::openai(missing);
        assert_eq!(api_error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = api_error.body();
        assert_eq!(body["error"]["type"], "api_error");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("no upstream credential"), "{message}");
        assert!(message.contains("openai/gpt-4o"), "{message}");
        // An upstream 401 (the provider refused the configured key) and the proxy's own key
        // check keep their 401.
        let upstream = Error::from_upstream(401, "Incorrect API key", None).with_provider("openai");
        assert_eq!(
            ApiError::openai(upstream).status(),
            StatusCode::UNAUTHORIZED
        );
        let own = Error::new(
            ErrorKind::Authentication,
            "Invalid proxy server token passed",
        );
        assert_eq!(ApiError::openai(own).status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn out_of_range_status_becomes_500() {
        let error = Error::from_upstream(200, "odd", None);
        assert_eq!(
            ApiError::openai(error).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
