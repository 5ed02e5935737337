//! Spend rows: durable writes, idempotent replay, daily aggregates, the spend reports.

use std::sync::Arc;

use serde_json::json;

use llmrelay_governance::Governance;

use crate::budgets::spend_row;
use crate::support::{Database, Server, config, sqlite_url};

#[tokio::test]
async fn spend_rows_feed_logs_aggregates_and_reports() {
    for server in Server::all().await {
        server
            .admin_post(
                "/team/new",
                json!({"team_id": "ts", "members_with_roles": [{"user_id": "u1", "role": "user"}]}),
            )
            .await;
        let key = server
            .admin_post("/key/generate", json!({"team_id": "ts", "user_id": "u1"}))
            .await["key"]
            .as_str()
            .unwrap()
            .to_owned();
        let token = llmrelay_governance::keys::hash_key(&key);
        for index in 0..5 {
            let mut row = spend_row(&format!("req-{index}"), &token, "0.1");
            row.user = Some("u1".into());
            row.team_id = Some("ts".into());
            row.end_user = Some("cust-9".into());
            row.request_tags = vec!["batch".into()];
            server.engine.record_spend(row).unwrap();
        }
        // The same request id twice is booked once.
        let mut duplicate = spend_row("req-0", &token, "0.1");
        duplicate.team_id = Some("ts".into());
        server.engine.record_spend(duplicate).unwrap();
        server.engine.spend_writer().flush().await;

        let logs = server
            .admin_get(&format!("/spend/logs?api_key={key}"))
            .await;
        assert_eq!(logs.as_array().unwrap().len(), 5);
        let summary = server
            .admin_get(&format!(
                "/spend/logs?api_key={key}&start_date=2026-03-01&end_date=2026-03-01"
            ))
            .await;
        assert_eq!(summary[0]["startTime"], "2026-03-01");
        assert!((summary[0]["spend"].as_f64().unwrap() - 0.5).abs() < 1e-9);

        let info = server.admin_get(&format!("/key/info?key={key}")).await;
        assert!(
            (info["info"]["spend"].as_f64().unwrap() - 0.5).abs() < 1e-9,
            "{info}"
        );
        let team = server.admin_get("/team/info?team_id=ts").await;
        assert!((team["team_info"]["spend"].as_f64().unwrap() - 0.5).abs() < 1e-9);

        let report = server
            .admin_get("/global/spend/report?start_date=2026-03-01&end_date=2026-03-31")
            .await;
        assert_eq!(report[0]["group_by_day"], "2026-03-01");
        assert_eq!(report[0]["teams"][0]["team_name"], "ts");
        assert!((report[0]["teams"][0]["total_spend"].as_f64().unwrap() - 0.5).abs() < 1e-9);
        // The month report reads llmrelay's per-team totals: one row for 5 calls of one key.
        let totals = server
            .raw_text(
                "SELECT \"team_id\" || ':' || \"api_requests\" FROM \"llmrelay_daily_team_spend\"",
            )
            .await;
        assert_eq!(totals, vec!["ts:5".to_owned()]);
        let customers = server
            .admin_get(
                "/global/spend/report?start_date=2026-03-01&end_date=2026-03-31&group_by=customer",
            )
            .await;
        assert_eq!(customers[0]["customers"][0]["customer"], "cust-9");
        assert!(
            (customers[0]["customers"][0]["total_spend"]
                .as_f64()
                .unwrap()
                - 0.5)
                .abs()
                < 1e-9
        );
        let teams = server.admin_get("/global/spend/teams").await;
        assert!(teams.to_string().contains("\"ts\""), "{teams}");
        let tags = server.admin_get("/global/spend/tags").await;
        assert_eq!(tags["spend_per_tag"][0]["name"], "batch");
        let models = server.admin_get("/global/spend/models").await;
        assert_eq!(models[0]["model"], "gpt-4o");
        let activity = server
            .admin_get("/team/daily/activity?team_ids=ts&start_date=2026-03-01&end_date=2026-03-02")
            .await;
        assert_eq!(activity["metadata"]["total_api_requests"], 5);
        assert_eq!(activity["results"][0]["metrics"]["prompt_tokens"], 50);
        let customer = server.admin_get("/customer/daily/activity?end_user_ids=cust-9&start_date=2026-03-01&end_date=2026-03-02").await;
        assert_eq!(customer["metadata"]["total_api_requests"], 5);
        let global = server.admin_get("/global/spend").await;
        assert!((global["spend"].as_f64().unwrap() - 0.5).abs() < 1e-9);
        server.finish().await;
    }
}

#[tokio::test]
async fn rows_in_the_write_ahead_file_survive_a_crash_and_replay_once() {
    let (url, directory) = sqlite_url();
    let wal = directory.join("wal");
    let mut first_config = config(&url);
    first_config.spend.wal_directory = Some(wal.clone());
    // A sink that never reaches the database stands for a process killed before its batch.
    std::fs::create_dir_all(&wal).unwrap();
    let mut text = String::new();
    for index in 0..3 {
        text.push_str(
            &serde_json::to_string(&spend_row(&format!("crash-{index}"), "k", "0.25")).unwrap(),
        );
        text.push('\n');
    }
    std::fs::write(wal.join("spend-000000000000.wal"), &text).unwrap();
    let engine = Governance::open(first_config.clone()).await.unwrap();
    engine.spend_writer().flush().await;
    engine.shutdown().await;
    // The same rows again (a crash after the insert, before the file was deleted): no double count.
    std::fs::write(wal.join("spend-000000000001.wal"), &text).unwrap();
    let engine = Governance::open(first_config).await.unwrap();
    engine.spend_writer().flush().await;
    let server = Server::start(Arc::clone(&engine), Database::Sqlite(directory)).await;
    let logs = server.admin_get("/global/spend/logs").await;
    assert_eq!(logs[0]["date"], "2026-03-01");
    assert!(
        (logs[0]["spend"].as_f64().unwrap() - 0.75).abs() < 1e-9,
        "{logs}"
    );
    let remaining = std::fs::read_dir(&wal).unwrap().count();
    assert_eq!(remaining, 0, "replayed segments are deleted");
    server.finish().await;
}
