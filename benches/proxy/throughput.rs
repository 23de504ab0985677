//! The 32-connection load: every target in rounds, its ratios to nginx the medians of the
//! rounds' ratios.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::common::http::post;
use super::common::load::load;
use super::common::peers::Peer;
use super::common::stats::{fmt_us, round2, round4, Samples, Summary};
use super::common::{Args, Report};
use super::{
    cells, ratio_verdict, row, small_body, wait_store, Target, CONNECTIONS, PATH, TARGET_COLUMNS,
};

/// One target's share of the 32-connection load, over every round.
struct Throughput {
    name: &'static str,
    samples: Samples,
    measured: Duration,
    sent: u64,
    errors: u64,
    /// Per round: requests a second, and CPU time per request (µs) when the target is a
    /// process of its own.
    rounds: Vec<(f64, Option<f64>)>,
    /// CPU seconds over every round, while every round had them.
    cpu_s: Option<f64>,
}

impl Throughput {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            samples: Samples::with_capacity(1_000_000),
            measured: Duration::ZERO,
            sent: 0,
            errors: 0,
            rounds: Vec::new(),
            cpu_s: Some(0.0),
        }
    }

    fn rate(&self) -> f64 {
        self.samples.len() as f64 / self.measured.as_secs_f64()
    }

    fn cpu_us(&self) -> Option<f64> {
        self.cpu_s
            .filter(|_| self.sent > 0)
            .map(|s| s * 1e6 / self.sent as f64)
    }
}

/// llmscope's figure over nginx's, round by round: (median, lowest, highest). A round compares
/// two windows seconds apart, so a VM whose speed drifts within the run (2× within minutes on
/// the project's machines) moves both alike; one window each for the whole run did not.
fn round_ratios(
    ours: &Throughput,
    theirs: &Throughput,
    pick: fn(&(f64, Option<f64>)) -> Option<f64>,
) -> Option<(f64, f64, f64)> {
    let mut ratios: Vec<f64> = ours
        .rounds
        .iter()
        .zip(&theirs.rounds)
        .filter_map(|(a, b)| Some(pick(a)? / pick(b).filter(|v| *v > 0.0)?))
        .collect();
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    let mid = ratios.len() / 2;
    let median = if ratios.len() % 2 == 0 {
        (ratios[mid - 1] + ratios[mid]) / 2.0
    } else {
        ratios[mid]
    };
    Some((median, ratios[0], ratios[ratios.len() - 1]))
}

/// The 32-connection load, in rounds: each round gives every target, in turn, a slice of the
/// measuring time, and each ratio to nginx is the median of the rounds' ratios.
pub(super) fn throughput(
    args: &Args,
    targets: &mut [Target],
    report: &mut Report,
    figures: &mut Map<String, Value>,
) {
    let rounds = args.pick(5, 2);
    let first_warmup = Duration::from_millis(args.pick(1000, 500));
    // Later rounds only open their connections again.
    let warmup = Duration::from_millis(args.pick(300, 200));
    let measure = Duration::from_millis(args.pick(10_000, 2_000)) / rounds;
    let body = small_body();
    let mut results: Vec<Throughput> = targets.iter().map(|t| Throughput::new(t.name)).collect();
    let mut after_run = None;
    for round in 0..rounds {
        let warmup = if round == 0 { first_warmup } else { warmup };
        for (target, result) in targets.iter_mut().zip(results.iter_mut()) {
            progress!(
                "throughput: {} ({CONNECTIONS} connections), round {} of {rounds}",
                target.name,
                round + 1
            );
            after_run = throughput_round(target, result, &body, warmup, measure).or(after_run);
        }
    }
    for result in &results {
        if result.errors > 0 {
            report.note(format!(
                "throughput: {} had {} failed requests",
                result.name, result.errors
            ));
        }
    }
    if let Some((lag, rss)) = after_run {
        figures.insert(
            "llmscope_after_throughput".into(),
            json!({"store_caught_up_ms": lag.map(|d| d.as_millis() as u64), "rss_kib": rss}),
        );
    }
    throughput_report(&results, targets, after_run, report, figures);
}

/// One target's slice of a round. For llmscope, the time until its store caught up counts
/// too (its writer's work is part of a request's cost): returns that time and the RSS then.
fn throughput_round(
    target: &mut Target,
    result: &mut Throughput,
    body: &[u8],
    warmup: Duration,
    measure: Duration,
) -> Option<(Option<Duration>, Option<u64>)> {
    let request = post(target.addr, PATH, "application/json", body);
    let cpu_before = target.peer.as_ref().and_then(Peer::cpu_seconds);
    let loaded = load(target.addr, request, CONNECTIONS, warmup, measure);
    target.sent += loaded.sent;
    let after = target.is_llmscope().then(|| {
        let lag = wait_store(target, Duration::from_secs(120));
        let rss = target.peer.as_ref().and_then(Peer::memory_kib).map(|m| m.0);
        (lag, rss)
    });
    // From the peer's own counters: how much machine the proxy spends on a request, whatever
    // else was running.
    let cpu_s = match (cpu_before, target.peer.as_ref().and_then(Peer::cpu_seconds)) {
        (Some(a), Some(b)) if loaded.sent > 0 => Some(b - a),
        _ => None,
    };
    let rate = loaded.samples.len() as f64 / measure.as_secs_f64();
    result
        .rounds
        .push((rate, cpu_s.map(|s| s * 1e6 / loaded.sent as f64)));
    result.cpu_s = result.cpu_s.zip(cpu_s).map(|(a, b)| a + b);
    result.samples.extend(&loaded.samples);
    result.measured += measure;
    result.sent += loaded.sent;
    result.errors += loaded.errors;
    after
}

