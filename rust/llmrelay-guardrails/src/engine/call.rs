//! One call's guardrails: the hooks the pipeline runs (pre-call, during-call, post-call,
//! logging-only), and what they reported for the logging payload.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use futures::future::join_all;

use llmrelay_core::types::{ChatRequest, ChatResponse};

use crate::config::EventHook;
use crate::error::GuardrailError;
use crate::guardrail::{CallState, Guardrail, HookContext, HookOutcome, StreamContext, StreamMode};
use crate::info::{Findings, GuardrailInformation, GuardrailStatus, epoch_seconds};
use crate::payload::{RequestPayload, RequestRef};

use super::Member;
use super::stream::StreamGuard;

/// The hooks a call plan has, in plan order.
pub(crate) const PHASES: [EventHook; 4] = [
    EventHook::PreCall,
    EventHook::DuringCall,
    EventHook::PostCall,
    EventHook::LoggingOnly,
];

fn phase_index(hook: EventHook) -> Option<usize> {
    PHASES.iter().position(|phase| *phase == hook)
}

/// A guardrail planned for a hook.
#[derive(Clone)]
pub(crate) struct Planned {
    pub name: String,
    pub member: Member,
}

/// How the call goes on after the pre-call guardrails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreCallOutcome {
    /// Call the model with the (possibly masked) request.
    Continue,
    /// Do not call the model: answer with this text (a guardrail chose to respond).
    Respond(String),
}

pub(crate) struct CallInner {
    pub plan: [Vec<Planned>; 4],
    pub state: Arc<CallState>,
    records: Mutex<Vec<GuardrailInformation>>,
    applied: Mutex<Vec<String>>,
    unknown: Vec<String>,
}

/// The guardrails of one call, cheap to clone (the pipeline may hold it in several layers).
#[derive(Clone)]
pub struct GuardrailCall {
    pub(crate) inner: Arc<CallInner>,
}

impl std::fmt::Debug for GuardrailCall {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plan: Vec<Vec<&str>> = self
            .inner
            .plan
            .iter()
            .map(|phase| phase.iter().map(|p| p.name.as_str()).collect())
            .collect();
        formatter
            .debug_struct("GuardrailCall")
            .field("plan", &plan)
            .finish_non_exhaustive()
    }
}

impl GuardrailCall {
    pub(crate) fn new(
        plan: [Vec<Planned>; 4],
        state: Arc<CallState>,
        unknown: Vec<String>,
    ) -> Self {
        Self {
            inner: Arc::new(CallInner {
                plan,
                state,
                records: Mutex::new(Vec::new()),
                applied: Mutex::new(Vec::new()),
                unknown,
            }),
        }
    }

    /// Whether any guardrail runs in this hook.
    #[must_use]
    pub fn runs(&self, hook: EventHook) -> bool {
        phase_index(hook).is_some_and(|index| !self.inner.plan[index].is_empty())
    }

    /// Names planned for a hook, in order.
    #[must_use]
    pub fn planned_names(&self, hook: EventHook) -> Vec<String> {
        phase_index(hook).map_or_else(Vec::new, |index| {
            self.inner.plan[index]
                .iter()
                .map(|p| p.name.clone())
                .collect()
        })
    }

    /// Names the request, key or team asked for that no configured guardrail has (LiteLLM
    /// ignores them; the pipeline may log them).
    #[must_use]
    pub fn unknown_requested(&self) -> &[String] {
        &self.inner.unknown
    }

    /// State shared by this call's guardrails (PII tokens, metadata).
    #[must_use]
    pub fn state(&self) -> &Arc<CallState> {
        &self.inner.state
    }

    pub(crate) fn planned(&self, hook: EventHook) -> &[Planned] {
        phase_index(hook).map_or(&[], |index| &self.inner.plan[index])
    }

