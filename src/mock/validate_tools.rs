//! The tool-definition checks of `mock-validate`: OpenAI's function schemas, in its own
//! words (sources by each check).

use serde_json::Value;

use super::validate_checks::{list, text, Seen};

/// OpenAI, MCP tools with no parameters (karakeep-app/karakeep#1696, evalstate/fast-agent#143).
pub(super) fn schema_missing_properties(seen: &Seen<'_>) -> Option<String> {
    list(seen.body, "tools").iter().find_map(|tool| {
        let function = tool.get("function").unwrap_or(tool);
        let schema = function.get("parameters")?;
        let missing = schema.get("type").and_then(Value::as_str) == Some("object")
            && !schema.get("properties").is_some_and(Value::is_object);
        missing.then(|| {
            format!("Invalid schema for function '{}': In context=(), object schema missing properties.", text(function, "name"))
        })
    })
}

/// OpenAI strict mode: every object schema must say `"additionalProperties": false`
/// (openai/openai-agents-python#1023, lastmile-ai/openai-agents-mcp#2).
pub(super) fn strict_additional_properties(seen: &Seen<'_>) -> Option<String> {
    list(seen.body, "tools").iter().find_map(|tool| {
        let function = tool.get("function").unwrap_or(tool);
        if function.get("strict").and_then(Value::as_bool) != Some(true) {
            return None;
        }
        let context = open_object(function.get("parameters")?, &mut Vec::new())?;
        Some(format!("Invalid schema for function '{}': In context=({context}), 'additionalProperties' is required to be supplied and to be false.", text(function, "name")))
    })
}

/// Where the first object schema without `"additionalProperties": false` is, as OpenAI
/// writes it: `` (the root) or `'properties', 'permissions'`.
fn open_object(schema: &Value, at: &mut Vec<String>) -> Option<String> {
    let is_object = schema.get("type").and_then(Value::as_str) == Some("object");
    if is_object && schema.get("additionalProperties") != Some(&Value::Bool(false)) {
        return Some(at.join(", "));
    }
    let properties = schema.get("properties")?.as_object()?;
    for (name, property) in properties {
        at.push("'properties'".to_string());
        at.push(format!("'{name}'"));
        if let Some(found) = open_object(property, at) {
            return Some(found);
        }
        at.truncate(at.len() - 2);
    }
    None
}
