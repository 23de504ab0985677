//! Names what failed in a TLS handshake with an upstream, in words a user can act on: the
//! host, and whether its certificate has an unknown issuer, the wrong name, or has expired.

use rustls::{CertificateError, Error as TlsError};

/// The sentence for a TLS failure reaching `host`; `detail` is the error chain as reqwest
/// gave it, kept at the end for the specifics.
pub fn tls_failure_message(host: Option<&str>, tls: Option<&TlsError>, detail: &str) -> String {
    let host = host.unwrap_or("the upstream");
    match tls.and_then(what_failed) {
        Some(what) => format!("TLS handshake with {host} failed: {what} ({detail})"),
        None => format!("TLS handshake with {host} failed: {detail}"),
    }
}

fn what_failed(error: &TlsError) -> Option<&'static str> {
    let TlsError::InvalidCertificate(cert) = error else {
        return None;
    };
    Some(match cert {
        CertificateError::UnknownIssuer => {
            "unknown issuer: its certificate is not signed by a CA llmscope trusts \
             (for a private CA, pass --upstream-ca FILE)"
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "name mismatch: its certificate is for another host name"
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "its certificate has expired"
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "its certificate is not valid yet (is this machine's clock right?)"
        }
        CertificateError::Revoked => "its certificate has been revoked",
        CertificateError::BadSignature => "its certificate's signature does not verify",
        CertificateError::BadEncoding => "its certificate cannot be read",
        // webpki's words for a server certificate that says it is a CA: what `openssl req
        // -x509` makes by default, so a self-made gateway certificate often is one.
        CertificateError::Other(other) if other.to_string().contains("CaUsedAsEndEntity") => {
            "its certificate is marked as a CA (basicConstraints CA:TRUE), which TLS refuses \
             for a server: give the upstream a certificate signed by that CA, or one made \
             without CA:TRUE"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_and_the_cause_are_named() {
        let unknown = TlsError::InvalidCertificate(CertificateError::UnknownIssuer);
        let text = tls_failure_message(Some("gw.internal"), Some(&unknown), "invalid peer");
        assert!(text.starts_with("TLS handshake with gw.internal failed: unknown issuer"));
        assert!(text.contains("--upstream-ca"), "{text}");
        let expired = TlsError::InvalidCertificate(CertificateError::Expired);
        let text = tls_failure_message(None, Some(&expired), "x");
        assert!(text.contains("the upstream failed: its certificate has expired"));
        let other = TlsError::HandshakeNotComplete;
        let text = tls_failure_message(Some("h"), Some(&other), "eof");
        assert_eq!(text, "TLS handshake with h failed: eof");
    }
}
