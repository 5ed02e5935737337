//! The cache's pipeline layers: the lookup (admit, stage `Cache`) and the store (account).

pub mod account;
pub mod admit;

use std::sync::Arc;

use llmrelay_pipeline::Layers;

use crate::Cache;

/// What the lookup decided for a call, read by the store when the call is over.
#[derive(Debug, Clone)]
pub struct Pending {
    pub key: Arc<str>,
    pub kind: crate::StoredKind,
    /// Whether the answer may be stored (not `no-store`, `n` ≤ 1, the mode allows it).
    pub store: bool,
    pub ttl: Option<std::time::Duration>,
}

/// The lookup and store layers of `cache`.
#[must_use]
pub fn layers(cache: &Cache) -> Layers {
    let mut layers = Layers::new();
    layers
        .admit(Arc::new(admit::lookup::CacheLookup(cache.clone())))
        .account(Arc::new(account::store::CacheStore(cache.clone())));
    layers
}
