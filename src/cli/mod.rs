//! The command line: flags, subcommands, and the glue that starts the proxy, the store and the
//! views for each. `main.rs` only parses and calls [`run`].

mod record;
mod runtime;
mod sessions;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::proxy::{ProxyConfig, Upstream};

/// See and fix every call between a coding agent and its LLM endpoint.
#[derive(Debug, Parser)]
#[command(name = "llmscope", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the proxy without a screen; print one line per finished exchange.
    Record(ProxyArgs),
    /// List recorded sessions, newest first.
    Sessions(DataDirArg),
}

/// Where the session database lives.
#[derive(Debug, Clone, Args)]
pub struct DataDirArg {
    /// Directory of the session database [default: the platform's data directory]
    #[arg(long, env = "LLMSCOPE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Flags of every command that runs the proxy.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// The real endpoint, e.g. https://litellm.internal:4000 (a path prefix is kept)
    #[arg(long, env = "LLMSCOPE_UPSTREAM", value_name = "URL")]
    pub upstream: String,
    /// Address the agent connects to. Binding beyond loopback lets anyone who reaches the
    /// port use your upstream credentials.
    #[arg(long, env = "LLMSCOPE_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub data: DataDirArg,
    /// Seconds allowed to connect to the upstream
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub connect_timeout: u64,
    /// Longest silence from the upstream, before its reply and between chunks
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub idle_timeout: u64,
    /// Larger request bodies are refused with 413
    #[arg(long, default_value_t = 64 * 1024 * 1024, value_name = "BYTES")]
    pub max_request_bytes: usize,
    /// Reply bodies are recorded up to this size; the agent always receives all of it
    #[arg(long, default_value_t = 64 * 1024 * 1024, value_name = "BYTES")]
    pub max_capture_bytes: usize,
}

impl ProxyArgs {
    pub fn proxy_config(&self) -> Result<ProxyConfig> {
        let upstream = Upstream::parse(&self.upstream).context("reading --upstream")?;
        let mut config = ProxyConfig::new(self.listen, upstream);
        config.connect_timeout = Duration::from_secs(self.connect_timeout);
        config.idle_timeout = Duration::from_secs(self.idle_timeout);
        config.max_request_bytes = self.max_request_bytes;
        config.max_capture_bytes = self.max_capture_bytes;
        Ok(config)
    }
}

impl DataDirArg {
    pub fn resolve(&self) -> Result<PathBuf> {
        match &self.data_dir {
            Some(dir) => Ok(dir.clone()),
            None => crate::store::default_data_dir()
                .context("no data directory could be determined for this user; pass --data-dir"),
        }
    }
}

/// Runs the parsed command to its end.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Record(args) => runtime::block_on(record::run(args)),
        Command::Sessions(args) => sessions::run(&args),
    }
}
