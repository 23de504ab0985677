//! One exchange as a curl command that replays its request against the upstream, for pasting
//! into a terminal or a bug report.
//!
//! The command is POSIX shell. Credentials are never in it: every secret header (and key-like
//! query parameter) becomes a shell variable such as `$OPENAI_API_KEY`, whatever the record
//! holds, so the reader supplies their own key. Choices:
//! - A text body goes in a quoted heredoc, so nothing in it is expanded. A heredoc always ends
//!   with a newline; that is harmless for JSON, so other text without a final newline is piped
//!   in with `printf '%s'` instead to keep the bytes exact. A binary body is read from a file
//!   the reader saves first (the HAR export holds it).
//! - The agent's `Accept-Encoding` becomes `--compressed`: the upstream still sends a
//!   compressed reply, but curl decodes it, so an error body is readable on the terminal.
//! - `Host` and `Content-Length` are left to curl, and hop-by-hop headers are dropped, as the
//!   proxy itself does when forwarding.

use super::target::Target;
use crate::capture::{is_secret_header, ExchangeRecord};
use crate::llm::Dialect;

/// Headers curl must set itself or that belong to one connection only.
const DROPPED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

const HEREDOC_DELIMITER: &str = "LLMSCOPE_BODY";

/// The curl command replaying `record`'s request against `upstream` (the session's upstream
/// base URL, with any path prefix).
pub fn curl_command(upstream: &str, record: &ExchangeRecord) -> String {
    let request = &record.start.request;
    let body = &request.body[..];
    let text_body = std::str::from_utf8(body)
        .ok()
        .filter(|text| !text.is_empty() && !text.contains('\0'));
    let mut vars = Vec::new();
    let mut flags = Vec::new();
    let mut header_args = Vec::new();
    // Gemini asks for a stream by its method, not by a body field.
    let mut streams = is_stream_request(body) || request.uri.contains(":streamGenerateContent");
    for (name, value) in &request.headers {
        let lower = name.to_ascii_lowercase();
        if DROPPED_HEADERS.contains(&lower.as_str()) {
            continue;
        }
        if lower == "accept-encoding" && !value.trim().eq_ignore_ascii_case("identity") {
            push_once(&mut flags, "--compressed".to_string());
            continue;
        }
        streams |= lower == "accept" && value.contains("text/event-stream");
        let word = if is_secret_header(name) {
            let (scheme, var) = secret_placeholder(name, value, record.start.dialect);
            push_once(&mut vars, var.clone());
            shell_word(&[Part::Text(format!("{name}: {scheme}")), Part::Var(var)])
        } else if value.is_empty() {
            // `Name:` would tell curl to remove the header; `Name;` sends it empty.
            single_quote(&format!("{name};"))
        } else {
            single_quote(&format!("{name}: {value}"))
        };
        header_args.push(format!("-H {word}"));
    }
    if streams {
        flags.insert(0, "-N".to_string());
    }
    match request.method.as_str() {
        "HEAD" if body.is_empty() => flags.push("--head".to_string()),
        method if method != if body.is_empty() { "GET" } else { "POST" } => {
            flags.push(format!("-X {}", single_quote(method)));
        }
        _ => {}
    }

    let target = Target::of(upstream, request);
    let url = url_word(&target, record.start.dialect, &mut vars);
    let mut preamble = Vec::new();
    if !vars.is_empty() {
        preamble.push(format!(
            "# llmscope records no credentials: set {} before running this.",
            vars.join(", ")
        ));
    }
    if Target::may_have_gone_elsewhere(upstream, request) {
        preamble.push(format!(
            "# This session sent some APIs' requests to other upstreams ({upstream}); if this \
             one was among them, change the URL."
        ));
    }
    if let Some(len) = record.start.request_body_unrecorded {
        preamble.push(format!(
            "# llmscope did not record this request's body ({len} bytes; its writer fell behind \
             a burst): add it before running this."
        ));
    }
    let mut tail = String::new();
    let mut lines = vec![std::iter::once("curl".to_string())
        .chain(flags)
        .chain([url])
        .collect::<Vec<_>>()
        .join(" ")];
    lines.extend(header_args);
    match text_body {
        None if body.is_empty() => {}
        None => {
            preamble.push(format!(
                "# The request body is binary ({} bytes): save it as body.bin first \
                 (the HAR export holds it in base64).",
                body.len()
            ));
            lines.push("--data-binary @body.bin".to_string());
        }
        Some(text) if text.ends_with('\n') || is_json(body) => {
            let delimiter = heredoc_delimiter(text);
            lines.push(format!("--data-binary @- <<'{delimiter}'"));
            let newline = if text.ends_with('\n') { "" } else { "\n" };
            tail = format!("\n{text}{newline}{delimiter}");
        }
        Some(text) => {
            preamble.push(format!("printf '%s' {} |", single_quote(text)));
            lines.push("--data-binary @-".to_string());
        }
    }
    let mut command = preamble.join("\n");
    if !command.is_empty() {
        command.push('\n');
    }
    command.push_str(&lines.join(" \\\n  "));
    command.push_str(&tail);
    command
}

