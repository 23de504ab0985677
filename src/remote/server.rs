//! The attach server: a Unix socket, reachable only by the user, on which any number of screens
//! follow the session and drive the proxy.
//!
//! It never makes the proxy wait: each screen reads the capture bus through a subscription of
//! its own, and a screen that stops reading (a write stalls, or it falls too far behind) is
//! let go while the proxy goes on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::commands::{control_state, run_remote_command};
use super::lines::{encode, read_message, Line};
use super::unsaved::Unsaved;
use super::wire::PROTOCOL_VERSION;
use super::wire::{ClientRequest, ControlState, Hello, InterceptedNow, ServerMessage, Waiting};
use super::wire_event::{WireEvent, WireRecord, WireStart};
use super::RemoteError;
use crate::capture::{
    CaptureBus, CaptureEvent, ExchangeId, ExchangeStart, Interest, SessionId, Tap,
};
use crate::proxy::ProxyControl;
use crate::store::StoreHealth;

/// Chunks are skipped for a screen this many events behind; lifecycle events still go.
const LAG_LIMIT: usize = 1024;
/// A screen this many events behind is let go: it is not reading.
const MAX_BEHIND: usize = 16_384;
/// A screen that takes longer than this to accept one line is let go.
const WRITE_STALL: Duration = Duration::from_secs(10);
/// How often each connection looks for switches changed elsewhere (another screen, the
/// built-in one).
const STATE_POLL: Duration = Duration::from_millis(300);
/// The longest command line a screen may send: an edited request with its body.
const MAX_COMMAND_LINE: usize = 256 * 1024 * 1024;

/// What a screen is told about the session besides the proxy's own state.
#[derive(Debug, Clone)]
pub struct SessionFacts {
    pub session: SessionId,
    pub listen: String,
    pub upstream: String,
}

/// The running server; dropping it stops accepting and removes the socket file.
pub struct AttachServer {
    path: PathBuf,
    accept: JoinHandle<()>,
    log: Arc<AtomicBool>,
}

/// Requests paused before forwarding, with the start only their `Intercepted` event carries;
/// a tap of the bus, so it is up to date with every event already published.
#[derive(Default)]
struct InterceptedStarts {
    starts: Mutex<BTreeMap<ExchangeId, (Arc<ExchangeStart>, i64)>>,
}

impl InterceptedStarts {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<ExchangeId, (Arc<ExchangeStart>, i64)>> {
        self.starts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Tap for InterceptedStarts {
    fn observe(&self, event: &CaptureEvent) {
        match event {
            CaptureEvent::Intercepted {
                start,
                expires_at_ms,
            } => {
                self.lock()
                    .insert(start.id, (start.clone(), *expires_at_ms));
            }
            // Released: from now on it is an exchange like any other.
            CaptureEvent::Started(start) => {
                let mut starts = self.lock();
                if !starts.is_empty() {
                    starts.remove(&start.id);
                }
            }
            _ => {}
        }
    }
}

struct Shared {
    control: ProxyControl,
    bus: CaptureBus,
    unsaved: Unsaved,
    facts: SessionFacts,
    intercepted: Arc<InterceptedStarts>,
    log: Arc<AtomicBool>,
    next_client: AtomicU64,
}

impl AttachServer {
    /// Serves `<data_dir>/live/<session>.sock` (directory 0700, socket 0600). `store` is the
    /// health of the writer recording `bus`, for what it has not written yet.
    pub async fn start(
        data_dir: &Path,
        facts: SessionFacts,
        control: ProxyControl,
        bus: CaptureBus,
        store: Arc<StoreHealth>,
    ) -> Result<Self, RemoteError> {
        let path = super::socket_path(data_dir, facts.session);
        let bound = tokio::task::spawn_blocking({
            let path = path.clone();
            move || bind_private(&path)
        })
        .await
        .map_err(|e| RemoteError::Socket {
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        })??;
        let listener = UnixListener::from_std(bound).map_err(|source| RemoteError::Socket {
            path: path.clone(),
            source,
        })?;
        let intercepted = bus.tap(|_| Arc::new(InterceptedStarts::default()));
        let log = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            control,
            unsaved: Unsaved::start(&bus, store),
            bus,
            facts,
            intercepted,
            log: log.clone(),
            next_client: AtomicU64::new(1),
        });
        let accept = tokio::spawn(accept_loop(listener, shared));
        Ok(Self { path, accept, log })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Says on stderr when a screen is let go (for `record`, which has no screen of its own).
    pub fn log_to_stderr(&self) {
        self.log.store(true, Ordering::Relaxed);
    }
}

impl Drop for AttachServer {
    fn drop(&mut self) {
        self.accept.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Blocking: creates the private directory and binds the socket in it.
fn bind_private(path: &Path) -> Result<std::os::unix::net::UnixListener, RemoteError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |source| RemoteError::Socket {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    // Session ids are never reused, so a file of this name is left over from a killed run.
    let _ = std::fs::remove_file(path);
    let listener = std::os::unix::net::UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    listener.set_nonblocking(true).map_err(io)?;
    Ok(listener)
}

async fn accept_loop(listener: UnixListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors, most likely: try again shortly rather than spin.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if !same_user(&stream) {
            continue;
        }
        tokio::spawn(serve_screen(stream, shared.clone()));
    }
}

/// The directory already keeps others out; this refuses a peer of another user regardless.
fn same_user(stream: &UnixStream) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    stream.peer_cred().is_ok_and(|cred| cred.uid() == me)
}

impl Shared {
    fn state(&self) -> ControlState {
        control_state(&self.control)
    }

