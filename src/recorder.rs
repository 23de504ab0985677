//! Starting and stopping a recorded proxy session: the store, its writer, the bus, the proxy
//! and the attach socket for other screens, in the order that keeps every exchange in the
//! record. Shared by `record`, the TUI, `launch` and `demo`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::capture::{CaptureBus, Interest, SessionId, Subscription};
use crate::otlp::{ExportHealth, OtlpExport, OtlpSettings, UpstreamMap};
use crate::proxy::{bind_listener, Proxy, ProxyConfig, ProxyControl};
use crate::remote::{AttachServer, RemoteError, SessionFacts};
use crate::store::{
    spawn_writer, subscribe_writer, SessionInfo, Store, StoreFile, StoreHealth, WriterHandle,
};

/// A bound proxy whose exchanges are being written to the session database.
pub struct Recording {
    pub proxy: Proxy,
    upstream: String,
    pub bus: CaptureBus,
    pub session: SessionId,
    pub data_dir: PathBuf,
    /// Set when a damaged database was moved aside to start a fresh one.
    pub moved_aside: Option<PathBuf>,
    /// The database file the store opened, for other connections to it this run.
    file: StoreFile,
    writer: WriterHandle,
    /// Spans for a tracing backend (`--otlp`), fed from the same bus as the store.
    otlp: Option<OtlpExport>,
    /// Where other screens attach (`llmscope attach`); a socket that cannot be served leaves
    /// the recording as it is, without a second screen.
    attach: Result<AttachServer, RemoteError>,
}

impl Recording {
    /// Opens the store, starts a session and binds the proxy. `mode` names the command
    /// (`record`, `tui`, `demo`) in the sessions list.
    pub async fn start(config: ProxyConfig, data_dir: &Path, mode: &str) -> Result<Self> {
        Self::start_exporting(config, data_dir, mode, None).await
    }

    /// Like [`start`](Self::start), also sending each exchange as a span to `otlp`'s collector.
    pub async fn start_exporting(
        config: ProxyConfig,
        data_dir: &Path,
        mode: &str,
        otlp: Option<&OtlpSettings>,
    ) -> Result<Self> {
        let dir = data_dir.to_path_buf();
        let (store, moved_aside) =
            tokio::task::spawn_blocking(move || Store::open_or_recover(&dir))
                .await
                .context("opening the session database")?
                .with_context(|| {
                    format!("opening the session database in {}", data_dir.display())
                })?;
        // Bound before the session starts so the session records the real port.
        let listener = bind_listener(config.listen).await?;
        let listen = listener
            .local_addr()
            .map_or_else(|_| config.listen.to_string(), |a| a.to_string());
        let info = SessionInfo {
            upstream: config.upstream_label(),
            listen,
            mode: mode.to_string(),
        };
        let facts_listen = info.listen.clone();
        let session = store
            .begin_session(&info)
            .context("starting a session in the database")?;
        let bus = CaptureBus::new();
        let file = store.file();
        let writer = spawn_writer(store, subscribe_writer(&bus));
        let otlp = match otlp {
            Some(settings) => Some(
                OtlpExport::start(
                    settings,
                    UpstreamMap::from_config(&config),
                    bus.subscribe_to(Interest::Record),
                    tokio::runtime::Handle::current(),
                )
                .with_context(|| format!("starting the OTLP export to {}", settings.endpoint))?,
            ),
            None => None,
        };
        let upstream = config.upstream_label();
        let proxy = Proxy::with_listener(listener, config, bus.clone(), session)?;
        let facts = SessionFacts {
            session,
            listen: facts_listen,
            upstream: upstream.clone(),
        };
        let attach = AttachServer::start(
            data_dir,
            facts,
            proxy.control(),
            bus.clone(),
            writer.health(),
        )
        .await;
        Ok(Self {
            proxy,
            upstream,
            bus,
            session,
            data_dir: data_dir.to_path_buf(),
            moved_aside,
            file,
            writer,
            otlp,
            attach,
        })
    }

    /// How the OTLP export is doing, and where it goes, when there is one.
    pub fn otlp_health(&self) -> Option<(Arc<ExportHealth>, String)> {
        let otlp = self.otlp.as_ref()?;
        Some((otlp.health(), otlp.endpoint().to_string()))
    }

