//! The servers measured against the same upstream, each as a child process on loopback:
//! llmscope's own binary (`llmscope record`), nginx as a reverse proxy, and, when installed,
//! mitmdump and claude-tap. Each runs from a temporary directory of its own and is stopped
//! when its [`Peer`] is dropped.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a peer may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server between the load generator and the upstream.
pub struct Peer {
    pub name: &'static str,
    pub addr: SocketAddr,
    child: Child,
    dir: TempDir,
    /// Lines the child printed on stdout after its first (llmscope: one per exchange).
    lines: Arc<AtomicU64>,
}

/// The binary `cargo bench` built next to this bench (bench profile = release settings).
pub fn llmscope_bin() -> &'static str {
    env!("CARGO_BIN_EXE_llmscope")
}

/// Whether `program` is on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Peer {
    /// `llmscope record` in front of `upstream`, its session database in a fresh directory.
    pub fn llmscope(upstream: &str) -> Result<Self, String> {
        Self::llmscope_with_env(upstream, &[])
    }

    /// [`Peer::llmscope`] with extra environment variables (e.g. glibc malloc tunables).
    pub fn llmscope_with_env(upstream: &str, env: &[(&str, &str)]) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        let stderr =
            std::fs::File::create(dir.path().join("stderr.log")).map_err(|e| e.to_string())?;
        let mut child = Command::new(llmscope_bin())
            .args([
                "record",
                "--upstream",
                upstream,
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(&data)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", llmscope_bin()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(AtomicU64::new(0));
        let (first_tx, first_rx) = mpsc::channel::<String>();
        let counter = lines.clone();
        // Drains stdout for the life of the child: a full pipe would block its printer.
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let mut first = true;
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if first {
                    let _ = first_tx.send(line.clone());
                    first = false;
                } else if line.contains(" POST ") || line.contains(" GET ") {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                line.clear();
            }
        });
        let first = first_rx.recv_timeout(START_TIMEOUT).map_err(|_| {
            let _ = child.kill();
            format!(
                "llmscope printed no first line: {}",
                read_log(&dir.path().join("stderr.log"))
            )
        })?;
        let addr = first
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("no http://ADDR in llmscope's first line: {first:?}"))?;
        let peer = Self {
            name: "llmscope",
            addr,
            child,
            dir,
            lines,
        };
        peer.wait_listening()?;
        Ok(peer)
    }

    /// Starts `program` in a fresh temporary directory with a free port: `configure` adds its
    /// arguments (given the directory and the port); stdin and stdout are closed and stderr
    /// goes to `stderr.log` in the directory, shown if it never listens.
    fn launch(
        name: &'static str,
        program: impl AsRef<std::ffi::OsStr>,
        configure: impl FnOnce(&mut Command, &Path, u16) -> Result<(), String>,
    ) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = free_port().map_err(|e| e.to_string())?;
        let stderr =
            std::fs::File::create(dir.path().join("stderr.log")).map_err(|e| e.to_string())?;
        let mut command = Command::new(program);
        configure(&mut command, dir.path(), port)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Self::started(name, port, child, dir)
    }

    /// nginx as a reverse proxy with `proxy_buffering off`, keep-alive to the upstream and as
    /// many workers as cores: configured the way one would to make it fast.
    pub fn nginx(upstream: SocketAddr) -> Result<Self, String> {
        Self::launch("nginx", "nginx", |command, dir, port| {
            let d = dir.display();
            let user = if is_root() { "user root;\n" } else { "" };
            let conf = format!(
                "{user}worker_processes auto;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
                 events {{ worker_connections 4096; }}\n\
                 http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
                   fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
                   upstream fake {{ server {upstream}; keepalive 128; keepalive_requests 1000000; }}\n\
                   server {{\n    listen 127.0.0.1:{port};\n    client_max_body_size 64m;\n    keepalive_requests 1000000;\n\
                     location / {{\n      proxy_pass http://fake;\n      proxy_http_version 1.1;\n\
                       proxy_set_header Connection \"\";\n      proxy_buffering off;\n\
                       proxy_request_buffering off;\n    }}\n  }}\n}}\n"
            );
            let conf_path = dir.join("nginx.conf");
            std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
            command
                .arg("-p")
                .arg(dir)
                .arg("-c")
                .arg(&conf_path)
                .arg("-e")
                .arg(dir.join("error.log"));
            Ok(())
        })
    }

    /// The bare reqwest forwarder of `bare.rs`: this bench binary started again to serve it.
    pub fn bare_forwarder(upstream: &str) -> Result<Self, String> {
        Self::bare("hyper+reqwest", super::bare::SERVE_ARG, upstream)
    }

    /// The bare forwarder on hyper's own client (`bare.rs`).
    pub fn bare_hyper_forwarder(upstream: &str) -> Result<Self, String> {
        Self::bare("hyper+hyper-util", super::bare::SERVE_HYPER_ARG, upstream)
    }

    fn bare(name: &'static str, flag: &'static str, upstream: &str) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        Self::launch(name, exe, |command, _, port| {
            command.args([flag, upstream, &port.to_string()]);
            Ok(())
        })
    }

    /// `mitmdump --mode reverse:URL`, as its users run it.
    pub fn mitmdump(upstream: &str) -> Result<Self, String> {
        Self::launch("mitmdump", "mitmdump", |command, dir, port| {
            command
                .arg("--mode")
                .arg(format!("reverse:{upstream}"))
                .args([
                    "--listen-host",
                    "127.0.0.1",
                    "--listen-port",
                    &port.to_string(),
                    "-q",
                ])
                .arg("--set")
                .arg(format!("confdir={}", dir.join("conf").display()))
                .env("HOME", dir);
            Ok(())
        })
    }

    /// `claude-tap --tap-no-launch --tap-target URL`: its proxy only, traces in its temp dir.
    pub fn claude_tap(upstream: &str) -> Result<Self, String> {
        Self::launch("claude-tap", "claude-tap", |command, dir, port| {
            command
                .args(["--tap-no-launch", "--tap-target", upstream])
                .args(["--tap-host", "127.0.0.1", "--tap-port", &port.to_string()])
                .args(["--tap-no-open", "--tap-no-live"])
                .arg("--tap-output-dir")
                .arg(dir.join("traces"))
                .current_dir(dir)
                .env("HOME", dir);
            Ok(())
        })
    }

    fn started(name: &'static str, port: u16, child: Child, dir: TempDir) -> Result<Self, String> {
        let peer = Self {
            name,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child,
            dir,
            lines: Arc::new(AtomicU64::new(0)),
        };
        peer.wait_listening()?;
        Ok(peer)
    }

    fn wait_listening(&self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "{} did not listen on {} within {:?}: {}",
            self.name,
            self.addr,
            START_TIMEOUT,
            read_log(&self.dir.path().join("stderr.log"))
        ))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// llmscope's session database directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Waits until llmscope's database holds `expected` finished exchanges; how long that took,
    /// or `None` if not within `limit`.
    pub fn wait_store(&self, expected: u64, limit: Duration) -> Option<Duration> {
        let db = self.data_dir().join("llmscope.db");
        let conn =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .ok()?;
        let _ = conn.busy_timeout(Duration::from_secs(1));
        let start = Instant::now();
        while start.elapsed() < limit {
            let done: u64 = conn
                .query_row(
                    "SELECT count(*) FROM exchanges WHERE state = 'complete'",
                    [],
                    |r| r.get(0),
                )
                .unwrap_or(0);
            if done >= expected {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    /// Exchanges the store holds without their request body (its writer fell too far behind).
    pub fn bodies_unrecorded(&self) -> Option<u64> {
        let db = self.data_dir().join("llmscope.db");
        let conn =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .ok()?;
        let _ = conn.busy_timeout(Duration::from_secs(1));
        conn.query_row(
            "SELECT count(*) FROM exchanges WHERE request_body_captured IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .ok()
    }

    /// Exchanges `llmscope record` has logged.
    pub fn lines_logged(&self) -> u64 {
        self.lines.load(Ordering::Relaxed)
    }

    /// (VmRSS, VmHWM) of the process in KiB.
    pub fn memory_kib(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// CPU time (user + system) the peer has used so far, its child processes included
    /// (nginx's workers are children of its master).
    pub fn cpu_seconds(&self) -> Option<f64> {
        let pid = self.pid();
        let mut ticks = proc_ticks(pid)?.1;
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(child) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                else {
                    continue;
                };
                if let Some((ppid, t)) = proc_ticks(child) {
                    if ppid == pid {
                        ticks += t;
                    }
                }
            }
        }
        // USER_HZ is 100 on Linux whatever the kernel's HZ.
        Some(ticks as f64 / 100.0)
    }

    /// The child's stderr so far, for error messages.
    pub fn stderr_log(&self) -> String {
        read_log(&self.dir.path().join("stderr.log"))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(seconds) = self.cpu_seconds() {
            super::add_peer_cpu(seconds);
        }
        // SIGTERM first: nginx's master then stops its workers, and llmscope closes its session.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (parent pid, utime + stime in ticks) from /proc/PID/stat.
fn proc_ticks(pid: u32) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(0) ppid(1) ... utime(11) stime(12).
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"))
    })
}

fn read_log(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(5).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
}

/// Total bytes of the files under `dir`.
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
