//! What llmscope costs an agent on the wire, measured in one run against a direct connection
//! to the same fake upstream, and against nginx, mitmdump and claude-tap when installed.
//!
//! llmscope runs as its real binary, `llmscope record` (capture on: every exchange goes to the
//! session database and one line per exchange to stdout, which the bench drains). The load
//! generator and the upstream run in this process, on their own threads, over 127.0.0.1.
//!
//! `cargo bench --bench proxy [-- --quick] [--only latency,throughput,sse,big,store-locked]
//! [--no-peers]`. Prints a Markdown table, then one line of JSON.

#[macro_use]
mod common;
#[path = "proxy/throughput.rs"]
mod throughput;

use std::net::SocketAddr;
use std::time::Duration;

use common::http::{post, Conn};
use common::load::{self, stream};
use common::peers::{on_path, Peer};
use common::stats::{fmt_us, round2, Samples, Summary};
use common::upstream::{FakeUpstream, SseDelays};
use common::{Args, Report};
use serde_json::{json, Map, Value};

/// The agent-facing path every request uses.
const PATH: &str = "/v1/chat/completions";
const CONNECTIONS: usize = 32;
/// The measured targets, in the order of the table's columns.
const TARGET_COLUMNS: [&str; 7] = [
    "direct",
    "llmscope",
    "hyper+reqwest",
    "hyper+hyper-util",
    "nginx",
    "mitmdump",
    "claude-tap",
];

/// Something the load generator can send to: the upstream itself, or a proxy in front of it.
struct Target {
    name: &'static str,
    addr: SocketAddr,
    peer: Option<Peer>,
    /// Requests sent to it, to know when llmscope's store has caught up.
    sent: u64,
}

impl Target {
    fn is_llmscope(&self) -> bool {
        self.name == "llmscope"
    }
}

/// A 1 KB chat-completions request, as an agent's small call looks.
fn small_body() -> Vec<u8> {
    let mut body = br#"{"model":"gpt-4o","stream":false,"messages":[{"role":"system","content":"You are a coding agent."},{"role":"user","content":""#.to_vec();
    let tail = br#""}],"max_tokens":1024}"#;
    let filler = 1024 - body.len() - tail.len();
    body.extend(
        b"please read src/main.rs and fix the failing test "
            .iter()
            .cycle()
            .take(filler),
    );
    body.extend_from_slice(tail);
    body
}

