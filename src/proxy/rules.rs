//! Applying the user's rules to an agent's request before it is forwarded. The record keeps
//! both: the request as forwarded and, in a [`Rewrite`], what the agent sent.

use std::sync::{PoisonError, RwLock};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::capture::{CapturedRequest, HeaderList, Rewrite};
use crate::fix::{apply_rules, EditableRequest, Rule};
use crate::llm::Dialect;

/// The rules in force, read on every request.
#[derive(Default)]
pub struct RuleSet {
    rules: RwLock<Vec<Rule>>,
}

/// A request after the rules: what to forward, and the record's note of the change.
pub struct Rewritten {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub rewrite: Rewrite,
}

impl RuleSet {
    pub fn replace(&self, rules: Vec<Rule>) {
        *self.rules.write().unwrap_or_else(PoisonError::into_inner) = rules;
    }

    pub fn list(&self) -> Vec<Rule> {
        self.rules
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Applies the enabled rules matching this request; `None` when none changed it.
    /// `original` is the request as the record holds it (redacted).
    pub fn rewrite(
        &self,
        dialect: Dialect,
        original: &CapturedRequest,
        headers: &HeaderMap,
    ) -> Option<Rewritten> {
        let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
        if !rules.iter().any(|rule| rule.enabled) {
            return None;
        }
        // A body that is not JSON can still have its headers changed.
        let body: Value = serde_json::from_slice(&original.body).unwrap_or(Value::Null);
        let mut request = EditableRequest {
            headers: real_header_list(headers),
            body,
        };
        let path = original.uri.as_str();
        let applied = apply_rules(&rules, dialect, &original.method, path, &mut request);
        if applied.is_empty() {
            return None;
        }
        let body = if applied.iter().any(|rule| rule.edits_body) {
            serde_json::to_vec(&request.body).map_or_else(|_| original.body.clone(), Bytes::from)
        } else {
            original.body.clone()
        };
        let headers = header_map(&request.headers);
        Some(Rewritten {
            headers,
            body,
            rewrite: Rewrite {
                original: original.clone(),
                applied: applied
                    .iter()
                    .map(|rule| format!("rule {}: {}", rule.id, rule.summary))
                    .collect(),
            },
        })
    }
}

/// The header list with real values (never stored: rules see what the upstream will see).
fn real_header_list(headers: &HeaderMap) -> HeaderList {
    headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect()
}

/// Headers a rule made invalid are dropped rather than failing the request.
fn header_map(list: &HeaderList) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in list {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    headers
}
