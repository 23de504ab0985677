//! Request bodies stored as deltas against an earlier request of the same session.
//!
//! Agents resend the whole conversation every turn: each request is the previous one with a
//! turn added, so two consecutive bodies share a long prefix (system prompt, earlier turns)
//! and usually a suffix (tool definitions after `messages`). A delta keeps only the middle,
//! zstd-compressed, plus the two lengths. Finding them is two linear scans — far cheaper than
//! a zstd dictionary — and a body that does not resemble its reference is simply stored whole.
//!
//! Chains are bounded: a body whose reference is already `MAX_DEPTH` deltas deep is stored
//! whole, so reading any body decodes at most `MAX_DEPTH` frames.

use std::collections::VecDeque;

use bytes::Bytes;
use foldhash::HashMap;

use super::codec::{self, Codec, EncodedBody};
use crate::capture::{ExchangeId, SessionId};

/// Longest chain of deltas behind one body.
pub(super) const MAX_DEPTH: u32 = 32;
/// Recent requests kept per path as candidates; agents interleave small side calls (titles,
/// summaries) with the main conversation on the same path.
const CANDIDATES_PER_PATH: usize = 4;
/// Paths remembered; beyond this the oldest path is forgotten.
const PATHS: usize = 64;
/// A delta must save at least this share of the body to be worth its read-time cost.
const MIN_SHARED: f64 = 0.5;
/// Bytes of the two lengths in front of the compressed middle.
const HEADER: usize = 16;

/// Request bodies decoded recently by a reading connection, so following delta references
/// through a session read in order costs one decode per body.
#[derive(Default)]
pub(super) struct DecodedBodies {
    recent: VecDeque<((SessionId, ExchangeId), Bytes)>,
}

impl DecodedBodies {
    const KEPT: usize = 8;

    pub(super) fn get(&self, session: SessionId, id: ExchangeId) -> Option<Bytes> {
        self.recent
            .iter()
            .find(|(key, _)| *key == (session, id))
            .map(|(_, body)| body.clone())
    }

    pub(super) fn insert(&mut self, session: SessionId, id: ExchangeId, body: Bytes) {
        if self.recent.len() >= Self::KEPT {
            self.recent.pop_front();
        }
        self.recent.push_back(((session, id), body));
    }
}

/// A stored body and, for a delta, the exchange it refers to.
pub(super) struct DeltaEncoded<'a> {
    pub body: EncodedBody<'a>,
    pub reference: Option<ExchangeId>,
    /// Hand back to [`DeltaReferences::remember`] once the row is written.
    pub candidate: Candidate,
}

/// A written request body that later bodies may refer to.
pub(super) struct Candidate {
    key: (SessionId, String),
    id: ExchangeId,
    body: Bytes,
    depth: u32,
}

/// The writer's memory of recent request bodies, by session and path.
#[derive(Default)]
pub(super) struct DeltaReferences {
    paths: HashMap<(SessionId, String), VecDeque<Candidate>>,
    order: VecDeque<(SessionId, String)>,
}

