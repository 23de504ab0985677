//! How bodies are compressed on disk.
//!
//! Each stored body carries a codec tag in its row, so a later scheme (a dictionary trained on
//! a session, or deltas against the previous request, which agents resend with a growing
//! prefix) can replace zstd for new rows while old rows stay readable.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::io::Read;

/// zstd's default level: fast enough for the writer thread to keep up with streaming replies.
const ZSTD_LEVEL: i32 = 3;
/// zstd's fast mode, for a writer that has fallen behind: several times quicker than level 3
/// on agent JSON, still about a third of its size.
const HURRIED_LEVEL: i32 = -3;
/// Below this, zstd's per-frame table set-up costs more time than the few hundred bytes it
/// would save are worth.
const MIN_COMPRESSED_LEN: usize = 2048;
/// Below this even a delta's middle is kept as it is: zstd -3 spends about 39,000
/// instructions on a 128-byte middle of agent JSON to save 8 bytes of it (callgrind).
const MIN_COMPRESSED_MIDDLE: usize = 256;

/// How much time the writer thread can give each body: how hard to compress it, and whether to
/// read the token counts out of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effort {
    /// The usual: compress well.
    Normal,
    /// Events are queueing in memory faster than they are written: compress fast and skip
    /// token counts, so the queue drains and memory stays bounded, at the cost of a larger
    /// file and empty token columns for this stretch.
    Hurried,
}

impl Effort {
    fn level(self) -> i32 {
        match self {
            Self::Normal => ZSTD_LEVEL,
            Self::Hurried => HURRIED_LEVEL,
        }
    }
}

/// How a stored body was encoded. The numbers are written to disk; never reuse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Codec {
    /// Bytes as they are (empty bodies, and bodies zstd cannot shrink).
    Raw,
    /// One zstd frame per body.
    Zstd,
    /// A delta against an earlier request body (see `delta.rs`).
    Delta,
}

impl Codec {
    pub(super) fn tag(self) -> i64 {
        match self {
            Self::Raw => 0,
            Self::Zstd => 1,
            Self::Delta => 2,
        }
    }

    pub(super) fn from_tag(tag: i64) -> Option<Self> {
        match tag {
            0 => Some(Self::Raw),
            1 => Some(Self::Zstd),
            2 => Some(Self::Delta),
            _ => None,
        }
    }
}

/// A body ready for its row.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct EncodedBody<'a> {
    pub codec: Codec,
    /// Borrowed from the captured body when stored as it is: a row's bytes are copied into
    /// SQLite anyway, so a copy here would be a second one.
    pub bytes: Cow<'a, [u8]>,
}

impl EncodedBody<'_> {
    /// `None` for an empty body, so it costs a NULL rather than a zero-length blob.
    pub(super) fn stored(&self) -> Option<&[u8]> {
        (!self.bytes.is_empty()).then_some(&*self.bytes)
    }
}

/// Encodes a whole body; small ones are kept as they are.
pub(super) fn encode_body(raw: &[u8]) -> EncodedBody<'_> {
    if raw.len() < MIN_COMPRESSED_LEN {
        return EncodedBody {
            codec: Codec::Raw,
            bytes: Cow::Borrowed(raw),
        };
    }
    encode(raw)
}

/// Encodes bytes from [`MIN_COMPRESSED_MIDDLE`] up, compressed when that makes them smaller.
/// Delta middles use it directly: they are all that is stored of a request, so most bytes
/// saved count.
pub(super) fn encode(raw: &[u8]) -> EncodedBody<'_> {
    if raw.len() < MIN_COMPRESSED_MIDDLE {
        return EncodedBody {
            codec: Codec::Raw,
            bytes: Cow::Borrowed(raw),
        };
    }
    match compress(raw) {
        Ok(compressed) if compressed.len() < raw.len() => EncodedBody {
            codec: Codec::Zstd,
            bytes: Cow::Owned(compressed),
        },
        // Compression only fails on allocation; storing the bytes raw loses nothing.
        _ => EncodedBody {
            codec: Codec::Raw,
            bytes: Cow::Borrowed(raw),
        },
    }
}

thread_local! {
    /// One zstd context per thread (in practice: the writer thread), because creating one per
    /// body cost more than compressing a small body (it probes the CPU, slow in a VM).
    static COMPRESSOR: RefCell<Option<(zstd::bulk::Compressor<'static>, Effort)>> =
        const { RefCell::new(None) };
    static EFFORT: Cell<Effort> = const { Cell::new(Effort::Normal) };
}

/// Sets the effort for bodies encoded on this thread from now on (the writer thread sets it
/// from how far behind it is).
pub(crate) fn set_effort(effort: Effort) {
    EFFORT.with(|cell| cell.set(effort));
}

/// The effort set for this thread.
pub(crate) fn effort() -> Effort {
    EFFORT.with(Cell::get)
}

fn compress(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let effort = EFFORT.with(Cell::get);
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let (compressor, level) = match slot.as_mut() {
            Some(ready) => ready,
            None => slot.insert((zstd::bulk::Compressor::new(effort.level())?, effort)),
        };
        if *level != effort {
            compressor.set_compression_level(effort.level())?;
            *level = effort;
        }
        compressor.compress(raw)
    })
}

