//! Finding a live session's socket in a data directory; sockets left by a process that is gone
//! are removed on the way.

use std::path::{Path, PathBuf};

use super::client::Attachment;
use super::RemoteError;
use crate::capture::SessionId;

/// The sockets in `data_dir`'s live directory, newest session first. Blocking.
pub fn live_sockets(data_dir: &Path) -> Vec<(SessionId, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(super::live_dir(data_dir)) else {
        return Vec::new();
    };
    let mut found: Vec<(SessionId, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            let id = path
                .file_name()?
                .to_str()?
                .strip_suffix(".sock")?
                .parse()
                .ok()?;
            Some((SessionId(id), path))
        })
        .collect();
    found.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    found
}

/// Connects to `session`'s socket, or the newest live one.
pub async fn connect_live(
    data_dir: &Path,
    session: Option<SessionId>,
) -> Result<Attachment, RemoteError> {
    let dir = data_dir.to_path_buf();
    let sockets = tokio::task::spawn_blocking(move || live_sockets(&dir))
        .await
        .unwrap_or_default();
    let mut live = Vec::new();
    for (id, path) in sockets {
        if session.is_some_and(|wanted| wanted != id) {
            live.push(id);
            continue;
        }
        match Attachment::connect(&path).await {
            Ok(attachment) => return Ok(attachment),
            Err(RemoteError::Connect { source, .. }) if is_stale(&source) => {
                // Nobody listens: the process that made it was killed.
                let _ = tokio::fs::remove_file(&path).await;
            }
            Err(error) => return Err(error),
        }
    }
    match session {
        Some(session) => Err(RemoteError::NotLive {
            session,
            dir: data_dir.to_path_buf(),
            live: if live.is_empty() {
                "none".into()
            } else {
                live.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        }),
        None => Err(RemoteError::NoLiveSession {
            dir: data_dir.to_path_buf(),
        }),
    }
}

fn is_stale(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
    )
}
