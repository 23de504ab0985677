//! The exporter's HTTP client: llmscope's own reqwest (rustls with ring), driven on the
//! proxy's tokio runtime. The SDK's batch processor runs exports on a plain thread with a
//! minimal executor, where reqwest's futures cannot run, so each request is spawned onto the
//! runtime and awaited through its join handle.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};

use super::health::ExportHealth;

/// A collector's answer is a few bytes of status; more is not read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub(super) struct CollectorClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    health: Arc<ExportHealth>,
    timeout: Duration,
}

impl CollectorClient {
    pub(super) fn new(
        runtime: tokio::runtime::Handle,
        health: Arc<ExportHealth>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        // rustls needs one process-wide provider; an Err means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()?;
        Ok(Self {
            client,
            runtime,
            health,
            timeout,
        })
    }

    /// Why a request failed, in words that name no URL or header (the endpoint may carry a
    /// token in its query).
    fn describe(&self, error: &reqwest::Error) -> String {
        let cause = innermost(error);
        if error.is_timeout() {
            format!(
                "the collector did not answer within {} s",
                self.timeout.as_secs()
            )
        } else if error.is_connect() {
            format!("could not connect to the collector: {cause}")
        } else {
            format!("the request to the collector failed: {cause}")
        }
    }
}

#[async_trait::async_trait]
impl HttpClient for CollectorClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let mut response = client.execute(request).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if room <= chunk.len() {
                    break;
                }
            }
            Ok::<_, reqwest::Error>((status, headers, body))
        });
        let (status, headers, body) = match sent.await {
            Ok(Ok(answer)) => answer,
            Ok(Err(error)) => {
                self.health.note_problem(self.describe(&error));
                return Err(Box::new(error));
            }
            Err(join) => {
                self.health
                    .note_problem("the export was cut short as llmscope stopped".into());
                return Err(Box::new(join));
            }
        };
        if !status.is_success() {
            self.health
                .note_problem(format!("the collector answered HTTP {}", status.as_u16()));
        }
        let mut answer = Response::builder().status(status);
        if let Some(map) = answer.headers_mut() {
            *map = headers;
        }
        Ok(answer.body(Bytes::from(body))?)
    }
}

/// The root cause, whose words are the system's (`Connection refused`); reqwest's own
/// message would repeat the URL.
fn innermost(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let Some(mut current) = error.source() else {
        return "no cause given".to_string();
    };
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
