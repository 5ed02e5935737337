//! Routing decisions: filter a group's deployments (cooldown, health, context window,
//! rpm/tpm, `order` tier), then pick one by the configured strategy.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rand::Rng;

use crate::config::{RoutingStrategy, RoutingStrategyArgs};
use crate::deployment::Deployment;

/// What a request brings to a routing decision.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestShape {
    pub stream: bool,
    /// Estimated input tokens (0 when not counted).
    pub input_tokens: u64,
}

/// Why no deployment could be picked.
#[derive(Debug, Clone, PartialEq)]
pub enum NoDeployment {
    /// Every candidate is cooling down; the earliest returns at this epoch ms.
    AllCoolingDown { earliest_ms: u64, ids: Vec<String> },
    /// Every candidate's context window is smaller than the request.
    ContextWindow {
        input_tokens: u64,
        largest: Option<u64>,
    },
    /// Every candidate is at its rpm/tpm limit for this minute.
    AtLimit,
    /// No candidates at all.
    Empty,
}

/// Settings that steer a decision.
#[derive(Debug, Clone, Copy)]
pub struct Decision<'a> {
    pub strategy: RoutingStrategy,
    pub args: &'a RoutingStrategyArgs,
    pub pre_call_checks: bool,
    pub health_routing: bool,
    pub now_ms: u64,
}

/// Pick a deployment among `candidates`, skipping `exclude` (ids already tried by this
/// request) while any other is left.
///
/// # Errors
/// Why nothing could be picked.
pub fn choose<'a, R: Rng + ?Sized>(
    candidates: &'a [Arc<Deployment>],
    exclude: &[String],
    shape: RequestShape,
    decision: &Decision<'_>,
    rng: &mut R,
) -> Result<&'a Arc<Deployment>, NoDeployment> {
    if candidates.is_empty() {
        return Err(NoDeployment::Empty);
    }
    let now = decision.now_ms;
    let mut pool: Vec<&Arc<Deployment>> = Vec::with_capacity(candidates.len());
    pool.extend(candidates.iter().filter(|d| !exclude.contains(&d.id)));
    if pool.is_empty() {
        pool.extend(candidates.iter());
    }
    // Cooldowns.
    let mut earliest = u64::MAX;
    pool.retain(|d| match d.state.cooldown_until(now) {
        Some(until) => {
            earliest = earliest.min(until);
            false
        }
        None => true,
    });
    if pool.is_empty() {
        return Err(NoDeployment::AllCoolingDown {
            earliest_ms: earliest,
            ids: candidates.iter().map(|d| d.id.clone()).collect(),
        });
    }
    // Health: skip deployments whose last probe failed while a healthy one is left.
    if decision.health_routing
        && pool
            .iter()
            .any(|d| d.state.health().is_none_or(|h| h.healthy))
    {
        pool.retain(|d| d.state.health().is_none_or(|h| h.healthy));
    }
    // Context window.
    if decision.pre_call_checks && shape.input_tokens > 0 {
        let largest = pool.iter().filter_map(|d| d.max_input_tokens).max();
        pool.retain(|d| {
            d.max_input_tokens
                .is_none_or(|max| shape.input_tokens <= max)
        });
        if pool.is_empty() {
            return Err(NoDeployment::ContextWindow {
                input_tokens: shape.input_tokens,
                largest,
            });
        }
    }
    // rpm / tpm limits: this minute's usage as LiteLLM checks it, and the limiter's last
    // refusal (its sliding window is full until then).
    pool.retain(|d| {
        if d.rpm.is_none() && d.tpm.is_none() {
            return true;
        }
        if d.state.limited_until(now).is_some() {
            return false;
        }
        let usage = d.state.usage(now);
        d.rpm.is_none_or(|limit| usage.rpm < limit)
            && d.tpm
                .is_none_or(|limit| usage.tpm + shape.input_tokens <= limit)
    });
    if pool.is_empty() {
        return Err(NoDeployment::AtLimit);
    }
    // `order` tiers: the lowest order left wins (deployments without one come last).
    if pool.iter().any(|d| d.order.is_some()) {
        let best = pool
            .iter()
            .filter_map(|d| d.order)
            .min()
            .unwrap_or(i64::MAX);
        pool.retain(|d| d.order.unwrap_or(i64::MAX) == best);
    }
    let index = match decision.strategy {
        RoutingStrategy::SimpleShuffle => simple_shuffle(&pool, rng),
        RoutingStrategy::LeastBusy => lowest_by(&pool, rng, |d| {
            d.state.active.load(Ordering::Relaxed) as f64
        }),
        RoutingStrategy::UsageBased => lowest_by(&pool, rng, |d| d.state.usage(now).tpm as f64),
        RoutingStrategy::CostBased => lowest_by(&pool, rng, |d| {
            d.cost_per_token.unwrap_or(UNKNOWN_COST_PER_TOKEN)
        }),
        RoutingStrategy::LatencyBased => lowest_latency(&pool, shape, decision, rng),
    };
    pool.get(index).copied().ok_or(NoDeployment::Empty)
}

