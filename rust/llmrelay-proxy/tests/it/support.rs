//! Helpers for the tests of start-up, the CLI and shared state: serving a config in-process,
//! running the binary, and finding the Redis the tests share.

use std::path::{Path, PathBuf};
use std::time::Duration;

use llmrelay_proxy::Proxy;
use llmrelay_proxy::config::{RawConfig, parse_yaml};

/// A proxy served in-process on a free port until dropped.
pub struct Served {
    pub base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

pub fn proxy_from_yaml(yaml: &str) -> Proxy {
    let config = RawConfig::from_document(parse_yaml(yaml).unwrap())
        .resolve()
        .unwrap();
    Proxy::from_config(&config, None).unwrap()
}

pub async fn serve(proxy: Proxy) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = proxy
            .serve(
                listener,
                async {
                    let _ = signal.await;
                },
                Duration::from_secs(1),
            )
            .await;
    });
    Served {
        base,
        shutdown: Some(shutdown),
    }
}

/// The proxy of `yaml` written as `config.yaml` in `directory` (its database next to it unless
/// the config names one), with the database started, served on a free port; the proxy's
/// handle too (for its state). The config must load without warnings.
pub async fn serve_governed(directory: &Path, yaml: &str) -> (Served, Proxy) {
    let path = directory.join("config.yaml");
    std::fs::write(&path, yaml).unwrap();
    let config = RawConfig::load(&path).unwrap().resolve().unwrap();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let proxy = Proxy::from_config(&config, None).unwrap();
    if let Some(governed) = proxy.state().governance.clone() {
        llmrelay_proxy::governance::start(
            &governed.engine,
            governed.router.as_ref(),
            Some(&governed.limiter),
        )
        .await
        .unwrap();
    }
    let handle = proxy.clone();
    (serve(proxy).await, handle)
}

/// POST a JSON body with a bearer key: the status and the JSON answer.
pub async fn post_json(
    base: &str,
    path: &str,
    key: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = llmrelay_providers::http::client()
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// A fresh directory under the system temp dir.
pub fn temp_directory(label: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("llmrelay-{label}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The binary's output and exit code.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Run `llmrelay-proxy` with `args` in `directory` and wait for it to exit.
pub fn run_binary(directory: &Path, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_llmrelay-proxy"))
        .args(args)
        .current_dir(directory)
        .env_remove("LITELLM_MASTER_KEY")
        .env_remove("LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY")
        .env_remove("LITELLM_LOG")
        .env_remove("DEBUG")
        .env_remove("DETAILED_DEBUG")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Wait until `url` answers at all (any status).
pub async fn wait_until_up(url: &str) -> bool {
    let client = llmrelay_providers::http::client();
    for _ in 0..300 {
        if client.get(url).send().await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Whether the shared Redis (127.0.0.1:6379) is reachable. When it is not, the calling test
/// returns early with a visible reason, except under `CI=true`, where that is a failure.
pub fn redis_available(test: &str) -> bool {
    let reachable = std::net::TcpStream::connect_timeout(
        &"127.0.0.1:6379".parse().unwrap(),
        Duration::from_millis(300),
    )
    .is_ok();
    if !reachable {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: Redis on 127.0.0.1:6379 is required under CI=true"
        );
        eprintln!("SKIPPED {test}: no Redis on 127.0.0.1:6379");
    }
    reachable
}
