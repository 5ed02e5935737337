//! Settles the rate-limit reservation of every call: the real token usage replaces the
//! estimate, the parallel slots are freed, and a call that never went upstream (refused by a
//! later stage) gives its whole reservation back.

use llmrelay_pipeline::{Account, Call, CallRecord, Status};

use crate::layers::admit::limits::LimitHold;

/// Settles [`LimitHold`]s.
#[derive(Debug, Default)]
pub struct LimitSettle;

impl Account for LimitSettle {
    fn name(&self) -> &'static str {
        "governance.limits"
    }

    fn account(&self, call: &Call, record: &CallRecord) {
        let Some(hold) = call.extensions.get::<LimitHold>() else {
            return;
        };
        let Some(permit) = hold.take() else {
            return;
        };
        let never_sent = record.status != Status::Success && !hold.sent() && !record.cache_hit;
        if never_sent {
            permit.rollback();
            return;
        }
        let tokens = record.usage.as_ref().map(|usage| {
            if usage.total_tokens > 0 {
                usage.total_tokens
            } else {
                usage.prompt_tokens + usage.completion_tokens
            }
        });
        // A call that failed upstream with no usage used no tokens.
        let tokens = tokens.or((record.status != Status::Success).then_some(0));
        permit.settle(tokens);
    }
}
