//! Budgets without overspend: an in-memory ledger of spend and outstanding reservations per
//! entity (key, user, team, team member, organization, end user, key × model), checked and
//! reserved atomically before a call and settled with the real cost after it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::error::BudgetExceeded;
use crate::identity::KeyAuth;
use crate::time::{BudgetDuration, Clock};

/// What a budget belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Key(String),
    User(String),
    Team(String),
    /// `(team_id, user_id)`.
    TeamMember(String, String),
    Organization(String),
    EndUser(String),
    /// `(key hash, model)`: a key's `model_max_budget` entry.
    KeyModel(String, String),
}

impl Entity {
    /// The entity a [`BudgetExceeded`] names (its `entity_type` and `entity_id`).
    #[must_use]
    pub fn from_parts(kind: &str, id: &str) -> Option<Self> {
        let pair = || {
            id.split_once(':')
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
        };
        Some(match kind {
            "key" => Self::Key(id.to_owned()),
            "user" => Self::User(id.to_owned()),
            "team" => Self::Team(id.to_owned()),
            "organization" => Self::Organization(id.to_owned()),
            "end_user" => Self::EndUser(id.to_owned()),
            "team_member" => {
                let (team, user) = pair()?;
                Self::TeamMember(team, user)
            }
            "model" => {
                let (key, model) = pair()?;
                Self::KeyModel(key, model)
            }
            _ => return None,
        })
    }

    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Key(_) => "key",
            Self::User(_) => "user",
            Self::Team(_) => "team",
            Self::TeamMember(..) => "team_member",
            Self::Organization(_) => "organization",
            Self::EndUser(_) => "end_user",
            Self::KeyModel(..) => "model",
        }
    }
}

/// The limits of one entity, as the caller's rows state them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub entity: Entity,
    /// Spend stored in the database when the rows were read.
    pub stored_spend: Decimal,
    pub max_budget: Option<Decimal>,
    pub soft_budget: Option<Decimal>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<DateTime<Utc>>,
    /// LiteLLM's wording for this entity in a budget message (`Key=app`, `Team=t1`, …).
    pub label: String,
}

#[derive(Debug, Clone, Default)]
struct Account {
    /// Spend in the database as last read.
    stored: Decimal,
    /// Settled here and written to the database after `stored` was read.
    written_since_read: Decimal,
    /// Settled here, not yet written.
    unwritten: Decimal,
    /// Outstanding reservations.
    reserved: Decimal,
    /// Everything written from here so far (to tell which writes a read may have missed).
    written_total: Decimal,
    reset_at: Option<DateTime<Utc>>,
    duration: Option<BudgetDuration>,
}

impl Account {
    fn spend(&self) -> Decimal {
        self.stored + self.written_since_read + self.unwritten
    }
}

/// A snapshot taken before reading spend from the database (see [`Ledger::observe`]).
#[derive(Debug, Clone, Default)]
pub struct ReadMark {
    written: HashMap<Entity, Decimal>,
}

impl ReadMark {
    /// Takes `other`'s snapshots where it has them (taken earlier: never fewer writes counted).
    pub fn merge_from(&mut self, other: ReadMark) {
        self.written.extend(other.written);
    }
}

/// Outcome of a settlement: the new spend of each entity and soft-budget crossings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settlement {
    /// Key spend after this call (LiteLLM's `x-litellm-key-spend`).
    pub key_spend: Option<Decimal>,
    /// Entities whose `soft_budget` this call crossed (for alerts).
    pub soft_budget_crossed: Vec<Entity>,
    /// Entities at or over their soft budget, or with 15 % or less of their max budget left,
    /// after this call (LiteLLM's budget alerts read them).
    pub levels: Vec<BudgetLevel>,
}

/// An entity's spend after a call, with the budgets it is measured against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetLevel {
    pub entity: Entity,
    pub spend: Decimal,
    pub max_budget: Option<Decimal>,
    pub soft_budget: Option<Decimal>,
}

/// A budget level with the call's caller (for budget alerts: LiteLLM's `CallInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetAlert {
    pub level: BudgetLevel,
    /// The key's hash.
    pub token: Option<String>,
    pub key_alias: Option<String>,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub team_id: Option<String>,
    pub team_alias: Option<String>,
    pub organization_id: Option<String>,
    pub end_user_id: Option<String>,
}

