//! A whole conversation as items to read top to bottom: the newest request's messages and the
//! reply to it. Text the user and the model wrote is shown in full; the system prompt, tool
//! calls, tool results and thinking fold to one line each (`→ read(src/main.rs)`,
//! `← 142 lines`), since they are long and rarely what a reader looks for first.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::body::{self, dim, sanitize};
use super::wrap::wrap_line;
use crate::llm::{DecodedRequest, DecodedResponse, Part, ToolCall};

/// Columns of the role gutter (`assistant` and a space).
pub const GUTTER: usize = 10;
/// How much of a folded item's text its one line shows.
const PREVIEW: usize = 72;

/// One piece of the conversation: a message's text, a tool call or result, the system prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationItem {
    /// Shown folded and unfolded; starts with the role gutter.
    pub head: Line<'static>,
    /// Shown under the head when unfolded, or always for an item that does not fold.
    pub body: Vec<Line<'static>>,
    /// Whether it folds: folded it is its head alone.
    pub folds: bool,
}

impl ConversationItem {
    /// The lines shown for it, folded or not; a fold's head says which it is (`▸`/`▾`).
    pub fn lines(&self, unfolded: bool) -> impl Iterator<Item = Line<'static>> + '_ {
        let mut head = self.head.clone();
        if self.folds {
            let mark = if unfolded { "▾ " } else { "▸ " };
            if let Some(span) = head.spans.get_mut(1) {
                *span = Span::styled(mark, dim());
            }
        }
        let body = (!self.folds || unfolded).then_some(&self.body);
        std::iter::once(head).chain(body.into_iter().flatten().cloned())
    }
}

