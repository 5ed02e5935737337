//! Users, teams, organizations, end users and budgets beyond the API handlers: loading an end
//! user with its budget, and the scheduled budget resets.

use chrono::Utc;
use serde_json::Value;

use crate::budget::Entity;
use crate::db::{Kind, Param, Record};
use crate::engine::Governance;
use crate::error::GovernanceError;
use crate::identity::text;
use crate::store::SqlStore;
use crate::tables;
use crate::time::{BudgetDuration, to_millis};

/// An end user with its budget row under `litellm_budget_table`.
///
/// # Errors
/// Database errors.
pub async fn load_end_user(
    store: &SqlStore,
    end_user_id: &str,
) -> Result<Option<Record>, GovernanceError> {
    let Some(mut record) = store
        .get(
            &tables::END_USER_TABLE,
            &[("user_id", Param::text(end_user_id))],
        )
        .await?
    else {
        return Ok(None);
    };
    let budget = match text(&record, "budget_id") {
        Some(id) => store
            .get(&tables::BUDGET_TABLE, &[("budget_id", Param::text(id))])
            .await?
            .map_or(Value::Null, Value::Object),
        None => Value::Null,
    };
    record.insert("litellm_budget_table".into(), budget);
    Ok(Some(record))
}

/// The tables whose rows carry `spend`, `budget_duration` and `budget_reset_at`, with their
/// primary key and the ledger entity of a row.
/// `(table, primary key, entity of a row)`.
type Resettable = (&'static str, &'static str, fn(String) -> Entity);

const RESETTABLE: &[Resettable] = &[
    ("LiteLLM_VerificationToken", "token", Entity::Key),
    ("LiteLLM_UserTable", "user_id", Entity::User),
    ("LiteLLM_TeamTable", "team_id", Entity::Team),
];

/// Resets spend whose window has ended (keys, users, teams; end users and team members through
/// their budget rows) and schedules the next reset; returns how many rows were reset.
///
/// # Errors
/// Database errors.
pub async fn reset_due_budgets(engine: &Governance) -> Result<usize, GovernanceError> {
    let store = &engine.store;
    let now = engine.clock.now();
    let now_param = Param::Time(Some(to_millis(now)));
    let mut reset = 0;
    for (table, key, entity) in RESETTABLE {
        let rows = store
            .fetch(
                &format!(
                    "SELECT \"{key}\", \"budget_duration\", \"budget_reset_at\" FROM \"{table}\" WHERE \"budget_reset_at\" IS NOT NULL AND \"budget_reset_at\" <= $1 LIMIT 1000"
                ),
                std::slice::from_ref(&now_param),
                &[(key, Kind::Text), ("budget_duration", Kind::Text), ("budget_reset_at", Kind::Time)],
            )
            .await?;
        for row in rows {
            let id = text(&row, key).unwrap_or_default();
            let next = text(&row, "budget_duration")
                .and_then(|d| BudgetDuration::parse(&d).ok())
                .map(|d| {
                    let mut next =
                        d.after(crate::identity::time(&row, "budget_reset_at").unwrap_or(now));
                    while next <= now {
                        next = d.after(next);
                    }
                    next
                });
            let guard = store.money_write_guard().await;
            store
                .execute(
                    &format!("UPDATE \"{table}\" SET \"spend\" = $1, \"budget_reset_at\" = $2 WHERE \"{key}\" = $3 AND \"budget_reset_at\" <= $4"),
                    &[
                        Param::Money(Some(rust_decimal::Decimal::ZERO)),
                        Param::Time(next.map(to_millis)),
                        Param::text(&id),
                        now_param.clone(),
                    ],
                )
                .await?;
            drop(guard);
            engine.ledger.reset(&entity(id.clone()), next);
            let kind = match *table {
                "LiteLLM_VerificationToken" => "key",
                "LiteLLM_UserTable" => "user",
                _ => "team",
            };
            engine.changed(kind, &id).await?;
            reset += 1;
        }
    }
    // Budget rows (end users, team members, organizations): reset the spend of their users.
    let budgets = store
        .fetch(
            "SELECT \"budget_id\", \"budget_duration\", \"budget_reset_at\" FROM \"LiteLLM_BudgetTable\" WHERE \"budget_reset_at\" IS NOT NULL AND \"budget_reset_at\" <= $1 LIMIT 1000",
            std::slice::from_ref(&now_param),
            &[("budget_id", Kind::Text), ("budget_duration", Kind::Text), ("budget_reset_at", Kind::Time)],
        )
        .await?;
    for budget in budgets {
        let id = text(&budget, "budget_id").unwrap_or_default();
        let next = text(&budget, "budget_duration")
            .and_then(|d| BudgetDuration::parse(&d).ok())
            .map(|d| {
                let mut next =
                    d.after(crate::identity::time(&budget, "budget_reset_at").unwrap_or(now));
                while next <= now {
                    next = d.after(next);
                }
                next
            });
        let guard = store.money_write_guard().await;
        let zero = Param::Money(Some(rust_decimal::Decimal::ZERO));
        let members = store
            .fetch(
                "SELECT \"user_id\" FROM \"LiteLLM_EndUserTable\" WHERE \"budget_id\" = $1",
                &[Param::text(&id)],
                &[("user_id", Kind::Text)],
            )
            .await?;
        store
            .execute(
                "UPDATE \"LiteLLM_EndUserTable\" SET \"spend\" = $1 WHERE \"budget_id\" = $2",
                &[zero.clone(), Param::text(&id)],
            )
            .await?;
        let team_members = store
            .fetch(
                "SELECT \"team_id\", \"user_id\" FROM \"LiteLLM_TeamMembership\" WHERE \"budget_id\" = $1",
                &[Param::text(&id)],
                &[("team_id", Kind::Text), ("user_id", Kind::Text)],
            )
            .await?;
        store
            .execute(
                "UPDATE \"LiteLLM_TeamMembership\" SET \"spend\" = $1 WHERE \"budget_id\" = $2",
                &[zero, Param::text(&id)],
            )
            .await?;
        store
            .execute(
                "UPDATE \"LiteLLM_BudgetTable\" SET \"budget_reset_at\" = $1, \"updated_at\" = $2 WHERE \"budget_id\" = $3",
                &[Param::Time(next.map(to_millis)), Param::Time(Some(to_millis(Utc::now()))), Param::text(&id)],
            )
            .await?;
        drop(guard);
        for member in members {
            let user = text(&member, "user_id").unwrap_or_default();
            engine.ledger.reset(&Entity::EndUser(user.clone()), next);
            engine.changed("end_user", &user).await?;
        }
        for member in team_members {
            let team = text(&member, "team_id").unwrap_or_default();
            let user = text(&member, "user_id").unwrap_or_default();
            engine
                .ledger
                .reset(&Entity::TeamMember(team.clone(), user), None);
            engine.changed("team", &team).await?;
        }
        reset += 1;
    }
    Ok(reset)
}
