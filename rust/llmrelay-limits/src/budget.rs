//! Budgets shared by every instance: each entity's spend and outstanding reservations in one
//! Redis hash, checked and reserved atomically before a call and settled with the real cost
//! after it, so N instances never spend more than a budget plus one call's error.
//!
//! An entity's hash holds `s` (spend in nano-USD since it was seeded), `r` (reserved), `p` (the
//! budget period: its reset time in ms, 0 without one) and one `h:<id>` field per hold; a sorted
//! set beside it scores the holds by the end of their lease, so an instance that dies releases
//! its holds when the lease ends. The spend is seeded with the database's value the first time
//! an entity is seen in a period; a later period (a reset) reseeds it, an earlier one (an
//! instance with a stale view) is ignored.

use std::sync::Arc;

use crate::limiter::{FailMode, Inner, Limiter, now_ms};
use crate::redis_store::StoreError;

/// Nano-USD per USD: costs are integers in Redis.
pub const NANOS: i64 = 1_000_000_000;

/// `KEYS`: per entity its hash and its holds set. `ARGV`: now (ms), hold id, lease (ms), then
/// per entity: max budget (nano, -1 for none), seed spend (nano), period, estimate (nano).
/// `{0, spend1, reserved1, …}` when admitted, else `{i, spend, reserved}`.
const RESERVE: &str = r"
local now = tonumber(ARGV[1])
local id = ARGV[2]
local lease = tonumber(ARGV[3])
local count = #KEYS / 2
local state = {}
for i = 1, count do
  local key = KEYS[2 * i - 1]
  local holds = KEYS[2 * i]
  local base = 3 + (i - 1) * 4
  local max = tonumber(ARGV[base + 1])
  local seed = tonumber(ARGV[base + 2])
  local period = tonumber(ARGV[base + 3])
  local estimate = tonumber(ARGV[base + 4])
  local stored = redis.call('HGET', key, 'p')
  if not stored or tonumber(stored) < period then
    redis.call('DEL', key, holds)
    redis.call('HSET', key, 's', seed, 'r', 0, 'p', period)
  end
  local expired = redis.call('ZRANGEBYSCORE', holds, '-inf', now)
  for _, hold in ipairs(expired) do
    local amount = tonumber(redis.call('HGET', key, 'h:' .. hold) or '0')
    redis.call('HINCRBY', key, 'r', -amount)
    redis.call('HDEL', key, 'h:' .. hold)
    redis.call('ZREM', holds, hold)
  end
  local spend = tonumber(redis.call('HGET', key, 's') or '0')
  local reserved = tonumber(redis.call('HGET', key, 'r') or '0')
  if reserved < 0 then
    reserved = 0
    redis.call('HSET', key, 'r', 0)
  end
  if max >= 0 and (spend >= max or spend + reserved + estimate > max) then
    return {i, spend, reserved}
  end
  state[i] = {spend, reserved}
end
local out = {0}
for i = 1, count do
  local key = KEYS[2 * i - 1]
  local holds = KEYS[2 * i]
  local estimate = tonumber(ARGV[3 + (i - 1) * 4 + 4])
  redis.call('HINCRBY', key, 'r', estimate)
  redis.call('HSET', key, 'h:' .. id, estimate)
  redis.call('ZADD', holds, now + lease, id)
  redis.call('PEXPIRE', holds, lease * 2)
  table.insert(out, state[i][1])
  table.insert(out, state[i][2] + estimate)
end
return out
";

/// `KEYS` as for [`RESERVE`]; `ARGV`: hold id, then per entity the real cost (nano). Releases
/// the hold and books the cost.
const SETTLE: &str = r"
local id = ARGV[1]
for i = 1, #KEYS / 2 do
  local key = KEYS[2 * i - 1]
  local holds = KEYS[2 * i]
  local actual = tonumber(ARGV[1 + i])
  local held = redis.call('HGET', key, 'h:' .. id)
  if held then
    redis.call('HINCRBY', key, 'r', -tonumber(held))
    redis.call('HDEL', key, 'h:' .. id)
    redis.call('ZREM', holds, id)
  end
  if actual > 0 and redis.call('EXISTS', key) == 1 then
    redis.call('HINCRBY', key, 's', actual)
  end
end
return {1}
";

