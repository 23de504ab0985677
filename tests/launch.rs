//! The real binary: `llmscope env AGENT` names what each agent reads, and `llmscope launch`
//! runs a stand-in agent through a recorded session against the mock upstream, returns its
//! exit code and leaves the user's config files as they were.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use llmscope::mock::MockUpstream;
use llmscope::store::Store;

const BIN: &str = env!("CARGO_BIN_EXE_llmscope");

/// A stand-in program: its own first lines (which set `base` and `path`), then one request to
/// `base + path` and an exit with $FAKE_EXIT.
macro_rules! stand_in {
    ($head:literal) => {
        concat!(
            $head,
            r#"
body = json.dumps({"model": "mock-ok", "max_tokens": 16,
                   "messages": [{"role": "user", "content": "hi"}]}).encode()
request = urllib.request.Request(base + path, data=body,
                                 headers={"content-type": "application/json"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(request, timeout=20) as reply:
    reply.read()
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"#
        )
    };
}

/// A stand-in agent: records its environment, sends one request to the base URL it was given
/// (from a variable, or from opencode's inline config) and exits with $FAKE_EXIT.
const FAKE_AGENT: &str = stand_in!(
    r#"
import json, os, sys, urllib.request
var, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(out, "w") as f:
    json.dump({"env": dict(os.environ), "args": sys.argv[4:]}, f)
if var == "OPENCODE_CONFIG_CONTENT":
    base = json.loads(os.environ[var])["provider"]["gw"]["options"]["baseURL"]
else:
    base = os.environ[var]
"#
);

fn env_of(agent: &str) -> String {
    let out = Command::new(BIN)
        .args(["env", agent, "--listen", "127.0.0.1:8790"])
        .env_remove("LLMSCOPE_LISTEN")
        .output()
        .expect("llmscope runs");
    assert!(out.status.success(), "{agent}: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn env_names_the_variables_and_keys_each_agent_reads() {
    let expect = [
        (
            "claude",
            "export ANTHROPIC_BASE_URL=http://127.0.0.1:8790\n",
        ),
        (
            "anthropic",
            "export ANTHROPIC_BASE_URL=http://127.0.0.1:8790\n",
        ),
        (
            "openai",
            "export OPENAI_BASE_URL=http://127.0.0.1:8790/v1\n",
        ),
        ("aider", "export OPENAI_API_BASE=http://127.0.0.1:8790/v1\n"),
        (
            "gemini",
            "export GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:8790\n",
        ),
        (
            "codex",
            "alias codex='codex -c openai_base_url=\"http://127.0.0.1:8790/v1\"'\n",
        ),
        (
            "openai-compatible",
            "export OPENAI_API_BASE=http://127.0.0.1:8790/v1\n",
        ),
        ("opencode", "export OPENCODE_CONFIG_CONTENT='"),
    ];
    for (agent, line) in expect {
        let text = env_of(agent);
        assert!(text.contains(line), "{agent}:\n{text}");
    }
    let opencode = env_of("opencode");
    assert!(opencode.contains(r#""options":{"baseURL":"http://127.0.0.1:8790/v1"}"#));
    assert!(env_of("codex").contains("[model_providers.<id>]"));
    let gemini = env_of("gemini");
    assert!(gemini.contains("decodes its Gemini API calls"), "{gemini}");
    assert!(!gemini.contains("raw"), "{gemini}");

    let unknown = Command::new(BIN)
        .args(["env", "vim"])
        .output()
        .expect("runs");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("opencode, claude, codex"));
}

struct Scene {
    _dir: tempfile::TempDir,
    root: PathBuf,
    script: PathBuf,
    record: PathBuf,
    data: PathBuf,
    home: PathBuf,
}

fn scene() -> Scene {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().to_path_buf();
    let script = root.join("agent.py");
    std::fs::write(&script, FAKE_AGENT).expect("script");
    let home = root.join("home");
    std::fs::create_dir_all(&home).expect("home");
    Scene {
        record: root.join("agent-env.json"),
        data: root.join("data"),
        script,
        home,
        root,
        _dir: dir,
    }
}

impl Scene {
    /// `llmscope launch ARGS` with a clean environment but for `env`.
    async fn launch(&self, args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
        let mut command = Command::new(BIN);
        command
            .arg("launch")
            .args(args)
            .current_dir(&self.root)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("LLMSCOPE_DATA_DIR", &self.data)
            .envs(env);
        tokio::task::spawn_blocking(move || command.output().expect("llmscope runs"))
            .await
            .expect("joins")
    }

    fn agent_saw(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(&self.record).expect("the agent ran");
        serde_json::from_str(&text).expect("JSON")
    }

    fn fake(&self, var: &str, path: &str) -> Vec<String> {
        [
            "python3",
            &self.script.display().to_string(),
            var,
            path,
            &self.record.display().to_string(),
        ]
        .map(String::from)
        .to_vec()
    }
}

/// The one session in the data dir: closed, in `launch` mode, with its exchanges' paths.
fn recorded(data: &Path) -> Vec<String> {
    let store = Store::open(data).expect("store");
    let sessions = store.list_sessions().expect("sessions");
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0].mode, "launch");
    assert!(sessions[0].ended_at_ms.is_some(), "session closed");
    store
        .exchanges(sessions[0].id)
        .expect("exchanges")
        .iter()
        .map(|e| e.record.start.request.uri.to_string())
        .collect()
}

#[tokio::test]
async fn launch_records_the_agents_call_and_exits_with_its_code() {
    let mock = MockUpstream::start().await.expect("mock");
    let s = scene();
    let mut args: Vec<String> = ["openai-compatible", "--upstream", &mock.url()]
        .map(String::from)
        .to_vec();
    args.extend(["--listen".into(), "127.0.0.1:0".into(), "--".into()]);
    args.extend(s.fake("OPENAI_BASE_URL", "/chat/completions"));
    let out = s.launch(args, vec![("FAKE_EXIT", "7".into())]).await;
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let saw = s.agent_saw();
    let base = saw["env"]["OPENAI_BASE_URL"].as_str().expect("base URL");
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/v1"),
        "{base}"
    );
    assert_eq!(saw["env"]["OPENAI_API_BASE"], base);
    assert_eq!(recorded(&s.data), ["/v1/chat/completions"]);
    assert_eq!(mock.received().len(), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("llmscope open 1"), "{stderr}");
    assert!(
        stderr.contains("session 1 closed (1 exchange, 0 errors)"),
        "{stderr}"
    );
}

#[tokio::test]
async fn claude_goes_where_anthropic_base_url_pointed_before() {
    let mock = MockUpstream::start().await.expect("mock");
    let s = scene();
    let fake = s.fake("ANTHROPIC_BASE_URL", "/v1/messages");
    let mut args: Vec<String> = vec!["claude".into(), "--command".into(), fake[0].clone()];
    args.extend(["--listen".into(), "127.0.0.1:0".into(), "--".into()]);
    args.extend(fake[1..].iter().cloned());
    args.push("-p".into());
    let out = s
        .launch(args, vec![("ANTHROPIC_BASE_URL", mock.url())])
        .await;
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "-> {} (upstream: ANTHROPIC_BASE_URL was set)",
            mock.url()
        )),
        "{stderr}"
    );
    let saw = s.agent_saw();
    assert_ne!(saw["env"]["ANTHROPIC_BASE_URL"], mock.url().as_str());
    assert_eq!(saw["args"], serde_json::json!(["-p"]));
    assert_eq!(recorded(&s.data), ["/v1/messages"]);
}

