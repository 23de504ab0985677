//! Which quick fixes to offer for a diagnosed failure, best first, so that one keystroke
//! repairs the common 400s. Only fixes that would change this request are offered.

use serde_json::{Map, Value};

use super::suggest_families as families;
use super::{apply_fix, params, tool_results, turns, EditableRequest, QuickFix};
use crate::capture::HeaderList;
use crate::llm::{DiagnosisKind, Dialect};

/// What is known about the failure besides its kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixContext {
    /// The model of the most recent exchange that succeeded: the best guess for a model the
    /// upstream does not know, or one the agent left out.
    pub last_good_model: Option<String>,
    /// The upstream's own error message, for what the diagnosis kind does not carry (whether
    /// a context overflow is about `max_tokens`, whether it names `tool_choice`).
    pub upstream_message: Option<String>,
}

/// The fixes for `kind` that apply to this request body, best first.
pub fn suggest_fixes(
    kind: &DiagnosisKind,
    dialect: Dialect,
    body: &[u8],
    context: &FixContext,
) -> Vec<QuickFix> {
    if dialect == Dialect::Gemini {
        return gemini_fixes(kind);
    }
    let raw_message = context.upstream_message.as_deref().unwrap_or_default();
    let message = raw_message.to_ascii_lowercase();
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let empty = Map::new();
    let object = parsed.as_ref().and_then(Value::as_object);
    let fields = object.unwrap_or(&empty);

    let mut fixes = Vec::new();
    if message.contains("tool_choice") && params::tool_choice_is_forced(fields) {
        fixes.push(QuickFix::SetToolChoiceAuto);
    }
    match kind {
        DiagnosisKind::Auth | DiagnosisKind::RateLimit => return Vec::new(),
        DiagnosisKind::ContextLength { limit, requested } => {
            let output_limit = is_about_output_limit(&message);
            let drop = (!output_limit)
                .then(|| turns_to_drop(dialect, fields, body.len(), *limit, *requested))
                .flatten()
                .map(|turns| QuickFix::DropOldestTurns { turns });
            let cap = (output_limit || mentions_max_tokens(&message))
                .then(|| capped_max_tokens(dialect, fields, *limit, *requested, output_limit))
                .flatten()
                .map(|max| QuickFix::CapMaxTokens { max });
            // When the prompt alone fits, a smaller answer budget loses less than turns.
            let prompt_fits = families::prompt_tokens(raw_message)
                .zip(*limit)
                .is_some_and(|(prompt, limit)| prompt < limit);
            if prompt_fits {
                fixes.extend(cap.into_iter().chain(drop));
            } else {
                fixes.extend(drop.into_iter().chain(cap));
            }
        }
        // A message naming call ids none of which this body holds is about another request.
        DiagnosisKind::ToolPairing if !families::named_ids_present(raw_message, body) => {}
        DiagnosisKind::ToolPairing => {
            let (orphans, missing) = tool_results::pairing_problems(dialect, fields);
            let add = missing.then_some(QuickFix::AddMissingToolResults);
            let drop = missing.then_some(QuickFix::DropUnansweredToolCalls);
            let remove = orphans.then_some(QuickFix::RemoveOrphanToolResults);
            // The message says which side the upstream tripped on first.
            let about_orphans = [
                "unexpected",
                "must be a response",
                "corresponding `tool_use`",
                "no tool call found",
            ]
            .iter()
            .any(|marker| message.contains(marker));
            if about_orphans {
                fixes.extend(remove.into_iter().chain(add).chain(drop));
            } else {
                fixes.extend(add.into_iter().chain(remove).chain(drop));
            }
        }
        DiagnosisKind::UnsupportedParam { param: Some(param) } => {
            let (better, nested) = families::for_unsupported_param(fields, param, raw_message);
            fixes.extend(better);
            // A nested path the body does not hold is about some other request.
            let is_path = param.contains(['.', '[']) && !fields.contains_key(param.as_str());
            if !nested && !is_path {
                let name = param_to_remove(fields, param);
                fixes.extend(name.map(|name| QuickFix::RemoveParam { name }));
            }
        }
        DiagnosisKind::ConflictingParams { params } => {
            fixes.extend(families::for_conflicting_params(fields, params));
        }
        DiagnosisKind::UnsupportedToolChoice => {
            // Auto (offered above when forced) keeps the tools; else drop what was refused.
            fixes.push(QuickFix::RemoveParam {
                name: "tool_choice".to_string(),
            });
            if message.contains("thinking") {
                fixes.push(QuickFix::RemoveThinking);
            }
        }
        DiagnosisKind::ThinkingBlocks => fixes.push(QuickFix::RemoveThinking),
        DiagnosisKind::TooManyCacheControl { max } => fixes.push(families::for_cache_control(*max)),
        DiagnosisKind::EmptyContent => fixes.push(QuickFix::RemoveEmptyContent),
        DiagnosisKind::UnsupportedParam { param: None } => {}
        DiagnosisKind::InvalidToolSchema { .. } => {
            // Strict mode's extra rules ("'additionalProperties' is required to be supplied")
            // hold only while `strict` is on: turning it off makes the schema valid as it is.
            if message.contains("is required to be supplied") {
                fixes.extend(
                    families::strict_off(fields).map(|path| QuickFix::RemoveNestedField { path }),
                );
            }
            fixes.push(QuickFix::RepairToolSchemas);
        }
        DiagnosisKind::UnknownModel { model: refused } => {
            // The model the request names (or the error names) is the one just refused:
            // offering it back would only repeat the failure.
            let current = fields.get("model").and_then(Value::as_str);
            let model = context
                .last_good_model
                .as_deref()
                .filter(|good| Some(*good) != current && Some(*good) != refused.as_deref());
            if let (Some(model), Some(_)) = (model, object) {
                fixes.push(QuickFix::SetModel {
                    model: model.to_string(),
                });
            }
        }
        DiagnosisKind::MissingHeader { header } => fixes.extend(header_fix(header.as_deref())),
    }
    let mut offered: Vec<QuickFix> = Vec::new();
    for fix in fixes {
        if !offered.contains(&fix) && worth_offering(&fix, dialect, parsed.as_ref()) {
            offered.push(fix);
        }
    }
    offered
}

