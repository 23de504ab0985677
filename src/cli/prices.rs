//! The price table `stats` and the screen charge exchanges at: the one shipped in llmscope,
//! with the user's `prices.json` from llmscope's config directory laid over it. A file that
//! is there but cannot be read is an error, never silently left out.

use std::io::ErrorKind;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::analysis::PriceTable;

/// Where the user's own prices go: `~/.config/llmscope/prices.json` on Linux.
pub fn override_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "llmscope")
        .map(|dirs| dirs.config_dir().join("prices.json"))
}

/// The shipped table with the user's file, if there is one, over it. Reads a file: call it
/// off the async runtime ([`price_table_async`]).
pub fn price_table() -> Result<PriceTable> {
    let table = PriceTable::builtin().context("llmscope's own price table is damaged")?;
    let Some(path) = override_path() else {
        return Ok(table);
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(table.with_override(&text, &path)?),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(table),
        Err(e) => Err(e).with_context(|| format!("reading the price table {}", path.display())),
    }
}

pub async fn price_table_async() -> Result<PriceTable> {
    tokio::task::spawn_blocking(price_table)
        .await
        .context("reading the price table crashed")?
}
