//! What recording costs over time: the size of the session database for a long agent
//! conversation, how fast the store writer commits exchanges, and the resident memory of the
//! real `llmscope record` process after thousands of agent-sized exchanges.
//!
//! The size and write-rate figures feed `CaptureEvent`s straight to the store's writer
//! (`spawn_writer`), as the proxy does; the memory figure runs the release binary in front of
//! the bench's fake upstream and reads `/proc/PID/status`.
//!
//! `cargo bench --bench store [-- --quick] [--only size,write,codec,memory]`. Prints a Markdown table,
//! then one line of JSON.

#[macro_use]
mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use llmscope::capture::{
    CaptureBus, CaptureEvent, CapturedRequest, CapturedResponse, ExchangeId, ExchangeRecord,
    ExchangeStart, HeaderList, SessionId, Timing,
};
use llmscope::llm::Dialect;
use llmscope::store::{spawn_writer, SessionInfo, Store};
use serde_json::{json, Map, Value};

use common::agent::Conversation;
use common::http::{post, Conn};
use common::peers::{dir_bytes, Peer};
use common::stats::{fmt_bytes, fmt_us, round4, Samples};
use common::upstream::FakeUpstream;
use common::{Args, Report, Verdict};

fn start(session: SessionId, id: u64, body: Bytes) -> ExchangeStart {
    ExchangeStart {
        id: ExchangeId(id),
        session,
        started_at_ms: 1_767_000_000_000 + id as i64 * 1000,
        dialect: Dialect::OpenAiChat,
        model: Some("gpt-4o".into()),
        request: CapturedRequest {
            method: "POST".into(),
            uri: "/v1/chat/completions".into(),
            headers: HeaderList::from([
                ("content-type", "application/json"),
                ("authorization", "<redacted>"),
                (
                    "user-agent",
                    "opencode/1.18.33 ai-sdk/provider-utils/4.0.23 runtime/bun/1.3.14",
                ),
                ("x-session-id", "ses_df0417ee6ffeKJjh4bhqhUEk7D"),
            ]),
            body,
        },
        lineage: Default::default(),
        rewrite: None,
        request_body_unrecorded: None,
    }
}

fn finished(start: Arc<ExchangeStart>, reply: Bytes, sse: bool) -> ExchangeRecord {
    let body_len = reply.len() as u64;
    let content_type = if sse {
        "text/event-stream"
    } else {
        "application/json"
    };
    ExchangeRecord {
        timing: Timing {
            started_at_ms: start.started_at_ms,
            first_byte_ms: Some(310),
            duration_ms: Some(4200),
        },
        start,
        response: Some(CapturedResponse {
            status: 200,
            headers: HeaderList::from([("content-type", content_type)]),
            body: reply,
            body_len,
        }),
        failure: None,
        derived: Default::default(),
    }
}

/// Result of writing a batch of exchanges through the store writer.
struct Written {
    exchanges: u64,
    seconds: f64,
    /// Time to publish one event on the bus (what the proxy pays).
    publish: Samples,
    /// Data directory after the session closed.
    dir_bytes: u64,
}

/// Bodies published but not yet written that the publisher allows: half the writer's memory
/// budget, so the writer stores every body and the rate measured is its own.
const IN_FLIGHT_BODY_BYTES: u64 = 4 << 20;

