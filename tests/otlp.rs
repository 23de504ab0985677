//! `--otlp`: the real `llmscope record` sends each exchange as an OpenTelemetry GenAI span to
//! a collector, here an OTLP/HTTP receiver on loopback that decodes what it gets with the
//! protocol's own protobuf messages; and a collector that is dead or never answers costs
//! spans, never an agent's reply or an exchange in the record.

#[path = "otlp/collector.rs"]
mod collector;
mod common;

use collector::{int, string, strings, value, Answer, Collector};
use common::recorder::{Recorder, Stream};
use common::{chat_body, client, json, load_exchanges};
use llmscope::mock::MockUpstream;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode};

const AGENT_KEY: &str = "sk-agent-7f3c9d1e5b2a8604";
const ANTHROPIC_KEY: &str = "sk-ant-api03-b41d9e7c2f58a036";
const QUERY_KEY: &str = "AIzaSyQueryKey4c81e0";
/// What Langfuse's Basic auth looks like: `--otlp-header Authorization=Basic …`.
const COLLECTOR_AUTH: &str = "Basic cGstbGYtMTIzOnNrLWxmLTQ1Ng==";

/// Sends a whole OpenAI chat call, a streamed Anthropic one and one the upstream refuses,
/// each with the agent's credentials; returns the replies' bodies.
async fn three_exchanges(proxy: &str) -> [serde_json::Value; 2] {
    let agent = client();
    let whole = agent
        .post(format!("{proxy}/v1/chat/completions?key={QUERY_KEY}"))
        .header("authorization", format!("Bearer {AGENT_KEY}"))
        .header("x-session-id", "ses_otlp_test")
        .body(
            serde_json::json!({
                "model": "mock-ok", "max_tokens": 256, "temperature": 0.2,
                "messages": [{"role": "user", "content": "Say hello"}],
            })
            .to_string(),
        )
        .send()
        .await
        .expect("answered");
    assert_eq!(whole.status(), 200);
    let whole = json(&whole.bytes().await.expect("body"));
    let streamed = agent
        .post(format!("{proxy}/v1/messages"))
        .header("x-api-key", ANTHROPIC_KEY)
        .header("anthropic-version", "2023-06-01")
        .header("x-claude-code-session-id", "claude-session-1")
        .body(
            serde_json::json!({
                "model": "mock-ok", "max_tokens": 64000, "stream": true,
                "system": [{"type": "text", "text": "You are terse."}],
                "messages": [{"role": "user", "content": "Say hello"}],
            })
            .to_string(),
        )
        .send()
        .await
        .expect("answered");
    assert_eq!(streamed.status(), 200);
    let events = String::from_utf8(streamed.bytes().await.expect("stream").to_vec()).expect("utf8");
    let message_start = events
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| json(d.as_bytes()))
        .find(|e| e["type"] == "message_start")
        .expect("a message_start event");
    let refused = agent
        .post(format!("{proxy}/v1/chat/completions"))
        .header("authorization", format!("Bearer {AGENT_KEY}"))
        .body(chat_body("mock-400-context", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), 400);
    refused.bytes().await.expect("body");
    [whole, message_start]
}