#[tokio::test]
async fn opencode_is_routed_by_the_users_config_which_stays_untouched() {
    let mock = MockUpstream::start().await.expect("mock");
    let s = scene();
    let config_dir = s.home.join(".config/opencode");
    std::fs::create_dir_all(&config_dir).expect("config dir");
    let user_config = format!(
        "{{\n  // the user's own\n  \"model\": \"gw/mock-ok\",\n  \"provider\": {{\"gw\": {{\
         \"npm\": \"@ai-sdk/openai-compatible\", \"options\": {{\"baseURL\": \"{}/v1\"}},\
         \"models\": {{\"mock-ok\": {{}}}}}}}},\n}}\n",
        mock.url()
    );
    let config_file = config_dir.join("opencode.json");
    std::fs::write(&config_file, &user_config).expect("config");
    let fake = s.fake("OPENCODE_CONFIG_CONTENT", "/chat/completions");
    let mut args: Vec<String> = vec!["opencode".into(), "--command".into(), fake[0].clone()];
    args.extend(["--listen".into(), "127.0.0.1:0".into(), "--".into()]);
    args.extend(fake[1..].iter().cloned());
    let out = s.launch(args, vec![]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(recorded(&s.data), ["/v1/chat/completions"]);
    assert_eq!(mock.received().len(), 1);
    assert_eq!(
        std::fs::read_to_string(&config_file).expect("config"),
        user_config
    );
    let entries: Vec<_> = std::fs::read_dir(&config_dir).expect("dir").collect();
    assert_eq!(entries.len(), 1, "nothing added beside the user's config");
}

#[tokio::test]
async fn an_sdk_launch_without_a_command_says_what_is_missing() {
    let s = scene();
    let out = s.launch(vec!["openai".into()], vec![]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs the command to run after `--`"),
        "{stderr}"
    );
}

/// `kill PID` (or a closed terminal) reaching llmscope alone: the agent is told too, ends, and
/// the session is closed before llmscope exits with the agent's code.
#[cfg(unix)]
#[tokio::test]
async fn a_sigterm_to_llmscope_ends_the_agent_first_and_closes_the_session() {
    let mock = MockUpstream::start().await.expect("mock");
    let s = scene();
    let started = s.root.join("started");
    let sleeper = format!(
        "import time; open({:?}, 'w').write('up'); time.sleep(30)",
        started.display().to_string()
    );
    let mut child = Command::new(BIN)
        .args(["launch", "openai-compatible", "--upstream", &mock.url()])
        .args(["--listen", "127.0.0.1:0", "--", "python3", "-c", &sleeper])
        .env("LLMSCOPE_DATA_DIR", &s.data)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("llmscope runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !started.exists() {
        assert!(std::time::Instant::now() < deadline, "the agent started");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: the pid of our own child, which has not been waited for yet.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("joins")
        .expect("llmscope exits");
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{status:?}");
    assert!(recorded(&s.data).is_empty());
}

/// A stand-in LiteLLM: records its arguments and the config it was given, calls the first
/// api_base of that config (through llmscope's provider side) and exits with $FAKE_EXIT.
const FAKE_LITELLM: &str = stand_in!(
    r#"
import json, os, re, stat, sys, urllib.request
out, args = sys.argv[1], sys.argv[2:]
copy = args[args.index("--config") + 1]
text = open(copy).read()
with open(out, "w") as f:
    json.dump({"args": args, "copy": copy, "text": text,
               "mode": stat.S_IMODE(os.stat(copy).st_mode)}, f)
base = re.search(r"api_base: \"?([^\"\s]+)", text).group(1)
path = "/chat/completions"
"#
);

fn litellm_config(provider: &str) -> String {
    format!(
        "model_list:\n  - model_name: mock   # through the mock\n    litellm_params:\n      \
         model: openai/mock-ok\n      api_base: \"{provider}/v1\"\n  - model_name: claude\n    \
         litellm_params:\n      model: anthropic/claude-sonnet-4-5\n  - model_name: azure\n    \
         litellm_params:\n      model: azure/gpt-4\n      api_base: os.environ/AZURE_API_BASE\n"
    )
}

#[test]
fn env_litellm_prints_the_providers_and_the_api_base_overrides() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("litellm.yaml");
    let text = litellm_config("http://127.0.0.1:9001");
    std::fs::write(&config, &text).expect("config");
    let out = Command::new(BIN)
        .args(["env", "litellm", "--listen", "127.0.0.1:8790", "--config"])
        .arg(&config)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "llmscope --listen 127.0.0.1:8790 --upstream http://127.0.0.1:4000 \
         --provider openai=http://127.0.0.1:9001 --provider anthropic=https://api.anthropic.com\n",
        "#   mock (openai/mock-ok): api_base: http://127.0.0.1:8790/provider/openai/v1  \
         (was http://127.0.0.1:9001/v1)\n",
        "#   claude (anthropic/claude-sonnet-4-5): api_base: \
         http://127.0.0.1:8790/provider/anthropic  (unset: the provider's public endpoint)\n",
        "#   azure (azure/gpt-4): left as it is: api_base os.environ/AZURE_API_BASE is read",
        "litellm --config COPY.yaml\n",
    ] {
        assert!(stdout.contains(expected), "{expected}\nnot in:\n{stdout}");
    }
    assert_eq!(std::fs::read_to_string(&config).expect("config"), text);
    let without = Command::new(BIN)
        .args(["env", "litellm"])
        .output()
        .expect("runs");
    assert!(!without.status.success());
    assert!(String::from_utf8_lossy(&without.stderr).contains("--config FILE"));
}

