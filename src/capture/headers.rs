//! A message's headers as the record keeps them: names and values in wire order, duplicates
//! kept, packed into one text buffer.
//!
//! The proxy copies every request's and reply's headers into the record. As a list of
//! `(String, String)` pairs that was two allocations per header (about twenty per exchange,
//! each freed later on whichever thread drops the record last); packed, it is two per list.

use std::fmt;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Header names and values in wire order, duplicates kept. Values that are not UTF-8 are
/// stored lossily: the record is for reading, the wire copy is forwarded untouched.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HeaderList {
    /// Every name and value, back to back.
    text: String,
    /// Where each header's name and value end in `text`; each name begins where the header
    /// before it ends.
    ends: Vec<(usize, usize)>,
}

impl HeaderList {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list with room for `headers` headers of `text` bytes in all.
    pub fn with_capacity(headers: usize, text: usize) -> Self {
        Self {
            text: String::with_capacity(text),
            ends: Vec::with_capacity(headers),
        }
    }

    /// Adds a header after the others.
    pub fn push(&mut self, name: &str, value: &str) {
        self.text.push_str(name);
        let name_end = self.text.len();
        self.text.push_str(value);
        self.ends.push((name_end, self.text.len()));
    }

    /// Appends a header whose value is `pieces` joined.
    pub fn push_pieces(&mut self, name: &str, pieces: &[&str]) {
        self.text.push_str(name);
        let name_end = self.text.len();
        for piece in pieces {
            self.text.push_str(piece);
        }
        self.ends.push((name_end, self.text.len()));
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The header at `index` in wire order.
    pub fn get(&self, index: usize) -> Option<(&str, &str)> {
        let &(name_end, value_end) = self.ends.get(index)?;
        let name_start = match index {
            0 => 0,
            _ => self.ends[index - 1].1,
        };
        Some((
            &self.text[name_start..name_end],
            &self.text[name_end..value_end],
        ))
    }

    pub fn first(&self) -> Option<(&str, &str)> {
        self.get(0)
    }

    pub fn last(&self) -> Option<(&str, &str)> {
        self.get(self.len().checked_sub(1)?)
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            next: 0,
        }
    }

    /// The first value of header `name`, whose case does not matter (as in HTTP).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// Keeps the headers for which `keep(name, value)` is true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        let mut kept = Self::with_capacity(self.len(), self.text.len());
        for (name, value) in self.iter() {
            if keep(name, value) {
                kept.push(name, value);
            }
        }
        *self = kept;
    }
}

/// The headers of a list in wire order, as `(name, value)`.
pub struct Iter<'a> {
    list: &'a HeaderList,
    next: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let header = self.list.get(self.next)?;
        self.next += 1;
        Some(header)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.list.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a HeaderList {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for HeaderList {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(headers: I) -> Self {
        let mut list = Self::new();
        list.extend(headers);
        list
    }
}

impl<N: AsRef<str>, V: AsRef<str>> Extend<(N, V)> for HeaderList {
    fn extend<I: IntoIterator<Item = (N, V)>>(&mut self, headers: I) {
        for (name, value) in headers {
            self.push(name.as_ref(), value.as_ref());
        }
    }
}

impl<N: AsRef<str>, V: AsRef<str>, const K: usize> From<[(N, V); K]> for HeaderList {
    fn from(headers: [(N, V); K]) -> Self {
        headers.into_iter().collect()
    }
}

impl fmt::Debug for HeaderList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// `[["name", "value"], …]`, as the list of pairs it replaced was written.
impl Serialize for HeaderList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// Read straight into the packed text: `open` reads the headers of every stored exchange, and
/// a list of pairs in between would cost the allocations the packing saves.
impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(ListVisitor)
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = HeaderList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of [name, value] pairs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut pairs: A) -> Result<HeaderList, A::Error> {
        let mut list = HeaderList::with_capacity(pairs.size_hint().unwrap_or(0), 0);
        while pairs.next_element_seed(PairInto(&mut list))?.is_some() {}
        Ok(list)
    }
}

/// One `[name, value]` pair, pushed onto the list as it is read.
struct PairInto<'a>(&'a mut HeaderList);

impl<'de> DeserializeSeed<'de> for PairInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_tuple(2, self)
    }
}

impl<'de> Visitor<'de> for PairInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a [name, value] pair")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut pair: A) -> Result<(), A::Error> {
        let missing = |at| de::Error::invalid_length(at, &"a [name, value] pair");
        let name: Text<'de> = pair.next_element()?.ok_or_else(|| missing(0))?;
        let value: Text<'de> = pair.next_element()?.ok_or_else(|| missing(1))?;
        if pair.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &"a [name, value] pair"));
        }
        self.0.push(name.as_str(), value.as_str());
        Ok(())
    }
}

/// A string borrowed from the input when it holds no escapes.
enum Text<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        match self {
            Self::Borrowed(text) => text,
            Self::Owned(text) => text,
        }
    }
}

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text::Borrowed(text))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text::Owned(text.to_string()))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text::Owned(text))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_come_back_in_wire_order_with_duplicates_and_empty_values() {
        let list = HeaderList::from([
            ("content-type", "application/json"),
            ("x-empty", ""),
            ("accept", "a"),
            ("Accept", "b"),
            ("", "no name"),
        ]);
        let back: Vec<(&str, &str)> = list.iter().collect();
        assert_eq!(
            back,
            [
                ("content-type", "application/json"),
                ("x-empty", ""),
                ("accept", "a"),
                ("Accept", "b"),
                ("", "no name"),
            ]
        );
        assert_eq!(list.len(), 5);
        assert_eq!(list.value("ACCEPT"), Some("a"));
        assert_eq!(list.value("missing"), None);
        assert_eq!(list.last(), Some(("", "no name")));
        assert_eq!(list.get(5), None);
        assert!(HeaderList::new().first().is_none());
    }

    #[test]
    fn retain_keeps_the_others_as_they_were() {
        let mut list = HeaderList::from([("a", "1"), ("b", "2"), ("c", "3")]);
        list.retain(|name, value| name != "c" && value != "1");
        assert_eq!(list.iter().collect::<Vec<_>>(), [("b", "2")]);
        assert_eq!(list, HeaderList::from([("b", "2")]));
    }

    #[test]
    fn the_json_form_is_a_list_of_pairs_and_reads_back() {
        let list = HeaderList::from([("x-a", "1"), ("x-a", "\"2\"")]);
        let json = serde_json::to_string(&list).expect("serialise");
        assert_eq!(json, r#"[["x-a","1"],["x-a","\"2\""]]"#);
        let back: HeaderList = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, list);
        for bad in [
            r#"[["x-a"]]"#,
            r#"[["x-a","1","2"]]"#,
            r#"[["x-a",1]]"#,
            r#"{"x-a":"1"}"#,
        ] {
            assert!(serde_json::from_str::<HeaderList>(bad).is_err(), "{bad}");
        }
        let empty: HeaderList = serde_json::from_str("[]").expect("empty list");
        assert!(empty.is_empty());
        assert_eq!(format!("{list:?}"), r#"[("x-a", "1"), ("x-a", "\"2\"")]"#);
    }
}
