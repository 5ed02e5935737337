//! The governance engine the proxy holds: identity (verified-key cache), model access, budget
//! reservations, the spend writer, the change feed and the background jobs (migrations retried
//! while the database is down, invalidation polling, budget resets).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::access::{self, AccessGroups};
use crate::budget::{Entity, Ledger, Limit, Reservation, key_limits};
use crate::cache::{BoundedCache, Lookup, invalidate};
use crate::crypto::SecretCipher;
use crate::db::{Db, Record, is_postgres_url};
use crate::error::GovernanceError;
use crate::identity::{KeyAuth, amount, text, time};
use crate::keys::{hash_key, load_key_rows};
use crate::models::ModelDeployment;
use crate::spend::SpendRow;
use crate::spend_writer::{SpendSink, SpendWriter, SpendWriterConfig};
use crate::store::SqlStore;
use crate::time::{Clock, SystemClock, format_time};

/// llmrelay's `general_settings` key for how long audit rows are kept (LiteLLM has none).
pub const AUDIT_RETENTION_SETTING: &str = "maximum_audit_logs_retention_period";

/// Settings of the engine (from `general_settings` and the environment).
#[derive(Debug, Clone)]
pub struct GovernanceConfig {
    /// `sqlite://…` (default: `llmrelay.db` next to the config) or `postgresql://…`.
    pub database_url: String,
    /// The proxy's master key: the management API treats it as proxy admin.
    pub master_key: Option<String>,
    /// LiteLLM's `allow_requests_on_db_unavailable`.
    pub allow_requests_on_db_unavailable: bool,
    /// LiteLLM's `user_api_key_cache_max_size`.
    pub key_cache_max_size: usize,
    /// How long a verified key is served from memory before it is read again.
    pub key_cache_ttl: Duration,
    /// How often every instance polls the change feed (invalidation within this interval).
    pub change_poll_interval: Duration,
    /// `LITELLM_SALT_KEY` (falls back to the master key, as LiteLLM does).
    pub salt_key: Option<String>,
    pub spend: SpendWriterConfig,
    pub max_connections: u32,
    /// `store_model_in_db`.
    pub store_model_in_db: bool,
    /// The audit log (`store_audit_logs`, retention).
    pub audit: crate::audit::AuditSettings,
    /// LiteLLM's `budget_exceeded_status_code`: the status of a call refused for its budget.
    pub budget_exceeded_status_code: u16,
}

impl GovernanceConfig {
    /// The configuration for a database URL, with defaults for everything else.
    #[must_use]
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            master_key: None,
            allow_requests_on_db_unavailable: false,
            key_cache_max_size: 100_000,
            key_cache_ttl: Duration::from_secs(60),
            change_poll_interval: Duration::from_millis(500),
            salt_key: None,
            spend: SpendWriterConfig::default(),
            max_connections: 10,
            store_model_in_db: false,
            audit: crate::audit::AuditSettings::default(),
            budget_exceeded_status_code: 422,
        }
    }

    /// Reads LiteLLM's settings: `DATABASE_URL` or `general_settings.database_url` (else a
    /// SQLite file next to the config), `master_key`, `allow_requests_on_db_unavailable`,
    /// `user_api_key_cache_max_size`, `database_connection_pool_limit`, `store_model_in_db`,
    /// `LITELLM_SALT_KEY`. The spend write-ahead files go in `<config dir>/llmrelay-spend-wal`.
    #[must_use]
    pub fn from_settings(general_settings: &Value, config_directory: &Path) -> Self {
        let setting = |name: &str| general_settings.get(name);
        let database_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .or_else(|| {
                setting("database_url")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| {
                format!(
                    "sqlite://{}",
                    config_directory.join("llmrelay.db").display()
                )
            });
        let mut config = Self::new(database_url);
        config.master_key = setting("master_key")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| std::env::var("LITELLM_MASTER_KEY").ok());
        config.allow_requests_on_db_unavailable = setting("allow_requests_on_db_unavailable")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if let Some(size) = setting("user_api_key_cache_max_size").and_then(Value::as_u64) {
            config.key_cache_max_size = usize::try_from(size).unwrap_or(usize::MAX);
        }
        if let Some(limit) = setting("database_connection_pool_limit").and_then(Value::as_u64) {
            config.max_connections = u32::try_from(limit).unwrap_or(u32::MAX);
        }
        config.store_model_in_db = setting("store_model_in_db")
            .and_then(Value::as_bool)
            .unwrap_or_else(|| {
                std::env::var("STORE_MODEL_IN_DB").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
            });
        config.salt_key = std::env::var("LITELLM_SALT_KEY")
            .ok()
            .filter(|s| !s.is_empty());
        config.spend.wal_directory = Some(config_directory.join("llmrelay-spend-wal"));
        config.audit.retention = setting(AUDIT_RETENTION_SETTING)
            .and_then(Value::as_str)
            .and_then(|text| crate::audit::parse_period(text).ok());
        config
    }

    #[must_use]
    pub fn is_postgres(&self) -> bool {
        is_postgres_url(&self.database_url)
    }
}

