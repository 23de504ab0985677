//! A screen's command carried out on the proxy, server side.

use super::wire::{Answer, ControlState, RemoteCommand};
use crate::fix::{restore_secrets, Rule};
use crate::proxy::ProxyControl;

/// The switches as a screen may see them: credentials in rules redacted.
pub fn control_state(control: &ProxyControl) -> ControlState {
    ControlState {
        hold: control.hold_enabled(),
        auto_fix: control.auto_fix_enabled(),
        intercept: control.intercept(),
        rules: control.rules().into_iter().map(Rule::redacted).collect(),
        forward: control.forward_counts().map(Into::into),
    }
}

/// Runs `command` and says how it went; `Err` when the command itself could not be read (a
/// body marked base64 that is not).
pub async fn run_remote_command(
    control: &ProxyControl,
    command: RemoteCommand,
) -> Result<Answer, String> {
    let state = |control: &ProxyControl| Answer::State(control_state(control));
    Ok(match command {
        RemoteCommand::SetHold { on } => {
            control.set_hold(on);
            state(control)
        }
        RemoteCommand::SetAutoFix { on } => {
            control.set_auto_fix(on);
            state(control)
        }
        RemoteCommand::SetIntercept { pattern } => {
            control.set_intercept(pattern.as_deref());
            state(control)
        }
        RemoteCommand::SetRules { rules } => {
            control.set_rules(restore_secrets(rules, &control.rules()));
            state(control)
        }
        RemoteCommand::Resend { parent, request } => {
            let request = request.into_resend().map_err(|e| e.to_string())?;
            Answer::Resend {
                result: control
                    .resend(parent, request)
                    .map_err(|error| error.to_string()),
            }
        }
        RemoteCommand::ForwardHeld { id } => Answer::Forwarded {
            forwarded: control.forward_held(id),
        },
        RemoteCommand::ReleaseIntercepted { id, request } => {
            let request = match request {
                Some(request) => Some(request.into_resend().map_err(|e| e.to_string())?),
                None => None,
            };
            Answer::Released {
                result: control
                    .release_intercepted(id, request)
                    .map_err(|error| error.to_string()),
            }
        }
        RemoteCommand::ListModels { id, uri, headers } => Answer::Models {
            result: control.list_models(id, &uri, &headers).await,
        },
    })
}