#[tokio::test]
async fn launch_litellm_gives_it_a_copy_routed_through_llmscope_and_exits_with_its_code() {
    let mock = MockUpstream::start().await.expect("mock");
    let s = scene();
    let script = s.root.join("litellm.py");
    std::fs::write(&script, FAKE_LITELLM).expect("script");
    let config = s.root.join("litellm.yaml");
    let text = litellm_config(&mock.url());
    std::fs::write(&config, &text).expect("config");
    let args: Vec<String> = [
        "litellm",
        "--command",
        "python3",
        "--listen",
        "127.0.0.1:0",
        "--",
        &script.display().to_string(),
        &s.record.display().to_string(),
        "--config",
        &config.display().to_string(),
        "--port",
        "4123",
    ]
    .map(String::from)
    .to_vec();
    let out = s.launch(args, vec![("FAKE_EXIT", "5".into())]).await;
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let saw = s.agent_saw();
    let copy = saw["copy"].as_str().expect("copy path");
    assert_ne!(copy, config.display().to_string());
    assert_eq!(
        saw["args"],
        serde_json::json!(["--config", copy, "--port", "4123"])
    );
    assert_eq!(saw["mode"], 0o600);
    let seen = saw["text"].as_str().expect("text");
    let provider = regex_free_api_base(seen);
    assert!(
        provider.starts_with("\"http://127.0.0.1:") && provider.ends_with("/provider/openai/v1\""),
        "{seen}"
    );
    assert!(seen.contains("/provider/anthropic\n"), "{seen}");
    assert!(
        seen.contains("api_base: os.environ/AZURE_API_BASE\n"),
        "{seen}"
    );
    assert!(
        !Path::new(copy).exists(),
        "the copy is removed when LiteLLM exits"
    );
    assert_eq!(std::fs::read_to_string(&config).expect("config"), text);
    assert_eq!(recorded(&s.data), ["/provider/openai/v1/chat/completions"]);
    assert_eq!(mock.received().len(), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("-> http://127.0.0.1:4123 (upstream: the LiteLLM started here)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("point the agent at llmscope, not LiteLLM"),
        "{stderr}"
    );
    assert!(stderr.contains("litellm exited with 5"), "{stderr}");
}

/// The value of the first `api_base:` line, quotes included.
fn regex_free_api_base(text: &str) -> &str {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("api_base: "))
        .map(|v| v.split(" #").next().unwrap_or(v).trim())
        .unwrap_or_default()
}

