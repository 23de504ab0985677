//! The flags of every command that runs the proxy, and the [`ProxyConfig`] they make.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use super::{mode, DataDirArg};
use crate::llm::Dialect;
use crate::otlp::{OtlpEndpoint, OtlpHeader, OtlpSettings};
use crate::proxy::{InterceptPattern, Provider, ProxyConfig, RetryStop, Upstream, UpstreamCa};

/// Flags of every command that runs the proxy.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// The real endpoint, e.g. https://litellm.internal:4000 (a path prefix is kept); in
    /// forward mode, where requests sent to llmscope itself go (optional there). Or one API's
    /// own endpoint, API=URL with API openai, anthropic or gemini (repeatable, as
    /// --upstream-for). Without a plain URL, each API's public endpoint:
    /// https://api.openai.com (OpenAI's API and any other), https://api.anthropic.com,
    /// https://generativelanguage.googleapis.com
    #[arg(long, env = "LLMSCOPE_UPSTREAM", value_name = "URL|API=URL")]
    pub upstream: Vec<String>,
    /// reverse: the agent's base URL points at llmscope. forward: llmscope is the agent's
    /// HTTPS_PROXY and decrypts the LLM hosts with its own CA (see `llmscope ca`). Reverse
    /// unless given, but for `launch` of an agent signed in with a subscription (Claude
    /// account, ChatGPT, Google), which only forward mode can see
    #[arg(long, value_enum)]
    pub mode: Option<mode::Mode>,
    /// In forward mode, also decrypt and record HOST (besides api.openai.com,
    /// api.anthropic.com, generativelanguage.googleapis.com, chatgpt.com,
    /// cloudcode-pa.googleapis.com). Repeatable
    #[arg(long = "intercept-host", value_name = "HOST")]
    pub intercept_hosts: Vec<String>,
    /// Address the agent connects to. Binding beyond loopback lets anyone who reaches the
    /// port use your upstream credentials.
    #[arg(long, env = "LLMSCOPE_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub data: DataDirArg,
    /// Seconds allowed to connect to the upstream
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub connect_timeout: u64,
    /// Longest silence from the upstream, before its reply and between chunks
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub idle_timeout: u64,
    /// Seconds a client has to send a request head; also how long an idle kept-alive
    /// connection is kept
    #[arg(long, default_value_t = 75, value_name = "SECS")]
    pub header_timeout: u64,
    /// Larger request bodies are refused with 413
    #[arg(long, default_value_t = 64 * 1024 * 1024, value_name = "BYTES")]
    pub max_request_bytes: usize,
    /// Reply bodies are recorded up to this size; the agent always receives all of it
    #[arg(long, default_value_t = 64 * 1024 * 1024, value_name = "BYTES")]
    pub max_capture_bytes: usize,
    /// Start with hold-on-error on: failed replies wait for a fix instead of reaching the agent
    #[arg(long)]
    pub hold_errors: bool,
    /// Seconds a failed reply is held before the original error is sent on. Keep it under the
    /// agent's own request timeout (600 s for the OpenAI and Anthropic SDKs)
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    pub hold_timeout: u64,
    /// Pause agent requests whose "METHOD path model" contains PATTERN (any case; `*` for
    /// all) before they are forwarded, to edit or send them from the screen (`I` toggles;
    /// with `record` or `launch` outside tmux, from `llmscope attach`). They go out unchanged
    /// after --hold-timeout
    #[arg(long, value_name = "PATTERN")]
    pub intercept: Option<String>,
    /// Pass the upstream's replies on exactly as they come, even when the agent cannot act on
    /// them: a 200 whose body is an error, a reply that breaks after its head. By default
    /// those reach the agent as an HTTP error in its API's dialect with the upstream's reason
    #[arg(long)]
    pub exact_replies: bool,
    /// Fix failures whose best quick fix loses nothing the model needs (a parameter the
    /// upstream refuses, an unsupported tool_choice, an invalid tool schema) and resend them
    /// at once, so the waiting agent gets the good reply with no key press (`A` toggles)
    #[arg(long)]
    pub auto_fix: bool,
    /// Also stand between a gateway and its provider NAME: llmscope forwards
    /// http://LISTEN/provider/NAME/… to URL/…, so put that address in the gateway's api_base
    /// for NAME (e.g. --provider openai=https://api.openai.com). Repeatable
    #[arg(long = "provider", value_name = "NAME=URL")]
    pub providers: Vec<String>,
    /// Send one API's requests to their own upstream, for an agent that talks to two
    /// providers: API is openai (chat completions and Responses), anthropic (messages) or
    /// gemini (`…/models/M:generateContent`), e.g. --upstream-for
    /// gemini=https://generativelanguage.googleapis.com. Repeatable; every other
    /// request goes to --upstream
    #[arg(long = "upstream-for", value_name = "API=URL")]
    pub upstream_for: Vec<String>,
    /// Trust the CA certificates in FILE (PEM, one or more) for the upstream, besides the
    /// system's roots: a gateway behind a company CA
    #[arg(long, env = "LLMSCOPE_UPSTREAM_CA", value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,
    /// After N identical failures of the same request that no retry can cure (4xx but
    /// 408/409/429, an error in a 200, a malformed reply), answer the next repeat with an
    /// error the agent does not retry instead of sending it; 0 never stops
    #[arg(long, default_value_t = RetryStop::default().incurable_after, value_name = "N")]
    pub stop_loops_after: u32,
    /// The same for failures agents retry on purpose (5xx, 429, resets, timeouts), which
    /// often pass; 0 never stops
    #[arg(long, default_value_t = RetryStop::default().transient_after, value_name = "N")]
    pub stop_transient_loops_after: u32,
    /// Threads that serve agent connections, each connection staying on one (default: one
    /// per CPU core, at most 4)
    #[arg(long, env = "LLMSCOPE_THREADS", value_name = "N")]
    pub threads: Option<NonZeroUsize>,
    /// Send each exchange as an OpenTelemetry GenAI span to this OTLP/HTTP collector, e.g.
    /// http://localhost:4318 (Jaeger, the Collector) or
    /// https://cloud.langfuse.com/api/public/otel; /v1/traces is added unless the path ends
    /// with it. A slow or dead collector costs spans, never the agent's time
    #[arg(long, value_name = "URL")]
    pub otlp: Option<String>,
    /// A header for the collector, e.g. "Authorization=Basic …" for Langfuse (repeatable;
    /// OTEL_EXPORTER_OTLP_HEADERS is read too). Never printed or stored
    #[arg(long = "otlp-header", value_name = "NAME=VALUE", requires = "otlp")]
    pub otlp_headers: Vec<String>,
    /// Send the conversation and the reply with each span (gen_ai.input.messages,
    /// gen_ai.output.messages); off by default, since prompts may hold private data
    #[arg(long, requires = "otlp")]
    pub otlp_bodies: bool,
}