/// Publishes every exchange (Started, then Finished) on a bus the writer drains, as fast as
/// the writer takes them, and times until the writer reports them all written.
fn write_through_store(
    dir: &Path,
    exchanges: &[(Bytes, Bytes)],
    sse: bool,
    limit: Duration,
) -> Written {
    let store = Store::open(dir).expect("open store");
    let session = store
        .begin_session(&SessionInfo {
            upstream: "http://127.0.0.1:4000".into(),
            listen: "127.0.0.1:8787".into(),
            mode: "bench".into(),
        })
        .expect("session");
    let bus = CaptureBus::new();
    let writer = spawn_writer(store, bus.subscribe());
    let health = writer.health();
    let mut publish = Samples::with_capacity(exchanges.len() * 2);
    // published_bytes[i]: body bytes of the first i exchanges.
    let published_bytes: Vec<u64> = std::iter::once(0)
        .chain(exchanges.iter().scan(0u64, |sum, (request, reply)| {
            *sum += (request.len() + reply.len()) as u64;
            Some(*sum)
        }))
        .collect();
    let t0 = Instant::now();
    for (i, (request, reply)) in exchanges.iter().enumerate() {
        while published_bytes[i] - published_bytes[health.exchanges_written() as usize]
            > IN_FLIGHT_BODY_BYTES
            && t0.elapsed() < limit
        {
            std::thread::sleep(Duration::from_micros(100));
        }
        let st = Arc::new(start(session, i as u64 + 1, request.clone()));
        let rec = finished(st.clone(), reply.clone(), sse);
        let t = Instant::now();
        bus.publish(CaptureEvent::Started(st));
        publish.push(t.elapsed());
        let t = Instant::now();
        bus.publish(CaptureEvent::Finished(Arc::new(rec)));
        publish.push(t.elapsed());
    }
    let n = exchanges.len() as u64;
    while health.exchanges_written() < n && t0.elapsed() < limit {
        std::thread::sleep(Duration::from_micros(200));
    }
    let seconds = t0.elapsed().as_secs_f64();
    let written = health.exchanges_written();
    if written < n {
        progress!("store wrote only {written} of {n} within {limit:?}");
    }
    assert_eq!(
        health.bodies_unrecorded(),
        0,
        "the writer must keep every body for its rate and size to mean anything"
    );
    bus.close();
    let exit = writer.join();
    let store = exit.store.expect("writer returns the store");
    store.end_session(session).expect("end session");
    drop(store);
    Written {
        exchanges: written,
        seconds,
        publish,
        dir_bytes: dir_bytes(dir),
    }
}

fn main() {
    let args = Args::parse();
    args.exit_unless_bench("store");
    common::now_ns();
    let mut report = Report::new("store", &["figure", "value", "target", "result"]);
    report.wait_for_quiet(&args);
    let mut figures = Map::new();
    if args.wants("size") {
        size(&args, &mut report, &mut figures);
    }
    if args.wants("write") {
        write_rate(&args, &mut report, &mut figures);
    }
    if args.wants("codec") {
        codec_cost(&args, &mut report, &mut figures);
    }
    if args.wants("memory") {
        memory(&args, &mut report, &mut figures);
    }
    if args.wants("open") {
        open(&mut report, &mut figures);
    }
    for (key, value) in figures {
        report.figure(&key, value);
    }
    report.finish(&args);
}

