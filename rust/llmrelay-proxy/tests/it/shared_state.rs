//! Issue 11 §3.0: a config with `router_settings.redis_host` starts (the Router's Redis client
//! used to need a running runtime and panicked), and two proxy instances on one Redis share a
//! deployment's rpm limit exactly.

use llmrelay_mock::{MockConfig, MockServer};
use serde_json::json;

use crate::support::{
    free_port, proxy_from_yaml, redis_available, run_binary, serve, temp_directory, wait_until_up,
};

const KEY: &str = "sk-test-master-0123456789";

fn config(api_base: &str, id: &str) -> String {
    format!(
        "model_list:
  - model_name: shared
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {api_base}
      api_key: sk-test
      rpm: 3
    model_info:
      id: {id}
router_settings:
  redis_host: 127.0.0.1
  redis_port: 6379
  redis_sync_interval_ms: 20
  max_queue_wait: 0
  num_retries: 0
general_settings:
  master_key: {KEY}
"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_rpm_limit() {
    if !redis_available("two_instances_share_one_rpm_limit") {
        return;
    }
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    // A deployment id of its own: this run's counters are keys no other run touches.
    let id = format!("proxyfix-shared-{}", uuid::Uuid::new_v4());
    let yaml = config(&format!("{}/v1", mock.base_url()), &id);
    let first = serve(proxy_from_yaml(&yaml)).await;
    let second = serve(proxy_from_yaml(&yaml)).await;
    // rpm counts per minute window: do not straddle a minute boundary.
    let into_minute = llmrelay_router::deployment::now_ms() % 60_000;
    if into_minute > 55_000 {
        tokio::time::sleep(std::time::Duration::from_millis(60_500 - into_minute)).await;
    }
    let client = llmrelay_providers::http::client();
    let body = json!({"model": "shared", "messages": [{"role": "user", "content": "hi"}]});
    let mut admitted = 0;
    let mut refused = 0;
    for round in 0..8 {
        let base = if round % 2 == 0 {
            &first.base
        } else {
            &second.base
        };
        let response = client
            .post(format!("{base}/v1/chat/completions"))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            200 => admitted += 1,
            429 => refused += 1,
            other => panic!(
                "unexpected status {other}: {}",
                response.text().await.unwrap()
            ),
        }
    }
    assert_eq!(
        (admitted, refused),
        (3, 5),
        "the two instances together admit exactly rpm=3"
    );
}

#[tokio::test]
async fn the_binary_starts_from_a_redis_config() {
    if !redis_available("the_binary_starts_from_a_redis_config") {
        return;
    }
    let directory = temp_directory("redis-binary");
    let id = format!("proxyfix-binary-{}", uuid::Uuid::new_v4());
    std::fs::write(
        directory.join("config.yaml"),
        config("http://127.0.0.1:9/v1", &id),
    )
    .unwrap();
    // Validation builds the Router (and its Redis client) exactly as start-up does.
    let ran = run_binary(
        &directory,
        &["--config", "config.yaml", "--validate_config"],
        &[],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(
        ran.stdout.contains("config OK (1 models)"),
        "{}",
        ran.stdout
    );
    let port = free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_llmrelay-proxy"))
        .args(["--config", "config.yaml", "--host", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        .current_dir(&directory)
        .env_remove("LITELLM_MASTER_KEY")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let up = wait_until_up(&format!("http://127.0.0.1:{port}/health/liveliness")).await;
    let exited = child.try_wait().unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        up && exited.is_none(),
        "the proxy did not start ({exited:?})"
    );
    std::fs::remove_dir_all(directory).unwrap();
}
