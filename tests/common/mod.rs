//! Shared set-up for the integration tests: a mock upstream, a real recorded proxy on
//! loopback in front of it, and a temporary data directory with the session database.
#![allow(dead_code)]

pub mod recorder;
pub mod screen;
pub mod tls;
pub mod tui;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use llmscope::capture::{CaptureEvent, ExchangeRecord, SessionId, Subscription};
use llmscope::mock::MockUpstream;
use llmscope::proxy::{ProxyConfig, ProxyControl, Upstream};
use llmscope::recorder::Recording;
use llmscope::store::{Store, StoreHealth, StoredExchange};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Bound on every wait in a test, so a broken proxy fails the test instead of hanging it.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Harness {
    pub mock: MockUpstream,
    pub proxy_url: String,
    pub session: SessionId,
    pub control: ProxyControl,
    /// How the store's writer is doing (failing, written, lost).
    pub health: Arc<StoreHealth>,
    /// The session database's directory, created by llmscope inside `scratch`.
    pub data_dir: PathBuf,
    scratch: TempDir,
    events: Subscription,
    stop: Option<oneshot::Sender<()>>,
    serving: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with the proxy pointed at the mock; `adjust` may change the configuration
    /// (timeouts, caps, or another upstream).
    pub async fn start_with(adjust: impl FnOnce(&mut ProxyConfig)) -> Self {
        let mock = MockUpstream::start().await.expect("mock upstream starts");
        let upstream = Upstream::parse(&mock.url()).expect("mock URL parses");
        let mut config = ProxyConfig::new("127.0.0.1:0".parse().expect("addr"), upstream);
        adjust(&mut config);
        let scratch = tempfile::tempdir().expect("temp dir");
        let data_dir = scratch.path().join("data");
        let recording = Recording::start(config, &data_dir, "test")
            .await
            .expect("recording starts");
        let proxy_url = format!("http://{}", recording.local_addr());
        let session = recording.session;
        let events = recording.subscribe();
        let control = recording.control();
        let health = recording.store_health();
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(recording.serve_until(async {
            let _ = stopped.await;
        }));
        Self {
            mock,
            proxy_url,
            session,
            control,
            health,
            data_dir,
            scratch,
            events,
            stop: Some(stop),
            serving: Some(serving),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.proxy_url)
    }

    /// The next finished exchange published by the proxy.
    pub async fn next_finished(&mut self) -> Arc<ExchangeRecord> {
        self.next_event(|event| match event {
            CaptureEvent::Finished(record) => Some(record.clone()),
            _ => None,
        })
        .await
    }

    /// The next capture event, whatever it is.
    pub async fn next_any(&mut self) -> CaptureEvent {
        tokio::time::timeout(WAIT, self.events.recv())
            .await
            .expect("a capture event comes in time")
            .expect("the capture bus is open")
    }

    /// The first event from now on that `pick` accepts.
    pub async fn next_event<T>(&mut self, pick: impl Fn(&CaptureEvent) -> Option<T>) -> T {
        let wait = async {
            loop {
                match self.events.recv().await {
                    Some(event) => {
                        if let Some(found) = pick(&event) {
                            return found;
                        }
                    }
                    None => panic!("capture bus closed before the awaited event"),
                }
            }
        };
        tokio::time::timeout(WAIT, wait)
            .await
            .expect("the awaited capture event comes in time")
    }

    /// Stops the proxy, waits until the store has everything, and returns what it holds with
    /// the data directory (deleted when the returned guard drops).
    pub async fn stop_and_load(self) -> (Vec<StoredExchange>, DataDir) {
        let (exchanges, dir, _mock) = self.stop_keeping_mock().await;
        (exchanges, dir)
    }

    /// Like [`stop_and_load`](Self::stop_and_load), but the mock upstream keeps running, for
    /// tests that send to the session's upstream after the proxy is gone.
    pub async fn stop_keeping_mock(self) -> (Vec<StoredExchange>, DataDir, MockUpstream) {
        let Self {
            mock,
            stop,
            serving,
            data_dir,
            scratch,
            session,
            ..
        } = self;
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        if let Some(serving) = serving {
            tokio::time::timeout(WAIT, serving)
                .await
                .expect("proxy stops in time")
                .expect("serve task joins")
                .expect("serve ends cleanly");
        }
        let exchanges = load_exchanges(&data_dir, session);
        let dir = DataDir {
            path: data_dir,
            _scratch: scratch,
        };
        (exchanges, dir, mock)
    }
}

/// A data directory that outlives its harness until dropped.
pub struct DataDir {
    pub path: PathBuf,
    _scratch: TempDir,
}

pub fn load_exchanges(dir: &Path, session: SessionId) -> Vec<StoredExchange> {
    let store = Store::open(dir).expect("store reopens");
    store.exchanges(session).expect("exchanges load")
}

/// A plain client like an agent's: no proxy from the environment, no decompression.
pub fn client() -> reqwest::Client {
    llmscope::proxy::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(WAIT)
        .build()
        .expect("client builds")
}

pub fn chat_body(model: &str, stream: bool) -> String {
    serde_json::json!({
        "model": model,
        "stream": stream,
        "messages": [{"role": "user", "content": "Say hello"}],
    })
    .to_string()
}

pub fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// Every file under `dir`, in its subfolders too (the data dir holds `ca/` and `live/`).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir lists") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}
