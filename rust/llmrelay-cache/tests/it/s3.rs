//! The S3 store against a local S3-compatible server: moto's (`pip install 'moto[server]'`,
//! started by the test on a free port). Without `moto_server` the test skips with the reason,
//! except under `CI=true`, where that is a failure.

use std::time::Duration;

use serde_json::json;

use llmrelay_mock::local_moto::Moto;
use llmrelay_pipeline::Pipeline;

use super::{cache, params, server, upstream_calls, whole};

/// The keys under `prefix` in `bucket` (ListObjectsV2).
async fn listed(moto: &Moto, bucket: &str, prefix: &str) -> Vec<String> {
    let xml = reqwest::get(format!("{}/{bucket}?list-type=2&prefix={prefix}", moto.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    xml.split("<Key>")
        .skip(1)
        .filter_map(|part| part.split("</Key>").next().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_s3_store_on_a_local_s3_server() {
    let Some(moto) = Moto::start() else { return };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bucket = "llmrelay-cache";
    let created = reqwest::Client::new()
        .put(format!("{}/{bucket}", moto.url))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    // Another object in the bucket, outside our path: a flush leaves it.
    reqwest::Client::new()
        .put(format!("{}/{bucket}/theirs/object", moto.url))
        .body("x")
        .send()
        .await
        .unwrap();
    let server = server().await;
    let cache = cache(json!({
        "type": "s3", "s3_bucket_name": bucket, "s3_endpoint_url": moto.url,
        "s3_region_name": "us-east-1", "s3_path": "llmrelay/",
        "s3_aws_access_key_id": "testing", "s3_aws_secret_access_key": "testing", "ttl": 60,
    }));
    cache.ping().await.unwrap();
    let pipeline = Pipeline::new(cache.layers());
    assert!(!whole(&pipeline, params(&server, json!({}))).await.cache_hit);
    cache.flush_writes().await;
    let hit = whole(&pipeline, params(&server, json!({}))).await;
    assert!(hit.cache_hit, "answered from the bucket");
    assert_eq!(upstream_calls(&server), 1);
    let key = hit.cache_key.unwrap();
    assert_eq!(
        listed(&moto, bucket, "llmrelay/").await,
        [format!("llmrelay/{key}")]
    );
    // A short TTL: past it the object is a miss.
    let short = json!({"user": "short", "cache": {"ttl": 1}});
    assert!(
        !whole(&pipeline, params(&server, short.clone()))
            .await
            .cache_hit
    );
    cache.flush_writes().await;
    assert!(
        whole(&pipeline, params(&server, short.clone()))
            .await
            .cache_hit
    );
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(!whole(&pipeline, params(&server, short)).await.cache_hit);
    // Delete one, then flush what is under our path.
    assert_eq!(cache.delete(std::slice::from_ref(&key)).await.unwrap(), 1);
    assert_eq!(cache.delete(&[key]).await.unwrap(), 0);
    assert!(!whole(&pipeline, params(&server, json!({}))).await.cache_hit);
    cache.flush_writes().await;
    cache.clear().await.unwrap();
    assert!(listed(&moto, bucket, "llmrelay/").await.is_empty());
    assert_eq!(listed(&moto, bucket, "theirs/").await, ["theirs/object"]);
    // A bucket that does not exist: calls are served, the errors counted.
    let missing = super::cache(json!({"type": "s3", "s3_bucket_name": "nowhere",
                               "s3_endpoint_url": moto.url}));
    assert!(missing.ping().await.is_err());
    let pipeline = Pipeline::new(missing.layers());
    for _ in 0..2 {
        assert!(
            !whole(&pipeline, params(&server, json!({"user": "n"})))
                .await
                .cache_hit
        );
    }
}
