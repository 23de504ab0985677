//! The quick fixes: one per real-world 400 that a user can repair by editing the request.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::capture::{is_secret_header, REDACTED};

/// One edit of a request. Serialized with a `fix` tag (`{"fix":"cap_max_tokens","max":4096}`)
/// because rules that hold one are stored as JSON with the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fix", rename_all = "snake_case")]
pub enum QuickFix {
    /// Drops the oldest user turns (with everything up to the next user message), keeping
    /// system prompts and never separating a tool call from its result.
    DropOldestTurns { turns: usize },
    /// Removes a top-level field of the body.
    RemoveParam { name: String },
    /// Lowers the output-token limit (`max_tokens`, `max_completion_tokens` or
    /// `max_output_tokens`, as the dialect names it) to at most `max`.
    CapMaxTokens { max: u64 },
    /// Removes tool results that answer no tool call where the API expects it.
    RemoveOrphanToolResults,
    /// Answers every unanswered tool call with a placeholder result right after it.
    AddMissingToolResults,
    /// Sets the body's `model`, adding it when the agent left it out.
    SetModel { model: String },
    /// Sets `tool_choice` to the dialect's "auto".
    SetToolChoiceAuto,
    /// Makes every tool's parameter schema an object schema with `properties`.
    RepairToolSchemas,
    /// Sets a header (replacing one of the same name).
    AddHeader { name: String, value: String },
    /// Moves a top-level field to the name the upstream asks for (`max_tokens` →
    /// `max_completion_tokens`; a dotted `to` such as `reasoning.effort` nests it).
    RenameParam { from: String, to: String },
    /// Removes a field below the top level, by a dotted path where `*` is every element of
    /// a list (`tools.*.defer_loading`).
    RemoveNestedField { path: String },
    /// Sends the request without extended thinking: removes `thinking` and every thinking
    /// block of the conversation.
    RemoveThinking,
    /// Keeps at most `max` `cache_control` breakpoints.
    RemoveExtraCacheControl { max: u64 },
    /// Removes empty text blocks and messages with no content (but a final assistant
    /// prefill and tool results).
    RemoveEmptyContent,
    /// Drops the tool calls that got no result (and a message left with nothing in it).
    DropUnansweredToolCalls,
}

impl QuickFix {
    /// Whether the fix loses nothing the model needs, so it may be applied with no one
    /// looking (`--auto-fix`): a parameter the upstream refuses, a `tool_choice` it does not
    /// support, a schema it cannot read. Dropping turns, placeholder results, another model
    /// or a smaller output budget change what the model sees or may say: a person decides.
    /// Renaming a field keeps its value; extra cache breakpoints only change what is cached;
    /// an empty message says nothing. Sending without thinking changes how the model works.
    pub fn is_lossless(&self) -> bool {
        match self {
            Self::RemoveParam { .. }
            | Self::SetToolChoiceAuto
            | Self::RepairToolSchemas
            | Self::RenameParam { .. }
            | Self::RemoveNestedField { .. }
            | Self::RemoveExtraCacheControl { .. }
            | Self::RemoveEmptyContent => true,
            Self::RemoveThinking
            | Self::DropUnansweredToolCalls
            | Self::DropOldestTurns { .. }
            | Self::CapMaxTokens { .. }
            | Self::RemoveOrphanToolResults
            | Self::AddMissingToolResults
            | Self::SetModel { .. }
            | Self::AddHeader { .. } => false,
        }
    }
}

impl fmt::Display for QuickFix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DropOldestTurns { turns: 1 } => f.write_str("drop the oldest turn"),
            Self::DropOldestTurns { turns } => write!(f, "drop the {turns} oldest turns"),
            Self::RemoveParam { name } => write!(f, "remove `{name}`"),
            Self::CapMaxTokens { max } => write!(f, "cap max_tokens at {max}"),
            Self::RemoveOrphanToolResults => f.write_str("remove tool results that answer no call"),
            Self::AddMissingToolResults => {
                f.write_str("add placeholder results for unanswered tool calls")
            }
            Self::SetModel { model } => write!(f, "set model to `{model}`"),
            Self::SetToolChoiceAuto => f.write_str("set tool_choice to auto"),
            Self::RepairToolSchemas => f.write_str("repair tool schemas (object with properties)"),
            Self::AddHeader { name, value } if value.is_empty() => {
                write!(f, "add header `{name}` (fill in its value)")
            }
            // A menu line is on screen and in screenshots: never show a credential.
            Self::AddHeader { name, .. } if is_secret_header(name) => {
                write!(f, "add header `{name}: {REDACTED}`")
            }
            Self::AddHeader { name, value } => write!(f, "add header `{name}: {value}`"),
            Self::RenameParam { from, to } => write!(f, "rename `{from}` to `{to}`"),
            Self::RemoveNestedField { path } => write_nested(f, path),
            Self::RemoveThinking => f.write_str("send without thinking (remove it and its blocks)"),
            Self::RemoveExtraCacheControl { max } => {
                write!(f, "keep at most {max} cache_control breakpoints")
            }
            Self::RemoveEmptyContent => f.write_str("remove empty messages and empty text blocks"),
            Self::DropUnansweredToolCalls => f.write_str("drop tool calls that got no result"),
        }
    }
}

/// "remove `cache_control` from `messages.*.content.*` (type thinking)", "remove every
/// `cache_control`": the field first, then where it goes from.
fn write_nested(f: &mut fmt::Formatter<'_>, path: &str) -> fmt::Result {
    let Some((parent, field)) = path.rsplit_once('.') else {
        return write!(f, "remove `{path}`");
    };
    if parent == "**" {
        return write!(f, "remove every `{field}`");
    }
    let variant = parent.split('.').find_map(|step| step.strip_prefix("*:"));
    let parent: Vec<&str> = parent
        .split('.')
        .map(|step| if step.starts_with("*:") { "*" } else { step })
        .collect();
    write!(f, "remove `{field}` from `{}`", parent.join("."))?;
    match variant {
        Some(variant) => write!(f, " (type {variant})"),
        None => Ok(()),
    }
}
