//! An incremental, total Server-Sent Events parser: any bytes in any chunking give the same
//! events, nothing panics, and memory stays bounded by `max_event_bytes`.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when the stream named one.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// Whether `data` was cut at the parser's size limit.
    pub truncated: bool,
}

/// Feed it chunks with [`push`](Self::push); it returns the events each chunk completes.
#[derive(Debug)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous chunk ended in `\r`, so a leading `\n` in the next one ends nothing.
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    truncated: bool,
    max_event_bytes: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new(8 * 1024 * 1024)
    }
}

impl SseParser {
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            line: Vec::new(),
            after_cr: false,
            event: None,
            data: String::new(),
            has_data: false,
            truncated: false,
            max_event_bytes,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in chunk {
            let after_cr = std::mem::take(&mut self.after_cr);
            match byte {
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(event) = self.take_line(&line) {
                        events.push(event);
                    }
                }
                _ if self.line.len() < self.max_event_bytes => self.line.push(byte),
                _ => self.truncated = true,
            }
        }
        events
    }

    /// Whether bytes are waiting for a line end or an event for its blank line; at the end of
    /// a stream this means the stream was cut mid-event.
    pub fn has_partial_event(&self) -> bool {
        !self.line.is_empty() || self.has_data
    }

    fn take_line(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        let text = String::from_utf8_lossy(line);
        if text.starts_with(':') {
            return None;
        }
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => self.append_data(value),
            _ => {}
        }
        None
    }

    fn append_data(&mut self, value: &str) {
        if self.has_data {
            // The separator counts against the limit too, or a run of empty `data:` lines
            // would grow the event by a byte each without end.
            if self.data.len() < self.max_event_bytes {
                self.data.push('\n');
            } else {
                self.truncated = true;
            }
        }
        self.has_data = true;
        let room = self.max_event_bytes.saturating_sub(self.data.len());
        if value.len() <= room {
            self.data.push_str(value);
        } else {
            let mut cut = room;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            self.data.push_str(&value[..cut]);
            self.truncated = true;
        }
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        let truncated = std::mem::take(&mut self.truncated);
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            truncated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::default();
        chunks.iter().flat_map(|c| parser.push(c)).collect()
    }

    #[test]
    fn parses_named_and_unnamed_events() {
        let events = parse_all(&[b"event: message_start\ndata: {\"a\":1}\n\ndata: [DONE]\n\n"]);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].event.as_deref(), Some("message_start"));
        assert_eq!(events[0].data, "{\"a\":1}");
        assert_eq!(events[1].event, None);
        assert_eq!(events[1].data, "[DONE]");
    }

    #[test]
    fn any_chunking_and_line_ending_gives_the_same_events() {
        let whole: &[u8] = b"data: one\r\ndata: two\r\n\r\n: comment\rdata:three\r\r";
        let expected = parse_all(&[whole]);
        assert_eq!(expected.len(), 2);
        assert_eq!(expected[0].data, "one\ntwo");
        assert_eq!(expected[1].data, "three");
        for split in 0..whole.len() {
            let (a, b) = whole.split_at(split);
            assert_eq!(parse_all(&[a, b]), expected, "split at {split}");
        }
    }

    #[test]
    fn oversized_event_is_truncated_not_buffered() {
        let mut parser = SseParser::new(16);
        let mut input = b"data: ".to_vec();
        input.extend(std::iter::repeat_n(b'x', 1000));
        input.extend_from_slice(b"\n\n");
        let events = parser.push(&input);
        assert_eq!(events.len(), 1);
        assert!(events[0].truncated);
        assert!(events[0].data.len() <= 16);
    }

    #[test]
    fn many_empty_data_lines_stay_within_the_limit() {
        let mut parser = SseParser::new(16);
        let mut input = b"data: 123456789\n".to_vec();
        for _ in 0..1000 {
            input.extend_from_slice(b"data:\n");
        }
        input.extend_from_slice(b"\n");
        let events = parser.push(&input);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, format!("123456789{}", "\n".repeat(7)));
        assert!(events[0].truncated);
    }

    #[test]
    fn cut_stream_leaves_a_partial_event() {
        let mut parser = SseParser::default();
        parser.push(b"data: {\"par");
        assert!(parser.has_partial_event());
    }
}
