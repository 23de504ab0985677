//! Newline-delimited JSON over a stream: one bounded line in, one line out.

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// What came of reading one line.
pub enum Line<T> {
    Message(T),
    /// The line was not a message of this protocol; `reason` says why.
    Garbage(String),
    /// The peer closed the connection, or sent a line longer than allowed.
    End,
}

/// Reads one line of at most `max` bytes and decodes it.
pub async fn read_message<T: DeserializeOwned, R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> Line<T> {
    buf.clear();
    let limit = u64::try_from(max).unwrap_or(u64::MAX);
    match (&mut *reader).take(limit).read_until(b'\n', buf).await {
        Ok(0) | Err(_) => return Line::End,
        Ok(_) => {}
    }
    if buf.last() != Some(&b'\n') && buf.len() >= max {
        // Reading on would mean parsing the rest of an oversized line as new messages.
        return Line::End;
    }
    let text = buf.strip_suffix(b"\n").unwrap_or(buf);
    match serde_json::from_slice(text) {
        Ok(message) => Line::Message(message),
        Err(error) => Line::Garbage(error.to_string()),
    }
}

/// `message` as one line, newline included.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    // The wire types hold only strings, numbers and JSON values: encoding cannot fail.
    let mut line = serde_json::to_vec(message).unwrap_or_default();
    line.push(b'\n');
    line
}
