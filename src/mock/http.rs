//! Just enough HTTP/1.1 to play an upstream on one connection: reads requests (bodies by
//! Content-Length or chunked encoding, every read bounded) and writes replies byte by byte, so
//! that a behaviour can also write what no HTTP library would (a bare status line, a stream
//! cut without its terminator, a reset).

use std::io;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::request::{
    header, parse_head, BodyLength, ReadError, RequestFraming, MAX_BODY_BYTES, MAX_HEAD_BYTES,
};
use super::ReceivedRequest;

/// A chunk-size line or trailer line longer than this is not a chunked body.
const MAX_CHUNK_LINE_BYTES: usize = 4 * 1024;
/// How long a closing connection waits for the peer's own close.
const LINGER: Duration = Duration::from_secs(1);

/// One accepted socket with the bytes read past the current request, so that pipelined or
/// early-sent bytes of the next request are not lost.
pub(super) struct Connection {
    stream: TcpStream,
    buf: BytesMut,
}

impl Connection {
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
        }
    }

    /// Reads the next request, or `None` when the client closed between requests.
    pub async fn read_request(
        &mut self,
    ) -> Result<Option<(ReceivedRequest, RequestFraming)>, ReadError> {
        let Some((mut request, framing, body_length)) = self.read_head().await? else {
            return Ok(None);
        };
        let expects_body = !matches!(body_length, BodyLength::Fixed(0));
        let wants_continue = header(&request.headers, "expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        // curl and some SDKs hold large bodies back until told to go on; the others never ask.
        if wants_continue && expects_body && self.buf.is_empty() {
            self.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        request.body = match body_length {
            BodyLength::Fixed(length) => self.read_fixed_body(length).await?,
            BodyLength::Chunked => self.read_chunked_body().await?,
        };
        Ok(Some((request, framing)))
    }

    async fn read_head(
        &mut self,
    ) -> Result<Option<(ReceivedRequest, RequestFraming, BodyLength)>, ReadError> {
        loop {
            if !self.buf.is_empty() {
                if let Some(parsed) = parse_head(&self.buf)? {
                    let (request, framing, body_length, head_length) = parsed;
                    self.buf.advance(head_length);
                    return Ok(Some((request, framing, body_length)));
                }
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(ReadError::HeadTooLarge);
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(ReadError::Truncated)
                };
            }
        }
    }

    async fn read_fixed_body(&mut self, length: usize) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < length {
            self.fill_or_truncated().await?;
        }
        Ok(self.buf.split_to(length).to_vec())
    }

    async fn read_chunked_body(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let (line_length, size) = loop {
                match httparse::parse_chunk_size(&self.buf) {
                    Ok(httparse::Status::Complete(found)) => break found,
                    Ok(httparse::Status::Partial) if self.buf.len() > MAX_CHUNK_LINE_BYTES => {
                        return Err(ReadError::Malformed("chunk-size line too long".into()));
                    }
                    Ok(httparse::Status::Partial) => self.fill_or_truncated().await?,
                    Err(_) => return Err(ReadError::Malformed("invalid chunk size".into())),
                }
            };
            self.buf.advance(line_length);
            if size == 0 {
                self.skip_trailers().await?;
                return Ok(body);
            }
            let size = usize::try_from(size)
                .ok()
                .filter(|size| body.len().saturating_add(*size) <= MAX_BODY_BYTES)
                .ok_or(ReadError::BodyTooLarge)?;
            while self.buf.len() < size + 2 {
                self.fill_or_truncated().await?;
            }
            body.extend_from_slice(&self.buf[..size]);
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(ReadError::Malformed(
                    "chunk data not followed by CRLF".into(),
                ));
            }
            self.buf.advance(size + 2);
        }
    }

    /// Trailer fields are allowed after the last chunk; the mock has no use for them.
    async fn skip_trailers(&mut self) -> Result<(), ReadError> {
        let mut skipped = 0;
        loop {
            match self.buf.windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.buf.advance(2);
                    return Ok(());
                }
                Some(end) => {
                    skipped += end + 2;
                    self.buf.advance(end + 2);
                }
                None => self.fill_or_truncated().await?,
            }
            if skipped > MAX_HEAD_BYTES || self.buf.len() > MAX_HEAD_BYTES {
                return Err(ReadError::Malformed("trailer section too large".into()));
            }
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        self.buf.reserve(16 * 1024);
        self.stream.read_buf(&mut self.buf).await
    }

    async fn fill_or_truncated(&mut self) -> Result<(), ReadError> {
        match self.fill().await? {
            0 => Err(ReadError::Truncated),
            _ => Ok(()),
        }
    }

    pub async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// One HTTP chunk in a single write, so that one SSE event leaves as one piece.
    pub async fn write_chunk(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            // An empty chunk would be read as the end of the body.
            return Ok(());
        }
        let mut frame = format!("{:x}\r\n", data.len()).into_bytes();
        frame.extend_from_slice(data);
        frame.extend_from_slice(b"\r\n");
        self.stream.write_all(&frame).await
    }

    pub async fn finish_chunks(&mut self) -> io::Result<()> {
        self.stream.write_all(b"0\r\n\r\n").await
    }

    /// Waits until the peer closes (anything more it sends is discarded) or `limit` passes,
    /// for a behaviour that must keep a request unanswered. True when the peer closed.
    pub async fn wait_for_peer_close(&mut self, limit: Duration) -> bool {
        let until_closed = async {
            let mut scratch = [0u8; 4096];
            while matches!(self.stream.read(&mut scratch).await, Ok(1..)) {}
        };
        tokio::time::timeout(limit, until_closed).await.is_ok()
    }

    /// Closes with FIN, then reads until the peer closes too (at most `LINGER`): closing with
    /// unread bytes pending would send an RST that can destroy the reply before it is read,
    /// e.g. a 431 sent while the client is still writing its oversized head.
    pub async fn close(mut self) {
        if self.stream.shutdown().await.is_ok() {
            self.wait_for_peer_close(LINGER).await;
        }
    }

    /// Closes with RST: the peer sees "connection reset", as when an upstream dies mid-reply.
    pub fn reset(self) {
        let _ = self.stream.set_zero_linger();
        drop(self.stream);
    }
}

/// A complete reply with a known length.
#[derive(Debug, Clone)]
pub(super) struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("content-type", content_type.to_string())],
            body,
        }
    }

    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::new(status, "application/json", body.into())
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// The status line and headers of a reply; `length` decides between Content-Length and chunked.
pub(super) fn encode_head(
    status: u16,
    headers: &[(&'static str, String)],
    length: Option<usize>,
    close: bool,
) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match length {
        Some(length) => head.push_str(&format!("content-length: {length}\r\n")),
        None => head.push_str("transfer-encoding: chunked\r\n"),
    }
    if close {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        // Not in the IANA registry; Anthropic's and Cloudflare's name for it.
        529 => "Site Overloaded",
        _ => http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_name_529_and_choose_framing() {
        let head = encode_head(
            529,
            &[("content-type", "application/json".into())],
            Some(5),
            true,
        );
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "HTTP/1.1 529 Site Overloaded\r\ncontent-type: application/json\r\ncontent-length: 5\r\nconnection: close\r\n\r\n"
        );
        let head = encode_head(200, &[], None, false);
        assert!(String::from_utf8(head)
            .unwrap()
            .ends_with("transfer-encoding: chunked\r\n\r\n"));
    }
}
