//! The few lines of a LiteLLM proxy config llmscope reads and changes: each `model_list:`
//! entry's `model_name:` and its `litellm_params:` `model:` and `api_base:`. Line-based, not a
//! YAML parser: LiteLLM configs are block mappings this simple, and a rewrite must keep every
//! other byte (comments, indentation, quoting, line endings) exactly as the user wrote it.

/// A scalar value and where it stands, so it can be replaced in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The value, unquoted.
    pub text: String,
    line: usize,
    /// Byte range of the value in the line, quotes included.
    start: usize,
    end: usize,
    quote: Option<char>,
}

/// One `model_list` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub model_name: Option<String>,
    pub model: Option<Scalar>,
    pub api_base: Option<Scalar>,
    /// `litellm_params` written as a flow mapping (`{…}`) or not found: not read, not changed.
    pub unreadable: bool,
    /// Indentation of `litellm_params`' keys, where a missing `api_base:` line goes.
    child_indent: usize,
}

/// A new `api_base` for one entry: in place of its value, or as a line after its `model:`.
pub struct Edit<'a> {
    pub entry: &'a Entry,
    pub api_base: String,
}

fn body(line: &str) -> &str {
    line.trim_end_matches(['\n', '\r'])
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank(line: &str) -> bool {
    let t = body(line).trim_start();
    t.is_empty() || t.starts_with('#')
}

/// `key:` at byte `at` of the line: the key and where its value starts.
fn key_at(line: &str, at: usize) -> Option<(&str, usize)> {
    let rest = body(line).get(at..)?;
    let colon = rest.find(':')?;
    let key = &rest[..colon];
    let after = &rest[colon + 1..];
    let valid = !key.is_empty() && !key.contains([' ', '#', '{', '[', '"', '\'']);
    (valid && (after.is_empty() || after.starts_with([' ', '\t']))).then_some((key, at + colon + 1))
}

/// The scalar that starts at or after byte `from` of line `index`; `None` when the value is
/// empty (a nested mapping follows) or a comment.
fn scalar(lines: &[&str], index: usize, from: usize) -> Option<Scalar> {
    let line = body(lines[index]);
    let rest = line.get(from..)?;
    let start = from + (rest.len() - rest.trim_start().len());
    let value = &line[start..];
    let make = |text: String, len: usize, quote| Scalar {
        text,
        line: index,
        start,
        end: start + len,
        quote,
    };
    match value.chars().next()? {
        '#' => None,
        '"' => {
            // Escapes are kept as written but for `\"` and `\\`, the only ones a URL or a
            // model name could carry.
            let mut escaped = false;
            let close = value[1..].find(|c| {
                let end = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                end
            })?;
            let raw = &value[1..=close];
            let text = raw.replace("\\\"", "\"").replace("\\\\", "\\");
            Some(make(text, close + 2, Some('"')))
        }
        '\'' => {
            let inner = &value[1..];
            let bytes = inner.as_bytes();
            let mut at = 0;
            let close = loop {
                let found = at + inner.get(at..)?.find('\'')?;
                if bytes.get(found + 1) == Some(&b'\'') {
                    at = found + 2;
                } else {
                    break found;
                }
            };
            let text = inner[..close].replace("''", "'");
            Some(make(text, close + 2, Some('\'')))
        }
        _ => {
            let plain = value.find(" #").map_or(value, |at| &value[..at]).trim_end();
            Some(make(plain.to_string(), plain.len(), None))
        }
    }
}

/// The entries of the config's top-level `model_list:`; `None` when it has none.
pub fn entries(text: &str) -> Option<Vec<Entry>> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let head = lines
        .iter()
        .position(|l| indent(l) == 0 && key_at(l, 0).is_some_and(|(k, _)| k == "model_list"))?;
    // The list runs to the next top-level key; its items may sit at column 0 too.
    let end = (head + 1..lines.len())
        .find(|&i| !is_blank(lines[i]) && indent(lines[i]) == 0 && !body(lines[i]).starts_with('-'))
        .unwrap_or(lines.len());
    let is_item = |i: usize| {
        let t = body(lines[i]).trim_start();
        t == "-" || t.starts_with("- ")
    };
    let first = (head + 1..end).find(|&i| is_item(i))?;
    let dash = indent(lines[first]);
    let starts: Vec<usize> = (first..end)
        .filter(|&i| is_item(i) && indent(lines[i]) == dash)
        .collect();
    let bounds = starts.iter().zip(starts.iter().skip(1).chain([&end]));
    Some(
        bounds
            .map(|(&from, &to)| entry(&lines, from, to, dash))
            .collect(),
    )
}