/// The auth scheme kept before the placeholder (e.g. `Bearer `) and the variable to use.
fn secret_placeholder(name: &str, value: &str, dialect: Dialect) -> (String, String) {
    let scheme = value
        .split_once(' ')
        .map(|(scheme, _)| scheme)
        .filter(|scheme| {
            ["bearer", "basic", "digest", "token"].contains(&scheme.to_ascii_lowercase().as_str())
        });
    let bearer = scheme.is_some_and(|s| s.eq_ignore_ascii_case("bearer"));
    let var = match name.to_ascii_lowercase().as_str() {
        "authorization" if bearer && dialect == Dialect::Anthropic => "ANTHROPIC_API_KEY".into(),
        "authorization" if bearer => "OPENAI_API_KEY".into(),
        "x-api-key" => "ANTHROPIC_API_KEY".into(),
        "api-key" => "AZURE_OPENAI_API_KEY".into(),
        "x-goog-api-key" => "GEMINI_API_KEY".into(),
        _ => format!("LLMSCOPE_SECRET_{}", upper_snake(name)),
    };
    (scheme.map(|s| format!("{s} ")).unwrap_or_default(), var)
}

fn url_word(target: &Target, dialect: Dialect, vars: &mut Vec<String>) -> String {
    if !target.has_secret_params() {
        return single_quote(&target.url_with(|_| String::new()));
    }
    let mut parts = vec![Part::Text(target.base.clone())];
    for (i, param) in target.params.iter().enumerate() {
        let separator = if i == 0 { '?' } else { '&' };
        let mut text = format!("{separator}{}", param.raw_name);
        if param.secret {
            // Gemini's `?key=` is the key Gemini CLI and the SDKs read from GEMINI_API_KEY.
            let var = if dialect == Dialect::Gemini && param.name == "key" {
                "GEMINI_API_KEY".to_string()
            } else {
                format!("LLMSCOPE_SECRET_QUERY_{}", upper_snake(&param.name))
            };
            push_once(vars, var.clone());
            text.push('=');
            parts.push(Part::Text(text));
            parts.push(Part::Var(var));
        } else {
            if let Some(value) = &param.raw_value {
                text.push('=');
                text.push_str(value);
            }
            parts.push(Part::Text(text));
        }
    }
    shell_word(&parts)
}

/// A piece of one shell word: literal text, or a variable to expand.
enum Part {
    Text(String),
    Var(String),
}

/// One shell word from literal text and variables. Double quotes read best
/// (`"Authorization: Bearer $OPENAI_API_KEY"`); text that double quotes would change (`$`,
/// backquote, `\`, `"`, and `!` for interactive bash) is single-quoted piece by piece instead.
fn shell_word(parts: &[Part]) -> String {
    let plain = parts.iter().all(|part| match part {
        Part::Text(text) => !text.contains(['$', '`', '\\', '"', '!']),
        Part::Var(_) => true,
    });
    let mut word = String::new();
    if plain {
        word.push('"');
    }
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Text(text) if plain => word.push_str(text),
            Part::Text(text) => word.push_str(&single_quote(text)),
            Part::Var(var) => {
                let name_follows = matches!(parts.get(i + 1), Some(Part::Text(next))
                    if next.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'));
                let expansion = if name_follows {
                    format!("${{{var}}}")
                } else {
                    format!("${var}")
                };
                if plain {
                    word.push_str(&expansion);
                } else {
                    word.push_str(&format!("\"{expansion}\""));
                }
            }
        }
    }
    if plain {
        word.push('"');
    }
    word
}

fn single_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn upper_snake(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn heredoc_delimiter(body: &str) -> String {
    let mut delimiter = HEREDOC_DELIMITER.to_string();
    let mut n = 1;
    while body.contains(&delimiter) {
        delimiter = format!("{HEREDOC_DELIMITER}_{n}");
        n += 1;
    }
    delimiter
}

fn push_once(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn is_json(body: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

fn is_stream_request(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|json| json.get("stream")?.as_bool())
        .unwrap_or(false)
}

#[cfg(test)]
#[path = "curl_tests.rs"]
mod tests;
