//! `launch --mode forward`: instead of a base URL, the agent gets llmscope as its HTTPS and
//! HTTP proxy and the variables that make each runtime trust llmscope's CA.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};

use crate::ca::{trust_vars, CertAuthority};

/// The agent's environment in forward mode, but for the listen address.
pub struct ForwardEnv {
    trust: Vec<(&'static str, String)>,
}

impl ForwardEnv {
    /// Loads (or makes) the CA in `data_dir` and writes its bundle. Blocking.
    pub fn prepare(data_dir: &Path) -> Result<Self> {
        let (ca, _) = CertAuthority::load_or_create(data_dir)
            .with_context(|| format!("loading llmscope's CA in {}", data_dir.display()))?;
        let (vars, _) = trust_vars(&ca).context("writing the CA bundle")?;
        let trust = vars
            .into_iter()
            .map(|var| (var.name, var.path.display().to_string()))
            .collect();
        Ok(Self { trust })
    }

    /// Node, Bun, Python and Rust clients read either case of the proxy variables.
    pub fn vars(&self, listen: SocketAddr) -> Vec<(&'static str, String)> {
        let proxy = format!("http://{listen}");
        let mut vars: Vec<(&'static str, String)> =
            ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"]
                .into_iter()
                .map(|name| (name, proxy.clone()))
                .collect();
        vars.extend(self.trust.iter().cloned());
        vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_gets_the_proxy_and_every_runtime_s_ca_variable() {
        let data = tempfile::tempdir().expect("temp dir");
        let env = ForwardEnv::prepare(data.path()).expect("prepared");
        let vars = env.vars("127.0.0.1:8787".parse().expect("addr"));
        let get = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(get("HTTPS_PROXY"), "http://127.0.0.1:8787");
        assert_eq!(get("http_proxy"), "http://127.0.0.1:8787");
        let cert = data.path().join("ca/llmscope-ca.pem").display().to_string();
        assert_eq!(get("NODE_EXTRA_CA_CERTS"), cert);
        assert_eq!(get("CODEX_CA_CERTIFICATE"), cert);
        assert!(get("SSL_CERT_FILE").ends_with("llmscope-ca-bundle.pem"));
    }
}