/// The share of a max budget at which budget alerts start (15 % left, LiteLLM's first
/// threshold).
const ALERT_SHARE: Decimal = Decimal::from_parts(85, 0, 0, false, 2);

/// One entity's part of a reservation.
#[derive(Debug, Clone)]
struct Hold {
    entity: Entity,
    soft_budget: Option<Decimal>,
    max_budget: Option<Decimal>,
}

/// The in-memory budget ledger shared by every request of one instance.
pub struct Ledger {
    accounts: Mutex<HashMap<Entity, Account>>,
    clock: Arc<dyn Clock>,
    /// Budgets shared with the other instances through Redis, when configured.
    shared: std::sync::OnceLock<llmrelay_limits::Limiter>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").finish_non_exhaustive()
    }
}

/// A reserved upper bound; settle it with the real cost, or drop it to release it.
#[must_use = "a reservation is released when dropped; settle it with the actual cost"]
#[derive(Debug)]
pub struct Reservation {
    ledger: Arc<Ledger>,
    holds: Vec<Hold>,
    estimate: Decimal,
    open: bool,
    /// Soft budgets already crossed before the call (LiteLLM's soft-budget alert flag).
    pub soft_budget_alerts: Vec<Entity>,
    /// The budgets to reserve in Redis too (when budgets are shared between instances).
    pub shared_checks: Vec<llmrelay_limits::BudgetCheck>,
    /// The hold in Redis, once reserved there.
    pub shared: Option<llmrelay_limits::BudgetPermit>,
}

impl Reservation {
    #[must_use]
    pub fn estimate(&self) -> Decimal {
        self.estimate
    }

