//! The load generator's HTTP/1.1: a request is pre-built bytes, a reply is parsed just enough
//! to know where it ends (Content-Length, chunked, or close) and to hand its body bytes to the
//! caller as they arrive. Written by hand, like wrk, so that the client costs the same tiny
//! amount whichever server it talks to, and so the per-chunk timing of a stream is seen at the
//! socket rather than after a client library's buffering.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Longest wait for any one read or write: a stuck server fails the bench instead of hanging it.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// A reply head larger than this is an error.
const MAX_HEAD: usize = 64 * 1024;
const READ_SIZE: usize = 64 * 1024;

/// What a complete reply was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body_len: u64,
}

/// `POST path` with a body and an API key (every agent sends one), keep-alive.
pub fn post(host: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: llmscope-bench\r\nAccept: */*\r\n\
         Authorization: Bearer sk-bench-0123456789abcdef\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

/// How the body of a reply ends.
#[derive(Debug)]
enum Body {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

/// Where a chunked body's decoder is.
#[derive(Debug, Clone, Copy)]
enum Chunk {
    Size {
        value: u64,
        digits: u32,
    },
    Extension {
        value: u64,
    },
    SizeLf {
        value: u64,
    },
    Data(u64),
    DataCr,
    DataLf,
    /// After the last chunk: trailer lines until an empty one; `empty` while the current line
    /// has no characters yet.
    Trailer {
        empty: bool,
    },
}

#[derive(Debug)]
enum State {
    Head,
    Body(Body),
    Done,
}

/// Incremental reply parser: feed it bytes, it says how many it used.
#[derive(Debug)]
pub struct ResponseParser {
    state: State,
    status: u16,
    body_len: u64,
    head_request: bool,
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl ResponseParser {
    pub fn new(head_request: bool) -> Self {
        Self {
            state: State::Head,
            status: 0,
            body_len: 0,
            head_request,
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    pub fn reply(&self) -> Reply {
        Reply {
            status: self.status,
            body_len: self.body_len,
        }
    }

    /// The peer closed the connection: fine only for a body that ends at close.
    pub fn eof(&mut self) -> io::Result<()> {
        match self.state {
            State::Body(Body::UntilClose) => {
                self.state = State::Done;
                Ok(())
            }
            State::Done => Ok(()),
            _ => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the reply ended",
            )),
        }
    }

    /// Parses what it can of `input`, passing body bytes to `sink`; returns the bytes used.
    pub fn feed(&mut self, input: &[u8], sink: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        let mut used = 0;
        if matches!(self.state, State::Head) {
            match self.parse_head(input)? {
                Some(n) => used = n,
                None => return Ok(0),
            }
        }
        if let State::Body(body) = &mut self.state {
            let (n, done) = feed_body(body, &input[used..], &mut |b: &[u8]| {
                self.body_len += b.len() as u64;
                sink(b);
            })?;
            used += n;
            if done {
                self.state = State::Done;
            }
        }
        Ok(used)
    }

    fn parse_head(&mut self, input: &[u8]) -> io::Result<Option<usize>> {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        let n = match response
            .parse(input)
            .map_err(|e| invalid(format!("bad reply head: {e}")))?
        {
            httparse::Status::Partial if input.len() > MAX_HEAD => {
                return Err(invalid("reply head too large"))
            }
            httparse::Status::Partial => return Ok(None),
            httparse::Status::Complete(n) => n,
        };
        let status = response.code.unwrap_or(0);
        if (100..200).contains(&status) {
            // An interim reply: the real one follows; stay in Head.
            return Ok(Some(n));
        }
        self.status = status;
        let mut chunked = false;
        let mut length = None;
        for h in response.headers.iter() {
            if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked |= String::from_utf8_lossy(h.value)
                    .to_ascii_lowercase()
                    .contains("chunked");
            } else if h.name.eq_ignore_ascii_case("content-length") {
                length = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok());
            }
        }
        self.state = if self.head_request || status == 204 || status == 304 {
            State::Done
        } else if chunked {
            State::Body(Body::Chunked(Chunk::Size {
                value: 0,
                digits: 0,
            }))
        } else {
            match length {
                Some(0) => State::Done,
                Some(len) => State::Body(Body::Length(len)),
                None => State::Body(Body::UntilClose),
            }
        };
        Ok(Some(n))
    }
}

/// Returns (bytes used, body complete).
fn feed_body(
    body: &mut Body,
    input: &[u8],
    sink: &mut dyn FnMut(&[u8]),
) -> io::Result<(usize, bool)> {
    match body {
        Body::Length(left) => {
            let take = (*left).min(input.len() as u64) as usize;
            if take > 0 {
                sink(&input[..take]);
            }
            *left -= take as u64;
            Ok((take, *left == 0))
        }
        Body::UntilClose => {
            if !input.is_empty() {
                sink(input);
            }
            Ok((input.len(), false))
        }
        Body::Chunked(state) => feed_chunked(state, input, sink),
    }
}

fn feed_chunked(
    state: &mut Chunk,
    input: &[u8],
    sink: &mut dyn FnMut(&[u8]),
) -> io::Result<(usize, bool)> {
    let mut i = 0;
    while i < input.len() {
        match *state {
            Chunk::Data(left) => {
                let take = (left as usize).min(input.len() - i);
                sink(&input[i..i + take]);
                i += take;
                let left = left - take as u64;
                *state = if left == 0 {
                    Chunk::DataCr
                } else {
                    Chunk::Data(left)
                };
                continue;
            }
            _ => {
                let byte = input[i];
                i += 1;
                *state = match (*state, byte) {
                    (Chunk::Size { value, digits }, b) if b.is_ascii_hexdigit() => {
                        if digits >= 15 {
                            return Err(invalid("chunk size too large"));
                        }
                        let d = (b as char).to_digit(16).unwrap_or(0) as u64;
                        Chunk::Size {
                            value: value * 16 + d,
                            digits: digits + 1,
                        }
                    }
                    (Chunk::Size { value, digits }, b';') if digits > 0 => {
                        Chunk::Extension { value }
                    }
                    (Chunk::Size { value, digits }, b'\r') if digits > 0 => Chunk::SizeLf { value },
                    (Chunk::Extension { value }, b'\r') => Chunk::SizeLf { value },
                    (Chunk::Extension { value }, _) => Chunk::Extension { value },
                    (Chunk::SizeLf { value: 0 }, b'\n') => Chunk::Trailer { empty: true },
                    (Chunk::SizeLf { value }, b'\n') => Chunk::Data(value),
                    (Chunk::DataCr, b'\r') => Chunk::DataLf,
                    (Chunk::DataLf, b'\n') => Chunk::Size {
                        value: 0,
                        digits: 0,
                    },
                    (Chunk::Trailer { empty }, b'\r') => Chunk::Trailer { empty },
                    (Chunk::Trailer { empty: true }, b'\n') => return Ok((i, true)),
                    (Chunk::Trailer { .. }, b'\n') => Chunk::Trailer { empty: true },
                    (Chunk::Trailer { .. }, _) => Chunk::Trailer { empty: false },
                    (s, b) => {
                        return Err(invalid(format!(
                            "bad chunked framing at {s:?}: byte {b:#04x}"
                        )))
                    }
                };
            }
        }
    }
    Ok((i, false))
}

/// Reads a request body framed by Content-Length or chunked encoding (the upstream's side).
#[derive(Debug)]
pub struct BodyReader(Body);

impl BodyReader {
    pub fn length(len: u64) -> Self {
        Self(Body::Length(len))
    }

    pub fn chunked() -> Self {
        Self(Body::Chunked(Chunk::Size {
            value: 0,
            digits: 0,
        }))
    }

    /// Returns (bytes used, body complete).
    pub fn feed(&mut self, input: &[u8]) -> io::Result<(usize, bool)> {
        if let Body::Length(0) = self.0 {
            return Ok((0, true));
        }
        feed_body(&mut self.0, input, &mut |_| {})
    }
}

/// Bytes read but not yet parsed, in a fixed buffer that is never re-zeroed.
struct ReadBuf {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl ReadBuf {
    fn new() -> Self {
        Self {
            buf: vec![0; 2 * READ_SIZE].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    fn unparsed(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room to read into, moving unparsed bytes to the front when the end is reached.
    fn spare(&mut self) -> io::Result<&mut [u8]> {
        if self.end == self.buf.len() {
            if self.start == 0 {
                return Err(invalid("reply head too large"));
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        Ok(&mut self.buf[self.end..])
    }

    fn filled(&mut self, n: usize) {
        self.end += n;
    }

    /// Feeds the parser what is buffered; `true` when it must read more.
    fn feed(
        &mut self,
        parser: &mut ResponseParser,
        sink: &mut dyn FnMut(&[u8]),
    ) -> io::Result<bool> {
        loop {
            if self.start == self.end {
                return Ok(!parser.is_done());
            }
            let used = parser.feed(self.unparsed(), sink)?;
            self.consume(used);
            if parser.is_done() {
                return Ok(false);
            }
            if used == 0 {
                return Ok(true);
            }
        }
    }
}

/// A blocking keep-alive connection, for sequential measurements (lowest jitter).
pub struct Conn {
    stream: TcpStream,
    buf: ReadBuf,
}

impl Conn {
    pub fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(Self {
            stream,
            buf: ReadBuf::new(),
        })
    }

    pub fn request(&mut self, request: &[u8]) -> io::Result<Reply> {
        self.request_with(request, |_| {})
    }

    /// Sends `request` and reads its reply, giving body bytes to `on_body` as they arrive.
    pub fn request_with(
        &mut self,
        request: &[u8],
        mut on_body: impl FnMut(&[u8]),
    ) -> io::Result<Reply> {
        self.stream.write_all(request)?;
        let mut parser = ResponseParser::new(request.starts_with(b"HEAD "));
        while self.buf.feed(&mut parser, &mut on_body)? {
            let n = self.stream.read(self.buf.spare()?)?;
            if n == 0 {
                parser.eof()?;
                break;
            }
            self.buf.filled(n);
        }
        Ok(parser.reply())
    }
}

/// The async twin of [`Conn`], for many connections on one thread.
pub struct AsyncConn {
    stream: tokio::net::TcpStream,
    buf: ReadBuf,
}

impl AsyncConn {
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = tokio::time::timeout(IO_TIMEOUT, tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: ReadBuf::new(),
        })
    }

    pub async fn request(&mut self, request: &[u8]) -> io::Result<Reply> {
        tokio::time::timeout(IO_TIMEOUT, self.exchange(request))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "reply timed out"))?
    }

    async fn exchange(&mut self, request: &[u8]) -> io::Result<Reply> {
        self.stream.write_all(request).await?;
        let mut parser = ResponseParser::new(request.starts_with(b"HEAD "));
        let mut ignore = |_: &[u8]| {};
        while self.buf.feed(&mut parser, &mut ignore)? {
            let n = self.stream.read(self.buf.spare()?).await?;
            if n == 0 {
                parser.eof()?;
                break;
            }
            self.buf.filled(n);
        }
        Ok(parser.reply())
    }
}
