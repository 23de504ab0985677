//! Rules: fixes kept by the user and applied to every later matching request before it is
//! forwarded, for agents that keep making the same mistake (dropping `model` on follow-up
//! calls, not sending a header the gateway wants, forcing a `tool_choice` the provider
//! refuses). Stored as JSON with the session.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{apply_fix, params, pointer, EditableRequest, FixError, FixOutcome, QuickFix};
use crate::capture::{is_secret_header, REDACTED};
use crate::llm::Dialect;

/// One kept fix: which requests it applies to and what it does to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: u64,
    pub enabled: bool,
    pub matcher: RuleMatch,
    pub action: RuleAction,
    /// The exchange the rule was made from (`#12`), so the list can say why it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_from: Option<String>,
}

impl Rule {
    /// The rule as it may be written down, sent to another screen or shown: a credential it
    /// sets (a header rule, or a kept "add header" fix) reads `<redacted>`.
    pub fn redacted(mut self) -> Self {
        if let Some((name, value)) = self.action.header_mut() {
            if is_secret_header(name) {
                *value = REDACTED.to_string();
            }
        }
        self
    }
}

/// `incoming` rules (from a screen, credentials redacted) with each `<redacted>` value given
/// back the one the same rule (same id and header) has in `current`; a new rule keeps the
/// mark, so it can never borrow another rule's key.
pub fn restore_secrets(incoming: Vec<Rule>, current: &[Rule]) -> Vec<Rule> {
    incoming
        .into_iter()
        .map(|mut rule| {
            let id = rule.id;
            if let Some((name, value)) = rule.action.header_mut() {
                let known = current.iter().find_map(|old| match old.action.header() {
                    Some((old_name, old_value))
                        if old.id == id && old_name.eq_ignore_ascii_case(name) =>
                    {
                        Some(old_value)
                    }
                    _ => None,
                });
                if let (true, Some(real)) = (value == REDACTED, known) {
                    *value = real.to_string();
                }
            }
            rule
        })
        .collect()
}

/// Which requests a rule applies to: all of the given conditions hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleMatch {
    /// The HTTP method, any case.
    pub method: Option<String>,
    /// A piece of the path (query included), e.g. `/chat/completions`.
    pub path_contains: Option<String>,
    /// The body's model exactly, or `*` for any request that names a model.
    pub model: Option<String>,
    /// Only requests whose body names no model (absent, null or empty).
    pub model_missing: bool,
}

impl RuleMatch {
    pub fn matches(&self, method: &str, path: &str, model: Option<&str>) -> bool {
        let model = model.filter(|model| !model.is_empty());
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|wanted| wanted.eq_ignore_ascii_case(method));
        let path_ok = self
            .path_contains
            .as_deref()
            .is_none_or(|piece| path.contains(piece));
        let model_ok = match self.model.as_deref() {
            None => true,
            Some("*") => model.is_some(),
            Some(wanted) => model == Some(wanted),
        };
        method_ok && path_ok && model_ok && (!self.model_missing || model.is_none())
    }
}

/// What a rule does to a matching request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RuleAction {
    Fix(QuickFix),
    /// Sets the body value at a JSON pointer (`/model`, `/metadata/user_id`), creating
    /// missing objects on the way.
    SetField {
        pointer: String,
        value: Value,
    },
    RemoveField {
        pointer: String,
    },
    SetHeader {
        name: String,
        value: String,
    },
    RemoveHeader {
        name: String,
    },
}

impl RuleAction {
    /// The header this action sets and its value: where a credential can be kept.
    fn header(&self) -> Option<(&str, &str)> {
        match self {
            Self::SetHeader { name, value } | Self::Fix(QuickFix::AddHeader { name, value }) => {
                Some((name, value))
            }
            _ => None,
        }
    }

    fn header_mut(&mut self) -> Option<(&str, &mut String)> {
        match self {
            Self::SetHeader { name, value } | Self::Fix(QuickFix::AddHeader { name, value }) => {
                Some((name.as_str(), value))
            }
            _ => None,
        }
    }

    /// Applies the action to a request, as [`apply_fix`] does for a quick fix.
    pub fn apply(
        &self,
        dialect: Dialect,
        request: &mut EditableRequest,
    ) -> Result<FixOutcome, FixError> {
        match self {
            Self::Fix(fix) => apply_fix(fix, dialect, request),
            Self::SetField { pointer, value } => {
                super::body_object(&mut request.body)?;
                pointer::set(&mut request.body, pointer, value.clone())
            }
            Self::RemoveField { pointer } => {
                super::body_object(&mut request.body)?;
                pointer::remove(&mut request.body, pointer)
            }
            Self::SetHeader { name, value } => {
                params::set_header(&mut request.headers, name, value)
            }
            Self::RemoveHeader { name } => Ok(params::remove_header(&mut request.headers, name)),
        }
    }

    /// Whether the action edits the body (and not only the headers).
    pub fn edits_body(&self) -> bool {
        match self {
            Self::Fix(fix) => fix.edits_body(),
            Self::SetField { .. } | Self::RemoveField { .. } => true,
            Self::SetHeader { .. } | Self::RemoveHeader { .. } => false,
        }
    }
}

/// A rule that changed a request, for marking the exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRule {
    pub id: u64,
    pub summary: String,
    /// Whether the body changed; when no applied rule says so, the original body bytes can be
    /// forwarded as they came.
    pub edits_body: bool,
}

/// Applies the enabled rules that match, in order; each sees the request as the rules before
/// it left it (a rule that adds the model makes a later rule on that model match). Reports
/// only the rules that changed something. A rule that cannot work on this request (a body
/// that is not JSON) is passed over: forwarding must never fail because of a rule.
pub fn apply_rules(
    rules: &[Rule],
    dialect: Dialect,
    method: &str,
    path: &str,
    request: &mut EditableRequest,
) -> Vec<AppliedRule> {
    let mut applied = Vec::new();
    for rule in rules.iter().filter(|rule| rule.enabled) {
        let model = request.body.get("model").and_then(Value::as_str);
        if !rule.matcher.matches(method, path, model) {
            continue;
        }
        if let Ok(outcome) = rule.action.apply(dialect, request) {
            if outcome.changed {
                applied.push(AppliedRule {
                    id: rule.id,
                    summary: outcome.summary,
                    edits_body: rule.action.edits_body(),
                });
            }
        }
    }
    applied
}

impl fmt::Display for RuleMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(method) = &self.method {
            parts.push(method.to_ascii_uppercase());
        }
        if let Some(piece) = &self.path_contains {
            parts.push(format!("path has `{piece}`"));
        }
        match self.model.as_deref() {
            Some("*") => parts.push("any model".to_string()),
            Some(model) => parts.push(format!("model `{model}`")),
            None => {}
        }
        if self.model_missing {
            parts.push("no model".to_string());
        }
        if parts.is_empty() {
            f.write_str("every request")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

impl fmt::Display for RuleAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fix(fix) => write!(f, "{fix}"),
            Self::SetField { pointer, value } => write!(f, "set {pointer} to {value}"),
            Self::RemoveField { pointer } => write!(f, "remove {pointer}"),
            Self::SetHeader { name, .. } if is_secret_header(name) => {
                write!(f, "set header `{name}: {REDACTED}`")
            }
            Self::SetHeader { name, value } => write!(f, "set header `{name}: {value}`"),
            Self::RemoveHeader { name } => write!(f, "remove header `{name}`"),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {}", self.matcher, self.action)?;
        if !self.enabled {
            f.write_str(" (off)")?;
        }
        Ok(())
    }
}
