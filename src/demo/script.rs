//! The demo's script: which requests the scripted agent sends, read from
//! `assets/demo/script.json` and built from the real request shapes in `assets/fixtures/`.

use http::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

const SCRIPT: &str = include_str!("../../assets/demo/script.json");
const OPENCODE_TURN: &str = include_str!("../../assets/fixtures/opencode-chat-turn.json");
const CLAUDE_CODE_TURN: &str = include_str!("../../assets/fixtures/claude-code-messages-turn.json");

/// Fake credentials for the demo; they are redacted in the record like real ones.
const DEMO_BEARER: &str = "Bearer sk-demo-not-a-real-key";
const DEMO_API_KEY: &str = "sk-ant-demo-not-a-real-key";

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("the demo script is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("demo step {step:?}: {problem}")]
    Step { step: String, problem: String },
}

/// One request of the scripted session, ready to send.
#[derive(Debug, Clone)]
pub struct DemoStep {
    pub label: String,
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
    steps: Vec<StepSpec>,
}

#[derive(Deserialize)]
struct StepSpec {
    label: String,
    fixture: Option<String>,
    path: Option<String>,
    model: String,
    stream: bool,
    body: Option<Value>,
}

#[derive(Deserialize)]
struct Fixture {
    method: String,
    path: String,
    headers: serde_json::Map<String, Value>,
    body: Value,
}

impl DemoScript {
    /// The script shipped in the binary.
    pub fn builtin() -> Result<Self, ScriptError> {
        let file: ScriptFile = serde_json::from_str(SCRIPT)?;
        let steps = file
            .steps
            .into_iter()
            .map(build_step)
            .collect::<Result<_, _>>()?;
        Ok(Self { steps })
    }
}

fn build_step(spec: StepSpec) -> Result<DemoStep, ScriptError> {
    let problem = |problem: &str| ScriptError::Step {
        step: spec.label.clone(),
        problem: problem.to_string(),
    };
    let (mut fixture, path) = match spec.fixture.as_deref() {
        Some(name) => {
            let fixture: Fixture = serde_json::from_str(match name {
                "opencode" => OPENCODE_TURN,
                "claude-code" => CLAUDE_CODE_TURN,
                _ => return Err(problem("unknown fixture (opencode, claude-code)")),
            })?;
            let path = spec.path.clone().unwrap_or_else(|| fixture.path.clone());
            (fixture, path)
        }
        None => {
            let body = spec
                .body
                .clone()
                .ok_or_else(|| problem("needs a fixture or a body"))?;
            let path = spec.path.clone().ok_or_else(|| problem("needs a path"))?;
            let fixture = Fixture {
                method: "POST".into(),
                path: path.clone(),
                headers: default_headers(&path),
                body,
            };
            (fixture, path)
        }
    };
    let object = fixture
        .body
        .as_object_mut()
        .ok_or_else(|| problem("body must be a JSON object"))?;
    object.insert("model".into(), Value::String(spec.model.clone()));
    object.insert("stream".into(), Value::Bool(spec.stream));
    let headers = fixture
        .headers
        .iter()
        .filter_map(|(name, value)| demo_header(name, value.as_str()?))
        .collect();
    let method = fixture
        .method
        .parse()
        .map_err(|_| problem("invalid method"))?;
    Ok(DemoStep {
        label: spec.label,
        method,
        path,
        headers,
        body: serde_json::to_vec(&fixture.body)?,
    })
}

/// Headers an SDK would send for an inline step.
fn default_headers(path: &str) -> serde_json::Map<String, Value> {
    let mut headers = serde_json::Map::new();
    headers.insert("Content-Type".into(), "application/json".into());
    headers.insert("User-Agent".into(), "llmscope-demo-agent/1".into());
    headers.insert("Authorization".into(), "<redacted>".into());
    if path.contains("/messages") {
        headers.insert("anthropic-version".into(), "2023-06-01".into());
    }
    headers
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

    #[test]
    fn builtin_script_builds_every_step() {
        let script = DemoScript::builtin().expect("script builds");
        assert!(script.steps.len() >= 8);
        let models: Vec<String> = script
            .steps
            .iter()
            .filter_map(|s| crate::llm::request_model(&s.body))
            .collect();
        for needed in [
            "mock-400-context",
            "mock-error-in-200",
            "mock-malformed",
            "mock-tool",
        ] {
            assert!(models.iter().any(|m| m == needed), "{needed} in the demo");
        }
    }

    #[test]
    fn fixture_steps_carry_real_headers_with_demo_keys() {
        let script = DemoScript::builtin().expect("script builds");
        let claude = script
            .steps
            .iter()
            .find(|s| s.path.starts_with("/v1/messages"))
            .expect("a Claude Code step");
        let header = |n: &str| {
            claude
                .headers
                .iter()
                .find(|(name, _)| name.as_str() == n)
                .map(|(_, v)| v.to_str().unwrap_or_default().to_string())
        };
        assert_eq!(header("x-api-key").as_deref(), Some(DEMO_API_KEY));
        assert_eq!(header("anthropic-version").as_deref(), Some("2023-06-01"));
        assert!(claude.body.len() > 70_000, "the real-size body");
    }
}