/// Cost assumed for a deployment with no known price (LiteLLM ranks those last).
const UNKNOWN_COST_PER_TOKEN: f64 = 1.0;

/// LiteLLM's simple-shuffle: weighted by `weight` if any deployment sets one, else by `rpm`,
/// else by `tpm`, else uniform.
fn simple_shuffle<R: Rng + ?Sized>(pool: &[&Arc<Deployment>], rng: &mut R) -> usize {
    let weight_of: Option<fn(&Deployment) -> Option<f64>> =
        if pool.iter().any(|d| d.weight.is_some()) {
            Some(|d| d.weight)
        } else if pool.iter().any(|d| d.rpm.is_some()) {
            Some(|d| d.rpm.map(|v| v as f64))
        } else if pool.iter().any(|d| d.tpm.is_some()) {
            Some(|d| d.tpm.map(|v| v as f64))
        } else {
            None
        };
    let Some(weight_of) = weight_of else {
        return rng.random_range(0..pool.len());
    };
    let total: f64 = pool.iter().map(|d| weight_of(d).unwrap_or(0.0)).sum();
    if total <= 0.0 {
        return rng.random_range(0..pool.len());
    }
    let mut point = rng.random::<f64>() * total;
    for (index, deployment) in pool.iter().enumerate() {
        let weight = weight_of(deployment).unwrap_or(0.0);
        if point < weight {
            return index;
        }
        point -= weight;
    }
    pool.len() - 1
}

/// The deployment with the lowest score; ties broken at random.
fn lowest_by<R: Rng + ?Sized>(
    pool: &[&Arc<Deployment>],
    rng: &mut R,
    score: impl Fn(&Deployment) -> f64,
) -> usize {
    let mut best = f64::INFINITY;
    let mut chosen = 0;
    let mut ties = 0_u32;
    for (index, deployment) in pool.iter().enumerate() {
        let value = score(deployment);
        if value < best {
            best = value;
            chosen = index;
            ties = 1;
        } else if value == best {
            // Reservoir sampling over equal scores: each tie is equally likely.
            ties += 1;
            if rng.random_range(0..ties) == 0 {
                chosen = index;
            }
        }
    }
    chosen
}

