use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use opentelemetry::{Array, Value};

use super::*;
use crate::capture::test_fixtures::agent_start;
use crate::capture::{
    CapturedResponse, ExchangeId, ExchangeStart, Failure, FailureClass, Lineage, Timing,
};
use crate::proxy::{Provider, ProxyConfig, Upstream};

fn upstreams() -> UpstreamMap {
    let upstream = Upstream::parse("https://gw.example:4000/litellm").expect("url");
    let mut config = ProxyConfig::new("127.0.0.1:0".parse().expect("addr"), upstream);
    config.upstream_for.push((
        Dialect::Anthropic,
        Upstream::parse("https://api.anthropic.com").expect("url"),
    ));
    config
        .providers
        .push(Provider::parse("openai=https://api.openai.com").expect("provider"));
    UpstreamMap::from_config(&config)
}

fn finished(start: ExchangeStart, status: u16, content_type: &str, body: &str) -> ExchangeRecord {
    ExchangeRecord {
        start: Arc::new(start),
        timing: Timing {
            started_at_ms: 1_764_000_000_000,
            first_byte_ms: Some(40),
            duration_ms: Some(250),
        },
        response: Some(CapturedResponse {
            status,
            headers: HeaderList::from([("content-type", content_type)]),
            body: Bytes::from(body.to_string()),
            body_len: body.len() as u64,
        }),
        failure: None,
        derived: Default::default(),
    }
}

fn text(plan: &SpanPlan, key: &str) -> Option<String> {
    match plan.attribute(key)? {
        Value::String(s) => Some(s.as_str().to_string()),
        _ => None,
    }
}

fn int(plan: &SpanPlan, key: &str) -> Option<i64> {
    match plan.attribute(key)? {
        Value::I64(n) => Some(*n),
        _ => None,
    }
}

fn chat_start(body: &str) -> ExchangeStart {
    let mut start = agent_start(7, "/v1/chat/completions", body);
    start.started_at_ms = 1_764_000_000_000;
    start.model = Some("gpt-4o".into());
    start
}

#[test]
fn a_whole_chat_reply_gives_model_id_finish_reason_usage_and_parameters() {
    let start = chat_start(
        r#"{"model":"gpt-4o","max_completion_tokens":512,"temperature":0.3,"top_p":0.9,
            "stop":["END"],"seed":7,"n":2,"messages":[{"role":"user","content":"hi"}]}"#,
    );
    let reply = r#"{"id":"chatcmpl-abc","object":"chat.completion","model":"gpt-4o-2024-08-06",
        "choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],
        "usage":{"prompt_tokens":1200,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":1024}}}"#;
    let plan = span_plan(
        &finished(start, 200, "application/json", reply),
        &upstreams(),
        false,
    );
    assert_eq!(plan.name, "chat gpt-4o");
    assert_eq!(
        text(&plan, "gen_ai.operation.name").as_deref(),
        Some("chat")
    );
    assert_eq!(
        text(&plan, "gen_ai.provider.name").as_deref(),
        Some("openai")
    );
    assert_eq!(
        text(&plan, "gen_ai.response.model").as_deref(),
        Some("gpt-4o-2024-08-06")
    );
    assert_eq!(
        text(&plan, "gen_ai.response.id").as_deref(),
        Some("chatcmpl-abc")
    );
    assert_eq!(
        plan.attribute("gen_ai.response.finish_reasons"),
        Some(&Value::Array(Array::String(vec!["stop".into()])))
    );
    assert_eq!(int(&plan, "gen_ai.usage.input_tokens"), Some(1200));
    assert_eq!(int(&plan, "gen_ai.usage.output_tokens"), Some(5));
    assert_eq!(
        int(&plan, "gen_ai.usage.cache_read.input_tokens"),
        Some(1024)
    );
    assert_eq!(int(&plan, "gen_ai.request.max_tokens"), Some(512));
    assert_eq!(
        plan.attribute("gen_ai.request.temperature"),
        Some(&Value::F64(0.3))
    );
    assert_eq!(
        plan.attribute("gen_ai.request.top_p"),
        Some(&Value::F64(0.9))
    );
    assert_eq!(int(&plan, "gen_ai.request.seed"), Some(7));
    assert_eq!(int(&plan, "gen_ai.request.choice.count"), Some(2));
    assert_eq!(
        plan.attribute("gen_ai.request.stop_sequences"),
        Some(&Value::Array(Array::String(vec!["END".into()])))
    );
    assert_eq!(text(&plan, "server.address").as_deref(), Some("gw.example"));
    assert_eq!(int(&plan, "server.port"), Some(4000));
    assert_eq!(int(&plan, "http.response.status_code"), Some(200));
    assert_eq!(plan.error, None);
    assert!(plan.attribute("error.type").is_none());
    assert!(plan.attribute("gen_ai.system").is_none());
    let begin = UNIX_EPOCH + Duration::from_millis(1_764_000_000_000);
    assert_eq!(
        (plan.start, plan.end),
        (begin, begin + Duration::from_millis(250))
    );
}

