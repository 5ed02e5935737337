//! The limiter against a real Redis: the machine's single node (127.0.0.1:6379), a Redis
//! started by the test (killed and restarted mid-run), and a 3-primary Redis Cluster started by
//! the test on local ports. Without Redis the tests skip with the reason printed, except under
//! `CI=true`, where a missing Redis fails them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use llmrelay_mock::local_redis::{
    Cluster, OwnRedis, Sentinel, free_port, machine_redis, redis_server,
};

use llmrelay_limits::{
    Check, Denied, FailMode, FailPolicy, Limiter, LimiterConfig, Metric, RedisTarget,
};

/// A unique prefix per test run, so runs never see each other's counters.
fn prefix(test: &str) -> String {
    format!("llmrelay:test:{test}:{}:", uuid::Uuid::new_v4())
}

fn config(target: RedisTarget, prefix: &str) -> LimiterConfig {
    LimiterConfig {
        redis: Some(target),
        prefix: prefix.to_owned(),
        probe_interval: Duration::from_millis(200),
        timeout: Duration::from_millis(300),
        ..LimiterConfig::default()
    }
}

async fn started(config: LimiterConfig) -> Limiter {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let limiter = Limiter::new(config);
    limiter.start().await;
    limiter
}

/// A limiter connected to Redis (a loaded machine may need a probe or two to connect).
async fn connected(mut config: LimiterConfig) -> Limiter {
    config.timeout = Duration::from_secs(2);
    let limiter = started(config).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while limiter.health().redis_up != Some(true) {
        assert!(Instant::now() < deadline, "the limiter did not connect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    limiter
}

fn rpm(descriptor: &'static str, value: &str, limit: u64) -> Check {
    Check::new(
        descriptor,
        value,
        Metric::Requests,
        limit,
        Duration::from_secs(60),
    )
}

async fn hget(url: &str, key: &str, field: &str) -> Option<i64> {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("HGET")
        .arg(key)
        .arg(field)
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// `instances` limiters sharing one Redis; `total` concurrent calls spread over them.
async fn admitted(limiters: &[Limiter], checks: &[Check], total: usize) -> usize {
    let mut tasks = Vec::new();
    for i in 0..total {
        let limiter = limiters[i % limiters.len()].clone();
        let checks = checks.to_vec();
        tasks.push(tokio::spawn(async move {
            match limiter.acquire(&checks, 10).await {
                Ok(permit) => {
                    permit.settle(Some(10));
                    true
                }
                Err(Denied::Limit(_)) => false,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }));
    }
    let mut count = 0;
    for task in tasks {
        if task.await.unwrap() {
            count += 1;
        }
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_admit_exactly_the_limit() {
    let Some(url) = machine_redis() else { return };
    let prefix = prefix("exact");
    let mut limiters = Vec::new();
    for _ in 0..3 {
        limiters.push(started(config(RedisTarget::Single(url.clone()), &prefix)).await);
    }
    assert_eq!(limiters[0].health().redis_up, Some(true));
    let checks = [rpm("api_key", "k1", 100)];
    assert_eq!(admitted(&limiters, &checks, 1000).await, 100);
    // The key's limit and a team limit shared by two keys apply together.
    let team = rpm("team", "t1", 30);
    let a = [rpm("api_key", "a", 20), team.clone()];
    let b = [rpm("api_key", "b", 20), team];
    let first = admitted(&limiters, &a, 100).await;
    let second = admitted(&limiters, &b, 100).await;
    assert_eq!(first, 20);
    assert_eq!(second, 10, "the team's 30 are shared by both keys");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_call_leaves_nothing_reserved() {
    let Some(url) = machine_redis() else { return };
    let prefix = prefix("nothing");
    let limiter = started(config(RedisTarget::Single(url.clone()), &prefix)).await;
    let key = Check::new(
        "api_key",
        "k",
        Metric::Tokens,
        10_000,
        Duration::from_secs(60),
    );
    let team = rpm("team", "t", 1);
    let permit = limiter
        .acquire(&[key.clone(), team.clone()], 500)
        .await
        .unwrap();
    assert_eq!(hget(&url, &key.key(&prefix), "t").await, Some(500));
    permit.settle(Some(120));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hget(&url, &key.key(&prefix), "t").await, Some(120));
    let refused = limiter.acquire(&[key.clone(), team.clone()], 700).await;
    match refused {
        Err(Denied::Limit(status)) => {
            assert_eq!(status.descriptor, "team");
            assert_eq!(status.remaining(), 0);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The key's tokens did not move: the refused call reserved nothing.
    assert_eq!(hget(&url, &key.key(&prefix), "t").await, Some(120));
    assert_eq!(hget(&url, &team.key(&prefix), "t").await, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_slots_are_held_until_the_call_ends() {
    let Some(url) = machine_redis() else { return };
    let prefix = prefix("parallel");
    let a = started(config(RedisTarget::Single(url.clone()), &prefix)).await;
    let b = started(config(RedisTarget::Single(url.clone()), &prefix)).await;
    let slot = [Check::new(
        "api_key",
        "k",
        Metric::Parallel,
        2,
        Duration::ZERO,
    )];
    let one = a.acquire(&slot, 0).await.unwrap();
    let two = b.acquire(&slot, 0).await.unwrap();
    assert!(matches!(a.acquire(&slot, 0).await, Err(Denied::Limit(_))));
    drop(one);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let three = b.acquire(&slot, 0).await.unwrap();
    two.rollback();
    three.settle(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_under_both_policies() {
    let Some(binary) = redis_server() else { return };
    let port = free_port();
    let mut server = OwnRedis::start(binary, port, &[]);
    let url = format!("redis://127.0.0.1:{port}/0");
    let prefix = prefix("outage");
    let open = started(config(RedisTarget::Single(url.clone()), &prefix)).await;
    let second = started(config(RedisTarget::Single(url.clone()), &prefix)).await;
    let mut closed_config = config(RedisTarget::Single(url.clone()), &prefix);
    closed_config.policy = FailPolicy {
        requests: FailMode::Closed,
        ..FailPolicy::default()
    };
    let closed = started(closed_config).await;
    // Let the heartbeats see all three instances.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(open.health().instances, 3);
    let checks = [rpm("api_key", "k", 30)];
    for _ in 0..6 {
        open.acquire(&checks, 0).await.unwrap().settle(None);
    }
    server.stop();
    // No hang: every call is answered within the timeout, by its policy.
    let started_at = Instant::now();
    let mut served = 0;
    for _ in 0..40 {
        match open.acquire(&checks, 0).await {
            Ok(permit) => {
                served += 1;
                permit.settle(None);
            }
            Err(Denied::Limit(status)) => assert_eq!(status.limit, 10, "30 shared by 3"),
            Err(other) => panic!("fail_open refused with {other:?}"),
        }
    }
    assert_eq!(
        served, 10,
        "fail_open serves the limit divided by the instances"
    );
    assert!(started_at.elapsed() < Duration::from_secs(3));
    assert!(matches!(
        closed.acquire(&checks, 0).await,
        Err(Denied::Unavailable {
            metric: Metric::Requests,
            ..
        })
    ));
    assert_eq!(open.health().redis_up, Some(false));
    // Redis comes back (empty: it keeps nothing on disk); the fail-open counts are merged.
    let _server = OwnRedis::start(binary, port, &[]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while open.health().redis_up != Some(true) {
        assert!(
            Instant::now() < deadline,
            "the limiter did not see Redis return"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        hget(&url, &checks[0].key(&prefix), "t").await,
        Some(10),
        "the 10 calls served during the outage are counted in Redis"
    );
    assert!(open.health().transitions >= 2);
    // Back to the shared count: 30 - 10 left.
    let limiters = [open, second];
    assert_eq!(admitted(&limiters, &checks, 50).await, 20);
    drop(closed);
}

async fn cluster_hget(urls: &[String], key: &str, field: &str) -> Option<i64> {
    let client = redis::cluster::ClusterClient::new(urls.to_vec()).unwrap();
    let mut conn = client.get_async_connection().await.unwrap();
    redis::cmd("HGET")
        .arg(key)
        .arg(field)
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_admits_as_a_single_node_does() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let urls = cluster.urls();
    let prefix = prefix("cluster");
    let mut limiters = Vec::new();
    for _ in 0..3 {
        limiters.push(connected(config(RedisTarget::Cluster(urls.clone()), &prefix)).await);
    }
    assert_eq!(limiters[0].health().redis_up, Some(true));
    assert_eq!(
        admitted(&limiters, &[rpm("api_key", "k1", 100)], 1000).await,
        100
    );
    // Key, team and model limits together: entities in different slots.
    let team = rpm("team", "t1", 30);
    let model = rpm("model_per_key", "a:gpt-4o", 25);
    let a = [rpm("api_key", "a", 100), team.clone(), model.clone()];
    let b = [rpm("api_key", "b", 100), team.clone()];
    assert_eq!(admitted(&limiters, &a, 60).await, 25);
    assert_eq!(admitted(&limiters, &b, 60).await, 5);
    // The refused calls left nothing reserved on the key of `a` (checked before the model's
    // and team's counters in key order, so rolled back when those refused).
    let key_a = a[0].key(&prefix);
    assert_eq!(cluster_hget(&urls, &key_a, "t").await, Some(25));
    assert_eq!(cluster_hget(&urls, &team.key(&prefix), "t").await, Some(30));
}

fn budget(entity: &str, max: i64, seed: i64, period: i64) -> llmrelay_limits::BudgetCheck {
    llmrelay_limits::BudgetCheck {
        entity: entity.to_owned(),
        max_budget: Some(max),
        seed_spend: seed,
        period,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_budget_holds_across_instances() {
    let Some(url) = machine_redis() else { return };
    let prefix = prefix("budget");
    let mut limiters = Vec::new();
    for _ in 0..3 {
        limiters.push(started(config(RedisTarget::Single(url.clone()), &prefix)).await);
    }
    // A budget of 50 calls' worth (20 each), 300 concurrent calls over three instances whose
    // real cost is 15 (below the estimate).
    let key = budget("key:k", 1000, 0, 0);
    let mut tasks = Vec::new();
    for i in 0..300 {
        let limiter = limiters[i % 3].clone();
        let check = key.clone();
        tasks.push(tokio::spawn(async move {
            match limiter.reserve_budget(&[check], 20).await {
                Ok(permit) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    permit.settle(15);
                    true
                }
                Err(llmrelay_limits::BudgetDenied::Exceeded { .. }) => false,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }));
    }
    let mut admitted = 0;
    for task in tasks {
        if task.await.unwrap() {
            admitted += 1;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (spend, reserved) = limiters[0].budget_state("key:k").await.unwrap().unwrap();
    assert_eq!(reserved, 0, "every hold was released");
    assert_eq!(spend, admitted * 15);
    assert!(spend <= 1000, "spend {spend} over the budget");
    assert!(
        admitted >= 50,
        "admitted {admitted}: the settled (lower) costs free room"
    );
    // Once the budget is reached no call is admitted.
    let mut after = 0;
    for limiter in &limiters {
        while let Ok(permit) = limiter.reserve_budget(std::slice::from_ref(&key), 20).await {
            permit.settle(15);
            after += 1;
            assert!(after < 100);
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (spend, _) = limiters[0].budget_state("key:k").await.unwrap().unwrap();
    assert!(spend <= 1000 && spend + 20 > 1000, "spend {spend}");
    // A later period reseeds the spend (the budget was reset); an earlier one is ignored.
    let permit = limiters[1]
        .reserve_budget(&[budget("key:k", 1000, 0, 1_000)], 20)
        .await
        .unwrap();
    permit.settle(20);
    assert!(
        limiters[2]
            .reserve_budget(&[budget("key:k", 1000, 990, 500)], 20)
            .await
            .is_ok(),
        "a stale period does not reset the spend back"
    );
    // A team budget refusing rolls back the key's hold.
    let refused = limiters[0]
        .reserve_budget(
            &[budget("key:k2", 1000, 0, 0), budget("team:t", 10, 10, 0)],
            5,
        )
        .await;
    assert!(matches!(
        refused,
        Err(llmrelay_limits::BudgetDenied::Exceeded { ref entity, .. }) if entity == "team:t"
    ));
    assert_eq!(
        limiters[0].budget_state("key:k2").await.unwrap(),
        Some((0, 0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_holds_parallel_slots_and_budgets() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let urls = cluster.urls();
    let prefix = prefix("cluster-more");
    let a = connected(config(RedisTarget::Cluster(urls.clone()), &prefix)).await;
    let b = connected(config(RedisTarget::Cluster(urls.clone()), &prefix)).await;
    let slots = [
        Check::new("api_key", "k", Metric::Parallel, 2, Duration::ZERO),
        Check::new("team", "t", Metric::Parallel, 3, Duration::ZERO),
    ];
    let one = a.acquire(&slots, 0).await.unwrap();
    let two = b.acquire(&slots, 0).await.unwrap();
    assert!(matches!(a.acquire(&slots, 0).await, Err(Denied::Limit(_))));
    // The key refused the third (it is first in key order: nothing was taken).
    let other_key = [
        Check::new("api_key", "k2", Metric::Parallel, 5, Duration::ZERO),
        slots[1].clone(),
    ];
    let three = b.acquire(&other_key, 0).await.unwrap();
    let fourth = b.acquire(&other_key, 0).await;
    assert!(
        matches!(fourth, Err(Denied::Limit(_))),
        "{three:?} {fourth:?}"
    );
    drop((one, two, three));
    // Budgets of two entities in different slots: the team's refusal releases the key's hold.
    let key = budget("key:c", 1000, 0, 0);
    let team = budget("team:c", 100, 0, 0);
    let mut admitted = 0;
    for i in 0..20 {
        let limiter = if i % 2 == 0 { &a } else { &b };
        if let Ok(permit) = limiter
            .reserve_budget(&[key.clone(), team.clone()], 10)
            .await
        {
            permit.settle(10);
            admitted += 1;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(admitted, 10);
    assert_eq!(a.budget_state("key:c").await.unwrap(), Some((100, 0)));
    assert_eq!(a.budget_state("team:c").await.unwrap(), Some((100, 0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_finds_the_master() {
    let Some(mut sentinel) = Sentinel::start("primary") else {
        return;
    };
    let prefix = prefix("sentinel");
    let target = RedisTarget::Sentinel {
        nodes: vec![sentinel.url()],
        service_name: "primary".to_owned(),
        password: None,
    };
    let a = connected(config(target.clone(), &prefix)).await;
    let b = connected(config(target, &prefix)).await;
    sentinel.stop();
    assert_eq!(a.health().redis_up, Some(true), "{:?}", a.health());
    let checks = [rpm("api_key", "s", 10)];
    assert_eq!(admitted(&[a, b], &checks, 30).await, 10);
    let url = format!("{}/0", sentinel.master.url());
    assert_eq!(hget(&url, &checks[0].key(&prefix), "t").await, Some(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_made_while_the_limiter_connects_is_counted_in_redis() {
    let Some(url) = machine_redis() else { return };
    let prefix = prefix("connecting");
    let limiter = Limiter::new(config(RedisTarget::Single(url), &prefix));
    // As a Router starts it: announced, then spawned; the first call comes at once.
    limiter.connecting();
    let background = limiter.clone();
    tokio::spawn(async move { background.start().await });
    let checks = [rpm("deployment", "d1", 5)];
    let permit = limiter.acquire(&checks, 0).await;
    assert!(permit.is_ok());
    drop(permit);
    let health = limiter.health();
    assert_eq!(health.redis_up, Some(true));
    assert_eq!(
        health.served_in_fallback, 0,
        "counted in Redis, not in the local fallback"
    );
}
