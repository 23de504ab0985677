//! opencode: each provider takes its endpoint from `provider.<id>.options.baseURL` in the
//! config, and `OPENCODE_CONFIG_CONTENT` holds config merged over all of the user's (global,
//! `OPENCODE_CONFIG`, project) for one run, so nothing on disk is touched.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::{jsonc, AgentError, Api, Lookup, Route};

/// The provider `launch` adds for an upstream opencode has no provider for.
const OWN_PROVIDER: &str = "llmscope";

/// How opencode is pointed at llmscope for one run.
#[derive(Debug, Clone, PartialEq)]
pub struct OpencodeSetup {
    pub route: Route,
    /// Providers whose baseURL becomes llmscope's.
    pub routed: Vec<String>,
    /// Models of the `llmscope` provider, from `-m llmscope/MODEL`.
    pub own_models: Vec<String>,
    /// The user's `OPENCODE_CONFIG_CONTENT`, which ours is merged into.
    pub inline: Option<Value>,
    /// Said to the user before the agent starts.
    pub notes: Vec<String>,
}

impl OpencodeSetup {
    /// The value for `OPENCODE_CONFIG_CONTENT`.
    pub fn config_content(&self, listen: SocketAddr) -> String {
        let base = self.route.agent_base(listen);
        let mut providers = Map::new();
        for id in &self.routed {
            providers.insert(id.clone(), json!({ "options": { "baseURL": base } }));
        }
        if !self.own_models.is_empty() {
            let models: Map<String, Value> = self
                .own_models
                .iter()
                .map(|m| (m.clone(), json!({})))
                .collect();
            providers.insert(OWN_PROVIDER.into(), own_provider(&base, models));
        }
        let mut config = self.inline.clone().unwrap_or_else(|| json!({}));
        merge(&mut config, json!({ "provider": providers }));
        config.to_string()
    }
}

fn own_provider(base: &str, models: Map<String, Value>) -> Value {
    json!({
        "npm": "@ai-sdk/openai-compatible",
        "name": "llmscope",
        "options": { "baseURL": base },
        "models": models,
    })
}

/// Objects merge key by key, the overlay winning; anything else is replaced.
fn merge(into: &mut Value, overlay: Value) {
    match (into, overlay) {
        (Value::Object(into), Value::Object(overlay)) => {
            for (key, value) in overlay {
                merge(into.entry(key).or_insert(Value::Null), value);
            }
        }
        (into, overlay) => *into = overlay,
    }
}

/// The model opencode will use: `-m`/`--model` among its arguments first.
fn model_in_args(args: &[String]) -> Option<String> {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "-m" || arg == "--model" {
            return args.next().cloned();
        }
        if let Some(model) = arg.strip_prefix("--model=") {
            return Some(model.to_string());
        }
    }
    None
}

/// The user's config as opencode merges it, as far as providers and the model go.
fn user_config(lookup: &Lookup, inline: Option<&Value>) -> Value {
    let config_dir = lookup
        .var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| lookup.home().map(|h| h.join(".config")))
        .map(|d| d.join("opencode"));
    let mut files: Vec<PathBuf> = ["config.json", "opencode.json", "opencode.jsonc"]
        .iter()
        .filter_map(|name| config_dir.as_ref().map(|d| d.join(name)))
        .collect();
    files.extend(lookup.var("OPENCODE_CONFIG").map(PathBuf::from));
    files.push(Path::new("opencode.json").into());
    files.push(Path::new("opencode.jsonc").into());
    let mut config = json!({});
    for text in files.iter().filter_map(|f| (lookup.read)(f)) {
        if let Some(value) = jsonc::parse(&text) {
            merge(&mut config, value);
        }
    }
    if let Some(inline) = inline {
        merge(&mut config, inline.clone());
    }
    config
}

/// Works out which of opencode's providers goes through llmscope, and to where.
pub fn opencode_overlay(
    upstream: Option<&str>,
    args: &[String],
    lookup: &Lookup,
) -> Result<OpencodeSetup, AgentError> {
    let inline = match lookup.var("OPENCODE_CONFIG_CONTENT") {
        Some(text) => Some(jsonc::parse(&text).ok_or_else(|| {
            AgentError::Opencode(
                "OPENCODE_CONFIG_CONTENT is set but is not valid JSON, so llmscope cannot add \
                 its provider to it"
                    .into(),
            )
        })?),
        None => None,
    };
    let config = user_config(lookup, inline.as_ref());
    let model = model_in_args(args).or_else(|| config["model"].as_str().map(str::to_string));
    let (provider, model_id) = match model.as_deref().and_then(|m| m.split_once('/')) {
        Some((p, m)) => (Some(p.to_string()), Some(m.to_string())),
        None => (None, None),
    };
    let mut setup = OpencodeSetup {
        route: Route::public(Api::OpenAi),
        routed: Vec::new(),
        own_models: Vec::new(),
        inline,
        notes: Vec::new(),
    };
    let user_base = provider
        .as_deref()
        .and_then(|p| config["provider"][p]["options"]["baseURL"].as_str());
    setup.route = match (upstream, provider.as_deref(), user_base) {
        (Some(url), _, _) => Route::given(url, Api::OpenAi),
        (None, Some(p), Some(base)) if p != OWN_PROVIDER => Route::through(
            base,
            format!("provider {p}'s options.baseURL in the opencode config"),
        )?,
        (None, Some("anthropic"), None) => Route {
            agent_path: "/v1".into(),
            ..Route::public(Api::Anthropic)
        },
        (None, Some("openai"), None) => Route::public(Api::OpenAi),
        (None, Some(p), _) => {
            return Err(AgentError::Opencode(format!(
                "opencode's model is {p}/…, whose endpoint llmscope does not know: \
                 pass --upstream URL"
            )))
        }
        (None, None, _) => {
            return Err(AgentError::Opencode(
                "no opencode model is set (no `model` in its config, no -m): pass \
                 --upstream URL and -m llmscope/MODEL"
                    .into(),
            ))
        }
    };
    match (provider, model_id) {
        (Some(p), Some(m)) if p == OWN_PROVIDER => setup.own_models.push(m),
        (Some(p), _) => {
            setup
                .notes
                .push(format!("opencode's provider {p} goes through llmscope"));
            setup.routed.push(p);
        }
        (None, _) => setup.notes.push(format!(
            "pick a model of the upstream with -m {OWN_PROVIDER}/MODEL"
        )),
    }
    Ok(setup)
}

pub(super) fn env_text(listen: SocketAddr) -> String {
    let base = format!("http://{listen}/v1");
    let builtin = json!({ "provider": {
        "openai": { "options": { "baseURL": base } },
        "anthropic": { "options": { "baseURL": base } },
    }});
    let mut models = Map::new();
    models.insert("MODEL".into(), json!({}));
    let own = json!({ "provider": { OWN_PROVIDER: own_provider(&base, models) } });
    format!(
        "# opencode takes each provider's endpoint from options.baseURL in its config\n\
         # (opencode.json). For a provider of your own, set its baseURL to {base}, or add one\n\
         # for llmscope's upstream with the models it serves (then -m {OWN_PROVIDER}/MODEL):\n\
         #   {own}\n\
         # OPENCODE_CONFIG_CONTENT is merged over every opencode config file, for this shell\n\
         # only; this points the built-in openai and anthropic providers at llmscope:\n\
         export OPENCODE_CONFIG_CONTENT='{builtin}'\n"
    )
}

#[cfg(test)]
#[path = "opencode_tests.rs"]
mod tests;
