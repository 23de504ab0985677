//! Carrying out the commands that act on the running proxy: resend, hold, forward, intercept,
//! rules, model lists. A local proxy answers each at once (a resend only starts here; its
//! exchange arrives on the capture bus); an attached one answers over its socket.

use futures_util::FutureExt;

use crate::proxy::ProxyControl;
use crate::remote::Control;
use crate::tui::update::event::{AppEvent, Command};

/// Runs `command` through a local proxy and returns what `update` should learn from it;
/// `None` for commands that are not about the proxy or that wait on the network (model lists).
pub fn run_command(control: &ProxyControl, command: Command) -> Option<AppEvent> {
    if matches!(command, Command::ListModels { .. }) {
        return None;
    }
    answer(&Control::Local(control.clone()), command)
        .now_or_never()
        .flatten()
}

/// What `update` should learn from `command` once `control` has run it; `None` for commands
/// that are not about the proxy (the loop runs those itself) or that failed without a word
/// for `update` (an attached session that just ended says so itself).
pub async fn answer(control: &Control, command: Command) -> Option<AppEvent> {
    match command {
        Command::Resend { parent, request } => Some(match control.resend(parent, request).await {
            Ok(child) => AppEvent::ResendStarted { parent, child },
            Err(reason) => AppEvent::ResendFailed { parent, reason },
        }),
        Command::SetHold(on) => control.set_hold(on).await.ok().map(AppEvent::HoldChanged),
        Command::SetAutoFix(on) => control
            .set_auto_fix(on)
            .await
            .ok()
            .map(AppEvent::AutoFixChanged),
        Command::ForwardHeld(id) => control
            .forward_held(id)
            .await
            .ok()
            .map(|forwarded| AppEvent::ForwardDone { id, forwarded }),
        Command::SetIntercept(pattern) => control
            .set_intercept(pattern)
            .await
            .ok()
            .map(AppEvent::InterceptChanged),
        Command::ReleaseIntercepted { id, request } => Some(AppEvent::ReleaseDone {
            id,
            edited: request.is_some(),
            result: control.release_intercepted(id, request).await,
        }),
        Command::SetRules(rules) => {
            let _ = control.set_rules(rules).await;
            None
        }
        Command::ListModels { id, uri, headers } => Some(AppEvent::ModelsListed {
            id,
            models: control.list_models(id, &uri, &headers).await,
        }),
        Command::LoadDetail(_) | Command::Quit | Command::CopyCurl { .. } => None,
    }
}

/// What `update` hears when a proxy command reaches a screen with no proxy behind it.
pub fn read_only_answer(command: &Command) -> Option<AppEvent> {
    match command {
        Command::Resend { parent, .. } => Some(AppEvent::ResendFailed {
            parent: *parent,
            reason: "read-only session: there is no proxy to send through".to_string(),
        }),
        Command::SetHold(_) => Some(AppEvent::HoldChanged(false)),
        Command::SetAutoFix(_) => Some(AppEvent::AutoFixChanged(false)),
        Command::ForwardHeld(id) => Some(AppEvent::ForwardDone {
            id: *id,
            forwarded: false,
        }),
        Command::SetIntercept(_) => Some(AppEvent::InterceptChanged(None)),
        Command::ReleaseIntercepted { id, request } => Some(AppEvent::ReleaseDone {
            id: *id,
            edited: request.is_some(),
            result: Ok(false),
        }),
        Command::ListModels { id, .. } => Some(AppEvent::ModelsListed {
            id: *id,
            models: Err("read-only session: there is no proxy to ask".to_string()),
        }),
        Command::SetRules(_)
        | Command::LoadDetail(_)
        | Command::Quit
        | Command::CopyCurl { .. } => None,
    }
}
