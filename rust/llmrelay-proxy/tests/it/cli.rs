//! The command line (issue 11 §3.2, 9, 10, 11): `--validate_config` runs start-up's checks with
//! start-up's messages and LiteLLM's exit codes, `--debug` / `--detailed_debug` raise the log
//! level as LiteLLM's, HTTPS with `--ssl_*`, and `--health` / `--test` against a running proxy.

use std::io::Read;
use std::time::Duration;

use llmrelay_mock::{MockConfig, MockServer};

use crate::support::{
    Ran, free_port, proxy_from_yaml, run_binary, serve, temp_directory, wait_until_up,
};

const KEY: &str = "sk-test-master-0123456789";

fn write(directory: &std::path::Path, yaml: &str) {
    std::fs::write(directory.join("config.yaml"), yaml).unwrap();
}

fn validate(directory: &std::path::Path) -> Ran {
    run_binary(
        directory,
        &["--config", "config.yaml", "--validate_config"],
        &[],
    )
}

/// Starting the server on the same config: the first line of stderr and the exit code.
fn start(directory: &std::path::Path) -> Ran {
    run_binary(
        directory,
        &[
            "--config",
            "config.yaml",
            "--port",
            "0",
            "--host",
            "127.0.0.1",
        ],
        &[],
    )
}

const GOOD_MODEL: &str =
    "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, api_key: k}\n";

#[test]
fn validate_config_fails_exactly_when_start_up_fails() {
    let directory = temp_directory("validate");
    let master = format!("general_settings:\n  master_key: {KEY}\n");
    let cases = [
        (
            format!(
                "model_list:\n  - model_name: a\n    litellm_params: {{model: openai/gpt-4o, rpm: lots}}\n{master}"
            ),
            "model_list[0].litellm_params.rpm",
        ),
        (
            format!("{GOOD_MODEL}router_settings:\n  routing_strategy: bogus\n{master}"),
            "routing_strategy",
        ),
        (GOOD_MODEL.to_owned(), "master key"),
        (
            format!("{GOOD_MODEL}general_settings:\n  master_key: sk-1234\n"),
            "master key",
        ),
    ];
    for (yaml, expected) in cases {
        write(&directory, &yaml);
        let validated = validate(&directory);
        assert_eq!(validated.code, Some(1), "{yaml}\n{}", validated.stderr);
        let message = validated
            .stderr
            .lines()
            .find(|line| line.starts_with("llmrelay: config validation failed: "))
            .unwrap_or_else(|| panic!("no failure line for {yaml}: {}", validated.stderr));
        assert!(
            message.to_lowercase().contains(&expected.to_lowercase()),
            "{message}"
        );
        // Start-up refuses the same config with the same message.
        let started = start(&directory);
        assert_eq!(started.code, Some(1), "{yaml}\n{}", started.stderr);
        let reason = message.trim_start_matches("llmrelay: config validation failed: ");
        assert!(started.stderr.contains(reason), "{}", started.stderr);
    }
    write(&directory, &format!("{GOOD_MODEL}{master}"));
    let validated = validate(&directory);
    assert_eq!(validated.code, Some(0), "{}", validated.stderr);
    assert_eq!(validated.stdout.trim(), "llmrelay: config OK (1 models)");
    // Flags LiteLLM's click rejects exit 2; a missing file exits 1, as LiteLLM's.
    let ran = run_binary(&directory, &["--validate_config"], &[]);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("--validate_config requires --config <path>")
    );
    assert_eq!(run_binary(&directory, &["--bogus"], &[]).code, Some(2));
    let missing = run_binary(&directory, &["--config", "nonexistent.yaml"], &[]);
    assert_eq!(missing.code, Some(1), "{}", missing.stderr);
    assert!(missing.stderr.contains("nonexistent.yaml"));
    std::fs::remove_dir_all(directory).unwrap();
}

