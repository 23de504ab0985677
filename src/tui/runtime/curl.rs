//! `y`'s two copies of a curl command: an owner-only file, written on a blocking thread, and
//! the clipboard through the terminal (OSC 52 works over SSH and in tmux with
//! `set-clipboard on`; terminals without it ignore the sequence, and the file is still there).

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::capture::ExchangeId;

/// Writes `text` to `curl-<id>.sh` in `dir`. Blocking: run it off the UI task.
pub(super) fn write_file(dir: &Path, id: ExchangeId, text: &str) -> Result<PathBuf, String> {
    let path = dir.join(format!("curl-{}.sh", id.0));
    let write = || -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&path)?.write_all(text.as_bytes())
    };
    write().map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Asks the terminal to put `text` on the clipboard. From the UI task only, so the sequence
/// never lands in the middle of a frame.
pub(super) fn put_on_clipboard(text: &str) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut stdout = io::stdout();
    // Best effort: the file is the copy that always works.
    let _ = write!(stdout, "\x1b]52;c;{encoded}\x07").and_then(|()| stdout.flush());
}
