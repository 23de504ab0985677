//! The only part of the TUI that touches the world: the terminal (raw mode, alternate screen,
//! input), the capture subscription, the clock, and the store through a [`DetailLoader`].
//!
//! Never blocks the runtime: input arrives through crossterm's async `EventStream`, records
//! load on blocking threads, and bursts of capture events are applied once per frame.

use std::collections::VecDeque;
use std::io::{self, Stdout};
use std::panic::{self, PanicHookInfo};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{Event, EventStream};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use futures_util::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::capture::{CaptureEvent, ExchangeId, ExchangeRecord, Subscription};
use crate::proxy::ProxyControl;
use crate::store::StoreHealth;

use super::app::{App, StatusInfo};
use super::event::{AppEvent, Command};
use super::proxy_commands::{read_only_answer, run_command};
use super::rows::ExchangeRow;
use super::update::update;
use super::view::draw;

/// How often in-flight exchanges' running times are refreshed.
const TICK: Duration = Duration::from_millis(250);
/// The shortest time between two frames: a flood of capture events is drawn at most this often.
const FRAME: Duration = Duration::from_millis(33);
/// A batch this large is applied even before its frame is due, to bound memory.
const MAX_PENDING: usize = 10_000;

/// Fetches a full record that is no longer in memory (from the store). Called on a blocking
/// thread, one load at a time.
pub trait DetailLoader: Send + Sync {
    /// `Ok(None)` when there is no such exchange.
    fn load(&self, id: ExchangeId) -> Result<Option<ExchangeRecord>, String>;
}