/// One item, lines `from..to`, whose dash is at column `dash`.
fn entry(lines: &[&str], from: usize, to: usize, dash: usize) -> Entry {
    let after_dash = &body(lines[from])[dash + 1..];
    let col = dash + 1 + (after_dash.len() - after_dash.trim_start().len());
    // The item's keys: on the dash's line at `col`, then on lines indented to `col`.
    let keys: Vec<(usize, &str, usize)> = (from..to)
        .filter(|&i| i == from || (!is_blank(lines[i]) && indent(lines[i]) == col))
        .filter_map(|i| key_at(lines[i], col).map(|(k, v)| (i, k, v)))
        .collect();
    let find = |name: &str| keys.iter().find(|(_, k, _)| *k == name);
    let model_name = find("model_name").and_then(|&(i, _, v)| scalar(lines, i, v));
    let mut found = Entry {
        model_name: model_name.map(|s| s.text),
        model: None,
        api_base: None,
        unreadable: true,
        child_indent: col + 2,
    };
    let Some(&(params, _, value_at)) = find("litellm_params") else {
        return found;
    };
    if scalar(lines, params, value_at).is_some() {
        return found;
    }
    let children: Vec<usize> = (params + 1..to)
        .take_while(|&i| is_blank(lines[i]) || indent(lines[i]) > col)
        .filter(|&i| !is_blank(lines[i]))
        .collect();
    let Some(&first) = children.first() else {
        return found;
    };
    let child = indent(lines[first]);
    let value = |name: &str| {
        children
            .iter()
            .filter(|&&i| indent(lines[i]) == child)
            .find_map(|&i| match key_at(lines[i], child) {
                Some((k, v)) if k == name => scalar(lines, i, v),
                _ => None,
            })
    };
    found.model = value("model");
    found.api_base = value("api_base");
    found.unreadable = false;
    found.child_indent = child;
    found
}

/// `text` with the edits made: each existing `api_base` value replaced in its own quoting,
/// each missing one added as a line after the entry's `model:`. All else is kept byte for byte.
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    // Replacements first, then insertions from the bottom, so line numbers stay true.
    for edit in edits {
        if let Some(at) = &edit.entry.api_base {
            let line = &mut lines[at.line];
            let quoted = match at.quote {
                Some(q) => format!("{q}{}{q}", edit.api_base),
                None => edit.api_base.clone(),
            };
            line.replace_range(at.start..at.end, &quoted);
        }
    }
    let mut inserts: Vec<(usize, String)> = edits
        .iter()
        .filter(|e| e.entry.api_base.is_none())
        .filter_map(|e| {
            let model = e.entry.model.as_ref()?;
            let pad = " ".repeat(e.entry.child_indent);
            Some((model.line, format!("{pad}api_base: {}", e.api_base)))
        })
        .collect();
    inserts.sort_by_key(|insert| std::cmp::Reverse(insert.0));
    for (after, new) in inserts {
        // The model line's own ending; for a last line without one, the file's.
        let crlf = match lines[after].ends_with('\n') {
            true => lines[after].ends_with("\r\n"),
            false => text.contains("\r\n"),
        };
        let eol = if crlf { "\r\n" } else { "\n" };
        if lines[after].ends_with('\n') {
            lines.insert(after + 1, format!("{new}{eol}"));
        } else {
            // The model line ended the file without a newline: so does the new last line.
            lines[after].push_str(eol);
            lines.insert(after + 1, new);
        }
    }
    lines.concat()
}
