//! Property tests over everything that reads bytes an upstream or an agent chose: the SSE
//! parser, the stream watcher, the dialect decoders and the assembler, the failure classifier
//! and the diagnosis of error messages. Arbitrary and mutated inputs in, no panic out, the same
//! answer whatever the chunking, and output bounded by the input and the limits.
//!
//! Case counts are modest (256 per property, fewer for the large fixtures) so `cargo test`
//! stays quick; `PROPTEST_CASES=100000 cargo test --test fuzz` runs a longer campaign.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

use llmscope::capture::{classify_failure, upstream_error_message, FailureClass};
use llmscope::llm::{
    decode_request, decode_response, diagnose, Dialect, ResponseAssembler, SseParser, StreamWatch,
};

const DIALECTS: [Dialect; 5] = [
    Dialect::OpenAiChat,
    Dialect::OpenAiResponses,
    Dialect::Anthropic,
    Dialect::Gemini,
    Dialect::Unknown,
];

const FIXTURES: [&str; 3] = [
    include_str!("../assets/fixtures/opencode-chat-turn.json"),
    include_str!("../assets/fixtures/claude-code-messages-turn.json"),
    include_str!("../assets/fixtures/gemini-cli-stream-turn.json"),
];

/// `cases` per property, unless `PROPTEST_CASES` asks for another number.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        // Failures are reported with their shrunk input; no regression files are written.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop::sample::select(DIALECTS.to_vec())
}

/// Pieces of real SSE streams, error bodies and line endings, so that random input reaches
/// past the first byte of the parsers.
fn sse_piece() -> impl Strategy<Value = Vec<u8>> {
    let tokens: Vec<&'static [u8]> = vec![
        b"data: ",
        b"data:",
        b"event: ",
        b"event: error",
        b"event: message_stop",
        b"event: response.completed",
        b": keep-alive",
        b"id: 7",
        b"retry: 10",
        b"\n",
        b"\r",
        b"\r\n",
        b"\n\n",
        b"[DONE]",
        b"{\"type\":\"message_stop\"}",
        b"{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
        b"{\"error\":{\"message\":\"boom\",\"code\":\"x\"}}",
        b"{\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}",
        b"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"read\",\"arguments\":\"{\\\"a\"}}]}}]}",
        b"{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}",
        b"{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\",\"input\":{}}}",
        b"{\"type\":\"response.output_text.delta\",\"delta\":\"y\"}",
        b"{\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":18446744073709551615}}}",
        b"{\"usage\":{\"prompt_tokens\":-1,\"completion_tokens\":1e999}}",
        "é中\u{1F600}".as_bytes(),
        b"\xff\xfe\xc3",
    ];
    prop_oneof![
        3 => prop::sample::select(tokens).prop_map(<[u8]>::to_vec),
        1 => prop::collection::vec(any::<u8>(), 0..16),
    ]
}

fn sse_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(sse_piece(), 0..48).prop_map(|pieces| pieces.concat())
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        sse_like_bytes(),
    ]
}

/// Split points for a chunking of some input.
fn cuts() -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), 0..12)
}

