//! Credentials reach the upstream but never the disk.

mod common;

use common::{chat_body, client, Harness};

const SECRETS: [&str; 4] = [
    "sk-live-PLANTED-1111",
    "sk-ant-PLANTED-2222",
    "azure-PLANTED-3333",
    "cookie-PLANTED-4444",
];

#[tokio::test]
async fn secret_headers_are_forwarded_but_never_written_to_disk() {
    let mut h = Harness::start().await;
    let reply = client()
        .post(h.url("/v1/chat/completions"))
        .header("Authorization", format!("Bearer {}", SECRETS[0]))
        .header("x-api-key", SECRETS[1])
        .header("api-key", SECRETS[2])
        .header("Cookie", format!("session={}", SECRETS[3]))
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 200);
    let forwarded = &h.mock.received()[0].headers;
    for secret in SECRETS {
        assert!(
            forwarded.iter().any(|(_, v)| v.contains(secret)),
            "{secret} forwarded"
        );
    }
    let live = h.next_finished().await;
    let auth = live
        .start
        .request
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .map(|(_, v)| v.as_str());
    assert_eq!(auth, Some("Bearer <redacted>"));

    let (stored, dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 1);
    let mut scanned = 0;
    for entry in std::fs::read_dir(&dir.path).expect("data dir lists") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("file reads");
        scanned += bytes.len();
        for secret in SECRETS {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret} found in {}", path.display());
        }
    }
    assert!(scanned > 0, "the database files were scanned");
}

#[cfg(unix)]
#[tokio::test]
async fn data_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mut h = Harness::start().await;
    client()
        .post(h.url("/v1/chat/completions"))
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("answered");
    h.next_finished().await;
    let (_, dir) = h.stop_and_load().await;
    let dir_mode = std::fs::metadata(&dir.path)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o077, 0, "data dir is owner-only: {dir_mode:o}");
    for entry in std::fs::read_dir(&dir.path).expect("lists") {
        let path = entry.expect("entry").path();
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "{} is owner-only: {mode:o}",
            path.display()
        );
    }
}