/// `launch claude` over a HOME where Claude Code is signed in with a Claude account; the
/// stand-in only writes down its environment.
async fn launch_signed_in_claude(s: &Scene, extra: &[&str]) -> (Output, serde_json::Value) {
    let claude_dir = s.home.join(".claude");
    std::fs::create_dir_all(&claude_dir).expect("claude dir");
    let credentials = r#"{"claudeAiOauth":{"accessToken":"sk-ant-oat01-x","refreshToken":"sk-ant-ort01-y","subscriptionType":"max"}}"#;
    std::fs::write(claude_dir.join(".credentials.json"), credentials).expect("credentials");
    let dump = "import json, os, sys; json.dump({'env': dict(os.environ)}, open(sys.argv[1], 'w'))";
    let mut args: Vec<String> = ["claude", "--command", "python3", "--listen", "127.0.0.1:0"]
        .map(String::from)
        .to_vec();
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend(["--".into(), "-c".into(), dump.into()]);
    args.push(s.record.display().to_string());
    let out = s.launch(args, Vec::new()).await;
    assert!(out.status.success(), "{out:?}");
    let saw = s.agent_saw();
    let after = std::fs::read_to_string(claude_dir.join(".credentials.json")).expect("kept");
    assert_eq!(after, credentials, "the login file is only read");
    (out, saw)
}