impl ProxyArgs {
    /// The mode given with `--mode`, else reverse.
    pub fn mode(&self) -> mode::Mode {
        self.mode.unwrap_or_default()
    }

    pub fn proxy_config(&self) -> Result<ProxyConfig> {
        let (upstream, forward) = mode::resolve(
            self.mode(),
            self.plain_upstream()?,
            &self.intercept_hosts,
            &self.data.resolve()?,
        )?;
        let mut config = ProxyConfig::new(self.listen, upstream);
        config.forward = forward;
        config.connect_timeout = Duration::from_secs(self.connect_timeout);
        config.idle_timeout = Duration::from_secs(self.idle_timeout);
        config.header_read_timeout = Duration::from_secs(self.header_timeout);
        config.max_request_bytes = self.max_request_bytes;
        config.max_capture_bytes = self.max_capture_bytes;
        config.hold_errors = self.hold_errors;
        config.hold_timeout = Duration::from_secs(self.hold_timeout);
        config.readable_replies = !self.exact_replies;
        config.auto_fix = self.auto_fix;
        if let Some(threads) = self.threads {
            config.serving_threads = threads;
        }
        config.providers = self
            .providers
            .iter()
            .map(|spec| Provider::parse(spec))
            .collect::<Result<_, _>>()
            .context("reading --provider")?;
        for spec in self.upstream_for.iter().chain(self.api_upstreams()) {
            config
                .upstream_for
                .extend(upstream_for(spec).context("reading --upstream-for")?);
        }
        if self.mode() == mode::Mode::Reverse && self.plain_upstream()?.is_none() {
            let routed: Vec<Dialect> = config.upstream_for.iter().map(|(d, _)| *d).collect();
            config.upstream_for.extend(mode::public_routes(&routed)?);
            eprintln!(
                "llmscope: no --upstream: each API's requests go to its public endpoint \
                 (OpenAI's and any other: https://api.openai.com, Anthropic's: \
                 https://api.anthropic.com, Gemini's: https://generativelanguage.googleapis.com)"
            );
        }
        config.upstream_ca = match &self.upstream_ca {
            Some(path) => Some(UpstreamCa::load(path).context("reading --upstream-ca")?),
            None => None,
        };
        config.retry_stop = RetryStop {
            incurable_after: self.stop_loops_after,
            transient_after: self.stop_transient_loops_after,
        };
        config.intercept = match self.intercept.as_deref() {
            Some(text) => Some(InterceptPattern::parse(text).context(
                "--intercept needs a pattern: part of \"METHOD path model\", or * for every request",
            )?),
            None => None,
        };
        if self.hold_timeout >= 600 {
            eprintln!(
                "llmscope: WARNING: --hold-timeout {}s is as long as or longer than the 600 s \
                 most agents wait for a reply; the agent may give up before a held error is settled",
                self.hold_timeout
            );
        }
        Ok(config)
    }
}

