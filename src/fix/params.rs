//! Fixes of single fields and headers: remove a parameter, cap the output tokens, set the
//! model or the tool choice, set or remove a header.

use serde_json::{json, Map, Value};

use super::conversation;
use super::{FixError, FixOutcome};
use crate::capture::HeaderList;
use crate::llm::Dialect;

pub(super) fn remove_param(body: &mut Map<String, Value>, name: &str) -> FixOutcome {
    match body.shift_remove(name) {
        Some(_) => FixOutcome::changed(format!("removed `{name}`")),
        None => FixOutcome::unchanged(format!("the body has no `{name}`")),
    }
}

/// Moves a top-level field to the name the upstream asks for; a dotted `to`
/// (`reasoning.effort`) puts it inside an object, created when missing. A value already at
/// `to` is kept and the old field only removed.
pub(super) fn rename_param(body: &mut Map<String, Value>, from: &str, to: &str) -> FixOutcome {
    let Some(value) = body.get(from).cloned() else {
        return FixOutcome::unchanged(format!("the body has no `{from}`"));
    };
    let steps: Vec<&str> = to.split('.').filter(|step| !step.is_empty()).collect();
    let Some((last, parents)) = steps.split_last() else {
        return FixOutcome::unchanged("no name to rename to");
    };
    let mut at = &mut *body;
    for step in parents {
        let slot = at.entry(step.to_string()).or_insert_with(|| json!({}));
        let Value::Object(inner) = slot else {
            return FixOutcome::unchanged(format!("`{step}` is not an object"));
        };
        at = inner;
    }
    let kept = at.contains_key(*last);
    if !kept {
        at.insert(last.to_string(), value);
    }
    if from != to {
        body.shift_remove(from);
    }
    if kept {
        FixOutcome::changed(format!("removed `{from}` (`{to}` is already set)"))
    } else {
        FixOutcome::changed(format!("renamed `{from}` to `{to}`"))
    }
}

/// The output-token fields a dialect uses, in the order they are looked for; the first is
/// the one added when the body has none.
pub(super) fn max_token_fields(dialect: Dialect) -> &'static [&'static str] {
    match dialect {
        Dialect::OpenAiChat => &["max_tokens", "max_completion_tokens"],
        Dialect::Anthropic => &["max_tokens"],
        Dialect::OpenAiResponses => &["max_output_tokens"],
        Dialect::Unknown => &["max_tokens", "max_completion_tokens", "max_output_tokens"],
        // `generationConfig.maxOutputTokens` is nested; no top-level field caps a Gemini reply.
        Dialect::Gemini => &[],
    }
}

/// The largest output-token limit the body asks for, if it sets one.
pub(super) fn current_max_tokens(dialect: Dialect, body: &Map<String, Value>) -> Option<u64> {
    let dialect = conversation::resolve(dialect, body);
    max_token_fields(dialect)
        .iter()
        .filter_map(|field| body.get(*field).and_then(Value::as_u64))
        .max()
}

pub(super) fn cap_max_tokens(
    dialect: Dialect,
    body: &mut Map<String, Value>,
    max: u64,
) -> FixOutcome {
    let dialect = conversation::resolve(dialect, body);
    let fields = max_token_fields(dialect);
    let present: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|field| body.contains_key(*field))
        .collect();
    if present.is_empty() {
        // No limit means the model's own maximum, so capping it means stating one.
        let field = fields[0];
        body.insert(field.to_string(), json!(max));
        return FixOutcome::changed(format!("set `{field}` to {max} (it was not set)"));
    }
    let mut lowered = Vec::new();
    for field in present.iter().copied() {
        let over = body
            .get(field)
            .and_then(Value::as_u64)
            .is_none_or(|value| value > max);
        if over {
            body.insert(field.to_string(), json!(max));
            lowered.push(format!("`{field}`"));
        }
    }
    if lowered.is_empty() {
        FixOutcome::unchanged(format!(
            "`{}` is already at most {max}",
            present.join("`, `")
        ))
    } else {
        FixOutcome::changed(format!("capped {} at {max}", lowered.join(" and ")))
    }
}

