use crate::capture::HeaderList;
use std::process::Command;

use bytes::Bytes;

use super::*;
use crate::export::test_fixtures::{finished, start};

const UPSTREAM: &str = "http://127.0.0.1:4000";

fn command_for(uri: &str, edit: impl FnOnce(&mut crate::capture::ExchangeStart)) -> String {
    let mut exchange = start(1, uri);
    edit(&mut exchange);
    curl_command(UPSTREAM, &finished(exchange, 200, Vec::new()))
}

fn set_body(exchange: &mut crate::capture::ExchangeStart, body: &[u8]) {
    exchange.request.body = Bytes::copy_from_slice(body);
}

/// What curl would receive: the command runs in `sh` with `curl` replaced by a function that
/// prints its arguments one per line between brackets, then its standard input.
fn run_with_fake_curl(command: &str, env: &[(&str, &str)]) -> (Vec<String>, String) {
    let fake = "curl() { for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done; \
                printf '%s' '--stdin--'; cat; }\n";
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{fake}{command}"))
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    let (args, stdin) = text.split_once("--stdin--").expect("marker printed");
    let args = args
        .lines()
        .map(|line| {
            line.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string()
        })
        .collect();
    (args, stdin.to_string())
}

#[test]
fn body_with_quotes_and_dollars_reaches_curl_unchanged() {
    let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"it's $HOME and `id` \\ \"q\""}]}"#;
    let command = command_for("/v1/chat/completions", |e| set_body(e, body));
    assert!(
        command.contains("--data-binary @- <<'LLMSCOPE_BODY'"),
        "{command}"
    );
    let (_, stdin) = run_with_fake_curl(&command, &[("HOME", "/nowhere")]);
    // The heredoc adds one final newline, which JSON ignores.
    assert_eq!(stdin, format!("{}\n", String::from_utf8_lossy(body)));
}

#[test]
fn plain_text_body_without_final_newline_is_sent_byte_for_byte() {
    let body = b"it's $1 -- LLMSCOPE_BODY\nno newline";
    let command = command_for("/echo", |e| set_body(e, body));
    let (args, stdin) = run_with_fake_curl(&command, &[]);
    assert_eq!(stdin.as_bytes(), body);
    assert!(args.contains(&"@-".to_string()));
}

#[test]
fn heredoc_delimiter_avoids_the_body() {
    let command = command_for("/echo", |e| set_body(e, b"LLMSCOPE_BODY\n"));
    assert!(command.contains("<<'LLMSCOPE_BODY_1'"), "{command}");
    let (_, stdin) = run_with_fake_curl(&command, &[]);
    assert_eq!(stdin, "LLMSCOPE_BODY\n");
}

