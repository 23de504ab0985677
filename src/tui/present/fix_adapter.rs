//! The TUI's only door to the quick-fix engine (`crate::fix`): which fixes the editor's menu
//! offers for a failure, and applying one to the editor's text. Changing the engine's
//! signatures touches this file only.

use crate::capture::ExchangeRecord;
use crate::fix::{self, EditableRequest, FixContext, QuickFix};
use crate::llm::{self, Dialect};

use super::request_text::{self, EditedRequest};

/// One fix the menu lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixOffer {
    /// What the fix does, as the menu shows it.
    pub label: String,
    pub fix: QuickFix,
}

/// What applying a fix to the editor's text gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub text: String,
    pub summary: String,
    pub changed: bool,
}

/// The fixes for `record`'s failure that would change `body` (the body as edited so far),
/// best first; `Err` says why none can be offered.
pub fn offers(
    record: &ExchangeRecord,
    body: &[u8],
    last_good_model: Option<&str>,
) -> Result<Vec<FixOffer>, String> {
    let Some(failure) = &record.failure else {
        return Err(format!("{} did not fail: nothing to fix", record.id()));
    };
    let status = record.response.as_ref().map(|r| r.status);
    let Some(diagnosis) = llm::diagnose(status, &failure.message) else {
        return Err("llmscope does not recognise this failure; edit the request by hand".into());
    };
    let context = FixContext {
        last_good_model: last_good_model.map(str::to_string),
        upstream_message: Some(failure.message.clone()),
    };
    let fixes = fix::suggest_fixes(&diagnosis.kind, record.start.dialect, body, &context);
    Ok(fixes
        .into_iter()
        .map(|fix| FixOffer {
            label: fix.to_string(),
            fix,
        })
        .collect())
}

/// For a failure that says the upstream does not know the request's model, the models never
/// to offer back: the one the request named and the one the error names. `None` for any
/// other failure, and for Gemini, whose model is in the path where no fix reaches.
pub fn refused_models(record: &ExchangeRecord) -> Option<Vec<String>> {
    if record.start.dialect == Dialect::Gemini {
        return None;
    }
    let failure = record.failure.as_ref()?;
    let status = record.response.as_ref().map(|r| r.status);
    let llm::DiagnosisKind::UnknownModel { model } = llm::diagnose(status, &failure.message)?.kind
    else {
        return None;
    };
    Some(record.start.model.iter().cloned().chain(model).collect())
}

/// The menu's digits: offers beyond nine could not be picked.
const MENU_MAX: usize = 9;

/// Adds "set model to M" for each of `models` not offered yet, while the menu has room;
/// the `refused` models (see [`refused_models`]) are never offered back.
pub fn add_model_offers(offers: &mut Vec<FixOffer>, models: &[String], refused: &[String]) {
    for model in models {
        if offers.len() >= MENU_MAX {
            return;
        }
        if refused.contains(model) {
            continue;
        }
        let fix = QuickFix::SetModel {
            model: model.clone(),
        };
        if offers.iter().all(|offer| offer.fix != fix) {
            offers.push(FixOffer {
                label: fix.to_string(),
                fix,
            });
        }
    }
}

/// Applies `offer` to the editor's `text`; the request line and headers stay as typed (but
/// for a header fix), the body is pretty-printed again.
pub fn apply(
    offer: &FixOffer,
    dialect: Dialect,
    text: &[String],
    method: &str,
    uri: &str,
) -> Result<Applied, String> {
    let edited = request_text::parse_lines(text, method, uri).map_err(|e| e.to_string())?;
    let body = fix::from_editor_text(&edited.body)
        .map_err(|error| format!("fix the body's JSON first (body {error})"))?;
    let mut request = EditableRequest {
        headers: edited.headers.clone(),
        body,
    };
    let outcome =
        fix::apply_fix(&offer.fix, dialect, &mut request).map_err(|error| error.to_string())?;
    Ok(Applied {
        text: render(&edited, &request),
        summary: outcome.summary,
        changed: outcome.changed,
    })
}

fn render(edited: &EditedRequest, request: &EditableRequest) -> String {
    let mut text = format!("{} {}\n", edited.method, edited.uri);
    for (name, value) in &request.headers {
        text.push_str(&format!("{name}: {value}\n"));
    }
    text.push('\n');
    text.push_str(&fix::to_editor_text(&request.body));
    text
}
