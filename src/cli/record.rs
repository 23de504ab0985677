//! `llmscope record`: the proxy without a screen, one line per finished exchange.

use anyhow::Result;

use super::runtime::shutdown_signal;
use super::ProxyArgs;
use crate::analysis::{ContextWarnings, PriceTable, ProviderCauses, RetryLoops};
use crate::capture::{CaptureEvent, ExchangeRecord, FailureClass, Origin, Subscription};
use crate::recorder::Recording;

pub async fn run(args: ProxyArgs) -> Result<()> {
    let config = args.proxy_config()?;
    let data_dir = args.data.resolve()?;
    warn_if_exposed(&config.listen);
    let otlp = args.otlp_settings()?;
    let recording =
        Recording::start_exporting(config.clone(), &data_dir, "record", otlp.as_ref()).await?;
    if let Some(moved) = &recording.moved_aside {
        eprintln!(
            "llmscope: the session database was damaged; it was moved to {} and a new one started",
            moved.display()
        );
    }
    println!(
        "llmscope recording: http://{} -> {}  (session {}, data in {})",
        recording.local_addr(),
        config.upstream_label(),
        recording.session,
        data_dir.display()
    );
    match &config.forward {
        None => println!(
            "point the agent's base URL at http://{}; Ctrl-C stops",
            recording.local_addr()
        ),
        Some(mode) => println!(
            "set HTTPS_PROXY=http://{} for the agent and trust {} (`llmscope ca` says how); \
             intercepting {}; Ctrl-C stops",
            recording.local_addr(),
            mode.ca.cert_path().display(),
            mode.intercept_hosts().join(", ")
        ),
    }
    match recording.attach() {
        Ok(server) => {
            server.log_to_stderr();
            println!(
                "open the screen from another terminal: {}",
                attach_command(args.data.data_dir.as_deref())
            );
        }
        // Without a screen nothing could send an intercepted request: every match would
        // only be delayed by the hold time.
        Err(error) if args.intercept.is_some() => anyhow::bail!(
            "--intercept needs a screen to edit and send the paused requests, and this \
             session cannot serve one: {error}"
        ),
        Err(error) => eprintln!("llmscope: no second screen for this session: {error}"),
    }
    if let Some(pattern) = &args.intercept {
        println!(
            "requests matching `{pattern}` wait for `{}` to edit and send them (unchanged \
             after {} s)",
            attach_command(args.data.data_dir.as_deref()),
            args.hold_timeout
        );
    }
    let control = recording.control();
    let prices = match super::prices::price_table_async().await {
        Ok(prices) => prices,
        Err(error) => {
            // The log is still worth having; only the context warnings lose the user's table.
            eprintln!("llmscope: {error:#}; context warnings use the shipped prices");
            PriceTable::builtin().unwrap_or_default()
        }
    };
    let printer = tokio::spawn(print_exchanges(recording.subscribe_to_record(), prices));
    let health = tokio::spawn(report_capture_health(recording.store_health()));
    let export_health = recording
        .otlp_health()
        .map(|(health, endpoint)| tokio::spawn(report_export_health(health, endpoint)));
    recording.serve_until(shutdown_signal()).await?;
    health.abort();
    if let Some(export_health) = export_health {
        export_health.abort();
    }
    // The bus is closed now, so the printer ends once it has printed what was queued.
    let _ = printer.await;
    if let Some(counts) = control.forward_counts() {
        println!(
            "forward proxy: {} connections to other hosts tunnelled unrecorded, {} TLS \
             handshakes refused by the agent",
            counts.tunnelled, counts.refused_handshakes
        );
    }
    Ok(())
}

/// The command that opens the screen on this session from another terminal.
pub fn attach_command(data_dir: Option<&std::path::Path>) -> String {
    match data_dir {
        Some(dir) => format!("llmscope attach --data-dir {}", dir.display()),
        None => "llmscope attach".to_string(),
    }
}

/// Anyone who can reach a non-loopback listener can spend the credentials the agent sends.
pub fn warn_if_exposed(listen: &std::net::SocketAddr) {
    if !listen.ip().is_loopback() {
        eprintln!(
            "llmscope: WARNING: listening on {listen}, beyond this machine: anyone who reaches \
             this port can use your upstream credentials"
        );
    }
}

