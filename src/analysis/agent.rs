//! Which agent sent a request, named as its users know it, from its `User-Agent`.

use crate::capture::HeaderList;

/// `opencode`, `Claude Code`, … or `the agent` when the request does not say.
pub fn agent_name(headers: &HeaderList) -> String {
    let user_agent = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
        .map(|(_, value)| value.trim())
        .unwrap_or_default();
    let product = user_agent
        .split(|c: char| c == '/' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    let known = match product.to_ascii_lowercase().as_str() {
        "" => "the agent",
        "opencode" => "opencode",
        "claude-cli" => "Claude Code",
        "codex_cli_rs" | "codex_exec" | "codex" => "Codex",
        "geminicli" | "gemini-cli" => "Gemini CLI",
        "aider" => "aider",
        "openai" => "the openai SDK",
        "anthropic" => "the anthropic SDK",
        _ => product,
    };
    known.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(user_agent: &str) -> String {
        agent_name(&HeaderList::from([("user-agent", user_agent.to_string())]))
    }

    #[test]
    fn agents_are_named_as_their_users_know_them() {
        assert_eq!(
            named("opencode/1.18.33 ai-sdk/provider-utils/3.0.9 runtime/bun/1.3"),
            "opencode"
        );
        assert_eq!(
            named("claude-cli/2.1.197 (external, sdk-cli)"),
            "Claude Code"
        );
        assert_eq!(named("OpenAI/Python 1.109.1"), "the openai SDK");
        assert_eq!(named("curl/8.5.0"), "curl");
        assert_eq!(agent_name(&HeaderList::new()), "the agent");
    }
}
