//! Which rows the list shows: the filter text and the failed-only switch, matched without
//! allocating for each of 100,000 rows.

use super::row::ExchangeRow;

/// Which rows the list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Applied filter text, lowercased; empty shows everything.
    pub needle: String,
    pub failed_only: bool,
}

impl Filter {
    /// Whether `row` passes: the text may match the path, forward mode's host, model, status,
    /// failure class or the failure message, ignoring case.
    pub fn matches(&self, row: &ExchangeRow) -> bool {
        if self.failed_only && !row.is_failed() {
            return false;
        }
        if self.needle.is_empty() {
            return true;
        }
        let hit = |text: &str| contains_ignoring_case(text, &self.needle);
        hit(&row.uri)
            || row.host.as_deref().is_some_and(hit)
            || row.model.as_deref().is_some_and(hit)
            || row.status.is_some_and(|s| hit(&s.to_string()))
            || row.failure.as_ref().is_some_and(|f| {
                hit(&f.class.to_string()) || hit(f.class.as_str()) || hit(&f.message)
            })
    }

    pub fn is_active(&self) -> bool {
        self.failed_only || !self.needle.is_empty()
    }
}

fn contains_ignoring_case(haystack: &str, lowercase_needle: &str) -> bool {
    if haystack.is_ascii() && lowercase_needle.is_ascii() {
        // The common case, without allocating for each of 100,000 rows.
        let needle = lowercase_needle.as_bytes();
        return haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle));
    }
    haystack.to_lowercase().contains(lowercase_needle)
}
