//! The one account layer of observability: it builds the call's [`Event`] once (the pipeline's
//! logging payload, redacted as configured, with the caller's trace context) and pushes it to
//! each integration's delivery queue without waiting. The request log gets a small line made
//! from the call and its record instead: with the request log alone no payload is built. A
//! full queue drops and counts.

use std::sync::Arc;

use llmrelay_pipeline::{Account, Call, CallRecord, Status};

use crate::event::{Event, Redaction};
use crate::integrations::request_log::RequestLine;
use crate::layers::{LineRoute, Route};
use crate::trace_context::{SpanIds, TraceParent};

pub(crate) struct Integrations {
    pub routes: Vec<Route>,
    pub lines: Option<LineRoute>,
    pub redaction: Redaction,
    pub wants_response: bool,
}

impl Account for Integrations {
    fn name(&self) -> &'static str {
        "observe"
    }

    fn wants_response(&self) -> bool {
        self.wants_response
    }

    fn account(&self, call: &Call, record: &CallRecord) {
        // A caller that went away is logged with what it used, as a success (LiteLLM logs
        // the partial stream).
        let failed = record.status == Status::Failure;
        if let Some(lines) = &self.lines
            && (failed || !lines.failures_only)
        {
            lines
                .queue
                .push(RequestLine::new(call, record, lines.redact_key_info));
        }
        let mut event: Option<Arc<Event>> = None;
        for route in &self.routes {
            let wanted = if failed {
                route.on_failure
            } else {
                route.on_success
            };
            if !wanted {
                continue;
            }
            let event = event.get_or_insert_with(|| {
                Arc::new(Event {
                    payload: self.redaction.apply(record.payload(call)),
                    trace_parent: call.extensions.get::<TraceParent>().copied(),
                    span: call.extensions.get::<SpanIds>().copied(),
                })
            });
            route.queue.push(Arc::clone(event));
        }
    }
}
