//! The engine as call-pipeline layers: who is calling (Identity), which models it may use
//! (Access), the rate-limit reservation (Limits), the budget reservation (Budget), and, when
//! the call is over, the rate-limit settlement and one spend row (Account). The proxy
//! registers them with one line (`layers.extend(&llmrelay_governance::layers::layers(&engine))`)
//! and verifies keys at its edge with [`admit::key_auth::authenticate`].

pub mod account;
pub mod admit;

use std::sync::Arc;

use llmrelay_core::{Error, ErrorKind};
use llmrelay_pipeline::Layers;

use crate::engine::Governance;
use crate::error::GovernanceError;

/// Every governance layer, for an open engine; the rate-limit layers count in `limiter`.
#[must_use]
pub fn layers(
    engine: &Arc<Governance>,
    limiter: llmrelay_limits::Limiter,
    limit_settings: admit::limits::LimitSettings,
) -> Layers {
    let mut layers = Layers::new();
    layers
        .admit(Arc::new(admit::key_auth::KeyIdentity::new(engine)))
        .admit(Arc::new(admit::model_access::ModelAccess::new(engine)))
        .admit(Arc::new(admit::limits::RateLimits::new(
            engine,
            limiter,
            limit_settings,
        )))
        .attempt(Arc::new(admit::limits::MarkSent))
        .admit(Arc::new(admit::budget::BudgetReserve::new(engine)))
        .account(Arc::new(account::limits::LimitSettle))
        .account(Arc::new(account::spend::SpendAccount::new(engine)));
    layers
}

/// A governance error as the pipeline's error: LiteLLM's status and message, and its error
/// body (`type` such as `budget_exceeded`, `expired_key`, `key_model_access_denied`) kept as
/// the error's JSON body so the proxy renders it as LiteLLM does.
#[must_use]
pub fn to_error(error: &GovernanceError) -> Error {
    let status = error.status_code();
    let kind = gateway_kind(status);
    let mut converted = Error::from_upstream(status, error.to_string(), Some(error.to_json()))
        .with_kind(kind)
        .with_status(status);
    if let Some(param) = error.to_json()["error"]["param"].as_str() {
        converted = converted.with_param(param);
    }
    converted
}

/// The kind of an error the gateway raises itself with `status` (its class in the SDK): the
/// 4xx a client can act on, else an internal error.
#[must_use]
pub fn gateway_kind(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Authentication,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        422 => ErrorKind::UnprocessableEntity,
        429 => ErrorKind::RateLimit,
        503 => ErrorKind::ServiceUnavailable,
        400..=499 => ErrorKind::BadRequest,
        _ => ErrorKind::InternalServer,
    }
}

/// Runs database work of the engine on the engine's runtime (the proxy's workers run their
/// own runtimes; the pool's connections belong to the engine's).
pub(crate) async fn on_engine<T, F>(engine: &Arc<Governance>, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, GovernanceError>> + Send + 'static,
{
    match engine.runtime().spawn(work).await {
        Ok(result) => result.map_err(|e| to_error(&e)),
        Err(join) => Err(Error::new(
            ErrorKind::InternalServer,
            format!("governance task failed: {join}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::BudgetExceeded;
    use rust_decimal::Decimal;

    #[test]
    fn errors_keep_litellm_status_type_and_message() {
        let budget = GovernanceError::BudgetExceeded(BudgetExceeded {
            message: "Budget has been exceeded! Key=k Current cost: 1, Max budget: 1".into(),
            current_cost: Decimal::ONE,
            max_budget: Decimal::ONE,
            entity_type: "key",
            entity_id: "k".into(),
        });
        let error = to_error(&budget);
        assert_eq!(error.status_code(), 422);
        assert_eq!(error.kind(), ErrorKind::UnprocessableEntity);
        assert_eq!(
            error.message(),
            "Budget has been exceeded! Key=k Current cost: 1, Max budget: 1"
        );
        let body = error.inner().body.clone().unwrap();
        assert_eq!(body["error"]["type"], "budget_exceeded");
        let denied = to_error(&GovernanceError::ModelAccessDenied {
            message: "no".into(),
            error_type: "team_model_access_denied",
        });
        assert_eq!(denied.status_code(), 403);
        assert_eq!(denied.kind(), ErrorKind::PermissionDenied);
        assert_eq!(denied.inner().param.as_deref(), Some("model"));
        let expired = to_error(&GovernanceError::ExpiredKey("Expired Key".into()));
        assert_eq!(expired.kind(), ErrorKind::Authentication);
        assert_eq!(
            expired.inner().body.as_ref().unwrap()["error"]["type"],
            "expired_key"
        );
        // A message that reads like a provider's context-window error stays what it is.
        let down = to_error(&GovernanceError::DatabaseUnavailable(
            "too many tokens in the pool".into(),
        ));
        assert_eq!(down.kind(), ErrorKind::ServiceUnavailable);
    }
}