/// LiteLLM's lowest-latency routing: deployments with no samples are tried first (so every
/// deployment gets measured); else a random one within `lowest × (1 + buffer)`.
fn lowest_latency<R: Rng + ?Sized>(
    pool: &[&Arc<Deployment>],
    shape: RequestShape,
    decision: &Decision<'_>,
    rng: &mut R,
) -> usize {
    let ttl_ms = (decision.args.ttl * 1000.0) as u64;
    let max = decision.args.max_latency_list_size;
    let mut scores: Vec<f64> = Vec::with_capacity(pool.len());
    for deployment in pool {
        let average = deployment
            .state
            .average_latency(shape.stream, decision.now_ms, ttl_ms, max)
            .unwrap_or(0.0);
        scores.push(average);
    }
    let lowest = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let bound = lowest * (1.0 + decision.args.lowest_latency_buffer);
    let within: Vec<usize> = (0..scores.len()).filter(|i| scores[*i] <= bound).collect();
    match within.len() {
        0 => 0,
        1 => within[0],
        n => within[rng.random_range(0..n)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DeploymentConfig;
    use crate::deployment::{HealthStatus, LatencySample};
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use serde_json::{Value, json};

    fn deployment(id: &str, params: Value) -> Arc<Deployment> {
        let Value::Object(mut litellm_params) = params else {
            unreachable!()
        };
        litellm_params
            .entry("model")
            .or_insert_with(|| json!("openai/gpt-4o"));
        let config = DeploymentConfig {
            model_name: "g".into(),
            litellm_params,
            model_info: Some(json!({"id": id}).as_object().cloned().unwrap_or_default()),
            rpm: None,
            tpm: None,
        };
        Arc::new(Deployment::from_config(&config, "model_list[0]").unwrap())
    }

    fn decide(strategy: RoutingStrategy, args: &RoutingStrategyArgs) -> Decision<'_> {
        Decision {
            strategy,
            args,
            pre_call_checks: true,
            health_routing: true,
            now_ms: 1_000_000,
        }
    }

    /// Pick `n` times and count per id.
    fn histogram(
        pool: &[Arc<Deployment>],
        decision: &Decision<'_>,
        n: usize,
        seed: u64,
    ) -> Vec<usize> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut counts = vec![0; pool.len()];
        for _ in 0..n {
            let chosen = choose(pool, &[], RequestShape::default(), decision, &mut rng).unwrap();
            let index = pool.iter().position(|d| d.id == chosen.id).unwrap();
            counts[index] += 1;
        }
        counts
    }

    /// Pearson's chi-square statistic of observed counts against expected proportions.
    fn chi_square(counts: &[usize], expected: &[f64]) -> f64 {
        let n: usize = counts.iter().sum();
        let total: f64 = expected.iter().sum();
        counts
            .iter()
            .zip(expected)
            .map(|(observed, weight)| {
                let e = n as f64 * weight / total;
                (*observed as f64 - e).powi(2) / e
            })
            .sum()
    }

    // Critical values of chi-square at p = 0.001: 1 dof 10.83, 2 dof 13.82.

    #[test]
    fn simple_shuffle_follows_weights() {
        let pool = vec![
            deployment("a", json!({"weight": 1})),
            deployment("b", json!({"weight": 3})),
            deployment("c", json!({"weight": 6})),
        ];
        let args = RoutingStrategyArgs::default();
        let counts = histogram(
            &pool,
            &decide(RoutingStrategy::SimpleShuffle, &args),
            20_000,
            7,
        );
        let statistic = chi_square(&counts, &[1.0, 3.0, 6.0]);
        assert!(statistic < 13.82, "{counts:?} chi2={statistic}");
        // And it is not uniform: the same counts against equal weights are far off.
        assert!(chi_square(&counts, &[1.0, 1.0, 1.0]) > 1000.0);
    }

    #[test]
    fn simple_shuffle_falls_back_to_rpm_then_uniform() {
        let pool = vec![
            deployment("a", json!({"rpm": 100})),
            deployment("b", json!({"rpm": 900})),
        ];
        let args = RoutingStrategyArgs::default();
        let counts = histogram(
            &pool,
            &decide(RoutingStrategy::SimpleShuffle, &args),
            10_000,
            11,
        );
        assert!(chi_square(&counts, &[1.0, 9.0]) < 10.83, "{counts:?}");
        let pool = vec![deployment("a", json!({})), deployment("b", json!({}))];
        let counts = histogram(
            &pool,
            &decide(RoutingStrategy::SimpleShuffle, &args),
            10_000,
            12,
        );
        assert!(chi_square(&counts, &[1.0, 1.0]) < 10.83, "{counts:?}");
    }

    #[test]
    fn least_busy_picks_fewest_in_flight() {
        let pool = vec![deployment("a", json!({})), deployment("b", json!({}))];
        pool[0].state.active.store(3, Ordering::Relaxed);
        pool[1].state.active.store(1, Ordering::Relaxed);
        let args = RoutingStrategyArgs::default();
        let counts = histogram(&pool, &decide(RoutingStrategy::LeastBusy, &args), 100, 1);
        assert_eq!(counts, vec![0, 100]);
        // Equal load spreads evenly.
        pool[0].state.active.store(1, Ordering::Relaxed);
        let counts = histogram(&pool, &decide(RoutingStrategy::LeastBusy, &args), 10_000, 2);
        assert!(chi_square(&counts, &[1.0, 1.0]) < 10.83, "{counts:?}");
    }

    #[test]
    fn usage_based_prefers_lowest_tpm_and_respects_limits() {
        let pool = vec![
            deployment("a", json!({"tpm": 1000, "rpm": 10})),
            deployment("b", json!({"tpm": 1000, "rpm": 10})),
        ];
        let now = 1_000_000;
        pool[0].state.add_tokens(500, now);
        pool[1].state.add_tokens(100, now);
        let args = RoutingStrategyArgs::default();
        let decision = decide(RoutingStrategy::UsageBased, &args);
        let mut rng = StdRng::seed_from_u64(3);
        let shape = RequestShape {
            stream: false,
            input_tokens: 100,
        };
        assert_eq!(
            choose(&pool, &[], shape, &decision, &mut rng).unwrap().id,
            "b"
        );
        // A request that would overflow b's tpm goes to a; one that fits nowhere is AtLimit.
        pool[1].state.add_tokens(850, now);
        assert_eq!(
            choose(&pool, &[], shape, &decision, &mut rng).unwrap().id,
            "a"
        );
        let big = RequestShape {
            stream: false,
            input_tokens: 600,
        };
        assert_eq!(
            choose(&pool, &[], big, &decision, &mut rng).unwrap_err(),
            NoDeployment::AtLimit
        );
        // rpm limits: 10 requests fill a.
        for _ in 0..10 {
            assert!(pool[0].state.try_reserve_request(Some(10), now));
        }
        assert_eq!(
            choose(&pool, &[], shape, &decision, &mut rng).unwrap_err(),
            NoDeployment::AtLimit
        );
    }

    #[test]
    fn latency_based_prefers_fast_and_explores_unmeasured() {
        let pool = vec![
            deployment("slow", json!({})),
            deployment("fast", json!({})),
            deployment("new", json!({})),
        ];
        let now = 1_000_000;
        let sample = |latency: f64, ttft: f64| LatencySample {
            at_ms: now - 1000,
            latency,
            ttft: Some(ttft),
        };
        pool[0].state.add_latency(sample(2.0, 0.1), 10, 3_600_000);
        pool[1].state.add_latency(sample(0.5, 0.9), 10, 3_600_000);
        let args = RoutingStrategyArgs::default();
        let decision = decide(RoutingStrategy::LatencyBased, &args);
        let mut rng = StdRng::seed_from_u64(5);
        // The unmeasured deployment is tried first.
        assert_eq!(
            choose(&pool, &[], RequestShape::default(), &decision, &mut rng)
                .unwrap()
                .id,
            "new"
        );
        pool[2].state.add_latency(sample(1.0, 1.0), 10, 3_600_000);
        assert_eq!(
            choose(&pool, &[], RequestShape::default(), &decision, &mut rng)
                .unwrap()
                .id,
            "fast"
        );
        // Streams rank by time to first token.
        let stream = RequestShape {
            stream: true,
            input_tokens: 0,
        };
        assert_eq!(
            choose(&pool, &[], stream, &decision, &mut rng).unwrap().id,
            "slow"
        );
        // A buffer admits near-lowest deployments: 0.5 × (1 + 1.5) = 1.25 takes in "new" (1.0).
        let args = RoutingStrategyArgs {
            lowest_latency_buffer: 1.5,
            ..RoutingStrategyArgs::default()
        };
        let decision = decide(RoutingStrategy::LatencyBased, &args);
        let counts = histogram(&pool, &decision, 4000, 9);
        assert_eq!(counts[0], 0);
        assert!(chi_square(&counts[1..], &[1.0, 1.0]) < 10.83, "{counts:?}");
        // Samples older than the ttl are ignored.
        let args = RoutingStrategyArgs {
            ttl: 0.5,
            ..RoutingStrategyArgs::default()
        };
        assert_eq!(
            pool[0]
                .state
                .average_latency(false, now, (args.ttl * 1000.0) as u64, 10),
            None
        );
    }

    #[test]
    fn cost_based_picks_cheapest_known_price() {
        let pool = vec![
            deployment(
                "pricey",
                json!({"input_cost_per_token": 0.00001, "output_cost_per_token": 0.00003}),
            ),
            deployment(
                "cheap",
                json!({"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}),
            ),
            deployment("unknown", json!({"model": "openai/not-in-any-catalog-xyz"})),
        ];
        let args = RoutingStrategyArgs::default();
        let counts = histogram(&pool, &decide(RoutingStrategy::CostBased, &args), 50, 1);
        assert_eq!(counts, vec![0, 50, 0]);
        // Catalog prices are used when the params set none: gpt-4o-mini is cheaper than gpt-4o.
        let pool = vec![
            deployment("4o", json!({"model": "openai/gpt-4o"})),
            deployment("mini", json!({"model": "openai/gpt-4o-mini"})),
        ];
        assert!(pool[0].cost_per_token.is_some() && pool[1].cost_per_token.is_some());
        let counts = histogram(&pool, &decide(RoutingStrategy::CostBased, &args), 20, 1);
        assert_eq!(counts, vec![0, 20]);
    }

    #[test]
    fn order_tiers_cooldowns_and_exclusions() {
        let pool = vec![
            deployment("primary", json!({"order": 1})),
            deployment("backup", json!({"order": 2})),
        ];
        let args = RoutingStrategyArgs::default();
        let decision = decide(RoutingStrategy::SimpleShuffle, &args);
        let counts = histogram(&pool, &decision, 100, 1);
        assert_eq!(counts, vec![100, 0]);
        // A cooling-down primary hands over to the next tier.
        pool[0].state.cool_down_until(decision.now_ms + 5000);
        let counts = histogram(&pool, &decision, 100, 1);
        assert_eq!(counts, vec![0, 100]);
        pool[1].state.cool_down_until(decision.now_ms + 2000);
        let mut rng = StdRng::seed_from_u64(1);
        match choose(&pool, &[], RequestShape::default(), &decision, &mut rng) {
            Err(NoDeployment::AllCoolingDown { earliest_ms, .. }) => {
                assert_eq!(earliest_ms, decision.now_ms + 2000);
            }
            other => unreachable!("{:?}", other.map(|d| d.id.clone())),
        }
        pool[0].state.clear_cooldown();
        pool[1].state.clear_cooldown();
        // An id already tried is skipped while another remains.
        let chosen = choose(
            &pool,
            &["primary".to_owned()],
            RequestShape::default(),
            &decision,
            &mut rng,
        )
        .unwrap();
        assert_eq!(chosen.id, "backup");
    }

    #[test]
    fn pre_call_context_window_and_health() {
        let pool = vec![
            deployment("small", json!({"model": "openai/gpt-4o"})),
            deployment("big", json!({"model": "openai/gpt-4.1"})),
        ];
        let small = pool[0].max_input_tokens.unwrap();
        let big = pool[1].max_input_tokens.unwrap();
        assert!(big > small);
        let args = RoutingStrategyArgs::default();
        let decision = decide(RoutingStrategy::SimpleShuffle, &args);
        let mut rng = StdRng::seed_from_u64(1);
        let shape = RequestShape {
            stream: false,
            input_tokens: small + 1,
        };
        for _ in 0..20 {
            assert_eq!(
                choose(&pool, &[], shape, &decision, &mut rng).unwrap().id,
                "big"
            );
        }
        let huge = RequestShape {
            stream: false,
            input_tokens: big + 1,
        };
        assert!(matches!(
            choose(&pool, &[], huge, &decision, &mut rng),
            Err(NoDeployment::ContextWindow { .. })
        ));
        pool[1].state.set_health(HealthStatus {
            healthy: false,
            latency_ms: 1.0,
            error: Some("down".into()),
            checked_at_ms: 1,
        });
        for _ in 0..20 {
            assert_eq!(
                choose(&pool, &[], RequestShape::default(), &decision, &mut rng)
                    .unwrap()
                    .id,
                "small"
            );
        }
    }
}