/// One budget that applies to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetCheck {
    /// The entity (`key:<hash>`, `team:<id>`, …).
    pub entity: String,
    /// Nano-USD; `None`: the spend is tracked, not capped.
    pub max_budget: Option<i64>,
    /// The spend the database holds for the entity (nano-USD), used when the entity is first
    /// seen in this period.
    pub seed_spend: i64,
    /// The period's reset time (ms since the epoch), 0 without one.
    pub period: i64,
}

/// Why a budget reservation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetDenied {
    /// The entity's shared spend (+ reservations + this estimate) is over its budget.
    Exceeded {
        entity: String,
        spend: i64,
        reserved: i64,
        max_budget: i64,
    },
    /// Redis is unreachable and budgets are `fail_closed`.
    Unavailable(String),
}

/// A call's shared budget hold: settle it with the real cost (dropping it releases it).
#[must_use = "a budget hold is released when dropped; settle it with the real cost"]
pub struct BudgetPermit {
    inner: Option<Arc<Inner>>,
    entities: Vec<String>,
    id: String,
    open: bool,
}

impl std::fmt::Debug for BudgetPermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BudgetPermit")
            .field("entities", &self.entities)
            .field("shared", &self.inner.is_some())
            .finish_non_exhaustive()
    }
}

impl BudgetPermit {
    /// A permit with nothing shared (no Redis, or served by `fail_open`).
    pub fn local() -> Self {
        Self {
            inner: None,
            entities: Vec::new(),
            id: String::new(),
            open: false,
        }
    }

    /// Whether the hold is in Redis.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        self.inner.is_some()
    }

    /// Books `actual` nano-USD against every entity and releases the hold.
    pub fn settle(mut self, actual: i64) {
        self.finish(actual.max(0));
    }

    fn finish(&mut self, actual: i64) {
        if !self.open {
            return;
        }
        self.open = false;
        let Some(inner) = self.inner.clone() else {
            return;
        };
        let entities = std::mem::take(&mut self.entities);
        let id = std::mem::take(&mut self.id);
        Arc::clone(&inner).spawn(async move {
            if let Err(error) = inner.budget_settle(&entities, &id, actual).await {
                // The hold's lease releases it; the cost is in the database's spend anyway.
                tracing::warn!(%error, "budgets: settling a hold in Redis failed");
            }
        });
    }
}

impl Drop for BudgetPermit {
    fn drop(&mut self) {
        self.finish(0);
    }
}

fn keys(prefix: &str, entity: &str) -> (String, String) {
    (
        format!("{prefix}budget:{{{entity}}}"),
        format!("{prefix}budget:{{{entity}}}:holds"),
    )
}

impl Inner {
    async fn budget_settle(
        &self,
        entities: &[String],
        id: &str,
        actual: i64,
    ) -> Result<(), StoreError> {
        let Some(redis) = &self.redis else {
            return Ok(());
        };
        let script = redis::Script::new(SETTLE);
        let groups: Vec<&[String]> = if redis.target().is_cluster() {
            entities.chunks(1).collect()
        } else {
            vec![entities]
        };
        for group in groups {
            let mut invocation = script.prepare_invoke();
            invocation.arg(id);
            for entity in group {
                let (hash, holds) = keys(redis.prefix(), entity);
                invocation.key(hash).key(holds).arg(actual);
            }
            redis.run(&invocation).await?;
        }
        Ok(())
    }

    async fn budget_reserve(
        &self,
        checks: &[&BudgetCheck],
        estimate: i64,
        id: &str,
        now: u64,
    ) -> Result<Result<(), BudgetDenied>, StoreError> {
        let Some(redis) = &self.redis else {
            return Ok(Ok(()));
        };
        let script = redis::Script::new(RESERVE);
        let lease = u64::try_from(self.config.lease.as_millis()).unwrap_or(u64::MAX);
        let mut invocation = script.prepare_invoke();
        invocation.arg(now).arg(id).arg(lease);
        for check in checks {
            let (hash, holds) = keys(redis.prefix(), &check.entity);
            invocation
                .key(hash)
                .key(holds)
                .arg(check.max_budget.unwrap_or(-1))
                .arg(check.seed_spend)
                .arg(check.period)
                .arg(estimate);
        }
        let reply = redis.run(&invocation).await?;
        let first = reply.first().copied().unwrap_or(0);
        if first == 0 {
            return Ok(Ok(()));
        }
        let check = usize::try_from(first - 1)
            .ok()
            .and_then(|i| checks.get(i))
            .ok_or_else(|| StoreError("unexpected reply from the budget script".into()))?;
        Ok(Err(BudgetDenied::Exceeded {
            entity: check.entity.clone(),
            spend: reply.get(1).copied().unwrap_or(0),
            reserved: reply.get(2).copied().unwrap_or(0),
            max_budget: check.max_budget.unwrap_or(0),
        }))
    }
}

