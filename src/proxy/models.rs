//! The upstream's own list of models (`GET …/v1/models`), for the quick fix of a model it does
//! not know: asked with the agent's credentials from memory, never stored, and not recorded
//! as an exchange (llmscope asks it, not the agent).

use std::time::Duration;

use serde_json::Value;

use super::headers::upstream_request_headers;
use super::ProxyState;
use crate::capture::{ExchangeId, HeaderList};
use crate::llm::Dialect;

/// A list longer than this is cut: the quick-fix menu has nine digits.
const MAX_MODELS: usize = 50;
const LIST_TIMEOUT: Duration = Duration::from_secs(10);

/// `…/chat/completions`, `…/messages?beta=true`, `…/responses` → `…/models`: the list sits
/// next to the endpoint the agent called.
pub fn models_target(uri: &str) -> String {
    let path = uri.split_once('?').map_or(uri, |(path, _)| path);
    let base = [
        "/chat/completions",
        "/messages",
        "/responses",
        "/completions",
    ]
    .iter()
    .find_map(|end| path.strip_suffix(end))
    .unwrap_or_else(|| path.rsplit_once('/').map_or("", |(base, _)| base));
    format!("{base}/models")
}

/// The model ids of an OpenAI- or Anthropic-style list (`{"data":[{"id":…}]}`).
pub fn model_ids(body: &[u8]) -> Option<Vec<String>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let data = value.get("data")?.as_array()?;
    Some(
        data.iter()
            .filter_map(|m| m.get("id")?.as_str().map(str::to_string))
            .take(MAX_MODELS)
            .collect(),
    )
}

/// Asks the upstream behind exchange `id` for its models, with `id`'s credentials.
pub async fn list_models(
    state: &ProxyState,
    id: ExchangeId,
    uri: &str,
    headers: &HeaderList,
) -> Result<Vec<String>, String> {
    let mut headers = state
        .secrets
        .restore(id, headers)
        .map_err(|error| error.to_string())?;
    // The agent's body headers say nothing of a GET, and llmscope's client decodes no
    // compression: a gzip'd list would read as no list at all.
    for name in [
        http::header::ACCEPT_ENCODING,
        http::header::CONTENT_TYPE,
        http::header::CONTENT_ENCODING,
    ] {
        headers.remove(name);
    }
    let target = state.secrets.restore_target(id, &models_target(uri));
    let reply = state
        .clients
        .reqwest()
        .get(state.url_for_exchange(id, &target, Dialect::detect(uri, false)))
        .headers(upstream_request_headers(headers))
        .timeout(LIST_TIMEOUT)
        .send()
        .await
        .map_err(|error| format!("the upstream's model list could not be fetched: {error}"))?;
    let status = reply.status();
    let body = reply
        .bytes()
        .await
        .map_err(|error| format!("the upstream's model list broke off: {error}"))?;
    if !status.is_success() {
        return Err(format!("the upstream answered {status} for its model list"));
    }
    model_ids(&body).ok_or_else(|| "the upstream's model list is not a list of models".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_sits_next_to_the_endpoint_called() {
        assert_eq!(models_target("/v1/chat/completions"), "/v1/models");
        assert_eq!(models_target("/v1/messages?beta=true"), "/v1/models");
        assert_eq!(models_target("/litellm/v1/responses"), "/litellm/v1/models");
        assert_eq!(models_target("/api/generate"), "/api/models");
    }

    #[test]
    fn ids_are_read_from_either_shape() {
        let openai = br#"{"object":"list","data":[{"id":"gpt-4o","object":"model"},{"id":"o3"}]}"#;
        assert_eq!(model_ids(openai), Some(vec!["gpt-4o".into(), "o3".into()]));
        let anthropic = br#"{"data":[{"type":"model","id":"claude-sonnet-4-5"}],"has_more":false}"#;
        assert_eq!(model_ids(anthropic), Some(vec!["claude-sonnet-4-5".into()]));
        assert_eq!(model_ids(b"[]"), None);
    }
}
