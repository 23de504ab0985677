//! The command line: flags, subcommands, and the glue that starts the proxy, the store and the
//! views for each. `main.rs` only parses and calls [`run`].

mod attach;
mod ca;
mod demo;
mod env;
mod export;
mod launch;
mod mode;
mod open;
mod prices;
mod record;
mod runtime;
mod sessions;
mod stats;
mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::llm::Dialect;
use crate::otlp::{OtlpEndpoint, OtlpHeader, OtlpSettings};
use crate::proxy::{InterceptPattern, Provider, ProxyConfig, RetryStop, Upstream, UpstreamCa};

/// See and fix every call between a coding agent and its LLM endpoint.
///
/// Without a command: run the proxy with the live screen. Point the agent's base URL at the
/// listen address.
#[derive(Debug, Parser)]
#[command(
    name = "llmscope",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub proxy: ProxyArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the proxy without a screen; print one line per finished exchange.
    Record(ProxyArgs),
    /// List recorded sessions, newest first.
    Sessions(DataDirArg),
    /// Browse a recorded session in the screen (the newest when no id is given).
    Open(OpenArgs),
    /// Open the live screen of a running `record` or `launch` from another terminal.
    ///
    /// Every key of the built-in screen works (hold, edit and resend, intercept, rules). The
    /// newest live session when no id is given; several screens may attach at once.
    Attach(OpenArgs),
    /// Everything at work with no API key: a built-in mock upstream and a scripted agent.
    Demo(DemoArgs),
    /// Export a session as HAR 1.2, or one exchange as a curl command.
    Export(export::ExportArgs),
    /// A session in numbers: exchanges, failures by class, retry loops, tokens, latency and
    /// time to first byte (p50/p95), by model (the newest session when no id is given).
    Stats(StatsArgs),
    /// Print what points AGENT at llmscope: shell lines for `eval "$(llmscope env claude)"`,
    /// or the agent's config snippet.
    Env(env::EnvArgs),
    /// Start AGENT wired through llmscope, which records until the agent exits: headless, or
    /// inside tmux with the live screen in a pane beside it. The agent's files are never written.
    Launch(launch::LaunchArgs),
    /// Where llmscope's CA certificate is (made on first use) and how to trust it in each
    /// agent runtime, for forward mode; shell lines to `eval`.
    Ca(DataDirArg),
    /// Serve the demo's mock LLM upstream alone, to try agents and SDKs without a key.
    /// The model name picks the reply: mock-ok, mock-400-context, mock-malformed, …
    #[command(hide = true)]
    MockUpstream(MockArgs),
}

#[derive(Debug, Clone, Args)]
pub struct MockArgs {
    #[arg(long, default_value = "127.0.0.1:4000")]
    pub listen: SocketAddr,
}

#[derive(Debug, Clone, Args)]
pub struct OpenArgs {
    /// Session id from `llmscope sessions`
    pub session: Option<i64>,
    #[command(flatten)]
    pub data: DataDirArg,
}

#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// Session id from `llmscope sessions`
    pub session: Option<i64>,
    /// One JSON object instead of text, for scripts
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataDirArg,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Address for the demo proxy (port 0 picks a free one; shown in the status line)
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub data: DataDirArg,
    /// Milliseconds the scripted agent waits between requests
    #[arg(long, default_value_t = 1500, value_name = "MS")]
    pub pace_ms: u64,
    /// Print one line per exchange instead of the screen, and exit when the script ends
    #[arg(long)]
    pub headless: bool,
}

