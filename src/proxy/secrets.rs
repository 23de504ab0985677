//! The real credentials of recent exchanges (secret headers, and a request target with a key
//! in its query), kept in memory only, so that a resend of a recorded (redacted) request can
//! authenticate like the agent did. Never written anywhere.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::headers::is_secret_name;
use super::ResendError;
use crate::capture::{has_secret_param, ExchangeId, HeaderList, REDACTED};

/// How many exchanges' credentials are kept; older exchanges can still be resent, with
/// their secret headers filled in by hand.
const REMEMBERED: usize = 4096;

/// The secrets one exchange was sent with. An agent sends the same key with every request,
/// so consecutive exchanges share one copy.
#[derive(Default)]
struct Secrets {
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The request target as sent, when its query carried a key.
    target: Option<String>,
}

impl Secrets {
    /// Whether these are the secrets `headers` and `target` carry, without copying them.
    fn are_in(&self, headers: &HeaderMap, target: &str) -> bool {
        let mut sent = headers.iter().filter(|(name, _)| is_secret_name(name));
        let same_headers = self.headers.iter().all(|(name, value)| {
            sent.next()
                .is_some_and(|(n, v)| n == name && v.as_bytes() == value.as_bytes())
        }) && sent.next().is_none();
        let same_target = match &self.target {
            Some(kept) => kept == target,
            None => !has_secret_param(target),
        };
        same_headers && same_target
    }
}

/// A copy of `value` in a buffer of its own. The server's parser hands out header values as
/// slices of the connection's read buffer, which also held the request's body: kept for the
/// next few thousand exchanges, a slice would keep a whole read buffer (up to 400 KB after a
/// large body) alive with it, one per remembered exchange.
fn owned(value: &HeaderValue) -> Option<HeaderValue> {
    let mut copy = HeaderValue::from_bytes(value.as_bytes()).ok()?;
    copy.set_sensitive(value.is_sensitive());
    Some(copy)
}

#[derive(Default)]
pub struct RecentSecrets {
    entries: Mutex<VecDeque<(ExchangeId, Arc<Secrets>)>>,
}

impl RecentSecrets {
    pub fn remember(&self, id: ExchangeId, headers: &HeaderMap, target: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let secrets = match entries.back() {
            Some((_, last)) if last.are_in(headers, target) => last.clone(),
            _ => {
                let Some(copied) = Self::copied(headers, target) else {
                    return;
                };
                Arc::new(copied)
            }
        };
        if entries.len() >= REMEMBERED {
            entries.pop_front();
        }
        entries.push_back((id, secrets));
    }

    /// The secrets `headers` and `target` carry, copied; `None` when there are none.
    fn copied(headers: &HeaderMap, target: &str) -> Option<Secrets> {
        let secrets = Secrets {
            headers: headers
                .iter()
                .filter(|(name, _)| is_secret_name(name))
                .filter_map(|(name, value)| Some((name.clone(), owned(value)?)))
                .collect(),
            target: has_secret_param(target).then(|| target.to_string()),
        };
        (!secrets.headers.is_empty() || secrets.target.is_some()).then_some(secrets)
    }

    /// The request target to send for an edited one: each query value still showing the
    /// redaction mark gets `parent`'s real value for that parameter back.
    pub fn restore_target(&self, parent: ExchangeId, edited: &str) -> String {
        let Some((path, query)) = edited.split_once('?') else {
            return edited.to_string();
        };
        if !query.contains(REDACTED) {
            return edited.to_string();
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(real) = entries
            .iter()
            .rev()
            .find(|(id, _)| *id == parent)
            .and_then(|(_, secrets)| secrets.target.as_deref())
            .and_then(|real| real.split_once('?'))
            .map(|(_, query)| query)
        else {
            return edited.to_string();
        };
        let pieces: Vec<&str> = query
            .split('&')
            .map(|piece| match piece.split_once('=') {
                Some((name, REDACTED)) => real
                    .split('&')
                    .find(|real| real.split_once('=').is_some_and(|(n, _)| n == name))
                    .unwrap_or(piece),
                _ => piece,
            })
            .collect();
        format!("{path}?{}", pieces.join("&"))
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
            .map(|(_, secrets)| secrets.headers.as_slice())
            .unwrap_or_default();
        let mut headers = HeaderMap::new();
        for (name, value) in edited {
            let header = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| ResendError::Header(name.to_string()))?;
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
                    .map_err(|_| ResendError::Header(name.to_string()))?,
            };
            headers.append(header, value);
        }
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::redact_target;

