//! The real binary running `demo` in a pseudo-terminal: the list fills, the banner shows the
//! 400's diagnosis, `q` quits and the terminal is given back.

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

#[test]
fn demo_fills_the_list_and_shows_the_context_length_diagnosis() {
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
    let mut child = pty.slave.spawn_command(command).expect("llmscope starts");
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
    let mut keys = pty.master.take_writer().expect("pty writer");

    let screen = wait_for_screen(&parser, "all eight exchanges and the 400 banner", |s| {
        s.contains("8 total") && s.contains("context too long")
    });
    assert!(screen.contains("3 failed"), "{screen}");
    assert!(screen.contains("mock-400-context"), "{screen}");
    assert!(screen.contains("malformed reply"), "{screen}");
    assert!(
        screen.contains("context too long: 131072 tokens requested, limit 128000"),
        "{screen}"
    );
    assert!(
        screen.contains("maximum context length is 128000 tokens"),
        "{screen}"
    );

    keys.write_all(b"?").expect("type ?");
    wait_for_screen(&parser, "the help overlay", |s| {
        s.contains("dismiss the error banner")
    });
    keys.write_all(b"\x1b").expect("type Esc");
    keys.write_all(b"q").expect("type q");
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("child state") {
            break status;
        }
        assert!(Instant::now() < deadline, "llmscope did not quit on q");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    std::thread::sleep(Duration::from_millis(200));
    let alternate = parser
        .lock()
        .map(|p| p.screen().alternate_screen())
        .unwrap_or(true);
    assert!(!alternate, "the terminal left the alternate screen");
}
