//! HTTPS on localhost: Safari and Brave refuse an `http://` backend from an `https://` page, so
//! `serve --tls` serves the same router over TLS. The certificate is either the user's own
//! (`--tls-cert/--tls-key`) or a leaf for localhost/127.0.0.1/::1 signed by a local CA this app
//! creates in its data directory (`ca`). Installing that CA into trust stores is a separate,
//! explicit step (`trust`), never done by serving.

pub mod ca;
pub mod serve;
pub mod trust;

use crate::error::{Error, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the server's certificate comes from.
#[derive(Debug, Clone)]
pub enum Certificate {
    /// A leaf from the app's local CA (created on first use in `<data dir>/tls`).
    LocalCa,
    /// The user's own PEM certificate chain and private key.
    Files { cert: PathBuf, key: PathBuf },
}

/// The rustls configuration for `certificate`: HTTP/1.1 only over ALPN, matching the plain
/// server (hyper's HTTP/1 connection builder).
pub fn server_config(certificate: &Certificate, data_dir: &Path) -> Result<Arc<ServerConfig>> {
    let builder = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Startup(format!("TLS setup failed: {e}")))?
        .with_no_client_auth();
    let mut config = match certificate {
        Certificate::LocalCa => {
            let ca = ca::LocalCa::open_or_create(&ca::dir(data_dir))?;
            builder.with_cert_resolver(Arc::new(ca::LeafResolver::new(ca)?))
        }
        Certificate::Files { cert, key } => {
            let (chain, private) = read_pair(cert, key)?;
            builder.with_single_cert(chain, private).map_err(|e| {
                Error::Startup(format!(
                    "--tls-cert {} and --tls-key {} do not make a usable certificate: {e}",
                    cert.display(),
                    key.display()
                ))
            })?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_pair(cert: &Path, key: &Path) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let cert_pem = std::fs::read(cert)
        .map_err(|e| Error::Startup(format!("cannot read --tls-cert {}: {e}", cert.display())))?;
    let chain =
        CertificateDer::pem_slice_iter(&cert_pem).collect::<std::result::Result<Vec<_>, _>>().map_err(
            |e| Error::Startup(format!("--tls-cert {} is not a PEM certificate: {e}", cert.display())),
        )?;
    if chain.is_empty() {
        return Err(Error::Startup(format!(
            "--tls-cert {} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
            cert.display()
        )));
    }
    let key_pem = std::fs::read(key)
        .map_err(|e| Error::Startup(format!("cannot read --tls-key {}: {e}", key.display())))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        Error::Startup(format!(
            "--tls-key {} is not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            key.display()
        ))
    })?;
    Ok((chain, key))
}
