//! The request editor's state: the text being edited (a `tui-textarea`, which owns the lines
//! and draws only those on screen), whether it changed, what the body's JSON looks like, and
//! the question or menu open over it.
//!
//! Validation reads the body once per check, never per drawn frame. Small bodies are checked
//! on every edit; large ones (an agent's 76 KB turn) on the next tick, so typing never waits
//! for a parse.

use bytes::Bytes;
use ratatui::style::{Color, Modifier, Style};
use tui_textarea::TextArea;

use crate::capture::{ExchangeId, ExchangeStart};
use crate::fix::QuickFix;
use crate::llm::Dialect;
use crate::proxy::ResendRequest;

use crate::tui::present::fix_adapter::FixOffer;
use crate::tui::present::request_text::{self, check_json, EditedRequest, HeadError, JsonProblem};

/// Bodies up to this size are validated as the user types; larger ones on the next tick.
pub const VALIDATE_NOW_BYTES: usize = 32 * 1024;

/// What the body's JSON looks like after the last check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonStatus {
    Valid,
    /// Empty, or text that is not meant as JSON.
    NotJson,
    /// `line` and `column` are within the body; `editor_line` is the same line counted in
    /// the whole text (1-based), as the editor's line numbers show it.
    Invalid {
        problem: JsonProblem,
        editor_line: usize,
    },
    /// The lines before the body are not a request line and headers.
    BadHead(HeadError),
}

/// A yes/no question over the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorPrompt {
    /// Esc with edits: throw them away?
    Discard,
    /// Ctrl-S with a body that is not valid JSON: send it anyway?
    SendInvalid,
}

/// The quick fixes offered for this exchange's failure.
#[derive(Debug, Clone, PartialEq)]
pub struct FixMenu {
    pub offers: Vec<FixOffer>,
    /// Said when there is nothing to offer.
    pub empty_reason: Option<String>,
}

#[derive(Debug)]
pub struct EditorState {
    /// The exchange whose request was opened.
    pub source: ExchangeId,
    /// The exchange the resend is linked to (the agent's original, so a held agent gets it).
    pub parent: ExchangeId,
    /// `source` is an intercepted request: Ctrl-S sends it on in place of a resend.
    pub intercepted: bool,
    pub dialect: Dialect,
    /// The recorded request line, used when the text has none.
    pub method: String,
    pub uri: String,
    /// The body as recorded, sent as is when the text was not changed.
    pub original_body: Bytes,
    pub textarea: TextArea<'static>,
    pub modified: bool,
    pub json: JsonStatus,
    /// An edit happened since the last check.
    pub check_pending: bool,
    pub prompt: Option<EditorPrompt>,
    pub menu: Option<FixMenu>,
    /// One line for the user: a fix applied, a header problem on send.
    pub note: Option<String>,
    /// Quick fixes applied to the text, in order: what `K` can keep as rules once the
    /// resend succeeds.
    pub applied: Vec<QuickFix>,
    /// Size of the text when opened, to decide how eagerly to validate.
    size: usize,
    says_json: bool,
}

impl EditorState {
    /// An editor over `start`'s request; `None` when its body is not text.
    pub fn open(start: &ExchangeStart, parent: ExchangeId) -> Option<Self> {
        let text = request_text::request_text(&start.request)?;
        let says_json = start
            .request
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.contains("json"));
        let mut editor = Self {
            source: start.id,
            parent,
            intercepted: false,
            dialect: start.dialect,
            method: start.request.method.clone(),
            uri: start.request.uri.clone(),
            original_body: start.request.body.clone(),
            textarea: new_textarea(&text),
            modified: false,
            json: JsonStatus::NotJson,
            check_pending: false,
            prompt: None,
            menu: None,
            note: None,
            applied: Vec::new(),
            size: text.len(),
            says_json,
        };
        editor.check();
        Some(editor)
    }

    /// Replaces the whole text (after a quick fix), keeping it undoable as one edit.
    pub fn set_text(&mut self, text: &str) {
        let cursor = self.textarea.cursor();
        self.textarea.select_all();
        self.textarea.cut();
        self.textarea.insert_str(text);
        self.textarea.move_cursor(tui_textarea::CursorMove::Jump(
            cursor.0 as u16,
            cursor.1 as u16,
        ));
        self.size = text.len();
        self.edited();
    }

    /// Notes an edit: checked now when the text is small, otherwise on the next tick.
    pub fn edited(&mut self) {
        self.modified = true;
        self.check_pending = true;
        if self.size <= VALIDATE_NOW_BYTES {
            self.check();
        }
    }

    /// Checks the body now if an edit is waiting to be checked.
    pub fn check_if_pending(&mut self) {
        if self.check_pending {
            self.check();
        }
    }

    pub fn text(&self) -> String {
        self.textarea.lines().join("\n")
    }

    /// Validates the head and the body's JSON.
    pub fn check(&mut self) {
        self.check_pending = false;
        self.json = match self.parse() {
            Err(error) => JsonStatus::BadHead(error),
            Ok(edited) => match check_json(&edited.body, self.says_json) {
                Ok(true) => JsonStatus::Valid,
                Ok(false) => JsonStatus::NotJson,
                Err(problem) => JsonStatus::Invalid {
                    editor_line: edited.body_line + problem.line,
                    problem,
                },
            },
        };
    }

    pub fn parse(&self) -> Result<EditedRequest, HeadError> {
        request_text::parse_lines(self.textarea.lines(), &self.method, &self.uri)
    }

    /// The request to send, once the text's head reads as a request.
    pub fn to_resend(&self) -> Result<ResendRequest, HeadError> {
        self.parse().map(into_resend)
    }
}

