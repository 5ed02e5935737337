//! Budget stage: before the call goes upstream, an upper bound of its cost (prompt tokens
//! plus `max_tokens` or the model's maximum output, at the catalog's prices) is reserved
//! against every budget of the caller at once — key, user, team, team member, organization,
//! end user, the key's `model_max_budget` entry. The reservation rides in
//! [`Call::extensions`] and is settled with the real cost by the spend account layer (or
//! released when the call is dropped). Also: the `x-litellm-key-*` response headers, and
//! backpressure when the spend rows are not reaching the database.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;
use serde_json::Value;

use llmrelay_pipeline::{Admission, Admit, AdmitStage, Call, ResponseHeaders, Step};

use crate::budget::{Reservation, key_limits};
use crate::db::Record;
use crate::engine::Governance;
use crate::error::{BudgetExceeded, GovernanceError};
use crate::estimate::estimate_request;
use crate::identity::KeyAuth;
use crate::layers::admit::key_auth::EndUser;
use crate::layers::{on_engine, to_error};
use llmrelay_limits::BudgetDenied;

/// The call's budget reservation, settled by accounting.
#[derive(Clone, Default)]
pub struct BudgetHold(pub Arc<Mutex<Option<Reservation>>>);

impl BudgetHold {
    /// The reservation, once (accounting settles it).
    #[must_use]
    pub fn take(&self) -> Option<Reservation> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Reserves the call's cost against the caller's budgets.
pub struct BudgetReserve {
    engine: Arc<Governance>,
}

impl BudgetReserve {
    #[must_use]
    pub fn new(engine: &Arc<Governance>) -> Self {
        Self {
            engine: Arc::clone(engine),
        }
    }
}

/// `0.0012`, `0.0` (Python's float text, as LiteLLM's headers carry it).
fn money_text(amount: Decimal) -> String {
    let text = amount.normalize().to_string();
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

/// The provider model a model group calls (for pricing the estimate).
pub(crate) fn priced_model(engine: &Governance, model_group: &str) -> Option<(String, String)> {
    let config = engine.config_deployments_snapshot();
    let params = config
        .iter()
        .find(|d| d.model_name == model_group)
        .map(|d| d.litellm_params.clone())
        .or_else(|| {
            engine
                .db_deployments()
                .into_iter()
                .find(|d| d.model_name == model_group)
                .map(|d| d.litellm_params)
        });
    let params = params?;
    let text = |key: &str| params.get(key).and_then(Value::as_str);
    let resolved = llmrelay_core::detect::resolve(
        text("model")?,
        text("custom_llm_provider"),
        text("api_base"),
    )
    .ok()?;
    Some((resolved.model, resolved.provider))
}

/// Whether any budget applies (else the estimate is not needed: the reservation only tracks
/// spend).
fn has_budget(auth: &KeyAuth, end_user: Option<&Record>, model: &str) -> bool {
    key_limits(auth)
        .iter()
        .any(|limit| limit.max_budget.is_some())
        || end_user.is_some_and(|record| {
            record
                .get("litellm_budget_table")
                .and_then(|budget| budget.get("max_budget"))
                .is_some_and(|max| !max.is_null())
        })
        || auth.model_max_budget.contains_key(model)
}

impl BudgetReserve {
    fn estimate(&self, call: &Call) -> Decimal {
        let (model, provider) = priced_model(&self.engine, &call.model_group)
            .unwrap_or_else(|| (call.model_group.clone(), String::new()));
        let body = Value::Object(call.request.to_map());
        let provider = (!provider.is_empty()).then_some(provider.as_str());
        estimate_request(&model, provider, &body).cost
    }

    fn headers(&self, auth: &KeyAuth) -> Vec<(Cow<'static, str>, String)> {
        let mut headers = vec![(
            Cow::Borrowed("x-litellm-key-spend"),
            money_text(self.engine.key_spend(auth)),
        )];
        if let Some(max_budget) = auth.max_budget {
            headers.push((
                Cow::Borrowed("x-litellm-key-max-budget"),
                money_text(max_budget),
            ));
        }
        if let Some(limit) = auth.tpm_limit {
            headers.push((Cow::Borrowed("x-litellm-key-tpm-limit"), limit.to_string()));
        }
        if let Some(limit) = auth.rpm_limit {
            headers.push((Cow::Borrowed("x-litellm-key-rpm-limit"), limit.to_string()));
        }
        headers
    }

    async fn reserve(
        &self,
        call: &mut Call,
        auth: Arc<KeyAuth>,
        end_user: Option<Arc<Record>>,
    ) -> Admission {
        let writer = self.engine.spend_writer();
        if writer.pending() >= self.engine.config().spend.max_pending {
            // The database is behind: wait for room rather than lose a row.
            writer.ready().await;
        }
        let model = call.model_group.clone();
        let estimate = if has_budget(&auth, end_user.as_deref(), &model) {
            self.estimate(call)
        } else {
            Decimal::ZERO
        };
        let reserved = if auth.model_max_budget.contains_key(&model) {
            // A model budget seen for the first time reads the spend log.
            let engine = Arc::clone(&self.engine);
            let worker = Arc::clone(&engine);
            let auth = Arc::clone(&auth);
            on_engine(&engine, async move {
                worker
                    .reserve(&auth, end_user.as_deref(), &model, estimate)
                    .await
            })
            .await
        } else {
            // Without a model budget the reservation reads nothing: it is ready at once.
            match futures::FutureExt::now_or_never(self.engine.reserve(
                &auth,
                end_user.as_deref(),
                &model,
                estimate,
            )) {
                Some(result) => result.map_err(|e| {
                    self.refused(call, &e);
                    to_error(&e)
                }),
                None => Err(llmrelay_core::Error::new(
                    llmrelay_core::ErrorKind::InternalServer,
                    "budget reservation did not complete",
                )),
            }
        };
        let reserved = match reserved {
            Ok(reservation) if !reservation.shared_checks.is_empty() => {
                self.share(call, reservation, estimate).await
            }
            other => other,
        };
        match reserved {
            Ok(reservation) => {
                tracing::trace!(
                    estimate = estimate.to_f64().unwrap_or_default(),
                    "budget reserved"
                );
                call.extensions
                    .insert(BudgetHold(Arc::new(Mutex::new(Some(reservation)))));
                if !auth.is_master_key {
                    ResponseHeaders::add(&mut call.extensions, self.headers(&auth));
                }
                Admission::Continue
            }
            Err(error) => Admission::Reject(with_budget_status(
                error,
                self.engine.config().budget_exceeded_status_code,
            )),
        }
    }
}

/// A `budget_exceeded` refusal answered with `status` (`budget_exceeded_status_code`) rather
/// than the default 422; any other error as it is.
fn with_budget_status(error: llmrelay_core::Error, status: u16) -> llmrelay_core::Error {
    let is_budget = error
        .inner()
        .body
        .as_ref()
        .and_then(|body| body["error"]["type"].as_str())
        == Some("budget_exceeded");
    if !is_budget || status == error.status_code() {
        return error;
    }
    let mut body = error.inner().body.clone().unwrap_or_default();
    body["error"]["code"] = Value::String(status.to_string());
    llmrelay_core::Error::from_upstream(status, error.message().to_owned(), Some(body))
        .with_kind(crate::layers::gateway_kind(status))
        .with_status(status)
}

impl BudgetReserve {
    /// Reserves the estimate in the budgets shared with the other instances (Redis) too.
    async fn share(
        &self,
        call: &Call,
        mut reservation: Reservation,
        estimate: Decimal,
    ) -> Result<Reservation, llmrelay_core::Error> {
        let Some(limiter) = self.engine.ledger.shared() else {
            return Ok(reservation);
        };
        let checks = std::mem::take(&mut reservation.shared_checks);
        match limiter
            .reserve_budget(&checks, crate::budget::nanos(estimate))
            .await
        {
            Ok(permit) => {
                reservation.shared = Some(permit);
                Ok(reservation)
            }
            Err(BudgetDenied::Exceeded {
                entity,
                spend,
                reserved,
                max_budget,
            }) => {
                let money =
                    |nanos: i64| Decimal::from(nanos) / Decimal::from(llmrelay_limits::NANOS);
                let (kind, id) = entity.split_once(':').unwrap_or(("key", entity.as_str()));
                let label = shared_label(kind, id);
                let error = GovernanceError::BudgetExceeded(BudgetExceeded {
                    message: format!(
                        "Budget has been exceeded! {label} Current cost: {}, Reserved: {}, Max budget: {}",
                        money(spend).normalize(),
                        money(reserved).normalize(),
                        money(max_budget).normalize()
                    ),
                    current_cost: money(spend),
                    max_budget: money(max_budget),
                    entity_type: entity_type(kind),
                    entity_id: id.to_owned(),
                });
                self.refused(call, &error);
                Err(to_error(&error))
            }
            Err(BudgetDenied::Unavailable(reason)) => {
                Err(to_error(&GovernanceError::BudgetStoreUnavailable(format!(
                    "Budgets cannot be checked: {reason}, and budgets are fail_closed. Retry shortly."
                ))))
            }
        }
    }
}

impl BudgetReserve {
    /// A call refused for a budget: the budget-level listener hears the entity's spend (as
    /// LiteLLM alerts when it refuses a key over its budget).
    fn refused(&self, call: &Call, error: &GovernanceError) {
        let GovernanceError::BudgetExceeded(exceeded) = error else {
            return;
        };
        let Some(listener) = self.engine.budget_listener() else {
            return;
        };
        let Some(entity) =
            crate::budget::Entity::from_parts(exceeded.entity_type, &exceeded.entity_id)
        else {
            return;
        };
        let level = crate::budget::BudgetLevel {
            entity,
            spend: exceeded.current_cost,
            max_budget: Some(exceeded.max_budget),
            soft_budget: None,
        };
        listener(&crate::layers::account::spend::budget_alert(call, level));
    }
}

/// LiteLLM's wording for an entity in a budget message.
fn shared_label(kind: &str, id: &str) -> String {
    match kind {
        "key" => format!("Key={id}"),
        "user" => format!("User={id}"),
        "team" => format!("Team={id}"),
        "team_member" => format!("Team Member={id}"),
        "organization" => format!("Organization={id}"),
        "end_user" => format!("End User={id}"),
        other => format!("{other}={id}"),
    }
}

fn entity_type(kind: &str) -> &'static str {
    match kind {
        "user" => "user",
        "team" => "team",
        "team_member" => "team_member",
        "organization" => "organization",
        "end_user" => "end_user",
        "model" => "model",
        _ => "key",
    }
}

impl Admit for BudgetReserve {
    fn name(&self) -> &'static str {
        "governance.budget"
    }

