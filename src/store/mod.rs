//! The session database: every exchange the proxy saw, kept in one SQLite file so past
//! sessions can be browsed and exported.
//!
//! The store owns the file (private directory and modes, WAL, integrity check, migrations),
//! body compression, and the writer thread that drains the capture bus. It never runs on the
//! proxy's async runtime and never makes the proxy wait: when the disk fails, the writer keeps
//! events in memory, retries, and says so through [`StoreHealth`]. Redacting secrets is the
//! proxy's job; the store writes what it is given.

mod abandoned;
mod backlog;
mod codec;
mod columns;
mod db;
mod delta;
mod error;
mod health;
mod held_starts;
mod insert;
mod query;
mod query_requests;
mod recover;
mod schema;
mod statements;
mod write_tx;
mod writer_thread;

#[cfg(test)]
pub(crate) mod test_fixtures;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use db::{Store, StoreFile};
pub use error::StoreError;
pub use health::StoreHealth;
pub use writer_thread::{spawn_writer, subscribe_writer, WriterExit, WriterHandle};

use crate::capture::{ExchangeId, ExchangeRecord, ExchangeState, Failure, Lineage, SessionId};
use crate::llm::Dialect;

/// Where sessions are kept unless `--data-dir` says otherwise, e.g.
/// `~/.local/share/llmscope` on Linux. `None` when the platform reports no home directory.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "llmscope").map(|dirs| dirs.data_dir().to_path_buf())
}

/// How a session was started, recorded with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The upstream base URL.
    pub upstream: String,
    /// The address the proxy listens on.
    pub listen: String,
    /// The proxy mode (e.g. `reverse`, `forward`, `demo`).
    pub mode: String,
}

/// One session in a list of past sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub id: SessionId,
    pub started_at_ms: i64,
    /// `None` while the session's process is running.
    pub ended_at_ms: Option<i64>,
    pub upstream: String,
    pub listen: String,
    pub mode: String,
    pub pid: i64,
    pub exchanges: u64,
    /// Exchanges with a failure class.
    pub errors: u64,
    /// Exchanges cut off by the end of their process.
    pub incomplete: u64,
}

/// An exchange without headers and bodies, for list views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeSummary {
    pub id: ExchangeId,
    pub started_at_ms: i64,
    pub method: String,
    pub uri: String,
    pub dialect: Dialect,
    pub model: Option<String>,
    /// `None` when no reply head arrived.
    pub status: Option<u16>,
    pub failure: Option<Failure>,
    pub first_byte_ms: Option<u64>,
    pub duration_ms: Option<u64>,
    /// Size of the request body.
    pub request_bytes: u64,
    /// Bytes the upstream sent in its reply body (may exceed what was captured).
    pub response_bytes: Option<u64>,
    pub state: ExchangeState,
    pub lineage: Lineage,
    /// How a held failure was settled (`delivered`, `forwarded`, …), if it was held.
    pub hold_outcome: Option<String>,
    /// Whether rules changed the request before it was forwarded.
    pub rewritten: bool,
    /// Tokens the reply reported using, when it said.
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// Prompt tokens read from the provider's cache, and written to it, when it said.
    pub cache_read_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
    /// The host the agent asked for: kept in forward mode only, where one session holds
    /// several APIs' calls. The `host` header is the only one the record keeps only there,
    /// so a JSON lookup runs only for the rows that have one.
    pub host: Option<String>,
}

/// An exchange read back from the store.
#[derive(Debug, Clone)]
pub struct StoredExchange {
    /// For an exchange that never finished, `response`, `failure` and the durations are
    /// `None`.
    pub record: ExchangeRecord,
    pub state: ExchangeState,
}