/// The request to resend from the editor's text: the body as it goes out on the wire.
fn into_resend(edited: EditedRequest) -> ResendRequest {
    ResendRequest {
        method: edited.method,
        uri: edited.uri,
        headers: edited.headers,
        body: Bytes::from(request_text::wire_body(edited.body)),
    }
}

fn new_textarea(text: &str) -> TextArea<'static> {
    let mut textarea = TextArea::new(text.split('\n').map(str::to_string).collect());
    textarea.set_tab_length(2);
    textarea.set_line_number_style(Style::default().fg(Color::DarkGray));
    textarea.set_cursor_line_style(Style::default());
    textarea.set_cursor_style(Style::default().add_modifier(Modifier::REVERSED));
    textarea
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CapturedRequest;
    use crate::capture::HeaderList;
    use crate::tui::present::request_text::{parse_lines, request_text};
    use crate::tui::tests::test_util::start;

    fn lines(text: &str) -> Vec<String> {
        text.split('\n').map(str::to_string).collect()
    }

    fn recorded() -> CapturedRequest {
        CapturedRequest {
            method: "POST".into(),
            uri: "/v1/chat/completions".into(),
            headers: HeaderList::from([
                ("authorization", "Bearer <redacted>"),
                ("content-type", "application/json"),
            ]),
            body: Bytes::from_static(br#"{"model":"m","stream":false}"#),
        }
    }

    #[test]
    fn request_text_reads_like_an_http_message_and_parses_back() {
        let text = request_text(&recorded()).unwrap_or_default();
        assert_eq!(
            text,
            "POST /v1/chat/completions\nauthorization: Bearer <redacted>\n\
             content-type: application/json\n\n{\n  \"model\": \"m\",\n  \"stream\": false\n}"
        );
        let edited = parse_lines(&lines(&text), "GET", "/x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((edited.method.as_str(), edited.body_line), ("POST", 4));
        let resend = into_resend(edited);
        assert_eq!(resend.uri, "/v1/chat/completions");
        assert_eq!(resend.headers, recorded().headers);
        assert_eq!(resend.body, recorded().body, "JSON goes out compact again");
    }

    #[test]
    fn the_request_line_is_optional_and_headers_must_have_a_colon() {
        let edited = parse_lines(&lines("x-a: 1\n\nhello"), "PUT", "/p").unwrap_or_else(|e| {
            panic!("{e}");
        });
        assert_eq!((edited.method.as_str(), edited.uri.as_str()), ("PUT", "/p"));
        assert_eq!(
            edited.headers,
            HeaderList::from([("x-a".to_string(), "1".to_string())])
        );
        assert_eq!(into_resend(edited).body, Bytes::from_static(b"hello"));
        assert_eq!(
            parse_lines(&lines("POST /a\nno colon here\n\n{}"), "POST", "/a"),
            Err(HeadError::Header { line: 2 })
        );
        assert_eq!(
            parse_lines(&lines("post it\n\n{}"), "POST", "/a"),
            Err(HeadError::RequestLine)
        );
    }

    fn editor(body: &str) -> EditorState {
        let start = start(
            3,
            "/v1/chat/completions",
            Dialect::OpenAiChat,
            body.as_bytes(),
        );
        EditorState::open(&start, ExchangeId(3)).unwrap_or_else(|| panic!("text body"))
    }

    #[test]
    fn opening_checks_the_body_and_an_edit_rechecks_it() {
        let mut editor = editor(r#"{"model":"m"}"#);
        assert_eq!(editor.json, JsonStatus::Valid);
        assert!(!editor.modified);
        editor
            .textarea
            .move_cursor(tui_textarea::CursorMove::Bottom);
        editor.textarea.insert_str(",");
        editor.edited();
        let JsonStatus::Invalid {
            problem,
            editor_line,
        } = &editor.json
        else {
            panic!("{:?}", editor.json);
        };
        assert_eq!((problem.line, editor_line), (3, &7));
    }

    #[test]
    fn large_bodies_are_checked_on_the_next_tick() {
        let big = format!(r#"{{"messages":["{}"]}}"#, "x".repeat(VALIDATE_NOW_BYTES));
        let mut editor = editor(&big);
        editor
            .textarea
            .move_cursor(tui_textarea::CursorMove::Bottom);
        editor.textarea.insert_str("oops");
        editor.edited();
        assert_eq!(editor.json, JsonStatus::Valid, "not checked yet");
        editor.check_if_pending();
        assert!(matches!(editor.json, JsonStatus::Invalid { .. }));
    }
}
