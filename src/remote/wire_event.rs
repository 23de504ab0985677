//! Capture events as they cross the socket, and back. Bodies travel as text when they are
//! UTF-8 (nearly every LLM body is JSON or SSE) and as base64 otherwise.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::capture::{
    CaptureEvent, CapturedRequest, CapturedResponse, ExchangeId, ExchangeRecord, ExchangeStart,
    Failure, FailureClass, HeaderList, HoldOutcome, Lineage, Origin, Rewrite, SessionId, Timing,
};
use crate::llm::Dialect;
use crate::proxy::ResendRequest;

/// Why a line from the server does not make a capture event.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("a body marked base64 is not base64: {0}")]
    Base64(String),
    #[error("unknown failure class {0:?}")]
    FailureClass(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireBody {
    Text(String),
    Base64(String),
}

impl WireBody {
    pub fn from_bytes(bytes: &Bytes) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::Text(text.to_string()),
            Err(_) => Self::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
        }
    }

    pub fn into_bytes(self) -> Result<Bytes, WireError> {
        match self {
            Self::Text(text) => Ok(Bytes::from(text)),
            Self::Base64(encoded) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map(Bytes::from)
                .map_err(|e| WireError::Base64(e.to_string())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRequest {
    pub method: String,
    pub uri: String,
    pub headers: HeaderList,
    pub body: WireBody,
}

impl WireRequest {
    pub fn from_captured(request: &CapturedRequest) -> Self {
        Self {
            method: request.method.clone(),
            uri: request.uri.clone(),
            headers: request.headers.clone(),
            body: WireBody::from_bytes(&request.body),
        }
    }

    pub fn from_resend(request: &ResendRequest) -> Self {
        Self {
            method: request.method.clone(),
            uri: request.uri.clone(),
            headers: request.headers.clone(),
            body: WireBody::from_bytes(&request.body),
        }
    }

    pub fn into_captured(self) -> Result<CapturedRequest, WireError> {
        Ok(CapturedRequest {
            method: self.method,
            uri: self.uri,
            headers: self.headers,
            body: self.body.into_bytes()?,
        })
    }

    pub fn into_resend(self) -> Result<ResendRequest, WireError> {
        let captured = self.into_captured()?;
        Ok(ResendRequest {
            method: captured.method,
            uri: captured.uri,
            headers: captured.headers,
            body: captured.body,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireLineage {
    pub origin: String,
    pub parent: Option<ExchangeId>,
    pub repeats: Option<ExchangeId>,
    pub beneath: Option<ExchangeId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRewrite {
    pub original: WireRequest,
    pub applied: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireStart {
    pub id: ExchangeId,
    pub session: SessionId,
    pub started_at_ms: i64,
    pub dialect: String,
    pub model: Option<String>,
    pub request: WireRequest,
    pub lineage: WireLineage,
    pub rewrite: Option<WireRewrite>,
    pub request_body_unrecorded: Option<u64>,
}

impl WireStart {
    pub fn from_start(start: &ExchangeStart) -> Self {
        let lineage = &start.lineage;
        Self {
            id: start.id,
            session: start.session,
            started_at_ms: start.started_at_ms,
            dialect: start.dialect.as_str().to_string(),
            model: start.model.clone(),
            request: WireRequest::from_captured(&start.request),
            lineage: WireLineage {
                origin: lineage.origin.as_str().to_string(),
                parent: lineage.parent,
                repeats: lineage.repeats,
                beneath: lineage.beneath,
            },
            rewrite: start.rewrite.as_ref().map(|r| WireRewrite {
                original: WireRequest::from_captured(&r.original),
                applied: r.applied.clone(),
            }),
            request_body_unrecorded: start.request_body_unrecorded,
        }
    }

    pub fn into_start(self) -> Result<ExchangeStart, WireError> {
        let rewrite = match self.rewrite {
            Some(r) => Some(Arc::new(Rewrite {
                original: r.original.into_captured()?,
                applied: r.applied,
            })),
            None => None,
        };
        Ok(ExchangeStart {
            id: self.id,
            session: self.session,
            started_at_ms: self.started_at_ms,
            dialect: Dialect::parse(&self.dialect),
            model: self.model,
            request: self.request.into_captured()?,
            lineage: Lineage {
                origin: Origin::parse(&self.lineage.origin),
                parent: self.lineage.parent,
                repeats: self.lineage.repeats,
                beneath: self.lineage.beneath,
            },
            rewrite,
            request_body_unrecorded: self.request_body_unrecorded,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireResponse {
    pub status: u16,
    pub headers: HeaderList,
    pub body: WireBody,
    pub body_len: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireFailure {
    pub class: String,
    /// The status of an `http_error`.
    pub status: Option<u16>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRecord {
    pub start: WireStart,
    pub started_at_ms: i64,
    pub first_byte_ms: Option<u64>,
    pub duration_ms: Option<u64>,
    pub response: Option<WireResponse>,
    pub failure: Option<WireFailure>,
}

impl WireRecord {
    pub fn from_record(record: &ExchangeRecord) -> Self {
        Self {
            start: WireStart::from_start(&record.start),
            started_at_ms: record.timing.started_at_ms,
            first_byte_ms: record.timing.first_byte_ms,
            duration_ms: record.timing.duration_ms,
            response: record.response.as_ref().map(|r| WireResponse {
                status: r.status,
                headers: r.headers.clone(),
                body: WireBody::from_bytes(&r.body),
                body_len: r.body_len,
            }),
            failure: record.failure.as_ref().map(|f| WireFailure {
                class: f.class.as_str().to_string(),
                status: match f.class {
                    FailureClass::HttpError(status) => Some(status),
                    _ => None,
                },
                message: f.message.clone(),
            }),
        }
    }

    pub fn into_record(self) -> Result<ExchangeRecord, WireError> {
        let response = match self.response {
            Some(r) => Some(CapturedResponse {
                status: r.status,
                headers: r.headers,
                body: r.body.into_bytes()?,
                body_len: r.body_len,
            }),
            None => None,
        };
        let failure = match self.failure {
            Some(f) => Some(Failure::new(
                FailureClass::parse(&f.class, f.status)
                    .ok_or_else(|| WireError::FailureClass(f.class.clone()))?,
                f.message,
            )),
            None => None,
        };
        Ok(ExchangeRecord {
            start: Arc::new(self.start.into_start()?),
            timing: Timing {
                started_at_ms: self.started_at_ms,
                first_byte_ms: self.first_byte_ms,
                duration_ms: self.duration_ms,
            },
            response,
            failure,
            derived: Default::default(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WireOutcome {
    Delivered { from: ExchangeId },
    ForwardedOriginal,
    TimedOut,
    AgentGone,
}

impl From<HoldOutcome> for WireOutcome {
    fn from(outcome: HoldOutcome) -> Self {
        match outcome {
            HoldOutcome::Delivered { from } => Self::Delivered { from },
            HoldOutcome::ForwardedOriginal => Self::ForwardedOriginal,
            HoldOutcome::TimedOut => Self::TimedOut,
            HoldOutcome::AgentGone => Self::AgentGone,
        }
    }
}

impl From<WireOutcome> for HoldOutcome {
    fn from(outcome: WireOutcome) -> Self {
        match outcome {
            WireOutcome::Delivered { from } => Self::Delivered { from },
            WireOutcome::ForwardedOriginal => Self::ForwardedOriginal,
            WireOutcome::TimedOut => Self::TimedOut,
            WireOutcome::AgentGone => Self::AgentGone,
        }
    }
}

/// A [`CaptureEvent`] on the wire, variant for variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WireEvent {
    Started {
        start: Box<WireStart>,
    },
    ResponseHead {
        id: ExchangeId,
        status: u16,
        headers: HeaderList,
        first_byte_ms: u64,
    },
    ResponseChunk {
        id: ExchangeId,
        data: WireBody,
    },
    Finished {
        record: Box<WireRecord>,
    },
    Intercepted {
        start: Box<WireStart>,
        expires_at_ms: i64,
    },
    Held {
        id: ExchangeId,
        expires_at_ms: i64,
    },
    RulesChanged {
        session: SessionId,
        rules: serde_json::Value,
    },
    HoldEnded {
        session: SessionId,
        id: ExchangeId,
        outcome: WireOutcome,
    },
}

impl WireEvent {
    pub fn from_event(event: &CaptureEvent) -> Self {
        match event {
            CaptureEvent::Started(start) => Self::Started {
                start: Box::new(WireStart::from_start(start)),
            },
            CaptureEvent::ResponseHead {
                id,
                status,
                headers,
                first_byte_ms,
            } => Self::ResponseHead {
                id: *id,
                status: *status,
                headers: headers.as_ref().clone(),
                first_byte_ms: *first_byte_ms,
            },
            CaptureEvent::ResponseChunk { id, data } => Self::ResponseChunk {
                id: *id,
                data: WireBody::from_bytes(data),
            },
            CaptureEvent::Finished(record) => Self::Finished {
                record: Box::new(WireRecord::from_record(record)),
            },
            CaptureEvent::Intercepted {
                start,
                expires_at_ms,
            } => Self::Intercepted {
                start: Box::new(WireStart::from_start(start)),
                expires_at_ms: *expires_at_ms,
            },
            CaptureEvent::Held { id, expires_at_ms } => Self::Held {
                id: *id,
                expires_at_ms: *expires_at_ms,
            },
            CaptureEvent::RulesChanged { session, rules } => Self::RulesChanged {
                session: *session,
                rules: rules.as_ref().clone(),
            },
            CaptureEvent::HoldEnded {
                session,
                id,
                outcome,
            } => Self::HoldEnded {
                session: *session,
                id: *id,
                outcome: (*outcome).into(),
            },
        }
    }

    pub fn into_event(self) -> Result<CaptureEvent, WireError> {
        Ok(match self {
            Self::Started { start } => CaptureEvent::Started(Arc::new(start.into_start()?)),
            Self::ResponseHead {
                id,
                status,
                headers,
                first_byte_ms,
            } => CaptureEvent::ResponseHead {
                id,
                status,
                headers: Arc::new(headers),
                first_byte_ms,
            },
            Self::ResponseChunk { id, data } => CaptureEvent::ResponseChunk {
                id,
                data: data.into_bytes()?,
            },
            Self::Finished { record } => CaptureEvent::Finished(Arc::new(record.into_record()?)),
            Self::Intercepted {
                start,
                expires_at_ms,
            } => CaptureEvent::Intercepted {
                start: Arc::new(start.into_start()?),
                expires_at_ms,
            },
            Self::Held { id, expires_at_ms } => CaptureEvent::Held { id, expires_at_ms },
            Self::RulesChanged { session, rules } => CaptureEvent::RulesChanged {
                session,
                rules: Arc::new(rules),
            },
            Self::HoldEnded {
                session,
                id,
                outcome,
            } => CaptureEvent::HoldEnded {
                session,
                id,
                outcome: outcome.into(),
            },
        })
    }
}