    /// Adds a record to `guardrail_information`.
    pub(crate) fn record(
        &self,
        name: &str,
        provider: &str,
        hook: EventHook,
        findings: Findings,
        started: (f64, Instant),
    ) {
        let duration = started.1.elapsed().as_secs_f64();
        let record =
            GuardrailInformation::new(name, provider, hook.as_str(), findings, started.0, duration);
        self.inner
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record);
        let mut applied = self
            .inner
            .applied
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !applied.iter().any(|existing| existing == name) {
            applied.push(name.to_owned());
        }
    }

    /// Records the end of one hook run and passes its result on.
    pub(crate) fn settle(
        &self,
        planned: &Planned,
        hook: EventHook,
        started: (f64, Instant),
        result: Result<HookOutcome, GuardrailError>,
    ) -> Result<HookOutcome, GuardrailError> {
        let provider = planned.member.guardrail.provider().to_owned();
        let result = result.map(|mut outcome| {
            // The findings go to the record; callers only read `respond`.
            let findings = std::mem::take(&mut outcome.findings);
            self.record(&planned.name, &provider, hook, findings, started);
            outcome
        });
        match &result {
            Ok(_) => {}
            Err(GuardrailError::Violation(violation)) => {
                let mut findings = violation.findings.clone();
                if findings.status != GuardrailStatus::GuardrailFlagged {
                    findings.status = GuardrailStatus::GuardrailIntervened;
                }
                self.record(&planned.name, &provider, hook, findings, started);
            }
            Err(GuardrailError::Failure(failure)) => {
                let findings = Findings {
                    status: GuardrailStatus::GuardrailFailedToRespond,
                    response: Some(serde_json::Value::from(failure.message.clone())),
                    ..Findings::default()
                };
                self.record(&planned.name, &provider, hook, findings, started);
            }
        }
        result
    }

    fn context<'a>(
        &'a self,
        planned: &'a Planned,
        hook: EventHook,
        request: Option<&'a ChatRequest>,
    ) -> HookContext<'a> {
        HookContext {
            guardrail_name: &planned.name,
            hook,
            spec: &planned.member.spec,
            call: &self.inner.state,
            request,
        }
    }

    /// Pre-call: each guardrail in order may mask the request in place, refuse it, or answer
    /// instead of the model.
    ///
    /// # Errors
    /// The first refusal or failure; later guardrails do not run.
    pub async fn pre_call(
        &self,
        request: &mut RequestPayload<'_>,
    ) -> Result<PreCallOutcome, GuardrailError> {
        for planned in self.planned(EventHook::PreCall) {
            let started = (epoch_seconds(), Instant::now());
            let context = self.context(planned, EventHook::PreCall, None);
            let result = planned
                .member
                .guardrail
                .check_request(request, context)
                .await;
            let outcome = self.settle(planned, EventHook::PreCall, started, result)?;
            if let Some(text) = outcome.respond {
                return Ok(PreCallOutcome::Respond(text));
            }
        }
        Ok(PreCallOutcome::Continue)
    }

    /// During-call: the guardrails run together on copies of the request (rewrites are dropped),
    /// meant to run beside the upstream call; the pipeline cancels the call on an error.
    ///
    /// # Errors
    /// A refusal or failure (the first in config order when several fail).
    pub async fn during_call(&self, request: RequestRef<'_>) -> Result<(), GuardrailError> {
        let planned = self.planned(EventHook::DuringCall);
        if planned.is_empty() {
            return Ok(());
        }
        let mut copies: Vec<_> = planned.iter().map(|_| request.to_owned_request()).collect();
        let runs = planned
            .iter()
            .zip(copies.iter_mut())
            .map(|(planned, copy)| async move {
                let started = (epoch_seconds(), Instant::now());
                let mut payload = copy.as_payload();
                let context = self.context(planned, EventHook::DuringCall, None);
                let result = planned
                    .member
                    .guardrail
                    .check_request(&mut payload, context)
                    .await;
                self.settle(planned, EventHook::DuringCall, started, result)
            });
        for result in join_all(runs).await {
            result?;
        }
        Ok(())
    }

    /// Post-call on a whole answer: each guardrail in order may mask or rewrite it (PII
    /// placeholders are restored with `output_parse_pii`), or refuse it.
    ///
    /// # Errors
    /// The first refusal or failure.
    pub async fn post_call(
        &self,
        request: Option<&ChatRequest>,
        response: &mut ChatResponse,
    ) -> Result<(), GuardrailError> {
        for planned in self.planned(EventHook::PostCall) {
            let started = (epoch_seconds(), Instant::now());
            let context = self.context(planned, EventHook::PostCall, request);
            let result = planned
                .member
                .guardrail
                .check_response(response, context)
                .await;
            self.settle(planned, EventHook::PostCall, started, result)?;
        }
        Ok(())
    }

    /// Post-call on a streamed answer: a guard the pipeline feeds every chunk to. `None` when no
    /// post-call guardrail runs.
    #[must_use]
    pub fn stream_guard(&self, request: Option<&ChatRequest>) -> Option<StreamGuard> {
        if self.planned(EventHook::PostCall).is_empty() {
            return None;
        }
        Some(StreamGuard::new(self.clone(), request.cloned()))
    }

    /// The post-call guardrails that rewrite a stream themselves ([`StreamMode::Rewrite`]), in
    /// plan order, each with its context: the layer chains their `rewrite_stream` after the
    /// [`StreamGuard`].
    #[must_use]
    pub fn stream_rewriters(
        &self,
        request: Option<&ChatRequest>,
    ) -> Vec<(Arc<dyn Guardrail>, StreamContext)> {
        self.planned(EventHook::PostCall)
            .iter()
            .filter(|planned| {
                let context = self.context(planned, EventHook::PostCall, request);
                matches!(
                    planned.member.guardrail.stream_mode(context),
                    StreamMode::Rewrite
                )
            })
            .map(|planned| {
                let context = StreamContext {
                    guardrail_name: planned.name.clone(),
                    spec: Arc::clone(&planned.member.spec),
                    call: Arc::clone(&self.inner.state),
                    request: request.cloned(),
                };
                (Arc::clone(&planned.member.guardrail), context)
            })
            .collect()
    }

    /// Logging-only on the request copy that goes to logging (masks it; never refuses).
    pub async fn logging_only_request(&self, request: &mut RequestPayload<'_>) {
        for planned in self.planned(EventHook::LoggingOnly) {
            let started = (epoch_seconds(), Instant::now());
            let context = self.context(planned, EventHook::LoggingOnly, None);
            let result = planned
                .member
                .guardrail
                .check_request(request, context)
                .await;
            let _ = self.settle(
                planned,
                EventHook::LoggingOnly,
                started,
                result.map_err(flagged),
            );
        }
    }

    /// Logging-only on the answer copy that goes to logging.
    pub async fn logging_only_response(
        &self,
        request: Option<&ChatRequest>,
        response: &mut ChatResponse,
    ) {
        for planned in self.planned(EventHook::LoggingOnly) {
            let started = (epoch_seconds(), Instant::now());
            let context = self.context(planned, EventHook::LoggingOnly, request);
            let result = planned
                .member
                .guardrail
                .check_response(response, context)
                .await;
            let _ = self.settle(
                planned,
                EventHook::LoggingOnly,
                started,
                result.map_err(flagged),
            );
        }
    }

    /// Records every guardrail planned for `hook` that has not reported yet as
    /// `guardrail_failed_to_respond` (its run was dropped before it decided: a logging-only
    /// guardrail that needed I/O where the logging payload is built).
    pub(crate) fn record_pending(&self, hook: EventHook) {
        let missing: Vec<Planned> = {
            let records = self
                .inner
                .records
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            self.planned(hook)
                .iter()
                .filter(|planned| {
                    !records.iter().any(|record| {
                        record.guardrail_name == planned.name
                            && record.guardrail_mode == hook.as_str()
                    })
                })
                .cloned()
                .collect()
        };
        for planned in missing {
            let findings = Findings {
                status: GuardrailStatus::GuardrailFailedToRespond,
                response: Some(serde_json::Value::from(
                    "did not decide without I/O where the logging payload is built",
                )),
                ..Findings::default()
            };
            let provider = planned.member.guardrail.provider().to_owned();
            self.record(
                &planned.name,
                &provider,
                hook,
                findings,
                (epoch_seconds(), Instant::now()),
            );
        }
    }

    /// `standard_logging_object.guardrail_information`, in the order guardrails ran.
    #[must_use]
    pub fn information(&self) -> Vec<GuardrailInformation> {
        self.inner
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `metadata.applied_guardrails`: names of the guardrails that ran.
    #[must_use]
    pub fn applied_guardrails(&self) -> Vec<String> {
        self.inner
            .applied
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `status_fields.guardrail_status`: the worst status of the call's runs.
    #[must_use]
    pub fn guardrail_status(&self) -> GuardrailStatus {
        self.inner
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .fold(GuardrailStatus::NotRun, |status, record| {
                status.worst(record.guardrail_status)
            })
    }
}

/// Logging-only never refuses: a refusal is recorded as a flag.
fn flagged(error: GuardrailError) -> GuardrailError {
    match error {
        GuardrailError::Violation(mut violation) => {
            violation.findings.status = GuardrailStatus::GuardrailFlagged;
            GuardrailError::Violation(violation)
        }
        failure @ GuardrailError::Failure(_) => failure,
    }
}
