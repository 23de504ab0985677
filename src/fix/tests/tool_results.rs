use serde_json::{json, Value};

use super::*;
use crate::fix::MISSING_TOOL_RESULT;

fn add(dialect: Dialect, body: &mut Value) -> FixOutcome {
    apply(QuickFix::AddMissingToolResults, dialect, body)
}

fn remove(dialect: Dialect, body: &mut Value) -> FixOutcome {
    apply(QuickFix::RemoveOrphanToolResults, dialect, body)
}

#[test]
fn chat_missing_results_go_after_the_results_already_there() {
    let mut body = json!({"messages": [
        user("go"),
        chat_calls(&["c1", "c2"]),
        chat_result("c1"),
        user("well?"),
    ]});
    let outcome = add(Dialect::OpenAiChat, &mut body);
    assert_eq!(
        outcome,
        FixOutcome::changed("added 1 placeholder result for unanswered tool calls")
    );
    assert_eq!(
        shape(&body["messages"]),
        ["user", "assistant>c1>c2", "tool<c1", "tool<c2", "user"]
    );
    assert_eq!(body["messages"][3]["content"], MISSING_TOOL_RESULT);
    assert!(!add(Dialect::OpenAiChat, &mut body).changed);
}

#[test]
fn chat_orphan_results_are_removed() {
    let mut body =
        json!({"messages": [user("go"), chat_result("c9"), assistant("ok"), user("next")]});
    let outcome = remove(Dialect::OpenAiChat, &mut body);
    assert_eq!(
        outcome,
        FixOutcome::changed("removed 1 tool result answering no call")
    );
    assert_eq!(shape(&body["messages"]), ["user", "assistant", "user"]);
    let outcome = remove(Dialect::OpenAiChat, &mut body);
    assert_eq!(
        outcome,
        FixOutcome::unchanged("every tool result answers a call")
    );
}

#[test]
fn a_chat_result_out_of_place_is_both_missing_and_orphaned() {
    let mut body =
        json!({"messages": [user("go"), chat_calls(&["c1"]), user("hm"), chat_result("c1")]});
    assert!(add(Dialect::OpenAiChat, &mut body).changed);
    assert!(remove(Dialect::OpenAiChat, &mut body).changed);
    assert_eq!(
        shape(&body["messages"]),
        ["user", "assistant>c1", "tool<c1", "user"]
    );
}

#[test]
fn anthropic_missing_results_join_the_next_user_message_before_its_text() {
    let mut body = json!({"messages": [
        user("go"),
        anthropic_calls(&["t1", "t2"]),
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "ok"},
            {"type": "text", "text": "go on"}
        ]},
    ]});
    let outcome = add(Dialect::Anthropic, &mut body);
    assert!(outcome.changed);
    let next = &body["messages"][2]["content"];
    assert_eq!(next[0]["tool_use_id"], "t1");
    assert_eq!(
        next[1],
        json!({"type": "tool_result", "tool_use_id": "t2", "content": MISSING_TOOL_RESULT})
    );
    assert_eq!(next[2]["text"], "go on");
}

#[test]
fn anthropic_missing_results_turn_a_text_reply_into_blocks_or_get_their_own_message() {
    let mut body = json!({"messages": [user("go"), anthropic_calls(&["t1"]), user("continue")]});
    add(Dialect::Anthropic, &mut body);
    assert_eq!(
        body["messages"][2]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "t1", "content": MISSING_TOOL_RESULT},
            {"type": "text", "text": "continue"}
        ])
    );
    let mut ends_on_a_call = json!({"messages": [user("go"), anthropic_calls(&["t1"])]});
    add(Dialect::Anthropic, &mut ends_on_a_call);
    assert_eq!(
        shape(&ends_on_a_call["messages"]),
        ["user", "assistant>t1", "user<t1"]
    );
}

#[test]
fn anthropic_orphan_blocks_are_removed_and_an_emptied_message_with_them() {
    let mut body = json!({"messages": [
        user("go"),
        assistant("hi"),
        anthropic_results(&["t9"]),
        assistant("ok"),
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t8", "content": "ok"},
            {"type": "text", "text": "next"}
        ]},
    ]});
    let outcome = remove(Dialect::Anthropic, &mut body);
    assert_eq!(
        outcome.summary,
        "removed 2 tool results answering no call (1 message left empty removed)"
    );
    assert_eq!(
        shape(&body["messages"]),
        ["user", "assistant", "assistant", "user"]
    );
    assert_eq!(
        body["messages"][3]["content"],
        json!([{"type": "text", "text": "next"}])
    );
}

#[test]
fn responses_missing_outputs_follow_the_parallel_calls() {
    let mut body = json!({"input": [
        {"role": "user", "content": "go"},
        responses_call("c1"),
        {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "…"},
        responses_output("c1"),
        {"role": "user", "content": "next"},
    ]});
    let outcome = add(Dialect::OpenAiResponses, &mut body);
    assert!(outcome.changed);
    assert_eq!(
        shape(&body["input"]),
        [
            "user",
            "function_call>c1",
            "custom_tool_call>c2",
            "function_call_output<c1",
            "custom_tool_call_output<c2",
            "user"
        ]
    );
    assert_eq!(body["input"][4]["output"], MISSING_TOOL_RESULT);
}

#[test]
fn responses_orphan_outputs_are_removed() {
    let mut body = json!({"input": [
        {"role": "user", "content": "go"},
        responses_output("c7"),
        responses_call("c1"),
        responses_output("c1"),
    ]});
    assert!(remove(Dialect::OpenAiResponses, &mut body).changed);
    assert_eq!(
        shape(&body["input"]),
        ["user", "function_call>c1", "function_call_output<c1"]
    );
}

#[test]
fn the_fixtures_have_no_pairing_to_repair() {
    for (text, dialect) in [
        (OPENCODE, Dialect::OpenAiChat),
        (CLAUDE_CODE, Dialect::Anthropic),
    ] {
        let mut body = fixture_body(text);
        assert_eq!(
            add(dialect, &mut body),
            FixOutcome::unchanged("every tool call has its result")
        );
        assert!(!remove(dialect, &mut body).changed);
        assert_eq!(body, fixture_body(text));
    }
}

#[test]
fn the_claude_code_turn_interrupted_mid_tool_gets_its_result() {
    let mut body = fixture_body(CLAUDE_CODE);
    let messages = body["messages"].as_array_mut().expect("messages");
    messages.extend([anthropic_calls(&["toolu_01"]), user("never mind, stop")]);
    assert!(add(Dialect::Anthropic, &mut body).changed);
    let last = body["messages"].as_array().and_then(|m| m.last()).cloned();
    assert_eq!(
        last,
        Some(json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": MISSING_TOOL_RESULT},
            {"type": "text", "text": "never mind, stop"}
        ]}))
    );
}
