//! [`Pki`]: a private CA and a server certificate for `localhost` and
//! 127.0.0.1 signed by it, made by rcgen for one test and written as PEM
//! files into a directory removed on drop.

use std::path::PathBuf;

use anyhow::Context as _;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};

use crate::TempDir;

/// A CA and a server certificate signed by it, as PEM files.
pub struct Pki {
    _dir: TempDir,
    /// The CA certificate (PEM).
    pub ca_pem: String,
    /// The CA certificate's file.
    pub ca: PathBuf,
    /// The server certificate's file.
    pub cert: PathBuf,
    /// The server key's file.
    pub key: PathBuf,
}

impl Pki {
    /// Makes a new CA and server certificate.
    pub fn generate() -> anyhow::Result<Pki> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        let cert = params.signed_by(&key, &issuer)?;

        let dir = TempDir::new("tls")?;
        let ca = dir.path().join("ca.pem");
        let cert_path = dir.path().join("server.pem");
        let key_path = dir.path().join("server.key");
        std::fs::write(&ca, ca_cert.pem()).context("writing the CA")?;
        std::fs::write(&cert_path, cert.pem()).context("writing the certificate")?;
        std::fs::write(&key_path, key.serialize_pem()).context("writing the key")?;
        Ok(Pki {
            _dir: dir,
            ca_pem: ca_cert.pem(),
            ca,
            cert: cert_path,
            key: key_path,
        })
    }
}
