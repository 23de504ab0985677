//! The exchange model and the capture event bus.
//!
//! The proxy describes every exchange with these types and publishes them as [`CaptureEvent`]s;
//! the store and the TUI consume them. Nothing here performs I/O, and publishing never waits.

mod bus;
mod classify;
mod exchange;
mod headers;
mod redact;
#[cfg(test)]
pub(crate) mod test_fixtures;

pub use bus::{within_byte_limit, BusStats, CaptureBus, Interest, Received, Subscription, Tap};
pub use classify::{classify_failure, upstream_error_message, Failure, FailureClass};
pub use exchange::{
    provider_target, CaptureEvent, CapturedRequest, CapturedResponse, Derived, ExchangeId,
    ExchangeRecord, ExchangeStart, ExchangeState, HoldOutcome, Lineage, Origin, Rewrite, SessionId,
    Timing, PROVIDER_PREFIX,
};
pub use headers::HeaderList;
pub use redact::{
    form_decode, has_secret_param, is_credential_header, is_secret_header, is_secret_param,
    redact_headers, redact_target, redacted_pieces, REDACTED,
};
