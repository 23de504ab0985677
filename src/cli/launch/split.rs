//! `launch` inside tmux: the live screen in a new pane beside the agent's, the agent in the
//! foreground of this one, pointed at the screen's proxy.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::{exit_code, start_agent, Plan, Signals};
use crate::cli::ProxyArgs;

/// How long the screen may take to start listening before launch gives up on it.
const SCREEN_START: Duration = Duration::from_secs(10);

pub(super) async fn run(mut proxy: ProxyArgs, plan: Plan) -> Result<i32> {
    let signals = Signals::register()?;
    // The screen runs in another process, so the agent needs its port before it binds; and
    // a port already taken would pass the readiness check below with someone else's server.
    proxy.listen = free_port(proxy.listen).await?;
    let listen = proxy.listen;
    let data_dir = proxy.data.resolve()?;
    let exe = std::env::current_exe().context("finding llmscope's own program")?;
    // The pane starts from the tmux server's environment, not ours: every setting goes on
    // the command line.
    let screen = screen_args(&proxy, &data_dir);
    if !proxy.otlp_headers.is_empty() {
        // On the pane's command line the collector's credentials would show in `ps`.
        eprintln!(
            "llmscope: --otlp-header is not passed to the screen's pane; set \
             OTEL_EXPORTER_OTLP_HEADERS in tmux's environment, or use --no-split"
        );
    }
    let split = tokio::task::spawn_blocking(move || {
        std::process::Command::new("tmux")
            .args(["split-window", "-h", "-d", "-P", "-F", "#{pane_id}", "--"])
            .arg(exe)
            .args(screen)
            .output()
    })
    .await
    .context("splitting the tmux window")?
    .context("running tmux split-window")?;
    if !split.status.success() {
        bail!(
            "tmux could not split the window ({}); --no-split runs without the screen",
            String::from_utf8_lossy(&split.stderr).trim()
        );
    }
    let pane = String::from_utf8_lossy(&split.stdout).trim().to_string();
    if !listening(listen).await {
        bail!(
            "the screen in tmux pane {pane} did not start listening on {listen} (is the port \
             taken? --listen picks another); --no-split runs without the screen"
        );
    }
    plan.announce(listen, &format!("; the live screen is in tmux pane {pane}"));
    let (child, plan) = tokio::task::spawn_blocking(move || start_agent(plan, listen))
        .await
        .context("starting the agent")??;
    let status = signals.wait_for(child).await;
    // Only now: the plan holds files the agent reads (LiteLLM's config copy).
    drop(plan);
    let status = status?;
    eprintln!(
        "llmscope: the agent is done; the screen in pane {pane} keeps the session: q there \
         closes it, `llmscope open` browses it later"
    );
    Ok(exit_code(status))
}

/// `listen` if it is free (a free port of its address for port 0).
async fn free_port(listen: SocketAddr) -> Result<SocketAddr> {
    let probe = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("{listen} is taken (another llmscope?); --listen picks another address")
        })?;
    probe.local_addr().context("reading the free port")
}

/// Whether something accepts connections on `listen` within [`SCREEN_START`].
async fn listening(listen: SocketAddr) -> bool {
    let attempts = async {
        while tokio::net::TcpStream::connect(listen).await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(SCREEN_START, attempts).await.is_ok()
}

/// The screen's command line: the same proxy settings `launch` was given.
fn screen_args(p: &ProxyArgs, data_dir: &Path) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    let mut flag = |name: &str, value: String| {
        args.push(format!("--{name}"));
        args.push(value);
    };
    for upstream in &p.upstream {
        flag("upstream", upstream.clone());
    }
    if p.mode() == super::super::mode::Mode::Forward {
        flag("mode", "forward".into());
    }
    for host in &p.intercept_hosts {
        flag("intercept-host", host.clone());
    }
    flag("listen", p.listen.to_string());
    flag("data-dir", data_dir.display().to_string());
    flag("connect-timeout", p.connect_timeout.to_string());
    flag("idle-timeout", p.idle_timeout.to_string());
    flag("header-timeout", p.header_timeout.to_string());
    flag("max-request-bytes", p.max_request_bytes.to_string());
    flag("max-capture-bytes", p.max_capture_bytes.to_string());
    flag("hold-timeout", p.hold_timeout.to_string());
    flag("stop-loops-after", p.stop_loops_after.to_string());
    flag(
        "stop-transient-loops-after",
        p.stop_transient_loops_after.to_string(),
    );
    if let Some(pattern) = &p.intercept {
        flag("intercept", pattern.clone());
    }
    if let Some(ca) = &p.upstream_ca {
        flag("upstream-ca", ca.display().to_string());
    }
    for provider in &p.providers {
        flag("provider", provider.clone());
    }
    if let Some(otlp) = &p.otlp {
        flag("otlp", otlp.clone());
    }
    let switches = [
        ("--hold-errors", p.hold_errors),
        ("--auto-fix", p.auto_fix),
        ("--exact-replies", p.exact_replies),
        ("--otlp-bodies", p.otlp_bodies),
    ];
    args.extend(
        switches
            .iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| name.to_string()),
    );
    args
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::screen_args;
    use crate::cli::Cli;

    #[test]
    fn the_screen_gets_the_proxy_settings_launch_was_given() {
        let launch = [
            "llmscope",
            "launch",
            "claude",
            "--upstream",
            "http://gw:4000",
            "--listen",
            "127.0.0.1:8799",
            "--hold-errors",
            "--auto-fix",
            "--intercept",
            "messages",
            "--hold-timeout",
            "30",
            "--stop-loops-after",
            "0",
            "--provider",
            "openai=https://api.openai.com",
            "--otlp",
            "http://localhost:4318",
            "--otlp-bodies",
        ];
        let Some(crate::cli::Command::Launch(args)) =
            Cli::try_parse_from(launch).expect("parses").command
        else {
            panic!("not launch");
        };
        let screen = screen_args(&args.proxy, std::path::Path::new("/d"));
        let cli = Cli::try_parse_from(std::iter::once("llmscope".to_string()).chain(screen))
            .expect("the screen's command line parses");
        let p = cli.proxy;
        assert_eq!(p.upstream, ["http://gw:4000"]);
        assert_eq!(p.listen.to_string(), "127.0.0.1:8799");
        assert_eq!(p.data.data_dir.as_deref(), Some(std::path::Path::new("/d")));
        assert!(p.hold_errors && p.auto_fix && !p.exact_replies);
        assert_eq!(p.intercept.as_deref(), Some("messages"));
        assert_eq!((p.hold_timeout, p.stop_loops_after), (30, 0));
        assert_eq!(p.providers, ["openai=https://api.openai.com"]);
        assert_eq!(p.otlp.as_deref(), Some("http://localhost:4318"));
        assert!(p.otlp_bodies);
    }
}
