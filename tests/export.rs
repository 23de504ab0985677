//! The real binary exports a recorded session: a HAR that validates and holds no secret, and a
//! curl command that really replays an exchange against the upstream.

mod common;

use common::recorder::run_llmscope;

use std::path::Path;
use std::process::{Command, Output};

use common::{chat_body, client, json, Harness};
use llmscope::export::har_problems;

const PLANTED: &str = "sk-PLANTED-SECRET";

/// Runs the exported command in `sh` as a user would, with their own key in the environment.
/// A `.curlrc` (read before the command's own options) adds the status code to the output and
/// keeps any environment proxy out of a loopback test.
fn replay(command: &str, scratch: &Path) -> Output {
    let found = Command::new("curl").arg("--version").output();
    assert!(
        found.is_ok_and(|out| out.status.success()),
        "curl is needed to replay the exported command: install it (e.g. apt-get install curl)"
    );
    std::fs::write(
        scratch.join(".curlrc"),
        "silent\nshow-error\nnoproxy = \"*\"\nwrite-out = \"\\n%{http_code}\"\n",
    )
    .expect("curlrc written");
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("OPENAI_API_KEY", "x")
        .env("CURL_HOME", scratch)
        .output()
        .expect("sh runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_har_validates_and_curl_replays_without_the_secret() {
    let h = Harness::start().await;
    let http = client();
    for (model, status) in [("mock-ok", 200), ("mock-400-context", 400)] {
        let reply = http
            .post(h.url("/v1/chat/completions"))
            .header("Authorization", format!("Bearer {PLANTED}"))
            .header("content-type", "application/json")
            .body(chat_body(model, false))
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), status);
    }
    let session = h.session.0.to_string();
    let (stored, dir, mock) = h.stop_keeping_mock().await;
    assert_eq!(stored.len(), 2);
    let scratch = tempfile::tempdir().expect("temp dir");
    let har_path = scratch.path().join("out.har");
    let har_arg = har_path.to_str().expect("UTF-8 temp path");

    let (har_text, curl) = tokio::task::spawn_blocking({
        let dir = dir.path.clone();
        let session = session.clone();
        let har_arg = har_arg.to_string();
        move || {
            run_llmscope(&["export", &session, "--har", &har_arg], &dir);
            let har_text = std::fs::read_to_string(&har_arg).expect("HAR written");
            let curl = run_llmscope(&["export", &session, "--curl", "1"], &dir);
            (
                har_text,
                String::from_utf8(curl.stdout).expect("UTF-8 command"),
            )
        }
    })
    .await
    .expect("export runs");

    let har = json(har_text.as_bytes());
    let problems = har_problems(&har);
    assert!(problems.is_empty(), "not valid HAR 1.2: {problems:#?}");
    let statuses: Vec<_> = har["log"]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| entry["response"]["status"].as_u64())
        .collect();
    assert_eq!(statuses, [Some(200), Some(400)]);
    assert_eq!(
        har["log"]["entries"][0]["request"]["url"],
        format!("{}/v1/chat/completions", mock.url().trim_end_matches('/'))
    );
    assert!(!har_text.contains(PLANTED), "the secret is in the HAR");
    assert!(
        !curl.contains(PLANTED),
        "the secret is in the curl command:\n{curl}"
    );
    assert!(curl.contains("$OPENAI_API_KEY"), "{curl}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&har_path)
            .expect("HAR exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the HAR is owner-only");
    }

    let before = mock.received().len();
    let replayed = tokio::task::spawn_blocking({
        let scratch = scratch.path().to_path_buf();
        move || replay(&curl, &scratch)
    })
    .await
    .expect("replay runs");
    let stdout = String::from_utf8_lossy(&replayed.stdout).into_owned();
    assert!(
        replayed.status.success(),
        "the curl command failed: {}{stdout}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    let (body, status) = stdout.rsplit_once('\n').expect("status after the body");
    assert_eq!(status, "200", "{stdout}");
    let original = stored[0].record.response.as_ref().expect("a reply");
    // The mock derives the reply id from the body bytes, and the heredoc adds a final newline
    // that JSON ignores; everything else must match the recorded reply.
    let without_id = |bytes: &[u8]| {
        let mut reply = json(bytes);
        reply.as_object_mut().map(|o| o.remove("id"));
        reply
    };
    assert_eq!(
        without_id(body.as_bytes()),
        without_id(&original.body),
        "the mock's reply"
    );
    let received = mock.received();
    assert_eq!(received.len(), before + 1, "one replayed request");
    let again = &received[before];
    assert_eq!(again.header("authorization"), Some("Bearer x"));
    assert_eq!(
        json(&again.body),
        json(chat_body("mock-ok", false).as_bytes())
    );
}

#[test]
fn export_names_what_is_missing() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_llmscope"))
            .args(args)
            .arg("--data-dir")
            .arg(scratch.path())
            .output()
            .expect("llmscope runs");
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(run(&["export", "latest", "--curl", "1"]).contains("no sessions recorded yet"));
    assert!(run(&["export", "latest"]).contains("--har <FILE>"));
    let both = run(&["export", "latest", "--har", "-", "--curl", "1"]);
    assert!(both.contains("cannot be used with"), "{both}");
    assert!(run(&["export", "soon", "--har", "-"]).contains("neither a session id nor `latest`"));
}

/// `--curl` on a real session names an exchange that is not there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_exchange_is_a_clear_error() {
    let h = Harness::start().await;
    let reply = client()
        .post(h.url("/v1/chat/completions"))
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 200);
    let session = h.session.0.to_string();
    let (_, dir) = h.stop_and_load().await;
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_llmscope"))
            .args(["export", &session, "--curl", "9", "--data-dir"])
            .arg(&dir.path)
            .output()
            .expect("llmscope runs")
    })
    .await
    .expect("export runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("has no exchange 9 (it has 1 exchange"),
        "{stderr}"
    );
}
