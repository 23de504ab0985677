//! The provider side of a gateway: with `--provider NAME=URL`, llmscope also stands between
//! a gateway (LiteLLM, a company proxy) and each of its providers. The gateway's `api_base`
//! for NAME is `http://LISTEN/provider/NAME`; llmscope forwards `/provider/NAME/rest` to
//! `URL/rest` and records it like any exchange, so the provider's real failure is seen even
//! when the gateway answers the agent with only "Connection error".
//!
//! A provider call is linked to the agent exchange it serves: one in flight when it starts
//! whose newest message it carries (see [`AgentCalls`]).

use std::sync::{Mutex, MutexGuard, PoisonError};

use super::upstream::{Upstream, UpstreamUrlError};
use super::ProxyState;
use crate::capture::{provider_target, CapturedRequest, ExchangeId, ExchangeStart, Failure};
use crate::llm::{decode_request, Dialect, Part};

/// One `--provider NAME=URL`.
#[derive(Debug, Clone)]
pub struct Provider {
    pub name: String,
    pub upstream: Upstream,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderSpecError {
    #[error("expected NAME=URL (e.g. openai=https://api.openai.com), got `{0}`")]
    Shape(String),
    #[error("provider name `{0}` may hold only letters, digits, `-`, `_` and `.`")]
    Name(String),
    #[error("provider `{name}`: {source}")]
    Url {
        name: String,
        source: UpstreamUrlError,
    },
}

impl Provider {
    pub fn parse(spec: &str) -> Result<Self, ProviderSpecError> {
        let (name, url) = spec
            .split_once('=')
            .ok_or_else(|| ProviderSpecError::Shape(spec.to_string()))?;
        let name = name.trim();
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || !name.chars().all(valid) {
            return Err(ProviderSpecError::Name(name.to_string()));
        }
        let upstream = Upstream::parse(url.trim()).map_err(|source| ProviderSpecError::Url {
            name: name.to_string(),
            source,
        })?;
        Ok(Self {
            name: name.to_string(),
            upstream,
        })
    }
}

impl ProxyState {
    /// Where a target goes: the provider it names, else the upstream for its API
    /// (`--upstream-for`), else the upstream. A `/provider/…` target naming no configured
    /// provider goes to the upstream unchanged.
    pub(super) fn upstream_for<'t>(
        &self,
        target: &'t str,
        dialect: Dialect,
    ) -> (&Upstream, &'t str) {
        let provider = provider_target(target).and_then(|(name, rest)| {
            let found = self.config.providers.iter().find(|p| p.name == name)?;
            Some((&found.upstream, if rest.is_empty() { "/" } else { rest }))
        });
        provider.unwrap_or_else(|| {
            let for_api = self.config.upstream_for.iter().find(|(d, _)| *d == dialect);
            let upstream = for_api.map_or(&self.config.upstream, |(_, upstream)| upstream);
            (upstream, target)
        })
    }

    pub(super) fn has_providers(&self) -> bool {
        !self.config.providers.is_empty()
    }
}

/// The agent-side exchanges in flight, with the text of each one's newest message: what a
/// gateway's call to a provider carries when it serves that exchange.
#[derive(Default)]
pub struct AgentCalls {
    calls: Mutex<Vec<AgentCall>>,
}

struct AgentCall {
    id: ExchangeId,
    /// The newest message's text as it appears in a JSON body, escaped both ways a gateway's
    /// JSON writer may escape it (as is, or non-ASCII as `\uXXXX`); empty when the request
    /// has none.
    needles: [String; 2],
    /// How the latest provider call under it failed.
    provider_failure: Option<Failure>,
}

/// Messages shorter than this say too little to tell conversations apart ("hi").
const MIN_NEEDLE: usize = 4;

impl AgentCalls {
    fn lock(&self) -> MutexGuard<'_, Vec<AgentCall>> {
        // Entries are pushed and removed whole; a panic cannot leave one half-written.
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn enter(&self, start: &ExchangeStart) {
        let text = newest_message_text(start).unwrap_or_default();
        let as_is = serde_json::to_string(&text).unwrap_or_default();
        let needles = [unquoted(&as_is), unquoted(&ascii_escaped(&as_is))];
        self.lock().push(AgentCall {
            id: start.id,
            needles,
            provider_failure: None,
        });
    }

    /// Ends `id`'s time in flight; returns how the latest provider call under it failed.
    pub fn leave(&self, id: ExchangeId) -> Option<Failure> {
        let mut calls = self.lock();
        let at = calls.iter().position(|call| call.id == id)?;
        calls.remove(at).provider_failure
    }

    /// A provider call under `agent` ended: the latest one decides (a gateway that fell back
    /// from a failing provider to a working one has no provider failure to blame).
    pub fn provider_ended(&self, agent: ExchangeId, failure: Option<&Failure>) {
        if let Some(call) = self.lock().iter_mut().find(|call| call.id == agent) {
            call.provider_failure = failure.cloned();
        }
    }

