//! `llmscope launch AGENT [-- AGENT-ARGS]`: a headless recording proxy and the agent as a
//! child process pointed at it; the session ends when the agent does, with its exit code.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ExitStatus};

use anyhow::{bail, Context, Result};
use clap::Args;

use super::mode::Mode;
use super::record::warn_if_exposed;
use super::{runtime, ProxyArgs};
use crate::agents::{
    default_route, opencode_overlay, subscription_login, wiring, Agent, Lookup, OpencodeSetup,
    Route, SignedIn,
};
use crate::capture::SessionId;
use crate::fix::count;
use crate::recorder::Recording;

mod forward_env;
mod litellm;
mod split;

use forward_env::ForwardEnv;
use litellm::LitellmRun;

#[derive(Debug, Clone, Args)]
pub struct LaunchArgs {
    /// opencode, claude, codex, gemini, aider, openai, anthropic, openai-compatible or litellm.
    /// Without --upstream the agent's calls go where they went before: the base URL already
    /// set for it, else its API's public endpoint (https://api.anthropic.com,
    /// https://api.openai.com, https://generativelanguage.googleapis.com). `litellm -- --config
    /// FILE` runs LiteLLM's proxy on a copy of FILE whose providers go through llmscope
    pub agent: String,
    /// Run this program instead of the agent's usual one. For openai, anthropic and
    /// openai-compatible the command after `--` is the program
    #[arg(long, value_name = "PROGRAM")]
    pub command: Option<String>,
    /// Inside tmux, keep the screen out of it: run headless as outside tmux
    #[arg(long)]
    pub no_split: bool,
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// The agent's own arguments, after `--`
    #[arg(last = true, value_name = "AGENT-ARGS")]
    pub agent_args: Vec<String>,
}

/// What is known before the proxy starts: where it forwards and what it runs.
pub(super) struct Plan {
    pub agent: Agent,
    pub route: Route,
    opencode: Option<OpencodeSetup>,
    litellm: Option<LitellmRun>,
    program: String,
    args: Vec<String>,
    /// Set in forward mode: the agent gets llmscope as its proxy instead of a base URL.
    forward: Option<ForwardEnv>,
    /// The agent's subscription login, found when neither `--mode` nor `--upstream` was given.
    signed_in: Option<SignedIn>,
}

/// The real environment and files, read-only.
fn with_real_lookup<T>(f: impl FnOnce(&Lookup) -> T) -> T {
    let env = |name: &str| std::env::var(name).ok();
    let read = |path: &Path| std::fs::read_to_string(path).ok();
    f(&Lookup {
        env: &env,
        read: &read,
    })
}

fn plan(args: &LaunchArgs) -> Result<Plan> {
    let agent = Agent::parse(&args.agent)?;
    let mut rest = args.agent_args.clone();
    let program = match (&args.command, agent.program()) {
        (Some(command), _) => command.clone(),
        (None, Some(program)) => program.to_string(),
        (None, None) if !rest.is_empty() => rest.remove(0),
        (None, None) => bail!(
            "`launch {}` needs the command to run after `--`, e.g. \
             `llmscope launch {} -- python app.py`",
            agent.name(),
            agent.name()
        ),
    };
    let upstream = args.proxy.plain_upstream()?;
    if agent == Agent::Litellm {
        if upstream.is_some() {
            bail!("`launch litellm` forwards the agent's calls to the LiteLLM it starts: drop --upstream");
        }
        let run = LitellmRun::prepare(&rest)?;
        return Ok(Plan {
            agent,
            route: run.route.clone(),
            opencode: None,
            program,
            args: run.args.clone(),
            litellm: Some(run),
            forward: None,
            signed_in: None,
        });
    }
    let undecided = args.proxy.mode.is_none() && upstream.is_none();
    let (route, opencode, signed_in) = with_real_lookup(|lookup| -> Result<_> {
        if agent == Agent::Opencode {
            let setup = opencode_overlay(upstream, &rest, lookup)?;
            return Ok((setup.route.clone(), Some(setup), None));
        }
        let route = match upstream {
            Some(url) => Route::given(url, agent.api()),
            None => default_route(agent, lookup)?,
        };
        let signed_in = undecided
            .then(|| subscription_login(agent, lookup))
            .flatten();
        Ok((route, None, signed_in))
    })?;
    Ok(Plan {
        agent,
        route,
        opencode,
        litellm: None,
        program,
        args: rest,
        forward: None,
        signed_in,
    })
}

impl Plan {
    /// The `--provider`s the agent's own setup needs besides the user's.
    fn providers(&self) -> Vec<String> {
        self.litellm
            .as_ref()
            .map(|run| run.setup.provider_flags())
            .unwrap_or_default()
    }

