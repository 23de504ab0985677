//! One finished exchange as one span: its name, times and attributes after the OpenTelemetry
//! GenAI semantic conventions (`gen_ai.*`), plus llmscope's own under `llmscope.*`. Pure: the
//! exporter turns a [`SpanPlan`] into an SDK span.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::{Array, KeyValue, Value};

use super::messages::{input_messages, output_messages, system_instructions};
use super::request_params::request_attributes;
use super::servers::UpstreamMap;
use crate::capture::{redact_target, ExchangeId, ExchangeRecord, HeaderList};
use crate::export::decode_content;
use crate::llm::{decode_request, decode_response, DecodedRequest, DecodedResponse, Dialect};

/// Reply bodies larger than this are not decoded for the span: LLM answers are far smaller,
/// and the exporter thread should not spend its time on a download's bytes.
const MAX_DECODED_REPLY: usize = 4 * 1024 * 1024;

/// Headers agents name their conversation with, most specific first.
const CONVERSATION_HEADERS: [&str; 4] = [
    "x-claude-code-session-id",
    "x-session-id",
    "session_id",
    "conversation_id",
];

/// What the exporter makes one span of.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanPlan {
    pub name: String,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<KeyValue>,
    /// The span's error status description, when the exchange failed.
    pub error: Option<String>,
    /// Earlier exchanges this one follows from: the one it resends or fixes, the first of the
    /// retry loop it repeats, the agent's call a gateway made it for.
    pub follows: Vec<ExchangeId>,
}

impl SpanPlan {
    /// The attribute named `key`, for tests and the hand-made checks.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }
}

/// The span for a finished exchange. `bodies` adds the conversation and the reply.
pub fn span_plan(record: &ExchangeRecord, upstreams: &UpstreamMap, bodies: bool) -> SpanPlan {
    let start = &record.start;
    let path = start.request.uri.split('?').next().unwrap_or("");
    let operation = operation_name(start.dialect, path);
    let request = decode_request(start.dialect, &start.request.body);
    let reply = decoded_reply(record);
    let model = start
        .model
        .clone()
        .or_else(|| request.as_ref().and_then(|r| r.model.clone()));
    let mut attrs = Vec::new();
    let name = match operation {
        Some(operation) => {
            attrs.push(KeyValue::new("gen_ai.operation.name", operation));
            attrs.push(KeyValue::new(
                "gen_ai.provider.name",
                provider_name(start.dialect, path, &upstreams.server_for(record).host),
            ));
            match &model {
                Some(model) => format!("{operation} {model}"),
                None => operation.to_string(),
            }
        }
        None => format!("{} {}", start.request.method, path),
    };
    if let Some(model) = &model {
        attrs.push(KeyValue::new("gen_ai.request.model", model.clone()));
    }
    let server = upstreams.server_for(record);
    if !server.host.is_empty() {
        attrs.push(KeyValue::new("server.address", server.host.clone()));
        if let Some(port) = server.port {
            attrs.push(KeyValue::new("server.port", i64::from(port)));
        }
    }
    attrs.push(KeyValue::new(
        "http.request.method",
        start.request.method.clone(),
    ));
    if let Some(conversation) = conversation_id(&start.request.headers) {
        attrs.push(KeyValue::new("gen_ai.conversation.id", conversation));
    }
    if let Some(request) = &request {
        request_attributes(request, &mut attrs);
    }
    if let Some(response) = &record.response {
        attrs.push(KeyValue::new(
            "http.response.status_code",
            i64::from(response.status),
        ));
        if let Some(id) = readable_reply(record).and_then(|body| response_id(&body)) {
            attrs.push(KeyValue::new("gen_ai.response.id", id));
        }
    }
    if let Some(reply) = &reply {
        reply_attributes(start.dialect, reply, &mut attrs);
    }
    if let Some(failure) = &record.failure {
        attrs.push(KeyValue::new("error.type", failure.class.as_str()));
    }
    llmscope_attributes(record, &mut attrs);
    if bodies {
        body_attributes(request.as_ref(), reply.as_ref(), &mut attrs);
    }
    let started = UNIX_EPOCH + Duration::from_millis(start.started_at_ms.max(0).unsigned_abs());
    let end = started + Duration::from_millis(record.timing.duration_ms.unwrap_or(0));
    SpanPlan {
        name,
        start: started,
        end,
        attributes: attrs,
        error: record.failure.as_ref().map(|f| f.to_string()),
        follows: [
            start.lineage.parent,
            start.lineage.repeats,
            start.lineage.beneath,
        ]
        .into_iter()
        .flatten()
        .collect(),
    }
}