#[test]
fn bearer_key_becomes_openai_api_key_placeholder() {
    let command = command_for("/v1/chat/completions", |_| {});
    assert!(
        command.contains(r#"-H "authorization: Bearer $OPENAI_API_KEY""#),
        "{command}"
    );
    let (args, _) = run_with_fake_curl(&command, &[("OPENAI_API_KEY", "sk-mine")]);
    assert!(
        args.contains(&"authorization: Bearer sk-mine".to_string()),
        "{args:?}"
    );
}

#[test]
fn placeholders_follow_the_dialect_and_header() {
    let command = command_for("/v1/messages", |e| {
        e.request.headers = HeaderList::from([
            ("Authorization", "Bearer <redacted>"),
            ("x-api-key", "<redacted>"),
            ("api-key", "<redacted>"),
            ("X-Custom-Token", "<redacted>"),
            ("Cookie", "session=<redacted>"),
        ]);
    });
    for expected in [
        r#"-H "Authorization: Bearer $ANTHROPIC_API_KEY""#,
        r#"-H "x-api-key: $ANTHROPIC_API_KEY""#,
        r#"-H "api-key: $AZURE_OPENAI_API_KEY""#,
        r#"-H "X-Custom-Token: $LLMSCOPE_SECRET_X_CUSTOM_TOKEN""#,
        r#"-H "Cookie: $LLMSCOPE_SECRET_COOKIE""#,
    ] {
        assert!(command.contains(expected), "{expected} not in {command}");
    }
    assert!(command.starts_with(
        "# llmscope records no credentials: set ANTHROPIC_API_KEY, AZURE_OPENAI_API_KEY, \
         LLMSCOPE_SECRET_X_CUSTOM_TOKEN, LLMSCOPE_SECRET_COOKIE before running this.\n"
    ));
}

#[test]
fn secret_header_is_a_placeholder_even_when_the_record_was_not_redacted() {
    let command = command_for("/v1/chat/completions", |e| {
        e.request.headers = HeaderList::from([
            ("authorization", "Bearer sk-PLANTED"),
            ("x-goog-api-key", "AIza-PLANTED"),
        ]);
    });
    assert!(!command.contains("PLANTED"), "{command}");
    assert!(command.contains("$GEMINI_API_KEY"), "{command}");
}

#[test]
fn streamed_request_gets_no_buffering() {
    let body = br#"{"model":"gpt-4o","stream":true,"messages":[]}"#;
    let command = command_for("/v1/chat/completions", |e| set_body(e, body));
    assert!(command.starts_with("# llmscope"), "{command}");
    assert!(command.contains("\ncurl -N 'http://127.0.0.1:4000/v1/chat/completions'"));
    let plain = command_for("/v1/chat/completions", |_| {});
    assert!(!plain.contains(" -N "), "{plain}");
}

#[test]
fn query_string_is_kept_and_key_parameters_become_variables() {
    let command = command_for("/v1/chat/completions?x=1&api-version=2024-10-21", |_| {});
    assert!(
        command.contains("'http://127.0.0.1:4000/v1/chat/completions?x=1&api-version=2024-10-21'")
    );
    let secret = command_for(
        "/v1beta/models/g:generateContent?key=AIza-PLANTED&alt=sse",
        |_| {},
    );
    assert!(!secret.contains("PLANTED"), "{secret}");
    let (args, _) = run_with_fake_curl(&secret, &[("GEMINI_API_KEY", "k1")]);
    assert!(
        args.contains(
            &"http://127.0.0.1:4000/v1beta/models/g:generateContent?key=k1&alt=sse".to_string()
        ),
        "{args:?}"
    );
    let other = command_for("/v1/chat/completions?key=AIza-PLANTED", |_| {});
    assert!(other.contains("$LLMSCOPE_SECRET_QUERY_KEY"), "{other}");
}

#[test]
fn a_gemini_stream_gets_no_buffering_and_its_key_variable() {
    let command = command_for(
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
        |e| {
            e.request.headers = HeaderList::from([
                ("content-type", "application/json"),
                ("x-goog-api-key", "<redacted>"),
            ]);
            set_body(
                e,
                br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#,
            );
        },
    );
    assert!(
        command.starts_with("# ") && command.contains("\ncurl -N "),
        "{command}"
    );
    let (args, _) = run_with_fake_curl(&command, &[("GEMINI_API_KEY", "AIza-k2")]);
    assert!(
        args.contains(&"x-goog-api-key: AIza-k2".to_string()),
        "{args:?}"
    );
}

#[test]
fn method_flag_only_when_curl_would_not_imply_it() {
    let post = command_for("/v1/chat/completions", |_| {});
    assert!(!post.contains("-X"), "{post}");
    let get = command_for("/v1/models", |e| {
        e.request.method = "GET".into();
        set_body(e, b"");
    });
    assert!(
        !get.contains("-X") && !get.contains("--data-binary"),
        "{get}"
    );
    let delete = command_for("/v1/files/f", |e| {
        e.request.method = "DELETE".into();
        set_body(e, b"");
    });
    assert!(delete.contains("curl -X 'DELETE' 'http://"), "{delete}");
}

#[test]
fn host_length_and_hop_by_hop_headers_are_left_to_curl() {
    let command = command_for("/v1/chat/completions", |e| {
        e.request.headers.push("Connection", "keep-alive");
        e.request.headers.push("Accept-Encoding", "gzip, br");
        e.request.headers.push("x-empty", "");
        e.request.headers.push("x-note", "Bob's");
    });
    let (args, _) = run_with_fake_curl(&command, &[]);
    assert!(!args
        .iter()
        .any(|a| a.starts_with("host:") || a.starts_with("content-length:")));
    assert!(!args
        .iter()
        .any(|a| a.starts_with("Connection") || a.starts_with("Accept-Encoding")));
    assert!(args.contains(&"--compressed".to_string()));
    assert!(args.contains(&"x-empty;".to_string()));
    assert!(args.contains(&"x-note: Bob's".to_string()));
}

#[test]
fn binary_body_is_read_from_a_file_the_reader_saves() {
    let command = command_for("/v1/audio/transcriptions", |e| {
        set_body(e, &[0xff, 0x00, 0x10])
    });
    assert!(command.contains("--data-binary @body.bin"), "{command}");
    assert!(command.contains("# The request body is binary (3 bytes)"));
}

#[test]
fn a_forward_mode_exchange_replays_against_the_host_it_was_sent_to() {
    let command = command_for("/v1/messages?beta=true", |e| {
        e.request.headers.push("host", "api.anthropic.com");
    });
    let (args, _) = run_with_fake_curl(&command, &[]);
    assert!(
        args.iter()
            .any(|a| a == "https://api.anthropic.com/v1/messages?beta=true"),
        "{args:?}"
    );
    assert!(
        !command.contains(UPSTREAM) && !command.contains("host: "),
        "{command}"
    );
}

#[test]
fn a_session_that_sent_some_apis_elsewhere_replays_against_its_main_upstream_and_says_so() {
    let label = "https://api.openai.com +2 by API";
    let record = finished(start(1, "/v1/chat/completions"), 200, Vec::new());
    let command = curl_command(label, &record);
    let (args, _) = run_with_fake_curl(&command, &[("OPENAI_API_KEY", "k")]);
    assert!(
        args.iter()
            .any(|a| a == "https://api.openai.com/v1/chat/completions"),
        "the label's URL, not the label: {args:?}"
    );
    assert!(
        command.contains("# This session sent some APIs' requests to other upstreams"),
        "{command}"
    );
    let forward = {
        let mut start = start(2, "/v1/messages");
        start.request.headers.push("host", "api.anthropic.com");
        finished(start, 200, Vec::new())
    };
    let command = curl_command("forward proxy", &forward);
    assert!(
        command.contains("https://api.anthropic.com/v1/messages") && !command.contains("# This"),
        "{command}"
    );
}
