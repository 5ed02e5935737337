//! Micro benchmarks: warm key verification (cached) and a budget reserve + settle.

#![expect(clippy::unwrap_used, reason = "a benchmark stops on setup errors")]

use std::sync::Arc;

use llmrelay_governance::budget::{Entity, Ledger, Limit};
use llmrelay_governance::{Governance, GovernanceConfig, SystemClock};
use rust_decimal::Decimal;

fn main() {
    divan::main();
}

#[divan::bench]
fn warm_key_verification(bencher: divan::Bencher) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let directory =
        std::env::temp_dir().join(format!("gov-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&directory).unwrap();
    let url = format!("sqlite://{}", directory.join("bench.db").display());
    let (engine, key) = runtime.block_on(async {
        let engine = Governance::open(GovernanceConfig::new(&url)).await.unwrap();
        let key = llmrelay_governance::keys::generate_key();
        let mut record = llmrelay_governance::keys::new_key_record(&key, chrono::Utc::now());
        record.insert("key_alias".into(), "bench".into());
        engine
            .store()
            .insert(&llmrelay_governance::tables::VERIFICATION_TOKEN, &record)
            .await
            .unwrap();
        engine.authenticate(&key).await.unwrap();
        (engine, key)
    });
    bencher.bench_local(|| {
        runtime
            .block_on(engine.authenticate(divan::black_box(&key)))
            .unwrap()
    });
    runtime.block_on(engine.shutdown());
    let _ = std::fs::remove_dir_all(&directory);
}

#[divan::bench]
fn budget_reserve_and_settle(bencher: divan::Bencher) {
    let ledger = Ledger::new(Arc::new(SystemClock));
    let limits: Vec<Limit> = [
        Entity::Key("k".into()),
        Entity::Team("t".into()),
        Entity::User("u".into()),
    ]
    .into_iter()
    .map(|entity| Limit {
        entity,
        stored_spend: Decimal::ZERO,
        max_budget: Some(Decimal::from(1_000_000_000)),
        soft_budget: None,
        budget_duration: None,
        budget_reset_at: None,
        label: "Key=k".into(),
    })
    .collect();
    let estimate: Decimal = "0.0123".parse().unwrap();
    let actual: Decimal = "0.0042".parse().unwrap();
    bencher.bench_local(|| {
        ledger
            .reserve(divan::black_box(&limits), estimate)
            .unwrap()
            .settle(actual)
    });
}
