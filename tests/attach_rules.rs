//! Two screens on one live session keep the same rules: the built-in screen (an `App` on the
//! proxy in this process) and one attached through the real socket. A rule one of them keeps
//! shows in the other's rules list, and a change made in the other keeps it.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{Harness, WAIT};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use llmscope::capture::{CaptureEvent, Subscription};
use llmscope::fix::{QuickFix, Rule, RuleAction, RuleMatch};
use llmscope::remote::{connect_live, Control};
use llmscope::tui::{draw, run_command, update, App, AppEvent, Command, StatusInfo};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const SECRET: &str = "sk-rule-SECRET-42";

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    i64::try_from(since.as_millis()).expect("ms fit")
}

fn live_app(rules: Vec<Rule>) -> App {
    let status = StatusInfo {
        live: true,
        control: true,
        ..StatusInfo::default()
    };
    let mut app = App::new(status, Vec::new(), now_ms(), (120, 40));
    app.rules = rules;
    app
}

/// The rules list as the user opens it with `R` (closed again afterwards).
fn rules_list(app: &mut App) -> String {
    assert!(press(app, KeyCode::Char('R')).is_empty());
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("test terminal");
    terminal.draw(|frame| draw(app, frame)).expect("draw");
    let buffer = terminal.backend().buffer();
    let text = (0..40)
        .map(|y| {
            (0..120)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n");
    press(app, KeyCode::Esc);
    text
}

fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    update(app, AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn rule(id: u64, action: RuleAction) -> Rule {
    Rule {
        id,
        enabled: true,
        matcher: RuleMatch {
            path_contains: Some("/v1/chat/completions".into()),
            ..RuleMatch::default()
        },
        action,
        created_from: Some(format!("#{id}")),
    }
}

/// Applies capture events to `app` until a `RulesChanged` has been; no command comes of it.
async fn until_rules_changed(events: &mut Subscription, app: &mut App) {
    tokio::time::timeout(WAIT, async {
        loop {
            let event = events.recv().await.expect("the session is live");
            let changed = matches!(event, CaptureEvent::RulesChanged { .. });
            let commands = update(app, AppEvent::Capture(event));
            assert!(commands.is_empty(), "not echoed back: {commands:?}");
            if changed {
                return;
            }
        }
    })
    .await
    .expect("the rules change arrives in time");
}

/// The same for the built-in screen, fed from the proxy's own bus.
async fn local_until_rules_changed(h: &mut Harness, app: &mut App) {
    loop {
        let event = h.next_any().await;
        let changed = matches!(event, CaptureEvent::RulesChanged { .. });
        let commands = update(app, AppEvent::Capture(event));
        assert!(commands.is_empty(), "not echoed back: {commands:?}");
        if changed {
            return;
        }
    }
}

/// The one `SetRules` a key gave.
fn set_rules(commands: Vec<Command>) -> Command {
    match commands.as_slice() {
        [Command::SetRules(_)] => commands.into_iter().next().expect("one"),
        other => panic!("not a rules change: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_kept_on_one_screen_shows_on_the_other_and_survives_its_edit() {
    let mut h = Harness::start().await;
    let attachment = tokio::time::timeout(WAIT, connect_live(&h.data_dir, Some(h.session)))
        .await
        .expect("attach in time")
        .expect("the session is live");
    let mut attached = live_app(attachment.hello.state.rules.clone());
    let (remote, mut attached_events) = attachment.start(Vec::new());
    let remote = Control::Remote(remote);
    let mut local = live_app(Control::Local(h.control.clone()).rules());

    // The built-in screen keeps a rule that sets a credential, as `K` hands it over.
    local.rules.push(rule(
        1,
        RuleAction::SetHeader {
            name: "x-api-key".into(),
            value: SECRET.into(),
        },
    ));
    assert!(run_command(&h.control, Command::SetRules(local.rules.clone())).is_none());
    until_rules_changed(&mut attached_events, &mut attached).await;
    let seen = rules_list(&mut attached);
    assert!(
        seen.contains(
            "[x]  1 path has `/v1/chat/completions` → set header `x-api-key: <redacted>`"
        ),
        "{seen}"
    );
    assert!(!seen.contains(SECRET), "{seen}");

    // The attached screen keeps a second one, handing over its whole list as `K` does.
    attached.rules.push(rule(
        2,
        RuleAction::Fix(QuickFix::SetModel {
            model: "mock-ok".into(),
        }),
    ));
    remote
        .set_rules(attached.rules.clone())
        .await
        .expect("the proxy takes the rules");
    // Every screen hears each change, its own too.
    until_rules_changed(&mut attached_events, &mut attached).await;
    // The built-in screen heard its own change first, then this one.
    local_until_rules_changed(&mut h, &mut local).await;
    local_until_rules_changed(&mut h, &mut local).await;
    let seen = rules_list(&mut local);
    assert!(seen.contains("[x]  1 path has"), "{seen}");
    assert!(
        seen.contains("[x]  2 path has `/v1/chat/completions` → set model to `mock-ok`"),
        "{seen}"
    );

    // The built-in screen switches the attached screen's rule off: both stay.
    press(&mut local, KeyCode::Char('R'));
    press(&mut local, KeyCode::Down);
    let toggled = set_rules(press(&mut local, KeyCode::Char(' ')));
    assert!(run_command(&h.control, toggled).is_none());
    until_rules_changed(&mut attached_events, &mut attached).await;
    let seen = rules_list(&mut attached);
    assert!(seen.contains("[x]  1 path has"), "{seen}");
    assert!(seen.contains("[ ]  2 path has"), "{seen}");

    // The proxy still sets the real credential: the screens' `<redacted>` did not replace it.
    let rules = h.control.rules();
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert_eq!(
        rules[0].action,
        RuleAction::SetHeader {
            name: "x-api-key".into(),
            value: SECRET.into()
        }
    );
    assert!(rules[0].enabled && !rules[1].enabled, "{rules:?}");
    h.stop_and_load().await;
}
