//! Rules kept by the user change later matching requests before they are forwarded; the
//! record keeps what the agent sent, and the session keeps the rules.

mod common;

use common::{client, Harness};
use llmscope::fix::{QuickFix, Rule, RuleAction, RuleMatch};
use serde_json::json;

const CHAT: &str = "/v1/chat/completions";

fn rule(id: u64, matcher: RuleMatch, action: RuleAction) -> Rule {
    Rule {
        id,
        enabled: true,
        matcher,
        action,
        created_from: Some("#1".into()),
    }
}

async fn post(h: &Harness, body: serde_json::Value) -> reqwest::Response {
    client()
        .post(h.url(CHAT))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn a_model_rule_fixes_follow_up_requests_and_the_record_keeps_the_original() {
    let mut h = Harness::start().await;
    h.control.set_rules(vec![rule(
        1,
        RuleMatch {
            model_missing: true,
            ..RuleMatch::default()
        },
        RuleAction::SetField {
            pointer: "/model".into(),
            value: json!("mock-ok"),
        },
    )]);
    let agent_body = json!({"model": null, "messages": [{"role": "user", "content": "next"}]});
    let reply = post(&h, agent_body.clone()).await;
    assert_eq!(reply.status(), 200, "the gateway got a model");
    let forwarded: serde_json::Value =
        serde_json::from_slice(&h.mock.received()[0].body).expect("JSON forwarded");
    assert_eq!(forwarded["model"], "mock-ok");
    assert_eq!(forwarded["messages"], agent_body["messages"]);

    let record = h.next_finished().await;
    let rewrite = record.start.rewrite.clone().expect("marked as rewritten");
    assert_eq!(rewrite.applied.len(), 1);
    assert!(
        rewrite.applied[0].starts_with("rule 1:"),
        "{:?}",
        rewrite.applied
    );
    let original: serde_json::Value =
        serde_json::from_slice(&rewrite.original.body).expect("original JSON");
    assert_eq!(original, agent_body);
    assert_eq!(record.start.model.as_deref(), Some("mock-ok"));

    // A request that names its model is left alone.
    post(&h, json!({"model": "mock-ok", "messages": []})).await;
    assert!(h.next_finished().await.start.rewrite.is_none());

    let session = h.session;
    let (stored, dir) = h.stop_and_load().await;
    let kept = stored[0]
        .record
        .start
        .rewrite
        .clone()
        .expect("stored rewrite");
    assert_eq!(kept.original.body, rewrite.original.body);
    let rules = llmscope::store::Store::open(&dir.path)
        .expect("store")
        .rules(session)
        .expect("rules");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["id"], 1);
}

#[tokio::test]
async fn a_header_rule_adds_the_header_the_gateway_wants_and_is_stored_redacted() {
    let mut h = Harness::start().await;
    h.control.set_rules(vec![
        rule(
            1,
            RuleMatch::default(),
            RuleAction::SetHeader {
                name: "x-opencode-session".into(),
                value: "ses_123".into(),
            },
        ),
        rule(
            2,
            RuleMatch::default(),
            RuleAction::SetHeader {
                name: "x-api-key".into(),
                value: "sk-RULE-SECRET".into(),
            },
        ),
    ]);
    post(&h, json!({"model": "mock-ok", "messages": []})).await;
    let received = &h.mock.received()[0];
    assert_eq!(received.header("x-opencode-session"), Some("ses_123"));
    assert_eq!(received.header("x-api-key"), Some("sk-RULE-SECRET"));
    h.next_finished().await;
    let session = h.session;
    let (_, dir) = h.stop_and_load().await;
    // Files only: the live sessions' socket directory holds no data.
    let files = std::fs::read_dir(&dir.path)
        .expect("data dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_file());
    for file in files {
        let bytes = std::fs::read(file).expect("file");
        assert!(!bytes.windows(14).any(|w| w == b"sk-RULE-SECRET"));
    }
    let rules = llmscope::store::Store::open(&dir.path)
        .expect("store")
        .rules(session)
        .expect("rules");
    assert_eq!(rules.len(), 2);
}

#[tokio::test]
async fn a_tool_choice_rule_makes_it_auto_and_a_disabled_rule_does_nothing() {
    let mut h = Harness::start().await;
    let mut disabled = rule(
        2,
        RuleMatch::default(),
        RuleAction::RemoveField {
            pointer: "/messages".into(),
        },
    );
    disabled.enabled = false;
    h.control.set_rules(vec![
        rule(
            1,
            RuleMatch {
                path_contains: Some("/chat/completions".into()),
                ..RuleMatch::default()
            },
            RuleAction::Fix(QuickFix::SetToolChoiceAuto),
        ),
        disabled,
    ]);
    let body = json!({
        "model": "mock-ok",
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "read", "parameters": {"type": "object"}}}],
        "tool_choice": "required"
    });
    post(&h, body).await;
    let forwarded: serde_json::Value =
        serde_json::from_slice(&h.mock.received()[0].body).expect("JSON");
    assert_eq!(forwarded["tool_choice"], "auto");
    assert!(
        forwarded["messages"].is_array(),
        "the disabled rule did not run"
    );
    let record = h.next_finished().await;
    assert_eq!(
        record.start.rewrite.as_ref().map(|r| r.applied.len()),
        Some(1)
    );
    h.stop_and_load().await;
}
