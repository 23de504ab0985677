use serde_json::{json, Value};

use super::*;

/// sys, then three user turns; the first two call tools.
fn chat_conversation() -> Value {
    json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a coding agent."},
            user("list the files"),
            chat_calls(&["c1", "c2"]),
            chat_result("c1"),
            chat_result("c2"),
            assistant("two files"),
            user("and the tests?"),
            chat_calls(&["c3"]),
            chat_result("c3"),
            assistant("one test"),
            user("run it"),
        ],
        "stream": true
    })
}

#[test]
fn dropping_a_chat_turn_keeps_the_system_prompt_and_whole_tool_pairs() {
    let mut body = chat_conversation();
    let outcome = apply(
        QuickFix::DropOldestTurns { turns: 1 },
        Dialect::OpenAiChat,
        &mut body,
    );
    assert_eq!(
        outcome,
        FixOutcome::changed("dropped 1 oldest turn (5 messages)")
    );
    assert_eq!(
        shape(&body["messages"]),
        [
            "system",
            "user",
            "assistant>c3",
            "tool<c3",
            "assistant",
            "user"
        ]
    );
    assert_eq!(keys(&body), ["model", "messages", "stream"]);
}

#[test]
fn asking_for_more_turns_than_there_are_keeps_the_last_turn() {
    let mut body = chat_conversation();
    let outcome = apply(
        QuickFix::DropOldestTurns { turns: 9 },
        Dialect::OpenAiChat,
        &mut body,
    );
    assert_eq!(
        outcome.summary,
        "dropped 2 oldest turns (9 messages); the last turn is always kept"
    );
    assert_eq!(shape(&body["messages"]), ["system", "user"]);
    assert_eq!(body["messages"][1]["content"], "run it");
}

#[test]
fn a_cut_never_falls_between_a_call_and_its_result() {
    // The user spoke while a tool ran: cutting at that message would orphan the result.
    let mut body = json!({"messages": [
        {"role": "developer", "content": "rules"},
        user("one"),
        chat_calls(&["c1"]),
        user("meanwhile"),
        chat_result("c1"),
        assistant("done"),
        user("two"),
    ]});
    let outcome = apply(
        QuickFix::DropOldestTurns { turns: 1 },
        Dialect::OpenAiChat,
        &mut body,
    );
    assert_eq!(outcome.summary, "dropped 1 oldest turn (5 messages)");
    assert_eq!(shape(&body["messages"]), ["developer", "user"]);
}

#[test]
fn a_single_turn_has_nothing_to_drop() {
    let mut body = json!({"messages": [{"role": "system", "content": "s"}, user("hi")]});
    let before = body.clone();
    let outcome = apply(
        QuickFix::DropOldestTurns { turns: 1 },
        Dialect::OpenAiChat,
        &mut body,
    );
    assert!(!outcome.changed);
    assert_eq!(outcome.summary, "only one user turn; nothing to drop");
    assert_eq!(body, before);
    let mut no_messages = json!({"model": "m"});
    let outcome = apply(
        QuickFix::DropOldestTurns { turns: 1 },
        Dialect::OpenAiChat,
        &mut no_messages,
    );
    assert_eq!(outcome.summary, "no `messages` list to drop turns from");
}

#[test]
fn anthropic_tool_results_continue_the_turn_they_answer() {
    let mut body = json!({
        "model": "claude-sonnet-4-5",
        "system": [{"type": "text", "text": "You are Claude Code."}],
        "messages": [
            user("list the files"),
            anthropic_calls(&["t1"]),
            anthropic_results(&["t1"]),
            assistant("two files"),
            user("and the tests?"),
            anthropic_calls(&["t2"]),
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t2", "content": "ok"},
                {"type": "text", "text": "also check the docs"}
            ]},
            assistant("done"),
            user("run it"),
        ],
        "max_tokens": 32000
    });
    let system = body["system"].clone();
    let outcome = apply(
        QuickFix::DropOldestTurns { turns: 1 },
        Dialect::Anthropic,
        &mut body,
    );
    assert_eq!(outcome.summary, "dropped 1 oldest turn (4 messages)");
    assert_eq!(
        shape(&body["messages"]),
        ["user", "assistant>t2", "user<t2", "assistant", "user"]
    );
    assert_eq!(body["system"], system);
    let outcome = apply(
        QuickFix::DropOldestTurns { turns: 1 },
        Dialect::Anthropic,
        &mut body,
    );
    assert_eq!(outcome.summary, "dropped 1 oldest turn (4 messages)");
    assert_eq!(shape(&body["messages"]), ["user"]);
}

