//! TLS for connections over TCP: rustls with the certificates named by
//! `sslrootcert`, or the system's.

use std::sync::Arc;

use super::failure::backend;
use crate::store::error::StoreError;

pub(super) fn tls_connector(
    roots: Option<&std::path::Path>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    let mut store = rustls::RootCertStore::empty();
    match roots {
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|e| backend(&format!("sslrootcert {}", path.display()), e))?;
            for certificate in certificates {
                let certificate = certificate
                    .map_err(|e| backend(&format!("sslrootcert {}", path.display()), e))?;
                store
                    .add(certificate)
                    .map_err(|e| backend(&format!("sslrootcert {}", path.display()), e))?;
            }
            if store.is_empty() {
                return Err(backend(
                    &format!("sslrootcert {}", path.display()),
                    "no certificate in the file",
                ));
            }
        }
        None => {
            // Unreadable system certificates only matter if TLS is used;
            // then the handshake fails (closed) with "unknown issuer".
            for certificate in rustls_native_certs::load_native_certs().certs {
                let _ = store.add(certificate);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| backend("TLS", e))?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}
