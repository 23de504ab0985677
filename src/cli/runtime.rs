//! The tokio runtime and shutdown signals shared by the commands that serve.

use std::future::Future;

use anyhow::{Context, Result};

/// What overrides [`FORWARDING_WORKERS`]: tokio's own variable, read by its builder.
const WORKERS_VARIABLE: &str = "TOKIO_WORKER_THREADS";

/// Worker threads of the runtime the proxy runs in, which is its serving thread 0; the
/// proxy starts one more serving thread per further core (`proxy/serving_threads.rs`). One:
/// an exchange's agent connection, upstream connection and relay then share a thread, so a
/// request wakes no second worker to find nothing to steal. Measured with the proxy bench on
/// 2 vCPUs, in alternating runs against two workers: sequential added p50 43–52 µs against
/// 58–79 µs, p99 45–142 µs against 187–242 µs, CPU per request at 32 connections the same or
/// less. The store's writer, the log and the screen have threads of their own, and blocking
/// work goes to tokio's blocking pool.
const FORWARDING_WORKERS: usize = 1;

pub fn block_on<F: Future<Output = Result<()>>>(future: F) -> Result<()> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if std::env::var_os(WORKERS_VARIABLE).is_none() {
        builder.worker_threads(FORWARDING_WORKERS);
    }
    builder
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(future)
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM: both mean "stop and keep what was recorded".
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