#[tokio::test]
async fn each_exchange_is_a_gen_ai_span_with_its_model_usage_and_failure() {
    let mock = MockUpstream::start().await.expect("mock");
    let collector = Collector::start(Answer::Accept);
    let dir = tempfile::tempdir().expect("dir");
    let otlp_header = format!("Authorization={COLLECTOR_AUTH}");
    let mut recorder = Recorder::start_with(
        &mock.url(),
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--otlp",
            &collector.url(),
            "--otlp-header",
            &otlp_header,
        ],
    );
    let [whole, message_start] = three_exchanges(&recorder.url).await;
    recorder.line_containing(Stream::Stdout, "mock-400-context");
    recorder.terminate();
    let summary = recorder.line_containing(Stream::Stderr, "OTLP:");
    assert!(summary.contains("3 spans sent to"), "{summary}");
    assert!(summary.ends_with("/v1/traces"), "{summary}");

    let exports = collector.exports();
    assert!(!exports.is_empty());
    for (headers, _) in &exports {
        assert_eq!(
            headers.get("authorization").map(String::as_str),
            Some(COLLECTOR_AUTH)
        );
        assert_eq!(
            headers.get("content-type").map(String::as_str),
            Some("application/x-protobuf")
        );
    }
    let spans = collector.spans();
    let names: Vec<&str> = spans.iter().map(|(_, s)| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["chat mock-ok", "chat mock-ok", "chat mock-400-context"]
    );
    let stored = load_exchanges(dir.path(), recorder.session);
    assert_eq!(stored.len(), 3);
    for ((service, span), stored) in spans.iter().zip(&stored) {
        let record = &stored.record;
        assert_eq!(
            int(&span.attributes, "llmscope.exchange.id"),
            Some(record.id().0 as i64)
        );
        let started = u64::try_from(record.start.started_at_ms).expect("after 1970") * 1_000_000;
        let took = record.timing.duration_ms.expect("finished") * 1_000_000;
        assert_eq!(span.start_time_unix_nano, started);
        assert_eq!(span.end_time_unix_nano, started + took);
        assert_eq!(service, "llmscope");
        assert_eq!(span.kind, SpanKind::Client as i32);
        assert!(
            value(&span.attributes, "gen_ai.system").is_none(),
            "deprecated"
        );
        assert!(value(&span.attributes, "gen_ai.input.messages").is_none());
        assert_eq!(
            int(&span.attributes, "server.port"),
            Some(i64::from(mock.addr().port()))
        );
        assert_eq!(
            string(&span.attributes, "server.address").as_deref(),
            Some("127.0.0.1")
        );
    }

    let a = &spans[0].1.attributes;
    assert_eq!(string(a, "gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(string(a, "gen_ai.provider.name").as_deref(), Some("openai"));
    assert_eq!(
        string(a, "gen_ai.request.model").as_deref(),
        Some("mock-ok")
    );
    assert_eq!(
        string(a, "gen_ai.response.model"),
        whole["model"].as_str().map(str::to_string)
    );
    assert_eq!(
        string(a, "gen_ai.response.id"),
        whole["id"].as_str().map(str::to_string)
    );
    assert_eq!(
        strings(a, "gen_ai.response.finish_reasons"),
        Some(vec!["stop".into()])
    );
    assert_eq!(
        int(a, "gen_ai.usage.input_tokens"),
        whole["usage"]["prompt_tokens"].as_i64()
    );
    assert_eq!(
        int(a, "gen_ai.usage.output_tokens"),
        whole["usage"]["completion_tokens"].as_i64()
    );
    assert_eq!(int(a, "gen_ai.request.max_tokens"), Some(256));
    assert_eq!(
        value(a, "gen_ai.request.temperature"),
        Some(&AnyValue::DoubleValue(0.2))
    );
    assert_eq!(
        string(a, "gen_ai.conversation.id").as_deref(),
        Some("ses_otlp_test")
    );
    assert_eq!(int(a, "http.response.status_code"), Some(200));
    assert_eq!(string(a, "llmscope.origin").as_deref(), Some("agent"));
    assert_eq!(int(a, "llmscope.session.id"), Some(recorder.session.0));
    assert!(value(a, "error.type").is_none());
    assert_ne!(
        spans[0].1.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );

    let b = &spans[1].1.attributes;
    assert_eq!(
        string(b, "gen_ai.provider.name").as_deref(),
        Some("anthropic")
    );
    assert_eq!(
        value(b, "gen_ai.request.stream"),
        Some(&AnyValue::BoolValue(true))
    );
    assert_eq!(
        string(b, "gen_ai.response.id"),
        message_start["message"]["id"].as_str().map(str::to_string)
    );
    assert_eq!(
        int(b, "gen_ai.usage.input_tokens"),
        message_start["message"]["usage"]["input_tokens"].as_i64()
    );
    assert!(int(b, "gen_ai.usage.output_tokens").is_some_and(|n| n > 1));
    assert_eq!(
        strings(b, "gen_ai.response.finish_reasons"),
        Some(vec!["end_turn".into()])
    );
    assert_eq!(
        string(b, "gen_ai.conversation.id").as_deref(),
        Some("claude-session-1")
    );

    let (_, failed) = &spans[2];
    let c = &failed.attributes;
    assert_eq!(string(c, "error.type").as_deref(), Some("http_error"));
    assert_eq!(int(c, "http.response.status_code"), Some(400));
    let status = failed.status.as_ref().expect("a status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert!(
        status.message.contains("maximum context length"),
        "{}",
        status.message
    );

    let everything: Vec<u8> = exports.iter().flat_map(|(_, b)| b.to_vec()).collect();
    let everything = String::from_utf8_lossy(&everything);
    for secret in [AGENT_KEY, ANTHROPIC_KEY, QUERY_KEY] {
        assert!(
            !everything.contains(secret),
            "{secret} reached the collector"
        );
    }
    for line in recorder.printed() {
        assert!(
            !line.contains("cGstbGYtMTIz"),
            "the collector's credential printed: {line}"
        );
    }
    for file in std::fs::read_dir(dir.path()).expect("data dir") {
        let bytes = std::fs::read(file.expect("entry").path()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("cGstbGYtMTIz"),
            "the collector's credential stored"
        );
    }
}

#[tokio::test]
async fn bodies_go_with_the_spans_only_when_asked() {
    let mock = MockUpstream::start().await.expect("mock");
    let collector = Collector::start(Answer::Accept);
    let dir = tempfile::tempdir().expect("dir");
    let mut recorder = Recorder::start_with(
        &mock.url(),
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--otlp",
            &collector.url(),
            "--otlp-bodies",
        ],
    );
    let [whole, _] = three_exchanges(&recorder.url).await;
    recorder.line_containing(Stream::Stdout, "mock-400-context");
    recorder.terminate();
    let spans = collector.spans();
    assert_eq!(spans.len(), 3);

    let a = &spans[0].1.attributes;
    let input = json(
        string(a, "gen_ai.input.messages")
            .expect("input")
            .as_bytes(),
    );
    assert_eq!(
        input,
        serde_json::json!([{"role": "user", "parts": [{"type": "text", "content": "Say hello"}]}])
    );
    let output = json(
        string(a, "gen_ai.output.messages")
            .expect("output")
            .as_bytes(),
    );
    assert_eq!(output[0]["role"], "assistant");
    assert_eq!(output[0]["finish_reason"], "stop");
    assert_eq!(
        output[0]["parts"][0]["content"],
        whole["choices"][0]["message"]["content"]
    );

    let b = &spans[1].1.attributes;
    let system = json(
        string(b, "gen_ai.system_instructions")
            .expect("system")
            .as_bytes(),
    );
    assert_eq!(
        system,
        serde_json::json!([{"type": "text", "content": "You are terse."}])
    );
    let streamed = json(
        string(b, "gen_ai.output.messages")
            .expect("output")
            .as_bytes(),
    );
    let text = streamed[0]["parts"][0]["content"]
        .as_str()
        .expect("assembled text");
    assert!(!text.is_empty());

    let everything: Vec<u8> = collector
        .exports()
        .iter()
        .flat_map(|(_, b)| b.to_vec())
        .collect();
    let everything = String::from_utf8_lossy(&everything);
    for secret in [AGENT_KEY, ANTHROPIC_KEY, QUERY_KEY] {
        assert!(
            !everything.contains(secret),
            "{secret} reached the collector"
        );
    }
}