/// `gen_ai.operation.name`, or `None` for a call that is no model operation (a model list,
/// a token count, the `HEAD /` Claude Code sends first).
fn operation_name(dialect: Dialect, path: &str) -> Option<&'static str> {
    let path = path.trim_end_matches('/');
    if path.ends_with("/count_tokens")
        || path.contains("/input_tokens")
        || path.ends_with(":countTokens")
    {
        return None;
    }
    match dialect {
        Dialect::OpenAiChat | Dialect::OpenAiResponses | Dialect::Anthropic => Some("chat"),
        Dialect::Gemini
            if path.contains(":generateContent") || path.contains(":streamGenerateContent") =>
        {
            Some("generate_content")
        }
        Dialect::Gemini => None,
        Dialect::Unknown if path.contains(":generateContent") => Some("generate_content"),
        Dialect::Unknown if path.contains(":streamGenerateContent") => Some("generate_content"),
        Dialect::Unknown if path.ends_with("/embeddings") => Some("embeddings"),
        Dialect::Unknown if path.ends_with("/completions") => Some("text_completion"),
        Dialect::Unknown => None,
    }
}

/// `gen_ai.provider.name` from the API the agent speaks, refined by the host for the
/// providers that serve one API under their own name.
fn provider_name(dialect: Dialect, path: &str, host: &str) -> &'static str {
    if host.ends_with("aiplatform.googleapis.com") {
        return "gcp.vertex_ai";
    }
    if path.contains(":generateContent") || path.contains(":streamGenerateContent") {
        return "gcp.gemini";
    }
    if host.ends_with(".openai.azure.com") {
        return "azure.ai.openai";
    }
    match dialect {
        Dialect::Anthropic => "anthropic",
        _ => "openai",
    }
}

fn conversation_id(headers: &HeaderList) -> Option<String> {
    CONVERSATION_HEADERS.iter().find_map(|wanted| {
        headers
            .iter()
            .find(|(name, value)| name.eq_ignore_ascii_case(wanted) && !value.trim().is_empty())
            .map(|(_, value)| value.trim().to_string())
    })
}

/// The reply's body as the API wrote it: bodies are recorded as they crossed the wire, so a
/// compressed one is decoded first. `None` when empty, cut by the capture cap, huge, or in a
/// coding llmscope does not read.
fn readable_reply(record: &ExchangeRecord) -> Option<Cow<'_, [u8]>> {
    let response = record.response.as_ref()?;
    if response.body.is_empty() || response.truncated() || response.body.len() > MAX_DECODED_REPLY {
        return None;
    }
    match header(&response.headers, "content-encoding").map(str::trim) {
        None | Some("") => Some(Cow::Borrowed(&response.body[..])),
        Some(coding) if coding.eq_ignore_ascii_case("identity") => {
            Some(Cow::Borrowed(&response.body[..]))
        }
        Some(coding) => decode_content(
            &coding.to_ascii_lowercase(),
            &response.body,
            MAX_DECODED_REPLY as u64,
        )
        .map(Cow::Owned),
    }
}

/// The reply read as an LLM answer.
fn decoded_reply(record: &ExchangeRecord) -> Option<DecodedResponse> {
    let response = record.response.as_ref()?;
    decode_response(
        record.start.dialect,
        header(&response.headers, "content-type"),
        &readable_reply(record)?,
    )
}

