//! A local AWS emulator for tests: moto's server mode (`pip install 'moto[server]'`), started
//! on a free port (S3, Secrets Manager, … on one endpoint). Without `moto_server` a test skips
//! with the reason, except under `CI=true`, where that is a failure.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::local_redis::{ci, free_port, reachable};

/// A running `moto_server`, stopped on drop.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Moto {
    /// Start one, or `None` (with a "SKIPPED" line) when moto is not installed.
    ///
    /// # Panics
    /// Under `CI=true` without moto, or when it does not listen within 20 s.
    #[must_use]
    pub fn start() -> Option<Self> {
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            assert!(
                !ci(),
                "CI=true but moto_server (pip install 'moto[server]') is missing"
            );
            eprintln!("SKIPPED: moto_server is not installed (pip install 'moto[server]')");
            return None;
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !reachable(port) {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
