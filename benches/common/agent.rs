//! Agent-like traffic, generated deterministically: opencode's real main-turn shape
//! (`assets/fixtures/opencode-chat-turn.json`: a ≈9.6 KB system prompt and 10 tool
//! definitions, ≈31 KB in all) followed by a conversation that grows by one turn per request,
//! as agents resend the whole conversation every turn (TRAFFIC.md).
//!
//! A turn is the model's reply to the previous request (text, or a tool call) plus what came
//! back: the tool's result (file contents, command output) or the user's next message. The text
//! is drawn from a few hundred words and a few thousand identifiers, so one body compresses
//! about as well as real prose and code do (zstd -3: 3–4×); what repeats is the conversation
//! from one request to the next, as with real agents.

use serde_json::{json, Value};

/// SplitMix64: tiny, fast and the same on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo).max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// Skewed towards the front of `n` items, like word frequencies.
    pub fn zipf_ish(&mut self, n: usize) -> usize {
        let a = self.range(0, n);
        let b = self.range(0, n);
        a.min(b)
    }
}

const WORDS: &str = "the a to of and in is it that for on this with as be are you not or \
by from at have an was will can if but we they which all there when use one would so what \
file code test function error value type line change run build check read write update add \
remove fix call return result output input config path module struct field method trait \
import export async await request response body header status server client proxy stream \
event chunk buffer store record session exchange agent model token tool message user system \
assistant content text json parse decode encode format print log debug trace warn info \
should could need make sure first then next after before because since while until also \
only just still already again now here where how why which every each some many more most \
less few other same different new old small large long short fast slow simple complex \
correct wrong missing broken failing passing expected actual found looks seems like \
please let me see try look into think about rather instead perhaps maybe probably clearly \
src lib main tests docs cargo rust crate version release target debug feature option";

/// Identifier pieces; joined in twos and threes they make a few thousand plausible names.
const SYLLABLES: &[&str] = &[
    "get", "set", "new", "from", "into", "read", "write", "parse", "build", "make", "open",
    "close", "send", "recv", "load", "save", "find", "handle", "apply", "check", "start", "stop",
    "run", "spawn", "join", "map", "filter", "count", "next", "prev", "body", "head", "row", "col",
    "table", "list", "item", "node", "tree", "path", "file", "dir", "buf", "byte", "chunk",
    "event", "frame", "state", "app", "view", "pane", "key", "value", "config", "store", "proxy",
    "client", "server", "conn", "stream", "record", "session", "exchange", "error", "result",
    "status", "code", "text", "line", "token", "model",
];

/// Makes prose and code from the vocabulary above.
#[derive(Debug, Clone)]
pub struct TextGen {
    rng: Rng,
    words: Vec<&'static str>,
    idents: Vec<String>,
}

impl TextGen {
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let words: Vec<&'static str> = WORDS.split_whitespace().collect();
        let idents = (0..3000)
            .map(|_| {
                let parts = rng.range(2, 4);
                let mut name = String::new();
                for p in 0..parts {
                    let s = SYLLABLES[rng.range(0, SYLLABLES.len())];
                    if p > 0 && rng.chance(50) {
                        name.push('_');
                    }
                    name.push_str(s);
                }
                name
            })
            .collect();
        Self { rng, words, idents }
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    fn ident(&mut self) -> &str {
        let i = self.rng.zipf_ish(self.idents.len());
        &self.idents[i]
    }

    /// Sentences of about `bytes` bytes.
    pub fn prose(&mut self, bytes: usize) -> String {
        let mut out = String::with_capacity(bytes + 32);
        let mut sentence_words = 0;
        while out.len() < bytes {
            if !out.is_empty() {
                out.push(' ');
            }
            match self.rng.range(0, 20) {
                0 => {
                    let ident = self.ident().to_string();
                    out.push('`');
                    out.push_str(&ident);
                    out.push('`');
                }
                1 => out.push_str(&(self.rng.next_u64() % 5000).to_string()),
                _ => {
                    let w = self.words[self.rng.zipf_ish(self.words.len())];
                    out.push_str(w);
                }
            }
            sentence_words += 1;
            if sentence_words > self.rng.range(6, 18) {
                out.push('.');
                sentence_words = 0;
            }
        }
        out
    }

