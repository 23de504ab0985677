//! `llmscope export SESSION --har FILE | --curl ID`: hand a recorded session or exchange to
//! another tool. Reads the store only; never touches the network.

use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use clap::{ArgGroup, Args};

use super::DataDirArg;
use crate::capture::{ExchangeId, SessionId};
use crate::export::{curl_command, session_to_har};
use crate::store::{SessionSummary, Store};

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("format").required(true).args(["har", "curl"])))]
pub struct ExportArgs {
    /// Session id from `llmscope sessions`, or `latest`
    pub session: SessionChoice,
    /// Write the whole session as HAR 1.2 to FILE (owner-only; `-` for standard output)
    #[arg(long, value_name = "FILE")]
    pub har: Option<PathBuf>,
    /// Print a curl command that replays exchange ID against the session's upstream
    #[arg(long, value_name = "ID")]
    pub curl: Option<ExchangeChoice>,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// Which session to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChoice {
    Latest,
    Id(SessionId),
}

impl FromStr for SessionChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("latest") {
            return Ok(Self::Latest);
        }
        text.parse()
            .map(|id| Self::Id(SessionId(id)))
            .map_err(|_| format!("{text:?} is neither a session id nor `latest`"))
    }
}

/// An exchange id as the list shows it: `3` or `#3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeChoice(pub ExchangeId);

impl FromStr for ExchangeChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        text.trim_start_matches('#')
            .parse()
            .map(|id| Self(ExchangeId(id)))
            .map_err(|_| format!("{text:?} is not an exchange id (a number such as 3)"))
    }
}

pub fn run(args: &ExportArgs) -> Result<()> {
    let dir = args.data.resolve()?;
    let store = Store::open(&dir)
        .with_context(|| format!("opening the session database in {}", dir.display()))?;
    let session = choose_session(&store, args.session, &dir)?;
    match (&args.har, args.curl) {
        (Some(path), None) => export_har(&store, &session, path),
        (None, Some(ExchangeChoice(id))) => print_curl(&store, &session, id),
        // clap's group already refuses both and neither; this keeps the message if it changes.
        _ => bail!("choose one thing to export: --har FILE or --curl ID"),
    }
}

fn choose_session(store: &Store, choice: SessionChoice, dir: &Path) -> Result<SessionSummary> {
    let sessions = store.list_sessions().context("listing sessions")?;
    let chosen = match choice {
        SessionChoice::Latest => sessions.into_iter().next(),
        SessionChoice::Id(id) => sessions.into_iter().find(|s| s.id == id),
    };
    match (chosen, choice) {
        (Some(session), _) => Ok(session),
        (None, SessionChoice::Latest) => bail!("no sessions recorded yet in {}", dir.display()),
        (None, SessionChoice::Id(id)) => bail!(
            "no session {id} in {} (see `llmscope sessions`)",
            dir.display()
        ),
    }
}

fn export_har(store: &Store, session: &SessionSummary, path: &Path) -> Result<()> {
    let exchanges = store
        .exchanges(session.id)
        .with_context(|| format!("reading the exchanges of session {}", session.id))?;
    let har = session_to_har(session, &exchanges);
    if path.as_os_str() == "-" {
        let mut out = io::stdout().lock();
        write_json(&mut out, &har).context("writing the HAR to standard output")?;
        return Ok(());
    }
    let file =
        create_private(path).with_context(|| format!("creating {} for the HAR", path.display()))?;
    let mut out = BufWriter::new(file);
    write_json(&mut out, &har)
        .and_then(|()| out.flush())
        .with_context(|| format!("writing the HAR to {}", path.display()))?;
    eprintln!(
        "llmscope: wrote session {} ({} exchanges) to {}",
        session.id,
        exchanges.len(),
        path.display()
    );
    Ok(())
}

fn print_curl(store: &Store, session: &SessionSummary, id: ExchangeId) -> Result<()> {
    let Some(stored) = store
        .exchange(session.id, id)
        .with_context(|| format!("reading exchange {id} of session {}", session.id))?
    else {
        bail!(
            "session {} has no exchange {} (it has {}; `llmscope open {}` lists them)",
            session.id,
            id.0,
            match session.exchanges {
                1 => "1 exchange".to_string(),
                n => format!("{n} exchanges"),
            },
            session.id
        );
    };
    let mut out = io::stdout().lock();
    writeln!(out, "{}", curl_command(&session.upstream, &stored.record))
        .context("writing the curl command to standard output")
}

fn write_json(out: &mut impl Write, value: &serde_json::Value) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")
}

/// The HAR holds prompts and replies: only its owner may read it, even when it replaces a
/// file that others could read.
fn create_private(path: &Path) -> io::Result<fs::File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_is_an_id_or_latest() {
        assert_eq!("latest".parse(), Ok(SessionChoice::Latest));
        assert_eq!("12".parse(), Ok(SessionChoice::Id(SessionId(12))));
        assert!("last".parse::<SessionChoice>().is_err());
    }

    #[test]
    fn exchange_id_may_carry_the_hash_the_list_shows() {
        assert_eq!("#3".parse(), Ok(ExchangeChoice(ExchangeId(3))));
        assert_eq!("3".parse(), Ok(ExchangeChoice(ExchangeId(3))));
        assert!("three".parse::<ExchangeChoice>().is_err());
    }
}
