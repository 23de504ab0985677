//! The recipes: base URLs per API, where the upstream comes from, and what `env` prints.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;

/// Runs `f` over a lookup of these variables and files; shared with the opencode tests.
pub(super) fn with_lookup<T>(
    env: &[(&str, &str)],
    files: &[(&str, &str)],
    f: impl FnOnce(&Lookup) -> T,
) -> T {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let files: HashMap<PathBuf, String> = files
        .iter()
        .map(|(k, v)| (PathBuf::from(k), v.to_string()))
        .collect();
    let env_fn = |name: &str| env.get(name).cloned();
    let read_fn = |path: &Path| files.get(path).cloned();
    f(&Lookup {
        env: &env_fn,
        read: &read_fn,
    })
}

fn listen() -> SocketAddr {
    "127.0.0.1:8787".parse().expect("addr")
}

#[test]
fn every_name_parses_back_to_its_agent() {
    for name in AGENT_NAMES {
        assert_eq!(Agent::parse(name).expect("known").name(), *name);
    }
    assert!(Agent::parse("vim").is_err());
}

#[test]
fn a_base_url_already_set_becomes_the_upstream_and_the_agent_keeps_its_path() {
    let route = with_lookup(
        &[("ANTHROPIC_BASE_URL", "https://gw.example/anthropic/")],
        &[],
        |l| default_route(Agent::Claude, l),
    )
    .expect("route");
    assert_eq!(route.upstream, "https://gw.example");
    assert_eq!(
        route.agent_base(listen()),
        "http://127.0.0.1:8787/anthropic"
    );
    assert_eq!(route.source, "ANTHROPIC_BASE_URL was set");
}

#[test]
fn without_settings_the_public_endpoint_is_the_upstream() {
    let claude = with_lookup(&[], &[], |l| default_route(Agent::Claude, l)).expect("route");
    assert_eq!(claude.upstream, "https://api.anthropic.com");
    assert_eq!(claude.agent_base(listen()), "http://127.0.0.1:8787");
    let aider = with_lookup(&[], &[], |l| default_route(Agent::Aider, l)).expect("route");
    assert_eq!(aider.upstream, "https://api.openai.com");
    assert_eq!(aider.agent_base(listen()), "http://127.0.0.1:8787/v1");
}

#[test]
fn codex_is_routed_by_its_config_toml_and_overridden_with_dash_c() {
    let config =
        "model_provider = \"gw\"\n[model_providers.gw]\nbase_url = \"https://gw.example/v1\"\n";
    with_lookup(
        &[("CODEX_HOME", "/c")],
        &[("/c/config.toml", config)],
        |l| {
            let route = default_route(Agent::Codex, l).expect("route");
            assert_eq!(route.upstream, "https://gw.example");
            let wiring = wiring(Agent::Codex, "http://127.0.0.1:8787/v1", l);
            assert_eq!(
                wiring.args,
                [
                    "-c",
                    "model_providers.gw.base_url=\"http://127.0.0.1:8787/v1\""
                ]
            );
        },
    );
    with_lookup(&[("HOME", "/h")], &[], |l| {
        let wiring = wiring(Agent::Codex, "http://127.0.0.1:8787/v1", l);
        assert_eq!(
            wiring.args,
            ["-c", "openai_base_url=\"http://127.0.0.1:8787/v1\""]
        );
    });
}

#[test]
fn codex_signed_in_with_chatgpt_goes_to_chatgpts_backend() {
    let auth = r#"{"OPENAI_API_KEY": null, "tokens": {"id_token": "x"}}"#;
    let route = with_lookup(&[("HOME", "/h")], &[("/h/.codex/auth.json", auth)], |l| {
        default_route(Agent::Codex, l)
    })
    .expect("route");
    assert_eq!(route.upstream, "https://chatgpt.com");
    assert_eq!(route.agent_path, "/backend-api/codex");
}

#[test]
fn env_names_the_variables_each_agent_reads() {
    let text = |agent| env_text(agent, listen());
    assert!(text(Agent::Claude).contains("export ANTHROPIC_BASE_URL=http://127.0.0.1:8787\n"));
    assert!(text(Agent::Aider).contains("export OPENAI_API_BASE=http://127.0.0.1:8787/v1\n"));
    assert!(text(Agent::Gemini).contains("export GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:8787\n"));
    assert!(text(Agent::Codex).contains("openai_base_url=\"http://127.0.0.1:8787/v1\""));
    assert!(text(Agent::Opencode).contains("export OPENCODE_CONFIG_CONTENT='"));
    for agent in AGENT_NAMES {
        let out = text(Agent::parse(agent).expect("known"));
        for line in out.lines() {
            assert!(
                line.starts_with('#') || line.starts_with("export ") || line.starts_with("alias "),
                "{agent}: not a shell line: {line}"
            );
        }
    }
}
