//! The `model` field of a JSON request body, read on the forwarding path.
//!
//! Agents put `model` first or near the front of a body whose bulk is the conversation after
//! it, so the body is scanned from its start and the scan stops at the field: a 500 KB
//! request costs what its first few fields cost. Decoding it with serde instead (even with
//! every other field ignored) reads, checks and skips the whole body before the model is
//! known.
//!
//! Only the top level counts: a `model` inside a message or a tool's schema is skipped with
//! the value that holds it. The body is not checked past the field (the upstream judges it);
//! a body that is not a JSON object up to there names no model.

/// The top-level `model` of a JSON object body: a string as it is, any other value but
/// `null` as its JSON text.
pub(super) fn body_model(body: &[u8]) -> Option<String> {
    let mut at = skip_space(body, 0);
    if body.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    loop {
        at = skip_space(body, at);
        if body.get(at) != Some(&b'"') {
            // `}` (no more fields) or not JSON.
            return None;
        }
        let key_end = string_end(body, at)?;
        let is_model = is_model_key(&body[at..key_end]);
        at = skip_space(body, key_end);
        if body.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(body, at + 1);
        let value_end = value_end(body, at)?;
        if is_model {
            return model_value(&body[at..value_end]);
        }
        at = skip_space(body, value_end);
        if body.get(at) != Some(&b',') {
            return None;
        }
        at += 1;
    }
}

/// Whether a quoted key (quotes included) is `model`, escapes decoded.
fn is_model_key(quoted: &[u8]) -> bool {
    if quoted == b"\"model\"" {
        return true;
    }
    quoted.contains(&b'\\') && serde_json::from_slice::<String>(quoted).is_ok_and(|k| k == "model")
}

fn model_value(raw: &[u8]) -> Option<String> {
    // Nearly every model is a plain string: its text is between the quotes as it is.
    if let [b'"', text @ .., b'"'] = raw {
        if !text.iter().any(|&b| b == b'\\' || b < 0x20) {
            return std::str::from_utf8(text).ok().map(str::to_string);
        }
    }
    match serde_json::from_slice::<serde_json::Value>(raw).ok()? {
        serde_json::Value::String(model) => Some(model),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn skip_space(body: &[u8], mut at: usize) -> usize {
    while body.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// Where the string opening at `at` (a `"`) ends: the index after its closing quote.
fn string_end(body: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        i += memchr::memchr2(b'"', b'\\', body.get(i..)?)?;
        if body[i] == b'\\' {
            i += 2;
        } else {
            return Some(i + 1);
        }
    }
}

/// Where the value starting at `at` ends: after its closing quote or bracket, or at the
/// first byte that cannot belong to a number, `true`, `false` or `null`.
fn value_end(body: &[u8], at: usize) -> Option<usize> {
    match body.get(at)? {
        b'"' => string_end(body, at),
        b'{' | b'[' => nested_end(body, at),
        _ => {
            let len = body[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .unwrap_or(body.len() - at);
            (len > 0).then_some(at + len)
        }
    }
}

/// Where the object or array opening at `at` closes, its strings skipped whole (a bracket in
/// a string is text).
fn nested_end(body: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = at;
    while i < body.len() {
        match body[i] {
            b'"' => {
                i = string_end(body, i)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What decoding the whole body says, for bodies that are valid JSON.
    fn decoded(body: &str) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct ModelOnly {
            model: Option<serde_json::Value>,
        }
        match serde_json::from_str::<ModelOnly>(body).ok()?.model? {
            serde_json::Value::String(model) => Some(model),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    #[test]
    fn reads_the_top_level_model_wherever_it_is_as_a_full_decode_would() {
        let bodies = [
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#,
            r#"  { "messages" : [ {"role":"user","content":"say \"model\": no"} ] , "model" : "claude-sonnet-4-5" }"#,
            r#"{"messages":[{"model":"inner","content":"[{"}],"tools":[{"schema":{"model":{"type":"string"}}}],"model":"outer"}"#,
            r#"{"stream":true,"max_tokens":1024,"temperature":0.5,"stop":null,"model":"m"}"#,
            r#"{"model":null,"messages":[]}"#,
            r#"{"model":42}"#,
            r#"{"model":{"name":"x"}}"#,
            r#"{"messages":[]}"#,
            r#"{}"#,
            r#"{"mod\u0065l":"escaped-key"}"#,
            r#"{"model":"caf\u00e9 \"quoted\""}"#,
            r#"{"content":"a \\\" b","model":"after-escapes"}"#,
            "{\"model\":\"a raw\ttab is not JSON\"}",
        ];
        for body in bodies {
            assert_eq!(body_model(body.as_bytes()), decoded(body), "{body}");
        }
        assert_eq!(
            body_model(bodies[1].as_bytes()).as_deref(),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(body_model(bodies[2].as_bytes()).as_deref(), Some("outer"));
    }

    #[test]
    fn a_body_that_is_not_an_object_names_no_model() {
        for body in [
            "",
            "[]",
            r#"["model","x"]"#,
            "model=gpt-4o",
            r#""model""#,
            "{",
            r#"{"model""#,
        ] {
            assert_eq!(body_model(body.as_bytes()), None, "{body}");
        }
        assert_eq!(body_model(&[0xff, 0xfe]), None);
    }

    #[test]
    fn the_scan_stops_at_the_model_and_does_not_judge_the_rest() {
        // A body cut after its model still says which model it asked for.
        let cut = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"the upstream will"#;
        assert_eq!(body_model(cut.as_bytes()).as_deref(), Some("gpt-4o"));
        // A model after an unclosed value is never reached.
        assert_eq!(
            body_model(br#"{"messages":[{"content":"x"},"model":"m"}"#),
            None
        );
    }
}
