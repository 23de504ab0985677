//! How each runtime agents use is told to trust llmscope's CA: the variables and the files
//! they name. Node and Bun (`NODE_EXTRA_CA_CERTS`) and Codex (`CODEX_CA_CERTIFICATE`, read by
//! codex-rs's custom-CA client before `SSL_CERT_FILE`) add the file to their roots; Python's
//! `SSL_CERT_FILE` and `REQUESTS_CA_BUNDLE` replace the roots, so they get a bundle of the
//! system's roots plus the CA, or every host llmscope only tunnels would stop verifying.

use std::path::PathBuf;

use super::{system_bundle, CaError, CertAuthority};

/// One variable and the file it should name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustVar {
    pub name: &'static str,
    pub path: PathBuf,
    /// Who reads it.
    pub readers: &'static str,
}

/// The variables, writing the bundle first. `roots_found` says whether the system's roots
/// went into the bundle (else it holds only the CA).
pub fn trust_vars(ca: &CertAuthority) -> Result<(Vec<TrustVar>, Option<PathBuf>), CaError> {
    let (roots_path, roots) = match system_bundle() {
        Some((path, text)) => (Some(path), text),
        None => (None, String::new()),
    };
    let bundle = ca.paths().write_bundle(&roots)?;
    let cert = ca.cert_path().to_path_buf();
    let vars = vec![
        TrustVar {
            name: "NODE_EXTRA_CA_CERTS",
            path: cert.clone(),
            readers: "Node and Bun: opencode, Claude Code, Gemini CLI",
        },
        TrustVar {
            name: "CODEX_CA_CERTIFICATE",
            path: cert,
            readers: "Codex",
        },
        TrustVar {
            name: "SSL_CERT_FILE",
            path: bundle.clone(),
            readers: "Python (aider, the OpenAI and Anthropic SDKs), OpenSSL",
        },
        TrustVar {
            name: "REQUESTS_CA_BUNDLE",
            path: bundle,
            readers: "Python requests",
        },
    ];
    Ok((vars, roots_path))
}