    /// The first lines a launch prints: where the agent's calls go and why, then the notes;
    /// `then` ends the first line (the session, or the pane of the screen).
    pub(super) fn announce(&self, listen: SocketAddr, then: &str) {
        if self.forward.is_some() {
            if let Some(SignedIn(why)) = &self.signed_in {
                eprintln!(
                    "llmscope: {why}: llmscope runs as its HTTPS proxy (--mode reverse gives \
                     it a base URL instead)"
                );
            }
            eprintln!(
                "llmscope: {} -> HTTPS_PROXY=http://{listen} (forward mode: it trusts llmscope's \
                 CA; its calls to the LLM hosts are recorded, other hosts tunnelled){then}",
                self.agent.name(),
            );
            return;
        }
        eprintln!(
            "llmscope: {} -> http://{listen} -> {} (upstream: {}){then}",
            self.agent.name(),
            self.route.upstream,
            self.route.source,
        );
        for note in self.notes(listen) {
            eprintln!("llmscope: {note}");
        }
    }

    pub(super) fn notes(&self, listen: SocketAddr) -> Vec<String> {
        let opencode = self.opencode.iter().flat_map(|s| s.notes.iter().cloned());
        let litellm = self.litellm.iter().flat_map(|run| run.notes(listen));
        opencode.chain(litellm).collect()
    }
}

pub fn run(args: LaunchArgs) -> Result<()> {
    use std::io::IsTerminal;
    // The screen needs a terminal of its own: a tmux pane beside the agent's.
    let split = std::env::var_os("TMUX").is_some()
        && !args.no_split
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    let mut plan = plan(&args)?;
    let mut proxy = args.proxy.clone();
    let mode = match (args.proxy.mode, &plan.signed_in) {
        (Some(mode), _) => mode,
        (None, Some(_)) => Mode::Forward,
        (None, None) => Mode::Reverse,
    };
    proxy.mode = Some(mode);
    if mode == Mode::Forward {
        if plan.litellm.is_some() {
            bail!("`launch litellm` puts llmscope behind LiteLLM itself: drop --mode forward");
        }
        plan.forward = Some(ForwardEnv::prepare(&args.proxy.data.resolve()?)?);
    } else {
        proxy.set_plain_upstream(plan.route.upstream.clone());
    }
    proxy.providers.extend(plan.providers());
    let mut code = 0;
    runtime::block_on(async {
        code = if split {
            split::run(proxy, plan).await?
        } else {
            serve_and_run(proxy, plan, args.proxy.data.data_dir.is_some()).await?
        };
        Ok(())
    })?;
    if code != 0 {
        // The agent's exit code is llmscope's, after the session has been closed.
        std::process::exit(code);
    }
    Ok(())
}

async fn serve_and_run(proxy: ProxyArgs, plan: Plan, custom_data_dir: bool) -> Result<i32> {
    // Registered before the agent starts: a Ctrl-C meant for the agent reaches llmscope too
    // (same process group) and must not end the recording under it.
    let signals = Signals::register()?;
    let config = proxy.proxy_config()?;
    let data_dir = proxy.data.resolve()?;
    warn_if_exposed(&config.listen);
    let otlp = proxy.otlp_settings()?;
    let recording = Recording::start_exporting(config, &data_dir, "launch", otlp.as_ref()).await?;
    if let Some(moved) = &recording.moved_aside {
        eprintln!(
            "llmscope: the session database was damaged; it was moved to {} and a new one started",
            moved.display()
        );
    }
    let listen = recording.local_addr();
    let session = recording.session;
    let attach = super::record::attach_command(custom_data_dir.then_some(data_dir.as_path()));
    plan.announce(
        listen,
        &format!(", recording session {session}; open the screen from another terminal: {attach}"),
    );
    if let Some(pattern) = &proxy.intercept {
        // The agent has this terminal: the paused requests are sent from a second screen.
        if let Err(error) = recording.attach() {
            bail!(
                "--intercept needs a screen to edit and send the paused requests, and this \
                 session cannot serve one: {error}"
            );
        }
        eprintln!(
            "llmscope: requests matching `{pattern}` wait for `{attach}` to edit and send them \
             (unchanged after {} s)",
            proxy.hold_timeout
        );
    }
    let reader = recording.connect_reader().await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(recording.serve_until(async {
        let _ = stopped.await;
    }));
    let agent_name = plan.agent.name();
    let started = tokio::task::spawn_blocking(move || start_agent(plan, listen))
        .await
        .context("starting the agent")?;
    let outcome = match started {
        Ok((child, plan)) => {
            let status = signals.wait_for(child).await;
            // Only now: the plan holds files the agent reads (LiteLLM's config copy).
            drop(plan);
            status
        }
        Err(error) => Err(error),
    };
    let _ = stop.send(());
    serving
        .await
        .context("stopping the proxy")?
        .context("closing the session")?;
    let status = outcome?;
    eprintln!(
        "{}",
        summary(reader, session, custom_data_dir, &data_dir).await
    );
    let code = exit_code(status);
    if code != 0 {
        eprintln!("llmscope: {agent_name} exited with {code}");
    }
    Ok(code)
}

