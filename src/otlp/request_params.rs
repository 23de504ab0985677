//! The request's sampling and length settings as `gen_ai.request.*` attributes.

use opentelemetry::{Array, KeyValue, StringValue, Value};

use crate::llm::DecodedRequest;

pub(super) fn request_attributes(request: &DecodedRequest, attrs: &mut Vec<KeyValue>) {
    if request.stream {
        attrs.push(KeyValue::new("gen_ai.request.stream", true));
    }
    for (name, json) in &request.params {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
            continue;
        };
        let key = match name.as_str() {
            "max_tokens" | "max_completion_tokens" | "max_output_tokens" => {
                if let Some(n) = value.as_i64() {
                    attrs.push(KeyValue::new("gen_ai.request.max_tokens", n));
                }
                continue;
            }
            "seed" => {
                if let Some(n) = value.as_i64() {
                    attrs.push(KeyValue::new("gen_ai.request.seed", n));
                }
                continue;
            }
            "top_k" => {
                if let Some(n) = value.as_i64() {
                    attrs.push(KeyValue::new("gen_ai.request.top_k", n));
                }
                continue;
            }
            "n" => {
                if let Some(n) = value.as_i64().filter(|n| *n != 1) {
                    attrs.push(KeyValue::new("gen_ai.request.choice.count", n));
                }
                continue;
            }
            "stop" | "stop_sequences" => {
                let stops: Vec<StringValue> = match &value {
                    serde_json::Value::String(s) => vec![s.clone().into()],
                    serde_json::Value::Array(items) => items
                        .iter()
                        .filter_map(|v| v.as_str().map(|s| s.to_string().into()))
                        .collect(),
                    _ => Vec::new(),
                };
                if !stops.is_empty() {
                    attrs.push(KeyValue::new(
                        "gen_ai.request.stop_sequences",
                        Value::Array(Array::String(stops)),
                    ));
                }
                continue;
            }
            "temperature" => "gen_ai.request.temperature",
            "top_p" => "gen_ai.request.top_p",
            "frequency_penalty" => "gen_ai.request.frequency_penalty",
            "presence_penalty" => "gen_ai.request.presence_penalty",
            _ => continue,
        };
        if let Some(x) = value.as_f64() {
            attrs.push(KeyValue::new(key, x));
        }
    }
}
