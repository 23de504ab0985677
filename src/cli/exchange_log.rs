//! `record`'s log: one line per finished exchange on stdout, written by a thread of its own.
//!
//! The lines of a burst are built into one buffer and written through stdout's lock in one
//! go, so a busy proxy costs one write per burst rather than one per exchange, and a stdout
//! pipe nobody reads stalls only this thread, never a forwarding task.

use std::fmt::Write as _;
use std::io::Write as _;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::analysis::{ContextWarnings, PriceTable, ProviderCauses, RetryLoops};
use crate::capture::{CaptureEvent, ExchangeRecord, FailureClass, Interest, Origin, Subscription};
use crate::give_way::GiveWay;
use crate::recorder::Recording;

/// A burst's lines go out once they reach this size, so one write stays bounded.
const MAX_WRITE: usize = 64 * 1024;
/// After a write, the lines of a busy moment gather instead of waking this thread per exchange.
const GATHER: Duration = Duration::from_millis(5);
/// Past this many queued exchanges the log is behind and keeps the CPU (see `give_way`).
const BEHIND: usize = 64;
/// The bodies the records queued for the log may hold. A log that falls behind (its stdout
/// unread, or a load faster than it prints) gets later records without their bodies, so what
/// waits for it stays bounded; their lines lack only the token counts and causes read from
/// the bodies. A single exchange larger than this still comes whole while less is waiting.
/// The store's record is not affected.
const QUEUED_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The log's thread; [`Printer::finish`] waits until it has printed what was published.
pub struct Printer {
    thread: Option<JoinHandle<()>>,
}

impl Printer {
    /// Starts printing the finished exchanges of `recording`, with context warnings by the
    /// models' windows in `prices`.
    pub fn spawn(recording: &Recording, prices: PriceTable) -> Self {
        let events = recording.subscribe_with_byte_limit(Interest::Outcomes, QUEUED_BODY_BYTES);
        let thread = std::thread::Builder::new()
            .name("llmscope-log".into())
            .spawn(move || print_exchanges(events, prices))
            // Without a thread there is no log; the proxy and its record go on regardless.
            .map_err(|error| eprintln!("llmscope: no exchange log: {error}"))
            .ok();
        Self { thread }
    }

