//! `llmscope record`: the proxy without a screen, one line per finished exchange.

use anyhow::Result;

use super::exchange_log::Printer;
use super::runtime::shutdown_signal;
use super::ProxyArgs;
use crate::recorder::Recording;

pub async fn run(args: ProxyArgs) -> Result<()> {
    let config = args.proxy_config()?;
    let data_dir = args.data.resolve()?;
    warn_if_exposed(&config.listen);
    let otlp = args.otlp_settings()?;
    let recording =
        Recording::start_exporting(config.clone(), &data_dir, "record", otlp.as_ref()).await?;
    if let Some(moved) = &recording.moved_aside {
        eprintln!(
            "llmscope: the session database was damaged; it was moved to {} and a new one started",
            moved.display()
        );
    }
    println!(
        "llmscope recording: http://{} -> {}  (session {}, data in {})",
        recording.local_addr(),
        config.upstream_label(),
        recording.session,
        data_dir.display()
    );
    match &config.forward {
        None => println!(
            "point the agent's base URL at http://{}; Ctrl-C stops",
            recording.local_addr()
        ),
        Some(mode) => println!(
            "set HTTPS_PROXY=http://{} for the agent and trust {} (`llmscope ca` says how); \
             intercepting {}; Ctrl-C stops",
            recording.local_addr(),
            mode.ca.cert_path().display(),
            mode.intercept_hosts().join(", ")
        ),
    }
    match recording.attach() {
        Ok(server) => {
            server.log_to_stderr();
            println!(
                "open the screen from another terminal: {}",
                attach_command(args.data.data_dir.as_deref())
            );
        }
        // Without a screen nothing could send an intercepted request: every match would
        // only be delayed by the hold time.
        Err(error) if args.intercept.is_some() => anyhow::bail!(
            "--intercept needs a screen to edit and send the paused requests, and this \
             session cannot serve one: {error}"
        ),
        Err(error) => eprintln!("llmscope: no second screen for this session: {error}"),
    }
    if let Some(pattern) = &args.intercept {
        println!(
            "requests matching `{pattern}` wait for `{}` to edit and send them (unchanged \
             after {} s)",
            attach_command(args.data.data_dir.as_deref()),
            args.hold_timeout
        );
    }
    let control = recording.control();
    let prices = match super::prices::price_table_async().await {
        Ok(prices) => prices,
        Err(error) => {
            // The log is still worth having; only the context warnings lose the user's table.
            eprintln!("llmscope: {error:#}; context warnings use the shipped prices");
            crate::analysis::PriceTable::builtin().unwrap_or_default()
        }
    };
    let printer = Printer::spawn(&recording, prices);
    let health = tokio::spawn(report_capture_health(recording.store_health()));
    let export_health = recording
        .otlp_health()
        .map(|(health, endpoint)| tokio::spawn(report_export_health(health, endpoint)));
    recording.serve_until(shutdown_signal()).await?;
    health.abort();
    if let Some(export_health) = export_health {
        export_health.abort();
    }
    // The bus is closed now, so the printer ends once it has printed what was queued.
    printer.finish().await;
    if let Some(counts) = control.forward_counts() {
        println!(
            "forward proxy: {} connections to other hosts tunnelled unrecorded, {} TLS \
             handshakes refused by the agent",
            counts.tunnelled, counts.refused_handshakes
        );
    }
    Ok(())
}

/// The command that opens the screen on this session from another terminal.
pub fn attach_command(data_dir: Option<&std::path::Path>) -> String {
    match data_dir {
        Some(dir) => format!("llmscope attach --data-dir {}", dir.display()),
        None => "llmscope attach".to_string(),
    }
}

/// Anyone who can reach a non-loopback listener can spend the credentials the agent sends.
pub fn warn_if_exposed(listen: &std::net::SocketAddr) {
    if !listen.ip().is_loopback() {
        eprintln!(
            "llmscope: WARNING: listening on {listen}, beyond this machine: anyone who reaches \
             this port can use your upstream credentials"
        );
    }
}

/// Says when writing to the database starts failing (disk full, file not writable) and when
/// it recovers; the proxy keeps forwarding either way.
async fn report_capture_health(health: std::sync::Arc<crate::store::StoreHealth>) {
    let mut failing = false;
    let mut unrecorded = 0;
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        ticks.tick().await;
        let now_unrecorded = health.bodies_unrecorded();
        if now_unrecorded > unrecorded {
            eprintln!(
                "llmscope: the disk fell behind the proxy; {now_unrecorded} exchanges so far are \
                 recorded without their bodies (memory stays bounded)"
            );
            unrecorded = now_unrecorded;
        }
        let now = health.is_failing();
        if now != failing {
            if now {
                let reason = health
                    .last_error()
                    .unwrap_or_else(|| "unknown error".into());
                eprintln!("llmscope: capture failing, exchanges are queued in memory: {reason}");
            } else {
                eprintln!("llmscope: capture resumed; queued exchanges written");
            }
            failing = now;
        }
    }
}

/// Says once, as soon as it happens, that spans are being lost: the collector is down,
/// refusing, or too slow. The summary at the end has the counts.
async fn report_export_health(health: std::sync::Arc<crate::otlp::ExportHealth>, endpoint: String) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        ticks.tick().await;
        if let Some(problem) = health.problem() {
            eprintln!(
                "llmscope: WARNING: OTLP export to {endpoint} is failing ({problem}); spans are \
                 dropped, the agent's calls are forwarded and recorded as usual"
            );
            return;
        }
    }
}
