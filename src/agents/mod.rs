//! Recipes per coding agent: which API it speaks, how it is pointed at a base URL, and where it
//! would have sent its calls without llmscope. Pure functions over the environment and the
//! agent's own settings, so `llmscope env` and `llmscope launch` say and do the same thing.

mod codex;
mod jsonc;
mod litellm;
mod litellm_yaml;
mod opencode;
mod subscription;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use litellm::{litellm_env_text, GatewayProvider, LitellmSetup, Override, LITELLM_PORT};
pub use opencode::{opencode_overlay, OpencodeSetup};
pub use subscription::{subscription_login, SignedIn};

/// What the recipes may look at: the environment and the agent's own files, read-only.
/// Injected so the recipes stay pure and testable.
pub struct Lookup<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub read: &'a dyn Fn(&Path) -> Option<String>,
}

impl Lookup<'_> {
    /// A variable that is set to something.
    pub fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.trim().is_empty())
    }

    pub fn home(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }
}

/// The agents llmscope knows how to wire up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    Opencode,
    Claude,
    Codex,
    Gemini,
    Aider,
    /// Any program using an OpenAI SDK.
    Openai,
    /// Any program using an Anthropic SDK.
    Anthropic,
    /// Any tool that takes an OpenAI-style base URL.
    OpenaiCompatible,
    /// LiteLLM's proxy, the gateway between the agent and its providers (see [`litellm`]).
    Litellm,
}

/// The API an agent speaks, which decides the shape of its base URL and its public endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// OpenAI's: base URLs end in `/v1`.
    OpenAi,
    /// Anthropic's: the SDKs add `/v1/messages` themselves.
    Anthropic,
    /// Google's Gemini API: the CLI adds `/v1beta/models/…` itself.
    Gemini,
}

impl Api {
    /// Where the agent's calls go when nothing else is configured.
    pub fn public_endpoint(self) -> &'static str {
        match self {
            Api::OpenAi => "https://api.openai.com",
            Api::Anthropic => "https://api.anthropic.com",
            Api::Gemini => "https://generativelanguage.googleapis.com",
        }
    }

    /// The path the agent's base URL carries in front of the API's own paths.
    pub fn base_path(self) -> &'static str {
        match self {
            Api::OpenAi => "/v1",
            Api::Anthropic | Api::Gemini => "",
        }
    }
}

/// Why an agent could not be wired up.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(
        "unknown agent {0:?}; known: opencode, claude, codex, gemini, aider, openai, anthropic, \
         openai-compatible, litellm"
    )]
    Unknown(String),
    #[error("{what} {url:?} is not an http(s) URL")]
    BadUrl { what: String, url: String },
    #[error("{0}")]
    Opencode(String),
    #[error("LiteLLM config: {0}")]
    Litellm(String),
}

pub const AGENT_NAMES: &[&str] = &[
    "opencode",
    "claude",
    "codex",
    "gemini",
    "aider",
    "openai",
    "anthropic",
    "openai-compatible",
    "litellm",
];

impl Agent {
    pub fn parse(name: &str) -> Result<Self, AgentError> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "opencode" => Agent::Opencode,
            "claude" | "claude-code" => Agent::Claude,
            "codex" => Agent::Codex,
            "gemini" | "gemini-cli" => Agent::Gemini,
            "aider" => Agent::Aider,
            "openai" => Agent::Openai,
            "anthropic" => Agent::Anthropic,
            "openai-compatible" => Agent::OpenaiCompatible,
            "litellm" => Agent::Litellm,
            _ => return Err(AgentError::Unknown(name.to_string())),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Agent::Opencode => "opencode",
            Agent::Claude => "claude",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
            Agent::Aider => "aider",
            Agent::Openai => "openai",
            Agent::Anthropic => "anthropic",
            Agent::OpenaiCompatible => "openai-compatible",
            Agent::Litellm => "litellm",
        }
    }

    /// The program `launch` starts; the SDKs and generic tools have none, the command after
    /// `--` is the program.
    pub fn program(self) -> Option<&'static str> {
        match self {
            Agent::Opencode => Some("opencode"),
            Agent::Claude => Some("claude"),
            Agent::Codex => Some("codex"),
            Agent::Gemini => Some("gemini"),
            Agent::Aider => Some("aider"),
            Agent::Litellm => Some("litellm"),
            Agent::Openai | Agent::Anthropic | Agent::OpenaiCompatible => None,
        }
    }

    pub fn api(self) -> Api {
        match self {
            Agent::Claude | Agent::Anthropic => Api::Anthropic,
            Agent::Gemini => Api::Gemini,
            Agent::Opencode
            | Agent::Codex
            | Agent::Aider
            | Agent::Openai
            | Agent::OpenaiCompatible
            | Agent::Litellm => Api::OpenAi,
        }
    }

    /// The environment variables that carry the agent's base URL, first the one it prefers.
    /// Codex reads none any more (see [`codex`]); opencode takes its config from one.
    pub fn base_url_vars(self) -> &'static [&'static str] {
        match self {
            Agent::Claude | Agent::Anthropic => &["ANTHROPIC_BASE_URL"],
            Agent::Gemini => &["GOOGLE_GEMINI_BASE_URL"],
            Agent::Aider => &["OPENAI_API_BASE"],
            Agent::Openai => &["OPENAI_BASE_URL"],
            // Both spellings: the OpenAI SDKs read the first, LiteLLM-based tools the second.
            Agent::OpenaiCompatible => &["OPENAI_BASE_URL", "OPENAI_API_BASE"],
            // Older Codex releases still read it; newer ones take `openai_base_url`.
            Agent::Codex => &["OPENAI_BASE_URL"],
            // Its providers' endpoints go in its config, see [`litellm`].
            Agent::Opencode | Agent::Litellm => &[],
        }
    }
}

