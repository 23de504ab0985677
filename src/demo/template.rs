//! Fills in the `{{...}}` strings of the demo script: the system prompt and tool definitions
//! kept next to it, files of this repository as the agent's read results, and the first N
//! messages of the scripted conversation. Kept apart from the script so the texts stay
//! readable as plain files and the bodies stay the size of real traffic.

use serde_json::{Map, Value};

const OPENCODE_SYSTEM: &str = include_str!("../../assets/demo/opencode-system.md");
const OPENCODE_TOOLS: &str = include_str!("../../assets/demo/opencode-tools.json");

/// The files the scripted agent reads, as they are in this repository: a read result is
/// real code, and it changes when the code does.
const FILES: &[(&str, &str)] = &[
    ("src/main.rs", include_str!("../../src/main.rs")),
    (
        "src/cli/sessions.rs",
        include_str!("../../src/cli/sessions.rs"),
    ),
    ("src/cli/mod.rs", include_str!("../../src/cli/mod.rs")),
    ("README.md", include_str!("../../README.md")),
];

/// What a template needs besides the text itself.
pub struct Fill<'a> {
    /// The step's model, for `{{model}}`.
    pub model: &'a str,
    /// The scripted conversation, for `{{conversation:N}}` (spliced into the array it is in).
    pub conversation: &'a [Value],
}

/// Why a template could not be filled.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {0}")]
    Unknown(String),
    #[error("the conversation has {have} messages, {wanted} asked for")]
    Conversation { have: usize, wanted: usize },
    #[error("the tool definitions are not valid: {0}")]
    Tools(#[from] serde_json::Error),
}