/// Decodes a stored body that must come out `expected_len` bytes long. The length bounds the
/// work, so a damaged frame cannot expand without limit.
pub(super) fn decode(codec: Codec, stored: &[u8], expected_len: u64) -> Result<Vec<u8>, String> {
    let bytes = match codec {
        Codec::Raw => stored.to_vec(),
        Codec::Delta => return Err("a delta needs its reference body to decode".into()),
        Codec::Zstd => {
            let decoder = zstd::stream::read::Decoder::new(stored)
                .map_err(|e| format!("zstd frame unreadable: {e}"))?;
            let mut out = Vec::new();
            decoder
                .take(expected_len.saturating_add(1))
                .read_to_end(&mut out)
                .map_err(|e| format!("zstd frame damaged: {e}"))?;
            out
        }
    };
    if bytes.len() as u64 != expected_len {
        return Err(format!(
            "body decodes to {} bytes, the row says {expected_len}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_body_round_trips_through_zstd() {
        let raw: Vec<u8> = (0..10_000u32).map(|n| (n % 7) as u8 ^ 0xF0).collect();
        let encoded = encode(&raw);
        assert_eq!(encoded.codec, Codec::Zstd);
        assert!(encoded.bytes.len() < raw.len());
        let decoded = decode(encoded.codec, &encoded.bytes, raw.len() as u64);
        assert_eq!(decoded.as_deref(), Ok(raw.as_slice()));
    }

    #[test]
    fn empty_body_is_stored_as_null() {
        let encoded = encode(b"");
        assert_eq!(encoded.codec, Codec::Raw);
        assert_eq!(encoded.stored(), None);
        assert_eq!(decode(Codec::Raw, b"", 0), Ok(Vec::new()));
    }

    #[test]
    fn body_zstd_cannot_shrink_is_stored_raw() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        assert_eq!(encode(b"{}").codec, Codec::Raw);
        let encoded = encode(&noise);
        assert_eq!(encoded.codec, Codec::Raw);
        assert_eq!(encoded.bytes, noise);
    }

    #[test]
    fn small_bodies_are_stored_as_they_are() {
        let encoded = encode_body(&[b'a'; 1000]);
        assert_eq!(encoded.codec, Codec::Raw);
        assert_eq!(encoded.bytes.len(), 1000);
        assert_eq!(encoded.stored(), Some(&[b'a'; 1000][..]));
        // A delta's middle is compressed from a smaller size on.
        let middle = encode(&[b'a'; MIN_COMPRESSED_MIDDLE - 1]);
        assert_eq!(middle.codec, Codec::Raw);
        assert_eq!(middle.bytes.len(), MIN_COMPRESSED_MIDDLE - 1);
        assert_eq!(encode(&[b'a'; MIN_COMPRESSED_MIDDLE]).codec, Codec::Zstd);
    }

    #[test]
    fn hurried_bodies_still_round_trip() {
        let raw: Vec<u8> = b"{\"role\":\"user\",\"content\":\"again\"}"
            .iter()
            .copied()
            .cycle()
            .take(50_000)
            .collect();
        let normal = encode(&raw);
        set_effort(Effort::Hurried);
        let hurried = encode(&raw);
        set_effort(Effort::Normal);
        assert_eq!(hurried.codec, Codec::Zstd);
        assert!(hurried.bytes.len() < raw.len() / 4);
        for encoded in [normal, hurried] {
            let decoded = decode(encoded.codec, &encoded.bytes, raw.len() as u64);
            assert_eq!(decoded.as_deref(), Ok(raw.as_slice()));
        }
    }

    #[test]
    fn length_mismatch_is_an_error_not_a_wrong_body() {
        let encoded = encode(&[b'a'; 4096]);
        assert!(decode(encoded.codec, &encoded.bytes, 100).is_err());
        assert!(decode(encoded.codec, &encoded.bytes, 5000).is_err());
        assert!(decode(Codec::Zstd, b"not zstd at all", 15).is_err());
    }

    #[test]
    fn codec_tags_round_trip_and_unknown_tags_are_refused() {
        for codec in [Codec::Raw, Codec::Zstd, Codec::Delta] {
            assert_eq!(Codec::from_tag(codec.tag()), Some(codec));
        }
        assert_eq!(Codec::from_tag(99), None);
    }
}
