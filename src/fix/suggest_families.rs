//! The fixes offered for the families `suggest` delegates here: what an unsupported
//! parameter's message asks for instead (a new name, a field below the top level), two
//! parameters that cannot go together, and the block-level failures (thinking, cache
//! breakpoints, empty content). Each reads the request so that a fix is only offered for
//! what the body really holds.

use serde_json::{Map, Value};

use super::{nested, QuickFix};

/// Conversation fields: removing one of them is never a fix for a misnamed parameter.
const NEVER_REMOVED: &[&str] = &["messages", "input", "system", "instructions", "model"];

/// How many breakpoints Anthropic allows when its message does not say.
const DEFAULT_CACHE_BREAKPOINTS: u64 = 4;

/// The fixes for an unsupported parameter beyond removing it: the rename the message asks
/// for, or the nested field it names. The second result says whether a nested field was
/// found, so that removing its whole top-level list is not offered as well.
pub(super) fn for_unsupported_param(
    body: &Map<String, Value>,
    param: &str,
    message: &str,
) -> (Vec<QuickFix>, bool) {
    let mut fixes = Vec::new();
    if body.contains_key(param) {
        if let Some(to) = rename_target(message).filter(|to| to != param) {
            fixes.push(QuickFix::RenameParam {
                from: param.to_string(),
                to,
            });
        }
    }
    let nested = nested::resolve(body, param);
    let found = nested.is_some();
    fixes.extend(nested.map(|path| QuickFix::RemoveNestedField { path }));
    (fixes, found)
}

/// The name a message says to use instead: "Use 'max_completion_tokens' instead", "this
/// parameter has moved to 'reasoning.effort'", "was renamed to `x`".
pub(super) fn rename_target(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    for marker in ["moved to ", "renamed to ", "use ", "please use "] {
        let mut from = 0;
        while let Some(found) = lower.get(from..).and_then(|rest| rest.find(marker)) {
            let at = from + found + marker.len();
            from = at;
            let Some(name) = message.get(at..).and_then(quoted_at_start) else {
                continue;
            };
            // "use 'x' instead" needs the "instead"; "moved to" and "renamed to" do not.
            let rest = &lower[at + name.len() + 2..];
            if marker.trim_end().ends_with("to") || rest.trim_start().starts_with("instead") {
                return Some(name);
            }
        }
    }
    None
}

/// A name in quotes or backticks right at the start of `text`.
fn quoted_at_start(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| "'\"`".contains(*c))?;
    let inner = &text[1..];
    let name = &inner[..inner.find(quote)?];
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    valid.then(|| name.to_string())
}

/// One of two parameters that cannot go together: the later-named first (`top_p` of
/// "`temperature` and `top_p`"), which is the less usual one to set on purpose.
pub(super) fn for_conflicting_params(
    body: &Map<String, Value>,
    params: &[String],
) -> Vec<QuickFix> {
    // The conflict needs both: with one of them gone the message is about another request.
    let present = params
        .iter()
        .filter(|name| body.contains_key(name.as_str()));
    if present.count() < 2 {
        return Vec::new();
    }
    params
        .iter()
        .rev()
        .filter(|name| body.contains_key(name.as_str()) && !is_conversation(name))
        .map(|name| QuickFix::RemoveParam { name: name.clone() })
        .collect()
}

pub(super) fn for_cache_control(max: Option<u64>) -> QuickFix {
    QuickFix::RemoveExtraCacheControl {
        max: max.unwrap_or(DEFAULT_CACHE_BREAKPOINTS),
    }
}

/// The prompt's own share of a context overflow, when the message gives it: OpenAI's "(N in
/// the messages, M in the completion)" or Anthropic's "input + max_tokens > limit".
pub(super) fn prompt_tokens(message: &str) -> Option<u64> {
    let lower = message.to_ascii_lowercase();
    if let Some(at) = lower.find(" in the messages") {
        return number(trailing_digits(&lower[..at]));
    }
    let (left, _) = lower.split_once(" > ")?;
    let (input, _) = left.rsplit_once(" + ")?;
    number(trailing_digits(input))
}

/// The run of digits (and thousands commas) that ends `text`.
fn trailing_digits(text: &str) -> &str {
    let start = text
        .char_indices()
        .rev()
        .find(|&(_, c)| !c.is_ascii_digit() && c != ',')
        .map_or(0, |(at, c)| at + c.len_utf8());
    &text[start..]
}

fn number(digits: &str) -> Option<u64> {
    let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The fields that hold the conversation and model: never removed to fix a parameter.
pub(super) fn is_conversation(name: &str) -> bool {
    NEVER_REMOVED.contains(&name)
}

/// Whether the tool call ids a message names (`call_…`, `toolu_…`, `fc_…`) include one this
/// body holds; true when it names none.
pub(super) fn named_ids_present(message: &str, body: &[u8]) -> bool {
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let named: Vec<&str> = message
        .split(|c: char| !is_id_char(c))
        // `call_id` is the field's name in "with call_id call_…", not an id.
        .filter(|word| *word != "call_id")
        .filter(|word| {
            ["call_", "toolu_", "srvtoolu_", "fc_"]
                .iter()
                .any(|prefix| word.starts_with(prefix) && word.len() > prefix.len())
        })
        .collect();
    if named.is_empty() {
        return true;
    }
    let body = String::from_utf8_lossy(body);
    named.iter().any(|id| body.contains(id))
}

/// The value a header the upstream asks for always takes, when there is one: Anthropic's
/// API version has had one stable value since 2023, which every SDK sends. Credentials and
/// gateway-specific headers have none; the user types those in.
pub(super) fn known_header_value(name: &str) -> Option<&'static str> {
    name.eq_ignore_ascii_case("anthropic-version")
        .then_some("2023-06-01")
}

/// The path of the tools' `strict` flag, when a tool sets it: inside `function` in OpenAI
/// chat, on the tool itself in the Responses API.
pub(super) fn strict_off(body: &Map<String, Value>) -> Option<String> {
    let tools = body.get("tools")?.as_array()?;
    let strict = |value: Option<&Value>| value.and_then(Value::as_bool) == Some(true);
    if tools
        .iter()
        .any(|tool| strict(tool.pointer("/function/strict")))
    {
        Some("tools.*.function.strict".to_string())
    } else if tools.iter().any(|tool| strict(tool.get("strict"))) {
        Some("tools.*.strict".to_string())
    } else {
        None
    }
}