#[test]
fn an_anthropic_stream_counts_cache_tokens_in_the_input_as_the_conventions_do() {
    let mut start = agent_start(
        3,
        "/v1/messages?beta=true",
        r#"{"model":"claude-sonnet-4-5","max_tokens":64000,"stream":true,"top_k":40,
            "messages":[{"role":"user","content":"hi"}]}"#,
    );
    start.dialect = Dialect::Anthropic;
    start.model = Some("claude-sonnet-4-5".into());
    start.request.headers = HeaderList::from([
        ("x-api-key", "<redacted>"),
        ("X-Claude-Code-Session-Id", "4f1c-session"),
    ]);
    let stream = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01X\",",
        "\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"usage\":{\"input_tokens\":5,",
        "\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":20000,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,",
        "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,",
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi.\"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},",
        "\"usage\":{\"output_tokens\":12}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    let plan = span_plan(
        &finished(start, 200, "text/event-stream", stream),
        &upstreams(),
        false,
    );
    assert_eq!(plan.name, "chat claude-sonnet-4-5");
    assert_eq!(
        text(&plan, "gen_ai.provider.name").as_deref(),
        Some("anthropic")
    );
    assert_eq!(
        text(&plan, "gen_ai.response.id").as_deref(),
        Some("msg_01X")
    );
    assert_eq!(
        plan.attribute("gen_ai.request.stream"),
        Some(&Value::Bool(true))
    );
    assert_eq!(int(&plan, "gen_ai.request.top_k"), Some(40));
    assert_eq!(int(&plan, "gen_ai.usage.input_tokens"), Some(20_105));
    assert_eq!(
        int(&plan, "gen_ai.usage.cache_read.input_tokens"),
        Some(20_000)
    );
    assert_eq!(
        int(&plan, "gen_ai.usage.cache_write.input_tokens"),
        Some(100)
    );
    assert_eq!(int(&plan, "gen_ai.usage.output_tokens"), Some(12));
    assert_eq!(
        text(&plan, "gen_ai.conversation.id").as_deref(),
        Some("4f1c-session")
    );
    // --upstream-for anthropic=… sent it there, not to --upstream.
    assert_eq!(
        text(&plan, "server.address").as_deref(),
        Some("api.anthropic.com")
    );
    assert_eq!(int(&plan, "server.port"), Some(443));
    assert_eq!(
        text(&plan, "llmscope.request.target").as_deref(),
        Some("/v1/messages?beta=true")
    );
}

