//! The long-tier scale test (not run in CI; `scripts/long-tests governance-scale`): fills a
//! dedicated PostgreSQL database with keys, users, teams and spend rows (server-side
//! `generate_series`, indexes built after the load), then measures key verification through the
//! engine (cold: keys it has not seen, each read from the database; warm: cached) and, through
//! the management API over HTTP, `/spend/logs` for one key and one day and
//! `/global/spend/report` for a month.
//!
//! ```text
//! cargo run --release -p llmrelay-governance --example governance_scale -- \
//!     [--admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--database llmrelay_scale] \
//!     [--keys 1000000] [--spend-rows 10000000] [--samples 2000] [--keep]
//! ```

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic,
    reason = "a measurement script: it stops on setup errors and prints its report"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use llmrelay_governance::{Governance, GovernanceConfig, management_router};
use sqlx::Connection as _;

const MASTER_KEY: &str = "sk-scale-master-key-000000";
const HOT_KEY_SHARE: i64 = 100; // one spend row in 100 belongs to key 0
const TEAMS: i64 = 1_000;
const USERS: i64 = 10_000;
const MONTH_SECONDS: i64 = 31 * 24 * 3600;

struct Options {
    admin_url: String,
    database: String,
    keys: i64,
    spend_rows: i64,
    samples: usize,
    keep: bool,
}

fn options() -> Options {
    let mut options = Options {
        admin_url: "postgresql://postgres@127.0.0.1:5432/postgres".to_owned(),
        database: "llmrelay_scale".to_owned(),
        keys: 1_000_000,
        spend_rows: 10_000_000,
        samples: 2_000,
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("a value after the option");
        match arg.as_str() {
            "--admin-url" => options.admin_url = value(),
            "--database" => options.database = value(),
            "--keys" => options.keys = value().parse().expect("--keys: a number"),
            "--spend-rows" => options.spend_rows = value().parse().expect("--spend-rows: a number"),
            "--samples" => options.samples = value().parse().expect("--samples: a number"),
            "--keep" => options.keep = true,
            other => panic!("unknown option {other}"),
        }
    }
    options
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn database_url(admin_url: &str, database: &str) -> String {
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url, |(base, _)| base);
    format!("{base}/{database}")
}

/// Runs a statement on a connection whose server process is niced (the machine is shared).
async fn niced_connection(url: &str) -> sqlx::PgConnection {
    use sqlx::Row as _;
    let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
    let pid: i32 = sqlx::query("SELECT pg_backend_pid()")
        .fetch_one(&mut connection)
        .await
        .unwrap()
        .get(0);
    let _ = std::process::Command::new("renice")
        .args(["-n", "10", "-p", &pid.to_string()])
        .output();
    sqlx::query("SET synchronous_commit = off")
        .execute(&mut connection)
        .await
        .unwrap();
    sqlx::query("SET work_mem = '128MB'")
        .execute(&mut connection)
        .await
        .unwrap();
    sqlx::query("SET maintenance_work_mem = '256MB'")
        .execute(&mut connection)
        .await
        .unwrap();
    connection
}

async fn timed(connection: &mut sqlx::PgConnection, label: &str, sql: &str) -> Duration {
    let start = Instant::now();
    sqlx::raw_sql(sql).execute(&mut *connection).await.unwrap();
    let took = start.elapsed();
    println!("  {label}: {:.1} s", took.as_secs_f64());
    took
}

fn token_sql(index: &str) -> String {
    format!("encode(sha256(convert_to('sk-scale-' || ({index}), 'UTF8')), 'hex')")
}

/// The key a spend row belongs to: 1 % to key 0, the rest spread over every key.
fn key_of_row(row: &str, keys: i64) -> String {
    format!("(CASE WHEN {row} % {HOT_KEY_SHARE} = 0 THEN 0 ELSE ({row} * 7919) % {keys} END)")
}

