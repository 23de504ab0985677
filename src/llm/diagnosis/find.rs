//! Plain string search over an upstream error message: case-insensitive markers, and the
//! number, quoted name or bare token that follows or precedes them.
//!
//! Messages arrive as the upstream wrote them, sometimes wrapped by LiteLLM and sometimes
//! still JSON-escaped inside a raw body, so every extractor tolerates `\"` around names.

/// A message with its ASCII-lowercased copy; ASCII lowercasing keeps byte offsets, so a
/// marker found in `lower` cuts `raw` at the same place.
pub(super) struct Text<'a> {
    raw: &'a str,
    lower: String,
}

impl<'a> Text<'a> {
    pub(super) fn new(raw: &'a str) -> Self {
        Self {
            raw,
            lower: raw.to_ascii_lowercase(),
        }
    }

    /// Whether any of the (lowercase) markers occurs.
    pub(super) fn has_any(&self, markers: &[&str]) -> bool {
        markers.iter().any(|marker| self.lower.contains(marker))
    }

    pub(super) fn starts_with(&self, marker: &str) -> bool {
        self.lower.trim_start().starts_with(marker)
    }

    /// The original text after the first occurrence of a lowercase marker.
    pub(super) fn after(&self, marker: &str) -> Option<&'a str> {
        let at = self.lower.find(marker)? + marker.len();
        self.raw.get(at..)
    }

    /// The original text before the first occurrence of a lowercase marker.
    pub(super) fn before(&self, marker: &str) -> Option<&'a str> {
        let at = self.lower.find(marker)?;
        self.raw.get(..at)
    }

    pub(super) fn number_after(&self, marker: &str) -> Option<u64> {
        leading_number(self.after(marker)?)
    }

    /// The name right after a marker, quoted (`'x'`, `"x"`, `` `x` ``) or bare.
    pub(super) fn name_after(&self, marker: &str) -> Option<String> {
        name_at_start(self.after(marker)?)
    }

    /// `A + B > C` (Anthropic's limit messages): the sum of the left side and `C`. A `tokens`
    /// word before `>` is skipped, as in `210000 tokens > 200000 maximum`.
    pub(super) fn comparison(&self) -> Option<(Option<u64>, u64)> {
        let left = self.before(" > ")?;
        let limit = leading_number(self.after(" > ")?)?;
        let left = left.trim_end();
        let left = left.strip_suffix("tokens").unwrap_or(left).trim_end();
        let start =
            trailing_run_start(left, |c| c.is_ascii_digit() || matches!(c, ' ' | '+' | ','));
        let terms: Option<Vec<u64>> = left[start..]
            .split('+')
            .filter(|term| !term.trim().is_empty())
            .map(|term| leading_number(term.trim()))
            .collect();
        let requested = terms
            .filter(|terms| !terms.is_empty())
            .and_then(|terms| terms.into_iter().try_fold(0u64, u64::checked_add));
        Some((requested, limit))
    }
}

/// A number at the start of `text` after spaces; `128,000` reads as 128000.
pub(super) fn leading_number(text: &str) -> Option<u64> {
    let text = text.trim_start();
    let bytes = text.as_bytes();
    let mut value: u64 = 0;
    let mut digits = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        match byte {
            b'0'..=b'9' => {
                value = value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
                digits += 1;
            }
            b',' if digits > 0 && bytes.get(at + 1).is_some_and(u8::is_ascii_digit) => {}
            _ => break,
        }
    }
    (digits > 0).then_some(value)
}

/// A quoted name at the start of `text`, or else a bare token up to whitespace, without the
/// punctuation that ends a sentence.
pub(super) fn name_at_start(text: &str) -> Option<String> {
    let text = text.trim_start();
    let text = text.strip_prefix('\\').unwrap_or(text);
    let name = match text.chars().next()? {
        quote @ ('\'' | '"' | '`') => {
            let inner = &text[1..];
            let end = inner.find(quote).unwrap_or(inner.len());
            inner[..end].trim_end_matches('\\')
        }
        _ => {
            let end = text.find(char::is_whitespace).unwrap_or(text.len());
            text[..end].trim_end_matches(|c: char| ".,;:)]}'\"`\\".contains(c))
        }
    };
    (!name.is_empty()).then(|| name.to_string())
}

