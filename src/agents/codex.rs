//! Codex CLI: it speaks only the Responses API and takes its endpoint from `config.toml`
//! (`openai_base_url` for the built-in provider, `model_providers.<id>.base_url` for others),
//! which `-c key=value` overrides for one run. `OPENAI_BASE_URL` was deprecated for
//! `openai_base_url` (openai/codex#12031) and then removed (openai/codex#16720).

use std::path::PathBuf;

use super::Lookup;

/// Where a ChatGPT-signed-in Codex sends its calls when no base URL is set
/// (`ModelProviderInfo::to_api_provider` in codex-rs).
const CHATGPT_BASE: &str = "https://chatgpt.com/backend-api/codex";

/// The keys of `config.toml` that decide the endpoint, read line by line: enough for the
/// plain `key = "value"` form the docs show, without a TOML parser.
#[derive(Debug, Default, PartialEq, Eq)]
struct Endpoint {
    model_provider: Option<String>,
    openai_base_url: Option<String>,
    /// `base_url` of `[model_providers.<model_provider>]`.
    provider_base_url: Option<String>,
}

fn read_endpoint(text: &str) -> Endpoint {
    let mut found = Endpoint::default();
    let mut table = String::new();
    let mut provider_urls = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = name.trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), unquote(value));
        match (table.as_str(), key) {
            ("", "model_provider") => found.model_provider = value,
            ("", "openai_base_url") => found.openai_base_url = value,
            (t, "base_url") => {
                if let (Some(id), Some(url)) = (t.strip_prefix("model_providers."), value) {
                    provider_urls.push((id.trim_matches('"').to_string(), url));
                }
            }
            _ => {}
        }
    }
    found.provider_base_url = found.model_provider.as_ref().and_then(|id| {
        provider_urls
            .into_iter()
            .find(|(p, _)| p == id)
            .map(|(_, url)| url)
    });
    found
}

/// A TOML basic or literal string without its quotes (and a trailing `# comment`).
fn unquote(value: &str) -> Option<String> {
    let value = value.trim();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &value[1..];
    rest.find(quote).map(|end| rest[..end].to_string())
}

fn codex_home(lookup: &Lookup) -> Option<PathBuf> {
    lookup
        .var("CODEX_HOME")
        .map(PathBuf::from)
        .or_else(|| lookup.home().map(|h| h.join(".codex")))
}

fn endpoint(lookup: &Lookup) -> (Endpoint, String) {
    let Some(home) = codex_home(lookup) else {
        return (Endpoint::default(), String::new());
    };
    let path = home.join("config.toml");
    let text = (lookup.read)(&path).unwrap_or_default();
    (read_endpoint(&text), path.display().to_string())
}

/// Signed in with ChatGPT rather than an API key: `auth.json` says `auth_mode` `chatgpt` (or
/// `chatgptAuthTokens`), or, written by releases before that field, holds tokens and no key.
/// Returns the file it was read from.
fn signed_in_with_chatgpt(lookup: &Lookup) -> Option<PathBuf> {
    if lookup.var("OPENAI_API_KEY").is_some() || lookup.var("CODEX_API_KEY").is_some() {
        return None;
    }
    let path = codex_home(lookup)?.join("auth.json");
    let auth: serde_json::Value = serde_json::from_str(&(lookup.read)(&path)?).ok()?;
    let chatgpt = match auth.get("auth_mode").and_then(|m| m.as_str()) {
        Some(mode) => mode.starts_with("chatgpt"),
        None => {
            let has_key = auth
                .get("OPENAI_API_KEY")
                .is_some_and(|k| k.as_str().is_some_and(|k| !k.is_empty()));
            !has_key && auth.get("tokens").is_some_and(|t| t.is_object())
        }
    };
    chatgpt.then_some(path)
}

/// Signed in with ChatGPT and sent to ChatGPT's backend: no endpoint of the user's in
/// `config.toml` or `OPENAI_BASE_URL`, which a base URL from llmscope could replace.
pub(super) fn chatgpt_login(lookup: &Lookup) -> Option<String> {
    let (found, _) = endpoint(lookup);
    if found.openai_base_url.is_some() || found.provider_base_url.is_some() {
        return None;
    }
    if lookup.var("OPENAI_BASE_URL").is_some() {
        return None;
    }
    let path = signed_in_with_chatgpt(lookup)?;
    Some(format!(
        "Codex is signed in with ChatGPT ({})",
        path.display()
    ))
}

/// The base URL Codex is configured with, and where that was found.
pub(super) fn configured_base_url(lookup: &Lookup) -> Option<(String, String)> {
    let (found, path) = endpoint(lookup);
    if let (Some(id), Some(url)) = (&found.model_provider, &found.provider_base_url) {
        return Some((
            url.clone(),
            format!("model_providers.{id}.base_url in {path}"),
        ));
    }
    if let Some(url) = found.openai_base_url {
        return Some((url, format!("openai_base_url in {path}")));
    }
    if lookup.var("OPENAI_BASE_URL").is_none() && signed_in_with_chatgpt(lookup).is_some() {
        return Some((
            CHATGPT_BASE.to_string(),
            "Codex is signed in with ChatGPT".to_string(),
        ));
    }
    None
}

/// `-c` overrides for one run: the key of the provider in use gets llmscope's base URL.
pub(super) fn override_args(base: &str, lookup: &Lookup) -> Vec<String> {
    let (found, _) = endpoint(lookup);
    let key = match (&found.model_provider, &found.provider_base_url) {
        (Some(id), Some(_)) => format!("model_providers.{id}.base_url"),
        _ => "openai_base_url".to_string(),
    };
    vec!["-c".to_string(), format!("{key}=\"{base}\"")]
}

pub(super) fn env_text(base: &str) -> String {
    format!(
        "# Codex CLI speaks the Responses API and takes its endpoint from config.toml; `-c`\n\
         # overrides it for one run (OPENAI_BASE_URL is no longer read by current releases).\n\
         # For the built-in OpenAI provider, this alias, or the line\n\
         #   openai_base_url = \"{base}\"\n\
         # at the top of ~/.codex/config.toml. For a provider of your own, its base_url:\n\
         #   [model_providers.<id>]\n\
         #   base_url = \"{base}\"\n\
         #   wire_api = \"responses\"\n\
         alias codex='codex -c openai_base_url=\"{base}\"'\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_in_use_and_its_base_url_are_read_from_config_toml() {
        let text = "model = \"gpt-5\"\nmodel_provider = \"gw\" # ours\n\n\
                    [model_providers.other]\nbase_url = \"https://other/v1\"\n\
                    [model_providers.gw]\nname = \"GW\"\nbase_url = 'https://gw.example/v1'\n\
                    wire_api = \"responses\"\n";
        let found = read_endpoint(text);
        assert_eq!(found.model_provider.as_deref(), Some("gw"));
        assert_eq!(
            found.provider_base_url.as_deref(),
            Some("https://gw.example/v1")
        );
        assert_eq!(found.openai_base_url, None);
    }

    #[test]
    fn openai_base_url_counts_only_at_the_top_level() {
        let found = read_endpoint("[profile]\nopenai_base_url = \"http://x/v1\"\n");
        assert_eq!(found.openai_base_url, None);
        let found = read_endpoint("openai_base_url = \"http://x/v1\"\n[tui]\n");
        assert_eq!(found.openai_base_url.as_deref(), Some("http://x/v1"));
    }
}
