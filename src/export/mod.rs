//! Hands recorded exchanges to other tools: a whole session as HAR 1.2 (browser dev tools,
//! HTTP Toolkit, bug reports) and one exchange as a curl command that replays it against the
//! upstream.
//!
//! Exports are read from the store and never contain a credential: headers were redacted at
//! capture, and every exporter redacts again (secret headers and key-like query parameters) so
//! that a record written by an older or buggier build cannot leak through an export.

mod content;
mod curl;
mod har;
mod har_check;
mod target;

#[cfg(test)]
mod test_fixtures;

pub use content::decode_content;
pub use curl::curl_command;
pub use har::session_to_har;
pub use har_check::har_problems;
