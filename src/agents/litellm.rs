//! LiteLLM's proxy as a recipe: from its config, the `--provider NAME=URL` llmscope needs to
//! stand between LiteLLM and each provider, and each model's `api_base` pointed at
//! `http://LISTEN/provider/NAME`. The user's file is only read; the overrides go in a copy.

use std::net::SocketAddr;

use super::litellm_yaml::{apply, entries, Edit, Entry};
use super::AgentError;

/// The port `litellm` listens on without `--port`.
pub const LITELLM_PORT: u16 = 4000;

/// One `--provider` derived from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayProvider {
    pub name: String,
    /// Scheme, host and port: the path stays in the model's `api_base`.
    pub url: String,
    /// What the name was made from, before it was made unique.
    basis: String,
}

/// What becomes of one model's `api_base`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Override {
    /// Through provider `provider` (an index), with the original `api_base`'s path.
    Through {
        provider: usize,
        path: String,
        /// The original value; `None` when it was unset and the public endpoint is meant.
        was: Option<String>,
    },
    /// Left as it is, and why.
    Kept(String),
}

/// One `model_list` entry and its override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRoute {
    /// `model_name (litellm_params.model)`, for the user.
    pub label: String,
    pub route: Override,
    entry: Entry,
}

/// The providers and overrides for one LiteLLM config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LitellmSetup {
    pub providers: Vec<GatewayProvider>,
    pub models: Vec<ModelRoute>,
}

/// The public endpoints of the providers LiteLLM calls by a model's prefix when no `api_base`
/// is given: origin and the path LiteLLM's own default carries.
fn public_endpoint(prefix: &str) -> Option<(&'static str, &'static str)> {
    match prefix {
        "openai" => Some(("https://api.openai.com", "/v1")),
        "anthropic" => Some(("https://api.anthropic.com", "")),
        _ => None,
    }
}

/// A provider name made of the characters `--provider` allows.
fn clean_name(raw: &str) -> String {
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let name: String = raw
        .chars()
        .map(|c| if valid(c) { c } else { '-' })
        .collect();
    if name.trim_matches('-').is_empty() {
        "provider".into()
    } else {
        name
    }
}

/// Whether an `api_base` already points at an llmscope's provider side (a second run).
fn is_llmscope(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback && url.path().starts_with("/provider/")
}

impl LitellmSetup {
    /// Reads the config's `model_list`.
    pub fn from_config(text: &str) -> Result<Self, AgentError> {
        let list = entries(text).ok_or_else(|| {
            AgentError::Litellm("no top-level `model_list:` with entries in the config".into())
        })?;
        let mut setup = LitellmSetup {
            providers: Vec::new(),
            models: Vec::new(),
        };
        for entry in list {
            let route = setup.route_for(&entry);
            let model = entry.model.as_ref().map_or("?", |m| m.text.as_str());
            let label = match &entry.model_name {
                Some(name) => format!("{name} ({model})"),
                None => model.to_string(),
            };
            setup.models.push(ModelRoute {
                label,
                route,
                entry,
            });
        }
        Ok(setup)
    }

