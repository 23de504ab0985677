//! Carrying out the commands that act on the running proxy: resend, hold, forward, intercept,
//! rules. Each is quick (a resend only starts here; its exchange arrives on the capture bus),
//! so the loop runs them inline and feeds the answer back to `update`.

use crate::proxy::ProxyControl;
use crate::tui::update::event::{AppEvent, Command};

/// Runs `command` through `control` and returns what `update` should learn from it; `None`
/// for commands that are not about the proxy (the loop runs those itself).
pub fn run_command(control: &ProxyControl, command: Command) -> Option<AppEvent> {
    match command {
        Command::Resend { parent, request } => Some(match control.resend(parent, request) {
            Ok(child) => AppEvent::ResendStarted { parent, child },
            Err(error) => AppEvent::ResendFailed {
                parent,
                reason: error.to_string(),
            },
        }),
        Command::SetHold(on) => {
            control.set_hold(on);
            Some(AppEvent::HoldChanged(control.hold_enabled()))
        }
        Command::SetAutoFix(on) => {
            control.set_auto_fix(on);
            Some(AppEvent::AutoFixChanged(control.auto_fix_enabled()))
        }
        Command::ForwardHeld(id) => Some(AppEvent::ForwardDone {
            id,
            forwarded: control.forward_held(id),
        }),
        Command::SetIntercept(pattern) => {
            control.set_intercept(pattern.as_deref());
            Some(AppEvent::InterceptChanged(control.intercept()))
        }
        Command::ReleaseIntercepted { id, request } => Some(AppEvent::ReleaseDone {
            id,
            edited: request.is_some(),
            result: control
                .release_intercepted(id, request)
                .map_err(|error| error.to_string()),
        }),
        Command::SetRules(rules) => {
            control.set_rules(rules);
            None
        }
        Command::LoadDetail(_)
        | Command::Quit
        | Command::CopyCurl { .. }
        | Command::ListModels { .. } => None,
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
