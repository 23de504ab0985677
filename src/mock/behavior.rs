//! What the mock does with a request, chosen from the request alone so that a test, the
//! benchmark and the demo script it by the model name they send.

use std::fmt;

use serde_json::Value;

use super::request::header;
use super::ReceivedRequest;

/// A model naming the checks of [`MockBehavior::Validate`]: `mock-validate:empty-content`.
pub const VALIDATE_MODEL_PREFIX: &str = "mock-validate:";

/// One scripted upstream behaviour. The name in brackets is the `model` (or `x-mock-behavior`
/// header value) that selects it; see [`MockBehavior::from_request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MockBehavior {
    /// `mock-ok`: a normal reply in the request's dialect, streamed when the body asks for it.
    /// Also what any unknown model gets.
    Ok,
    /// `mock-tool`: a `read` tool call with `{"filePath":"src/main.rs"}`, streamed or not.
    Tool,
    /// `mock-slow-stream`: always a stream, 20 events 50 ms apart.
    SlowStream,
    /// `mock-gated`: always a stream; the first event goes at once, the rest after
    /// [`MockUpstream::release_gate`](super::MockUpstream::release_gate) (or 30 s).
    Gated,
    /// `mock-400-context`: context length exceeded, in OpenAI's or Anthropic's words.
    ContextLength400,
    /// `mock-400-param`: LiteLLM's "Unrecognized request argument supplied".
    UnsupportedParam400,
    /// `mock-400-model`: LiteLLM's invalid model name, naming the requested model.
    InvalidModel400,
    /// `mock-400-tool`: tool calls not followed by their results.
    ToolPairing400,
    /// `mock-401`: bad API key.
    Unauthorized401,
    /// `mock-429`: rate limited.
    RateLimited429,
    /// `mock-500`: internal server error.
    ServerError500,
    /// `mock-529`: overloaded.
    Overloaded529,
    /// `mock-error-in-200`: HTTP 200 whose JSON body is an error object.
    ErrorIn200,
    /// `mock-sse-error`: always a stream; two normal events, then an error event, then a clean
    /// end of the HTTP body.
    SseError,
    /// `mock-sse-truncated`: always a stream; the first half of a normal stream, then a clean
    /// end of the HTTP body without the dialect's terminator.
    SseTruncated,
    /// `mock-reset`: an SSE head and two events, then a TCP reset.
    Reset,
    /// `mock-malformed`: bytes that are not HTTP, then close.
    Malformed,
    /// `mock-status-then-close`: a bare status line, then close.
    StatusThenClose,
    /// `mock-hang`: never answers; closes when the client does or after 120 s.
    Hang,
    /// `mock-stall`: always a stream; its head and first event, then silence until the client
    /// closes (or 120 s), like a provider that stops mid-generation.
    Stall,
    /// `mock-big`: 2 MiB of deterministic `application/octet-stream` bytes, or
    /// `x-mock-size: N` bytes; with `x-mock-cut: M`, chunked, only the first M of them, then a
    /// close.
    Big,
    /// `mock-huge-headers`: a normal JSON reply whose head carries 80 KiB of filler headers (or
    /// `x-mock-size: N` bytes), in headers of at most 8 KiB each.
    HugeHeaders,
    /// `mock-short-body`: a JSON reply whose Content-Length promises twice the bytes sent, then
    /// a close.
    ShortBody,
    /// `mock-long-body`: a JSON reply followed, in the same write and on a connection kept
    /// open, by bytes its Content-Length does not cover: a second, unasked-for response.
    LongBody,
    /// `mock-bad-chunk`: always a stream; one well-formed chunk, then a chunk-size line that is
    /// not hexadecimal, then close.
    BadChunk,
    /// `mock-reset-after-head`: the reply head (an SSE head when a stream was asked for, a JSON
    /// head with a Content-Length otherwise) and no body, then a TCP reset.
    ResetAfterHead,
    /// `mock-echo`, and any path starting with `/echo`: the request body back, with its
    /// Content-Type and Content-Encoding, and the method and target in `x-echo-method` and
    /// `x-echo-target`.
    Echo,
    /// `mock-validate`, `mock-validate:<checks>` and any request with an `x-mock-validate`
    /// header: 400 with a real provider's message while the request has the defect the
    /// header (or the model's suffix) names, a normal reply (as `mock-ok`) once it is fixed.
    /// See `validate.rs`.
    Validate,
}

