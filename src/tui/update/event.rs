//! The one message type into the TUI loop, and the one out of it.

use std::sync::Arc;

use crossterm::event::KeyEvent;

use crate::capture::{CaptureEvent, ExchangeId, ExchangeRecord, HeaderList};
use crate::fix::Rule;
use crate::proxy::{ForwardCounts, ResendRequest};
use crate::tui::state::grouping::GroupedRequest;

/// Everything that can change the TUI's state. The loop turns terminal input, the capture
/// bus, the clock and finished background work into these and hands them to
/// [`update`](super::update).
#[derive(Debug, Clone)]
pub enum AppEvent {
    /// A key was pressed in the terminal.
    Key(KeyEvent),
    /// The terminal now has this many columns and rows; also sent once at start.
    Resize { width: u16, height: u16 },
    /// Sent about every 250 ms with the wall clock (Unix ms) so in-flight exchanges show how
    /// long they have been running.
    Tick { now_ms: i64 },
    /// One event from the capture bus. Tests send these one by one.
    Capture(CaptureEvent),
    /// Capture events drained from the bus in one go before a frame; applied together so a
    /// burst costs one rebuild of the detail view instead of one per event.
    CaptureBatch(Vec<CaptureEvent>),
    /// The capture bus closed: no more live exchanges will arrive.
    CaptureEnded,
    /// A [`Command::LoadDetail`] finished with the exchange's full record.
    DetailLoaded(Arc<ExchangeRecord>),
    /// Requests of a past session read in the background (in id order, a batch at a time),
    /// to group its rows into conversations.
    Grouped(Vec<GroupedRequest>),
    /// Reading a past session's requests to group them failed; the rows stay ungrouped.
    GroupingFailed(String),
    /// Every request of the past session's rows has been read and filed.
    GroupingDone,
    /// A [`Command::LoadDetail`] found nothing or failed; `reason` is shown in the panes.
    DetailFailed { id: ExchangeId, reason: String },
    /// The capture side's health changed: `Some("capture failing: disk full")`, or `None` once
    /// it recovered.
    CaptureHealth(Option<String>),
    /// Forward mode's counts changed (polled on the tick from a proxy in this process).
    ForwardCounts(ForwardCounts),
    /// A [`Command::Resend`] started: `child` is the new exchange, linked to `parent`.
    ResendStarted {
        parent: ExchangeId,
        child: ExchangeId,
    },
    /// A [`Command::Resend`] was refused before anything was sent (a bad method or header,
    /// or no proxy to send through); `reason` is shown on the message line.
    ResendFailed { parent: ExchangeId, reason: String },
    /// Hold-on-error is now on or off, as the proxy reports after [`Command::SetHold`].
    HoldChanged(bool),
    /// Auto-fix is now on or off, as the proxy reports after [`Command::SetAutoFix`].
    AutoFixChanged(bool),
    /// A [`Command::ForwardHeld`] ran: `forwarded` is false when `id` was no longer held.
    ForwardDone { id: ExchangeId, forwarded: bool },
    /// Intercepting is now on with this pattern, or off, as the proxy reports after
    /// [`Command::SetIntercept`].
    InterceptChanged(Option<String>),
    /// A [`Command::ReleaseIntercepted`] ran: `Ok(false)` when `id` was no longer intercepted,
    /// `Err` when the edited request was refused (it stays intercepted).
    ReleaseDone {
        id: ExchangeId,
        edited: bool,
        result: Result<bool, String>,
    },
    /// A [`Command::ListModels`] ran: the upstream's models, or why there are none.
    ModelsListed {
        id: ExchangeId,
        models: Result<Vec<String>, String>,
    },
    /// A [`Command::CopyCurl`] ran: the file written, or why it could not be.
    CurlCopied {
        id: ExchangeId,
        file: Result<std::path::PathBuf, String>,
    },
}

/// Work that [`update`](super::update) asks the loop to do, because it is slow or touches the
/// world outside the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Fetch the full record of an exchange that is neither in flight nor among the recently
    /// finished ones kept in memory; answered with [`AppEvent::DetailLoaded`] or
    /// [`AppEvent::DetailFailed`].
    LoadDetail(ExchangeId),
    /// Leave the TUI: restore the terminal and return from `run`.
    Quit,
    /// Send `request` through the proxy as a new exchange linked to `parent`; if the agent of
    /// `parent` is held and the reply succeeds, that agent gets it. Answered with
    /// [`AppEvent::ResendStarted`] or [`AppEvent::ResendFailed`].
    Resend {
        parent: ExchangeId,
        request: ResendRequest,
    },
    /// Turn hold-on-error on or off; answered with [`AppEvent::HoldChanged`].
    SetHold(bool),
    /// Turn auto-fix on or off; answered with [`AppEvent::AutoFixChanged`].
    SetAutoFix(bool),
    /// Send the held exchange's original failure on to its agent; answered with
    /// [`AppEvent::ForwardDone`].
    ForwardHeld(ExchangeId),
    /// Intercept agent requests matching the pattern before they are forwarded, or stop
    /// (`None`); answered with [`AppEvent::InterceptChanged`].
    SetIntercept(Option<String>),
    /// Send the intercepted request `id` on: as the user edited it, or as the agent sent it
    /// (`None`); answered with [`AppEvent::ReleaseDone`].
    ReleaseIntercepted {
        id: ExchangeId,
        request: Option<ResendRequest>,
    },
    /// Replace the rules the proxy applies to every later agent request with `rules`.
    SetRules(Vec<Rule>),
    /// Put `text` (a curl command replaying exchange `id`) on the clipboard through the
    /// terminal (OSC 52) and into a file; answered with [`AppEvent::CurlCopied`].
    CopyCurl { id: ExchangeId, text: String },
    /// Ask the upstream behind exchange `id` (called at `uri`, with `headers` as recorded)
    /// for its models; answered with [`AppEvent::ModelsListed`].
    ListModels {
        id: ExchangeId,
        uri: String,
        headers: HeaderList,
    },
}
