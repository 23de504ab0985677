//! Shared by the benchmark binaries (`proxy`, `store`, `frame`): command-line flags, the
//! report (a Markdown table on stdout, then one line of JSON), a process-wide clock, and the
//! pieces each bench is built from: a fast fake upstream, a load generator, agent-like bodies,
//! the peers (llmscope's binary, nginx, mitmdump, claude-tap) and statistics.
//!
//! Every loop here is bounded in count and in time, and every socket is on 127.0.0.1.
#![allow(dead_code)]

pub mod agent;
pub mod http;
pub mod peers;
pub mod stats;
pub mod upstream;

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
    pub fn finish(self, args: &Args) {
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
            "targets": self.targets,
            "figures": self.figures,
        });
        println!("{line}");
    }
}
