//! What a model's tokens cost and how many fit in its context: the table shipped in
//! `assets/prices.json`, with the user's own `prices.json` (same shape) laid over it.
//!
//! A model is priced only when the table names it: a provider prefix
//! (`anthropic/claude-sonnet-4-5`) and a date suffix (`-20250929`, `@20250929`,
//! `-2025-04-14`, `-latest`) are set aside, nothing else, so `gpt-4.1-mini` never takes the
//! price of `gpt-4.1`. An unknown model is unpriced, never guessed. Reading the override file
//! is the caller's job; this module only parses text.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

const BUILTIN: &str = include_str!("../../assets/prices.json");

/// One model's prices in US dollars per million tokens, and its context window.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Prompt tokens read from the provider's cache; the input price when not given.
    pub cache_read: Option<f64>,
    /// Prompt tokens written to the provider's cache; the input price when not given.
    pub cache_write: Option<f64>,
    /// How many tokens the model reads at most, when known.
    pub context_window: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("the price table in {path} is not valid at line {line}, column {column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the price table in {path} has a negative price for {model:?}")]
    Negative { path: PathBuf, model: String },
}

#[derive(Deserialize)]
struct PriceFile {
    #[serde(default)]
    #[allow(dead_code)]
    about: Option<String>,
    /// When the prices were read from the providers' pages.
    #[serde(default)]
    read_on: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    sources: Vec<String>,
    models: HashMap<String, Price>,
}

/// Prices by canonical model name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    models: HashMap<String, Price>,
    /// The date the shipped prices were read.
    pub read_on: Option<String>,
}

impl PriceTable {
    /// The table shipped in the binary.
    pub fn builtin() -> Result<Self, PriceError> {
        let file = parse(BUILTIN, Path::new("assets/prices.json"))?;
        Ok(Self {
            read_on: file.read_on,
            models: canonical_names(file.models),
        })
    }

    /// This table with the entries of `text` (the contents of the user's file at `path`)
    /// added, or replacing those of the same name.
    pub fn with_override(mut self, text: &str, path: &Path) -> Result<Self, PriceError> {
        let file = parse(text, path)?;
        self.models.extend(canonical_names(file.models));
        Ok(self)
    }

    /// The price of `model` as an agent or a gateway names it, if the table has it.
    pub fn price(&self, model: &str) -> Option<&Price> {
        self.models.get(canonical_model(model).as_ref())
    }

