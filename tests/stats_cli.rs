//! `llmscope stats` on a recorded session, through the real binary: the counts, the failure
//! classes and the retry loop a user would look for, as text and as JSON.

mod common;

use common::recorder::run_llmscope;
use common::{chat_body, client, json, Harness};

#[tokio::test]
async fn stats_count_a_sessions_exchanges_failures_and_retry_loops() {
    let h = Harness::start().await;
    let http = client();
    for model in ["mock-ok", "mock-ok", "mock-429", "mock-429", "mock-429"] {
        http.post(h.url("/v1/chat/completions"))
            .body(chat_body(model, false))
            .send()
            .await
            .expect("answered")
            .bytes()
            .await
            .expect("body");
    }
    let session = h.session;
    let (_stored, dir) = h.stop_and_load().await;

    let output = run_llmscope(&["stats"], &dir.path);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(&format!("session {session} → http://127.0.0.1:")),
        "{text}"
    );
    assert!(text.contains("exchanges 5  failed 3"), "{text}");
    assert!(text.contains("       3  http_error 429"), "{text}");
    assert!(text.contains("#3: 3 attempts"), "{text}");
    assert!(text.contains("mock-429: 3 exchanges, 3 failed"), "{text}");

    let output = run_llmscope(&["stats", "--json", &session.0.to_string()], &dir.path);
    let value = json(&output.stdout);
    assert_eq!(value["all"]["exchanges"], 5);
    assert_eq!(value["failures"]["http_error 429"], 3);
    assert_eq!(value["retry_loops"][0]["attempts"], 3);

    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_llmscope"))
        .args(["stats", "999", "--data-dir"])
        .arg(&dir.path)
        .output()
        .expect("llmscope runs");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no session 999"));
}

/// `llmscope stats` with `XDG_CONFIG_HOME` at `config` (where the user's `prices.json` goes).
fn stats_with_config(
    args: &[&str],
    data: &std::path::Path,
    config: &std::path::Path,
) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_llmscope"))
        .arg("stats")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("XDG_CONFIG_HOME", config)
        .output()
        .expect("llmscope runs")
}

#[tokio::test]
async fn stats_price_known_models_leave_unknown_ones_unpriced_and_count_conversations() {
    let h = Harness::start().await;
    let http = client();
    let send = |model: &'static str, session: &'static str, messages: serde_json::Value| {
        let body = serde_json::json!({"model": model, "stream": false, "messages": messages});
        http.post(h.url("/v1/chat/completions"))
            .header("x-mock-behavior", "mock-ok")
            .header("x-session-id", session)
            .header(
                "user-agent",
                "opencode/1.18.33 ai-sdk/provider-utils/4.0.23",
            )
            .body(body.to_string())
    };
    let first = serde_json::json!([{"role": "system", "content": "You are opencode."},
        {"role": "user", "content": "add a flag"}]);
    let title = serde_json::json!([{"role": "system", "content": "You are a title generator."},
        {"role": "user", "content": "add a flag"}]);
    for request in [
        send("gpt-4.1-mini", "ses_a", title),
        send("gpt-4.1", "ses_a", first.clone()),
        send("gpt-4.1", "ses_b", first),
        send(
            "my-local-model",
            "ses_c",
            serde_json::json!([{"role": "user", "content": "hi"}]),
        ),
    ] {
        request
            .send()
            .await
            .expect("answered")
            .bytes()
            .await
            .expect("body");
    }
    let (_stored, dir) = h.stop_and_load().await;
    let config = tempfile::tempdir().expect("config dir");

    let output = stats_with_config(&[], &dir.path, config.path());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("conversations 3  side requests: title 1"),
        "{text}"
    );
    assert!(
        text.contains("(1 exchanges of models without a price)"),
        "{text}"
    );
    let line = |model: &str| {
        text.lines()
            .find(|l| {
                l.trim_start().starts_with(model) && l.contains('$')
                    || l.contains(&format!("{model}  ")) && l.contains("unpriced")
            })
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("my-local-model").contains("unpriced"), "{text}");
    assert!(line("gpt-4.1 ").contains('$'), "{text}");

    let value = json(&stats_with_config(&["--json"], &dir.path, config.path()).stdout);
    assert_eq!(value["conversations"]["conversations"], 3);
    assert_eq!(value["cost"]["unpriced_exchanges"], 1);
    assert!(value["cost"]["by_model"]["my-local-model"]["usd"].is_null());
    let priced = value["cost"]["usd"].as_f64().expect("a total");
    assert!(priced > 0.0, "{value}");

    // The user's own table prices the local model and replaces gpt-4.1's price.
    let file = config.path().join("llmscope").join("prices.json");
    std::fs::create_dir_all(file.parent().expect("parent")).expect("dir");
    std::fs::write(
        &file,
        r#"{"models": {"my-local-model": {"input": 1000.0, "output": 1000.0}, "gpt-4.1": {"input": 0.0, "output": 0.0}}}"#,
    )
    .expect("write");
    let value = json(&stats_with_config(&["--json"], &dir.path, config.path()).stdout);
    assert_eq!(value["cost"]["unpriced_exchanges"], 0);
    assert_eq!(value["cost"]["by_model"]["gpt-4.1"]["usd"], 0.0);
    assert!(value["cost"]["by_model"]["my-local-model"]["usd"].as_f64() > Some(0.0));

    // A broken file is an error that names it and the line, not a silent fallback.
    std::fs::write(&file, "{\"models\": {\n  \"x\": {\"input\": 1.0,, }\n}}").expect("write");
    let output = stats_with_config(&[], &dir.path, config.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!(
            "the price table in {} is not valid at line 2",
            file.display()
        )),
        "{stderr}"
    );
}