impl DeltaReferences {
    /// Encodes `body` of exchange `id`, as a delta when a recent request on the same path
    /// shares most of it. The result's candidate goes to [`remember`](Self::remember) once
    /// its row is written: only bodies on disk may be referred to.
    pub(super) fn encode<'b>(
        &self,
        session: SessionId,
        uri: &str,
        id: ExchangeId,
        body: &'b Bytes,
    ) -> DeltaEncoded<'b> {
        let key = (session, path_of(uri).to_string());
        let mut best: Option<(&Candidate, (usize, usize))> = None;
        // Newest first, so that of equally good references the newest is taken; a retry
        // shares the whole body with the request it repeats, and nothing can share more.
        let candidates = self.paths.get(&key).into_iter().flatten().rev();
        // A retried batch meets its own earlier attempt here; never refer to oneself.
        for candidate in candidates.filter(|c| c.depth < MAX_DEPTH && c.id != id) {
            let (prefix, suffix) = shared(body, &candidate.body);
            if best.is_none_or(|(_, (p, s))| prefix + suffix > p + s) {
                best = Some((candidate, (prefix, suffix)));
            }
            if prefix + suffix == body.len() {
                break;
            }
        }
        let (body_encoded, reference, depth) = match best {
            Some((candidate, (prefix, suffix)))
                if (prefix + suffix) as f64 >= body.len() as f64 * MIN_SHARED =>
            {
                (
                    encode_delta(body, prefix, suffix),
                    Some(candidate.id),
                    candidate.depth + 1,
                )
            }
            _ => (codec::encode_body(body), None, 0),
        };
        DeltaEncoded {
            body: body_encoded,
            reference,
            candidate: Candidate {
                key,
                id,
                body: body.clone(),
                depth,
            },
        }
    }

    /// Forgets every reference; after a failed write nothing remembered may be on disk.
    pub(super) fn clear(&mut self) {
        self.paths.clear();
        self.order.clear();
    }

    pub(super) fn remember(&mut self, candidate: Candidate) {
        let key = candidate.key.clone();
        if !self.paths.contains_key(&key) {
            if self.order.len() >= PATHS {
                if let Some(oldest) = self.order.pop_front() {
                    self.paths.remove(&oldest);
                }
            }
            self.order.push_back(key.clone());
        }
        let candidates = self.paths.entry(key).or_default();
        if candidates.len() >= CANDIDATES_PER_PATH {
            candidates.pop_front();
        }
        candidates.push_back(candidate);
    }
}

fn path_of(uri: &str) -> &str {
    uri.split_once('?').map_or(uri, |(path, _)| path)
}

/// Lengths of the common prefix and of the common suffix that does not overlap it.
fn shared(body: &[u8], reference: &[u8]) -> (usize, usize) {
    let prefix = common_prefix(body, reference);
    let room = body.len().min(reference.len()) - prefix;
    let suffix = common_suffix(&body[prefix..], &reference[prefix..]).min(room);
    (prefix, suffix)
}

/// Bytes compared at a time, longest first, before the byte-wise finish: slice equality is a
/// `memcmp`, many times faster than comparing byte pairs (which took most of the writer's
/// time on 200 KB bodies). The shorter steps narrow the mismatch inside a 256-byte block to
/// a few bytes; byte by byte, finding it there cost up to 255 pair comparisons per end,
/// per candidate.
const STEPS: [usize; 3] = [256, 32, 4];

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let len = a.len().min(b.len());
    let mut at = 0;
    for step in STEPS {
        while at + step <= len && a[at..at + step] == b[at..at + step] {
            at += step;
        }
    }
    at + a[at..len]
        .iter()
        .zip(&b[at..len])
        .take_while(|(x, y)| x == y)
        .count()
}

fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let len = a.len().min(b.len());
    let (a, b) = (&a[a.len() - len..], &b[b.len() - len..]);
    let mut shared = 0;
    for step in STEPS {
        while shared + step <= len
            && a[len - shared - step..len - shared] == b[len - shared - step..len - shared]
        {
            shared += step;
        }
    }
    shared
        + a[..len - shared]
            .iter()
            .rev()
            .zip(b[..len - shared].iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
}

fn encode_delta(body: &[u8], prefix: usize, suffix: usize) -> EncodedBody<'static> {
    let middle = &body[prefix..body.len() - suffix];
    let compressed = codec::encode(middle);
    let mut bytes = Vec::with_capacity(HEADER + compressed.bytes.len() + 1);
    bytes.extend_from_slice(&(prefix as u64).to_le_bytes());
    bytes.extend_from_slice(&(suffix as u64).to_le_bytes());
    // The middle's own codec (raw or zstd) is kept in one byte so tiny middles stay tiny.
    bytes.push(compressed.codec.tag() as u8);
    bytes.extend_from_slice(&compressed.bytes);
    EncodedBody {
        codec: Codec::Delta,
        bytes: bytes.into(),
    }
}

