use std::os::unix::fs::PermissionsExt;

use super::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_ca_is_made_once_owner_only_and_reused() {
    let data = tempfile::tempdir().expect("temp dir");
    let (first, origin) = CertAuthority::load_or_create(data.path()).expect("made");
    assert_eq!(origin, CaOrigin::Created);
    let paths = first.paths().clone();
    assert_eq!(paths.cert, data.path().join("ca/llmscope-ca.pem"));
    assert_eq!(mode(&paths.dir), 0o700);
    assert_eq!(mode(&paths.key), 0o600);
    assert_eq!(mode(&paths.cert), 0o600);
    let cert_before = std::fs::read(&paths.cert).expect("cert");
    let (again, origin) = CertAuthority::load_or_create(data.path()).expect("loaded");
    assert_eq!(origin, CaOrigin::Loaded);
    assert_eq!(std::fs::read(&paths.cert).expect("cert"), cert_before);
    assert_eq!(again.cert_der, first.cert_der);
}

#[test]
fn a_damaged_ca_is_an_error_and_stays_as_it_was() {
    let data = tempfile::tempdir().expect("temp dir");
    let (ca, _) = CertAuthority::load_or_create(data.path()).expect("made");
    let paths = ca.paths().clone();
    std::fs::write(&paths.key, "not a key").expect("overwrite");
    let err = CertAuthority::load_or_create(data.path()).expect_err("refused");
    assert!(matches!(err, CaError::Damaged { .. }), "{err}");
    assert!(err.to_string().contains("key file"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&paths.key).expect("key"),
        "not a key"
    );

    std::fs::remove_file(&paths.key).expect("remove");
    let err = CertAuthority::load_or_create(data.path()).expect_err("refused");
    assert!(
        err.to_string().contains("llmscope-ca-key.pem is missing"),
        "{err}"
    );
}

#[test]
fn a_key_from_another_ca_does_not_pass_for_this_one() {
    let one = tempfile::tempdir().expect("temp dir");
    let two = tempfile::tempdir().expect("temp dir");
    let (a, _) = CertAuthority::load_or_create(one.path()).expect("made");
    let (b, _) = CertAuthority::load_or_create(two.path()).expect("made");
    std::fs::copy(&b.paths().key, &a.paths().key).expect("swap keys");
    let err = CertAuthority::load_or_create(one.path()).expect_err("refused");
    assert!(err.to_string().contains("do not belong together"), "{err}");
}

#[test]
fn host_certificates_are_issued_once_per_host() {
    let data = tempfile::tempdir().expect("temp dir");
    let (ca, _) = CertAuthority::load_or_create(data.path()).expect("made");
    let first = ca.server_config("api.openai.com").expect("issued");
    let again = ca.server_config("API.openai.com").expect("cached");
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(first.alpn_protocols, vec![b"http/1.1".to_vec()]);
    assert!(ca.server_config("127.0.0.1").is_ok(), "an IP address too");
}

#[test]
fn the_bundle_is_the_system_roots_then_the_ca() {
    let data = tempfile::tempdir().expect("temp dir");
    let (ca, _) = CertAuthority::load_or_create(data.path()).expect("made");
    let roots = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
    let path = ca.paths().write_bundle(roots).expect("written");
    let bundle = std::fs::read_to_string(&path).expect("bundle");
    let cert = std::fs::read_to_string(ca.cert_path()).expect("cert");
    assert!(bundle.starts_with(roots));
    assert!(bundle.ends_with(&cert));
    assert_eq!(mode(&path), 0o600);
}

/// Whether a client that trusts only `ca` completes a handshake with `server` for `name`.
async fn handshake(ca: &CertAuthority, server: Arc<rustls::ServerConfig>, name: &str) -> bool {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert_der.clone()).expect("the CA as a root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from(name.to_string()).expect("a server name");
    let (near, far) = tokio::io::duplex(64 * 1024);
    let accept = tokio_rustls::TlsAcceptor::from(server).accept(far);
    let connect = tokio_rustls::TlsConnector::from(Arc::new(client)).connect(name, near);
    let (accepted, connected) = tokio::join!(accept, connect);
    accepted.is_ok() && connected.is_ok()
}

#[tokio::test]
async fn an_ipv6_connect_host_gets_a_certificate_for_its_address() {
    let data = tempfile::tempdir().expect("temp dir");
    let (ca, _) = CertAuthority::load_or_create(data.path()).expect("made");
    // As `CONNECT [::1]:443` names it.
    let bracketed = ca.server_config("[::1]").expect("issued");
    assert!(Arc::ptr_eq(
        &bracketed,
        &ca.server_config("::1").expect("cached")
    ));
    assert!(handshake(&ca, bracketed.clone(), "::1").await, "IP SAN ::1");
    assert!(!handshake(&ca, bracketed, "::2").await, "for ::1 only");
    let named = ca.server_config("api.openai.com").expect("issued");
    assert!(handshake(&ca, named.clone(), "api.openai.com").await);
    assert!(!handshake(&ca, named, "api.anthropic.com").await);
}