    fn hello(&self) -> Hello {
        let waiting = |list: Vec<crate::proxy::HeldSummary>| -> Vec<Waiting> {
            list.into_iter()
                .map(|h| Waiting {
                    id: h.id,
                    expires_at_ms: h.expires_at_ms,
                })
                .collect()
        };
        // The proxy's own list first: the map is a tap's, taken under the bus's lock, so it is
        // never held while asking the proxy for anything.
        let paused = waiting(self.control.intercepted());
        let starts = self.intercepted.lock();
        let intercepted = paused
            .into_iter()
            .filter_map(|w| {
                let (start, _) = starts.get(&w.id)?;
                Some(InterceptedNow {
                    start: WireStart::from_start(start),
                    expires_at_ms: w.expires_at_ms,
                })
            })
            .collect();
        drop(starts);
        Hello {
            version: PROTOCOL_VERSION,
            session: self.facts.session,
            listen: self.facts.listen.clone(),
            upstream: self.facts.upstream.clone(),
            state: self.state(),
            held: waiting(self.control.held()),
            intercepted,
            unsaved: Vec::new(),
        }
    }

    fn say(&self, client: u64, what: &str) {
        if self.log.load(Ordering::Relaxed) {
            eprintln!("llmscope: attached screen {client} {what}");
        }
    }
}

/// One screen, from hello to hang-up.
async fn serve_screen(stream: UnixStream, shared: Arc<Shared>) {
    let client = shared.next_client.fetch_add(1, Ordering::Relaxed);
    // Subscribed before the hello is taken, so nothing published after it is missed; what
    // finished before it and is not in the store yet goes in the hello.
    let (mut events, finished_before) = shared
        .bus
        .subscribe_counting_finished(LAG_LIMIT, Interest::Everything);
    let mut hello = shared.hello();
    hello.unsaved = shared
        .unsaved
        .among_first(finished_before)
        .iter()
        .map(|record| WireRecord::from_record(record))
        .collect();
    let (read, mut write) = stream.into_split();
    let (answers_tx, mut answers) = mpsc::channel::<ServerMessage>(64);
    let reader = tokio::spawn(read_commands(read, shared.clone(), answers_tx));
    let mut state = hello.state.clone();
    let mut poll = tokio::time::interval(STATE_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut next = Some(ServerMessage::Hello(hello));
    let why = loop {
        if let Some(message) = next.take() {
            match tokio::time::timeout(WRITE_STALL, write.write_all(&encode(&message))).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => break None,
                Err(_) => break Some("stopped reading and was let go; the proxy goes on"),
            }
        }
        if events.pending() > MAX_BEHIND {
            break Some("fell too far behind and was let go; the proxy goes on");
        }
        next = tokio::select! {
            event = events.recv() => match event {
                Some(event) => Some(ServerMessage::Event { event: WireEvent::from_event(&event) }),
                // The session is over: hanging up tells the screen so.
                None => break None,
            },
            answer = answers.recv() => match answer {
                Some(answer) => Some(answer),
                None => break None,
            },
            _ = poll.tick() => {
                let now = shared.state();
                (now != state).then(|| {
                    state = now.clone();
                    ServerMessage::State(now)
                })
            }
        };
    };
    reader.abort();
    if let Some(why) = why {
        shared.say(client, why);
    }
}

async fn read_commands(
    read: tokio::net::unix::OwnedReadHalf,
    shared: Arc<Shared>,
    answers: mpsc::Sender<ServerMessage>,
) {
    let mut reader = BufReader::new(read);
    let mut buf = Vec::new();
    loop {
        let reply =
            match read_message::<ClientRequest, _>(&mut reader, &mut buf, MAX_COMMAND_LINE).await {
                Line::End => return,
                Line::Garbage(reason) => ServerMessage::Error {
                    call: call_id(&buf),
                    message: format!("not an llmscope attach command: {reason}"),
                },
                Line::Message(request) => {
                    let control = shared.control.clone();
                    let answers = answers.clone();
                    // A command may wait on the upstream (listing models): the next line need not.
                    tokio::spawn(async move {
                        let answer = run_remote_command(&control, request.command).await;
                        let message = match answer {
                            Ok(answer) => ServerMessage::Answer {
                                call: request.call,
                                answer,
                            },
                            Err(message) => ServerMessage::Error {
                                call: Some(request.call),
                                message,
                            },
                        };
                        let _ = answers.send(message).await;
                    });
                    continue;
                }
            };
        if answers.send(reply).await.is_err() {
            return;
        }
    }
}

/// The call id of a line that is JSON but not a command, so its error can be matched up.
fn call_id(line: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()?
        .get("call")?
        .as_u64()
}