fn header_fix(header: Option<&str>) -> Option<QuickFix> {
    header.map(|name| QuickFix::AddHeader {
        name: name.to_string(),
        value: families::known_header_value(name)
            .unwrap_or_default()
            .to_string(),
    })
}

/// Gemini names its model in the path and nests its settings under `generationConfig`: the
/// body fixes know neither, and a fix that edits the wrong field is only a different 400.
/// A header a gateway asks for is the same in every dialect.
fn gemini_fixes(kind: &DiagnosisKind) -> Vec<QuickFix> {
    match kind {
        DiagnosisKind::MissingHeader { header } => {
            header_fix(header.as_deref()).into_iter().collect()
        }
        _ => Vec::new(),
    }
}

/// Whether the fix would change this body. Header fixes cannot be tried here (the body is
/// all we have); a model suggestion is never the current model (see above).
fn worth_offering(fix: &QuickFix, dialect: Dialect, body: Option<&Value>) -> bool {
    if matches!(fix, QuickFix::AddHeader { .. } | QuickFix::SetModel { .. }) {
        return true;
    }
    let Some(body) = body else {
        return false;
    };
    let mut trial = EditableRequest {
        headers: HeaderList::new(),
        body: body.clone(),
    };
    apply_fix(fix, dialect, &mut trial).is_ok_and(|outcome| outcome.changed)
}

fn is_about_output_limit(message: &str) -> bool {
    [
        "max_tokens is too large",
        "maximum allowed number of output tokens",
        "completion tokens",
    ]
    .iter()
    .any(|marker| message.contains(marker))
}

fn mentions_max_tokens(message: &str) -> bool {
    [
        "max_tokens",
        "max_completion_tokens",
        "max_output_tokens",
        "in the completion",
    ]
    .iter()
    .any(|marker| message.contains(marker))
}

/// How many of the oldest turns to drop to come under 90% of the limit. Each turn's tokens
/// are estimated as its bytes / 4, scaled so that the whole body comes to the upstream's own
/// count when it gave one (its tokenizer is the truth; bytes only say how the count splits
/// among messages).
fn turns_to_drop(
    dialect: Dialect,
    body: &Map<String, Value>,
    body_len: usize,
    limit: Option<u64>,
    requested: Option<u64>,
) -> Option<usize> {
    let sizes = turns::droppable_turn_bytes(dialect, body)?;
    if sizes.is_empty() {
        return None;
    }
    let Some(limit) = limit else {
        return Some(1);
    };
    let estimated_total = body_len as f64 / 4.0;
    let requested = requested.map_or(estimated_total, |tokens| tokens as f64);
    let excess = requested - limit as f64 * 0.9;
    let scale = if estimated_total > 0.0 {
        requested / estimated_total
    } else {
        1.0
    };
    let mut shed = 0.0;
    let mut turns = 0;
    for bytes in &sizes {
        if shed >= excess {
            break;
        }
        shed += *bytes as f64 / 4.0 * scale;
        turns += 1;
    }
    Some(turns.clamp(1, sizes.len()))
}

/// A `max_tokens` that fits: lowered by what the request is over the limit (which works both
/// for "input + max_tokens > context" and for "max_tokens > output limit", where the
/// requested count is max_tokens itself), or the stated output limit, or else half.
fn capped_max_tokens(
    dialect: Dialect,
    body: &Map<String, Value>,
    limit: Option<u64>,
    requested: Option<u64>,
    output_limit: bool,
) -> Option<u64> {
    let current = params::current_max_tokens(dialect, body);
    let max = match (current, limit, requested) {
        (Some(current), Some(limit), Some(requested)) if requested > limit => {
            current.checked_sub(requested - limit)?
        }
        (Some(current), Some(limit), _) if current > limit => limit,
        (Some(current), _, _) => current / 2,
        (None, Some(limit), _) if output_limit => limit,
        (None, _, _) => return None,
    };
    (max > 0 && current.is_none_or(|current| max < current)).then_some(max)
}

/// The field to remove for an unsupported parameter: the name itself when it is a top-level
/// field, or the top-level field a dotted path (`metadata.foo`) starts with.
fn param_to_remove(body: &Map<String, Value>, param: &str) -> Option<String> {
    let name = if body.contains_key(param) {
        param
    } else {
        param.split(['.', '[']).next()?
    };
    (body.contains_key(name) && !families::is_conversation(name)).then(|| name.to_string())
}
