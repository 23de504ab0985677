//! The real cases rules exist for, and how rules match, order and serialize.

use serde_json::json;

use super::*;
use crate::capture::REDACTED;
use crate::fix::{
    apply_rules, restore_secrets, AppliedRule, QuickFix, Rule, RuleAction, RuleMatch,
};
use crate::llm::{diagnose, DiagnosisKind};

const CHAT: &str = "/v1/chat/completions";

fn rule(id: u64, matcher: RuleMatch, action: RuleAction) -> Rule {
    Rule {
        id,
        enabled: true,
        matcher,
        action,
        created_from: Some(format!("#{id}")),
    }
}

fn model_missing_rule() -> Rule {
    rule(
        1,
        RuleMatch {
            model_missing: true,
            ..RuleMatch::default()
        },
        RuleAction::SetField {
            pointer: "/model".into(),
            value: json!("gpt-4o"),
        },
    )
}

#[test]
fn an_agent_that_drops_the_model_gets_it_put_back() {
    let message = "/chat/completions: Invalid model name passed in model=None. Call `/v1/models` to view available models for your key.";
    assert!(matches!(
        diagnose(Some(400), message).map(|d| d.kind),
        Some(DiagnosisKind::UnknownModel { .. })
    ));
    let rules = [model_missing_rule()];
    let mut follow_up = request(json!({"messages": [user("and now?")], "stream": true}));
    let applied = apply_rules(&rules, Dialect::OpenAiChat, "POST", CHAT, &mut follow_up);
    assert_eq!(
        applied,
        [AppliedRule {
            id: 1,
            summary: "set /model to \"gpt-4o\"".into(),
            edits_body: true
        }]
    );
    assert_eq!(follow_up.body["model"], "gpt-4o");

    let mut first_turn = request(fixture_body(OPENCODE));
    assert!(apply_rules(&rules, Dialect::OpenAiChat, "POST", CHAT, &mut first_turn).is_empty());
    assert_eq!(first_turn.body, fixture_body(OPENCODE));

    let mut null_model = request(json!({"model": null, "messages": []}));
    assert_eq!(
        apply_rules(&rules, Dialect::OpenAiChat, "POST", CHAT, &mut null_model).len(),
        1
    );
    assert_eq!(null_model.body, json!({"model": "gpt-4o", "messages": []}));
}

#[test]
fn a_gateway_that_wants_a_session_header_gets_it_on_every_request() {
    let message = "missing x-opencode-session";
    assert_eq!(
        diagnose(Some(400), message).map(|d| d.kind),
        Some(DiagnosisKind::MissingHeader {
            header: Some("x-opencode-session".into())
        })
    );
    let rules = [rule(
        2,
        RuleMatch {
            path_contains: Some("/chat/completions".into()),
            ..RuleMatch::default()
        },
        RuleAction::SetHeader {
            name: "x-opencode-session".into(),
            value: "ses_df0417ee6ffe".into(),
        },
    )];
    let mut turn = EditableRequest {
        headers: fixture_headers(OPENCODE),
        body: fixture_body(OPENCODE),
    };
    let applied = apply_rules(&rules, Dialect::OpenAiChat, "POST", CHAT, &mut turn);
    assert_eq!(
        applied,
        [AppliedRule {
            id: 2,
            summary: "added header `x-opencode-session`".into(),
            edits_body: false
        }]
    );
    assert!(turn
        .headers
        .iter()
        .any(|header| header == ("x-opencode-session", "ses_df0417ee6ffe")));
    assert_eq!(turn.body, fixture_body(OPENCODE));
    // Already there: nothing to report.
    assert!(apply_rules(&rules, Dialect::OpenAiChat, "POST", CHAT, &mut turn).is_empty());
    let mut other_route = request(json!({}));
    assert!(apply_rules(
        &rules,
        Dialect::Unknown,
        "GET",
        "/v1/models",
        &mut other_route
    )
    .is_empty());
}

#[test]
fn a_provider_that_only_takes_auto_gets_auto_in_each_dialect() {
    let rules = [rule(
        3,
        RuleMatch {
            model: Some("*".into()),
            ..RuleMatch::default()
        },
        RuleAction::Fix(QuickFix::SetToolChoiceAuto),
    )];
    let mut chat = request(json!({"model": "m", "messages": [], "tool_choice": "required"}));
    let applied = apply_rules(&rules, Dialect::OpenAiChat, "POST", CHAT, &mut chat);
    assert_eq!(applied.len(), 1);
    assert_eq!(chat.body["tool_choice"], "auto");

    let mut claude = request(fixture_body(CLAUDE_CODE));
    claude.body["tool_choice"] = json!({"type": "any"});
    let applied = apply_rules(
        &rules,
        Dialect::Anthropic,
        "POST",
        "/v1/messages?beta=true",
        &mut claude,
    );
    assert_eq!(
        applied[0].summary,
        "changed `tool_choice` from {\"type\":\"any\"} to {\"type\":\"auto\"}"
    );
    assert_eq!(claude.body["tool_choice"], json!({"type": "auto"}));

    let mut already = request(fixture_body(OPENCODE));
    assert!(apply_rules(&rules, Dialect::OpenAiChat, "POST", CHAT, &mut already).is_empty());
}

