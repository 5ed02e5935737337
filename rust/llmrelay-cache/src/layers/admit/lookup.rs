//! The lookup: key the call, and answer it from the cache when an entry is there and fresh
//! (a memory lookup answers without awaiting).

use std::sync::Arc;

use llmrelay_pipeline::{Admission, Admit, AdmitStage, Call, Step};
use llmrelay_providers::engine::Request;

use crate::config::CacheMode;
use crate::controls::Controls;
use crate::entry::{Entry, StoredKind};
use crate::layers::Pending;
use crate::{Cache, key};

/// Answers calls from the cache.
pub struct CacheLookup(pub Cache);

/// What a call expects back, and whether it streams (text streams are not cached).
fn expected(request: &Request) -> Option<(StoredKind, bool, bool)> {
    match request {
        Request::Chat(chat) => Some((StoredKind::Chat, chat.stream, chat.include_usage())),
        Request::Text(text) if !text.stream => Some((StoredKind::Text, false, false)),
        Request::Embedding(_) => Some((StoredKind::Embedding, false, false)),
        _ => None,
    }
}

fn serve(cache: &Cache, entry: &Entry, call: &Call, controls: &Controls, key: &str) -> Admission {
    let Some((kind, stream, include_usage)) = expected(&call.request) else {
        return Admission::Continue;
    };
    if !Cache::fresh(entry, controls) {
        cache.count_miss();
        return Admission::Continue;
    }
    match entry.serve(kind, stream, include_usage, key) {
        Some(outcome) => {
            cache.count_hit();
            Admission::CacheHit(outcome)
        }
        None => {
            cache.count_miss();
            Admission::Continue
        }
    }
}

impl Admit for CacheLookup {
    fn name(&self) -> &'static str {
        "response_cache"
    }

    fn stage(&self) -> AdmitStage {
        AdmitStage::Cache
    }

    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        let cache = &self.0;
        let params = cache.params();
        let Some((kind, _, _)) = expected(&call.request) else {
            return Step::Ready(Admission::Continue);
        };
        if !params.supports(call.call_type()) {
            return Step::Ready(Admission::Continue);
        }
        let controls = Controls::of(call);
        let enabled = params.mode == CacheMode::DefaultOn || controls.use_cache;
        let lookup = enabled && controls.caching != Some(false) && !controls.no_cache;
        let several = match &call.request {
            Request::Chat(chat) => chat.n.is_some_and(|n| n > 1),
            _ => false,
        };
        let store = enabled && !controls.no_store && !several;
        if !lookup && !store {
            return Step::Ready(Admission::Continue);
        }
        let Some(key) = key::cache_key(call, &controls, params.namespace.as_deref()) else {
            return Step::Ready(Admission::Continue);
        };
        let key: Arc<str> = Arc::from(key);
        call.extensions.insert(Pending {
            key: Arc::clone(&key),
            kind,
            store,
            ttl: cache.ttl_for(&controls),
        });
        if !lookup {
            return Step::Ready(Admission::Continue);
        }
        if let Some(memory) = cache.memory() {
            return Step::Ready(match memory.get(&key) {
                Some(entry) => serve(cache, &entry, call, &controls, &key),
                None => {
                    cache.count_miss();
                    Admission::Continue
                }
            });
        }
        cache.note_runtime();
        Step::wait(async move {
            match cache.get(&key).await {
                Ok(Some(entry)) => serve(cache, &entry, call, &controls, &key),
                Ok(None) => {
                    cache.count_miss();
                    Admission::Continue
                }
                Err(error) => {
                    cache.count_error(&error);
                    Admission::Continue
                }
            }
        })
    }
}
