//! Fields the dialects spell alike: the text of a content field, OpenAI message content
//! parts, and tool definitions.

use super::json::Json;
use crate::llm::{Part, ToolDef};

/// The readable text of a content field: a string, a text block, or a list of them one per
/// line. Blocks that carry no text (images, files) show as `[type]`, so that a tool result
/// made of an image does not read as empty.
pub(super) fn text_of(content: &Json) -> String {
    match content {
        Json::String(text) => text.clone(),
        Json::Array(blocks) => blocks.iter().map(text_of).collect::<Vec<_>>().join("\n"),
        Json::Object(_) => match content.str("text") {
            Some(text) => text.to_string(),
            None => format!("[{}]", content.str("type").unwrap_or("?")),
        },
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// The parts of an OpenAI message content (chat or Responses): a string, or typed parts of
/// which those with `text` (or a `refusal`) are text and the rest are named by their type.
pub(super) fn content_parts(content: Option<&Json>) -> Vec<Part> {
    match content {
        Some(Json::String(text)) if !text.is_empty() => vec![Part::Text(text.clone())],
        Some(Json::Array(parts)) => parts
            .iter()
            .map(|part| {
                match part
                    .as_str()
                    .or_else(|| part.str("text"))
                    .or_else(|| part.str("refusal"))
                {
                    Some(text) => Part::Text(text.to_string()),
                    None => Part::Other(part.str("type").unwrap_or("unknown").to_string()),
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A tool definition; tools without a name (built-in tools such as `web_search_preview`) are
/// named by their type.
pub(super) fn tool_def(tool: &Json, name: Option<&str>, parameters: Option<&Json>) -> ToolDef {
    ToolDef {
        name: name
            .or_else(|| tool.str("type"))
            .unwrap_or_default()
            .to_string(),
        description: tool
            .str("description")
            .or_else(|| tool.at(&["function", "description"])?.as_str())
            .unwrap_or_default()
            .to_string(),
        parameters: parameters.map(Json::to_string).unwrap_or_default(),
    }
}
