//! Quick fixes and rules: the edits llmscope makes to a request, either offered by the
//! diagnosis of a failed call (for the user to review in the editor) or kept as rules that
//! change every later matching request before it is forwarded.
//!
//! Pure logic on a parsed request: no I/O, no clock, nothing async, so the proxy can run rules
//! on its forwarding path and the TUI can preview a fix on every keystroke. A fix that finds
//! nothing to change says so in its outcome; only a request it cannot read is an error.

mod apply;
mod blocks;
mod conversation;
mod editor_text;
mod nested;
mod params;
mod pointer;
mod quick_fix;
mod rules;
mod suggest;
mod suggest_families;
mod tool_results;
mod tool_schemas;
mod turns;
mod unanswered_calls;

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::capture::HeaderList;

pub use apply::apply_fix;
pub(crate) use editor_text::json_error;
pub use editor_text::{from_editor_text, to_editor_text, EditorJsonError};
pub use quick_fix::QuickFix;
pub use rules::{apply_rules, restore_secrets, AppliedRule, Rule, RuleAction, RuleMatch};
pub use suggest::{suggest_fixes, FixContext};

/// The text a placeholder tool result carries, so the model (and whoever reads the record)
/// can tell it was not the tool's answer.
pub const MISSING_TOOL_RESULT: &str = "(tool result missing; added by llmscope)";

/// A request as the editor and the rules change it: headers in wire order and the parsed body.
#[derive(Debug, Clone, PartialEq)]
pub struct EditableRequest {
    pub headers: HeaderList,
    pub body: Value,
}

/// What applying a fix did, in words for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixOutcome {
    /// What changed ("dropped 3 oldest turns (12 messages)"), or why nothing did.
    pub summary: String,
    pub changed: bool,
}

impl FixOutcome {
    pub(crate) fn changed(summary: impl Into<String>) -> Self {
        Self {
            summary: summary.into(),
            changed: true,
        }
    }

    pub(crate) fn unchanged(reason: impl Into<String>) -> Self {
        Self {
            summary: reason.into(),
            changed: false,
        }
    }
}

/// A request a fix cannot work on at all. A fix that merely finds nothing to do is not an
/// error: it returns an unchanged [`FixOutcome`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    #[error("the request body is {found}, not a JSON object; fix the JSON first")]
    BodyNotAnObject { found: &'static str },
    #[error("`{pointer}` is not a JSON pointer: {reason}")]
    InvalidPointer { pointer: String, reason: String },
    #[error("header `{name}` cannot be sent: {reason}")]
    InvalidHeader { name: String, reason: String },
}

/// The body as an object, for fixes that edit fields.
pub(crate) fn body_object(
    body: &mut Value,
) -> Result<&mut serde_json::Map<String, Value>, FixError> {
    let found = json_kind(body);
    body.as_object_mut()
        .ok_or(FixError::BodyNotAnObject { found })
}

/// "an array", "a string"…: how a value reads in a message.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// "1 turn", "3 turns".
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