/// A DB deployment changed (`/model/new|update|delete` on any instance).
#[derive(Debug, Clone, PartialEq)]
pub enum ModelChange {
    /// Added or updated: the stored row (`model_id`, `model_name`, `litellm_params` with
    /// credentials decrypted, `model_info`).
    Upsert(Record),
    Delete(String),
}

type ModelListener = Arc<dyn Fn(ModelChange) + Send + Sync>;
type CredentialListener = Arc<dyn Fn(&str) + Send + Sync>;
type BudgetListener = Arc<dyn Fn(&crate::budget::BudgetAlert) + Send + Sync>;

/// The engine.
pub struct Governance {
    pub(crate) store: Arc<SqlStore>,
    pub(crate) keys: BoundedCache<KeyAuth>,
    pub(crate) end_users: BoundedCache<Record>,
    /// End users looked up and not found (so a request's `user` costs one read per TTL).
    pub(crate) unknown_end_users: BoundedCache<()>,
    pub(crate) ledger: Arc<Ledger>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: GovernanceConfig,
    pub(crate) spend: Arc<SpendWriter>,
    pub(crate) audit: crate::audit::AuditLog,
    pub(crate) master_key_hash: Option<String>,
    model_listeners: Mutex<Vec<ModelListener>>,
    credential_listeners: Mutex<Vec<CredentialListener>>,
    /// Told about budgets near or over their limit after each call (alerting).
    budget_listener: std::sync::OnceLock<BudgetListener>,
    /// Access groups of the config deployments and the DB deployments together.
    pub(crate) access_groups: Mutex<Arc<AccessGroups>>,
    /// Config deployments' access groups, set by the proxy.
    pub(crate) config_access_groups: Mutex<Arc<AccessGroups>>,
    /// The proxy's config deployments (`set_config_deployments`).
    pub(crate) config_deployments: Mutex<Arc<Vec<ModelDeployment>>>,
    /// The DB deployments by id, decrypted, kept current by the change feed.
    pub(crate) db_models: Mutex<Arc<BTreeMap<String, ModelDeployment>>>,
    /// Decrypted credentials by name, loaded on first use, dropped on a change.
    pub(crate) credentials:
        Mutex<std::collections::HashMap<String, Arc<crate::credentials::Credential>>>,
    /// Ids of changes this instance made and applied already (the poll skips them).
    applied_locally: Mutex<BTreeSet<i64>>,
    /// Model group names of the proxy's config (for `/key/info` effective models).
    pub(crate) config_models: Mutex<Arc<Vec<String>>>,
    migrated: tokio::sync::watch::Sender<bool>,
    /// Serializes migration runs (start-up and the background retry).
    migrating: tokio::sync::Mutex<()>,
    /// The runtime the engine was opened on (its pool and background jobs live there).
    runtime: tokio::runtime::Handle,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for Governance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governance").finish_non_exhaustive()
    }
}

