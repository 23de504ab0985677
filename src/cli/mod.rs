//! The command line: flags, subcommands, and the glue that starts the proxy, the store and the
//! views for each. `main.rs` only parses and calls [`run`].

mod attach;
mod ca;
mod demo;
mod env;
mod exchange_log;
mod export;
mod launch;
mod mode;
mod open;
mod prices;
mod proxy_args;
mod record;
mod runtime;
mod sessions;
mod stats;
mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

pub use proxy_args::ProxyArgs;

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
    use super::proxy_args::upstream_for;
    use super::*;
    use crate::llm::Dialect;

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
    fn upstream_takes_one_url_and_any_api_urls() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().to_str().expect("utf-8");
        let args = record_args(&[
            "--data-dir",
            data,
            "--upstream",
            "http://127.0.0.1:4000/v1",
            "--upstream",
            "anthropic=http://127.0.0.1:4001",
            "--upstream",
            "Gemini=http://127.0.0.1:4002",
        ]);
        let config = args.proxy_config().expect("valid");
        assert_eq!(config.upstream.to_string(), "http://127.0.0.1:4000/v1");
        let routes: Vec<(Dialect, String)> = config
            .upstream_for
            .iter()
            .map(|(d, u)| (*d, u.to_string()))
            .collect();
        assert_eq!(
            routes,
            [
                (Dialect::Anthropic, "http://127.0.0.1:4001".to_string()),
                (Dialect::Gemini, "http://127.0.0.1:4002".to_string()),
            ]
        );

        // Only API=URL forms: the other APIs still get their public endpoints.
        let config = record_args(&[
            "--data-dir",
            data,
            "--upstream",
            "anthropic=http://127.0.0.1:4001",
        ])
        .proxy_config()
        .expect("valid");
        assert_eq!(config.upstream.to_string(), "https://api.openai.com");

        let two = record_args(&[
            "--data-dir",
            data,
            "--upstream",
            "http://127.0.0.1:4000",
            "--upstream",
            "http://127.0.0.1:4001",
        ]);
        let error = format!("{:#}", two.proxy_config().expect_err("two plain URLs"));
        assert!(error.contains("two --upstream URLs"), "{error}");
    }

    #[test]
    fn without_an_upstream_each_api_goes_to_its_public_endpoint() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().to_str().expect("utf-8");
        let config = record_args(&["--data-dir", data])
            .proxy_config()
            .expect("public endpoints need no flag");
        assert_eq!(config.upstream.to_string(), "https://api.openai.com");
        assert_eq!(config.upstream_label(), "https://api.openai.com +2 by API");
        let label = config.upstream_label();
        let read = crate::proxy::UpstreamLabel::parse(&label);
        assert_eq!(read.main, Some("https://api.openai.com"));
        assert_eq!(read.elsewhere, 2);
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
        assert_eq!(config.upstream_label(), "http://127.0.0.1:4000");
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
