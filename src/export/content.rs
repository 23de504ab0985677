//! Recorded bodies as HAR `postData` and `content` objects.
//!
//! Bodies are recorded as they crossed the wire, so a reply may still be gzip- or
//! zstd-compressed. Viewers expect `content.text` to be what the page would read, so a
//! compressed reply is decoded when it was captured whole; otherwise the bytes go out as
//! recorded, in base64, with a comment saying why.

use std::io::Read;

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::capture::{CapturedResponse, HeaderList};

/// Larger decoded replies stay compressed in the export: decoding is for reading, and a
/// hostile or damaged body must not expand without limit.
const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

/// The first value of a header, by case-insensitive name.
pub(super) fn header<'a>(headers: &'a HeaderList, name: &str) -> Option<&'a str> {
    headers.value(name)
}

/// `postData` for a request body; `None` when there is no body.
///
/// HAR 1.2 has no `encoding` field for `postData`, so a body that is not UTF-8 goes out as
/// base64 in `text`, flagged by the custom field `_encoding: "base64"` and a `comment`, which
/// keeps the bytes recoverable without breaking viewers that follow the spec.
pub(super) fn post_data(headers: &HeaderList, body: &[u8]) -> Option<Value> {
    if body.is_empty() {
        return None;
    }
    let mime_type = header(headers, "content-type").unwrap_or("");
    Some(match std::str::from_utf8(body) {
        Ok(text) => json!({ "mimeType": mime_type, "text": text }),
        Err(_) => json!({
            "mimeType": mime_type,
            "text": base64_text(body),
            "_encoding": "base64",
            "comment": "the request body is not UTF-8: text holds its bytes in base64",
        }),
    })
}

/// `content` for a reply that arrived (its head at least).
pub(super) fn response_content(response: &CapturedResponse) -> Value {
    let mime_type = header(&response.headers, "content-type").unwrap_or("");
    let coding = header(&response.headers, "content-encoding")
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity");
    let mut notes = Vec::new();
    if response.truncated() {
        notes.push(format!(
            "llmscope recorded the first {} of {} bytes",
            response.body.len(),
            response.body_len
        ));
    }
    let mut content = Map::new();
    let decoded = match &coding {
        Some(coding) if !response.truncated() => {
            let decoded = decode_content(coding, &response.body, MAX_DECODED_BYTES);
            if decoded.is_none() {
                notes.push(format!("the body is {coding}-encoded as received"));
            }
            decoded
        }
        Some(coding) => {
            notes.push(format!("the body is {coding}-encoded as received"));
            None
        }
        None => None,
    };
    let size = match &decoded {
        Some(bytes) => {
            let saved = (bytes.len() as u64).saturating_sub(response.body.len() as u64);
            content.insert("compression".into(), json!(saved));
            bytes.len() as u64
        }
        None => response.body_len,
    };
    content.insert("size".into(), json!(size));
    content.insert("mimeType".into(), json!(mime_type));
    let bytes = decoded.as_deref().unwrap_or(&response.body);
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            content.insert("text".into(), json!(text));
        }
        Err(_) => {
            content.insert("text".into(), json!(base64_text(bytes)));
            content.insert("encoding".into(), json!("base64"));
        }
    }
    if !notes.is_empty() {
        content.insert("comment".into(), json!(notes.join("; ")));
    }
    Value::Object(content)
}

/// `content` for an exchange that never got a reply.
pub(super) fn empty_content() -> Value {
    json!({ "size": 0, "mimeType": "x-unknown", "text": "" })
}

fn base64_text(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The body with its content coding removed, or `None` when the coding is unknown (e.g. `br`,
/// or a list of codings), the bytes do not decode, or they decode to more than `limit` bytes.
pub fn decode_content(coding: &str, body: &[u8], limit: u64) -> Option<Vec<u8>> {
    let reader: Box<dyn Read + '_> = match coding {
        "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(body)),
        // RFC 9110's "deflate" is zlib-wrapped; some servers send raw deflate anyway.
        "deflate" if looks_like_zlib(body) => Box::new(flate2::read::ZlibDecoder::new(body)),
        "deflate" => Box::new(flate2::read::DeflateDecoder::new(body)),
        "zstd" => Box::new(zstd::stream::read::Decoder::new(body).ok()?),
        _ => return None,
    };
    let mut out = Vec::new();
    reader.take(limit + 1).read_to_end(&mut out).ok()?;
    (out.len() as u64 <= limit).then_some(out)
}

fn looks_like_zlib(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => cmf & 0x0f == 8 && ((u16::from(*cmf) << 8) | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use bytes::Bytes;

    use super::*;

    fn reply(headers: &[(&str, &str)], body: Vec<u8>, body_len: u64) -> CapturedResponse {
        CapturedResponse {
            status: 200,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: Bytes::from(body),
            body_len,
        }
    }

    #[test]
    fn gzip_reply_is_decoded_with_the_bytes_saved() {
        let text = r#"{"ok":true,"pad":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(text.as_bytes()).expect("gzip");
        let gz = encoder.finish().expect("gzip");
        let gz_len = gz.len() as u64;
        let content = response_content(&reply(
            &[
                ("content-type", "application/json"),
                ("Content-Encoding", "gzip"),
            ],
            gz,
            gz_len,
        ));
        assert_eq!(content["text"], text);
        assert_eq!(content["size"], text.len());
        assert_eq!(content["compression"], text.len() as u64 - gz_len);
        assert!(content.get("encoding").is_none());
    }

    #[test]
    fn brotli_reply_stays_as_received_in_base64() {
        let content = response_content(&reply(
            &[("content-encoding", "br")],
            vec![0x8b, 0xff, 0x01],
            3,
        ));
        assert_eq!(content["encoding"], "base64");
        assert_eq!(content["text"], "i/8B");
        assert_eq!(content["comment"], "the body is br-encoded as received");
    }

    #[test]
    fn truncated_capture_keeps_the_full_size_and_says_so() {
        let content = response_content(&reply(&[], b"partial".to_vec(), 100));
        assert_eq!(content["size"], 100);
        assert_eq!(content["text"], "partial");
        assert_eq!(
            content["comment"],
            "llmscope recorded the first 7 of 100 bytes"
        );
    }

    #[test]
    fn binary_request_body_is_base64_flagged_outside_the_spec_fields() {
        let headers = HeaderList::from([("content-type", "application/octet-stream")]);
        let post = post_data(&headers, &[0, 159, 146, 150]).expect("a body");
        assert_eq!(post["text"], "AJ+Slg==");
        assert_eq!(post["_encoding"], "base64");
        assert!(post.get("encoding").is_none());
        assert_eq!(post_data(&headers, b""), None);
    }
}
