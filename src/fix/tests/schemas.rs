use serde_json::json;

use super::*;

fn repair(dialect: Dialect, body: &mut Value) -> FixOutcome {
    apply(QuickFix::RepairToolSchemas, dialect, body)
}

#[test]
fn chat_schemas_get_their_type_and_properties() {
    let mut body = json!({"tools": [
        {"type": "function", "function": {"name": "no_type", "parameters": {"properties": {"path": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "php_array", "parameters": {"type": "object", "properties": [], "required": []}}},
        {"type": "function", "function": {"name": "null_schema", "parameters": null}},
        {"type": "function", "function": {"name": "no_schema"}},
        {"type": "function", "function": {"name": "fine", "parameters": {"type": "object", "properties": {}}}},
        {"type": "custom", "custom": {"name": "grammar", "format": {"type": "text"}}},
    ]});
    let outcome = repair(Dialect::OpenAiChat, &mut body);
    assert_eq!(
        outcome.summary,
        "repaired 4 tool schemas (no_type, php_array, null_schema, no_schema)"
    );
    let tools = &body["tools"];
    assert_eq!(
        tools[0]["function"]["parameters"],
        json!({"type": "object", "properties": {"path": {"type": "string"}}})
    );
    let php = &tools[1]["function"]["parameters"];
    assert_eq!(
        php,
        &json!({"type": "object", "properties": {}, "required": []})
    );
    assert_eq!(keys(php), ["type", "properties", "required"]);
    for at in [2, 3] {
        assert_eq!(
            tools[at]["function"]["parameters"],
            json!({"type": "object", "properties": {}})
        );
    }
    assert_eq!(
        tools[5],
        json!({"type": "custom", "custom": {"name": "grammar", "format": {"type": "text"}}})
    );
    assert!(!repair(Dialect::OpenAiChat, &mut body).changed);
}

#[test]
fn anthropic_input_schemas_are_repaired_and_server_tools_left_alone() {
    let mut body = json!({"messages": [], "tools": [
        {"name": "Read", "input_schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {"file": {"type": "string"}}}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
        {"name": "Nothing"},
    ]});
    let outcome = repair(Dialect::Anthropic, &mut body);
    assert_eq!(outcome.summary, "repaired 2 tool schemas (Read, Nothing)");
    assert_eq!(
        keys(&body["tools"][0]["input_schema"]),
        ["type", "$schema", "properties"]
    );
    assert_eq!(
        body["tools"][1],
        json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 5})
    );
    assert_eq!(
        body["tools"][2]["input_schema"],
        json!({"type": "object", "properties": {}})
    );
}

#[test]
fn responses_scalar_schemas_are_replaced_and_nullable_objects_kept() {
    let mut body = json!({"input": "hi", "tools": [
        {"type": "function", "name": "scalar", "parameters": {"type": "string"}},
        {"type": "function", "name": "nullable", "parameters": {"type": ["object", "null"], "properties": {"a": {}}}},
        {"type": "web_search"},
    ]});
    let outcome = repair(Dialect::OpenAiResponses, &mut body);
    assert_eq!(
        outcome.summary,
        "repaired 2 tool schemas (scalar, nullable)"
    );
    assert_eq!(
        body["tools"][0]["parameters"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(
        body["tools"][1]["parameters"],
        json!({"type": "object", "properties": {"a": {}}})
    );
    assert_eq!(body["tools"][2], json!({"type": "web_search"}));
}

#[test]
fn the_fixtures_schemas_are_already_valid() {
    let mut opencode = fixture_body(OPENCODE);
    let outcome = repair(Dialect::OpenAiChat, &mut opencode);
    assert_eq!(
        outcome,
        FixOutcome::unchanged("10 tool schemas are already object schemas")
    );
    let mut claude = fixture_body(CLAUDE_CODE);
    let outcome = repair(Dialect::Anthropic, &mut claude);
    assert_eq!(
        outcome,
        FixOutcome::unchanged("24 tool schemas are already object schemas")
    );
    assert_eq!(claude, fixture_body(CLAUDE_CODE));
}

#[test]
fn a_broken_fixture_tool_is_repaired_and_the_others_untouched() {
    let mut opencode = fixture_body(OPENCODE);
    let schema = &mut opencode["tools"][3]["function"]["parameters"];
    let _ = schema
        .as_object_mut()
        .map(|schema| schema.shift_remove("type"));
    let outcome = repair(Dialect::OpenAiChat, &mut opencode);
    assert_eq!(outcome.summary, "repaired 1 tool schema (grep)");
    let original = fixture_body(OPENCODE);
    assert_eq!(
        opencode["tools"][3]["function"]["parameters"]["type"],
        "object"
    );
    assert_eq!(
        opencode["tools"][3]["function"]["parameters"]["properties"],
        original["tools"][3]["function"]["parameters"]["properties"]
    );
    assert_eq!(opencode["tools"][4], original["tools"][4]);

    let mut claude = fixture_body(CLAUDE_CODE);
    claude["tools"][0]["input_schema"]["properties"] = json!([]);
    assert_eq!(
        repair(Dialect::Anthropic, &mut claude).summary,
        "repaired 1 tool schema (Agent)"
    );
    assert_eq!(claude["tools"][0]["input_schema"]["properties"], json!({}));
}