/// Serve `config.yaml` with `flags`, make one request, stop, and return stderr.
async fn logs_with(flags: &[&str]) -> String {
    let directory = temp_directory("logs");
    write(
        &directory,
        &format!("{GOOD_MODEL}general_settings:\n  master_key: {KEY}\n"),
    );
    let port = free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_llmrelay-proxy"))
        .args(["--config", "config.yaml", "--host", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        .args(flags)
        .current_dir(&directory)
        .env_remove("LITELLM_MASTER_KEY")
        .env_remove("LITELLM_LOG")
        .env_remove("DEBUG")
        .env_remove("DETAILED_DEBUG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_until_up(&format!("http://127.0.0.1:{port}/health/liveliness")).await);
    let _ = llmrelay_providers::http::client()
        .get(format!("http://127.0.0.1:{port}/v1/models"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    child.kill().unwrap();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    std::fs::remove_dir_all(directory).unwrap();
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_flags_do_what_their_help_says() {
    let quiet = logs_with(&[]).await;
    assert!(quiet.contains("listening on http://"), "{quiet}");
    assert!(!quiet.contains("model groups: a"), "{quiet}");
    assert!(!quiet.contains("DEBUG"), "{quiet}");
    let debug = logs_with(&["--debug"]).await;
    assert!(debug.contains("model groups: a"), "{debug}");
    assert!(!debug.contains("DEBUG"), "{debug}");
    let detailed = logs_with(&["--detailed_debug"]).await;
    assert!(detailed.contains("model groups: a"), "{detailed}");
    // One line per request, with its path and status.
    let request_line = detailed
        .lines()
        .find(|line| line.contains("DEBUG") && line.contains("/v1/models"))
        .unwrap_or_else(|| panic!("no request line: {detailed}"));
    assert!(request_line.contains("status=200"), "{request_line}");
}

fn self_signed(directory: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let certificate = directory.join("cert.pem");
    let key = directory.join("key.pem");
    let pem = certified.cert.pem();
    std::fs::write(&certificate, &pem).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    (certificate, key, pem)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_litellm_s_flags() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let directory = temp_directory("tls");
    let (certificate, key, pem) = self_signed(&directory);
    write(
        &directory,
        &format!(
            "model_list:\n  - model_name: gpt-4o\n    litellm_params: {{model: openai/gpt-4o-mini, api_key: k, api_base: '{}/v1'}}\ngeneral_settings:\n  master_key: {KEY}\n",
            mock.base_url()
        ),
    );
    let port = free_port();
    let port_text = port.to_string();
    let tls_flags = [
        "--ssl_certfile_path",
        certificate.to_str().unwrap(),
        "--ssl_keyfile_path",
        key.to_str().unwrap(),
    ];
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_llmrelay-proxy"))
        .args([
            "--config",
            "config.yaml",
            "--host",
            "127.0.0.1",
            "--port",
            &port_text,
        ])
        .args(tls_flags)
        .current_dir(&directory)
        .env_remove("LITELLM_MASTER_KEY")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("https://127.0.0.1:{port}/v1/chat/completions");
    let body =
        serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    let mut answer = None;
    for _ in 0..300 {
        if let Ok(response) = client.post(&url).bearer_auth(KEY).json(&body).send().await {
            answer = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answer = answer.expect("no HTTPS answer");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.version(), reqwest::Version::HTTP_2, "ALPN offers h2");
    // Plain HTTP on the TLS port gets no answer.
    let plain = llmrelay_providers::http::client()
        .get(format!("http://127.0.0.1:{port}/health/liveliness"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    // `--health` reaches the proxy over HTTPS when given the same flags.
    let mut health_args: Vec<String> =
        ["--config", "config.yaml", "--port", &port_text, "--health"]
            .iter()
            .chain(tls_flags.iter())
            .map(|s| (*s).to_owned())
            .collect();
    health_args.shrink_to_fit();
    let health_directory = directory.clone();
    let health = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = health_args.iter().map(String::as_str).collect();
        run_binary(&health_directory, &args, &[])
    })
    .await
    .unwrap();
    assert_eq!(health.code, Some(0), "{}", health.stderr);
    assert!(
        health.stdout.contains("\"healthy_count\": 1"),
        "{}",
        health.stdout
    );
    child.kill().unwrap();
    let _ = child.wait();
    // Only one of the two files is a usage error, as LiteLLM's.
    let half = run_binary(
        &directory,
        &["--config", "config.yaml", "--ssl_certfile_path", "cert.pem"],
        &[],
    );
    assert_eq!(half.code, Some(1));
    assert!(
        half.stderr
            .contains("Both --ssl_certfile_path and --ssl_keyfile_path are required for SSL.")
    );
    std::fs::write(&key, "not a key").unwrap();
    let bad = run_binary(
        &directory,
        &[
            "--config",
            "config.yaml",
            "--validate_config",
            "--ssl_certfile_path",
            "cert.pem",
            "--ssl_keyfile_path",
            "key.pem",
        ],
        &[],
    );
    assert_eq!(bad.code, Some(1));
    assert!(bad.stderr.contains("--ssl_keyfile_path"), "{}", bad.stderr);
    std::fs::remove_dir_all(directory).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_and_health_call_the_running_proxy() {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let api_base = format!("{}/v1", mock.base_url());
    let served = serve(proxy_from_yaml(&format!(
        "model_list:\n  - model_name: gpt-3.5-turbo\n    litellm_params: {{model: openai/gpt-4o-mini, api_key: k, api_base: '{api_base}'}}\ngeneral_settings:\n  master_key: {KEY}\n"
    )))
    .await;
    let port = served.base.rsplit(':').next().unwrap().to_owned();
    let directory = temp_directory("oneshot");
    let ran = {
        let directory = directory.clone();
        let port = port.clone();
        tokio::task::spawn_blocking(move || {
            run_binary(
                &directory,
                &["--test", "--port", &port],
                &[("LITELLM_MASTER_KEY", KEY)],
            )
        })
        .await
        .unwrap()
    };
    assert_eq!(ran.code, Some(0), "{}\n{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("Model=gpt-3.5-turbo"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("\"object\":\"chat.completion\""),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("chat.completion.chunk"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("\"object\":\"text_completion\""),
        "{}",
        ran.stdout
    );
    let health = tokio::task::spawn_blocking(move || {
        run_binary(
            &directory,
            &["--health", "--port", &port],
            &[("LITELLM_MASTER_KEY", KEY)],
        )
    })
    .await
    .unwrap();
    assert_eq!(health.code, Some(0), "{}", health.stderr);
    assert!(
        health.stdout.contains("\"healthy_endpoints\""),
        "{}",
        health.stdout
    );
    // Nothing listening: a one-line failure and exit code 1.
    let nothing = run_binary(
        &temp_directory("oneshot-down"),
        &["--health", "--port", &free_port().to_string()],
        &[],
    );
    assert_eq!(nothing.code, Some(1));
    assert!(
        nothing.stderr.starts_with("llmrelay: GET /health:"),
        "{}",
        nothing.stderr
    );
}
