//! Whether an agent is signed in with a subscription (a Claude account, ChatGPT, Google)
//! instead of an API key. Such an agent sends its calls to its vendor's own backend and takes
//! no base URL for it, so `launch` can only see them as the agent's HTTPS proxy. Reads the
//! agent's login files through [`Lookup`] and never writes them; the tokens inside are looked
//! at only for being there, never kept or shown.

use std::path::PathBuf;

use super::{codex, jsonc, Agent, Lookup};

/// Why `launch` runs as the agent's HTTPS proxy: said to the user as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn(pub String);

/// The subscription `agent` is signed in with, when its calls cannot take a base URL.
pub fn subscription_login(agent: Agent, lookup: &Lookup) -> Option<SignedIn> {
    match agent {
        Agent::Claude => claude_account(lookup),
        Agent::Codex => codex::chatgpt_login(lookup),
        Agent::Gemini => google_login(lookup),
        Agent::Opencode
        | Agent::Aider
        | Agent::Openai
        | Agent::Anthropic
        | Agent::OpenaiCompatible
        | Agent::Litellm => None,
    }
    .map(SignedIn)
}

/// Claude Code: a key, a token or a base URL of the user's wins over the account login, and
/// so do Bedrock and Vertex. The login is `claudeAiOauth` in `.credentials.json` under
/// `CLAUDE_CONFIG_DIR` (else `~/.claude`); on macOS the tokens live in the Keychain instead,
/// and only `oauthAccount` in `.claude.json` says the account is signed in.
fn claude_account(lookup: &Lookup) -> Option<String> {
    let own_route = [
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "CLAUDE_CODE_USE_BEDROCK",
        "CLAUDE_CODE_USE_VERTEX",
    ];
    if own_route.iter().any(|var| lookup.var(var).is_some()) {
        return None;
    }
    let signed_in = "Claude Code is signed in with a Claude account";
    if lookup.var("CLAUDE_CODE_OAUTH_TOKEN").is_some() {
        return Some(format!("{signed_in} (CLAUDE_CODE_OAUTH_TOKEN)"));
    }
    let (config_dir, state_file) = match lookup.var("CLAUDE_CONFIG_DIR") {
        Some(dir) => (PathBuf::from(&dir), PathBuf::from(dir).join(".claude.json")),
        None => {
            let home = lookup.home()?;
            (home.join(".claude"), home.join(".claude.json"))
        }
    };
    let credentials = config_dir.join(".credentials.json");
    let has_tokens = read_json(lookup, &credentials)
        .and_then(|c| c.get("claudeAiOauth").cloned())
        .is_some_and(|oauth| {
            ["accessToken", "refreshToken"]
                .iter()
                .any(|key| non_empty_str(&oauth, key))
        });
    if has_tokens {
        return Some(format!("{signed_in} ({})", credentials.display()));
    }
    let has_account = read_json(lookup, &state_file)
        .is_some_and(|state| state.get("oauthAccount").is_some_and(|a| a.is_object()));
    has_account.then(|| format!("{signed_in} ({})", state_file.display()))
}

/// Gemini CLI: the auth type chosen in `settings.json` (`security.auth.selectedType`, once
/// `selectedAuthType`) under `GEMINI_CLI_HOME` (else HOME); with none chosen, cached Google
/// credentials and no key in the environment.
fn google_login(lookup: &Lookup) -> Option<String> {
    if lookup.var("GOOGLE_GEMINI_BASE_URL").is_some() {
        return None;
    }
    let home = lookup
        .var("GEMINI_CLI_HOME")
        .map(PathBuf::from)
        .or_else(|| lookup.home())?;
    let dir = home.join(".gemini");
    let settings = dir.join("settings.json");
    let selected = (lookup.read)(&settings)
        .and_then(|text| jsonc::parse(&text))
        .and_then(|s| {
            s.pointer("/security/auth/selectedType")
                .or_else(|| s.get("selectedAuthType"))
                .and_then(|t| t.as_str())
                .map(str::to_string)
        });
    let signed_in = "Gemini CLI is signed in with Google";
    match selected.as_deref() {
        Some("oauth-personal") => Some(format!("{signed_in} ({})", settings.display())),
        Some(_) => None,
        None => {
            let keyed = [
                "GEMINI_API_KEY",
                "GOOGLE_API_KEY",
                "GOOGLE_GENAI_USE_VERTEXAI",
            ]
            .iter()
            .any(|var| lookup.var(var).is_some());
            let creds = dir.join("oauth_creds.json");
            let cached = read_json(lookup, &creds).is_some_and(|c| {
                non_empty_str(&c, "refresh_token") || non_empty_str(&c, "access_token")
            });
            (!keyed && cached).then(|| format!("{signed_in} ({})", creds.display()))
        }
    }
}