#[test]
fn a_failure_names_its_class_and_an_auto_fix_its_lineage() {
    let mut start = chat_start(r#"{"model":"gpt-4o","messages":[]}"#);
    start.lineage = Lineage {
        repeats: Some(ExchangeId(2)),
        ..Lineage::auto_fix_of(ExchangeId(5))
    };
    let failure = Failure::new(FailureClass::Connect, "could not connect to the upstream");
    let record = ExchangeRecord {
        failure: Some(failure),
        response: None,
        ..finished(start, 200, "", "")
    };
    let plan = span_plan(&record, &upstreams(), false);
    assert_eq!(text(&plan, "error.type").as_deref(), Some("connect"));
    assert_eq!(
        plan.error.as_deref(),
        Some("connect failed: could not connect to the upstream")
    );
    assert!(plan.attribute("http.response.status_code").is_none());
    assert_eq!(text(&plan, "llmscope.origin").as_deref(), Some("auto_fix"));
    assert_eq!(int(&plan, "llmscope.resend_of"), Some(5));
    assert_eq!(int(&plan, "llmscope.retry_loop.first"), Some(2));
    assert_eq!(int(&plan, "llmscope.exchange.id"), Some(7));
}

#[test]
fn a_gateways_call_to_its_provider_goes_to_that_providers_host() {
    let mut start = agent_start(9, "/provider/openai/v1/chat/completions", "{}");
    start.lineage.beneath = Some(ExchangeId(8));
    let plan = span_plan(&finished(start, 200, "", ""), &upstreams(), false);
    assert_eq!(
        text(&plan, "server.address").as_deref(),
        Some("api.openai.com")
    );
    assert_eq!(int(&plan, "llmscope.gateway.serves"), Some(8));
    assert_eq!(plan.name, "chat");
}

#[test]
fn calls_that_are_no_model_operation_are_named_as_http_requests() {
    let mut head = agent_start(1, "/", "");
    head.request.method = "HEAD".into();
    head.dialect = Dialect::Unknown;
    let plan = span_plan(&finished(head, 200, "", ""), &upstreams(), false);
    assert_eq!(plan.name, "HEAD /");
    assert!(plan.attribute("gen_ai.operation.name").is_none());

    let mut count = agent_start(2, "/v1/messages/count_tokens?key=AIzaSecret", "{}");
    count.dialect = Dialect::Anthropic;
    let plan = span_plan(&finished(count, 200, "", ""), &upstreams(), false);
    assert_eq!(plan.name, "POST /v1/messages/count_tokens");
    let target = text(&plan, "llmscope.request.target").expect("target");
    assert!(!target.contains("AIzaSecret"), "{target}");
}

#[test]
fn gemini_calls_are_generate_content_for_gcp_gemini() {
    let mut start = agent_start(
        4,
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
        "{}",
    );
    start.dialect = Dialect::Gemini;
    start.model = Some("gemini-2.5-pro".into());
    let plan = span_plan(&finished(start, 200, "", ""), &upstreams(), false);
    assert_eq!(plan.name, "generate_content gemini-2.5-pro");
    assert_eq!(
        text(&plan, "gen_ai.provider.name").as_deref(),
        Some("gcp.gemini")
    );
}

#[test]
fn bodies_are_left_out_unless_asked() {
    let start = chat_start(r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#);
    let reply = r#"{"id":"chatcmpl-1","model":"gpt-4o","choices":[{"message":{"role":"assistant","content":"yo"},"finish_reason":"stop"}]}"#;
    let record = finished(start, 200, "application/json", reply);
    let without = span_plan(&record, &upstreams(), false);
    assert!(without.attribute("gen_ai.input.messages").is_none());
    assert!(without.attribute("gen_ai.output.messages").is_none());
    let with = span_plan(&record, &upstreams(), true);
    assert!(text(&with, "gen_ai.input.messages").is_some_and(|m| m.contains("\"hi\"")));
    assert!(text(&with, "gen_ai.output.messages").is_some_and(|m| m.contains("\"yo\"")));
}

#[test]
fn a_gzipped_reply_is_read_and_one_in_an_unknown_coding_is_left_alone() {
    use std::io::Write;
    let start = chat_start(r#"{"model":"gpt-4o","messages":[]}"#);
    let reply = br#"{"id":"chatcmpl-gz","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1}}"#;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(reply).expect("gzip");
    let gzipped = encoder.finish().expect("gzip");
    let mut record = finished(start, 200, "application/json", "");
    let response = record.response.as_mut().expect("response");
    response.headers.push("Content-Encoding", "gzip");
    response.body_len = gzipped.len() as u64;
    response.body = Bytes::from(gzipped);
    let plan = span_plan(&record, &upstreams(), false);
    assert_eq!(
        text(&plan, "gen_ai.response.id").as_deref(),
        Some("chatcmpl-gz")
    );
    assert_eq!(int(&plan, "gen_ai.usage.input_tokens"), Some(9));

    if let Some(response) = record.response.as_mut() {
        response.headers = HeaderList::from([("content-encoding", "br")]);
    }
    let plan = span_plan(&record, &upstreams(), false);
    assert!(plan.attribute("gen_ai.response.id").is_none());
    assert!(plan.attribute("gen_ai.response.model").is_none());
}
