//! Secret managers: provider keys referenced as `os.environ/NAME` come from AWS Secrets Manager
//! (moto's server mode, started by the test) or from a secrets directory, and a rotated secret
//! is used without a restart.

use std::time::{Duration, Instant, SystemTime};

use llmrelay_mock::local_moto::Moto;
use llmrelay_mock::{MockConfig, MockServer};
use llmrelay_providers::bedrock::auth::{AwsCredentials, SigningScope, signature_headers};
use llmrelay_proxy::config::RawConfig;
use serde_json::{Value, json};

use crate::support::{serve_governed, temp_directory};

const MASTER: &str = "sk-secrets-master-0123456789";

fn credentials() -> AwsCredentials {
    AwsCredentials {
        access_key_id: "AKIDTESTSECRETS".to_owned(),
        secret_access_key: "test-secret-access-key".to_owned(),
        session_token: None,
    }
}

/// One Secrets Manager action against moto, signed as a client would.
async fn secrets_manager(moto: &Moto, action: &str, body: Value) -> Value {
    let url = format!("{}/", moto.url);
    let body = serde_json::to_vec(&body).unwrap();
    let headers = vec![
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        (
            "x-amz-target".to_owned(),
            format!("secretsmanager.{action}"),
        ),
    ];
    let signed = signature_headers(
        "POST",
        &url,
        &headers,
        &body,
        &credentials(),
        SigningScope {
            region: "us-east-1",
            service: "secretsmanager",
            time: SystemTime::now(),
        },
    )
    .unwrap();
    let mut request = llmrelay_providers::http::client()
        .clone()
        .post(&url)
        .body(body);
    for (name, value) in headers.iter().chain(signed.iter()) {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{action}: {response:?}");
    response.json().await.unwrap()
}

/// The `Authorization` the mock upstream last saw on a chat call.
fn upstream_key(mock: &MockServer) -> Option<String> {
    mock.state()
        .requests()
        .iter()
        .rev()
        .find(|r| r.path.ends_with("/chat/completions"))
        .and_then(|r| r.headers.get("authorization").cloned())
}

async fn chat(base: &str) -> u16 {
    llmrelay_providers::http::client()
        .clone()
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(MASTER)
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Calls until the upstream sees `expected` (the rotation is picked up within a few
/// refresh intervals).
async fn until_upstream_sees(base: &str, mock: &MockServer, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert_eq!(chat(base).await, 200);
        if upstream_key(mock).as_deref() == Some(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the upstream still sees {:?}, not {expected}",
            upstream_key(mock)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_keys_come_from_aws_secrets_manager_and_rotate_without_a_restart() {
    let Some(moto) = Moto::start() else { return };
    secrets_manager(
        &moto,
        "CreateSecret",
        json!({"Name": "UPSTREAM_KEY", "SecretString": "sk-upstream-one"}),
    )
    .await;
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let directory = temp_directory("secrets-aws");
    let config = format!(
        r"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {api_base}/v1
      api_key: os.environ/UPSTREAM_KEY
general_settings:
  master_key: {MASTER}
  key_management_system: aws_secret_manager
  key_management_settings:
    hosted_keys: [UPSTREAM_KEY]
    endpoint_url: {endpoint}
    aws_region_name: us-east-1
    aws_access_key_id: AKIDTESTSECRETS
    aws_secret_access_key: test-secret-access-key
    refresh_interval: 0.3
",
        api_base = mock.base_url(),
        endpoint = moto.url,
    );
    let (served, proxy) = serve_governed(&directory, &config).await;
    let watching = llmrelay_proxy::secrets::watch(proxy.state()).expect("a secret watch");
    assert_eq!(chat(&served.base).await, 200);
    assert_eq!(
        upstream_key(&mock).as_deref(),
        Some("Bearer sk-upstream-one")
    );

    secrets_manager(
        &moto,
        "PutSecretValue",
        json!({"SecretId": "UPSTREAM_KEY", "SecretString": "sk-upstream-two"}),
    )
    .await;
    until_upstream_sees(&served.base, &mock, "Bearer sk-upstream-two").await;
    watching.abort();
    drop(served);
    let _ = std::fs::remove_dir_all(&directory);
}

#[tokio::test]
async fn a_secret_the_manager_lacks_or_cannot_read_is_reported_by_name_not_value() {
    let Some(moto) = Moto::start() else { return };
    let directory = temp_directory("secrets-missing");
    // Not in the store and not in the environment: the usual unset-variable handling.
    let config = format!(
        r"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: os.environ/LLMRELAY_TEST_ABSENT_SECRET
general_settings:
  key_management_system: aws_secret_manager
  key_management_settings:
    endpoint_url: {endpoint}
    aws_region_name: us-east-1
    aws_access_key_id: AKIDTESTSECRETS
    aws_secret_access_key: test-secret-access-key
",
        endpoint = moto.url,
    );
    let path = directory.join("config.yaml");
    std::fs::write(&path, &config).unwrap();
    let resolved = RawConfig::load(&path).unwrap().resolve().unwrap();
    assert!(
        resolved
            .warnings
            .iter()
            .any(|w| w.contains("LLMRELAY_TEST_ABSENT_SECRET")),
        "{:?}",
        resolved.warnings
    );
    // An unreachable store fails the start, naming the store.
    let unreachable = config.replace(&moto.url, "http://127.0.0.1:9");
    std::fs::write(&path, &unreachable).unwrap();
    let error = RawConfig::load(&path)
        .unwrap()
        .resolve()
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("key_management_system"), "{error}");
    assert!(error.contains("unreachable"), "{error}");
    let _ = std::fs::remove_dir_all(&directory);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secrets_directory_is_read_and_a_rewritten_file_is_picked_up() {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let directory = temp_directory("secrets-files");
    std::fs::create_dir_all(directory.join("secrets")).unwrap();
    std::fs::write(directory.join("secrets/UPSTREAM_KEY"), "sk-file-one\n").unwrap();
    let config = format!(
        r"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {api_base}/v1
      api_key: os.environ/UPSTREAM_KEY
general_settings:
  master_key: {MASTER}
  key_management_system: file
  key_management_settings:
    secrets_dir: secrets
    refresh_interval: 0.3
",
        api_base = mock.base_url(),
    );
    let (served, proxy) = serve_governed(&directory, &config).await;
    let watching = llmrelay_proxy::secrets::watch(proxy.state()).expect("a secret watch");
    assert_eq!(chat(&served.base).await, 200);
    assert_eq!(upstream_key(&mock).as_deref(), Some("Bearer sk-file-one"));
    std::fs::write(directory.join("secrets/UPSTREAM_KEY"), "sk-file-two\n").unwrap();
    until_upstream_sees(&served.base, &mock, "Bearer sk-file-two").await;
    watching.abort();
    drop(served);
    let _ = std::fs::remove_dir_all(&directory);
}