/// `value` with every placeholder filled in.
pub fn fill(value: &Value, with: &Fill) -> Result<Value, TemplateError> {
    Ok(match value {
        Value::String(text) => match placeholder(text) {
            Some(name) => expand(name, with)?,
            None => value.clone(),
        },
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let spliced = item
                    .as_str()
                    .and_then(placeholder)
                    .and_then(|name| name.strip_prefix("conversation:"));
                match spliced {
                    Some(count) => out.extend(conversation(count, with)?),
                    None => out.push(fill(item, with)?),
                }
            }
            Value::Array(out)
        }
        Value::Object(fields) => {
            let mut out = Map::with_capacity(fields.len());
            for (name, item) in fields {
                out.insert(name.clone(), fill(item, with)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn placeholder(text: &str) -> Option<&str> {
    text.strip_prefix("{{")?.strip_suffix("}}")
}

fn expand(name: &str, with: &Fill) -> Result<Value, TemplateError> {
    if let Some(path) = name.strip_prefix("file:") {
        let (_, text) = FILES
            .iter()
            .find(|(known, _)| *known == path)
            .ok_or_else(|| TemplateError::Unknown(name.to_string()))?;
        return Ok(Value::String(numbered(path, text)));
    }
    Ok(match name {
        "model" => Value::String(with.model.to_string()),
        "system:opencode" => Value::String(OPENCODE_SYSTEM.to_string()),
        "system:claude-code" => Value::String(claude_code_system()),
        "tools:opencode" => serde_json::from_str(OPENCODE_TOOLS)?,
        "tools:opencode-subagent" => Value::Array(subagent_tools()?),
        "tools:claude-code" => Value::Array(claude_code_tools()?),
        _ => return Err(TemplateError::Unknown(name.to_string())),
    })
}

fn conversation(count: &str, with: &Fill) -> Result<Vec<Value>, TemplateError> {
    let wanted: usize = count
        .parse()
        .map_err(|_| TemplateError::Unknown(format!("conversation:{count}")))?;
    let have = with.conversation.len();
    let messages = with
        .conversation
        .get(..wanted)
        .ok_or(TemplateError::Conversation { have, wanted })?;
    messages.iter().map(|message| fill(message, with)).collect()
}

/// A file as opencode's read tool returns it: numbered lines inside `<file>`.
/// The most lines one read result shows. Agents page long files (opencode's `read` says how
/// to go on), and it keeps the demo's bodies the size of real turns as this repository grows.
const READ_LIMIT: usize = 500;

fn numbered(path: &str, text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    out.push_str("<file>\n");
    for (n, line) in text.lines().take(READ_LIMIT).enumerate() {
        out.push_str(&format!("{:05}| {line}\n", n + 1));
    }
    let total = text.lines().count();
    if total > READ_LIMIT {
        out.push_str(&format!(
            "\n(File has more lines. Use 'offset' parameter to read beyond line {READ_LIMIT})\n"
        ));
    } else {
        out.push_str(&format!("\n(End of file - total {total} lines)\n"));
    }
    out.push_str(&format!(
        "</file>\n<system-reminder>read /home/dev/llmscope/{path}</system-reminder>"
    ));
    out
}

/// The same instructions as Claude Code words them: its name, its issue tracker, CLAUDE.md.
fn claude_code_system() -> String {
    OPENCODE_SYSTEM
        .replace(
            "You are opencode, an interactive CLI tool",
            "You are an interactive CLI tool",
        )
        .replace(
            "https://github.com/sst/opencode/issues",
            "https://github.com/anthropics/claude-code/issues",
        )
        .replace("AGENTS.md", "CLAUDE.md")
        .replace("opencode", "Claude Code")
}

fn opencode_tools() -> Result<Vec<Value>, TemplateError> {
    Ok(serde_json::from_str(OPENCODE_TOOLS)?)
}

/// A subagent gets every tool but `task`: it may not start subagents of its own.
fn subagent_tools() -> Result<Vec<Value>, TemplateError> {
    Ok(opencode_tools()?
        .into_iter()
        .filter(|tool| tool.pointer("/function/name").and_then(Value::as_str) != Some("task"))
        .collect())
}

/// The same tools in Anthropic's shape, under Claude Code's names.
fn claude_code_tools() -> Result<Vec<Value>, TemplateError> {
    Ok(opencode_tools()?
        .iter()
        .filter_map(|tool| {
            let function = tool.get("function")?;
            let name = function.get("name")?.as_str()?;
            let name = match name {
                "webfetch" => "WebFetch".to_string(),
                "todowrite" => "TodoWrite".to_string(),
                "list" => "LS".to_string(),
                other => capitalized(other),
            };
            Some(serde_json::json!({
                "name": name,
                "description": function.get("description")?,
                "input_schema": function.get("parameters")?,
            }))
        })
        .collect())
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conversation_is_spliced_and_files_are_real() {
        let conversation = vec![json!({"role": "tool", "content": "{{file:src/main.rs}}"})];
        let with = Fill {
            model: "m",
            conversation: &conversation,
        };
        let body = json!({"model": "{{model}}", "messages": ["{{conversation:1}}", "end"]});
        let filled = fill(&body, &with).expect("fills");
        assert_eq!(filled["model"], "m");
        assert_eq!(filled["messages"].as_array().map(Vec::len), Some(2));
        let read = filled["messages"][0]["content"]
            .as_str()
            .unwrap_or_default();
        assert!(read.contains("00001| use clap::Parser;"), "{read}");
    }

    #[test]
    fn unknown_placeholders_and_short_conversations_are_errors() {
        let with = Fill {
            model: "m",
            conversation: &[],
        };
        assert!(fill(&json!("{{nope}}"), &with).is_err());
        assert!(fill(&json!(["{{conversation:3}}"]), &with).is_err());
    }

    #[test]
    fn claude_code_is_not_called_opencode() {
        let system = claude_code_system();
        assert!(
            system.contains("Get help with using Claude Code"),
            "{system}"
        );
        assert!(!system.contains("opencode"), "{system}");
    }

    #[test]
    fn claude_code_tools_have_input_schemas() {
        let tools = claude_code_tools().expect("tools");
        assert!(tools.iter().any(|t| t["name"] == "Bash"));
        assert!(tools.iter().all(|t| t["input_schema"]["type"] == "object"));
    }
}
