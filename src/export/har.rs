//! A session as an HTTP Archive (HAR 1.2), the format browser dev tools and HTTP Toolkit
//! import.
//!
//! One page stands for the session and each exchange is an entry in id order. llmscope's own
//! facts (exchange id, failure class, state) go in `_llmscope`, since the spec reserves
//! underscore-prefixed fields for tools.

use serde_json::{json, Map, Value};

use super::content::{empty_content, header, post_data, response_content};
use super::target::Target;
use crate::capture::{
    redact_headers, CapturedRequest, ExchangeRecord, ExchangeState, HeaderList, Timing, REDACTED,
};
use crate::store::{SessionSummary, StoredExchange};

/// The request version is not recorded; agents and gateways speak HTTP/1.1 to llmscope.
const HTTP_VERSION: &str = "HTTP/1.1";

/// Builds the HAR document for `exchanges` of `session`.
pub fn session_to_har(session: &SessionSummary, exchanges: &[StoredExchange]) -> Value {
    let page_id = format!("session-{}", session.id);
    let entries: Vec<Value> = exchanges
        .iter()
        .map(|stored| entry(&session.upstream, &page_id, stored))
        .collect();
    json!({
        "log": {
            "version": "1.2",
            "creator": { "name": "llmscope", "version": env!("CARGO_PKG_VERSION") },
            "pages": [{
                "startedDateTime": iso_time(session.started_at_ms),
                "id": page_id,
                "title": format!("llmscope session {} → {}", session.id, session.upstream),
                "pageTimings": { "onContentLoad": -1, "onLoad": -1 },
            }],
            "entries": entries,
            "comment": "Recorded by llmscope. Secret headers and key-like query parameters \
                        are redacted; URLs point at the upstream the session forwarded to.",
        }
    })
}

fn entry(upstream: &str, page_id: &str, stored: &StoredExchange) -> Value {
    let record = &stored.record;
    let timings = Timings::of(&record.timing);
    json!({
        "pageref": page_id,
        "startedDateTime": iso_time(record.timing.started_at_ms),
        "time": timings.total(),
        "request": request(
            upstream,
            &record.start.request,
            record.start.request_body_unrecorded,
        ),
        "response": response(record, stored.state),
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": -1,
            "connect": -1,
            "ssl": -1,
            "send": 0,
            "wait": timings.wait,
            "receive": timings.receive,
        },
        "_llmscope": {
            "exchange_id": record.id().0,
            "state": stored.state.as_str(),
            "failure_class": record.failure.as_ref().map(|f| f.class.as_str()),
            "failure_message": record.failure.as_ref().map(|f| f.message.as_str()),
            "dialect": record.start.dialect.as_str(),
            "model": record.start.model,
        },
    })
}

fn request(upstream: &str, request: &CapturedRequest, unrecorded: Option<u64>) -> Value {
    let target = Target::of(upstream, request);
    let query: Vec<Value> = target
        .params
        .iter()
        .map(|p| {
            let value = if p.secret { REDACTED } else { p.value.as_str() };
            json!({ "name": p.name, "value": value })
        })
        .collect();
    let mut har = json!({
        "method": request.method,
        // `<` and `>` are not allowed in a URL; viewers show the escapes decoded.
        "url": target.url_with(|_| "%3Credacted%3E".to_string()),
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": request_headers(&request.headers, target.authority()),
        "queryString": query,
        "headersSize": -1,
        "bodySize": request.body.len(),
    });
    if let Some(post) = post_data(&request.headers, &request.body) {
        har["postData"] = post;
    }
    if let Some(len) = unrecorded {
        har["bodySize"] = json!(len);
        har["comment"] = json!(format!(
            "llmscope did not record this request's body ({len} bytes): its writer fell behind a burst"
        ));
    }
    har
}