    /// Books the real cost against every entity and releases the hold.
    pub fn settle(mut self, actual_cost: Decimal) -> Settlement {
        self.open = false;
        if let Some(shared) = self.shared.take() {
            shared.settle(nanos(actual_cost));
        }
        let holds = std::mem::take(&mut self.holds);
        self.ledger.settle_holds(&holds, self.estimate, actual_cost)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.open {
            self.ledger.release(&self.holds, self.estimate);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Ledger {
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Self {
            accounts: Mutex::new(HashMap::new()),
            clock,
            shared: std::sync::OnceLock::new(),
        })
    }

    /// Shares budgets with the other instances through `limiter`'s Redis (once, at start).
    pub fn share_through(&self, limiter: llmrelay_limits::Limiter) {
        if limiter.is_shared() {
            let _ = self.shared.set(limiter);
        }
    }

    /// The limiter budgets are shared through, when they are.
    #[must_use]
    pub fn shared(&self) -> Option<&llmrelay_limits::Limiter> {
        self.shared.get()
    }

    /// Marks what has been written so far, before reading spend from the database.
    #[must_use]
    pub fn mark(&self, entities: &[Entity]) -> ReadMark {
        let accounts = lock(&self.accounts);
        ReadMark {
            written: entities
                .iter()
                .map(|e| {
                    (
                        e.clone(),
                        accounts.get(e).map(|a| a.written_total).unwrap_or_default(),
                    )
                })
                .collect(),
        }
    }

    /// Takes spend read from the database. Writes from here that happened after `mark` may or
    /// may not be in the read; they are counted again (never under-counted).
    pub fn observe(&self, mark: &ReadMark, limits: &[Limit]) {
        let mut accounts = lock(&self.accounts);
        for limit in limits {
            let account = accounts.entry(limit.entity.clone()).or_default();
            let written_before = mark.written.get(&limit.entity).copied().unwrap_or_default();
            account.stored = limit.stored_spend;
            account.written_since_read = account.written_total - written_before;
            account.duration = limit
                .budget_duration
                .as_deref()
                .and_then(|d| BudgetDuration::parse(d).ok());
            if limit.budget_reset_at.is_some() {
                account.reset_at = limit.budget_reset_at;
            }
        }
    }

    /// Reserves `estimate` against every limit at once, or refuses if any budget would be
    /// exceeded.
    ///
    /// # Errors
    /// [`BudgetExceeded`] naming the first entity whose budget the estimate does not fit.
    pub fn reserve(
        self: &Arc<Self>,
        limits: &[Limit],
        estimate: Decimal,
    ) -> Result<Reservation, BudgetExceeded> {
        let now = self.clock.now();
        let estimate = estimate.max(Decimal::ZERO);
        let mut accounts = lock(&self.accounts);
        let mut soft_budget_alerts = Vec::new();
        for limit in limits {
            let account = accounts
                .entry(limit.entity.clone())
                .or_insert_with(|| Account {
                    stored: limit.stored_spend,
                    reset_at: limit.budget_reset_at,
                    duration: limit
                        .budget_duration
                        .as_deref()
                        .and_then(|d| BudgetDuration::parse(d).ok()),
                    ..Account::default()
                });
            roll_window(account, now);
            let spend = account.spend();
            if let Some(max_budget) = limit.max_budget {
                if spend >= max_budget {
                    return Err(exceeded(limit, spend, max_budget));
                }
                if spend + account.reserved + estimate > max_budget {
                    return Err(BudgetExceeded {
                        message: format!(
                            "Budget has been exceeded! {} Current cost: {}, Reserved: {}, Estimated cost: {}, Max budget: {}",
                            limit.label,
                            spend.normalize(),
                            account.reserved.normalize(),
                            estimate.normalize(),
                            max_budget.normalize()
                        ),
                        current_cost: spend,
                        max_budget,
                        entity_type: limit.entity.type_name(),
                        entity_id: entity_id(&limit.entity),
                    });
                }
            }
            if limit.soft_budget.is_some_and(|soft| spend >= soft) {
                soft_budget_alerts.push(limit.entity.clone());
            }
        }
        let mut holds = Vec::with_capacity(limits.len());
        for limit in limits {
            if let Some(account) = accounts.get_mut(&limit.entity) {
                account.reserved += estimate;
            }
            holds.push(Hold {
                entity: limit.entity.clone(),
                soft_budget: limit.soft_budget,
                max_budget: limit.max_budget,
            });
        }
        let shared_checks = if self.shared.get().is_some() {
            limits.iter().filter_map(shared_check).collect()
        } else {
            Vec::new()
        };
        Ok(Reservation {
            ledger: Arc::clone(self),
            holds,
            estimate,
            open: true,
            soft_budget_alerts,
            shared_checks,
            shared: None,
        })
    }

    fn release(&self, holds: &[Hold], estimate: Decimal) {
        let mut accounts = lock(&self.accounts);
        for hold in holds {
            if let Some(account) = accounts.get_mut(&hold.entity) {
                account.reserved = (account.reserved - estimate).max(Decimal::ZERO);
            }
        }
    }

    fn settle_holds(&self, holds: &[Hold], estimate: Decimal, actual: Decimal) -> Settlement {
        let actual = actual.max(Decimal::ZERO);
        let mut accounts = lock(&self.accounts);
        let mut settlement = Settlement::default();
        for hold in holds {
            let entity = &hold.entity;
            if let Some(account) = accounts.get_mut(entity) {
                account.reserved = (account.reserved - estimate).max(Decimal::ZERO);
                let before = account.spend();
                account.unwritten += actual;
                let after = account.spend();
                if hold
                    .soft_budget
                    .is_some_and(|soft| before < soft && after >= soft)
                {
                    settlement.soft_budget_crossed.push(entity.clone());
                }
                let near_max = hold
                    .max_budget
                    .is_some_and(|max| after >= max * ALERT_SHARE);
                if near_max || hold.soft_budget.is_some_and(|soft| after >= soft) {
                    settlement.levels.push(BudgetLevel {
                        entity: entity.clone(),
                        spend: after,
                        max_budget: hold.max_budget,
                        soft_budget: hold.soft_budget,
                    });
                }
                if matches!(entity, Entity::Key(_)) {
                    settlement.key_spend = Some(after);
                }
            }
        }
        settlement
    }

    /// Books a cost without a reservation (a call that was not reserved, e.g. pass-through).
    pub fn book(&self, entities: &[Entity], cost: Decimal) {
        let mut accounts = lock(&self.accounts);
        for entity in entities {
            accounts.entry(entity.clone()).or_default().unwritten += cost;
        }
    }

    /// The spend writer wrote `amount` for `entity` to the database.
    pub fn written(&self, entity: &Entity, amount: Decimal) {
        let mut accounts = lock(&self.accounts);
        if let Some(account) = accounts.get_mut(entity) {
            let moved = amount.min(account.unwritten);
            account.unwritten -= moved;
            account.written_since_read += moved;
            account.written_total += moved;
        }
    }

    /// Spend and outstanding reservations of an entity (`None` if it was never seen).
    #[must_use]
    pub fn spend(&self, entity: &Entity) -> Option<(Decimal, Decimal)> {
        let now = self.clock.now();
        let mut accounts = lock(&self.accounts);
        accounts.get_mut(entity).map(|account| {
            roll_window(account, now);
            (account.spend(), account.reserved)
        })
    }

    /// Settled here and not yet written to the database.
    #[must_use]
    pub fn unwritten(&self, entity: &Entity) -> Decimal {
        lock(&self.accounts)
            .get(entity)
            .map(|account| account.unwritten)
            .unwrap_or_default()
    }

    /// Sets an entity's spend to zero (`/key/{key}/reset_spend`, budget resets).
    pub fn reset(&self, entity: &Entity, next_reset_at: Option<DateTime<Utc>>) {
        if let Some(shared) = self.shared.get() {
            shared.reset_budget(&shared_name(entity));
        }
        let mut accounts = lock(&self.accounts);
        if let Some(account) = accounts.get_mut(entity) {
            account.stored = Decimal::ZERO;
            account.written_since_read = Decimal::ZERO;
            account.unwritten = Decimal::ZERO;
            if next_reset_at.is_some() {
                account.reset_at = next_reset_at;
            }
        }
    }

    /// Forgets an entity (deleted, or its rows changed): the next read starts it afresh.
    pub fn forget(&self, entity: &Entity) {
        let mut accounts = lock(&self.accounts);
        if let Some(account) = accounts.get(entity)
            && account.reserved.is_zero()
            && account.unwritten.is_zero()
        {
            accounts.remove(entity);
        }
    }
}

/// USD as nano-USD (the shared budgets' integers).
#[must_use]
pub fn nanos(amount: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive as _;
    (amount * Decimal::from(llmrelay_limits::NANOS))
        .round()
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// An entity's name in the shared budgets (`key:<hash>`, `team:<id>`, …).
#[must_use]
pub fn shared_name(entity: &Entity) -> String {
    format!("{}:{}", entity.type_name(), entity_id(entity))
}

/// The shared check of a capped budget. A key's per-model budget (`model_max_budget`) stays
/// with each instance: its window moves with every call, so it has no shared period.
fn shared_check(limit: &Limit) -> Option<llmrelay_limits::BudgetCheck> {
    let max_budget = limit.max_budget?;
    if matches!(limit.entity, Entity::KeyModel(..)) {
        return None;
    }
    Some(llmrelay_limits::BudgetCheck {
        entity: shared_name(&limit.entity),
        max_budget: Some(nanos(max_budget)),
        seed_spend: nanos(limit.stored_spend),
        period: limit.budget_reset_at.map_or(0, |at| at.timestamp_millis()),
    })
}

/// Starts a new budget window when the reset time has passed.
fn roll_window(account: &mut Account, now: DateTime<Utc>) {
    if let Some(reset_at) = account.reset_at
        && now >= reset_at
    {
        account.stored = Decimal::ZERO;
        account.written_since_read = Decimal::ZERO;
        account.unwritten = Decimal::ZERO;
        account.reset_at = account.duration.map(|d| {
            let mut next = d.after(reset_at);
            while next <= now {
                next = d.after(next);
            }
            next
        });
    }
}

/// An entity's id as the shared budgets and alerts name it (`team:user` for a team member).
#[must_use]
pub fn entity_id(entity: &Entity) -> String {
    match entity {
        Entity::Key(id)
        | Entity::User(id)
        | Entity::Team(id)
        | Entity::Organization(id)
        | Entity::EndUser(id) => id.clone(),
        Entity::TeamMember(team, user) => format!("{team}:{user}"),
        Entity::KeyModel(key, model) => format!("{key}:{model}"),
    }
}

fn exceeded(limit: &Limit, spend: Decimal, max_budget: Decimal) -> BudgetExceeded {
    let message = match &limit.entity {
        Entity::User(id) => format!(
            "ExceededBudget: User={id} over budget. Spend={}, Budget={}",
            spend.normalize(),
            max_budget.normalize()
        ),
        Entity::EndUser(id) => format!(
            "ExceededBudget: End User={id} over budget. Spend={}, Budget={}",
            spend.normalize(),
            max_budget.normalize()
        ),
        Entity::KeyModel(_, model) => format!(
            "LiteLLM Virtual Key: {}, key_alias: None, exceeded budget for model={model}",
            limit.label
        ),
        _ => format!(
            "Budget has been exceeded! {} Current cost: {}, Max budget: {}",
            limit.label,
            spend.normalize(),
            max_budget.normalize()
        ),
    };
    BudgetExceeded {
        message,
        current_cost: spend,
        max_budget,
        entity_type: limit.entity.type_name(),
        entity_id: entity_id(&limit.entity),
    }
}

/// The limits that apply to a caller (end user and model handled by the engine).
#[must_use]
pub fn key_limits(auth: &KeyAuth) -> Vec<Limit> {
    let mut limits = vec![Limit {
        entity: Entity::Key(auth.token.clone()),
        stored_spend: auth.spend,
        max_budget: auth.max_budget,
        soft_budget: auth.soft_budget,
        budget_duration: auth.budget_duration.clone(),
        budget_reset_at: auth.budget_reset_at,
        label: format!("Key={}", auth.descriptor()),
    }];
    if let Some(user_id) = &auth.user_id
        && auth.team_id.is_none()
    {
        // LiteLLM applies the user's personal budget to keys outside a team.
        limits.push(Limit {
            entity: Entity::User(user_id.clone()),
            stored_spend: auth.user_spend.unwrap_or_default(),
            max_budget: auth.user_max_budget,
            soft_budget: None,
            budget_duration: auth.user_budget_duration.clone(),
            budget_reset_at: auth.user_budget_reset_at,
            label: format!("User={user_id}"),
        });
    }
    if let Some(team_id) = &auth.team_id {
        limits.push(Limit {
            entity: Entity::Team(team_id.clone()),
            stored_spend: auth.team_spend.unwrap_or_default(),
            max_budget: auth.team_max_budget,
            soft_budget: auth.team_soft_budget,
            budget_duration: auth.team_budget_duration.clone(),
            budget_reset_at: auth.team_budget_reset_at,
            label: format!("Team={team_id}"),
        });
        if let Some(user_id) = &auth.user_id {
            limits.push(Limit {
                entity: Entity::TeamMember(team_id.clone(), user_id.clone()),
                stored_spend: auth.team_member_spend.unwrap_or_default(),
                max_budget: auth.team_member_budget,
                soft_budget: None,
                budget_duration: auth.team_member_budget_duration.clone(),
                budget_reset_at: None,
                label: format!("User={user_id} in Team={team_id}"),
            });
        }
    }
    if let Some(org_id) = &auth.org_id {
        limits.push(Limit {
            entity: Entity::Organization(org_id.clone()),
            stored_spend: auth.org_spend.unwrap_or_default(),
            max_budget: auth.org_max_budget,
            soft_budget: None,
            budget_duration: auth.org_budget_duration.clone(),
            budget_reset_at: None,
            label: format!("Organization={org_id}"),
        });
    }
    limits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{ManualClock, parse_time};

    fn limit(entity: Entity, spend: &str, max: Option<&str>) -> Limit {
        Limit {
            entity,
            stored_spend: spend.parse().unwrap(),
            max_budget: max.map(|m| m.parse().unwrap()),
            soft_budget: None,
            budget_duration: None,
            budget_reset_at: None,
            label: "Key=k".into(),
        }
    }

    fn ledger() -> (Arc<Ledger>, ManualClock) {
        let clock = ManualClock::new(parse_time("2026-01-01T00:00:00Z").unwrap());
        (Ledger::new(Arc::new(clock.clone())), clock)
    }

    #[test]
    fn reservations_count_against_the_budget_until_released() {
        let (ledger, _) = ledger();
        let limits = [limit(Entity::Key("k".into()), "0.99", Some("1"))];
        let first = ledger.reserve(&limits, "0.006".parse().unwrap()).unwrap();
        let refused = ledger
            .reserve(&limits, "0.006".parse().unwrap())
            .unwrap_err();
        assert!(
            refused.message.contains("Reserved: 0.006"),
            "{}",
            refused.message
        );
        drop(first);
        let again = ledger.reserve(&limits, "0.006".parse().unwrap()).unwrap();
        let settlement = again.settle("0.002".parse().unwrap());
        assert_eq!(settlement.key_spend, Some("0.992".parse().unwrap()));
    }

    #[test]
    fn exhausted_budget_uses_litellm_message() {
        let (ledger, _) = ledger();
        let limits = [limit(Entity::Key("k".into()), "1", Some("1"))];
        let error = ledger.reserve(&limits, Decimal::ZERO).unwrap_err();
        assert_eq!(
            error.message,
            "Budget has been exceeded! Key=k Current cost: 1, Max budget: 1"
        );
    }

    #[test]
    fn windows_reset_on_schedule() {
        let (ledger, clock) = ledger();
        let mut key = limit(Entity::Key("k".into()), "1", Some("1"));
        key.budget_duration = Some("30s".into());
        key.budget_reset_at = Some(clock.now() + chrono::Duration::seconds(30));
        assert!(
            ledger
                .reserve(std::slice::from_ref(&key), Decimal::ZERO)
                .is_err()
        );
        clock.advance(chrono::Duration::seconds(31));
        let reservation = ledger
            .reserve(std::slice::from_ref(&key), "0.5".parse().unwrap())
            .unwrap();
        assert_eq!(
            reservation.settle("0.5".parse().unwrap()).key_spend,
            Some("0.5".parse().unwrap())
        );
    }

    #[test]
    fn observed_reads_never_under_count_writes() {
        let (ledger, _) = ledger();
        let entity = Entity::Key("k".into());
        let limits = [limit(entity.clone(), "0", Some("10"))];
        ledger
            .reserve(&limits, Decimal::ONE)
            .unwrap()
            .settle(Decimal::ONE);
        let mark = ledger.mark(std::slice::from_ref(&entity));
        ledger.written(&entity, Decimal::ONE);
        // The read started before the write landed and saw 0: the write still counts.
        ledger.observe(&mark, &limits);
        assert_eq!(ledger.spend(&entity), Some((Decimal::ONE, Decimal::ZERO)));
    }

    #[test]
    fn soft_budget_crossing_is_reported() {
        let (ledger, _) = ledger();
        let mut key = limit(Entity::Key("k".into()), "0.4", None);
        key.soft_budget = Some("0.5".parse().unwrap());
        let settlement = ledger
            .reserve(std::slice::from_ref(&key), Decimal::ZERO)
            .unwrap()
            .settle("0.2".parse().unwrap());
        assert_eq!(
            settlement.soft_budget_crossed,
            vec![Entity::Key("k".into())]
        );
        let next = ledger
            .reserve(std::slice::from_ref(&key), Decimal::ZERO)
            .unwrap();
        assert_eq!(next.soft_budget_alerts, vec![Entity::Key("k".into())]);
    }

    #[test]
    fn levels_near_or_over_a_budget_are_reported() {
        let (ledger, _) = ledger();
        let mut key = limit(Entity::Key("k".into()), "0", Some("1"));
        key.soft_budget = Some("0.5".parse().unwrap());
        let team = limit(Entity::Team("t".into()), "0", Some("100"));
        let settle = |cost: &str| {
            ledger
                .reserve(&[key.clone(), team.clone()], Decimal::ZERO)
                .unwrap()
                .settle(cost.parse().unwrap())
                .levels
        };
        assert!(settle("0.4").is_empty(), "under every threshold");
        let levels = settle("0.2");
        assert_eq!(levels.len(), 1, "soft budget crossed: {levels:?}");
        assert_eq!(levels[0].spend, "0.6".parse::<Decimal>().unwrap());
        assert_eq!(levels[0].max_budget, Some(Decimal::ONE));
        let levels = settle("0.3");
        assert_eq!(levels[0].entity, Entity::Key("k".into()));
        assert_eq!(
            levels[0].spend,
            "0.9".parse::<Decimal>().unwrap(),
            "15 % left"
        );
        assert_eq!(
            entity_id(&Entity::TeamMember("t".into(), "u".into())),
            "t:u"
        );
    }
}
