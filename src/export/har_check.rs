//! Checks a document against the fields and types HAR 1.2 requires, so the tests (and anyone
//! holding a HAR from elsewhere) can tell whether viewers will accept it.
//!
//! It checks what the spec marks required, the types of the optional fields llmscope writes,
//! and the timing rules (`send`, `wait`, `receive` ≥ 0, the others ≥ -1, `time` = their sum).

use serde_json::Value;

/// Every way `har` falls short of HAR 1.2, each naming the field's path; empty when valid.
pub fn har_problems(har: &Value) -> Vec<String> {
    let mut check = Check::default();
    let Some(log) = check.object(har, "log", "") else {
        return check.problems;
    };
    check.string(log, "version", "log");
    if let Some(creator) = check.object(log, "creator", "log") {
        check.string(creator, "name", "log.creator");
        check.string(creator, "version", "log.creator");
    }
    if log.get("pages").is_some() {
        for (i, page) in check.array(log, "pages", "log").iter().enumerate() {
            let at = format!("log.pages[{i}]");
            check.date_time(page, "startedDateTime", &at);
            check.string(page, "id", &at);
            check.string(page, "title", &at);
            check.object(page, "pageTimings", &at);
        }
    }
    for (i, entry) in check.array(log, "entries", "log").iter().enumerate() {
        check.entry(entry, &format!("log.entries[{i}]"));
    }
    check.problems
}

#[derive(Default)]
struct Check {
    problems: Vec<String>,
}

impl Check {
    fn entry(&mut self, entry: &Value, at: &str) {
        self.date_time(entry, "startedDateTime", at);
        let time = self.number(entry, "time", at);
        if let Some(request) = self.object(entry, "request", at) {
            self.request(request, &format!("{at}.request"));
        }
        if let Some(response) = self.object(entry, "response", at) {
            self.response(response, &format!("{at}.response"));
        }
        self.object(entry, "cache", at);
        if let Some(timings) = self.object(entry, "timings", at) {
            let at = format!("{at}.timings");
            let mut sum = 0.0;
            for name in ["send", "wait", "receive"] {
                sum += self.at_least(timings, name, 0.0, &at).unwrap_or(0.0);
            }
            for name in ["blocked", "dns", "connect", "ssl"] {
                if timings.get(name).is_some() {
                    sum += self
                        .at_least(timings, name, -1.0, &at)
                        .unwrap_or(0.0)
                        .max(0.0);
                }
            }
            if let Some(time) = time.filter(|time| (time - sum).abs() > 0.5) {
                self.problems
                    .push(format!("{at}: timings add up to {sum}, but time is {time}"));
            }
        }
    }

    fn request(&mut self, request: &Value, at: &str) {
        self.string(request, "method", at);
        if let Some(url) = self.string(request, "url", at) {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                self.problems
                    .push(format!("{at}.url: {url:?} is not absolute"));
            }
        }
        self.string(request, "httpVersion", at);
        self.name_values(request, "cookies", at);
        self.name_values(request, "headers", at);
        self.name_values(request, "queryString", at);
        self.number(request, "headersSize", at);
        self.number(request, "bodySize", at);
        if request.get("postData").is_some() {
            if let Some(post) = self.object(request, "postData", at) {
                self.string(post, "mimeType", &format!("{at}.postData"));
                if post.get("text").is_none() && post.get("params").is_none() {
                    self.problems
                        .push(format!("{at}.postData: needs text or params"));
                }
            }
        }
    }

    fn response(&mut self, response: &Value, at: &str) {
        if response.get("status").and_then(Value::as_i64).is_none() {
            self.problems
                .push(format!("{at}.status: missing or not an integer"));
        }
        self.string(response, "statusText", at);
        self.string(response, "httpVersion", at);
        self.name_values(response, "cookies", at);
        self.name_values(response, "headers", at);
        if let Some(content) = self.object(response, "content", at) {
            let at = format!("{at}.content");
            self.number(content, "size", &at);
            self.string(content, "mimeType", &at);
            for optional in ["text", "encoding"] {
                if content.get(optional).is_some() {
                    self.string(content, optional, &at);
                }
            }
        }
        self.string(response, "redirectURL", at);
        self.number(response, "headersSize", at);
        self.number(response, "bodySize", at);
    }

    /// An array of `{name, value}` string pairs (headers, cookies, query strings).
    fn name_values(&mut self, parent: &Value, field: &str, at: &str) {
        for (i, pair) in self.array(parent, field, at).iter().enumerate() {
            let at = format!("{at}.{field}[{i}]");
            self.string(pair, "name", &at);
            self.string(pair, "value", &at);
        }
    }

    fn object<'a>(&mut self, parent: &'a Value, field: &str, at: &str) -> Option<&'a Value> {
        let found = parent.get(field).filter(|v| v.is_object());
        self.require(found, field, at, "an object")
    }

    fn array<'a>(&mut self, parent: &'a Value, field: &str, at: &str) -> &'a [Value] {
        let found = parent.get(field).and_then(Value::as_array);
        self.require(found, field, at, "an array")
            .map_or(&[], Vec::as_slice)
    }

    fn string<'a>(&mut self, parent: &'a Value, field: &str, at: &str) -> Option<&'a str> {
        let found = parent.get(field).and_then(Value::as_str);
        self.require(found, field, at, "a string")
    }

    fn number(&mut self, parent: &Value, field: &str, at: &str) -> Option<f64> {
        let found = parent.get(field).and_then(Value::as_f64);
        self.require(found, field, at, "a number")
    }

    fn at_least(&mut self, parent: &Value, field: &str, min: f64, at: &str) -> Option<f64> {
        let value = self.number(parent, field, at)?;
        if value < min {
            self.problems
                .push(format!("{at}.{field}: {value} is below {min}"));
        }
        Some(value)
    }

    fn date_time(&mut self, parent: &Value, field: &str, at: &str) {
        if let Some(text) = self.string(parent, field, at) {
            if chrono::DateTime::parse_from_rfc3339(text).is_err() {
                self.problems.push(format!(
                    "{at}.{field}: {text:?} is not an ISO 8601 date and time"
                ));
            }
        }
    }

    fn require<T>(&mut self, found: Option<T>, field: &str, at: &str, what: &str) -> Option<T> {
        if found.is_none() {
            let path = if at.is_empty() {
                field.to_string()
            } else {
                format!("{at}.{field}")
            };
            self.problems.push(format!("{path}: missing or not {what}"));
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_mistyped_fields_are_named_by_path() {
        let har = serde_json::json!({"log": {
            "version": "1.2",
            "creator": {"name": "x"},
            "entries": [{
                "startedDateTime": "yesterday",
                "time": 5,
                "request": {"method": "GET"},
                "response": {"status": "200"},
                "cache": {},
                "timings": {"send": 0, "wait": -2, "receive": 1},
            }],
        }});
        let problems = har_problems(&har);
        for expected in [
            "log.creator.version: missing or not a string",
            "log.entries[0].startedDateTime: \"yesterday\" is not an ISO 8601 date and time",
            "log.entries[0].request.url: missing or not a string",
            "log.entries[0].response.status: missing or not an integer",
            "log.entries[0].timings.wait: -2 is below 0",
            "log.entries[0].timings: timings add up to -1, but time is 5",
        ] {
            assert!(
                problems.iter().any(|p| p == expected),
                "{expected} not in {problems:#?}"
            );
        }
    }

    #[test]
    fn not_a_har_at_all_says_so_once() {
        assert_eq!(
            har_problems(&serde_json::json!([])),
            ["log: missing or not an object"]
        );
    }
}