/// Where the session database lives.
#[derive(Debug, Clone, Args)]
pub struct DataDirArg {
    /// Directory of the session database [default: the platform's data directory]
    #[arg(long, env = "LLMSCOPE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Flags of every command that runs the proxy.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// The real endpoint, e.g. https://litellm.internal:4000 (a path prefix is kept); in
    /// forward mode, where requests sent to llmscope itself go (optional there). Without it,
    /// each API's public endpoint: https://api.openai.com (OpenAI's API and any other),
    /// https://api.anthropic.com, https://generativelanguage.googleapis.com
    #[arg(long, env = "LLMSCOPE_UPSTREAM", value_name = "URL")]
    pub upstream: Option<String>,
    /// reverse: the agent's base URL points at llmscope. forward: llmscope is the agent's
    /// HTTPS_PROXY and decrypts the LLM hosts with its own CA (see `llmscope ca`)
    #[arg(long, value_enum, default_value_t = mode::Mode::Reverse)]
    pub mode: mode::Mode,
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
    /// all) before they are forwarded, to edit or send them from the screen (`I` toggles).
    /// They go out unchanged after --hold-timeout
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
    pub fn proxy_config(&self) -> Result<ProxyConfig> {
        let (upstream, forward) = mode::resolve(
            self.mode,
            self.upstream.as_deref(),
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
        config.providers = self
            .providers
            .iter()
            .map(|spec| Provider::parse(spec))
            .collect::<Result<_, _>>()
            .context("reading --provider")?;
        for spec in &self.upstream_for {
            config
                .upstream_for
                .extend(upstream_for(spec).context("reading --upstream-for")?);
        }
        if self.mode == mode::Mode::Reverse && self.upstream.is_none() {
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
fn upstream_for(spec: &str) -> Result<Vec<(Dialect, Upstream)>> {
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

impl DataDirArg {
    pub fn resolve(&self) -> Result<PathBuf> {
        match &self.data_dir {
            Some(dir) => Ok(dir.clone()),
            None => crate::store::default_data_dir()
                .context("no data directory could be determined for this user; pass --data-dir"),
        }
    }
}

/// Runs the parsed command to its end.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => runtime::block_on(watch::run(cli.proxy)),
        Some(Command::Record(args)) => runtime::block_on(record::run(args)),
        Some(Command::Sessions(args)) => sessions::run(&args),
        Some(Command::Open(args)) => runtime::block_on(open::run(args)),
        Some(Command::Attach(args)) => runtime::block_on(attach::run(args)),
        Some(Command::Demo(args)) => runtime::block_on(demo::run(args)),
        Some(Command::MockUpstream(args)) => runtime::block_on(demo::serve_mock(args)),
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::Stats(args)) => stats::run(&args),
        Some(Command::Env(args)) => env::run(&args),
        Some(Command::Launch(args)) => launch::run(args),
        Some(Command::Ca(args)) => ca::run(&args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_args(args: &[&str]) -> ProxyArgs {
        match Cli::try_parse_from(["llmscope", "record"].iter().chain(args)) {
            Ok(Cli {
                command: Some(Command::Record(args)),
                ..
            }) => args,
            other => panic!("not record: {other:?}"),
        }
    }

    #[test]
    fn without_an_upstream_each_api_goes_to_its_public_endpoint() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().to_str().expect("utf-8");
        let config = record_args(&["--data-dir", data])
            .proxy_config()
            .expect("public endpoints need no flag");
        assert_eq!(config.upstream.to_string(), "https://api.openai.com");
        let route = |dialect| {
            config
                .upstream_for
                .iter()
                .find(|(d, _)| *d == dialect)
                .map(|(_, u)| u.to_string())
        };
        assert_eq!(
            route(Dialect::Anthropic).as_deref(),
            Some("https://api.anthropic.com")
        );
        assert_eq!(
            route(Dialect::Gemini).as_deref(),
            Some("https://generativelanguage.googleapis.com")
        );

        // A route the user gave is kept; the other APIs still get theirs.
        let config = record_args(&[
            "--data-dir",
            data,
            "--upstream-for",
            "anthropic=http://127.0.0.1:4000",
        ])
        .proxy_config()
        .expect("valid");
        let anthropic: Vec<String> = config
            .upstream_for
            .iter()
            .filter(|(d, _)| *d == Dialect::Anthropic)
            .map(|(_, u)| u.to_string())
            .collect();
        assert_eq!(anthropic, ["http://127.0.0.1:4000"]);

        // A given --upstream takes every request, as before.
        let config = record_args(&["--data-dir", data, "--upstream", "http://127.0.0.1:4000"])
            .proxy_config()
            .expect("valid");
        assert!(config.upstream_for.is_empty());
    }

    #[test]
    fn otlp_flags_give_the_export_settings_and_need_an_endpoint() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(["llmscope", "record"].iter().chain(args)).map(|cli| {
                match cli.command {
                    Some(Command::Record(args)) => args,
                    _ => panic!("not record"),
                }
            })
        };
        let args = parse(&[
            "--otlp",
            "https://cloud.langfuse.com/api/public/otel",
            "--otlp-header",
            "Authorization=Basic cGs6c2s=",
            "--otlp-header",
            "x-langfuse-ingestion-version=4",
        ])
        .expect("parses");
        let settings = args.otlp_settings().expect("valid").expect("asked for");
        assert_eq!(
            settings.endpoint.as_str(),
            "https://cloud.langfuse.com/api/public/otel/v1/traces"
        );
        assert_eq!(settings.headers.len(), 2);
        assert_eq!(settings.headers[0].value(), "Basic cGs6c2s=");
        assert!(!settings.bodies);
        assert!(
            parse(&["--otlp-bodies"]).is_err(),
            "--otlp-bodies needs --otlp"
        );
        assert!(parse(&["--otlp-header", "a=b"]).is_err());
        let bad = parse(&["--otlp", "localhost:4318"]).expect("parses");
        assert!(bad.otlp_settings().is_err());
        assert!(parse(&[])
            .expect("parses")
            .otlp_settings()
            .expect("ok")
            .is_none());
    }

    #[test]
    fn upstreams_for_an_api_name_its_dialects() {
        let openai = upstream_for("openai=https://api.openai.com").expect("valid");
        let dialects: Vec<_> = openai.iter().map(|(d, _)| *d).collect();
        assert_eq!(dialects, [Dialect::OpenAiChat, Dialect::OpenAiResponses]);
        assert_eq!(
            upstream_for("anthropic=http://127.0.0.1:4000")
                .map(|v| v.len())
                .ok(),
            Some(1)
        );
        let gemini = upstream_for("gemini=https://generativelanguage.googleapis.com");
        assert_eq!(
            gemini
                .ok()
                .map(|v| v.iter().map(|(d, _)| *d).collect::<Vec<_>>()),
            Some(vec![Dialect::Gemini])
        );
        assert!(upstream_for("vertex=https://x").is_err());
        assert!(upstream_for("https://api.openai.com").is_err());
    }
}
