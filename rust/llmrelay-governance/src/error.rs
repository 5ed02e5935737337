//! Governance errors, rendered as LiteLLM's proxy errors in OpenAI's error shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde_json::json;

/// Which entity's budget ran out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetExceeded {
    /// LiteLLM's message, e.g. `Budget has been exceeded! Key=... Current cost: 1.0, Max budget: 1.0`.
    pub message: String,
    pub current_cost: Decimal,
    pub max_budget: Decimal,
    /// `key`, `user`, `team`, `team_member`, `organization`, `end_user`, `model`.
    pub entity_type: &'static str,
    pub entity_id: String,
}

impl std::fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BudgetExceeded {}

/// Everything that can go wrong in the governance engine.
#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Database(String),
    /// The database cannot be reached (a key that is not cached cannot be verified).
    #[error("{0}")]
    DatabaseUnavailable(String),
    /// The budgets shared between instances (Redis) cannot be reached and are `fail_closed`.
    #[error("{0}")]
    BudgetStoreUnavailable(String),
    /// 401 `auth_error` (invalid, blocked, or unknown key; role checks that LiteLLM renders as 401).
    #[error("{0}")]
    Authentication(String),
    /// 401 `expired_key`.
    #[error("{0}")]
    ExpiredKey(String),
    /// 403 `auth_error`.
    #[error("{0}")]
    Forbidden(String),
    /// 403 with a model-access error type (`key_model_access_denied`, …), `param: "model"`.
    #[error("{message}")]
    ModelAccessDenied {
        message: String,
        error_type: &'static str,
    },
    #[error("{message}")]
    BadRequest {
        message: String,
        param: Option<String>,
    },
    #[error("{0}")]
    NotFound(String),
    /// 409: the object exists already (a credential name, a model id).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BudgetExceeded(#[from] BudgetExceeded),
    #[error("{0}")]
    Internal(String),
}

impl GovernanceError {
    #[must_use]
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            param: None,
        }
    }

    #[must_use]
    pub fn bad_param(message: impl Into<String>, param: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            param: Some(param.into()),
        }
    }

    /// The HTTP status (LiteLLM's `budget_exceeded_status_code` is 422 by default).
    #[must_use]
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Authentication(_) | Self::ExpiredKey(_) => 401,
            Self::Forbidden(_) | Self::ModelAccessDenied { .. } => 403,
            Self::BadRequest { .. } => 400,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::BudgetExceeded(_) => 422,
            Self::DatabaseUnavailable(_) | Self::BudgetStoreUnavailable(_) => 503,
            Self::Config(_) | Self::Database(_) | Self::Internal(_) => 500,
        }
    }

    /// LiteLLM's `type` for this error.
    #[must_use]
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Authentication(_) | Self::Forbidden(_) => "auth_error",
            Self::ExpiredKey(_) => "expired_key",
            Self::ModelAccessDenied { error_type, .. } => error_type,
            Self::BadRequest { .. } => "bad_request_error",
            Self::NotFound(_) => "not_found_error",
            Self::Conflict(_) => "conflict_error",
            Self::BudgetExceeded(_) => "budget_exceeded",
            Self::DatabaseUnavailable(_) => "no_db_connection",
            Self::BudgetStoreUnavailable(_) => "budget_store_unavailable",
            Self::Config(_) | Self::Database(_) | Self::Internal(_) => "internal_server_error",
        }
    }

    /// A low-cardinality label for metrics.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::Database(_) => "database",
            Self::DatabaseUnavailable(_) => "database_unavailable",
            Self::BudgetStoreUnavailable(_) => "budget_store_unavailable",
            Self::Authentication(_) => "authentication",
            Self::ExpiredKey(_) => "expired_key",
            Self::Forbidden(_) => "forbidden",
            Self::ModelAccessDenied { .. } => "model_access_denied",
            Self::BadRequest { .. } => "bad_request",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::BudgetExceeded(_) => "budget_exceeded",
            Self::Internal(_) => "internal",
        }
    }

    /// `{"error":{"message","type","param","code"}}`.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let param = match self {
            Self::BadRequest { param, .. } => param.clone(),
            Self::ModelAccessDenied { .. } => Some("model".to_owned()),
            _ => None,
        };
        json!({"error": {
            "message": self.to_string(),
            "type": self.error_type(),
            "param": param,
            "code": self.status_code().to_string(),
        }})
    }
}

impl From<sqlx::Error> for GovernanceError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::DatabaseUnavailable(format!("Database unavailable: {error}"))
            }
            sqlx::Error::Tls(_) => {
                Self::DatabaseUnavailable(format!("Database unavailable: {error}"))
            }
            _ => Self::Database(format!("Database error: {error}")),
        }
    }
}

impl IntoResponse for GovernanceError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.to_json())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_render_in_openai_shape() {
        let error = GovernanceError::bad_param("Unknown field: foo", "foo");
        assert_eq!(
            error.to_json(),
            json!({"error": {"message": "Unknown field: foo", "type": "bad_request_error", "param": "foo", "code": "400"}})
        );
        assert_eq!(
            GovernanceError::Authentication("x".into()).status_code(),
            401
        );
        assert_eq!(
            GovernanceError::from(sqlx::Error::PoolTimedOut).label(),
            "database_unavailable"
        );
    }
}
