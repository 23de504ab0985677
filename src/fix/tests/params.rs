use serde_json::json;

use super::*;
use crate::fix::FixError;

#[test]
fn removing_a_param_keeps_the_order_of_the_other_fields() {
    let mut body = fixture_body(OPENCODE);
    let outcome = apply(
        QuickFix::RemoveParam {
            name: "stream_options".into(),
        },
        Dialect::OpenAiChat,
        &mut body,
    );
    assert_eq!(outcome, FixOutcome::changed("removed `stream_options`"));
    assert_eq!(
        keys(&body),
        [
            "model",
            "max_tokens",
            "messages",
            "tools",
            "tool_choice",
            "stream"
        ]
    );
    let outcome = apply(
        QuickFix::RemoveParam {
            name: "stream_options".into(),
        },
        Dialect::OpenAiChat,
        &mut body,
    );
    assert_eq!(
        outcome,
        FixOutcome::unchanged("the body has no `stream_options`")
    );
}

#[test]
fn removing_a_param_from_the_claude_code_turn_leaves_the_rest_as_sent() {
    let mut body = fixture_body(CLAUDE_CODE);
    apply(
        QuickFix::RemoveParam {
            name: "context_management".into(),
        },
        Dialect::Anthropic,
        &mut body,
    );
    let mut expected = fixture_body(CLAUDE_CODE);
    let _ = expected
        .as_object_mut()
        .map(|object| object.shift_remove("context_management"));
    assert_eq!(body.to_string(), expected.to_string());
}

#[test]
fn max_tokens_is_capped_in_the_field_each_dialect_uses() {
    let mut opencode = fixture_body(OPENCODE);
    let outcome = apply(
        QuickFix::CapMaxTokens { max: 16384 },
        Dialect::OpenAiChat,
        &mut opencode,
    );
    assert_eq!(outcome, FixOutcome::changed("capped `max_tokens` at 16384"));
    assert_eq!(opencode["max_tokens"], 16384);

    let mut claude = fixture_body(CLAUDE_CODE);
    apply(
        QuickFix::CapMaxTokens { max: 21333 },
        Dialect::Anthropic,
        &mut claude,
    );
    assert_eq!(claude["max_tokens"], 21333);
    assert_eq!(keys(&claude), keys(&fixture_body(CLAUDE_CODE)));

    let mut newer = json!({"model": "o3", "messages": [], "max_completion_tokens": 100000});
    apply(
        QuickFix::CapMaxTokens { max: 8000 },
        Dialect::OpenAiChat,
        &mut newer,
    );
    assert_eq!(
        newer,
        json!({"model": "o3", "messages": [], "max_completion_tokens": 8000})
    );

    let mut responses = json!({"model": "gpt-5", "input": "hi", "max_output_tokens": 128000});
    apply(
        QuickFix::CapMaxTokens { max: 4096 },
        Dialect::OpenAiResponses,
        &mut responses,
    );
    assert_eq!(responses["max_output_tokens"], 4096);
}

#[test]
fn a_cap_above_the_current_limit_changes_nothing_and_a_missing_limit_is_added() {
    let mut opencode = fixture_body(OPENCODE);
    let outcome = apply(
        QuickFix::CapMaxTokens { max: 64000 },
        Dialect::OpenAiChat,
        &mut opencode,
    );
    assert_eq!(
        outcome,
        FixOutcome::unchanged("`max_tokens` is already at most 64000")
    );
    let mut responses = json!({"model": "gpt-5", "input": "hi"});
    let outcome = apply(
        QuickFix::CapMaxTokens { max: 4096 },
        Dialect::OpenAiResponses,
        &mut responses,
    );
    assert_eq!(
        outcome.summary,
        "set `max_output_tokens` to 4096 (it was not set)"
    );
    assert_eq!(responses["max_output_tokens"], 4096);
}

