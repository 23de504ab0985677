//! `mock-validate`: an upstream that checks the request for one defect, named by the
//! `x-mock-validate` header, and answers 400 with the message a real provider or gateway
//! sends for it while the request carries it, and a normal reply once it is fixed. Tests of
//! the quick fixes send a defective request, apply the first fix offered, resend, and expect
//! the 200.
//!
//! The messages are real-world wordings (the source of each is in `validate_checks.rs`);
//! only the parts taken from the request (ids, counts, names) are filled in. The checks read
//! the request on their own, as the provider would, and share no code with the fixes.

use serde_json::{json, Value};

use super::behavior::VALIDATE_MODEL_PREFIX;
use super::request::header;
use super::validate_checks::{self as checks, Seen};
use super::validate_tools as tool_checks;
use crate::llm::Dialect;

/// The header that names the defect to check for.
pub const VALIDATE_HEADER: &str = "x-mock-validate";
/// The header that sets the context (or output) limit the token checks hold the request to.
pub const LIMIT_HEADER: &str = "x-mock-limit";
const DEFAULT_LIMIT: u64 = 4097;

/// The shape the error body takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The request's dialect: Anthropic's `{"type":"error",...}` or OpenAI's `{"error":...}`.
    Native,
    /// OpenAI's shape whatever the route (DeepSeek's Anthropic-compatible endpoint does so).
    OpenAi,
    /// LiteLLM's proxy: OpenAI's shape with `"code": "400"` and `"None"` for what it lacks.
    LiteLlm,
}

type Check = fn(&Seen<'_>) -> Option<String>;

/// Every defect the mock can check for: (name, error shape, check).
const CASES: &[(&str, Shape, Check)] = &[
    (
        "max-tokens-renamed",
        Shape::Native,
        checks::max_tokens_renamed,
    ),
    (
        "max-tokens-renamed-litellm",
        Shape::LiteLlm,
        checks::max_tokens_renamed_litellm,
    ),
    (
        "reasoning-effort-moved",
        Shape::Native,
        checks::reasoning_effort_moved,
    ),
    (
        "temperature-default-only",
        Shape::Native,
        checks::temperature_default_only,
    ),
    (
        "temperature-unsupported",
        Shape::Native,
        checks::temperature_unsupported,
    ),
    (
        "temperature-top-p",
        Shape::Native,
        checks::temperature_top_p,
    ),
    (
        "temperature-top-p-litellm",
        Shape::LiteLlm,
        checks::temperature_top_p_litellm,
    ),
    ("tool-pairing", Shape::Native, checks::tool_pairing),
    ("context-messages", Shape::Native, checks::context_messages),
    (
        "context-completion",
        Shape::Native,
        checks::context_completion,
    ),
    ("context-budget", Shape::Native, checks::context_budget),
    (
        "context-budget-litellm",
        Shape::LiteLlm,
        checks::context_budget_litellm,
    ),
    ("output-limit", Shape::Native, checks::output_limit),
    (
        "tool-choice-auto-only",
        Shape::Native,
        checks::tool_choice_auto_only,
    ),
    (
        "tool-choice-thinking-mode",
        Shape::Native,
        checks::tool_choice_thinking_mode,
    ),
    (
        "tool-choice-deepseek",
        Shape::OpenAi,
        checks::tool_choice_deepseek,
    ),
    (
        "thinking-forced-tool",
        Shape::Native,
        checks::thinking_forced_tool,
    ),
    (
        "thinking-first-block",
        Shape::Native,
        checks::thinking_first_block,
    ),
    (
        "thinking-disabled-blocks",
        Shape::Native,
        checks::thinking_disabled_blocks,
    ),
    (
        "cache-control-max",
        Shape::Native,
        checks::cache_control_max,
    ),
    ("empty-content", Shape::Native, checks::empty_content),
    (
        "schema-missing-properties",
        Shape::Native,
        tool_checks::schema_missing_properties,
    ),
    ("model-none", Shape::LiteLlm, checks::model_none),
    ("context-window", Shape::Native, checks::context_window),
    (
        "context-openrouter",
        Shape::Native,
        checks::context_openrouter,
    ),
    (
        "anthropic-version-required",
        Shape::Native,
        checks::anthropic_version_required,
    ),
    (
        "thinking-cache-control",
        Shape::Native,
        checks::thinking_cache_control,
    ),
    (
        "schema-strict",
        Shape::Native,
        tool_checks::strict_additional_properties,
    ),
    (
        "cache-control-forbidden",
        Shape::Native,
        checks::cache_control_forbidden,
    ),
];

/// The names `x-mock-validate` accepts.
pub fn validate_case_names() -> impl Iterator<Item = &'static str> {
    CASES.iter().map(|(name, _, _)| *name)
}