fn chunked<'a>(bytes: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    at.push(0);
    at.push(bytes.len());
    at.sort_unstable();
    at.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn sse_parser_gives_the_same_bounded_events_whatever_the_chunking(
        bytes in any_bytes(),
        cuts in cuts(),
        limit in prop_oneof![Just(8usize), Just(64), Just(8 * 1024 * 1024)],
    ) {
        let mut whole = SseParser::new(limit);
        let expected = whole.push(&bytes);
        let mut parts = SseParser::new(limit);
        let mut got = Vec::new();
        for chunk in chunked(&bytes, &cuts) {
            got.extend(parts.push(chunk));
        }
        prop_assert_eq!(&got, &expected);
        prop_assert_eq!(parts.has_partial_event(), whole.has_partial_event());
        let line_ends = bytes.iter().filter(|b| matches!(b, b'\n' | b'\r')).count();
        prop_assert!(expected.len() <= line_ends, "an event needs a line end");
        for event in &expected {
            prop_assert!(event.data.len() <= limit, "data over the limit");
            // Invalid UTF-8 reads as U+FFFD: three bytes out for one in, at most.
            prop_assert!(event.data.len() <= 3 * bytes.len(), "data larger than the input");
            // A name is one line, cut at the limit; lossy UTF-8 decoding may triple it.
            prop_assert!(event.event.as_ref().is_none_or(|e| e.len() <= 3 * limit));
        }
    }

    #[test]
    fn stream_watch_reaches_the_same_verdict_whatever_the_chunking(
        dialect in dialect(),
        bytes in any_bytes(),
        cuts in cuts(),
    ) {
        let mut whole = StreamWatch::new(dialect);
        whole.push(&bytes);
        let mut parts = StreamWatch::new(dialect);
        for chunk in chunked(&bytes, &cuts) {
            parts.push(chunk);
        }
        prop_assert_eq!(parts.verdict(), whole.verdict());
        let verdict = whole.verdict();
        let line_ends = bytes.iter().filter(|b| matches!(b, b'\n' | b'\r')).count() as u64;
        prop_assert!(verdict.events <= line_ends);
        let _ = verdict.problem();
    }

    #[test]
    fn response_assembler_is_total_and_ends_the_same_whatever_the_chunking(
        dialect in dialect(),
        bytes in any_bytes(),
        cuts in cuts(),
    ) {
        let mut whole = ResponseAssembler::new(dialect);
        whole.push(&bytes);
        whole.finish();
        let mut parts = ResponseAssembler::new(dialect);
        for chunk in chunked(&bytes, &cuts) {
            parts.push(chunk);
            // The live view takes a snapshot after every chunk.
            let _ = parts.snapshot();
        }
        parts.finish();
        prop_assert_eq!(parts.snapshot(), whole.snapshot());
    }

    #[test]
    fn decoders_take_any_bytes(
        dialect in dialect(),
        bytes in any_bytes(),
        content_type in prop::sample::select(vec![
            None,
            Some("application/json"),
            Some("text/event-stream; charset=utf-8"),
            Some("TEXT/EVENT-STREAM"),
        ]),
    ) {
        let _ = decode_request(dialect, &bytes);
        let _ = decode_response(dialect, content_type, &bytes);
        let _ = llmscope::llm::request_model("/v1/chat/completions", &bytes);
        let _ = llmscope::llm::request_model(&String::from_utf8_lossy(&bytes), &bytes);
    }

    #[test]
    fn classifier_takes_any_status_and_body(
        status in any::<u16>(),
        body in any_bytes(),
        stream in prop::option::of((dialect(), any_bytes())),
    ) {
        let verdict = stream.map(|(dialect, bytes)| {
            let mut watch = StreamWatch::new(dialect);
            watch.push(&bytes);
            watch.verdict().clone()
        });
        let failure = classify_failure(status, &body, verdict.as_ref());
        if (200..300).contains(&status) {
            if let Some(failure) = &failure {
                prop_assert!(matches!(
                    failure.class,
                    FailureClass::StreamError | FailureClass::ErrorIn200
                ));
            }
        } else {
            prop_assert_eq!(failure.map(|f| f.class), Some(FailureClass::HttpError(status)));
        }
        if let Some(message) = upstream_error_message(&body) {
            prop_assert!(message.len() <= body.len(), "the message comes from the body");
        }
    }
}

/// Every JSON pointer in `value`, parents before children.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(fields) => {
            for (key, child) in fields {
                let key = key.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (n, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{n}"), out);
            }
        }
        _ => {}
    }
}