#[test]
fn a_disabled_rule_does_nothing() {
    let mut off = model_missing_rule();
    off.enabled = false;
    let mut follow_up = request(json!({"messages": []}));
    assert!(apply_rules(&[off], Dialect::OpenAiChat, "POST", CHAT, &mut follow_up).is_empty());
    assert_eq!(follow_up.body, json!({"messages": []}));
}

#[test]
fn rules_apply_in_order_each_seeing_what_the_last_one_left() {
    let cap_for_gpt4o = rule(
        4,
        RuleMatch {
            model: Some("gpt-4o".into()),
            ..RuleMatch::default()
        },
        RuleAction::Fix(QuickFix::CapMaxTokens { max: 4096 }),
    );
    let rules = [model_missing_rule(), cap_for_gpt4o];
    let mut follow_up = request(json!({"messages": [], "max_tokens": 32000}));
    let applied = apply_rules(&rules, Dialect::OpenAiChat, "POST", CHAT, &mut follow_up);
    let ids: Vec<u64> = applied.iter().map(|a| a.id).collect();
    assert_eq!(ids, [1, 4]);
    assert_eq!(
        follow_up.body,
        json!({"messages": [], "max_tokens": 4096, "model": "gpt-4o"})
    );
}

#[test]
fn a_rule_that_cannot_read_the_body_is_passed_over_and_header_rules_still_apply() {
    let header = rule(
        5,
        RuleMatch::default(),
        RuleAction::RemoveHeader {
            name: "X-Stainless-Retry-Count".into(),
        },
    );
    let rules = [model_missing_rule(), header];
    let mut request = EditableRequest {
        headers: fixture_headers(CLAUDE_CODE),
        body: json!("not an object"),
    };
    let applied = apply_rules(
        &rules,
        Dialect::Anthropic,
        "POST",
        "/v1/messages",
        &mut request,
    );
    assert_eq!(
        applied,
        [AppliedRule {
            id: 5,
            summary: "removed header `X-Stainless-Retry-Count`".into(),
            edits_body: false
        }]
    );
    assert!(!request
        .headers
        .iter()
        .any(|(name, _)| name == "X-Stainless-Retry-Count"));
}

#[test]
fn remove_field_rules_take_out_what_a_provider_refuses() {
    let rules = [rule(
        6,
        RuleMatch::default(),
        RuleAction::RemoveField {
            pointer: "/context_management".into(),
        },
    )];
    let mut claude = request(fixture_body(CLAUDE_CODE));
    let applied = apply_rules(
        &rules,
        Dialect::Anthropic,
        "POST",
        "/v1/messages?beta=true",
        &mut claude,
    );
    assert_eq!(applied[0].summary, "removed /context_management");
    assert!(claude.body.get("context_management").is_none());
    assert_eq!(keys(&claude.body)[..3], ["model", "messages", "system"]);
}

#[test]
fn matchers_check_method_path_and_model() {
    let post_chat_gpt = RuleMatch {
        method: Some("post".into()),
        path_contains: Some("/chat/".into()),
        model: Some("gpt-4o".into()),
        model_missing: false,
    };
    assert!(post_chat_gpt.matches("POST", CHAT, Some("gpt-4o")));
    assert!(!post_chat_gpt.matches("GET", CHAT, Some("gpt-4o")));
    assert!(!post_chat_gpt.matches("POST", "/v1/messages", Some("gpt-4o")));
    assert!(!post_chat_gpt.matches("POST", CHAT, Some("gpt-4o-mini")));
    let any_model = RuleMatch {
        model: Some("*".into()),
        ..RuleMatch::default()
    };
    assert!(any_model.matches("POST", CHAT, Some("x")));
    assert!(!any_model.matches("POST", CHAT, None));
    let missing = RuleMatch {
        model_missing: true,
        ..RuleMatch::default()
    };
    assert!(missing.matches("POST", CHAT, None));
    assert!(missing.matches("POST", CHAT, Some("")));
    assert!(!missing.matches("POST", CHAT, Some("gpt-4o")));
    assert!(RuleMatch::default().matches("HEAD", "/", None));
}

