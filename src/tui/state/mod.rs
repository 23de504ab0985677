//! The TUI's state as plain data: the [`App`](app::App), what has the keyboard, the rows and
//! their filter, the live and recent records, the selected exchange's built lines, the editor,
//! and where each part of the screen goes. Builds lines through `present`; knows nothing of
//! keys, drawing or the terminal.

pub mod app;
pub mod conversation_view;
pub mod conversations;
pub mod detail;
pub mod editor;
pub mod filter;
pub mod fixes;
pub mod grouping;
pub mod history;
pub mod hold_hint;
pub mod layout;
pub mod records;
pub mod row;
pub mod rows;
pub mod selection;
