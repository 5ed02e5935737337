//! The lookup: key the call, and answer it from the cache when an entry is there and fresh
//! (a memory lookup answers without awaiting).

use std::sync::Arc;

use llmrelay_pipeline::{Admission, Admit, AdmitStage, Call, ResponseHeaders, Step};
use llmrelay_providers::engine::Request;

use crate::coalesce::Role;
use crate::config::CacheMode;
use crate::controls::Controls;
use crate::entry::{Entry, StoredKind};
use crate::layers::Pending;
use crate::{Cache, key};

/// Answers calls from the cache.
pub struct CacheLookup(pub Cache);

/// What a call expects back, whether it streams, and whether a stream ends with usage.
fn expected(request: &Request) -> Option<(StoredKind, bool, bool)> {
    match request {
        Request::Chat(chat) => Some((StoredKind::Chat, chat.stream, chat.include_usage())),
        Request::Text(text) => Some((StoredKind::Text, text.stream, text.include_usage())),
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
            Request::Text(text) => text.n.is_some_and(|n| n > 1),
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
        if cache.semantic().is_some() {
            return semantic_lookup(cache, call, controls, key, lookup, store);
        }
        if !lookup {
            return Step::Ready(Admission::Continue);
        }
        if let Some(memory) = cache.memory() {
            if let Some(entry) = memory.get(&key) {
                return Step::Ready(serve(cache, &entry, call, &controls, &key));
            }
        }
        if cache.memory_only() {
            cache.count_miss();
            return match coalesce(cache, call, &key, store) {
                None => Step::Ready(Admission::Continue),
                Some(receiver) => {
                    Step::wait(async move { waited(cache, call, &controls, &key, receiver).await })
                }
            };
        }
        cache.note_runtime();
        Step::wait(async move {
            match cache.get(&key).await {
                Ok(Some(entry)) => return serve(cache, &entry, call, &controls, &key),
                Ok(None) => cache.count_miss(),
                Err(error) => {
                    cache.count_error(&error);
                    return Admission::Continue;
                }
            }
            match coalesce(cache, call, &key, store) {
                None => Admission::Continue,
                Some(receiver) => waited(cache, call, &controls, &key, receiver).await,
            }
        })
    }
}

/// LiteLLM's `metadata["semantic-similarity"]` of a semantic lookup (0.0 on a miss), and the
/// proxy's `x-litellm-semantic-similarity` header with it (Python's `str` of the number).
fn note_similarity(call: &mut Call, similarity: f32) {
    let value = f64::from(similarity);
    let text = if value.fract() == 0.0 {
        format!("{value:.1}")
    } else {
        value.to_string()
    };
    ResponseHeaders::add(
        &mut call.extensions,
        [(
            std::borrow::Cow::Borrowed("x-litellm-semantic-similarity"),
            text,
        )],
    );
    let metadata = call
        .options
        .metadata
        .get_or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if let Some(metadata) = metadata.as_object_mut() {
        metadata.insert(
            "semantic-similarity".to_owned(),
            serde_json::Value::from(f64::from(similarity)),
        );
    }
}

/// A semantic cache's lookup: the same call again is found by its exact key without
/// embedding anything (in this process at once, in Qdrant by its point); otherwise the
/// prompt is embedded (a local model on the blocking pool, a remote one through its
/// dispatcher, while a shared index catches up) and the most similar answer in the call's
/// scope is served when it reaches the threshold. A call without prompt text is neither
/// looked up nor stored, as in LiteLLM.
fn semantic_lookup<'a>(
    cache: &'a Cache,
    call: &'a mut Call,
    controls: Controls,
    key: Arc<str>,
    lookup: bool,
    store: bool,
) -> Step<'a, Admission> {
    let pending = cache.semantic_pending(call, &controls);
    let Some(mut pending) = pending else {
        call.extensions.remove::<Pending>();
        return Step::Ready(Admission::Continue);
    };
    let Some(semantic) = cache.semantic() else {
        return Step::Ready(Admission::Continue);
    };
    if !lookup {
        call.extensions.insert(pending);
        return Step::Ready(Admission::Continue);
    }
    if let Some(entry) = semantic.get(&key) {
        call.extensions.insert(pending);
        note_similarity(call, 1.0);
        return Step::Ready(serve(cache, &entry, call, &controls, &key));
    }
    cache.note_runtime();
    Step::wait(async move {
        // A shared (redis-semantic) index reads what other instances stored meanwhile; a
        // Qdrant collection is asked for the exact key's point before anything is embedded.
        match semantic
            .find(&key, &pending.scope, Arc::clone(&pending.prompt))
            .await
        {
            Ok(found) => {
                if let Some(error) = &found.warning {
                    cache.count_error(error);
                }
                let hit = found.hit;
                pending.vector = found.vector;
                call.extensions.insert(pending);
                if let Some(hit) = hit {
                    note_similarity(call, hit.similarity);
                    return serve(cache, &hit.entry, call, &controls, &key);
                }
                note_similarity(call, 0.0);
                cache.count_miss();
            }
            Err(error) => {
                call.extensions.insert(pending);
                cache.count_error(&error);
                return Admission::Continue;
            }
        }
        match coalesce(cache, call, &key, store) {
            None => Admission::Continue,
            Some(receiver) => waited(cache, call, &controls, &key, receiver).await,
        }
    })
}

type Receiver = tokio::sync::watch::Receiver<Option<Option<Arc<Entry>>>>;

/// On a miss that will be stored: lead it (the store layer hands the answer over), or get
/// the channel of the call that leads it.
fn coalesce(cache: &Cache, call: &mut Call, key: &Arc<str>, store: bool) -> Option<Receiver> {
    if !store {
        return None;
    }
    match cache.in_flight().join(key) {
        Role::Leader(leader) => {
            call.extensions.insert(Arc::new(leader));
            None
        }
        Role::Waiter(receiver) => Some(receiver),
    }
}

/// Wait for the leader's answer; without one, go upstream.
async fn waited(
    cache: &Cache,
    call: &Call,
    controls: &Controls,
    key: &str,
    receiver: Receiver,
) -> Admission {
    match crate::coalesce::wait(receiver).await {
        Some(entry) => serve(cache, &entry, call, controls, key),
        None => Admission::Continue,
    }
}