/// The identifier-like token that ends `text` (a parameter path such as `metadata.foo` or
/// `tools.0.custom.x`), skipping quotes and spaces right before the end.
pub(super) fn name_at_end(text: &str) -> Option<String> {
    let text = text.trim_end_matches(|c: char| c.is_whitespace() || "'\"`\\:".contains(c));
    let name =
        &text[trailing_run_start(text, |c| c.is_ascii_alphanumeric() || "_.-[]*".contains(c))..];
    (!name.is_empty()).then(|| name.to_string())
}

/// Where the run of characters that `keep` accepts at the end of `text` begins (a char
/// boundary, whatever precedes it).
fn trailing_run_start(text: &str, keep: impl Fn(char) -> bool) -> usize {
    text.char_indices()
        .rev()
        .find(|&(_, c)| !keep(c))
        .map_or(0, |(at, c)| at + c.len_utf8())
}

/// A pydantic-style location, `'loc': ('body', 'tools', 0, 'x')` or `"loc":["body","x"]`, as
/// a dotted path without the leading `body`.
pub(super) fn location(text: &Text<'_>) -> Option<String> {
    let rest = ["'loc'", "\"loc\"", "loc\\\""]
        .iter()
        .find_map(|marker| text.after(marker))?;
    let open = rest.find(['(', '['])?;
    // Only a list that follows the key closely, not one somewhere later in the message.
    if rest[..open].chars().any(|c| c.is_alphanumeric()) {
        return None;
    }
    let inner = &rest[open + 1..];
    let inner = &inner[..inner.find([')', ']'])?];
    let path: Vec<&str> = inner
        .split(',')
        .map(|step| step.trim().trim_matches(|c| "'\"\\ ".contains(c)))
        .filter(|step| !step.is_empty())
        .collect();
    let path = match path.split_first() {
        Some((&"body", rest)) => rest,
        _ => &path[..],
    };
    (!path.is_empty()).then(|| path.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_with_or_without_thousands_separators() {
        assert_eq!(leading_number(" 128000 tokens"), Some(128000));
        assert_eq!(leading_number("128,000."), Some(128000));
        assert_eq!(leading_number("8192, however"), Some(8192));
        assert_eq!(leading_number("99999999999999999999999"), None);
        assert_eq!(leading_number("tokens"), None);
    }

    #[test]
    fn names_read_quoted_bare_or_json_escaped() {
        assert_eq!(
            name_at_start(" 'temperature' is").as_deref(),
            Some("temperature")
        );
        assert_eq!(name_at_start("`gpt-9` does").as_deref(), Some("gpt-9"));
        assert_eq!(name_at_start("\\\"foo\\\" bar").as_deref(), Some("foo"));
        assert_eq!(name_at_start("nope. Call").as_deref(), Some("nope"));
        assert_eq!(name_at_start("   "), None);
        assert_eq!(
            name_at_end("\"message\":\"metadata.foo").as_deref(),
            Some("metadata.foo")
        );
        assert_eq!(name_at_end("é").as_deref(), None);
    }

    #[test]
    fn comparisons_sum_their_left_side() {
        let text = Text::new("exceed context limit: 188240 + 21333 > 200000, decrease");
        assert_eq!(text.comparison(), Some((Some(209573), 200000)));
        let text = Text::new("prompt is too long: 210000 tokens > 200000 maximum");
        assert_eq!(text.comparison(), Some((Some(210000), 200000)));
        assert_eq!(Text::new("a > b").comparison(), None);
        assert_eq!(Text::new("é12 > 5").comparison(), Some((Some(12), 5)));
        assert_eq!(Text::new("é > 5").comparison(), Some((None, 5)));
    }

    #[test]
    fn locations_drop_the_body_prefix() {
        let text = Text::new(
            "[{'type': 'extra_forbidden', 'loc': ('body', 'reasoning_effort'), 'msg': 'x'}]",
        );
        assert_eq!(location(&text).as_deref(), Some("reasoning_effort"));
        let text = Text::new(r#"{"loc":["body","tools",0,"strict"]}"#);
        assert_eq!(location(&text).as_deref(), Some("tools.0.strict"));
        assert_eq!(location(&Text::new("block ends (x)")), None);
    }
}
