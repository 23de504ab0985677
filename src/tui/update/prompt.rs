//! Typing into a one-line prompt, shared by the filter and the intercept pattern: characters
//! and Backspace edit it, Enter and Esc end it, and the prompt's owner says what they mean.

use crossterm::event::KeyCode;

/// Where a prompt stands after a key.
pub(super) enum Prompt {
    /// Still being typed.
    Open,
    /// Enter, with the text typed, trimmed.
    Entered(String),
    /// Esc.
    Cancelled,
}

pub(super) fn edit_prompt(input: &mut String, code: KeyCode) -> Prompt {
    match code {
        KeyCode::Char(c) => input.push(c),
        KeyCode::Backspace => {
            input.pop();
        }
        KeyCode::Enter => return Prompt::Entered(input.trim().to_string()),
        KeyCode::Esc => return Prompt::Cancelled,
        _ => {}
    }
    Prompt::Open
}