/// Sends `n` calls through a `record` whose collector is `otlp`, and checks every one got
/// its reply and is in the record; returns what `record` printed. With `warned`, waits for
/// the warning before stopping `record`.
async fn calls_through_a_broken_collector(otlp: &str, n: usize, warned: bool) -> Vec<String> {
    let mock = MockUpstream::start().await.expect("mock");
    let dir = tempfile::tempdir().expect("dir");
    let mut recorder = Recorder::start_with(
        &mock.url(),
        dir.path(),
        &["--listen", "127.0.0.1:0", "--otlp", otlp],
    );
    let agent = client();
    for i in 0..n {
        let stream = i % 2 == 0;
        let reply = agent
            .post(format!("{}/v1/chat/completions", recorder.url))
            .body(chat_body("mock-ok", stream))
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), 200, "call {i}");
        assert!(!reply.bytes().await.expect("body").is_empty(), "call {i}");
    }
    if warned {
        recorder.line_containing(Stream::Stderr, "WARNING: OTLP export");
    }
    recorder.terminate();
    let stored = load_exchanges(dir.path(), recorder.session);
    assert_eq!(stored.len(), n, "every exchange is in the record");
    recorder.printed()
}

#[tokio::test]
async fn a_collector_that_is_not_listening_costs_spans_not_replies() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", free.local_addr().expect("addr"));
    drop(free);
    let printed = calls_through_a_broken_collector(&url, 12, true).await;
    let warnings: Vec<_> = printed
        .iter()
        .filter(|l| l.contains("WARNING: OTLP export"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning, not one per span: {printed:#?}"
    );
    assert!(
        warnings[0].contains("could not connect to the collector"),
        "{}",
        warnings[0]
    );
    let summary = printed
        .iter()
        .find(|l| l.contains("OTLP:"))
        .expect("a summary");
    assert!(
        summary.contains("0 spans sent") && summary.contains("12 dropped"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_collector_that_never_answers_costs_spans_not_replies() {
    let collector = Collector::start(Answer::Never);
    let printed = calls_through_a_broken_collector(&collector.url(), 12, false).await;
    let summary = printed
        .iter()
        .find(|l| l.contains("OTLP:"))
        .expect("a summary");
    assert!(
        summary.contains("0 spans sent") && summary.contains("12 dropped"),
        "{summary}"
    );
    assert!(!collector.exports().is_empty(), "the export was tried");
}

#[tokio::test]
async fn a_repeat_of_a_failing_call_links_to_the_first_of_its_retry_loop() {
    let mock = MockUpstream::start().await.expect("mock");
    let collector = Collector::start(Answer::Accept);
    let dir = tempfile::tempdir().expect("dir");
    let mut recorder = Recorder::start_with(
        &mock.url(),
        dir.path(),
        &["--listen", "127.0.0.1:0", "--otlp", &collector.url()],
    );
    let agent = client();
    for _ in 0..3 {
        let reply = agent
            .post(format!("{}/v1/chat/completions", recorder.url))
            .body(chat_body("mock-400-model", false))
            .send()
            .await
            .expect("answered");
        assert!(reply.status().is_client_error());
        reply.bytes().await.expect("body");
    }
    recorder.terminate();
    let spans = collector.spans();
    assert_eq!(spans.len(), 3);
    let first = &spans[0].1;
    for (_, repeat) in &spans[1..] {
        assert_eq!(
            int(&repeat.attributes, "llmscope.retry_loop.first"),
            Some(1)
        );
        let linked: Vec<_> = repeat.links.iter().map(|l| l.span_id.clone()).collect();
        assert_eq!(
            linked,
            std::slice::from_ref(&first.span_id),
            "{}",
            repeat.name
        );
    }
    assert!(first.links.is_empty());
}
