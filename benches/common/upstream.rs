//! The fake LLM upstream every figure is measured against: HTTP/1.1 keep-alive on
//! 127.0.0.1, one thread, replies built once and written with one `write_all`.
//!
//! It is not `llmscope::mock`: the mock parses every request body as JSON to choose a
//! behaviour, which at tens of thousands of requests a second would make the upstream, not
//! the proxy, the thing measured. What it serves is chosen by the query string, which every
//! proxy forwards unchanged:
//! - `?reply=N`: a chat-completion JSON body of N bytes (default 1024);
//! - `?sse=N&gap_ms=M`: an OpenAI-style stream of N events M ms apart, each stamped with the
//!   time it was written ([`now_ns`](super::now_ns)), then `[DONE]`.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::http::BodyReader;
use super::now_ns;

/// A running upstream; dropping it stops it.
pub struct FakeUpstream {
    pub addr: SocketAddr,
    served: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeUpstream {
    pub fn start() -> io::Result<Self> {
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let served = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = oneshot::channel::<()>();
        let counter = served.clone();
        let thread = std::thread::Builder::new()
            .name("fake-upstream".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("upstream runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("upstream listener");
                    tokio::select! {
                        () = accept_loop(listener, counter) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime here ends every connection task.
            })?;
        Ok(Self {
            addr,
            served,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replies completed so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, served: Arc<AtomicU64>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, served.clone()));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// What one request asks for.
enum Wanted {
    Json(usize),
    Sse { events: usize, gap: Duration },
}

struct Head {
    wanted: Wanted,
    body: BodyReader,
    close: bool,
    len: usize,
}

fn parse_head(buf: &[u8]) -> io::Result<Option<Head>> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request
        .parse(buf)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
    {
        httparse::Status::Partial => return Ok(None),
        httparse::Status::Complete(n) => n,
    };
    let mut body = BodyReader::length(0);
    let mut close = request.version == Some(0);
    for h in request.headers.iter() {
        let value = String::from_utf8_lossy(h.value).to_ascii_lowercase();
        if h.name.eq_ignore_ascii_case("content-length") {
            body = BodyReader::length(value.trim().parse().unwrap_or(0));
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") && value.contains("chunked") {
            body = BodyReader::chunked();
        } else if h.name.eq_ignore_ascii_case("connection") {
            close = value.contains("close");
        }
    }
    let query: HashMap<&str, usize> = request
        .path
        .and_then(|p| p.split_once('?'))
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
                .collect()
        })
        .unwrap_or_default();
    let wanted = match query.get("sse") {
        Some(&events) => Wanted::Sse {
            events: events.min(100_000),
            gap: Duration::from_millis(query.get("gap_ms").copied().unwrap_or(20) as u64),
        },
        None => Wanted::Json(
            query
                .get("reply")
                .copied()
                .unwrap_or(1024)
                .min(256 * 1024 * 1024),
        ),
    };
    Ok(Some(Head {
        wanted,
        body,
        close,
        len,
    }))
}

async fn serve(mut stream: TcpStream, served: Arc<AtomicU64>) {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut replies: HashMap<usize, Arc<Vec<u8>>> = HashMap::new();
    loop {
        // Head.
        let head = loop {
            match parse_head(&buf) {
                Ok(Some(head)) => break head,
                Ok(None) if buf.len() > 64 * 1024 => return,
                Ok(None) => {}
                Err(_) => return,
            }
            if !read_more(&mut stream, &mut buf).await {
                return;
            }
        };
        buf.drain(..head.len);
        // Body: read and dropped.
        let mut body = head.body;
        loop {
            let Ok((used, done)) = body.feed(&buf) else {
                return;
            };
            buf.drain(..used);
            if done {
                break;
            }
            if !read_more(&mut stream, &mut buf).await {
                return;
            }
        }
        let wrote = match head.wanted {
            Wanted::Json(size) => {
                let reply = replies
                    .entry(size)
                    .or_insert_with(|| Arc::new(json_reply(size)))
                    .clone();
                stream.write_all(&reply).await
            }
            Wanted::Sse { events, gap } => write_sse(&mut stream, events, gap).await,
        };
        if wrote.is_err() {
            return;
        }
        served.fetch_add(1, Ordering::Relaxed);
        if head.close {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// Appends what the socket has; false once the peer closed or failed.
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    // `read_buf` fills spare capacity, so the buffer is not zeroed on every read.
    buf.reserve(64 * 1024);
    matches!(stream.read_buf(buf).await, Ok(n) if n > 0)
}

/// A complete `200` with a chat-completion body of exactly `size` bytes (when `size` is at
/// least the envelope's length).
pub fn json_reply(size: usize) -> Vec<u8> {
    let before = r#"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":""#;
    let after = r#""},"finish_reason":"stop"}],"usage":{"prompt_tokens":250,"completion_tokens":200,"total_tokens":450}}"#;
    let filler = size.saturating_sub(before.len() + after.len());
    let words = b"the agent reads files and edits code then runs tests ";
    let mut body = Vec::with_capacity(size.max(before.len() + after.len()));
    body.extend_from_slice(before.as_bytes());
    body.extend(words.iter().copied().cycle().take(filler));
    body.extend_from_slice(after.as_bytes());
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(&body);
    reply
}

/// One SSE event framed as one chunk.
fn sse_chunk(payload: &str) -> Vec<u8> {
    let event = format!("data: {payload}\n\n");
    let mut chunk = format!("{:x}\r\n", event.len()).into_bytes();
    chunk.extend_from_slice(event.as_bytes());
    chunk.extend_from_slice(b"\r\n");
    chunk
}

async fn write_sse(stream: &mut TcpStream, events: usize, gap: Duration) -> io::Result<()> {
    stream
        .write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
              transfer-encoding: chunked\r\n\r\n",
        )
        .await?;
    let start = tokio::time::Instant::now();
    for i in 0..events {
        tokio::time::sleep_until(start + gap * i as u32).await;
        let payload = format!(
            r#"{{"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"gpt-4o","choices":[{{"index":0,"delta":{{"content":"tok{i} "}}}}],"bench_i":{i},"bench_t":{}}}"#,
            now_ns()
        );
        stream.write_all(&sse_chunk(&payload)).await?;
    }
    let mut tail = sse_chunk(
        r#"{"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    );
    tail.extend_from_slice(&sse_chunk("[DONE]"));
    tail.extend_from_slice(b"0\r\n\r\n");
    stream.write_all(&tail).await
}

/// Reads the `bench_t` stamps out of an SSE body as it arrives: feed it body bytes with the
/// time they arrived, get back each event's delay from upstream write to client read.
#[derive(Default)]
pub struct SseDelays {
    pending: Vec<u8>,
    pub delays_ns: Vec<u64>,
    pub events: usize,
}

impl SseDelays {
    pub fn push(&mut self, bytes: &[u8], arrived_ns: u64) {
        self.pending.extend_from_slice(bytes);
        while let Some(end) = find(&self.pending, b"\n\n") {
            let event = &self.pending[..end];
            self.events += 1;
            if let Some(at) = find(event, b"\"bench_t\":") {
                let digits = &event[at + 10..];
                let stamp: u64 = digits
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .fold(0, |acc, &d| acc * 10 + u64::from(d - b'0'));
                self.delays_ns.push(arrived_ns.saturating_sub(stamp));
            }
            self.pending.drain(..end + 2);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