fn read_json(lookup: &Lookup, path: &std::path::Path) -> Option<serde_json::Value> {
    serde_json::from_str((lookup.read)(path)?.as_str()).ok()
}

fn non_empty_str(value: &serde_json::Value, key: &str) -> bool {
    value
        .get(key)
        .and_then(|v| v.as_str())
        .is_some_and(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::tests::with_lookup;

    fn login(agent: Agent, env: &[(&str, &str)], files: &[(&str, &str)]) -> Option<String> {
        with_lookup(env, files, |l| subscription_login(agent, l)).map(|s| s.0)
    }

    const CLAUDE_CREDS: &str = r#"{"claudeAiOauth":{"accessToken":"sk-ant-oat01-x","refreshToken":"r","subscriptionType":"max"}}"#;

    #[test]
    fn claude_code_with_an_account_login_is_signed_in_and_says_where_it_was_found() {
        let found = login(
            Agent::Claude,
            &[("HOME", "/h")],
            &[("/h/.claude/.credentials.json", CLAUDE_CREDS)],
        );
        assert_eq!(
            found.as_deref(),
            Some("Claude Code is signed in with a Claude account (/h/.claude/.credentials.json)")
        );
        let elsewhere = login(
            Agent::Claude,
            &[("HOME", "/h"), ("CLAUDE_CONFIG_DIR", "/work/claude")],
            &[("/work/claude/.credentials.json", CLAUDE_CREDS)],
        );
        assert!(
            elsewhere.is_some_and(|s| s.ends_with("(/work/claude/.credentials.json)")),
            "CLAUDE_CONFIG_DIR is where Claude Code keeps its login"
        );
        let keychain = login(
            Agent::Claude,
            &[("HOME", "/h")],
            &[(
                "/h/.claude.json",
                r#"{"oauthAccount":{"emailAddress":"a@b"}}"#,
            )],
        );
        assert!(keychain.is_some(), "a macOS login leaves only oauthAccount");
    }

    #[test]
    fn claude_code_with_a_key_token_or_base_url_is_not_taken_for_a_subscription() {
        let files = [("/h/.claude/.credentials.json", CLAUDE_CREDS)];
        for var in [
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_AUTH_TOKEN",
            "ANTHROPIC_BASE_URL",
        ] {
            assert_eq!(
                login(Agent::Claude, &[("HOME", "/h"), (var, "x")], &files),
                None,
                "{var}"
            );
        }
        assert_eq!(login(Agent::Claude, &[("HOME", "/h")], &[]), None);
        let empty = r#"{"claudeAiOauth":{"accessToken":""}}"#;
        let logged_out = [("/h/.claude/.credentials.json", empty)];
        assert_eq!(login(Agent::Claude, &[("HOME", "/h")], &logged_out), None);
        let token = login(
            Agent::Claude,
            &[("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat")],
            &[],
        );
        assert!(token.is_some_and(|s| s.contains("CLAUDE_CODE_OAUTH_TOKEN")));
    }

    #[test]
    fn codex_signed_in_with_chatgpt_is_a_subscription_unless_an_endpoint_is_configured() {
        let chatgpt = r#"{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{"id_token":"x"}}"#;
        let files = [("/h/.codex/auth.json", chatgpt)];
        assert_eq!(
            login(Agent::Codex, &[("HOME", "/h")], &files).as_deref(),
            Some("Codex is signed in with ChatGPT (/h/.codex/auth.json)")
        );
        let apikey = r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-x","tokens":{"id_token":"x"}}"#;
        let key_files = [("/h/.codex/auth.json", apikey)];
        assert_eq!(login(Agent::Codex, &[("HOME", "/h")], &key_files), None);
        let moved = [
            ("/c/auth.json", chatgpt),
            (
                "/c/config.toml",
                "openai_base_url = \"https://gw.example/v1\"\n",
            ),
        ];
        assert_eq!(
            login(
                Agent::Codex,
                &[("HOME", "/h"), ("CODEX_HOME", "/c")],
                &moved
            ),
            None,
            "a configured base URL takes llmscope in reverse mode"
        );
    }

    #[test]
    fn gemini_cli_signed_in_with_google_is_read_from_its_settings() {
        let nested = r#"{ // chosen in /auth
            "security": {"auth": {"selectedType": "oauth-personal"}}, }"#;
        assert_eq!(
            login(
                Agent::Gemini,
                &[("HOME", "/h")],
                &[("/h/.gemini/settings.json", nested)]
            )
            .as_deref(),
            Some("Gemini CLI is signed in with Google (/h/.gemini/settings.json)")
        );
        let old = r#"{"selectedAuthType": "oauth-personal"}"#;
        let own_home = [("/g/.gemini/settings.json", old)];
        assert!(login(Agent::Gemini, &[("GEMINI_CLI_HOME", "/g")], &own_home).is_some());
        let key = r#"{"security": {"auth": {"selectedType": "gemini-api-key"}}}"#;
        let creds = r#"{"refresh_token": "1//x"}"#;
        let keyed = [
            ("/h/.gemini/settings.json", key),
            ("/h/.gemini/oauth_creds.json", creds),
        ];
        assert_eq!(login(Agent::Gemini, &[("HOME", "/h")], &keyed), None);
        let cached = [("/h/.gemini/oauth_creds.json", creds)];
        assert!(login(Agent::Gemini, &[("HOME", "/h")], &cached).is_some());
        let with_key = [("HOME", "/h"), ("GEMINI_API_KEY", "k")];
        assert_eq!(login(Agent::Gemini, &with_key, &cached), None);
    }

    #[test]
    fn a_codex_login_is_found_in_a_real_home_and_left_as_it_was() {
        let home = tempfile::tempdir().expect("home");
        let codex = home.path().join(".codex");
        std::fs::create_dir_all(&codex).expect("codex dir");
        let auth = r#"{"auth_mode":"chatgpt","tokens":{"access_token":"x"}}"#;
        std::fs::write(codex.join("auth.json"), auth).expect("auth.json");
        let home_text = home.path().display().to_string();
        let env = |name: &str| (name == "HOME").then(|| home_text.clone());
        let read = |path: &std::path::Path| std::fs::read_to_string(path).ok();
        let lookup = Lookup {
            env: &env,
            read: &read,
        };
        let found = subscription_login(Agent::Codex, &lookup).expect("signed in");
        assert!(
            found.0.starts_with("Codex is signed in with ChatGPT ("),
            "{found:?}"
        );
        let after = std::fs::read_to_string(codex.join("auth.json")).expect("kept");
        assert_eq!(after, auth);
        assert_eq!(subscription_login(Agent::Gemini, &lookup), None);
    }

    #[test]
    fn agents_without_a_subscription_login_never_get_forward_mode_by_themselves() {
        let files = [("/h/.claude/.credentials.json", CLAUDE_CREDS)];
        for agent in [Agent::Anthropic, Agent::Aider, Agent::Opencode] {
            assert_eq!(login(agent, &[("HOME", "/h")], &files), None);
        }
    }
}
