use super::*;
use crate::capture::test_fixtures::{
    fixture_session, CLAUDE_CODE_SESSION, CODEX_SESSION, OPENCODE_TWO_SESSIONS,
};
use crate::capture::ExchangeRecord;
use crate::llm::decode_request;

fn shape(record: &ExchangeRecord) -> RequestShape {
    let request = &record.start.request;
    let decoded = decode_request(record.start.dialect, &request.body);
    RequestShape::of(&request.uri, &request.headers, decoded.as_ref())
}

/// `(exchange number, label of its conversation, conversation number)` for each record.
fn grouped(records: &[ExchangeRecord]) -> (Conversations, Vec<(u64, String, u32)>) {
    let mut conversations = Conversations::default();
    let filed = records
        .iter()
        .map(|record| {
            let id = conversations.observe(record.id(), &shape(record), None);
            let label = conversations.get(id).map(Conversation::label);
            (record.id().0, label.unwrap_or_default(), id.0)
        })
        .collect();
    (conversations, filed)
}

fn without_session_headers(mut records: Vec<ExchangeRecord>) -> Vec<ExchangeRecord> {
    for record in &mut records {
        let start = std::sync::Arc::make_mut(&mut record.start);
        start
            .request
            .headers
            .retain(|name, _| !name.to_ascii_lowercase().contains("session"));
    }
    records
}

#[test]
fn two_interleaved_opencode_sessions_are_two_conversations_with_their_titles_apart() {
    let (conversations, filed) = grouped(&fixture_session(OPENCODE_TWO_SESSIONS));
    let expected = [
        (1, "opencode title", 1),
        (2, "opencode conversation", 2),
        (3, "opencode title", 3),
        (4, "opencode conversation", 4),
        (5, "opencode conversation", 2),
        (6, "opencode conversation", 4),
        (7, "opencode conversation", 2),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|&(e, l, c)| (e, l.to_string(), c))
        .collect();
    assert_eq!(filed, expected);
    assert_eq!(conversations.main_count(), 2);
    assert_eq!(conversations.previous(ExchangeId(7)), Some(ExchangeId(5)));
    assert_eq!(conversations.previous(ExchangeId(2)), None);
}

#[test]
fn without_session_headers_the_growing_message_prefix_keeps_them_apart() {
    let records = without_session_headers(fixture_session(OPENCODE_TWO_SESSIONS));
    let (conversations, filed) = grouped(&records);
    let main: Vec<_> = filed
        .iter()
        .filter(|(_, label, _)| label == "opencode conversation")
        .map(|&(e, _, c)| (e, c))
        .collect();
    assert_eq!(main, [(2, 2), (4, 3), (5, 2), (6, 3), (7, 2)]);
    let titles: Vec<_> = filed
        .iter()
        .filter(|(_, label, _)| label == "opencode title")
        .map(|(e, _, _)| *e)
        .collect();
    assert_eq!(titles, [1, 3], "both title calls kept apart, in one group");
    assert_eq!(conversations.main_count(), 2);
}

#[test]
fn claude_code_side_requests_and_its_sub_agent_are_labelled_apart() {
    let (conversations, filed) = grouped(&fixture_session(CLAUDE_CODE_SESSION));
    let labels: Vec<_> = filed.iter().map(|(e, l, _)| (*e, l.as_str())).collect();
    assert_eq!(
        labels,
        [
            (1, "Claude Code probe"),
            (2, "Claude Code title"),
            (3, "Claude Code conversation"),
            (4, "Claude Code sub-agent"),
            (5, "Claude Code count tokens"),
            (6, "Claude Code conversation"),
        ]
    );
    assert_eq!(conversations.previous(ExchangeId(6)), Some(ExchangeId(3)));
    assert_eq!(conversations.main_count(), 1);
}

#[test]
fn claude_code_turns_match_by_prefix_though_cache_marks_moved() {
    // Claude Code moves `cache_control` to the newest block each turn: the JSON of the first
    // message changes, what it says does not.
    let records = without_session_headers(fixture_session(CLAUDE_CODE_SESSION));
    let (conversations, _) = grouped(&records);
    assert_eq!(conversations.previous(ExchangeId(6)), Some(ExchangeId(3)));
}

#[test]
fn codex_turns_share_their_session_and_prefix() {
    let records = fixture_session(CODEX_SESSION);
    let (conversations, filed) = grouped(&records);
    assert_eq!(filed.iter().map(|(_, _, c)| *c).collect::<Vec<_>>(), [1, 1]);
    assert_eq!(
        conversations.of(ExchangeId(2)).map(Conversation::label),
        Some("Codex conversation".to_string())
    );
    let (_, bare) = grouped(&without_session_headers(records));
    assert_eq!(bare.iter().map(|(_, _, c)| *c).collect::<Vec<_>>(), [1, 1]);
}

#[test]
fn a_resend_joins_the_conversation_it_was_resent_from() {
    let records = fixture_session(OPENCODE_TWO_SESSIONS);
    let mut conversations = Conversations::default();
    for record in &records {
        conversations.observe(record.id(), &shape(record), None);
    }
    // An edited resend of #4 with a different body: its parent decides.
    let edited = RequestShape::of("/v1/chat/completions", &HeaderList::new(), None);
    let id = conversations.observe(ExchangeId(8), &edited, Some(ExchangeId(4)));
    assert_eq!(conversations.of(ExchangeId(4)).map(|c| c.id), Some(id));
    // Filing an exchange twice changes nothing.
    let again = conversations.observe(ExchangeId(8), &edited, None);
    assert_eq!(again, id);
    let conversation = conversations.get(id);
    assert_eq!(
        conversation.map(|c| (c.exchanges.len(), c.turns())),
        Some((3, 2)),
        "a resend belongs to a turn but is not one"
    );
    let turn = |e| conversation.and_then(|c| c.turn_of(ExchangeId(e)));
    assert_eq!((turn(4), turn(6), turn(8)), (Some(1), Some(2), Some(2)));
}