/// JSON of every type, to put where a decoder expects another.
fn replacement() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z_]{0,12}".prop_map(Value::String),
        Just(Value::String("\u{0}\u{202e}\u{1F600}".into())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The fixtures parsed once, with the list of their nodes.
fn parsed_fixtures() -> Vec<(Value, Vec<String>)> {
    FIXTURES
        .iter()
        .map(|text| {
            let value: Value = serde_json::from_str(text).expect("fixture is JSON");
            let mut all = Vec::new();
            pointers(&value, String::new(), &mut all);
            (value, all)
        })
        .collect()
}

#[derive(Debug, Clone)]
enum ByteEdit {
    Flip(Index, u8),
    Truncate(Index),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| ByteEdit::Flip(i, b)),
        any::<Index>().prop_map(ByteEdit::Truncate),
        (any::<Index>(), sse_piece()).prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| ByteEdit::Delete(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &ByteEdit) {
    match edit {
        ByteEdit::Flip(at, byte) if !bytes.is_empty() => {
            let at = at.index(bytes.len());
            bytes[at] ^= byte | 1;
        }
        ByteEdit::Flip(..) => {}
        ByteEdit::Truncate(at) => bytes.truncate(at.index(bytes.len() + 1)),
        ByteEdit::Insert(at, piece) => {
            let at = at.index(bytes.len() + 1);
            bytes.splice(at..at, piece.iter().copied());
        }
        ByteEdit::Delete(at, n) => {
            let at = at.index(bytes.len() + 1);
            let end = (at + n).min(bytes.len());
            bytes.drain(at..end);
        }
    }
}

proptest! {
    // Each case decodes a 30-80 KB agent body in every dialect.
    #![proptest_config(config(96))]

    #[test]
    fn decoders_take_agent_bodies_with_fields_of_the_wrong_type(
        fixture in 0..FIXTURES.len(),
        edits in prop::collection::vec((any::<Index>(), replacement()), 1..6),
    ) {
        let (mut value, nodes) = parsed_fixtures().swap_remove(fixture);
        for (at, new) in edits {
            let pointer = &nodes[at.index(nodes.len())];
            if pointer.is_empty() {
                value = new;
            } else if let Some(slot) = value.pointer_mut(pointer) {
                *slot = new;
            }
        }
        let bytes = serde_json::to_vec(&value).expect("serialises");
        for dialect in DIALECTS {
            let _ = decode_request(dialect, &bytes);
            let _ = decode_response(dialect, Some("application/json"), &bytes);
        }
    }

    #[test]
    fn decoders_take_agent_bodies_with_damaged_bytes(
        fixture in 0..FIXTURES.len(),
        edits in prop::collection::vec(byte_edit(), 1..8),
    ) {
        let mut bytes = FIXTURES[fixture].as_bytes().to_vec();
        for edit in &edits {
            apply(&mut bytes, edit);
        }
        for dialect in DIALECTS {
            let _ = decode_request(dialect, &bytes);
            let _ = decode_response(dialect, None, &bytes);
        }
    }
}

/// Words and numbers from the messages the diagnosis knows, to build messages that get past
/// its first markers.
fn message_piece() -> impl Strategy<Value = String> {
    let words = vec![
        "This model's maximum context length is ",
        "maximum context length",
        "context_length_exceeded",
        "prompt is too long: ",
        " tokens",
        " tokens > ",
        " + ",
        " > ",
        "128,000",
        "18446744073709551615",
        "99999999999999999999999",
        ",",
        "max_tokens is too large: ",
        "max_tokens",
        "Invalid model name passed in model=",
        "model: ",
        "is not a valid model",
        "model_not_found",
        "does not exist",
        "Unrecognized request argument supplied: ",
        "Extra inputs are not permitted",
        "'loc': ('body', 'tools', 0, ",
        "\"loc\":[\"body\",",
        "loc\\\"",
        "tool_use ids were found without tool_result blocks immediately after",
        "messages.1: ",
        "must be followed by tool messages",
        "tool_call_id",
        "Invalid schema for function ",
        "invalid_function_parameters",
        "Incorrect API key provided",
        "authentication_error",
        "exceeded your current quota",
        "'",
        "\"",
        "`",
        "\\",
        "(",
        ")",
        "[",
        "]",
        ":",
        "\n",
        "é",
        "\u{1F600}",
        "\u{0}",
    ];
    prop_oneof![
        4 => prop::sample::select(words).prop_map(str::to_string),
        1 => any::<String>(),
        1 => any::<u64>().prop_map(|n| n.to_string()),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn diagnosis_takes_any_message(
        status in prop::option::of(any::<u16>()),
        pieces in prop::collection::vec(message_piece(), 0..24),
    ) {
        let message = pieces.concat();
        if let Some(diagnosis) = diagnose(status, &message) {
            let _ = format!("{diagnosis:?}");
        }
    }

    #[test]
    fn diagnosis_takes_arbitrary_strings(
        status in prop::option::of(any::<u16>()),
        message in any::<String>(),
    ) {
        let _ = diagnose(status, &message);
    }
}