    /// Code-like lines of about `bytes` bytes, as a file read or a diff shows them.
    pub fn code(&mut self, bytes: usize) -> String {
        let mut out = String::with_capacity(bytes + 64);
        let mut line_no = self.rng.range(1, 400);
        while out.len() < bytes {
            let indent = "    ".repeat(self.rng.range(0, 4));
            let a = self.ident().to_string();
            let b = self.ident().to_string();
            let c = self.ident().to_string();
            let n = self.rng.next_u64() % 1000;
            let line = match self.rng.range(0, 7) {
                0 => format!("{indent}let {a} = {b}.{c}({n})?;"),
                1 => format!("{indent}fn {a}(&self, {b}: &{c}) -> Result<(), Error> {{"),
                2 => format!("{indent}if {a}.{b}() > {n} {{ return {c}; }}"),
                3 => format!("{indent}// {}", self.prose(40)),
                4 => format!("{indent}{a}.insert(\"{b}\", {c});"),
                5 => format!("{indent}match {a} {{ Some({b}) => {c}({b}), None => {n} }}"),
                _ => format!("{indent}}}"),
            };
            out.push_str(&format!("{line_no:>5}\t{line}\n"));
            line_no += 1;
        }
        out
    }
}

/// One request to send and the reply that answers it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: Vec<u8>,
    /// The reply as an OpenAI chat-completions SSE stream.
    pub reply_sse: Vec<u8>,
}

/// An opencode conversation that grows by one turn each request.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// `{"model":…,"messages":[<system>` — everything before the turns.
    prefix: String,
    /// `],"tools":[…],…}` — everything after them.
    suffix: String,
    /// Each turn rendered as `,<message>,<message>`.
    turns: Vec<String>,
    text: TextGen,
    tool_names: Vec<String>,
}

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/fixtures/opencode-chat-turn.json"
    );
    let text = std::fs::read_to_string(path).expect("opencode fixture is readable");
    serde_json::from_str(&text).expect("opencode fixture is JSON")
}

