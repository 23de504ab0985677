//! The real binary in a pseudo-terminal: the screen read back through a terminal emulator,
//! and the keys a user types into it.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

/// Screens draw on a frame timer and in debug builds; give them time.
const SCREEN_WAIT: Duration = Duration::from_secs(60);

pub struct Screen {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    parser: Arc<Mutex<vt100::Parser>>,
    keys: Box<dyn Write + Send>,
}

impl Screen {
    /// `llmscope ARGS --data-dir DATA` on a 40×120 terminal.
    pub fn start(args: &[&str], data: &Path) -> Screen {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_llmscope"));
        command.args(args);
        command.arg("--data-dir");
        command.arg(data);
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
        Screen {
            child,
            parser,
            keys,
        }
    }

    pub fn text(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Waits until the screen satisfies `done`; fails the test naming `what` if it never does.
    pub fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + SCREEN_WAIT;
        loop {
            let text = self.text();
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

    pub fn type_keys(&mut self, keys: &[u8]) {
        self.keys.write_all(keys).expect("typing");
        self.keys.flush().expect("typing");
    }

    /// `q`; asserts a clean exit and that the terminal was given back.
    pub fn quit(mut self) {
        self.type_keys(b"q");
        let deadline = Instant::now() + SCREEN_WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("child state") {
                break status;
            }
            assert!(Instant::now() < deadline, "llmscope did not quit on q");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "exit status {status:?}");
        // The last bytes (leaving the alternate screen) may still be on their way.
        std::thread::sleep(Duration::from_millis(200));
        let alternate = self
            .parser
            .lock()
            .map(|p| p.screen().alternate_screen())
            .unwrap_or(true);
        assert!(
            !alternate,
            "the terminal was not given back (still on the alternate screen)"
        );
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
