//! How long the TUI takes to draw one frame with 100,000 exchanges in its list, rendered into
//! ratatui's `TestBackend` (120×40) exactly as the live screen draws: `tui::draw(&app, frame)`
//! inside `Terminal::draw`, which also diffs the buffer against the previous frame.
//!
//! Rows are made the way the live TUI makes them (`row_from_start`, then
//! `row_update_from_record`); the selected exchange has its detail loaded, with an agent-like
//! request body, so both panes have real content to lay out.
//!
//! `cargo bench --bench frame [-- --quick] [--show]`. Prints a Markdown table, then one line of JSON.

#[macro_use]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use llmscope::analysis::PriceTable;
use llmscope::capture::{
    CapturedRequest, CapturedResponse, ExchangeId, ExchangeRecord, ExchangeStart, Failure,
    FailureClass, HeaderList, SessionId, Timing,
};
use llmscope::llm::{Dialect, Usage};
use llmscope::tui::{self, App, AppEvent, ConversationBook, ExchangeRow, StatusInfo};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::{json, Map};

use common::agent::{Conversation, Rng};
use common::stats::{fmt_us, Samples, Summary};
use common::{Args, Report};

const ROWS: u64 = 100_000;
const SIZE: (u16, u16) = (120, 40);
const NOW_MS: i64 = 1_767_000_000_000;

fn start(id: u64, body: Bytes) -> ExchangeStart {
    let anthropic = id % 3 == 0;
    ExchangeStart {
        id: ExchangeId(id),
        session: SessionId(1),
        started_at_ms: NOW_MS - (ROWS - id) as i64 * 900,
        dialect: if anthropic {
            Dialect::Anthropic
        } else {
            Dialect::OpenAiChat
        },
        model: Some(
            if anthropic {
                "claude-sonnet-4-5"
            } else {
                "gpt-4o"
            }
            .to_string(),
        ),
        request: CapturedRequest {
            method: "POST".into(),
            uri: if anthropic {
                "/v1/messages?beta=true".into()
            } else {
                "/v1/chat/completions".into()
            },
            headers: HeaderList::from([
                ("content-type", "application/json"),
                ("authorization", "<redacted>"),
                // Conversations of 40 turns, grouped by the agent's session header.
                ("x-session-id", &format!("ses_{}", id / 40)),
            ]),
            body,
        },
        lineage: Default::default(),
        rewrite: None,
        request_body_unrecorded: None,
    }
}

fn record(start: ExchangeStart, rng: &mut Rng, reply: Bytes) -> ExchangeRecord {
    let failed = rng.chance(3);
    let status = if failed { 400 } else { 200 };
    let body_len = reply.len() as u64;
    ExchangeRecord {
        timing: Timing {
            started_at_ms: start.started_at_ms,
            first_byte_ms: Some(rng.range(80, 900) as u64),
            duration_ms: Some(rng.range(900, 30_000) as u64),
        },
        start: Arc::new(start),
        response: Some(CapturedResponse {
            status,
            headers: HeaderList::from([("content-type", "text/event-stream")]),
            body: reply,
            body_len,
        }),
        failure: failed.then(|| {
            Failure::new(
                FailureClass::HttpError(400),
                "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens.",
            )
        }), derived: Default::default(),
    }
}

/// 100,000 rows as the live TUI builds them, grouped into conversations as it groups them;
/// the last few still in flight.
fn rows() -> (Vec<ExchangeRow>, ConversationBook) {
    let mut rng = Rng::new(7);
    let mut book = ConversationBook::new(PriceTable::builtin().expect("price table"));
    let rows = (1..=ROWS)
        .map(|id| {
            let st = start(id, Bytes::from_static(b"{\"messages\":[]}"));
            let mut row = tui::row_from_start(&st);
            row.conversation = Some(book.started(&st, None));
            if id <= ROWS - 3 {
                let rec = record(st, &mut rng, Bytes::new());
                tui::row_update_from_record(&mut row, &rec);
                row.response_bytes = rng.range(500, 20_000) as u64;
                row.tokens_in = Some(row.request_bytes / 4);
                row.tokens_out = Some(rng.range(20, 2000) as u64);
            }
            row.request_bytes = rng.range(30_000, 900_000) as u64;
            let usage = Usage {
                input_tokens: Some(id % 40 * 3000),
                output_tokens: row.tokens_out,
                ..Usage::default()
            };
            book.finished(
                ExchangeId(id),
                row.dialect,
                row.model.as_deref(),
                &usage,
                false,
            );
            row
        })
        .collect();
    (rows, book)
}

