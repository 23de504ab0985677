//! `--upstream-ca FILE`: a private CA the upstream client trusts besides the usual roots (a
//! company gateway behind an internal CA). Read once at start-up; a file that holds no
//! certificate is refused then, not discovered at the first call.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// The certificates of one `--upstream-ca` file, ready for the upstream client.
#[derive(Debug, Clone)]
pub struct UpstreamCa {
    path: PathBuf,
    certs: Vec<reqwest::Certificate>,
}

/// Why an `--upstream-ca` file was refused.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamCaError {
    #[error("cannot read the upstream CA file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the upstream CA file {path} is not PEM: {reason}")]
    Pem { path: PathBuf, reason: String },
    #[error("the upstream CA file {path} holds no certificate (expected PEM `-----BEGIN CERTIFICATE-----` blocks)")]
    Empty { path: PathBuf },
    #[error("the upstream CA file {path} holds a certificate that cannot be used: {source}")]
    Certificate {
        path: PathBuf,
        source: reqwest::Error,
    },
}

impl UpstreamCa {
    /// Reads every certificate in a PEM file. Blocking: call it before the runtime serves.
    pub fn load(path: &Path) -> Result<Self, UpstreamCaError> {
        let pem = std::fs::read(path).map_err(|source| UpstreamCaError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_pem(path, &pem)
    }

    fn from_pem(path: &Path, pem: &[u8]) -> Result<Self, UpstreamCaError> {
        let ders = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| UpstreamCaError::Pem {
                path: path.to_path_buf(),
                reason: error.to_string(),
            })?;
        if ders.is_empty() {
            return Err(UpstreamCaError::Empty {
                path: path.to_path_buf(),
            });
        }
        let certs = ders
            .iter()
            .map(|der| reqwest::Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| UpstreamCaError::Certificate {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            certs,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn certificates(&self) -> impl Iterator<Item = reqwest::Certificate> + '_ {
        self.certs.iter().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused_with_its_path() {
        let path = Path::new("/etc/company-ca.pem");
        let err = UpstreamCa::from_pem(path, b"just text\n").expect_err("refused");
        assert!(err.to_string().contains("/etc/company-ca.pem"), "{err}");
        assert!(err.to_string().contains("holds no certificate"), "{err}");
        let broken = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let err = UpstreamCa::from_pem(path, broken).expect_err("refused");
        assert!(matches!(err, UpstreamCaError::Pem { .. }), "{err}");
    }

    #[test]
    fn every_certificate_of_a_bundle_is_kept() {
        let pem = |name: &str| {
            let key = rcgen::KeyPair::generate().expect("key");
            let params = rcgen::CertificateParams::new(vec![name.to_string()]).expect("params");
            params.self_signed(&key).expect("cert").pem()
        };
        let bundle = format!("{}{}", pem("a.test"), pem("b.test"));
        let ca = UpstreamCa::from_pem(Path::new("bundle.pem"), bundle.as_bytes()).expect("ok");
        assert_eq!(ca.certificates().count(), 2);
    }
}
