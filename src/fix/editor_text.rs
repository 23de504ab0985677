//! The body as the editor shows it, and the editor's text read back with the position of the
//! first JSON error, for validation as the user types.

use serde_json::Value;

/// Where the editor's text stops being JSON, for the status line and the cursor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct EditorJsonError {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters (what the editor's cursor counts), not bytes.
    pub column: usize,
    /// What is wrong, without the position.
    pub message: String,
}

/// The body pretty-printed with two-space indents, keys in the order the agent sent them.
pub fn to_editor_text(body: &Value) -> String {
    // Serializing a `Value` cannot fail: its keys are strings and its numbers finite.
    serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string())
}

/// Reads the editor's text back, or says where it first goes wrong.
pub fn from_editor_text(text: &str) -> Result<Value, EditorJsonError> {
    serde_json::from_str(text).map_err(|error| json_error(text, &error))
}

/// The position of a serde_json error in `text`, with the column in characters. Shared with
/// the TUI's body check, which parses into `IgnoredAny` rather than a `Value`.
pub(crate) fn json_error(text: &str, error: &serde_json::Error) -> EditorJsonError {
    let line = error.line();
    let full = error.to_string();
    let position = format!(" at line {line} column {}", error.column());
    let message = full.strip_suffix(&position).unwrap_or(&full).to_string();
    EditorJsonError {
        line,
        column: char_column(text, line, error.column()),
        message,
    }
}

/// serde_json counts columns in bytes; a line with `é` or `→` before the error would put the
/// cursor too far right.
fn char_column(text: &str, line: usize, byte_column: usize) -> usize {
    match line
        .checked_sub(1)
        .and_then(|index| text.split('\n').nth(index))
    {
        Some(line_text) => line_text
            .char_indices()
            .take_while(|(at, _)| *at < byte_column)
            .count(),
        None => byte_column,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn editor_text_is_indented_by_two_spaces_in_the_agents_key_order() {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "a": 1});
        let text = to_editor_text(&body);
        assert!(text.starts_with("{\n  \"model\": \"m\",\n  \"messages\": [\n    {"));
        assert!(text.ends_with("  \"a\": 1\n}"));
        assert_eq!(from_editor_text(&text), Ok(body));
    }

    #[test]
    fn a_missing_comma_is_reported_at_the_next_keys_line_and_column() {
        let text = "{\n  \"model\": \"gpt-4o\"\n  \"stream\": true\n}";
        let error = from_editor_text(text).unwrap_err();
        assert_eq!((error.line, error.column), (3, 3));
        assert_eq!(error.message, "expected `,` or `}`");
        assert_eq!(error.to_string(), "line 3, column 3: expected `,` or `}`");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "{\"é→\": 1 \"x\": 2}";
        let error = from_editor_text(text).unwrap_err();
        assert_eq!(error.line, 1);
        // `"x"` is the 10th character; serde_json counts it as byte 13.
        assert_eq!(error.column, 10);
    }

    #[test]
    fn an_unfinished_body_is_an_error_at_its_end() {
        let error = from_editor_text("{\n  \"a\": [1,\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.message.contains("EOF"), "{}", error.message);
        assert!(from_editor_text("").is_err());
    }
}