fn throughput_report(
    results: &[Throughput],
    targets: &[Target],
    after_run: Option<(Option<Duration>, Option<u64>)>,
    report: &mut Report,
    figures: &mut Map<String, Value>,
) {
    let get = |name: &str| results.iter().find(|r| r.name == name);
    let via = get("llmscope").expect("llmscope measured");
    let direct = get("direct").expect("direct measured");
    let nginx = get("nginx");
    let summaries: Vec<Summary> = results.iter().map(|r| r.samples.summary()).collect();
    let mut json_targets = Map::new();
    for (r, s) in results.iter().zip(&summaries) {
        json_targets.insert(
            r.name.to_string(),
            json!({"req_per_s": round2(r.rate()), "latency": s.json(), "errors": r.errors,
                   "cpu_us_per_request": r.cpu_us().map(round2),
                   "rounds": r.rounds.iter().map(|(rate, cpu)| json!({
                       "req_per_s": round2(*rate), "cpu_us_per_request": cpu.map(round2)
                   })).collect::<Vec<_>>()}),
        );
    }
    json_targets.insert(
        "llmscope_over_direct".into(),
        json!(round4(via.rate() / direct.rate())),
    );
    for (name, key) in [
        ("hyper+reqwest", "llmscope_over_hyper_reqwest"),
        ("hyper+hyper-util", "llmscope_over_hyper_hyper_util"),
    ] {
        if let Some(floor) = get(name) {
            json_targets.insert(key.into(), json!(round4(via.rate() / floor.rate())));
        }
    }
    let rate_of = |r: &(f64, Option<f64>)| Some(r.0);
    let cpu_of = |r: &(f64, Option<f64>)| r.1;
    let rate_ratio = nginx.and_then(|n| round_ratios(via, n, rate_of));
    let cpu_ratio = nginx.and_then(|n| round_ratios(via, n, cpu_of));
    if let Some((median, low, high)) = rate_ratio {
        json_targets.insert("llmscope_over_nginx".into(), json!(round4(median)));
        json_targets.insert(
            "llmscope_over_nginx_rounds".into(),
            json!({"lowest": round4(low), "highest": round4(high)}),
        );
    }
    if let Some((_, low, high)) = cpu_ratio {
        json_targets.insert(
            "cpu_over_nginx_rounds".into(),
            json!({"lowest": round4(low), "highest": round4(high)}),
        );
    }
    let (target_cell, result) = ratio_verdict(
        report,
        "throughput_over_nginx",
        rate_ratio.map(|r| r.0),
        0.6,
        false,
    );
    let floors: String = ["hyper+reqwest", "hyper+hyper-util"]
        .iter()
        .filter_map(|name| {
            Some(format!(
                "; ×{:.2} of {name}",
                via.rate() / get(name)?.rate()
            ))
        })
        .collect();
    let result = format!("{result}{}{floors}", rounds_range(rate_ratio));
    let (cpu_target, cpu_result) = match via.cpu_us() {
        Some(_) => {
            let (cell, verdict) =
                ratio_verdict(report, "cpu_over_nginx", cpu_ratio.map(|r| r.0), 2.0, true);
            // How far the stack alone is from nginx: the headroom the target leaves capture.
            let floor = get("hyper+hyper-util")
                .zip(nginx)
                .and_then(|(floor, n)| round_ratios(floor, n, cpu_of))
                .map_or(String::new(), |(median, _, _)| {
                    format!("; hyper+hyper-util alone ×{median:.2}")
                });
            (cell, format!("{verdict}{}{floor}", rounds_range(cpu_ratio)))
        }
        None => ("≤ 2 × nginx".to_string(), "not measured".to_string()),
    };
    report.row(row(
        &format!("throughput, {CONNECTIONS} connections, 1 KB replies: req/s"),
        cells(targets, |t| get(t.name).map(|r| format!("{:.0}", r.rate()))),
        &target_cell,
        &result,
    ));
    report.row(row(
        &format!("latency at {CONNECTIONS} connections: p50 / p99"),
        cells(targets, |t| {
            let s = results
                .iter()
                .position(|r| r.name == t.name)
                .map(|i| summaries[i])?;
            Some(format!("{} / {}", fmt_us(s.p50_us), fmt_us(s.p99_us)))
        }),
        "",
        "info",
    ));
    report.row(row(
        &format!("CPU time of the proxy per request at {CONNECTIONS} connections"),
        cells(targets, |t| get(t.name)?.cpu_us().map(fmt_us)),
        &cpu_target,
        &cpu_result,
    ));
    if let Some((lag, rss)) = after_run {
        let mut values = vec!["—".to_string(); TARGET_COLUMNS.len()];
        values[1] = format!(
            "store caught up {} after the load ended; RSS then {}",
            lag.map_or("never".to_string(), |d| format!("{} ms", d.as_millis())),
            rss.map_or("?".to_string(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
        );
        report.row(row(
            &format!("llmscope after the {CONNECTIONS}-connection run"),
            values,
            "",
            "info",
        ));
    }
    figures.insert(
        "throughput_32_connections".into(),
        Value::Object(json_targets),
    );
}

/// "; rounds ×0.58–×0.66" beside a median of rounds.
fn rounds_range(ratios: Option<(f64, f64, f64)>) -> String {
    ratios.map_or(String::new(), |(_, low, high)| {
        format!("; rounds ×{low:.2}–×{high:.2}")
    })
}