async fn fill(url: &str, options: &Options) -> Duration {
    let started = Instant::now();
    let mut connection = niced_connection(url).await;
    let keys = options.keys;
    println!("filling {} (load {})", options.database, load_average());
    timed(
        &mut connection,
        "teams",
        &format!(
            "INSERT INTO \"LiteLLM_TeamTable\" (\"team_id\", \"team_alias\", \"max_budget\", \"members_with_roles\")
             SELECT 'team-' || t, 'Team ' || t, 100000, '[]' FROM generate_series(0, {}) t",
            TEAMS - 1
        ),
    )
    .await;
    timed(
        &mut connection,
        "users and memberships",
        &format!(
            "INSERT INTO \"LiteLLM_UserTable\" (\"user_id\", \"user_role\", \"max_budget\", \"teams\")
             SELECT 'user-' || u, 'internal_user', 10000, ARRAY['team-' || (u % {TEAMS})] FROM generate_series(0, {users}) u;
             INSERT INTO \"LiteLLM_TeamMembership\" (\"user_id\", \"team_id\")
             SELECT 'user-' || u, 'team-' || (u % {TEAMS}) FROM generate_series(0, {users}) u",
            users = USERS - 1
        ),
    )
    .await;
    let chunk = 250_000;
    let key_start = Instant::now();
    let mut low = 0;
    while low < keys {
        let high = (low + chunk).min(keys) - 1;
        sqlx::raw_sql(&format!(
            "INSERT INTO \"LiteLLM_VerificationToken\" (\"token\", \"key_name\", \"key_alias\", \"user_id\", \"team_id\", \"max_budget\", \"created_at\", \"updated_at\")
             SELECT {token}, 'sk-...' || i, 'key-' || i, 'user-' || (i % {USERS}), 'team-' || ((i % {USERS}) % {TEAMS}), 100, now(), now()
             FROM generate_series({low}::bigint, {high}::bigint) i",
            token = token_sql("i")
        ))
        .execute(&mut connection)
        .await
        .unwrap();
        low = high + 1;
    }
    println!("  {keys} keys: {:.1} s", key_start.elapsed().as_secs_f64());
    // The indexes of the spend log and daily tables are built once after the load (faster than
    // maintaining them row by row).
    use sqlx::Row as _;
    let definitions: Vec<(String, String)> = sqlx::query(
        "SELECT indexname::text, indexdef::text FROM pg_indexes WHERE tablename IN ('LiteLLM_SpendLogs', 'LiteLLM_DailyTeamSpend', 'LiteLLM_DailyUserSpend') AND indexname NOT LIKE '%pkey'",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap()
    .iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect();
    for (name, _) in &definitions {
        sqlx::raw_sql(&format!("DROP INDEX \"{name}\""))
            .execute(&mut connection)
            .await
            .unwrap();
    }
    let rows = options.spend_rows;
    let chunk = 1_000_000;
    let spend_start = Instant::now();
    let mut low = 0;
    while low < rows {
        let high = (low + chunk).min(rows) - 1;
        let key = key_of_row("i", keys);
        sqlx::raw_sql(&format!(
            "INSERT INTO \"LiteLLM_SpendLogs\" (\"request_id\", \"call_type\", \"api_key\", \"spend\", \"total_tokens\", \"prompt_tokens\", \"completion_tokens\",
                 \"startTime\", \"endTime\", \"model\", \"model_group\", \"custom_llm_provider\", \"user\", \"team_id\", \"metadata\", \"request_tags\", \"status\")
             SELECT 'scale-' || i, 'acompletion', {token}, ((i % 1000) + 1) / 100000.0, 300, 100, 200,
                 start_time, start_time + interval '800 milliseconds', model, model, 'openai',
                 'user-' || (k % {USERS}), 'team-' || ((k % {USERS}) % {TEAMS}), '{{}}', '[]', 'success'
             FROM (SELECT i, {key} AS k,
                          TIMESTAMP '2026-03-01' + ((i * 37) % {MONTH_SECONDS}) * interval '1 second' AS start_time,
                          (ARRAY['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5'])[(i % 3) + 1] AS model
                   FROM generate_series({low}::bigint, {high}::bigint) i) s",
            token = token_sql("k")
        ))
        .execute(&mut connection)
        .await
        .unwrap();
        println!(
            "  spend rows to {}: {:.1} s",
            high + 1,
            spend_start.elapsed().as_secs_f64()
        );
        low = high + 1;
    }
    // The daily aggregates as the spend writer keeps them (one row per entity, day, key, model).
    for (table, entity, source) in [
        ("LiteLLM_DailyTeamSpend", "team_id", "\"team_id\""),
        ("LiteLLM_DailyUserSpend", "user_id", "\"user\""),
    ] {
        timed(
            &mut connection,
            table,
            &format!(
                "INSERT INTO \"{table}\" (\"id\", \"{entity}\", \"date\", \"api_key\", \"model\", \"model_group\", \"custom_llm_provider\",
                     \"prompt_tokens\", \"completion_tokens\", \"spend\", \"api_requests\", \"successful_requests\", \"total_response_time_ms\")
                 SELECT gen_random_uuid()::text, {source}, to_char(\"startTime\", 'YYYY-MM-DD'), \"api_key\", \"model\", MIN(\"model_group\"), \"custom_llm_provider\",
                     SUM(\"prompt_tokens\"), SUM(\"completion_tokens\"), SUM(\"spend\"), COUNT(*), COUNT(*), COUNT(*) * 800
                 FROM \"LiteLLM_SpendLogs\" GROUP BY {source}, to_char(\"startTime\", 'YYYY-MM-DD'), \"api_key\", \"model\", \"custom_llm_provider\""
            ),
        )
        .await;
    }
    let index_start = Instant::now();
    for (_, definition) in &definitions {
        sqlx::raw_sql(definition)
            .execute(&mut connection)
            .await
            .unwrap();
    }
    println!(
        "  indexes of the spend log and daily tables: {:.1} s",
        index_start.elapsed().as_secs_f64()
    );
    // llmrelay's per-team and per-end-user totals, as migration 2 computes them.
    timed(
        &mut connection,
        "daily totals",
        include_str!("../migrations/postgres/0002_daily_totals.sql"),
    )
    .await;
    timed(&mut connection, "analyze", "ANALYZE").await;
    started.elapsed()
}

fn percentile(samples: &mut [Duration], fraction: f64) -> Duration {
    samples.sort();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a short list"
    )]
    let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
    samples[index.min(samples.len() - 1)]
}

fn micros(duration: Duration) -> String {
    format!("{:.0} µs", duration.as_secs_f64() * 1e6)
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

async fn time_requests(client: &reqwest::Client, url: &str, runs: usize) -> (Vec<Duration>, usize) {
    let mut samples = Vec::with_capacity(runs);
    let mut size = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let response = client
            .get(url)
            .bearer_auth(MASTER_KEY)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        size = response.bytes().await.unwrap().len();
        samples.push(start.elapsed());
    }
    (samples, size)
}

#[tokio::main]
async fn main() {
    let options = options();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let load_at_start = load_average();
    let mut admin = sqlx::PgConnection::connect(&options.admin_url)
        .await
        .unwrap();
    for statement in [
        format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            options.database
        ),
        format!("CREATE DATABASE \"{}\"", options.database),
    ] {
        sqlx::raw_sql(&statement).execute(&mut admin).await.unwrap();
    }
    let url = database_url(&options.admin_url, &options.database);
    llmrelay_governance::migrate(&url).await.unwrap();
    let fill_time = fill(&url, &options).await;
    let load_after_fill = load_average();

    // Cold verification: distinct keys the engine has never seen (each read from the database).
    let mut config = GovernanceConfig::new(&url);
    config.master_key = Some(MASTER_KEY.to_owned());
    let engine = Governance::open(config).await.unwrap();
    assert!(engine.wait_until_migrated(Duration::from_secs(10)).await);
    let step = (options.keys / i64::try_from(options.samples).unwrap()).max(1);
    // A running proxy's pooled connections have prepared the verification statement long ago
    // (PostgreSQL plans a prepared statement for its first executions on each connection):
    // verify other keys first, so "cold" means a key this engine has not seen, on warm
    // connections.
    for warm_up in 0..200 {
        let key = format!("sk-scale-{}", (warm_up * step + 5) % options.keys);
        engine.authenticate(&key).await.unwrap();
    }
    let mut cold = Vec::with_capacity(options.samples);
    let mut warm = Vec::with_capacity(options.samples);
    for sample in 0..i64::try_from(options.samples).unwrap() {
        let key = format!("sk-scale-{}", (sample * step + 17) % options.keys);
        let start = Instant::now();
        let auth = engine.authenticate(&key).await.unwrap();
        cold.push(start.elapsed());
        assert!(auth.team_id.is_some());
        let start = Instant::now();
        engine.authenticate(&key).await.unwrap();
        warm.push(start.elapsed());
    }

    // The management API over HTTP on a local port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = management_router(Arc::clone(&engine));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::new();
    let base = format!("http://{address}");
    let typical_key = format!("sk-scale-{}", (12_345 * 7919) % options.keys);
    let mut report = Vec::new();
    for (label, url) in [
        (
            "`/spend/logs` hot key (1 % of rows), one day, summarized",
            format!(
                "{base}/spend/logs?api_key=sk-scale-0&start_date=2026-03-15&end_date=2026-03-15"
            ),
        ),
        (
            "`/spend/logs` hot key, one day, rows",
            format!(
                "{base}/spend/logs?api_key=sk-scale-0&start_date=2026-03-15&end_date=2026-03-15&summarize=false"
            ),
        ),
        (
            "`/spend/logs` typical key, one day, rows",
            format!(
                "{base}/spend/logs?api_key={typical_key}&start_date=2026-03-15&end_date=2026-03-15&summarize=false"
            ),
        ),
        (
            "`/global/spend/report` March, by team",
            format!(
                "{base}/global/spend/report?start_date=2026-03-01&end_date=2026-03-31&group_by=team"
            ),
        ),
    ] {
        let (mut samples, size) = time_requests(&client, &url, 20).await;
        report.push((
            label,
            percentile(&mut samples, 0.5),
            percentile(&mut samples, 0.99),
            size,
        ));
    }
    let load_at_end = load_average();

    println!();
    println!(
        "### {} keys, {} spend rows (PostgreSQL, fill {:.0} s)",
        options.keys,
        options.spend_rows,
        fill_time.as_secs_f64()
    );
    println!();
    println!("| measurement | median | p99 | target |");
    println!("|---|---:|---:|---|");
    println!(
        "| key verification, cold ({} distinct keys not seen by the engine, warm connections) | {} | {} | p99 ≤ 1 ms |",
        options.samples,
        micros(percentile(&mut cold, 0.5)),
        micros(percentile(&mut cold, 0.99))
    );
    println!(
        "| key verification, warm (same keys, cached) | {} | {} | p99 ≤ 20 µs |",
        micros(percentile(&mut warm, 0.5)),
        micros(percentile(&mut warm, 0.99))
    );
    for (label, median, p99, size) in &report {
        println!(
            "| {label} ({} kB answer, 20 runs) | {} | {} | ≤ 200 ms |",
            size / 1000,
            millis(*median),
            millis(*p99)
        );
    }
    println!();
    println!(
        "load average (1/5/15 min): start {load_at_start}; after the fill {load_after_fill}; end {load_at_end}"
    );
    engine.shutdown().await;
    if !options.keep {
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            options.database
        ))
        .execute(&mut admin)
        .await
        .unwrap();
    }
}
