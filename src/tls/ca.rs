//! The local certificate authority. Its key and certificate live in `<data dir>/tls/` as
//! `ca-key.pem` (mode 0600) and `ca.pem`: a file next to the app's other state rather than the
//! OS keyring, because the key must be readable by a headless `serve` where no keyring session
//! exists, and a user who trusts the CA can see and delete exactly what they trusted. The CA is
//! limited by a name constraint to localhost, 127.0.0.1 and ::1, so even a stolen key cannot
//! sign a certificate a browser accepts for any other site.
//!
//! Leaves are never written to disk: each is made in memory with a fresh key, valid for
//! `LEAF_DAYS`, and replaced while the server runs once less than `RENEW_DAYS` remain.

use crate::error::{Error, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, GeneralSubtree,
    IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

pub const CA_CERT_FILE: &str = "ca.pem";
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// The CA's common name; trust-store entries are found and removed by it.
pub const CA_NAME: &str = "Data Connector local CA";
const CA_YEARS: i64 = 10;
const LEAF_DAYS: i64 = 90;
const RENEW_DAYS: i64 = 30;

/// `<data dir>/tls`.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tls")
}

/// Creates the CA in `data_dir` if missing; returns its certificate's path.
pub fn ensure(data_dir: &Path) -> Result<PathBuf> {
    let dir = dir(data_dir);
    LocalCa::open_or_create(&dir)?;
    Ok(dir.join(CA_CERT_FILE))
}

pub struct LocalCa {
    cert_pem: String,
    key: KeyPair,
    /// The parameters the certificate was made from, rebuilt on load: leaves name the CA by
    /// its subject and key identifier, both of which these reproduce.
    params: CertificateParams,
}

impl LocalCa {
    /// Loads the CA from `dir`, creating it (and `dir`) on first use.
    pub fn open_or_create(dir: &Path) -> Result<Self> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        if cert_path.exists() || key_path.exists() {
            let cert_pem = std::fs::read_to_string(&cert_path).map_err(|e| {
                startup(format!("cannot read the local CA certificate {}: {e}", cert_path.display()))
            })?;
            let key_pem = std::fs::read_to_string(&key_path)
                .map_err(|e| startup(format!("cannot read the local CA key {}: {e}", key_path.display())))?;
            let key = KeyPair::from_pem(&key_pem).map_err(|e| {
                startup(format!(
                    "the local CA key {} is damaged ({e}); delete {} to make a new CA",
                    key_path.display(),
                    dir.display()
                ))
            })?;
            return Ok(Self { cert_pem, key, params: ca_params(OffsetDateTime::now_utc()) });
        }
        std::fs::create_dir_all(dir).map_err(|e| startup(format!("cannot create {}: {e}", dir.display())))?;
        let key = KeyPair::generate().map_err(|e| startup(format!("cannot make the CA key: {e}")))?;
        let params = ca_params(OffsetDateTime::now_utc());
        let cert =
            params.self_signed(&key).map_err(|e| startup(format!("cannot make the CA certificate: {e}")))?;
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        std::fs::write(&cert_path, cert.pem())
            .map_err(|e| startup(format!("cannot write {}: {e}", cert_path.display())))?;
        Ok(Self { cert_pem: cert.pem(), key, params })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A fresh leaf for localhost, 127.0.0.1 and ::1, with its expiry.
    pub fn issue_leaf(&self) -> Result<(CertifiedKey, OffsetDateTime)> {
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().map_err(|e| startup(format!("{e}")))?),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ];
        params.not_before = now - Duration::minutes(5);
        params.not_after = now + Duration::days(LEAF_DAYS);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial()?);
        let leaf_key = KeyPair::generate().map_err(|e| startup(format!("cannot make a TLS key: {e}")))?;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let leaf = params
            .signed_by(&leaf_key, &issuer)
            .map_err(|e| startup(format!("cannot sign the localhost certificate: {e}")))?;
        let ca_der = CertificateDer::from_pem_slice_checked(self.cert_pem.as_bytes())?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = rustls::crypto::ring::default_provider();
        let certified = CertifiedKey::from_der(vec![leaf.der().clone(), ca_der], key_der, &provider)
            .map_err(|e| startup(format!("the localhost certificate is unusable: {e}")))?;
        Ok((certified, params.not_after))
    }
}

