//! The store: a call's successful answer (a stream's once it completed) goes into the cache
//! under the key the lookup made; failures, cut-off streams and cache hits are not stored.

use std::sync::Arc;

use llmrelay_pipeline::{Account, Call, CallRecord, Status};

use crate::coalesce::Leader;

use crate::Cache;
use crate::entry::{Entry, Stored};
use crate::layers::Pending;
use crate::semantic::SemanticPending;

/// Stores answers in the cache.
pub struct CacheStore(pub Cache);

impl Account for CacheStore {
    fn name(&self) -> &'static str {
        "response_cache"
    }

    fn wants_response(&self) -> bool {
        true
    }

    fn account(&self, call: &Call, record: &CallRecord) {
        let stored = self.store(call, record);
        if let Some(leader) = call.extensions.get::<Arc<Leader>>() {
            self.0.in_flight().finish(leader, stored);
        }
    }
}

impl CacheStore {
    /// Store the call's answer when it may be; the entry stored.
    fn store(&self, call: &Call, record: &CallRecord) -> Option<Arc<Entry>> {
        if record.status != Status::Success || record.cache_hit {
            return None;
        }
        let pending = call.extensions.get::<Pending>()?;
        if !pending.store {
            return None;
        }
        let answer = record
            .response
            .as_ref()
            .and_then(|response| Stored::from_json(pending.kind, response))?;
        let (provider, model) = record.hidden.as_ref().map_or_else(Default::default, |h| {
            (h.custom_llm_provider.clone(), h.model.clone())
        });
        let entry = Entry {
            timestamp: record
                .end_time
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64(),
            provider,
            model,
            answer,
        };
        let entry = Arc::new(entry);
        if self.0.semantic().is_some() {
            let semantic = call.extensions.get::<SemanticPending>()?;
            self.0.put_semantic(
                semantic,
                pending.key.to_string(),
                Arc::clone(&entry),
                pending.ttl,
            );
            return Some(entry);
        }
        self.0
            .put(pending.key.to_string(), Arc::clone(&entry), pending.ttl);
        Some(entry)
    }
}
