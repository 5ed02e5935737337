//! With `otel` on: fix the call's span ids before it is routed and send them upstream as a W3C
//! `traceparent` header (every attempt carries it), so the provider's side of the trace hangs
//! under the gateway's span (<https://www.w3.org/TR/trace-context/#traceparent-header>).

use llmrelay_pipeline::{Admission, Admit, AdmitStage, Call, Step};
use serde_json::Value;

use crate::trace_context::{SpanIds, TraceParent, trace_id_of};

pub(crate) struct PropagateTraceContext;

impl Admit for PropagateTraceContext {
    fn name(&self) -> &'static str {
        "trace_context"
    }

    fn stage(&self) -> AdmitStage {
        AdmitStage::Identity
    }

    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        let own = call
            .options
            .other
            .get("litellm_trace_id")
            .and_then(Value::as_str)
            .map_or_else(|| trace_id_of(&call.id), trace_id_of);
        let ids = SpanIds::for_call(call.extensions.get::<TraceParent>(), own);
        let options = &mut call.options;
        options
            .extra_headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("traceparent"));
        options
            .extra_headers
            .push(("traceparent".to_owned(), ids.header()));
        call.extensions.insert(ids);
        Step::Ready(Admission::Continue)
    }
}
