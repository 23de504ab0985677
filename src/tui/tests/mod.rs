//! The TUI's scenario tests (synthetic capture events and keys through `update`, then the
//! screen a user would read) and the helpers every layer's own tests share.

mod auto_fix_scenarios;
mod conversation_scenarios;
mod conversation_view_scenarios;
mod editor_scenarios;
mod fix_scenarios;
mod forward_scenarios;
mod gateway_scenarios;
mod gemini_scenarios;
mod history_scenarios;
mod intercept_scenarios;
mod model_scenarios;
mod resend_scenarios;
mod retry_loop_scenarios;
mod scenarios;
mod session_end_scenarios;
pub(crate) mod support;
pub(crate) mod test_util;
mod wrap_scenarios;
