//! Fields below the top level, named the way upstreams name them: a dotted path such as
//! `tools.0.custom.defer_loading` or `messages.3.content.0.cache_control`, read against the
//! request so that only what the body really holds is touched.
//!
//! Anthropic's and pydantic's paths name union variants (`custom` in `tools.0.custom.x`)
//! that are no key in the JSON, so a step that is not a key is skipped. An index becomes `*`:
//! the upstream names the first element it tripped on, and the same field on the next tool
//! or message would fail the resend the same way.

use serde_json::{Map, Value};

use super::{count, FixOutcome};

/// The request's own path for an upstream's dotted path (`tools.*.defer_loading`), if the
/// field exists there and lies below the top level. `None` when the body has no such field.
///
/// A union variant the path names narrows the `*` before it to the elements of that
/// variant: `messages.13.content.0.thinking.cache_control` becomes
/// `messages.*.content.*:thinking.cache_control`, every block whose `type` is `thinking`.
/// A leading `*` (`*.cache_control`, "wherever it is") becomes `**`.
pub(super) fn resolve(body: &Map<String, Value>, upstream_path: &str) -> Option<String> {
    let steps: Vec<&str> = upstream_path
        .split(['.', '[', ']'])
        .filter(|step| !step.is_empty())
        .collect();
    let (first, rest) = steps.split_first()?;
    if *first == "*" {
        let [name] = rest else { return None };
        return contains_anywhere(&Value::Object(body.clone()), name).then(|| format!("**.{name}"));
    }
    let mut path = vec![(*first).to_string()];
    let mut at = body.get(*first)?;
    let mut rest = rest;
    while let Some((step, after)) = rest.split_first() {
        rest = after;
        match at {
            Value::Array(items) => {
                let index: usize = step.parse().ok()?;
                at = items.get(index)?;
                path.push("*".to_string());
            }
            Value::Object(fields) => match fields.get(*step) {
                Some(value) if after.is_empty() || value.is_object() || value.is_array() => {
                    at = value;
                    path.push((*step).to_string());
                }
                // A union variant's name (a thinking block's `thinking` is its text): the
                // object itself is that variant.
                _ if !after.is_empty() => {
                    if let Some(last) = path.last_mut().filter(|last| *last == "*") {
                        *last = format!("*:{step}");
                    }
                }
                _ => return None,
            },
            _ => return None,
        }
    }
    let names_a_field = path.last().is_some_and(|last| !last.starts_with('*'));
    (path.len() > 1 && names_a_field).then(|| path.join("."))
}

fn contains_anywhere(value: &Value, name: &str) -> bool {
    match value {
        Value::Object(fields) => {
            fields.contains_key(name) || fields.values().any(|v| contains_anywhere(v, name))
        }
        Value::Array(items) => items.iter().any(|item| contains_anywhere(item, name)),
        _ => false,
    }
}

/// Removes the field a resolved path (`tools.*.defer_loading`) names, in every element a
/// `*` stands for (of the variant a `*:variant` names), or anywhere below for `**`.
pub(super) fn remove(body: &mut Map<String, Value>, path: &str) -> FixOutcome {
    let steps: Vec<&str> = path.split('.').collect();
    let Some((first, rest)) = steps.split_first() else {
        return FixOutcome::unchanged("an empty path names no field");
    };
    let removed = match (*first, rest) {
        ("**", [name]) => {
            body.values_mut()
                .map(|value| remove_anywhere(value, name))
                .sum::<usize>()
                + usize::from(body.shift_remove(*name).is_some())
        }
        (_, []) => 0,
        (first, rest) => body
            .get_mut(first)
            .map_or(0, |value| remove_below(value, rest)),
    };
    match removed {
        0 => FixOutcome::unchanged(format!("the body has no `{path}`")),
        n => FixOutcome::changed(format!(
            "removed `{path}` ({})",
            count(n, "occurrence", "occurrences")
        )),
    }
}

fn remove_anywhere(value: &mut Value, name: &str) -> usize {
    match value {
        Value::Object(fields) => {
            let here = usize::from(fields.shift_remove(name).is_some());
            here + fields
                .values_mut()
                .map(|v| remove_anywhere(v, name))
                .sum::<usize>()
        }
        Value::Array(items) => items
            .iter_mut()
            .map(|item| remove_anywhere(item, name))
            .sum(),
        _ => 0,
    }
}

/// Whether an element is of the variant a `*:variant` step names: its `type` says so, or it
/// has no `type` (Anthropic's custom tools leave it out).
fn is_variant(item: &Value, variant: Option<&str>) -> bool {
    let Some(variant) = variant else {
        return true;
    };
    item.get("type")
        .and_then(Value::as_str)
        .is_none_or(|kind| kind == variant)
}

fn remove_below(value: &mut Value, steps: &[&str]) -> usize {
    let Some((step, rest)) = steps.split_first() else {
        return 0;
    };
    match value {
        Value::Array(items) if step.starts_with('*') => {
            let variant = step.strip_prefix("*:");
            items
                .iter_mut()
                .filter(|item| is_variant(item, variant))
                .map(|item| remove_below(item, rest))
                .sum()
        }
        Value::Object(fields) if rest.is_empty() => {
            usize::from(fields.shift_remove(*step).is_some())
        }
        Value::Object(fields) => fields
            .get_mut(*step)
            .map_or(0, |inner| remove_below(inner, rest)),
        _ => 0,
    }
}