/// 1,000 turns of one agent conversation, each request resending all before it.
fn size(args: &Args, report: &mut Report, figures: &mut Map<String, Value>) {
    let turns = args.pick(1000, 200);
    progress!("size: generating {turns} agent turns");
    let mut conversation = Conversation::opencode(1);
    let exchanges: Vec<(Bytes, Bytes)> = (0..turns)
        .map(|_| {
            let ex = conversation.step();
            (Bytes::from(ex.request), Bytes::from(ex.reply_sse))
        })
        .collect();
    let raw_requests: u64 = exchanges.iter().map(|e| e.0.len() as u64).sum();
    let raw_replies: u64 = exchanges.iter().map(|e| e.1.len() as u64).sum();
    let raw = raw_requests + raw_replies;
    let last = exchanges.last().map_or(0, |e| e.0.len());
    progress!(
        "size: {turns} exchanges, {} of requests (last {}), {} of replies; writing",
        fmt_bytes(raw_requests),
        fmt_bytes(last as u64),
        fmt_bytes(raw_replies)
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let w = write_through_store(tmp.path(), &exchanges, true, Duration::from_secs(600));
    let ratio = w.dir_bytes as f64 / raw as f64;
    let v = report.target("store_size_ratio", ratio, 0.05, "fraction", true);
    report.row(vec![
        format!("store size, {turns} agent turns resending the growing conversation: data dir / raw bodies"),
        format!("{:.4} ({} of {})", ratio, fmt_bytes(w.dir_bytes), fmt_bytes(raw)),
        "≤ 0.05".into(),
        v.word().into(),
    ]);
    let rate = w.exchanges as f64 / w.seconds;
    report.row(vec![
        format!(
            "store write rate, those {turns} turns (avg request {})",
            fmt_bytes(raw_requests / turns as u64)
        ),
        format!(
            "{rate:.0} exchanges/s ({}/s of bodies)",
            fmt_bytes((raw as f64 / w.seconds) as u64)
        ),
        String::new(),
        "info".into(),
    ]);

    // Where the bytes go, and what a codec that uses the previous request would leave.
    progress!("size: what-if codecs");
    let t = Instant::now();
    let per_body: u64 = exchanges
        .iter()
        .map(|(req, rep)| zstd_len(req, None) + zstd_len(rep, None))
        .sum();
    let per_body_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut delta: u64 = 0;
    let mut previous: Option<&Bytes> = None;
    for (req, rep) in &exchanges {
        delta += zstd_len(req, previous.map(|p| p.as_ref())) + zstd_len(rep, None);
        previous = Some(req);
    }
    let delta_s = t.elapsed().as_secs_f64();
    // The cheapest scheme that fits how agents resend: keep the previous request of the
    // conversation, store how much of its start and end the new one repeats, and zstd the rest.
    let t = Instant::now();
    let mut compressor = zstd::bulk::Compressor::new(3).expect("zstd context");
    let mut prefix_delta: u64 = 0;
    let mut previous: Option<&Bytes> = None;
    for (req, rep) in &exchanges {
        prefix_delta +=
            delta_len(previous.map(|p| p.as_ref()), req, &mut compressor) + zstd_len(rep, None);
        previous = Some(req);
    }
    let prefix_delta_s = t.elapsed().as_secs_f64();
    report.row(vec![
        "what-if: per-body zstd -3 alone (today's codec), bytes / raw".into(),
        format!(
            "{:.4} ({})",
            per_body as f64 / raw as f64,
            fmt_bytes(per_body)
        ),
        String::new(),
        "info".into(),
    ]);
    report.row(vec![
        "what-if: zstd -3 with the previous request as dictionary, bytes / raw".into(),
        format!(
            "{:.4} ({}; {:.0} exchanges/s on one core)",
            delta as f64 / raw as f64,
            fmt_bytes(delta),
            turns as f64 / delta_s
        ),
        String::new(),
        "info".into(),
    ]);
    report.row(vec![
        "what-if: shared start and end with the previous request + zstd -3 of the rest, bytes / raw".into(),
        format!(
            "{:.4} ({}; {:.0} exchanges/s on one core)",
            prefix_delta as f64 / raw as f64,
            fmt_bytes(prefix_delta),
            turns as f64 / prefix_delta_s
        ),
        String::new(),
        "info".into(),
    ]);
    figures.insert(
        "store_size".into(),
        json!({
            "turns": turns,
            "raw_request_bytes": raw_requests,
            "raw_reply_bytes": raw_replies,
            "last_request_bytes": last,
            "data_dir_bytes": w.dir_bytes,
            "ratio": round4(ratio),
            "write_exchanges_per_s": rate.round(),
            "what_if_per_body_zstd3_bytes": per_body,
            "what_if_per_body_zstd3_ratio": round4(per_body as f64 / raw as f64),
            "what_if_per_body_zstd3_s": per_body_s,
            "what_if_prev_request_dictionary_bytes": delta,
            "what_if_prev_request_dictionary_ratio": round4(delta as f64 / raw as f64),
            "what_if_prev_request_dictionary_s": delta_s,
            "what_if_prefix_suffix_delta_bytes": prefix_delta,
            "what_if_prefix_suffix_delta_ratio": round4(prefix_delta as f64 / raw as f64),
            "what_if_prefix_suffix_delta_s": prefix_delta_s,
        }),
    );
}

/// Bytes to store `body` as (prefix length, suffix length, zstd of the middle) against `prev`.
fn delta_len(prev: Option<&[u8]>, body: &[u8], compressor: &mut zstd::bulk::Compressor) -> u64 {
    let (prefix, suffix) = match prev {
        Some(prev) => {
            let prefix = prev.iter().zip(body).take_while(|(a, b)| a == b).count();
            let suffix = prev[prefix..]
                .iter()
                .rev()
                .zip(body[prefix..].iter().rev())
                .take_while(|(a, b)| a == b)
                .count();
            (prefix, suffix)
        }
        None => (0, 0),
    };
    let middle = &body[prefix..body.len() - suffix];
    let packed = compressor
        .compress(middle)
        .map_or(middle.len(), |c| c.len().min(middle.len()));
    // Two lengths as varints, at most ten bytes each.
    packed as u64 + 10
}

fn zstd_len(data: &[u8], dictionary: Option<&[u8]>) -> u64 {
    let compressed = match dictionary {
        Some(dict) => {
            zstd::bulk::Compressor::with_dictionary(3, dict).and_then(|mut c| c.compress(data))
        }
        None => zstd::bulk::compress(data, 3),
    };
    compressed.map_or(data.len(), |c| c.len().min(data.len())) as u64
}

/// Store writer throughput for small exchanges and for agent-sized ones.
fn write_rate(args: &Args, report: &mut Report, figures: &mut Map<String, Value>) {
    // 1 KB request, 1 KB reply: what the proxy's throughput test sends.
    let n = args.pick(20_000, 5_000);
    let req = Bytes::from(common_small_request());
    let mut reply = common::upstream::json_reply(1024);
    let rep = Bytes::from(reply.split_off(reply.len() - 1024));
    let exchanges: Vec<(Bytes, Bytes)> = (0..n).map(|_| (req.clone(), rep.clone())).collect();
    let tmp = tempfile::tempdir().expect("tempdir");
    progress!("write: {n} exchanges of 1 KB + 1 KB");
    let w = write_through_store(tmp.path(), &exchanges, false, Duration::from_secs(120));
    let rate = w.exchanges as f64 / w.seconds;
    let publish = w.publish.summary();
    let v = report.target("store_write_1kb_per_s", rate, 2000.0, "exchanges/s", false);
    report.row(vec![
        format!("store write rate, {n} exchanges of 1 KB request + 1 KB reply"),
        format!("{rate:.0} exchanges/s"),
        "≥ 2,000/s".into(),
        v.word().into(),
    ]);

    // Agent-sized: opencode's first turns, ≈31–60 KB, many conversations.
    let m = args.pick(5_000, 1_000);
    let mut agent: Vec<(Bytes, Bytes)> = Vec::with_capacity(m);
    let mut seed = 100;
    while agent.len() < m {
        let mut conversation = Conversation::opencode(seed);
        seed += 1;
        for _ in 0..20 {
            if agent.len() == m {
                break;
            }
            let ex = conversation.step();
            agent.push((Bytes::from(ex.request), Bytes::from(ex.reply_sse)));
        }
    }
    let avg = agent.iter().map(|e| e.0.len()).sum::<usize>() / m;
    let tmp = tempfile::tempdir().expect("tempdir");
    progress!(
        "write: {m} agent exchanges (avg request {})",
        fmt_bytes(avg as u64)
    );
    let wa = write_through_store(tmp.path(), &agent, true, Duration::from_secs(300));
    let rate_agent = wa.exchanges as f64 / wa.seconds;
    let va = report.target(
        "store_write_agent_per_s",
        rate_agent,
        2000.0,
        "exchanges/s",
        false,
    );
    report.row(vec![
        format!(
            "store write rate, {m} agent exchanges (opencode turns 1–20, avg request {})",
            fmt_bytes(avg as u64)
        ),
        format!("{rate_agent:.0} exchanges/s"),
        "≥ 2,000/s".into(),
        va.word().into(),
    ]);
    report.row(vec![
        "bus publish, per event (what the proxy pays; never waits on the writer)".into(),
        format!(
            "p50 {} / p99 {}",
            fmt_us(publish.p50_us),
            fmt_us(publish.p99_us)
        ),
        String::new(),
        "info".into(),
    ]);
    figures.insert(
        "store_write".into(),
        json!({
            "small_exchanges": n,
            "small_per_s": rate.round(),
            "agent_exchanges": m,
            "agent_avg_request_bytes": avg,
            "agent_per_s": rate_agent.round(),
            "publish": publish.json(),
        }),
    );
}

/// Where the writer's time goes: today's codec makes a new zstd context for every body
/// (`zstd::bulk::compress`), against one context kept and reused.
fn codec_cost(args: &Args, report: &mut Report, figures: &mut Map<String, Value>) {
    let n = args.pick(5_000, 1_000);
    let body = common_small_request();
    let mut fresh = Samples::with_capacity(n);
    let mut create = Samples::with_capacity(n);
    let mut reused = Samples::with_capacity(n);
    let mut compressor = zstd::bulk::Compressor::new(3).expect("zstd context");
    for _ in 0..n {
        let t = Instant::now();
        let a = zstd::bulk::compress(&body, 3).expect("compress");
        fresh.push(t.elapsed());
        let t = Instant::now();
        let c = zstd::bulk::Compressor::new(3).expect("zstd context");
        create.push(t.elapsed());
        drop(c);
        let t = Instant::now();
        let b = compressor.compress(&body).expect("compress");
        reused.push(t.elapsed());
        assert_eq!(a, b);
    }
    let (fresh, create, reused) = (fresh.summary(), create.summary(), reused.summary());
    for (name, s) in [
        ("zstd -3 of a 1 KB body, new context per body", &fresh),
        ("  of which: creating the zstd context", &create),
        (
            "zstd -3 of a 1 KB body, one context reused (the writer's way; it stores bodies under 2 KiB raw)",
            &reused,
        ),
    ] {
        report.row(vec![
            name.into(),
            format!("p50 {} / p99 {}", fmt_us(s.p50_us), fmt_us(s.p99_us)),
            String::new(),
            "info".into(),
        ]);
    }
    figures.insert(
        "codec_1kb".into(),
        json!({"fresh_context": fresh.json(), "create_context": create.json(), "reused_context": reused.json()}),
    );
}

fn common_small_request() -> Vec<u8> {
    let mut body =
        br#"{"model":"gpt-4o","stream":false,"messages":[{"role":"user","content":""#.to_vec();
    let tail = br#""}]}"#;
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

/// What one memory run saw.
struct MemoryRun {
    exchanges: u64,
    raw: u64,
    idle_kib: u64,
    peak_kib: u64,
    after_kib: u64,
    hwm_kib: u64,
    send_s: f64,
    caught_up_s: Option<f64>,
    data_bytes: u64,
    bodies_unrecorded: Option<u64>,
}

impl MemoryRun {
    fn json(&self) -> Value {
        json!({
            "exchanges": self.exchanges,
            "request_bytes": self.raw,
            "idle_rss_kib": self.idle_kib,
            "peak_sampled_rss_kib": self.peak_kib,
            "rss_kib": self.after_kib,
            "hwm_kib": self.hwm_kib,
            "send_s": self.send_s,
            "store_caught_up_s": self.caught_up_s,
            "data_dir_bytes": self.data_bytes,
            "bodies_unrecorded": self.bodies_unrecorded,
        })
    }
}

/// `n` exchanges of ≈200 KB agent bodies through a fresh `llmscope record`. With `pace`, the
/// client waits for the store to catch up every `pace` exchanges, as an agent that waits
/// seconds for each reply never lets the writer fall behind; without, it sends back to back.
fn memory_run(n: usize, pace: Option<u64>, limit: Duration) -> MemoryRun {
    let window = 200 * 1024;
    let upstream = FakeUpstream::start().expect("fake upstream");
    let peer = Peer::llmscope(&upstream.url()).expect("llmscope starts");
    let idle = peer.memory_kib().map_or(0, |m| m.0);
    let mut conversation = Conversation::opencode(3);
    while conversation.body().len() < window {
        conversation.grow();
    }
    let mut conn = Conn::connect(peer.addr).expect("connect");
    let mut peak = idle;
    let mut raw: u64 = 0;
    let mut sent = 0u64;
    let t0 = Instant::now();
    for _ in 0..n {
        if t0.elapsed() > limit {
            progress!("memory: stopped after {sent} exchanges (time limit)");
            break;
        }
        conversation.grow();
        let body = conversation.body_window(window);
        raw += body.len() as u64;
        let request = post(
            peer.addr,
            "/v1/chat/completions?reply=1024",
            "application/json",
            &body,
        );
        let reply = conn.request(&request).expect("exchange through llmscope");
        assert_eq!(reply.status, 200);
        sent += 1;
        if sent % 100 == 0 {
            if let Some((rss, _)) = peer.memory_kib() {
                peak = peak.max(rss);
            }
        }
        if pace.is_some_and(|p| sent % p == 0) {
            peer.wait_store(sent, Duration::from_secs(60));
        }
    }
    let send_s = t0.elapsed().as_secs_f64();
    peak = peak.max(peer.memory_kib().map_or(0, |m| m.0));
    let caught_up = peer.wait_store(sent, Duration::from_secs(300));
    // What stays resident once the writer has drained and the proxy has been quiet for a
    // moment (after a burst, llmscope returns freed memory after 1 s of quiet): the cost for
    // the rest of the session.
    std::thread::sleep(Duration::from_millis(1500));
    let (after, hwm) = peer.memory_kib().unwrap_or((0, 0));
    MemoryRun {
        exchanges: sent,
        raw,
        idle_kib: idle,
        peak_kib: peak.max(after),
        after_kib: after,
        hwm_kib: hwm,
        send_s,
        caught_up_s: caught_up.map(|d| d.as_secs_f64()),
        data_bytes: dir_bytes(&peer.data_dir()),
        bodies_unrecorded: peer.bodies_unrecorded(),
    }
}

/// Resident memory of `llmscope record` after many agent-sized exchanges.
fn memory(args: &Args, report: &mut Report, figures: &mut Map<String, Value>) {
    let n = args.pick(10_000, 1_000);
    let limit = Duration::from_secs(args.pick(240, 20));
    let mib = |kib: u64| kib as f64 / 1024.0;
    let runs = [
        (
            "paced",
            "paced (client waits for the store every 20, as an agent waits for each reply)",
            Some(20),
        ),
        ("back_to_back", "back to back (writer falls behind)", None),
    ];
    let mut json_runs = Map::new();
    for (key, label, pace) in runs {
        progress!("memory: {n} exchanges of ≈200 KB agent bodies, {label}");
        let run = memory_run(n, pace, limit);
        let value = format!(
            "{:.1} MiB (idle {:.1}, peak {:.1}, VmHWM {:.1}); {} sent in {:.1} s, store caught up {} later; {} exchanges recorded without bodies",
            mib(run.after_kib),
            mib(run.idle_kib),
            mib(run.peak_kib),
            mib(run.hwm_kib),
            fmt_bytes(run.raw),
            run.send_s,
            run.caught_up_s.map_or("never".to_string(), |s| format!("{s:.1} s")),
            run.bodies_unrecorded
                .map_or("?".to_string(), |n| n.to_string()),
        );
        let v = report.target(
            &format!("rss_{key}_mib"),
            mib(run.after_kib),
            50.0,
            "MiB",
            true,
        );
        // Memory must stay bounded during the run too, not only come back afterwards.
        let peak = report.target(
            &format!("rss_{key}_peak_mib"),
            mib(run.hwm_kib),
            50.0,
            "MiB",
            true,
        );
        let (target, result) = (
            "≤ 50 MB after and at peak".to_string(),
            match (v, peak) {
                (Verdict::Met, Verdict::Met) => "met",
                _ => "**MISSED**",
            }
            .to_string(),
        );
        report.row(vec![
            format!(
                "llmscope RSS after {} exchanges of ≈200 KB agent bodies, {label}",
                run.exchanges
            ),
            value,
            target,
            result,
        ]);
        json_runs.insert(key.to_string(), run.json());
    }
    figures.insert("memory".into(), Value::Object(json_runs));
    report.note("memory: the release binary `llmscope record`, one keep-alive connection, each request the latest ≈200 KB window of a growing opencode conversation, 1 KB replies; RSS = VmRSS from /proc/PID/status 1.5 s after the store has every exchange; peak = highest VmRSS sampled every 100 exchanges; VmHWM = the kernel's high-water mark");
}

/// `llmscope open` on a session of 100,000 stored exchanges: how long until the first frame
/// shows the newest of them, and the resident memory of the process then.
fn open(report: &mut Report, figures: &mut Map<String, Value>) {
    const EXCHANGES: usize = 100_000;
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    let request = Bytes::from(common_small_request());
    let reply = Bytes::from(common::upstream::json_reply(600));
    let exchanges = vec![(request, reply); EXCHANGES];
    progress!("open: writing {EXCHANGES} exchanges");
    let written = write_through_store(&dir, &exchanges, false, Duration::from_secs(300));
    progress!("open: llmscope open on {} exchanges", written.exchanges);
    let marker = format!("#{EXCHANGES}");
    let frame = match common::screen::first_frame(&["open"], &dir, &marker, Duration::from_secs(60))
    {
        Ok(frame) => frame,
        Err(e) => {
            report.note(format!("open: not measured: {e}"));
            return;
        }
    };
    let seconds = frame.elapsed.as_secs_f64();
    let mb = |kib: Option<u64>| kib.map(|k| k as f64 * 1024.0 / 1e6);
    let (rss, hwm) = (mb(frame.rss_kib), mb(frame.hwm_kib));
    let v_time = report.target("open_first_frame_s", seconds, 1.0, "s", true);
    report.row(vec![
        format!("`llmscope open`, session of {EXCHANGES} stored exchanges: time to the first frame showing them"),
        format!(
            "{:.0} ms ({} ms of CPU)",
            seconds * 1000.0,
            frame
                .cpu
                .map_or("?".to_string(), |cpu| cpu.as_millis().to_string())
        ),
        "≤ 1 s".into(),
        v_time.word().into(),
    ]);
    let rss_cell = match (rss, hwm) {
        (Some(rss), Some(hwm)) => {
            let v = report.target("open_rss_mb", rss.max(hwm), 100.0, "MB", true);
            (format!("{rss:.1} MB (VmHWM {hwm:.1} MB)"), v.word())
        }
        _ => ("not read".to_string(), "info"),
    };
    report.row(vec![
        "`llmscope open`, that session: resident memory at the first frame".into(),
        rss_cell.0,
        "≤ 100 MB".into(),
        rss_cell.1.into(),
    ]);
    figures.insert(
        "open_100k".into(),
        json!({"exchanges": written.exchanges, "first_frame_ms": round4(seconds * 1000.0),
               "cpu_ms": frame.cpu.map(|cpu| cpu.as_millis() as u64),
               "rss_mb": rss.map(round4), "hwm_mb": hwm.map(round4),
               "data_dir_bytes": written.dir_bytes}),
    );
}
