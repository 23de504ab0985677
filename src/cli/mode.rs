//! `--mode`: reverse (the agent's base URL points at llmscope) or forward (llmscope is the
//! agent's HTTPS proxy, with its own CA for the intercepted hosts).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::agents::Api;
use crate::ca::CertAuthority;
use crate::llm::Dialect;
use crate::proxy::{ForwardMode, Upstream};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Mode {
    /// The agent's base URL is llmscope's address; requests go to --upstream
    #[default]
    Reverse,
    /// llmscope is the agent's HTTPS_PROXY: the LLM hosts are decrypted with llmscope's CA
    /// and recorded, every other host is tunnelled untouched
    Forward,
}

/// Where requests sent to llmscope itself go in forward mode without `--upstream`: nowhere
/// (`.invalid` never resolves), since forward mode refuses them before they are forwarded.
const NO_UPSTREAM: &str = "http://no-upstream.invalid";

/// The upstream and the forward mode for `mode`. Loads (or makes) the CA in `data_dir`.
pub fn resolve(
    mode: Mode,
    upstream: Option<&str>,
    intercept_hosts: &[String],
    data_dir: &Path,
) -> Result<(Upstream, Option<ForwardMode>)> {
    let given = upstream
        .map(|url| Upstream::parse(url).context("reading --upstream"))
        .transpose()?;
    match mode {
        Mode::Reverse => {
            let upstream = match given {
                Some(upstream) => upstream,
                None => public(Api::OpenAi)?,
            };
            if !intercept_hosts.is_empty() {
                anyhow::bail!("--intercept-host is for --mode forward");
            }
            Ok((upstream, None))
        }
        Mode::Forward => {
            let (ca, _) = CertAuthority::load_or_create(data_dir)
                .with_context(|| format!("loading llmscope's CA in {}", data_dir.display()))?;
            let serve_origin_form = given.is_some();
            let upstream = match given {
                Some(upstream) => upstream,
                None => Upstream::parse(NO_UPSTREAM).context("the placeholder upstream")?,
            };
            let forward = ForwardMode::new(Arc::new(ca), intercept_hosts, serve_origin_form);
            Ok((upstream, Some(forward)))
        }
    }
}

/// With no `--upstream` in reverse mode, each API's requests go to its public endpoint:
/// OpenAI's (also every request of no known API), Anthropic's and Gemini's. `routed` are the
/// dialects the user already sent elsewhere with `--upstream-for`; they keep their route.
pub fn public_routes(routed: &[Dialect]) -> Result<Vec<(Dialect, Upstream)>> {
    let mut routes = Vec::new();
    for (dialect, api) in [
        (Dialect::OpenAiChat, Api::OpenAi),
        (Dialect::OpenAiResponses, Api::OpenAi),
        (Dialect::Anthropic, Api::Anthropic),
        (Dialect::Gemini, Api::Gemini),
    ] {
        if !routed.contains(&dialect) {
            routes.push((dialect, public(api)?));
        }
    }
    Ok(routes)
}

fn public(api: Api) -> Result<Upstream> {
    Upstream::parse(api.public_endpoint()).context("a public endpoint")
}