/// Spawns the agent with llmscope's base URL in its environment or arguments, inheriting the
/// terminal. Blocking (it reads the agent's config and forks), so run off the runtime. The plan
/// comes back, to be kept until the agent exits.
pub(super) fn start_agent(plan: Plan, listen: SocketAddr) -> Result<(Child, Plan)> {
    let base = plan.route.agent_base(listen);
    if let Some(run) = &plan.litellm {
        run.write_copy(listen)?;
    }
    let mut command = std::process::Command::new(&plan.program);
    if let Some(forward) = &plan.forward {
        command.envs(forward.vars(listen)).args(&plan.args);
    } else {
        let wired = with_real_lookup(|lookup| wiring(plan.agent, &base, lookup));
        command.envs(wired.env).args(wired.args).args(&plan.args);
        if let Some(setup) = &plan.opencode {
            command.env("OPENCODE_CONFIG_CONTENT", setup.config_content(listen));
        }
    }
    let child = command.spawn().with_context(|| {
        format!(
            "starting `{}` (is it installed and on PATH? --command PROGRAM runs another)",
            plan.program
        )
    })?;
    Ok((child, plan))
}

/// How a shell would report the agent's end: its code, or 128 + the signal that ended it.
pub(super) fn exit_code(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}

/// One line on what was recorded and how to browse it.
async fn summary(
    reader: crate::store::Store,
    session: SessionId,
    custom_data_dir: bool,
    data_dir: &Path,
) -> String {
    let sessions = tokio::task::spawn_blocking(move || reader.list_sessions()).await;
    let counts = match sessions {
        Ok(Ok(list)) => list.into_iter().find(|s| s.id == session).map(|s| {
            let exchanges = count(s.exchanges as usize, "exchange", "exchanges");
            let errors = count(s.errors as usize, "error", "errors");
            format!("{exchanges}, {errors}")
        }),
        _ => None,
    };
    let dir = if custom_data_dir {
        format!(" --data-dir {}", data_dir.display())
    } else {
        String::new()
    };
    format!(
        "llmscope: session {session} closed ({}); browse it with `llmscope open {session}{dir}`",
        counts.unwrap_or_else(|| "not counted".into())
    )
}

/// The signals llmscope receives while the agent runs in the foreground.
pub(super) struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    pub(super) fn register() -> Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind| signal(kind).context("listening for signals");
        Ok(Self {
            interrupt: listen(SignalKind::interrupt())?,
            terminate: listen(SignalKind::terminate())?,
            hangup: listen(SignalKind::hangup())?,
        })
    }

    #[cfg(not(unix))]
    pub(super) fn register() -> Result<Self> {
        Ok(Self {})
    }

    /// Waits for the agent to exit. A Ctrl-C is the agent's to handle; a SIGTERM or SIGHUP
    /// sent to llmscope alone is passed on, so the agent ends first and the session closes.
    #[cfg(unix)]
    pub(super) async fn wait_for(mut self, mut child: Child) -> Result<ExitStatus> {
        let pid = libc::pid_t::try_from(child.id()).ok();
        let mut waiting = tokio::task::spawn_blocking(move || child.wait());
        loop {
            let forward = tokio::select! {
                status = &mut waiting => {
                    return status
                        .context("waiting for the agent")?
                        .context("waiting for the agent");
                }
                _ = self.interrupt.recv() => None,
                _ = self.terminate.recv() => Some(libc::SIGTERM),
                _ = self.hangup.recv() => Some(libc::SIGHUP),
            };
            if let (Some(signal), Some(pid)) = (forward, pid) {
                // SAFETY: kill(2) on our own child, not reaped yet (`wait` has not returned),
                // so the pid cannot name another process.
                unsafe {
                    libc::kill(pid, signal);
                }
            }
        }
    }

    #[cfg(not(unix))]
    pub(super) async fn wait_for(self, mut child: Child) -> Result<ExitStatus> {
        tokio::task::spawn_blocking(move || child.wait())
            .await
            .context("waiting for the agent")?
            .context("waiting for the agent")
    }
}
