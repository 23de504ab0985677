//! The LiteLLM recipe: which providers a config needs, and a rewrite that changes only the
//! `api_base` lines, leaves environment-variable values alone and is the same when run twice.

use std::net::SocketAddr;

use super::litellm_yaml::entries;
use super::{LitellmSetup, Override};

const CONFIG: &str = "\
# my gateway
model_list:
  - model_name: gpt-4o          # the main one
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY

  - model_name: claude
    litellm_params:
      # no api_base: Anthropic's own endpoint
      model: \"anthropic/claude-sonnet-4-5\"
  - model_name: local
    litellm_params:
      model: openai/qwen
      api_base: \"http://127.0.0.1:9001/v1\"   # vllm
  - model_name: local2
    litellm_params:
      model: openai/llama
      api_base: 'http://127.0.0.1:9002/v1'
  - model_name: local-again
    litellm_params: {model: openai/qwen2, api_base: \"http://127.0.0.1:9001/v1\"}
  - model_name: azure
    litellm_params:
      model: azure/gpt-4
      api_base: os.environ/AZURE_API_BASE
  - model_name: groq
    litellm_params:
      model: groq/llama3
  - model_name: corp
    litellm_params:
      model: corp-model
      api_base: https://gw.corp.example/llm/
general_settings:
  master_key: sk-1234   # api_base: not a model
";

fn listen() -> SocketAddr {
    "127.0.0.1:8787".parse().expect("addr")
}

fn setup() -> LitellmSetup {
    LitellmSetup::from_config(CONFIG).expect("reads")
}

#[test]
fn one_provider_per_endpoint_named_after_the_prefix_or_the_host() {
    assert_eq!(
        setup().provider_flags(),
        [
            "openai=https://api.openai.com",
            "anthropic=https://api.anthropic.com",
            "openai-2=http://127.0.0.1:9001",
            "openai-3=http://127.0.0.1:9002",
            "gw.corp.example=https://gw.corp.example",
        ]
    );
}

#[test]
fn the_rewrite_changes_only_the_api_base_lines() {
    let copy = setup().rewrite(CONFIG, listen());
    // The lines changed in place, in their own quoting, comments kept.
    let in_place = [
        (
            "      api_base: \"http://127.0.0.1:9001/v1\"   # vllm",
            "      api_base: \"http://127.0.0.1:8787/provider/openai-2/v1\"   # vllm",
        ),
        (
            "      api_base: 'http://127.0.0.1:9002/v1'",
            "      api_base: 'http://127.0.0.1:8787/provider/openai-3/v1'",
        ),
        (
            "      api_base: https://gw.corp.example/llm/",
            "      api_base: http://127.0.0.1:8787/provider/gw.corp.example/llm/",
        ),
    ];
    // And the two lines added for the models without an api_base: the rest is the same.
    let added = [
        "      api_base: http://127.0.0.1:8787/provider/openai/v1",
        "      api_base: http://127.0.0.1:8787/provider/anthropic",
    ];
    let without_added: String = copy
        .split_inclusive('\n')
        .filter(|l| !added.contains(&l.trim_end_matches('\n')))
        .collect();
    let mut expected = CONFIG.to_string();
    for (old, new) in in_place {
        expected = expected.replace(old, new);
    }
    assert_eq!(without_added, expected);
    assert_eq!(copy.lines().count(), CONFIG.lines().count() + 2);
    assert!(copy.contains(
        "      model: openai/gpt-4o\n      api_base: http://127.0.0.1:8787/provider/openai/v1\n      api_key:"
    ));
    assert!(copy.contains(
        "\"anthropic/claude-sonnet-4-5\"\n      api_base: http://127.0.0.1:8787/provider/anthropic\n"
    ));
}

#[test]
fn env_var_flow_and_unknown_api_bases_are_left_as_they_are() {
    let setup = setup();
    let kept: Vec<&str> = setup
        .models
        .iter()
        .filter(|m| matches!(m.route, Override::Kept(_)))
        .map(|m| m.label.as_str())
        .collect();
    assert_eq!(
        kept,
        [
            "local-again (?)",
            "azure (azure/gpt-4)",
            "groq (groq/llama3)"
        ]
    );
    let copy = setup.rewrite(CONFIG, listen());
    assert!(copy.contains("      api_base: os.environ/AZURE_API_BASE\n"));
    assert!(copy.contains("{model: openai/qwen2, api_base: \"http://127.0.0.1:9001/v1\"}"));
    assert!(copy.contains("      model: groq/llama3\n  - model_name: corp"));
    let lines = setup.override_lines(listen()).join("\n");
    assert!(lines.contains("os.environ/AZURE_API_BASE is read from the environment"));
}

#[test]
fn a_second_run_over_the_copy_changes_nothing() {
    let copy = setup().rewrite(CONFIG, listen());
    let again = LitellmSetup::from_config(&copy).expect("reads");
    assert_eq!(again.rewrite(&copy, listen()), copy);
    assert!(again.providers.is_empty(), "{:?}", again.providers);
}

#[test]
fn crlf_lines_a_last_line_without_newline_and_items_at_column_zero() {
    let config = "model_list:\r\n- model_name: a\r\n  litellm_params:\r\n    model: openai/a";
    let copy = LitellmSetup::from_config(config)
        .expect("reads")
        .rewrite(config, listen());
    assert_eq!(
        copy,
        "model_list:\r\n- model_name: a\r\n  litellm_params:\r\n    model: openai/a\r\n    \
         api_base: http://127.0.0.1:8787/provider/openai/v1"
    );
}

#[test]
fn the_reader_unquotes_and_stops_at_the_list_end() {
    let config = "model_list:\n  - model_name: 'it''s'\n    litellm_params:\n      model: \
                  \"openai/a\\\"b\" # c\n      api_base: http://h:1/v1 # note\nrouter_settings:\n  \
                  model_list: []\n";
    let list = entries(config).expect("a list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].model_name.as_deref(), Some("it's"));
    assert_eq!(
        list[0].model.as_ref().map(|m| m.text.as_str()),
        Some("openai/a\"b")
    );
    assert_eq!(
        list[0].api_base.as_ref().map(|m| m.text.as_str()),
        Some("http://h:1/v1")
    );
    assert!(LitellmSetup::from_config("general_settings: {}\n").is_err());
}