    #[test]
    fn a_remembered_secret_does_not_keep_the_read_buffer_it_came_in() {
        // As the server's parser hands it out: the value a slice of the connection's buffer,
        // which also held the body.
        let mut read = b"Bearer sk-real".to_vec();
        read.resize(256 * 1024, b'x');
        let buffer = bytes::Bytes::from(read);
        let value = HeaderValue::from_maybe_shared(buffer.slice(..14)).expect("a header value");
        let mut sent = HeaderMap::new();
        sent.insert("authorization", value);
        let secrets = RecentSecrets::default();
        secrets.remember(ExchangeId(1), &sent, "/v1/chat/completions");
        drop(sent);
        assert!(
            buffer.is_unique(),
            "the remembered secret still holds the 256 KB buffer"
        );
        let edited = HeaderList::from([("authorization", "Bearer <redacted>")]);
        let restored = secrets.restore(ExchangeId(1), &edited).expect("valid");
        assert_eq!(restored["authorization"], "Bearer sk-real");
    }

    #[test]
    fn each_exchange_is_resent_with_its_own_key_and_repeats_share_one_copy() {
        let secrets = RecentSecrets::default();
        let sent_with = |key: &'static str| {
            let mut sent = HeaderMap::new();
            sent.insert("x-api-key", HeaderValue::from_static(key));
            sent.insert("content-type", HeaderValue::from_static("application/json"));
            sent
        };
        secrets.remember(ExchangeId(1), &sent_with("sk-first"), "/v1/messages");
        secrets.remember(ExchangeId(2), &sent_with("sk-first"), "/v1/messages");
        secrets.remember(ExchangeId(3), &sent_with("sk-second"), "/v1/messages");
        // No secret at all: nothing to keep, and the next repeat is compared with exchange 3.
        secrets.remember(ExchangeId(4), &HeaderMap::new(), "/v1/messages");
        secrets.remember(
            ExchangeId(5),
            &sent_with("sk-second"),
            "/v1/messages?key=AIza-k",
        );
        let edited = HeaderList::from([("x-api-key", "<redacted>")]);
        let key =
            |id| secrets.restore(ExchangeId(id), &edited).expect("valid")["x-api-key"].clone();
        assert_eq!(key(1), "sk-first");
        assert_eq!(key(2), "sk-first");
        assert_eq!(key(3), "sk-second");
        assert_eq!(key(4), "<redacted>");
        assert_eq!(key(5), "sk-second");
        assert_eq!(
            secrets.restore_target(ExchangeId(5), "/v1/messages?key=<redacted>"),
            "/v1/messages?key=AIza-k"
        );
        assert_eq!(
            secrets.restore_target(ExchangeId(3), "/v1/messages?key=<redacted>"),
            "/v1/messages?key=<redacted>"
        );
        let entries = secrets.entries.lock().unwrap();
        let kept: Vec<_> = entries.iter().map(|(id, _)| id.0).collect();
        assert_eq!(kept, [1, 2, 3, 5]);
        assert!(
            Arc::ptr_eq(&entries[0].1, &entries[1].1),
            "a repeat shares its copy"
        );
        assert!(!Arc::ptr_eq(&entries[1].1, &entries[2].1));
    }

    #[test]
    fn redacted_values_get_the_parents_real_secret_back() {
        let secrets = RecentSecrets::default();
        let mut sent = HeaderMap::new();
        sent.insert("authorization", HeaderValue::from_static("Bearer sk-real"));
        secrets.remember(ExchangeId(3), &sent, "/v1/chat/completions");
        let edited =
            HeaderList::from([("authorization", "Bearer <redacted>"), ("x-extra", "added")]);
        let restored = secrets.restore(ExchangeId(3), &edited).expect("valid");
        assert_eq!(restored["authorization"], "Bearer sk-real");
        assert_eq!(restored["x-extra"], "added");
    }

    #[test]
    fn redacted_query_values_get_the_parents_real_key_back() {
        let secrets = RecentSecrets::default();
        let sent = "/v1beta/models/g:generateContent?key=AIza-real&alt=sse";
        secrets.remember(ExchangeId(4), &HeaderMap::new(), sent);
        let recorded = redact_target(sent);
        assert_eq!(
            recorded,
            "/v1beta/models/g:generateContent?key=<redacted>&alt=sse"
        );
        assert_eq!(secrets.restore_target(ExchangeId(4), &recorded), sent);
        let edited = "/v1beta/models/h:generateContent?alt=json&key=<redacted>";
        assert_eq!(
            secrets.restore_target(ExchangeId(4), edited),
            "/v1beta/models/h:generateContent?alt=json&key=AIza-real"
        );
        let typed = "/v1beta/models/g:generateContent?key=AIza-typed";
        assert_eq!(secrets.restore_target(ExchangeId(4), typed), typed);
        assert_eq!(secrets.restore_target(ExchangeId(5), &recorded), recorded);
    }

    #[test]
    fn a_secret_the_user_typed_is_kept() {
        let secrets = RecentSecrets::default();
        let edited = HeaderList::from([("x-api-key", "sk-typed")]);
        let restored = secrets.restore(ExchangeId(9), &edited).expect("valid");
        assert_eq!(restored["x-api-key"], "sk-typed");
    }

    #[test]
    fn an_invalid_header_name_is_an_error() {
        let secrets = RecentSecrets::default();
        let edited = HeaderList::from([("bad name", "v")]);
        assert!(secrets.restore(ExchangeId(1), &edited).is_err());
    }
}
