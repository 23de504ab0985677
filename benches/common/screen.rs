//! The release binary's screen in a pseudo-terminal (120×40), read back through a terminal
//! emulator: how long until a screen shows what the user asked for, and what memory the
//! process holds then.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

/// What a first frame cost.
pub struct FirstFrame {
    /// From starting the process to the screen showing the awaited text.
    pub elapsed: Duration,
    /// VmRSS and VmHWM of the process right then, in KiB.
    pub rss_kib: Option<u64>,
    pub hwm_kib: Option<u64>,
    /// CPU time (user + system) the process had used by then: what the first frame cost,
    /// however loaded the machine was.
    pub cpu: Option<Duration>,
}

/// Runs `llmscope ARGS` in a pseudo-terminal until the screen shows `marker`, then quits it
/// with `q`. `Err` when it never shows it within `limit`.
pub fn first_frame(
    args: &[&str],
    data_dir: &Path,
    marker: &str,
    limit: Duration,
) -> Result<FirstFrame, String> {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| format!("no pseudo-terminal: {e}"))?;
    let mut command = CommandBuilder::new(super::peers::llmscope_bin());
    command.args(args);
    command.arg("--data-dir");
    command.arg(data_dir);
    command.env("TERM", "xterm-256color");
    let started = Instant::now();
    let mut child = pty
        .slave
        .spawn_command(command)
        .map_err(|e| format!("llmscope does not start: {e}"))?;
    drop(pty.slave);
    let parser = Arc::new(Mutex::new(vt100::Parser::new(40, 120, 0)));
    let mut reader = pty
        .master
        .try_clone_reader()
        .map_err(|e| format!("pty reader: {e}"))?;
    let feed = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut parser) = feed.lock() {
                parser.process(&buf[..n]);
            }
        }
    });
    let shown = loop {
        let text = parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default();
        if text.contains(marker) {
            break Ok(started.elapsed());
        }
        if started.elapsed() > limit {
            break Err(format!("the screen never showed {marker:?}:\n{text}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let pid = child.process_id();
    let cpu = pid.and_then(cpu_time);
    let status = pid
        .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
    };
    let (rss_kib, hwm_kib) = (field("VmRSS:"), field("VmHWM:"));
    let mut keys = pty
        .master
        .take_writer()
        .map_err(|e| format!("pty writer: {e}"))?;
    let _ = keys.write_all(b"q").and_then(|()| keys.flush());
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(FirstFrame {
        elapsed: shown?,
        rss_kib,
        hwm_kib,
        cpu,
    })
}

/// User + system time of a process from `/proc/PID/stat`, at the usual 100 ticks a second.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}
