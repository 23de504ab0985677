//! The fixes offered for unsupported parameters, tool schemas, models, headers, and the
//! failures that have none.

use serde_json::json;

use super::suggest::{
    offered, offered_for_body, ANTHROPIC_RATE_LIMITED, ANTHROPIC_UNAUTHORIZED,
    LITELLM_INVALID_MODEL, LITELLM_UNRECOGNIZED_ARGUMENT, OPENAI_RATE_LIMITED, OPENAI_UNAUTHORIZED,
};
use super::*;
use crate::fix::{suggest_fixes, FixContext};
use crate::llm::{diagnose, DiagnosisKind};

#[test]
fn an_unrecognized_argument_is_removed_when_the_body_has_it() {
    let opencode = fixture_body(OPENCODE);
    let fixes = offered_for_body(
        400,
        LITELLM_UNRECOGNIZED_ARGUMENT,
        Dialect::OpenAiChat,
        &opencode,
        None,
    );
    assert_eq!(
        fixes,
        [QuickFix::RemoveParam {
            name: "stream_options".into()
        }]
    );
    let message = "litellm.BadRequestError: OpenAIException - Unrecognized request argument supplied: reasoning_effort";
    assert!(offered(400, message, Dialect::OpenAiChat, &opencode, None).is_empty());
}

#[test]
fn a_nested_unsupported_param_is_removed_where_the_body_has_it() {
    let mut claude = fixture_body(CLAUDE_CODE);
    let wrapped = r#"litellm.BadRequestError: AnthropicException - {"type":"error","error":{"type":"invalid_request_error","message":"tools.0.custom.eager_input_streaming: Extra inputs are not permitted"}}"#;
    // The fixture's tools have no such field: the message is not about this request.
    assert!(offered(400, wrapped, Dialect::Anthropic, &claude, None).is_empty());
    claude["tools"][0]["eager_input_streaming"] = json!(true);
    claude["tools"][2]["eager_input_streaming"] = json!(true);
    // `custom` names the union variant, not a key; every custom tool loses the field.
    let fix = QuickFix::RemoveNestedField {
        path: "tools.*:custom.eager_input_streaming".into(),
    };
    assert_eq!(
        offered(400, wrapped, Dialect::Anthropic, &claude, None),
        std::slice::from_ref(&fix)
    );
    assert_eq!(
        apply(fix, Dialect::Anthropic, &mut claude).summary,
        "removed `tools.*:custom.eager_input_streaming` (2 occurrences)"
    );
    let metadata = "metadata.foo: Extra inputs are not permitted";
    let mut claude = fixture_body(CLAUDE_CODE);
    assert!(offered(400, metadata, Dialect::Anthropic, &claude, None).is_empty());
    claude["metadata"]["foo"] = json!(1);
    assert_eq!(
        offered(400, metadata, Dialect::Anthropic, &claude, None),
        [QuickFix::RemoveNestedField {
            path: "metadata.foo".into()
        }]
    );
    let conversation = "messages.0.foo: Extra inputs are not permitted";
    assert!(offered(400, conversation, Dialect::Anthropic, &claude, None).is_empty());
}

#[test]
fn a_message_about_a_forced_tool_choice_offers_auto_first() {
    let body =
        json!({"model": "m", "messages": [user("go")], "tools": [], "tool_choice": "required"});
    let message = "Unsupported value: 'tool_choice' does not support 'required' with this model.";
    assert_eq!(
        offered(400, message, Dialect::OpenAiChat, &body, None),
        [
            QuickFix::SetToolChoiceAuto,
            QuickFix::RemoveParam {
                name: "tool_choice".into()
            }
        ]
    );
    let opencode = fixture_body(OPENCODE);
    assert_eq!(
        offered(400, message, Dialect::OpenAiChat, &opencode, None),
        [QuickFix::RemoveParam {
            name: "tool_choice".into()
        }]
    );
}

#[test]
fn an_invalid_tool_schema_is_offered_a_repair_only_when_one_is_possible() {
    let mut opencode = fixture_body(OPENCODE);
    let message = "Invalid 'tools[3].function.parameters': schema must be a JSON Schema of 'type: \"object\"'";
    assert!(offered(400, message, Dialect::OpenAiChat, &opencode, None).is_empty());
    opencode["tools"][3]["function"]["parameters"]["type"] = json!("string");
    assert_eq!(
        offered(400, message, Dialect::OpenAiChat, &opencode, None),
        [QuickFix::RepairToolSchemas]
    );
    let mut claude = fixture_body(CLAUDE_CODE);
    claude["tools"][0]["input_schema"]["properties"] = json!([]);
    let message = "tools.0.custom.input_schema: JSON schema is invalid. It must match JSON Schema draft 2020-12";
    assert_eq!(
        offered(400, message, Dialect::Anthropic, &claude, None),
        [QuickFix::RepairToolSchemas]
    );
}

