//! The exchanges behind the panes: the full records of the most recently finished ones, kept
//! in memory so selecting them needs no store read, and what has arrived so far of those in
//! flight.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::capture::{ExchangeId, ExchangeRecord, ExchangeStart};
use crate::llm::{DecodedResponse, SseEvent, SseParser};
use crate::tui::present::body;
use crate::tui::present::llm_adapter::LiveAssembler;
use crate::tui::present::response::LiveHead;

/// How many finished records stay in memory; older ones are loaded again when selected.
pub const RECENT_RECORDS: usize = 256;
/// How much of a reply in flight is kept for the live view; `Finished` brings the whole body.
const LIVE_BODY_CAP: usize = 8 * 1024 * 1024;

/// The most recently finished or viewed records, oldest evicted first.
#[derive(Debug, Default)]
pub struct RecentRecords {
    records: HashMap<ExchangeId, Arc<ExchangeRecord>>,
    order: VecDeque<ExchangeId>,
}

impl RecentRecords {
    pub fn insert(&mut self, record: Arc<ExchangeRecord>) {
        let id = record.id();
        if self.records.insert(id, record).is_some() {
            self.order.retain(|&kept| kept != id);
        }
        self.order.push_back(id);
        while self.order.len() > RECENT_RECORDS {
            if let Some(old) = self.order.pop_front() {
                self.records.remove(&old);
            }
        }
    }

    pub fn get(&self, id: ExchangeId) -> Option<&Arc<ExchangeRecord>> {
        self.records.get(&id)
    }

    /// Marks `id` as just used, so viewing an exchange keeps it in memory longer.
    pub fn touch(&mut self, id: ExchangeId) {
        if self.records.contains_key(&id) {
            self.order.retain(|&kept| kept != id);
            self.order.push_back(id);
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// What has arrived so far of an exchange in flight.
#[derive(Debug)]
pub struct LiveExchange {
    pub start: Arc<ExchangeStart>,
    pub head: Option<LiveHead>,
    /// Reply body bytes seen, counting those not kept.
    pub received: u64,
    /// The body so far, for replies that are not event streams (up to the live cap).
    pub body: Vec<u8>,
    /// The events so far, for event streams (up to the live cap of data).
    pub events: Vec<SseEvent>,
    event_bytes: usize,
    sse: Option<SseParser>,
    assembler: LiveAssembler,
}

impl LiveExchange {
    pub fn new(start: Arc<ExchangeStart>) -> Self {
        Self {
            assembler: LiveAssembler::new(start.dialect),
            start,
            head: None,
            received: 0,
            body: Vec::new(),
            events: Vec::new(),
            event_bytes: 0,
            sse: None,
        }
    }

    pub fn set_head(&mut self, head: LiveHead) {
        if body::is_event_stream(&head.headers) {
            self.sse = Some(SseParser::default());
        }
        self.head = Some(head);
    }

    pub fn push(&mut self, data: &[u8]) {
        self.received += data.len() as u64;
        self.assembler.push(data);
        match &mut self.sse {
            Some(parser) => {
                for event in parser.push(data) {
                    if self.event_bytes < LIVE_BODY_CAP {
                        self.event_bytes += event.data.len();
                        self.events.push(event);
                    }
                }
            }
            None => {
                let room = LIVE_BODY_CAP.saturating_sub(self.body.len());
                self.body.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
    }

    pub fn is_event_stream(&self) -> bool {
        self.sse.is_some()
    }

    /// The answer as assembled from the chunks so far.
    pub fn assembled(&self) -> Option<DecodedResponse> {
        self.assembler.snapshot()
    }
}
