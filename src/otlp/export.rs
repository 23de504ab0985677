//! The subscriber: finished records in, spans out through the SDK's batch processor and the
//! OTLP/HTTP protobuf exporter. Runs on its own thread, like the store's writer, because
//! reading a request body as a conversation is CPU work the async runtime should not carry.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanKind, Status, Tracer as _, TracerProvider as _,
};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanData,
};
use opentelemetry_sdk::Resource;

use super::client::CollectorClient;
use super::endpoint::{OtlpEndpoint, OtlpSettings};
use super::health::ExportHealth;
use super::servers::UpstreamMap;
use super::span::{span_plan, SpanPlan};
use crate::capture::{CaptureEvent, ExchangeId, Subscription};

/// Spans waiting for the collector at most; past it new ones are dropped (and counted), so a
/// slow collector costs spans, never memory or the proxy's time.
const MAX_BACKLOG: usize = 2048;
const MAX_BATCH: usize = 512;
/// Finished records waiting for this thread at most; past it they are counted dropped
/// without being read, so a burst the exporter cannot follow does not keep records (and
/// their bodies) alive in its queue.
const MAX_PENDING_EVENTS: usize = 512;
/// Span contexts kept for links from later exchanges (resends, retry loops).
const REMEMBERED_SPANS: usize = 4096;
/// How long one export may take, connect included.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long stopping waits for the last spans to reach the collector.
const FINISH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the export could not start.
#[derive(Debug, thiserror::Error)]
pub enum OtlpStartError {
    #[error("building the HTTP client for the OTLP export: {0}")]
    Client(#[from] reqwest::Error),
    #[error("setting up the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("starting the OTLP export thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// A running export. [`finish`](Self::finish) once the bus is closed.
pub struct OtlpExport {
    endpoint: OtlpEndpoint,
    health: Arc<ExportHealth>,
    thread: JoinHandle<()>,
}

impl OtlpExport {
    /// Starts exporting every exchange `events` delivers from now on. `runtime` carries the
    /// HTTP requests to the collector.
    pub fn start(
        settings: &OtlpSettings,
        upstreams: UpstreamMap,
        events: Subscription,
        runtime: tokio::runtime::Handle,
    ) -> Result<Self, OtlpStartError> {
        let health = Arc::new(ExportHealth::default());
        let client = CollectorClient::new(runtime, health.clone(), EXPORT_TIMEOUT)?;
        let headers: HashMap<String, String> = settings
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.value().to_string()))
            .collect();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(settings.endpoint.as_str())
            .with_timeout(EXPORT_TIMEOUT)
            .with_headers(headers)
            .build()?;
        let exporter = CountingExporter {
            inner: exporter,
            health: health.clone(),
        };
        let batches = BatchConfigBuilder::default()
            .with_max_queue_size(MAX_BACKLOG)
            .with_max_export_batch_size(MAX_BATCH)
            .with_scheduled_delay(Duration::from_secs(1))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_resource(
                Resource::builder()
                    .with_service_name("llmscope")
                    .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                    .build(),
            )
            .with_span_processor(
                BatchSpanProcessor::builder(exporter)
                    .with_batch_config(batches)
                    .build(),
            )
            .build();
        let subscriber = Subscriber {
            tracer: provider.tracer("llmscope"),
            provider,
            upstreams,
            bodies: settings.bodies,
            health: health.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("llmscope-otlp".into())
            .spawn(move || subscriber.run(events))?;
        Ok(Self {
            endpoint: settings.endpoint.clone(),
            health,
            thread,
        })
    }

    pub fn health(&self) -> Arc<ExportHealth> {
        self.health.clone()
    }

    pub fn endpoint(&self) -> &OtlpEndpoint {
        &self.endpoint
    }

    /// Waits (up to a few seconds for a collector that does not answer) until the spans of
    /// every exchange the closed bus delivered are exported or counted lost. Blocks: call it
    /// on a blocking thread.
    pub fn finish(self) -> Arc<ExportHealth> {
        // A panic on the export thread loses spans, never the record: say what is known.
        let _ = self.thread.join();
        self.health
    }
}

struct Subscriber {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    upstreams: UpstreamMap,
    bodies: bool,
    health: Arc<ExportHealth>,
}

impl Subscriber {
    fn run(self, mut events: Subscription) {
        let mut spans = SpanMemory::default();
        while let Some(event) = events.blocking_recv() {
            let CaptureEvent::Finished(record) = event else {
                continue;
            };
            let behind = events.pending() > MAX_PENDING_EVENTS;
            if behind || self.health.backlog() >= MAX_BACKLOG as u64 {
                self.health.note_dropped();
                continue;
            }
            let plan = span_plan(&record, &self.upstreams, self.bodies);
            self.health.note_queued();
            let context = self.emit(plan, &spans);
            spans.remember(record.id(), context);
        }
        // The processor's own shutdown error says no more than the counts do.
        let _ = self.provider.shutdown_with_timeout(FINISH_TIMEOUT);
    }

    fn emit(&self, plan: SpanPlan, spans: &SpanMemory) -> SpanContext {
        let links = plan
            .follows
            .iter()
            .filter_map(|id| spans.get(*id))
            .map(|context| Link::with_context(context.clone()))
            .collect();
        let mut span = self
            .tracer
            .span_builder(plan.name)
            .with_kind(SpanKind::Client)
            .with_start_time(plan.start)
            .with_attributes(plan.attributes)
            .with_links(links)
            .start(&self.tracer);
        if let Some(description) = plan.error {
            span.set_status(Status::error(description));
        }
        let context = span.span_context().clone();
        span.end_with_timestamp(plan.end);
        context
    }
}

/// The span contexts of the latest exchanges, oldest forgotten first.
#[derive(Default)]
struct SpanMemory {
    contexts: HashMap<ExchangeId, SpanContext>,
    order: VecDeque<ExchangeId>,
}

impl SpanMemory {
    fn remember(&mut self, id: ExchangeId, context: SpanContext) {
        if self.order.len() >= REMEMBERED_SPANS {
            if let Some(oldest) = self.order.pop_front() {
                self.contexts.remove(&oldest);
            }
        }
        self.order.push_back(id);
        self.contexts.insert(id, context);
    }

    fn get(&self, id: ExchangeId) -> Option<&SpanContext> {
        self.contexts.get(&id)
    }
}

/// The OTLP exporter, counting what each export did with its spans.
#[derive(Debug)]
struct CountingExporter {
    inner: opentelemetry_otlp::SpanExporter,
    health: Arc<ExportHealth>,
}

impl opentelemetry_sdk::trace::SpanExporter for CountingExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        let result = self.inner.export(batch).await;
        self.health.note_export(spans, result.is_ok());
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
