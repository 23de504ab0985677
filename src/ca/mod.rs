//! llmscope's local certificate authority, for forward mode: made once on first use and kept
//! owner-only in the data dir, it signs a certificate for each intercepted host so an agent
//! that trusts it talks TLS to llmscope as if to that host.
//!
//! A CA that is there but cannot be read is an error that says so, never silently replaced:
//! agents already told to trust the old certificate would stop connecting.

mod files;
mod leaf;
mod trust;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::CertificateDer;

pub use files::{system_bundle, CaPaths};
pub use trust::{trust_vars, TrustVar};

/// Why the CA could not be made, read, or sign a host's certificate.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("cannot write llmscope's CA in {dir}: {source}")]
    Write {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read llmscope's CA file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "llmscope's CA in {dir} is damaged: {reason}. Move the folder away to make a new CA \
         (agents told to trust the old one must then be given the new certificate)"
    )]
    Damaged { dir: PathBuf, reason: String },
    #[error("cannot make llmscope's CA: {0}")]
    Generate(rcgen::Error),
    #[error("cannot issue a certificate for {host:?}: {reason}")]
    Leaf { host: String, reason: String },
}

/// The CA, loaded, with the certificates it issued this run.
pub struct CertAuthority {
    paths: CaPaths,
    cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    /// One key for every host's certificate: generating one per host buys nothing, since
    /// they all live only in this process.
    leaf_key: KeyPair,
    leaves: Mutex<HashMap<String, Arc<rustls::ServerConfig>>>,
}

impl std::fmt::Debug for CertAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertAuthority")
            .field("cert", &self.paths.cert)
            .finish_non_exhaustive()
    }
}

/// Whether [`CertAuthority::load_or_create`] found the CA or made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaOrigin {
    Created,
    Loaded,
}

impl CertAuthority {
    /// Loads the CA of `data_dir`, making it first if there is none. Blocking (files, key
    /// generation): call it off the async runtime.
    pub fn load_or_create(data_dir: &Path) -> Result<(Self, CaOrigin), CaError> {
        let paths = CaPaths::in_data_dir(data_dir);
        let origin = if paths.exists()? {
            CaOrigin::Loaded
        } else {
            let key = KeyPair::generate().map_err(CaError::Generate)?;
            let cert = ca_params().self_signed(&key).map_err(CaError::Generate)?;
            // Another llmscope may have made one meanwhile; whichever landed is loaded.
            paths.write_new(&cert.pem(), &key.serialize_pem())?;
            CaOrigin::Created
        };
        let (cert_pem, key_pem) = paths.read()?;
        Ok((Self::from_pem(paths, &cert_pem, &key_pem)?, origin))
    }

    fn from_pem(paths: CaPaths, cert_pem: &str, key_pem: &str) -> Result<Self, CaError> {
        use rustls_pki_types::pem::PemObject;
        let damaged = |reason: String| CaError::Damaged {
            dir: paths.dir.clone(),
            reason,
        };
        let key = KeyPair::from_pem(key_pem)
            .map_err(|e| damaged(format!("the key file is not a PEM private key ({e})")))?;
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| damaged(format!("the certificate file is not PEM ({e})")))?;
        // The certificate carries its public key: it must be the key's, or every host's
        // certificate would be signed by a key no client trusts.
        if !contains(cert_der.as_ref(), key.public_key_raw()) {
            return Err(damaged(
                "the certificate and the key do not belong together".into(),
            ));
        }
        let leaf_key = KeyPair::generate().map_err(CaError::Generate)?;
        Ok(Self {
            paths,
            cert_der,
            issuer: Issuer::new(ca_params(), key),
            leaf_key,
            leaves: Mutex::new(HashMap::new()),
        })
    }

    /// The CA certificate's file, for agents to trust.
    pub fn cert_path(&self) -> &Path {
        &self.paths.cert
    }

    pub fn paths(&self) -> &CaPaths {
        &self.paths
    }

    /// The TLS server configuration for `host`, issued on first use and then reused. It
    /// offers only HTTP/1.1 in ALPN. An IPv6 literal may come in its URL brackets (`[::1]`,
    /// as a `CONNECT` authority has it): the certificate names the address itself, as an IP
    /// SAN, which is what a client checks it against.
    pub fn server_config(&self, host: &str) -> Result<Arc<rustls::ServerConfig>, CaError> {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let mut leaves = self.leaves.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(config) = leaves.get(&host) {
            return Ok(config.clone());
        }
        let config = Arc::new(leaf::server_config(self, &host)?);
        leaves.insert(host, config.clone());
        Ok(config)
    }
}

/// The CA's fields. Rebuilt identically on every load: an issuer is its name, key usages and
/// key, so the stored certificate need not be parsed back.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
        .distinguished_name
        .push(DnType::CommonName, "llmscope local CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "llmscope");
    leaf::set_validity(&mut params, 3650);
    params
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests;
