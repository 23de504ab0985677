//! The real `llmscope record` binary as a child process: its address and session from the
//! banner, every line it prints on stdout and stderr, and the ways to stop it (SIGTERM as a
//! user's Ctrl-C would, or `kill -9`).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use llmscope::capture::SessionId;

use super::WAIT;

/// Which of the child's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

pub struct Recorder {
    pub child: Child,
    /// Everything printed so far, both streams, in arrival order per stream.
    printed: Arc<Mutex<Vec<(Stream, String)>>>,
    /// Per stream, how far [`line_containing`](Self::line_containing) has read `printed`.
    read_up_to: Mutex<[usize; 2]>,
    pub url: String,
    pub session: SessionId,
}

impl Recorder {
    pub fn start(upstream: &str, data_dir: &Path) -> Self {
        Self::start_with(upstream, data_dir, &["--listen", "127.0.0.1:0"])
    }

    /// Starts `record` with `extra` flags (which must include a `--listen`).
    pub fn start_with(upstream: &str, data_dir: &Path, extra: &[&str]) -> Self {
        let mut args = vec!["--upstream", upstream];
        args.extend_from_slice(extra);
        Self::start_args(&args, data_dir)
    }

    /// Starts `record` with exactly `args` (which must include a `--listen`) and the data dir.
    pub fn start_args(args: &[&str], data_dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_llmscope"))
            .arg("record")
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("llmscope starts");
        let printed = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout piped");
        let stderr = child.stderr.take().expect("stderr piped");
        forward_lines(stdout, Stream::Stdout, printed.clone());
        forward_lines(stderr, Stream::Stderr, printed.clone());
        let mut recorder = Self {
            child,
            printed,
            read_up_to: Mutex::new([0, 0]),
            url: String::new(),
            session: SessionId(0),
        };
        // "llmscope recording: http://ADDR -> UPSTREAM  (session N, data in DIR)"
        let banner = recorder.line_containing(Stream::Stdout, "llmscope recording:");
        recorder.url = banner
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("address in banner")
            .to_string();
        recorder.session = banner
            .split("(session ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .map(SessionId)
            .expect("session id in banner");
        recorder
    }

    /// The next line on `stream`, after the last one this returned, that contains `needle`;
    /// waits at most [`WAIT`] for it to be printed.
    pub fn line_containing(&self, stream: Stream, needle: &str) -> String {
        let slot = stream as usize;
        let deadline = Instant::now() + WAIT;
        loop {
            {
                let printed = self.printed.lock().unwrap_or_else(|e| e.into_inner());
                let mut read_up_to = self.read_up_to.lock().unwrap_or_else(|e| e.into_inner());
                let found = printed
                    .iter()
                    .enumerate()
                    .skip(read_up_to[slot])
                    .find(|(_, (from, line))| *from == stream && line.contains(needle));
                if let Some((at, (_, line))) = found {
                    read_up_to[slot] = at + 1;
                    return line.clone();
                }
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "no {stream:?} line containing {needle:?}; printed so far:\n{}",
            self.printed().join("\n")
        );
    }

    /// Every line printed so far on either stream.
    pub fn printed(&self) -> Vec<String> {
        self.printed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(_, line)| line.clone())
            .collect()
    }

    /// Stops it as Ctrl-C would (SIGTERM), so it finishes its session; waits for the exit.
    pub fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM sent");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                assert!(status.success(), "record exits cleanly: {status:?}");
                break;
            }
            assert!(Instant::now() < deadline, "record stops after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The output threads end with the pipes; give them a moment to hand over the rest.
        std::thread::sleep(Duration::from_millis(50));
    }

    /// `kill -9`: the process ends at once, with whatever it had in flight.
    pub fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn forward_lines(
    from: impl Read + Send + 'static,
    stream: Stream,
    printed: Arc<Mutex<Vec<(Stream, String)>>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            if stream == Stream::Stderr {
                // Shown with the test's output when it fails.
                eprintln!("[llmscope stderr] {line}");
            }
            printed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((stream, line));
        }
    });
}

/// Runs a one-shot `llmscope` command (`sessions`, `export`, …) on `data_dir` and returns its
/// output, failing the test with its stderr when it does not succeed.
pub fn run_llmscope(args: &[&str], data_dir: &Path) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_llmscope"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("llmscope runs");
    assert!(
        out.status.success(),
        "llmscope {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
