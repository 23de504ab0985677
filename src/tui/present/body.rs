//! Turns headers and bodies into display lines for the raw views: JSON pretty-printed in its
//! own key order, SSE as a list of events, text as text, anything else as a hex preview.
//!
//! Runs once per selected exchange (the lines are cached in the App), so it may walk a whole
//! 2 MB body, but never per frame.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::capture::HeaderList;
use crate::llm::{SseEvent, SseParser};

/// Longer logical lines are cut into pieces so that wrapping what is on screen stays cheap
/// even for a body that is one 2 MB line.
pub const MAX_LINE_CHARS: usize = 1024;
/// How much of a binary body the hex preview shows.
const HEX_PREVIEW_BYTES: usize = 512;

pub fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

pub fn heading() -> Style {
    Style::default()
        .fg(Color::Cyan)
        .add_modifier(Modifier::BOLD)
}

/// A heading between the parts of an LLM reading: `── system ──`.
pub fn section(name: &str) -> Line<'static> {
    Line::styled(format!("── {name} ──"), heading())
}

/// `name: `, as the LLM readings label a field.
pub fn label(name: &str) -> Span<'static> {
    Span::styled(format!("{name}: "), Style::default().fg(Color::Cyan))
}

/// The first value of header `name`, compared ignoring case.
pub fn header_value<'a>(headers: &'a HeaderList, name: &str) -> Option<&'a str> {
    headers.value(name)
}

pub fn is_event_stream(headers: &HeaderList) -> bool {
    header_value(headers, "content-type")
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("text/event-stream"))
}

pub fn header_lines(headers: &HeaderList) -> Vec<Line<'static>> {
    headers
        .iter()
        .map(|(name, value)| {
            Line::from(vec![
                Span::styled(format!("{name}: "), Style::default().fg(Color::Cyan)),
                Span::raw(sanitize(value)),
            ])
        })
        .collect()
}

/// Lines for a body as a human reads it, chosen by its headers and content.
pub fn body_lines(headers: &HeaderList, body: &[u8]) -> Vec<Line<'static>> {
    if body.is_empty() {
        return vec![Line::styled("(empty body)", dim())];
    }
    let encoding =
        header_value(headers, "content-encoding").filter(|e| !e.eq_ignore_ascii_case("identity"));
    let text = std::str::from_utf8(body)
        .ok()
        .filter(|t| looks_like_text(t));
    match (text, encoding) {
        (None, Some(encoding)) => {
            let mut lines = vec![Line::styled(
                format!("{} bytes, {encoding}-encoded (shown as stored)", body.len()),
                dim(),
            )];
            lines.extend(hex_lines(body));
            lines
        }
        (None, None) => {
            let mut lines = vec![Line::styled(format!("{} bytes binary", body.len()), dim())];
            lines.extend(hex_lines(body));
            lines
        }
        (Some(_), _) if is_event_stream(headers) => {
            let mut parser = SseParser::default();
            let events = parser.push(body);
            let mut lines = sse_summary(events.len());
            for (n, event) in events.iter().enumerate() {
                lines.extend(sse_event_lines(n + 1, event));
            }
            if parser.has_partial_event() {
                lines.push(Line::styled(
                    "(stream cut in the middle of an event)",
                    dim(),
                ));
            }
            lines
        }
        (Some(text), _) => match pretty_json(text) {
            Some(pretty) => text_lines(&pretty, Style::default()),
            None => text_lines(text, Style::default()),
        },
    }
}

pub fn sse_summary(count: usize) -> Vec<Line<'static>> {
    vec![Line::styled(format!("SSE stream, {count} events"), dim())]
}

/// One event of a stream: its number, its name, and its data on the same line.
pub fn sse_event_lines(number: usize, event: &SseEvent) -> Vec<Line<'static>> {
    let name = event.event.clone().unwrap_or_else(|| "message".to_string());
    let mut data = event.data.lines();
    let first = data.next().unwrap_or_default();
    let mut head = vec![
        Span::styled(format!("{number:>4} "), dim()),
        Span::styled(name, Style::default().fg(Color::Magenta)),
        Span::raw(" "),
    ];
    head.push(Span::raw(sanitize(first)));
    if event.truncated {
        head.push(Span::styled(" (truncated)", dim()));
    }
    let mut lines = split_long(Line::from(head));
    for more in data {
        lines.extend(split_long(Line::raw(format!("     {}", sanitize(more)))));
    }
    lines
}

/// Text split into display lines: tabs expanded, control characters made visible, and very
/// long lines cut into pieces.
pub fn text_lines(text: &str, style: Style) -> Vec<Line<'static>> {
    text.split('\n')
        .flat_map(|line| split_long(Line::styled(sanitize(line.trim_end_matches('\r')), style)))
        .collect()
}

/// The same text indented by `indent` spaces.
pub fn indented_lines(text: &str, indent: usize, style: Style) -> Vec<Line<'static>> {
    let pad = " ".repeat(indent);
    text_lines(text, style)
        .into_iter()
        .map(|mut line| {
            line.spans.insert(0, Span::raw(pad.clone()));
            line
        })
        .collect()
}

/// JSON reformatted with two-space indents, keeping the key order of the body; `None` when
/// the text is not JSON.
pub fn pretty_json(text: &str) -> Option<String> {
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    let mut indent = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, indent: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', indent * 2));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                while chars.next_if(|n| n.is_whitespace()).is_some() {}
                let close = if c == '{' { '}' } else { ']' };
                out.push(c);
                if chars.next_if_eq(&close).is_some() {
                    out.push(close);
                } else {
                    indent += 1;
                    newline(&mut out, indent);
                }
            }
            '}' | ']' => {
                indent = indent.saturating_sub(1);
                newline(&mut out, indent);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, indent);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

