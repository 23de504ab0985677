//! The fixes added for the families of issue 13: renames, nested fields, conflicting
//! parameters, thinking, cache breakpoints, empty content, dropped calls, and the checks
//! that keep them to what the request holds.

use serde_json::json;

use super::suggest::offered;
use super::*;

#[test]
fn a_rename_moves_the_value_and_nests_a_dotted_name() {
    let mut body = json!({"model": "o3", "reasoning_effort": "high", "input": []});
    let fix = QuickFix::RenameParam {
        from: "reasoning_effort".into(),
        to: "reasoning.effort".into(),
    };
    let outcome = apply(fix.clone(), Dialect::OpenAiResponses, &mut body);
    assert_eq!(
        outcome.summary,
        "renamed `reasoning_effort` to `reasoning.effort`"
    );
    assert_eq!(
        body,
        json!({"model": "o3", "input": [], "reasoning": {"effort": "high"}})
    );
    assert!(!apply(fix, Dialect::OpenAiResponses, &mut body).changed);
    // A value already at the new name wins; the old one only goes.
    let mut body = json!({"max_tokens": 5, "max_completion_tokens": 9});
    let fix = QuickFix::RenameParam {
        from: "max_tokens".into(),
        to: "max_completion_tokens".into(),
    };
    apply(fix, Dialect::OpenAiChat, &mut body);
    assert_eq!(body, json!({"max_completion_tokens": 9}));
}

#[test]
fn the_rename_a_message_asks_for_comes_before_removing() {
    let body = json!({"model": "o1", "messages": [user("hi")], "max_tokens": 5});
    let message = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.";
    assert_eq!(
        offered(400, message, Dialect::OpenAiChat, &body, None),
        [
            QuickFix::RenameParam {
                from: "max_tokens".into(),
                to: "max_completion_tokens".into()
            },
            QuickFix::RemoveParam {
                name: "max_tokens".into()
            }
        ]
    );
}

#[test]
fn conflicting_parameters_offer_dropping_the_later_named_first() {
    let body = json!({"model": "c", "messages": [user("hi")], "temperature": 0.7, "top_p": 0.9});
    let message =
        "`temperature` and `top_p` cannot both be specified for this model. Please use only one.";
    let remove = |name: &str| QuickFix::RemoveParam { name: name.into() };
    assert_eq!(
        offered(400, message, Dialect::Anthropic, &body, None),
        [remove("top_p"), remove("temperature")]
    );
}

#[test]
fn sending_without_thinking_strips_its_blocks_and_empty_turns() {
    let mut body = json!({"thinking": {"type": "enabled"}, "messages": [
        user("hi"),
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "x"}, {"type": "text", "text": "ok"}]},
        {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "y"}]},
    ]});
    let outcome = apply(QuickFix::RemoveThinking, Dialect::Anthropic, &mut body);
    assert_eq!(
        outcome.summary,
        "removed `thinking` and removed 2 thinking blocks"
    );
    assert_eq!(
        body,
        json!({"messages": [user("hi"), {"role": "assistant", "content": [{"type": "text", "text": "ok"}]}]})
    );
}

#[test]
fn extra_cache_breakpoints_go_oldest_message_first() {
    let cc = json!({"type": "ephemeral"});
    let block = |text: &str| json!({"type": "text", "text": text, "cache_control": cc});
    let mut body = json!({
        "system": [block("s")],
        "messages": [
            {"role": "user", "content": [block("m1")]},
            {"role": "user", "content": [block("m2")]},
            {"role": "user", "content": [block("m3")]},
        ],
    });
    let outcome = apply(
        QuickFix::RemoveExtraCacheControl { max: 2 },
        Dialect::Anthropic,
        &mut body,
    );
    assert_eq!(
        outcome.summary,
        "removed 2 cache_control breakpoints (kept 2)"
    );
    let kept: Vec<bool> = [
        &body["system"][0],
        &body["messages"][0]["content"][0],
        &body["messages"][1]["content"][0],
        &body["messages"][2]["content"][0],
    ]
    .iter()
    .map(|holder| holder.get("cache_control").is_some())
    .collect();
    assert_eq!(kept, [true, false, false, true]);
}

#[test]
fn empty_messages_go_but_tool_answers_and_a_final_prefill_stay() {
    let mut body = json!({"messages": [
        user("hi"),
        assistant(""),
        {"role": "user", "content": [{"type": "text", "text": " "}]},
        {"role": "tool", "tool_call_id": "c1", "content": ""},
        assistant(""),
    ]});
    let outcome = apply(QuickFix::RemoveEmptyContent, Dialect::OpenAiChat, &mut body);
    assert_eq!(
        outcome.summary,
        "removed 2 empty messages and 1 empty text block"
    );
    assert_eq!(shape(&body["messages"]), ["user", "tool<c1", "assistant"]);
}