/// Where llmscope forwards, and the path the agent's base URL keeps in front of the API's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub upstream: String,
    /// Appended to `http://LISTEN` to make the agent's base URL.
    pub agent_path: String,
    /// Said to the user: where the upstream came from.
    pub source: String,
}

impl Route {
    pub fn agent_base(&self, listen: SocketAddr) -> String {
        format!("http://{listen}{}", self.agent_path)
    }

    /// The route for an upstream the user named: the agent gets the API's usual base path.
    pub fn given(upstream: &str, api: Api) -> Self {
        Route {
            upstream: upstream.trim_end_matches('/').to_string(),
            agent_path: api.base_path().to_string(),
            source: "given with --upstream".to_string(),
        }
    }

    /// The route to where a base URL the agent already had pointed: llmscope forwards to its
    /// origin and the agent keeps its path, so llmscope sees the same paths the upstream does.
    pub fn through(base_url: &str, source: String) -> Result<Self, AgentError> {
        let bad = || AgentError::BadUrl {
            what: source.clone(),
            url: base_url.to_string(),
        };
        let url = reqwest::Url::parse(base_url.trim()).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad());
        }
        let origin = url.origin().ascii_serialization();
        Ok(Route {
            upstream: origin,
            agent_path: url.path().trim_end_matches('/').to_string(),
            source,
        })
    }

    /// The agent's public endpoint.
    pub fn public(api: Api) -> Self {
        Route {
            upstream: api.public_endpoint().to_string(),
            agent_path: api.base_path().to_string(),
            source: "the API's public endpoint".to_string(),
        }
    }
}

/// Where the agent's calls would have gone: the base URL it already had in its environment
/// (or Codex's config), else its API's public endpoint.
pub fn default_route(agent: Agent, lookup: &Lookup) -> Result<Route, AgentError> {
    if agent == Agent::Codex {
        if let Some((url, source)) = codex::configured_base_url(lookup) {
            return Route::through(&url, source);
        }
    }
    for var in agent.base_url_vars() {
        if let Some(url) = lookup.var(var) {
            return Route::through(&url, format!("{var} was set"));
        }
    }
    Ok(Route::public(agent.api()))
}

/// What `launch` applies to the agent's process: variables to set and arguments to put in
/// front of the user's. Nothing is ever written to the agent's own files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wiring {
    pub env: Vec<(String, String)>,
    pub args: Vec<String>,
}

/// The wiring for every agent but opencode (whose config needs the user's, see
/// [`opencode_overlay`]).
pub fn wiring(agent: Agent, base: &str, lookup: &Lookup) -> Wiring {
    let env = agent
        .base_url_vars()
        .iter()
        .map(|var| (var.to_string(), base.to_string()))
        .collect();
    let args = match agent {
        Agent::Codex => codex::override_args(base, lookup),
        _ => Vec::new(),
    };
    Wiring { env, args }
}

/// The text of `llmscope env AGENT`: shell lines that can be `eval`ed, every explanation a
/// `#` comment.
pub fn env_text(agent: Agent, listen: SocketAddr) -> String {
    let base = Route::public(agent.api()).agent_base(listen);
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    match agent {
        Agent::Opencode => return opencode::env_text(listen),
        Agent::Codex => return codex::env_text(&base),
        Agent::Claude => {
            line("# Claude Code reads ANTHROPIC_BASE_URL (no /v1: it adds /v1/messages)")
        }
        Agent::Anthropic => {
            line("# The Anthropic SDKs read ANTHROPIC_BASE_URL, or pass base_url= (no /v1)")
        }
        Agent::Openai => {
            line("# The OpenAI SDKs read OPENAI_BASE_URL, or pass base_url= (with /v1)")
        }
        Agent::Aider => line("# aider reads OPENAI_API_BASE (same as --openai-api-base)"),
        Agent::OpenaiCompatible => {
            line(&format!(
                "# Any OpenAI-compatible tool: give it the base URL {base}"
            ));
            line(
                "# (OPENAI_BASE_URL for the OpenAI SDKs, OPENAI_API_BASE for LiteLLM-based tools)",
            );
        }
        Agent::Litellm => {
            line(
                "# LiteLLM's providers are set in its config: `llmscope env litellm --config FILE`",
            );
            line("# prints the --provider flags and api_base overrides for it");
        }
        Agent::Gemini => {
            line("# Gemini CLI reads GOOGLE_GEMINI_BASE_URL when it uses an API key (GEMINI_API_KEY);");
            line(
                "# llmscope decodes its Gemini API calls (contents, function calls, usageMetadata)",
            );
        }
    }
    for var in agent.base_url_vars() {
        line(&format!("export {var}={base}"));
    }
    out
}

#[cfg(test)]
mod litellm_tests;
#[cfg(test)]
mod tests;
