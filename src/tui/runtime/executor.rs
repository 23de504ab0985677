//! Carries out what `update` asks for: loads and file writes on blocking threads, whose
//! results come back through the loop; proxy commands at once when the proxy answers at once
//! (a local one: each only starts its work), with the answer fed straight back to `update`,
//! else on a task of their own whose answer comes back through the loop.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use futures_util::FutureExt;

use crate::capture::ExchangeId;
use crate::remote::Control;
use crate::tui::state::app::App;
use crate::tui::update::event::{AppEvent, Command};
use crate::tui::update::update;

use super::context::{DetailLoader, TuiError};
use super::curl;
use super::jobs::{run_blocking, Finished};
use super::loads::DetailLoads;
use super::proxy_commands::{answer, read_only_answer};

pub(super) struct Executor {
    loads: DetailLoads,
    control: Option<Control>,
    export_dir: PathBuf,
    tx: mpsc::UnboundedSender<Finished>,
}

impl Executor {
    /// Jobs send what they finish to `tx`; the loop hands it back through [`Self::finished`].
    pub(super) fn new(
        loader: Arc<dyn DetailLoader>,
        control: Option<Control>,
        export_dir: PathBuf,
        tx: mpsc::UnboundedSender<Finished>,
    ) -> Self {
        Self {
            loads: DetailLoads::new(loader, tx.clone()),
            control,
            export_dir,
            tx,
        }
    }

    /// Applies `event` and runs the commands it gives; returns whether to quit.
    pub(super) fn apply(&mut self, app: &mut App, event: AppEvent) -> bool {
        let mut queue: VecDeque<Command> = update(app, event).into();
        while let Some(command) = queue.pop_front() {
            match command {
                Command::Quit => return true,
                Command::LoadDetail(id) => self.loads.request(id),
                Command::CopyCurl { id, text } => self.copy_curl(id, text),
                command => {
                    let answer = match &self.control {
                        Some(control) => self.run(control.clone(), command),
                        None => read_only_answer(&command),
                    };
                    if let Some(event) = answer {
                        queue.extend(update(app, event));
                    }
                }
            }
        }
        false
    }

    /// What a finished job means for `update`, once the loop has it back.
    pub(super) fn finished(&mut self, finished: Finished) -> Result<AppEvent, TuiError> {
        match finished {
            Finished::Load(event) => {
                self.loads.finished();
                Ok(event)
            }
            Finished::LoadPanicked(message) => Err(TuiError::LoaderPanicked(message)),
            Finished::Answer(event) => Ok(event),
            Finished::Curl { id, text, file } => {
                if file.is_ok() {
                    curl::put_on_clipboard(&text);
                }
                Ok(AppEvent::CurlCopied { id, file })
            }
        }
    }

    /// The answer to a proxy command if the proxy gives it at once; else the command goes on
    /// on a task of its own (a model list waits on the upstream, an attached proxy on its
    /// socket), which must not hold the UI loop, and its answer comes back through the loop.
    fn run(&self, control: Control, command: Command) -> Option<AppEvent> {
        let mut running = Box::pin(async move { answer(&control, command).await });
        if let Some(answered) = (&mut running).now_or_never() {
            return answered;
        }
        let tx = self.tx.clone();
        tokio::spawn(async move {
            if let Some(event) = running.await {
                let _ = tx.send(Finished::Answer(event));
            }
        });
        None
    }

    fn copy_curl(&self, id: ExchangeId, text: String) {
        let dir = self.export_dir.clone();
        let write = move || {
            let file = curl::write_file(&dir, id, &text);
            Finished::Curl { id, text, file }
        };
        let crashed = move |message: String| Finished::Curl {
            id,
            text: String::new(),
            file: Err(format!("writing the file crashed: {message}")),
        };
        run_blocking(&self.tx, write, crashed);
    }
}
