//! TLS to Postgres. With `DATABASE_CA_FILE` (a PEM bundle, e.g. the RDS CA bundle that
//! the deploy ships in a Lambda layer) every connection is TLS, verified against those
//! roots and the server's host name; without it (the local stack) connections are plain.

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::ConfigError;

/// The TLS connector for `DATABASE_CA_FILE`, or `None` when it is not set.
pub fn connector_from_env() -> Result<Option<MakeRustlsConnect>, ConfigError> {
    match std::env::var("DATABASE_CA_FILE") {
        Ok(path) if !path.trim().is_empty() => connector(&path).map(Some),
        _ => Ok(None),
    }
}

/// A connector trusting only the certificates in `ca_file` (the RDS bundle).
pub fn connector(ca_file: &str) -> Result<MakeRustlsConnect, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: "DATABASE_CA_FILE",
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| invalid(format!("{ca_file}: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(format!("{ca_file}: {e}")))?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(invalid(format!("{ca_file} holds no usable certificate")));
    }
    let config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