    fn stage(&self) -> AdmitStage {
        AdmitStage::Budget
    }

    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        let Some(auth) = call.identity.details.clone() else {
            return Step::Ready(Admission::Continue);
        };
        let Ok(auth) = auth.downcast::<KeyAuth>() else {
            return Step::Ready(Admission::Continue);
        };
        let end_user = call.extensions.get::<EndUser>().map(|e| Arc::clone(&e.0));
        let unlimited = auth.is_master_key || auth.db_unavailable_fallback;
        if unlimited && end_user.is_none() {
            let writer = self.engine.spend_writer();
            if writer.pending() < self.engine.config().spend.max_pending {
                return Step::Ready(Admission::Continue);
            }
            let writer = Arc::clone(writer);
            return Step::wait(async move {
                writer.ready().await;
                Admission::Continue
            });
        }
        Step::wait(self.reserve(call, auth, end_user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_python_floats() {
        assert_eq!(money_text(Decimal::ZERO), "0.0");
        assert_eq!(money_text(Decimal::new(10, 0)), "10.0");
        assert_eq!(money_text("0.0012500".parse().unwrap()), "0.00125");
    }

    #[test]
    fn the_estimate_is_needed_only_under_a_budget() {
        let free = KeyAuth {
            token: "t".into(),
            ..KeyAuth::default()
        };
        assert!(!has_budget(&free, None, "gpt-4o"));
        let capped = KeyAuth {
            max_budget: Some(Decimal::ONE),
            ..free.clone()
        };
        assert!(has_budget(&capped, None, "gpt-4o"));
        let end_user: Record =
            serde_json::from_value(serde_json::json!({"litellm_budget_table": {"max_budget": 1}}))
                .unwrap();
        assert!(has_budget(&free, Some(&end_user), "gpt-4o"));
    }
}
