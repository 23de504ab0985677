//! An absolute-form `http://` request to a host llmscope does not intercept: passed on with
//! the upstream client and its reply streamed back, unrecorded, like a tunnel.

use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::proxy::body::{full_body, AgentBody, BodyError};
use crate::proxy::headers::{agent_response_headers, upstream_request_headers};
use crate::proxy::ProxyState;

pub async fn pass_on(state: &ProxyState, request: Request<Incoming>) -> Response<AgentBody> {
    state.forward_stats.tunnelled();
    let (parts, body) = request.into_parts();
    let mut headers = upstream_request_headers(parts.headers);
    headers.remove(http::header::PROXY_AUTHORIZATION);
    let sent = state
        .clients
        .reqwest()
        .request(parts.method, parts.uri.to_string())
        .headers(headers)
        .body(reqwest::Body::wrap(body))
        .send()
        .await;
    match sent {
        Ok(reply) => {
            let reply: Response<reqwest::Body> = reply.into();
            let (mut parts, body) = reply.into_parts();
            parts.headers = agent_response_headers(parts.headers);
            let body = body.map_err(|e| Box::new(e) as BodyError).boxed();
            Response::from_parts(parts, body)
        }
        Err(error) => {
            let mut response = Response::new(full_body(format!(
                "llmscope: could not reach {}: {error}\n",
                parts.uri
            )));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            response
        }
    }
}
