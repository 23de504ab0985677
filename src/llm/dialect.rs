//! Which API an exchange speaks, decided once from the request.

use std::fmt;

/// The API family of a request. Decides how bodies are decoded and how llmscope words the
/// error replies it makes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// OpenAI `/v1/chat/completions` (also what LiteLLM and most gateways speak).
    OpenAiChat,
    /// OpenAI `/v1/responses`.
    OpenAiResponses,
    /// Anthropic `/v1/messages`.
    Anthropic,
    /// Google's Gemini API: `…/models/{model}:generateContent`, `:streamGenerateContent`,
    /// `:countTokens`; the model is in the path, not the body.
    Gemini,
    /// Anything else: shown raw, errors answered in OpenAI's shape.
    #[default]
    Unknown,
}

impl Dialect {
    /// Decides the dialect from the request path (query string ignored), falling back to the
    /// `anthropic-version` header that every Anthropic client sends.
    pub fn detect(path_and_query: &str, has_anthropic_version: bool) -> Self {
        let path = path_and_query
            .split_once('?')
            .map_or(path_and_query, |(p, _)| p)
            .trim_end_matches('/');
        // Gemini's OpenAI-compatible route (`/v1beta/openai/chat/completions`) is OpenAI's
        // dialect, so chat completions are decided first.
        if path.ends_with("/chat/completions") {
            Self::OpenAiChat
        } else if is_gemini_path(path) {
            Self::Gemini
        } else if path.ends_with("/responses") || path.contains("/responses/") {
            Self::OpenAiResponses
        } else if path.ends_with("/messages")
            || path.contains("/messages/")
            || has_anthropic_version
        {
            Self::Anthropic
        } else {
            Self::Unknown
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAiChat => "openai_chat",
            Self::OpenAiResponses => "openai_responses",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(name: &str) -> Self {
        match name {
            "openai_chat" => Self::OpenAiChat,
            "openai_responses" => Self::OpenAiResponses,
            "anthropic" => Self::Anthropic,
            "gemini" => Self::Gemini,
            _ => Self::Unknown,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OpenAiChat => "OpenAI chat",
            Self::OpenAiResponses => "OpenAI responses",
            Self::Anthropic => "Anthropic messages",
            Self::Gemini => "Gemini",
            Self::Unknown => "unknown API",
        })
    }
}

/// The methods a Gemini model is called with, as the last path segment says them
/// (`models/gemini-2.5-pro:streamGenerateContent`). Code Assist, which Gemini CLI calls when
/// signed in with Google, puts them after its version (`/v1internal:streamGenerateContent`).
const GEMINI_METHODS: &[&str] = &["generateContent", "streamGenerateContent", "countTokens"];

/// Versions only Google's APIs put in front of `models` (`GET /v1beta/models` lists them).
const GEMINI_VERSIONS: &[&str] = &["v1beta", "v1alpha", "v1internal"];

fn gemini_method(path: &str) -> Option<&str> {
    let last = path.rsplit('/').next()?;
    let (_, method) = last.rsplit_once(':')?;
    GEMINI_METHODS.contains(&method).then_some(method)
}

fn is_gemini_path(path: &str) -> bool {
    if gemini_method(path).is_some() {
        return true;
    }
    let segments: Vec<&str> = path.split('/').collect();
    segments
        .windows(2)
        .any(|pair| GEMINI_VERSIONS.contains(&pair[0]) && pair[1] == "models")
}

/// The model a Gemini request names in its path (`…/models/gemini-2.5-pro:generateContent` →
/// `gemini-2.5-pro`), query string ignored.
pub fn gemini_path_model(path_and_query: &str) -> Option<&str> {
    // Every request asks, and only Gemini's paths hold a colon.
    if !path_and_query.contains(':') {
        return None;
    }
    let path = path_and_query
        .split_once('?')
        .map_or(path_and_query, |(p, _)| p);
    gemini_method(path)?;
    let (before, last) = path.rsplit_once('/')?;
    before
        .rsplit('/')
        .next()
        .filter(|parent| *parent == "models")?;
    let (model, _) = last.rsplit_once(':')?;
    (!model.is_empty()).then_some(model)
}

/// The model a request asks for: from the path for Gemini, else the body's `model`.
pub fn request_model(target: &str, body: &[u8]) -> Option<String> {
    gemini_path_model(target)
        .map(str::to_string)
        .or_else(|| super::body_model::body_model(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_dialects_from_paths() {
        assert_eq!(
            Dialect::detect("/v1/chat/completions", false),
            Dialect::OpenAiChat
        );
        assert_eq!(
            Dialect::detect("/litellm/v1/chat/completions/", false),
            Dialect::OpenAiChat
        );
        assert_eq!(
            Dialect::detect("/v1/responses", false),
            Dialect::OpenAiResponses
        );
        assert_eq!(
            Dialect::detect("/v1/messages?beta=true", false),
            Dialect::Anthropic
        );
        assert_eq!(Dialect::detect("/", true), Dialect::Anthropic);
        assert_eq!(Dialect::detect("/v1/models", false), Dialect::Unknown);
    }

    #[test]
    fn detects_gemini_from_its_methods_and_versions() {
        for path in [
            "/v1beta/models/gemini-2.5-pro:generateContent",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            "/v1beta/models/gemini-2.5-pro:countTokens?key=k",
            "/v1internal:streamGenerateContent?alt=sse",
            "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent",
            "/v1beta/models",
        ] {
            assert_eq!(Dialect::detect(path, false), Dialect::Gemini, "{path}");
        }
        assert_eq!(
            Dialect::detect("/v1beta/openai/chat/completions", false),
            Dialect::OpenAiChat
        );
        assert_eq!(Dialect::detect("/v1/models/x:y", false), Dialect::Unknown);
        assert_eq!(Dialect::parse(Dialect::Gemini.as_str()), Dialect::Gemini);
    }

    #[test]
    fn a_gemini_model_comes_from_the_path() {
        let body = br#"{"contents":[]}"#;
        assert_eq!(
            request_model("/v1beta/models/gemini-2.5-pro:generateContent?key=k", body).as_deref(),
            Some("gemini-2.5-pro")
        );
        assert_eq!(
            request_model(
                "/v1internal:streamGenerateContent?alt=sse",
                br#"{"model":"gemini-2.5-pro","request":{}}"#
            )
            .as_deref(),
            Some("gemini-2.5-pro")
        );
        assert_eq!(request_model("/v1beta/models/:generateContent", body), None);
    }
}