/// What the TUI starts from.
pub struct TuiContext {
    pub status: StatusInfo,
    /// Rows to show at once, e.g. a past session's.
    pub rows: Vec<ExchangeRow>,
    /// Live capture events; `None` when only browsing.
    pub events: Option<Subscription>,
    pub loader: Arc<dyn DetailLoader>,
    /// The store writer's health, shown in the status line while capture is failing.
    pub capture_health: Option<Arc<StoreHealth>>,
    /// The running proxy, for resend and hold; `None` when browsing a past session.
    pub control: Option<ProxyControl>,
    /// Where `y` writes curl commands.
    pub export_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("cannot take over the terminal (llmscope's TUI needs an interactive terminal; use `llmscope record` for headless capture): {0}")]
    Setup(#[source] io::Error),
    #[error("drawing to the terminal failed: {0}")]
    Draw(#[source] io::Error),
    #[error("reading terminal input failed: {0}")]
    Input(#[source] io::Error),
    #[error("loading an exchange's record crashed: {0}")]
    LoaderPanicked(String),
}

/// Runs the TUI until the user quits. The terminal is restored however this ends: quit,
/// error or panic.
pub async fn run(ctx: TuiContext) -> Result<(), TuiError> {
    let mut guard = TerminalGuard::enter()?;
    let result = event_loop(&mut guard.terminal, ctx).await;
    drop(guard);
    result
}

async fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    ctx: TuiContext,
) -> Result<(), TuiError> {
    let size = terminal.size().map_err(TuiError::Setup)?;
    let mut status = ctx.status;
    status.control = ctx.control.is_some();
    let mut app = App::new(status, ctx.rows, now_ms(), (size.width, size.height));
    if let Some(control) = &ctx.control {
        app.rules = control.rules();
    }
    let mut capture = ctx.events;
    let mut health = HealthWatch {
        source: ctx.capture_health,
        shown: None,
    };
    let mut input = EventStream::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (loaded_tx, mut loaded_rx) = mpsc::unbounded_channel();
    let mut executor = Executor {
        loads: DetailLoads::new(ctx.loader, loaded_tx),
        control: ctx.control,
        export_dir: ctx.export_dir,
    };
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
            loaded = loaded_rx.recv() => match loaded {
                Some(Loaded::Event(event)) => {
                    executor.loads.finished();
                    Some(event)
                }
                Some(Loaded::Panicked(message)) => return Err(TuiError::LoaderPanicked(message)),
                None => None,
            },
            _ = ticker.tick() => {
                if let Some(changed) = health.changed() {
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

/// Writes the curl command to an owner-only file and asks the terminal to put it on the
/// clipboard (OSC 52 works over SSH and in tmux with `set-clipboard on`; terminals without it
/// ignore the sequence, and the file is still there).
fn copy_curl(dir: &std::path::Path, id: ExchangeId, text: &str) -> Result<PathBuf, String> {
    use base64::Engine as _;
    use std::io::Write as _;
    let path = dir.join(format!("curl-{}.sh", id.0));
    let write = || -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&path)?.write_all(text.as_bytes())
    };
    write().map_err(|e| format!("{}: {e}", path.display()))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut stdout = io::stdout();
    // Best effort: the file is the copy that always works.
    let _ = write!(stdout, "\x1b]52;c;{encoded}\x07").and_then(|()| stdout.flush());
    Ok(path)
}

/// Carries out what `update` asks for: loads on a blocking thread, proxy commands at once
/// (each only starts its work), with the proxy's answer fed straight back to `update`.
struct Executor {
    loads: DetailLoads,
    control: Option<ProxyControl>,
    export_dir: PathBuf,
}

impl Executor {
    /// Applies `event` and runs the commands it gives; returns whether to quit.
    fn apply(&mut self, app: &mut App, event: AppEvent) -> bool {
        let mut queue: VecDeque<Command> = update(app, event).into();
        while let Some(command) = queue.pop_front() {
            match command {
                Command::Quit => return true,
                Command::LoadDetail(id) => self.loads.request(id),
                Command::CopyCurl { id, text } => {
                    let file = copy_curl(&self.export_dir, id, &text);
                    queue.extend(update(app, AppEvent::CurlCopied { id, file }));
                }
                command => {
                    let answer = match &self.control {
                        Some(control) => run_command(control, command),
                        None => read_only_answer(&command),
                    };
                    if let Some(event) = answer {
                        queue.extend(update(app, event));
                    }
                }
            }
        }
        false
    }
}

/// Turns the store writer's health into a status-line note when it changes.
struct HealthWatch {
    source: Option<Arc<StoreHealth>>,
    shown: Option<String>,
}

impl HealthWatch {
    fn changed(&mut self) -> Option<AppEvent> {
        let health = self.source.as_ref()?;
        let now = if health.is_failing() {
            let reason = health
                .last_error()
                .unwrap_or_else(|| "unknown error".into());
            Some(format!("capture failing: {reason}"))
        } else {
            match health.bodies_unrecorded() {
                0 => None,
                n => Some(format!(
                    "{n} exchanges recorded without bodies: the disk fell behind"
                )),
            }
        };
        if now == self.shown {
            return None;
        }
        self.shown.clone_from(&now);
        Some(AppEvent::CaptureHealth(now))
    }
}

async fn next_capture(capture: &mut Option<Subscription>) -> Option<CaptureEvent> {
    match capture {
        Some(subscription) => subscription.recv().await,
        None => std::future::pending().await,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What a background load sends back.
enum Loaded {
    Event(AppEvent),
    Panicked(String),
}

/// Runs [`Command::LoadDetail`]s one at a time; while one runs, only the newest request waits,
/// so scrolling fast through a long list does not queue a load per row.
struct DetailLoads {
    loader: Arc<dyn DetailLoader>,
    tx: mpsc::UnboundedSender<Loaded>,
    running: bool,
    queued: Option<ExchangeId>,
}

impl DetailLoads {
    fn new(loader: Arc<dyn DetailLoader>, tx: mpsc::UnboundedSender<Loaded>) -> Self {
        Self {
            loader,
            tx,
            running: false,
            queued: None,
        }
    }

    fn request(&mut self, id: ExchangeId) {
        if self.running {
            self.queued = Some(id);
        } else {
            self.start(id);
        }
    }

    fn start(&mut self, id: ExchangeId) {
        self.running = true;
        let loader = Arc::clone(&self.loader);
        let tx = self.tx.clone();
        let job = tokio::task::spawn_blocking(move || match loader.load(id) {
            Ok(Some(record)) => AppEvent::DetailLoaded(Arc::new(record)),
            Ok(None) => AppEvent::DetailFailed {
                id,
                reason: "it is not in the store".to_string(),
            },
            Err(reason) => AppEvent::DetailFailed { id, reason },
        });
        tokio::spawn(async move {
            let loaded = match job.await {
                Ok(event) => Loaded::Event(event),
                Err(error) => Loaded::Panicked(error.to_string()),
            };
            let _ = tx.send(loaded);
        });
    }

    fn finished(&mut self) {
        self.running = false;
        if let Some(id) = self.queued.take() {
            self.start(id);
        }
    }
}

type PanicHook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Whether the terminal is in raw mode on the alternate screen, so restoring happens once
/// whether the guard, the panic hook, or both get there.
static TERMINAL_TAKEN: AtomicBool = AtomicBool::new(false);

/// Owns the terminal while the TUI runs; dropping it gives the terminal back.
struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
    previous_hook: Arc<PanicHook>,
}

impl TerminalGuard {
    fn enter() -> Result<Self, TuiError> {
        // The hook restores the terminal before the panic message prints, or the message would
        // be lost on the alternate screen in raw mode.
        let previous_hook: Arc<PanicHook> = Arc::new(panic::take_hook());
        let chained = Arc::clone(&previous_hook);
        panic::set_hook(Box::new(move |info| {
            restore_terminal();
            chained(info);
        }));
        let guard = |terminal| Self {
            terminal,
            previous_hook: Arc::clone(&previous_hook),
        };
        let taken = terminal::enable_raw_mode()
            .and_then(|()| {
                TERMINAL_TAKEN.store(true, Ordering::SeqCst);
                crossterm::execute!(io::stdout(), EnterAlternateScreen)
            })
            .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
        match taken {
            Ok(terminal) => Ok(guard(terminal)),
            Err(error) => {
                restore_terminal();
                put_back_hook(&previous_hook);
                Err(TuiError::Setup(error))
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
        put_back_hook(&self.previous_hook);
    }
}

fn put_back_hook(previous: &Arc<PanicHook>) {
    // Replacing the hook while panicking would abort; the process is ending anyway.
    if !std::thread::panicking() {
        let previous = Arc::clone(previous);
        panic::set_hook(Box::new(move |info| previous(info)));
    }
}

fn restore_terminal() {
    if TERMINAL_TAKEN.swap(false, Ordering::SeqCst) {
        let _ = terminal::disable_raw_mode();
        let _ = crossterm::execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
    }
}