pub(super) fn set_model(body: &mut Map<String, Value>, model: &str) -> FixOutcome {
    match body.get("model") {
        Some(Value::String(current)) if current == model => {
            FixOutcome::unchanged(format!("the model is already `{model}`"))
        }
        Some(Value::String(current)) => {
            let summary = format!("changed the model from `{current}` to `{model}`");
            body.insert("model".to_string(), json!(model));
            FixOutcome::changed(summary)
        }
        Some(_) => {
            body.insert("model".to_string(), json!(model));
            FixOutcome::changed(format!("set the model to `{model}`"))
        }
        None => {
            // Where every agent puts it, so the diff reads as one added line at the top.
            insert_first(body, "model", json!(model));
            FixOutcome::changed(format!("added the model `{model}`"))
        }
    }
}

/// Whether the tool choice is set to anything but "auto".
pub(super) fn tool_choice_is_forced(body: &Map<String, Value>) -> bool {
    match body.get("tool_choice") {
        None => false,
        Some(Value::String(choice)) => choice != "auto",
        Some(choice) => choice.get("type").and_then(Value::as_str) != Some("auto"),
    }
}

pub(super) fn set_tool_choice_auto(dialect: Dialect, body: &mut Map<String, Value>) -> FixOutcome {
    let dialect = conversation::resolve(dialect, body);
    if !body.contains_key("tool_choice") {
        return FixOutcome::unchanged("no `tool_choice`; the default is already auto");
    }
    if !tool_choice_is_forced(body) {
        return FixOutcome::unchanged("`tool_choice` is already auto");
    }
    let before = body
        .get("tool_choice")
        .map(Value::to_string)
        .unwrap_or_default();
    let auto = if dialect == Dialect::Anthropic {
        // Keep `disable_parallel_tool_use`, which auto accepts; `name` only goes with `tool`.
        let mut choice = match body.get("tool_choice") {
            Some(Value::Object(choice)) => choice.clone(),
            _ => Map::new(),
        };
        choice.shift_remove("name");
        insert_first(&mut choice, "type", json!("auto"));
        Value::Object(choice)
    } else {
        json!("auto")
    };
    let after = auto.to_string();
    body.insert("tool_choice".to_string(), auto);
    FixOutcome::changed(format!("changed `tool_choice` from {before} to {after}"))
}

/// Sets `key` as the first field of `object`, replacing any field of that name.
pub(super) fn insert_first(object: &mut Map<String, Value>, key: &str, value: Value) {
    let rest = std::mem::take(object);
    object.insert(key.to_string(), value);
    object.extend(rest.into_iter().filter(|(name, _)| name != key));
}

/// Sets a header, replacing every header of the same name (names compare case-insensitively,
/// as in HTTP); a new header goes last.
pub(super) fn set_header(
    headers: &mut HeaderList,
    name: &str,
    value: &str,
) -> Result<FixOutcome, FixError> {
    check_header(name, value)?;
    let is_named = |n: &str| n.eq_ignore_ascii_case(name);
    let mut values = headers.iter().filter(|(n, _)| is_named(n)).map(|(_, v)| v);
    match (values.next(), values.next()) {
        (None, _) => {
            headers.push(name, value);
            return Ok(FixOutcome::changed(format!("added header `{name}`")));
        }
        (Some(only), None) if only == value => {
            return Ok(FixOutcome::unchanged(format!(
                "`{name}` is already set to that"
            )));
        }
        _ => {}
    }
    // The first header of that name takes the value; the others go.
    let mut seen = false;
    *headers = headers
        .iter()
        .filter_map(|(n, v)| match is_named(n) {
            false => Some((n, v)),
            true if seen => None,
            true => {
                seen = true;
                Some((n, value))
            }
        })
        .collect();
    Ok(FixOutcome::changed(format!("set header `{name}`")))
}

pub(super) fn remove_header(headers: &mut HeaderList, name: &str) -> FixOutcome {
    let before = headers.len();
    headers.retain(|n, _| !n.eq_ignore_ascii_case(name));
    match before - headers.len() {
        0 => FixOutcome::unchanged(format!("no `{name}` header")),
        _ => FixOutcome::changed(format!("removed header `{name}`")),
    }
}

/// A header that would break the request line by line is refused rather than forwarded.
fn check_header(name: &str, value: &str) -> Result<(), FixError> {
    let invalid = |reason: &str| {
        Err(FixError::InvalidHeader {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    if name.is_empty() {
        return invalid("the name is empty");
    }
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return invalid("the name may only hold letters, digits and -_.!#$%&'*+^`|~");
    }
    if http::HeaderValue::from_str(value).is_err() {
        return invalid("the value holds a line break or another control character");
    }
    Ok(())
}
