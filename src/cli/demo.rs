//! `llmscope demo`: the mock upstream, the proxy with hold-on-error on and the scripted agent,
//! with the screen (or with `--headless`, one line per exchange, the held failure fixed by the
//! demo itself, and an exit when the script ends).

use std::time::Duration;

use anyhow::{Context, Result};

use super::exchange_log::Printer;
use super::runtime::shutdown_signal;
use super::{DemoArgs, MockArgs};
use crate::capture::Interest;
use crate::demo::{fix_held_failures, run_script, DemoScript, Story};
use crate::mock::MockUpstream;
use crate::proxy::{ProxyConfig, Upstream};
use crate::recorder::Recording;

/// How long the demo's agent waits on a held failure before its error goes on: long enough to
/// read the banner and press four keys, short enough that a newcomer who does nothing sees the
/// session go on. The screen counts it down.
pub const DEMO_HOLD: Duration = Duration::from_secs(90);

pub async fn run(args: DemoArgs) -> Result<()> {
    let script = DemoScript::builtin()?;
    let mock = MockUpstream::start()
        .await
        .context("starting the demo's mock upstream on 127.0.0.1")?;
    let upstream = Upstream::parse(&mock.url())?;
    let mut config = ProxyConfig::new(args.listen, upstream);
    // The story is a failure held for the user to fix while the agent waits.
    config.hold_errors = true;
    config.hold_timeout = DEMO_HOLD;
    // And one failure that loses nothing by its fix, repaired with no key press.
    config.auto_fix = true;
    let data_dir = args.data.resolve()?;
    let recording = Recording::start(config, &data_dir, "demo").await?;
    let base_url = format!("http://{}", recording.local_addr());
    let pace = Duration::from_millis(args.pace_ms);

    if args.headless {
        println!(
            "llmscope demo: proxy http://{} -> mock upstream {}  (session {}, data in {})",
            recording.local_addr(),
            mock.url(),
            recording.session,
            data_dir.display()
        );
        let prices = crate::analysis::PriceTable::builtin().unwrap_or_default();
        let printer = Printer::spawn(&recording, prices);
        // Nobody is at a screen to press the keys, so the demo fixes what is held itself.
        let fixer = tokio::spawn(fix_held_failures(
            recording.subscribe_to(Interest::Record),
            recording.control(),
            |line| println!("{line}"),
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(recording.serve_until(async {
            let _ = stopped.await;
        }));
        let outcomes = run_script(&base_url, &script.steps, pace).await;
        let _ = stop.send(());
        serving.await.context("the proxy task failed")??;
        printer.finish().await;
        let _ = fixer.await;
        for outcome in outcomes {
            // The held step's agent saw nothing of the failure: only the reply that fixed it.
            let after = match (outcome.story, &outcome.status) {
                (Story::Held, Ok(200)) => " (the fixed reply, after waiting on the hold)",
                (Story::AutoFix, Ok(200)) => " (auto-fixed by llmscope, no key pressed)",
                _ => "",
            };
            let status = outcome.status.map_or_else(|e| e, |s| s.to_string());
            println!("agent: {} -> {status}{after}", outcome.label);
        }
        return Ok(());
    }

    let agent = tokio::spawn(async move { run_script(&base_url, &script.steps, pace).await });
    let shown = super::watch::run_live(recording).await;
    agent.abort();
    drop(mock);
    shown
}

/// `llmscope mock-upstream`: the mock alone until Ctrl-C.
pub async fn serve_mock(args: MockArgs) -> Result<()> {
    let mock = MockUpstream::start_on(args.listen)
        .await
        .with_context(|| format!("starting the mock upstream on {}", args.listen))?;
    println!("llmscope mock upstream on {} (Ctrl-C stops)", mock.url());
    shutdown_signal().await;
    Ok(())
}
