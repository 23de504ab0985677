//! The screen's end of the attach socket: the hello, the session's events published on a
//! local capture bus (so the screen reads them like a local session's), and [`RemoteControl`],
//! the proxy's control over the socket.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;
use tokio::sync::{oneshot, watch};

use super::lines::{encode, read_message, Line};
use super::wire::PROTOCOL_VERSION;
use super::wire::{Answer, ClientRequest, ControlState, Hello, RemoteCommand, ServerMessage};
use super::wire_event::WireRequest;
use super::RemoteError;
use crate::capture::{CaptureBus, CaptureEvent, ExchangeId, HeaderList, Subscription};
use crate::fix::Rule;
use crate::proxy::{ForwardCounts, ResendRequest};

/// The server is trusted to send whole records; this only keeps a broken one from eating
/// memory without end.
const MAX_SERVER_LINE: usize = 512 * 1024 * 1024;
/// The server answers every command it reads; this bounds the wait if a line goes astray.
/// Longer than a model list may take (the upstream's connect and idle timeouts).
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// A connection that has said hello and waits for [`start`](Self::start).
pub struct Attachment {
    pub hello: Hello,
    reader: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl Attachment {
    /// Connects to the socket at `path` and reads the hello.
    pub async fn connect(path: &Path) -> Result<Self, RemoteError> {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|source| RemoteError::Connect {
                path: path.to_path_buf(),
                source,
            })?;
        let (read, write) = stream.into_split();
        let mut reader = BufReader::new(read);
        let mut buf = Vec::new();
        let hello =
            match read_message::<ServerMessage, _>(&mut reader, &mut buf, MAX_SERVER_LINE).await {
                Line::Message(ServerMessage::Hello(hello)) => hello,
                Line::Message(_) | Line::Garbage(_) | Line::End => {
                    return Err(RemoteError::NoHello(path.to_path_buf()))
                }
            };
        if hello.version != PROTOCOL_VERSION {
            return Err(RemoteError::Version {
                theirs: hello.version,
                ours: PROTOCOL_VERSION,
            });
        }
        Ok(Self {
            hello,
            reader,
            write,
        })
    }

    /// Publishes `preface` (what the screen must know before the live events: records of
    /// held exchanges, say) and then every event the server sends, on a local bus. The
    /// subscription ends when the session does.
    pub fn start(self, preface: Vec<CaptureEvent>) -> (RemoteControl, Subscription) {
        let bus = CaptureBus::new();
        let events = bus.subscribe();
        for event in preface {
            bus.publish(event);
        }
        let (state, _) = watch::channel(self.hello.state.clone());
        let inner = Arc::new(Inner {
            pending: Mutex::new(Some(HashMap::new())),
            next_id: AtomicU64::new(1),
            state,
        });
        tokio::spawn(read_server(self.reader, bus, inner.clone()));
        let write = Arc::new(tokio::sync::Mutex::new(self.write));
        (RemoteControl { inner, write }, events)
    }
}

type Pending = HashMap<u64, oneshot::Sender<Result<Answer, String>>>;

/// What the connection's reader shares with the controls. The write half is the controls'
/// alone: when the last one is dropped the connection's sending side closes, and the server
/// lets the screen go.
struct Inner {
    /// `None` once the connection is gone: later calls fail at once.
    pending: Mutex<Option<Pending>>,
    next_id: AtomicU64,
    state: watch::Sender<ControlState>,
}

impl Inner {
    fn pending(&self) -> std::sync::MutexGuard<'_, Option<Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn read_server(mut reader: BufReader<OwnedReadHalf>, bus: CaptureBus, inner: Arc<Inner>) {
    let mut buf = Vec::new();
    loop {
        match read_message::<ServerMessage, _>(&mut reader, &mut buf, MAX_SERVER_LINE).await {
            Line::End => break,
            // A line this version cannot read is skipped: the rest of the session still is.
            Line::Garbage(_) => {}
            Line::Message(message) => match message {
                ServerMessage::Event { event } => {
                    if let Ok(event) = event.into_event() {
                        bus.publish(event);
                    }
                }
                ServerMessage::Answer { call, answer } => answer_call(&inner, call, Ok(answer)),
                ServerMessage::Error {
                    call: Some(call),
                    message,
                } => answer_call(&inner, call, Err(message)),
                ServerMessage::State(state) => {
                    inner.state.send_replace(state);
                }
                ServerMessage::Error { call: None, .. } | ServerMessage::Hello(_) => {}
            },
        }
    }
    // Dropping the senders fails every call still waiting.
    inner.pending().take();
    bus.close();
}

