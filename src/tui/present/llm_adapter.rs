//! The TUI's only door to the LLM decoders and the diagnosis, so that changing their
//! signatures touches this one file. Views never call the decoders: they take the decoded
//! values as input, which keeps them testable with hand-built values.

use crate::capture::{ExchangeRecord, ExchangeStart};
use crate::llm::{self, DecodedRequest, DecodedResponse, Dialect, ResponseAssembler};

use super::body;

/// The request body read as an LLM call, or `None` when it is not one this dialect knows.
pub fn decode_request(dialect: Dialect, body: &[u8]) -> Option<DecodedRequest> {
    llm::decode_request(dialect, body)
}

/// A whole reply body (JSON or a complete SSE stream) read as an LLM answer.
pub fn decode_response(
    dialect: Dialect,
    content_type: Option<&str>,
    body: &[u8],
) -> Option<DecodedResponse> {
    llm::decode_response(dialect, content_type, body)
}

/// The request of `start` read as an LLM call, with the model the exchange was started with
/// where the body names none (Gemini names it in the path).
pub fn decode_start(start: &ExchangeStart) -> Option<DecodedRequest> {
    let mut request = decode_request(start.dialect, &start.request.body)?;
    if request.model.is_none() {
        request.model.clone_from(&start.model);
    }
    Some(request)
}

/// The reply of a finished exchange read as an LLM answer.
pub fn decode_record_response(record: &ExchangeRecord) -> Option<DecodedResponse> {
    let response = record.response.as_ref()?;
    let content_type = body::header_value(&response.headers, "content-type");
    decode_response(record.start.dialect, content_type, &response.body)
}

/// One line on the likely cause of a failed LLM call (context too long, tool pairing, …).
pub fn diagnosis_summary(status: Option<u16>, message: &str) -> Option<String> {
    llm::diagnose(status, message).map(|d| d.summary)
}

/// Assembles a reply while its stream arrives, for the live response pane. Fed every chunk
/// once, so a long stream costs linear time rather than a re-decode per chunk.
#[derive(Debug)]
pub struct LiveAssembler {
    /// `None` for APIs llmscope cannot decode.
    inner: Option<ResponseAssembler>,
}

impl LiveAssembler {
    pub fn new(dialect: Dialect) -> Self {
        let inner = (dialect != Dialect::Unknown).then(|| ResponseAssembler::new(dialect));
        Self { inner }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        if let Some(inner) = &mut self.inner {
            inner.push(chunk);
        }
    }

    /// The answer as assembled so far; `None` when the dialect has no decoder.
    pub fn snapshot(&self) -> Option<DecodedResponse> {
        self.inner.as_ref().map(ResponseAssembler::snapshot)
    }
}
