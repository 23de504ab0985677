//! Shared by the benchmark binaries (`proxy`, `store`, `frame`): command-line flags, the
//! report (a Markdown table on stdout, then one line of JSON), a process-wide clock, and the
//! pieces each bench is built from: a fast fake upstream, a load generator, agent-like bodies,
//! the peers (llmscope's binary, nginx, mitmdump, claude-tap) and statistics.
//!
//! Every loop here is bounded in count and in time, and every socket is on 127.0.0.1.
#![allow(dead_code)]

pub mod agent;
pub mod bare;
pub mod http;
pub mod load;
pub mod peers;
pub mod screen;
pub mod stats;
pub mod upstream;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use serde_json::{json, Map, Value};

/// Flags after `cargo bench --bench NAME --`.
#[derive(Debug, Clone)]
pub struct Args {
    /// Smaller counts and shorter runs: the whole binary in well under a minute.
    pub quick: bool,
    /// Set by `cargo bench`; without it (`cargo test --benches`) nothing is measured.
    pub bench_mode: bool,
    /// `--only a,b`: run only the named parts.
    only: Option<Vec<String>>,
    /// `--no-peers`: measure direct and llmscope only.
    pub no_peers: bool,
}

impl Args {
    pub fn parse() -> Self {
        let mut args = Args {
            quick: false,
            bench_mode: false,
            only: None,
            no_peers: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => args.quick = true,
                "--bench" => args.bench_mode = true,
                "--no-peers" => args.no_peers = true,
                "--only" => {
                    args.only = it
                        .next()
                        .map(|v| v.split(',').map(str::to_string).collect());
                }
                _ => {}
            }
        }
        args
    }

    /// Whether the part `name` should run.
    pub fn wants(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o == name))
    }

    /// `full` normally, `quick` with `--quick`.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick {
            quick
        } else {
            full
        }
    }

    /// Under `cargo test --benches` the binary runs without `--bench`: say so and measure
    /// nothing, so the test suite stays fast and free of timing.
    pub fn exit_unless_bench(&self, name: &str) {
        if !self.bench_mode {
            println!("{name}: benchmark binary; run it with `cargo bench --bench {name}` (nothing measured in test mode)");
            std::process::exit(0);
        }
    }
}

/// Nanoseconds since the first call in this process: one clock shared by the fake upstream
/// (which stamps what it sends) and the load generator (which reads the stamps on arrival).
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Prints a progress line to stderr, so stdout keeps only the table and the JSON line.
#[macro_export]
macro_rules! progress {
    ($($arg:tt)*) => {{
        eprintln!("[{:>6.1}s] {}", $crate::common::elapsed_s(), format!($($arg)*));
    }};
}

pub fn elapsed_s() -> f64 {
    now_ns() as f64 / 1e9
}

/// Share of all CPU time spent busy over `window`, from /proc/stat (all processes).
pub fn cpu_busy(window: std::time::Duration) -> Option<f64> {
    fn sample() -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu = stat.lines().next()?;
        let v: Vec<u64> = cpu
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal ...
        let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
        Some((idle, v.iter().sum()))
    }
    let (idle0, total0) = sample()?;
    std::thread::sleep(window);
    let (idle1, total1) = sample()?;
    let total = total1.saturating_sub(total0).max(1);
    Some(1.0 - idle1.saturating_sub(idle0) as f64 / total as f64)
}

/// Other work on the machine (another build, say) skews every figure. Waits up to `max_wait`
/// for the CPUs to be mostly idle and returns the busy share last seen, for the report.
pub fn wait_for_quiet(max_wait: std::time::Duration) -> f64 {
    let start = Instant::now();
    loop {
        let busy = cpu_busy(std::time::Duration::from_millis(500)).unwrap_or(0.0);
        if busy < 0.10 || start.elapsed() >= max_wait {
            if busy >= 0.10 {
                progress!(
                    "the machine is {:.0}% busy with other work; measuring anyway",
                    busy * 100.0
                );
            }
            return busy;
        }
        if start.elapsed().as_secs() % 10 == 0 {
            progress!(
                "waiting for other work to finish ({:.0}% busy)",
                busy * 100.0
            );
        }
    }
}

/// CPU ticks (1/100 s) used by peers that have exited, for [`ForeignCpu`].
static PEER_TICKS: AtomicU64 = AtomicU64::new(0);

/// Called by a peer just before it is stopped.
pub fn add_peer_cpu(seconds: f64) {
    PEER_TICKS.fetch_add((seconds * 100.0) as u64, Ordering::Relaxed);
}

/// user + nice + system ticks of the whole machine (interrupt time left out: the kernel does
/// not charge it to processes either).
fn machine_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .take(3)
        .filter_map(|x| x.parse().ok())
        .collect();
    Some(v.iter().sum())
}

