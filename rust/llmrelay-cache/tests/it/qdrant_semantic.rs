//! `qdrant-semantic`: prompts embedded by a configured embedding model and the vectors kept
//! in a Qdrant collection, both served by the mock (its OpenAI embeddings, deterministic by
//! text, and its Qdrant emulation): the collection is created on the first store, an answer
//! stored by one cache is found by another (by its exact key without embedding, by its vector
//! for the same prompt in another body or a scripted near vector), other scopes and far
//! vectors miss, deletes, clears and TTLs remove answers, and a Qdrant that is down or
//! refuses the key never fails a call.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use llmrelay_cache::{CacheParams, Quantization};
use llmrelay_mock::{MockConfig, MockServer, QdrantPoint, ScriptedResponse};
use llmrelay_pipeline::Pipeline;

use super::{cache, map, params, whole};

const KEY: &str = "qdrant-test-key";

async fn qdrant_server() -> MockServer {
    let config = MockConfig {
        qdrant_api_key: Some(KEY.to_owned()),
        ..MockConfig::default()
    };
    MockServer::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap()
}

fn semantic_params(server: &MockServer, collection: &str) -> Value {
    json!({
        "type": "qdrant-semantic", "similarity_threshold": 0.95,
        "qdrant_api_base": server.base_url(), "qdrant_api_key": KEY,
        "qdrant_collection_name": collection,
        "qdrant_semantic_cache_embedding_model": "openai/text-embedding-3-small",
        "embedding_params": {"api_base": format!("{}/v1", server.base_url()),
                             "api_key": "sk-test"},
    })
}

fn ask(server: &MockServer, text: &str, extra: Value) -> Map<String, Value> {
    let mut call = params(
        server,
        json!({"messages": [{"role": "user", "content": text}]}),
    );
    call.extend(map(extra));
    call
}

fn requests_to(server: &MockServer, method: &str, suffix: &str) -> Vec<Value> {
    server
        .state()
        .requests()
        .into_iter()
        .filter(|r| r.method == method && r.path.ends_with(suffix))
        .map(|r| r.body)
        .collect()
}

fn embeddings(server: &MockServer) -> usize {
    requests_to(server, "POST", "/embeddings").len()
}

fn chats(server: &MockServer) -> usize {
    requests_to(server, "POST", "/chat/completions").len()
}