impl MockBehavior {
    /// Every behaviour, for the demo's menu and for tests that sweep them all.
    pub const ALL: &'static [MockBehavior] = &[
        Self::Ok,
        Self::Tool,
        Self::SlowStream,
        Self::Gated,
        Self::ContextLength400,
        Self::UnsupportedParam400,
        Self::InvalidModel400,
        Self::ToolPairing400,
        Self::Unauthorized401,
        Self::RateLimited429,
        Self::ServerError500,
        Self::Overloaded529,
        Self::ErrorIn200,
        Self::SseError,
        Self::SseTruncated,
        Self::Reset,
        Self::Malformed,
        Self::StatusThenClose,
        Self::Hang,
        Self::Stall,
        Self::Big,
        Self::HugeHeaders,
        Self::ShortBody,
        Self::LongBody,
        Self::BadChunk,
        Self::ResetAfterHead,
        Self::Echo,
        Self::Validate,
    ];

    /// The model name that selects this behaviour.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "mock-ok",
            Self::Tool => "mock-tool",
            Self::SlowStream => "mock-slow-stream",
            Self::Gated => "mock-gated",
            Self::ContextLength400 => "mock-400-context",
            Self::UnsupportedParam400 => "mock-400-param",
            Self::InvalidModel400 => "mock-400-model",
            Self::ToolPairing400 => "mock-400-tool",
            Self::Unauthorized401 => "mock-401",
            Self::RateLimited429 => "mock-429",
            Self::ServerError500 => "mock-500",
            Self::Overloaded529 => "mock-529",
            Self::ErrorIn200 => "mock-error-in-200",
            Self::SseError => "mock-sse-error",
            Self::SseTruncated => "mock-sse-truncated",
            Self::Reset => "mock-reset",
            Self::Malformed => "mock-malformed",
            Self::StatusThenClose => "mock-status-then-close",
            Self::Hang => "mock-hang",
            Self::Stall => "mock-stall",
            Self::Big => "mock-big",
            Self::HugeHeaders => "mock-huge-headers",
            Self::ShortBody => "mock-short-body",
            Self::LongBody => "mock-long-body",
            Self::BadChunk => "mock-bad-chunk",
            Self::ResetAfterHead => "mock-reset-after-head",
            Self::Echo => "mock-echo",
            Self::Validate => "mock-validate",
        }
    }

    /// The behaviour a name selects, if it names one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|b| b.name() == name)
    }

    /// Chooses the behaviour for a request, first rule that applies:
    /// 1. a target whose path starts with `/echo` always echoes;
    /// 2. a JSON object body whose `model` string names a behaviour;
    /// 3. an `x-mock-behavior` header that names one (so bodies copied from real agents, with
    ///    real model names, can still be scripted);
    /// 4. an `x-mock-validate` header selects [`MockBehavior::Validate`] (the quick fixes may
    ///    change the model, so the check cannot hang on it);
    /// 5. otherwise [`MockBehavior::Ok`].
    pub fn from_request(request: &ReceivedRequest) -> Self {
        let json = serde_json::from_slice::<Value>(&request.body).ok();
        Self::select(&request.target, json.as_ref(), &request.headers)
    }

    /// [`from_request`](Self::from_request) for a body that was already parsed.
    pub(super) fn select(target: &str, json: Option<&Value>, headers: &[(String, String)]) -> Self {
        if target.starts_with("/echo") {
            return Self::Echo;
        }
        // Gemini names the model in the path (`/v1beta/models/mock-tool:generateContent`).
        let model = crate::llm::gemini_path_model(target)
            .or_else(|| json.and_then(|body| body.as_object()?.get("model")?.as_str()));
        // `mock-validate:<checks>` names the checks in the model, for agents that cannot
        // send a header of their own.
        let by_model = model.and_then(|model| {
            Self::from_name(model).or_else(|| {
                model
                    .starts_with(VALIDATE_MODEL_PREFIX)
                    .then_some(Self::Validate)
            })
        });
        let by_header =
            || header(headers, "x-mock-behavior").and_then(|v| Self::from_name(v.trim()));
        let validating = || header(headers, "x-mock-validate").map(|_| Self::Validate);
        by_model
            .or_else(by_header)
            .or_else(validating)
            .unwrap_or(Self::Ok)
    }
}

impl fmt::Display for MockBehavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, headers: &[(&str, &str)], body: &str) -> ReceivedRequest {
        ReceivedRequest {
            method: "POST".into(),
            target: target.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn names_round_trip() {
        for behavior in MockBehavior::ALL {
            assert_eq!(MockBehavior::from_name(behavior.name()), Some(*behavior));
        }
    }

    #[test]
    fn model_wins_over_header() {
        let r = request(
            "/v1/chat/completions",
            &[("X-Mock-Behavior", "mock-500")],
            r#"{"model":"mock-tool"}"#,
        );
        assert_eq!(MockBehavior::from_request(&r), MockBehavior::Tool);
    }

    #[test]
    fn header_selects_when_body_is_not_json_or_model_is_unknown() {
        let r = request("/v1/messages", &[("x-mock-behavior", "mock-hang")], "plain");
        assert_eq!(MockBehavior::from_request(&r), MockBehavior::Hang);
        let r = request(
            "/v1/messages",
            &[("x-mock-behavior", "mock-529")],
            r#"{"model":"claude-sonnet-4"}"#,
        );
        assert_eq!(MockBehavior::from_request(&r), MockBehavior::Overloaded529);
    }

    #[test]
    fn unknown_models_behave_like_ok() {
        let r = request("/v1/chat/completions", &[], r#"{"model":"gpt-4o"}"#);
        assert_eq!(MockBehavior::from_request(&r), MockBehavior::Ok);
        let r = request("/v1/chat/completions", &[], r#"{"model":42}"#);
        assert_eq!(MockBehavior::from_request(&r), MockBehavior::Ok);
    }

    #[test]
    fn validation_is_chosen_by_model_prefix_or_header() {
        let r = request(
            "/v1/messages",
            &[],
            r#"{"model":"mock-validate:empty-content"}"#,
        );
        assert_eq!(MockBehavior::from_request(&r), MockBehavior::Validate);
        let r = request(
            "/v1/messages",
            &[("x-mock-validate", "empty-content")],
            r#"{"model":"claude-sonnet-4-5"}"#,
        );
        assert_eq!(MockBehavior::from_request(&r), MockBehavior::Validate);
    }

    #[test]
    fn echo_path_wins_over_model() {
        let r = request("/echo/anything?x=1", &[], r#"{"model":"mock-hang"}"#);
        assert_eq!(MockBehavior::from_request(&r), MockBehavior::Echo);
    }
}
