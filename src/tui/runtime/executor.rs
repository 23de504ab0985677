//! Carries out what `update` asks for: loads and file writes on blocking threads, whose
//! results come back through the loop; proxy commands at once (each only starts its work),
//! with the proxy's answer fed straight back to `update`.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::capture::{ExchangeId, HeaderList};
use crate::proxy::ProxyControl;
use crate::tui::state::app::App;
use crate::tui::update::event::{AppEvent, Command};
use crate::tui::update::update;

use super::context::{DetailLoader, TuiError};
use super::curl;
use super::jobs::{run_blocking, Finished};
use super::loads::DetailLoads;
use super::proxy_commands::{read_only_answer, run_command};

pub(super) struct Executor {
    loads: DetailLoads,
    control: Option<ProxyControl>,
    export_dir: PathBuf,
    tx: mpsc::UnboundedSender<Finished>,
}

impl Executor {
    /// Jobs send what they finish to `tx`; the loop hands it back through [`Self::finished`].
    pub(super) fn new(
        loader: Arc<dyn DetailLoader>,
        control: Option<ProxyControl>,
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
                Command::ListModels { id, uri, headers } if self.control.is_some() => {
                    self.list_models(id, uri, headers);
                }
                command => {
                    let answer = match &self.control {
                        Some(control) => run_command(control, command),
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
            Finished::Models { id, models } => Ok(AppEvent::ModelsListed { id, models }),
            Finished::Curl { id, text, file } => {
                if file.is_ok() {
                    curl::put_on_clipboard(&text);
                }
                Ok(AppEvent::CurlCopied { id, file })
            }
        }
    }

    /// Asks the proxy for the upstream's models on a task of its own: the network call must
    /// not hold the UI loop.
    fn list_models(&self, id: ExchangeId, uri: String, headers: HeaderList) {
        let Some(control) = self.control.clone() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let models = control.list_models(id, &uri, &headers).await;
            let _ = tx.send(Finished::Models { id, models });
        });
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
