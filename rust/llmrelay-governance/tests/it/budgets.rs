//! Budgets without overspend, and resets driven by a controllable clock.

use std::sync::Arc;

use rand::Rng as _;
use rust_decimal::Decimal;
use serde_json::json;

use llmrelay_governance::{Governance, ManualClock, SpendRow};

use crate::support::{Database, Server, config, sqlite_url};

#[tokio::test]
async fn concurrent_reservations_never_exceed_the_budget() {
    for server in Server::all().await {
        let created = server
            .admin_post("/key/generate", json!({"max_budget": 1.0, "spend": 0.99}))
            .await;
        let key = created["key"].as_str().unwrap().to_owned();
        let auth = server.engine.authenticate(&key).await.unwrap();
        let budget: Decimal = "1.0".parse().unwrap();
        let mut tasks = Vec::new();
        for index in 0..200 {
            let engine = Arc::clone(&server.engine);
            let auth = Arc::clone(&auth);
            tasks.push(tokio::spawn(async move {
                // Some requests carry max_tokens (small bound), others do not (large bound).
                let estimate: Decimal = if index % 3 == 0 {
                    "0.004".parse().unwrap()
                } else {
                    "0.0008".parse().unwrap()
                };
                let reservation = engine.reserve(&auth, None, "gpt-4o", estimate).await;
                tokio::task::yield_now().await;
                match reservation {
                    Ok(reservation) => {
                        let fraction = rand::rng().random_range(0..=100);
                        let actual = estimate * Decimal::from(fraction) / Decimal::from(100);
                        reservation.settle(actual);
                        Some(actual)
                    }
                    Err(error) => {
                        assert_eq!(error.status_code(), 422);
                        assert_eq!(error.error_type(), "budget_exceeded");
                        None
                    }
                }
            }));
        }
        let mut spent = Decimal::ZERO;
        let mut admitted = 0;
        for task in tasks {
            if let Some(actual) = task.await.unwrap() {
                spent += actual;
                admitted += 1;
            }
        }
        let total = "0.99".parse::<Decimal>().unwrap() + spent;
        assert!(total <= budget, "overspent: {total}");
        assert!(admitted > 0);
        assert_eq!(server.engine.key_spend(&auth), total);
        server.finish().await;
    }
}

#[tokio::test]
async fn budgets_reset_on_schedule_with_a_controlled_clock() {
    let (url, directory) = sqlite_url();
    let clock = ManualClock::new(chrono::Utc::now());
    let engine = Governance::open_with_clock(config(&url), Arc::new(clock.clone()))
        .await
        .unwrap();
    let server = Server::start(engine, Database::Sqlite(directory)).await;
    let key = server
        .admin_post(
            "/key/generate",
            json!({"max_budget": 0.01, "budget_duration": "30s"}),
        )
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = server.engine.authenticate(&key).await.unwrap();
    let reservation = server
        .engine
        .reserve(&auth, None, "m", "0.01".parse().unwrap())
        .await
        .unwrap();
    reservation.settle("0.01".parse().unwrap());
    let error = server
        .engine
        .reserve(&auth, None, "m", Decimal::ZERO)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("Budget has been exceeded! Key="),
        "{error}"
    );
    clock.advance(chrono::Duration::seconds(31));
    assert!(
        server
            .engine
            .reserve(&auth, None, "m", "0.005".parse().unwrap())
            .await
            .is_ok()
    );
    // The database row is reset by the job as well: by this call, or by the engine's own
    // background run of it, which may come first on a loaded machine.
    assert!(server.engine.reset_budgets().await.unwrap() <= 1);
    let info = server.admin_get(&format!("/key/info?key={key}")).await;
    assert_eq!(info["info"]["spend"], json!(0.0));
    server.finish().await;
}

#[tokio::test]
async fn end_user_team_member_and_model_budgets() {
    for server in Server::all().await {
        server
            .admin_post(
                "/customer/new",
                json!({"user_id": "cust", "max_budget": 0.02}),
            )
            .await;
        server
            .admin_post(
                "/team/new",
                json!({"team_id": "tb", "members_with_roles": [{"user_id": "m1", "role": "user"}]}),
            )
            .await;
        server
            .admin_post(
                "/team/member_update",
                json!({"team_id": "tb", "user_id": "m1", "max_budget_in_team": 0.04}),
            )
            .await;
        let key = server
            .admin_post("/key/generate", json!({"team_id": "tb", "user_id": "m1", "model_max_budget": {"gpt-4o": {"budget_limit": 0.01, "time_period": "1d"}}}))
            .await["key"]
            .as_str()
            .unwrap()
            .to_owned();
        let auth = server.engine.authenticate(&key).await.unwrap();
        let customer = server.engine.end_user("cust").await.unwrap().unwrap();
        // model_max_budget: 0.01 on gpt-4o
        server
            .engine
            .reserve(&auth, None, "gpt-4o", "0.01".parse().unwrap())
            .await
            .unwrap()
            .settle("0.01".parse().unwrap());
        let error = server
            .engine
            .reserve(&auth, None, "gpt-4o", "0.001".parse().unwrap())
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("exceeded budget for model=gpt-4o"),
            "{error}"
        );
        // End user: 0.02
        server
            .engine
            .reserve(&auth, Some(&customer), "other", "0.015".parse().unwrap())
            .await
            .unwrap()
            .settle("0.015".parse().unwrap());
        let error = server
            .engine
            .reserve(&auth, Some(&customer), "other", "0.01".parse().unwrap())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("End User=cust"), "{error}");
        // Team member: 0.04 (0.025 spent so far)
        let error = server
            .engine
            .reserve(&auth, None, "other", "0.02".parse().unwrap())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("User=m1 in Team=tb"), "{error}");
        server.finish().await;
    }
}

pub fn spend_row(id: &str, key: &str, spend: &str) -> SpendRow {
    SpendRow {
        request_id: id.to_owned(),
        call_type: "acompletion".into(),
        api_key: key.to_owned(),
        spend: spend.parse().unwrap(),
        prompt_tokens: 10,
        completion_tokens: 20,
        total_tokens: 30,
        start_time: "2026-03-01T10:00:00Z".parse().unwrap(),
        end_time: "2026-03-01T10:00:01Z".parse().unwrap(),
        model: "gpt-4o".into(),
        model_group: Some("gpt-4o".into()),
        custom_llm_provider: Some("openai".into()),
        status: Some("success".into()),
        metadata: json!({}),
        ..SpendRow::default()
    }
}
