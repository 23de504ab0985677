//! What can go wrong with the session database, worded for the person who has to fix it.

use std::error::Error as _;
use std::io;
use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

use crate::capture::{ExchangeId, SessionId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem step around the database failed (creating the directory, setting modes).
    #[error("could not {operation} {path}")]
    Io {
        operation: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// SQLite refused an operation (disk full, locked by another process, read-only, …).
    #[error("could not {operation} in session database {path}")]
    Sqlite {
        operation: &'static str,
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The file is not a SQLite database or failed its integrity check.
    #[error(
        "session database {path} is damaged ({detail}); move it aside or delete it to start fresh"
    )]
    Corrupt { path: PathBuf, detail: String },
    /// A newer llmscope migrated the file past what this build knows.
    #[error(
        "session database {path} has schema version {found}, but this llmscope only knows up to \
         {supported}; upgrade llmscope or point --data-dir elsewhere"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// A stored exchange holds values this build cannot interpret.
    #[error("exchange {exchange} of session {session} in {path} cannot be read: {detail}")]
    BadRow {
        path: PathBuf,
        session: SessionId,
        exchange: ExchangeId,
        detail: String,
    },
}

impl StoreError {
    pub(super) fn io(operation: &'static str, path: &Path, source: io::Error) -> Self {
        Self::Io {
            operation,
            path: path.to_path_buf(),
            source,
        }
    }

    /// Maps SQLite's "this is not a database" and "malformed image" codes to [`Corrupt`], so
    /// every step of opening reports damage the same way.
    ///
    /// [`Corrupt`]: StoreError::Corrupt
    pub(super) fn sqlite(operation: &'static str, path: &Path, source: rusqlite::Error) -> Self {
        match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Self::Corrupt {
                path: path.to_path_buf(),
                detail: source.to_string(),
            },
            _ => Self::Sqlite {
                operation,
                path: path.to_path_buf(),
                source,
            },
        }
    }

    /// Whether retrying the same write later may succeed (lock held elsewhere, disk full,
    /// read-only for now). Errors caused by the data itself never go away by waiting.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Sqlite { source, .. } => {
                !matches!(
                    source,
                    rusqlite::Error::ToSqlConversionFailure(_)
                        | rusqlite::Error::IntegralValueOutOfRange(..)
                ) && !matches!(
                    source.sqlite_error_code(),
                    Some(
                        ErrorCode::ConstraintViolation
                            | ErrorCode::TooBig
                            | ErrorCode::TypeMismatch
                            | ErrorCode::NotADatabase
                            | ErrorCode::DatabaseCorrupt
                    )
                )
            }
            Self::Io { .. } => true,
            Self::Corrupt { .. } | Self::TooNew { .. } | Self::BadRow { .. } => false,
        }
    }

    /// One line with the immediate cause, for status lines that cannot show a chain.
    pub fn one_line(&self) -> String {
        match self.source() {
            Some(cause) => format!("{self}: {cause}"),
            None => self.to_string(),
        }
    }
}

/// Attaches the operation and database path to a rusqlite result.
pub(super) trait SqliteContext<T> {
    fn during(self, operation: &'static str, path: &Path) -> Result<T, StoreError>;
}

impl<T> SqliteContext<T> for rusqlite::Result<T> {
    fn during(self, operation: &'static str, path: &Path) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::sqlite(operation, path, source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_error_can_cross_threads_into_anyhow() {
        fn usable_with_anyhow<E: std::error::Error + Send + Sync + 'static>() {}
        usable_with_anyhow::<StoreError>();
    }

    #[test]
    fn one_line_names_the_operation_and_the_cause() {
        let err = StoreError::io(
            "create the data directory",
            Path::new("/nope/llmscope"),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert_eq!(
            err.one_line(),
            "could not create the data directory /nope/llmscope: permission denied"
        );
    }
}
