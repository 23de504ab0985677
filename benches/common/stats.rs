//! Percentiles of measured durations, kept as nanoseconds.

use std::time::Duration;

/// Raw samples; percentiles are taken by nearest rank over a sorted copy.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    ns: Vec<u64>,
}

impl Samples {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            ns: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, d: Duration) {
        self.ns
            .push(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    pub fn push_ns(&mut self, ns: u64) {
        self.ns.push(ns);
    }

    pub fn extend(&mut self, other: &Samples) {
        self.ns.extend_from_slice(&other.ns);
    }

    pub fn len(&self) -> usize {
        self.ns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ns.is_empty()
    }

    pub fn summary(&self) -> Summary {
        let mut sorted = self.ns.clone();
        sorted.sort_unstable();
        let n = sorted.len();
        let at = |p: f64| -> f64 {
            if n == 0 {
                return f64::NAN;
            }
            // Nearest rank: the smallest sample with at least p of the samples at or below it.
            let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
            sorted[rank - 1] as f64 / 1000.0
        };
        let mean = if n == 0 {
            f64::NAN
        } else {
            sorted.iter().map(|&v| v as f64).sum::<f64>() / n as f64 / 1000.0
        };
        Summary {
            n,
            p50_us: at(0.50),
            p90_us: at(0.90),
            p99_us: at(0.99),
            max_us: at(1.0),
            mean_us: mean,
        }
    }
}

/// Percentiles in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub n: usize,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

impl Summary {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "n": self.n,
            "p50_us": round2(self.p50_us),
            "p90_us": round2(self.p90_us),
            "p99_us": round2(self.p99_us),
            "max_us": round2(self.max_us),
            "mean_us": round2(self.mean_us),
        })
    }
}

pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

pub fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// `1234.5` µs as `1.23 ms`, `12.3` µs as `12.3 µs`.
pub fn fmt_us(us: f64) -> String {
    if us.is_nan() {
        "—".to_string()
    } else if us.abs() >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else if us.abs() >= 100.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.1} µs")
    }
}

pub fn fmt_bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.1} MiB", n as f64 / 1_048_576.0),
        _ => format!("{:.2} GiB", n as f64 / 1_073_741_824.0),
    }
}