#[test]
fn an_unknown_model_is_replaced_by_the_last_model_that_worked() {
    let mut opencode = fixture_body(OPENCODE);
    opencode["model"] = json!("nope");
    let set = |model: &str| {
        vec![QuickFix::SetModel {
            model: model.into(),
        }]
    };
    assert_eq!(
        offered_for_body(
            400,
            LITELLM_INVALID_MODEL,
            Dialect::OpenAiChat,
            &opencode,
            Some("gpt-4o")
        ),
        set("gpt-4o")
    );
    // With nothing better known, the refused name is not offered back: it would only fail
    // again (the screen asks the upstream for its list instead).
    assert!(offered_for_body(
        400,
        LITELLM_INVALID_MODEL,
        Dialect::OpenAiChat,
        &opencode,
        None
    )
    .is_empty());
    // Nor when the model that worked before is the one refused now.
    let refused_now = "The model `gpt-4o` does not exist or you do not have access to it.";
    let mut named = opencode.clone();
    named["model"] = json!("gpt-4o-alias");
    assert!(offered(
        404,
        refused_now,
        Dialect::OpenAiChat,
        &named,
        Some("gpt-4o")
    )
    .is_empty());
    let openai = "The model `gpt-9` does not exist or you do not have access to it.";
    assert_eq!(
        offered(404, openai, Dialect::OpenAiChat, &opencode, Some("gpt-4o")),
        set("gpt-4o")
    );
}

#[test]
fn a_dropped_model_is_put_back_from_the_last_model_that_worked() {
    let follow_up = json!({"messages": [user("go")], "stream": true});
    let message = "/chat/completions: Invalid model name passed in model=None. Call `/v1/models` to view available models for your key.";
    let diagnosis = diagnose(Some(400), message).map(|d| d.kind);
    assert_eq!(
        diagnosis,
        Some(DiagnosisKind::UnknownModel {
            model: Some("None".into())
        })
    );
    assert_eq!(
        offered(
            400,
            message,
            Dialect::OpenAiChat,
            &follow_up,
            Some("gpt-4o")
        ),
        [QuickFix::SetModel {
            model: "gpt-4o".into()
        }]
    );
    assert!(offered(400, message, Dialect::OpenAiChat, &follow_up, None).is_empty());
}

#[test]
fn a_missing_header_is_offered_empty_for_the_user_to_fill() {
    let fixes = offered(
        400,
        "missing x-opencode-session",
        Dialect::OpenAiChat,
        &fixture_body(OPENCODE),
        None,
    );
    assert_eq!(
        fixes,
        [QuickFix::AddHeader {
            name: "x-opencode-session".into(),
            value: String::new()
        }]
    );
    let kind = DiagnosisKind::MissingHeader {
        header: Some("x-tenant-id".into()),
    };
    let fixes = suggest_fixes(&kind, Dialect::Unknown, b"not json", &FixContext::default());
    assert_eq!(
        fixes,
        [QuickFix::AddHeader {
            name: "x-tenant-id".into(),
            value: String::new()
        }]
    );
}

#[test]
fn auth_and_rate_limits_have_no_quick_fix() {
    let body = json!({"model": "m", "messages": [user("go")], "tool_choice": "required"});
    for (error_body, status) in [
        (OPENAI_UNAUTHORIZED, 401),
        (ANTHROPIC_UNAUTHORIZED, 401),
        (OPENAI_RATE_LIMITED, 429),
        (ANTHROPIC_RATE_LIMITED, 429),
    ] {
        assert!(offered_for_body(
            status,
            error_body,
            Dialect::OpenAiChat,
            &body,
            Some("gpt-4o")
        )
        .is_empty());
    }
    let context = FixContext {
        last_good_model: None,
        upstream_message: Some("tool_choice rate limit".into()),
    };
    assert!(suggest_fixes(
        &DiagnosisKind::RateLimit,
        Dialect::OpenAiChat,
        body.to_string().as_bytes(),
        &context
    )
    .is_empty());
}

#[test]
fn a_body_that_is_not_json_gets_no_body_fix() {
    let kind = DiagnosisKind::ContextLength {
        limit: Some(8192),
        requested: Some(9000),
    };
    assert!(suggest_fixes(
        &kind,
        Dialect::OpenAiChat,
        b"{\"messages\": [",
        &FixContext::default()
    )
    .is_empty());
    let kind = DiagnosisKind::UnknownModel { model: None };
    let context = FixContext {
        last_good_model: Some("gpt-4o".into()),
        upstream_message: None,
    };
    assert!(suggest_fixes(&kind, Dialect::OpenAiChat, b"[1]", &context).is_empty());
}