impl Limiter {
    /// Reserves `estimate` nano-USD against every budget at once in Redis (all or none; on a
    /// cluster entity by entity, rolling back when one refuses). Without Redis the permit is
    /// local (the instance's own ledger decides).
    ///
    /// # Errors
    /// [`BudgetDenied::Exceeded`], or [`BudgetDenied::Unavailable`] when Redis is down and
    /// budgets are `fail_closed`.
    pub async fn reserve_budget(
        &self,
        checks: &[BudgetCheck],
        estimate: i64,
    ) -> Result<BudgetPermit, BudgetDenied> {
        let inner = self.inner();
        if checks.is_empty() || inner.redis.is_none() {
            return Ok(BudgetPermit::local());
        }
        if inner.is_up() {
            let id = uuid::Uuid::new_v4().to_string();
            let now = now_ms();
            let mut permit = BudgetPermit {
                inner: Some(Arc::clone(inner)),
                entities: Vec::with_capacity(checks.len()),
                id: id.clone(),
                open: true,
            };
            let cluster = inner
                .redis
                .as_ref()
                .is_some_and(|r| r.target().is_cluster());
            let mut ordered: Vec<&BudgetCheck> = checks.iter().collect();
            ordered.sort_by(|a, b| a.entity.cmp(&b.entity));
            let groups: Vec<Vec<&BudgetCheck>> = if cluster {
                ordered.into_iter().map(|c| vec![c]).collect()
            } else {
                vec![ordered]
            };
            let mut failed = None;
            for group in groups {
                match inner.budget_reserve(&group, estimate, &id, now).await {
                    Ok(Ok(())) => permit
                        .entities
                        .extend(group.iter().map(|c| c.entity.clone())),
                    Ok(Err(denied)) => return Err(denied),
                    Err(error) => {
                        failed = Some(error);
                        break;
                    }
                }
            }
            match failed {
                None => return Ok(permit),
                Some(error) => {
                    // `permit` (dropped) releases what was held before the failure.
                    drop(permit);
                    inner.mark_down(&error);
                }
            }
        }
        match inner.config.policy.budget {
            FailMode::Open => Ok(BudgetPermit::local()),
            FailMode::Closed => Err(BudgetDenied::Unavailable(
                "the budget store (Redis) is unreachable".to_owned(),
            )),
        }
    }

    /// Forgets an entity's shared spend (its spend was reset): the next call seeds it again.
    pub fn reset_budget(&self, entity: &str) {
        let inner = Arc::clone(self.inner());
        let entity = entity.to_owned();
        Arc::clone(&inner).spawn(async move {
            let Some(redis) = &inner.redis else { return };
            let (hash, holds) = keys(redis.prefix(), &entity);
            if let Err(error) = redis
                .query::<i64>(redis::cmd("DEL").arg(&hash).arg(&holds))
                .await
            {
                tracing::warn!(%error, "budgets: resetting an entity in Redis failed");
            }
        });
    }

    /// The shared spend and reservations of an entity (nano-USD), for tests and `/health`.
    ///
    /// # Errors
    /// Redis failed.
    pub async fn budget_state(&self, entity: &str) -> Result<Option<(i64, i64)>, StoreError> {
        let Some(redis) = &self.inner().redis else {
            return Ok(None);
        };
        let (hash, _) = keys(redis.prefix(), entity);
        let values: Vec<Option<i64>> = redis
            .query(redis::cmd("HMGET").arg(&hash).arg("s").arg("r"))
            .await?;
        Ok(match values.as_slice() {
            [Some(spend), reserved] => Some((*spend, reserved.unwrap_or(0))),
            _ => None,
        })
    }
}
