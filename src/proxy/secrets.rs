//! The real credentials of recent exchanges, kept in memory only, so that a resend of a
//! recorded (redacted) request can authenticate like the agent did. Never written anywhere.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::ResendError;
use crate::capture::{is_secret_header, ExchangeId, HeaderList, REDACTED};

/// How many exchanges' credentials are kept; older exchanges can still be resent, with
/// their secret headers filled in by hand.
const REMEMBERED: usize = 4096;

/// The secret headers one exchange was sent with.
type Secrets = Vec<(HeaderName, HeaderValue)>;

#[derive(Default)]
pub struct RecentSecrets {
    entries: Mutex<VecDeque<(ExchangeId, Secrets)>>,
}

impl RecentSecrets {
    pub fn remember(&self, id: ExchangeId, headers: &HeaderMap) {
        let secrets: Vec<_> = headers
            .iter()
            .filter(|(name, _)| is_secret_header(name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        if secrets.is_empty() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= REMEMBERED {
            entries.pop_front();
        }
        entries.push_back((id, secrets));
    }

    /// Builds real headers from an edited header list: every value still showing the
    /// redaction mark gets `parent`'s real value for that header back.
    pub fn restore(
        &self,
        parent: ExchangeId,
        edited: &HeaderList,
    ) -> Result<HeaderMap, ResendError> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let known = entries
            .iter()
            .rev()
            .find(|(id, _)| *id == parent)
            .map(|(_, secrets)| secrets.as_slice())
            .unwrap_or_default();
        let mut headers = HeaderMap::new();
        for (name, value) in edited {
            let header = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| ResendError::Header(name.clone()))?;
            let real = value
                .contains(REDACTED)
                .then(|| {
                    known
                        .iter()
                        .find(|(n, _)| *n == header)
                        .map(|(_, v)| v.clone())
                })
                .flatten();
            let value = match real {
                Some(real) => real,
                None => HeaderValue::from_str(value.trim())
                    .map_err(|_| ResendError::Header(name.clone()))?,
            };
            headers.append(header, value);
        }
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_values_get_the_parents_real_secret_back() {
        let secrets = RecentSecrets::default();
        let mut sent = HeaderMap::new();
        sent.insert("authorization", HeaderValue::from_static("Bearer sk-real"));
        secrets.remember(ExchangeId(3), &sent);
        let edited = vec![
            ("authorization".to_string(), "Bearer <redacted>".to_string()),
            ("x-extra".to_string(), "added".to_string()),
        ];
        let restored = secrets.restore(ExchangeId(3), &edited).expect("valid");
        assert_eq!(restored["authorization"], "Bearer sk-real");
        assert_eq!(restored["x-extra"], "added");
    }

    #[test]
    fn a_secret_the_user_typed_is_kept() {
        let secrets = RecentSecrets::default();
        let edited = vec![("x-api-key".to_string(), "sk-typed".to_string())];
        let restored = secrets.restore(ExchangeId(9), &edited).expect("valid");
        assert_eq!(restored["x-api-key"], "sk-typed");
    }

    #[test]
    fn an_invalid_header_name_is_an_error() {
        let secrets = RecentSecrets::default();
        let edited = vec![("bad name".to_string(), "v".to_string())];
        assert!(secrets.restore(ExchangeId(1), &edited).is_err());
    }
}
