//! The demo's script: which requests the scripted agent sends, read from
//! `assets/demo/script.json`, with the headers of the real agents in `assets/fixtures/` and the
//! bodies filled in by [`super::template`].

use http::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

use super::template::{self, Fill, TemplateError};
use crate::mock::VALIDATE_HEADER;

const SCRIPT: &str = include_str!("../../assets/demo/script.json");
const OPENCODE_TURN: &str = include_str!("../../assets/fixtures/opencode-chat-turn.json");
const CLAUDE_CODE_TURN: &str = include_str!("../../assets/fixtures/claude-code-messages-turn.json");

/// Fake credentials for the demo; they are redacted in the record like real ones.
const DEMO_BEARER: &str = "Bearer sk-demo-not-a-real-key";
const DEMO_API_KEY: &str = "sk-ant-demo-not-a-real-key";

/// The header the mock reads when the model is a real name (see `src/mock/behavior.rs`).
const MOCK_HEADER: &str = "x-mock-behavior";

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("the demo script is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("demo step {step:?}: {problem}")]
    Step { step: String, problem: String },
}

/// The part a step plays in the story the demo tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Story {
    /// An ordinary turn.
    #[default]
    Turn,
    /// The failure the user fixes on screen while the agent waits.
    Held,
    /// A failure whose fix loses nothing, which auto-fix (on in the demo) repairs with no key
    /// press.
    AutoFix,
}

/// One request of the scripted session, ready to send.
#[derive(Debug, Clone)]
pub struct DemoStep {
    pub label: String,
    pub story: Story,
    pub method: http::Method,
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Vec<u8>,
}

/// The whole scripted session.
#[derive(Debug, Clone)]
pub struct DemoScript {
    pub steps: Vec<DemoStep>,
}

#[derive(Deserialize)]
struct ScriptFile {
    conversation: Vec<Value>,
    steps: Vec<StepSpec>,
}

#[derive(Deserialize)]
struct StepSpec {
    label: String,
    /// Whose headers the request carries: `opencode` or `claude-code`.
    agent: String,
    path: Option<String>,
    model: String,
    /// The mock behaviour, sent as `x-mock-behavior`, for a step whose model is a real name.
    mock: Option<String>,
    /// The defect the mock refuses until it is fixed, sent as `x-mock-validate`.
    validate: Option<String>,
    stream: bool,
    #[serde(default)]
    story: Story,
    body: Value,
}

#[derive(Deserialize)]
struct Fixture {
    method: String,
    path: String,
    headers: serde_json::Map<String, Value>,
}

impl DemoScript {
    /// The script shipped in the binary.
    pub fn builtin() -> Result<Self, ScriptError> {
        let file: ScriptFile = serde_json::from_str(SCRIPT)?;
        let steps = file
            .steps
            .into_iter()
            .map(|spec| build_step(spec, &file.conversation))
            .collect::<Result<_, _>>()?;
        Ok(Self { steps })
    }
}

fn build_step(spec: StepSpec, conversation: &[Value]) -> Result<DemoStep, ScriptError> {
    let problem = |problem: &dyn std::fmt::Display| ScriptError::Step {
        step: spec.label.clone(),
        problem: problem.to_string(),
    };
    let fixture: Fixture = serde_json::from_str(match spec.agent.as_str() {
        "opencode" => OPENCODE_TURN,
        "claude-code" => CLAUDE_CODE_TURN,
        _ => return Err(problem(&"unknown agent (opencode, claude-code)")),
    })?;
    let fill = Fill {
        model: &spec.model,
        conversation,
    };
    let mut body = template::fill(&spec.body, &fill).map_err(|e: TemplateError| problem(&e))?;
    let object = body
        .as_object_mut()
        .ok_or_else(|| problem(&"body must be a JSON object"))?;
    object.insert("model".into(), Value::String(spec.model.clone()));
    object.insert("stream".into(), Value::Bool(spec.stream));
    let mut headers: Vec<_> = fixture
        .headers
        .iter()
        .filter_map(|(name, value)| demo_header(name, value.as_str()?))
        .collect();
    if let Some(mock) = &spec.mock {
        let value = HeaderValue::from_str(mock).map_err(|e| problem(&e))?;
        headers.push((HeaderName::from_static(MOCK_HEADER), value));
    }
    if let Some(check) = &spec.validate {
        let value = HeaderValue::from_str(check).map_err(|e| problem(&e))?;
        headers.push((HeaderName::from_static(VALIDATE_HEADER), value));
    }
    let method = fixture
        .method
        .parse()
        .map_err(|_| problem(&"invalid method"))?;
    Ok(DemoStep {
        label: spec.label,
        story: spec.story,
        method,
        path: spec.path.unwrap_or(fixture.path),
        headers,
        body: serde_json::to_vec(&body)?,
    })
}

/// The fixture's header with demo credentials in place of the redaction marks; connection
/// management is left to the HTTP client.
fn demo_header(name: &str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    let lower = name.to_ascii_lowercase();
    if matches!(lower.as_str(), "connection" | "content-length" | "host") {
        return None;
    }
    let value = match (lower.as_str(), value) {
        ("authorization", "<redacted>") => DEMO_BEARER,
        ("x-api-key", "<redacted>") => DEMO_API_KEY,
        (_, value) => value,
    };
    Some((
        HeaderName::from_bytes(name.as_bytes()).ok()?,
        HeaderValue::from_str(value).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script() -> DemoScript {
        DemoScript::builtin().expect("script builds")
    }

    fn claude_code_step(steps: &[DemoStep]) -> &DemoStep {
        steps
            .iter()
            .find(|s| s.path.starts_with("/v1/messages"))
            .expect("a Claude Code step")
    }

    #[test]
    fn one_step_is_the_held_failure_and_turns_follow_it() {
        let steps = script().steps;
        let held: Vec<_> = steps.iter().filter(|s| s.story == Story::Held).collect();
        assert_eq!(held.len(), 1);
        let model = crate::llm::request_model("/v1/chat/completions", &held[0].body);
        assert_eq!(model.as_deref(), Some("mock-400-model"));
        let at = steps.iter().position(|s| s.story == Story::Held);
        assert!(
            at.is_some_and(|at| at + 1 < steps.len()),
            "a turn after the fix"
        );
    }

    #[test]
    fn bodies_are_sized_like_real_traffic_and_read_like_a_session() {
        let steps = script().steps;
        let opencode = steps
            .iter()
            .find(|s| s.label.starts_with("turn 1"))
            .expect("turn 1");
        assert!(
            (25_000..45_000).contains(&opencode.body.len()),
            "{}",
            opencode.body.len()
        );
        let claude = claude_code_step(&steps);
        assert!(
            (65_000..100_000).contains(&claude.body.len()),
            "{}",
            claude.body.len()
        );
        let text = String::from_utf8_lossy(&opencode.body);
        assert!(text.contains("--json"), "the user's request");
        assert!(!text.contains("sentences files"), "no filler words");
    }

    #[test]
    fn steps_carry_real_headers_with_demo_keys() {
        let steps = script().steps;
        let claude = claude_code_step(&steps);
        let header = |n: &str| {
            claude
                .headers
                .iter()
                .find(|(name, _)| name.as_str() == n)
                .map(|(_, v)| v.to_str().unwrap_or_default().to_string())
        };
        assert_eq!(header("x-api-key").as_deref(), Some(DEMO_API_KEY));
        assert_eq!(header("anthropic-version").as_deref(), Some("2023-06-01"));
    }
}
