//! Where the CA lives and how it is written: `<data>/ca/`, the folder 0700 and both files
//! 0600, written whole into a fresh folder that is then renamed into place, so a reader never
//! sees half a CA and two llmscopes starting at once end up with one.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::CaError;

const CERT_FILE: &str = "llmscope-ca.pem";
const KEY_FILE: &str = "llmscope-ca-key.pem";
/// The system's roots followed by llmscope's CA: for runtimes whose variable replaces the
/// trust store instead of adding to it (Python's `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`).
const BUNDLE_FILE: &str = "llmscope-ca-bundle.pem";

/// The CA's files in a data dir.
#[derive(Debug, Clone)]
pub struct CaPaths {
    pub dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub bundle: PathBuf,
}

impl CaPaths {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        let dir = data_dir.join("ca");
        Self {
            cert: dir.join(CERT_FILE),
            key: dir.join(KEY_FILE),
            bundle: dir.join(BUNDLE_FILE),
            dir,
        }
    }

    /// Whether a CA is there. Half of one (a certificate without its key) is damaged.
    pub fn exists(&self) -> Result<bool, CaError> {
        match (self.cert.exists(), self.key.exists()) {
            (true, true) => Ok(true),
            (false, false) => Ok(false),
            (cert, _) => Err(CaError::Damaged {
                dir: self.dir.clone(),
                reason: format!(
                    "{} is there but {} is missing",
                    if cert { CERT_FILE } else { KEY_FILE },
                    if cert { KEY_FILE } else { CERT_FILE }
                ),
            }),
        }
    }

    pub fn read(&self) -> Result<(String, String), CaError> {
        let read = |path: &Path| {
            fs::read_to_string(path).map_err(|source| CaError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        Ok((read(&self.cert)?, read(&self.key)?))
    }

    /// Writes a new CA unless one landed first (then that one stays).
    pub fn write_new(&self, cert_pem: &str, key_pem: &str) -> Result<(), CaError> {
        let write_err = |source| CaError::Write {
            dir: self.dir.clone(),
            source,
        };
        let parent = self.dir.parent().unwrap_or(Path::new("."));
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(write_err)?;
        let staging = parent.join(format!(".ca-new-{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&staging)
            .map_err(write_err)?;
        write_private(&staging.join(CERT_FILE), cert_pem.as_bytes()).map_err(write_err)?;
        write_private(&staging.join(KEY_FILE), key_pem.as_bytes()).map_err(write_err)?;
        // A rename onto a folder that exists and is not empty fails: someone else's CA won.
        if fs::rename(&staging, &self.dir).is_err() {
            let _ = fs::remove_dir_all(&staging);
            if !self.exists()? {
                return Err(write_err(std::io::Error::other(
                    "the ca folder is there but holds no CA",
                )));
            }
        }
        Ok(())
    }

    /// Writes [`BUNDLE_FILE`]: `system_roots` (PEM) then the CA certificate. Returns its path.
    pub fn write_bundle(&self, system_roots: &str) -> Result<PathBuf, CaError> {
        let (cert_pem, _) = self.read()?;
        let mut bundle = String::with_capacity(system_roots.len() + cert_pem.len() + 1);
        bundle.push_str(system_roots);
        if !bundle.is_empty() && !bundle.ends_with('\n') {
            bundle.push('\n');
        }
        bundle.push_str(&cert_pem);
        let staging = self.dir.join(format!(".bundle-{}", std::process::id()));
        let write_err = |source| CaError::Write {
            dir: self.dir.clone(),
            source,
        };
        write_private(&staging, bundle.as_bytes()).map_err(write_err)?;
        fs::rename(&staging, &self.bundle).map_err(write_err)?;
        Ok(self.bundle.clone())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The system's CA bundle (Debian, Fedora, Alpine, macOS paths), if one is there.
pub fn system_bundle() -> Option<(PathBuf, String)> {
    const CANDIDATES: [&str; 4] = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
        "/etc/ssl/ca-bundle.pem",
    ];
    CANDIDATES.iter().find_map(|path| {
        let text = fs::read_to_string(path).ok()?;
        text.contains("BEGIN CERTIFICATE")
            .then(|| (PathBuf::from(path), text))
    })
}