#[test]
fn a_model_is_changed_in_place_or_added_first() {
    let mut body = fixture_body(OPENCODE);
    let outcome = apply(
        QuickFix::SetModel {
            model: "gpt-4o".into(),
        },
        Dialect::OpenAiChat,
        &mut body,
    );
    assert_eq!(
        outcome.summary,
        "changed the model from `mock-ok` to `gpt-4o`"
    );
    assert_eq!(keys(&body)[0], "model");
    let outcome = apply(
        QuickFix::SetModel {
            model: "gpt-4o".into(),
        },
        Dialect::OpenAiChat,
        &mut body,
    );
    assert!(!outcome.changed);

    let mut follow_up = json!({"messages": [user("hi")], "stream": true});
    let outcome = apply(
        QuickFix::SetModel {
            model: "gpt-4o".into(),
        },
        Dialect::OpenAiChat,
        &mut follow_up,
    );
    assert_eq!(outcome.summary, "added the model `gpt-4o`");
    assert_eq!(keys(&follow_up), ["model", "messages", "stream"]);
}

#[test]
fn tool_choice_becomes_auto_in_each_dialects_form() {
    let mut chat = json!({"messages": [], "tool_choice": "required", "stream": true});
    let outcome = apply(QuickFix::SetToolChoiceAuto, Dialect::OpenAiChat, &mut chat);
    assert_eq!(
        outcome.summary,
        "changed `tool_choice` from \"required\" to \"auto\""
    );
    assert_eq!(
        chat,
        json!({"messages": [], "tool_choice": "auto", "stream": true})
    );

    let mut named = json!({"tool_choice": {"type": "function", "function": {"name": "bash"}}});
    apply(QuickFix::SetToolChoiceAuto, Dialect::OpenAiChat, &mut named);
    assert_eq!(named["tool_choice"], "auto");

    let mut anthropic = json!({"messages": [], "tool_choice": {"type": "tool", "name": "Bash", "disable_parallel_tool_use": true}});
    apply(
        QuickFix::SetToolChoiceAuto,
        Dialect::Anthropic,
        &mut anthropic,
    );
    assert_eq!(
        anthropic["tool_choice"],
        json!({"type": "auto", "disable_parallel_tool_use": true})
    );

    let mut responses = json!({"input": [], "tool_choice": "required"});
    apply(
        QuickFix::SetToolChoiceAuto,
        Dialect::OpenAiResponses,
        &mut responses,
    );
    assert_eq!(responses["tool_choice"], "auto");
}

#[test]
fn tool_choice_already_auto_or_absent_is_left_alone() {
    let mut opencode = fixture_body(OPENCODE);
    let outcome = apply(
        QuickFix::SetToolChoiceAuto,
        Dialect::OpenAiChat,
        &mut opencode,
    );
    assert_eq!(
        outcome,
        FixOutcome::unchanged("`tool_choice` is already auto")
    );
    let mut claude = fixture_body(CLAUDE_CODE);
    let outcome = apply(QuickFix::SetToolChoiceAuto, Dialect::Anthropic, &mut claude);
    assert_eq!(
        outcome,
        FixOutcome::unchanged("no `tool_choice`; the default is already auto")
    );
    let mut anthropic_auto = json!({"messages": [], "tool_choice": {"type": "auto"}});
    assert!(
        !apply(
            QuickFix::SetToolChoiceAuto,
            Dialect::Anthropic,
            &mut anthropic_auto
        )
        .changed
    );
}

#[test]
fn a_header_is_added_or_replaced_whatever_its_case() {
    let mut request = EditableRequest {
        headers: fixture_headers(OPENCODE),
        body: fixture_body(OPENCODE),
    };
    let count = request.headers.len();
    let add = QuickFix::AddHeader {
        name: "x-opencode-session".into(),
        value: "ses_1".into(),
    };
    let outcome = apply_fix(&add, Dialect::OpenAiChat, &mut request);
    assert_eq!(
        outcome,
        Ok(FixOutcome::changed("added header `x-opencode-session`"))
    );
    assert_eq!(request.headers.len(), count + 1);
    assert_eq!(
        request.headers.last(),
        Some(("x-opencode-session", "ses_1"))
    );

    let replace = QuickFix::AddHeader {
        name: "X-SESSION-ID".into(),
        value: "ses_2".into(),
    };
    assert!(apply_fix(&replace, Dialect::OpenAiChat, &mut request).is_ok_and(|o| o.changed));
    assert!(request
        .headers
        .iter()
        .any(|header| header == ("x-session-id", "ses_2")));
    assert_eq!(request.headers.len(), count + 1);
    assert!(apply_fix(&replace, Dialect::OpenAiChat, &mut request).is_ok_and(|o| !o.changed));
}

