//! TLS for the server (rustls, ring provider): a certificate chain and key from PEM files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

/// Why the TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read or held no PEM object of the kind wanted.
    #[error("`{}`: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// rustls refused the pair (say, a key that does not match the certificate).
    #[error("certificate `{}` and key `{}`: {reason}", cert.display(), key.display())]
    Config {
        /// The certificate chain file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        reason: String,
    },
}

fn file_err(path: &Path, reason: String) -> TlsError {
    TlsError::File { path: path.to_path_buf(), reason }
}

/// The PEM objects of one kind in a file (`what` names the kind), at least one.
fn read_pem<T: PemObject>(path: &Path, what: &str) -> Result<Vec<T>, TlsError> {
    let items = T::pem_file_iter(path)
        .map_err(|e| file_err(path, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(path, e.to_string()))?;
    if items.is_empty() {
        return Err(file_err(path, format!("holds no PEM {what}")));
    }
    Ok(items)
}

/// The PEM certificates in a file, at least one.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    read_pem(path, "certificate")
}

/// The common names (CN) in a certificate's subject (DER): who a client certificate names.
/// Names in a string type other than UTF8String, PrintableString or IA5String are left out; a
/// certificate that does not parse names nobody.
pub fn subject_common_names(der: &[u8]) -> Vec<String> {
    use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
    use x509_cert::der::{Decode as _, Tag, Tagged as _};
    let Ok(cert) = x509_cert::Certificate::from_der(der) else { return Vec::new() };
    let cn = x509_cert::der::oid::db::rfc4519::CN;
    let mut names = Vec::new();
    for rdn in cert.tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter().filter(|a| a.oid == cn) {
            let v = &atv.value;
            let s = match v.tag() {
                Tag::Utf8String => Utf8StringRef::try_from(v).ok().map(|s| s.as_str().to_string()),
                Tag::PrintableString => PrintableStringRef::try_from(v).ok().map(|s| s.as_str().to_string()),
                Tag::Ia5String => Ia5StringRef::try_from(v).ok().map(|s| s.as_str().to_string()),
                _ => None,
            };
            names.extend(s);
        }
    }
    names
}

/// A client configuration that trusts only the authorities in `ca_pem` and presents the
/// certificate chain in `cert` with the key in `key` (PEM files): for a server that binds
/// credentials to client certificates.
pub fn client_with_certificate(
    ca_pem: &str,
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let roots = roots_from(ca_pem)?;
    let chain = read_certs(cert).map_err(|e| e.to_string())?;
    let private =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("`{}`: no private key: {e}", key.display()))?;
    let cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, private)
        .map_err(|e| format!("certificate `{}` and key `{}`: {e}", cert.display(), key.display()))?;
    Ok(Arc::new(cfg))
}

fn roots_from(ca_pem: &str) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| format!("not a PEM certificate: {e}"))?;
        roots.add(cert).map_err(|e| format!("not a usable certificate authority: {e}"))?;
    }
    if roots.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    Ok(roots)
}

/// The one cryptographic provider both sides use (ring).
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS acceptor serving the certificate chain in `cert` (PEM, leaf first) with the private
/// key in `key` (PEM: PKCS#8, PKCS#1 or SEC1). TLS 1.2 and 1.3, ALPN `http/1.1`.
pub fn acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    acceptor_with_clients(cert, key, None)
}

/// Which client certificates a server accepts.
#[derive(Debug, Clone, Copy)]
pub struct ClientCerts<'a> {
    /// The authorities (PEM) a client certificate must chain to.
    pub ca: &'a Path,
    /// Revocation lists (PEM) of those authorities: a client certificate they revoke is
    /// refused, and so is one whose status no list gives (an authority without a list here).
    pub crl: Option<&'a Path>,
}

/// [`acceptor`] that also asks clients for a certificate and, when one is presented, accepts
/// only a chain to the authorities in `clients` (with the clientAuth usage, not revoked by its
/// lists). A client without one still connects (citizens, health checks, the public log); what
/// it may do without one is decided per request (see [`crate::auth::PeerCertificate`]).
pub fn acceptor_with_clients(
    cert: &Path,
    key: &Path,
    clients: Option<ClientCerts<'_>>,
) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    let chain = read_certs(cert)?;
    let private =
        PrivateKeyDer::from_pem_file(key).map_err(|e| file_err(key, format!("no private key: {e}")))?;
    let verifier = match clients {
        None => None,
        Some(ClientCerts { ca, crl }) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in read_certs(ca)? {
                roots.add(c).map_err(|e| file_err(ca, format!("not a usable certificate authority: {e}")))?;
            }
            let mut b =
                rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                    .allow_unauthenticated();
            if let Some(crl) = crl {
                let lists: Vec<CertificateRevocationListDer<'static>> =
                    read_pem(crl, "revocation list (X509 CRL)")?;
                b = b.with_crls(lists).only_check_end_entity_revocation();
            }
            let v = b.build().map_err(|e| file_err(crl.unwrap_or(ca), e.to_string()))?;
            Some(v)
        }
    };
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .and_then(|b| match verifier {
            None => b.with_no_client_auth().with_single_cert(chain, private),
            Some(v) => b.with_client_cert_verifier(v).with_single_cert(chain, private),
        })
        .map_err(|e| TlsError::Config {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            reason: e.to_string(),
        })?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

/// A client configuration that trusts only the certificate authorities in `ca_pem` (PEM text):
/// for a witness whose certificate comes from a private authority (an oversight body's own).
pub fn client_trusting(ca_pem: &str) -> Result<Arc<rustls::ClientConfig>, String> {
    let roots = roots_from(ca_pem)?;
    let cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn der(file: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls").join(file);
        CertificateDer::from_pem_file(path).unwrap().to_vec()
    }

    #[test]
    fn a_client_certificate_names_its_officer() {
        assert_eq!(subject_common_names(&der("client-inv1.pem")), vec!["inv1".to_string()]);
        assert_eq!(subject_common_names(&der("server.pem")), vec!["localhost".to_string()]);
    }

    proptest::proptest! {
        /// Bytes that are no certificate, or a certificate cut short or with bytes changed,
        /// name nobody or something, but never panic.
        #[test]
        fn bad_der_names_nobody_and_never_panics(noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600), cut in 0usize..2000, at in 0usize..2000, byte in proptest::prelude::any::<u8>()) {
            proptest::prop_assert!(subject_common_names(&noise).is_empty());
            let mut good = der("client-inv1.pem");
            proptest::prop_assert!(subject_common_names(&good[..cut.min(good.len() - 1)]).is_empty());
            let i = at % good.len();
            good[i] = byte;
            let _ = subject_common_names(&good);
        }
    }
}