/// Says when writing to the database starts failing (disk full, file not writable) and when
/// it recovers; the proxy keeps forwarding either way.
async fn report_capture_health(health: std::sync::Arc<crate::store::StoreHealth>) {
    let mut failing = false;
    let mut unrecorded = 0;
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        ticks.tick().await;
        let now_unrecorded = health.bodies_unrecorded();
        if now_unrecorded > unrecorded {
            eprintln!(
                "llmscope: the disk fell behind the proxy; {now_unrecorded} exchanges so far are \
                 recorded without their bodies (memory stays bounded)"
            );
            unrecorded = now_unrecorded;
        }
        let now = health.is_failing();
        if now != failing {
            if now {
                let reason = health
                    .last_error()
                    .unwrap_or_else(|| "unknown error".into());
                eprintln!("llmscope: capture failing, exchanges are queued in memory: {reason}");
            } else {
                eprintln!("llmscope: capture resumed; queued exchanges written");
            }
            failing = now;
        }
    }
}

/// Says once, as soon as it happens, that spans are being lost: the collector is down,
/// refusing, or too slow. The summary at the end has the counts.
async fn report_export_health(health: std::sync::Arc<crate::otlp::ExportHealth>, endpoint: String) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        ticks.tick().await;
        if let Some(problem) = health.problem() {
            eprintln!(
                "llmscope: WARNING: OTLP export to {endpoint} is failing ({problem}); spans are \
                 dropped, the agent's calls are forwarded and recorded as usual"
            );
            return;
        }
    }
}

