//! Seeing through a gateway: when the agent's exchange failed and a provider call beneath it
//! failed too, the provider's failure is the real cause — LiteLLM says only "Connection
//! error." when its provider sent bytes that are not HTTP.

use std::collections::{HashMap, VecDeque};

use crate::capture::{ExchangeId, ExchangeRecord, FailureClass};

/// Provider failures remembered for agent exchanges still to finish; the oldest go first.
const REMEMBERED: usize = 1024;

/// The newest failed provider call under each agent exchange.
#[derive(Debug, Default)]
pub struct ProviderCauses {
    by_agent: HashMap<ExchangeId, ProviderFailure>,
    order: VecDeque<ExchangeId>,
}

/// A provider call's failure, as the cause of an agent's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFailure {
    pub provider: String,
    pub status: Option<u16>,
    pub class: FailureClass,
    pub message: String,
}

impl ProviderCauses {
    /// Takes a finished exchange into account. For an agent's failed exchange with a failed
    /// provider call beneath it, returns the deepest cause in one line, e.g. `LiteLLM 500 ←
    /// openai: the provider sent a malformed HTTP response: …`.
    pub fn observe(&mut self, record: &ExchangeRecord) -> Option<String> {
        let request = &record.start.request;
        if let Some(provider) = request.provider() {
            let (Some(agent), Some(failure)) = (record.start.lineage.beneath, &record.failure)
            else {
                return None;
            };
            if self.by_agent.len() >= REMEMBERED {
                if let Some(oldest) = self.order.pop_front() {
                    self.by_agent.remove(&oldest);
                }
            }
            let found = ProviderFailure {
                provider: provider.to_string(),
                status: record.response.as_ref().map(|r| r.status),
                class: failure.class,
                message: failure.message.clone(),
            };
            if self.by_agent.insert(agent, found).is_none() {
                self.order.push_back(agent);
            }
            return None;
        }
        record.failure.as_ref()?;
        let cause = self.by_agent.get(&record.start.id)?;
        Some(deepest_cause(record, cause))
    }

    /// The provider failure under `agent`, for the diagnosis.
    pub fn get(&self, agent: ExchangeId) -> Option<&ProviderFailure> {
        self.by_agent.get(&agent)
    }
}

fn deepest_cause(record: &ExchangeRecord, cause: &ProviderFailure) -> String {
    let litellm = record.response.as_ref().is_some_and(|r| {
        r.headers
            .iter()
            .any(|(name, _)| name.to_ascii_lowercase().starts_with("x-litellm"))
    }) || record
        .failure
        .as_ref()
        .is_some_and(|f| f.message.starts_with("litellm."));
    let gateway = if litellm { "LiteLLM" } else { "gateway" };
    let above = match record.response.as_ref() {
        Some(response) => format!("{gateway} {}", response.status),
        None => gateway.to_string(),
    };
    let message = one_line(&cause.message);
    let said = message
        .strip_prefix("upstream ")
        .map_or(message.clone(), |rest| format!("the provider {rest}"));
    match (cause.class, cause.status) {
        (FailureClass::HttpError(status), _) => {
            format!("{above} ← {} {status}: {said}", cause.provider)
        }
        _ => format!("{above} ← {}: {said}", cause.provider),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::capture::test_fixtures::{agent_start, failed};
    use crate::capture::HeaderList;
    use crate::capture::{CapturedResponse, Failure};

    fn record(
        id: u64,
        uri: &str,
        beneath: Option<u64>,
        status: Option<u16>,
        failure: Failure,
    ) -> ExchangeRecord {
        let mut start = agent_start(id, uri, "");
        start.lineage.beneath = beneath.map(ExchangeId);
        let mut record = failed(start, failure);
        record.response = status.map(|status| CapturedResponse {
            status,
            headers: HeaderList::from([("x-litellm-version", "1.74.0")]),
            body: Bytes::new(),
            body_len: 0,
        });
        record
    }

    #[test]
    fn the_providers_failure_is_named_under_the_gateways() {
        let mut causes = ProviderCauses::default();
        let broken = Failure::new(
            FailureClass::MalformedResponse,
            "upstream sent a malformed HTTP response: invalid HTTP version parsed",
        );
        let provider = "/provider/openai/v1/chat/completions";
        assert_eq!(
            causes.observe(&record(2, provider, Some(1), None, broken)),
            None
        );
        let gateway = Failure::new(
            FailureClass::HttpError(500),
            "litellm.InternalServerError: OpenAIException - Connection error.",
        );
        let agent = record(1, "/v1/chat/completions", None, Some(500), gateway.clone());
        assert_eq!(
            causes.observe(&agent).as_deref(),
            Some("LiteLLM 500 ← openai: the provider sent a malformed HTTP response: invalid HTTP version parsed")
        );

        let refused = Failure::new(
            FailureClass::HttpError(400),
            "Unrecognized request argument supplied: foo",
        );
        causes.observe(&record(4, provider, Some(3), Some(400), refused));
        let wrapped = record(3, "/v1/chat/completions", None, Some(400), gateway);
        assert_eq!(
            causes.observe(&wrapped).as_deref(),
            Some("LiteLLM 400 ← openai 400: Unrecognized request argument supplied: foo")
        );
        // An agent exchange with no provider failure beneath it has no deeper cause.
        let alone = Failure::new(FailureClass::HttpError(500), "boom");
        assert_eq!(
            causes.observe(&record(5, "/v1/x", None, Some(500), alone)),
            None
        );
    }
}