    fn route_for(&mut self, entry: &Entry) -> Override {
        if entry.unreadable {
            return Override::Kept(
                "its litellm_params are not a block mapping llmscope reads".into(),
            );
        }
        let model = entry.model.as_ref().map_or("", |m| m.text.as_str());
        let prefix = model
            .split_once('/')
            .map(|(p, _)| p)
            .filter(|p| !p.is_empty());
        let Some(base) = &entry.api_base else {
            let Some((origin, path)) = prefix.and_then(public_endpoint) else {
                return Override::Kept(
                    "no api_base, and llmscope knows the public endpoint only of openai/ and \
                     anthropic/ models"
                        .into(),
                );
            };
            let provider = self.provider(prefix.unwrap_or("provider"), origin);
            return Override::Through {
                provider,
                path: path.to_string(),
                was: None,
            };
        };
        let text = base.text.trim();
        if text.starts_with("os.environ/") {
            return Override::Kept(format!(
                "api_base {text} is read from the environment when LiteLLM starts; point that \
                 variable at http://LISTEN/provider/NAME yourself to see these calls"
            ));
        }
        let url = match reqwest::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => url,
            _ => return Override::Kept(format!("api_base {text:?} is not an http(s) URL")),
        };
        if is_llmscope(&url) {
            return Override::Kept("api_base already points at llmscope".into());
        }
        let name = prefix.map_or_else(
            || url.host_str().unwrap_or_default().to_string(),
            String::from,
        );
        let provider = self.provider(&name, &url.origin().ascii_serialization());
        Override::Through {
            provider,
            // Kept as written, trailing slash too; a bare origin adds none.
            path: match url.path() {
                "/" => String::new(),
                path => path.to_string(),
            },
            was: Some(text.to_string()),
        }
    }

    /// The provider for `origin` named after `name`: the one already made, else a new one
    /// whose name no other provider has.
    fn provider(&mut self, name: &str, origin: &str) -> usize {
        let base = clean_name(name);
        let same = |p: &GatewayProvider| p.url == origin && p.basis == base;
        if let Some(at) = self.providers.iter().position(same) {
            return at;
        }
        let taken = |candidate: &str| self.providers.iter().any(|p| p.name == candidate);
        let name = (1..)
            .map(|n| match n {
                1 => base.clone(),
                n => format!("{base}-{n}"),
            })
            .find(|candidate| !taken(candidate))
            .unwrap_or(base.clone());
        self.providers.push(GatewayProvider {
            name,
            url: origin.to_string(),
            basis: base,
        });
        self.providers.len() - 1
    }

    /// The `NAME=URL` values of `--provider`.
    pub fn provider_flags(&self) -> Vec<String> {
        self.providers
            .iter()
            .map(|p| format!("{}={}", p.name, p.url))
            .collect()
    }

    /// The new `api_base` of a model routed through a provider.
    pub fn api_base(&self, route: &Override, listen: SocketAddr) -> Option<String> {
        match route {
            Override::Through { provider, path, .. } => Some(format!(
                "http://{listen}/provider/{}{path}",
                self.providers.get(*provider)?.name
            )),
            Override::Kept(_) => None,
        }
    }

    /// The config with the overrides: what LiteLLM reads in place of the user's file.
    pub fn rewrite(&self, config: &str, listen: SocketAddr) -> String {
        let edits: Vec<Edit> = self
            .models
            .iter()
            .filter_map(|m| {
                Some(Edit {
                    entry: &m.entry,
                    api_base: self.api_base(&m.route, listen)?,
                })
            })
            .collect();
        apply(config, &edits)
    }

    /// One line per model: its new `api_base` and what it was, or why it is kept.
    pub fn override_lines(&self, listen: SocketAddr) -> Vec<String> {
        self.models
            .iter()
            .map(|m| match (&m.route, self.api_base(&m.route, listen)) {
                (Override::Through { was, .. }, Some(new)) => {
                    let was = was.as_deref().map_or_else(
                        || "unset: the provider's public endpoint".to_string(),
                        |old| format!("was {old}"),
                    );
                    format!("{}: api_base: {new}  ({was})", m.label)
                }
                (Override::Kept(why), _) => format!("{}: left as it is: {why}", m.label),
                (Override::Through { .. }, None) => format!("{}: left as it is", m.label),
            })
            .collect()
    }
}

/// The text of `llmscope env litellm --config FILE`: the `--provider`s, the overrides and how
/// to run both; explanations are `#` comments.
pub fn litellm_env_text(
    config_path: &str,
    config: &str,
    listen: SocketAddr,
) -> Result<String, AgentError> {
    let setup = LitellmSetup::from_config(config)?;
    let mut out = vec![
        format!("# llmscope on both sides of LiteLLM ({config_path}): the agent talks to llmscope,"),
        "# llmscope to LiteLLM, and LiteLLM to each provider through llmscope's /provider/NAME.".into(),
        format!("# Run llmscope (LiteLLM on its default port {LITELLM_PORT}; yours if you pass --port):"),
    ];
    let providers: String = setup
        .provider_flags()
        .iter()
        .map(|flag| format!(" --provider {flag}"))
        .collect();
    out.push(format!(
        "llmscope --listen {listen} --upstream http://127.0.0.1:{LITELLM_PORT}{providers}"
    ));
    out.push(format!(
        "# In a copy of {config_path} (llmscope never writes yours), set each model's api_base:"
    ));
    out.extend(
        setup
            .override_lines(listen)
            .iter()
            .map(|l| format!("#   {l}")),
    );
    out.push("# Then run LiteLLM on the copy:".into());
    out.push("litellm --config COPY.yaml".into());
    out.push(format!(
        "# and point the agent at llmscope, not LiteLLM: http://{listen}/v1 for OpenAI's API, \
         http://{listen} for Anthropic's"
    ));
    out.push(format!(
        "# `llmscope launch litellm -- --config {config_path}` does all of this with a temporary copy."
    ));
    Ok(out.iter().map(|l| format!("{l}\n")).collect())
}
