//! Diagnosis of the common LLM 400s (and auth, rate limits): what went wrong in words a user
//! can act on, from the upstream's own error message. Plain string search, because the
//! messages are free text that OpenAI, Anthropic and the gateways in front of them (LiteLLM)
//! word and wrap differently.

mod families;
mod find;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_families;

use self::find::{location, name_at_end, Text};

/// The kind of failure, with what the message says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiagnosisKind {
    /// The prompt (or prompt plus `max_tokens`) is over the model's context or output limit.
    ContextLength {
        limit: Option<u64>,
        requested: Option<u64>,
    },
    /// Tool calls and tool results do not pair up in the conversation.
    ToolPairing,
    /// A parameter the upstream does not accept; `param` is its name or dotted path.
    UnsupportedParam {
        param: Option<String>,
    },
    /// A tool definition the upstream rejects; `tool` is its name, or its path (`tools.0`)
    /// when the message only gives a position.
    InvalidToolSchema {
        tool: Option<String>,
    },
    UnknownModel {
        model: Option<String>,
    },
    Auth,
    RateLimit,
    /// The upstream (often a gateway) wants a header the agent did not send.
    MissingHeader {
        header: Option<String>,
    },
    /// The model refuses the request's `tool_choice` (only "auto", or none while thinking).
    UnsupportedToolChoice,
    /// Two (or more) parameters the model says cannot be sent together, as named.
    ConflictingParams {
        params: Vec<String>,
    },
    /// Extended-thinking blocks are missing or out of order in the assistant turns.
    ThinkingBlocks,
    /// More `cache_control` breakpoints than the upstream allows; `max` when it says.
    TooManyCacheControl {
        max: Option<u64>,
    },
    /// A message (or a text block) with empty content.
    EmptyContent,
}

/// A diagnosis and its one-line summary for the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub kind: DiagnosisKind,
    pub summary: String,
}

/// Recognises an upstream error message; `None` when it is none of the known failures.
/// More specific readings go first: a context overflow often arrives as a 400 that also
/// mentions parameters, an auth failure can name a missing header.
pub fn diagnose(status: Option<u16>, message: &str) -> Option<Diagnosis> {
    let text = Text::new(message);
    context_length(&text)
        .or_else(|| families::unsupported_tool_choice(&text))
        .or_else(|| families::thinking_blocks(&text))
        .or_else(|| families::too_many_cache_control(&text))
        .or_else(|| families::empty_content(&text))
        .or_else(|| families::conflicting_params(&text))
        .or_else(|| tool_pairing(&text))
        .or_else(|| invalid_tool_schema(&text))
        .or_else(|| unsupported_param(&text))
        .or_else(|| unknown_model(&text))
        .or_else(|| missing_header(&text))
        .or_else(|| auth_or_rate_limit(status, &text))
}

fn diagnosis(kind: DiagnosisKind, summary: String) -> Option<Diagnosis> {
    Some(Diagnosis { kind, summary })
}

fn context_length(text: &Text<'_>) -> Option<Diagnosis> {
    const OUTPUT_LIMIT: &[&str] = &[
        "max_tokens is too large",
        "maximum allowed number of output tokens",
    ];
    let output_limit = text.has_any(OUTPUT_LIMIT);
    if !output_limit
        && !text.has_any(&[
            "context_length_exceeded",
            "maximum context length",
            "context length exceeded",
            "prompt is too long",
            "exceed context limit",
            "exceeds the context window",
            "contextwindowexceeded",
            "reduce the length of the messages",
            // Gemini: "The input token count (N) exceeds the maximum number of tokens allowed (M)."
            "exceeds the maximum number of tokens allowed",
        ])
    {
        return None;
    }
    let comparison = text.comparison();
    let limit = text
        .number_after("maximum context length is")
        .or_else(|| text.number_after("maximum number of tokens allowed ("))
        .or_else(|| text.number_after("supports at most"))
        .or(comparison.map(|(_, limit)| limit));
    let requested = text
        .number_after("resulted in")
        .or_else(|| text.number_after("input token count ("))
        .or_else(|| text.number_after("you requested"))
        // OpenRouter: "However, you requested about 42832 tokens (42832 of text input)".
        .or_else(|| text.number_after("you requested about"))
        .or_else(|| text.number_after("prompt is too long:"))
        .or_else(|| text.number_after("max_tokens is too large:"))
        .or(comparison.and_then(|(requested, _)| requested));
    let (what, advice) = if output_limit {
        ("max_tokens too large", "lower max_tokens")
    } else {
        ("context too long", "drop older turns or lower max_tokens")
    };
    let summary = match (requested, limit) {
        (Some(requested), Some(limit)) => {
            format!("{what}: {requested} tokens requested, limit {limit} — {advice}")
        }
        (Some(requested), None) => format!("{what}: {requested} tokens requested — {advice}"),
        (None, Some(limit)) => format!("{what}: limit {limit} tokens — {advice}"),
        (None, None) => format!("{what} — {advice}"),
    };
    diagnosis(DiagnosisKind::ContextLength { limit, requested }, summary)
}