impl Governance {
    /// Opens the database (lazily: a database that is down does not stop the start), applies
    /// migrations (retried in the background until they succeed), replays spend rows left by a
    /// previous run and starts the background jobs.
    ///
    /// # Errors
    /// An invalid database URL or write-ahead folder; a migration that fails for another
    /// reason than the database being unreachable.
    pub async fn open(config: GovernanceConfig) -> Result<Arc<Self>, GovernanceError> {
        Self::open_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Self::open`] with a clock (tests drive budget resets with it).
    ///
    /// # Errors
    /// As [`Self::open`].
    pub async fn open_with_clock(
        config: GovernanceConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, GovernanceError> {
        let db = Db::connect_lazy(&config.database_url, config.max_connections)?;
        let store = Arc::new(SqlStore::new(db));
        let migrated = match store.db().migrate().await {
            Ok(()) => true,
            Err(error) if is_unreachable(&error) => {
                tracing::warn!(%error, "database unavailable at start; serving cached keys only until it is back");
                false
            }
            Err(error) => return Err(error),
        };
        Self::build(config, clock, store, migrated)
    }

    /// Opens the engine without waiting for the database: migrations are applied by
    /// [`Self::ensure_migrated`] (the proxy calls it before it listens) or by the background
    /// job. Must be called inside a tokio runtime (the background jobs are spawned on it).
    ///
    /// # Errors
    /// An invalid database URL or write-ahead folder.
    pub fn open_deferred(config: GovernanceConfig) -> Result<Arc<Self>, GovernanceError> {
        let db = Db::connect_lazy(&config.database_url, config.max_connections)?;
        let store = Arc::new(SqlStore::new(db));
        Self::build(config, Arc::new(SystemClock), store, false)
    }

    fn build(
        config: GovernanceConfig,
        clock: Arc<dyn Clock>,
        store: Arc<SqlStore>,
        migrated: bool,
    ) -> Result<Arc<Self>, GovernanceError> {
        let ledger = Ledger::new(Arc::clone(&clock));
        let spend = SpendWriter::start(
            config.spend.clone(),
            SpendSink::new(Arc::clone(&store), Arc::clone(&ledger)),
        )?;
        let (migrated_sender, _) = tokio::sync::watch::channel(migrated);
        let audit = crate::audit::AuditLog::start(
            config.audit.clone(),
            Arc::clone(&store),
            Arc::clone(&clock),
        );
        let engine = Arc::new(Self {
            audit,
            keys: BoundedCache::new(config.key_cache_max_size, config.key_cache_ttl),
            end_users: BoundedCache::new(config.key_cache_max_size, config.key_cache_ttl),
            unknown_end_users: BoundedCache::new(config.key_cache_max_size, config.key_cache_ttl),
            master_key_hash: config.master_key.as_deref().map(hash_key),
            store,
            ledger,
            clock,
            spend,
            config,
            model_listeners: Mutex::new(Vec::new()),
            credential_listeners: Mutex::new(Vec::new()),
            budget_listener: std::sync::OnceLock::new(),
            access_groups: Mutex::new(Arc::new(AccessGroups::new())),
            config_access_groups: Mutex::new(Arc::new(AccessGroups::new())),
            config_deployments: Mutex::new(Arc::new(Vec::new())),
            db_models: Mutex::new(Arc::new(BTreeMap::new())),
            credentials: Mutex::new(std::collections::HashMap::new()),
            applied_locally: Mutex::new(BTreeSet::new()),
            config_models: Mutex::new(Arc::new(Vec::new())),
            migrated: migrated_sender,
            migrating: tokio::sync::Mutex::new(()),
            runtime: tokio::runtime::Handle::current(),
            tasks: Mutex::new(Vec::new()),
        });
        engine.spawn_background();
        Ok(engine)
    }

    /// Applies the migrations now unless they were applied already.
    ///
    /// # Errors
    /// [`GovernanceError::DatabaseUnavailable`] when the database cannot be reached (the
    /// background job keeps retrying), or the migration's own error.
    pub async fn ensure_migrated(&self) -> Result<(), GovernanceError> {
        let _running = self.migrating.lock().await;
        if *self.migrated.borrow() {
            return Ok(());
        }
        match self.store.db().migrate().await {
            Ok(()) => {
                self.migrated.send_replace(true);
                Ok(())
            }
            Err(error) if is_unreachable(&error) => {
                Err(GovernanceError::DatabaseUnavailable(error.to_string()))
            }
            Err(error) => Err(error),
        }
    }

    /// The runtime the engine was opened on: database work of callers on other runtimes
    /// (the proxy's per-core workers) is run there.
    #[must_use]
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// FOCUS charges of the spend rows that started in `[start, end)` (see [`crate::focus`]).
    ///
    /// # Errors
    /// Database errors.
    pub async fn focus_window(
        &self,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<crate::focus::Charge>, GovernanceError> {
        crate::focus::window_charges(&self.store, start, end).await
    }

    fn spawn_background(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let poll = self.config.change_poll_interval;
        let task = tokio::spawn(async move {
            let mut feed = FeedCursor::default();
            let mut last_reset = std::time::Instant::now() - Duration::from_secs(3600);
            let mut last_prune = std::time::Instant::now();
            loop {
                let Some(engine) = weak.upgrade() else { return };
                if !*engine.migrated.borrow() {
                    match engine.ensure_migrated().await {
                        Ok(()) => tracing::info!("database reachable; migrations applied"),
                        Err(error) => tracing::debug!(%error, "database still unavailable"),
                    }
                }
                if *engine.migrated.borrow() {
                    engine.poll_changes(&mut feed).await;
                    if last_reset.elapsed() >= Duration::from_secs(10) {
                        last_reset = std::time::Instant::now();
                        if let Err(error) = engine.reset_budgets().await {
                            tracing::debug!(%error, "budget reset job failed");
                        }
                    }
                    if last_prune.elapsed() >= Duration::from_secs(600) {
                        last_prune = std::time::Instant::now();
                        let before =
                            crate::time::to_millis(engine.clock.now() - chrono::Duration::hours(1));
                        let _ = engine.store.prune_changes(before).await;
                    }
                }
                drop(engine);
                tokio::time::sleep(poll).await;
            }
        });
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(task);
    }

    /// One poll of the change feed. The first poll starts at the newest change and loads the
    /// DB deployments; later polls apply what came after. PostgreSQL hands out `BIGSERIAL`
    /// ids before commit, so a change can become visible after a higher id: ids skipped over
    /// are re-read for a few seconds (a rolled-back insert leaves a gap that never fills).
    async fn poll_changes(&self, feed: &mut FeedCursor) {
        let Some(last) = feed.last else {
            match self.store.latest_change().await {
                Ok(latest) => {
                    feed.last = Some(latest);
                    if let Err(error) = self.load_db_models().await {
                        tracing::warn!(%error, "could not load the DB deployments");
                        feed.models_pending = true;
                    }
                }
                Err(error) => tracing::debug!(%error, "change feed unavailable"),
            }
            return;
        };
        if feed.models_pending && self.load_db_models().await.is_ok() {
            feed.models_pending = false;
        }
        feed.gaps.retain(|_, seen| seen.elapsed() < FEED_GAP_WAIT);
        let floor = feed
            .gaps
            .keys()
            .next()
            .map_or(last, |first_gap| (first_gap - 1).min(last));
        let changes = match self.store.changes_since(floor).await {
            Ok(changes) => changes,
            Err(error) => {
                tracing::debug!(%error, "change feed poll failed");
                return;
            }
        };
        let mut newest = last;
        for (id, kind, object_id) in changes {
            if id <= newest && feed.gaps.remove(&id).is_none() {
                continue;
            }
            if id > newest {
                for missing in (newest + 1)..id {
                    if feed.gaps.len() < FEED_MAX_GAPS {
                        feed.gaps.insert(missing, std::time::Instant::now());
                    }
                }
                newest = id;
            }
            let already = self
                .applied_locally
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
            if !already {
                self.apply_change(&kind, &object_id).await;
            }
        }
        feed.last = Some(newest);
        // Every id up to `newest` that is not a gap has been read: forget local ones.
        self.applied_locally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|id| *id > newest || feed.gaps.contains_key(id));
    }

    /// Applies one change of the feed (from this or another instance).
    pub(crate) async fn apply_change(&self, kind: &str, object_id: &str) {
        invalidate(&self.keys, kind, object_id);
        match kind {
            "end_user" => {
                self.end_users.remove(object_id);
                self.unknown_end_users.remove(object_id);
            }
            "budget" | "all" => {
                self.end_users.clear();
                self.unknown_end_users.clear();
            }
            "model" => self.apply_model_change(object_id).await,
            "credential" => self.apply_credential_change(object_id),
            _ => {}
        }
    }

    pub(crate) fn notify_model_listeners(&self, change: &ModelChange) {
        let listeners = self
            .model_listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for listener in listeners {
            listener(change.clone());
        }
    }

    pub(crate) fn notify_credential_listeners(&self, credential_name: &str) {
        let listeners = self
            .credential_listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for listener in listeners {
            listener(credential_name);
        }
    }

    /// Records a change and applies it here at once (other instances see it on their next poll).
    pub(crate) async fn changed(&self, kind: &str, object_id: &str) -> Result<(), GovernanceError> {
        let id = self.store.append_change(kind, object_id).await?;
        self.applied_locally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id);
        self.apply_change(kind, object_id).await;
        Ok(())
    }

    /// The cipher for stored credentials and DB deployments: `LITELLM_SALT_KEY`, else the
    /// master key (as LiteLLM).
    ///
    /// # Errors
    /// Neither is set.
    pub fn cipher(&self) -> Result<SecretCipher, GovernanceError> {
        self.config
            .salt_key
            .as_deref()
            .or(self.config.master_key.as_deref())
            .filter(|key| !key.is_empty())
            .map(SecretCipher::new)
            .ok_or_else(|| {
                GovernanceError::Config(
                    "Set LITELLM_SALT_KEY (or a master key) to store credentials and models in the database".to_owned(),
                )
            })
    }

    /// The store (for tools such as `import-litellm`).
    #[must_use]
    pub fn store(&self) -> &Arc<SqlStore> {
        &self.store
    }

    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Whether `presented_key` is the master key (constant-time over the digests).
    #[must_use]
    pub fn is_master_key(&self, presented_key: &str) -> bool {
        use subtle_compare::equal;
        self.master_key_hash
            .as_deref()
            .is_some_and(|hash| equal(hash.as_bytes(), hash_key(presented_key).as_bytes()))
    }

    /// Verifies a virtual key: from memory when it was verified recently (invalidated within
    /// the poll interval of a change on any instance), else from the database. A cached key
    /// keeps working while the database is down.
    ///
    /// # Errors
    /// LiteLLM's 401s (unknown, blocked, expired key; blocked team), or the database being
    /// unavailable for a key that is not cached (unless `allow_requests_on_db_unavailable`).
    pub async fn authenticate(&self, presented_key: &str) -> Result<Arc<KeyAuth>, GovernanceError> {
        let token = hash_key(presented_key);
        let auth = match self.keys.get(&token) {
            Lookup::Fresh(auth) => auth,
            Lookup::Stale(stale) => match self.load_auth(&token).await {
                Ok(Some(auth)) => auth,
                Ok(None) => {
                    self.keys.remove(&token);
                    return Err(not_found(presented_key, &token));
                }
                Err(GovernanceError::DatabaseUnavailable(_)) => stale,
                Err(error) => return Err(error),
            },
            Lookup::Missing => match self.load_auth(&token).await {
                Ok(Some(auth)) => auth,
                Ok(None) => return Err(not_found(presented_key, &token)),
                Err(GovernanceError::DatabaseUnavailable(reason))
                    if self.config.allow_requests_on_db_unavailable =>
                {
                    tracing::warn!(%reason, "database unavailable; allowing request (allow_requests_on_db_unavailable)");
                    return Ok(Arc::new(KeyAuth::database_unavailable_fallback(&token)));
                }
                Err(error) => return Err(error),
            },
        };
        self.check_key_state(&auth)?;
        Ok(auth)
    }

    /// A virtual key by its hash (LiteLLM's `token`), from memory or the database: work queued
    /// by a key (a batch) runs as that key after a restart; `None` when the key is gone.
    ///
    /// # Errors
    /// Database errors.
    pub async fn key_by_token(&self, token: &str) -> Result<Option<Arc<KeyAuth>>, GovernanceError> {
        match self.keys.get(token) {
            Lookup::Fresh(auth) => Ok(Some(auth)),
            _ => self.load_auth(token).await,
        }
    }

    /// Whether `token` is the hash of the master key.
    #[must_use]
    pub fn is_master_key_hash(&self, token: &str) -> bool {
        use subtle_compare::equal;
        self.master_key_hash
            .as_deref()
            .is_some_and(|hash| equal(hash.as_bytes(), token.as_bytes()))
    }

    /// A key verified recently, from memory only (no database read, no await): `None` when
    /// it is not cached or its entry is stale ([`Self::authenticate`] then reads it).
    ///
    /// # Errors
    /// LiteLLM's 401s for a cached key that is blocked or expired.
    pub fn cached_key(&self, presented_key: &str) -> Option<Result<Arc<KeyAuth>, GovernanceError>> {
        let token = hash_key(presented_key);
        match self.keys.get(&token) {
            Lookup::Fresh(auth) => Some(self.check_key_state(&auth).map(|()| auth)),
            _ => None,
        }
    }

    /// An end user from memory only: `Some(None)` when it is known not to exist, `None` when
    /// it must be read ([`Self::end_user`]).
    ///
    /// # Errors
    /// A cached end user that is blocked.
    pub fn cached_end_user(
        &self,
        end_user_id: &str,
    ) -> Option<Result<Option<Arc<Record>>, GovernanceError>> {
        if matches!(self.unknown_end_users.get(end_user_id), Lookup::Fresh(_)) {
            return Some(Ok(None));
        }
        match self.end_users.get(end_user_id) {
            Lookup::Fresh(record) => Some(end_user_state(end_user_id, record).map(Some)),
            _ => None,
        }
    }

    /// A key's own refusals: blocked (key or team), expired.
    ///
    /// # Errors
    /// LiteLLM's 401s for a blocked key or team and an expired key.
    pub fn check_key_state(&self, auth: &KeyAuth) -> Result<(), GovernanceError> {
        if auth.blocked {
            return Err(GovernanceError::Authentication(
                "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.".to_owned(),
            ));
        }
        if auth.team_blocked {
            return Err(GovernanceError::Authentication(format!(
                "Authentication Error, Team={} is blocked. Update via `/team/unblock` if you're an admin.",
                auth.team_id.as_deref().unwrap_or_default()
            )));
        }
        if let Some(expires) = auth.expires {
            let now = self.clock.now();
            if expires < now {
                return Err(GovernanceError::ExpiredKey(format!(
                    "Authentication Error - Expired Key. Key Expiry time {} and current time {}",
                    format_time(expires),
                    format_time(now)
                )));
            }
        }
        Ok(())
    }

    async fn load_auth(&self, token: &str) -> Result<Option<Arc<KeyAuth>>, GovernanceError> {
        let entities = [Entity::Key(token.to_owned())];
        let mark = self.ledger.mark(&entities);
        let Some(rows) = load_key_rows(&self.store, token, self.clock.now()).await? else {
            return Ok(None);
        };
        let auth = rows.into_auth();
        let limits = key_limits(&auth);
        let entities: Vec<Entity> = limits.iter().map(|l| l.entity.clone()).collect();
        // Entities other than the key were unmarked: mark them now (counts writes again if
        // they raced the read, never fewer).
        let mut mark_all = self.ledger.mark(&entities);
        mark_all.merge_from(mark);
        self.ledger.observe(&mark_all, &limits);
        let auth = Arc::new(auth);
        self.keys.insert(auth.token.clone(), Arc::clone(&auth));
        Ok(Some(auth))
    }

    /// Drops a key from this instance's cache (the proxy calls this after changing a key by
    /// other means than the management API).
    pub fn forget_key(&self, token: &str) {
        self.keys.remove(token);
    }

    /// The end user (`user` of the request) with its budget, from cache or the database;
    /// `None` when it is not known.
    ///
    /// # Errors
    /// Database errors; a blocked end user.
    pub async fn end_user(
        &self,
        end_user_id: &str,
    ) -> Result<Option<Arc<Record>>, GovernanceError> {
        let record = match self.end_users.get(end_user_id) {
            Lookup::Fresh(record) => Some(record),
            lookup => match crate::entities::load_end_user(&self.store, end_user_id).await {
                Ok(Some(record)) => {
                    let record = Arc::new(record);
                    let limit = end_user_limit(&record);
                    let mark = self.ledger.mark(std::slice::from_ref(&limit.entity));
                    self.ledger.observe(&mark, std::slice::from_ref(&limit));
                    self.end_users
                        .insert(end_user_id.to_owned(), Arc::clone(&record));
                    Some(record)
                }
                Ok(None) => {
                    self.unknown_end_users
                        .insert(end_user_id.to_owned(), Arc::new(()));
                    None
                }
                Err(GovernanceError::DatabaseUnavailable(reason)) => match lookup {
                    Lookup::Stale(record) => Some(record),
                    _ => return Err(GovernanceError::DatabaseUnavailable(reason)),
                },
                Err(error) => return Err(error),
            },
        };
        match record {
            Some(record) => end_user_state(end_user_id, record).map(Some),
            None => Ok(None),
        }
    }

    /// Sets the access groups and model group names of the proxy's config deployments.
    pub fn set_config_models(&self, model_groups: Vec<String>, access_groups: AccessGroups) {
        *self
            .config_access_groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(access_groups);
        self.rebuild_access_groups();
        *self
            .config_models
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(model_groups);
    }

    #[must_use]
    pub fn access_groups(&self) -> Arc<AccessGroups> {
        Arc::clone(
            &self
                .access_groups
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Whether the caller may use `requested_model`; the model group an alias resolves to.
    ///
    /// # Errors
    /// LiteLLM's 403 model-access error.
    pub fn check_model_access(
        &self,
        auth: &KeyAuth,
        requested_model: &str,
    ) -> Result<Option<String>, GovernanceError> {
        access::check_model_access(auth, requested_model, &self.access_groups())
    }

    /// Reserves an upper-bound cost against every budget of the caller (key, user, team, team
    /// member, organization, end user, the key's `model_max_budget` for `model`), atomically.
    ///
    /// # Errors
    /// [`GovernanceError::BudgetExceeded`] (LiteLLM's message, status 422), or database errors
    /// while loading an end user or a model budget window seen for the first time.
    pub async fn reserve(
        &self,
        auth: &KeyAuth,
        end_user: Option<&Record>,
        model: &str,
        estimated_cost: Decimal,
    ) -> Result<Reservation, GovernanceError> {
        let mut limits = if auth.is_master_key || auth.db_unavailable_fallback {
            Vec::new()
        } else {
            key_limits(auth)
        };
        if let Some(end_user) = end_user {
            limits.push(end_user_limit(end_user));
        }
        if let Some(model_budget) = auth.model_max_budget.get(model).and_then(Value::as_object) {
            limits.push(self.key_model_limit(auth, model, model_budget).await?);
        }
        Ok(self.ledger.reserve(&limits, estimated_cost)?)
    }

    async fn key_model_limit(
        &self,
        auth: &KeyAuth,
        model: &str,
        budget: &serde_json::Map<String, Value>,
    ) -> Result<Limit, GovernanceError> {
        let entity = Entity::KeyModel(auth.token.clone(), model.to_owned());
        let duration = budget
            .get("time_period")
            .or_else(|| budget.get("budget_duration"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let max_budget = budget
            .get("budget_limit")
            .or_else(|| budget.get("max_budget"))
            .and_then(crate::db::decimal_from_value);
        let now = self.clock.now();
        let window = duration
            .as_deref()
            .and_then(|d| crate::time::BudgetDuration::parse(d).ok());
        let mut limit = Limit {
            entity: entity.clone(),
            stored_spend: Decimal::ZERO,
            max_budget,
            soft_budget: None,
            budget_duration: duration,
            budget_reset_at: window.map(|w| w.after(now)),
            label: format!("Key={}", auth.descriptor()),
        };
        if self.ledger.spend(&entity).is_none() {
            // First use here: the window's spend so far comes from the spend log.
            let since = window.map_or(now - chrono::Duration::days(36_500), |w| {
                now - (w.after(now) - now)
            });
            let mark = self.ledger.mark(std::slice::from_ref(&entity));
            limit.stored_spend =
                crate::reports::key_model_spend(&self.store, &auth.token, model, since).await?;
            self.ledger.observe(&mark, std::slice::from_ref(&limit));
        }
        Ok(limit)
    }

    /// The spend writer (`append` each call's row before its last byte goes out).
    #[must_use]
    pub fn spend_writer(&self) -> &Arc<SpendWriter> {
        &self.spend
    }

    /// Records a call's spend row (write-ahead file, then batched into the database).
    ///
    /// # Errors
    /// The write-ahead file cannot be written.
    pub fn record_spend(&self, row: SpendRow) -> Result<(), GovernanceError> {
        self.spend.append(row)
    }

    /// Shares budgets with the other instances through `limiter`'s Redis (when it has one):
    /// every capped budget is then also reserved there, so N instances hold it together.
    pub fn share_budgets(&self, limiter: llmrelay_limits::Limiter) {
        self.ledger.share_through(limiter);
    }

    /// The key's spend as this instance knows it (database + settled here), for
    /// `x-litellm-key-spend`.
    #[must_use]
    pub fn key_spend(&self, auth: &KeyAuth) -> Decimal {
        self.ledger
            .spend(&Entity::Key(auth.token.clone()))
            .map_or(auth.spend, |(spend, _)| spend)
    }

    /// The key's spend from rows just read from the database, plus what this instance settled
    /// and has not written yet (other instances' writes are in the rows).
    #[must_use]
    pub fn fresh_key_spend(&self, auth: &KeyAuth) -> Decimal {
        auth.spend + self.ledger.unwritten(&Entity::Key(auth.token.clone()))
    }

    /// Registers a callback for DB deployment changes (every instance gets every change,
    /// within the poll interval; the instance that made it at once).
    pub fn on_model_change(&self, listener: impl Fn(ModelChange) + Send + Sync + 'static) {
        self.model_listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(listener));
    }

    /// Registers a callback for stored credentials that were created, updated or deleted
    /// (the name; every instance gets every change). Deployments that name the credential in
    /// `litellm_credential_name` resolve it again with [`Governance::resolve_credential`].
    pub fn on_credential_change(&self, listener: impl Fn(&str) + Send + Sync + 'static) {
        self.credential_listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(listener));
    }

    /// Registers the callback told, after a call, about each budget of its caller that is over
    /// its soft budget or has 15 % or less of its max budget left (once per process; later
    /// calls are ignored). Runs on the call's accounting: it must not block.
    pub fn on_budget_level(
        &self,
        listener: impl Fn(&crate::budget::BudgetAlert) + Send + Sync + 'static,
    ) {
        let _ = self.budget_listener.set(Arc::new(listener));
    }

    /// The budget-level callback, when one is registered.
    pub(crate) fn budget_listener(&self) -> Option<&BudgetListener> {
        self.budget_listener.get()
    }

    /// Resets the spend of keys, users, teams and end-user budgets whose `budget_reset_at` has
    /// passed, and schedules their next reset.
    ///
    /// # Errors
    /// Database errors.
    pub async fn reset_budgets(&self) -> Result<usize, GovernanceError> {
        crate::entities::reset_due_budgets(self).await
    }

    /// Flushes the spend rows and stops the background jobs.
    pub async fn shutdown(&self) {
        self.audit.shutdown().await;
        self.spend.shutdown().await;
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect();
        for task in tasks {
            task.abort();
        }
        self.store.db().close().await;
    }

    /// The audit log (management changes and access denials).
    #[must_use]
    pub fn audit(&self) -> &crate::audit::AuditLog {
        &self.audit
    }

    /// Records an access denial in the audit log (when `store_audit_logs` is on).
    pub fn record_denial(&self, denial: crate::audit::Denial) {
        if self.audit.enabled() {
            self.audit.record(denial.into_entry());
        }
    }

    /// Waits until migrations have been applied (tests, `llmrelay` start-up checks).
    pub async fn wait_until_migrated(&self, timeout: Duration) -> bool {
        let mut receiver = self.migrated.subscribe();
        tokio::time::timeout(timeout, receiver.wait_for(|done| *done))
            .await
            .is_ok_and(|result| result.is_ok())
    }

    #[must_use]
    pub fn config(&self) -> &GovernanceConfig {
        &self.config
    }

    /// `/key/info`'s effective model list: every model group the key may use.
    #[must_use]
    pub fn effective_models(&self, auth: &KeyAuth, db_models: &[String]) -> Vec<String> {
        let mut available: Vec<String> = self
            .config_models
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .clone();
        for model in db_models {
            if !available.contains(model) {
                available.push(model.clone());
            }
        }
        access::filter_models(auth, &available, &self.access_groups())
    }

    /// Model group names of the deployments stored in the database.
    ///
    /// # Errors
    /// Database errors.
    pub async fn db_model_names(&self) -> Result<Vec<String>, GovernanceError> {
        let rows = self
            .store
            .fetch(
                "SELECT DISTINCT \"model_name\" FROM \"LiteLLM_ProxyModelTable\" ORDER BY \"model_name\"",
                &[],
                &[("model_name", crate::db::Kind::Text)],
            )
            .await?;
        Ok(rows.iter().filter_map(|r| text(r, "model_name")).collect())
    }

    /// The write-ahead folder in use.
    #[must_use]
    pub fn spend_wal_directory(&self) -> Option<&PathBuf> {
        self.config.spend.wal_directory.as_ref()
    }
}

/// How long ids skipped over by the change feed are re-read.
const FEED_GAP_WAIT: Duration = Duration::from_secs(5);
const FEED_MAX_GAPS: usize = 10_000;

/// Where an instance is in the change feed.
#[derive(Debug, Default)]
struct FeedCursor {
    /// The newest id applied; `None` before the first poll.
    last: Option<i64>,
    /// Ids below `last` not seen yet, with when they were first missed.
    gaps: BTreeMap<i64, std::time::Instant>,
    /// The DB deployments could not be loaded at the first poll.
    models_pending: bool,
}

/// Whether a migration failed because the database cannot be reached (retried later).
fn is_unreachable(error: &GovernanceError) -> bool {
    match error {
        GovernanceError::DatabaseUnavailable(_) => true,
        GovernanceError::Database(reason) => is_connection_failure(reason),
        _ => false,
    }
}

fn is_connection_failure(reason: &str) -> bool {
    let lower = reason.to_ascii_lowercase();
    lower.contains("connection refused")
        || lower.contains("timed out")
        || lower.contains("error communicating")
        || lower.contains("pool")
}

fn not_found(presented_key: &str, token: &str) -> GovernanceError {
    GovernanceError::Authentication(format!(
        "Authentication Error, Invalid proxy server token passed. Received API Key = {}, Key Hash (Token) ={token}. Unable to find token in cache or `LiteLLM_VerificationTokenTable`",
        crate::keys::abbreviate(presented_key)
    ))
}

/// A blocked end user is refused (LiteLLM's 403).
fn end_user_state(end_user_id: &str, record: Arc<Record>) -> Result<Arc<Record>, GovernanceError> {
    if record.get("blocked").and_then(Value::as_bool) == Some(true) {
        return Err(GovernanceError::Forbidden(format!(
            "Allowed user is blocked. user_id={end_user_id}"
        )));
    }
    Ok(record)
}

/// The budget of an end user row (with its `litellm_budget_table` merged in by the loader).
fn end_user_limit(record: &Record) -> Limit {
    let id = text(record, "user_id").unwrap_or_default();
    let budget = record
        .get("litellm_budget_table")
        .and_then(Value::as_object);
    Limit {
        entity: Entity::EndUser(id.clone()),
        stored_spend: amount(record, "spend").unwrap_or_default(),
        max_budget: budget.and_then(|b| crate::db::money(b.get("max_budget"))),
        soft_budget: budget.and_then(|b| crate::db::money(b.get("soft_budget"))),
        budget_duration: budget
            .and_then(|b| b.get("budget_duration"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        budget_reset_at: budget.and_then(|b| time(b, "budget_reset_at")),
        label: format!("End User={id}"),
    }
}

/// Constant-time comparison of equal-length byte strings.
mod subtle_compare {
    pub fn equal(left: &[u8], right: &[u8]) -> bool {
        if left.len() != right.len() {
            return false;
        }
        left.iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
    }
}
