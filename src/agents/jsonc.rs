//! Reading JSONC (JSON with comments and trailing commas), the format of opencode's config.

/// The JSON value of a JSONC text, or `None` when it is not valid even so.
pub(super) fn parse(text: &str) -> Option<serde_json::Value> {
    serde_json::from_str(&strip(text)).ok()
}

/// Removes `//` and `/* */` comments and commas before a closing bracket, outside strings.
/// Comments become spaces so any error position in what is left stays meaningful.
fn strip(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                out.extend(chars.next());
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for next in chars.by_ref() {
                    if last == '*' && next == '/' {
                        break;
                    }
                    last = next;
                }
                out.push(' ');
            }
            (']' | '}', _) => {
                drop_trailing_comma(&mut out);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn drop_trailing_comma(out: &mut String) {
    let kept = out.trim_end().len();
    if out[..kept].ends_with(',') {
        out.truncate(kept - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn comments_and_trailing_commas_are_allowed_outside_strings() {
        let text = r#"{
            // the model
            "model": "gw/gpt-4o", /* inline */
            "url": "http://x//y/*z*/",
            "list": [1, 2,],
        }"#;
        let value = parse(text).expect("parses");
        assert_eq!(value["model"], "gw/gpt-4o");
        assert_eq!(value["url"], "http://x//y/*z*/");
        assert_eq!(value["list"], serde_json::json!([1, 2]));
    }

    #[test]
    fn an_escaped_quote_does_not_end_a_string() {
        let value = parse(r#"{"a": "say \"hi\" // not a comment"}"#).expect("parses");
        assert_eq!(value["a"], "say \"hi\" // not a comment");
    }
}