fn tool_pairing(text: &Text<'_>) -> Option<Diagnosis> {
    // Anthropic writes the block names with or without backticks.
    let detail = if text.has_any(&[
        "tool_use ids were found without tool_result",
        "ids were found without `tool_result`",
    ]) {
        "a tool_use has no matching tool_result"
    } else if text.has_any(&[
        "must be followed by tool messages",
        "did not have response messages",
    ]) {
        "a tool call has no tool message answering it"
    } else if text.has_any(&["no tool output found for"]) {
        "a function call has no function_call_output"
    } else if text.has_any(&["no tool call found for function call output"]) {
        "a function_call_output answers no function call before it"
    } else if text.has_any(&[
        "unexpected `tool_use_id`",
        "unexpected tool_use_id",
        "must have a corresponding `tool_use`",
    ]) {
        "a tool_result answers no tool_use before it"
    } else if text.has_any(&[
        // OpenAI spells it "preceeding"; match both spellings.
        "must be a response to a prece",
        "function response turn comes immediately after a function call",
    ]) {
        "a tool message answers no tool call before it"
    } else if text.has_any(&[
        "number of function response parts is equal to the number of function call parts",
    ]) {
        "a function call has no functionResponse part answering it"
    } else {
        return None;
    };
    diagnosis(
        DiagnosisKind::ToolPairing,
        format!("tool call / tool result mismatch — {detail}"),
    )
}

fn invalid_tool_schema(text: &Text<'_>) -> Option<Diagnosis> {
    let tool = if text.has_any(&["invalid schema for function"]) {
        text.name_after("invalid schema for function")
    } else if text.has_any(&["invalid_function_parameters"]) {
        tool_path(text)
    } else if text.has_any(&["input_schema", ".parameters"]) {
        // Only about a tool when it says which one; `input_schema` alone may be prose.
        Some(tool_path(text)?)
    } else {
        return None;
    };
    let summary = match &tool {
        Some(tool) if tool.starts_with("tools") => {
            format!("invalid tool schema at {tool} — fix or drop that tool")
        }
        Some(tool) => format!("invalid tool schema for `{tool}` — fix or drop that tool"),
        None => "invalid tool schema — fix or drop the tool the upstream names".to_string(),
    };
    diagnosis(DiagnosisKind::InvalidToolSchema { tool }, summary)
}

/// `tools.0` or `tools[0]`, as Anthropic and OpenAI locate a tool in their messages.
fn tool_path(text: &Text<'_>) -> Option<String> {
    for (marker, close) in [("tools.", ""), ("tools[", "]")] {
        if let Some(index) = text.number_after(marker) {
            return Some(format!("{marker}{index}{close}"));
        }
    }
    None
}

fn unsupported_param(text: &Text<'_>) -> Option<Diagnosis> {
    let named = [
        "unrecognized request argument supplied:",
        "unrecognized request arguments supplied:",
        // A Python SDK behind a gateway: "create() got an unexpected keyword argument 'x'".
        "got an unexpected keyword argument",
        "unsupported parameter:",
        "unknown parameter:",
        "does not support parameters: [",
        "unknown name",
    ]
    .iter()
    .find(|marker| text.has_any(&[marker]));
    let param = if let Some(marker) = named {
        text.name_after(marker)
    } else if text.has_any(&["unsupported value:"]) {
        let param = text.name_after("unsupported value:");
        let summary = match &param {
            Some(param) => format!("unsupported value for `{param}` — change or remove it"),
            None => "unsupported parameter value — change or remove it".to_string(),
        };
        return diagnosis(DiagnosisKind::UnsupportedParam { param }, summary);
    } else if text.has_any(&["extra inputs are not permitted", "extra_forbidden"]) {
        location(text).or_else(|| name_at_end(text.before(": extra inputs are not permitted")?))
    } else {
        return None;
    };
    // "Use 'max_completion_tokens' instead", "has moved to 'reasoning.effort'".
    let renamed = text.has_any(&[" instead", "has moved to", "renamed to"]);
    let summary = match &param {
        Some(param) if renamed => {
            format!("parameter `{param}` has another name here — rename it as the upstream says")
        }
        Some(param) => format!("unsupported parameter `{param}` — remove it"),
        None => "unsupported parameter — remove the one the upstream names".to_string(),
    };
    diagnosis(DiagnosisKind::UnsupportedParam { param }, summary)
}

