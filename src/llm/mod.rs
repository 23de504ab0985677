//! What llmscope knows about LLM APIs: which dialect a request speaks, how its streams and
//! error bodies look, and how to answer an agent in its own dialect.

mod body_model;
mod decode;
mod decoded;
mod diagnosis;
mod dialect;
mod error_body;
mod sse;
mod stream_watch;

pub use decode::{decode_request, decode_response, reply_usage, ResponseAssembler};
pub use decoded::{DecodedRequest, DecodedResponse, Message, Part, ToolCall, ToolDef, Usage};
pub use diagnosis::{diagnose, Diagnosis, DiagnosisKind};
pub use dialect::{gemini_path_model, request_model, Dialect};
pub use error_body::{
    error_object_message, error_object_status, error_reply_body, stream_error_event,
};
pub use sse::{SseEvent, SseParser};
pub use stream_watch::{StreamVerdict, StreamWatch};
