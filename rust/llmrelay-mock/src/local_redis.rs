//! Redis servers of a test's own, on free local ports: one node, a 3-primary Cluster, or a
//! Sentinel watching a node — started from the machine's `redis-server` and `redis-cli`,
//! stopped (and their files removed) when dropped. Tests of the rate limiter and of the
//! response cache use them. Without the programs the constructors return `None` after
//! printing why, except under `CI=true`, where a missing program fails the test.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a server that cannot start fails the test that asked for it"
)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether the tests run under CI (`CI=true`), where a skipped service is a failure.
#[must_use]
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether something listens on `127.0.0.1:port`.
#[must_use]
pub fn reachable(port: u16) -> bool {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_ok()
}

/// A port nothing listens on now.
///
/// # Panics
/// No local port can be bound.
#[must_use]
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free local port");
    listener.local_addr().expect("a bound port").port()
}

/// The machine's Redis (`127.0.0.1:6379`) as a URL, if it runs.
///
/// # Panics
/// Under `CI=true` when it does not.
#[must_use]
pub fn machine_redis() -> Option<String> {
    if reachable(6379) {
        return Some("redis://127.0.0.1:6379/0".to_owned());
    }
    assert!(!ci(), "CI=true but no Redis on 127.0.0.1:6379");
    eprintln!("SKIPPED: no Redis on 127.0.0.1:6379");
    None
}

fn installed(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(!ci(), "CI=true but {program} is not installed");
        eprintln!("SKIPPED: {program} is not installed");
    }
    found
}

/// `redis-server`, if installed.
///
/// # Panics
/// Under `CI=true` when it is not.
#[must_use]
pub fn redis_server() -> Option<&'static str> {
    installed("redis-server").then_some("redis-server")
}

fn wait_for(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reachable(port) {
        assert!(Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A server process of the test's own and its working directory: killed, and the directory
/// removed, when dropped.
struct Process {
    child: Child,
    dir: PathBuf,
}

impl Process {
    /// Spawn `command` (its output discarded) and wait until it listens on `port`.
    fn start(command: &mut Command, port: u16, what: &str, dir: PathBuf) -> Self {
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{what} does not start: {error}"));
        wait_for(port, what);
        Self { child, dir }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis server of the test's own.
pub struct OwnRedis {
    process: Process,
    pub port: u16,
}

impl OwnRedis {
    /// `binary` on `port` with nothing kept on disk, plus `extra` arguments.
    ///
    /// # Panics
    /// It cannot be spawned or does not listen within 10 s.
    #[must_use]
    pub fn start(binary: &str, port: u16, extra: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!("llmrelay-redis-{port}"));
        std::fs::create_dir_all(&dir).expect("a directory for redis-server");
        let mut command = Command::new(binary);
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .args(extra);
        Self {
            process: Process::start(&mut command, port, "redis-server", dir),
            port,
        }
    }

    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kill it (a restart is another [`OwnRedis::start`] on the same port).
    pub fn stop(&mut self) {
        self.process.stop();
    }
}

/// A 3-primary Redis Cluster on local ports.
pub struct Cluster {
    pub nodes: Vec<OwnRedis>,
}

impl Cluster {
    /// Start the nodes and join them (`redis-cli --cluster create`); `None` without
    /// `redis-server` or `redis-cli`.
    ///
    /// # Panics
    /// Under `CI=true` without them; the cluster does not come up within 20 s.
    #[must_use]
    pub fn start() -> Option<Self> {
        let binary = redis_server()?;
        if !installed("redis-cli") {
            return None;
        }
        let mut nodes = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let config_file = format!("nodes-{port}.conf");
            nodes.push(OwnRedis::start(
                binary,
                port,
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &config_file,
                    "--cluster-node-timeout",
                    "2000",
                ],
            ));
        }
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let status = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli runs");
        assert!(status.success(), "redis-cli --cluster create failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new("redis-cli")
                .args(["-p", &nodes[0].port.to_string(), "cluster", "info"])
                .output()
                .expect("redis-cli runs");
            if String::from_utf8_lossy(&out.stdout).contains("cluster_state:ok") {
                break;
            }
            assert!(Instant::now() < deadline, "the cluster did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Self { nodes })
    }

    /// The nodes' URLs (startup nodes).
    #[must_use]
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(OwnRedis::url).collect()
    }
}

/// A Redis node and one Sentinel watching it under a service name.
pub struct Sentinel {
    pub master: OwnRedis,
    process: Process,
    pub port: u16,
    pub service_name: String,
}

impl Sentinel {
    /// Start a node and a Sentinel monitoring it as `service_name`; `None` without
    /// `redis-server`.
    ///
    /// # Panics
    /// Under `CI=true` without it; the Sentinel does not listen within 10 s.
    #[must_use]
    pub fn start(service_name: &str) -> Option<Self> {
        let binary = redis_server()?;
        let master = OwnRedis::start(binary, free_port(), &[]);
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("llmrelay-sentinel-{port}"));
        std::fs::create_dir_all(&dir).expect("a directory for the sentinel");
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\nsentinel monitor {service_name} 127.0.0.1 {} 1\n",
                master.port
            ),
        )
        .expect("the sentinel's config is written");
        let mut command = Command::new(binary);
        command.arg(&conf).arg("--sentinel");
        Some(Self {
            master,
            process: Process::start(&mut command, port, "redis-sentinel", dir),
            port,
            service_name: service_name.to_owned(),
        })
    }

    /// The Sentinel's URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stop the Sentinel (the node keeps running).
    pub fn stop(&mut self) {
        self.process.stop();
    }
}