fn press(app: &mut App, code: KeyCode) {
    tui::update(app, AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Loads the selected exchange's detail the way the loop does after `Command::LoadDetail`.
fn load_selected(app: &mut App, request: &Bytes, reply: &Bytes) -> Duration {
    let id = app.selected.expect("a selection");
    let mut rng = Rng::new(id.0);
    let rec = record(start(id.0, request.clone()), &mut rng, reply.clone());
    let t = Instant::now();
    tui::update(app, AppEvent::DetailLoaded(Arc::new(rec)));
    t.elapsed()
}

fn frames(app: &App, count: usize, limit: Duration, show: bool) -> Summary {
    let mut terminal = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).expect("test terminal");
    let mut samples = Samples::with_capacity(count);
    let deadline = Instant::now() + limit;
    // The first frame draws onto an empty buffer; later ones diff, as the live screen does.
    terminal.draw(|f| tui::draw(app, f)).expect("draw");
    for _ in 0..count {
        if Instant::now() > deadline {
            break;
        }
        let t = Instant::now();
        terminal.draw(|f| tui::draw(app, f)).expect("draw");
        samples.push(t.elapsed());
    }
    if show {
        let buffer = terminal.backend().buffer();
        for y in 0..buffer.area.height {
            let line: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            eprintln!("{line}");
        }
    }
    samples.summary()
}

fn main() {
    let args = Args::parse();
    args.exit_unless_bench("frame");
    common::now_ns();
    let mut report = Report::new("frame", &["figure", "p50", "p99", "target", "result"]);
    report.wait_for_quiet(&args);
    let count = args.pick(500, 100);
    let limit = Duration::from_secs(args.pick(20, 5));
    // `--show` prints each case's last frame to stderr, to see what was measured.
    let show = std::env::args().any(|a| a == "--show");

    // The selected exchange: an agent-like request of ≈200 KB and its SSE reply.
    let mut conversation = Conversation::opencode(11);
    let mut reply = Vec::new();
    while conversation.body().len() < 200 * 1024 {
        reply = conversation.grow();
    }
    let request = Bytes::from(conversation.body());
    let reply = Bytes::from(reply);

    let t = Instant::now();
    let (rows, book) = rows();
    let made = t.elapsed();
    let t = Instant::now();
    let status = StatusInfo {
        listen: Some("127.0.0.1:8787".into()),
        upstream: Some("https://litellm.internal:4000".into()),
        session: Some(SessionId(1)),
        live: true,
        capture_health: None,
        hold: false,
        auto_fix: false,
        intercept: None,
        control: true,
        ..StatusInfo::default()
    };
    let mut app = App::new(status, rows, NOW_MS, SIZE);
    app.conversations = book;
    let built = t.elapsed();
    progress!("{ROWS} rows made in {made:?}, App built in {built:?}");
    let detail_tail = load_selected(&mut app, &request, &reply);

    let mut figures = Map::new();
    let mut worst_p99: f64 = 0.0;
    let mut measure = |name: &str, key: &str, app: &App, report: &mut Report| {
        progress!("frames: {name}");
        let s = frames(app, count, limit, show);
        worst_p99 = worst_p99.max(s.p99_us);
        let v = report.target(
            &format!("frame_{key}_p99_ms"),
            s.p99_us / 1000.0,
            10.0,
            "ms",
            true,
        );
        report.row(vec![
            format!("frame, {ROWS} rows, {name}"),
            fmt_us(s.p50_us),
            fmt_us(s.p99_us),
            "≤ 10 ms".into(),
            v.word().into(),
        ]);
        figures.insert(key.to_string(), s.json());
    };

    measure("newest selected, list focused", "tail", &app, &mut report);

    // Scroll to the middle with the keys a user would press.
    press(&mut app, KeyCode::Home);
    let mut presses = 0;
    while app.selected.is_some_and(|id| id.0 < ROWS / 2) && presses < 100_000 {
        press(&mut app, KeyCode::PageDown);
        presses += 1;
    }
    let detail_middle = load_selected(&mut app, &request, &reply);
    progress!("scrolled to {:?} with {presses} PageDown", app.selected);
    measure("scrolled to the middle", "middle", &app, &mut report);

    // Reading the request pane: focus it and page into the body.
    press(&mut app, KeyCode::Tab);
    for _ in 0..20 {
        press(&mut app, KeyCode::PageDown);
    }
    measure(
        "request pane focused, paged into a 200 KB body",
        "request_pane",
        &app,
        &mut report,
    );
    press(&mut app, KeyCode::Esc);

    // Failed-only filter over 100,000 rows: the keystroke refilters, then frames draw.
    let t = Instant::now();
    press(&mut app, KeyCode::Char('x'));
    let refilter = t.elapsed();
    load_selected(&mut app, &request, &reply);
    measure("failed-only filter on", "filtered", &app, &mut report);
    press(&mut app, KeyCode::Char('x'));

    // A new exchange arriving in a list of 100,000 (Started then Finished), as `update` sees it.
    let mut rng = Rng::new(99);
    let mut arrive = Samples::with_capacity(1000);
    for id in ROWS + 1..=ROWS + args.pick(1000, 200) {
        let st = start(
            id,
            Bytes::from_static(br#"{"model":"gpt-4o","messages":[]}"#),
        );
        let rec = record(
            st.clone(),
            &mut rng,
            Bytes::from_static(b"data: [DONE]\n\n"),
        );
        let t = Instant::now();
        tui::update(
            &mut app,
            AppEvent::Capture(llmscope::capture::CaptureEvent::Started(Arc::new(st))),
        );
        tui::update(
            &mut app,
            AppEvent::Capture(llmscope::capture::CaptureEvent::Finished(Arc::new(rec))),
        );
        arrive.push(t.elapsed());
    }
    let arrive = arrive.summary();
    report.row(vec![
        "update: one exchange arrives (Started + Finished)".into(),
        fmt_us(arrive.p50_us),
        fmt_us(arrive.p99_us),
        String::new(),
        "info".into(),
    ]);
    report.row(vec![
        format!("update: failed-only filter keystroke over {ROWS} rows"),
        fmt_us(refilter.as_secs_f64() * 1e6),
        String::new(),
        String::new(),
        "info".into(),
    ]);
    report.row(vec![
        format!(
            "update: detail of a {} KB request loaded",
            request.len() / 1024
        ),
        fmt_us(detail_tail.as_secs_f64() * 1e6),
        fmt_us(detail_middle.as_secs_f64() * 1e6),
        String::new(),
        "info".into(),
    ]);
    report.row(vec![
        format!("App::new with {ROWS} rows"),
        fmt_us(built.as_secs_f64() * 1e6),
        String::new(),
        String::new(),
        "info".into(),
    ]);
    report.note(format!(
        "TestBackend {}x{}; {count} frames per case after one unmeasured frame; the selected exchange's request is {} bytes",
        SIZE.0,
        SIZE.1,
        request.len()
    ));
    figures.insert("arrive_update".into(), arrive.json());
    figures.insert("refilter_us".into(), json!(refilter.as_secs_f64() * 1e6));
    figures.insert(
        "detail_load_us".into(),
        json!(detail_tail.as_secs_f64() * 1e6),
    );
    figures.insert("app_new_us".into(), json!(built.as_secs_f64() * 1e6));
    figures.insert("worst_frame_p99_us".into(), json!(worst_p99));
    for (key, value) in figures {
        report.figure(&key, value);
    }
    report.finish(&args);
}