#[tokio::test]
async fn claude_signed_in_with_an_account_gets_forward_mode_and_says_why() {
    let s = scene();
    let (out, saw) = launch_signed_in_claude(&s, &[]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "llmscope: Claude Code is signed in with a Claude account \
             (" // the path follows
        ) && stderr.contains(": llmscope runs as its HTTPS proxy"),
        "{stderr}"
    );
    let proxy = saw["env"]["HTTPS_PROXY"].as_str().expect("HTTPS_PROXY");
    assert!(proxy.starts_with("http://127.0.0.1:"), "{proxy}");
    let ca = saw["env"]["NODE_EXTRA_CA_CERTS"].as_str().expect("CA");
    assert!(Path::new(ca).is_file(), "{ca}");
    assert!(saw["env"].get("ANTHROPIC_BASE_URL").is_none(), "{saw}");
}

#[tokio::test]
async fn mode_reverse_keeps_a_signed_in_claude_on_a_base_url() {
    let s = scene();
    let (out, saw) = launch_signed_in_claude(&s, &["--mode", "reverse"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("HTTPS proxy"), "{stderr}");
    let base = saw["env"]["ANTHROPIC_BASE_URL"].as_str().expect("base URL");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(saw["env"].get("HTTPS_PROXY").is_none(), "{saw}");
}

#[tokio::test]
async fn launch_outside_tmux_intercepts_for_a_second_screen_and_the_request_goes_on_unchanged() {
    let mock = MockUpstream::start().await.expect("mock");
    let s = scene();
    let mut args: Vec<String> = [
        "openai-compatible",
        "--upstream",
        &mock.url(),
        "--intercept",
        "chat",
        "--hold-timeout",
        "1",
        "--listen",
        "127.0.0.1:0",
        "--",
    ]
    .map(String::from)
    .to_vec();
    args.extend(s.fake("OPENAI_BASE_URL", "/chat/completions"));
    let started = std::time::Instant::now();
    let out = s.launch(args, vec![("FAKE_EXIT", "0".into())]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("requests matching `chat` wait for `llmscope attach")
            && stderr.contains("unchanged after 1 s"),
        "{stderr}"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "the request waited for a screen until its time ran out"
    );
    assert_eq!(recorded(&s.data), ["/v1/chat/completions"]);
    assert_eq!(mock.received().len(), 1, "then it went out unchanged");
}