/// Splits one of the items' lines into rows of `width`. A head (the role gutter, the fold mark,
/// then its text) wraps under its text, so the gutter column stays clear; other lines are
/// indented already and wrap under their indent.
pub fn wrap_item_line(line: &Line<'static>, width: u16) -> Vec<Line<'static>> {
    let gutter = GUTTER as u16 + 2;
    if line.spans.len() < 3 || width <= gutter * 2 || line.width() <= usize::from(width) {
        return wrap_line(line, width);
    }
    let text = Line::from(line.spans[2..].to_vec()).style(line.style);
    let mut rows = wrap_line(&text, width - gutter);
    for (at, row) in rows.iter_mut().enumerate() {
        let mut spans = if at == 0 {
            line.spans[..2].to_vec()
        } else {
            vec![Span::raw(" ".repeat(usize::from(gutter)))]
        };
        spans.append(&mut row.spans);
        *row = Line::from(spans).style(line.style);
    }
    rows
}

/// What is known of the reply to the request being read.
#[derive(Debug, Clone, Copy)]
pub enum Reply<'a> {
    /// Still arriving: what has been assembled so far, if anything.
    Arriving(Option<&'a DecodedResponse>),
    /// Finished: the reply, or `None` when none was recorded.
    Finished(Option<&'a DecodedResponse>),
}

/// The items of `request`'s conversation: its system prompt and messages.
pub fn request_items(request: &DecodedRequest) -> Vec<ConversationItem> {
    let mut items = Vec::new();
    let system = request.system.join("\n");
    if !system.trim().is_empty() {
        items.push(folded_text("system", "", &system));
    }
    for message in &request.messages {
        let is_system = message.role == "system" || message.role == "developer";
        for (at, part) in message.parts.iter().enumerate() {
            let role = if at == 0 { message.role.as_str() } else { "" };
            items.push(match part {
                Part::Text(text) if is_system => folded_text(role, "", text),
                Part::Text(text) => full_text(role, text),
                Part::Thinking(text) => folded_text(role, "(thinking) ", text),
                Part::ToolCall(call) => tool_call(role, call),
                Part::ToolResult {
                    content, is_error, ..
                } => tool_result(role, content, *is_error),
                Part::Other(kind) => ConversationItem {
                    head: gutter_line(role, vec![Span::styled(format!("[{kind}]"), dim())]),
                    body: Vec::new(),
                    folds: false,
                },
            });
        }
    }
    items
}

/// The items of the reply, read after the request's.
pub fn reply_items(reply: Reply<'_>) -> Vec<ConversationItem> {
    let (reply, arriving) = match reply {
        Reply::Arriving(None) => return vec![note("the reply is on its way")],
        Reply::Finished(None) => return vec![note("no reply recorded")],
        Reply::Arriving(Some(reply)) => (reply, true),
        Reply::Finished(Some(reply)) => (reply, false),
    };
    let mut items = vec![note(if arriving {
        "the reply, still arriving"
    } else {
        "the reply"
    })];
    let mut role = "assistant";
    if !reply.thinking.is_empty() {
        items.push(folded_text(role, "(thinking) ", &reply.thinking));
        role = "";
    }
    if !reply.text.is_empty() {
        items.push(full_text(role, &reply.text));
        role = "";
    }
    for call in &reply.tool_calls {
        items.push(tool_call(role, call));
        role = "";
    }
    if let Some(error) = &reply.error {
        items.push(ConversationItem {
            head: gutter_line(
                role,
                vec![Span::styled(
                    format!("error: {}", sanitize(error)),
                    Style::default().fg(Color::Red),
                )],
            ),
            body: Vec::new(),
            folds: false,
        });
    }
    items
}

fn gutter_line(role: &str, spans: Vec<Span<'static>>) -> Line<'static> {
    let style = Style::default()
        .fg(Color::Cyan)
        .add_modifier(Modifier::BOLD);
    // The second span is where a fold's mark goes.
    let mut line = vec![
        Span::styled(format!("{role:<GUTTER$}"), style),
        Span::raw("  "),
    ];
    line.extend(spans);
    Line::from(line)
}

fn indented(text: &str) -> Line<'static> {
    Line::from(format!(
        "{:width$}{}",
        "",
        sanitize(text),
        width = GUTTER + 2
    ))
}

/// A message's own words: every line shown.
fn full_text(role: &str, text: &str) -> ConversationItem {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    ConversationItem {
        head: gutter_line(role, vec![Span::raw(sanitize(first))]),
        body: lines.map(indented).collect(),
        folds: false,
    }
}

/// Long text that folds to its first line and how many more there are.
fn folded_text(role: &str, prefix: &str, text: &str) -> ConversationItem {
    let count = text.lines().count();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut spans = vec![Span::raw(format!("{prefix}{}", preview(first)))];
    if count > 1 {
        spans.push(Span::styled(format!("  ({})", lines_word(count)), dim()));
    }
    ConversationItem {
        head: gutter_line(role, spans),
        body: text.lines().map(indented).collect(),
        folds: true,
    }
}

/// `→ read(src/main.rs)`: the call's first string argument names what it acts on.
fn tool_call(role: &str, call: &ToolCall) -> ConversationItem {
    let parsed: Option<serde_json::Value> = serde_json::from_str(&call.arguments).ok();
    let gist = parsed
        .as_ref()
        .and_then(|v| v.as_object()?.values().find_map(|v| v.as_str()))
        .map_or_else(|| call.arguments.clone(), str::to_string);
    let pretty = parsed
        .as_ref()
        .and_then(|v| serde_json::to_string_pretty(v).ok())
        .unwrap_or_else(|| call.arguments.clone());
    let green = Style::default().fg(Color::Green);
    ConversationItem {
        head: gutter_line(
            role,
            vec![Span::styled(
                format!("→ {}({})", sanitize(&call.name), preview(&gist)),
                green,
            )],
        ),
        body: pretty.lines().map(indented).collect(),
        folds: true,
    }
}

/// `← 142 lines`, and the first of them.
fn tool_result(role: &str, content: &str, is_error: bool) -> ConversationItem {
    let style = if is_error {
        Style::default().fg(Color::Red)
    } else {
        Style::default().fg(Color::Yellow)
    };
    let error = if is_error { " (error)" } else { "" };
    let count = content.lines().count();
    let first = content.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    ConversationItem {
        head: gutter_line(
            role,
            vec![
                Span::styled(format!("← {}{error}", lines_word(count)), style),
                Span::styled(format!("  {}", preview(first)), dim()),
            ],
        ),
        body: content.lines().map(indented).collect(),
        folds: true,
    }
}

fn note(text: &str) -> ConversationItem {
    ConversationItem {
        head: Line::styled(format!("── {text} ──"), dim()),
        body: Vec::new(),
        folds: false,
    }
}

fn preview(text: &str) -> String {
    body::preview(text, PREVIEW)
}

fn lines_word(n: usize) -> String {
    match n {
        1 => "1 line".to_string(),
        n => format!("{n} lines"),
    }
}