/// Hands rustls the current leaf, replacing it once it is within `RENEW_DAYS` of expiry, so a
/// server left running for months never presents an expired certificate.
pub struct LeafResolver {
    ca: LocalCa,
    current: Mutex<(Arc<CertifiedKey>, OffsetDateTime)>,
}

impl std::fmt::Debug for LeafResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LeafResolver")
    }
}

impl LeafResolver {
    pub fn new(ca: LocalCa) -> Result<Self> {
        let (leaf, expires) = ca.issue_leaf()?;
        Ok(Self { ca, current: Mutex::new((Arc::new(leaf), expires)) })
    }
}

impl LeafResolver {
    /// The leaf to present now, renewed first if it is close to expiry.
    fn leaf(&self) -> Arc<CertifiedKey> {
        let mut current = self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if current.1 - OffsetDateTime::now_utc() < Duration::days(RENEW_DAYS) {
            match self.ca.issue_leaf() {
                Ok((leaf, expires)) => *current = (Arc::new(leaf), expires),
                // Keep serving the old leaf (still valid for weeks) and say why it was not renewed.
                Err(e) => tracing::warn!("renewing the localhost certificate failed: {e}"),
            }
        }
        current.0.clone()
    }
}

impl ResolvesServerCert for LeafResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.leaf())
    }
}

/// The CA's parameters. Only the validity depends on `now`, and it is only used when creating.
fn ca_params(now: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params.distinguished_name.push(DnType::OrganizationName, "Data Connector");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + Duration::days(365 * CA_YEARS);
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![
            GeneralSubtree::DnsName("localhost".into()),
            GeneralSubtree::IpAddress(rcgen::CidrSubnet::V4([127, 0, 0, 1], [255, 255, 255, 255])),
            GeneralSubtree::IpAddress(rcgen::CidrSubnet::V6(Ipv6Addr::LOCALHOST.octets(), [0xff; 16])),
        ],
        excluded_subtrees: Vec::new(),
    });
    params
}

fn random_serial() -> Result<rcgen::SerialNumber> {
    let mut bytes = [0u8; 16];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| startup("the OS random source failed".into()))?;
    // A positive DER INTEGER: clear the top bit.
    bytes[0] &= 0x7f;
    Ok(rcgen::SerialNumber::from_slice(&bytes))
}

/// Writes a secret file readable by its owner only, from the moment it exists.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file =
        options.open(path).map_err(|e| startup(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(bytes).map_err(|e| startup(format!("cannot write {}: {e}", path.display())))
}

fn startup(message: String) -> Error {
    Error::Startup(message)
}

trait FromPemChecked: Sized {
    fn from_pem_slice_checked(pem: &[u8]) -> Result<Self>;
}

impl FromPemChecked for CertificateDer<'static> {
    fn from_pem_slice_checked(pem: &[u8]) -> Result<Self> {
        use rustls::pki_types::pem::PemObject;
        Self::from_pem_slice(pem).map_err(|e| startup(format!("the local CA certificate is damaged: {e}")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn leaf_is_kept_while_fresh_and_renewed_near_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let resolver = LeafResolver::new(LocalCa::open_or_create(dir.path()).unwrap()).unwrap();
        let first = resolver.leaf();
        assert!(Arc::ptr_eq(&first, &resolver.leaf()), "a fresh leaf was replaced");
        resolver.current.lock().unwrap().1 = OffsetDateTime::now_utc() + Duration::days(RENEW_DAYS - 1);
        let renewed = resolver.leaf();
        assert!(!Arc::ptr_eq(&first, &renewed), "a leaf near expiry was kept");
        assert_ne!(first.cert[0], renewed.cert[0]);
        assert!(
            resolver.current.lock().unwrap().1 > OffsetDateTime::now_utc() + Duration::days(LEAF_DAYS - 1)
        );
    }

    #[test]
    fn damaged_ca_key_is_a_startup_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        LocalCa::open_or_create(dir.path()).unwrap();
        std::fs::write(dir.path().join(CA_KEY_FILE), "not a key").unwrap();
        let err = LocalCa::open_or_create(dir.path()).err().unwrap().to_string();
        assert!(err.contains(CA_KEY_FILE) && err.contains("damaged"), "{err}");
    }
}
