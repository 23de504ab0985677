//! The real binary running `demo` in a pseudo-terminal: a failed call is held, the keys the
//! screen names fix it, the scripted agent goes on, `q` quits and the terminal is given back.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

const WAIT: Duration = Duration::from_secs(60);

fn screen_text(parser: &Mutex<vt100::Parser>) -> String {
    parser
        .lock()
        .map(|p| p.screen().contents())
        .unwrap_or_default()
}

fn wait_for_screen(
    parser: &Mutex<vt100::Parser>,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = screen_text(parser);
        if done(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "screen never showed {what}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The real binary in a pseudo-terminal, and the keys a user types into it.
struct Demo {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    parser: Arc<Mutex<vt100::Parser>>,
    keys: Box<dyn Write + Send>,
    _data: tempfile::TempDir,
}

impl Demo {
    fn start() -> Demo {
        let data = tempfile::tempdir().expect("temp dir");
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_llmscope"));
        command.args(["demo", "--pace-ms", "50", "--data-dir"]);
        command.arg(data.path());
        command.env("TERM", "xterm-256color");
        let child = pty.slave.spawn_command(command).expect("llmscope starts");
        drop(pty.slave);

        let parser = Arc::new(Mutex::new(vt100::Parser::new(40, 120, 0)));
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let feed = parser.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut parser) = feed.lock() {
                    parser.process(&buf[..n]);
                }
            }
        });
        let keys = pty.master.take_writer().expect("pty writer");
        Demo {
            child,
            parser,
            keys,
            _data: data,
        }
    }

    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        wait_for_screen(&self.parser, what, done)
    }

    fn type_keys(&mut self, keys: &[u8]) {
        self.keys.write_all(keys).expect("typing");
        self.keys.flush().expect("typing");
    }

    fn quit(mut self) {
        self.type_keys(b"q");
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("child state") {
                break status;
            }
            assert!(Instant::now() < deadline, "llmscope did not quit on q");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "exit status {status:?}");
        std::thread::sleep(Duration::from_millis(200));
        let alternate = self
            .parser
            .lock()
            .map(|p| p.screen().alternate_screen())
            .unwrap_or(true);
        assert!(!alternate, "the terminal left the alternate screen");
    }
}

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
    let mut demo = Demo::start();
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
        "at 0 s the agent gets this error",
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
        s.contains("[fixed by #5]") && s.contains("11 total")
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