/// Rebuilds a delta-encoded body from its decoded reference.
pub(super) fn decode_delta(
    stored: &[u8],
    reference: &[u8],
    expected_len: u64,
) -> Result<Vec<u8>, String> {
    let header = stored
        .get(..HEADER + 1)
        .ok_or_else(|| "delta header cut short".to_string())?;
    let read = |range: std::ops::Range<usize>| -> Result<usize, String> {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&header[range]);
        usize::try_from(u64::from_le_bytes(bytes)).map_err(|e| e.to_string())
    };
    let prefix = read(0..8)?;
    let suffix = read(8..16)?;
    let middle_codec = Codec::from_tag(i64::from(header[16]))
        .filter(|c| *c != Codec::Delta)
        .ok_or_else(|| format!("unknown middle codec {}", header[16]))?;
    if prefix.saturating_add(suffix) > reference.len() {
        return Err("delta refers past the end of its reference".into());
    }
    let middle_len = expected_len
        .checked_sub((prefix + suffix) as u64)
        .ok_or_else(|| "delta is longer than its body".to_string())?;
    let middle = codec::decode(middle_codec, &stored[HEADER + 1..], middle_len)?;
    let mut body = Vec::with_capacity(usize::try_from(expected_len).unwrap_or(0));
    body.extend_from_slice(&reference[..prefix]);
    body.extend_from_slice(&middle);
    body.extend_from_slice(&reference[reference.len() - suffix..]);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-by-byte definition `shared` must agree with.
    fn shared_naive(body: &[u8], reference: &[u8]) -> (usize, usize) {
        let prefix = body
            .iter()
            .zip(reference)
            .take_while(|(a, b)| a == b)
            .count();
        let room = body.len().min(reference.len()) - prefix;
        let suffix = body
            .iter()
            .rev()
            .zip(reference.iter().rev())
            .take(room)
            .take_while(|(a, b)| a == b)
            .count();
        (prefix, suffix)
    }

    #[test]
    fn shared_start_and_end_match_a_byte_by_byte_comparison() {
        let text: Vec<u8> = (0..3000u32)
            .map(|n| b"abcdefgh"[(n * 7 % 8) as usize])
            .collect();
        let mut cases: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (text.clone(), text.clone()),
            (text.clone(), text[..1000].to_vec()),
            (text[..1000].to_vec(), text.clone()),
            (text[500..].to_vec(), text.clone()),
            (Vec::new(), text.clone()),
        ];
        for cut in [
            0, 1, 3, 4, 5, 31, 32, 33, 255, 256, 257, 290, 1000, 2711, 2968, 2999,
        ] {
            let mut changed = text.clone();
            changed[cut] ^= 0x20;
            cases.push((changed.clone(), text.clone()));
            let mut grown = text.clone();
            grown.splice(cut..cut, b"a new turn".iter().copied());
            cases.push((grown, text.clone()));
        }
        for (body, reference) in &cases {
            assert_eq!(
                shared(body, reference),
                shared_naive(body, reference),
                "{} vs {} bytes",
                body.len(),
                reference.len()
            );
        }
    }

    fn conversation(turns: usize) -> Bytes {
        let messages: Vec<String> = (0..turns)
            .map(|n| {
                format!(
                    r#"{{"role":"user","content":"turn {n} {}"}}"#,
                    "words ".repeat(50)
                )
            })
            .collect();
        Bytes::from(format!(
            r#"{{"model":"m","messages":[{}],"tools":[{}]}}"#,
            messages.join(","),
            r#"{"name":"read","description":"reads a file"}"#.repeat(40)
        ))
    }

    /// Encodes and remembers, as the store does after a successful write.
    fn encode<'b>(
        refs: &mut DeltaReferences,
        uri: &str,
        id: u64,
        body: &'b Bytes,
    ) -> (Option<ExchangeId>, EncodedBody<'b>) {
        let encoded = refs.encode(SessionId(1), uri, ExchangeId(id), body);
        refs.remember(encoded.candidate);
        (encoded.reference, encoded.body)
    }

    #[test]
    fn a_growing_conversation_is_stored_as_small_deltas() {
        let mut refs = DeltaReferences::default();
        let first = conversation(10);
        assert_eq!(encode(&mut refs, "/v1/chat", 1, &first).0, None);
        let second = conversation(11);
        let (reference, body) = encode(&mut refs, "/v1/chat?x=1", 2, &second);
        assert_eq!(reference, Some(ExchangeId(1)));
        assert!(body.bytes.len() < 200, "{} bytes", body.bytes.len());
        let decoded = decode_delta(&body.bytes, &first, second.len() as u64);
        assert_eq!(decoded.as_deref(), Ok(second.as_ref()));
    }

    #[test]
    fn unrelated_bodies_and_other_paths_are_stored_whole() {
        let mut refs = DeltaReferences::default();
        encode(&mut refs, "/v1/chat", 1, &conversation(5));
        let other = Bytes::from_static(b"{\"completely\":\"different\"}");
        let (reference, body) = encode(&mut refs, "/v1/chat", 2, &other);
        assert_eq!(reference, None);
        let decoded = codec::decode(body.codec, &body.bytes, other.len() as u64);
        assert_eq!(decoded.as_deref(), Ok(other.as_ref()));
        assert_eq!(
            encode(&mut refs, "/v1/messages", 3, &conversation(6)).0,
            None
        );
    }

    #[test]
    fn the_best_of_the_recent_candidates_is_chosen() {
        let mut refs = DeltaReferences::default();
        encode(&mut refs, "/v1/chat", 1, &conversation(8));
        let title = Bytes::from_static(b"{\"model\":\"m\",\"messages\":[\"title please\"]}");
        encode(&mut refs, "/v1/chat", 2, &title);
        let (reference, _) = encode(&mut refs, "/v1/chat", 3, &conversation(9));
        assert_eq!(reference, Some(ExchangeId(1)));
    }

    #[test]
    fn a_retry_refers_to_the_newest_request_it_repeats() {
        let mut refs = DeltaReferences::default();
        let body = conversation(6);
        encode(&mut refs, "/v1/chat", 1, &body);
        assert_eq!(
            encode(&mut refs, "/v1/chat", 2, &body).0,
            Some(ExchangeId(1))
        );
        let (reference, stored) = encode(&mut refs, "/v1/chat", 3, &body);
        assert_eq!(reference, Some(ExchangeId(2)));
        let decoded = decode_delta(&stored.bytes, &body, body.len() as u64);
        assert_eq!(decoded.as_deref(), Ok(body.as_ref()));
    }

    #[test]
    fn an_unwritten_body_is_never_a_reference() {
        let mut refs = DeltaReferences::default();
        let body = conversation(4);
        let lost = refs.encode(SessionId(1), "/v1/chat", ExchangeId(1), &body);
        drop(lost);
        assert_eq!(encode(&mut refs, "/v1/chat", 2, &conversation(5)).0, None);
        refs.clear();
        assert_eq!(encode(&mut refs, "/v1/chat", 3, &conversation(6)).0, None);
    }

    #[test]
    fn chains_stop_at_the_maximum_depth() {
        let mut refs = DeltaReferences::default();
        let mut whole = 0;
        for n in 0..(MAX_DEPTH as usize * 2 + 4) {
            let (reference, _) = encode(&mut refs, "/v1/chat", n as u64, &conversation(n + 1));
            whole += usize::from(reference.is_none());
        }
        assert!(whole >= 2, "{whole} whole bodies");
    }

    #[test]
    fn damaged_deltas_are_errors() {
        assert!(decode_delta(b"short", b"ref", 10).is_err());
        let mut bad = Vec::new();
        bad.extend_from_slice(&100u64.to_le_bytes());
        bad.extend_from_slice(&0u64.to_le_bytes());
        bad.push(0);
        assert!(decode_delta(&bad, b"tiny reference", 100).is_err());
    }
}