    pub fn len(&self) -> usize {
        self.models.len()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

fn parse(text: &str, path: &Path) -> Result<PriceFile, PriceError> {
    let file: PriceFile = serde_json::from_str(text).map_err(|e| PriceError::Invalid {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let negative = file.models.iter().find(|(_, p)| {
        [p.input, p.output]
            .into_iter()
            .chain(p.cache_read)
            .chain(p.cache_write)
            .any(|x| x < 0.0 || !x.is_finite())
    });
    if let Some((model, _)) = negative {
        return Err(PriceError::Negative {
            path: path.to_path_buf(),
            model: model.clone(),
        });
    }
    Ok(file)
}

/// Table names are read like request names, so an entry written as a gateway spells the model
/// (`openai/gpt-4.1`) still applies.
fn canonical_names(models: HashMap<String, Price>) -> HashMap<String, Price> {
    models
        .into_iter()
        .map(|(name, price)| (canonical_model(&name).into_owned(), price))
        .collect()
}

/// `anthropic/claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`; `gpt-4.1-2025-04-14` →
/// `gpt-4.1`; `claude-opus-4-1@20250805` → `claude-opus-4-1`.
pub fn canonical_model(model: &str) -> Cow<'_, str> {
    let trimmed = model.trim();
    // Most names are already lower case: they are looked up without a copy.
    if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(canonical_part(&trimmed.to_ascii_lowercase()).to_string())
    } else {
        Cow::Borrowed(canonical_part(trimmed))
    }
}

/// The part of a lower-case name that names the model.
fn canonical_part(name: &str) -> &str {
    let name = name.rsplit('/').next().unwrap_or_default();
    let name = name.split_once('@').map_or(name, |(name, _)| name);
    let name = name.strip_suffix("-latest").unwrap_or(name);
    strip_date(name)
}

/// Takes off a trailing `-YYYYMMDD` or `-YYYY-MM-DD`.
fn strip_date(name: &str) -> &str {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if let Some((head, tail)) = name.rsplit_once('-') {
        if tail.len() == 8 && digits(tail) && tail.starts_with("20") {
            return head;
        }
    }
    let mut parts = name.rsplitn(4, '-');
    if let (Some(day), Some(month), Some(year), Some(head)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    {
        let dated = year.len() == 4 && month.len() == 2 && day.len() == 2;
        if dated && digits(year) && digits(month) && digits(day) && year.starts_with("20") {
            return head;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses_and_covers_the_three_providers() {
        let table = PriceTable::builtin().expect("shipped table");
        assert_eq!(table.read_on.as_deref(), Some("2026-12-01"));
        for model in ["gpt-5", "gpt-4.1", "claude-sonnet-4-5", "gemini-2.5-pro"] {
            let price = table.price(model).expect(model);
            assert!(price.context_window.is_some(), "{model} has a window");
        }
    }

    #[test]
    fn provider_prefixes_and_dates_are_set_aside_and_nothing_else() {
        let table = PriceTable::builtin().expect("shipped table");
        let input = |m: &str| table.price(m).map(|p| p.input);
        assert_eq!(input("anthropic/claude-sonnet-4-5-20250929"), Some(3.0));
        assert_eq!(input("openrouter/anthropic/claude-haiku-4-5"), Some(1.0));
        assert_eq!(input("claude-opus-4-1@20250805"), Some(15.0));
        assert_eq!(input("gpt-4.1-2025-04-14"), Some(2.0));
        assert_eq!(input("GPT-4.1-mini"), Some(0.4), "not gpt-4.1's price");
        assert_eq!(input("gpt-4.1-turbo"), None, "no guess from a prefix");
        assert_eq!(input("claude-sonnet-4-5-thinking"), None);
        assert_eq!(input("mock-ok"), None);
    }

    #[test]
    fn an_override_replaces_and_adds_models() {
        let text = r#"{"models": {
            "gpt-4.1": {"input": 1.0, "output": 4.0},
            "my-gateway/llama-70b": {"input": 0.6, "output": 0.6, "context_window": 131072}
        }}"#;
        let table = PriceTable::builtin()
            .and_then(|t| t.with_override(text, Path::new("/home/u/.config/llmscope/prices.json")))
            .expect("override");
        assert_eq!(table.price("gpt-4.1").map(|p| p.input), Some(1.0));
        assert_eq!(
            table.price("llama-70b").and_then(|p| p.context_window),
            Some(131072)
        );
        assert_eq!(table.price("gpt-4.1").and_then(|p| p.cache_read), None);
        assert_eq!(table.price("gpt-5").map(|p| p.input), Some(1.25), "kept");
    }

    #[test]
    fn a_broken_override_names_the_file_and_line() {
        let text = "{\"models\": {\n  \"gpt-4.1\": {\"input\": 1.0, \"output\": }\n}}";
        let path = Path::new("/home/u/.config/llmscope/prices.json");
        let err = PriceTable::default()
            .with_override(text, path)
            .expect_err("broken");
        let message = err.to_string();
        assert!(
            message.starts_with(
                "the price table in /home/u/.config/llmscope/prices.json is not valid at line 2"
            ),
            "{message}"
        );
        let typo = r#"{"models": {"gpt-4.1": {"input": 1.0, "ouput": 4.0}}}"#;
        let message = PriceTable::default()
            .with_override(typo, path)
            .expect_err("typo")
            .to_string();
        assert!(message.contains("ouput"), "{message}");
        let negative = r#"{"models": {"x": {"input": -1.0, "output": 4.0}}}"#;
        assert!(PriceTable::default().with_override(negative, path).is_err());
    }
}