fn looks_like_text(text: &str) -> bool {
    let sample = text.chars().take(4096);
    let (mut total, mut control) = (0usize, 0usize);
    for c in sample {
        total += 1;
        if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
            control += 1;
        }
    }
    control * 20 <= total
}

/// `text` on one line, safe for the screen, cut to `max` characters with `…` when there is
/// more: what a folded item or a diff line shows of a long message.
pub fn preview(text: &str, max: usize) -> String {
    let flat = sanitize(&text.replace(['\n', '\r'], " "));
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    format!("{cut}…")
}

/// Makes a string safe to put in a terminal cell: tabs become spaces, other control
/// characters a visible placeholder.
pub fn sanitize(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .flat_map(|c| match c {
            '\t' => "    ".chars().collect::<Vec<_>>(),
            c if c.is_control() => vec!['�'],
            c => vec![c],
        })
        .collect()
}

/// How far back from the cut of a long line a space is looked for, so words stay whole.
const WORD_BREAK_LOOKBACK: usize = 80;

/// Cuts a line whose text exceeds [`MAX_LINE_CHARS`] into several, keeping span styles, and
/// after a space near the limit when there is one (a word cut in two reads as two words).
fn split_long(line: Line<'static>) -> Vec<Line<'static>> {
    let total: usize = line.spans.iter().map(|s| s.content.chars().count()).sum();
    if total <= MAX_LINE_CHARS {
        return vec![line];
    }
    let mut lines = Vec::with_capacity(total / MAX_LINE_CHARS + 1);
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut room = MAX_LINE_CHARS;
    for span in line.spans {
        let mut rest: &str = &span.content;
        while !rest.is_empty() {
            let limit = rest.char_indices().nth(room).map(|(byte, _)| byte);
            let cut = limit.map_or(rest.len(), |limit| after_last_space(&rest[..limit]));
            let (piece, tail) = rest.split_at(cut);
            room -= piece.chars().count();
            current.push(Span::styled(piece.to_string(), span.style));
            rest = tail;
            if limit.is_some() || room == 0 {
                lines.push(Line::from(std::mem::take(&mut current)));
                room = MAX_LINE_CHARS;
            }
        }
    }
    if !current.is_empty() {
        lines.push(Line::from(current));
    }
    lines
}

/// Where to cut `text` (which ends at the hard limit): just after its last space when that is
/// near the end, else at the limit itself.
fn after_last_space(text: &str) -> usize {
    let mut near = text.len().saturating_sub(WORD_BREAK_LOOKBACK);
    while !text.is_char_boundary(near) {
        near += 1;
    }
    match text[near..].rfind(' ') {
        Some(at) => near + at + 1,
        None => text.len(),
    }
}

fn hex_lines(body: &[u8]) -> Vec<Line<'static>> {
    let shown = &body[..body.len().min(HEX_PREVIEW_BYTES)];
    let mut lines: Vec<Line<'static>> = shown
        .chunks(16)
        .enumerate()
        .map(|(row, bytes)| {
            let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let ascii: String = bytes
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            Line::raw(format!("{:08x}  {:<47}  {ascii}", row * 16, hex.join(" ")))
        })
        .collect();
    if body.len() > shown.len() {
        lines.push(Line::styled(
            format!("… {} more bytes", body.len() - shown.len()),
            dim(),
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn json_is_pretty_printed_in_body_order() {
        let pretty = pretty_json(r#"{"model":"m","a":[],"b":{"c":"x,\"y\":z"},"n":[1,2]}"#);
        assert_eq!(
            pretty.as_deref(),
            Some("{\n  \"model\": \"m\",\n  \"a\": [],\n  \"b\": {\n    \"c\": \"x,\\\"y\\\":z\"\n  },\n  \"n\": [\n    1,\n    2\n  ]\n}")
        );
        assert_eq!(pretty_json("{not json"), None);
    }

    #[test]
    fn binary_bodies_get_a_size_and_a_hex_preview() {
        let lines = plain(&body_lines(&HeaderList::new(), &[0, 1, 2, 255, 0, 0, 7]));
        assert_eq!(lines[0], "7 bytes binary");
        assert!(lines[1].starts_with("00000000  00 01 02 ff"));
    }

    #[test]
    fn one_huge_line_is_cut_into_pieces() {
        let text = "x".repeat(MAX_LINE_CHARS * 3 + 5);
        let lines = text_lines(&text, Style::default());
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[3].width(), 5);
    }

    #[test]
    fn long_lines_are_cut_between_words() {
        let text = "word ".repeat(MAX_LINE_CHARS);
        let lines = plain(&text_lines(&text, Style::default()));
        assert!(lines.len() > 1);
        for line in &lines[..lines.len() - 1] {
            assert!(
                line.ends_with("word "),
                "cut inside a word: {:?}",
                &line[line.len() - 8..]
            );
        }
        assert_eq!(lines.concat(), text);
        let accented = "é".repeat(MAX_LINE_CHARS * 2) + " fin";
        let lines = plain(&text_lines(&accented, Style::default()));
        assert_eq!(lines.concat(), accented);
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(sanitize("a\tb\u{1b}[2J"), "a    b�[2J");
    }
}
