//! Who executes a call once it is admitted: the [`Dispatch`] trait (the Router implements it),
//! and [`Direct`], a call straight to the engine with the call's own retries.

use futures::future::BoxFuture;

use llmrelay_core::Result;
use llmrelay_providers::engine::{Attempt, Engine, retry};

use crate::attempt::{AttemptInfo, Attempts};
use crate::call::Call;
use crate::record::{Dispatched, Route};

/// Executes an admitted call: pick where it goes, try (and retry, and fall back), and tell the
/// per-attempt layers about every attempt.
pub trait Dispatch: Send + Sync {
    fn dispatch<'a>(
        &'a self,
        call: &'a Call,
        attempts: Attempts<'a>,
    ) -> BoxFuture<'a, Result<Dispatched>>;
}

/// A call without a Router: the model the caller named, `num_retries` retries of retryable
/// failures with backoff.
#[derive(Debug, Clone, Copy, Default)]
pub struct Direct;

impl Dispatch for Direct {
    fn dispatch<'a>(
        &'a self,
        call: &'a Call,
        attempts: Attempts<'a>,
    ) -> BoxFuture<'a, Result<Dispatched>> {
        Box::pin(async move {
            let model = call.request.model();
            let attempt = Attempt {
                request: &call.request,
                model,
                options: &call.options,
                images: &call.images,
                body_defaults: None,
            };
            let (mut outcome, retries) = retry::with_retries(call.options.num_retries, |retry| {
                let attempt = &attempt;
                async move {
                    if attempts.is_empty() {
                        return Engine.attempt(attempt).await;
                    }
                    let info = AttemptInfo {
                        index: retry,
                        retry,
                        fallback: 0,
                        model_group: &call.model_group,
                        deployment_id: call.options.model_id.as_deref(),
                        model,
                    };
                    attempts.before(&info).await?;
                    let result = Engine.attempt(attempt).await;
                    attempts.after(&info, result.as_ref());
                    result
                }
            })
            .await?;
            outcome.hidden_mut().num_retries = retries;
            Ok(Dispatched {
                outcome,
                route: Route {
                    model_group: String::new(),
                    deployment_id: None,
                    retries,
                    fallbacks: 0,
                    attempts: retries + 1,
                },
            })
        })
    }
}