#[test]
fn responses_turns_keep_function_calls_with_their_outputs() {
    let mut body = json!({
        "model": "gpt-5",
        "instructions": "be brief",
        "input": [
            {"role": "developer", "content": "rules"},
            {"role": "user", "content": "one"},
            responses_call("c1"),
            {"role": "user", "content": "hurry"},
            responses_output("c1"),
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "done"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "two"}]},
            {"type": "reasoning", "summary": []},
            responses_call("c2"),
            responses_output("c2"),
            {"role": "user", "content": "three"},
        ]
    });
    let outcome = apply(
        QuickFix::DropOldestTurns { turns: 1 },
        Dialect::OpenAiResponses,
        &mut body,
    );
    assert_eq!(outcome.summary, "dropped 1 oldest turn (5 messages)");
    assert_eq!(
        shape(&body["input"]),
        [
            "developer",
            "user",
            "reasoning",
            "function_call>c2",
            "function_call_output<c2",
            "user"
        ]
    );
    assert_eq!(body["instructions"], "be brief");
}

#[test]
fn the_opencode_turn_grown_by_a_tool_exchange_drops_back_to_its_system_prompt() {
    let mut body = fixture_body(OPENCODE);
    let order: Vec<String> = keys(&body).iter().map(|k| k.to_string()).collect();
    let system = body["messages"][0].clone();
    let messages = body["messages"].as_array_mut().expect("messages");
    messages.extend([
        chat_calls(&["call_1"]),
        chat_result("call_1"),
        assistant("done"),
        user("next"),
    ]);
    let outcome = apply(
        QuickFix::DropOldestTurns { turns: 1 },
        Dialect::OpenAiChat,
        &mut body,
    );
    assert_eq!(outcome.summary, "dropped 1 oldest turn (4 messages)");
    assert_eq!(body["messages"], json!([system, user("next")]));
    assert_eq!(keys(&body), order);
}

#[test]
fn the_claude_code_turn_keeps_its_system_message_behind_the_first_user_message() {
    let mut body = fixture_body(CLAUDE_CODE);
    let fixture_system = body["system"].clone();
    let system_message = body["messages"][1].clone();
    assert_eq!(system_message["role"], "system");
    let messages = body["messages"].as_array_mut().expect("messages");
    messages.extend([
        anthropic_calls(&["toolu_1"]),
        anthropic_results(&["toolu_1"]),
        assistant("done"),
        user("next"),
    ]);
    // Unknown path: the shape (a `system` field, tool_use blocks) says Anthropic.
    let outcome = apply(
        QuickFix::DropOldestTurns { turns: 1 },
        Dialect::Unknown,
        &mut body,
    );
    assert_eq!(outcome.summary, "dropped 1 oldest turn (4 messages)");
    assert_eq!(body["messages"], json!([user("next"), system_message]));
    assert_eq!(body["system"], fixture_system);
}

#[test]
fn the_fixtures_alone_have_a_single_turn() {
    for (text, dialect) in [
        (OPENCODE, Dialect::OpenAiChat),
        (CLAUDE_CODE, Dialect::Anthropic),
    ] {
        let mut body = fixture_body(text);
        let outcome = apply(QuickFix::DropOldestTurns { turns: 1 }, dialect, &mut body);
        assert!(!outcome.changed, "{dialect:?}");
        assert_eq!(body, fixture_body(text));
    }
}