    /// Waits for the log to end, which it does once the bus is closed and it is drained.
    pub async fn finish(self) {
        if let Some(thread) = self.thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn print_exchanges(mut events: Subscription, prices: PriceTable) {
    let mut lines = String::with_capacity(MAX_WRITE + 4096);
    let mut log = ExchangeLog::new(prices);
    while let Some(event) = events.blocking_recv() {
        let mut next = Some(event);
        let mut give_way = GiveWay::start(events.pending() > BEHIND);
        while let Some(event) = next {
            give_way.now_and_then();
            match event {
                CaptureEvent::Finished(record) => log.push_lines(&record, &mut lines),
                CaptureEvent::Intercepted { start, .. } => {
                    let _ = writeln!(
                        lines,
                        "{} intercepted: {} {} {} · waits for `llmscope attach`",
                        start.id,
                        start.request.method,
                        start.request.uri,
                        start.model.as_deref().unwrap_or("-")
                    );
                }
                _ => {}
            }
            next = if lines.len() < MAX_WRITE {
                events.try_recv()
            } else {
                None
            };
        }
        if lines.is_empty() {
            continue;
        }
        let mut stdout = std::io::stdout().lock();
        if stdout.write_all(lines.as_bytes()).is_err() || stdout.flush().is_err() {
            // Nobody reads the log any more (closed pipe); the record is still written.
            drop(stdout);
            while events.blocking_recv().is_some() {}
            return;
        }
        drop(stdout);
        lines.clear();
        std::thread::sleep(GATHER);
    }
}

/// What the log remembers between lines: retry loops, providers' causes, how full each
/// conversation's context is, the last second.
struct ExchangeLog {
    loops: RetryLoops,
    causes: ProviderCauses,
    contexts: ContextWarnings,
    clock: LocalSeconds,
}

impl ExchangeLog {
    fn new(prices: PriceTable) -> Self {
        Self {
            loops: RetryLoops::default(),
            causes: ProviderCauses::default(),
            contexts: ContextWarnings::new(prices),
            clock: LocalSeconds::default(),
        }
    }

    /// Appends the exchange's line, and a retry loop's line when there is news of one.
    fn push_lines(&mut self, record: &ExchangeRecord, out: &mut String) {
        push_exchange_line(record, &mut self.clock, out);
        if let Some(cause) = self.causes.observe(record) {
            out.push_str(" | cause: ");
            out.push_str(&cause);
        }
        out.push('\n');
        if let Some(line) = loop_line(&mut self.loops, record) {
            out.push_str(&line);
            out.push('\n');
        }
        if let Some(line) = self.contexts.observe(record) {
            out.push_str(&line);
            out.push('\n');
        }
    }
}

/// A line about the retry loop `record` belongs to, when there is news: the loop is seen,
/// grows by a step of 1-2-5, or llmscope stops it. Every repeat has its own line anyway.
fn loop_line(loops: &mut RetryLoops, record: &ExchangeRecord) -> Option<String> {
    let found = loops.observe(record)?;
    let first_stop = found.stopped == 1
        && record
            .failure
            .as_ref()
            .is_some_and(|f| f.class == FailureClass::RetryLoopStopped);
    let step = found.stopped == 0 && is_one_two_five(found.attempts);
    let headline = found.headline();
    (first_stop || step).then(|| match headline.strip_prefix("llmscope ") {
        Some(rest) => format!("llmscope: {rest}"),
        None => format!("llmscope: {headline}"),
    })
}

/// 2, 5, 10, 20, 50, 100, …: how often a growing loop is mentioned again.
fn is_one_two_five(n: u32) -> bool {
    let mut scale = 1;
    while scale <= n / 10 {
        scale *= 10;
    }
    n == 2 || (n >= 5 && n % scale == 0 && matches!(n / scale, 1 | 2 | 5))
}

/// The local wall-clock second of a time, as `record` prints it, remembering the last one:
/// a busy log prints many lines in the same second, and converting to the local time zone and
/// formatting it costs more than the rest of the line.
#[derive(Default)]
struct LocalSeconds {
    last: Option<(i64, String)>,
}

impl LocalSeconds {
    fn format(&mut self, at_ms: i64) -> &str {
        let second = at_ms.div_euclid(1000);
        if self.last.as_ref().is_none_or(|(s, _)| *s != second) {
            let text = chrono::DateTime::from_timestamp_millis(at_ms)
                .map(|t| {
                    t.with_timezone(&chrono::Local)
                        .format("%H:%M:%S")
                        .to_string()
                })
                .unwrap_or_else(|| "--:--:--".to_string());
            self.last = Some((second, text));
        }
        self.last.as_ref().map_or("--:--:--", |(_, text)| text)
    }
}

/// Appends the line of a finished exchange: time, id, method, path, model, status, class,
/// latency, time to first byte, bytes up and down, and the reason when it failed.
fn push_exchange_line(record: &ExchangeRecord, clock: &mut LocalSeconds, out: &mut String) {
    let start = &record.start;
    out.push_str(clock.format(start.started_at_ms));
    // The id right-aligned in five columns, as `{:>5}` would print `#N`.
    let digits = start.id.0.checked_ilog10().unwrap_or(0) as usize + 1;
    for _ in digits + 1..5 {
        out.push(' ');
    }
    out.push_str(" #");
    push_int(out, start.id.0);
    out.push(' ');
    out.push_str(&start.request.method);
    out.push(' ');
    // A forward-mode exchange (the only kind that keeps `Host`) reads after its host, so
    // `api.anthropic.com/v1/messages` and `chatgpt.com/backend-api/codex/responses` read apart.
    if let Some((_, host)) = start
        .request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        out.push_str(host);
    }
    out.push_str(&start.request.uri);
    out.push(' ');
    out.push_str(start.model.as_deref().unwrap_or("-"));
    match &record.response {
        Some(response) => {
            out.push(' ');
            push_int(out, response.status);
            out.push(' ');
        }
        None => out.push_str(" --- "),
    }
    out.push_str(record.failure.as_ref().map_or("ok", |f| f.class.as_str()));
    out.push(' ');
    push_ms(out, record.timing.duration_ms);
    out.push_str(" ttfb=");
    push_ms(out, record.timing.first_byte_ms);
    out.push_str(" up=");
    // A record that reached the log without its body still says what the agent sent.
    let sent = start
        .request_body_unrecorded
        .unwrap_or(start.request.body.len() as u64);
    push_bytes(out, sent);
    out.push_str(" down=");
    push_bytes(out, record.response.as_ref().map_or(0, |r| r.body_len));
    if let Some(failure) = &record.failure {
        // Gateways put paragraphs in their messages (LiteLLM's "Received Model Group=…"):
        // the log keeps one line per exchange.
        out.push_str(" |");
        for word in failure.message.split_whitespace() {
            out.push(' ');
            out.push_str(word);
        }
    }
    if let (Origin::AutoFix, Some(parent)) = (start.lineage.origin, start.lineage.parent) {
        let _ = write!(out, " | auto-fixed {parent}: ");
        let applied = start.rewrite.iter().flat_map(|r| r.applied.iter());
        for (i, fix) in applied.enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            out.push_str(fix.strip_prefix("auto-fix: ").unwrap_or(fix));
        }
    }
}

fn push_ms(out: &mut String, ms: Option<u64>) {
    match ms {
        Some(ms) => {
            push_int(out, ms);
            out.push_str("ms");
        }
        None => out.push('-'),
    }
}

/// `512B`, `1.5KB`, `2.0MB`: what `{:.1}` of the size in KiB or MiB prints, in integer
/// arithmetic, because formatting two floats was a third of the line's cost.
fn push_bytes(out: &mut String, n: u64) {
    let (unit, scale) = match n {
        0..1024 => {
            push_int(out, n);
            out.push('B');
            return;
        }
        1024..1_048_576 => ("KB", 1024u128),
        _ => ("MB", 1_048_576u128),
    };
    let tenths = u128::from(n) * 10;
    let (mut whole, rest) = (tenths / scale, tenths % scale);
    // Round half to even, as float formatting does with an exact tie.
    if rest * 2 > scale || (rest * 2 == scale && whole % 2 == 1) {
        whole += 1;
    }
    // At most u64::MAX * 10 / 1024: the whole part fits a u64, whose digits are cheaper to
    // write than a u128's.
    push_int(out, u64::try_from(whole / 10).unwrap_or(u64::MAX));
    out.push('.');
    push_int(out, (whole % 10) as u8);
    out.push_str(unit);
}

/// An integer's digits, without the formatting machinery: a line has five of them, and
/// `write!` of each cost more than the rest of the line's text.
fn push_int(out: &mut String, n: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(n));
}

#[cfg(test)]
#[path = "exchange_log_tests.rs"]
mod tests;
