//! A request as one editable text, read like an HTTP message: the request line
//! (`POST /v1/chat/completions`), `Name: value` header lines, a blank line, then the body
//! (pretty-printed when it is JSON). The diff view uses the same text, so what the user edits
//! and what the diff compares read alike.
//!
//! Secret header values stay `<redacted>` here; the proxy puts the real ones back on resend.

use crate::capture::{CapturedRequest, HeaderList};

use super::body;

/// The request as the editor shows it. `None` when the body is not UTF-8 text (an editor
/// cannot show it faithfully; `r` still resends it byte for byte).
pub fn request_text(request: &CapturedRequest) -> Option<String> {
    let body = std::str::from_utf8(&request.body).ok()?;
    let mut text = format!("{} {}\n", request.method, request.uri);
    for (name, value) in &request.headers {
        text.push_str(&format!("{name}: {value}\n"));
    }
    text.push('\n');
    match body::pretty_json(body) {
        Some(pretty) => text.push_str(&pretty),
        None => text.push_str(body),
    }
    Some(text)
}

/// The parts of the editor's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedRequest {
    pub method: String,
    pub uri: String,
    pub headers: HeaderList,
    /// The body as typed.
    pub body: String,
    /// Index of the body's first line in the text, for error positions.
    pub body_line: usize,
}

/// What is wrong with the head of the editor's text (the body is checked separately).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("line {line}: expected `Name: value` (a blank line starts the body)")]
    Header { line: usize },
    #[error("line 1: expected `METHOD /path` or a header")]
    RequestLine,
}

/// Splits the editor's lines into request line, headers and body. The request line is
/// optional: without one, `method` and `uri` are the ones recorded.
pub fn parse_lines(lines: &[String], method: &str, uri: &str) -> Result<EditedRequest, HeadError> {
    let blank = lines.iter().position(|l| l.trim().is_empty());
    let head_end = blank.unwrap_or(lines.len());
    let mut head = lines[..head_end].iter().enumerate();
    let mut edited = EditedRequest {
        method: method.to_string(),
        uri: uri.to_string(),
        headers: HeaderList::new(),
        body: String::new(),
        body_line: blank.map_or(lines.len(), |b| b + 1),
    };
    if let Some(first) = lines.first().filter(|_| head_end > 0) {
        if let Some((m, u)) = request_line(first) {
            edited.method = m.to_string();
            edited.uri = u.to_string();
            head.next();
        } else if !first.contains(':') {
            return Err(HeadError::RequestLine);
        }
    }
    for (index, line) in head {
        let Some((name, value)) = line.split_once(':') else {
            return Err(HeadError::Header { line: index + 1 });
        };
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(HeadError::Header { line: index + 1 });
        }
        edited.headers.push(name, value.trim());
    }
    if let Some(blank) = blank {
        edited.body = lines[blank + 1..].join("\n");
    }
    Ok(edited)
}

/// `POST /v1/chat/completions` → (`POST`, `/v1/chat/completions`).
fn request_line(line: &str) -> Option<(&str, &str)> {
    let (method, uri) = line.trim().split_once(' ')?;
    let uri = uri.trim();
    let is_method = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    (is_method && uri.starts_with('/') && !uri.contains(' ')).then_some((method, uri))
}

/// The body as it goes out: JSON compact, as agents send it; anything else exactly as typed.
pub fn wire_body(typed: String) -> String {
    if serde_json::from_str::<serde::de::IgnoredAny>(&typed).is_ok() {
        compact_json(&typed)
    } else {
        typed
    }
}

/// Valid JSON without the whitespace between tokens; strings are kept byte for byte.
pub fn compact_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Where the body's JSON first goes wrong, counted within the body (1-based), as serde_json
/// reports it but with the column in characters.
pub type JsonProblem = crate::fix::EditorJsonError;

/// `Ok(true)` for valid JSON, `Ok(false)` for a body that is not meant as JSON (empty, or
/// not starting like JSON with a content type that is not JSON), `Err` with the position.
pub fn check_json(body: &str, says_json: bool) -> Result<bool, JsonProblem> {
    let trimmed = body.trim_start();
    if trimmed.is_empty() || !(says_json || trimmed.starts_with(['{', '['])) {
        return Ok(false);
    }
    match serde_json::from_str::<serde::de::IgnoredAny>(body) {
        Ok(_) => Ok(true),
        Err(error) => Err(crate::fix::json_error(body, &error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_problems_are_placed_within_the_body() {
        assert_eq!(check_json("{\n  \"a\": 1\n}", true), Ok(true));
        assert_eq!(check_json("plain text", false), Ok(false));
        let problem = check_json("{\n  \"a\": 1\n  \"b\": 2\n}", false);
        assert_eq!(
            problem,
            Err(JsonProblem {
                line: 3,
                column: 3,
                message: "expected `,` or `}`".into()
            })
        );
    }

    #[test]
    fn compacting_keeps_strings_intact() {
        assert_eq!(
            compact_json("{\n  \"a b\": \"x  y\\\" z\",\n  \"n\": [1, 2]\n}"),
            r#"{"a b":"x  y\" z","n":[1,2]}"#
        );
    }
}