/// The collection's points once `ready` holds for them (stores run off the call's path).
async fn points_when(
    server: &MockServer,
    collection: &str,
    ready: impl Fn(&[QdrantPoint]) -> bool,
) -> Vec<QdrantPoint> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let points = server.state().qdrant_points(collection).unwrap_or_default();
        if ready(&points) {
            return points;
        }
        assert!(
            Instant::now() < deadline,
            "the collection holds {} points",
            points.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn embedding_answer(vector: &[f32]) -> ScriptedResponse {
    ScriptedResponse::json(
        200,
        json!({"object": "list", "model": "text-embedding-3-small",
               "data": [{"object": "embedding", "index": 0, "embedding": vector}],
               "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
    )
    .with_path("/embeddings")
}

#[tokio::test]
async fn two_caches_share_one_collection_within_the_callers_scope() {
    let server = qdrant_server().await;
    let collection = format!("it-{}", llmrelay_core::ids::uuid());
    let config = semantic_params(&server, &collection);
    let (a, b) = (cache(config.clone()), cache(config));
    let (pipeline_a, pipeline_b) = (Pipeline::new(a.layers()), Pipeline::new(b.layers()));
    let france = "What is the capital of France?";

    let first = whole(&pipeline_a, ask(&server, france, json!({}))).await;
    assert!(!first.cache_hit);
    let points = points_when(&server, &collection, |p| p.len() == 1).await;
    assert_eq!(
        embeddings(&server),
        1,
        "the store reuses the lookup's vector"
    );

    // The collection LiteLLM's way: Cosine, binary quantization, the first vector's size.
    let created = requests_to(&server, "PUT", &format!("/collections/{collection}"));
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0],
        json!({"vectors": {"size": 8, "distance": "Cosine"},
               "quantization_config": {"binary": {"always_ram": false}}})
    );
    let indexed: Vec<Value> = requests_to(&server, "PUT", "/index")
        .iter()
        .map(|b| b["field_name"].clone())
        .collect();
    assert_eq!(
        indexed,
        [json!("scope"), json!("cache_key"), json!("expires_at_ms")]
    );
    let payload = &points[0].payload;
    assert_eq!(payload["text"], france);
    assert!(payload["scope"].is_string() && payload["entry"].is_string());
    assert!(!payload.contains_key("expires_at_ms"), "no TTL, no expiry");
    assert_eq!(
        points[0].id.as_str().map(str::len),
        Some(36),
        "a UUID from the key"
    );
    assert!(
        server
            .state()
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/collections"))
            .all(|r| r.headers.get("api-key").map(String::as_str) == Some(KEY)),
        "every Qdrant request carries the key"
    );

    // The other cache: the same call by its point, without embedding.
    let exact = whole(&pipeline_b, ask(&server, france, json!({}))).await;
    assert!(exact.cache_hit, "the other instance's answer");
    assert_eq!(payload["cache_key"].as_str(), exact.cache_key.as_deref());
    assert_eq!(
        (exact.text.as_str(), exact.cost),
        (first.text.as_str(), Some(0.0))
    );
    assert_eq!((embeddings(&server), chats(&server)), (1, 1));

    // The same prompt text in another body: another key, found by its vector in the scope.
    let parts = params(
        &server,
        json!({"messages": [{"role": "user", "content": [{"type": "text", "text": france}]}]}),
    );
    let similar = whole(&pipeline_b, parts).await;
    assert!(similar.cache_hit, "found by similarity");
    assert_eq!(similar.text, first.text);
    assert_eq!((embeddings(&server), chats(&server)), (2, 1));
    let searched = requests_to(&server, "POST", "/points/search");
    let search = searched.last().unwrap();
    assert_eq!(search["limit"], 1);
    assert_eq!(search["with_payload"], true);
    assert!((search["score_threshold"].as_f64().unwrap() - 0.95).abs() < 1e-6);
    assert_eq!(
        search["filter"]["must"][0],
        json!({"key": "scope", "match": {"value": payload["scope"]}})
    );
    assert_eq!(search["filter"]["must_not"][0]["key"], "expires_at_ms");
    assert_eq!(search["params"]["quantization"]["rescore"], true);

    // A paraphrase: a near vector (scripted) is a hit, a far one a miss.
    let stored = &points[0].vector;
    let mut near = stored.clone();
    near[0] += 0.05;
    server.state().push_script(embedding_answer(&near));
    let paraphrase = whole(
        &pipeline_a,
        ask(&server, "Which city is France's capital?", json!({})),
    )
    .await;
    assert!(paraphrase.cache_hit, "a near vector is the same question");
    let far: Vec<f32> = stored.iter().map(|x| -x).collect();
    server.state().push_script(embedding_answer(&far));
    let unrelated = whole(
        &pipeline_a,
        ask(&server, "Which city is Spain's capital?", json!({})),
    )
    .await;
    assert!(!unrelated.cache_hit);
    assert_eq!(chats(&server), 2);

    // Another scope (other parameters) never matches, whatever the prompt.
    let other = whole(
        &pipeline_b,
        ask(&server, france, json!({"temperature": 0.3})),
    )
    .await;
    assert!(!other.cache_hit);
    assert_eq!(chats(&server), 3);
    points_when(&server, &collection, |p| p.len() == 3).await;
    assert_eq!(
        requests_to(&server, "PUT", &format!("/collections/{collection}")).len(),
        1,
        "each instance creates the collection at most once, and only when it is missing"
    );
}

#[tokio::test]
async fn deletes_clears_and_ttls_remove_answers() {
    let server = qdrant_server().await;
    let collection = format!("it-{}", llmrelay_core::ids::uuid());
    let config = semantic_params(&server, &collection);
    let a = cache(config.clone());
    let pipeline = Pipeline::new(a.layers());
    whole(&pipeline, ask(&server, "Name a prime number.", json!({}))).await;
    whole(&pipeline, ask(&server, "Name a colour.", json!({}))).await;
    points_when(&server, &collection, |p| p.len() == 2).await;

    let again = whole(&pipeline, ask(&server, "Name a prime number.", json!({}))).await;
    assert!(again.cache_hit);
    let key = again.cache_key.unwrap();
    assert_eq!(a.delete(std::slice::from_ref(&key)).await.unwrap(), 1);
    assert_eq!(a.delete(std::slice::from_ref(&key)).await.unwrap(), 0);
    let left = server.state().qdrant_points(&collection).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].payload["text"], "Name a colour.");
    a.clear().await.unwrap();
    assert_eq!(server.state().qdrant_points(&collection).unwrap().len(), 0);
    assert!(
        !whole(&pipeline, ask(&server, "Name a colour.", json!({})))
            .await
            .cache_hit,
        "cleared"
    );
    points_when(&server, &collection, |p| p.len() == 1).await;

    // A TTL travels as an expiry: an expired point is a miss for its key and its vector.
    let short = json!({"cache": {"ttl": 1}});
    whole(&pipeline, ask(&server, "Name a planet.", short.clone())).await;
    let points = points_when(&server, &collection, |p| p.len() == 2).await;
    assert!(
        points
            .iter()
            .any(|p| p.payload.contains_key("expires_at_ms"))
    );
    assert!(
        whole(&pipeline, ask(&server, "Name a planet.", short.clone()))
            .await
            .cache_hit
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let chats_before = chats(&server);
    assert!(
        !whole(&pipeline, ask(&server, "Name a planet.", short))
            .await
            .cache_hit,
        "expired"
    );
    assert_eq!(chats(&server), chats_before + 1);

    // Expired points are deleted by a filter when an instance stores (at most once a minute).
    whole(
        &pipeline,
        ask(&server, "Name a moon.", json!({"cache": {"ttl": 0.1}})),
    )
    .await;
    points_when(&server, &collection, |p| {
        p.iter().any(|p| p.payload["text"] == "Name a moon.")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let b = cache(config);
    whole(
        &Pipeline::new(b.layers()),
        ask(&server, "Name a river.", json!({})),
    )
    .await;
    let points = points_when(&server, &collection, |p| {
        p.iter().any(|p| p.payload["text"] == "Name a river.")
    })
    .await;
    assert!(
        points.iter().all(|p| p.payload["text"] != "Name a moon."),
        "the expired point was swept"
    );
    let swept = requests_to(&server, "POST", "/points/delete");
    assert!(
        swept
            .iter()
            .any(|b| b["filter"]["must"][0]["range"]["lte"].is_u64())
    );
}

#[tokio::test]
async fn a_qdrant_that_is_down_or_refuses_the_key_never_fails_a_call() {
    let server = qdrant_server().await;
    for base in ["http://127.0.0.1:1".to_owned(), server.base_url()] {
        let mut config = semantic_params(&server, "down");
        config["qdrant_api_base"] = json!(base);
        config["qdrant_api_key"] = json!("wrong-key");
        let cache = cache(config);
        let pipeline = Pipeline::new(cache.layers());
        for _ in 0..2 {
            let got = whole(&pipeline, ask(&server, "hello", json!({}))).await;
            assert!(!got.cache_hit);
            assert!(got.text.starts_with("This is a mock"), "{}", got.text);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while cache.stats().errors < 3 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(cache.stats().errors >= 3, "{:?}", cache.stats());
        assert!(cache.ping().await.is_err());
    }
    let refused = requests_to(&server, "GET", "/collections/down/exists");
    assert!(!refused.is_empty(), "the mock saw the wrong key");
    assert!(server.state().qdrant_points("down").is_none());
}

#[test]
fn litellm_settings_with_environment_fallbacks() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let base = json!({"type": "qdrant-semantic", "similarity_threshold": 0.8,
                      "qdrant_collection_name": "c"});
    let parse = |value: &Value, vars: &'static [(&'static str, &'static str)]| {
        CacheParams::from_map_with_env(&map(value.clone()), &env(vars))
    };
    let from_env = parse(
        &base,
        &[
            ("QDRANT_URL", "http://url:6333"),
            ("QDRANT_API_BASE", "http://base:6333"),
            ("QDRANT_API_KEY", "k"),
        ],
    )
    .unwrap();
    assert_eq!(
        from_env.qdrant.api_base, "http://url:6333",
        "QDRANT_URL first"
    );
    assert_eq!(from_env.qdrant.api_key.as_deref(), Some("k"));
    assert_eq!(from_env.qdrant.collection, "c");
    assert_eq!(from_env.qdrant.quantization, Quantization::Binary);
    assert_eq!(from_env.embedding_model, "text-embedding-ada-002");
    assert_eq!((from_env.ttl, from_env.store_ttl), (None, None));
    assert!(
        !format!("{from_env:?}").contains("\"k\""),
        "the key is redacted"
    );
    let api_base = parse(&base, &[("QDRANT_API_BASE", "http://base:6333")]).unwrap();
    assert_eq!(api_base.qdrant.api_base, "http://base:6333");
    assert_eq!(api_base.qdrant.api_key, None);

    let mut given = base.clone();
    given["qdrant_api_base"] = json!("http://given:6333");
    given["qdrant_api_key"] = json!("given-key");
    given["qdrant_quantization_config"] = json!("scalar");
    given["qdrant_semantic_cache_embedding_model"] = json!("embed");
    given["qdrant_semantic_cache_vector_size"] = json!(1536);
    given["embedding_params"] = json!({"api_base": "http://embed"});
    let given = parse(&given, &[("QDRANT_URL", "http://url:6333")]).unwrap();
    assert_eq!(given.qdrant.api_base, "http://given:6333");
    assert_eq!(given.qdrant.api_key.as_deref(), Some("given-key"));
    assert_eq!(given.qdrant.quantization, Quantization::Scalar);
    assert_eq!(given.qdrant.vector_size, Some(1536));
    assert_eq!(given.embedding_model, "embed");
    assert_eq!(given.embedding_params["api_base"], "http://embed");

    let error = |value: Value| {
        parse(&value, &[("QDRANT_URL", "http://url:6333")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let mut no_collection = base.clone();
    no_collection
        .as_object_mut()
        .unwrap()
        .remove("qdrant_collection_name");
    assert!(
        error(no_collection).contains("qdrant_collection_name: collection_name must be provided")
    );
    let mut no_threshold = base.clone();
    no_threshold
        .as_object_mut()
        .unwrap()
        .remove("similarity_threshold");
    assert!(error(no_threshold).contains("similarity_threshold must be provided"));
    let mut bad_quantization = base.clone();
    bad_quantization["qdrant_quantization_config"] = json!("fp4");
    assert!(error(bad_quantization).contains("must be one of 'scalar', 'binary' or 'product'"));
    let no_url = parse(&base, &[])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(no_url.contains("Qdrant url must be provided"), "{no_url}");
}