/// The error reply for the defect the request is checked for, or `None` when it is clean
/// (or names no known check, or has no JSON object body to check).
pub(super) fn defect(
    headers: &[(String, String)],
    json: Option<&Value>,
    body_len: usize,
    dialect: Dialect,
) -> Option<(u16, String)> {
    let object = json?.as_object()?;
    let by_model = object
        .get("model")
        .and_then(Value::as_str)
        .and_then(|model| model.strip_prefix(VALIDATE_MODEL_PREFIX));
    let wanted = header(headers, VALIDATE_HEADER).or(by_model)?;
    let limit = header(headers, LIMIT_HEADER)
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(DEFAULT_LIMIT);
    let seen = Seen {
        body: object,
        dialect,
        tokens: body_len as u64 / 4,
        limit,
        headers,
    };
    // Several checks may be named, comma-separated; the first that trips answers.
    wanted.split(',').find_map(|name| {
        let (_, shape, check) = CASES.iter().find(|(case, _, _)| *case == name.trim())?;
        let message = check(&seen)?;
        Some((400, error_body(*shape, dialect, &message)))
    })
}

fn error_body(shape: Shape, dialect: Dialect, message: &str) -> String {
    let value = match (shape, dialect) {
        (Shape::Native, Dialect::Anthropic) => json!({
            "type": "error",
            "error": {"type": "invalid_request_error", "message": message},
        }),
        (Shape::LiteLlm, _) => json!({
            "error": {"message": message, "type": "None", "param": "None", "code": "400"},
        }),
        _ => json!({
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": null,
                "code": null,
            }
        }),
    };
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::error_object_message;

    fn check(case: &str, body: Value, dialect: Dialect) -> Option<String> {
        let headers = vec![(VALIDATE_HEADER.to_string(), case.to_string())];
        let len = body.to_string().len();
        defect(&headers, Some(&body), len, dialect)
            .map(|(_, reply)| error_object_message(reply.as_bytes()).unwrap_or_default())
    }

    #[test]
    fn a_clean_request_passes_and_a_defective_one_is_named() {
        let body = json!({"model": "m", "messages": [], "max_tokens": 5});
        assert!(check("max-tokens-renamed", body, Dialect::OpenAiChat)
            .is_some_and(|m| m.contains("'max_completion_tokens'")));
        let body = json!({"model": "m", "messages": [], "max_completion_tokens": 5});
        assert_eq!(check("max-tokens-renamed", body, Dialect::OpenAiChat), None);
        assert_eq!(check("no-such-check", json!({}), Dialect::OpenAiChat), None);
    }

    #[test]
    fn the_model_may_name_the_checks_when_no_header_does() {
        let body =
            json!({"model": "mock-validate:temperature-top-p", "temperature": 1, "top_p": 1});
        let len = body.to_string().len();
        assert!(defect(&[], Some(&body), len, Dialect::Anthropic).is_some());
        let body = json!({"model": "mock-validate:temperature-top-p", "temperature": 1});
        assert!(defect(&[], Some(&body), len, Dialect::Anthropic).is_none());
    }

    #[test]
    fn every_case_name_is_distinct() {
        let names: Vec<_> = validate_case_names().collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(names.len(), unique.len());
    }
}
