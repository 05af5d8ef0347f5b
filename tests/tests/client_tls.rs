//! TLS: `https://`/`wss://` hubs with a certificate from a private CA
//! (trusted with a custom CA), and self-signed certificates (refused by
//! default, accepted only on explicit opt-in). Certificates are made by
//! rcgen for each run; the server is the Node peer over HTTPS.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::path::PathBuf;

use common::*;
use pushdesk_e2e::{NodeOptions, NodePeer};
use pushdesk_socketio::{
    ClientBuilder, ConnectionState, DisconnectReason, ReconnectPolicy, TransportKind,
    TransportMode, json,
};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};

struct Pki {
    _dir: tempdir::Dir,
    ca_pem: String,
    cert: PathBuf,
    key: PathBuf,
}

mod tempdir {
    /// A directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A CA, and a server certificate for 127.0.0.1 signed by it.
fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = params.signed_by(&key, &issuer).unwrap();

    let dir = std::env::temp_dir().join(format!(
        "pushdesk-tls-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    Pki {
        _dir: tempdir::Dir(dir),
        ca_pem: ca_cert.pem(),
        cert: cert_path,
        key: key_path,
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

async fn tls_server(pki: &Pki) -> NodePeer {
    NodePeer::start(NodeOptions {
        tls: Some((pki.cert.clone(), pki.key.clone())),
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn private_ca_is_trusted_when_given() {
    bounded(async {
        let pki = pki();
        let server = tls_server(&pki).await;
        assert!(server.url().starts_with("https://"));
        for (mode, kind) in [
            (TransportMode::WebSocket, TransportKind::WebSocket),
            (TransportMode::Polling, TransportKind::Polling),
        ] {
            let (client, s, mut e) = ClientBuilder::new(server.url())
                .transport(mode)
                .add_root_certificate_pem(pki.ca_pem.clone())
                .connect()
                .unwrap();
            connected(&mut e).await;
            assert_eq!(
                client.state(),
                ConnectionState::Connected { transport: kind }
            );
            let reply = s
                .emit_with_ack("echo", json!("over tls"), WAIT)
                .await
                .unwrap();
            assert_eq!(reply.first(), Some(&json!("over tls")));
            client.disconnect().await;
        }
    })
    .await;
}

#[tokio::test]
async fn untrusted_certificate_is_refused_unless_opted_in() {
    bounded(async {
        let pki = pki();
        let server = tls_server(&pki).await;
        // No CA given: the handshake must fail, and say why.
        let (client, _s, _e) = ClientBuilder::new(server.url())
            .reconnect(ReconnectPolicy::disabled())
            .connect()
            .unwrap();
        let state = state_where(&client, |s| {
            matches!(s, ConnectionState::Disconnected { .. })
        })
        .await;
        match state {
            ConnectionState::Disconnected {
                reason: DisconnectReason::ReconnectFailed(error),
            } => {
                assert!(error.to_lowercase().contains("certificate"), "{error}");
            }
            other => panic!("expected a TLS failure, got {other:?}"),
        }
        // Explicit opt-in: accepted.
        let (client, s, mut e) = ClientBuilder::new(server.url())
            .danger_accept_invalid_certs(true)
            .connect()
            .unwrap();
        connected(&mut e).await;
        assert!(s.emit_with_ack("echo", json!(1), WAIT).await.is_ok());
        client.disconnect().await;
    })
    .await;
}
