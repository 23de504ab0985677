//! The failures whose fix is not "remove the parameter": a `tool_choice` the model will not
//! take, two parameters that cannot go together, `thinking` blocks out of order, too many
//! `cache_control` breakpoints and messages left empty. Each reading keys on the words the
//! providers use (and gateways pass through inside their own wrappers), never on one exact
//! sentence, because the same failure reaches the agent worded several ways.

use super::find::{leading_number, Text};
use super::{diagnosis, Diagnosis, DiagnosisKind};

/// `tool_choice` values the model refuses: `only "auto" is supported`, DeepSeek's
/// `does not support this tool_choice`, Qwen's `does not support being set to required`,
/// Anthropic's `Thinking may not be enabled when tool_choice forces tool use`.
pub(super) fn unsupported_tool_choice(text: &Text<'_>) -> Option<Diagnosis> {
    if !text.has_any(&["tool_choice", "tool choice"]) {
        return None;
    }
    let refused = text.has_any(&[
        "only \"auto\"",
        "only 'auto'",
        "only `auto`",
        "only auto",
        "does not support this tool_choice",
        "does not support this `tool_choice`",
        "does not support being set to",
        "forces tool use",
        "is not supported for tool_choice",
        "tool_choice is not supported",
        "unsupported tool_choice",
    ]);
    if !refused {
        return None;
    }
    diagnosis(
        DiagnosisKind::UnsupportedToolChoice,
        "the model does not accept this tool_choice — let it choose (auto)".to_string(),
    )
}

/// "`temperature` and `top_p` cannot both be specified", "… are mutually exclusive", "…
/// cannot be used together": the names are the quoted words before the marker.
pub(super) fn conflicting_params(text: &Text<'_>) -> Option<Diagnosis> {
    let before = [
        "cannot both be specified",
        "cannot both be set",
        "cannot be used together",
        "are mutually exclusive",
        "cannot be specified together",
        "only one of",
    ]
    .iter()
    .find_map(|marker| text.before(marker))?;
    // Only the sentence the marker ends: a wrapper's text before it names no parameter.
    let sentence = before.rsplit(['.', '{', ':']).next().unwrap_or(before);
    let params = quoted_names(sentence)
        .into_iter()
        .chain(bare_pair(sentence))
        .fold(Vec::new(), |mut names, name| {
            if !names.contains(&name) {
                names.push(name);
            }
            names
        });
    if params.len() < 2 {
        return None;
    }
    let summary = format!(
        "`{}` cannot go together — drop one of them",
        params.join("` and `")
    );
    diagnosis(DiagnosisKind::ConflictingParams { params }, summary)
}

/// Names in backticks (or else single quotes), in order: every other piece between quotes.
fn quoted_names(text: &str) -> Vec<String> {
    for quote in ['`', '\'', '"'] {
        let names: Vec<String> = text
            .split(quote)
            .skip(1)
            .step_by(2)
            .filter(|name| is_param_name(name))
            .map(str::to_string)
            .collect();
        if !names.is_empty() {
            return names;
        }
    }
    Vec::new()
}

/// `temperature and top_p` with no quotes: the words around the last " and ".
fn bare_pair(text: &str) -> Vec<String> {
    let Some((left, right)) = text.rsplit_once(" and ") else {
        return Vec::new();
    };
    let left = left.split_whitespace().last().unwrap_or_default();
    let right = right.split_whitespace().next().unwrap_or_default();
    [left, right]
        .into_iter()
        .filter(|name| is_param_name(name) && name.contains('_'))
        .map(str::to_string)
        .collect()
}

fn is_param_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Anthropic's block-order rules for extended thinking, in both directions: thinking on and
/// the last assistant turn does not start with a thinking block, or thinking off and the
/// turn still carries one.
pub(super) fn thinking_blocks(text: &Text<'_>) -> Option<Diagnosis> {
    let about_order = text.has_any(&[
        "must start with a thinking block",
        "first block must be thinking",
        "expected `thinking` or `redacted_thinking`",
        "expected thinking or redacted_thinking",
        "cannot contain `thinking`",
        "cannot contain thinking",
    ]);
    if !about_order {
        return None;
    }
    diagnosis(
        DiagnosisKind::ThinkingBlocks,
        "thinking blocks out of order — send this request without thinking".to_string(),
    )
}

/// "A maximum of 4 blocks with cache_control may be provided. Found 5."
pub(super) fn too_many_cache_control(text: &Text<'_>) -> Option<Diagnosis> {
    if !text.has_any(&["cache_control"]) || !text.has_any(&["maximum of", "at most", "too many"]) {
        return None;
    }
    let max = text
        .number_after("maximum of")
        .or_else(|| text.number_after("at most"));
    let found = text.after("found").and_then(leading_number);
    let summary = match (max, found) {
        (Some(max), Some(found)) => {
            format!("{found} cache_control blocks, at most {max} allowed — remove the extra ones")
        }
        _ => "too many cache_control blocks — remove the extra ones".to_string(),
    };
    diagnosis(DiagnosisKind::TooManyCacheControl { max }, summary)
}

/// "all messages must have non-empty content", "text content blocks must be non-empty",
/// OpenAI-compatible servers' "content … must not be empty".
pub(super) fn empty_content(text: &Text<'_>) -> Option<Diagnosis> {
    let empty = text.has_any(&[
        "must have non-empty content",
        "content blocks must be non-empty",
        "content blocks must contain non-whitespace text",
        "content must be non-empty",
        "content must not be empty",
        "content cannot be empty",
        "message content is empty",
    ]);
    if !empty {
        return None;
    }
    diagnosis(
        DiagnosisKind::EmptyContent,
        "a message has empty content — remove the empty messages".to_string(),
    )
}
