//! A certificate for one intercepted host, signed by the CA, and the TLS server
//! configuration that presents it.

use std::sync::Arc;

use chrono::{Datelike, Duration, Utc};
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::{CaError, CertAuthority};

/// A host certificate is good for a year; it lives only as long as the process anyway.
const LEAF_DAYS: i64 = 365;

pub fn server_config(ca: &CertAuthority, host: &str) -> Result<rustls::ServerConfig, CaError> {
    let leaf_err = |reason: String| CaError::Leaf {
        host: host.to_string(),
        reason,
    };
    let mut params = CertificateParams::new(vec![host.to_string()])
        .map_err(|e| leaf_err(format!("not a host name ({e})")))?;
    params.distinguished_name.push(DnType::CommonName, host);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, LEAF_DAYS);
    let cert = params
        .signed_by(&ca.leaf_key, &ca.issuer)
        .map_err(|e| leaf_err(e.to_string()))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ca.leaf_key.serialize_der()));
    let chain = vec![
        CertificateDer::from(cert.der().to_vec()),
        ca.cert_der.clone(),
    ];
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| leaf_err(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| leaf_err(e.to_string()))?;
    // The exchange path is HTTP/1.1: a client offered h2 would speak a protocol it cannot read.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Valid from yesterday (a client whose clock is a little behind still accepts it) to `days`
/// from now.
pub fn set_validity(params: &mut CertificateParams, days: i64) {
    let day = |at: chrono::DateTime<Utc>| {
        // chrono's month and day are 1-12 and 1-31, always within a u8.
        rcgen::date_time_ymd(at.year(), at.month() as u8, at.day() as u8)
    };
    let now = Utc::now();
    params.not_before = day(now - Duration::days(1));
    params.not_after = day(now + Duration::days(days));
}