fn own_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// How much CPU other processes on the machine (another session's build, say) used while a
/// bench ran: the machine's CPU time minus this process's and its peers'.
struct ForeignCpu {
    machine: u64,
    own: u64,
    peers: u64,
}

impl ForeignCpu {
    fn start() -> Self {
        Self {
            machine: machine_ticks().unwrap_or(0),
            own: own_ticks().unwrap_or(0),
            peers: PEER_TICKS.load(Ordering::Relaxed),
        }
    }

    /// Seconds of CPU used by others since `start`.
    fn seconds(&self) -> f64 {
        let machine = machine_ticks().unwrap_or(0).saturating_sub(self.machine);
        let own = own_ticks().unwrap_or(0).saturating_sub(self.own);
        let peers = PEER_TICKS
            .load(Ordering::Relaxed)
            .saturating_sub(self.peers);
        machine.saturating_sub(own + peers) as f64 / 100.0
    }
}

/// The machine the numbers were taken on.
pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({ "nproc": nproc, "cpu": cpu, "kernel": kernel })
}

/// Whether a figure met its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::Missed => "**MISSED**",
        }
    }
}

/// The table and the JSON line of one bench binary.
pub struct Report {
    bench: &'static str,
    /// CPU busy share (all processes) just before measuring, from [`wait_for_quiet`].
    busy_before: Option<f64>,
    foreign: ForeignCpu,
    started_s: f64,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
    figures: Map<String, Value>,
    targets: Map<String, Value>,
}

impl Report {
    pub fn new(bench: &'static str, headers: &[&str]) -> Self {
        Self {
            bench,
            busy_before: None,
            foreign: ForeignCpu::start(),
            started_s: elapsed_s(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
            figures: Map::new(),
            targets: Map::new(),
        }
    }

    /// Adds a table row (also shown on stderr at once, as progress).
    pub fn row(&mut self, cells: Vec<String>) {
        progress!("{}", cells.join(" | "));
        self.rows.push(cells);
    }

    /// A line printed under the table (skipped peers, how a figure was taken).
    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        progress!("note: {note}");
        self.notes.push(note);
    }

    /// Waits (bounded) for a quiet machine and keeps how busy it was.
    pub fn wait_for_quiet(&mut self, args: &Args) {
        let busy = wait_for_quiet(std::time::Duration::from_secs(args.pick(120, 5)));
        if busy >= 0.10 {
            self.note(format!(
                "other processes kept the CPUs {:.0}% busy when measuring started",
                busy * 100.0
            ));
        }
        self.busy_before = Some(busy);
        self.foreign = ForeignCpu::start();
        self.started_s = elapsed_s();
    }

    pub fn figure(&mut self, key: &str, value: Value) {
        self.figures.insert(key.to_string(), value);
    }

    /// Records a figure against its target; `at_most` for costs, `!at_most` for rates.
    pub fn target(
        &mut self,
        key: &str,
        value: f64,
        target: f64,
        unit: &str,
        at_most: bool,
    ) -> Verdict {
        let met = if at_most {
            value <= target
        } else {
            value >= target
        };
        self.targets.insert(
            key.to_string(),
            json!({
                "value": stats::round4(value),
                "target": target,
                "unit": unit,
                "bound": if at_most { "at_most" } else { "at_least" },
                "met": met,
            }),
        );
        if met {
            Verdict::Met
        } else {
            Verdict::Missed
        }
    }

    /// Prints the table, the notes and, last, the JSON line.
    pub fn finish(mut self, args: &Args) {
        let foreign_s = self.foreign.seconds();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let foreign_share = foreign_s / ((elapsed_s() - self.started_s).max(0.001) * cores);
        if foreign_share >= 0.02 {
            self.note(format!(
                "other processes used {foreign_s:.1} CPU-seconds while this ran ({:.0}% of the machine): figures may be skewed",
                foreign_share * 100.0
            ));
        }
        println!();
        println!(
            "## {} ({})",
            self.bench,
            if args.quick { "quick" } else { "full" }
        );
        println!();
        println!("| {} |", self.headers.join(" | "));
        println!(
            "|{}",
            self.headers.iter().map(|_| "---|").collect::<String>()
        );
        for row in &self.rows {
            println!("| {} |", row.join(" | "));
        }
        if !self.notes.is_empty() {
            println!();
            for note in &self.notes {
                println!("- {note}");
            }
        }
        println!();
        let line = json!({
            "bench": self.bench,
            "quick": args.quick,
            "machine": machine(),
            "elapsed_s": stats::round2(elapsed_s()),
            "cpu_busy_before": self.busy_before.map(stats::round4),
            "foreign_cpu_s": stats::round2(foreign_s),
            "foreign_cpu_share": stats::round4(foreign_share),
            "loadavg_at_end": std::fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|l| l.split_whitespace().next().map(str::to_string)),
            "targets": self.targets,
            "figures": self.figures,
        });
        println!("{line}");
    }
}
