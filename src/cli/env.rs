//! `llmscope env AGENT`: prints what points AGENT at a running llmscope, as shell lines to
//! `eval` (explanations are `#` comments) or the agent's config snippet; for `litellm`, the
//! `--provider`s and `api_base` overrides its config needs.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::agents::{env_text, litellm_env_text, Agent};

#[derive(Debug, Clone, Args)]
pub struct EnvArgs {
    /// opencode, claude, codex, gemini, aider, openai, anthropic, openai-compatible or litellm
    pub agent: String,
    /// The address llmscope listens on
    #[arg(long, env = "LLMSCOPE_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// For litellm: LiteLLM's proxy config (only read)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn run(args: &EnvArgs) -> Result<()> {
    let agent = Agent::parse(&args.agent)?;
    match (&args.config, agent) {
        (Some(path), Agent::Litellm) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading LiteLLM's config {}", path.display()))?;
            print!(
                "{}",
                litellm_env_text(&path.display().to_string(), &text, args.listen)?
            );
        }
        (None, Agent::Litellm) => bail!(
            "`env litellm` reads LiteLLM's config for its providers: \
             `llmscope env litellm --config FILE`"
        ),
        (Some(_), _) => bail!("--config is LiteLLM's config, for `env litellm` only"),
        (None, _) => print!("{}", env_text(agent, args.listen)),
    }
    Ok(())
}