fn response(record: &ExchangeRecord, state: ExchangeState) -> Value {
    let failure_message = record.failure.as_ref().map(|f| f.message.as_str());
    let Some(reply) = &record.response else {
        let why = failure_message.unwrap_or(match state {
            ExchangeState::InFlight => "no reply yet: the exchange was in flight",
            _ => "no reply: llmscope stopped before the upstream answered",
        });
        return json!({
            "status": 0,
            "statusText": why,
            "httpVersion": "",
            "cookies": [],
            "headers": [],
            "content": empty_content(),
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
            // Chrome's name for "the request failed"; its importer shows it.
            "_error": why,
        });
    };
    let mut har = Map::new();
    har.insert("status".into(), json!(reply.status));
    har.insert("statusText".into(), json!(reason_phrase(reply.status)));
    har.insert("httpVersion".into(), json!(HTTP_VERSION));
    har.insert("cookies".into(), json!([]));
    har.insert("headers".into(), headers(&reply.headers));
    har.insert("content".into(), response_content(reply));
    let location = header(&reply.headers, "location").unwrap_or("");
    har.insert("redirectURL".into(), json!(location));
    har.insert("headersSize".into(), json!(-1));
    har.insert("bodySize".into(), json!(reply.body_len));
    // A reply that broke after its head (reset, timeout, stream error) has a status and a
    // failure; the failure is what the reader is looking for.
    let transport_failed = record
        .failure
        .as_ref()
        .is_some_and(|f| f.class.is_transport());
    if let (true, Some(message)) = (transport_failed, failure_message) {
        har.insert("_error".into(), json!(message));
    }
    Value::Object(har)
}

/// The agent's headers as they went upstream: the proxy sends `Host` for the URL, not the
/// agent's (which names llmscope's listen address).
fn request_headers(list: &HeaderList, authority: &str) -> Value {
    let list: HeaderList = list
        .iter()
        .map(|(name, value)| match name.eq_ignore_ascii_case("host") {
            true => (name, authority),
            false => (name, value),
        })
        .collect();
    headers(&list)
}

/// Headers as HAR name/value pairs, redacted again in case the record was not.
fn headers(list: &HeaderList) -> Value {
    redact_headers(list)
        .iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect()
}

fn reason_phrase(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// ISO 8601 with milliseconds and an explicit offset, as HAR's examples write it.
fn iso_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// HAR timings from llmscope's two durations. `send` is folded into `wait` because the request
/// is forwarded while it is still arriving; the sum always equals the entry's `time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timings {
    wait: u64,
    receive: u64,
}

impl Timings {
    fn of(timing: &Timing) -> Self {
        // An exchange cut off by a crash has no duration; what is known still adds up.
        let total = timing
            .duration_ms
            .or(timing.first_byte_ms)
            .unwrap_or_default();
        let wait = timing.first_byte_ms.unwrap_or(total).min(total);
        Self {
            wait,
            receive: total - wait,
        }
    }

