//! Rate limits that hold across proxy instances.
//!
//! A call is checked against every limit that applies to it (LiteLLM's descriptors: key, user,
//! team, team member, organization, end user, key × model, team × model) and reserved in all
//! of them at once, before it goes upstream: one request, its estimated tokens, one parallel
//! slot. Afterwards the reservation settles to the real token usage. Windows slide (sixty
//! buckets per window), so no boundary admits twice the limit.
//!
//! Counters live in this process ([`LocalStore`]) or in Redis ([`RedisStore`]: single node,
//! Sentinel or Cluster), shared by every instance; when Redis is unreachable each limit kind
//! follows its [`FailMode`].

pub mod budget;
pub mod check;
pub mod limiter;
pub mod local;
pub mod redis_store;

pub use budget::{BudgetCheck, BudgetDenied, BudgetPermit, NANOS};
pub use check::{BUCKETS, Check, Metric, Status};
pub use limiter::{Denied, FailMode, FailPolicy, Health, Limiter, LimiterConfig, Permit, now_ms};
pub use local::LocalStore;
pub use redis_store::{RedisStore, RedisTarget, StoreError};
