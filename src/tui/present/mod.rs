//! Pure builders from a record or a live exchange to styled lines: the raw and LLM readings of
//! a request and a reply, the request diff, the editable request text, units, and the TUI's
//! doors to the LLM decoders and the quick-fix engine.
//!
//! Depends only on `capture`, `llm` and `fix` (and ratatui's text types), never on the
//! screen's state, so every builder is tested with hand-made values.

pub mod body;
pub mod conversation_text;
pub mod diff;
pub mod fix_adapter;
pub mod llm_adapter;
pub mod pane_text;
pub mod request;
pub mod request_text;
pub mod response;
pub mod turn_diff;
pub mod units;
pub mod wrap;