    /// The socket other screens attach to, or why there is none.
    pub fn attach(&self) -> Result<&AttachServer, &RemoteError> {
        self.attach.as_ref()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.proxy.local_addr()
    }

    /// The upstream URL, as shown to the user.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The handle the screen uses to hold, resend and settle.
    pub fn control(&self) -> ProxyControl {
        self.proxy.control()
    }

    pub fn subscribe(&self) -> Subscription {
        self.bus.subscribe()
    }

    /// A subscription to the events of `interest`.
    pub fn subscribe_to(&self, interest: Interest) -> Subscription {
        self.bus.subscribe_to(interest)
    }

    /// A subscription to the events of `interest` that come without their bodies once
    /// `body_byte_limit` bytes of bodies are queued for it (see
    /// [`CaptureBus::subscribe_with_byte_limit`]).
    pub fn subscribe_with_byte_limit(
        &self,
        interest: Interest,
        body_byte_limit: usize,
    ) -> Subscription {
        self.bus
            .subscribe_with_byte_limit(interest, body_byte_limit)
    }

    pub fn store_health(&self) -> Arc<StoreHealth> {
        self.writer.health()
    }

    /// Another connection to the session database the recording writes, for reads beside the
    /// writer thread; the file was checked and migrated when the recording started.
    pub async fn connect_reader(&self) -> Result<Store> {
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || file.connect())
            .await
            .context("opening the session database")?
            .with_context(|| {
                format!(
                    "opening the session database in {}",
                    self.data_dir.display()
                )
            })
    }

    /// Serves until `shutdown`, then drains the capture into the store and closes the session.
    pub async fn serve_until(self, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
        let Self {
            proxy,
            bus,
            session,
            file,
            writer,
            otlp,
            attach,
            ..
        } = self;
        let served = proxy.run(shutdown).await;
        // Screens still attached see their connection close once the bus has; the socket
        // file goes now, so no new screen finds a session that is ending.
        drop(attach);
        bus.close();
        let exported = otlp.map(|otlp| {
            let endpoint = otlp.endpoint().to_string();
            (endpoint, tokio::task::spawn_blocking(move || otlp.finish()))
        });
        tokio::task::spawn_blocking(move || -> Result<()> {
            let exit = writer.join();
            if exit.events_lost > 0 {
                eprintln!(
                    "llmscope: {} capture events could not be written: {}",
                    exit.events_lost,
                    exit.last_error.as_deref().unwrap_or("unknown error")
                );
            }
            let store = match exit.store {
                Some(store) => store,
                None => file.connect().context("reopening the session database")?,
            };
            store.end_session(session).context("closing the session")?;
            Ok(())
        })
        .await
        .context("finishing the session")??;
        if let Some((endpoint, finished)) = exported {
            if let Ok(health) = finished.await {
                eprintln!("llmscope: {}", otlp_summary(&health, &endpoint));
            }
        }
        served.context("serving the proxy")
    }
}

/// The line a run ends with when it exported spans.
pub fn otlp_summary(health: &ExportHealth, endpoint: &str) -> String {
    let sent = match health.exported() {
        1 => "1 span".to_string(),
        n => format!("{n} spans"),
    };
    match (health.lost(), health.problem()) {
        (0, _) => format!("OTLP: {sent} sent to {endpoint}"),
        (lost, problem) => format!(
            "OTLP: {sent} sent to {endpoint}, {lost} dropped ({})",
            problem.unwrap_or_else(|| "the collector did not take them in time".into())
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::Upstream;

    #[tokio::test]
    async fn a_reader_of_the_recording_sees_its_session_open_then_closed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let upstream = Upstream::parse("http://127.0.0.1:9").expect("upstream");
        let config = ProxyConfig::new("127.0.0.1:0".parse().expect("addr"), upstream);
        let recording = Recording::start(config, tmp.path(), "test")
            .await
            .expect("recording starts");
        let session = recording.session;
        let reader = recording.connect_reader().await.expect("reader");
        let sessions = reader.list_sessions().expect("sessions");
        assert_eq!(sessions.len(), 1);
        assert_eq!((sessions[0].id, sessions[0].ended_at_ms), (session, None));

        recording.serve_until(async {}).await.expect("served");
        let sessions = reader.list_sessions().expect("sessions");
        assert!(sessions[0].ended_at_ms.is_some(), "{sessions:?}");
    }
}
