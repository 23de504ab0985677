//! `llmscope open` on a session the real `record` binary wrote to a real SQLite file: its
//! rows, listed from summaries without bodies, fall into conversations with their headers.

mod common;

use common::recorder::Recorder;
use common::screen::Screen;
use llmscope::mock::MockUpstream;

#[tokio::test]
async fn open_groups_a_recorded_session_into_conversations() {
    let mock = MockUpstream::start().await.expect("mock");
    let dir = tempfile::tempdir().expect("data dir");
    let mut recorder = Recorder::start(&mock.url(), dir.path());
    let http = common::client();
    let system = serde_json::json!({"role": "system", "content": "You are opencode."});
    let ask = serde_json::json!({"role": "user", "content": "add a --verbose flag"});
    let answer = serde_json::json!({"role": "assistant", "content": "Done."});
    let thanks = serde_json::json!({"role": "user", "content": "now test it"});
    let turns = [
        ("ses_a", serde_json::json!([system, ask])),
        ("ses_b", serde_json::json!([system, ask])),
        ("ses_a", serde_json::json!([system, ask, answer, thanks])),
        ("ses_b", serde_json::json!([system, ask, answer, thanks])),
        (
            "ses_a",
            serde_json::json!([system, ask, answer, thanks, answer, thanks]),
        ),
    ];
    for (session, messages) in turns {
        let body = serde_json::json!({"model": "gpt-4.1", "stream": false, "messages": messages});
        let reply = http
            .post(format!("{}/v1/chat/completions", recorder.url))
            .header("x-mock-behavior", "mock-ok")
            .header("x-session-id", session)
            .header(
                "user-agent",
                "opencode/1.18.33 ai-sdk/provider-utils/4.0.23",
            )
            .body(body.to_string())
            .send()
            .await
            .expect("answered");
        assert!(reply.status().is_success());
        reply.bytes().await.expect("body");
    }
    recorder.terminate();

    let screen = Screen::start(&["open"], dir.path());
    let text = screen.wait_for("both conversations' headers", |text| {
        text.contains("c1 opencode conversation · 3 turns")
            && text.contains("c2 opencode conversation · 2 turns")
    });
    let order: Vec<&str> = text
        .lines()
        .filter_map(|line| {
            let line = line.trim_start_matches(['│', ' ']);
            ["▾ c1", "▾ c2"].into_iter().find(|h| line.starts_with(h))
        })
        .collect();
    assert_eq!(order, ["▾ c1", "▾ c2"], "{text}");
    screen.quit();
}
