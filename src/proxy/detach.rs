//! Running an exchange inside the connection's own task, without losing it when that task
//! lets go of it.
//!
//! hyper drops a request's service future when the agent's connection goes away. An
//! exchange polled there directly would vanish mid-way, unrecorded as it really ended; one
//! spawned as a task of its own costs a task, a channel and cross-thread wake-ups on every
//! request. [`Detachable`] takes the cheap path and keeps the guarantee: it is polled in
//! place, and if dropped before it ends, what is left of it is spawned and runs to its end
//! (where it sees that the agent left and records that).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

type Work = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

pub struct Detachable {
    work: Option<Work>,
}

impl Detachable {
    pub fn new(work: impl Future<Output = ()> + Send + 'static) -> Self {
        Self {
            work: Some(Box::pin(work)),
        }
    }
}

impl Future for Detachable {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(work) = self.work.as_mut() else {
            return Poll::Ready(());
        };
        let polled = work.as_mut().poll(cx);
        if polled.is_ready() {
            self.work = None;
        }
        polled
    }
}

impl Drop for Detachable {
    fn drop(&mut self) {
        let Some(rest) = self.work.take() else {
            return;
        };
        // Outside a runtime (it is shutting down) the work is dropped, and the exchange
        // guard inside it records that llmscope stopped.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn work_dropped_before_its_end_still_runs_to_its_end() {
        let finished = Arc::new(AtomicBool::new(false));
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let flag = finished.clone();
        let mut work = Detachable::new(async move {
            let _ = go_rx.await;
            flag.store(true, Ordering::SeqCst);
            let _ = done_tx.send(());
        });
        // Polled once in place, then abandoned, as hyper does when the agent leaves.
        let polled = tokio::time::timeout(Duration::from_millis(20), &mut work).await;
        assert!(polled.is_err(), "still waiting");
        drop(work);
        let _ = go_tx.send(());
        tokio::time::timeout(Duration::from_secs(5), done_rx)
            .await
            .expect("the rest ran in a task of its own")
            .expect("completed");
        assert!(finished.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn finished_work_is_not_run_again() {
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = runs.clone();
        let mut work = Detachable::new(async move {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        (&mut work).await;
        drop(work);
        tokio::task::yield_now().await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
