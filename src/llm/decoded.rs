//! The LLM-aware reading of an exchange: what the decoders produce and the views render.
//! Plain data; the decoders fill it and never fail (a body they cannot read gives `None`).

use super::Dialect;

/// A request body read as an LLM call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedRequest {
    pub dialect: Dialect,
    pub model: Option<String>,
    pub stream: bool,
    /// System prompt blocks (Anthropic `system`, OpenAI `system`/`developer` messages are kept
    /// in `messages` in their place instead).
    pub system: Vec<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolDef>,
    /// Every other top-level field as `(name, compact JSON)`, in body order:
    /// `max_tokens`, `temperature`, `tool_choice`, …
    pub params: Vec<(String, String)>,
}

/// One conversation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `system`, `developer`, `user`, `assistant`, `tool`, … as the API names it.
    pub role: String,
    pub parts: Vec<Part>,
}

/// One piece of a message's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Thinking(String),
    ToolCall(ToolCall),
    ToolResult {
        call_id: Option<String>,
        content: String,
        is_error: bool,
    },
    /// A block llmscope does not decode (image, document, …): its type name.
    Other(String),
}

/// A tool call made by the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    /// The arguments as sent (JSON text, possibly assembled from stream deltas).
    pub arguments: String,
}

/// A tool the agent offers to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolDef {
    pub name: String,
    pub description: String,
    /// The JSON schema of the parameters, compact.
    pub parameters: String,
}

/// A reply read as an LLM answer, whether it came whole or as a stream of deltas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedResponse {
    pub model: Option<String>,
    pub text: String,
    pub thinking: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
    /// Whether this came from an SSE stream, and how many events it had.
    pub stream_events: Option<u64>,
    /// An error object in the body or an error event in the stream.
    pub error: Option<String>,
}

/// Token counts as the API reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_read_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
}
