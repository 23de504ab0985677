//! The threads that serve agent connections, as nginx's workers do: each accepted connection
//! is handed, in turn, to one thread and stays there, its exchanges and their upstream
//! connections with it. Nothing is stolen between threads, so an exchange wakes no other
//! thread on its way (the sequential latency of one worker), while several connections use
//! several cores.
//!
//! Thread 0 is the runtime the proxy runs in; the others each run a current-thread runtime
//! of their own until the proxy stops. [`current`] tells an exchange which thread it is on,
//! so the upstream client it uses is the one whose pooled connections live on that thread
//! (`clients.rs`).

use std::cell::Cell;
use std::future::Future;
use std::num::NonZeroUsize;

use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// At most this many by default: an agent keeps a handful of connections, and more threads
/// would only sit idle.
const DEFAULT_MAX: usize = 4;

thread_local! {
    static SERVING_THREAD: Cell<usize> = const { Cell::new(0) };
}

/// The serving thread the caller runs on: 0 on the proxy's own runtime and anywhere else.
pub fn current() -> usize {
    SERVING_THREAD.with(Cell::get)
}

/// One per core, at most [`DEFAULT_MAX`].
pub fn default_count() -> NonZeroUsize {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    NonZeroUsize::new(cores.min(DEFAULT_MAX)).unwrap_or(NonZeroUsize::MIN)
}

/// The serving threads beyond the proxy's own; dropping it stops them, and the connections
/// still open on them close as a stopping runtime closes its own.
pub struct ServingThreads {
    others: Vec<OtherThread>,
    next: usize,
}

struct OtherThread {
    handle: Handle,
    /// Dropped to stop the thread.
    _stop: oneshot::Sender<()>,
}

impl ServingThreads {
    /// Starts `count - 1` threads besides the caller's runtime.
    pub fn start(count: NonZeroUsize) -> std::io::Result<Self> {
        let others = (1..count.get())
            .map(start_thread)
            .collect::<std::io::Result<_>>()?;
        Ok(Self { others, next: 0 })
    }

    pub fn count(&self) -> usize {
        self.others.len() + 1
    }

    /// Serves `stream` on the next thread in turn.
    pub fn serve<S, F>(&mut self, stream: TcpStream, serve: S)
    where
        S: FnOnce(TcpStream) -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let turn = self.next;
        self.next = (turn + 1) % self.count();
        let Some(other) = turn.checked_sub(1).and_then(|i| self.others.get(i)) else {
            tokio::spawn(serve(stream));
            return;
        };
        // A socket is registered with one runtime's reactor: it leaves this one as a plain
        // socket and joins the other's there. Only a failure to deregister would keep it
        // from the other thread, and the socket is gone with that failure.
        if let Ok(socket) = stream.into_std() {
            other.handle.spawn(async move {
                if let Ok(stream) = TcpStream::from_std(socket) {
                    serve(stream).await;
                }
            });
        }
    }
}

fn start_thread(index: usize) -> std::io::Result<OtherThread> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name(format!("llmscope-serve{index}"))
        .spawn(move || {
            SERVING_THREAD.with(|thread| thread.set(index));
            runtime.block_on(async {
                let _ = stopped.await;
            });
            // The connections' tasks are dropped here, on their own thread; an exchange's
            // guard records that llmscope stopped. Blocking work is not waited for.
            runtime.shutdown_background();
        })?;
    Ok(OtherThread {
        handle,
        _stop: stop,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Each connection answers with the serving thread it landed on.
    async fn threads_of(connections: usize, threads: usize) -> Vec<u8> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut serving = ServingThreads::start(NonZeroUsize::new(threads).unwrap()).unwrap();
        let mut seen = Vec::new();
        for _ in 0..connections {
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            serving.serve(stream, |mut stream| async move {
                let thread = current() as u8;
                let _ = stream.write_all(&[thread]).await;
            });
            let mut byte = [0u8];
            client.read_exact(&mut byte).await.unwrap();
            seen.push(byte[0]);
        }
        seen
    }

    #[tokio::test]
    async fn connections_go_to_each_thread_in_turn() {
        assert_eq!(threads_of(7, 3).await, [0, 1, 2, 0, 1, 2, 0]);
    }

    #[tokio::test]
    async fn one_thread_serves_every_connection_on_the_proxy_runtime() {
        assert_eq!(threads_of(3, 1).await, [0, 0, 0]);
    }

    #[tokio::test]
    async fn dropping_the_threads_closes_the_connections_they_serve() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut serving = ServingThreads::start(NonZeroUsize::new(2).unwrap()).unwrap();
        serving.next = 1;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        serving.serve(stream, |stream| async move {
            let _kept = stream;
            std::future::pending::<()>().await;
        });
        drop(serving);
        let mut rest = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            client.read_to_end(&mut rest),
        )
        .await;
        assert!(matches!(read, Ok(Ok(0))), "closed at once: {read:?}");
    }
}
