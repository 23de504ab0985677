//! `llmscope demo`: the whole product with no API key and no network. The mock upstream
//! plays the LLM gateway, and a scripted agent plays a short coding session through the proxy:
//! opencode working on this repository, one of whose calls fails and is held until the user
//! (or, headless, the demo itself) fixes it, after which the session goes on.

mod agent;
mod fixer;
mod script;
mod template;

pub use agent::{run_script, StepOutcome};
pub use fixer::fix_held_failures;
pub use script::{DemoScript, DemoStep, ScriptError, Story};
