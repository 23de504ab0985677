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
        if path.ends_with("/chat/completions") {
            Self::OpenAiChat
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
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(name: &str) -> Self {
        match name {
            "openai_chat" => Self::OpenAiChat,
            "openai_responses" => Self::OpenAiResponses,
            "anthropic" => Self::Anthropic,
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
            Self::Unknown => "unknown API",
        })
    }
}

/// The `model` field of a JSON request body, if the body is a JSON object that has one.
pub fn request_model(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ModelOnly {
        model: Option<serde_json::Value>,
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    match serde_json::from_slice::<ModelOnly>(body).ok()?.model? {
        serde_json::Value::String(model) => Some(model),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
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
    fn finds_the_model_of_a_json_body() {
        assert_eq!(
            request_model(br#"{"messages":[],"model":"gpt-4o"}"#).as_deref(),
            Some("gpt-4o")
        );
        assert_eq!(request_model(br#"{"model":null}"#), None);
        assert_eq!(request_model(b"not json"), None);
        assert_eq!(request_model(b""), None);
    }
}