impl ProxyArgs {
    /// The one `--upstream URL` that takes every request no API=URL claims, if given.
    pub fn plain_upstream(&self) -> Result<Option<&str>> {
        let mut plain = self.upstream.iter().filter(|spec| api_of(spec).is_none());
        let first = plain.next();
        if let Some(second) = plain.next() {
            anyhow::bail!(
                "two --upstream URLs ({} and {second}): give one, and API=URL for an API \
                 that goes elsewhere (e.g. --upstream anthropic=https://api.anthropic.com)",
                first.map_or("", String::as_str)
            );
        }
        Ok(first.map(String::as_str))
    }

    /// Makes `url` the one plain `--upstream`, keeping the API=URL ones.
    pub fn set_plain_upstream(&mut self, url: String) {
        self.upstream.retain(|spec| api_of(spec).is_some());
        self.upstream.push(url);
    }

    /// The `--upstream API=URL` forms, read like `--upstream-for`.
    fn api_upstreams(&self) -> impl Iterator<Item = &String> {
        self.upstream.iter().filter(|spec| api_of(spec).is_some())
    }
}

/// `anthropic` for `anthropic=https://…`; `None` for a plain URL.
fn api_of(spec: &str) -> Option<&str> {
    let (api, _) = spec.split_once('=')?;
    let known = ["openai", "anthropic", "gemini"];
    known
        .iter()
        .any(|k| api.trim().eq_ignore_ascii_case(k))
        .then_some(api)
}

impl ProxyArgs {
    /// The `--otlp` export asked for, if any.
    pub fn otlp_settings(&self) -> Result<Option<OtlpSettings>> {
        let Some(url) = &self.otlp else {
            return Ok(None);
        };
        let headers = self
            .otlp_headers
            .iter()
            .map(|spec| OtlpHeader::parse(spec))
            .collect::<Result<_, _>>()?;
        Ok(Some(OtlpSettings {
            endpoint: OtlpEndpoint::parse(url)?,
            headers,
            bodies: self.otlp_bodies,
        }))
    }
}

/// `anthropic=URL` → the dialects of that API and its upstream.
pub(super) fn upstream_for(spec: &str) -> Result<Vec<(Dialect, Upstream)>> {
    let (api, url) = spec.split_once('=').with_context(|| {
        format!("expected API=URL (e.g. anthropic=https://api.anthropic.com), got `{spec}`")
    })?;
    let dialects: &[Dialect] = match api.trim().to_ascii_lowercase().as_str() {
        "openai" => &[Dialect::OpenAiChat, Dialect::OpenAiResponses],
        "anthropic" => &[Dialect::Anthropic],
        "gemini" => &[Dialect::Gemini],
        other => anyhow::bail!("unknown API `{other}`: openai, anthropic or gemini"),
    };
    let upstream = Upstream::parse(url.trim()).with_context(|| format!("the URL for {api}"))?;
    Ok(dialects.iter().map(|d| (*d, upstream.clone())).collect())
}
