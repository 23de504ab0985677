//! The real binary running `demo` in a pseudo-terminal: a failed call is held, the keys the
//! screen names fix it, the scripted agent goes on, `q` quits and the terminal is given back.

mod common;

use common::screen::Screen;

/// The percentage on the opencode conversation's gauge (`ctx ▂▁▁▁▁▁▁▁ 3% of 200k`).
fn context_percent(screen: &str) -> u32 {
    let header = screen
        .lines()
        .find(|l| l.contains("opencode conversation"))
        .unwrap_or_default();
    let gauge = header.split("ctx ").nth(1).unwrap_or_default();
    let percent = gauge.split_whitespace().nth(1).unwrap_or_default();
    percent
        .trim_end_matches('%')
        .parse()
        .unwrap_or_else(|_| panic!("a gauge in {screen}"))
}

/// The story a newcomer sees: the subagent's call fails and is held, the screen names the
/// keys, the keys fix it, the fixed reply reaches the waiting agent and the session goes on.
#[test]
fn demo_holds_the_failure_and_the_keys_on_screen_fix_it() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut demo = Screen::start(&["demo", "--pace-ms", "50"], data.path());
    let screen = demo.wait_for("the held failure and its keys", |s| {
        s.contains("held — the agent is waiting") && s.contains("fix it: e edit")
    });
    // The list is a tree: opencode's title call apart, its conversation under a header with
    // the context gauge.
    let title = screen
        .lines()
        .find(|l| l.starts_with("│1 "))
        .unwrap_or_default();
    assert!(title.contains("title · /v1/chat/completions"), "{screen}");
    let earlier = context_percent(&screen);
    for shown in [
        "4 total 1 failed",
        "Invalid model name passed in model=mock-400-model",
        "Ctrl-F quick fixes · 1 first fix · Ctrl-S send",
        "or wait: at time-out the agent gets this error",
    ] {
        assert!(screen.contains(shown), "{shown:?} in\n{screen}");
    }

    // Exactly what the hint line says to press, checking the screen after each key.
    for (key, what, shown) in [
        ("e", "the editor on the held request", "Edit #4 → resend"),
        (
            "\x06",
            "the quick fixes",
            "1 set model to `claude-sonnet-4-5`",
        ),
        (
            "1",
            "the fix applied",
            "changed the model from `mock-400-model` to `claude-sonnet-4-5`",
        ),
    ] {
        demo.type_keys(key.as_bytes());
        demo.wait_for(what, |s| s.contains(shown));
    }
    demo.type_keys(b"\x13");
    let screen = demo.wait_for("the fix delivered and the session going on", |s| {
        // The last request may still be on its way when it is counted.
        s.contains("[fixed by #5]") && s.contains("11 total") && s.contains(" 0 in flight")
    });
    // #6 is turn 3, sent once the fixed reply reached the agent: the agent carried on.
    let row = |id: &str| {
        screen
            .lines()
            .find(|l| l.starts_with(&format!("│{id} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row("5").contains("↳#4"), "the resend is linked: {screen}");
    assert!(row("6").contains("claude-sonnet-4-5  200"), "{screen}");
    // #8 refused its sampling settings and auto-fix repaired it with no key: #9 is marked.
    assert!(row("8").contains("[fixed by #9]"), "{screen}");
    assert!(
        row("9").contains('⚡') && row("9").contains("↳#8"),
        "{screen}"
    );
    assert!(row("11").contains("claude-opus-4-1    200"), "{screen}");
    assert!(screen.contains("2 failed"), "{screen}");
    // The conversation's context gauge climbed with its turns; the subagent has its own.
    let later = context_percent(&screen);
    assert!(later > earlier, "{earlier}% then {later}%: {screen}");
    assert!(screen.contains("opencode sub-agent · 1 turn"), "{screen}");

    demo.type_keys(b"?");
    demo.wait_for("the help overlay", |s| {
        s.contains("dismiss the error banner")
    });
    demo.type_keys(b"\x1b");
    demo.quit();
}
