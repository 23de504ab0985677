//! `launch litellm`: LiteLLM's own arguments read for its config and port, and the temporary
//! copy of the config, with each model's `api_base` through llmscope, that LiteLLM is given in
//! place of the user's file (which is only read).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::agents::{LitellmSetup, Route, LITELLM_PORT};

/// LiteLLM wired for one run: its arguments with the copy in place of the config, and the
/// copy's directory, removed when this is dropped.
pub(super) struct LitellmRun {
    pub setup: LitellmSetup,
    pub route: Route,
    /// LiteLLM's arguments, the copy's path in place of the user's config.
    pub args: Vec<String>,
    config: String,
    user_path: PathBuf,
    copy: TempCopy,
}

/// The value of `--NAME VALUE`, `--NAME=VALUE` or the short `-S VALUE` among `args`, and the
/// index of the value.
fn option(args: &[String], long: &str, short: Option<&str>) -> Option<(usize, String)> {
    let eq = format!("{long}=");
    args.iter().enumerate().find_map(|(i, arg)| {
        if arg == long || Some(arg.as_str()) == short {
            return Some((i + 1, args.get(i + 1)?.clone()));
        }
        arg.strip_prefix(&eq).map(|v| (i, v.to_string()))
    })
}

impl LitellmRun {
    /// Reads `--config FILE` (and `--port`, `--host`) from LiteLLM's arguments.
    pub fn prepare(args: &[String]) -> Result<Self> {
        let Some((at, path)) = option(args, "--config", Some("-c")) else {
            bail!(
                "`launch litellm` needs LiteLLM's config to route its providers through \
                 llmscope: `llmscope launch litellm -- --config FILE`"
            );
        };
        let user_path = PathBuf::from(&path);
        let config = std::fs::read_to_string(&user_path)
            .with_context(|| format!("reading LiteLLM's config {path}"))?;
        let setup = LitellmSetup::from_config(&config)?;
        let port = match option(args, "--port", None) {
            Some((_, port)) => port
                .parse::<u16>()
                .with_context(|| format!("LiteLLM's --port {port:?} is not a port"))?,
            None => LITELLM_PORT,
        };
        // LiteLLM bound to every address is reached on loopback.
        let host = match option(args, "--host", None) {
            Some((_, host)) if !matches!(host.as_str(), "0.0.0.0" | "::" | "[::]" | "") => {
                if host.contains(':') && !host.starts_with('[') {
                    format!("[{host}]")
                } else {
                    host
                }
            }
            _ => "127.0.0.1".into(),
        };
        let copy = TempCopy::new(&user_path)?;
        let mut args = args.to_vec();
        let copy_path = copy.path.display().to_string();
        args[at] = if args[at].starts_with("--config=") {
            format!("--config={copy_path}")
        } else {
            copy_path
        };
        let route = Route {
            upstream: format!("http://{host}:{port}"),
            agent_path: String::new(),
            source: "the LiteLLM started here".into(),
        };
        Ok(Self {
            setup,
            route,
            args,
            config,
            user_path,
            copy,
        })
    }

    /// Writes the copy with the overrides for an llmscope listening on `listen`.
    pub fn write_copy(&self, listen: SocketAddr) -> Result<()> {
        self.copy
            .write(&self.setup.rewrite(&self.config, listen))
            .with_context(|| format!("writing the copy {}", self.copy.path.display()))
    }

    /// Said before LiteLLM starts: the providers, the overrides and where the agent goes.
    pub fn notes(&self, listen: SocketAddr) -> Vec<String> {
        let mut notes = vec![format!(
            "LiteLLM reads {}, a copy of {} with these api_base overrides (yours is not written):",
            self.copy.path.display(),
            self.user_path.display()
        )];
        notes.extend(
            self.setup
                .override_lines(listen)
                .into_iter()
                .map(|l| format!("  {l}")),
        );
        notes.extend(self.setup.providers.iter().map(|p| {
            format!(
                "provider {}: http://{listen}/provider/{} -> {}",
                p.name, p.name, p.url
            )
        }));
        notes.push(format!(
            "point the agent at llmscope, not LiteLLM: http://{listen}/v1 for OpenAI's API \
             (`eval \"$(llmscope env openai-compatible --listen {listen})\"`), http://{listen} \
             for Anthropic's"
        ));
        notes
    }
}

/// A private directory holding the copy, removed with it.
struct TempCopy {
    dir: PathBuf,
    path: PathBuf,
}

impl TempCopy {
    fn new(user_path: &Path) -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("llmscope-litellm-{}-{nanos}", std::process::id()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(&dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        let name = user_path
            .file_name()
            .map_or_else(|| "config.yaml".into(), |n| n.to_os_string());
        Ok(Self {
            path: dir.join(name),
            dir,
        })
    }

    fn write(&self, text: &str) -> std::io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // The config may hold API keys.
            options.mode(0o600);
        }
        options.open(&self.path)?.write_all(text.as_bytes())
    }
}

impl Drop for TempCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
