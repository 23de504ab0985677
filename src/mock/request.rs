//! Reading one request off the wire: the head with httparse, then how its body is delimited.
//! Limits are checked here so that no peer can make the mock buffer without end.

use std::io;

use thiserror::Error;

use super::ReceivedRequest;

/// A request head larger than this is refused with 431, as real servers do (8–64 KB).
pub(super) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Agent bodies are ≈30–80 KB; this leaves room for benchmarks without letting a peer make the
/// mock allocate without end.
pub(super) const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
const MAX_HEADERS: usize = 128;

/// Why no request could be read from a connection.
#[derive(Debug, Error)]
pub(super) enum ReadError {
    #[error("request head is larger than {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    #[error("request body is larger than {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("connection closed in the middle of a request")]
    Truncated,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// What the connection loop needs to know about a request beyond what is recorded.
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestFraming {
    /// The client wants the connection kept for another request.
    pub keep_alive: bool,
}

/// How the request body is delimited.
#[derive(Debug, Clone, Copy)]
pub(super) enum BodyLength {
    Fixed(usize),
    Chunked,
}

pub(super) type ParsedHead = (ReceivedRequest, RequestFraming, BodyLength, usize);

pub(super) fn parse_head(buf: &[u8]) -> Result<Option<ParsedHead>, ReadError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut slots);
    let head_length = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(ReadError::HeadTooLarge),
        Err(error) => return Err(ReadError::Malformed(error.to_string())),
    };
    if head_length > MAX_HEAD_BYTES {
        return Err(ReadError::HeadTooLarge);
    }
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(h.value).into_owned();
            (h.name.to_string(), value)
        })
        .collect();
    let http_1_0 = parsed.version == Some(0);
    let connection = header(&headers, "connection").unwrap_or_default();
    let has_token = |token: &str| {
        connection
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    let keep_alive = if http_1_0 {
        has_token("keep-alive")
    } else {
        !has_token("close")
    };
    let body_length = body_length(&headers)?;
    let request = ReceivedRequest {
        method: parsed.method.unwrap_or_default().to_string(),
        target: parsed.path.unwrap_or_default().to_string(),
        headers,
        body: Vec::new(),
    };
    Ok(Some((
        request,
        RequestFraming { keep_alive },
        body_length,
        head_length,
    )))
}

fn body_length(headers: &[(String, String)]) -> Result<BodyLength, ReadError> {
    // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length.
    if let Some(codings) = header(headers, "transfer-encoding") {
        let last = codings.rsplit(',').next().unwrap_or_default().trim();
        return if last.eq_ignore_ascii_case("chunked") {
            Ok(BodyLength::Chunked)
        } else {
            Err(ReadError::Malformed(format!(
                "unsupported transfer-encoding {codings:?}"
            )))
        };
    }
    let mut lengths = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim().parse::<usize>());
    let length = match (lengths.next(), lengths.next()) {
        (None, _) => 0,
        (Some(Ok(length)), None) => length,
        _ => {
            return Err(ReadError::Malformed(
                "invalid or repeated content-length".into(),
            ))
        }
    };
    if length > MAX_BODY_BYTES {
        return Err(ReadError::BodyTooLarge);
    }
    Ok(BodyLength::Fixed(length))
}

/// The first value of a header, by case-insensitive name.
pub(super) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_keeps_header_case_and_wire_order() {
        let raw = b"POST /v1/messages?beta=true HTTP/1.1\r\nHost: x\r\nX-Api-Key: k\r\nanthropic-version: 2023-06-01\r\nContent-Length: 2\r\n\r\n{}";
        let (request, framing, length, head_length) = parse_head(raw).unwrap().unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.target, "/v1/messages?beta=true");
        let names: Vec<_> = request.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["Host", "X-Api-Key", "anthropic-version", "Content-Length"]
        );
        assert!(framing.keep_alive);
        assert!(matches!(length, BodyLength::Fixed(2)));
        assert_eq!(head_length, raw.len() - 2);
    }

    #[test]
    fn http_1_0_closes_unless_asked_to_keep_alive() {
        let (_, framing, _, _) = parse_head(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!framing.keep_alive);
        let (_, framing, _, _) = parse_head(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!framing.keep_alive);
    }

    #[test]
    fn conflicting_lengths_are_malformed() {
        let raw = b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n";
        assert!(matches!(parse_head(raw), Err(ReadError::Malformed(_))));
        let raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
        assert!(matches!(parse_head(raw), Err(ReadError::Malformed(_))));
    }
}
