//! Long lines on the screen a user reads: in every view of both panes, a row that has a space
//! near its end is never cut inside a word at the pane's edge.

use std::collections::HashSet;

use crossterm::event::KeyCode;

use super::support::{finished, live_app, press};
use super::test_util::{render_text, sample_record};

/// A request like the demo's: a long system prompt, a JSON string with long prose, a tool.
fn long_request() -> Vec<u8> {
    let prose = "You are opencode, an interactive CLI tool that helps users with software \
        engineering tasks. Use the instructions below and the tools available to you to assist \
        the user. When you run a non-trivial bash command, you should explain what the command \
        does and why you are running it, to make sure the user understands what you are doing.";
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5",
        "messages": [
            {"role": "system", "content": prose.repeat(3)},
            {"role": "user", "content": "Add a --json flag to llmscope sessions that prints one JSON object per line for each session, so scripts can read the list."}
        ],
        "tools": [{"type": "function", "function": {"name": "bash", "description": prose,
            "parameters": {"type": "object", "properties": {"command": {"type": "string"}}}}}]
    }))
    .unwrap_or_default()
}

/// Every place where a pane row ends in part of a word of `source` and the row below goes on
/// with the rest of it, although the row had a space near its end to break at.
fn words_cut_at_an_edge(screen: &str, source: &str) -> Vec<String> {
    let words: HashSet<&str> = source
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1)
        .collect();
    let rows: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let mut cuts = Vec::new();
    for pair in rows.windows(2) {
        let (row, below) = (&pair[0], &pair[1]);
        // The inside of each pane: between two borders on this row and the one below.
        let borders: Vec<usize> = (0..row.len())
            .filter(|&x| row[x] == '│' && below.get(x) == Some(&'│'))
            .collect();
        for edge in borders.windows(2) {
            let (left, right) = (edge[0] + 1, edge[1]);
            let inside = &row[left..right];
            let next = &below[left..right];
            let head: String = inside
                .iter()
                .rev()
                .take_while(|c| c.is_alphanumeric())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let tail: String = next
                .iter()
                .skip_while(|c| **c == ' ')
                .take_while(|c| c.is_alphanumeric())
                .collect();
            let whole = format!("{head}{tail}");
            let space_near = inside.iter().rev().take(20).any(|c| *c == ' ');
            if !head.is_empty() && !tail.is_empty() && words.contains(whole.as_str()) && space_near
            {
                cuts.push(format!(
                    "{}|{}",
                    inside.iter().collect::<String>(),
                    next.iter().collect::<String>()
                ));
            }
        }
    }
    cuts
}

#[test]
fn no_word_is_cut_at_a_pane_edge_in_any_view() {
    let mut app = live_app();
    let request = long_request();
    let source = String::from_utf8_lossy(&request).into_owned();
    finished(&mut app, sample_record(1, &request, 200, b"{}"));
    app.select(crate::capture::ExchangeId(1));
    let mut seen_prose = 0;
    for view in 0..2 {
        for (width, height) in [(120, 60), (97, 60), (160, 70)] {
            let screen = render_text(&app, width, height);
            seen_prose += usize::from(screen.contains("interactive CLI"));
            let cuts = words_cut_at_an_edge(&screen, &source);
            assert!(
                cuts.is_empty(),
                "view {view}, {width} wide: {cuts:#?}\n{screen}"
            );
        }
        press(&mut app, KeyCode::Char('v'));
    }
    assert!(seen_prose >= 4, "the panes showed the long text");
}
