//! A stand-in OTLP/HTTP collector on loopback: keeps what each export carried and decodes it
//! with the protocol's own protobuf messages.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// How the receiver treats an export.
#[derive(Clone, Copy, PartialEq)]
pub enum Answer {
    /// 200 with an empty `ExportTraceServiceResponse`, as a collector does.
    Accept,
    /// Reads the request, then never answers.
    Never,
}

struct Export {
    headers: HashMap<String, String>,
    body: Bytes,
}

/// An OTLP/HTTP receiver on its own thread and runtime, so the test may block (waiting for
/// `record` to exit) while `record` is still sending to it.
pub struct Collector {
    pub addr: SocketAddr,
    exports: Arc<Mutex<Vec<Export>>>,
}

impl Collector {
    pub fn start(answer: Answer) -> Self {
        let exports = Arc::new(Mutex::new(Vec::new()));
        let kept = exports.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                tx.send(listener.local_addr().expect("addr")).expect("send");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let kept = kept.clone();
                    tokio::spawn(async move {
                        let service =
                            service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                                let kept = kept.clone();
                                async move {
                                    let headers = request
                                        .headers()
                                        .iter()
                                        .map(|(n, v)| {
                                            (n.to_string(), v.to_str().unwrap_or("").to_string())
                                        })
                                        .collect();
                                    let body = request.into_body().collect().await?.to_bytes();
                                    kept.lock().expect("lock").push(Export { headers, body });
                                    if answer == Answer::Never {
                                        std::future::pending::<()>().await;
                                    }
                                    let mut reply = hyper::Response::new(Full::new(Bytes::new()));
                                    reply.headers_mut().insert(
                                        "content-type",
                                        "application/x-protobuf".parse().expect("value"),
                                    );
                                    Ok::<_, hyper::Error>(reply)
                                }
                            });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        let addr = rx.recv().expect("collector address");
        Self { addr, exports }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn exports(&self) -> Vec<(HashMap<String, String>, Bytes)> {
        self.exports
            .lock()
            .expect("lock")
            .iter()
            .map(|e| (e.headers.clone(), e.body.clone()))
            .collect()
    }

    /// Every span received, decoded, with the resource's `service.name` it came under.
    pub fn spans(&self) -> Vec<(String, Span)> {
        let mut spans = Vec::new();
        for (_, body) in self.exports() {
            let request = ExportTraceServiceRequest::decode(body).expect("a valid OTLP request");
            for resource_spans in request.resource_spans {
                let service = resource_spans
                    .resource
                    .as_ref()
                    .and_then(|r| string(&r.attributes, "service.name"))
                    .unwrap_or_default();
                for scope in resource_spans.scope_spans {
                    spans.extend(scope.spans.into_iter().map(|s| (service.clone(), s)));
                }
            }
        }
        spans.sort_by_key(|(_, s)| int(&s.attributes, "llmscope.exchange.id"));
        spans
    }
}

pub fn value<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

pub fn string(attributes: &[KeyValue], key: &str) -> Option<String> {
    match value(attributes, key)? {
        AnyValue::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

pub fn int(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match value(attributes, key)? {
        AnyValue::IntValue(n) => Some(*n),
        _ => None,
    }
}

pub fn strings(attributes: &[KeyValue], key: &str) -> Option<Vec<String>> {
    match value(attributes, key)? {
        AnyValue::ArrayValue(array) => Some(
            array
                .values
                .iter()
                .filter_map(|v| match &v.value {
                    Some(AnyValue::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}
