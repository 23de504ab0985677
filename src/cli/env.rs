//! `llmscope env AGENT`: prints what points AGENT at a running llmscope, as shell lines to
//! `eval` (explanations are `#` comments) or the agent's config snippet.

use std::net::SocketAddr;

use anyhow::Result;
use clap::Args;

use crate::agents::{env_text, Agent};

#[derive(Debug, Clone, Args)]
pub struct EnvArgs {
    /// opencode, claude, codex, gemini, aider, openai, anthropic or openai-compatible
    pub agent: String,
    /// The address llmscope listens on
    #[arg(long, env = "LLMSCOPE_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
}

pub fn run(args: &EnvArgs) -> Result<()> {
    let agent = Agent::parse(&args.agent)?;
    print!("{}", env_text(agent, args.listen));
    Ok(())
}
