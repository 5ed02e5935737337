//! The Redis store: one string per answer under `llmrelay:cache:<key>` (the prefix keeps our
//! entries apart from anything else in the database, LiteLLM's included), expiring with
//! its TTL, compressed when large ([`super::compress`]). A single Redis, a Cluster (entries
//! spread over its slots) or the master a Sentinel names. Lookups use a connection of the
//! thread that serves the request, writes (batched off the call's path) a shared one
//! ([`Connections`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value as RedisValue};

pub use llmrelay_core::redis_target::{RedisTarget, redact};

use crate::CacheError;
use crate::entry::Entry;

/// Where our keys live.
pub const PREFIX: &str = "llmrelay:cache:";

fn failed(error: impl std::fmt::Display) -> CacheError {
    CacheError::Backend(format!("redis cache: {error}"))
}

static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's connection of each [`Connections`], by its id.
    static THREAD_CONNS: RefCell<HashMap<u64, Conn>> = RefCell::new(HashMap::new());
}

/// One connection to a single Redis (reconnects by itself), a Cluster (follows its slots)
/// or a Sentinel's master (made again after a failure, which asks the Sentinels anew).
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel(MultiplexedConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, RedisValue> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
            Self::Sentinel(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<RedisValue>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Sentinel(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
            Self::Sentinel(c) => c.get_db(),
        }
    }
}

enum Client {
    Single(redis::Client),
    Cluster(redis::cluster::ClusterClient),
    Sentinel {
        nodes: Vec<String>,
        service_name: String,
        password: Option<String>,
    },
}

/// The connections of one Redis user in the cache: one shared connection for work off the
/// call's path (batched writes), and one per thread for work on it (the proxy's workers are
/// single-threaded runtimes, so a lookup needs no hop to another runtime's thread and back).
/// Both are made on first use; a failed one is dropped and made again on the next call.
pub(crate) struct Connections {
    id: u64,
    client: Client,
    target: RedisTarget,
    shared: Mutex<Option<Conn>>,
    response_timeout: Duration,
}

