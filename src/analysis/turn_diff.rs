//! What one request of a conversation changed from the one before, read as a conversation:
//! messages added and removed, the system prompt, the tools, the model and parameters. Not a
//! text diff: a turn that adds a tool result reads as "+ tool result", not as forty changed
//! JSON lines.

use crate::llm::{DecodedRequest, Message, ToolDef};

/// The changes between two requests of one conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnDiff {
    /// Messages both requests start with.
    pub kept: usize,
    /// The earlier request's messages after the shared start (dropped, or rewritten).
    pub removed: Vec<Message>,
    /// The later request's messages after the shared start.
    pub added: Vec<Message>,
    pub system_changed: bool,
    pub tools_added: Vec<String>,
    pub tools_removed: Vec<String>,
    /// Tools offered by both whose description or schema changed.
    pub tools_changed: Vec<String>,
    /// `(name, before, after)`; `None` where a side does not have it. The model is one.
    pub params: Vec<(String, Option<String>, Option<String>)>,
}

impl TurnDiff {
    pub fn between(before: &DecodedRequest, after: &DecodedRequest) -> Self {
        let kept = before
            .messages
            .iter()
            .zip(&after.messages)
            .take_while(|(a, b)| a == b)
            .count();
        let (tools_added, tools_removed, tools_changed) = tool_changes(&before.tools, &after.tools);
        Self {
            kept,
            removed: before.messages[kept..].to_vec(),
            added: after.messages[kept..].to_vec(),
            system_changed: before.system != after.system,
            tools_added,
            tools_removed,
            tools_changed,
            params: param_changes(before, after),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.removed.is_empty()
            && self.added.is_empty()
            && !self.system_changed
            && self.tools_added.is_empty()
            && self.tools_removed.is_empty()
            && self.tools_changed.is_empty()
            && self.params.is_empty()
    }
}

fn tool_changes(before: &[ToolDef], after: &[ToolDef]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let find = |tools: &[ToolDef], name: &str| tools.iter().find(|t| t.name == name).cloned();
    let added = after
        .iter()
        .filter(|t| find(before, &t.name).is_none())
        .map(|t| t.name.clone())
        .collect();
    let removed = before
        .iter()
        .filter(|t| find(after, &t.name).is_none())
        .map(|t| t.name.clone())
        .collect();
    let changed = after
        .iter()
        .filter(|t| find(before, &t.name).is_some_and(|old| old != **t))
        .map(|t| t.name.clone())
        .collect();
    (added, removed, changed)
}

fn param_changes(
    before: &DecodedRequest,
    after: &DecodedRequest,
) -> Vec<(String, Option<String>, Option<String>)> {
    let with_model = |r: &DecodedRequest| {
        let mut params = r.params.clone();
        if let Some(model) = &r.model {
            params.insert(0, ("model".to_string(), format!("{model:?}")));
        }
        if r.stream {
            params.push(("stream".to_string(), "true".to_string()));
        }
        params
    };
    let (old, new) = (with_model(before), with_model(after));
    let lookup = |list: &[(String, String)], name: &str| {
        list.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    };
    let mut changes: Vec<_> = new
        .iter()
        .filter_map(|(name, value)| {
            let was = lookup(&old, name);
            (was.as_ref() != Some(value)).then(|| (name.clone(), was, Some(value.clone())))
        })
        .collect();
    changes.extend(
        old.iter()
            .filter(|(name, _)| lookup(&new, name).is_none())
            .map(|(name, value)| (name.clone(), Some(value.clone()), None)),
    );
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::test_fixtures::{
        fixture_session, CLAUDE_CODE_SESSION, CODEX_SESSION, OPENCODE_TWO_SESSIONS,
    };
    use crate::capture::ExchangeRecord;
    use crate::llm::{decode_request, Part};

    fn decoded(record: &ExchangeRecord) -> DecodedRequest {
        decode_request(record.start.dialect, &record.start.request.body).unwrap_or_default()
    }

    fn diff(fixture: &str, before: usize, after: usize) -> TurnDiff {
        let records = fixture_session(fixture);
        TurnDiff::between(
            &decoded(&records[before - 1]),
            &decoded(&records[after - 1]),
        )
    }

    #[test]
    fn an_opencode_turn_adds_the_tool_call_and_its_result() {
        let turn = diff(OPENCODE_TWO_SESSIONS, 2, 5);
        assert_eq!(turn.kept, 2, "system and user prompt");
        assert!(turn.removed.is_empty());
        let roles: Vec<_> = turn.added.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["assistant", "tool"]);
        assert!(matches!(&turn.added[0].parts[..], [Part::ToolCall(call)] if call.name == "read"));
        assert!(turn.params.is_empty() && !turn.system_changed);
    }

    #[test]
    fn a_parameter_added_between_turns_is_named() {
        let turn = diff(OPENCODE_TWO_SESSIONS, 5, 7);
        assert_eq!(
            turn.params,
            [("temperature".to_string(), None, Some("0.2".to_string()))]
        );
        let changed = diff(CODEX_SESSION, 1, 2);
        assert_eq!(
            changed.params,
            [(
                "reasoning".to_string(),
                Some(r#"{"effort":"medium","summary":"auto"}"#.to_string()),
                Some(r#"{"effort":"high","summary":"auto"}"#.to_string())
            )]
        );
        assert_eq!(changed.added.len(), 2, "the call and its output");
    }

    #[test]
    fn a_tool_offered_in_a_later_turn_is_named_and_moved_cache_marks_are_no_change() {
        let turn = diff(CLAUDE_CODE_SESSION, 3, 6);
        assert_eq!(turn.tools_added, ["TodoWrite"]);
        assert!(turn.tools_removed.is_empty() && turn.tools_changed.is_empty());
        assert_eq!(turn.kept, 1, "the first message only lost its cache mark");
        assert_eq!(turn.added.len(), 2);
        assert!(!turn.system_changed);
        let same = diff(CLAUDE_CODE_SESSION, 3, 3);
        assert!(same.is_empty());
    }
}
