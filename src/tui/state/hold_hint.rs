//! What the user can do about the held failure the banner shows, as data for the banner's
//! hint line: a newcomer must see which keys turn a waiting agent's failure into a good
//! reply, without opening the help.

use crate::capture::ExchangeId;

use super::app::App;

/// The keys that apply to the banner's held failure right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldHint {
    /// The exchange the agent waits on.
    pub held: ExchangeId,
    /// Whether `e` and `r` act on it as things are: it (or the banner's failed resend of it)
    /// is selected. Otherwise the hint says where to move first.
    pub selected: bool,
    /// Whether llmscope recognised the failure, so the editor's quick fixes (`Ctrl-F`) have
    /// something to offer.
    pub recognised: bool,
}

impl App {
    /// The hint for the banner's failure while an agent waits on it.
    pub fn hold_hint(&self) -> Option<HoldHint> {
        let banner = self.banner.as_ref()?;
        let (held, mark) = self.hold_of(banner.id)?;
        if !mark.is_waiting() {
            return None;
        }
        let selected = self
            .selected
            .is_some_and(|id| id == banner.id || id == held);
        Some(HoldHint {
            held,
            selected,
            recognised: banner.diagnosis.is_some(),
        })
    }
}