#[test]
fn rules_read_as_one_line_each() {
    let rule = model_missing_rule();
    assert_eq!(rule.to_string(), "no model → set /model to \"gpt-4o\"");
    let secret = RuleAction::SetHeader {
        name: "x-api-key".into(),
        value: "sk-ant-123".into(),
    };
    assert_eq!(secret.to_string(), "set header `x-api-key: <redacted>`");
    let matcher = RuleMatch {
        method: Some("post".into()),
        path_contains: Some("/v1/messages".into()),
        model: Some("*".into()),
        model_missing: false,
    };
    assert_eq!(
        matcher.to_string(),
        "POST, path has `/v1/messages`, any model"
    );
}

#[test]
fn rules_round_trip_through_json() {
    let rules = vec![
        model_missing_rule(),
        rule(
            2,
            RuleMatch::default(),
            RuleAction::Fix(QuickFix::DropOldestTurns { turns: 2 }),
        ),
        rule(
            3,
            RuleMatch::default(),
            RuleAction::Fix(QuickFix::SetToolChoiceAuto),
        ),
        rule(
            4,
            RuleMatch::default(),
            RuleAction::SetHeader {
                name: "x-opencode-session".into(),
                value: "s".into(),
            },
        ),
        rule(
            5,
            RuleMatch::default(),
            RuleAction::RemoveHeader { name: "x-a".into() },
        ),
        rule(
            6,
            RuleMatch::default(),
            RuleAction::RemoveField {
                pointer: "/a".into(),
            },
        ),
    ];
    let text = serde_json::to_string(&rules).expect("serializes");
    let back: Vec<Rule> = serde_json::from_str(&text).expect("deserializes");
    assert_eq!(back, rules);
    let one = serde_json::to_value(&rules[1]).expect("serializes");
    assert_eq!(
        one,
        json!({
            "id": 2,
            "enabled": true,
            "matcher": {"method": null, "path_contains": null, "model": null, "model_missing": false},
            "action": {"action": "fix", "fix": "drop_oldest_turns", "turns": 2},
            "created_from": "#2"
        })
    );
    let sparse: Rule = serde_json::from_value(json!({
        "id": 9, "enabled": true, "matcher": {"model_missing": true},
        "action": {"action": "set_field", "pointer": "/model", "value": "gpt-4o"}
    }))
    .expect("a stored rule with defaults");
    assert_eq!(
        sparse.matcher,
        RuleMatch {
            model_missing: true,
            ..RuleMatch::default()
        }
    );
    assert_eq!(sparse.created_from, None);
}

fn set_header(name: &str, value: &str) -> RuleAction {
    RuleAction::SetHeader {
        name: name.into(),
        value: value.into(),
    }
}

#[test]
fn a_rule_is_written_down_without_its_credential_and_gets_it_back() {
    let real = rule_without_match(3, set_header("x-api-key", "sk-real-123"));
    let sent = real.clone().redacted();
    let line = serde_json::to_string(&sent).expect("encodes");
    assert!(!line.contains("sk-real"), "{line}");
    let mut back = sent.clone();
    back.enabled = false;
    let restored = restore_secrets(vec![back], std::slice::from_ref(&real));
    assert_eq!(restored[0].action, set_header("x-api-key", "sk-real-123"));
    assert!(!restored[0].enabled);
    // A rule the proxy does not know cannot borrow another rule's credential.
    let stranger = restore_secrets(
        vec![rule_without_match(4, set_header("x-api-key", REDACTED))],
        &[real],
    );
    assert_eq!(stranger[0].action, set_header("x-api-key", REDACTED));
}

#[test]
fn a_kept_add_header_fix_hides_its_credential_too() {
    let add = |value: &str| {
        RuleAction::Fix(QuickFix::AddHeader {
            name: "Authorization".into(),
            value: value.into(),
        })
    };
    let real = rule_without_match(5, add("Bearer sk-typed-in-the-editor"));
    let line = serde_json::to_string(&real.clone().redacted()).expect("encodes");
    assert!(!line.contains("sk-typed"), "{line}");
    let restored = restore_secrets(vec![real.clone().redacted()], &[real]);
    assert_eq!(restored[0].action, add("Bearer sk-typed-in-the-editor"));
    // A header that is no credential is written as it is.
    let plain = rule_without_match(
        6,
        RuleAction::Fix(QuickFix::AddHeader {
            name: "anthropic-version".into(),
            value: "2023-06-01".into(),
        }),
    );
    assert_eq!(plain.clone().redacted(), plain);
}

fn rule_without_match(id: u64, action: RuleAction) -> Rule {
    rule(id, RuleMatch::default(), action)
}
