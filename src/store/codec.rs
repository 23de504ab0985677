//! How bodies are compressed on disk.
//!
//! Each stored body carries a codec tag in its row, so a later scheme (a dictionary trained on
//! a session, or deltas against the previous request, which agents resend with a growing
//! prefix) can replace zstd for new rows while old rows stay readable.

use std::cell::RefCell;
use std::io::Read;

/// zstd's default level: fast enough for the writer thread to keep up with streaming replies.
const ZSTD_LEVEL: i32 = 3;

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
pub(super) struct EncodedBody {
    pub codec: Codec,
    pub bytes: Vec<u8>,
}

impl EncodedBody {
    /// `None` for an empty body, so it costs a NULL rather than a zero-length blob.
    pub(super) fn stored(&self) -> Option<&[u8]> {
        (!self.bytes.is_empty()).then_some(self.bytes.as_slice())
    }
}

pub(super) fn encode(raw: &[u8]) -> EncodedBody {
    if raw.is_empty() {
        return EncodedBody {
            codec: Codec::Raw,
            bytes: Vec::new(),
        };
    }
    match compress(raw) {
        Ok(compressed) if compressed.len() < raw.len() => EncodedBody {
            codec: Codec::Zstd,
            bytes: compressed,
        },
        // Compression only fails on allocation; storing the bytes raw loses nothing.
        _ => EncodedBody {
            codec: Codec::Raw,
            bytes: raw.to_vec(),
        },
    }
}

thread_local! {
    /// One zstd context per thread (in practice: the writer thread), because creating one per
    /// body cost more than compressing a small body (it probes the CPU, slow in a VM).
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
}

fn compress(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(compressor) => compressor,
            None => slot.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL)?),
        };
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
        let encoded = encode(b"{}");
        assert_eq!(encoded.codec, Codec::Raw);
        assert_eq!(encoded.bytes, b"{}");
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
