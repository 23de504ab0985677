//! The attach protocol's messages: one JSON object per line, both ways. The server says hello
//! once, then sends capture events, answers and state changes; the client sends commands, each
//! with an id that its answer repeats.
//!
//! Types of their own rather than the capture types, so the protocol is written down in one
//! place and a change inside the proxy does not silently change what a screen reads.

use serde::{Deserialize, Serialize};

use super::wire_event::{WireEvent, WireRecord, WireRequest, WireStart};
use crate::capture::{ExchangeId, HeaderList, SessionId};
use crate::fix::Rule;
use crate::proxy::ForwardCounts;

/// Bumped when a message changes in a way an older screen could misread.
pub const PROTOCOL_VERSION: u32 = 1;

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The first line on every connection: the session and what the proxy is doing now.
    Hello(Hello),
    /// One capture event, as the proxy published it.
    Event { event: WireEvent },
    /// The answer to the client's command `call`.
    Answer { call: u64, answer: Answer },
    /// A line the server could not act on; `call` when its id could be read.
    Error { call: Option<u64>, message: String },
    /// Hold, auto-fix, intercept or the rules changed (from this screen or another).
    State(ControlState),
}

/// The session a screen attached to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub version: u32,
    pub session: SessionId,
    /// The proxy's listen address, e.g. `127.0.0.1:8787`.
    pub listen: String,
    pub upstream: String,
    pub state: ControlState,
    /// Failed replies held for a fix now, oldest first.
    pub held: Vec<Waiting>,
    /// Requests intercepted before forwarding now, oldest first, as they would go out.
    pub intercepted: Vec<InterceptedNow>,
    /// Exchanges that finished before the hello but that the store may not have written yet,
    /// oldest first: the screen reads the rest from the store. Some may be there by the time
    /// it reads; the screen takes each exchange once.
    #[serde(default)]
    pub unsaved: Vec<WireRecord>,
}

/// The switches a screen shows and changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ControlState {
    pub hold: bool,
    pub auto_fix: bool,
    pub intercept: Option<String>,
    /// Credentials a rule sets read `<redacted>`.
    pub rules: Vec<Rule>,
    /// Forward mode's counts, for the status line; `None` in reverse mode (and from a server
    /// that predates them).
    #[serde(default)]
    pub forward: Option<ForwardTally>,
}

/// [`ForwardCounts`] as they cross the socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardTally {
    pub tunnelled: u64,
    pub refused_handshakes: u64,
}

impl From<ForwardCounts> for ForwardTally {
    fn from(counts: ForwardCounts) -> Self {
        Self {
            tunnelled: counts.tunnelled,
            refused_handshakes: counts.refused_handshakes,
        }
    }
}

impl From<ForwardTally> for ForwardCounts {
    fn from(tally: ForwardTally) -> Self {
        Self {
            tunnelled: tally.tunnelled,
            refused_handshakes: tally.refused_handshakes,
        }
    }
}

/// An exchange whose agent is waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub id: ExchangeId,
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterceptedNow {
    pub start: WireStart,
    pub expires_at_ms: i64,
}

/// What the client sends: a command and the request id its answer will carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRequest {
    /// Named so no command's own field can take its place (`id`, `request`).
    pub call: u64,
    #[serde(flatten)]
    pub command: RemoteCommand,
}

/// The commands of a screen, as the proxy's control offers them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum RemoteCommand {
    SetHold {
        on: bool,
    },
    SetAutoFix {
        on: bool,
    },
    /// `None` (or an empty pattern) stops intercepting.
    SetIntercept {
        pattern: Option<String>,
    },
    /// Rule values that read `<redacted>` keep the value the rule has in the proxy.
    SetRules {
        rules: Vec<Rule>,
    },
    /// Header values that read `<redacted>` are sent with the parent's real value.
    Resend {
        parent: ExchangeId,
        request: WireRequest,
    },
    ForwardHeld {
        id: ExchangeId,
    },
    /// `None` sends the request as the agent sent it.
    ReleaseIntercepted {
        id: ExchangeId,
        request: Option<WireRequest>,
    },
    ListModels {
        id: ExchangeId,
        uri: String,
        headers: HeaderList,
    },
}

/// The answer to one command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// The switches after a `set_…` command.
    State(ControlState),
    /// A resend started as exchange `child`, or was refused with `reason`.
    Resend {
        result: Result<ExchangeId, String>,
    },
    /// Whether the held exchange was still held and is now settled.
    Forwarded {
        forwarded: bool,
    },
    /// `Ok(false)` when the request was no longer intercepted; `Err` leaves it intercepted.
    Released {
        result: Result<bool, String>,
    },
    Models {
        result: Result<Vec<String>, String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::wire_event::WireBody;

    #[test]
    fn a_command_line_names_its_call_its_command_and_the_exchange() {
        let line = serde_json::to_string(&ClientRequest {
            call: 7,
            command: RemoteCommand::ForwardHeld { id: ExchangeId(3) },
        })
        .expect("encodes");
        assert_eq!(line, r#"{"call":7,"command":"forward_held","id":3}"#);
        let back: ClientRequest = serde_json::from_str(&line).expect("decodes");
        assert_eq!(back.call, 7);
        // No command's own fields take the call id's place.
        let resend = ClientRequest {
            call: 8,
            command: RemoteCommand::Resend {
                parent: ExchangeId(2),
                request: WireRequest {
                    method: "POST".into(),
                    uri: "/v1/x".into(),
                    headers: HeaderList::new(),
                    body: WireBody::Text("{}".into()),
                },
            },
        };
        let line = serde_json::to_string(&resend).expect("encodes");
        let back: ClientRequest = serde_json::from_str(&line).expect("decodes");
        assert_eq!(back, resend);
    }
}