impl Conversation {
    /// Starts with the fixture's system prompt and tools and a first user prompt.
    pub fn opencode(seed: u64) -> Self {
        let body = fixture()["body"].clone();
        let system = serde_json::to_string(&body["messages"][0]).expect("system message");
        let tools = body["tools"].as_array().cloned().unwrap_or_default();
        let tool_names = tools
            .iter()
            .filter_map(|t| t["function"]["name"].as_str().map(str::to_string))
            .collect();
        let prefix = format!(r#"{{"model":"gpt-4o","max_tokens":32000,"messages":[{system}"#);
        let suffix = format!(
            r#"],"tools":{},"tool_choice":"auto","stream":true,"stream_options":{{"include_usage":true}}}}"#,
            serde_json::to_string(&tools).expect("tools")
        );
        let mut conversation = Self {
            prefix,
            suffix,
            turns: Vec::new(),
            text: TextGen::new(seed),
            tool_names,
        };
        let prompt = conversation.text.prose(300);
        conversation
            .turns
            .push(format!(",{}", json!({"role": "user", "content": prompt})));
        conversation
    }

    pub fn turns(&self) -> usize {
        self.turns.len()
    }

    /// The request for the conversation so far.
    pub fn body(&self) -> Vec<u8> {
        self.body_from(0)
    }

    /// The request with only the most recent turns that keep it within `max_bytes`, as an
    /// agent that drops its oldest messages sends it.
    pub fn body_window(&self, max_bytes: usize) -> Vec<u8> {
        let mut room = max_bytes.saturating_sub(self.prefix.len() + self.suffix.len());
        let mut first = self.turns.len();
        while first > 0 && self.turns[first - 1].len() <= room {
            room -= self.turns[first - 1].len();
            first -= 1;
        }
        self.body_from(first)
    }

    fn body_from(&self, first: usize) -> Vec<u8> {
        let turns: usize = self.turns[first..].iter().map(String::len).sum();
        let mut body = Vec::with_capacity(self.prefix.len() + turns + self.suffix.len());
        body.extend_from_slice(self.prefix.as_bytes());
        for turn in &self.turns[first..] {
            body.extend_from_slice(turn.as_bytes());
        }
        body.extend_from_slice(self.suffix.as_bytes());
        body
    }

    /// The request for the conversation so far and its reply; the reply and what follows it
    /// become the next turn.
    pub fn step(&mut self) -> Exchange {
        let request = self.body();
        let reply_sse = self.grow();
        Exchange { request, reply_sse }
    }

    /// Adds one turn and returns the SSE reply that began it.
    pub fn grow(&mut self) -> Vec<u8> {
        let tool_call = self.text.rng().chance(70);
        let say = self.text.rng().range(60, 400);
        let content = self.text.prose(say);
        let (assistant, follow, sse) = if tool_call {
            let id = format!("call_{:016x}", self.text.rng().next_u64());
            let name = self.tool_names[self.text.rng().range(0, self.tool_names.len())].clone();
            let path = format!(
                "src/{}/{}.rs",
                self.text.prose(8).replace([' ', '.', '`'], "_"),
                self.text.prose(10).replace([' ', '.', '`'], "_")
            );
            let arguments = json!({ "filePath": path }).to_string();
            let assistant = json!({
                "role": "assistant",
                "content": content,
                "tool_calls": [{"id": id, "type": "function",
                    "function": {"name": name, "arguments": arguments}}],
            });
            let result_len = self.text.rng().range(200, 2200);
            let result = if self.text.rng().chance(60) {
                self.text.code(result_len)
            } else {
                self.text.prose(result_len)
            };
            let follow = json!({"role": "tool", "tool_call_id": id, "content": result});
            let sse = sse_reply(&content, Some((&id, &name, &arguments)));
            (assistant, follow, sse)
        } else {
            let assistant = json!({"role": "assistant", "content": content});
            let ask = self.text.rng().range(40, 500);
            let follow = json!({"role": "user", "content": self.text.prose(ask)});
            let sse = sse_reply(&content, None);
            (assistant, follow, sse)
        };
        self.turns.push(format!(",{assistant},{follow}"));
        sse
    }
}

/// An OpenAI chat-completions stream saying `content` a few words per event, then the tool
/// call if any, usage and `[DONE]`.
fn sse_reply(content: &str, tool: Option<(&str, &str, &str)>) -> Vec<u8> {
    let mut out = String::new();
    let mut event = |delta: Value, finish: Value| {
        let chunk = json!({
            "id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "gpt-4o", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        out.push_str("data: ");
        out.push_str(&chunk.to_string());
        out.push_str("\n\n");
    };
    event(json!({"role": "assistant", "content": ""}), Value::Null);
    let words: Vec<&str> = content.split_inclusive(' ').collect();
    for piece in words.chunks(3) {
        event(json!({"content": piece.concat()}), Value::Null);
    }
    let finish = if let Some((id, name, arguments)) = tool {
        event(
            json!({"tool_calls": [{"index": 0, "id": id, "type": "function",
                "function": {"name": name, "arguments": arguments}}]}),
            Value::Null,
        );
        "tool_calls"
    } else {
        "stop"
    };
    event(json!({}), json!(finish));
    out.push_str(
        "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"choices\":[],\
         \"usage\":{\"prompt_tokens\":12000,\"completion_tokens\":150,\"total_tokens\":12150}}\n\n",
    );
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}