#[test]
fn unanswered_calls_can_be_dropped_in_every_dialect() {
    let mut chat = json!({"messages": [user("go"), chat_calls(&["c1"]), user("well?")]});
    apply(
        QuickFix::DropUnansweredToolCalls,
        Dialect::OpenAiChat,
        &mut chat,
    );
    assert_eq!(shape(&chat["messages"]), ["user", "user"]);
    let mut anthropic = json!({"messages": [user("go"), anthropic_calls(&["t1"]), user("well?")]});
    apply(
        QuickFix::DropUnansweredToolCalls,
        Dialect::Anthropic,
        &mut anthropic,
    );
    // The assistant's text stays; only its call goes.
    assert_eq!(shape(&anthropic["messages"]), ["user", "assistant", "user"]);
    assert_eq!(
        anthropic["messages"][1]["content"].as_array().map(Vec::len),
        Some(1)
    );
    let mut responses = json!({"input": [user("go"), responses_call("f1"), responses_call("f2"), responses_output("f2")]});
    apply(
        QuickFix::DropUnansweredToolCalls,
        Dialect::OpenAiResponses,
        &mut responses,
    );
    assert_eq!(responses["input"].as_array().map(Vec::len), Some(3));
}

#[test]
fn a_pairing_message_about_other_call_ids_offers_nothing() {
    let body = json!({"messages": [user("go"), anthropic_calls(&["toolu_A1"]), user("well?")]});
    let other = "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_B2.";
    assert!(offered(400, other, Dialect::Anthropic, &body, None).is_empty());
    let same = "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_A1.";
    assert_eq!(
        offered(400, same, Dialect::Anthropic, &body, None),
        [
            QuickFix::AddMissingToolResults,
            QuickFix::DropUnansweredToolCalls
        ]
    );
}

#[test]
fn every_new_fix_says_what_it_changes_and_round_trips_as_json() {
    let fixes = [
        QuickFix::RenameParam {
            from: "a".into(),
            to: "b.c".into(),
        },
        QuickFix::RemoveNestedField {
            path: "tools.*.x".into(),
        },
        QuickFix::RemoveThinking,
        QuickFix::RemoveExtraCacheControl { max: 4 },
        QuickFix::RemoveEmptyContent,
        QuickFix::DropUnansweredToolCalls,
    ];
    for fix in fixes {
        let line = fix.to_string();
        assert!(!line.is_empty() && !line.contains('\n'), "{line}");
        let json = serde_json::to_string(&fix).expect("serializes");
        assert_eq!(serde_json::from_str::<QuickFix>(&json).ok(), Some(fix));
    }
}

#[test]
fn a_variant_in_a_path_narrows_the_removal_to_blocks_of_that_type() {
    let cc = json!({"type": "ephemeral"});
    let mut body = json!({"messages": [
        user("hi"),
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "s", "cache_control": cc},
            {"type": "text", "text": "ok", "cache_control": cc},
        ]},
    ]});
    let message = "messages.1.content.0.thinking.cache_control: Extra inputs are not permitted";
    let fix = QuickFix::RemoveNestedField {
        path: "messages.*.content.*:thinking.cache_control".into(),
    };
    assert_eq!(
        offered(400, message, Dialect::Anthropic, &body, None),
        std::slice::from_ref(&fix)
    );
    apply(fix, Dialect::Anthropic, &mut body);
    assert!(body["messages"][1]["content"][0]
        .get("cache_control")
        .is_none());
    assert!(body["messages"][1]["content"][1]
        .get("cache_control")
        .is_some());
    // "*.cache_control": wherever it is.
    let anywhere = "*.cache_control: Extra inputs are not permitted";
    let fix = QuickFix::RemoveNestedField {
        path: "**.cache_control".into(),
    };
    assert_eq!(
        offered(400, anywhere, Dialect::Anthropic, &body, None),
        std::slice::from_ref(&fix)
    );
    apply(fix, Dialect::Anthropic, &mut body);
    assert!(!body.to_string().contains("cache_control"));
    assert!(offered(400, anywhere, Dialect::Anthropic, &body, None).is_empty());
}

#[test]
fn token_counts_read_safely_whatever_precedes_them() {
    let body = json!({"model": "m", "messages": [user("hi")], "max_tokens": 600});
    for message in [
        "maximum context length is 1000 tokens. However, you requested 1066 tokens (é466 in the messages, 600 in the completion)",
        "input length and `max_tokens` exceed context limit: ü466 + 600 > 1000",
        "input length and `max_tokens` exceed context limit: + 600 > 1000",
    ] {
        let _ = offered(400, message, Dialect::OpenAiChat, &body, None);
    }
}