fn unknown_model(text: &Text<'_>) -> Option<Diagnosis> {
    let model = if text.has_any(&["invalid model name passed in model="]) {
        text.name_after("invalid model name passed in model=")
    } else if text.has_any(&["model_not_found", "does not exist", "not_found_error"])
        && text.has_any(&["model"])
    {
        // OpenAI: "The model `x` does not exist"; Anthropic's 404: "model: x".
        text.name_after("the model ")
            .or_else(|| text.name_after("model: "))
    } else if text.starts_with("model:") {
        // Anthropic's 404 `not_found_error` message is just "model: <name>".
        text.name_after("model:")
    } else if text.has_any(&["is not found for api version"]) {
        // Gemini: "models/x is not found for API version v1beta, or is not supported for …".
        text.name_after("models/")
    } else if text.has_any(&["is not a valid model"]) {
        name_at_end(text.before(" is not a valid model")?)
    } else {
        return None;
    };
    let summary = match &model {
        Some(model) => format!("unknown model `{model}`"),
        None => "unknown model — check the model name the agent sends".to_string(),
    };
    diagnosis(DiagnosisKind::UnknownModel { model }, summary)
}

fn missing_header(text: &Text<'_>) -> Option<Diagnosis> {
    let header = text
        .before("header is required")
        .and_then(name_at_end)
        .or_else(|| {
            let rest = text.after("missing ")?;
            let rest = rest.trim_start();
            let rest = strip_word(rest, "required");
            let rest = strip_word(rest, "http");
            let rest = strip_word(rest, "header:");
            let rest = strip_word(rest, "header");
            find::name_at_start(rest)
        })
        .filter(|name| looks_like_header(name))?;
    let summary =
        format!("missing header `{header}` — the upstream requires it; have the agent send it");
    diagnosis(
        DiagnosisKind::MissingHeader {
            header: Some(header),
        },
        summary,
    )
}

fn strip_word<'t>(text: &'t str, word: &str) -> &'t str {
    match text.get(..word.len()) {
        Some(start) if start.eq_ignore_ascii_case(word) => text[word.len()..].trim_start(),
        _ => text,
    }
}

/// Header names are dashed words (`x-api-key`, `anthropic-version`); a bare word after
/// "missing" is usually a field ("missing required parameter") — except these.
fn looks_like_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let charset = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    charset && (name.contains('-') || matches!(name.as_str(), "authorization" | "cookie"))
}

fn auth_or_rate_limit(status: Option<u16>, text: &Text<'_>) -> Option<Diagnosis> {
    let auth_text = text.has_any(&[
        "invalid x-api-key",
        "incorrect api key",
        "invalid api key",
        "invalid_api_key",
        "api key not valid",
        "authentication_error",
        "authentication error",
        "authenticationerror",
        "invalid authentication",
        "invalid proxy server token",
        "unauthorized",
        "permission_error",
    ]);
    let rate_text = text.has_any(&[
        "rate limit",
        "rate_limit",
        "ratelimiterror",
        "too many requests",
        "exceeded your current quota",
        "resource_exhausted",
        // Gemini's 429 text; its status name is `RESOURCE_EXHAUSTED`.
        "resource exhausted",
    ]);
    let auth_status = matches!(status, Some(401 | 403));
    if auth_text || (auth_status && !rate_text) {
        diagnosis(
            DiagnosisKind::Auth,
            "authentication failed — check the API key the agent sends".to_string(),
        )
    } else if rate_text || status == Some(429) {
        diagnosis(
            DiagnosisKind::RateLimit,
            "rate limited — wait and retry, or check the account's quota".to_string(),
        )
    } else {
        None
    }
}
