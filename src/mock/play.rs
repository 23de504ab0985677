//! Plays one behaviour on a connection: writes the reply it scripts, with the pacing, gating
//! and breakage it promises, and says what becomes of the connection afterwards.

use std::io;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Semaphore;

use crate::llm::Dialect;

mod framing;

use super::behavior::MockBehavior;
use super::error_bodies::{scripted_error, stream_error_event};
use super::gemini;
use super::http::{encode_head, Connection, Reply};
use super::replies::ReplyPlan;
use super::request::header;
use super::streams::{sse_events, sse_events_totalling, DEFAULT_DELTAS};
use super::validate;
use super::ReceivedRequest;

const SLOW_STREAM_EVENTS: usize = 20;
const SLOW_STREAM_PAUSE: Duration = Duration::from_millis(50);
/// A gated stream carries on by itself after this, so a test that forgets the gate fails on
/// its assertions instead of hanging.
const GATE_LIMIT: Duration = Duration::from_secs(30);
const HANG_LIMIT: Duration = Duration::from_secs(120);
/// Lets the events before a reset reach the client before the RST does.
const PAUSE_BEFORE_RESET: Duration = Duration::from_millis(50);
const BIG_DEFAULT_BYTES: usize = 2 * 1024 * 1024;
/// `x-mock-size` is honoured up to this, so a typo cannot make the mock stream for hours.
const BIG_MAX_BYTES: usize = 1024 * 1024 * 1024;
/// Past the 64 KB that many servers allow in a head, well inside hyper's 400 KB read buffer.
const HUGE_HEADERS_DEFAULT_BYTES: usize = 80 * 1024;
const HUGE_HEADERS_MAX_BYTES: usize = 16 * 1024 * 1024;
const FILLER_HEADER_BYTES: usize = 8 * 1024;
/// What `mock-bad-chunk` sends where a chunk-size line belongs, unless `x-mock-chunk-line`
/// says otherwise.
const BAD_CHUNK_LINE: &str = "zz";
/// The response `mock-long-body` sends beyond its Content-Length: a client that reads it as
/// the reply to its next request on the connection would show it to the wrong caller.
const SMUGGLED_BODY: &str = r#"{"smuggled":"mock-long-body"}"#;
const MALFORMED_REPLY: &[u8] = b"SSH-2.0-OpenSSH_9.6\r\nthis is not an HTTP response\r\n\r\n";
const BARE_STATUS_LINE: &[u8] = b"HTTP/1.1 200 OK\r\n";

/// What the connection loop does once a reply is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    /// Read the next request, if the client wants to send one.
    Continue,
    /// Close with FIN.
    Close,
    /// Close with RST.
    Reset,
}

/// A request with everything decided about its reply.
struct Exchange<'a> {
    request: &'a ReceivedRequest,
    json: Option<Value>,
    behavior: MockBehavior,
    dialect: Dialect,
    /// The client asked to close after this reply (`Connection: close`, HTTP/1.0).
    close: bool,
    /// HEAD gets the head the same request would get with GET, and no body.
    head_only: bool,
}

pub(super) async fn play(
    conn: &mut Connection,
    request: &ReceivedRequest,
    keep_alive: bool,
    gate: &Semaphore,
) -> io::Result<After> {
    let json = serde_json::from_slice::<Value>(&request.body).ok();
    let behavior = MockBehavior::select(&request.target, json.as_ref(), &request.headers);
    let has_anthropic_version = header(&request.headers, "anthropic-version").is_some();
    let exchange = Exchange {
        request,
        behavior,
        dialect: Dialect::detect(&request.target, has_anthropic_version),
        close: !keep_alive,
        head_only: request.method.eq_ignore_ascii_case("HEAD"),
        json,
    };
    exchange.play(conn, gate).await
}