/// Prints each finished exchange's line, and beneath it news of its retry loop and of its
/// conversation nearing the window of its model (by `prices`).
pub async fn print_exchanges(mut events: Subscription, prices: PriceTable) {
    use tokio::io::AsyncWriteExt;
    // Lines of exchanges that finished together go out in one write: one system call per
    // burst rather than per exchange, and a stdout pipe nobody reads never stalls a worker.
    const MAX_WRITE: usize = 64 * 1024;
    // After a write, let the lines of a busy moment gather instead of waking per exchange.
    const GATHER: std::time::Duration = std::time::Duration::from_millis(5);
    let mut stdout = tokio::io::stdout();
    let mut lines = String::new();
    let mut loops = RetryLoops::default();
    let mut causes = ProviderCauses::default();
    let mut contexts = ContextWarnings::new(prices);
    let mut clock = LocalSeconds::default();
    while let Some(event) = events.recv().await {
        let mut next = Some(event);
        while let Some(event) = next {
            if let CaptureEvent::Intercepted { start, .. } = &event {
                lines.push_str(&format!(
                    "{} intercepted: {} {} {} · waits for `llmscope attach`\n",
                    start.id,
                    start.request.method,
                    start.request.uri,
                    start.model.as_deref().unwrap_or("-")
                ));
            }
            if let CaptureEvent::Finished(record) = event {
                lines.push_str(&exchange_line_with(&record, &mut clock));
                if let Some(cause) = causes.observe(&record) {
                    lines.push_str(" | cause: ");
                    lines.push_str(&cause);
                }
                lines.push('\n');
                if let Some(line) = loop_line(&mut loops, &record) {
                    lines.push_str(&line);
                    lines.push('\n');
                }
                if let Some(line) = contexts.observe(&record) {
                    lines.push_str(&line);
                    lines.push('\n');
                }
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
        let written = stdout.write_all(lines.as_bytes()).await;
        if written.is_err() || stdout.flush().await.is_err() {
            // Nobody reads the log any more (closed pipe); the record is still written.
            return drain(events).await;
        }
        lines.clear();
        tokio::time::sleep(GATHER).await;
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

/// Keeps consuming so a dead printer does not queue events forever.
async fn drain(mut events: Subscription) {
    while events.recv().await.is_some() {}
}

/// [`exchange_line_with`] on a clock of its own.
#[cfg(test)]
fn exchange_line(record: &ExchangeRecord) -> String {
    exchange_line_with(record, &mut LocalSeconds::default())
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

/// One line for a finished exchange: time, id, method, path, model, status, class, latency,
/// time to first byte, bytes up and down, and the reason when it failed.
/// The path, after the host for a forward-mode exchange (the only ones that keep `Host`),
/// so `api.anthropic.com/v1/messages` and `chatgpt.com/backend-api/codex/responses` read apart.
fn recorded_target(request: &crate::capture::CapturedRequest) -> String {
    let host = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("host"))
        .map(|(_, host)| host.as_str());
    match host {
        Some(host) => format!("{host}{}", request.uri),
        None => request.uri.clone(),
    }
}

fn exchange_line_with(record: &ExchangeRecord, clock: &mut LocalSeconds) -> String {
    let start = &record.start;
    let time = clock.format(start.started_at_ms);
    let status = record
        .response
        .as_ref()
        .map_or_else(|| "---".to_string(), |r| r.status.to_string());
    let class = record.failure.as_ref().map_or("ok", |f| f.class.as_str());
    let ms = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| format!("{v}ms"));
    let down = record.response.as_ref().map_or(0, |r| r.body_len);
    let mut line = format!(
        "{time} {id:>5} {method} {uri} {model} {status} {class} {latency} ttfb={ttfb} up={up} down={down}",
        id = start.id.to_string(),
        method = start.request.method,
        uri = recorded_target(&start.request),
        model = start.model.as_deref().unwrap_or("-"),
        latency = ms(record.timing.duration_ms),
        ttfb = ms(record.timing.first_byte_ms),
        up = human_bytes(start.request.body.len() as u64),
        down = human_bytes(down),
    );
    if let Some(failure) = &record.failure {
        // Gateways put paragraphs in their messages (LiteLLM's "Received Model Group=…"):
        // the log keeps one line per exchange.
        line.push_str(" | ");
        line.push_str(
            &failure
                .message
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    if let (Origin::AutoFix, Some(parent)) = (start.lineage.origin, start.lineage.parent) {
        let applied = start.rewrite.as_ref().map(|r| {
            let fixes: Vec<_> = r
                .applied
                .iter()
                .map(|a| a.strip_prefix("auto-fix: ").unwrap_or(a))
                .collect();
            fixes.join("; ")
        });
        line.push_str(&format!(
            " | auto-fixed {parent}: {}",
            applied.unwrap_or_default()
        ));
    }
    line
}

fn human_bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n}B"),
        1024..1_048_576 => format!("{:.1}KB", n as f64 / 1024.0),
        _ => format!("{:.1}MB", n as f64 / 1_048_576.0),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{exchange_line, is_one_two_five, LocalSeconds};
    use crate::capture::{ExchangeId, ExchangeRecord, Lineage, Rewrite};
    use crate::store::test_fixtures::sample_start;

    #[test]
    fn an_auto_fix_says_which_failure_it_fixed_and_how() {
        let mut start = sample_start(crate::capture::SessionId(1), 6, b"{}".to_vec());
        start.lineage = Lineage::auto_fix_of(ExchangeId(5));
        start.rewrite = Some(Arc::new(Rewrite {
            original: start.request.clone(),
            applied: vec!["auto-fix: remove `reasoning_effort`".into()],
        }));
        let record = ExchangeRecord {
            start: Arc::new(start),
            timing: Default::default(),
            response: None,
            failure: None,
        };
        let line = exchange_line(&record);
        assert!(
            line.ends_with(" | auto-fixed #5: remove `reasoning_effort`"),
            "{line}"
        );
    }

    #[test]
    fn a_remembered_second_prints_as_a_fresh_one() {
        let mut remembered = LocalSeconds::default();
        let base = 1_767_000_000_000_i64;
        for at in [
            base,
            base + 1,
            base + 999,
            base + 1000,
            base + 61_000,
            base - 1,
        ] {
            let fresh = LocalSeconds::default().format(at).to_string();
            assert_eq!(remembered.format(at), fresh, "{at}");
        }
        assert_ne!(
            LocalSeconds::default().format(base),
            LocalSeconds::default().format(base + 1000)
        );
    }

    #[test]
    fn a_growing_loop_is_mentioned_on_a_one_two_five_scale() {
        let mentioned: Vec<u32> = (1..=1000).filter(|&n| is_one_two_five(n)).collect();
        assert_eq!(mentioned, [2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    }
}