    /// The agent exchange a provider call serves: the newest one in flight whose newest
    /// message the call carries, or the only one in flight when its text is too short to
    /// tell. A call carrying no in-flight conversation is linked to none.
    pub fn served_by(&self, provider_call: &CapturedRequest) -> Option<ExchangeId> {
        // Searched outside the lock: every agent exchange's start and end takes it.
        let candidates: Vec<(ExchangeId, [String; 2])> = self
            .lock()
            .iter()
            .map(|call| (call.id, call.needles.clone()))
            .collect();
        let body = provider_call.body.as_ref();
        let telling = |needles: &[String; 2]| needles[0].len() >= MIN_NEEDLE;
        let carried = candidates.iter().rev().find(|(_, needles)| {
            telling(needles)
                && needles
                    .iter()
                    .any(|needle| contains(body, needle.as_bytes()))
        });
        match (carried, candidates.as_slice()) {
            (Some((id, _)), _) => Some(*id),
            // One in flight whose text says too little to tell: it is the only candidate.
            (None, [(only, needles)]) if !telling(needles) => Some(*only),
            (None, _) => None,
        }
    }
}

fn newest_message_text(start: &ExchangeStart) -> Option<String> {
    let decoded = decode_request(start.dialect, &start.request.body)?;
    let newest = decoded.messages.last()?;
    let text: Vec<&str> = newest
        .parts
        .iter()
        .filter_map(|part| match part {
            Part::Text(text) => Some(text.as_str()),
            Part::ToolResult { content, .. } => Some(content.as_str()),
            _ => None,
        })
        .collect();
    // The longest piece: a gateway may split or rewrap parts, rarely a piece itself.
    text.into_iter()
        .max_by_key(|t| t.len())
        .map(|t| t.chars().take(200).collect())
}

fn unquoted(quoted: &str) -> String {
    quoted.trim_matches('"').to_string()
}

/// JSON text with every non-ASCII character escaped as `\uXXXX` (UTF-16), the way Python's
/// `json.dumps` writes it by default.
fn ascii_escaped(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::test_fixtures::agent_start;
    use crate::capture::FailureClass;

    fn start(id: u64, body: &str) -> ExchangeStart {
        agent_start(id, "/v1/chat/completions", body)
    }

    fn chat(text: &str) -> String {
        serde_json::json!({"model": "m", "messages": [{"role": "user", "content": text}]})
            .to_string()
    }

    #[test]
    fn a_provider_call_is_linked_to_the_agent_exchange_whose_message_it_carries() {
        let calls = AgentCalls::default();
        calls.enter(&start(1, &chat("Rename \"load\" in src/config.rs")));
        calls.enter(&start(2, &chat("Add a test for the parser")));
        // The gateway rewrapped the request for Anthropic: the text is what carries over.
        let to_anthropic = serde_json::json!({
            "model": "claude", "max_tokens": 10,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Rename \"load\" in src/config.rs"}]}],
        });
        let call = start(9, &to_anthropic.to_string()).request;
        assert_eq!(calls.served_by(&call), Some(ExchangeId(1)));
        assert_eq!(calls.leave(ExchangeId(1)), None);
        assert_eq!(
            calls.served_by(&call),
            None,
            "two in flight, neither carried"
        );
        calls.provider_ended(
            ExchangeId(2),
            Some(&Failure::new(FailureClass::Tls, "bad cert")),
        );
        assert_eq!(
            calls.leave(ExchangeId(2)).map(|f| f.class),
            Some(FailureClass::Tls)
        );
        calls.enter(&start(3, &chat("hi")));
        assert_eq!(
            calls.served_by(&start(10, "{}").request),
            Some(ExchangeId(3)),
            "the only one in flight"
        );
    }

    #[test]
    fn a_gateway_that_escapes_non_ascii_still_carries_the_conversation() {
        let calls = AgentCalls::default();
        calls.enter(&start(
            1,
            &chat("Renomme le chargeur de configuration — vite"),
        ));
        calls.enter(&start(2, &chat("Ajoute un test pour l'analyseur")));
        let escaped = r#"{"messages":[{"role":"user","content":"Renomme le chargeur de configuration \u2014 vite"}]}"#;
        assert_eq!(
            calls.served_by(&start(9, escaped).request),
            Some(ExchangeId(1))
        );
    }

    #[test]
    fn provider_specs_are_checked() {
        let provider = Provider::parse("openai=http://127.0.0.1:4000").expect("valid");
        assert_eq!(provider.name, "openai");
        assert!(matches!(
            Provider::parse("http://x"),
            Err(ProviderSpecError::Shape(_))
        ));
        assert!(matches!(
            Provider::parse("a/b=http://x"),
            Err(ProviderSpecError::Name(_))
        ));
        assert!(matches!(
            Provider::parse("p=ftp://x"),
            Err(ProviderSpecError::Url { .. })
        ));
    }
}