fn reply_attributes(dialect: Dialect, reply: &DecodedResponse, attrs: &mut Vec<KeyValue>) {
    if let Some(model) = &reply.model {
        attrs.push(KeyValue::new("gen_ai.response.model", model.clone()));
    }
    if let Some(reason) = &reply.finish_reason {
        attrs.push(KeyValue::new(
            "gen_ai.response.finish_reasons",
            Value::Array(Array::String(vec![reason.clone().into()])),
        ));
    }
    let Some(usage) = reply.usage else {
        return;
    };
    // The conventions count cached tokens in the input; Anthropic reports them beside it.
    let input = match dialect {
        Dialect::Anthropic => usage.input_tokens.map(|n| {
            n + usage.cache_read_tokens.unwrap_or(0) + usage.cache_write_tokens.unwrap_or(0)
        }),
        _ => usage.input_tokens,
    };
    let counts = [
        ("gen_ai.usage.input_tokens", input),
        ("gen_ai.usage.output_tokens", usage.output_tokens),
        (
            "gen_ai.usage.cache_read.input_tokens",
            usage.cache_read_tokens,
        ),
        (
            "gen_ai.usage.cache_write.input_tokens",
            usage.cache_write_tokens,
        ),
    ];
    for (key, count) in counts {
        if let Some(n) = count.and_then(|n| i64::try_from(n).ok()) {
            attrs.push(KeyValue::new(key, n));
        }
    }
}

fn llmscope_attributes(record: &ExchangeRecord, attrs: &mut Vec<KeyValue>) {
    let start = &record.start;
    let id = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    attrs.push(KeyValue::new("llmscope.exchange.id", id(start.id.0)));
    attrs.push(KeyValue::new("llmscope.session.id", start.session.0));
    attrs.push(KeyValue::new(
        "llmscope.origin",
        start.lineage.origin.as_str(),
    ));
    attrs.push(KeyValue::new("llmscope.dialect", start.dialect.as_str()));
    attrs.push(KeyValue::new(
        "llmscope.request.target",
        redact_target(&start.request.uri),
    ));
    let links = [
        ("llmscope.resend_of", start.lineage.parent),
        ("llmscope.retry_loop.first", start.lineage.repeats),
        ("llmscope.gateway.serves", start.lineage.beneath),
    ];
    for (key, link) in links {
        if let Some(other) = link {
            attrs.push(KeyValue::new(key, id(other.0)));
        }
    }
    if let Some(rewrite) = &start.rewrite {
        let applied = rewrite.applied.iter().map(|a| a.clone().into()).collect();
        attrs.push(KeyValue::new(
            "llmscope.rules_applied",
            Value::Array(Array::String(applied)),
        ));
    }
    if let Some(ms) = record.timing.first_byte_ms {
        attrs.push(KeyValue::new("llmscope.time_to_first_byte_ms", id(ms)));
    }
}

fn body_attributes(
    request: Option<&DecodedRequest>,
    reply: Option<&DecodedResponse>,
    attrs: &mut Vec<KeyValue>,
) {
    if let Some(request) = request {
        if let Some(system) = system_instructions(request) {
            attrs.push(KeyValue::new("gen_ai.system_instructions", system));
        }
        attrs.push(KeyValue::new(
            "gen_ai.input.messages",
            input_messages(request),
        ));
    }
    if let Some(reply) = reply.filter(|r| r.error.is_none()) {
        attrs.push(KeyValue::new(
            "gen_ai.output.messages",
            output_messages(reply),
        ));
    }
}

/// The id the API gave its answer: the top-level `id` of a JSON reply, or of the first event
/// of a stream that carries one (OpenAI's chunks, Anthropic's `message_start`, the Responses
/// API's `response.created`).
fn response_id(body: &[u8]) -> Option<String> {
    let first = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if body[first] == b'{' {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        return id_in(&value);
    }
    let mut parser = crate::llm::SseParser::default();
    // The id comes with the first events; the rest of a long stream need not be parsed.
    let head = &body[..body.len().min(64 * 1024)];
    parser.push(head).iter().find_map(|event| {
        let value: serde_json::Value = serde_json::from_str(&event.data).ok()?;
        id_in(&value)
    })
}

fn id_in(value: &serde_json::Value) -> Option<String> {
    let direct = value.get("id");
    let nested = ["message", "response"]
        .iter()
        .find_map(|k| value.get(k).and_then(|v| v.get("id")));
    direct
        .or(nested)
        .and_then(|id| id.as_str())
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

fn header<'a>(headers: &'a HeaderList, name: &str) -> Option<&'a str> {
    headers.value(name)
}

#[cfg(test)]
#[path = "span_tests.rs"]
mod tests;