impl Connections {
    /// Connections to `target` answering within `response_timeout`.
    pub(crate) fn open(target: &RedisTarget, response_timeout: Duration) -> RedisResult<Self> {
        // rediss:// needs a process-wide crypto provider; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = match target {
            RedisTarget::Single(url) => Client::Single(redis::Client::open(url.as_str())?),
            RedisTarget::Cluster(nodes) => Client::Cluster(
                redis::cluster::ClusterClientBuilder::new(nodes.clone())
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(response_timeout)
                    .retries(1)
                    .build()?,
            ),
            RedisTarget::Sentinel {
                nodes,
                service_name,
                password,
            } => {
                // Check the nodes parse now, so a bad setting fails at start-up.
                redis::sentinel::Sentinel::build(nodes.clone())?;
                Client::Sentinel {
                    nodes: nodes.clone(),
                    service_name: service_name.clone(),
                    password: password.clone(),
                }
            }
        };
        Ok(Self {
            id: CONNECTIONS.fetch_add(1, Ordering::Relaxed),
            client,
            target: target.clone(),
            shared: Mutex::new(None),
            response_timeout,
        })
    }

    pub(crate) const fn target(&self) -> &RedisTarget {
        &self.target
    }

    pub(crate) const fn is_cluster(&self) -> bool {
        matches!(self.client, Client::Cluster(_))
    }

    /// A new connection, made on the calling thread's runtime.
    async fn connect(&self) -> RedisResult<Conn> {
        match &self.client {
            Client::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(self.response_timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                ConnectionManager::new_lazy_with_config(client.clone(), config).map(Conn::Single)
            }
            Client::Cluster(client) => client.get_async_connection().await.map(Conn::Cluster),
            Client::Sentinel {
                nodes,
                service_name,
                password,
            } => {
                let mut info = redis::RedisConnectionInfo::default();
                if let Some(password) = password {
                    info = info.set_password(password);
                }
                let node = SentinelNodeConnectionInfo::default().set_redis_connection_info(info);
                let mut sentinel = SentinelClient::build(
                    nodes.clone(),
                    service_name.clone(),
                    Some(node),
                    SentinelServerType::Master,
                )?;
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(self.response_timeout));
                sentinel
                    .get_async_connection_with_config(&config)
                    .await
                    .map(Conn::Sentinel)
            }
        }
    }

    /// The shared connection.
    pub(crate) async fn shared(&self) -> RedisResult<Conn> {
        if let Some(conn) = self
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Ok(conn);
        }
        let conn = self.connect().await?;
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        // A racing caller may have made one first: keep theirs.
        Ok(shared.get_or_insert(conn).clone())
    }

    /// Drop the shared connection after a failure (a Cluster or Sentinel connection is made
    /// again: the master may have moved).
    pub(crate) fn forget_shared(&self) {
        if !matches!(self.client, Client::Single(_)) {
            *self.shared.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }

    /// This thread's connection (made on first use, on this thread's runtime).
    pub(crate) async fn this_thread(&self) -> RedisResult<Conn> {
        if let Some(connection) = THREAD_CONNS.with(|c| c.borrow().get(&self.id).cloned()) {
            return Ok(connection);
        }
        let connection = self.connect().await?;
        THREAD_CONNS.with(|c| c.borrow_mut().insert(self.id, connection.clone()));
        Ok(connection)
    }

    /// Drop this thread's connection after a failure (one whose runtime is gone cannot
    /// recover); the next call makes another.
    pub(crate) fn forget_this_thread(&self) {
        THREAD_CONNS.with(|c| c.borrow_mut().remove(&self.id));
    }

    /// Run `command` on the shared connection, dropping it when it fails.
    pub(crate) async fn query<T: redis::FromRedisValue>(&self, command: &Cmd) -> RedisResult<T> {
        let mut connection = self.shared().await?;
        let reply = command.query_async(&mut connection).await;
        if reply.is_err() {
            self.forget_shared();
        }
        reply
    }

    /// The address of every Cluster primary (`CLUSTER NODES`, failed nodes left out).
    async fn primaries(&self) -> RedisResult<Vec<(String, u16)>> {
        let nodes: String = self.query(redis::cmd("CLUSTER").arg("NODES")).await?;
        Ok(nodes
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split(' ').collect();
                let flags = *fields.get(2)?;
                if !flags.split(',').any(|f| f == "master") || flags.contains("fail") {
                    return None;
                }
                let address = fields.get(1)?.split('@').next()?;
                let (host, port) = address.rsplit_once(':')?;
                Some((host.to_owned(), port.parse().ok()?))
            })
            .collect())
    }

    /// Every node that holds keys: the one Redis, or each Cluster primary.
    pub(crate) async fn nodes(&self) -> RedisResult<Vec<Route>> {
        if !self.is_cluster() {
            return Ok(vec![Route::Any]);
        }
        Ok(self
            .primaries()
            .await?
            .into_iter()
            .map(|(host, port)| Route::Node(host, port))
            .collect())
    }

    /// Run `command` where `route` says.
    pub(crate) async fn query_at<T: redis::FromRedisValue>(
        &self,
        route: &Route,
        command: Cmd,
    ) -> RedisResult<T> {
        match route {
            Route::Any => self.query(&command).await,
            Route::Node(host, port) => {
                let Conn::Cluster(mut cluster) = self.shared().await? else {
                    return self.query(&command).await;
                };
                let reply = cluster
                    .route_command(
                        command,
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                            host: host.clone(),
                            port: *port,
                        }),
                    )
                    .await;
                if reply.is_err() {
                    self.forget_shared();
                }
                Ok(redis::from_redis_value(reply?)?)
            }
        }
    }
}

/// Which node a command goes to.
pub(crate) enum Route {
    /// The one Redis (or the Cluster node that owns the command's key).
    Any,
    /// One Cluster node.
    Node(String, u16),
}

const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// A stored value's entry and the size of its JSON.
fn decode(bytes: &[u8]) -> Result<(Entry, u64), CacheError> {
    let json = super::compress::unpack(bytes).map_err(failed)?;
    let entry = serde_json::from_slice(&json).map_err(failed)?;
    Ok((entry, json.len() as u64))
}

