//! Durations, counts and clock times as the views print them.

use chrono::{Local, TimeZone};

/// `850 ms`, `2.4 s`, `3 m 05 s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} m {:02} s", ms / 60_000, (ms / 1000) % 60),
    }
}

/// Compact latency for the list column: `850ms`, `2.4s`, `3m05s`.
pub fn latency(ms: u64) -> String {
    duration(ms).replace(' ', "")
}

/// `45`, `1.2k`, `32k`, `1.5M`.
pub fn count(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=9_999 => format!("{:.1}k", n as f64 / 1000.0),
        10_000..=999_999 => format!("{}k", n / 1000),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

/// `512 B`, `30.7 KB`, `2.0 MB`.
pub fn bytes(n: u64) -> String {
    match n {
        0..=999 => format!("{n} B"),
        1_000..=999_999 => format!("{:.1} KB", n as f64 / 1000.0),
        _ => format!("{:.1} MB", n as f64 / 1_000_000.0),
    }
}

/// Local wall-clock time of a Unix-ms instant, `HH:MM:SS`.
pub fn clock(unix_ms: i64) -> String {
    Local.timestamp_millis_opt(unix_ms).single().map_or_else(
        || "--:--:--".to_string(),
        |t| t.format("%H:%M:%S").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_naturally() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(2_400), "2.4 s");
        assert_eq!(duration(185_000), "3 m 05 s");
        assert_eq!(latency(2_400), "2.4s");
        assert_eq!(
            (count(45), count(1_234), count(32_000)),
            ("45".into(), "1.2k".into(), "32k".into())
        );
        assert_eq!(bytes(30_700), "30.7 KB");
        assert_eq!(clock(0).len(), 8);
    }
}
