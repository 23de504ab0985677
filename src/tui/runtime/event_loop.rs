//! The loop: terminal input, the capture bus, the clock and finished background work become
//! [`AppEvent`]s for `update`, and a frame is drawn at most every [`FRAME`].

use std::io::Stdout;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::capture::{CaptureEvent, Subscription};
use crate::remote::wire::ControlState;
use crate::remote::Control;
use crate::tui::state::app::App;
use crate::tui::update::event::AppEvent;
use crate::tui::view::draw;

use super::context::{TuiContext, TuiError};
use super::executor::Executor;
use super::forward_watch::ForwardWatch;
use super::health::HealthWatch;
use super::history::spawn_grouping;

/// How often in-flight exchanges' running times are refreshed.
const TICK: Duration = Duration::from_millis(250);
/// The shortest time between two frames: a flood of capture events is drawn at most this often.
const FRAME: Duration = Duration::from_millis(33);
/// A batch this large is applied even before its frame is due, to bound memory.
const MAX_PENDING: usize = 10_000;

pub(super) async fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    ctx: TuiContext,
) -> Result<(), TuiError> {
    let size = terminal.size().map_err(TuiError::Setup)?;
    let mut status = ctx.status;
    status.control = ctx.control.is_some();
    let mut app = App::new(status, ctx.rows, now_ms(), (size.width, size.height));
    app.conversations.set_prices(ctx.prices);
    if let Some(control) = &ctx.control {
        app.rules = control.rules();
    }
    let mut changes = ctx.control.as_ref().and_then(Control::state_changes);
    let mut capture = ctx.events;
    let mut health = HealthWatch::new(ctx.capture_health, ctx.export_health);
    let mut forward = ForwardWatch::new(ctx.control.as_ref());
    let mut input = EventStream::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (finished_tx, mut finished_rx) = mpsc::unbounded_channel();
    // The rows the screen starts with (a past session's, or an attached session's so far)
    // are grouped in the background once the first frame is up; exchanges that start live
    // are grouped as they come, after those.
    let mut to_group = app
        .rows
        .iter()
        .map(|row| row.id)
        .max()
        .map(|last| (Arc::clone(&ctx.loader), last));
    if to_group.is_some() {
        app.begin_history();
    }
    let mut grouping: Option<mpsc::Receiver<AppEvent>> = None;
    let mut executor = Executor::new(ctx.loader, ctx.control, ctx.export_dir, finished_tx);
    let mut pending: Vec<CaptureEvent> = Vec::new();
    let mut dirty = true;
    let mut last_frame = Instant::now() - FRAME;

    let start = AppEvent::Resize {
        width: size.width,
        height: size.height,
    };
    if executor.apply(&mut app, start) {
        return Ok(());
    }
    loop {
        if dirty && last_frame.elapsed() >= FRAME {
            if flush(&mut app, &mut pending, &mut executor) {
                return Ok(());
            }
            terminal
                .draw(|frame| draw(&app, frame))
                .map_err(TuiError::Draw)?;
            last_frame = Instant::now();
            dirty = false;
            if let Some((loader, last)) = to_group.take() {
                grouping = Some(spawn_grouping(loader, last));
            }
        }
        let event = tokio::select! {
            biased;
            input_event = input.next() => match input_event {
                Some(Ok(Event::Key(key))) => Some(AppEvent::Key(key)),
                Some(Ok(Event::Resize(width, height))) => Some(AppEvent::Resize { width, height }),
                Some(Ok(_)) => None,
                Some(Err(error)) => return Err(TuiError::Input(error)),
                None => return Ok(()),
            },
            finished = finished_rx.recv() => match finished {
                Some(finished) => Some(executor.finished(finished)?),
                None => None,
            },
            _ = ticker.tick() => {
                for changed in [health.changed(), forward.changed()].into_iter().flatten() {
                    if executor.apply(&mut app, changed) {
                        return Ok(());
                    }
                }
                Some(AppEvent::Tick { now_ms: now_ms() })
            }
            captured = next_capture(&mut capture) => match captured {
                Some(event) => {
                    pending.push(event);
                    while let Some(more) = capture.as_mut().and_then(Subscription::try_recv) {
                        pending.push(more);
                        if pending.len() >= MAX_PENDING {
                            break;
                        }
                    }
                    if pending.len() >= MAX_PENDING && flush(&mut app, &mut pending, &mut executor) {
                        return Ok(());
                    }
                    dirty = true;
                    None
                }
                None => {
                    capture = None;
                    Some(AppEvent::CaptureEnded)
                }
            },
            changed = next_change(&mut changes) => match changed {
                Some(state) => {
                    app.rules = state.rules.clone();
                    for event in state_events(&app, &state) {
                        if executor.apply(&mut app, event) {
                            return Ok(());
                        }
                    }
                    dirty = true;
                    None
                }
                None => {
                    changes = None;
                    None
                }
            },
            // After input, loads and capture: grouping must not hold up what the user asked.
            grouped = next_grouped(&mut grouping) => match grouped {
                Some(event) => Some(event),
                None => {
                    grouping = None;
                    Some(AppEvent::GroupingDone)
                }
            },
            _ = tokio::time::sleep_until(last_frame + FRAME), if dirty => None,
        };
        if let Some(event) = event {
            // Capture events that arrived first are applied first, so a key acts on what the
            // user could already see.
            if flush(&mut app, &mut pending, &mut executor) || executor.apply(&mut app, event) {
                return Ok(());
            }
            dirty = true;
        }
    }
}

/// Applies the capture events gathered since the last frame; returns whether to quit.
fn flush(app: &mut App, pending: &mut Vec<CaptureEvent>, executor: &mut Executor) -> bool {
    if pending.is_empty() {
        return false;
    }
    let batch = AppEvent::CaptureBatch(std::mem::take(pending));
    executor.apply(app, batch)
}

async fn next_capture(capture: &mut Option<Subscription>) -> Option<CaptureEvent> {
    match capture {
        Some(subscription) => subscription.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_grouped(grouping: &mut Option<mpsc::Receiver<AppEvent>>) -> Option<AppEvent> {
    match grouping {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// Switches changed by another screen of an attached session; `None` when there will be no
/// more.
async fn next_change(changes: &mut Option<watch::Receiver<ControlState>>) -> Option<ControlState> {
    match changes {
        Some(receiver) => match receiver.changed().await {
            Ok(()) => Some(receiver.borrow_and_update().clone()),
            Err(_) => None,
        },
        None => std::future::pending().await,
    }
}

/// What `update` must hear about switches that differ from what the screen shows.
fn state_events(app: &App, state: &ControlState) -> Vec<AppEvent> {
    let status = &app.status;
    let mut events = Vec::new();
    if status.hold != state.hold {
        events.push(AppEvent::HoldChanged(state.hold));
    }
    if status.auto_fix != state.auto_fix {
        events.push(AppEvent::AutoFixChanged(state.auto_fix));
    }
    if status.intercept != state.intercept {
        events.push(AppEvent::InterceptChanged(state.intercept.clone()));
    }
    events
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
