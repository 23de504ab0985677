//! Repairing tool parameter schemas that providers reject: every tool takes an object of
//! named arguments, so its schema must say `"type": "object"` and have `properties` — which
//! agents built on loose schema generators (a missing `type`, `"properties": []` from an
//! empty PHP array, a bare `null`) often leave out.

use serde_json::{json, Map, Value};

use super::conversation;
use super::params::insert_first;
use super::{count, FixOutcome};
use crate::llm::Dialect;

pub(super) fn repair_tool_schemas(dialect: Dialect, body: &mut Map<String, Value>) -> FixOutcome {
    let dialect = conversation::resolve(dialect, body);
    let mut repaired = Vec::new();
    let mut seen = 0;
    for list in ["tools", "functions"] {
        let Some(Value::Array(tools)) = body.get_mut(list) else {
            continue;
        };
        for tool in tools.iter_mut() {
            let name = tool_name(tool);
            let Some((owner, key)) = schema_owner(dialect, tool) else {
                continue;
            };
            seen += 1;
            if repair_schema(owner, key) {
                repaired.push(name.unwrap_or_else(|| "unnamed".to_string()));
            }
        }
    }
    if repaired.is_empty() {
        return match seen {
            0 => FixOutcome::unchanged("no tools with a parameter schema"),
            _ => FixOutcome::unchanged(format!(
                "{} already object schemas",
                count(seen, "tool schema is", "tool schemas are")
            )),
        };
    }
    FixOutcome::changed(format!(
        "repaired {} ({})",
        count(repaired.len(), "tool schema", "tool schemas"),
        repaired.join(", ")
    ))
}

fn tool_name(tool: &Value) -> Option<String> {
    tool.pointer("/function/name")
        .or_else(|| tool.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The object that holds a tool's parameter schema, and the schema's key in it. `None` for
/// tools that have no such schema: built-in and server tools (`web_search`, Anthropic's
/// versioned `bash_…`), and custom grammar tools.
fn schema_owner(
    dialect: Dialect,
    tool: &mut Value,
) -> Option<(&mut Map<String, Value>, &'static str)> {
    let tool = tool.as_object_mut()?;
    let kind = tool.get("type").and_then(Value::as_str);
    let has_function = tool.get("function").is_some_and(Value::is_object);
    match dialect {
        Dialect::OpenAiChat if kind.is_none_or(|kind| kind == "function") => {
            if has_function {
                Some((tool.get_mut("function")?.as_object_mut()?, "parameters"))
            } else {
                // The legacy `functions` list: the function itself, with no wrapper.
                tool.contains_key("name").then_some((tool, "parameters"))
            }
        }
        Dialect::OpenAiResponses if kind.is_none_or(|kind| kind == "function") => {
            Some((tool, "parameters"))
        }
        Dialect::Anthropic if kind.is_none_or(|kind| kind == "custom") => {
            Some((tool, "input_schema"))
        }
        Dialect::Unknown if has_function => {
            Some((tool.get_mut("function")?.as_object_mut()?, "parameters"))
        }
        Dialect::Unknown => ["input_schema", "parameters"]
            .into_iter()
            .find(|key| tool.contains_key(*key))
            .map(|key| (tool, key)),
        _ => None,
    }
}

/// Makes `owner[key]` an object schema with properties; whether anything changed.
fn repair_schema(owner: &mut Map<String, Value>, key: &str) -> bool {
    let Some(Value::Object(schema)) = owner.get_mut(key) else {
        owner.insert(key.to_string(), json!({"type": "object", "properties": {}}));
        return true;
    };
    let mut changed = false;
    match schema.get("type") {
        Some(Value::String(kind)) if kind == "object" => {}
        None => {
            insert_first(schema, "type", json!("object"));
            changed = true;
        }
        // A nullable object (`["object", "null"]`) keeps its properties.
        Some(Value::Array(kinds)) if kinds.iter().any(|kind| kind == "object") => {
            schema.insert("type".to_string(), json!("object"));
            changed = true;
        }
        // A scalar or list schema cannot name arguments: nothing in it is worth keeping.
        Some(_) => {
            *schema = Map::new();
            schema.insert("type".to_string(), json!("object"));
            schema.insert("properties".to_string(), json!({}));
            return true;
        }
    }
    if !schema.get("properties").is_some_and(Value::is_object) {
        insert_after_type(schema, "properties", json!({}));
        changed = true;
    }
    changed
}

/// Sets `key` right after `type`, where schemas keep `properties`.
fn insert_after_type(object: &mut Map<String, Value>, key: &str, value: Value) {
    let fields = std::mem::take(object);
    let mut value = Some(value);
    for (name, field) in fields {
        if name == key {
            continue;
        }
        let after_this = name == "type";
        object.insert(name, field);
        if after_this {
            object.extend(value.take().map(|value| (key.to_string(), value)));
        }
    }
    object.extend(value.map(|value| (key.to_string(), value)));
}
