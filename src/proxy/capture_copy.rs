//! The record's copy of a reply body as it passes through, and the live views' share of it.

use bytes::{Bytes, BytesMut};

use super::guard::ExchangeGuard;
use crate::capture::{CaptureEvent, CapturedResponse, HeaderList};

/// The capture copy of a reply body, bounded by the capture cap. It holds the chunks the agent
/// was sent (reference-counted) while the reply lasts and copies them once, when it has ended,
/// into a buffer of the body's own size: a chunk is a slice of the client's read buffer, and a
/// record holding it would keep that whole buffer alive in the writer's queue, unseen by the
/// queue's memory bound.
pub struct CaptureBuffer {
    chunks: Vec<Bytes>,
    kept: usize,
    total: u64,
    cap: usize,
}

impl CaptureBuffer {
    pub fn new(cap: usize) -> Self {
        Self {
            chunks: Vec::new(),
            kept: 0,
            total: 0,
            cap,
        }
    }

    pub fn push(&mut self, chunk: &Bytes) {
        self.total += chunk.len() as u64;
        let room = self.cap.saturating_sub(self.kept);
        if room > 0 && !chunk.is_empty() {
            let kept = chunk.slice(..chunk.len().min(room));
            self.kept += kept.len();
            self.chunks.push(kept);
        }
    }

    pub fn into_response(self, status: u16, headers: HeaderList) -> CapturedResponse {
        CapturedResponse {
            status,
            headers,
            body: copy_whole(&self.chunks),
            body_len: self.total,
        }
    }
}

/// The chunks copied into one buffer of exactly their size.
pub fn copy_whole(chunks: &[Bytes]) -> Bytes {
    let len = chunks.iter().map(Bytes::len).sum();
    let mut joined = BytesMut::with_capacity(len);
    for chunk in chunks {
        joined.extend_from_slice(chunk);
    }
    joined.freeze()
}

/// Publishes a piece of the reply for live views, when any is watching.
pub fn publish_chunk(guard: &ExchangeGuard, chunk: &Bytes) {
    if guard.bus().wants_live_detail() {
        guard.bus().publish(CaptureEvent::ResponseChunk {
            id: guard.start.id,
            data: chunk.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record must not pin the client's read buffer the chunks were cut from: the writer's
    /// queue bounds the bytes it holds by the bodies' lengths.
    #[test]
    fn the_recorded_body_is_a_buffer_of_its_own_cut_at_the_cap() {
        let read_buffer = Bytes::from(vec![b'x'; 64 * 1024]);
        let mut capture = CaptureBuffer::new(1500);
        capture.push(&read_buffer.slice(0..1000));
        capture.push(&read_buffer.slice(1000..2000));
        let response = capture.into_response(200, HeaderList::new());
        assert_eq!(response.body.len(), 1500);
        assert_eq!(response.body_len, 2000);
        let range = read_buffer.as_ptr_range();
        assert!(
            !range.contains(&response.body.as_ptr()),
            "a copy, not a slice"
        );

        let mut one = CaptureBuffer::new(1 << 20);
        one.push(&read_buffer.slice(0..1024));
        let response = one.into_response(200, HeaderList::new());
        assert_eq!(&response.body[..], &read_buffer[..1024]);
        assert!(
            !range.contains(&response.body.as_ptr()),
            "a copy, not a slice"
        );
    }
}