fn main() {
    if common::bare::serve_if_asked() {
        return;
    }
    let args = Args::parse();
    args.exit_unless_bench("proxy");
    common::now_ns();
    let mut report = Report::new(
        "proxy",
        &std::iter::once("figure")
            .chain(TARGET_COLUMNS)
            .chain(["target (llmscope)", "result"])
            .collect::<Vec<_>>(),
    );
    report.wait_for_quiet(&args);
    let upstream = FakeUpstream::start().expect("fake upstream starts");
    let url = upstream.url();
    progress!("fake upstream on {url}");

    let mut targets = vec![Target {
        name: "direct",
        addr: upstream.addr,
        peer: None,
        sent: 0,
    }];
    let peer = Peer::llmscope(&url).unwrap_or_else(|e| panic!("llmscope does not start: {e}"));
    progress!("llmscope pid {} on {}", peer.pid(), peer.addr);
    targets.push(Target {
        name: "llmscope",
        addr: peer.addr,
        peer: Some(peer),
        sent: 0,
    });
    if args.no_peers {
        report.note("peers skipped (--no-peers)");
    } else {
        start_peers(&mut targets, &mut report, &upstream);
    }
    for target in &mut targets {
        let request = post(target.addr, PATH, "application/json", &small_body());
        let reply = Conn::connect(target.addr).and_then(|mut c| c.request(&request));
        target.sent += 1;
        match reply {
            Ok(r) if r.status == 200 && r.body_len == 1024 => {}
            other => panic!(
                "{} does not answer a plain request properly: {other:?}",
                target.name
            ),
        }
    }
    let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
    progress!("targets: {}", names.join(", "));
    let mut figures = Map::new();

    if args.wants("latency") {
        latency(&args, &mut targets, &mut report, &mut figures);
    }
    if args.wants("throughput") {
        throughput::throughput(&args, &mut targets, &mut report, &mut figures);
    }
    if args.wants("sse") {
        sse(&args, &mut targets, &mut report, &mut figures);
    }
    if args.wants("big") {
        big(&args, &mut targets, &mut report, &mut figures);
    }
    if args.wants("store-locked") {
        store_locked(&args, &mut targets, &mut report, &mut figures);
    }
    if let Some(llmscope) = targets.iter().find(|t| t.is_llmscope()) {
        let peer = llmscope.peer.as_ref().expect("llmscope peer");
        if let Some((rss, hwm)) = peer.memory_kib() {
            report.figure(
                "llmscope_memory_kib",
                json!({"rss": rss, "hwm": hwm, "exchanges": llmscope.sent}),
            );
        }
    }
    for (key, value) in figures {
        report.figure(&key, value);
    }
    report.note(format!(
        "llmscope = the release binary `llmscope record` (capture on: SQLite store + one log line per exchange); \
         load generator and fake upstream in the bench process (one thread each), {} cores shared by all",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    report.note("added = a percentile through the proxy minus the same percentile of direct requests interleaved with it (SSE: a direct stream running beside it, half a gap apart)");
    drop(targets);
    report.finish(&args);
}

/// Starts each peer whose program is on PATH; a missing or failing one is noted and skipped.
fn start_peers(targets: &mut Vec<Target>, report: &mut Report, upstream: &FakeUpstream) {
    let url = upstream.url();
    let addr = upstream.addr;
    type Start<'a> = &'a dyn Fn() -> Result<Peer, String>;
    let floors: [(&'static str, Start); 2] = [
        ("hyper+reqwest", &|| Peer::bare_forwarder(&url)),
        ("hyper+hyper-util", &|| Peer::bare_hyper_forwarder(&url)),
    ];
    for (name, start) in floors {
        match start() {
            Ok(peer) => targets.push(Target {
                name,
                addr: peer.addr,
                peer: Some(peer),
                sent: 0,
            }),
            Err(e) => report.note(format!("{name}: skipped, it did not start: {e}")),
        }
    }
    let candidates: [(&'static str, Start); 3] = [
        ("nginx", &|| Peer::nginx(addr)),
        ("mitmdump", &|| Peer::mitmdump(&url)),
        ("claude-tap", &|| Peer::claude_tap(&url)),
    ];
    for (name, start) in candidates {
        if !on_path(name) {
            report.note(format!("{name}: skipped, `{name}` is not on PATH"));
            continue;
        }
        match start() {
            Ok(peer) => targets.push(Target {
                name,
                addr: peer.addr,
                peer: Some(peer),
                sent: 0,
            }),
            Err(e) => report.note(format!("{name}: skipped, it did not start: {e}")),
        }
    }
}

/// The cells for the target columns, in table order.
fn cells(targets: &[Target], value: impl Fn(&Target) -> Option<String>) -> Vec<String> {
    TARGET_COLUMNS
        .iter()
        .map(|name| {
            targets
                .iter()
                .find(|t| t.name == *name)
                .and_then(&value)
                .unwrap_or_else(|| "—".to_string())
        })
        .collect()
}

fn row(figure: &str, values: Vec<String>, target: &str, result: &str) -> Vec<String> {
    let mut row = vec![figure.to_string()];
    row.extend(values);
    row.push(target.to_string());
    row.push(result.to_string());
    row
}

/// llmscope's figure as a ratio to nginx's in the same run, recorded against its target
/// (`at_most` for costs, else a rate): the table's target and result cells. Without nginx in
/// the run the ratio is not measured, and says so.
fn over_nginx(
    report: &mut Report,
    key: &str,
    ours: f64,
    nginx: Option<f64>,
    target: f64,
    at_most: bool,
) -> (String, String) {
    let ratio = nginx.filter(|n| *n > 0.0).map(|n| ours / n);
    ratio_verdict(report, key, ratio, target, at_most)
}

/// The target's cell and its verdict for a ratio to nginx (`None`: no nginx in this run).
fn ratio_verdict(
    report: &mut Report,
    key: &str,
    ratio: Option<f64>,
    target: f64,
    at_most: bool,
) -> (String, String) {
    let bound = if at_most { "≤" } else { "≥" };
    let target_cell = format!("{bound} {target} × nginx");
    match ratio {
        Some(ratio) => {
            let v = report.target(key, ratio, target, "ratio", at_most);
            (target_cell, format!("{} (×{ratio:.2} of nginx)", v.word()))
        }
        None => (target_cell, "not measured: no nginx in this run".into()),
    }
}

/// After a run through llmscope, waits until its store has every exchange, so its writer's
/// work never lands in the next measurement. Returns how long that took.
fn wait_store(target: &Target, limit: Duration) -> Option<Duration> {
    let caught_up = target.peer.as_ref()?.wait_store(target.sent, limit);
    if caught_up.is_none() {
        progress!("llmscope's store did not catch up within {limit:?}");
    }
    caught_up
}

/// [`load::paired`] against `target`, counting what it was sent.
fn paired(
    direct: SocketAddr,
    target: &mut Target,
    path: &str,
    body: &[u8],
    warmup: usize,
    count: usize,
    limit: Duration,
) -> (Summary, Summary) {
    let (d, v, sent) = load::paired(
        direct,
        (target.name, target.addr),
        path,
        body,
        warmup,
        count,
        limit,
    );
    target.sent += sent;
    (d, v)
}

/// A measured figure per target: the target's own numbers and those of the direct requests
/// interleaved with them.
struct Paired {
    name: &'static str,
    direct: Summary,
    via: Summary,
}

/// Table cells: direct (as measured beside llmscope), then each proxy with its added cost
/// over the direct requests measured beside it.
fn paired_cells(targets: &[Target], results: &[Paired], pick: fn(&Summary) -> f64) -> Vec<String> {
    let get = |name: &str| results.iter().find(|r| r.name == name);
    cells(targets, |t| {
        if t.name == "direct" {
            return get("llmscope").map(|r| fmt_us(pick(&r.direct)));
        }
        let r = get(t.name)?;
        let added = pick(&r.via) - pick(&r.direct);
        Some(format!("{} (+{})", fmt_us(pick(&r.via)), fmt_us(added)))
    })
}

/// The lowest p50 of the direct requests over every proxy's phase of the run.
fn quickest_direct_p50(results: &[Paired]) -> Option<f64> {
    results
        .iter()
        .map(|r| r.direct.p50_us)
        .min_by(f64::total_cmp)
}

fn paired_json(results: &[Paired]) -> Value {
    let quickest_direct = quickest_direct_p50(results).unwrap_or(0.0);
    let mut map = Map::new();
    for r in results {
        map.insert(
            r.name.to_string(),
            json!({
                "via": r.via.json(),
                "direct_beside": r.direct.json(),
                "added_p50_us": round2(r.via.p50_us - r.direct.p50_us),
                "added_p99_us": round2(r.via.p99_us - r.direct.p99_us),
                "p50_over_quickest_direct_us": round2(r.via.p50_us - quickest_direct),
            }),
        );
    }
    Value::Object(map)
}

fn proxies(targets: &mut [Target]) -> (SocketAddr, impl Iterator<Item = &mut Target>) {
    let direct = targets
        .iter()
        .find(|t| t.name == "direct")
        .expect("direct")
        .addr;
    (direct, targets.iter_mut().filter(|t| t.name != "direct"))
}

fn latency(
    args: &Args,
    targets: &mut [Target],
    report: &mut Report,
    figures: &mut Map<String, Value>,
) {
    let count = args.pick(20_000, 3_000);
    let limit = Duration::from_secs(args.pick(10, 2));
    let body = small_body();
    let mut results = Vec::new();
    let (direct, proxies) = proxies(targets);
    for target in proxies {
        progress!("latency: {} interleaved with direct", target.name);
        let (d, v) = paired(
            direct,
            target,
            PATH,
            &body,
            args.pick(2_000, 300),
            count,
            limit,
        );
        if target.is_llmscope() {
            wait_store(target, Duration::from_secs(60));
        }
        results.push(Paired {
            name: target.name,
            direct: d,
            via: v,
        });
    }
    let added_p50 = |name: &str| {
        results
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.via.p50_us - r.direct.p50_us)
    };
    let (t50, v50) = over_nginx(
        report,
        "latency_added_p50_over_nginx",
        added_p50("llmscope").expect("llmscope measured"),
        added_p50("nginx"),
        1.2,
        true,
    );
    let ours = results
        .iter()
        .find(|r| r.name == "llmscope")
        .expect("llmscope measured");
    let v99 = report.target(
        "latency_added_p99_us",
        ours.via.p99_us - ours.direct.p99_us,
        500.0,
        "us",
        true,
    );
    report.row(row(
        "1 KB POST, keep-alive, sequential: p50 (added)",
        paired_cells(targets, &results, |s| s.p50_us),
        &t50,
        &v50,
    ));
    report.row(row(
        "1 KB POST, keep-alive, sequential: p99 (added)",
        paired_cells(targets, &results, |s| s.p99_us),
        "added ≤ 500 µs",
        v99.word(),
    ));
    common_baseline_row(targets, &results, report);
    figures.insert("latency_1kb_sequential".into(), paired_json(&results));
}

/// The p50s once more, each less the quickest direct p50 of the run instead of its own
/// phase's. The direct requests beside a proxy are quick while the vCPUs are still awake from
/// the proxied request before them, so their p50 moves with how much the proxy does after a
/// reply (21–27 µs beside llmscope, 24–78 µs beside nginx on the project's VM); one baseline
/// for all shows the proxies' via times side by side. Information only: the target stays on
/// each phase's own "added".
fn common_baseline_row(targets: &[Target], results: &[Paired], report: &mut Report) {
    let Some(baseline) = quickest_direct_p50(results) else {
        return;
    };
    let added = |name: &str| {
        results
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.via.p50_us - baseline)
    };
    let cells = cells(targets, |t| {
        if t.name == "direct" {
            return Some(fmt_us(baseline));
        }
        added(t.name).map(|a| format!("+{}", fmt_us(a)))
    });
    let ratio = match (added("llmscope"), added("nginx")) {
        (Some(ours), Some(nginx)) if nginx > 0.0 => format!("×{:.2} of nginx", ours / nginx),
        _ => "info".to_string(),
    };
    report.row(row(
        "1 KB POST, sequential: p50 less the run's quickest direct p50",
        cells,
        "",
        &ratio,
    ));
}

fn sse(args: &Args, targets: &mut [Target], report: &mut Report, figures: &mut Map<String, Value>) {
    let events = args.pick(200, 50);
    let gap_ms = 20;
    let path = format!("{PATH}?sse={events}&gap_ms={gap_ms}");
    let mut results = Vec::new();
    let (direct, proxies) = proxies(targets);
    for target in proxies {
        progress!(
            "sse: {} beside direct ({events} events {gap_ms} ms apart)",
            target.name
        );
        // Both streams at once, the proxied one half a gap later so no two events are sent
        // at the same moment: each sees the machine as the other does.
        let (d, v) = std::thread::scope(|scope| {
            let d = scope.spawn(|| stream(direct, &path));
            std::thread::sleep(Duration::from_millis(gap_ms / 2));
            let v = stream(target.addr, &path);
            (d.join().expect("direct stream thread"), v)
        });
        target.sent += 1;
        let (d, v) = match (d, v) {
            (Ok(d), Ok(v)) => (d, v),
            (d, v) => {
                report.note(format!(
                    "sse: {} failed: direct {:?}, proxied {:?}",
                    target.name,
                    d.err(),
                    v.err()
                ));
                continue;
            }
        };
        if v.delays_ns.len() != events {
            report.note(format!(
                "sse: {} delivered {} of {events} stamped events",
                target.name,
                v.delays_ns.len()
            ));
        }
        if target.is_llmscope() {
            wait_store(target, Duration::from_secs(30));
        }
        let summary = |delays: &SseDelays| {
            let mut samples = Samples::with_capacity(events);
            for &ns in &delays.delays_ns {
                samples.push_ns(ns);
            }
            samples.summary()
        };
        results.push(Paired {
            name: target.name,
            direct: summary(&d),
            via: summary(&v),
        });
    }
    let ours = results
        .iter()
        .find(|r| r.name == "llmscope")
        .expect("llmscope measured");
    let v = report.target(
        "sse_added_delay_p99_us",
        ours.via.p99_us - ours.direct.p99_us,
        1000.0,
        "us",
        true,
    );
    report.row(row(
        &format!("SSE, {events} events {gap_ms} ms apart: per-event delay p50 (added)"),
        paired_cells(targets, &results, |s| s.p50_us),
        "",
        "info",
    ));
    report.row(row(
        &format!("SSE, {events} events {gap_ms} ms apart: per-event delay p99 (added)"),
        paired_cells(targets, &results, |s| s.p99_us),
        "added ≤ 1 ms",
        v.word(),
    ));
    figures.insert("sse_per_event_delay".into(), paired_json(&results));
}

fn big(args: &Args, targets: &mut [Target], report: &mut Report, figures: &mut Map<String, Value>) {
    const SIZE: usize = 2 * 1024 * 1024;
    let mut body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":""#.to_vec();
    let tail = br#""}]}"#;
    let filler = SIZE - body.len() - tail.len();
    body.extend(
        b"0123456789abcdef the agent pasted a large log "
            .iter()
            .cycle()
            .take(filler),
    );
    body.extend_from_slice(tail);
    let path = format!("{PATH}?reply={SIZE}");
    let mut results = Vec::new();
    let (direct, proxies) = proxies(targets);
    for target in proxies {
        progress!(
            "big: {} interleaved with direct (2 MiB up, 2 MiB down)",
            target.name
        );
        let (d, v) = paired(
            direct,
            target,
            &path,
            &body,
            3,
            args.pick(60, 15),
            Duration::from_secs(args.pick(15, 3)),
        );
        if target.is_llmscope() {
            wait_store(target, Duration::from_secs(60));
        }
        results.push(Paired {
            name: target.name,
            direct: d,
            via: v,
        });
    }
    let added_p50 = |name: &str| {
        results
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.via.p50_us - r.direct.p50_us)
    };
    let (target, v) = over_nginx(
        report,
        "big_2mb_added_p50_over_nginx",
        added_p50("llmscope").expect("llmscope measured"),
        added_p50("nginx"),
        1.3,
        true,
    );
    report.row(row(
        "2 MiB request + 2 MiB reply: p50 (added)",
        paired_cells(targets, &results, |s| s.p50_us),
        &target,
        &v,
    ));
    report.row(row(
        "2 MiB request + 2 MiB reply: p99 (added)",
        paired_cells(targets, &results, |s| s.p99_us),
        "",
        "info",
    ));
    figures.insert("big_2mb".into(), paired_json(&results));
}

/// llmscope's latency while another connection holds the database's write lock: the writer
/// cannot commit, and the proxy must not notice.
fn store_locked(
    args: &Args,
    targets: &mut [Target],
    report: &mut Report,
    figures: &mut Map<String, Value>,
) {
    let (direct, mut proxies) = proxies(targets);
    let Some(target) = proxies.find(|t| t.is_llmscope()) else {
        return;
    };
    let body = small_body();
    let count = args.pick(20_000, 3_000);
    let limit = Duration::from_secs(args.pick(8, 2));
    let warmup = args.pick(2_000, 300);
    progress!("store-locked: llmscope, store free");
    let (free_direct, free) = paired(direct, target, PATH, &body, warmup, count, limit);
    wait_store(target, Duration::from_secs(60));
    let db = target
        .peer
        .as_ref()
        .expect("peer")
        .data_dir()
        .join("llmscope.db");
    let lock = rusqlite::Connection::open(&db).expect("open llmscope's database");
    lock.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    lock.execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    progress!("store-locked: llmscope, database write-locked by another connection");
    let (locked_direct, locked) = paired(direct, target, PATH, &body, warmup, count, limit);
    let rss_locked = target.peer.as_ref().and_then(Peer::memory_kib);
    lock.execute_batch("ROLLBACK")
        .expect("release the write lock");
    drop(lock);
    let lag = wait_store(target, Duration::from_secs(120));
    let added = |d: &Summary, v: &Summary| {
        format!(
            "+{} / +{}",
            fmt_us(v.p50_us - d.p50_us),
            fmt_us(v.p99_us - d.p99_us)
        )
    };
    let mut values = vec!["—".to_string(); TARGET_COLUMNS.len()];
    values[1] = format!(
        "locked: {}; free: {}",
        added(&locked_direct, &locked),
        added(&free_direct, &free)
    );
    report.row(row(
        "1 KB POST added p50 / p99, store write-locked vs free",
        values,
        "unchanged",
        "info",
    ));
    figures.insert(
        "store_locked_latency".into(),
        json!({
            "free": {"via": free.json(), "direct_beside": free_direct.json()},
            "locked": {"via": locked.json(), "direct_beside": locked_direct.json()},
            "rss_kib_while_locked": rss_locked.map(|m| m.0),
            "store_caught_up_after_unlock_ms": lag.map(|d| d.as_millis() as u64),
        }),
    );
}
