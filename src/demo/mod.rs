//! `llmscope demo`: the whole product with no API key and no network. The mock upstream
//! plays the LLM gateway, and a scripted agent plays a short coding session through the proxy,
//! with the failures llmscope exists for.

mod agent;
mod script;

pub use agent::{run_script, StepOutcome};
pub use script::{DemoScript, DemoStep, ScriptError};
