//! A stand-in LLM gateway that behaves like a LiteLLM proxy where it matters to llmscope: it
//! forwards each request to its provider and, when the provider fails, hides the cause — a
//! broken provider becomes 500 "Connection error.", a provider 400 is wrapped in LiteLLM's
//! words — after retrying a failed provider call as it was told to. Tests put llmscope on
//! both sides of it.

use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A gateway bound to its address, not serving yet: llmscope's agent side needs the address
/// before the gateway can be told llmscope's provider-side address.
pub struct MockGateway {
    listener: Option<TcpListener>,
    addr: SocketAddr,
    serving: Option<JoinHandle<()>>,
}

struct Route {
    provider_base: String,
    /// Extra attempts at a provider call that failed (LiteLLM's `num_retries`).
    retries: usize,
    client: reqwest::Client,
}

impl MockGateway {
    pub async fn bind() -> io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let addr = listener.local_addr()?;
        Ok(Self {
            listener: Some(listener),
            addr,
            serving: None,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts forwarding every request to `provider_base` + its path.
    pub fn serve(&mut self, provider_base: String, retries: usize) -> io::Result<()> {
        let listener = self.listener.take().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the gateway is serving already",
            )
        })?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(io::Error::other)?;
        let route = Arc::new(Route {
            provider_base,
            retries,
            client,
        });
        self.serving = Some(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let route = route.clone();
                let service = service_fn(move |request| {
                    let route = route.clone();
                    async move { Ok::<_, Infallible>(route.answer(request).await) }
                });
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
        }));
        Ok(())
    }
}

impl Drop for MockGateway {
    fn drop(&mut self) {
        if let Some(serving) = &self.serving {
            serving.abort();
        }
    }
}

/// What the provider did with one attempt.
enum Attempt {
    Reply(u16, String, Bytes),
    Broken,
}

impl Route {
    async fn answer(&self, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let target = request
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_string();
        let body = match request.into_body().collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => {
                return litellm_error(StatusCode::BAD_REQUEST, "BadRequestError", "bad body", "")
            }
        };
        let model = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["model"].as_str().map(str::to_string))
            .unwrap_or_default();
        let mut attempt = self.attempt(&target, &body).await;
        for _ in 0..self.retries {
            match &attempt {
                Attempt::Reply(status, _, _) if *status < 500 => break,
                _ => attempt = self.attempt(&target, &body).await,
            }
        }
        match attempt {
            Attempt::Reply(status, content_type, body) if status < 400 => {
                let mut response = Response::new(Full::new(body));
                *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                if let Ok(value) = content_type.parse() {
                    response.headers_mut().insert("content-type", value);
                }
                response
            }
            Attempt::Reply(status, _, body) if status < 500 => {
                let said = crate::llm::error_object_message(&body)
                    .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
                litellm_error(StatusCode::BAD_REQUEST, "BadRequestError", &said, &model)
            }
            _ => litellm_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Connection error.",
                &model,
            ),
        }
    }

    async fn attempt(&self, target: &str, body: &Bytes) -> Attempt {
        let sent = self
            .client
            .post(format!("{}{target}", self.provider_base))
            .header("content-type", "application/json")
            .header("authorization", "Bearer sk-gateway-provider-key")
            .body(body.clone())
            .send()
            .await;
        let Ok(reply) = sent else {
            return Attempt::Broken;
        };
        let status = reply.status().as_u16();
        let content_type = reply
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_string();
        match reply.bytes().await {
            Ok(body) => Attempt::Reply(status, content_type, body),
            Err(_) => Attempt::Broken,
        }
    }
}

/// An error as LiteLLM's proxy words it: the provider's message inside its own, and the
/// model group after a blank line.
fn litellm_error(status: StatusCode, kind: &str, said: &str, model: &str) -> Response<Full<Bytes>> {
    let message = format!(
        "litellm.{kind}: OpenAIException - {said}\n\nReceived Model Group={model}\nAvailable Model Group Fallbacks=None"
    );
    let body = json!({
        "error": {"message": message, "type": null, "param": null, "code": status.as_u16().to_string()}
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        "x-litellm-version",
        hyper::header::HeaderValue::from_static("1.74.0"),
    );
    response
}
