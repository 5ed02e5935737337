//! Serving on one single-threaded runtime per core. Each worker accepts on its own
//! `SO_REUSEPORT` listener (the kernel spreads connections over them) and keeps a request — and
//! its upstream connection, through a client of its own — on its thread: no work stealing, no
//! wake-ups across cores. Background work (Redis sync, health checks, delivery queues) stays on
//! the runtime the proxy was built on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;

use crate::{Proxy, ServeOptions, tls};

/// How many workers to run: `LLMRELAY_WORKERS`, else one per core the process may use.
#[must_use]
pub fn worker_count() -> usize {
    std::env::var("LLMRELAY_WORKERS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

/// A listening socket that other workers can bind too.
fn reuse_port_listener(address: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.set_nodelay(true)?;
    socket.bind(address)?;
    let listener = socket.listen(1024)?;
    listener.into_std()
}

/// Bind `count` listeners on `address` (the first decides the port when it is 0).
///
/// # Errors
/// The address cannot be bound.
pub fn bind(address: SocketAddr, count: usize) -> std::io::Result<Vec<std::net::TcpListener>> {
    let first = reuse_port_listener(address)?;
    let bound = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..count {
        listeners.push(reuse_port_listener(bound)?);
    }
    Ok(listeners)
}

/// Serve on the listeners, one worker thread each, until `stop` says so; then each worker
/// drains as [`Proxy::serve`] does.
///
/// # Errors
/// A worker's runtime cannot start, or its accept loop failed.
pub async fn serve(
    proxy: Proxy,
    listeners: Vec<std::net::TcpListener>,
    options: &ServeOptions,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let mut workers: Vec<JoinHandle<Result<(), String>>> = Vec::new();
    for (index, listener) in listeners.into_iter().enumerate() {
        let proxy = proxy.clone();
        let tls = tls.clone();
        let drain = options.drain;
        let mut stop = stop.clone();
        let worker = std::thread::Builder::new()
            .name(format!("llmrelay-worker-{index}"))
            .spawn(move || -> Result<(), String> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start worker {index}: {e}"))?;
                llmrelay_providers::http::use_thread_client();
                runtime.block_on(async move {
                    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
                    let listener = TcpListener::from_std(listener).map_err(|e| e.to_string())?;
                    let stopped = async move {
                        let _ = stop.wait_for(|stop| *stop).await;
                    };
                    let served = match tls {
                        Some(config) => {
                            let listener = tls::TlsListener::new(listener, config)
                                .map_err(|e| e.to_string())?;
                            proxy.serve(listener, stopped, drain).await
                        }
                        None => proxy.serve(listener, stopped, drain).await,
                    };
                    served.map_err(|e| format!("worker {index}: {e}"))
                })
            })
            .map_err(|e| format!("cannot start worker {index}: {e}"))?;
        workers.push(worker);
    }
    let results = tokio::task::spawn_blocking(move || {
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("a worker panicked".to_owned()))
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| e.to_string())?;
    results.into_iter().collect()
}
