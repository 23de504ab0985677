//! A second screen on a live session: the running proxy serves a Unix socket that only the
//! user can open (`<data>/live/<session>.sock`, 0600 in a 0700 directory), and `llmscope
//! attach` follows the session and drives the proxy through it, as the built-in screen does.
//!
//! The protocol is newline-delimited JSON ([`wire`]); the server never makes the proxy wait
//! on a screen, and [`Control`] lets the screen drive a local proxy or an attached one alike.
//! Below `tui` and `cli`, above `proxy` and `capture`.

mod client;
mod commands;
mod control;
mod find;
mod lines;
mod server;
mod unsaved;
pub mod wire;
pub mod wire_event;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use client::{Attachment, RemoteControl};
pub use control::Control;
pub use find::{connect_live, live_sockets};
pub use server::{AttachServer, SessionFacts};

use crate::capture::SessionId;

/// Where the sockets of a data directory's live sessions are.
pub fn live_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("live")
}

/// The socket of `session`.
pub fn socket_path(data_dir: &Path, session: SessionId) -> PathBuf {
    live_dir(data_dir).join(format!("{session}.sock"))
}

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("cannot serve the attach socket {path}: {source}")]
    Socket {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to {path}: {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no live session in {dir}: start one with `llmscope record --upstream URL` (or `llmscope launch AGENT`)")]
    NoLiveSession { dir: PathBuf },
    #[error("session {session} is not live in {dir} (live: {live}); `llmscope open {session}` browses its record")]
    NotLive {
        session: SessionId,
        dir: PathBuf,
        live: String,
    },
    #[error("{0} did not greet like llmscope (is it another program's socket?)")]
    NoHello(PathBuf),
    #[error("the session speaks attach protocol {theirs}, this llmscope {ours}: use the same llmscope build for both")]
    Version { theirs: u32, ours: u32 },
    #[error("the session ended")]
    Ended,
    #[error("the session did not answer the command")]
    NoAnswer,
    #[error("the session refused the command: {0}")]
    Refused(String),
    #[error("the session answered something else: {0}")]
    Unexpected(String),
}