    fn total(self) -> u64 {
        self.wait + self.receive
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::har_problems;
    use crate::export::test_fixtures::{failed_before_reply, finished, session, start, stored};

    fn har_of(exchanges: &[StoredExchange]) -> Value {
        let har = session_to_har(&session(), exchanges);
        let problems = har_problems(&har);
        assert!(problems.is_empty(), "not valid HAR 1.2: {problems:#?}");
        har
    }

    #[test]
    fn har_of_recorded_exchanges_has_every_field_har_1_2_requires() {
        let ok = finished(
            start(1, "/v1/chat/completions?x=1&key=AIza-PLANTED"),
            200,
            b"{}".to_vec(),
        );
        let har = har_of(&[
            stored(ok),
            stored(failed_before_reply(start(2, "/v1/messages"))),
        ]);
        let log = &har["log"];
        assert_eq!(log["version"], "1.2");
        assert_eq!(log["creator"]["name"], "llmscope");
        assert_eq!(log["entries"].as_array().map(Vec::len), Some(2));
        let entry = &log["entries"][0];
        assert_eq!(entry["startedDateTime"], "2023-11-14T22:13:20.001+00:00");
        assert_eq!(entry["time"], 900);
        assert_eq!(entry["timings"]["wait"], 120);
        assert_eq!(entry["timings"]["receive"], 780);
        assert_eq!(entry["_llmscope"]["exchange_id"], 1);
        assert_eq!(entry["_llmscope"]["state"], "complete");
        assert_eq!(entry["response"]["statusText"], "OK");
    }

    #[test]
    fn url_is_the_upstream_with_the_agents_path_and_query() {
        let record = finished(start(1, "/v1/chat/completions?x=1&q=a+b"), 200, Vec::new());
        let request = &har_of(&[stored(record)])["log"]["entries"][0]["request"];
        assert_eq!(
            request["url"],
            "http://127.0.0.1:4000/v1/chat/completions?x=1&q=a+b"
        );
        assert_eq!(
            request["queryString"],
            json!([{"name":"x","value":"1"},{"name":"q","value":"a b"}])
        );
        assert_eq!(request["postData"]["mimeType"], "application/json");
        // A forward-mode record keeps its host: that is where its request went.
        let mut forward = start(2, "/v1/messages");
        forward.request.headers.push("host", "api.anthropic.com");
        let record = finished(forward, 200, Vec::new());
        let forwarded = &har_of(&[stored(record)])["log"]["entries"][0]["request"];
        assert_eq!(forwarded["url"], "https://api.anthropic.com/v1/messages");
        let host = forwarded["headers"]
            .as_array()
            .and_then(|h| h.iter().find(|h| h["name"] == "host"));
        assert_eq!(host.map(|h| &h["value"]), Some(&json!("api.anthropic.com")));
        assert_eq!(
            request["bodySize"],
            request["postData"]["text"]
                .as_str()
                .map(str::len)
                .unwrap_or(0)
        );
    }

    #[test]
    fn secrets_never_reach_the_har_even_from_an_unredacted_record() {
        let mut raw = start(1, "/v1/chat/completions?key=AIza-PLANTED");
        raw.request
            .headers
            .push("Authorization", "Bearer sk-PLANTED");
        raw.request.headers.push("x-api-key", "sk-ant-PLANTED");
        let text = har_of(&[stored(finished(raw, 200, Vec::new()))]).to_string();
        assert!(!text.contains("PLANTED"), "{text}");
        assert!(text.contains("Bearer <redacted>"));
    }

    #[test]
    fn binary_reply_body_is_base64_with_its_encoding() {
        let mut record = finished(start(1, "/v1/files/x"), 200, vec![0xff, 0x00, 0xfe]);
        if let Some(reply) = &mut record.response {
            reply.headers = HeaderList::from([("content-type", "application/octet-stream")]);
        }
        let content = &har_of(&[stored(record)])["log"]["entries"][0]["response"]["content"];
        assert_eq!(content["encoding"], "base64");
        assert_eq!(content["text"], "/wD+");
        assert_eq!(content["size"], 3);
    }

    #[test]
    fn failed_exchange_without_a_reply_is_still_valid_with_status_0() {
        let har = har_of(&[stored(failed_before_reply(start(
            1,
            "/v1/chat/completions",
        )))]);
        let entry = &har["log"]["entries"][0];
        let response = &entry["response"];
        assert_eq!(response["status"], 0);
        assert_eq!(
            response["statusText"],
            "could not connect to the upstream: refused"
        );
        assert_eq!(response["content"]["size"], 0);
        assert_eq!(entry["_llmscope"]["failure_class"], "connect");
        assert_eq!(entry["time"], 15);
        assert_eq!(entry["timings"]["wait"], 15);
        assert_eq!(entry["timings"]["receive"], 0);
    }

    #[test]
    fn exchange_cut_off_by_a_crash_has_zero_time_and_says_why() {
        let mut cut = failed_before_reply(start(1, "/v1/messages"));
        cut.failure = None;
        cut.timing.duration_ms = None;
        cut.timing.first_byte_ms = None;
        let mut entry = stored(cut);
        entry.state = ExchangeState::Incomplete;
        let har = har_of(&[entry]);
        let entry = &har["log"]["entries"][0];
        assert_eq!(entry["time"], 0);
        assert_eq!(
            entry["response"]["statusText"],
            "no reply: llmscope stopped before the upstream answered"
        );
    }
}
