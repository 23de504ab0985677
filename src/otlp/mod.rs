//! Traces for teams that outgrow one laptop: each finished exchange becomes one OpenTelemetry
//! span following the GenAI semantic conventions, sent over OTLP/HTTP (protobuf) to a collector
//! (OpenTelemetry Collector, Jaeger, Tempo, Langfuse).
//!
//! A bus subscriber like the store: it reads `Finished` records on its own thread and hands
//! spans to the SDK's batch processor. It must never slow the proxy: spans beyond a bounded
//! backlog are dropped and counted, a dead or slow collector only costs spans, and export
//! problems are kept (once) for the caller to report. Records are already redacted at capture;
//! the collector's own credentials (`--otlp-header`) are never displayed.

mod client;
mod endpoint;
mod export;
mod health;
mod messages;
mod request_params;
mod servers;
mod span;

pub use endpoint::{OtlpEndpoint, OtlpHeader, OtlpSettings, OtlpSettingsError};
pub use export::{OtlpExport, OtlpStartError};
pub use health::ExportHealth;
pub use servers::UpstreamMap;
pub use span::{span_plan, SpanPlan};