/// Answers kept in Redis.
pub struct RedisStore {
    connections: Connections,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.target())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A lazily connected store for `target`.
    ///
    /// # Errors
    /// A URL the client cannot parse.
    pub fn new(target: &RedisTarget) -> Result<Self, CacheError> {
        Ok(Self {
            connections: Connections::open(target, Duration::from_millis(500)).map_err(failed)?,
        })
    }

    /// Where the store is, without passwords.
    #[must_use]
    pub fn target(&self) -> String {
        self.connections.target().describe()
    }

    /// The entry under `key`.
    ///
    /// # Errors
    /// Redis did not answer, or the value does not decode.
    pub async fn get(&self, key: &str) -> Result<Option<Entry>, CacheError> {
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(format!("{PREFIX}{key}"));
        let (bytes,): (Option<Vec<u8>>,) = self.on_this_thread(&pipe).await?;
        bytes
            .map(|bytes| decode(&bytes).map(|(entry, _)| entry))
            .transpose()
    }

    /// The entry under `key`, how long it has left (`None`: no expiry) and the size of its
    /// JSON, in one round trip (`GET` and `PTTL`).
    ///
    /// # Errors
    /// Redis did not answer, or the value does not decode.
    pub async fn get_with_ttl(
        &self,
        key: &str,
    ) -> Result<Option<(Entry, Option<Duration>, u64)>, CacheError> {
        let name = format!("{PREFIX}{key}");
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(&name).cmd("PTTL").arg(&name);
        let (bytes, pttl): (Option<Vec<u8>>, i64) = self.on_this_thread(&pipe).await?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let (entry, size) = decode(&bytes)?;
        let left = u64::try_from(pttl).ok().map(Duration::from_millis);
        Ok(Some((entry, left, size)))
    }

    /// A lookup's commands on this thread's connection (dropped when it fails).
    async fn on_this_thread<T: redis::FromRedisValue>(
        &self,
        pipe: &Pipeline,
    ) -> Result<T, CacheError> {
        let mut connection = self.connections.this_thread().await.map_err(failed)?;
        let reply = pipe.query_async(&mut connection).await;
        if reply.is_err() {
            self.connections.forget_this_thread();
        }
        reply.map_err(failed)
    }

    /// Store a batch: `(key, entry JSON, ttl)`, compressed when large. One pipeline on a
    /// single Redis; on a Cluster, where a pipeline must stay in one slot, the commands go
    /// out together on the multiplexed connection.
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn set_many(
        &self,
        items: &[(String, Vec<u8>, Option<Duration>)],
    ) -> Result<(), CacheError> {
        let command = |key: &str, json: &[u8], ttl: &Option<Duration>| {
            let mut command = redis::cmd("SET");
            command
                .arg(format!("{PREFIX}{key}"))
                .arg(super::compress::pack(json).as_ref());
            if let Some(ttl) = ttl {
                let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                command.arg("PX").arg(ms);
            }
            command
        };
        if self.connections.is_cluster() {
            let commands: Vec<Cmd> = items
                .iter()
                .map(|(key, json, ttl)| command(key, json, ttl))
                .collect();
            let sets = commands.iter().map(|c| self.connections.query::<()>(c));
            for reply in futures::future::join_all(sets).await {
                reply.map_err(failed)?;
            }
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (key, json, ttl) in items {
            pipe.add_command(command(key, json, ttl)).ignore();
        }
        let mut connection = self.connections.shared().await.map_err(failed)?;
        let reply = pipe.query_async::<()>(&mut connection).await;
        if reply.is_err() {
            self.connections.forget_shared();
        }
        reply.map_err(failed)
    }

    /// Remove `keys`; how many were there.
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn delete(&self, keys: &[String]) -> Result<usize, CacheError> {
        if keys.is_empty() {
            return Ok(0);
        }
        if self.connections.is_cluster() {
            // One DEL may not name keys of several slots.
            let commands: Vec<Cmd> = keys
                .iter()
                .map(|key| {
                    let mut command = redis::cmd("DEL");
                    command.arg(format!("{PREFIX}{key}"));
                    command
                })
                .collect();
            let deletes = commands.iter().map(|c| self.connections.query::<usize>(c));
            let mut removed = 0;
            for reply in futures::future::join_all(deletes).await {
                removed += reply.map_err(failed)?;
            }
            return Ok(removed);
        }
        let mut command = redis::cmd("DEL");
        for key in keys {
            command.arg(format!("{PREFIX}{key}"));
        }
        self.connections.query(&command).await.map_err(failed)
    }

    /// Remove every entry of ours (SCAN + UNLINK over the prefix, on every Cluster primary;
    /// other keys stay).
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn clear(&self) -> Result<usize, CacheError> {
        let mut removed = 0;
        for node in self.connections.nodes().await.map_err(failed)? {
            let mut cursor: u64 = 0;
            loop {
                let mut scan = redis::cmd("SCAN");
                scan.arg(cursor)
                    .arg("MATCH")
                    .arg(format!("{PREFIX}*"))
                    .arg("COUNT")
                    .arg(500);
                let (next, keys): (u64, Vec<String>) = self
                    .connections
                    .query_at(&node, scan)
                    .await
                    .map_err(failed)?;
                // On a Cluster key by key: the keys of one node are in many slots.
                let groups: Vec<&[String]> = if self.connections.is_cluster() {
                    keys.chunks(1).collect()
                } else {
                    keys.chunks(keys.len().max(1)).collect()
                };
                for group in groups {
                    let mut unlink = redis::cmd("UNLINK");
                    unlink.arg(group);
                    let count: usize = self.connections.query(&unlink).await.map_err(failed)?;
                    removed += count;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(removed)
    }

    /// `PING`.
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let _: String = self
            .connections
            .query(&redis::cmd("PING"))
            .await
            .map_err(failed)?;
        Ok(())
    }

    /// `INFO`, as Redis prints it (`/cache/redis/info`; a Cluster's: one node's).
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn info(&self) -> Result<String, CacheError> {
        self.connections
            .query(&redis::cmd("INFO"))
            .await
            .map_err(failed)
    }
}