/// `GET …/models`, as OpenAI and Anthropic answer it: the mock's models that answer well.
fn model_list() -> String {
    let good = [
        MockBehavior::Ok,
        MockBehavior::Tool,
        MockBehavior::SlowStream,
    ];
    let data: Vec<Value> = good
        .iter()
        .map(
            |b| serde_json::json!({"id": b.name(), "object": "model", "owned_by": "llmscope-mock"}),
        )
        .collect();
    serde_json::json!({"object": "list", "data": data}).to_string()
}

impl Exchange<'_> {
    /// A client asking which models there are, rather than for a reply.
    fn is_model_list(&self) -> bool {
        let path = self.request.target.split('?').next().unwrap_or_default();
        self.request.method.eq_ignore_ascii_case("GET")
            && path.trim_end_matches('/').ends_with("/models")
    }

    async fn play(&self, conn: &mut Connection, gate: &Semaphore) -> io::Result<After> {
        if self.is_model_list() {
            // Google's SDKs list models at `/v1/models` too, where only their headers tell
            // them from OpenAI's clients.
            let google = ["x-goog-api-client", "x-goog-api-key"]
                .iter()
                .any(|name| header(&self.request.headers, name).is_some());
            let list = if self.dialect == Dialect::Gemini || google {
                gemini::model_list()
            } else {
                model_list()
            };
            return self.reply(conn, Reply::json(200, list)).await;
        }
        let plan = || {
            let tool_call = self.behavior == MockBehavior::Tool;
            let mut plan = ReplyPlan::new(
                self.dialect,
                self.json.as_ref(),
                &self.request.body,
                tool_call,
            );
            if let Some(model) = self.path_model() {
                plan.model = model.to_string();
            }
            plan
        };
        if self.gemini_method() == Some("countTokens") {
            let count = gemini::count_tokens(plan().input_tokens);
            return self.reply(conn, Reply::json(200, count)).await;
        }
        match self.behavior {
            MockBehavior::Ok | MockBehavior::Tool if self.wants_stream() => {
                let events = sse_events(&plan(), DEFAULT_DELTAS);
                self.stream(conn, &events, Duration::ZERO).await
            }
            MockBehavior::Ok | MockBehavior::Tool => {
                self.reply(conn, Reply::json(200, plan().json_body())).await
            }
            MockBehavior::SlowStream => {
                let events = sse_events_totalling(&plan(), SLOW_STREAM_EVENTS);
                self.stream(conn, &events, SLOW_STREAM_PAUSE).await
            }
            MockBehavior::Gated => self.gated_stream(conn, &plan(), gate).await,
            MockBehavior::SseError => {
                let mut events = sse_events(&plan(), DEFAULT_DELTAS);
                events.truncate(2);
                events.push(stream_error_event(self.dialect));
                self.stream(conn, &events, Duration::ZERO).await
            }
            MockBehavior::SseTruncated => {
                let mut events = sse_events(&plan(), DEFAULT_DELTAS);
                events.truncate(events.len() / 2);
                self.stream(conn, &events, Duration::ZERO).await
            }
            MockBehavior::Reset => {
                let events = sse_events(&plan(), DEFAULT_DELTAS);
                self.write_stream_head(conn).await?;
                for event in events.iter().take(2) {
                    conn.write_chunk(event.as_bytes()).await?;
                }
                tokio::time::sleep(PAUSE_BEFORE_RESET).await;
                Ok(After::Reset)
            }
            MockBehavior::Malformed => {
                conn.write_all(MALFORMED_REPLY).await?;
                Ok(After::Close)
            }
            MockBehavior::StatusThenClose => {
                conn.write_all(BARE_STATUS_LINE).await?;
                Ok(After::Close)
            }
            MockBehavior::Hang => wait_for_client_to_leave(conn).await,
            MockBehavior::Stall => {
                let events = sse_events(&plan(), DEFAULT_DELTAS);
                self.write_stream_head(conn).await?;
                if self.head_only {
                    return Ok(self.after());
                }
                if let Some(first) = events.first() {
                    conn.write_chunk(first.as_bytes()).await?;
                }
                wait_for_client_to_leave(conn).await
            }
            MockBehavior::Big => self.big(conn).await,
            MockBehavior::HugeHeaders => {
                let size = self.size_header().map_or(HUGE_HEADERS_DEFAULT_BYTES, |n| {
                    n.min(HUGE_HEADERS_MAX_BYTES)
                });
                let mut reply = Reply::json(200, plan().json_body());
                let mut left = size;
                while left > 0 {
                    let length = left.min(FILLER_HEADER_BYTES);
                    reply = reply.with_header("x-mock-filler", "f".repeat(length));
                    left -= length;
                }
                self.reply(conn, reply).await
            }
            MockBehavior::ShortBody => {
                let body = plan().json_body();
                let headers = self
                    .with_behavior_header(vec![("content-type", "application/json".to_string())]);
                let mut bytes = encode_head(200, &headers, Some(body.len() * 2), true);
                bytes.extend_from_slice(&body);
                conn.write_all(&bytes).await?;
                Ok(After::Close)
            }
            MockBehavior::LongBody => {
                let body = plan().json_body();
                let headers = self
                    .with_behavior_header(vec![("content-type", "application/json".to_string())]);
                let mut bytes = encode_head(200, &headers, Some(body.len()), self.close);
                bytes.extend_from_slice(&body);
                let extra = [("content-type", "application/json".to_string())];
                bytes.extend(encode_head(200, &extra, Some(SMUGGLED_BODY.len()), false));
                bytes.extend_from_slice(SMUGGLED_BODY.as_bytes());
                conn.write_all(&bytes).await?;
                Ok(self.after())
            }
            MockBehavior::BadChunk => {
                let events = sse_events(&plan(), DEFAULT_DELTAS);
                self.write_stream_head(conn).await?;
                if let Some(first) = events.first() {
                    conn.write_chunk(first.as_bytes()).await?;
                }
                let line =
                    header(&self.request.headers, "x-mock-chunk-line").unwrap_or(BAD_CHUNK_LINE);
                conn.write_all(format!("{line}\r\nnot a chunk\r\n").as_bytes())
                    .await?;
                Ok(After::Close)
            }
            MockBehavior::ResetAfterHead => {
                if self.wants_stream() {
                    self.write_stream_head(conn).await?;
                } else {
                    let body = plan().json_body();
                    let headers = self.with_behavior_header(vec![(
                        "content-type",
                        "application/json".to_string(),
                    )]);
                    conn.write_all(&encode_head(200, &headers, Some(body.len()), self.close))
                        .await?;
                }
                tokio::time::sleep(PAUSE_BEFORE_RESET).await;
                Ok(After::Reset)
            }
            MockBehavior::Echo => self.echo(conn).await,
            MockBehavior::Validate => {
                let found = validate::defect(
                    &self.request.headers,
                    self.json.as_ref(),
                    self.request.body.len(),
                    self.dialect,
                );
                match found {
                    Some((status, body)) => self.reply(conn, Reply::json(status, body)).await,
                    None if self.wants_stream() => {
                        let events = sse_events(&plan(), DEFAULT_DELTAS);
                        self.stream(conn, &events, Duration::ZERO).await
                    }
                    None => self.reply(conn, Reply::json(200, plan().json_body())).await,
                }
            }
            MockBehavior::ContextLength400
            | MockBehavior::UnsupportedParam400
            | MockBehavior::InvalidModel400
            | MockBehavior::ToolPairing400
            | MockBehavior::Unauthorized401
            | MockBehavior::RateLimited429
            | MockBehavior::ServerError500
            | MockBehavior::Overloaded529
            | MockBehavior::ErrorIn200 => {
                let model = self
                    .path_model()
                    .or_else(|| self.json.as_ref()?.get("model")?.as_str())
                    .unwrap_or(self.behavior.name());
                match scripted_error(self.behavior, self.dialect, model) {
                    Some((status, body)) => self.reply(conn, Reply::json(status, body)).await,
                    None => Err(io::Error::other("behaviour has no scripted error")),
                }
            }
        }
    }

    fn after(&self) -> After {
        if self.close {
            After::Close
        } else {
            After::Continue
        }
    }

    fn with_behavior_header(
        &self,
        mut headers: Vec<(&'static str, String)>,
    ) -> Vec<(&'static str, String)> {
        headers.push(("x-mock-behavior", self.behavior.name().to_string()));
        headers
    }

    async fn reply(&self, conn: &mut Connection, reply: Reply) -> io::Result<After> {
        let headers = self.with_behavior_header(reply.headers);
        let mut bytes = encode_head(reply.status, &headers, Some(reply.body.len()), self.close);
        if !self.head_only {
            bytes.extend_from_slice(&reply.body);
        }
        conn.write_all(&bytes).await?;
        Ok(self.after())
    }

    /// The `x-mock-size` header, for behaviours whose size a test chooses.
    fn size_header(&self) -> Option<usize> {
        header(&self.request.headers, "x-mock-size").and_then(|v| v.trim().parse::<usize>().ok())
    }

    async fn big(&self, conn: &mut Connection) -> io::Result<After> {
        let size = self
            .size_header()
            .map_or(BIG_DEFAULT_BYTES, |n| n.min(BIG_MAX_BYTES));
        let headers = self.with_behavior_header(vec![(
            "content-type",
            "application/octet-stream".to_string(),
        )]);
        // A cut reply goes chunked: with a Content-Length, the short body alone would tell
        // the agent's client that it was cut.
        let cut = header(&self.request.headers, "x-mock-cut")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&at| at < size);
        let length = if cut.is_some() { None } else { Some(size) };
        conn.write_all(&encode_head(200, &headers, length, self.close))
            .await?;
        if self.head_only {
            return Ok(self.after());
        }
        const BLOCK: usize = 64 * 1024;
        let mut block = Vec::with_capacity(BLOCK);
        let mut offset = 0;
        let sent = cut.unwrap_or(size);
        while offset < sent {
            let end = (offset + BLOCK).min(sent);
            block.clear();
            block.extend((offset..end).map(big_byte));
            if cut.is_some() {
                conn.write_chunk(&block).await?;
            } else {
                conn.write_all(&block).await?;
            }
            offset = end;
        }
        Ok(if cut.is_some() {
            After::Close
        } else {
            self.after()
        })
    }

    async fn echo(&self, conn: &mut Connection) -> io::Result<After> {
        let request = self.request;
        let mut reply = Reply {
            status: 200,
            headers: Vec::new(),
            body: request.body.clone(),
        };
        for name in ["content-type", "content-encoding"] {
            if let Some(value) = header(&request.headers, name) {
                reply.headers.push((name, value.to_string()));
            }
        }
        let reply = reply
            .with_header("x-echo-method", request.method.clone())
            .with_header("x-echo-target", request.target.clone());
        self.reply(conn, reply).await
    }
}

/// Keeps a request unanswered until the client gives up on it. Its leaving is reported as an
/// error, so the connection loop counts the reply as abandoned; a client that never leaves
/// is dropped after [`HANG_LIMIT`].
async fn wait_for_client_to_leave(conn: &mut Connection) -> io::Result<After> {
    if conn.wait_for_peer_close(HANG_LIMIT).await {
        Err(io::ErrorKind::ConnectionAborted.into())
    } else {
        Ok(After::Close)
    }
}

/// Byte `i` of a `mock-big` body: fixed, so two runs can be compared, and not a short
/// repeating pattern, so compression does not flatter a benchmark.
pub fn big_byte(i: usize) -> u8 {
    let mixed = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> 56) as u8
}
