//! Applying one quick fix to a request.

use super::unanswered_calls;
use super::{blocks, body_object, nested, params, tool_results, tool_schemas, turns};
use super::{EditableRequest, FixError, FixOutcome, QuickFix};
use crate::llm::Dialect;

/// Applies `fix` to `request` in place. A fix with nothing to change returns an unchanged
/// outcome saying why; an error means the request cannot be worked on (a body that is not a
/// JSON object, a header that cannot be sent).
pub fn apply_fix(
    fix: &QuickFix,
    dialect: Dialect,
    request: &mut EditableRequest,
) -> Result<FixOutcome, FixError> {
    if let QuickFix::AddHeader { name, value } = fix {
        return params::set_header(&mut request.headers, name, value);
    }
    let body = body_object(&mut request.body)?;
    Ok(match fix {
        QuickFix::DropOldestTurns { turns } => turns::drop_oldest_turns(dialect, body, *turns),
        QuickFix::RemoveParam { name } => params::remove_param(body, name),
        QuickFix::CapMaxTokens { max } => params::cap_max_tokens(dialect, body, *max),
        QuickFix::RemoveOrphanToolResults => tool_results::remove_orphan_results(dialect, body),
        QuickFix::AddMissingToolResults => tool_results::add_missing_results(dialect, body),
        QuickFix::SetModel { model } => params::set_model(body, model),
        QuickFix::SetToolChoiceAuto => params::set_tool_choice_auto(dialect, body),
        QuickFix::RepairToolSchemas => tool_schemas::repair_tool_schemas(dialect, body),
        QuickFix::AddHeader { .. } => FixOutcome::unchanged("a header fix leaves the body alone"),
        QuickFix::RenameParam { from, to } => params::rename_param(body, from, to),
        QuickFix::RemoveNestedField { path } => nested::remove(body, path),
        QuickFix::RemoveThinking => blocks::remove_thinking(body),
        QuickFix::RemoveExtraCacheControl { max } => blocks::remove_extra_cache_control(body, *max),
        QuickFix::RemoveEmptyContent => blocks::remove_empty_content(dialect, body),
        QuickFix::DropUnansweredToolCalls => unanswered_calls::drop_unanswered_calls(dialect, body),
    })
}

impl QuickFix {
    /// Whether the fix edits the body (and not only the headers): a request whose body no
    /// fix touched can be forwarded byte for byte.
    pub fn edits_body(&self) -> bool {
        !matches!(self, Self::AddHeader { .. })
    }
}
