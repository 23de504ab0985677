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
pub(super) fn resolve(body: &Map<String, Value>, upstream_path: &str) -> Option<String> {
    let steps: Vec<&str> = upstream_path
        .split(['.', '[', ']'])
        .filter(|step| !step.is_empty())
        .collect();
    let (first, rest) = steps.split_first()?;
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
                Some(value) => {
                    at = value;
                    path.push((*step).to_string());
                }
                // A union variant's name: the object itself is that variant.
                None if !after.is_empty() => continue,
                None => return None,
            },
            _ => return None,
        }
    }
    (path.len() > 1 && path.last().is_some_and(|last| last != "*")).then(|| path.join("."))
}

/// Removes the field a resolved path (`tools.*.defer_loading`) names, in every element a
/// `*` stands for.
pub(super) fn remove(body: &mut Map<String, Value>, path: &str) -> FixOutcome {
    let steps: Vec<&str> = path.split('.').collect();
    let Some((first, rest)) = steps.split_first() else {
        return FixOutcome::unchanged("an empty path names no field");
    };
    let removed = match body.get_mut(*first) {
        Some(value) if !rest.is_empty() => remove_below(value, rest),
        _ => 0,
    };
    match removed {
        0 => FixOutcome::unchanged(format!("the body has no `{path}`")),
        n => FixOutcome::changed(format!(
            "removed `{path}` ({})",
            count(n, "occurrence", "occurrences")
        )),
    }
}

fn remove_below(value: &mut Value, steps: &[&str]) -> usize {
    let Some((step, rest)) = steps.split_first() else {
        return 0;
    };
    match value {
        Value::Array(items) if *step == "*" => {
            items.iter_mut().map(|item| remove_below(item, rest)).sum()
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
