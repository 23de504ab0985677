//! Setting and removing a field by JSON pointer (RFC 6901: `/metadata/user_id`, `/tools/0`,
//! `~1` for `/` and `~0` for `~` inside a name), for rules that say "always set this".

use serde_json::{Map, Value};

use super::{FixError, FixOutcome};

/// Splits a pointer into its unescaped parent steps and last step. The empty pointer (the
/// whole body) is refused: a rule replaces fields, never the request.
fn steps(pointer: &str) -> Result<(Vec<String>, String), FixError> {
    let invalid = |reason: &str| FixError::InvalidPointer {
        pointer: pointer.to_string(),
        reason: reason.to_string(),
    };
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| invalid("it must start with `/`, as in `/model`"))?;
    let mut steps = rest
        .split('/')
        .map(|step| {
            let mut text = String::with_capacity(step.len());
            let mut chars = step.chars();
            while let Some(c) = chars.next() {
                if c != '~' {
                    text.push(c);
                    continue;
                }
                match chars.next() {
                    Some('0') => text.push('~'),
                    Some('1') => text.push('/'),
                    _ => return Err(invalid("`~` must be followed by 0 or 1")),
                }
            }
            Ok(text)
        })
        .collect::<Result<Vec<String>, FixError>>()?;
    let last = steps.pop().ok_or_else(|| invalid("it names no field"))?;
    Ok((steps, last))
}

/// An array index step: digits only, no leading zero (RFC 6901).
fn index(step: &str) -> Option<usize> {
    let digits = !step.is_empty() && step.bytes().all(|b| b.is_ascii_digit());
    let canonical = step == "0" || !step.starts_with('0');
    if digits && canonical {
        step.parse().ok()
    } else {
        None
    }
}

/// Sets the value at `pointer`, creating missing parents as objects. In an array, an index
/// replaces an element and `-` (or the length) appends.
pub(super) fn set(body: &mut Value, pointer: &str, value: Value) -> Result<FixOutcome, FixError> {
    let (parents, last) = steps(pointer)?;
    let last = last.as_str();
    let mut at = body;
    for step in &parents {
        at = match at {
            Value::Object(object) => object
                .entry(step.clone())
                .or_insert_with(|| Value::Object(Map::new())),
            Value::Array(items) => match index(step).and_then(|i| items.get_mut(i)) {
                Some(item) => item,
                None => return Ok(no_such_element(pointer, step)),
            },
            // Replacing a string or number on the way would silently drop what the agent sent.
            _ => return Ok(inside_scalar(pointer, step)),
        };
        // A null parent holds nothing to lose, so it becomes the object the pointer needs.
        if at.is_null() {
            *at = Value::Object(Map::new());
        }
    }
    let shown = shorten(&value.to_string());
    match at {
        Value::Object(object) => {
            if object.get(last) == Some(&value) {
                return Ok(already(pointer, &shown));
            }
            object.insert(last.to_string(), value);
        }
        Value::Array(items) => {
            let position = if last == "-" {
                Some(items.len())
            } else {
                index(last)
            };
            match position {
                Some(i) if i == items.len() => {
                    items.push(value);
                    return Ok(FixOutcome::changed(format!(
                        "appended {shown} to {pointer}"
                    )));
                }
                Some(i) if i < items.len() => {
                    if items[i] == value {
                        return Ok(already(pointer, &shown));
                    }
                    items[i] = value;
                }
                _ => return Ok(no_such_element(pointer, last)),
            }
        }
        _ => return Ok(inside_scalar(pointer, last)),
    }
    Ok(FixOutcome::changed(format!("set {pointer} to {shown}")))
}

/// Removes the value at `pointer`; an array element is removed and the rest move up.
pub(super) fn remove(body: &mut Value, pointer: &str) -> Result<FixOutcome, FixError> {
    let (parents, last) = steps(pointer)?;
    let last = last.as_str();
    let mut at = body;
    for step in &parents {
        let next = match at {
            Value::Object(object) => object.get_mut(step.as_str()),
            Value::Array(items) => index(step).and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(next) => at = next,
            None => return Ok(FixOutcome::unchanged(format!("nothing at {pointer}"))),
        }
    }
    let removed = match at {
        Value::Object(object) => object.shift_remove(last).is_some(),
        Value::Array(items) => match index(last).filter(|&i| i < items.len()) {
            Some(i) => {
                items.remove(i);
                true
            }
            None => false,
        },
        _ => false,
    };
    Ok(if removed {
        FixOutcome::changed(format!("removed {pointer}"))
    } else {
        FixOutcome::unchanged(format!("nothing at {pointer}"))
    })
}

fn already(pointer: &str, shown: &str) -> FixOutcome {
    FixOutcome::unchanged(format!("{pointer} is already {shown}"))
}

fn inside_scalar(pointer: &str, step: &str) -> FixOutcome {
    FixOutcome::unchanged(format!(
        "{pointer}: `{step}` would be inside a value that is neither object nor array"
    ))
}

fn no_such_element(pointer: &str, step: &str) -> FixOutcome {
    FixOutcome::unchanged(format!("{pointer}: the array has no element `{step}`"))
}

/// A value short enough for a one-line summary.
fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