fn answer_call(inner: &Inner, call: u64, answer: Result<Answer, String>) {
    let waiting = inner.pending().as_mut().and_then(|p| p.remove(&call));
    if let Some(waiting) = waiting {
        let _ = waiting.send(answer);
    }
}

/// The proxy of an attached session, driven over its socket. Cheap to clone.
#[derive(Clone)]
pub struct RemoteControl {
    inner: Arc<Inner>,
    write: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
}

impl RemoteControl {
    /// Sends `command` and waits for its answer.
    pub async fn call(&self, command: RemoteCommand) -> Result<Answer, RemoteError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        match self.inner.pending().as_mut() {
            Some(pending) => pending.insert(id, tx),
            None => return Err(RemoteError::Ended),
        };
        let line = encode(&ClientRequest { call: id, command });
        let written = self.write.lock().await.write_all(&line).await;
        if written.is_err() {
            return Err(RemoteError::Ended);
        }
        let answer = tokio::time::timeout(CALL_TIMEOUT, rx).await;
        if answer.is_err() {
            self.inner.pending().as_mut().map(|p| p.remove(&id));
        }
        match answer {
            Ok(Ok(Ok(answer))) => Ok(answer),
            Ok(Ok(Err(message))) => Err(RemoteError::Refused(message)),
            Ok(Err(_)) => Err(RemoteError::Ended),
            Err(_) => Err(RemoteError::NoAnswer),
        }
    }

    /// The switches as the server last reported them.
    pub fn state(&self) -> ControlState {
        self.inner.state.borrow().clone()
    }

    /// Forward mode's counts as the server last reported them.
    pub fn forward_counts(&self) -> Option<ForwardCounts> {
        self.inner.state.borrow().forward.map(Into::into)
    }

    /// Changes of the switches, from this screen or any other.
    pub fn state_changes(&self) -> watch::Receiver<ControlState> {
        self.inner.state.subscribe()
    }

    async fn set(&self, command: RemoteCommand) -> Result<ControlState, RemoteError> {
        // The server reports the change to every screen, this one too (`state_changes`).
        match self.call(command).await? {
            Answer::State(state) => Ok(state),
            other => Err(unexpected(&other)),
        }
    }

    pub async fn set_hold(&self, on: bool) -> Result<bool, RemoteError> {
        Ok(self.set(RemoteCommand::SetHold { on }).await?.hold)
    }

    pub async fn set_auto_fix(&self, on: bool) -> Result<bool, RemoteError> {
        Ok(self.set(RemoteCommand::SetAutoFix { on }).await?.auto_fix)
    }

    pub async fn set_intercept(
        &self,
        pattern: Option<String>,
    ) -> Result<Option<String>, RemoteError> {
        Ok(self
            .set(RemoteCommand::SetIntercept { pattern })
            .await?
            .intercept)
    }

    pub async fn set_rules(&self, rules: Vec<Rule>) -> Result<Vec<Rule>, RemoteError> {
        Ok(self.set(RemoteCommand::SetRules { rules }).await?.rules)
    }

    /// The new exchange's id, `Ok(Err(reason))` when the proxy refused the request.
    pub async fn resend(
        &self,
        parent: ExchangeId,
        request: &ResendRequest,
    ) -> Result<Result<ExchangeId, String>, RemoteError> {
        let request = WireRequest::from_resend(request);
        match self.call(RemoteCommand::Resend { parent, request }).await? {
            Answer::Resend { result } => Ok(result),
            other => Err(unexpected(&other)),
        }
    }

    pub async fn forward_held(&self, id: ExchangeId) -> Result<bool, RemoteError> {
        match self.call(RemoteCommand::ForwardHeld { id }).await? {
            Answer::Forwarded { forwarded } => Ok(forwarded),
            other => Err(unexpected(&other)),
        }
    }

    pub async fn release_intercepted(
        &self,
        id: ExchangeId,
        request: Option<&ResendRequest>,
    ) -> Result<Result<bool, String>, RemoteError> {
        let request = request.map(WireRequest::from_resend);
        match self
            .call(RemoteCommand::ReleaseIntercepted { id, request })
            .await?
        {
            Answer::Released { result } => Ok(result),
            other => Err(unexpected(&other)),
        }
    }

    pub async fn list_models(
        &self,
        id: ExchangeId,
        uri: &str,
        headers: &HeaderList,
    ) -> Result<Result<Vec<String>, String>, RemoteError> {
        let command = RemoteCommand::ListModels {
            id,
            uri: uri.to_string(),
            headers: headers.clone(),
        };
        match self.call(command).await? {
            Answer::Models { result } => Ok(result),
            other => Err(unexpected(&other)),
        }
    }
}

fn unexpected(answer: &Answer) -> RemoteError {
    RemoteError::Unexpected(format!("{answer:?}").chars().take(120).collect())
}
