//! Which of opencode's providers `launch` routes through llmscope, from the user's config and
//! the `-m` argument.

use serde_json::Value;

use super::super::tests::with_lookup;
use super::*;

fn setup(
    upstream: Option<&str>,
    args: &[&str],
    env: &[(&str, &str)],
    files: &[(&str, &str)],
) -> Result<OpencodeSetup, AgentError> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    with_lookup(env, files, |lookup| {
        opencode_overlay(upstream, &args, lookup)
    })
}

fn content(setup: &OpencodeSetup) -> Value {
    let listen = "127.0.0.1:8790".parse().expect("addr");
    serde_json::from_str(&setup.config_content(listen)).expect("JSON")
}

#[test]
fn a_model_of_llmscope_gets_a_provider_at_the_listen_address() {
    let s = setup(
        Some("http://127.0.0.1:4100"),
        &["run", "-m", "llmscope/mock-ok"],
        &[],
        &[],
    )
    .expect("setup");
    assert_eq!(s.route.upstream, "http://127.0.0.1:4100");
    let c = content(&s);
    let own = &c["provider"]["llmscope"];
    assert_eq!(own["options"]["baseURL"], "http://127.0.0.1:8790/v1");
    assert_eq!(own["npm"], "@ai-sdk/openai-compatible");
    assert!(own["models"]["mock-ok"].is_object(), "{c}");
}

#[test]
fn the_configured_provider_is_routed_to_where_it_pointed() {
    let global = r#"{
        // JSONC, as opencode allows
        "model": "gw/gpt-4o",
        "provider": {"gw": {"npm": "@ai-sdk/openai-compatible",
            "options": {"baseURL": "https://gw.example/litellm/v1"}, "models": {"gpt-4o": {}}}},
    }"#;
    let s = setup(
        None,
        &[],
        &[("HOME", "/home/u")],
        &[("/home/u/.config/opencode/opencode.json", global)],
    )
    .expect("setup");
    assert_eq!(s.route.upstream, "https://gw.example");
    assert_eq!(s.route.agent_path, "/litellm/v1");
    let c = content(&s);
    assert_eq!(
        c["provider"]["gw"]["options"]["baseURL"],
        "http://127.0.0.1:8790/litellm/v1"
    );
    assert!(c["provider"].get("llmscope").is_none(), "{c}");
}

#[test]
fn anthropic_without_a_base_url_goes_to_the_public_api() {
    let s = setup(None, &["-m", "anthropic/claude-sonnet-4-5"], &[], &[]).expect("setup");
    assert_eq!(s.route.upstream, "https://api.anthropic.com");
    assert_eq!(
        content(&s)["provider"]["anthropic"]["options"]["baseURL"],
        "http://127.0.0.1:8790/v1"
    );
}

#[test]
fn an_unknown_endpoint_or_no_model_asks_for_an_upstream() {
    let unknown = setup(None, &["-m", "openrouter/x"], &[], &[]).expect_err("unknown");
    assert!(unknown.to_string().contains("--upstream"), "{unknown}");
    let none = setup(None, &[], &[], &[]).expect_err("no model");
    assert!(none.to_string().contains("--upstream"), "{none}");
}

#[test]
fn the_users_inline_config_is_kept_under_ours() {
    let inline = r#"{"theme": "tokyonight", "provider": {"openai": {"options": {"timeout": 5}}}}"#;
    let s = setup(
        None,
        &["--model=openai/gpt-5"],
        &[("OPENCODE_CONFIG_CONTENT", inline)],
        &[],
    )
    .expect("setup");
    let c = content(&s);
    assert_eq!(c["theme"], "tokyonight");
    assert_eq!(c["provider"]["openai"]["options"]["timeout"], 5);
    assert_eq!(
        c["provider"]["openai"]["options"]["baseURL"],
        "http://127.0.0.1:8790/v1"
    );
    let broken = setup(None, &[], &[("OPENCODE_CONFIG_CONTENT", "{oops")], &[]);
    assert!(broken.is_err());
}