#[test]
fn a_header_that_would_break_the_request_is_refused() {
    let mut request = request(json!({}));
    let split = QuickFix::AddHeader {
        name: "x-a".into(),
        value: "1\r\nx-b: 2".into(),
    };
    assert!(matches!(
        apply_fix(&split, Dialect::OpenAiChat, &mut request),
        Err(FixError::InvalidHeader { .. })
    ));
    let spaced = QuickFix::AddHeader {
        name: "x a".into(),
        value: "1".into(),
    };
    assert!(apply_fix(&spaced, Dialect::OpenAiChat, &mut request).is_err());
    assert!(request.headers.is_empty());
}

#[test]
fn body_fixes_refuse_a_body_that_is_not_an_object_and_header_fixes_do_not_care() {
    let mut not_object = request(json!(["not", "an", "object"]));
    assert_eq!(
        apply_fix(
            &QuickFix::SetToolChoiceAuto,
            Dialect::OpenAiChat,
            &mut not_object
        ),
        Err(FixError::BodyNotAnObject { found: "an array" })
    );
    let header = QuickFix::AddHeader {
        name: "x-a".into(),
        value: "1".into(),
    };
    assert!(apply_fix(&header, Dialect::OpenAiChat, &mut not_object).is_ok_and(|o| o.changed));
    assert_eq!(
        FixError::BodyNotAnObject { found: "an array" }.to_string(),
        "the request body is an array, not a JSON object; fix the JSON first"
    );
}

#[test]
fn menu_lines_are_short_and_hide_credentials() {
    assert_eq!(
        QuickFix::DropOldestTurns { turns: 1 }.to_string(),
        "drop the oldest turn"
    );
    assert_eq!(
        QuickFix::DropOldestTurns { turns: 3 }.to_string(),
        "drop the 3 oldest turns"
    );
    assert_eq!(
        QuickFix::CapMaxTokens { max: 16384 }.to_string(),
        "cap max_tokens at 16384"
    );
    assert_eq!(
        QuickFix::AddHeader {
            name: "x-opencode-session".into(),
            value: String::new()
        }
        .to_string(),
        "add header `x-opencode-session` (fill in its value)"
    );
    assert_eq!(
        QuickFix::AddHeader {
            name: "Authorization".into(),
            value: "Bearer sk-live".into()
        }
        .to_string(),
        "add header `Authorization: <redacted>`"
    );
}

#[test]
fn quick_fixes_serialize_with_a_fix_tag() {
    let fix = QuickFix::CapMaxTokens { max: 4096 };
    let text = serde_json::to_string(&fix).expect("serializes");
    assert_eq!(text, r#"{"fix":"cap_max_tokens","max":4096}"#);
    assert_eq!(serde_json::from_str::<QuickFix>(&text).ok(), Some(fix));
    let unit = serde_json::to_string(&QuickFix::SetToolChoiceAuto).expect("serializes");
    assert_eq!(unit, r#"{"fix":"set_tool_choice_auto"}"#);
}

#[test]
fn setting_a_header_keeps_its_first_place_and_drops_its_duplicates() {
    use crate::capture::HeaderList;
    use crate::fix::params::set_header;
    let mut headers = HeaderList::from([
        ("X-Session", "a"),
        ("accept", "*/*"),
        ("x-session", "b"),
        ("content-type", "application/json"),
    ]);
    let outcome = set_header(&mut headers, "x-session", "c").expect("a valid header");
    assert!(outcome.changed);
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            ("X-Session", "c"),
            ("accept", "*/*"),
            ("content-type", "application/json"),
        ]
    );
    let again = set_header(&mut headers, "x-session", "c").expect("a valid header");
    assert!(!again.changed, "{again:?}");
    set_header(&mut headers, "x-new", "1").expect("a valid header");
    assert_eq!(headers.last(), Some(("x-new", "1")));
}
